/* Writes a synthetic CPU dump shaped like a real program's, for the export
 * benchmark: many samples over many distinct stacks that are walks through a
 * call graph of real functions of a real library (so they symbolize to real
 * names and share prefixes as real stacks do), with a skewed, hot-path-heavy
 * distribution. Prints samples=, stacks=, file_bytes= lines.
 * usage: export_gendump --module LIB --funcs OFFSETS_FILE [--samples N]
 *        [--stacks N] [--threads N] [--seed N] OUT
 * OFFSETS_FILE lists function start offsets (hex, one a line) within LIB,
 * e.g. from nm -D --defined-only LIB. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gendump.h"

#define CHUNK (1u << 20)
#define FANOUT 8

static struct fdw w;

static uint64_t rng;

/* Room for the next record (at most 4 KiB). */
static void room(void)
{
	gd_room(&w, 4096, CHUNK);
}

static void usage(void)
{
	fprintf(stderr, "usage: export_gendump --module LIB --funcs OFFSETS_FILE [--samples N] [--stacks N]\n"
			"                      [--threads N] [--seed N] OUT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *module = NULL, *funcs_path = NULL;
	uint64_t nsamples = 1000000, nstacks = 100000, seed = 1;
	uint32_t nthreads = 4;
	const struct gd_opt opts[] = {
	    {"module", GD_STR, &module},  {"funcs", GD_STR, &funcs_path}, {"samples", GD_U64, &nsamples},
	    {"stacks", GD_U64, &nstacks}, {"threads", GD_U32, &nthreads}, {"seed", GD_U64, &seed},
	};
	if (gd_options(argc, argv, opts, sizeof(opts) / sizeof(opts[0])) < 0)
		usage();
	if (!module || !funcs_path || optind + 1 != argc || !nstacks || !nthreads)
		usage();

	/* The functions: sorted, distinct start offsets. */
	FILE *ff = fopen(funcs_path, "r");
	if (!ff) {
		fprintf(stderr, "export_gendump: %s: %s\n", funcs_path, strerror(errno));
		return 1;
	}
	size_t nf = 0, capf = 4096;
	uint64_t *fn = malloc(capf * sizeof(*fn));
	char line[256];
	while (fn && fgets(line, sizeof(line), ff)) {
		uint64_t v = strtoull(line, NULL, 16);
		if (!v)
			continue;
		if (nf == capf)
			fn = realloc(fn, (capf *= 2) * sizeof(*fn));
		if (fn)
			fn[nf++] = v;
	}
	fclose(ff);
	if (!fn || nf < 16) {
		fprintf(stderr, "export_gendump: %s: too few functions\n", funcs_path);
		return 1;
	}
	uint64_t max_off = 0;
	for (size_t i = 0; i < nf; i++)
		if (fn[i] > max_off)
			max_off = fn[i];

	FILE *out = fopen(argv[optind], "wb");
	uint8_t *defined = calloc(nstacks + 1, 1);
	if (!out || !defined) {
		fprintf(stderr, "export_gendump: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	fdw_init_file(&w, out);

	const uint64_t bias = 0x7f1000000000ULL, hz = 997;
	fdw_header_at(&w, 31337, 1, 1000000000ULL, hz, FD_ALLOC_OFF, "/usr/bin/export-synthetic",
		      "export-synthetic", strlen("export-synthetic"));
	fdw_module(&w, 1, bias, bias, bias + max_off + 0x10000, module, 0);
	for (unsigned t = 0; t < nthreads; t++) {
		char name[32];
		snprintf(name, sizeof(name), "gen-%u", t);
		room();
		fdw_thread(&w, 31337 + (int)t, 0, name);
	}

	rng = seed;
	uint64_t time = 0, frames[FD_MAX_FRAMES];
	int tid = 31337;
	for (uint64_t i = 0; i < nsamples; i++) {
		/* Hot stacks are many times likelier than cold ones, as in real profiles. */
		double u = (double)(gd_rand(&rng) >> 11) / 9007199254740992.0;
		uint64_t stack = 1 + (uint64_t)((double)nstacks * u * u * u);
		if (stack > nstacks)
			stack = nstacks;
		if (!defined[stack]) {
			/* A walk from one of three roots through a fixed call graph in which
			 * function f calls the FANOUT functions gd_mix(f, k) % nf; earlier
			 * callees are likelier, so paths share prefixes. */
			uint64_t h = gd_mix(stack * 0x9e3779b97f4a7c15ULL + seed);
			uint32_t depth = 6 + (uint32_t)(h % 26);
			uint64_t f = h % 3, path[FD_MAX_FRAMES];
			for (uint32_t d = 0; d < depth; d++) {
				path[d] = f;
				h = gd_mix(h + d);
				unsigned k = (unsigned)((h & 7) < ((h >> 3) & 7) ? (h & 7) : ((h >> 3) & 7));
				f = gd_mix(f * FANOUT + k + 1) % nf;
			}
			/* Leaf first; a return address points a few bytes into its function. */
			for (uint32_t d = 0; d < depth; d++)
				frames[d] = bias + fn[path[depth - 1 - d]] + 1 + (gd_mix(stack + d) & 3);
			room();
			fdw_stack(&w, stack, depth, frames);
			defined[stack] = 1;
		}
		if ((gd_rand(&rng) & 63) == 0)
			tid = 31337 + (int)(gd_rand(&rng) % nthreads);
		/* The TID and its sample share a chunk (a new chunk starts with a TID). */
		room();
		fdw_switch_tid(&w, tid);
		time += 1000000000 / hz;
		fdw_sample(&w, time, stack, 1);
	}
	room();
	fdw_trailer(&w, time, nsamples, nsamples, 0);
	fdw_flush(&w, false);
	fdw_free(&w);
	if (fclose(out) != 0 || w.write_error) {
		perror("export_gendump: close");
		return 1;
	}
	uint64_t used = 0;
	for (uint64_t s = 1; s <= nstacks; s++)
		used += defined[s];
	printf("samples=%llu\nstacks=%llu\nfile_bytes=%llu\n", (unsigned long long)nsamples,
	       (unsigned long long)used, (unsigned long long)w.written);
	free(defined);
	free(fn);
	return 0;
}
