/* A tiny allocator of its own (bump allocation from mmap'd regions, free a
 * no-op) that, preloaded before libfathom.so, takes the program's malloc
 * calls past the agent's hooks, as jemalloc or tcmalloc would. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define REGION (64u << 20)

static _Atomic uintptr_t cur, end;

static void *bump(size_t n, size_t align)
{
	if (align < 16)
		align = 16;
	size_t need = n + align + 16;
	if (need > REGION / 4) {
		void *m = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		uintptr_t p = ((uintptr_t)m + 16 + align - 1) & ~(uintptr_t)(align - 1);
		((size_t *)p)[-1] = n;
		return (void *)p;
	}
	for (;;) {
		uintptr_t c = atomic_load(&cur), e = atomic_load(&end);
		uintptr_t p = (c + 16 + align - 1) & ~(uintptr_t)(align - 1);
		if (c && p + n <= e) {
			if (atomic_compare_exchange_weak(&cur, &c, p + n)) {
				((size_t *)p)[-1] = n;
				return (void *)p;
			}
			continue;
		}
		void *m = mmap(NULL, REGION, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return NULL;
		/* Whoever installs the new region last wins; the other's is simply unused. */
		atomic_store(&end, 0);
		atomic_store(&cur, (uintptr_t)m);
		atomic_store(&end, (uintptr_t)m + REGION);
	}
}

void *malloc(size_t n)
{
	return bump(n, 16);
}
void free(void *p)
{
	(void)p;
}
void *calloc(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b)
		return NULL;
	return bump(a * b, 16); /* fresh mmap'd memory is zero */
}
size_t malloc_usable_size(void *p)
{
	return p ? ((size_t *)p)[-1] : 0;
}
void *realloc(void *p, size_t n)
{
	void *q = bump(n, 16);
	if (q && p) {
		size_t o = ((size_t *)p)[-1];
		memcpy(q, p, o < n ? o : n);
	}
	return q;
}
void *memalign(size_t a, size_t n)
{
	return bump(n, a);
}
void *aligned_alloc(size_t a, size_t n)
{
	return bump(n, a);
}
int posix_memalign(void **out, size_t a, size_t n)
{
	void *p = bump(n, a);
	if (!p)
		return 12;
	*out = p;
	return 0;
}
void *valloc(size_t n)
{
	return bump(n, 4096);
}
void *pvalloc(size_t n)
{
	return bump((n + 4095) & ~(size_t)4095, 4096);
}
