# The table of docs/PERFORMANCE.md through ctest (-L bench): runs
# tests/bench/perf-table.sh, which prints it in Markdown.
exec bash "$SRCDIR/tests/bench/perf-table.sh"
