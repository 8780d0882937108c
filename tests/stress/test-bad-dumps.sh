# The analyzer commands on damaged and hostile files (the fuzz seed corpus,
# plus cut and corrupted copies of a synthetic dump): never a crash or a hang;
# either a result (exit 0) or exit 1/2 with a message naming the file.
. "$SRCDIR/tests/lib.sh"

check_cmd() { # check_cmd FILE CMD...
	local f=$1 rc
	shift
	timeout -k 5 60 "$FATHOM" "$@" "$f" >"$WORKDIR/out" 2>"$WORKDIR/err"
	rc=$?
	[ "$rc" != 124 ] || fail "fathom $* $f: hung"
	[ "$rc" -lt 128 ] || { tail -5 "$WORKDIR/err" >&2; fail "fathom $* $f: died of signal $((rc - 128))"; }
	case $rc in
	0) ;;
	1 | 2)
		# 2: not readable at all; 1: read, but nothing to show (e.g. no
		# allocation data left). Either way the last line says why, naming the file.
		tail -n 1 "$WORKDIR/err" | grep -qF "$(basename "$f")" || { cat "$WORKDIR/err" >&2; fail "fathom $* $f: exit $rc without a message naming the file"; }
		;;
	*) cat "$WORKDIR/err" >&2; fail "fathom $* $f: exit status $rc (expected 0, 1 or 2)" ;;
	esac
	echo "$rc"
}

n=0 rejected=0
for f in "$SRCDIR"/tests/fuzz/corpus/*; do
	for cmd in report mem "report --json" "mem --json"; do
		# shellcheck disable=SC2086
		rc=$(check_cmd "$f" $cmd) || exit 1
		n=$((n + 1))
		[ "$rc" = 0 ] || rejected=$((rejected + 1))
	done
done
note "$n runs over the corpus, $rejected rejected with a message"
# Not a dump at all, and a newer major version: rejected, not read.
for f in not-a-dump newer-major magic-only; do
	rc=$(check_cmd "$SRCDIR/tests/fuzz/corpus/$f" report) || exit 1
	assert_eq "fathom report on $f" 2 "$rc"
done

# A clean synthetic dump, then copies cut at several points and with bytes
# flipped: each is read up to the damage, with a warning saying so.
"$PROGS/stress_gendump" --events 200000 --stacks 300 --live 2000 --chunk 16384 "$WORKDIR/clean.fdump" >"$WORKDIR/facts" ||
	fail "stress_gendump failed"
size=$(stat -c %s "$WORKDIR/clean.fdump")
rc=$(check_cmd "$WORKDIR/clean.fdump" mem) || exit 1
assert_eq "clean synthetic dump" 0 "$rc"
[ ! -s "$WORKDIR/err" ] || { cat "$WORKDIR/err" >&2; fail "warnings on a clean dump"; }
for frac in 10 50 99; do
	head -c $((size * frac / 100)) "$WORKDIR/clean.fdump" >"$WORKDIR/cut$frac.fdump"
	rc=$(check_cmd "$WORKDIR/cut$frac.fdump" mem) || exit 1
	assert_eq "dump cut at $frac%" 0 "$rc"
	assert_contains "dump cut at $frac% is reported as truncated" "truncated" "$WORKDIR/err"
done
cp "$WORKDIR/clean.fdump" "$WORKDIR/flip.fdump"
for off in $((size / 3)) $((size / 2)) $((size * 2 / 3)); do
	printf '\xa5' | dd of="$WORKDIR/flip.fdump" bs=1 seek="$off" conv=notrunc status=none
done
rc=$(check_cmd "$WORKDIR/flip.fdump" report) || exit 1
assert_eq "dump with flipped bytes" 0 "$rc"
grep -qiE 'corrupt|damaged' "$WORKDIR/err" || { cat "$WORKDIR/err" >&2; fail "flipped bytes went unnoticed"; }
