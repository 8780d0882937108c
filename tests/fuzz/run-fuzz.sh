#!/usr/bin/env bash
# Runs the reader fuzzer: `replay` executes every seed corpus file once (a
# deterministic regression test), `fuzz` mutates a copy of the corpus for a
# short while (FUZZ_SECONDS, 30 by default) with bounded memory and time per
# input. Any crash, leak, hang or unbounded allocation fails the test and
# leaves the input in the work directory.
# When the harness was built without libFuzzer (FUZZ_UNAVAILABLE says why),
# FUZZER is a plain driver that replays its arguments: `fuzz` then skips (77).
#   run-fuzz.sh replay|fuzz FUZZER CORPUS WORKDIR
set -u
mode=$1 fuzzer=$2 corpus=$3 work=$4
rm -rf "$work" && mkdir -p "$work/corpus" || exit 1
[ -x "$fuzzer" ] || { echo "FAIL: $fuzzer is not built" >&2; exit 1; }
# Limits: one input may not take 5 s or 1 GB, nor allocate more than 512 MB at once.
limits=(-rss_limit_mb=1024 -malloc_limit_mb=512 -timeout=5 -artifact_prefix="$work/")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
case $mode in
replay)
	mapfile -t files < <(find "$corpus" -type f | sort)
	[ ${#files[@]} -gt 0 ] || { echo "FAIL: empty corpus $corpus" >&2; exit 1; }
	echo "# replaying ${#files[@]} corpus files" >&2
	exec "$fuzzer" "${limits[@]}" "${files[@]}"
	;;
fuzz)
	[ -z "${FUZZ_UNAVAILABLE:-}" ] || { echo "SKIP: no fuzzing without libFuzzer: $FUZZ_UNAVAILABLE" >&2; exit 77; }
	cp "$corpus"/* "$work/corpus/" || exit 1
	exec "$fuzzer" "${limits[@]}" -max_total_time="${FUZZ_SECONDS:-30}" -max_len=65536 \
		-print_final_stats=1 "$work/corpus"
	;;
*)
	echo "usage: run-fuzz.sh replay|fuzz FUZZER CORPUS WORKDIR" >&2
	exit 2
	;;
esac
