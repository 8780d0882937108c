# A library that dlopens a bare name ("libmodrp_plug.so") finds it along its
# own DT_RUNPATH or DT_RPATH ($ORIGIN), and "$ORIGIN/libmodrp_plug.so" in its
# own directory: the loader takes the caller from the return address of
# dlopen, which the agent interposes, so the agent must resolve the name as
# the caller would. Output under the agent equals the plain run's.
source "$SRCDIR/tests/lib.sh"
command -v cc >/dev/null || skip "no C compiler (cc)"

mkdir -p sub
cat >plug.c <<'C'
int modrp_plug(void) { return 42; }
C
cat >mid.c <<'C'
#include <dlfcn.h>
#include <stdio.h>
int modrp_mid(void)
{
	void *h = dlopen(PLUG, RTLD_NOW);
	if (!h) {
		printf("mid: %s\n", dlerror());
		return -1;
	}
	int (*p)(void) = (int (*)(void))dlsym(h, "modrp_plug");
	return p ? p() : -2;
}
C
cat >main.c <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		void *h = dlopen(argv[i], RTLD_NOW);
		int (*m)(void) = h ? (int (*)(void))dlsym(h, "modrp_mid") : NULL;
		printf("%s: %d\n", argv[i], m ? m() : -3);
	}
	/* The program itself has no path to the plugin: not found, as
	 * without the agent. */
	printf("main: %s\n", dlopen("libmodrp_plug.so", RTLD_NOW | RTLD_NOLOAD) ? "loaded" : "not loaded");
	return 0;
}
C
run cc -shared -fPIC -o sub/libmodrp_plug.so plug.c -Wl,-soname,libmodrp_plug.so
bare='-DPLUG="libmodrp_plug.so"'
run cc -shared -fPIC -o sub/libmodrp_runpath.so mid.c "$bare" -ldl -Wl,-rpath,'$ORIGIN' -Wl,--enable-new-dtags
run cc -shared -fPIC -o sub/libmodrp_rpath.so mid.c "$bare" -ldl -Wl,-rpath,'$ORIGIN' -Wl,--disable-new-dtags
run cc -shared -fPIC -o sub/libmodrp_origin.so mid.c '-DPLUG="$ORIGIN/libmodrp_plug.so"' -ldl
run cc -o main main.c -ldl
for lib in origin runpath rpath; do
	arg="$PWD/sub/libmodrp_$lib.so"
	./main "$arg" >"plain-$lib.txt" || fail "plain run failed"
	cat "plain-$lib.txt" >&2
	assert_contains "plain run finds the plugin" "libmodrp_$lib.so: 42" "plain-$lib.txt"
	run "$FATHOM" record -o "$lib.fdump" -- ./main "$arg" >"agent-$lib.txt" 2>err.txt
	cat err.txt >&2
	diff "plain-$lib.txt" "agent-$lib.txt" >&2 || fail "$lib: the output differs under the agent"
done
