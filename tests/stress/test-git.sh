# Stress: git init/add/commit/log in a fresh repository, driven by sh (an exec
# tree of several git processes), with fixed identities and dates so that the
# commit ids are the same in both runs.
. "$SRCDIR/tests/lib.sh"
. "$SRCDIR/tests/stress/stress-lib.sh"

export GIT_AUTHOR_NAME=Stress GIT_AUTHOR_EMAIL=stress@example.org GIT_AUTHOR_DATE='2024-01-02T03:04:05Z'
export GIT_COMMITTER_NAME=Stress GIT_COMMITTER_EMAIL=stress@example.org GIT_COMMITTER_DATE='2024-01-02T03:04:05Z'
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null HOME="$WORKDIR"
make_files() {
	mkdir -p "$1/src" && for i in $(seq 1 40); do seq "$i" 300 >"$1/src/f$i.txt"; done
}
script='git init -q -b main . && git add src && git commit -q -m "first" && seq 1 50 >>src/f1.txt && git commit -q -am second && git log --format="%H %s" && git diff --stat HEAD~1 && git gc -q && git fsck --no-progress 2>&1 && git cat-file -p HEAD && git show --no-color HEAD~1:src/f40.txt && git no-such-command'
stress_run git --min-dumps 5 --setup make_files -- sh -c "$script"
grep -q ' second$' "$STRESS_DIR/rec.out" || fail "git log output missing"
