#!/usr/bin/env bash
# Temporary allocations in sampled mode (issue 13, item 11): an exact
# recording counts them (here exactly half the calls); a sampled one cannot
# see whether the thread allocated in between and used to report nearly all
# of its samples as temporary. It must say "not estimated", not a number.
source "$SRCDIR/tests/lib.sh"
P="$PROGS/lk_temps"
j() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

run "$FATHOM" record -q --alloc --no-cpu -o exact.fdump -- "$P" 200000
run "$FATHOM" mem --json exact.fdump >exact.json
assert_eq "exact: temporaries" 200000 "$(j exact.json 'j["totals"]["temp_calls"]')"

run "$FATHOM" record -q --alloc-sample 4K --no-cpu -o s1.fdump -- "$P" 200000
run "$FATHOM" mem s1.fdump >s1.txt
assert_contains "sampled: totals say so" "temporary         not estimated (sampled recording)" s1.txt
assert_contains "sampled: section says why" "Temporary allocations  not estimated" s1.txt
assert_not_contains "no share of calls" "% of calls)" s1.txt
run "$FATHOM" mem --json s1.fdump >s1.json
assert_eq "sampled: JSON temp_calls" None "$(j s1.json 'j["totals"]["temp_calls"]')"
rc=0; "$FATHOM" mem --sort temp s1.fdump >/dev/null 2>err.txt || rc=$?
assert_eq "sampled: --sort temp is bad input" 2 "$rc"

# check: a temporaries budget on a sampled recording is bad input, not a pass.
rc=0; "$FATHOM" check s1.fdump --max-temp-calls 10 >/dev/null 2>err2.txt || rc=$?
assert_eq "check --max-temp-calls on a sampled recording" 2 "$rc"
assert_contains "says why" "cannot estimate temporary allocations" err2.txt
run "$FATHOM" check exact.fdump --max-temp-calls 200000 >/dev/null

# diff of two sampled recordings leaves temporaries out, with a note.
run "$FATHOM" record -q --alloc-sample 4K --no-cpu -o s2.fdump -- "$P" 200000
run "$FATHOM" diff s1.fdump s2.fdump --metric temp-calls,alloc-calls --format json >d.json
assert_eq "diff judges no temp-calls" 0 "$(j d.json 'len([i for i in j["items"] if i["name"] == "temp-calls"])')"
assert_contains "diff notes it" "temp-calls: not compared" d.json
