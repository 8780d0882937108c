# Safety of the agent (issue 8, item 3), run directly with LD_PRELOAD as a user
# would: the dump is created 0600, never through a symlink, never over an
# existing file (ours or another user's); the agent does nothing in a setuid or
# setgid program; a bad FATHOM_HZ / FATHOM_ALLOC / FATHOM_CLOCK gives exactly one
# message on stderr while the target's output and exit status stay the same.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

W=$WORKDIR
TARGET=("$PROGS/stress_exec" 0) # prints on stdout and stderr, exits 9
"${TARGET[@]}" >"$W/plain.out" 2>"$W/plain.err"
PLAIN_RC=$?
assert_eq "plain exit status" 9 "$PLAIN_RC"

# agent_run NAME [VAR=VALUE...]: the target under the agent; output in $W/NAME.*
agent_run() {
	local name=$1
	shift
	# Only the target gets the agent: not timeout, and not env before its exec.
	timeout -k 5 60 env LD_PRELOAD="$FATHOM_AGENT" "$@" "${TARGET[@]}" >"$W/$name.out" 2>"$W/$name.err"
	echo $? >"$W/$name.rc"
}
# The target's stdout and exit status are the plain run's.
same_output() {
	local name=$1
	assert_eq "$name: exit status" "$PLAIN_RC" "$(cat "$W/$name.rc")"
	cmp -s "$W/plain.out" "$W/$name.out" || fail "$name: stdout differs from the plain run"
}
# ... and so is stderr.
same_stderr() {
	cmp -s "$W/plain.err" "$W/$1.err" || { diff "$W/plain.err" "$W/$1.err" >&2; fail "$1: stderr differs from the plain run"; }
}
# The dumps in a directory other than the given names, one a line.
other_dumps() {
	local dir=$1
	shift
	find "$dir" -maxdepth 1 -type f -newer "$W/plain.out" | grep -vxF -f <(printf '%s\n' "$@") || true
}

# A control: the agent writes a readable dump where asked, mode 0600 under a
# permissive umask.
mkdir -p "$W/mode"
(umask 000 && agent_run mode FATHOM_OUTPUT="$W/mode/new.fdump")
same_output mode
same_stderr mode
[ -f "$W/mode/new.fdump" ] || fail "the agent wrote no dump at FATHOM_OUTPUT"
assert_eq "mode of a new dump" 600 "$(stat -c %a "$W/mode/new.fdump")"
run "$FATHOM" report "$W/mode/new.fdump" >/dev/null

# A symlink at the dump path, to an existing file and to nowhere: not followed.
mkdir -p "$W/link"
echo precious >"$W/link/victim"
ln -s "$W/link/victim" "$W/link/to-file.fdump"
ln -s "$W/link/created-through-link" "$W/link/dangling.fdump"
agent_run link-file FATHOM_OUTPUT="$W/link/to-file.fdump"
same_output link-file
assert_eq "a file behind a symlink is untouched" precious "$(cat "$W/link/victim")"
[ -L "$W/link/to-file.fdump" ] || fail "the symlink at the dump path was replaced"
agent_run link-dangling FATHOM_OUTPUT="$W/link/dangling.fdump"
same_output link-dangling
[ ! -e "$W/link/created-through-link" ] || fail "the agent created a file through a dangling symlink"
[ -L "$W/link/dangling.fdump" ] || fail "the dangling symlink at the dump path was replaced"

# An existing file at the dump path, ours and another user's: not overwritten.
# The agent may pick another name (then that dump must read) or stay silent.
mkdir -p "$W/exist"
echo ours >"$W/exist/ours.fdump"
echo theirs >"$W/exist/theirs.fdump"
chown nobody "$W/exist/theirs.fdump" 2>/dev/null || note "cannot chown to nobody; 'theirs' is ours too"
for who in ours theirs; do
	agent_run "exist-$who" FATHOM_OUTPUT="$W/exist/$who.fdump"
	same_output "exist-$who"
	assert_eq "an existing file ($who) is not overwritten" "$who" "$(cat "$W/exist/$who.fdump")"
