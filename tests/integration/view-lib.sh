# Shared by the test-view-*.sh tests: finds node and chromium (skipping the test
# when either is absent) and runs tests/js/view-test.mjs on a report.
VIEW_JS="$SRCDIR/tests/js"
if ! command -v node >/dev/null 2>&1; then
	skip "node is not installed (scripts/test.sh installs it)"
fi
VIEW_CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$VIEW_CHROMIUM" ]; then
	skip "chromium is not installed at $VIEW_CHROMIUM (scripts/test.sh installs it)"
fi
[ -d "$VIEW_JS/node_modules/playwright-core" ] ||
	fail "playwright-core is missing: run 'npm ci' in tests/js (scripts/test.sh does)"

# view_browser_test REPORT [view-test.mjs options...]
view_browser_test() {
	local report=$1
	shift
	node "$VIEW_JS/view-test.mjs" "$report" --chromium "$VIEW_CHROMIUM" "$@" >browser.log 2>&1 || {
		sed 's/^/  | /' browser.log | tail -40 >&2
		fail "the browser test of $report failed"
	}
	grep -E '^# ' browser.log >&2
}
