/* Lock and blocking-call semantics the waiting profile's interposers must
 * keep, for test-wait-agent-semantics: a robust mutex whose owner dies
 * (also while another thread waits for it) gives EOWNERDEAD; PI mutexes
 * contended and timed out (ETIMEDOUT); error-checking EDEADLK and EPERM;
 * recursive counts; a timed lock's ETIMEDOUT; threads cancelled while
 * blocked in pthread_cond_wait and read; EINTR from the program's own
 * signal in read; then a 50 ms sleep in after_all. One line per check
 * ("ok" or "BAD"); exits with the number of bad ones. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int bad;

static void check(const char *what, int ok)
{
	printf("%s %s\n", what, ok ? "ok" : "BAD");
	bad += !ok;
}

static void ms(int n)
{
	struct timespec ts = {n / 1000, (long)(n % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static struct timespec in_ms(int n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)n * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

static atomic_int ready;
static pthread_mutex_t m;

static void *dies_holding(void *a)
{
	pthread_mutex_lock(&m);
	atomic_store(&ready, 1);
	ms((int)(long)a);
	return NULL; /* ends with m held */
}

static void *lock_hold_50(void *a)
{
	pthread_mutex_lock(&m);
	atomic_store(&ready, 1);
	ms(50);
	pthread_mutex_unlock(&m);
	return a;
}

/* Holds m until the test is done with it (release): a timed lock must time
 * out however late the loaded machine runs the test after the start. */
static atomic_int release;

static void *lock_hold_released(void *a)
{
	pthread_mutex_lock(&m);
	atomic_store(&ready, 1);
	while (!atomic_load(&release))
		ms(5);
	pthread_mutex_unlock(&m);
	return a;
}

static void let_go(pthread_t th)
{
	atomic_store(&release, 1);
	pthread_join(th, NULL);
	atomic_store(&release, 0);
}

static pthread_t start(void *(*fn)(void *), void *arg)
{
	pthread_t th;
	atomic_store(&ready, 0);
	pthread_create(&th, NULL, fn, arg);
	while (!atomic_load(&ready))
		sched_yield();
	return th;
}

static void init(int type, int robust, int proto)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	if (robust)
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (proto)
		pthread_mutexattr_setprotocol(&a, proto);
	pthread_mutex_init(&m, &a);
	pthread_mutexattr_destroy(&a);
}

static void robust(int pi)
{
	char what[64];
	init(PTHREAD_MUTEX_NORMAL, 1, pi ? PTHREAD_PRIO_INHERIT : 0);
	/* The owner is already dead when the lock is asked for. */
	pthread_t th = start(dies_holding, (void *)0L);
	pthread_join(th, NULL);
	snprintf(what, sizeof(what), "robust%s dead owner: EOWNERDEAD", pi ? " PI" : "");
	check(what, pthread_mutex_lock(&m) == EOWNERDEAD);
	check("  made consistent", pthread_mutex_consistent(&m) == 0 && pthread_mutex_unlock(&m) == 0);
	/* The owner dies while this thread waits for it. */
	th = start(dies_holding, (void *)50L);
	snprintf(what, sizeof(what), "robust%s owner dies while waited for: EOWNERDEAD", pi ? " PI" : "");
	check(what, pthread_mutex_lock(&m) == EOWNERDEAD);
	pthread_mutex_consistent(&m);
	pthread_mutex_unlock(&m);
	pthread_join(th, NULL);
	check("  then locks plainly", pthread_mutex_lock(&m) == 0 && pthread_mutex_unlock(&m) == 0);
	pthread_mutex_destroy(&m);
}

static void pi(void)
{
	init(PTHREAD_MUTEX_NORMAL, 0, PTHREAD_PRIO_INHERIT);
	pthread_t th = start(lock_hold_50, NULL);
	check("PI contended lock", pthread_mutex_lock(&m) == 0 && pthread_mutex_unlock(&m) == 0);
	pthread_join(th, NULL);
	th = start(lock_hold_released, NULL);
	struct timespec ts = in_ms(10);
	check("PI timedlock: ETIMEDOUT", pthread_mutex_timedlock(&m, &ts) == ETIMEDOUT);
	let_go(th);
	pthread_mutex_destroy(&m);
}

static void *unlock_other(void *a)
{
	(void)a;
	return (void *)(long)pthread_mutex_unlock(&m);
}

static void *trylock_other(void *a)
{
	(void)a;
	int r = pthread_mutex_trylock(&m);
	if (r == 0)
		pthread_mutex_unlock(&m);
	return (void *)(long)r;
}

