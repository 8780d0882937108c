/* An embedding program: loads libpython with dlopen (RTLD_LOCAL, after the
 * agent started) and runs a CPU-bound Python function in it. Exits 77 when
 * no libpython3.11 is installed. */
#include <dlfcn.h>
#include <stdio.h>

static const char *code = "def embedded_spin(n):\n"
			  "    s = 0\n"
			  "    for i in range(n):\n"
			  "        s += i * i % 13\n"
			  "    return s\n"
			  "print('embedded', embedded_spin(3000000))\n";

int main(void)
{
	void *h = dlopen("libpython3.11.so.1.0", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "no libpython3.11: %s\n", dlerror());
		return 77;
	}
	void (*init)(void) = (void (*)(void))dlsym(h, "Py_Initialize");
	int (*run)(const char *) = (int (*)(const char *))dlsym(h, "PyRun_SimpleString");
	int (*fin)(void) = (int (*)(void))dlsym(h, "Py_FinalizeEx");
	if (!init || !run || !fin)
		return 1;
	init();
	int r = run(code);
	fflush(stdout);
	return fin() < 0 || r != 0;
}
