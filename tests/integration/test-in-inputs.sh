# What the analyzer reads: regular files only (a FIFO, a directory, a device
# or "-" is refused at once with a message naming the file and its type; a
# FIFO used to hang in open), and a dump followed by zeros (a sparse or
# preallocated file) is read up to where its data ends, in seconds, saying
# so (a 20 GB sparse file used to take minutes). A short run of zeros
# between chunks is still skipped as damage.
source "$SRCDIR/tests/lib.sh"

refused() { # refused NEEDLE FILE [CMD...]: each command refuses FILE at once, exit 2
	local needle=$1 f=$2 cmd rc
	shift 2
	for cmd in "${@:-report}"; do
		# shellcheck disable=SC2086
		timeout 10 "$FATHOM" $cmd "$f" >out.txt 2>err.txt
		rc=$?
		[ "$rc" != 124 ] || fail "fathom $cmd $f: hung"
		assert_eq "fathom $cmd $f: exit status" 2 "$rc"
		assert_contains "fathom $cmd $f" "$needle" err.txt
	done
}

mkfifo fifo.fdump
refused "fifo.fdump: a FIFO (named pipe), not a regular file" fifo.fdump report mem "flame --folded" \
	"export --format folded"
mkdir dir.fdump
refused "dir.fdump: a directory, not a regular file" dir.fdump
refused "/dev/null: a character device, not a regular file" /dev/null
refused "-: reading a dump from standard input is not supported" -

# A real dump followed by a 20 GB hole.
run "$PROGS/in_gendump" --modules 2000 --threads 100 dump.fdump >facts.txt
samples=$(sed -n 's/^samples=//p' facts.txt)
size=$(stat -c %s dump.fdump)
cp dump.fdump sparse.fdump
truncate -s 20G sparse.fdump || skip "this file system cannot hold a sparse 20 GB file"
start=$(date +%s)
timeout 60 "$FATHOM" report --json sparse.fdump >report.json 2>err.txt
rc=$?
[ "$rc" != 124 ] || fail "fathom report on a 20 GB sparse file: still reading after 60 s"
assert_eq "fathom report on a sparse file: exit status" 0 "$rc"
assert_le "seconds for a 20 GB sparse file" 10 $(($(date +%s) - start))
assert_contains "where the data ended" \
	"sparse.fdump: data ends at byte $size; the rest ($((20 * 1024 * 1024 * 1024 - size)) bytes) is zeros (a preallocated or sparse file?)" err.txt
assert_eq "samples read" "$samples" "$(python3 -c 'import json; print(json.load(open("report.json"))["samples"])')"

# The same with zeros written out (a preallocated file): not read to the end.
cp dump.fdump zeros.fdump
head -c $((16 << 20)) /dev/zero >>zeros.fdump
timeout 60 "$FATHOM" report zeros.fdump >out.txt 2>err.txt
assert_eq "fathom report on a zero-filled tail: exit status" 0 "$?"
assert_contains "where the data ended" "zeros.fdump: data ends at byte $size; the rest ($((16 << 20)) bytes) " err.txt

# Zeros between two chunks: a short run is damage, skipped; a long one ends
# the data.
run "$PROGS/stress_gendump" --events 20000 --chunk 16384 chunks.fdump >facts.txt
samples=$(sed -n 's/^samples=//p' facts.txt)
# The second chunk starts after the file header (16 bytes), the first
# chunk's header (24) and its payload (payload_len at byte 12 of the header).
len=$(od -An -tu4 -j $((16 + 12)) -N4 chunks.fdump | tr -d ' ')
at=$((16 + 24 + len))
for n in 1000 $((6 << 20)); do
	{ head -c $at chunks.fdump; head -c $n /dev/zero; tail -c +$((at + 1)) chunks.fdump; } >gap.fdump
	timeout 60 "$FATHOM" report --json gap.fdump >report.json 2>err.txt
	assert_eq "fathom report with $n zero bytes after chunk 0: exit status" 0 "$?"
	got=$(python3 -c 'import json; print(json.load(open("report.json"))["samples"])')
	if [ "$n" = 1000 ]; then
		assert_contains "a short run of zeros" "1000 damaged bytes at offset $at after chunk 0 skipped" err.txt
		assert_eq "samples read past a short run of zeros" "$samples" "$got"
	else
		assert_contains "a long run of zeros" "data ends at byte $at; the rest" err.txt
		[ "$got" -lt "$samples" ] || fail "read past $n zero bytes"
	fi
done