static long other(void *(*fn)(void *))
{
	pthread_t th;
	void *r;
	pthread_create(&th, NULL, fn, NULL);
	pthread_join(th, &r);
	return (long)r;
}

static void errorcheck_recursive(void)
{
	init(PTHREAD_MUTEX_ERRORCHECK, 0, 0);
	pthread_mutex_lock(&m);
	check("errorcheck relock: EDEADLK", pthread_mutex_lock(&m) == EDEADLK);
	struct timespec ts = in_ms(10);
	check("errorcheck timed relock: EDEADLK", pthread_mutex_timedlock(&m, &ts) == EDEADLK);
	check("errorcheck unlock by another thread: EPERM", other(unlock_other) == EPERM);
	pthread_mutex_unlock(&m);
	check("errorcheck unlock unlocked: EPERM", pthread_mutex_unlock(&m) == EPERM);
	pthread_mutex_destroy(&m);

	init(PTHREAD_MUTEX_RECURSIVE, 0, 0);
	int r = pthread_mutex_lock(&m) | pthread_mutex_lock(&m);
	check("recursive lock twice", r == 0);
	pthread_mutex_unlock(&m);
	check("recursive: still held after one unlock", other(trylock_other) == EBUSY);
	pthread_mutex_unlock(&m);
	check("recursive: free after two", other(trylock_other) == 0);
	pthread_mutex_destroy(&m);

	init(PTHREAD_MUTEX_NORMAL, 0, 0);
	pthread_t th = start(lock_hold_released, NULL);
	ts = in_ms(10);
	check("timedlock: ETIMEDOUT", pthread_mutex_timedlock(&m, &ts) == ETIMEDOUT);
	ts.tv_nsec = 2000000000;
	check("timedlock, bad abstime: EINVAL", pthread_mutex_timedlock(&m, &ts) == EINVAL);
	let_go(th);
	pthread_mutex_destroy(&m);
}

/* ---- cancellation */
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int pfd[2];

static void unlock_cm(void *a)
{
	(void)a;
	pthread_mutex_unlock(&cm);
}

static void *in_cond_wait(void *a)
{
	pthread_mutex_lock(&cm);
	pthread_cleanup_push(unlock_cm, NULL);
	atomic_store(&ready, 1);
	for (;;)
		pthread_cond_wait(&cv, &cm);
	pthread_cleanup_pop(1);
	return a;
}

static void *in_read(void *a)
{
	char c;
	atomic_store(&ready, 1);
	for (;;)
		if (read(pfd[0], &c, 1) == 0)
			break;
	return a;
}

static void cancel(void)
{
	void *r;
	pthread_t th = start(in_cond_wait, NULL);
	ms(30);
	pthread_cancel(th);
	pthread_join(th, &r);
	check("cancelled in pthread_cond_wait", r == PTHREAD_CANCELED);
	check("  its mutex released by the cleanup", pthread_mutex_trylock(&cm) == 0);
	pthread_mutex_unlock(&cm);
	if (pipe(pfd) < 0)
		return;
	th = start(in_read, NULL);
	ms(30);
	pthread_cancel(th);
	pthread_join(th, &r);
	check("cancelled in read", r == PTHREAD_CANCELED);
}

/* ---- EINTR */
static void on_usr1(int s)
{
	(void)s;
}

static void *read_eintr(void *a)
{
	char c;
	atomic_store(&ready, 1);
	ssize_t n = read(pfd[0], &c, 1);
	return (void *)(long)(n < 0 ? errno : 0);
}

static void eintr(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1; /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	pthread_t th = start(read_eintr, NULL);
	ms(50);
	pthread_kill(th, SIGUSR1);
	void *r;
	/* A read that swallowed the EINTR would block for good: a byte ends
	 * it after 2 s (and the check fails). */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	if (pthread_timedjoin_np(th, &r, &ts) != 0) {
		if (write(pfd[1], "x", 1) != 1)
			perror("write");
		pthread_join(th, &r);
	}
	check("read interrupted by the program's signal: EINTR", (long)r == EINTR);
}

__attribute__((noinline)) void after_all(void)
{
	ms(50);
	__asm__ volatile("" ::: "memory");
}

int main(void)
{
	robust(0);
	robust(1);
	pi();
	errorcheck_recursive();
	cancel();
	eintr();
	after_all();
	printf("%d bad\n", bad);
	return bad;
}
