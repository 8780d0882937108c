/* A library that mod_deep loads with RTLD_DEEPBIND: it binds to libc's
 * allocator directly, past the preloaded hooks. Each call of mod_deep_work
 * makes a strdup of 35 bytes and a malloc(10), and frees both. */
#include <stdlib.h>
#include <string.h>

static const char mod_deep_text[] = "a string of thirty-four characters";

__attribute__((noinline)) int mod_deep_work(void)
{
	char *s = strdup(mod_deep_text);
	char *p = malloc(10);
	int r = (s ? (int)strlen(s) : 0) + (p ? 1 : 0);
	if (p)
		memset(p, 1, 10);
	__asm__ volatile("" : : "r"(p), "r"(s) : "memory");
	free(p);
	free(s);
	return r;
}

/* Also through pointers: one taken in code (a GLOB_DAT slot, bound at load
 * time even with lazy binding) and one initialised in data (an absolute
 * relocation). */
void (*mod_deep_free_ptr)(void *) = free;

__attribute__((noinline)) int mod_deep_indirect(void)
{
	void *(*volatile m)(size_t) = malloc;
	void *p = m(24);
	__asm__ volatile("" : : "r"(p) : "memory");
	mod_deep_free_ptr(p);
	return p != NULL;
}
