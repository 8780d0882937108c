#!/usr/bin/env bash
# fathom diff on exact allocation recordings: the same program twice gives the
# same figures and no alarm; one extra leaked block is caught every time and
# its site named; allocation calls obey the threshold exactly.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/ci-lib.sh"

rec=(--alloc --no-cpu)
ci_record base1 baseline 200 "${rec[@]}"
ci_record base2 baseline 200 "${rec[@]}"
for i in 1 2 3; do ci_record "leak$i" leak 200 "${rec[@]}"; done

ci_diff same.json 0 base1.fdump base2.fdump
assert_eq "same program: allocation calls differ by" 0 \
	"$(ci_json same.json '[i["value"] - i["base"] for i in j["items"] if i["name"] == "alloc-calls"][0]')"
assert_eq "same program: leaked blocks (ci_cache_init's)" 2 "$(ci_json same.json '[i["value"] for i in j["items"] if i["name"] == "leaked-blocks"][0]')"

line=$(grep -n 'remembered = malloc(48)' "$SRCDIR/tests/integration/progs/ci_work.c" | cut -d: -f1)
for i in 1 2 3; do
	ci_diff "leak$i.json" 1 base1.fdump "leak$i.fdump"
	assert_eq "leak$i: what failed" "leak-site:ci_remember,leaked-blocks:None,leaked-bytes:None" \
		"$(ci_json "leak$i.json" '",".join(sorted("%s:%s" % (i["metric"], i.get("function")) for i in j["items"] if i["status"] == "FAIL"))')"
	assert_eq "leak$i: site line" "$line" "$(ci_json "leak$i.json" '[i["line"] for i in j["items"] if i["metric"] == "leak-site"][0]')"
	assert_eq "leak$i: leaked bytes grew by" 48 \
		"$(ci_json "leak$i.json" '[i["value"] - i["base"] for i in j["items"] if i["name"] == "leaked-bytes"][0]')"
done
# The other way round, one leak fewer is an improvement.
ci_diff fixed.json 0 leak1.fdump base1.fdump
assert_eq "fixed leak" better "$(ci_json fixed.json '[i["status"] for i in j["items"] if i["name"] == "leaked-blocks"][0]')"
# ... and leaks can be left out of the judgement.
ci_diff noleak.json 0 --metric alloc-calls,peak base1.fdump leak1.fdump

# Allocation calls: 4% more iterations pass the default 5%, 10% more fail and
# name the site that grew; --threshold 15 lets it through.
ci_record more4 baseline 208 "${rec[@]}"
ci_record more10 baseline 220 "${rec[@]}"
ci_diff more4.json 0 base1.fdump more4.fdump
ci_diff more10.json 1 base1.fdump more10.fdump
assert_contains "the site that grew" "most of the growth is in ci_stage" more10.json
ci_diff more10t.json 0 --threshold 15 base1.fdump more10.fdump

# CPU was not recorded: asking for it is bad input.
rc=0; "$FATHOM" diff --metric cpu base1.fdump base2.fdump 2>err.txt || rc=$?
assert_eq "cpu metric without samples" 2 "$rc"
assert_contains "says why" "CPU samples" err.txt
