/* One wait of each kind in a function of its own, each about 50 ms, for
 * test-wait-agent-kinds: a contended mutex (30 times 20 ms, its holder releasing
 * in hold_mutex), rwlock, spin lock, barrier, condition variable (whose
 * mutex is then held 30 ms more by the signaller: the re-acquisition is
 * the condition wait's), semaphore, futex through syscall(), join, child,
 * a write to a full pipe, poll; and non-blocking reads that fail with
 * EAGAIN in nb_read, which are no wait. Prints what it did; with
 * WAIT_KINDS_TIMES set, writes there how long each wait took by its own
 * clock ("wait_sem 49.87"): a loaded machine starts the waiter late, and the
 * wait is then shorter than the helper's 50 ms. Helpers whose waiter
 * sleeps in the kernel start their 50 ms only once the main thread is
 * asleep (its state in /proc), so that a waiter preempted for 50 ms on a
 * loaded machine still waits. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "asleep.h"

#define NOINLINE __attribute__((noinline))
#define KEEP() __asm__ volatile("" ::: "memory")

static void ms(int n)
{
	struct timespec ts = {n / 1000, (long)(n % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static atomic_int ready;

/* The program's own measure of each wait, in ms. */
static struct {
	const char *name;
	double ms;
} own[16];
static int nown;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Runs CALL, timed by the program's clock under NAME. */
#define TIMED(name, call)                                                                                    \
	do {                                                                                                 \
		double t0_ = now_ms();                                                                       \
		call;                                                                                        \
		if (nown < (int)(sizeof(own) / sizeof(own[0])))                                              \
			own[nown++] = (typeof(own[0])){name, now_ms() - t0_};                                \
	} while (0)

static void write_own(void)
{
	const char *path = getenv("WAIT_KINDS_TIMES");
	FILE *f = path ? fopen(path, "w") : NULL;
	if (!f)
		return;
	for (int i = 0; i < nown; i++)
		fprintf(f, "%s %.3f\n", own[i].name, own[i].ms);
	fclose(f);
}

/* Runs fn on a helper thread and waits until it says it is ready. */
static pthread_t helper(void *(*fn)(void *))
{
	pthread_t th;
	atomic_store(&ready, 0);
	pthread_create(&th, NULL, fn, NULL);
	while (!atomic_load(&ready))
		sched_yield();
	return th;
}

/* Waits until the main thread sleeps in the kernel: in its wait, since
 * between saying ready and waiting it only yields. */
static void main_asleep(void)
{
	thread_asleep(getpid());
}

static void join(pthread_t th)
{
	pthread_join(th, NULL);
}

/* ---- mutex */
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;

NOINLINE void hold_mutex(void)
{
	pthread_mutex_lock(&mtx);
	atomic_store(&ready, 1);
	ms(20);
	pthread_mutex_unlock(&mtx);
	KEEP();
}

static void *mutex_holder(void *a)
{
	hold_mutex();
	return a;
}

NOINLINE void wait_mutex(void)
{
	pthread_mutex_lock(&mtx);
	KEEP();
	pthread_mutex_unlock(&mtx);
}

/* ---- rwlock */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;

static void *rw_holder(void *a)
{
	pthread_rwlock_wrlock(&rw);
	atomic_store(&ready, 1);
	main_asleep();
	ms(50);
	pthread_rwlock_unlock(&rw);
	return a;
}

NOINLINE void wait_rwlock(void)
{
	pthread_rwlock_rdlock(&rw);
	KEEP();
	pthread_rwlock_unlock(&rw);
}

/* ---- spin */
static pthread_spinlock_t spin;

static void *spin_holder(void *a)
{
	pthread_spin_lock(&spin);
	atomic_store(&ready, 1);
	ms(50);
	pthread_spin_unlock(&spin);
	return a;
}

NOINLINE void wait_spin(void)
{
	pthread_spin_lock(&spin);
	KEEP();
	pthread_spin_unlock(&spin);
}

/* ---- barrier */
static pthread_barrier_t bar;

static void *bar_late(void *a)
{
	atomic_store(&ready, 1);
	main_asleep();
	ms(50);
	pthread_barrier_wait(&bar);
	return a;
}

NOINLINE void wait_barrier(void)
{
	pthread_barrier_wait(&bar);
	KEEP();
}

/* ---- condition variable */
static pthread_mutex_t cmtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int cond_flag;

static void *cond_signaller(void *a)
{
	atomic_store(&ready, 1);
	main_asleep();
	ms(50);
	pthread_mutex_lock(&cmtx);
	cond_flag = 1;
	pthread_cond_signal(&cond);
	ms(30); /* the waiter re-acquires cmtx only after this */
	pthread_mutex_unlock(&cmtx);
	return a;
}

