# The agent's paths (issue 12, item 10): FATHOM_MANIFEST naming a FIFO does
# not make the program wait; a device given as FATHOM_OUTPUT is written into,
# never "renamed around" (no NAME.1 beside it); a FIFO without a reader is
# refused with a message; a full disk is reported as "disk full: N bytes
# lost" by the agent and by `fathom record`, not as a killed process.
. "$SRCDIR/tests/lib.sh"

W=$WORKDIR
PROG=(sleep 0.1)
# agent_run NAME VAR=VALUE...: the program under the agent, within 20 s.
agent_run() {
	local name=$1
	shift
	timeout -k 2 20 env LD_PRELOAD="$FATHOM_AGENT" "$@" "${PROG[@]}" >"$W/$name.out" 2>"$W/$name.err"
	local rc=$?
	[ "$rc" = 0 ] || { cat "$W/$name.err" >&2; fail "$name: the program exited $rc (124: it hung)"; }
}

# A FIFO as the manifest: refused at once, with one message.
mkfifo "$W/manifest.fifo"
agent_run manifest-fifo FATHOM_OUTPUT="$W/m.%p.fdump" FATHOM_MANIFEST="$W/manifest.fifo"
assert_contains "manifest FIFO message" "is not a regular file" "$W/manifest-fifo.err"
[ -p "$W/manifest.fifo" ] || fail "the manifest FIFO was replaced"

if [ "$(id -u)" = 0 ]; then
	# A null device of our own (as /dev/null): written into, nothing beside it.
	mknod -m 666 "$W/null" c 1 3 || fail "mknod failed"
	agent_run null FATHOM_OUTPUT="$W/null"
	[ -c "$W/null" ] || fail "the null device is no longer a device"
	[ ! -e "$W/null.1" ] || fail "the agent created $W/null.1 beside the device"
	assert_eq "messages writing into a null device" "" "$(grep fathom: "$W/null.err")"
	# A full device (as /dev/full): written into as asked, so the disk is full.
	mknod -m 666 "$W/full" c 1 7 || fail "mknod failed"
	agent_run full FATHOM_OUTPUT="$W/full"
	[ ! -e "$W/full.1" ] || fail "the agent created $W/full.1 beside the device"
	assert_contains "a full device" "fathom: disk full:" "$W/full.err"
else
	note "not root: no device nodes of our own; device cases skipped"
fi

# A FIFO with no reader: refused, the program runs on. With a reader: the
# dump goes through it.
mkfifo "$W/out.fifo"
agent_run fifo-noreader FATHOM_OUTPUT="$W/out.fifo"
assert_contains "FIFO without a reader" "FIFO with no reader" "$W/fifo-noreader.err"
[ ! -e "$W/out.fifo.1" ] || fail "the agent created out.fifo.1 beside the FIFO"
cat "$W/out.fifo" >"$W/through-fifo.fdump" &
reader=$!
sleep 0.2
agent_run fifo-reader FATHOM_OUTPUT="$W/out.fifo" FATHOM_CPU=0
wait $reader
[ -s "$W/through-fifo.fdump" ] || fail "nothing came through the FIFO"
assert_eq "the dump's magic through the FIFO" "FATHOMDP" "$(head -c 8 "$W/through-fifo.fdump")"

# A full disk: a 200 KB tmpfs, nearly full, under `fathom record`.
mkdir -p "$W/small"
if mount -t tmpfs -o size=200k tmpfs "$W/small" 2>/dev/null; then
	trap 'umount "$W/small"' EXIT
	# Exactly one page left: the start of the dump fits, the rest does not.
	dd if=/dev/zero of="$W/small/page" bs=4k count=1 2>/dev/null
	dd if=/dev/zero of="$W/small/fill" bs=1k count=1000 2>/dev/null
	rm "$W/small/page"
	"$FATHOM" record --alloc -o "$W/small/x.fdump" -- "$PROGS/bench_alloc" 3000000 >"$W/df.out" 2>"$W/df.err"
	rc=$?
	cat "$W/df.err" >&2
	assert_eq "exit status with a full disk" 0 "$rc"
	assert_contains "the agent's line" "fathom: disk full: " "$W/df.err"
	grep 'dump' "$W/df.err" | grep -q '(disk full: [0-9]* bytes lost)' || fail "the summary does not say disk full"
	assert_not_contains "the summary" "killed or crashed" "$W/df.err"
	# What was written reads, up to where the disk filled.
	"$FATHOM" report "$W/small/x.fdump" >/dev/null 2>&1 || fail "the dump cut by the full disk does not read"
else
	note "cannot mount a tmpfs here; full-disk case skipped"
fi
