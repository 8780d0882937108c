/* Mappings of every kind for test-mmap-*.sh, each from a function of its
 * own (the site the report must name), 150 ms apart so that the agent's
 * RSS ticks see each state:
 *   map_big    256 MiB anonymous, half of it touched, then unmapped
 *   map_file   FILE (argv[1]) mapped whole, read, kept to the end
 *   grow_map   1 MiB anonymous grown by mremap to 64 MiB, kept to the end
 *   big_malloc 64 MiB from malloc (above glibc's mmap threshold), freed
 *   map_stack  a 1 MiB MAP_STACK mapping with a PROT_NONE guard below it
 *   grow_brk   the break moved up 4 MiB by sbrk (touched), then down 1 MiB
 *              by brk: 3 MiB kept to the end
 * With --behind instead of FILE, only map_behind: 96 MiB mapped by the
 * system call itself (no hook sees it), touched whole, held 300 ms: RSS
 * that neither the heap nor the mappings fathom saw explain.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MiB ((size_t)1 << 20)

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static __attribute__((noinline)) void map_big(void)
{
	size_t n = 256 * MiB;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(1);
	memset(p, 1, n / 2);
	pause_ms(300);
	munmap(p, n);
}

static __attribute__((noinline)) char *map_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		exit(2);
	char *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		exit(2);
	volatile char sum = 0;
	for (off_t i = 0; i < st.st_size; i += 4096)
		sum += p[i];
	*len = (size_t)st.st_size;
	return p;
}

static __attribute__((noinline)) char *grow_map(void)
{
	char *p = mmap(NULL, MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(3);
	p = mremap(p, MiB, 64 * MiB, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		exit(3);
	memset(p, 2, 64 * MiB);
	return p;
}

static __attribute__((noinline)) void big_malloc(void)
{
	char *volatile p = malloc(64 * MiB);
	if (!p)
		exit(4);
	memset(p, 3, 64 * MiB);
	pause_ms(150);
	free(p);
}

static __attribute__((noinline)) char *map_stack(void)
{
	char *g = mmap(NULL, 4096 + MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g == MAP_FAILED)
		exit(5);
	char *s = mmap(g + 4096, MiB, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_FIXED, -1, 0);
	if (s == MAP_FAILED)
		exit(5);
	return s;
}

static __attribute__((noinline)) void grow_brk(void)
{
	char *p = sbrk((intptr_t)(4 * MiB));
	if (p == (void *)-1)
		exit(7);
	memset(p, 5, 4 * MiB);
	if (brk(p + 3 * MiB) < 0)
		exit(7);
}

static __attribute__((noinline)) void map_behind(void)
{
	size_t n = 96 * MiB;
	char *p =
	    (char *)syscall(SYS_mmap, NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		exit(6);
	memset(p, 4, n);
	pause_ms(300);
	syscall(SYS_munmap, p, n);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mmap_mix FILE|--behind\n");
		return 2;
	}
	if (!strcmp(argv[1], "--behind")) {
		pause_ms(100);
		map_behind();
		return 0;
	}
	pause_ms(150);
	map_big();
	pause_ms(150);
	size_t flen;
	char *f = map_file(argv[1], &flen);
	char *g = grow_map();
	pause_ms(150);
	big_malloc();
	char *s = map_stack();
	grow_brk();
	pause_ms(150);
	(void)f;
	(void)g;
	(void)s;
	return 0;
}
