# The estimator of short waits: 4000 sleeps of about 200 us, each under
# the 1 ms threshold, are recorded with probability length / threshold and
# weigh the threshold; their weights sum to the time the program measured
# itself sleeping, within 15% (about 800 records expected: 4 standard
# deviations), with far fewer records than sleeps.
source "$SRCDIR/tests/lib.sh"

run "$FATHOM" record -q --wait -o e.fdump -- "$PROGS/wait_short" >e.out
true_ns=$(awk '$1 == "slept" { print $2 }' e.out)
run "$PROGS/wait_rdump" e.fdump >e.txt
set -- $(awk '$1 == "WAIT" && $3 == 13 && $9 ~ /^short_sleeps;main;/ { n++; w += $7; if ($7 != 1000000 && $6 < 1000000) odd++ }
	END { printf "%d %.0f %d\n", n, w, odd }' e.txt)
note "true $true_ns ns; $1 records, estimate $2 ns"
assert_eq "records of sleeps under the threshold weigh the threshold" 0 "$3"
assert_le "records (of 4000 sleeps)" 2000 "$1"
assert_ge "records (of 4000 sleeps)" 100 "$1"
awk -v t="$true_ns" -v e="$2" 'BEGIN { d = (e - t) / t; if (d < 0) d = -d; exit !(d <= 0.15) }' ||
	fail "the estimate $2 ns is not within 15% of the true $true_ns ns"
exit 0
