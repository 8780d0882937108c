# Helpers for the sample tests (test-sample-*.sh): timing plain runs, recording
# a run under fathom, and reading facts out of `fathom report --json` and
# `fathom mem --json`. Source after tests/lib.sh.

# sample_time OUT CMD...: runs CMD plainly with stdout to OUT and prints its wall
# time in seconds (from date +%s%N, so the figure is the run and nothing else).
sample_time() {
	local out=$1 t0 t1
	shift
	t0=$(date +%s%N)
	"$@" >"$out" || fail "plain run failed ($?): $*"
	t1=$(date +%s%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }'
}

# sample_best_time N OUT CMD...: the shortest of N plain runs. A run is only
# ever slowed down by a busy machine, so the minimum is the fairest figure.
sample_best_time() {
	local n=$1 out=$2 best="" t i
	shift 2
	for ((i = 0; i < n; i++)); do
		t=$(sample_time "$out" "$@")
		if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then
			best=$t
		fi
	done
	echo "$best"
}

# sample_compare LIMIT PROG "SLOW ARGS" "FAST ARGS": times PROG's two ways
# plainly (stdout to slow.plain and fast.plain) and sets t_slow, t_fast (the
# shortest of the runs, in seconds) and speedup. When the speedup falls short of
# LIMIT, a busy machine is the likelier cause than the program, so both are
# timed again, up to three rounds in all; the caller then asserts the limit.
# The arguments are split on spaces.
sample_compare() {
	local limit=$1 prog=$2 sargs=$3 fargs=$4 round t
	t_slow="" t_fast=""
	for round in 1 2 3; do
		t=$(sample_time slow.plain "$prog" $sargs)
		if [ -z "$t_slow" ] || awk -v a="$t" -v b="$t_slow" 'BEGIN { exit !(a < b) }'; then t_slow=$t; fi
		t=$(sample_best_time 2 fast.plain "$prog" $fargs)
		if [ -z "$t_fast" ] || awk -v a="$t" -v b="$t_fast" 'BEGIN { exit !(a < b) }'; then t_fast=$t; fi
		speedup=$(sample_ratio "$t_slow" "$t_fast")
		awk -v s="$speedup" -v l="$limit" 'BEGIN { exit !(s >= l) }' && break
		note "round $round: slow $t_slow s, fast $t_fast s, ${speedup}x is short of ${limit}x; timing again"
	done
}

# sample_assert_speedup WHAT LIMIT: asserts the speedup that sample_compare
# measured. A speedup can only be judged on a machine with CPUs to spare: when
# it falls short while the load average says every CPU was taken by others,
# the test says so and does not fail. On an idle machine it must hold.
sample_assert_speedup() {
	local what=$1 limit=$2 load cpus
	awk -v s="$speedup" -v l="$limit" 'BEGIN { exit !(s >= l) }' && return 0
	read -r load _ </proc/loadavg
	cpus=$(nproc)
	if awk -v l="$load" -v c="$cpus" 'BEGIN { exit !(l >= c) }'; then
		note "NOT ASSERTED: $what: ${speedup}x is short of ${limit}x, but the machine is busy (load $load on $cpus CPUs)"
		return 0
	fi
	fail "$what: ${speedup}x is below ${limit}x (slow $t_slow s, fast $t_fast s; load $load on $cpus CPUs)"
}

