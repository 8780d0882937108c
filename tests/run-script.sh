#!/usr/bin/env bash
# Runs one test script in a fresh scratch directory of its own (WORKDIR).
set -u
script=$1
export WORKDIR=$2
rm -rf "$WORKDIR" && mkdir -p "$WORKDIR" || exit 1
cd "$WORKDIR" || exit 1
exec bash "$script"
