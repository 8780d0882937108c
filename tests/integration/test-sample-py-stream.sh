# samples/python/stream.py: a 2 MiB CSV loaded whole into lists against a
# generator pipeline. The slow way's heap peak is its two lists at their
# lines (fathom sees Python's objects: issue 15): the records
# (parse_all, stream.py:30) first, at least 3 times the lines (load_whole,
# stream.py:25), which are at least twice the input; the peak is 15 times
# the streamed way's, whose lines in stream.py hold nothing at its peak (one
# line at a time); the resident set is tens of times the input in the slow
# way; the streamed way's samples are in its generators. Debian's python3.
source "$SRCDIR/tests/integration/py/prog-lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
py=$(py_base) || exit 77   # py_base said why
src=$SRCDIR/samples/python/stream.py
# A function, not a command line: sample_compare splits its arguments on
# spaces (and its locals would shadow a variable named prog).
stream() { "$py" "$src" "$@"; }

run stream gen input.csv 2
size=$(stat -c %s input.csv)
assert_ge "stream.py: input size" $((2 << 20)) "$size"

sample_compare 0 stream "slow input.csv" "fast input.csv"   # time is printed only
sample_same_output slow.plain fast.plain
assert_contains "stream.py output" "centre" slow.plain

# The resident set of each way, plainly.
rss() { /usr/bin/time -f %M -o rss.txt "$py" "$src" "$1" input.csv >/dev/null || fail "$1 run failed"; echo $(($(cat rss.txt) << 10)); }
rss_slow=$(rss slow)
rss_fast=$(rss fast)
assert_ge "stream.py: the slow way's resident set over the streamed way's, in inputs" 10 \
	"$(awk -v s="$rss_slow" -v f="$rss_fast" -v n="$size" 'BEGIN { printf "%.1f\n", (s - f) / n }')"

sample_record slow --alloc -- "$py" "$src" slow input.csv
sample_record fast --alloc -- "$py" "$src" fast input.csv
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json mem slow
sample_json mem fast
peak_slow=$(sample_fact mem peak.bytes slow.mem.json)
peak_fast=$(sample_fact mem peak.bytes fast.mem.json)
assert_ge "stream.py slow: the heap's peak, in inputs" 15 "$((peak_slow / size))"
assert_ge "stream.py: the slow way's peak over the streamed way's" 15 "$((peak_slow / peak_fast))"

# The slow way's peak at its lines: the records, then the lines.
load=$(py_line_of "$src" 'return f.read().splitlines()')
parse=$(py_line_of "$src" 'return [line.split(",") for line in lines]')
sample_fact top-sites peak_bytes 2 slow.mem.json >top.txt
note "stream.py slow, the top sites at the peak: $(tr '\n' ';' <top.txt)"
read -r at1 _ peak_parse < <(sed -n 1p top.txt)
read -r at2 _ peak_load < <(sed -n 2p top.txt)
assert_eq "stream.py slow: the first site at the peak (the records)" "stream.py:$parse" "$at1"
assert_eq "stream.py slow: the second site at the peak (the lines)" "stream.py:$load" "$at2"
assert_ge "stream.py slow: the lines at the peak, in inputs" 2 "$((peak_load / size))"
assert_ge "stream.py slow: the records over the lines at the peak" 3 "$((peak_parse / peak_load))"
held_fast=$(sample_fact file-sites stream.py peak_bytes fast.mem.json)
assert_le "stream.py fast: what its lines hold at the peak (bytes)" 65536 "$held_fast"

# CPU: the streamed way's samples are in its generators, each item pulled
# through parse_each from read_lines.
"$FATHOM" export -f folded -o fast.folded fast.fdump 2>/dev/null || fail "fathom export failed"
gens=$(py_weight fast.folded 'stream\.sum_stream;([^;]+;)*stream\.parse_each(;|$|;)')
all=$(py_weight fast.folded 'stream\.sum_stream(;|$)')
assert_ge "stream.py fast: periods in the generators, of sum_stream's $all" "$((all / 4))" "$gens"

note "stream.py: heap peak $(sample_bytes "$peak_slow") vs $(sample_bytes "$peak_fast") (records $(sample_bytes "$peak_parse"), lines $(sample_bytes "$peak_load")); resident $(sample_bytes "$rss_slow") vs $(sample_bytes "$rss_fast") on $(sample_bytes "$size") of input; time slow $t_slow s, fast $t_fast s"
rm -f input.csv
