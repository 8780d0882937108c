# Exact allocation stacks when a walk reuses the outer frames of the
# thread's last one (alloc-record.c, outer_intact): stk_paths walks 64
# paths through pa()/pb() (and, for half of them, pc() frames first, so the
# shared outer frames sit at other depths), in an order that changes the
# inner frames at every allocation; each path allocates a size of its own.
# Every path must come out as its own stack, with exactly its own bytes
# (rounds x size), in exact mode with CPU sampling on and off.
source "$SRCDIR/tests/lib.sh"

rounds=1500
for mode in cpu no-cpu; do
	opts=(--alloc)
	[ $mode = no-cpu ] && opts+=(--no-cpu) || opts+=(-F 1000)
	run "$FATHOM" record -q "${opts[@]}" -o p-$mode.fdump -- "$PROGS/stk_paths" $rounds >out.txt
	assert_contains "the program ran" "paths 64 rounds $rounds" out.txt
	run "$FATHOM" export p-$mode.fdump --format folded --weight alloc-bytes -o folded-$mode.txt
	python3 - folded-$mode.txt $rounds <<'PY' || fail "$mode: stacks of stk_paths wrong (see above)"
import sys
rounds = int(sys.argv[2])
seen, bad = {}, 0
for line in open(sys.argv[1]):
    stack, _, w = line.rstrip("\n").rpartition(" ")
    f = stack.split(";")
    if "leaf" not in f:
        continue
    i = f.index("main")
    body = f[i + 1:]
    npc = 0
    while body and body[0] == "pc":
        npc += 1
        body = body[1:]
    # step;X0;step;X1;...;step;X5;leaf (the last step calls leaf in a tail call)
    levels = body[1:-1:2]
    steps = body[0:-1:2]
    q = sum(1 << k for k, x in enumerate(levels) if x == "pb")
    want_pc = (q & 3) + 1 if q & 32 else 0
    ok = (body[-1] == "leaf" and len(levels) == 6 and set(steps) == {"step"}
          and set(levels) <= {"pa", "pb"} and npc == want_pc and q not in seen
          and int(w) == rounds * (1000 + q))
    if not ok:
        bad += 1
        print("wrong stack or bytes:", line.strip(), "(path %d, want %d bytes)" % (q, rounds * (1000 + q)))
    seen[q] = int(w)
missing = sorted(set(range(64)) - set(seen))
if missing:
    print("paths without their stack:", missing)
sys.exit(1 if bad or missing else 0)
PY
done
note "64 paths, each its own stack and bytes, with and without CPU sampling"
