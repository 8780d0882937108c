# Shared by test-lines-diff*.sh, which compare two runs of lines_demo whose
# inlined helper's loop grew (lines_mix regresses).

# diff_regressed OUT BASE NEW [OPTIONS...]: fathom diff --lines of BASE and
# NEW into OUT, which must find lines_mix slower (exit status 1).
diff_regressed() {
	local out=$1 base=$2 new=$3 rc=0
	shift 3
	"$FATHOM" diff "$base" "$new" --metric functions --alpha 0.05 --lines "$@" >"$out" 2>err.txt || rc=$?
	sed 's/^/  | /' "$out" >&2
	assert_eq "diff exit status of $out (a regression)" 1 "$rc"
	grep -q "lines_mix .* takes .* longer" "$out" || fail "lines_mix is not a regression in $out"
}

# line_is_function OUT LINE WHAT: line LINE of lines_demo.c is listed in OUT
# with lines_mix's own base and new shares (it is that function's one line);
# sets lb and lnew to them.
line_is_function() {
	local out=$1 line=$2 what=$3 row fn fb fnew
	row=$(grep -E "^  lines_demo.c:$line " "$out") || fail "line $line is not listed in $out"
	fn=$(grep -E "^ +[0-9.]+% +[0-9.]+% .* lines_mix \(" "$out" | head -1)
	read -r fb fnew _ <<<"$fn"
	read -r _ lb lnew _ <<<"$row"
	assert_eq "base share of the $what line and of the function" "$fb" "$lb"
	assert_eq "new share of the $what line and of the function" "$fnew" "$lnew"
}
