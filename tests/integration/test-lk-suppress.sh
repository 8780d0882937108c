#!/usr/bin/env bash
# Leaks that are not the program's to fix (issue 13, item 9): CI.md's
# 'fathom check --max-leaked 0' passes for a program that writes to stdout,
# because the agent lets glibc free its one-time allocations at exit and the
# analyzer suppresses what is left of them; the program's own
# __lsan_default_suppressions and --suppressions files are honoured; a real
# leak still fails, and every report says what was suppressed.
source "$SRCDIR/tests/lib.sh"
P="$PROGS/lk_leaks"

"$P" >plain.out || fail "lk_leaks failed"
run "$FATHOM" record -q --alloc --no-cpu -o clean.fdump -- "$P" >agent.out
cmp -s plain.out agent.out || fail "the program's output changed under the agent"

# The CI recipe: no leak but the embedded suppression's 4 blocks of 64 bytes.
rc=0; "$FATHOM" check clean.fdump --max-leaked 0 >check.txt 2>&1 || rc=$?
assert_eq "check --max-leaked 0 on a program that prints" 0 "$rc"
assert_contains "check says what it suppressed" "suppressed: 256 B in 4 blocks" check.txt
run "$FATHOM" mem --json clean.fdump >mem.json
j() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
assert_eq "leaked blocks" 0 "$(j mem.json 'j["leaks"]["blocks"]')"
assert_eq "suppressed by the program's own pattern" "lk_cache_fill 4 256" \
	"$(j mem.json '" ".join("%s %d %d" % (s["pattern"], s["blocks"], s["bytes"]) for s in j["suppressed"]["patterns"])')"
assert_contains "the pattern's source is the program" "lk_leaks" mem.json
# __libc_freeres ran: the stdout buffer was freed, not merely suppressed.
run "$FATHOM" mem --no-default-suppressions clean.fdump >nodef.txt
assert_contains "without any suppression only the cache is left" "Leaked at exit  256 B in 4 blocks" nodef.txt

# A real leak fails, and is named; a suppressions file lets it through.
run "$FATHOM" record -q --alloc --no-cpu -o leak.fdump -- "$P" leak >/dev/null
rc=0; "$FATHOM" check leak.fdump --max-leaked 0 >check2.txt 2>&1 || rc=$?
assert_eq "a real leak fails" 1 "$rc"
assert_contains "200 bytes" "Leaked bytes 200 B exceeds" check2.txt
printf '# known\n\nleak:lk_real_*\ncalled_from_lib:libfoo.so\n' >supp.txt
rc=0; "$FATHOM" check leak.fdump --max-leaked 0 --suppressions supp.txt >check3.txt 2>&1 || rc=$?
assert_eq "suppressed by the file" 0 "$rc"
assert_contains "counted" "suppressed: 456 B in 5 blocks" check3.txt
run "$FATHOM" mem --suppressions supp.txt leak.fdump >mem3.txt
assert_contains "mem names the file's pattern" "leak:lk_real_*  (supp.txt)" mem3.txt
# Anchors: ^lk_real_leak$ matches, ^real does not.
printf 'leak:^real\n' >nomatch.txt
rc=0; "$FATHOM" check leak.fdump --max-leaked 0 --suppressions nomatch.txt >/dev/null 2>&1 || rc=$?
assert_eq "an anchored pattern that does not match" 1 "$rc"
printf 'leak:^lk_real_leak$\n' >exact.txt
run "$FATHOM" check leak.fdump --max-leaked 0 --suppressions exact.txt >/dev/null
# Bad input.
rc=0; "$FATHOM" check leak.fdump --max-leaked 0 --suppressions missing.txt 2>err.txt >/dev/null || rc=$?
assert_eq "missing suppressions file" 2 "$rc"
assert_contains "names it" "missing.txt" err.txt
printf 'lk_real_leak\n' >bad.txt
rc=0; "$FATHOM" mem --suppressions bad.txt leak.fdump 2>err2.txt >/dev/null || rc=$?
assert_eq "a line without a type" 2 "$rc"
assert_contains "names the line" "bad.txt:1:" err2.txt

# A thread still running at exit: glibc's buffers must not be freed under it,
# and the default suppressions account for the stdout buffer instead.
run "$FATHOM" record -q --alloc --no-cpu -o thread.fdump -- "$P" thread >/dev/null
run "$FATHOM" check thread.fdump --max-leaked 0 >check4.txt
run "$FATHOM" mem --json thread.fdump >mem4.json
assert_eq "stdio buffer suppressed by default" "^_IO_file_doallocate$ default 4096" \
	"$(j mem4.json '" ".join("%s %s %d" % (s["pattern"], s["source"], s["bytes"]) for s in j["suppressed"]["patterns"] if "_IO" in s["pattern"])')"
# A fork child that leaves by _exit must not flush what its parent had
# buffered (nothing is freed there); one that leaves by exit writes once.
"$P" fork >plain-fork.out || fail "lk_leaks fork failed"
run "$FATHOM" record -q --alloc --no-cpu -o fork.fdump -- "$P" fork >agent-fork.out
cmp -s plain-fork.out agent-fork.out || { diff plain-fork.out agent-fork.out >&2; fail "fork: output changed"; }
assert_eq "the exit child's line, once" 1 "$(grep -o 'child 1 unflushed' agent-fork.out | wc -l)"
assert_not_contains "the _exit child's line" "child 0" agent-fork.out
run "$FATHOM" check fork.fdump* --max-leaked 0 >/dev/null

# FATHOM_FREERES=0 leaves glibc's memory alone, and the defaults cover it too.
FATHOM_FREERES=0 run "$FATHOM" record -q --alloc --no-cpu -o nofree.fdump -- "$P" >/dev/null
run "$FATHOM" check nofree.fdump --max-leaked 0 >/dev/null
run "$FATHOM" mem --no-default-suppressions nofree.fdump >nofree.txt
assert_contains "the stdout buffer is there without freeres" "_IO_file_doallocate" nofree.txt
