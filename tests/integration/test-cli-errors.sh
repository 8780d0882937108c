# Every command as a careless user meets it: each option its --help (and the
# README's command table) lists exists; bad files, bad options and missing
# values give one line naming the culprit and exit 2; fathom record passes
# its command's exit status through. (test-spine-badinput.sh covers report's
# own bad input and record's 126/127; this covers the other commands.)
source "$SRCDIR/tests/lib.sh"

expect() { # expect STATUS NEEDLE -- command...
	local want=$1 needle=$2
	shift 3
	"$@" >out.txt 2>err.txt
	local rc=$?
	[ "$rc" = "$want" ] || { sed 's/^/  | /' err.txt >&2; fail "$*: exit $rc, expected $want"; }
	assert_contains "$*" "$needle" err.txt
	[ "$(wc -l <err.txt)" -le 2 ] || { sed 's/^/  | /' err.txt >&2; fail "$*: more than a short message"; }
}

run "$FATHOM" record -q -o cpu.fdump -- "$PROGS/spine_inline" 20000000 >/dev/null
run "$FATHOM" record -q --alloc -o mem.fdump -- "$PROGS/spine_inline" 20000000 >/dev/null

# --- the option lists: every option --help names is known to getopt ---------
cmds="record report mem flame export view lines diff check ctl"
for c in $cmds; do
	"$FATHOM" $c --help >help.txt 2>&1 || fail "fathom $c --help exited $?"
	head -1 help.txt | grep -q "^usage: fathom $c" || fail "fathom $c --help does not start with its usage: $(head -1 help.txt)"
	# Options are what the option lines define and what the usage lines show
	# (other commands' options may appear in the prose).
	opts=$( (sed -nE 's/^ +(-[a-zA-Z], )?(--[a-z][a-z-]+).*/\2/p' help.txt
		grep -E '^(usage: |       )fathom ' help.txt | grep -oE -- '--[a-z][a-z-]+') | sort -u)
	[ -n "$opts" ] || fail "no options found in fathom $c --help"
	for opt in $opts; do
		"$FATHOM" $c "$opt" </dev/null >o.txt 2>e.txt
		! grep -q "unknown option" e.txt || fail "fathom $c --help lists $opt, which fathom $c does not know: $(cat e.txt)"
	done
done
# The README's command table: each row's options exist in that command.
n=0
while IFS= read -r row; do
	c=$(sed -E 's/^\| `fathom ([a-z]+).*/\1/' <<<"$row")
	for opt in $(grep -oE -- '--[a-z][a-z-]+' <<<"$row" | sort -u); do
		"$FATHOM" $c "$opt" </dev/null >o.txt 2>e.txt
		! grep -q "unknown option" e.txt || fail "README lists 'fathom $c $opt', which does not exist"
		n=$((n + 1))
	done
done < <(grep -E '^\| `fathom [a-z]+' "$SRCDIR/README.md")
[ "$n" -ge 20 ] || fail "only $n options found in README's command table"
# And docs/USAGE.md's synopses (lines starting with 'fathom CMD').
while IFS= read -r line; do
	c=$(awk '{ print $2 }' <<<"$line")
	for opt in $(grep -oE -- '--[a-z][a-z-]+' <<<"$line" | sort -u); do
		"$FATHOM" $c "$opt" </dev/null >o.txt 2>e.txt
		! grep -q "unknown option" e.txt || fail "docs/USAGE.md shows 'fathom $c $opt', which does not exist"
	done
done < <(grep -E '^ *fathom (record|report|mem|flame|export|view|lines|diff|check) ' "$SRCDIR/docs/USAGE.md")

# --- top level ---------------------------------------------------------------
"$FATHOM" >out.txt 2>err.txt
assert_eq "fathom without a command" 2 "$?"
assert_contains "usage on stderr" "usage: fathom COMMAND" err.txt
"$FATHOM" --help >out.txt || fail "fathom --help exited $?"
assert_contains "--help lists record" "record" out.txt
"$FATHOM" --version >out.txt || fail "fathom --version exited $?"
grep -qE '^fathom [0-9]+\.[0-9]+' out.txt || fail "fathom --version: $(cat out.txt)"

