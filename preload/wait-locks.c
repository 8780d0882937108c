/* The lock interposers of the waiting profile: pthread mutexes, rwlocks,
 * spin locks and barriers. A lock first tries (trylock): an uncontended
 * lock costs that one call and records nothing; a contended one is timed
 * around the real blocking call and handed to the estimator (wait-record.c).
 * A mutex released with waiters queued is a contended release, sampled as
 * a HOLD on the releaser's stack: the holder's site.
 *
 * The agent's own mutexes (wlock, modlock) never come here: they call
 * agent_mutex_*, which go straight to the C library (a call inside
 * libfathom.so to pthread_mutex_lock would bind to the interposer below).
 *
 * Context: the program's threads, any function that locks; the real calls
 * keep their semantics and return values (robust, PI, recursive and
 * error-checking mutexes alike); nothing here is a cancellation point.
 */
#define _GNU_SOURCE
#include "wait.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>

/* The C library's functions, each resolved by a stub on first call (which
 * may come before the agent's constructor): the interposers' fast path is
 * then one test and one indirect call. */
#define REAL(name, params, args)                                                                             \
	static int name##_resolve params;                                                                    \
	static int(*real_##name) params = name##_resolve;                                                    \
	static int name##_resolve params                                                                     \
	{                                                                                                    \
		int(*f) params = agent_dlsym_next(#name);                                                    \
		if (!f)                                                                                      \
			return ENOSYS;                                                                       \
		__atomic_store_n(&real_##name, f, __ATOMIC_RELAXED);                                         \
		return f args;                                                                               \
	}

REAL(pthread_mutex_lock, (pthread_mutex_t * m), (m))
REAL(pthread_mutex_trylock, (pthread_mutex_t * m), (m))
REAL(pthread_mutex_unlock, (pthread_mutex_t * m), (m))
REAL(pthread_mutex_timedlock, (pthread_mutex_t * m, const struct timespec *ts), (m, ts))
REAL(pthread_mutex_clocklock, (pthread_mutex_t * m, clockid_t c, const struct timespec *ts), (m, c, ts))
REAL(pthread_rwlock_rdlock, (pthread_rwlock_t * l), (l))
REAL(pthread_rwlock_wrlock, (pthread_rwlock_t * l), (l))
REAL(pthread_rwlock_tryrdlock, (pthread_rwlock_t * l), (l))
REAL(pthread_rwlock_trywrlock, (pthread_rwlock_t * l), (l))
REAL(pthread_rwlock_timedrdlock, (pthread_rwlock_t * l, const struct timespec *ts), (l, ts))
REAL(pthread_rwlock_timedwrlock, (pthread_rwlock_t * l, const struct timespec *ts), (l, ts))
REAL(pthread_rwlock_clockrdlock, (pthread_rwlock_t * l, clockid_t c, const struct timespec *ts), (l, c, ts))
REAL(pthread_rwlock_clockwrlock, (pthread_rwlock_t * l, clockid_t c, const struct timespec *ts), (l, c, ts))
REAL(pthread_spin_lock, (pthread_spinlock_t * l), (l))
REAL(pthread_spin_trylock, (pthread_spinlock_t * l), (l))
REAL(pthread_barrier_wait, (pthread_barrier_t * b), (b))

/* A contended release stands for this many (on average): one in HOLD_EVERY
 * is recorded, drawn at random, so that holders' sites are unbiased. */
#define HOLD_EVERY 4

/* ------------------------------------------------- the agent's own mutexes */

int agent_mutex_lock(pthread_mutex_t *m)
{
	return real_pthread_mutex_lock(m);
}

int agent_mutex_trylock(pthread_mutex_t *m)
{
	return real_pthread_mutex_trylock(m);
}

int agent_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts)
{
	return real_pthread_mutex_timedlock(m, ts);
}

int agent_mutex_unlock(pthread_mutex_t *m)
{
	return real_pthread_mutex_unlock(m);
}

/* ----------------------------------------------------- how long held */

/* The mutexes this thread acquired after waiting (or got back from a
 * condition wait), with the time: a contended release of one of them says
 * how long it was held. An acquisition that did not wait is not timed (its
 * clock read would double an uncontended lock's cost): its release says 0,
 * unknown. held_n counts the slots in use, so that an unlock tests it alone. */
#define HELD_SLOTS 4
static TLS struct held {
	const void *m;
	uint64_t at;
} held[HELD_SLOTS];
static TLS unsigned held_n, held_rr;

void wait_held_note(const void *m, uint64_t at)
{
	struct held *free_slot = NULL;
	for (unsigned i = 0; i < HELD_SLOTS; i++) {
		if (held[i].m == m) {
			held[i].at = at;
			return;
		}
		if (!held[i].m && !free_slot)
			free_slot = &held[i];
	}
	if (!free_slot) {
		free_slot = &held[held_rr++ % HELD_SLOTS];
		held_n--;
	}
	free_slot->m = m;
	free_slot->at = at;
	held_n++;
}

/* The time m was acquired at, forgotten (0: unknown). */
static uint64_t held_take(const void *m)
{
	for (unsigned i = 0; i < HELD_SLOTS; i++) {
		if (held[i].m == m) {
			held[i].m = NULL;
			held_n--;
			return held[i].at;
		}
	}
	return 0;
}

/* glibc's mutex (struct __pthread_mutex_s, x86-64, as in glibc 2.36): for
 * the normal, recursive, error-checking and adaptive types __lock is 0
 * (free), 1 (locked) or 2 (locked, and a thread went to wait on it); robust
 * and PI mutexes hold the owner's tid, with FUTEX_WAITERS (bit 31) once a
 * thread waits in the kernel. A recursive mutex is released when its count
 * is 1. Priority-protected mutexes are not read. These are reads only: a
 * layout that differed would make wrong HOLD records, never a wrong lock. */
#define MUTEX_KIND_MASK 3
#define MUTEX_ROBUST 16
#define MUTEX_PI 32
#define MUTEX_PP 64
#define MUTEX_FUTEX_WAITERS 0x80000000u

static inline int released_with_waiters(pthread_mutex_t *m)
{
#if defined(__GLIBC__) && defined(__x86_64__)
	int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
	unsigned lock = (unsigned)__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
	int waiters;
	if (LIKELY(!(kind & (MUTEX_ROBUST | MUTEX_PI | MUTEX_PP))))
		waiters = lock == 2;
	else if (kind & MUTEX_PP)
		return 0;
	else
		waiters = (lock & MUTEX_FUTEX_WAITERS) != 0;
	return waiters && ((kind & MUTEX_KIND_MASK) != PTHREAD_MUTEX_RECURSIVE_NP || m->__data.__count <= 1);
#else
	(void)m;
	return 0;
#endif
}

/* -------------------------------------------------------------- mutexes */

enum { HOW_LOCK, HOW_TIMED, HOW_CLOCK };

/* The mutex is taken: the blocking call, timed. */
static BLOCKER int mutex_wait(pthread_mutex_t *m, int how, clockid_t c, const struct timespec *ts,
			      uint64_t ra, uint64_t sp)
{
	uint64_t t0 = wait_start();
	int r = how == HOW_LOCK	   ? real_pthread_mutex_lock(m)
		: how == HOW_TIMED ? real_pthread_mutex_timedlock(m, ts)
				   : real_pthread_mutex_clocklock(m, c, ts);
	if (t0 && r != EDEADLK) {
		uint64_t t1 = agent_now();
		if (r == 0 || r == EOWNERDEAD)
			wait_held_note(m, t1);
		wait_done(t0, t1, FD_WAIT_MUTEX, (uintptr_t)m, 0, ra, sp);
	}
	return r;
}

/* Not recording: the C library's call alone. Else one trylock: anything
 * but EBUSY (0, EOWNERDEAD, ENOTRECOVERABLE, EINVAL, EAGAIN) is what the
 * lock itself would have returned without blocking. */
EXPORT_BLOCKER int pthread_mutex_lock(pthread_mutex_t *m)
{
	if (LIKELY(!agent_wait_on))
		return real_pthread_mutex_lock(m);
	int r = real_pthread_mutex_trylock(m);
	if (LIKELY(r != EBUSY))
		return r;
	return mutex_wait(m, HOW_LOCK, 0, NULL, WAIT_RA, WAIT_SP);
}

/* An abstime glibc would refuse is checked only when the mutex is taken,
 * as glibc does. */
EXPORT_BLOCKER int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts)
{
	if (LIKELY(!agent_wait_on))
		return real_pthread_mutex_timedlock(m, ts);
	int r = real_pthread_mutex_trylock(m);
	if (LIKELY(r != EBUSY))
		return r;
	return mutex_wait(m, HOW_TIMED, 0, ts, WAIT_RA, WAIT_SP);
}

EXPORT_BLOCKER int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t c, const struct timespec *ts)
{
	if (LIKELY(!agent_wait_on))
		return real_pthread_mutex_clocklock(m, c, ts);
	int r = real_pthread_mutex_trylock(m);
	if (LIKELY(r != EBUSY))
		return r;
	return mutex_wait(m, HOW_CLOCK, c, ts, WAIT_RA, WAIT_SP);
}

