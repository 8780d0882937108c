#!/usr/bin/env bash
# samples/lru: an unbounded cache against a bounded LRU. The slow way's heap
# peak and leaks must be its cache (cache_insert_unbounded), tens of MiB; the
# LRU's must be a small fraction of that, with nothing leaked from the cache.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
prog=$SAMPLES/lru

sample_compare 0 "$prog" slow fast   # time is not this sample's point; printed only
sample_same_output slow.plain fast.plain

sample_record slow --alloc -- "$prog" slow
sample_record fast --alloc -- "$prog" fast
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json mem slow
sample_json mem fast

# 3,000,000 requests sliding one key every 8 requests over a window of 1024:
# about 376,000 distinct keys, each a 288-byte entry that the slow way keeps.
peak_slow=$(sample_fact mem peak.bytes slow.mem.json)
peak_fast=$(sample_fact mem peak.bytes fast.mem.json)
leak_slow=$(sample_fact mem leaks.bytes slow.mem.json)
entries=$(sample_fact site cache_insert_unbounded leaked_blocks slow.mem.json)
assert_ge "lru slow: entries leaked by cache_insert_unbounded" 370000 "$entries"
assert_le "lru slow: entries leaked by cache_insert_unbounded" 380000 "$entries"
assert_ge "lru slow: peak heap (bytes)" $((100 << 20)) "$peak_slow"
assert_ge "lru slow: cache_insert_unbounded's share of the leaks (%)" 90 "$(sample_fact leak-share cache_insert_unbounded slow.mem.json)"
assert_ge "lru slow: cache_insert_unbounded's share of the peak (%)" 90 "$(sample_fact peak-share cache_insert_unbounded slow.mem.json)"
# The LRU allocates its 4096 entries once and frees them at the end.
assert_eq "lru fast: lru_insert calls" 4096 "$(sample_fact site lru_insert calls fast.mem.json)"
assert_eq "lru fast: lru_insert leaked" 0 "$(sample_fact site lru_insert leaked_bytes fast.mem.json)"
assert_le "lru fast: peak heap (bytes)" $((2 << 20)) "$peak_fast"

saving=$(sample_ratio "$peak_slow" "$peak_fast")
assert_ge "lru: peak heap saving" 50 "$saving"
note "lru: peak $(sample_bytes "$peak_slow") vs $(sample_bytes "$peak_fast") (${saving}x less), leaked $(sample_bytes "$leak_slow") in $entries entries vs none; time slow $t_slow s, fast $t_fast s"
