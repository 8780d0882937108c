# Helpers for the stress tests: run a real program plainly and under
# `fathom record --alloc`, and check that the profiler changed nothing the
# program shows (stdout, stderr, exit status) and that every dump reads.
# Source it after tests/lib.sh.

# Core files of the crash tests would only fill the disk.
ulimit -c 0
# A hang must fail the test, not stall the suite.
STRESS_TIMEOUT=${STRESS_TIMEOUT:-120}

# Prints the dumps of one recorded run, one path a line.
stress_dumps() { find "$1" -maxdepth 1 -type f | sort; }

# stress_run NAME [--crash] [--min-dumps N] [--stdin FILE] [--setup FUNC] -- CMD ARGS...
#   Runs CMD twice, in $WORKDIR/NAME/plain and $WORKDIR/NAME/rec (FUNC, when
#   given, prepares each of them, called with the directory as $1), compares
#   exit status, stdout and stderr (minus fathom's one summary line), then reads
#   every dump with `fathom report` and `fathom mem`. With --crash the target is
#   expected to die of a signal: the dumps must still read, and the analyzer
#   must say that they were cut short.
#   Leaves the dumps in $WORKDIR/NAME/dumps; sets STRESS_DIR and STRESS_RC
#   (the exit status, the same in both runs).
stress_run() {
	local name=$1 crash=0 min_dumps=1 stdin=/dev/null setup=""
	shift
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		case $1 in
		--crash) crash=1 ;;
		--min-dumps) min_dumps=$2; shift ;;
		--stdin) stdin=$2; shift ;;
		--setup) setup=$2; shift ;;
		*) fail "stress_run: unknown option $1" ;;
		esac
		shift
	done
	[ $# -gt 0 ] && shift || fail "stress_run: missing -- CMD"
	local d=$WORKDIR/$name
	STRESS_DIR=$d
	rm -rf "$d" && mkdir -p "$d/plain" "$d/rec" "$d/dumps" || fail "cannot make $d"
	if [ -n "$setup" ]; then
		"$setup" "$d/plain" || fail "$name: setup failed"
		"$setup" "$d/rec" || fail "$name: setup failed"
	fi

	local t0 t1 t2 prc rrc
	t0=$(date +%s.%N)
	(cd "$d/plain" && exec timeout -k 5 "$STRESS_TIMEOUT" "$@") <"$stdin" >"$d/plain.out" 2>"$d/plain.err"
	prc=$?
	t1=$(date +%s.%N)
	(cd "$d/rec" && exec timeout -k 5 "$STRESS_TIMEOUT" "$FATHOM" record --alloc -o "$d/dumps/$name.fdump" -- "$@") \
		<"$stdin" >"$d/rec.out" 2>"$d/rec.err"
	rrc=$?
	t2=$(date +%s.%N)
	note "$name: plain $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') s, recorded $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.2f", b-a}') s, exit $prc/$rrc"
	STRESS_RC=$prc
	[ "$prc" != 124 ] || fail "$name: the plain run timed out"
	[ "$rrc" != 124 ] || fail "$name: the recorded run timed out (hang under the agent?)"

	# fathom's own summary: exactly one line starting with "fathom:", the last.
	local nsum
	nsum=$(grep -c '^fathom:' "$d/rec.err")
	if [ "$nsum" != 1 ] || ! tail -n 1 "$d/rec.err" | grep -q '^fathom:'; then
		sed 's/^/  | /' "$d/rec.err" | tail -20 >&2
		fail "$name: expected fathom's one summary line last on stderr, found $nsum lines starting with 'fathom:'"
	fi
	head -n -1 "$d/rec.err" >"$d/rec.err.target"
	assert_eq "$name: exit status under fathom" "$prc" "$rrc"
	if ! cmp -s "$d/plain.out" "$d/rec.out"; then
		diff "$d/plain.out" "$d/rec.out" | head -20 >&2
		fail "$name: stdout differs under fathom"
	fi
	if ! cmp -s "$d/plain.err" "$d/rec.err.target"; then
		diff "$d/plain.err" "$d/rec.err.target" | head -20 >&2
		fail "$name: stderr differs under fathom"
	fi

	local dumps n
	mapfile -t dumps < <(stress_dumps "$d/dumps")
	n=${#dumps[@]}
	[ "$n" -ge "$min_dumps" ] || fail "$name: expected at least $min_dumps dump(s) in $d/dumps, found $n"
	stress_read "$name" "$crash" "${dumps[@]}"
}

# stress_read NAME CRASH DUMP...: `fathom report` and `fathom mem` over the
# dumps exit 0; stderr is empty, or with CRASH=1 says the dumps were cut short.
# The report symbolizes (the path users take); mem skips symbols, which the
# report has already exercised and which cost seconds on big binaries.
stress_read() {
	local name=$1 crash=$2 cmd rc
	shift 2
	for cmd in report mem; do
		local opts=()
		[ "$cmd" = mem ] && opts=(--no-symbols)
		timeout -k 5 "$STRESS_TIMEOUT" "$FATHOM" "$cmd" "${opts[@]}" "$@" >"$STRESS_DIR/$cmd.txt" 2>"$STRESS_DIR/$cmd.err"
		rc=$?
		if [ "$rc" != 0 ]; then
			sed 's/^/  | /' "$STRESS_DIR/$cmd.err" | head -20 >&2
			fail "$name: fathom $cmd exited $rc on $*"
		fi
		[ -s "$STRESS_DIR/$cmd.txt" ] || fail "$name: fathom $cmd printed nothing"
		if [ "$crash" = 1 ]; then
			grep -qiE 'truncat|incomplete|no trailer|cut short|crash' "$STRESS_DIR/$cmd.err" || {
				sed 's/^/  | /' "$STRESS_DIR/$cmd.err" >&2
				fail "$name: fathom $cmd did not say that the dump of a crashed run is incomplete"
			}
		else
			# Dropped CPU samples are documented behaviour under load (a full
			# ring drops a sample and counts it), not damage: shown, allowed.
			# So is a perf map in /tmp left by an earlier process of the same
			# pid (the machine's, not the run's: the report says so and does
			# not use it), and a thread that waited for a CPU (a busy
			# machine's: the report says its samples may be biased).
			local allowed='samples lost|before process [0-9]+ started: another process|waited for a CPU [0-9]+% of the time it was runnable'
			grep -E "$allowed" "$STRESS_DIR/$cmd.err" | sed 's/^/# /' >&2
			if grep -vqE "$allowed" "$STRESS_DIR/$cmd.err"; then
				sed 's/^/  | /' "$STRESS_DIR/$cmd.err" | head -20 >&2
				fail "$name: fathom $cmd warned about a dump of a clean run"
			fi
		fi
	done
}

# stress_fact WHAT CMD PYEXPR EXPECTED: runs `fathom CMD --json` over the last
# run's dumps and compares the Python expression PYEXPR, over the parsed JSON
# `d`, with EXPECTED. CMD may carry options ("report --no-symbols").
stress_fact() {
	local what=$1 cmd=$2 expr=$3 expected=$4 got
	# shellcheck disable=SC2086
	"$FATHOM" $cmd --json "$STRESS_DIR"/dumps/* >"$STRESS_DIR/fact.json" 2>/dev/null ||
		fail "$what: fathom $cmd --json failed"
	got=$(python3 -c 'import json, os, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$STRESS_DIR/fact.json" "$expr") || fail "$what: cannot evaluate $expr"
	assert_eq "$what" "$expected" "$got"
}