/* A release with waiters (or of a mutex whose acquisition was timed). The
 * state is read before the real unlock (which resets it), the HOLD
 * recorded after it, so that the waiters do not wait for the agent. */
static __attribute__((noinline)) int unlock_slow(pthread_mutex_t *m, uint64_t ra, uint64_t sp)
{
	uint64_t at = held_n ? held_take(m) : 0;
	int contended = released_with_waiters(m);
	int r = real_pthread_mutex_unlock(m);
	if (r == 0 && contended && !agent_guard && wait_chance(1, HOLD_EVERY))
		wait_hold((uintptr_t)m, at ? agent_now() - at : 0, HOLD_EVERY, ra, sp);
	return r;
}

EXPORT_BLOCKER int pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (LIKELY(!agent_wait_on))
		return real_pthread_mutex_unlock(m);
	if (LIKELY(!held_n) && LIKELY(!released_with_waiters(m)))
		return real_pthread_mutex_unlock(m);
	return unlock_slow(m, WAIT_RA, WAIT_SP);
}

/* -------------------------------------------------------------- rwlocks */

static BLOCKER int rwlock_wait(pthread_rwlock_t *l, int wr, int how, clockid_t c, const struct timespec *ts,
			       uint64_t ra, uint64_t sp)
{
	uint64_t t0 = wait_start();
	int r;
	if (how == HOW_LOCK)
		r = wr ? real_pthread_rwlock_wrlock(l) : real_pthread_rwlock_rdlock(l);
	else if (how == HOW_TIMED)
		r = wr ? real_pthread_rwlock_timedwrlock(l, ts) : real_pthread_rwlock_timedrdlock(l, ts);
	else
		r = wr ? real_pthread_rwlock_clockwrlock(l, c, ts)
		       : real_pthread_rwlock_clockrdlock(l, c, ts);
	if (t0 && r != EDEADLK)
		wait_done(t0, agent_now(), FD_WAIT_RWLOCK, (uintptr_t)l, 0, ra, sp);
	return r;
}

