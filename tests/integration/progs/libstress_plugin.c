/* A plugin that stress_dlopen loads and unloads again and again: it burns CPU
 * and allocates inside the library, so samples and allocation stacks point
 * into a module that later goes away (and may come back at another address). */
#include <stdint.h>
#include <stdlib.h>

__attribute__((noinline)) uint64_t stress_plugin_work(uint64_t seed, long n)
{
	uint64_t h = seed;
	for (long i = 0; i < n; i++) {
		h ^= h << 13;
		h ^= h >> 7;
		h ^= h << 17;
	}
	return h;
}

/* The caller frees the block, after this library has been unloaded. */
__attribute__((noinline)) void *stress_plugin_alloc(size_t n)
{
	return malloc(n);
}
