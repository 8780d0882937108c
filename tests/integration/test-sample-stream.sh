#!/usr/bin/env bash
# samples/stream: loading a 32 MiB CSV whole against reading it line by line.
# The slow way's heap peak must be the input (load_whole_file, split_lines),
# the streamed way's a few KiB: orders of magnitude apart.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
prog=$SAMPLES/stream

run "$prog" gen input.csv 32
size=$(stat -c %s input.csv)
assert_ge "stream: input size" $((32 << 20)) "$size"

sample_compare 0 "$prog" "slow input.csv" "fast input.csv"   # time is printed only
sample_same_output slow.plain fast.plain
assert_contains "stream output" " 0 malformed" slow.plain

sample_record slow --alloc -- "$prog" slow input.csv
sample_record fast --alloc -- "$prog" fast input.csv
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json mem slow
sample_json mem fast

peak_slow=$(sample_fact mem peak.bytes slow.mem.json)
peak_fast=$(sample_fact mem peak.bytes fast.mem.json)
assert_ge "stream slow: peak heap (bytes) holds the whole input" "$size" "$peak_slow"
load=$(sample_fact peak-share load_whole_file slow.mem.json)
split=$(sample_fact peak-share split_lines slow.mem.json)
assert_ge "stream slow: load_whole_file + split_lines share of the peak (%)" 95 "$(awk -v a="$load" -v b="$split" 'BEGIN { print a + b }')"
assert_le "stream fast: peak heap (bytes)" $((64 << 10)) "$peak_fast"
assert_eq "stream fast: load_whole_file calls" 0 "$(sample_fact site load_whole_file calls fast.mem.json)"

saving=$(sample_ratio "$peak_slow" "$peak_fast")
assert_ge "stream: peak heap saving" 1000 "$saving"
note "stream: peak $(sample_bytes "$peak_slow") vs $(sample_bytes "$peak_fast") (${saving}x less) on $(sample_bytes "$size") of input; time slow $t_slow s, fast $t_fast s"
rm -f input.csv   # 32 MiB that no one needs after the test
