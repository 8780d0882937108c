# Only a process's user and root drive it (issue 18, item 6): as nobody,
# fathom ctl on root's process says in one line that it belongs to another
# user, and nobody cannot even create a command in its channel (mode 0700);
# root drives nobody's process. Root's process keeps recording throughout.
source "$SRCDIR/tests/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to run a process as another user"
command -v setpriv >/dev/null || skip "no setpriv"
unset XDG_RUNTIME_DIR
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody true 2>/dev/null || skip "cannot drop to uid 65534 here"
trap 'kill $(jobs -p) 2>/dev/null' EXIT

start() { # NAME [as_nobody]: win_server under the agent; its pid in NAME
	rm -f "$1"
	"${@:2}" env LD_PRELOAD="$FATHOM_AGENT" FATHOM_OUTPUT="$PWD/out/$1.%p.fdump" "$PROGS/win_server" \
		"$PWD/out/$1" >"out/$1.log" 2>&1 &
	for _ in $(seq 200); do [ -s "out/$1" ] && break; sleep 0.05; done
	[ -s "out/$1" ] || fail "$1 did not start: $(cat "out/$1.log")"
}
mkdir -m 777 out

start mine
p=$(cat out/mine)
for _ in $(seq 200); do [ -d "$(ctl_base 0)/$p" ] && break; sleep 0.05; done
st=0; as_nobody "$FATHOM" ctl "$p" stop >o.txt 2>e.txt || st=$?
cat e.txt >&2
assert_eq "nobody's fathom ctl on root's process" 1 "$st"
assert_contains "it says whose process it is" "belongs to another user (uid 0)" e.txt
assert_eq "one line" 1 "$(wc -l <e.txt)"
as_nobody sh -c ": >$(ctl_base 0)/$p/c.x.stop" 2>/dev/null && fail "nobody created a command in root's channel"
"$FATHOM" ctl "$p" snapshot >o.txt 2>e.txt || fail "root's ctl failed: $(cat e.txt)"
assert_contains "root's process is still recording" "snapshot 1 at" o.txt

start theirs as_nobody
q=$(cat out/theirs)
[ "$(stat -c %u "/proc/$q")" = 65534 ] || fail "the second program does not run as nobody"
for _ in $(seq 200); do [ -d "$(ctl_base 65534)/$q" ] && break; sleep 0.05; done
"$FATHOM" ctl "$q" snapshot >o.txt 2>e.txt || fail "root could not drive nobody's process: $(cat e.txt)"
assert_contains "root drives nobody's process" "snapshot 1 at" o.txt
kill -TERM "$p" "$q"
wait
echo "ok: fathom ctl drives a process of its own user or as root only"
