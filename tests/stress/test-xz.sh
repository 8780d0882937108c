# Stress: xz -T2 compressing a generated 16 MB file in 1 MiB blocks, so both
# of its worker threads run; the compressed bytes (stdout) must be identical.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

make_input() {
	# Compressible but not trivial: numbered lines with a pseudo-random field.
	awk 'BEGIN { x = 1; for (i = 0; i < 400000; i++) { x = (x * 1103515245 + 12345) % 2147483648; printf "line %d value %d %s\n", i, x % 1000, (i % 3 ? "alpha" : "beta") } }' >"$1/input.txt"
}
stress_run xz --setup make_input -- xz -T2 --block-size=1MiB -3 -c input.txt
[ "$(stat -c %s "$STRESS_DIR/plain.out")" -gt 100000 ] || fail "xz wrote less than expected"
xz -dc "$STRESS_DIR/rec.out" | cmp -s - "$STRESS_DIR/rec/input.txt" || fail "xz output recorded under fathom does not decompress to the input"
