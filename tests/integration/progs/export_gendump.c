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

/* The progs are built without the project include path. */
#include "../../../include/fathom-dump.h"

#define CHUNK (1u << 20)
#define FANOUT 8

static uint8_t *buf;
static size_t len;
static uint32_t chunk_seq;
static uint64_t file_bytes, prev_time;
static int cur_tid;
static FILE *out;
static size_t rec_start;

static uint64_t mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rng;
static uint64_t rnd(void)
{
	return mix(rng += 0x9e3779b97f4a7c15ULL);
}

static void put_varint(uint64_t v)
{
	len += fd_put_varint(buf + len, v);
}

static void put_str(const char *s, size_t n)
{
	put_varint(n);
	memcpy(buf + len, s, n);
	len += n;
}

static void flush_chunk(void)
{
	uint8_t h[FD_CHUNK_HEADER_SIZE];
	if (!len)
		return;
	fd_chunk_header_encode(h, 0, chunk_seq++, (uint32_t)len, (uint32_t)len, fd_crc32c(0, buf, len));
	if (fwrite(h, 1, sizeof(h), out) != sizeof(h) || fwrite(buf, 1, len, out) != len) {
		perror("export_gendump: write");
		exit(1);
	}
	file_bytes += sizeof(h) + len;
	len = 0;
	prev_time = 0;
	cur_tid = 0;
}

/* Bodies are built after an 11-byte gap, then moved behind kind and length. */
static void rec_begin(void)
{
	if (len + 4096 > CHUNK)
		flush_chunk();
	rec_start = len;
	len += 11;
}

static void rec_end(int kind)
{
	uint8_t hdr[11];
	size_t body = len - rec_start - 11, h = 0;
	hdr[h++] = (uint8_t)kind;
	h += fd_put_varint(hdr + h, body);
	memmove(buf + rec_start + h, buf + rec_start + 11, body);
	memcpy(buf + rec_start, hdr, h);
	len = rec_start + h + body;
}