# --- misspelt options name the right one, in every command --------------------
expect 2 "did you mean '--sort'?" -- "$FATHOM" mem --sotr calls mem.fdump
expect 2 "did you mean '--weight'?" -- "$FATHOM" flame --wieght cpu cpu.fdump
expect 2 "did you mean '--format'?" -- "$FATHOM" export --fromat pprof cpu.fdump
expect 2 "did you mean '--threshold'?" -- "$FATHOM" diff --treshold 5 cpu.fdump cpu.fdump
expect 2 "did you mean '--max-peak'?" -- "$FATHOM" check --max-peek 1M mem.fdump
expect 2 "did you mean '--title'?" -- "$FATHOM" view --titel x cpu.fdump
expect 2 "did you mean '--clock'?" -- "$FATHOM" record --clok wall -- true
# A known option without its value says so, short or long.
expect 2 "option '-o' (--output) needs a value" -- "$FATHOM" record -o
expect 2 "option '-w' (--weight) needs a value" -- "$FATHOM" flame cpu.fdump -w
expect 2 "option '--top' needs a value" -- "$FATHOM" mem mem.fdump --top
# A letter that is no short option, in the middle of the line, is unknown.
expect 2 "unknown option '-b'" -- "$FATHOM" report -b function cpu.fdump
# Bad values name the option and the value.
expect 2 "-F takes a rate in Hz (1-10000), not '0'" -- "$FATHOM" record -F 0 -- true
expect 2 "--clock takes cpu or wall, not 'gpu'" -- "$FATHOM" record --clock gpu -- true
expect 2 "not '12q'" -- "$FATHOM" record --alloc-sample 12q -- true
expect 2 "unknown sort key 'size'" -- "$FATHOM" mem --sort size mem.fdump
expect 2 "unknown weight 'heap'" -- "$FATHOM" flame --weight heap cpu.fdump
expect 2 "unknown format 'pdf'" -- "$FATHOM" export --format pdf cpu.fdump
expect 2 "--max-peak needs a size" -- "$FATHOM" check --max-peak lots mem.fdump
expect 2 "--top takes a count" -- "$FATHOM" report --top -3 cpu.fdump

# --- bad files, in every command that reads dumps -------------------------------
mkdir adir
: >empty.fdump
echo "just text" >text.fdump
head -c 100 cpu.fdump >cut.fdump # the file header alone, cut short
for c in mem flame export view diff check; do
	case $c in
	export) pre=(--format folded) ;;
	check) pre=(--max-samples 1000000) ;;
	diff) pre=(cpu.fdump) ;;
	*) pre=() ;;
	esac
	expect 2 "missing.fdump: No such file or directory" -- "$FATHOM" $c "${pre[@]}" missing.fdump
	expect 2 "empty.fdump: empty file, not a fathom dump" -- "$FATHOM" $c "${pre[@]}" empty.fdump
	expect 2 "text.fdump: not a fathom dump" -- "$FATHOM" $c "${pre[@]}" text.fdump
	expect 2 "adir" -- "$FATHOM" $c "${pre[@]}" adir
	"$FATHOM" $c "${pre[@]}" cut.fdump >out.txt 2>err.txt
	rc=$?
	[ "$rc" -lt 128 ] || fail "fathom $c crashed on a cut file (exit $rc)"
	assert_contains "fathom $c names the cut file" "cut.fdump" err.txt
done
# No file at all: one line, not the whole usage.
for c in report mem flame; do
	expect 2 "no dump file" -- "$FATHOM" $c
done
expect 2 "no dump file" -- "$FATHOM" export --format folded
# Memory questions to a recording without allocations.
expect 1 "no allocation data in this recording; record with 'fathom record --alloc" -- "$FATHOM" mem cpu.fdump
expect 2 "record with 'fathom record --alloc'" -- "$FATHOM" check --max-leaked 0 cpu.fdump
expect 1 "no leaked-bytes weight in this recording (record with --alloc" -- "$FATHOM" flame --weight leaked cpu.fdump -o leak.svg
[ ! -e leak.svg ] || fail "flame left leak.svg behind after failing"
expect 2 "no thread 424242" -- "$FATHOM" report --tid 424242 cpu.fdump
# --top 0 lists every row, as in fathom mem.
"$FATHOM" report --top 0 cpu.fdump >all.txt || fail "report --top 0 failed"
"$FATHOM" report --top 1 cpu.fdump >one.txt || fail "report --top 1 failed"
[ "$(wc -l <all.txt)" -gt "$(wc -l <one.txt)" ] || fail "report --top 0 shows no more than --top 1"
# A recording made with --no-cpu says so in report.
run "$FATHOM" record -q --alloc --no-cpu -o nocpu.fdump -- true
"$FATHOM" report nocpu.fdump >nocpu.txt || fail "report of a --no-cpu recording failed"
assert_contains "report of --no-cpu" "recording was made with --no-cpu" nocpu.txt

