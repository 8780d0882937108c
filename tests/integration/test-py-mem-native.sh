# What a Python program takes from malloc itself, not through the
# interpreter's allocators, is charged to the Python line that called it
# (issue 15): libc's malloc called through ctypes (20 blocks of 1,234,567
# bytes), zlib's deflate state (the RAW domain: 5 blocks a compressobj, 30
# of them) and sqlite3's pages in two threads that released the GIL. The
# program ends with os._exit, so every block is live at exit: the leaked
# stacks through libffi and libz have exact counts at their
# lines and none lacks its Python frames; no site is in libffi, libz or
# libsqlite3. Exact mode for every Python here; sampled mode with Debian's.
source "$SRCDIR/tests/integration/py/py-lib.sh"
PROG="$PYDIR/native_alloc.py"
GRAB=$(grep -n "# grab's line" "$PROG" | cut -d: -f1)
SQUEEZE=$(grep -n "# squeezers' line" "$PROG" | cut -d: -f1)
STORE=$(grep -n "# store's line" "$PROG" | cut -d: -f1)

# check MEM.json: "grab blocks/bytes, deflate blocks, stacks without a
# Python frame, sites in the C libraries, top site by bytes, calls at
# store's line".
check() {
	/usr/bin/python3 - "$1" "$GRAB" "$SQUEEZE" "$STORE" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
grab, squeeze, store = (int(a) for a in sys.argv[2:5])
def line(frames):
    """The innermost Python frame's line in native_alloc.py (0: none)."""
    for f in frames:
        if (f.get("file") or "").endswith("native_alloc.py"):
            return f["line"]
    return 0
g = [0, 0]
z = bare = 0
for s in d["leaks"]["stacks"]:
    mods = [f.get("module") or "" for f in s["frames"]]
    at = line(s["frames"])
    if any(m.startswith("libffi") for m in mods):
        bare += not at
        if at == grab:
            g[0] += s["blocks"]
            g[1] += s["bytes"]
    if any(m.startswith("libz.") for m in mods):
        bare += not at
        if at == squeeze:
            z += s["blocks"]
clib = sum(1 for s in d["sites"] if (s.get("module") or "").startswith(("libffi", "libz.", "libsqlite3")))
top = max(d["sites"], key=lambda s: s["bytes"])
calls = sum(s["calls"] for s in d["sites"] if (s.get("file") or "").endswith("native_alloc.py") and s["line"] == store)
print("%d/%d" % tuple(g), z, bare, clib, "%s:%d" % (top["function"], top["line"]), calls)
PY
}

pys=$(py_all) || exit 77 # no usable /usr/bin/python3: py_base said why
for py in $pys; do
	v=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
	note "== $py ($v)"
	"$FATHOM" record -q --alloc -o n-$v.fdump -- "$py" "$PROG" 20 30 1000 >out.txt 2>err.txt ||
		{ cat err.txt >&2; fail "fathom record failed"; }
	"$FATHOM" mem --no-symbols --json --top 0 n-$v.fdump >mem.json 2>err.txt || fail "fathom mem failed"
	read -r grab deflate bare clib top calls < <(check mem.json)
	note "grab $grab, deflate blocks $deflate, stacks without Python frames $bare, C library sites $clib, top $top, store calls $calls"
	assert_eq "libc malloc through ctypes at grab's line, blocks/bytes ($v)" "20/$((20 * 1234567))" "$grab"
	assert_eq "zlib's deflate state at squeezers' line, blocks ($v)" 150 "$deflate"
	assert_eq "leaked native stacks without their Python frames ($v)" 0 "$bare"
	assert_eq "sites in libffi, libz or libsqlite3 ($v)" 0 "$clib"
	assert_eq "the top site by bytes ($v)" "native_alloc.grab:$GRAB" "$top"
	assert_ge "calls at store's line ($v)" 2000 "$calls"
done

# Sampled mode: a block of 1.2 MB is always sampled at 64 KiB.
py=$(py_base)
"$FATHOM" record -q --alloc-sample 64k -o s.fdump -- "$py" "$PROG" 20 30 1000 >out.txt 2>err.txt ||
	{ cat err.txt >&2; fail "fathom record --alloc-sample failed"; }
"$FATHOM" mem --no-symbols --json --top 0 s.fdump >mem.json 2>err.txt || fail "fathom mem (sampled) failed"
read -r grab deflate bare clib top calls < <(check mem.json)
note "sampled: grab $grab, stacks without Python frames $bare, C library sites $clib, top $top"
assert_eq "sampled: grab's blocks" 20 "${grab%/*}"
assert_eq "sampled: leaked native stacks without their Python frames" 0 "$bare"
assert_eq "sampled: sites in libffi, libz or libsqlite3" 0 "$clib"
assert_eq "sampled: the top site by bytes" "native_alloc.grab:$GRAB" "$top"
