# samples/python/compact.py: 200,000 orders as objects with a per-instance
# dictionary against four array.array columns of 1, 1, 2 and 4 bytes. Facts
# that hold while fathom sees Python's memory only through malloc (objects
# of 512 bytes or less live in pymalloc's arenas, which malloc never sees):
# the resident set the table adds is several times larger as objects; the
# columns are malloc's peak in the fast way, 8 bytes an order plus what
# array's growth leaves spare; the slow way's profile is building its
# objects (load_objects, Order.__init__), several times its four queries.
# Debian's python3.
source "$SRCDIR/tests/integration/py/prog-lib.sh"
source "$SRCDIR/tests/integration/sample-lib.sh"
py=$(py_base) || exit 77   # py_base said why
src=$SRCDIR/samples/python/compact.py
orders=200000   # the sample's default, named here because the facts count on it
# A function, not a command line: sample_compare splits its arguments on
# spaces (and its locals would shadow a variable named prog).
compact() { "$py" "$src" "$@"; }

sample_compare 0 compact slow fast   # time is printed only
sample_same_output slow.plain fast.plain
assert_contains "compact.py output" "region 3: revenue" slow.plain

# What the table adds to the resident set, over the interpreter alone.
rss() { /usr/bin/time -f %M -o rss.txt "$@" >/dev/null || fail "run failed: $*"; echo $(($(cat rss.txt) << 10)); }
base=$(rss "$py" -c 'from array import array')
add_slow=$(($(rss "$py" "$src" slow) - base))
add_fast=$(($(rss "$py" "$src" fast) - base))
per_slow=$((add_slow / orders)) per_fast=$((add_fast / orders))
note "compact.py: the table adds $(sample_bytes "$add_slow") as objects ($per_slow bytes an order), $(sample_bytes "$add_fast") as columns ($per_fast)"
assert_ge "compact.py: resident bytes an order as objects" 100 "$per_slow"
assert_le "compact.py: resident bytes an order as columns" 20 "$per_fast"

sample_record slow -F 999 -- "$py" "$src" slow
sample_record fast --alloc -- "$py" "$src" fast
sample_same_output slow.plain slow.out
sample_same_output fast.plain fast.out
sample_json mem fast
peak_fast=$(sample_fact mem peak.bytes fast.mem.json)
assert_ge "compact.py fast: malloc's peak holds the columns (bytes)" $((orders * 8)) "$peak_fast"
assert_le "compact.py fast: malloc's peak (bytes)" $((orders * 8 * 3 / 2 + (1 << 20))) "$peak_fast"

# CPU: the slow way is building the objects and querying them.
"$FATHOM" export -f folded -o slow.folded slow.fdump 2>/dev/null || fail "fathom export failed"
inner=$(py_inner slow.folded compact. compact.main)
load=$(awk '$1 ~ /^compact\.(load_objects|Order\.__init__|field)/ { s += $2 } END { print s + 0 }' <<<"$inner")
query=$(awk '$1 == "compact.query_objects" { print $2 }' <<<"$inner")
all=$(awk '$1 == "all" { print $2 }' <<<"$inner")
note "compact.py slow: loading $load, querying $query of $all periods under main"
assert_ge "compact.py slow: loading and querying, periods of main's" "$((all * 95 / 100))" "$((load + query))"
assert_ge "compact.py slow: building the objects, periods of main's" "$((all / 2))" "$load"
note "compact.py: time slow $t_slow s, fast $t_fast s; fast malloc peak $(sample_bytes "$peak_fast")"