#define RWLOCK_HOOK(name, params, args, wr, how, c, ts)                                                      \
	EXPORT_BLOCKER int name params                                                                       \
	{                                                                                                    \
		if (LIKELY(!agent_wait_on))                                                                  \
			return real_##name args;                                                             \
		int r = (wr) ? real_pthread_rwlock_trywrlock(l) : real_pthread_rwlock_tryrdlock(l);          \
		if (LIKELY(r != EBUSY))                                                                      \
			return r;                                                                            \
		return rwlock_wait(l, wr, how, c, ts, WAIT_RA, WAIT_SP);                                     \
	}

RWLOCK_HOOK(pthread_rwlock_rdlock, (pthread_rwlock_t * l), (l), 0, HOW_LOCK, 0, NULL)
RWLOCK_HOOK(pthread_rwlock_wrlock, (pthread_rwlock_t * l), (l), 1, HOW_LOCK, 0, NULL)
RWLOCK_HOOK(pthread_rwlock_timedrdlock, (pthread_rwlock_t * l, const struct timespec *ts), (l, ts), 0,
	    HOW_TIMED, 0, ts)
RWLOCK_HOOK(pthread_rwlock_timedwrlock, (pthread_rwlock_t * l, const struct timespec *ts), (l, ts), 1,
	    HOW_TIMED, 0, ts)