# sample_record NAME [RECORD-OPTIONS...] -- CMD...: records CMD into
# $WORKDIR/NAME.fdump (stdout to NAME.out, stderr to NAME.err) and checks that
# fathom left the program's exit status alone.
sample_record() {
	local name=$1 status
	shift
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	[ $# -gt 1 ] || fail "sample_record $name: no command after --"
	"$FATHOM" record "${opts[@]}" -o "$WORKDIR/$name.fdump" "$@" >"$WORKDIR/$name.out" 2>"$WORKDIR/$name.err"
	status=$?
	[ $status -eq 0 ] || { sed 's/^/  | /' "$WORKDIR/$name.err" >&2; fail "fathom record $name exited $status"; }
	ls "$WORKDIR/$name".fdump* >/dev/null 2>&1 || fail "fathom record $name wrote no dump"
}

# sample_json KIND NAME [OPTIONS...]: `fathom KIND --json` (KIND is report or mem)
# on NAME's recording, into $WORKDIR/NAME.KIND.json. Every function or site is
# listed (report --top 1000000, mem --top 0), so that a fact about one is never
# cut off.
sample_json() {
	local kind=$1 name=$2 all=0
	shift 2
	[ "$kind" = report ] && all=1000000
	"$FATHOM" "$kind" --json --top $all "$@" "$WORKDIR/$name".fdump* >"$WORKDIR/$name.$kind.json" 2>"$WORKDIR/$name.$kind.err" ||
		{ sed 's/^/  | /' "$WORKDIR/$name.$kind.err" >&2; fail "fathom $kind --json $name exited $?"; }
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORKDIR/$name.$kind.json" ||
		fail "fathom $kind --json $name: output is not JSON"
}

# sample_same_output SLOW_OUT FAST_OUT: both ways must print the same result.
sample_same_output() {
	cmp -s "$1" "$2" || { diff "$1" "$2" | head -10 >&2; fail "slow and fast outputs differ: $1 $2"; }
	[ -s "$1" ] || fail "no output in $1"
}

# sample_fact QUERY ARGS... FILE: one fact from a JSON file, printed on stdout.
#   self FUNC report.json         FUNC's share of self CPU, percent (0 if absent)
#   total FUNCREGEX report.json   the largest total (inclusive) CPU share, percent,
#                                 of the functions matching the regular expression
#   top-self report.json          "NAME PERCENT" of the function with most self CPU
#   samples report.json           CPU samples in the profile
#   threads report.json           one line per thread: "PERCENT SAMPLES NAME"
#   mem FIELD mem.json            a number at FIELD (dotted path: totals.alloc_calls)
#   site FUNC FIELD mem.json      FIELD summed over the allocation sites in FUNC
#                                 (the function that called malloc)
#   top-sites FIELD N mem.json    the N sites with the most FIELD (peak_bytes...),
#                                 one a line: "FILE:LINE FUNCTION VALUE"
#   file-sites FILE FIELD mem.json  FIELD summed over the sites in source file
#                                 FILE (its base name: stream.py)
#   peak-share FUNC mem.json      share of the heap at its peak, percent, held by
#                                 stacks that include FUNC
#   leak-share FUNC mem.json      share of the leaked bytes, percent, allocated by
#                                 stacks that include FUNC
sample_fact() {
	python3 "$SRCDIR/tests/integration/sample-facts.py" "$@" || fail "sample_fact $*: could not read the fact"
}

# sample_ratio A B: A / B (B floored at 1 microsecond or 1 byte), with two
# decimals below 10, one below 100 and none above.
sample_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b < 1e-6) b = 1e-6; r = a / b;
		printf (r < 10 ? "%.2f\n" : r < 100 ? "%.1f\n" : "%.0f\n"), r }'
}

# sample_bytes N: N bytes for people (KiB, MiB, GiB).
sample_bytes() {
	awk -v n="$1" 'BEGIN { u = "B"; split("KiB MiB GiB TiB", us, " ");
		for (i = 1; n >= 1024 && i <= 4; i++) { n /= 1024; u = us[i] }
		printf (u == "B" ? "%d %s\n" : "%.1f %s\n"), n, u }'
}

# sample_record_ways CMD...: records `CMD slow` and `CMD fast` at 999 Hz
# (sample_record: slow.fdump, fast.fdump), checks that each printed what
# its plain run did (slow.plain, fast.plain from sample_compare) and exports
# their folded stacks to slow.folded and fast.folded.
sample_record_ways() {
	local w
	for w in slow fast; do
		sample_record $w -F 999 -- "$@" $w
		sample_same_output $w.plain $w.out
		"$FATHOM" export -f folded -o $w.folded $w.fdump 2>/dev/null || fail "fathom export $w failed"
	done
}