NOINLINE void wait_cond(void)
{
	pthread_mutex_lock(&cmtx);
	while (!cond_flag)
		pthread_cond_wait(&cond, &cmtx);
	pthread_mutex_unlock(&cmtx);
	KEEP();
}

/* ---- semaphore */
static sem_t sem;

static void *sem_poster(void *a)
{
	atomic_store(&ready, 1);
	main_asleep();
	ms(50);
	sem_post(&sem);
	return a;
}

NOINLINE void wait_sem(void)
{
	while (sem_wait(&sem) < 0 && errno == EINTR)
		;
	KEEP();
}

/* ---- futex */
static _Atomic int fword;

static void *futex_waker(void *a)
{
	atomic_store(&ready, 1);
	main_asleep();
	ms(50);
	atomic_store(&fword, 1);
	syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	return a;
}

NOINLINE void wait_futex(void)
{
	while (!atomic_load(&fword))
		syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	KEEP();
}

/* ---- join, child */
static void *sleeper(void *a)
{
	atomic_store(&ready, 1);
	main_asleep();
	ms(50);
	return a;
}

NOINLINE void wait_join(pthread_t th)
{
	pthread_join(th, NULL);
	KEEP();
}

NOINLINE void wait_child(pid_t pid)
{
	int st;
	waitpid(pid, &st, 0);
	KEEP();
}

/* ---- a write to a full pipe, poll */
static int wp[2], pp[2];

static void *drainer(void *a)
{
	static char buf[1 << 16];
	atomic_store(&ready, 1);
	main_asleep();
	ms(50);
	ssize_t r = read(wp[0], buf, sizeof(buf));
	(void)r;
	return a;
}

NOINLINE void wait_write(void)
{
	if (write(wp[1], "y", 1) != 1)
		perror("write");
	KEEP();
}

static void *poll_writer(void *a)
{
	atomic_store(&ready, 1);
	main_asleep();
	ms(50);
	if (write(pp[1], "p", 1) != 1)
		perror("write");
	return a;
}

NOINLINE void wait_poll(void)
{
	struct pollfd p = {pp[0], POLLIN, 0};
	poll(&p, 1, 5000);
	KEEP();
}

/* ---- non-blocking reads: no wait */
NOINLINE long nb_read(void)
{
	int p[2];
	char c;
	long again = 0;
	if (pipe2(p, O_NONBLOCK) < 0)
		return -1;
	for (int i = 0; i < 200000; i++)
		if (read(p[0], &c, 1) < 0 && errno == EAGAIN)
			again++;
	close(p[0]);
	close(p[1]);
	return again;
}

int main(void)
{
	for (int i = 0; i < 30; i++) {
		pthread_t th = helper(mutex_holder);
		wait_mutex();
		join(th);
	}
	printf("mutex\n");
	pthread_t th = helper(rw_holder);
	TIMED("wait_rwlock", wait_rwlock());
	join(th);
	printf("rwlock\n");
	pthread_spin_init(&spin, 0);
	th = helper(spin_holder);
	TIMED("wait_spin", wait_spin());
	join(th);
	printf("spin\n");
	pthread_barrier_init(&bar, NULL, 2);
	th = helper(bar_late);
	TIMED("wait_barrier", wait_barrier());
	join(th);
	printf("barrier\n");
	th = helper(cond_signaller);
	TIMED("wait_cond", wait_cond());
	join(th);
	printf("cond\n");
	sem_init(&sem, 0, 0);
	th = helper(sem_poster);
	TIMED("wait_sem", wait_sem());
	join(th);
	printf("sem\n");
	th = helper(futex_waker);
	TIMED("wait_futex", wait_futex());
	join(th);
	printf("futex\n");
	th = helper(sleeper);
	TIMED("wait_join", wait_join(th));
	printf("join\n");
	pid_t pid = fork();
	if (pid == 0) {
		ms(50);
		_exit(0);
	}
	TIMED("wait_child", wait_child(pid));
	printf("child\n");
	if (pipe(wp) < 0 || pipe(pp) < 0)
		return 1;
	fcntl(wp[1], F_SETFL, O_NONBLOCK);
	while (write(wp[1], "x", 1) == 1)
		;
	fcntl(wp[1], F_SETFL, 0);
	th = helper(drainer);
	TIMED("wait_write", wait_write());
	join(th);
	printf("write\n");
	th = helper(poll_writer);
	TIMED("wait_poll", wait_poll());
	join(th);
	printf("poll\n");
	printf("nonblocking: %ld EAGAIN\n", nb_read());
	write_own();
	return 0;
}
