/* A library that mod_reldl loads by a relative path ("./libmod_x.so"): one
 * hot function and one that leaks, which the report and mem must name. */
#include <stdlib.h>
#include <string.h>

static volatile unsigned long mod_x_sink;

__attribute__((noinline)) unsigned long mod_x_burn(unsigned long n)
{
	unsigned long x = mod_x_sink;
	for (unsigned long i = 0; i < n; i++)
		x = x * 2862933555777941757ul + i;
	mod_x_sink = x;
	return x;
}

/* 100 blocks of 1000 bytes, never freed. */
__attribute__((noinline)) void *mod_x_leak(void)
{
	void *last = NULL;
	for (int i = 0; i < 100; i++) {
		last = malloc(1000);
		if (last)
			memset(last, i, 1000);
		__asm__ volatile("" : : "r"(last) : "memory");
	}
	return last;
}
