# samples/python/stream.py: a 2 MiB CSV loaded whole into lists against a
# generator pipeline. Facts that hold while fathom sees Python's memory only
# through malloc (objects of 512 bytes or less live in pymalloc's arenas):
# the slow way's malloc peak holds the whole input (the file read as one
# string), the streamed way's stays under 2 MiB; the resident set (the
# objects themselves: a list of lists of strings) is tens of times the
# input in the slow way; the streamed way's samples are in its generators.
# Debian's python3.
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
assert_ge "stream.py slow: malloc's peak holds the whole input (bytes)" "$size" "$peak_slow"
assert_le "stream.py fast: malloc's peak (bytes)" $((2 << 20)) "$peak_fast"

# CPU: the streamed way's samples are in its generators, each item pulled
# through parse_each from read_lines.
"$FATHOM" export -f folded -o fast.folded fast.fdump 2>/dev/null || fail "fathom export failed"
gens=$(py_weight fast.folded 'stream\.sum_stream;([^;]+;)*stream\.parse_each(;|$|;)')
all=$(py_weight fast.folded 'stream\.sum_stream(;|$)')
assert_ge "stream.py fast: periods in the generators, of sum_stream's $all" "$((all / 4))" "$gens"

note "stream.py: malloc peak $(sample_bytes "$peak_slow") vs $(sample_bytes "$peak_fast"); resident $(sample_bytes "$rss_slow") vs $(sample_bytes "$rss_fast") on $(sample_bytes "$size") of input; time slow $t_slow s, fast $t_fast s"
rm -f input.csv