static void usage(void)
{
	fprintf(stderr, "usage: export_gendump --module LIB --funcs OFFSETS_FILE [--samples N] [--stacks N]\n"
			"                      [--threads N] [--seed N] OUT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"module", required_argument, 0, 'm'},
	    {"funcs", required_argument, 0, 'f'},
	    {"samples", required_argument, 0, 'n'},
	    {"stacks", required_argument, 0, 's'},
	    {"threads", required_argument, 0, 't'},
	    {"seed", required_argument, 0, 'r'},
	    {0, 0, 0, 0},
	};
	const char *module = NULL, *funcs_path = NULL;
	uint64_t nsamples = 1000000, nstacks = 100000, seed = 1;
	unsigned nthreads = 4;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			module = optarg;
			break;
		case 'f':
			funcs_path = optarg;
			break;
		case 'n':
			nsamples = strtoull(optarg, NULL, 10);
			break;
		case 's':
			nstacks = strtoull(optarg, NULL, 10);
			break;
		case 't':
			nthreads = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			seed = strtoull(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
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

	out = fopen(argv[optind], "wb");
	buf = malloc(CHUNK + 8192);
	uint8_t *defined = calloc(nstacks + 1, 1);
	if (!out || !buf || !defined) {
		fprintf(stderr, "export_gendump: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	fwrite(FD_MAGIC, 1, FD_MAGIC_LEN, out);
	uint8_t fh[8];
	fd_put_u16(fh, FD_VERSION_MAJOR);
	fd_put_u16(fh + 2, FD_VERSION_MINOR);
	fd_put_u32(fh + 4, 0);
	fwrite(fh, 1, sizeof(fh), out);
	file_bytes = FD_FILE_HEADER_SIZE;

	const uint64_t bias = 0x7f1000000000ULL, hz = 997;
	rec_begin();
	put_varint(31337);
	put_varint(1);
	put_varint(1700000000000000000ULL);
	put_varint(1000000000ULL);
	put_varint(hz);
	put_varint(FD_CLOCK_CPU);
	put_varint(FD_ALLOC_OFF);
	put_varint(0);
	put_str("/usr/bin/export-synthetic", strlen("/usr/bin/export-synthetic"));
	put_str("export-synthetic", strlen("export-synthetic"));
	put_varint(0);
	rec_end(FD_REC_HEADER);
	rec_begin();
	put_varint(1);
	put_varint(bias);
	put_varint(bias);
	put_varint(bias + max_off + 0x10000);
	put_str(module, strlen(module));
	put_str("", 0);
	put_varint(0);
	rec_end(FD_REC_MODULE);
	for (unsigned t = 0; t < nthreads; t++) {
		char name[32];
		int k = snprintf(name, sizeof(name), "gen-%u", t);
		rec_begin();
		put_varint(31337 + t);
		put_varint(0);
		put_str(name, (size_t)k);
		rec_end(FD_REC_THREAD);
	}

	rng = seed;
	uint64_t time = 0, frames[FD_MAX_FRAMES];
	int tid = 31337;
	for (uint64_t i = 0; i < nsamples; i++) {
		/* Hot stacks are many times likelier than cold ones, as in real profiles. */
		double u = (double)(rnd() >> 11) / 9007199254740992.0;
		uint64_t stack = 1 + (uint64_t)((double)nstacks * u * u * u);
		if (stack > nstacks)
			stack = nstacks;
		if (!defined[stack]) {
			/* A walk from one of three roots through a fixed call graph in which
			 * function f calls the FANOUT functions mix(f, k) % nf; earlier
			 * callees are likelier, so paths share prefixes. */
			uint64_t h = mix(stack * 0x9e3779b97f4a7c15ULL + seed);
			uint32_t depth = 6 + (uint32_t)(h % 26);
			uint64_t f = h % 3, path[FD_MAX_FRAMES];
			for (uint32_t d = 0; d < depth; d++) {
				path[d] = f;
				h = mix(h + d);
				unsigned k = (unsigned)((h & 7) < ((h >> 3) & 7) ? (h & 7) : ((h >> 3) & 7));
				f = mix(f * FANOUT + k + 1) % nf;
			}
			/* Leaf first; a return address points a few bytes into its function. */
			for (uint32_t d = 0; d < depth; d++)
				frames[d] = bias + fn[path[depth - 1 - d]] + 1 + (mix(stack + d) & 3);
			rec_begin();
			put_varint(stack);
			put_varint(depth);
			put_varint(frames[0]);
			for (uint32_t d = 1; d < depth; d++)
				put_varint(fd_zigzag((int64_t)(frames[d] - frames[d - 1])));
			rec_end(FD_REC_STACK);
			defined[stack] = 1;
		}
		if ((rnd() & 63) == 0)
			tid = 31337 + (int)(rnd() % nthreads);
		if (tid != cur_tid) {
			rec_begin();
			put_varint((uint64_t)tid);
			rec_end(FD_REC_TID);
			cur_tid = tid;
		}
		time += 1000000000 / hz;
		rec_begin();
		put_varint(fd_zigzag((int64_t)(time - prev_time)));
		put_varint(stack);
		put_varint(1);
		rec_end(FD_REC_SAMPLE);
		prev_time = time;
	}
	rec_begin();
	put_varint(time);
	put_varint(nsamples);
	put_varint(nsamples);
	put_varint(0);
	put_varint(0);
	put_varint(FD_END_EXIT);
	rec_end(FD_REC_TRAILER);
	flush_chunk();
	if (fclose(out) != 0) {
		perror("export_gendump: close");
		return 1;
	}
	uint64_t used = 0;
	for (uint64_t s = 1; s <= nstacks; s++)
		used += defined[s];
	printf("samples=%llu\nstacks=%llu\nfile_bytes=%llu\n", (unsigned long long)nsamples,
	       (unsigned long long)used, (unsigned long long)file_bytes);
	free(buf);
	free(defined);
	free(fn);
	return 0;
}
