#!/usr/bin/env bash
# Every function of the agent has unwind information (CFI), so that a CPU
# sample that lands in it can be unwound to the program's frame that called
# into the agent and charged there (issue 13, item 5: no agent frame in the
# profile). The hand-written syscall() stub had none: a sample in it showed
# as a root frame "syscall (libfathom.so)".
source "$SRCDIR/tests/lib.sh"
command -v readelf >/dev/null && command -v nm >/dev/null || skip "readelf or nm is not installed (binutils)"

nm -S --defined-only "$FATHOM_AGENT" | awk 'toupper($3) == "T" && $2 != "" { print $1, $2, $4 }' >funcs.txt
readelf -wF "$FATHOM_AGENT" | sed -n 's/.* FDE .*pc=\([0-9a-f]*\)\.\.\([0-9a-f]*\).*/\1 \2/p' >fdes.txt
[ -s funcs.txt ] && [ -s fdes.txt ] || fail "no functions or no FDEs read from $FATHOM_AGENT"
python3 - <<'PY' || fail "agent functions without CFI (see above)"
import sys
fdes = sorted((int(a, 16), int(b, 16)) for a, b in (l.split() for l in open("fdes.txt")))
bad = []
for line in open("funcs.txt"):
    addr, size, name = line.split()
    a, n = int(addr, 16), int(size, 16)
    if n == 0:
        continue
    if not any(lo <= a < hi for lo, hi in fdes):
        bad.append(name)
print("# %d functions, %d FDEs" % (sum(1 for _ in open("funcs.txt")), len(fdes)), file=sys.stderr)
if bad:
    print("without CFI:", " ".join(sorted(bad)), file=sys.stderr)
    sys.exit(1)
PY
