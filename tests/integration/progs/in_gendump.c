/* Writes a synthetic dump with very many MODULE records and threads, for the
 * test that the analyzer's module map and thread tables scale (n log n, not
 * n squared): modules at descending addresses (as mmap places them), some
 * unloaded and reloaded, some replaced by a record with the same mod_id, some
 * covered by a later bigger mapping, and stacks that reference modules whose
 * records come later in the file. Every thread takes samples and allocates.
 * Prints the facts it wrote as key=value lines, including the module each
 * frame of stack 1 must be attributed to (frame0= ... frame3=).
 * usage: in_gendump [--modules N] [--threads N] OUT */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gendump.h"

#define CHUNK (1u << 20)
#define BASE 0x7f0000000000ull
#define STRIDE 0x10000ull
#define MODSIZE 0x8000ull

static struct fdw w;
static uint64_t nmodrecs;

/* Room for a group of records that must share a chunk (a TID and its events). */
static void room(size_t n)
{
	gd_room(&w, n, CHUNK);
}

static uint64_t mod_start(uint64_t i)
{
	return BASE - i * STRIDE;
}

static void module(uint64_t id, uint64_t start, uint64_t end, const char *path, uint64_t time)
{
	room(512);
	nmodrecs++;
	fdw_module(&w, id, start, start, end, path, time);
}

static void unload(uint64_t id, uint64_t time)
{
	room(64);
	fdw_unload(&w, id, time);
}

static void stack(uint64_t id, unsigned n, const uint64_t *a)
{
	room(64 + n * 10);
	fdw_stack(&w, id, n, a);
}

int main(int argc, char **argv)
{
	uint64_t nmod = 300000, nthreads = 100000;
	const struct gd_opt opts[] = {{"modules", GD_U64, &nmod}, {"threads", GD_U64, &nthreads}};
	if (gd_options(argc, argv, opts, 2) < 0)
		goto usage;
	if (optind + 1 != argc || nmod < 2000 || nthreads < 1 || nmod * STRIDE >= BASE)
		goto usage;
	FILE *out = fopen(argv[optind], "wb");
	if (!out) {
		fprintf(stderr, "in_gendump: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	fdw_init_file(&w, out);
	fdw_header_at(&w, 5151, 1, 1000000000ull, 99, FD_ALLOC_EXACT, "/nonexistent/in-gendump", "in-gendump",
		      strlen("in-gendump"));

	/* Stacks 2.. are defined before their module's record: one address in
	 * each 30th module, whose record comes later (the analyzer then looks
	 * the address up among all the process's modules). */
	uint64_t nfwd = 0, t = 1;
	for (uint64_t i = 1000; i < nmod; i += 30) {
		uint64_t a = mod_start(i) + 0x40;
		stack(2 + nfwd++, 1, &a);
	}
	char path[128];
	uint64_t next_id = nmod + 1;
	for (uint64_t i = 0; i < nmod; i++, t++) {
		snprintf(path, sizeof(path), "/nonexistent/in-gendump/libm%llu.so", (unsigned long long)i);
		module(i + 1, mod_start(i), mod_start(i) + MODSIZE, path, t);
		if (i % 10 == 3) {
			/* unloaded, then loaded again at the same place under a new id */
			unload(i + 1, t);
			snprintf(path, sizeof(path), "/nonexistent/in-gendump/libm%llu-reloaded.so",
				 (unsigned long long)i);
			module(next_id++, mod_start(i), mod_start(i) + MODSIZE, path, t);
		} else if (i % 10 == 7) {
			/* the same mod_id sent again: it replaces the first record */
			snprintf(path, sizeof(path), "/nonexistent/in-gendump/libm%llu-again.so",
				 (unsigned long long)i);
			module(i + 1, mod_start(i), mod_start(i) + MODSIZE, path, t);
		} else if (i % 1000 == 999) {
			/* one mapping over the last four modules (i-3 .. i) */
			snprintf(path, sizeof(path), "/nonexistent/in-gendump/libbig%llu.so",
				 (unsigned long long)i);
			module(next_id++, mod_start(i), mod_start(i - 3) + MODSIZE, path, t);
		}
	}
	/* Stack 1: one frame in a reloaded module, one in a replaced one, one
	 * in a module covered by a bigger mapping, one in a plain module. */
	uint64_t fr[4] = {mod_start(13) + 0x100, mod_start(17) + 0x200, mod_start(1997) + 0x300,
			  mod_start(1001) + 0x400};
	stack(1, 4, fr);

	uint64_t time = 1000, seq = 0, samples = 0, calls = 0, bytes = 0, leaked = 0, leaked_blocks = 0;
	for (uint64_t k = 0; k < nthreads; k++) {
		int tid = 100000 + (int)k;
		char name[32];
		snprintf(name, sizeof(name), "w%llu", (unsigned long long)k);
		room(256);
		fdw_thread(&w, tid, time, name);
		fdw_tid(&w, tid);
		/* one sample on stack 1, one on a forward-referenced stack */
		uint64_t ids[2] = {1, 2 + k % nfwd};
		for (int s = 0; s < 2; s++) {
			time += 1000;
			fdw_sample(&w, time, ids[s], 1);
			samples++;
		}
		uint64_t size = 1 + k % 100, ptr = 0x10000000ull + k * 0x100;
		fdw_alloc(&w, ++seq, 1, size, ptr);
		calls++;
		bytes += size;
		if (k % 2) {
			fdw_free_ev(&w, ++seq, ptr);
		} else {
			leaked += size;
			leaked_blocks++;
		}
		fdw_thread_end(&w, tid, time);
	}
	room(64);
	fdw_trailer_ev(&w, time, samples, samples, 0, calls + nthreads / 2);
	fdw_flush(&w, false);
	fdw_free(&w);
	if (fclose(out) != 0 || w.write_error) {
		perror("in_gendump: close");
		return 1;
	}
	printf("module_records=%llu\nthreads=%llu\nsamples=%llu\nalloc_calls=%llu\nalloc_bytes=%llu\n"
	       "leaked_bytes=%llu\nleaked_blocks=%llu\nforward_stacks=%llu\n",
	       (unsigned long long)nmodrecs, (unsigned long long)nthreads, (unsigned long long)samples,
	       (unsigned long long)calls, (unsigned long long)bytes, (unsigned long long)leaked,
	       (unsigned long long)leaked_blocks, (unsigned long long)nfwd);
	printf(
	    "frame0=libm13-reloaded.so\nframe1=libm17-again.so\nframe2=libbig1999.so\nframe3=libm1001.so\n");
	return 0;

usage:
	fprintf(stderr, "usage: in_gendump [--modules N (>= 2000)] [--threads N] OUT\n");
	return 2;
}
