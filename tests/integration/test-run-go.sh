# Issue 13 item 14: a Go program (its runtime owns its threads' signals and
# signal stacks) gave 0 samples, "truncated (killed?)" and a wrong -F hint.
# The agent finds Go's build-id note, stays off, and says once that Go
# programs are profiled with Go's pprof; the program runs unchanged.
source "$SRCDIR/tests/lib.sh"

# A C program that carries Go's note: always here, so detection is tested.
"$FATHOM" record -- "$PROGS/rungofake" >out.txt 2>err.txt
status=$?
cat err.txt >&2
assert_eq "the program's exit status" 3 "$status"
assert_eq "the program's output" "rungofake ran" "$(cat out.txt)"
assert_contains "record says it is a Go program" "rungofake is a Go program" err.txt
assert_contains "and names pprof" "Go's pprof" err.txt
assert_eq "one message" 1 "$(grep -c . err.txt)"
ls *.fdump* 2>/dev/null && fail "a dump was written for a Go program"
# The agent alone says it on stderr.
LD_PRELOAD="$FATHOM_AGENT" FATHOM_OUTPUT=alone.fdump "$PROGS/rungofake" >/dev/null 2>alone.err
assert_contains "the agent alone says it" "is a Go program, which fathom does not profile" alone.err
[ -e alone.fdump ] && fail "the agent alone wrote a dump for a Go program"
# In a process tree, the other processes are recorded and the Go one named.
run "$FATHOM" record -- sh -c "\"$PROGS/rungofake\"; true" >/dev/null 2>tree.err
cat tree.err >&2
assert_contains "the tree's summary names the Go program" "(1 Go program not profiled:" tree.err
assert_contains "the shell's dump" "1 dump:" tree.err

# A real Go program, dynamically linked (external linking), when Go is here.
GO=$(command -v go) || skip "go is not installed: the fake Go program passed, the real one was not tried"
export GOCACHE="$WORKDIR/gocache" HOME="$WORKDIR" GOPATH="$WORKDIR/gopath" GOFLAGS= GO111MODULE=off GOTOOLCHAIN=local
cat >spin.go <<'GO'
package main

import (
	"fmt"
	"os"
)

func spin(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 7
	}
	return s
}

func main() {
	fmt.Println("go spin", spin(50000000))
	os.Exit(5)
}
GO
"$GO" build -ldflags=-linkmode=external -o gospin spin.go 2>build.err || { cat build.err >&2; fail "go build failed"; }
file gospin | grep -q "dynamically linked" || fail "gospin is not dynamically linked"
rm -f ./*.fdump*
./gospin >plain.txt
"$FATHOM" record -- ./gospin >go.txt 2>go.err
status=$?
cat go.err >&2
assert_eq "the Go program's exit status" 5 "$status"
assert_eq "the Go program's output" "$(cat plain.txt)" "$(cat go.txt)"
assert_contains "record says it is a Go program" "gospin is a Go program" go.err
assert_not_contains "no truncated dump" "incomplete" go.err
assert_not_contains "no -F hint" "-F" go.err
ls *.fdump* 2>/dev/null && fail "a dump was written for the Go program"
exit 0
