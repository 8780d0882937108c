/* Loads libmod_deep.so (path in argv[1]) with RTLD_DEEPBIND and the binding
 * in argv[2] ("lazy" or "now"; "newns": lazy, with dlmopen into a new link
 * map namespace, which has a libc of its own) and calls its allocating
 * functions N times. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mod_deep LIB [lazy|now] [N]\n");
		return 2;
	}
	const char *how = argc > 2 ? argv[2] : "lazy";
	int mode = (!strcmp(how, "now") ? RTLD_NOW : RTLD_LAZY) | RTLD_DEEPBIND;
	void *h = !strcmp(how, "newns") ? dlmopen(LM_ID_NEWLM, argv[1], mode) : dlopen(argv[1], mode);
	if (!h) {
		fprintf(stderr, "mod_deep: %s\n", dlerror());
		return 1;
	}
	int (*work)(void) = (int (*)(void))dlsym(h, "mod_deep_work");
	int (*indirect)(void) = (int (*)(void))dlsym(h, "mod_deep_indirect");
	if (!work || !indirect)
		return 1;
	int n = argc > 3 ? atoi(argv[3]) : 1000, sum = 0;
	for (int i = 0; i < n; i++)
		sum += work() + indirect();
	printf("%d\n", sum);
	return 0;
}
