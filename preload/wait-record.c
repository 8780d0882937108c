/* The waiting profile's recording: which waits become WAIT records and with
 * which weight, their stacks (the malloc hooks' stack capture and cache,
 * alloc-record.c), the kind of a descriptor waited on, and the HOLD records
 * of contended releases.
 *
 * The estimator: a wait at least the threshold long (FATHOM_WAIT_THRESHOLD)
 * is recorded with weight_ns = its duration; a shorter wait of d ns is
 * recorded with probability d / threshold, with weight_ns = the threshold.
 * Each wait's expected weight is then d exactly, so the sum of weights over
 * any set of waits (a stack, a reason, a mutex, a thread) is an unbiased
 * estimate of their total waiting time, and a thread records at most one
 * wait per threshold of waiting on average, however short its waits.
 *
 * Context: the program's threads inside an interposed call, possibly in
 * the program's signal handlers: no locks, no stdio, errno preserved.
 * Recording runs with agent_guard set (so the agent's own calls are not
 * recorded, and a nested interposed call passes through) and busy set (a
 * sample landing meanwhile is deferred).
 */
#define _GNU_SOURCE
#include "wait.h"
#include "alloc-record.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>

volatile int agent_wait_on;

/* The thread's generator (xorshift64*), seeded on first use. */
static TLS uint64_t wait_rng;

static uint64_t next_random(void)
{
	uint64_t x = wait_rng;
	if (UNLIKELY(!x))
		x = (agent_now() ^ (uint64_t)(uintptr_t)&wait_rng) * 0x9e3779b97f4a7c15ull | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	wait_rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

int wait_chance(uint64_t num, uint64_t den)
{
	if (num >= den)
		return 1;
	return (uint64_t)(((unsigned __int128)next_random() * den) >> 64) < num;
}

/* What kind of descriptor fd is (FD_FDK_*); with nb, -1 when it is
 * non-blocking (a call on it does not wait). One fstat, and only for a
 * wait that is being recorded. */
static int fd_kind(int fd, int nb)
{
	if (nb) {
		int fl = fcntl(fd, F_GETFL);
		if (fl >= 0 && (fl & O_NONBLOCK))
			return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0)
		return FD_FDK_OTHER;
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR: /* fsync of a directory, after creating a file in it */
	case S_IFBLK:
		return FD_FDK_FILE;
	case S_IFSOCK:
		return FD_FDK_SOCKET;
	case S_IFIFO:
		return FD_FDK_PIPE;
	case S_IFCHR: {
		struct termios tio;
		return ioctl(fd, TCGETS, &tio) == 0 ? FD_FDK_TTY : FD_FDK_OTHER;
	}
	}
	return FD_FDK_OTHER;
}

/* The thread's state, inside the guard and out of reach of cancellation
 * (the stack capture may wait for the writer, whose work makes system
 * calls that are cancellation points). NULL: nothing to record. */
static struct tstate *record_begin(int *cs)
{
	struct tstate *t = agent_tls;
	if (!t && !(t = thread_attach()))
		return NULL;
	agent_guard = 1;
	NO_CANCEL_BEGIN(*cs);
	thread_busy_on(t);
	return t;
}

static void record_end(struct tstate *t, int cs)
{
	thread_busy_off(t);
	NO_CANCEL_END(cs);
	agent_guard = 0;
}

void wait_done(uint64_t t0, uint64_t t1, unsigned reason, uint64_t object, unsigned flags, uint64_t ra,
	       uint64_t sp)
{
	uint64_t d = t1 > t0 ? t1 - t0 : 0, th = agent_cfg.wait_threshold_ns, weight = d;
	if (d < th) {
		if (!wait_chance(d, th))
			return;
		weight = th;
	}
	/* Recording may have stopped meanwhile (exit on another thread). */
	if (!agent_wait_on || agent_guard)
		return;
	int saved = errno, cs;
	int kind = FD_FDK_NONE;
	if ((flags & WAIT_FD) && (int)object >= 0 && (kind = fd_kind((int)object, flags & WAIT_NB)) < 0)
		goto out;
	struct tstate *t = record_begin(&cs);
	if (!t)
		goto out;
	uint32_t id = arec_stack(t, ra, sp, NULL, NULL);
	if (id) {
		uint64_t s[6];
		thread_push_wait(t, s, wait_event(s, reason, (unsigned)kind, t0, id, d, object, weight));
	}
	record_end(t, cs);
out:
	errno = saved;
}

void wait_hold(uint64_t object, uint64_t held_ns, uint64_t weight, uint64_t ra, uint64_t sp)
{
	if (!agent_wait_on || agent_guard)
		return;
	int saved = errno, cs;
	struct tstate *t = record_begin(&cs);
	if (t) {
		uint32_t id = arec_stack(t, ra, sp, NULL, NULL);
		if (id) {
			uint64_t s[5] = {EV_W0(EV_HOLD, 5, 0), object, id, held_ns, weight};
			thread_push_wait(t, s, 5);
		}
		record_end(t, cs);
	}
	errno = saved;
}
