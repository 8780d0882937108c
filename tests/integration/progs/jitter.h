/* A call length's jitter for the test programs that run functions in a
 * round (ci_work, attach_target, jit_synth): a factor from 0.5 to 1.5,
 * uniform, pseudo-random, the same sequence in every run from the same
 * seed. A round of fixed length aliases with the kernel's 4 ms tick, which
 * drives the CPU clock's timer (warm30 read 38.8% for 30, jit_hot_fn 22-33%
 * for 60, ci_work's shares erred far beyond the binomial error); varying
 * each call's length breaks that. */
#ifndef PROGS_JITTER_H
#define PROGS_JITTER_H

#include <stdint.h>

/* The seed the programs start from. */
#define JITTER_SEED 12345u

/* The next factor, in [0.5, 1.5), of the generator in *seed (a linear
 * congruential one; its top 24 bits). */
static inline double jitter(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return 0.5 + (double)(*seed >> 8) / (double)(1u << 24);
}

#endif
