# The man pages: 'cmake --install' puts one per command (and fathom(1)) under
# share/man/man1, each renders without a warning, and each holds every option
# its command's --help lists, being made from that same text.
source "$SRCDIR/tests/lib.sh"

[ -n "${BUILDDIR:-}" ] || fail "BUILDDIR is not set"
if command -v man >/dev/null 2>&1; then
	render() { MANWIDTH=200 man --warnings -l "$1"; }
elif command -v groff >/dev/null 2>&1; then
	render() { groff -man -Tutf8 -ww -rLL=200n "$1"; }
else
	skip "neither man nor groff: cannot render the man pages"
fi
cmake --install "$BUILDDIR" --prefix "$WORKDIR/prefix" >install.txt 2>&1 || { cat install.txt >&2; fail "cmake --install failed"; }
mandir=prefix/share/man/man1

# The commands are those fathom --help lists.
cmds=$("$FATHOM" --help | sed -nE 's/^  ([a-z]+) .*/\1/p')
[ "$(wc -w <<<"$cmds")" -ge 8 ] || fail "fathom --help lists only: $cmds"
for page in fathom $(sed 's/^/fathom-/' <<<"$cmds"); do
	f=$mandir/$page.1
	[ -s "$f" ] || fail "$page.1 is not installed under share/man/man1: $(ls -R prefix/share 2>&1 | head)"
	# Rendered as a terminal shows it, without overstrikes, with plain hyphens.
	render "$f" >page.raw 2>err.txt || fail "rendering $page.1 failed: $(cat err.txt)"
	[ ! -s err.txt ] || { sed 's/^/  | /' err.txt >&2; fail "$page.1 renders with warnings"; }
	col -b <page.raw | sed 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g' >page.txt
	grep -q "^NAME" page.txt || fail "$page.1 has no NAME section"
	grep -q "^SYNOPSIS" page.txt || fail "$page.1 has no SYNOPSIS section"
	c=${page#fathom}
	c=${c#-}
	"$FATHOM" $c --help >help.txt || fail "fathom $c --help exited $?"
	# Every option of --help's option lines, and every command of fathom --help.
	n=0
	for opt in $(sed -nE 's/^ +(-[a-zA-Z], )?(--[a-z][a-z-]+).*/\2/p; s/^  ([a-z]+)   .*/\1/p' help.txt | sort -u); do
		grep -qe "$opt" page.txt || fail "$page.1 does not mention $opt, which 'fathom $c --help' lists"
		n=$((n + 1))
	done
	[ "$n" -ge 3 ] || fail "only $n options found in fathom $c --help"
done
note "ok: $(wc -w <<<"$cmds") command pages and fathom(1)"