# --- fathom record: status, dumps, and the command's own flags ------------------
"$FATHOM" record -q -- sh -c 'exit 7' 2>err.txt
assert_eq "exit status passed through" 7 "$?"
"$FATHOM" record -q -- sh -c 'kill -USR1 $$' 2>err.txt
assert_eq "killed by SIGUSR1: 128+10" 138 "$?"
"$FATHOM" record -q -- sh -c 'kill -KILL $$' 2>err.txt
assert_eq "killed by SIGKILL: 128+9" 137 "$?"
# Without '--', the first word that is not fathom's option is the command, and
# the options after it are the command's own (ls rejects --alloc: status 2).
"$FATHOM" record -q -o noddash.fdump ls -d . >out.txt 2>err.txt || fail "record without -- failed: $(cat err.txt)"
assert_eq "ls output" "." "$(cat out.txt)"
[ -s noddash.fdump ] || fail "record without -- wrote no dump"
"$FATHOM" record -q -o lsflag.fdump ls --alloc >out.txt 2>err.txt
assert_eq "the command's own flag goes to the command" 2 "$?"
assert_contains "ls saw --alloc" "alloc" err.txt
expect 2 "no command given" -- "$FATHOM" record -q --alloc --
# A dump that could not be written is refused before the command runs.
expect 2 "cannot write the dump in $WORKDIR/nodir: No such file or directory" -- "$FATHOM" record -o nodir/x.fdump -- touch ran.txt
[ ! -e ran.txt ] || fail "record ran the command although its dump could not be written"
expect 2 "-o adir is a directory" -- "$FATHOM" record -o adir -- touch ran.txt
[ ! -e ran.txt ] || fail "record ran the command although -o is a directory"
# The summary counts allocation events when allocations are recorded.
"$FATHOM" record --alloc --no-cpu -o a.fdump -- true 2>err.txt || fail "record --alloc --no-cpu true failed"
grep -qE '^fathom: [0-9,]+ allocation events, 1 dump: a.fdump$' err.txt || fail "summary of a memory-only recording: $(cat err.txt)"
# Many dumps: a few are named, with the way to open them all.
"$FATHOM" record -o many.fdump -- sh -c 'for i in 1 2 3 4 5 6; do /bin/true; done' 2>err.txt || fail "record of a shell loop failed"
assert_contains "summary of 7 dumps" "7 dumps: many.fdump" err.txt
assert_contains "summary counts the rest" "and 3 more; all of them: fathom report many.fdump*" err.txt
# The shell itself burns no CPU; its child does. Opening only the shell's
# dump points to the others.
run "$FATHOM" record -q -o run.fdump -- sh -c "$PROGS/spine_inline 30000000; true" >/dev/null
ls run.fdump.[0-9]* >/dev/null 2>&1 || fail "the child of sh wrote no dump of its own"
"$FATHOM" report run.fdump >run.txt 2>err.txt || fail "report run.fdump failed"
assert_contains "hint to open the whole run" "but its run wrote 1 more dump (child processes" run.txt
assert_contains "hint to open the whole run" "fathom report run.fdump*" run.txt
"$FATHOM" report run.fdump* >all.txt 2>err.txt || fail "report run.fdump* failed"
assert_contains "the child's hot function" "spine_inlined_hot" all.txt
# A supervisor's SIGTERM to fathom record (a CI job being cancelled) reaches
# the program: it does not keep running unsupervised, and fathom still reports.
"$FATHOM" record -o term.fdump -- sh -c 'echo $$ >term.pid; exec sleep 30' 2>term.err &
fpid=$!
for _ in $(seq 50); do [ -s term.pid ] && break; sleep 0.1; done
[ -s term.pid ] || fail "the recorded program did not start"
sleep 0.2
kill -TERM $fpid
wait $fpid
assert_eq "fathom record killed by SIGTERM: the program's 128+15" 143 "$?"
! kill -0 "$(cat term.pid)" 2>/dev/null || { kill "$(cat term.pid)"; fail "the program outlived fathom record's SIGTERM"; }
assert_contains "summary after SIGTERM" "dumps: term.fdump" term.err
# A file named twice (run.fdump run.fdump*) is read once, in every command.
one=$("$FATHOM" report --json -q mem.fdump | python3 -c 'import json,sys; print(json.load(sys.stdin)["samples"])')
two=$("$FATHOM" report --json -q mem.fdump ./mem.fdump | python3 -c 'import json,sys; print(json.load(sys.stdin)["samples"])')
assert_eq "report of a file named twice" "$one" "$two"
one=$("$FATHOM" mem --json -q mem.fdump | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["alloc_calls"])')
two=$("$FATHOM" mem --json -q mem.fdump mem.fdump | python3 -c 'import json,sys; print(json.load(sys.stdin)["totals"]["alloc_calls"])')
assert_eq "mem of a file named twice" "$one" "$two"
"$FATHOM" check mem.fdump mem.fdump --max-alloc-calls "$one" >/dev/null || fail "check counted a file named twice twice"
# A failed write to a device given with -o (a full disk: /dev/full) is an
# error, and the device stays: only a half-written regular file is removed.
if [ "$(id -u)" = 0 ] && mknod -m 666 full c 1 7 2>/dev/null; then
	expect 1 "writing $WORKDIR/full: No space left on device" -- "$FATHOM" flame cpu.fdump -o "$WORKDIR/full"
	[ -c full ] || fail "fathom flame removed the device it failed to write"
	expect 1 "writing $WORKDIR/full: No space left on device" -- "$FATHOM" export --format pprof cpu.fdump -o "$WORKDIR/full"
	[ -c full ] || fail "fathom export removed the device it failed to write"
	"$FATHOM" flame --folded cpu.fdump >full 2>err.txt
	[ "$?" = 1 ] || fail "flame --folded into a full device: exit status $?"
	assert_contains "errno of a full disk" "No space left on device" err.txt
else
	note "not root: no device node for the write-error checks"
fi
