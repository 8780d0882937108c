/* Stress program: dlopen/dlclose of the same library in a loop, calling into
 * it each time (CPU work and allocations made by the library), so the module
 * map changes while samples and allocations are being recorded. */
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int loops = argc > 1 ? atoi(argv[1]) : 200;
	char self[PATH_MAX], lib[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0 || loops < 1) {
		fprintf(stderr, "usage: stress_dlopen [LOOPS]\n");
		return 2;
	}
	self[n] = 0;
	snprintf(lib, sizeof(lib), "%s/libstress_plugin.so", dirname(self));

	uint64_t h = 7;
	void *held[8] = {0};
	int unloaded = 0;
	for (int i = 0; i < loops; i++) {
		void *d = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
		if (!d) {
			fprintf(stderr, "stress_dlopen: %s\n", dlerror());
			return 1;
		}
		uint64_t (*work)(uint64_t, long) =
		    (uint64_t(*)(uint64_t, long))dlsym(d, "stress_plugin_work");
		void *(*alloc)(size_t) = (void *(*)(size_t))dlsym(d, "stress_plugin_alloc");
		if (!work || !alloc) {
			fprintf(stderr, "stress_dlopen: missing symbol\n");
			return 1;
		}
		h = work(h, 500000);
		/* Blocks allocated by the library outlive it; freed later by us. */
		free(held[i % 8]);
		held[i % 8] = alloc(100 + (size_t)i);
		if (dlclose(d) != 0) {
			fprintf(stderr, "stress_dlopen: dlclose: %s\n", dlerror());
			return 1;
		}
		/* The library is really gone after dlclose (no RTLD_NODELETE). */
		void *again = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
		if (again)
			dlclose(again);
		else
			unloaded++;
	}
	for (int i = 0; i < 8; i++)
		free(held[i]);
	printf("loops %d unloaded %d hash %016llx\n", loops, unloaded, (unsigned long long)h);
	return 0;
}
