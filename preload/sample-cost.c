/* The CPU sample's own cost, measured inside the agent when
 * FATHOM_DEBUG_COST=1 (for tests/bench/bench-sample-cost.sh): the time from
 * the handler's entry to the sample's stack interned, in a histogram, and
 * one line on stderr at the end with its median and 90th percentile after
 * the first samples (the warm-up that fills the unwinder's caches).
 * Off, it costs the handler one load of a flag.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <stdlib.h>

/* 50 ns buckets up to 12.8 µs; the last one holds everything above. */
#define SCOST_BUCKETS 256
#define SCOST_NS 50
#define SCOST_WARMUP 64

int scost_on;
static _Atomic uint64_t g_seen, g_hist[SCOST_BUCKETS], g_frames, g_ns;

void scost_setup(void)
{
	const char *s = getenv("FATHOM_DEBUG_COST");
	scost_on = s && s[0] == '1';
}

/* Context: signal, async-signal-safe. */
void scost_add(uint64_t ns, unsigned frames)
{
	if (atomic_fetch_add_explicit(&g_seen, 1, memory_order_relaxed) < SCOST_WARMUP)
		return;
	uint64_t b = ns / SCOST_NS;
	atomic_fetch_add_explicit(&g_hist[b < SCOST_BUCKETS ? b : SCOST_BUCKETS - 1], 1,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&g_frames, frames, memory_order_relaxed);
	atomic_fetch_add_explicit(&g_ns, ns, memory_order_relaxed);
}

/* The bucket's upper bound in ns where the share q of the samples is
 * reached. */
static uint64_t quantile(uint64_t total, double q)
{
	uint64_t want = (uint64_t)((double)total * q), sum = 0;
	for (int i = 0; i < SCOST_BUCKETS; i++)
		if ((sum += atomic_load(&g_hist[i])) > want)
			return (uint64_t)(i + 1) * SCOST_NS;
	return SCOST_BUCKETS * SCOST_NS;
}

/* At the end of the recording. Context: any thread, not signal. */
void scost_report(void)
{
	if (!scost_on)
		return;
	uint64_t seen = atomic_load(&g_seen);
	uint64_t n = seen > SCOST_WARMUP ? seen - SCOST_WARMUP : 0;
	if (!n) {
		say("fathom: debug: sample cost: %llu samples, none after the warm-up",
		    (unsigned long long)seen);
		return;
	}
	say("fathom: debug: sample cost: %llu samples after %d of warm-up, %.1f frames on average, median "
	    "<= %llu ns, p90 <= %llu ns, mean %llu ns",
	    (unsigned long long)n, SCOST_WARMUP, (double)atomic_load(&g_frames) / (double)n,
	    (unsigned long long)quantile(n, 0.5), (unsigned long long)quantile(n, 0.9),
	    (unsigned long long)(atomic_load(&g_ns) / n));
}
