#!/usr/bin/env bash
# RSS far above the heap (issue 13, item 16): a program that maps 80 MiB
# itself has a heap of almost nothing, and 'fathom mem' must say what the
# heap does not explain; the same 80 MiB from malloc gets no such note.
source "$SRCDIR/tests/lib.sh"
P="$PROGS/lk_mmap"

run "$FATHOM" record -q --alloc --no-cpu -o mmap.fdump -- "$P"
run "$FATHOM" mem mmap.fdump >mmap.txt
assert_contains "the note" "not from malloc (mmap, stacks, code, or another allocator)" mmap.txt
# The figures: RSS peak at least the 80 MiB mapped, and a tiny heap.
line=$(grep "note: RSS peak" mmap.txt)
rss=$(sed -E 's/.*RSS peak ([0-9.]+) MiB.*/\1/' <<<"$line")
assert_le "RSS peak >= 80 MiB" "$rss" 80
assert_contains "heap peak" "heap peak " mmap.txt
run "$FATHOM" mem --json mmap.fdump >mmap.json
rssb=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak"]["rss_bytes"])' mmap.json)
assert_le "JSON rss_bytes >= 80 MiB" "$rssb" $((80 << 20))

run "$FATHOM" record -q --alloc --no-cpu -o heap.fdump -- "$P" heap
run "$FATHOM" mem heap.fdump >heap.txt
assert_not_contains "no note when the heap explains the RSS" "not from malloc" heap.txt
