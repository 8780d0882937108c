#!/usr/bin/env bash
# All of memory (issue 18, items 3 and 5): a program that maps 256 MiB
# anonymously and touches half, maps a file, grows a mapping with mremap,
# mallocs 64 MiB (above glibc's mmap threshold), maps a stack with a guard
# and moves the break (sbrk, brk). fathom mem must show 256 MiB mapped at
# the peak, an RSS peak of about 128 MiB, the sites by function, the file
# apart with its path, the mremap'd mapping at its grown size, the stack,
# guard and break apart, and the large malloc in the heap only.
source "$SRCDIR/tests/lib.sh"
P="$PROGS/mmap_mix"

head -c 3000000 /dev/zero >data.bin
run "$FATHOM" record -q --alloc --no-cpu -o mix.fdump -- "$P" "$PWD/data.bin"
run "$FATHOM" mem mix.fdump >mem.txt
cat mem.txt >&2
assert_contains "the section" "Memory: heap, mappings and RSS" mem.txt
mapped=$(awk '$1 == "mapped" { print $2, $3; exit }' mem.txt)
assert_eq "mapped peak" "256 MiB" "$mapped"
rss=$(awk '$1 == "RSS" { v = $2; u = $3; if (u == "GiB") v *= 1024; print v; exit }' mem.txt)
assert_ge "RSS peak (half of 256 MiB touched)" 125 "$rss"
assert_le "RSS peak (half of 256 MiB touched)" 200 "$rss"
heap=$(awk '$1 == "heap" && $2 ~ /^[0-9]/ { print $2, $3; exit }' mem.txt)
assert_eq "heap peak: the 64 MiB malloc" "64.0 MiB" "$heap"
# The sites, by function.
grep -E '^ +256 MiB +0 B +1 +anonymous +map_big ' mem.txt >/dev/null || fail "map_big's 256 MiB site"
# mremap followed: 1 MiB grown to 64 MiB, still mapped at exit.
grep -E '^ +64.0 MiB +64.0 MiB +1 +anonymous +grow_map ' mem.txt >/dev/null || fail "grow_map's 64 MiB after mremap"
# The file apart, with its path.
grep -E '^ +2.86 MiB +2.86 MiB +1 +file +map_file ' mem.txt >/dev/null || fail "map_file's file site"
grep -E "^ +2.86 MiB +2.86 MiB +1 +$PWD/data.bin\$" mem.txt >/dev/null || fail "the file's path"
# The large malloc is heap only: two anonymous maps (map_big, grow_map), none of the allocator's.
anon=$(awk '$1 == "anonymous" && $2 ~ /^[0-9]/ { print $2, $3, $6; exit }' mem.txt)
assert_eq "anonymous: max and maps" "256 MiB 2" "$anon"
assert_not_contains "no mapping of the heap" "big_malloc (mmap_mix.c" <(sed -n '/Top mmap sites/,/Files mapped/p' mem.txt)
# The stack and its guard told apart (the stack was mapped over the guard's
# upper 1 MiB: 4 KiB of guard left), and the break moved by sbrk and brk.
grep -E '^ +1.00 MiB +1.00 MiB +1 +stack +map_stack ' mem.txt >/dev/null || fail "map_stack's stack site"
grep -E '^ +1.00 MiB +4.00 KiB +1 +guard +map_stack ' mem.txt >/dev/null || fail "map_stack's guard site"
grep -E '^ +break +4.00 MiB +3.00 MiB +1$' mem.txt >/dev/null || fail "the break's growth by kind"
grep -E '^ +4.00 MiB +3.00 MiB +1 +break +grow_brk ' mem.txt >/dev/null || fail "grow_brk's site (sbrk up 4 MiB, brk down 1 MiB)"
# FATHOM_MMAP=0: no mappings recorded.
FATHOM_MMAP=0 run "$FATHOM" record -q --alloc --no-cpu -o off.fdump -- "$P" "$PWD/data.bin"
run "$FATHOM" mem off.fdump >off.txt
assert_contains "off" "no mappings seen" off.txt
# RSS that neither the heap nor the mappings fathom saw explain: none in
# the run above (its mappings hold it), and the 96 MiB a program maps by the
# system call itself (no hook sees it), with the one-line hint.
assert_contains "the figure" "RSS not explained by the heap or mappings fathom saw: 0 B at the RSS peak" mem.txt
assert_not_contains "no hint when the RSS is explained" "hint: allocator overhead" mem.txt
run "$FATHOM" record -q --alloc --no-cpu -o behind.fdump -- "$P" --behind
run "$FATHOM" mem behind.fdump >behind.txt
grep 'RSS not explained' behind.txt >&2
unexplained=$(sed -nE 's/.*RSS not explained by the heap or mappings fathom saw: at least ([0-9.]+) MiB .*/\1/p' behind.txt)
[ -n "$unexplained" ] || { cat behind.txt >&2; fail "no figure of the RSS not explained"; }
assert_ge "RSS not explained (96 MiB mapped behind the hooks)" 90 "$unexplained"
assert_le "RSS not explained (96 MiB mapped behind the hooks)" 110 "$unexplained"
assert_contains "the hint" "hint: allocator overhead and fragmentation" behind.txt
