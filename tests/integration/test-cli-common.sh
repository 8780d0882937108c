# The common options and exit statuses of every command that reads dumps
# (docs/USAGE.md, "Common options"): -q, --no-symbols and --debug-dir DIR are
# taken by each, -q leaves stderr empty, a bad flag and a missing or non-dump
# file exit 2, a failing verdict exits 1, and --help lists the common options.
source "$SRCDIR/tests/lib.sh"

# Two runs of a small leaking program: base without the real leak, new with it.
run "$FATHOM" record -q --alloc -o base.fdump -- "$PROGS/lk_leaks" >/dev/null
# A run id is the start time to the second (and only default names get -2,
# -3, ...): the two runs start in different seconds, so that merging them warns.
sleep 1.1
run "$FATHOM" record -q --alloc -o new.fdump -- "$PROGS/lk_leaks" leak >/dev/null
echo "just text" >text.fdump
mkdir dbg

# The command line of each command, up to its dump files.
args() {
	case $1 in
	report | mem | lines) echo "$1" ;;
	flame) echo "flame --weight alloc-calls -o out.svg" ;;
	export) echo "export --format folded --weight alloc-calls -o out.folded" ;;
	view) echo "view -o out.html" ;;
	check) echo "check --max-alloc-calls 1G" ;;
	diff) echo "diff new.fdump" ;; # BASE, then NEW
	esac
}
cmds="report mem flame export view lines check diff"
for c in $cmds; do
	a=$(args $c)
	# The common options, each alone and all together; -q: nothing on stderr.
	for opts in "-q" "--quiet" "-q --no-symbols" "-q --debug-dir dbg" "-q --no-symbols --debug-dir=dbg"; do
		# shellcheck disable=SC2086
		"$FATHOM" $a $opts new.fdump >out.txt 2>err.txt
		rc=$?
		[ "$rc" = 0 ] || { sed 's/^/  | /' err.txt >&2; fail "fathom $a $opts new.fdump: exit $rc, expected 0"; }
		[ ! -s err.txt ] || { sed 's/^/  | /' err.txt >&2; fail "fathom $a $opts: -q, yet stderr is not empty"; }
	done
	# shellcheck disable=SC2086
	{
		"$FATHOM" $c --help >help.txt || fail "fathom $c --help exited $?"
		for o in --no-symbols --debug-dir --quiet --help "exit status: 0"; do
			assert_contains "fathom $c --help" "$o" help.txt
		done
		# A misspelt common option is named; a misspelt one of the command too.
		"$FATHOM" $a --no-simbols new.fdump >out.txt 2>err.txt
		assert_eq "fathom $c --no-simbols: exit status" 2 "$?"
		assert_contains "fathom $c --no-simbols" "did you mean '--no-symbols'?" err.txt
		"$FATHOM" $a --debugdir dbg new.fdump >out.txt 2>err.txt
		assert_eq "fathom $c --debugdir: exit status" 2 "$?"
		assert_contains "fathom $c --debugdir" "did you mean '--debug-dir'?" err.txt
		"$FATHOM" $a -Q new.fdump >out.txt 2>err.txt
		assert_eq "fathom $c -Q: exit status" 2 "$?"
		"$FATHOM" $a new.fdump --debug-dir >out.txt 2>err.txt
		assert_eq "fathom $c --debug-dir without its value: exit status" 2 "$?"
		# Bad input: 2, one line naming the file.
		"$FATHOM" $a -q missing.fdump >out.txt 2>err.txt
		assert_eq "fathom $c missing.fdump: exit status" 2 "$?"
		assert_contains "fathom $c missing.fdump" "missing.fdump: No such file or directory" err.txt
		"$FATHOM" $a -q text.fdump >out.txt 2>err.txt
		assert_eq "fathom $c text.fdump: exit status" 2 "$?"
		assert_contains "fathom $c text.fdump" "text.fdump: not a fathom dump" err.txt
	}
done

# A failing verdict exits 1, with -q too.
"$FATHOM" check -q --max-leaked-blocks 0 --no-default-suppressions new.fdump >out.txt 2>err.txt
assert_eq "check over budget: exit status" 1 "$?"
"$FATHOM" diff -q --metric leaked base.fdump new.fdump >out.txt 2>err.txt
assert_eq "diff with a new leak: exit status" 1 "$?"
# And the leak options mean the same in check and diff: a suppressed leak is no verdict.
echo "leak:lk_real_leak" >real.supp
"$FATHOM" check -q --max-leaked-blocks 0 --suppressions real.supp new.fdump >out.txt 2>err.txt ||
	fail "check with the leak suppressed: exit $?: $(cat err.txt)"
"$FATHOM" diff -q --metric leaked --suppressions real.supp base.fdump new.fdump >out.txt 2>err.txt ||
	fail "diff with the leak suppressed: exit $?: $(cat out.txt err.txt)"

# Warnings: dumps of two different runs merged warn, except under -q.
for c in report mem flame export view lines check; do
	a=$(args $c)
	# shellcheck disable=SC2086
	"$FATHOM" $a base.fdump new.fdump >out.txt 2>err.txt || fail "fathom $a of two runs: exit $?"
	assert_contains "fathom $c warns of two runs" "warning: these dumps come from 2 different runs" err.txt
	# shellcheck disable=SC2086
	"$FATHOM" $a -q base.fdump new.fdump >out.txt 2>err.txt || fail "fathom $a -q of two runs: exit $?"
	[ ! -s err.txt ] || { sed 's/^/  | /' err.txt >&2; fail "fathom $c -q printed on stderr"; }
done
note "ok: common options and exit statuses"
