# Every file a command writes with -o (record, flame, export, view, diff):
# a stranger's symbolic link or FIFO planted in a shared directory such as /tmp
# is refused, never written through; a failed command leaves an existing file
# as it was; devices named by their own path, descriptors (/dev/stdout) and the
# user's own links keep working. Rules: docs/USAGE.md, "Output files".
. "$SRCDIR/tests/lib.sh"

[ "$(id -u)" = 0 ] || skip "not root: cannot plant a file owned by another user"
id nobody >/dev/null 2>&1 || skip "no user 'nobody'"

run "$FATHOM" record -q -o cpu.fdump -- "$PROGS/stress_recursion" 100 1 >/dev/null
cp cpu.fdump base.fdump

# out NAME ARGS...: runs fathom ARGS (with -o already in them) under a
# timeout (a FIFO without a reader would block an open for writing), its
# status in $rc and its stderr in NAME.err.
out() {
	local name=$1
	shift
	timeout 20 "$FATHOM" "$@" >"$name.out" 2>"$name.err" </dev/null
	rc=$?
	[ "$rc" != 124 ] || fail "fathom $*: hung (writing into a FIFO?)"
}
# Each command, with its -o value as the word OUT.
cmds=(
	"record -q -o OUT -- true"
	"flame cpu.fdump -o OUT"
	"flame --folded cpu.fdump -o OUT"
	"export --format pprof cpu.fdump -o OUT"
	"export --format speedscope cpu.fdump -o OUT"
	"view cpu.fdump -o OUT"
	"view --data-only cpu.fdump -o OUT"
	"diff base.fdump cpu.fdump -o OUT"
)
# each DEST CHECK: runs every command with OUT=DEST, then CHECK (a function
# given the command's name and status).
each() {
	local dest=$1 check=$2 c words w args
	for c in "${cmds[@]}"; do
		read -ra words <<<"$c"
		args=()
		for w in "${words[@]}"; do [ "$w" = OUT ] && args+=("$dest") || args+=("$w"); done
		out cmd "${args[@]}"
		"$check" "$c" "$rc"
	done
}

# --- a shared sticky directory, as /tmp, where "nobody" planted names -----
S=$WORKDIR/shared
mkdir -p "$S" && chmod 1777 "$S"
mkfifo "$S/fifo" && chown nobody "$S/fifo"
echo precious >"$S/victim"
ln -s "$S/fifo" "$S/to-fifo" && chown -h nobody "$S/to-fifo"
ln -s victim "$S/to-file" && chown -h nobody "$S/to-file"
ln -s "$S/nothing-yet" "$S/dangling" && chown -h nobody "$S/dangling"

refused() {
	[ "$2" != 0 ] || fail "fathom $1 -o $dest: accepted a name another user planted"
	grep -q "another user" cmd.err || { cat cmd.err >&2; fail "fathom $1 -o $dest: no reason given"; }
}
for dest in "$S/to-fifo" "$S/to-file" "$S/dangling" "$S/fifo"; do
	each "$dest" refused
done
[ -p "$S/fifo" ] || fail "the planted FIFO was replaced"
assert_eq "the file behind a planted link" precious "$(cat "$S/victim")"
[ ! -e "$S/nothing-yet" ] || fail "a file was created through a planted dangling link"
for l in to-fifo to-file dangling; do [ -L "$S/$l" ] || fail "the planted link $l was replaced"; done
# The user's own link there is followed (below, in a private directory, too).
ln -s victim "$S/mine"
out own flame cpu.fdump -o "$S/mine"
assert_eq "flame -o own link in a shared directory" 0 "$rc"
grep -q '<svg' "$S/victim" || fail "flame -o own link: the file it points to was not written"

# --- the user's own files -------------------------------------------------
P=$WORKDIR/private
mkdir -p "$P"
# A link of the user's to a regular file: the file is written, the link stays.
followed() {
	[ "$2" = 0 ] || { cat cmd.err >&2; fail "fathom $1 -o own link: exit $2"; }
	[ -L "$P/link" ] || fail "fathom $1 -o own link: the link was replaced by a $(stat -c %F "$P/link")"
	[ -s "$P/target" ] && ! grep -qx old "$P/target" || fail "fathom $1 -o own link: the target was not written"
	echo old >"$P/target"
}
echo old >"$P/target"
ln -s target "$P/link"
each "$P/link" followed
# A link of the user's to a FIFO is refused: a device or FIFO is written into
# only when named by its own path.
mkfifo "$P/fifo"
ln -s fifo "$P/to-fifo"
to_fifo() {
	[ "$2" != 0 ] || fail "fathom $1 -o link-to-fifo: accepted"
	assert_contains "fathom $1 -o link to a FIFO" "give the device's own path" cmd.err
}
each "$P/to-fifo" to_fifo
[ -p "$P/fifo" ] && [ -L "$P/to-fifo" ] || fail "the FIFO or the link to it was replaced"

# A failed command leaves an existing output as it was (and no temporary).
echo keep >"$P/keep"
chmod 640 "$P/keep"
kept() {
	[ "$2" != 0 ] || fail "fathom $1: expected to fail"
	assert_eq "fathom $1: the existing -o file" keep "$(cat "$P/keep")"
}
out flame-tid flame --tid 99999 cpu.fdump -o "$P/keep"
kept "flame --tid 99999" "$rc"
out export-tid export --format pprof --tid 99999 cpu.fdump -o "$P/keep"
kept "export --tid 99999" "$rc"
out export-weight export --format folded --weight temp-calls cpu.fdump -o "$P/keep"
kept "export --weight temp-calls" "$rc"
echo junk >bad.fdump
out view-bad view bad.fdump -o "$P/keep"
kept "view of a bad dump" "$rc"
out record-none record -q -o "$P/keep" -- ./no-such-command
kept "record of a missing command" "$rc"
out diff-bad diff base.fdump bad.fdump -o "$P/keep"
kept "diff of a bad dump" "$rc"
# A successful one replaces it, keeping the user's permissions.
out flame-ok flame --folded cpu.fdump -o "$P/keep"
assert_eq "flame -o existing: status" 0 "$rc"
grep -q '^all;' "$P/keep" || grep -q ';' "$P/keep" || fail "flame -o existing: not replaced"
assert_eq "mode of a replaced file" 640 "$(stat -c %a "$P/keep")"
leftover=$(find "$P" "$S" -name '*fathom-tmp*')
[ -z "$leftover" ] || fail "temporaries left behind: $leftover"

# --- devices and descriptors named explicitly -----------------------------
devnull() { [ "$2" = 0 ] || { cat cmd.err >&2; fail "fathom $1 -o /dev/null: exit $2"; }; }
each /dev/null devnull
[ -c /dev/null ] || fail "/dev/null is no longer a device"
# -o /dev/stdout writes into the descriptor as it is: an appending redirection
# keeps what was there.
echo first-line >log.txt
"$FATHOM" flame --folded cpu.fdump -o /dev/stdout >>log.txt 2>err.txt || fail "flame -o /dev/stdout failed"
assert_eq "first line kept by -o /dev/stdout >>" first-line "$(head -1 log.txt)"
[ "$(wc -l <log.txt)" -gt 1 ] || fail "flame -o /dev/stdout wrote nothing"
"$FATHOM" export --format speedscope cpu.fdump -o /dev/fd/3 3>fd3.json 2>err.txt || fail "export -o /dev/fd/3 failed"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' fd3.json || fail "export -o /dev/fd/3: not JSON"
exit 0
