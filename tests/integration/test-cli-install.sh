# fathom as installed by 'cmake --install': the command and its agent land
# under the prefix, and the installed fathom finds the installed agent from
# any directory, through a symlink, and after the prefix is moved.
source "$SRCDIR/tests/lib.sh"

[ -n "${BUILDDIR:-}" ] || fail "BUILDDIR is not set"
cmake --install "$BUILDDIR" --prefix "$WORKDIR/prefix" >install.txt 2>&1 || { cat install.txt >&2; fail "cmake --install failed"; }
[ -x prefix/bin/fathom ] || fail "no bin/fathom under the prefix: $(cat install.txt)"
agent=$(find prefix -name libfathom.so | head -1)
[ -n "$agent" ] || fail "the agent libfathom.so is not installed (preload/CMakeLists.txt needs an install rule): $(cat install.txt)"
case "$agent" in
prefix/lib*/fathom/libfathom.so) ;;
*) fail "the agent is installed at $agent, not under lib/fathom/" ;;
esac

# The build tree's agent must not be what is used: no FATHOM_AGENT, and a
# directory that has nothing to do with the build.
unset FATHOM_AGENT
mkdir -p elsewhere/deeper
cd elsewhere/deeper || fail "cd"
# The program prints its own memory map: the agent it was given shows there.
"$WORKDIR/prefix/bin/fathom" record -- cat /proc/self/maps >maps.txt 2>err.txt || fail "record failed: $(cat err.txt)"
assert_contains "summary line" "1 dump: fathom." err.txt
grep -q "$WORKDIR/prefix/lib.*/fathom/libfathom.so" maps.txt ||
	fail "the installed fathom did not preload the installed agent: $(grep fathom maps.txt)"
ls fathom.*.fdump >/dev/null 2>&1 || fail "no dump in the current directory"
"$WORKDIR/prefix/bin/fathom" report fathom.*.fdump >report.txt 2>rerr.txt || fail "report failed: $(cat rerr.txt)"
assert_contains "report header" "command: cat /proc/self/maps" report.txt

# Through a symlink in another directory (as /usr/local/bin/fathom -> ...).
mkdir -p "$WORKDIR/bin" && ln -s "$WORKDIR/prefix/bin/fathom" "$WORKDIR/bin/fathom"
"$WORKDIR/bin/fathom" record -q -o sym.fdump -- cat /proc/self/maps >maps2.txt 2>err2.txt || fail "record through a symlink failed: $(cat err2.txt)"
grep -q "$WORKDIR/prefix/lib.*/fathom/libfathom.so" maps2.txt || fail "through a symlink, the agent was not found"
[ -s sym.fdump ] || fail "no sym.fdump"

# A moved prefix still works: fathom looks next to itself, not at a built-in path.
mv "$WORKDIR/prefix" "$WORKDIR/moved"
"$WORKDIR/moved/bin/fathom" record -q -o moved.fdump -- cat /proc/self/maps >maps3.txt 2>err3.txt || fail "record from a moved prefix failed: $(cat err3.txt)"
grep -q "$WORKDIR/moved/lib.*/fathom/libfathom.so" maps3.txt || fail "after moving the prefix, the agent was not found"

# LD_PRELOAD cannot carry a path with a space: said, not silently unprofiled.
cp -a "$WORKDIR/moved" "$WORKDIR/with space"
"$WORKDIR/with space/bin/fathom" record -- touch ran.txt >out5.txt 2>err5.txt
[ "$?" -ne 0 ] || fail "record with the agent under a path with a space exited 0"
[ ! -e ran.txt ] || fail "record ran the command although LD_PRELOAD could not hold the agent's path"
assert_contains "space in the agent's path" "holds a space or a colon" err5.txt

# Without its agent, fathom says where it looked and runs nothing.
rm "$WORKDIR"/moved/lib*/fathom/libfathom.so
"$WORKDIR/moved/bin/fathom" record -- touch ran.txt >out4.txt 2>err4.txt
rc=$?
[ "$rc" -ne 0 ] || fail "record without an agent exited 0"
[ ! -e ran.txt ] || fail "record without an agent ran the command anyway"
assert_contains "missing agent message" "libfathom.so was not found" err4.txt
assert_contains "missing agent hint" "FATHOM_AGENT" err4.txt
