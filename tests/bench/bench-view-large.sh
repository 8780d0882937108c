#!/usr/bin/env bash
# fathom view's time on 100k-stack profiles, with limits: the integration
# test test-view-large.sh (what the page holds, that it renders, the figures)
# with its time limits switched on.
VIEW_LARGE_LIMITS=1 exec bash "$SRCDIR/tests/integration/test-view-large.sh"
