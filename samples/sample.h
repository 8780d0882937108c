/* What every sample shares: choosing the way (slow or fast) and reading the
 * optional size arguments, with a usage message for anything else. */
#ifndef FATHOM_SAMPLE_H
#define FATHOM_SAMPLE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns 0 for "slow", 1 for "fast"; prints the usage and exits 2 otherwise. */
static inline int sample_way(int argc, char **argv, const char *usage)
{
	if (argc >= 2 && strcmp(argv[1], "slow") == 0)
		return 0;
	if (argc >= 2 && strcmp(argv[1], "fast") == 0)
		return 1;
	fprintf(stderr, "usage: %s slow|fast %s\n", argc > 0 ? argv[0] : "sample", usage);
	exit(2);
}

/* argv[i] as a positive number, or def when it is absent; exits 2 when it is not
 * a number between 1 and max. */
static inline long sample_arg(int argc, char **argv, int i, long def, long max)
{
	if (i >= argc)
		return def;
	char *end;
	errno = 0;
	long v = strtol(argv[i], &end, 10);
	if (errno || end == argv[i] || *end || v < 1 || v > max) {
		fprintf(stderr, "%s: argument %d ('%s') must be a number from 1 to %ld\n", argv[0], i,
			argv[i], max);
		exit(2);
	}
	return v;
}

/* A small, fast, deterministic generator (splitmix64), so both ways see the same
 * input without depending on the C library's rand(). */
static inline unsigned long long sample_rand(unsigned long long *state)
{
	unsigned long long z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
