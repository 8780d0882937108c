/* Writes a synthetic fathom dump with known contents, for the fuzz corpus and
 * the big-dump benchmark: many events over few distinct stacks and a bounded
 * set of live blocks, so an analyzer whose memory follows events (and not
 * stacks and live blocks) shows it. It prints the facts the dump holds
 * (allocation calls and bytes, peak, leaks, samples) as key=value lines. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gendump.h"

struct opts {
	uint64_t events, bytes, seed;
	uint32_t stacks, live, threads, chunk;
	/* Frames come from this many distinct addresses (0: anywhere in the
	 * module): real stacks are combinations of a limited set of call sites. */
	uint32_t addrs;
	uint32_t sample_every;	/* one CPU sample per this many allocation events */
	uint32_t sample_weight; /* the periods each sample stands for (a late timer: more than 1) */
	int no_trailer;
};

struct block {
	uint64_t ptr, size;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	return gd_rand(&rng_state);
}

/* The encoder streams the dump to the output file, one chunk at a time. */
static struct fdw w;

static void usage(void)
{
	fprintf(stderr,
		"usage: stress_gendump [--events N | --bytes SIZE] [--stacks N] [--live N] [--threads N]\n"
		"                      [--chunk BYTES] [--sample-every N] [--seed N] [--addrs N]\n"
		"                      [--no-trailer] OUT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = {.events = 100000,
			 .stacks = 1000,
			 .live = 10000,
			 .threads = 4,
			 .chunk = 256 << 10,
			 .sample_every = 20,
			 .sample_weight = 1,
			 .seed = 1};
	const struct gd_opt opts[] = {
	    {"events", GD_U64, &o.events},
	    {"bytes", GD_U64, &o.bytes},
	    {"stacks", GD_U32, &o.stacks},
	    {"live", GD_U32, &o.live},
	    {"threads", GD_U32, &o.threads},
	    {"chunk", GD_U32, &o.chunk},
	    {"sample-every", GD_U32, &o.sample_every},
	    {"seed", GD_U64, &o.seed},
	    {"no-trailer", GD_FLAG, &o.no_trailer},
	    {"addrs", GD_U32, &o.addrs},
	    {"sample-weight", GD_U32, &o.sample_weight},
	};
	if (gd_options(argc, argv, opts, sizeof(opts) / sizeof(opts[0])) < 0)
		usage();
	if (o.bytes)
		o.events = UINT64_MAX;
	if (optind + 1 != argc || o.stacks < 1 || o.live < 1 || o.threads < 1 || o.chunk < 4096 ||
	    o.chunk > FD_CHUNK_MAX_RAW)
		usage();
	FILE *out = fopen(argv[optind], "wb");
	if (!out) {
		fprintf(stderr, "stress_gendump: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	rng_state = o.seed;
	uint8_t *defined = calloc(o.stacks + 1, 1);
	struct block *live = calloc(o.live, sizeof(*live));
	uint64_t *free_slots = calloc(o.live, sizeof(*free_slots));
	if (!defined || !live || !free_slots)
		return 1;
	/* Addresses come from o.live slots: a freed slot is reused first (LIFO),
	 * so the same address is allocated again and again, as malloc does. */
	uint32_t nfree = o.live, nlive = 0;
	for (uint32_t i = 0; i < o.live; i++)
		free_slots[i] = 0x7f0000000000ULL + (uint64_t)(o.live - 1 - i) * 0x10000;

	const uint64_t mod_start = 0x555555554000ULL, mod_end = mod_start + 0x400000;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;

	fdw_init_file(&w, out);
	fdw_header_at(&w, 4242, 1, 1000000000ULL, 99, FD_ALLOC_EXACT, "/usr/bin/stress-synthetic",
		      "stress-synthetic\0--gen", 22);
	fdw_module_bid(&w, 1, mod_start, mod_start, mod_end, "/nonexistent/stress-synthetic",
		       "\x12\x34\x56\x78", 4, 0);
	for (uint32_t t = 0; t < o.threads; t++) {
		char name[32];
		snprintf(name, sizeof(name), "worker-%u", t);
		fdw_thread(&w, 4242 + (int)t, 0, name);
	}

	uint64_t seq = 0, time = 0, samples = 0, calls = 0, bytes = 0, events = 0;
	uint64_t heap = 0, peak = 0, frees = 0, ndefined = 0;
	uint64_t frames[FD_MAX_FRAMES];
	int tid = 4242;
	for (uint64_t i = 0; i < o.events; i++) {
		if (o.bytes && w.written + w.clen >= o.bytes)
			break;
		/* Threads take turns in runs of about 64 events. */
		if ((rnd() & 63) == 0)
			tid = 4242 + (int)(rnd() % o.threads);
		uint32_t stack = 1 + (uint32_t)(rnd() % o.stacks);
		gd_room(&w, FD_MAX_FRAMES * 10 + 64, o.chunk);
		if (!defined[stack]) {
			/* Each stack's frames follow from its id alone. */
			uint64_t save = rng_state;
			rng_state = stack * 0x9e3779b97f4a7c15ULL;
			uint32_t depth = 4 + (uint32_t)(rnd() % 28);
			for (uint32_t f = 0; f < depth; f++)
				frames[f] = o.addrs
						? mod_start + 0x1000 + (rnd() % o.addrs) * 0x20
						: mod_start + 0x1000 + rnd() % (mod_end - mod_start - 0x1000);
			rng_state = save;
			fdw_stack(&w, stack, depth, frames);
			defined[stack] = 1;
			ndefined++;
		}
		fdw_switch_tid(&w, tid);
		time += 1000 + rnd() % 1000;
		uint64_t r = rnd();
		/* Allocations win while fewer than half the slots are live, so the
		 * live set hovers around o.live / 2 blocks. */
		int do_alloc = nlive == 0 || (nfree > 0 && (r >> 3) % o.live >= nlive);
		if (do_alloc && nlive > 0 && (r & 0x1e) == 0) {
			/* realloc of a live block to a new address */
			uint32_t k = (uint32_t)((r >> 8) % nlive);
			uint64_t size = 1 + (r >> 32) % 8192;
			uint64_t nptr = free_slots[--nfree];
			free_slots[nfree++] = live[k].ptr;
			fdw_realloc(&w, ++seq, stack, size, live[k].ptr, nptr);
			heap = heap - live[k].size + size;
			live[k].ptr = nptr;
			live[k].size = size;
			calls++;
			bytes += size;
		} else if (do_alloc) {
			uint64_t size = (r >> 40) % 7 ? 8 + (r >> 16) % 512 : 1 + (r >> 16) % 65536;
			uint64_t ptr = free_slots[--nfree];
			fdw_alloc(&w, ++seq, stack, size, ptr);
			live[nlive].ptr = ptr;
			live[nlive++].size = size;
			heap += size;
			calls++;
			bytes += size;
		} else {
			uint32_t k = (uint32_t)((r >> 8) % nlive);
			fdw_free_ev(&w, ++seq, live[k].ptr);
			free_slots[nfree++] = live[k].ptr;
			heap -= live[k].size;
			live[k] = live[--nlive];
			frees++;
		}
		events++;
		if (heap > peak)
			peak = heap;
		if (o.sample_every && i % o.sample_every == 0) {
			fdw_sample(&w, time, stack, o.sample_weight);
			samples++;
		}
		if (i % 10000 == 0) {
			fdw_tick(&w, time, seq, 64 << 20, heap);
		}
	}
	if (!o.no_trailer) {
		gd_room(&w, 64, o.chunk);
		fdw_trailer_ev(&w, time, samples, samples * o.sample_weight, 0, events);
	}
	if (w.clen)
		fdw_flush(&w, false);
	fdw_free(&w);
	if (fclose(out) != 0 || w.write_error) {
		perror("stress_gendump: close");
		return 1;
	}
	uint64_t leaked = 0;
	for (uint32_t k = 0; k < nlive; k++)
		leaked += live[k].size;
	printf("file_bytes=%llu\nchunks=%u\nevents=%llu\nalloc_calls=%llu\nalloc_bytes=%llu\nfrees=%llu\n"
	       "peak_bytes=%llu\nleaked_bytes=%llu\nleaked_blocks=%u\nsamples=%llu\nstacks=%llu\n",
	       (unsigned long long)w.written, w.seq, (unsigned long long)events, (unsigned long long)calls,
	       (unsigned long long)bytes, (unsigned long long)frees, (unsigned long long)peak,
	       (unsigned long long)leaked, nlive, (unsigned long long)samples, (unsigned long long)ndefined);
	free(defined);
	free(live);
	free(free_slots);
	return 0;
}
