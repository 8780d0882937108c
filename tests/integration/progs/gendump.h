/* What the synthetic dump generators (*_gendump.c) share: their option
 * parsing, their random numbers and the chunk room check, over
 * tests/unit/fdump-writer.h. */
#ifndef FATHOM_TEST_GENDUMP_H
#define FATHOM_TEST_GENDUMP_H

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fdump-writer.h"

/* splitmix64's finaliser: a well-mixed hash of z. */
static inline uint64_t gd_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* splitmix64: fast, and the same stream for the same seed (*state). */
static inline uint64_t gd_rand(uint64_t *state)
{
	return gd_mix(*state += 0x9e3779b97f4a7c15ULL);
}

/* Room for the next n bytes of records in the chunk: starts a new chunk when
 * this one (of chunk bytes at most) would overflow. */
static inline void gd_room(struct fdw *w, size_t n, size_t chunk)
{
	if (w->clen + n > chunk)
		fdw_flush(w, false);
}

/* Format 1.4's waits (fathom record --wait): a HEADER that says they were
 * recorded (every wait of threshold_ns or more, shorter ones sampled). */
static inline void gd_header_wait(struct fdw *w, int pid, int ppid, unsigned hz, const char *exe,
				  const char *cmdline, uint64_t threshold_ns)
{
	fdw_header_fields(w, pid, ppid, 5000000000ull, hz, FD_ALLOC_OFF, exe, cmdline, strlen(cmdline));
	fdw_u(w, threshold_ns);
	fdw_rec(w, FD_REC_HEADER);
}

/* A WAIT of the chunk's thread: it began at time (ns since the process's
 * start), lasted wait_ns and stands for weight_ns (docs/FORMAT.md). */
static inline void gd_wait(struct fdw *w, uint64_t time, uint64_t stack, uint64_t wait_ns, int reason,
			   uint64_t object, int fd_kind, uint64_t weight_ns)
{
	fdw_zz(w, (int64_t)(time - w->prev_time));
	w->prev_time = time;
	fdw_u(w, stack);
	fdw_u(w, wait_ns);
	fdw_u(w, (uint64_t)reason);
	fdw_u(w, object);
	fdw_u(w, (uint64_t)fd_kind);
	fdw_u(w, weight_ns);
	fdw_rec(w, FD_REC_WAIT);
}

/* A HOLD of the chunk's thread: it released mutex `object` at stack with
 * waiters queued, after holding it held_ns (0: unknown); weight releases. */
static inline void gd_hold(struct fdw *w, uint64_t object, uint64_t stack, uint64_t held_ns, uint64_t weight)
{
	fdw_u(w, object);
	fdw_u(w, stack);
	fdw_u(w, held_ns);
	fdw_u(w, weight);
	fdw_rec(w, FD_REC_HOLD);
}

/* A generator's option --NAME: a number (with an optional K, M or G suffix,
 * powers of 1024) into a uint64_t or a uint32_t, a string, or a flag (an
 * int set to 1). */
enum gd_kind { GD_U64, GD_U32, GD_STR, GD_FLAG };
struct gd_opt {
	const char *name;
	enum gd_kind kind;
	void *p;
};

/* Parses argv's options by opts (n of them, at most 16) into their
 * variables. Returns the index of the first operand, or -1 for an unknown
 * option or a bad value (the caller prints its usage). */
static inline int gd_options(int argc, char **argv, const struct gd_opt *opts, size_t n)
{
	struct option lo[17] = {{0}};
	for (size_t i = 0; i < n && i < 16; i++)
		lo[i] =
		    (struct option){opts[i].name, opts[i].kind == GD_FLAG ? no_argument : required_argument,
				    NULL, (int)i + 1};
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c < 1 || c > (int)n)
			return -1;
		const struct gd_opt *o = &opts[c - 1];
		if (o->kind == GD_FLAG) {
			*(int *)o->p = 1;
			continue;
		}
		if (o->kind == GD_STR) {
			*(const char **)o->p = optarg;
			continue;
		}
		char *end;
		errno = 0;
		unsigned long long v = strtoull(optarg, &end, 10);
		if (errno || end == optarg)
			return -1;
		if (*end == 'K' || *end == 'k')
			v <<= 10, end++;
		else if (*end == 'M')
			v <<= 20, end++;
		else if (*end == 'G')
			v <<= 30, end++;
		if (*end)
			return -1;
		if (o->kind == GD_U64)
			*(uint64_t *)o->p = v;
		else
			*(uint32_t *)o->p = (uint32_t)v;
	}
	return optind;
}

#endif
