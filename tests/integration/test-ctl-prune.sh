# Control channels left behind are pruned, live ones kept: a program under
# the agent killed with SIGKILL leaves its directory in its base (tests/lib.sh ctl_base);
# the next fathom ctl removes it, and a directory named by the pid of a live
# process that is not its maker (a pid reused), while the channel of a live
# program under the agent stays and still answers, and so does an unlocked
# one of a live process under the agent (an older agent locks nothing).
# fathom record prunes too.
# What is not a private directory of the user's named by a number is left
# alone.
source "$SRCDIR/tests/lib.sh"
unset XDG_RUNTIME_DIR
base=$(ctl_base "$(id -u)")
trap 'kill $(jobs -p) 2>/dev/null; rmdir "$base/999999991" "$base/keep-me" 2>/dev/null; rm -f "$base/999999992"' EXIT

start() { # NAME: win_server under the agent, paused; its pid in NAME
	rm -f "$1"
	"$FATHOM" record --paused -o "$1.fdump" -- "$PROGS/win_server" "$PWD/$1" >"$1.out" 2>"$1.err" &
	for _ in $(seq 200); do [ -s "$1" ] && break; sleep 0.05; done
	[ -s "$1" ] || fail "the program did not start: $(cat "$1.err")"
	for _ in $(seq 200); do [ -d "$base/$(cat "$1")" ] && break; sleep 0.05; done
	[ -d "$base/$(cat "$1")" ] || fail "no control channel for $1"
}

start killed
k=$(cat killed)
kill -KILL "$k"
for _ in $(seq 200); do [ -e "/proc/$k" ] || break; sleep 0.05; done
# (Another fathom ctl or record, a test beside this one, may prune it first.)
[ -d "$base/$k" ] || note "the killed program's channel was pruned already"
# A command that was never answered stays in it.
: >"$base/$k/c.stale.stop"

start live
l=$(cat live)
# A pid reused: a live process that did not make the directory named by it.
sleep 30 &
other=$!
mkdir -m 700 "$base/$other"
: >"$base/$other/r.old.ok.stop.1.2"
# A live process under the agent whose channel holds no lock (an agent
# older than this fathom): kept. Its own agent makes its channel under
# XDG_RUNTIME_DIR, so the one in $base is made here, unlocked.
mkdir -m 700 xdg
XDG_RUNTIME_DIR="$PWD/xdg" LD_PRELOAD="$FATHOM_AGENT" FATHOM_OUTPUT="$PWD/old.%p.fdump" sleep 30 &
old=$!
for _ in $(seq 200); do [ -d "xdg/fathom/$old" ] && break; sleep 0.05; done
[ -d "xdg/fathom/$old" ] || fail "the agent under sleep made no channel"
mkdir -m 700 "$base/$old"
# Not the agent's: left alone.
mkdir -m 755 "$base/999999991"
mkdir -m 700 "$base/keep-me"
: >"$base/999999992"

"$FATHOM" ctl "$l" snapshot >ctl.out 2>ctl.err || fail "ctl on the live program failed: $(cat ctl.err)"
assert_contains "the live program answers" "snapshot 1 at" ctl.out
[ ! -e "$base/$k" ] || fail "the killed program's channel was not pruned: $(ls -la "$base/$k")"
[ ! -e "$base/$other" ] || fail "a channel named by a live pid that did not make it was not pruned"
[ -d "$base/$l" ] || fail "the live program's channel was pruned"
[ -d "$base/$old" ] || fail "the unlocked channel of a live process under the agent was pruned"
[ -d "$base/999999991" ] || fail "a directory open to others was removed"
[ -d "$base/keep-me" ] || fail "a directory not named by a pid was removed"
[ -f "$base/999999992" ] || fail "a file was removed"
rmdir "$base/999999991" "$base/keep-me"
rm -f "$base/999999992"

# Killed again, and fathom record prunes it.
kill -KILL "$l"
for _ in $(seq 200); do [ -e "/proc/$l" ] || break; sleep 0.05; done
[ -d "$base/$l" ] || note "the second killed program's channel was pruned already"
run "$FATHOM" record -q -o t.fdump -- true
[ ! -e "$base/$l" ] || fail "fathom record did not prune the killed program's channel"
kill "$other" "$old" 2>/dev/null
rmdir "$base/$old"
wait 2>/dev/null
echo "ok: channels of killed processes are pruned, live ones kept"
