# samples/python/compact.py: 200,000 orders as objects with a per-instance
# dictionary against four array.array columns of 1, 1, 2 and 4 bytes. The
# resident set the table adds is several times larger as objects; at the
# heap's peak (fathom sees Python's objects: issue 15) the slow way's first
# site is the line that makes the objects, `Order(*field(i))` in
# load_objects (compact.py:29: an instance and its attributes' values are
# allocated when it is made, before Order.__init__ runs), 80 to 200 bytes an
# order, then the prices field makes (compact.py:25, ints beyond the small
# ones); the fast way's first is `col.append(v)` (compact.py:44), 8 bytes an
# order plus what array's growth leaves spare, a tenth of the objects or
# less; the slow way's profile is building its objects (load_objects,
# Order.__init__), several times its four queries. Debian's python3.
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
sample_record slowmem --alloc -- "$py" "$src" slow
sample_record fast --alloc -- "$py" "$src" fast
sample_same_output slow.plain slow.out
sample_same_output slow.plain slowmem.out
sample_same_output fast.plain fast.out
sample_json mem slowmem
sample_json mem fast

# Memory: the sites at the heap's peak, each the line that made its blocks.
make=$(py_line_of "$src" 'return [Order(*field(i)) for i in range(n)]')
fields=$(py_line_of "$src" 'return i * 7 % 16, i * 13 % 4')
append=$(py_line_of "$src" 'col.append(v)')
sample_fact top-sites peak_bytes 2 slowmem.mem.json >top-slow.txt
sample_fact top-sites peak_bytes 1 fast.mem.json >top-fast.txt
note "compact.py, the top sites at the peak: slow $(tr '\n' ';' <top-slow.txt) fast $(cat top-fast.txt)"
read -r at1 _ peak_objects < <(sed -n 1p top-slow.txt)
read -r at2 _ peak_ints < <(sed -n 2p top-slow.txt)
read -r at_fast _ peak_columns <top-fast.txt
assert_eq "compact.py slow: the first site at the peak (the objects)" "compact.py:$make" "$at1"
assert_eq "compact.py slow: the second site at the peak (the prices)" "compact.py:$fields" "$at2"
assert_eq "compact.py fast: the first site at the peak (the columns)" "compact.py:$append" "$at_fast"
assert_ge "compact.py slow: bytes an order in objects at the peak" 80 "$((peak_objects / orders))"
assert_le "compact.py slow: bytes an order in objects at the peak" 200 "$((peak_objects / orders))"
assert_ge "compact.py fast: the columns at the peak (bytes)" $((orders * 8)) "$peak_columns"
assert_le "compact.py fast: the columns at the peak (bytes)" $((orders * 8 * 3 / 2)) "$peak_columns"
assert_ge "compact.py: the objects over the columns at the peak" 10 "$((peak_objects / peak_columns))"

# CPU: the slow way is building the objects and querying them.
"$FATHOM" export -f folded -o slow.folded slow.fdump 2>/dev/null || fail "fathom export failed"
inner=$(py_inner slow.folded compact. compact.main)
load=$(awk '$1 ~ /^compact\.(load_objects|Order\.__init__|field)/ { s += $2 } END { print s + 0 }' <<<"$inner")
query=$(awk '$1 == "compact.query_objects" { print $2 }' <<<"$inner")
all=$(awk '$1 == "all" { print $2 }' <<<"$inner")
note "compact.py slow: loading $load, querying $query of $all periods under main"
assert_ge "compact.py slow: loading and querying, periods of main's" "$((all * 95 / 100))" "$((load + query))"
assert_ge "compact.py slow: building the objects, periods of main's" "$((all / 2))" "$load"
note "compact.py: time slow $t_slow s, fast $t_fast s; at the peak, objects $(sample_bytes "$peak_objects") ($((peak_objects / orders)) bytes an order), columns $(sample_bytes "$peak_columns") ($((peak_columns / orders)))"