done
mapfile -t others < <(other_dumps "$W/exist" "$W/exist/ours.fdump" "$W/exist/theirs.fdump")
for f in "${others[@]}"; do
	note "the agent chose another name: $f"
	assert_eq "mode of $f" 600 "$(stat -c %a "$f")"
	run "$FATHOM" report "$f" >/dev/null
done

# setuid and setgid programs: secure-execution mode (AT_SECURE). ld.so ignores
# LD_PRELOAD with a slash there, so the target links the agent itself (as a
# program could); run as nobody, where the set-id bits make a difference.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	mkdir -p "$W/secure" "$W/secure/out"
	chmod 755 "$W" "$W/secure"
	chmod 1777 "$W/secure/out"
	cat >"$W/secure/prog.c" <<'PROG'
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	unsigned long h = 1;
	for (long i = 0; i < 20000000; i++) {
		void *p = malloc(16 + (size_t)(i % 64));
		h = h * 31 + (p != NULL);
		free(p);
	}
	printf("secure target %lu\n", h);
	return 3;
}
PROG
	agent_dir=$(dirname "$FATHOM_AGENT")
	run gcc -O1 -o "$W/secure/prog" "$W/secure/prog.c" -L"$agent_dir" -l:libfathom.so -Wl,-rpath,"$agent_dir"
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups env FATHOM_OUTPUT="$W/secure/out/$1-%p.fdump" "$2"; }
	# The same program without set-id bits: the agent runs, so a dump appears.
	cp "$W/secure/prog" "$W/secure/plain-prog"
	as_nobody control "$W/secure/plain-prog" >"$W/secure/control.out" 2>"$W/secure/control.err"
	assert_eq "control: exit status" 3 "$?"
	ls "$W/secure/out/" | grep -q '^control-' || {
		cat "$W/secure/control.err" >&2
		fail "control: the agent linked into the program wrote no dump as nobody (is the build tree readable by nobody?)"
	}
	for mode in 4755 2755; do
		cp "$W/secure/prog" "$W/secure/prog-$mode"
		chown root:root "$W/secure/prog-$mode"
		chmod "$mode" "$W/secure/prog-$mode"
		as_nobody "setid-$mode" "$W/secure/prog-$mode" >"$W/secure/$mode.out" 2>"$W/secure/$mode.err"
		assert_eq "set-id $mode: exit status" 3 "$?"
		cmp -s "$W/secure/control.out" "$W/secure/$mode.out" || fail "set-id $mode: stdout differs"
		[ ! -s "$W/secure/$mode.err" ] || { cat "$W/secure/$mode.err" >&2; fail "set-id $mode: the agent wrote to stderr"; }
		! ls "$W/secure/out/" | grep -q "^setid-$mode" || fail "set-id $mode: the agent wrote a dump in a set-id program"
	done
else
	note "not root or no setpriv: the setuid/setgid check is skipped"
fi

# Bad values: one message naming the variable, the program unchanged.
mkdir -p "$W/bad"
i=0
for setting in FATHOM_HZ=abc FATHOM_HZ=0 FATHOM_HZ=-5 FATHOM_HZ=12abc FATHOM_HZ=99999999999999999999 \
	FATHOM_ALLOC=bogus FATHOM_ALLOC=exactly FATHOM_CLOCK=sundial FATHOM_CLOCK=wal FATHOM_HZ=; do
	i=$((i + 1))
	agent_run "bad$i" FATHOM_OUTPUT="$W/bad/bad$i-%p.fdump" "$setting"
	same_output "bad$i"
	var=${setting%%=*}
	# stderr is the target's, plus exactly one line from the agent.
	extra=$(diff "$W/plain.err" "$W/bad$i.err" | grep -c '^>')
	missing=$(diff "$W/plain.err" "$W/bad$i.err" | grep -c '^<')
	if [ "$extra" != 1 ] || [ "$missing" != 0 ]; then
		sed 's/^/  | /' "$W/bad$i.err" >&2
		fail "$setting: expected exactly one added line on stderr, got $extra added and $missing lost"
	fi
	grep -F -- "$var" "$W/bad$i.err" >/dev/null || fail "$setting: the message does not name $var"
done
