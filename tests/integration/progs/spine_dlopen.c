/* Loads libspine_hot.so (path in argv[1]) with dlopen after start-up and
 * spends nearly all its time in that library's spine_hot_work. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: spine_dlopen LIB [N]\n");
		return 2;
	}
	void *h = dlopen(argv[1], RTLD_NOW);
	if (!h) {
		fprintf(stderr, "spine_dlopen: %s\n", dlerror());
		return 1;
	}
	unsigned long (*work)(unsigned long) = (unsigned long (*)(unsigned long))dlsym(h, "spine_hot_work");
	if (!work)
		return 1;
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 300000000ul;
	printf("%lu\n", work(n) & 1);
	return 0;
}
