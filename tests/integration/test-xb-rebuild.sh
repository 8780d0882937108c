#!/usr/bin/env bash
# A recording whose program is rebuilt in place or deleted afterwards: it is
# never symbolized against the new file (build id, or for a program without
# one, the file's time), a diff against it refuses a verdict on the code it
# cannot name instead of reporting "_start +1379400%", and a recording made
# with --symbolize reads the same as before the rebuild.
source "$SRCDIR/tests/lib.sh"
source "$SRCDIR/tests/integration/ci-lib.sh"
command -v cc >/dev/null || skip "no C compiler (cc)"

cp "$SRCDIR/tests/integration/progs/ci_work.c" work.c
cp "$SRCDIR/tests/integration/progs/jitter.h" . # ci_work.c's
sed 's/long parse = slow ? 65 : 50;/long parse = 65;/' work.c >slow.c
cmp -s work.c slow.c && fail "the slowdown was not applied"
iter=$(ci_iterations 0.5)
rec=(--clock wall -F 2000)

# record NAME PROGRAM [OPTIONS]: NAME.fdump of PROGRAM baseline.
record() {
	local name=$1 prog=$2
	shift 2
	"$FATHOM" record -q "${rec[@]}" "$@" -o "$name.fdump" -- "$prog" baseline "$iter" >/dev/null 2>"$name.err" ||
		{ cat "$name.err" >&2; fail "recording $name failed"; }
}

# build SOURCE OUTPUT [FLAGS]: always from app.c, as a rebuild in place is.
build() {
	cp "$1" app.c && cc -g -O2 "${@:3}" -o "$2" app.c || fail "cc $*"
}
mkdir -p app orig
build work.c app/app
cp app/app orig/app
record plain app/app
record sym app/app --symbolize
record same orig/app --symbolize
build slow.c app/app
record new app/app --symbolize

# Without --symbolize: the rebuilt file is not used, and the report says why.
"$FATHOM" report plain.fdump >plain.txt 2>plain.err || fail "report of the rebuilt program's recording"
assert_contains "warning about the rebuilt file" "changed since the recording (other build id)" plain.err
assert_not_contains "no name from the rebuilt file" "ci_parse" plain.txt
assert_contains "shown as addresses" "app+0x" plain.txt

# A diff against it: no verdict on app's code, and no nonsense regression.
rc=0
"$FATHOM" diff --format json -o plain-diff.json plain.fdump new.fdump 2>plain-diff.err || rc=$?
assert_eq "diff with a rebuilt base: no verdict (exit 2)" 2 "$rc"
assert_contains "says why" "record with 'fathom record --symbolize'" plain-diff.err
assert_eq "verdict" incomplete "$(ci_json plain-diff.json 'j["verdict"]')"
assert_eq "no function judged a regression" "" \
	"$(ci_json plain-diff.json '",".join(i["name"] for i in j["items"] if i["status"] == "FAIL")')"
assert_eq "the module that could not be named" "unsymbolized app (base)" \
	"$(ci_json plain-diff.json '",".join(i["name"] for i in j["items"] if i["status"] == "skipped" and i["name"].startswith("unsymbolized"))')"
"$FATHOM" diff plain.fdump new.fdump >plain-diff.txt 2>/dev/null
assert_not_contains "no _start regression" "_start" plain-diff.txt
assert_contains "the text verdict" "fathom diff: no verdict" plain-diff.txt

# With --symbolize: the dump kept its names; the rebuilt file is not needed.
"$FATHOM" report sym.fdump >sym.txt 2>sym.err || fail "report of the symbolized recording"
assert_not_contains "no warning" "changed since" sym.err
for f in ci_parse ci_hash ci_sort; do
	grep -E "^ +[0-9.]+% .* $f +app\.c:[0-9]+$" sym.txt >/dev/null || { cat sym.txt >&2; fail "$f not named with its line"; }
done
# The same code (the old build, copied elsewhere) against it: no regression,
# the functions matched by name (a rarely sampled one may miss a side).
ci_diff same.json 0 sym.fdump same.fdump
assert_eq "functions with 1% of the samples that only one side has" "" \
	"$(ci_json same.json '",".join(i["name"] for i in j["items"] if i["section"] in ("grew", "shrank") and min(i["base"], i["value"]) == 0 and max(i["base"], i["value"]) > 0.01)')"
# The slowed rebuild against it: ci_parse grew most, nothing else is a regression.
rc=0
"$FATHOM" diff --format json -o slow.json sym.fdump new.fdump 2>/dev/null || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "diff of the symbolized base and the rebuild: exit $rc"
assert_eq "grew most" ci_parse "$(ci_json slow.json '[i["name"] for i in j["items"] if i["section"] == "grew"][0]')"
assert_eq "regressions other than ci_parse" "" \
	"$(ci_json slow.json '",".join(i["function"] for i in j["items"] if i["section"] == "function" and i["status"] == "FAIL" and i["function"] != "ci_parse")')"

# Deleted: the same refusal, naming the file as gone; the symbolized dump is unaffected.
rm app/app
"$FATHOM" diff plain.fdump new.fdump >gone.txt 2>&1 && fail "diff with a deleted base passed"
assert_contains "names the deleted file" "app/app gone since the recording" gone.txt
"$FATHOM" report sym.fdump >sym2.txt 2>&1 || fail "report of the symbolized recording after deletion"
assert_contains "names after deletion" "ci_parse" sym2.txt

# A program without a build id, rebuilt in place: its file is newer than the
# recording, so it is not trusted either.
build work.c app/nobid -Wl,--build-id=none
record nobid app/nobid
sleep 0.05
build slow.c app/nobid -Wl,--build-id=none
"$FATHOM" report nobid.fdump >nobid.txt 2>nobid.err || fail "report"
assert_contains "warning about the rebuilt file without a build id" "modified since the recording" nobid.err
assert_not_contains "no name from the rebuilt file" "ci_parse" nobid.txt