RWLOCK_HOOK(pthread_rwlock_clockrdlock, (pthread_rwlock_t * l, clockid_t c, const struct timespec *ts),
	    (l, c, ts), 0, HOW_CLOCK, c, ts)
RWLOCK_HOOK(pthread_rwlock_clockwrlock, (pthread_rwlock_t * l, clockid_t c, const struct timespec *ts),
	    (l, c, ts), 1, HOW_CLOCK, c, ts)

/* ------------------------------------------------- spin locks, barriers */

static BLOCKER int spin_wait(pthread_spinlock_t *l, uint64_t ra, uint64_t sp)
{
	uint64_t t0 = wait_start();
	int r = real_pthread_spin_lock(l);
	if (t0)
		wait_done(t0, agent_now(), FD_WAIT_SPIN, (uintptr_t)l, 0, ra, sp);
	return r;
}

EXPORT_BLOCKER int pthread_spin_lock(pthread_spinlock_t *l)
{
	if (LIKELY(!agent_wait_on))
		return real_pthread_spin_lock(l);
	int r = real_pthread_spin_trylock(l);
	if (LIKELY(r != EBUSY))
		return r;
	return spin_wait(l, WAIT_RA, WAIT_SP);
}

/* Every barrier wait waits (the last thread's, briefly). */
EXPORT_BLOCKER int pthread_barrier_wait(pthread_barrier_t *b)
{
	uint64_t t0 = wait_start();
	int r = real_pthread_barrier_wait(b);
	WAIT_END(t0, FD_WAIT_BARRIER, (uintptr_t)b, 0);
	return r;
}

/* ------------------------------------------------ syscall(SYS_futex) */

/* signal-action.c: libc's syscall(), and its resolution. */
extern long (*agent_real_syscall)(long, ...);
void *agent_syscall_resolve(void);

/* syscall(SYS_futex, ...) while waits are recorded, from the syscall()
 * stub (signal-action.c) with the caller's registers and stack, the
 * seventh argument where a call puts it: the futex calls that wait are
 * timed (a program's own locks; glibc's inline ones are out of reach).
 * The agent's own futex calls pass (agent_guard). */
__attribute__((used)) long agent_syscall_futex(long nr, long uaddr, long op, long val, long ts, long uaddr2,
					       long val3)
{
	long (*real)(long, ...) = agent_real_syscall;
	if (UNLIKELY(!real) && !(real = agent_syscall_resolve())) {
		errno = ENOSYS;
		return -1;
	}
	int cmd = (int)op & FUTEX_CMD_MASK;
	if (cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_LOCK_PI && cmd != FUTEX_LOCK_PI2 &&
	    cmd != FUTEX_WAIT_REQUEUE_PI)
		return real(nr, uaddr, op, val, ts, uaddr2, val3);
	uint64_t t0 = wait_start();
	long r = real(nr, uaddr, op, val, ts, uaddr2, val3);
	WAIT_END(t0, FD_WAIT_FUTEX, uaddr, 0);
	return r;
}
