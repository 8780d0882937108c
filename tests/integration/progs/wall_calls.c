/* Blocking calls that a sampling signal would end early: each must take its
 * full time and succeed, with and without the agent. Prints one line per
 * call ("nanosleep ok"), or what went wrong; exits 1 when any failed.
 * Also runs a second thread that waits on a condition variable and is
 * joined, and a child that is waited for. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 120

static int bad;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A call took at least WAIT_MS (less 1 ms of clock slack) and returned as
 * it should. */
static void check(const char *what, int ok, double t0, int err)
{
	double ms = (now() - t0) * 1e3;
	if (ok && ms >= WAIT_MS - 1) {
		printf("%s ok\n", what);
		return;
	}
	printf("%s FAILED: %s after %.1f ms\n", what, ok ? "returned early" : strerror(err), ms);
	bad = 1;
}

static void *late_writer(void *arg)
{
	struct timespec ts = {0, WAIT_MS * 1000000L};
	nanosleep(&ts, NULL);
	if (write(*(int *)arg, "x", 1) != 1)
		bad = 1;
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready;
static volatile int waiter_in;

static void *waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	waiter_in = 1;
	while (!ready)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return NULL;
}

int main(void)
{
	double t0;
	int r, p[2];
	struct timespec req = {0, WAIT_MS * 1000000L}, rem = {7, 7};

	t0 = now();
	r = nanosleep(&req, &rem);
	check("nanosleep", r == 0, t0, errno);

	t0 = now();
	r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
	check("clock_nanosleep", r == 0, t0, r);

	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += WAIT_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	t0 = now();
	r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	check("clock_nanosleep abstime", r == 0, t0, r);

	t0 = now();
	r = usleep(WAIT_MS * 1000);
	check("usleep", r == 0, t0, errno);

	if (pipe(p) < 0)
		return 2;
	struct pollfd pfd = {p[0], POLLIN, 0};
	t0 = now();
	r = poll(&pfd, 1, WAIT_MS);
	check("poll", r == 0, t0, errno);

	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	struct timeval tv = {0, WAIT_MS * 1000};
	t0 = now();
	r = select(p[0] + 1, &rd, NULL, NULL, &tv);
	check("select", r == 0 && !FD_ISSET(p[0], &rd), t0, errno);

	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
	t0 = now();
	r = epoll_wait(ep, &out, 1, WAIT_MS);
	check("epoll_wait", r == 0, t0, errno);

	sem_t sem;
	sem_init(&sem, 0, 0);
	struct timespec abs;
	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_nsec += WAIT_MS * 1000000L;
	if (abs.tv_nsec >= 1000000000L) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000L;
	}
	t0 = now();
	r = sem_timedwait(&sem, &abs);
	check("sem_timedwait", r < 0 && errno == ETIMEDOUT, t0, errno);

	/* A read that a thread's late write ends. */
	pthread_t th;
	t0 = now();
	pthread_create(&th, NULL, late_writer, &p[1]);
	char c;
	ssize_t n = read(p[0], &c, 1);
	check("read", n == 1, t0, errno);
	pthread_join(th, NULL);

	/* A thread waits on a condition; joined after WAIT_MS. */
	pthread_create(&th, NULL, waiter, NULL);
	/* Its wait starts once it holds the mutex: a loaded machine may start
	 * the thread late (it waited 3 ms of WAIT_MS once in CI). */
	while (!waiter_in)
		sched_yield();
	usleep(WAIT_MS * 1000);
	pthread_mutex_lock(&mu);
	ready = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	t0 = now();
	r = pthread_join(th, NULL);
	check("pthread_join", r == 0, t0 - WAIT_MS / 1e3, r);

	/* A child that sleeps, waited for. The clock starts before the fork:
	 * the child may sleep a while before the parent returns from fork. */
	t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		usleep(WAIT_MS * 1000);
		_exit(7);
	}
	int st = 0;
	r = waitpid(pid, &st, 0);
	check("waitpid", r == pid && WIFEXITED(st) && WEXITSTATUS(st) == 7, t0, errno);

	/* The program's own signal still ends a sleep, with the time left. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 0}, {0, WAIT_MS * 1000 / 2}};
	struct timespec longer = {0, 3 * WAIT_MS * 1000000L};
	t0 = now();
	setitimer(ITIMER_REAL, &it, NULL);
	r = nanosleep(&longer, &rem);
	double ms = (now() - t0) * 1e3, left = rem.tv_sec * 1e3 + rem.tv_nsec / 1e6;
	if (r == -1 && errno == EINTR && ms < 2 * WAIT_MS && left > WAIT_MS && left < 3 * WAIT_MS)
		printf("nanosleep interrupted by the program ok\n");
	else
		printf("nanosleep interrupted by the program FAILED: %d (%s) after %.1f ms, rem %.1f ms\n", r,
		       strerror(errno), ms, left),
		    bad = 1;

	fflush(stdout);
	return bad;
}
