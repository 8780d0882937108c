/* One wait of each kind in a function of its own, each about 50 ms, for
 * test-wait-agent-kinds: a contended mutex (30 times 20 ms, its holder releasing
 * in hold_mutex), rwlock, spin lock, barrier, condition variable (whose
 * mutex is then held 30 ms more by the signaller: the re-acquisition is
 * the condition wait's), semaphore, futex through syscall(), join, child,
 * a write to a full pipe, poll; their kin (timed and clock forms, the
 * other polls, sockets' recv, accept and connect, the rest of the waitpid
 * family: kin()), the vectored and positioned reads and writes on pipes
 * (preadv2, pwritev2 and their 64 names), recvmmsg, sendmmsg and sendfile
 * on sockets, sendfile64 to a pipe (vectored()); with the argument "sync",
 * only short calls on files and sockets, 3 of each (syncs()): fsync and
 * fdatasync of a file and a directory, pwrite64, pread64, preadv, pwritev,
 * preadv2, pwritev2 and their 64 names, sendfile(64) to a file, sendmmsg
 * and recvmmsg on a socket pair, and preadv2 with RWF_NOWAIT and sendmmsg
 * with MSG_DONTWAIT, which are no wait; and non-blocking reads that fail
 * with EAGAIN in nb_read, which are no wait. Prints what it did; with
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
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
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
} own[48];
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

/* A helper's work: pre before it says ready, post 50 ms after the main
 * thread then sleeps in its wait (NULL: none). */
static void (*pre_fn)(void), (*post_fn)(void);

static void *after_asleep(void *a)
{
	if (pre_fn)
		pre_fn();
	atomic_store(&ready, 1);
	main_asleep();
	ms(50);
	if (post_fn)
		post_fn();
	return a;
}

static pthread_t helper_then(void (*pre)(void), void (*post)(void))
{
	pre_fn = pre;
	post_fn = post;
	return helper(after_asleep);
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

static void rw_wrlock(void)
{
	pthread_rwlock_wrlock(&rw);
}

static void rw_unlock(void)
{
	pthread_rwlock_unlock(&rw);
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

static void bar_wait(void)
{
	pthread_barrier_wait(&bar);
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

static void cond_signal_late(void)
{
	pthread_mutex_lock(&cmtx);
	cond_flag = 1;
	pthread_cond_signal(&cond);
	ms(30); /* the waiter re-acquires cmtx only after this */
	pthread_mutex_unlock(&cmtx);
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

static void sem_give(void)
{
	sem_post(&sem);
}

NOINLINE void wait_sem(void)
{
	while (sem_wait(&sem) < 0 && errno == EINTR)
		;
	KEEP();
}

/* ---- futex */
static _Atomic int fword;

static void futex_wake(void)
{
	atomic_store(&fword, 1);
	syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

NOINLINE void wait_futex(void)
{
	while (!atomic_load(&fword))
		syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	KEEP();
}

/* ---- join, child */

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

static void drain(void)
{
	static char buf[1 << 16];
	ssize_t r = read(wp[0], buf, sizeof(buf));
	(void)r;
}

/* Fills the pipe wp: the next blocking write to it waits for drain. */
static void fill_wp(void)
{
	fcntl(wp[1], F_SETFL, O_NONBLOCK);
	while (write(wp[1], "x", 1) == 1)
		;
	fcntl(wp[1], F_SETFL, 0);
}

NOINLINE void wait_write(void)
{
	if (write(wp[1], "y", 1) != 1)
		perror("write");
	KEEP();
}

static void pp_write(void)
{
	if (write(pp[1], "p", 1) != 1)
		perror("write");
}

NOINLINE void wait_poll(void)
{
	struct pollfd p = {pp[0], POLLIN, 0};
	poll(&p, 1, 5000);
	KEEP();
}

/* ---- the kin of the calls above: timed and clock forms, the other polls,
 * sockets, the rest of the waitpid family */
static void deadline(struct timespec *ts, clockid_t c)
{
	clock_gettime(c, ts);
	ts->tv_sec += 5;
}

static pthread_mutex_t tmtx = PTHREAD_MUTEX_INITIALIZER;

static void tmtx_lock(void)
{
	pthread_mutex_lock(&tmtx);
}

static void tmtx_unlock(void)
{
	pthread_mutex_unlock(&tmtx);
}

NOINLINE void wait_timedlock(void)
{
	struct timespec ts;
	deadline(&ts, CLOCK_REALTIME);
	if (pthread_mutex_timedlock(&tmtx, &ts) == 0)
		pthread_mutex_unlock(&tmtx);
	KEEP();
}

static void rw_rdlock(void)
{
	pthread_rwlock_rdlock(&rw);
}

NOINLINE void wait_wrlock(void)
{
	pthread_rwlock_wrlock(&rw);
	KEEP();
	pthread_rwlock_unlock(&rw);
}

static void cond_signal(void)
{
	pthread_mutex_lock(&cmtx);
	cond_flag = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&cmtx);
}

NOINLINE void wait_cond_timed(void)
{
	struct timespec ts;
	deadline(&ts, CLOCK_REALTIME);
	pthread_mutex_lock(&cmtx);
	while (!cond_flag && pthread_cond_timedwait(&cond, &cmtx, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&cmtx);
	KEEP();
}

NOINLINE void wait_cond_clock(void)
{
	struct timespec ts;
	deadline(&ts, CLOCK_MONOTONIC);
	pthread_mutex_lock(&cmtx);
	while (!cond_flag && pthread_cond_clockwait(&cond, &cmtx, CLOCK_MONOTONIC, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&cmtx);
	KEEP();
}

NOINLINE void wait_sem_timed(void)
{
	struct timespec ts;
	deadline(&ts, CLOCK_REALTIME);
	while (sem_timedwait(&sem, &ts) < 0 && errno == EINTR)
		;
	KEEP();
}

NOINLINE void wait_sem_clock(void)
{
	struct timespec ts;
	deadline(&ts, CLOCK_MONOTONIC);
	while (sem_clockwait(&sem, CLOCK_MONOTONIC, &ts) < 0 && errno == EINTR)
		;
	KEEP();
}

NOINLINE void wait_timedjoin(pthread_t th)
{
	struct timespec ts;
	deadline(&ts, CLOCK_REALTIME);
	pthread_timedjoin_np(th, NULL, &ts);
	KEEP();
}

NOINLINE void wait_clockjoin(pthread_t th)
{
	struct timespec ts;
	deadline(&ts, CLOCK_MONOTONIC);
	pthread_clockjoin_np(th, NULL, CLOCK_MONOTONIC, &ts);
	KEEP();
}

NOINLINE void wait_clock_nanosleep(void)
{
	struct timespec ts = {0, 50 * 1000000};
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	KEEP();
}

NOINLINE void wait_usleep(void)
{
	usleep(50 * 1000);
	KEEP();
}

/* The polls wait on pp[0], which poll_writer writes to; main reads the
 * byte after each. */
NOINLINE void wait_select(void)
{
	fd_set r;
	FD_ZERO(&r);
	FD_SET(pp[0], &r);
	struct timeval tv = {5, 0};
	select(pp[0] + 1, &r, NULL, NULL, &tv);
	KEEP();
}

NOINLINE void wait_pselect(void)
{
	fd_set r;
	FD_ZERO(&r);
	FD_SET(pp[0], &r);
	struct timespec ts = {5, 0};
	pselect(pp[0] + 1, &r, NULL, NULL, &ts, NULL);
	KEEP();
}

NOINLINE void wait_ppoll(void)
{
	struct pollfd p = {pp[0], POLLIN, 0};
	struct timespec ts = {5, 0};
	ppoll(&p, 1, &ts, NULL);
	KEEP();
}

static int ep = -1;

NOINLINE void wait_epoll_pwait(void)
{
	struct epoll_event ev;
	epoll_pwait(ep, &ev, 1, 5000, NULL);
	KEEP();
}

NOINLINE void wait_epoll_pwait2(void)
{
	struct epoll_event ev;
	struct timespec ts = {5, 0};
	epoll_pwait2(ep, &ev, 1, &ts, NULL);
	KEEP();
}

static void read_pp(void)
{
	char c;
	if (read(pp[0], &c, 1) != 1)
		perror("read");
}

/* Sockets: a receive on one end of a pair, which the helper writes to;
 * an accept on a listening socket, which the helper connects to; a
 * connect to a listener whose queue is full (backlog 0, one connection
 * queued), until the helper accepts. */
static int sk[2], lsn = -1;
static struct sockaddr_un sun;

static void sk_send(void)
{
	if (send(sk[1], "s", 1, 0) != 1)
		perror("send");
}

NOINLINE void wait_recv(void)
{
	char c;
	if (recv(sk[0], &c, 1, 0) != 1)
		perror("recv");
	KEEP();
}

static void sk_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		perror("connect");
	close(fd);
}

NOINLINE int wait_accept(void)
{
	int fd = accept(lsn, NULL, NULL);
	KEEP();
	return fd;
}

static void sk_accept(void)
{
	close(accept(lsn, NULL, NULL));
}

NOINLINE void wait_connect(int fd)
{
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		perror("connect");
	KEEP();
}

static int listener(void)
{
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path + 1, sizeof(sun.sun_path) - 1, "fathom-wait-kinds-%d", (int)getpid());
	lsn = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lsn < 0 || bind(lsn, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(lsn, 0) < 0) {
		perror("listen");
		return -1;
	}
	return 0;
}

/* The waitpid family: a child that lives 50 ms once the main thread (its
 * parent) sleeps in its wait. */
static pid_t child(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		task_asleep(getppid(), getppid());
		ms(50);
		_exit(0);
	}
	return pid;
}

NOINLINE void wait_wait(void)
{
	int st;
	wait(&st);
	KEEP();
}

NOINLINE void wait_wait3(void)
{
	int st;
	wait3(&st, 0, NULL);
	KEEP();
}

NOINLINE void wait_wait4(pid_t pid)
{
	int st;
	wait4(pid, &st, 0, NULL);
	KEEP();
}

NOINLINE void wait_waitid(pid_t pid)
{
	siginfo_t si;
	waitid(P_PID, (id_t)pid, &si, WEXITED);
	KEEP();
}

/* Syncs of a file, for the mode "sync" (recorded with a threshold of 1 ns,
 * so that each is a WAIT however short). */
NOINLINE void wait_fsync(int fd)
{
	fsync(fd);
	KEEP();
}

NOINLINE void wait_fdatasync(int fd)
{
	fdatasync(fd);
	KEEP();
}

/* The large-file names of pread and pwrite (what a program built with
 * _FILE_OFFSET_BITS=64 calls). */
NOINLINE void wait_pwrite64(int fd)
{
	if (pwrite64(fd, "data\n", 5, 0) != 5)
		perror("pwrite64");
	KEEP();
}

NOINLINE void wait_pread64(int fd)
{
	char buf[5];
	if (pread64(fd, buf, 5, 0) != 5)
		perror("pread64");
	KEEP();
}

/* One vectored or positioned call on fd in a function of its own (the
 * WAIT's innermost frame), which must return want: call reads into in_ or
 * writes out_ ("data\n"). */
#define VEC_CALL(name, want, call)                                                                           \
	NOINLINE void name(int fd)                                                                           \
	{                                                                                                    \
		char buf_[5];                                                                                \
		struct iovec in_ = {buf_, 5}, out_ = {"data\n", 5};                                          \
		(void)in_;                                                                                   \
		(void)out_;                                                                                  \
		if ((call) != (want))                                                                        \
			perror(#name);                                                                       \
		KEEP();                                                                                      \
	}

/* On a file, at offset 0. */
VEC_CALL(wait_pwritev, 5, pwritev(fd, &out_, 1, 0))
VEC_CALL(wait_pwritev64, 5, pwritev64(fd, &out_, 1, 0))
VEC_CALL(wait_pwritev2_file, 5, pwritev2(fd, &out_, 1, 0, 0))
VEC_CALL(wait_pwritev64v2_file, 5, pwritev64v2(fd, &out_, 1, 0, 0))
VEC_CALL(wait_preadv, 5, preadv(fd, &in_, 1, 0))
VEC_CALL(wait_preadv64, 5, preadv64(fd, &in_, 1, 0))
VEC_CALL(wait_preadv2_file, 5, preadv2(fd, &in_, 1, 0, 0))
VEC_CALL(wait_preadv64v2_file, 5, preadv64v2(fd, &in_, 1, 0, 0))
/* RWF_NOWAIT: a read that never waits (the data is in the page cache, just
 * written), so no wait however short. */
VEC_CALL(nowait_preadv2, 5, preadv2(fd, &in_, 1, 0, RWF_NOWAIT))

/* sendfile to a file: the write's wait is the output's (kind file). */
NOINLINE void wait_sendfile_file(int out, int in)
{
	off_t off = 0;
	if (sendfile(out, in, &off, 5) != 5)
		perror("sendfile");
	KEEP();
}

NOINLINE void wait_sendfile64_file(int out, int in)
{
	off64_t off = 0;
	if (sendfile64(out, in, &off, 5) != 5)
		perror("sendfile64");
	KEEP();
}

/* One message each way on a socket pair, as one of many. */
NOINLINE void wait_sendmmsg_short(int fd)
{
	struct iovec v = {"m", 1};
	struct mmsghdr m = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
	if (sendmmsg(fd, &m, 1, 0) != 1)
		perror("sendmmsg");
	KEEP();
}

NOINLINE void nowait_sendmmsg(int fd)
{
	struct iovec v = {"m", 1};
	struct mmsghdr m = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
	if (sendmmsg(fd, &m, 1, MSG_DONTWAIT) != 1)
		perror("sendmmsg MSG_DONTWAIT");
	KEEP();
}

NOINLINE void wait_recvmmsg_short(int fd)
{
	char c[2];
	struct iovec v = {c, 2};
	struct mmsghdr m = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
	if (recvmmsg(fd, &m, 1, 0, NULL) != 1)
		perror("recvmmsg");
	KEEP();
}

/* The vectored, positioned, many-message and sendfile calls, short: 3 of
 * each, and 3 of each call that is no wait. */
static int shorts(void)
{
	int fd = open("wait-kinds.vec", O_CREAT | O_TRUNC | O_RDWR, 0600);
	int out = open("wait-kinds.out", O_CREAT | O_TRUNC | O_WRONLY, 0600);
	int sp[2];
	if (fd < 0 || out < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sp) < 0) {
		perror("wait-kinds.vec");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		wait_pwritev(fd);
		wait_pwritev64(fd);
		wait_pwritev2_file(fd);
		wait_pwritev64v2_file(fd);
		wait_preadv(fd);
		wait_preadv64(fd);
		wait_preadv2_file(fd);
		wait_preadv64v2_file(fd);
		nowait_preadv2(fd);
		wait_sendfile_file(out, fd);
		wait_sendfile64_file(out, fd);
		wait_sendmmsg_short(sp[1]);
		wait_recvmmsg_short(sp[0]);
		nowait_sendmmsg(sp[1]);
		wait_recvmmsg_short(sp[0]);
	}
	close(fd);
	close(out);
	close(sp[0]);
	close(sp[1]);
	unlink("wait-kinds.vec");
	unlink("wait-kinds.out");
	printf("vectored\n");
	return 0;
}

static int syncs(void)
{
	int fd = open("wait-kinds.sync", O_CREAT | O_TRUNC | O_WRONLY, 0600);
	if (fd < 0) {
		perror("wait-kinds.sync");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		if (write(fd, "data\n", 5) != 5)
			perror("write");
		wait_fsync(fd);
		if (write(fd, "data\n", 5) != 5)
			perror("write");
		wait_fdatasync(fd);
	}
	close(fd);
	fd = open("wait-kinds.sync", O_RDWR);
	for (int i = 0; i < 3; i++) {
		wait_pwrite64(fd);
		wait_pread64(fd);
	}
	close(fd);
	/* A directory's sync (after creating a file in it) is of kind file. */
	fd = open(".", O_RDONLY | O_DIRECTORY);
	wait_fsync(fd);
	close(fd);
	unlink("wait-kinds.sync");
	printf("synced\n");
	return shorts();
}

/* ---- the vectored and positioned calls on pipes (offset -1: the pipe's
 * position, which only preadv2 and pwritev2 take), many messages and
 * sendfile on sockets, sendfile64 to a pipe. The reads wait for pp_write's
 * byte, the writes for drain or sv_drain to make room in a full pipe wp or
 * socket sv[1]. */
static int sv[2] = {-1, -1}, src = -1;

/* On pipes, at the pipe's position (-1): a byte read, 5 written. */
VEC_CALL(wait_preadv2, 1, preadv2(fd, &in_, 1, -1, 0))
VEC_CALL(wait_preadv64v2, 1, preadv64v2(fd, &in_, 1, -1, 0))
VEC_CALL(wait_pwritev2, 5, pwritev2(fd, &out_, 1, -1, 0))
VEC_CALL(wait_pwritev64v2, 5, pwritev64v2(fd, &out_, 1, -1, 0))

/* With a timeout, as a server's receive loop would call it. */
NOINLINE void wait_recvmmsg(void)
{
	char c;
	struct iovec v = {&c, 1};
	struct mmsghdr m = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
	struct timespec ts = {5, 0};
	if (recvmmsg(sk[0], &m, 1, 0, &ts) != 1)
		perror("recvmmsg");
	KEEP();
}

/* Fills the socket sv[1]: the next blocking send on it waits for sv_drain. */
static void fill_sv(void)
{
	static char buf[4096];
	while (send(sv[1], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

static void sv_drain(void)
{
	static char buf[1 << 16];
	while (recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

NOINLINE void wait_sendmmsg(void)
{
	struct iovec v = {"m", 1};
	struct mmsghdr m = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
	if (sendmmsg(sv[1], &m, 1, 0) != 1)
		perror("sendmmsg");
	KEEP();
}

NOINLINE void wait_sendfile(void)
{
	off_t off = 0;
	if (sendfile(sv[1], src, &off, 5) != 5)
		perror("sendfile");
	KEEP();
}

NOINLINE void wait_sendfile64(void)
{
	off64_t off = 0;
	if (sendfile64(wp[1], src, &off, 5) != 5)
		perror("sendfile64");
	KEEP();
}

/* Each call above, timed, in the order above. */
static int vectored(void)
{
	src = open("/proc/self/exe", O_RDONLY);
	if (src < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("vectored");
		return 1;
	}
	pthread_t th = helper_then(NULL, pp_write);
	TIMED("wait_preadv2", wait_preadv2(pp[0]));
	join(th);
	th = helper_then(NULL, pp_write);
	TIMED("wait_preadv64v2", wait_preadv64v2(pp[0]));
	join(th);
	fill_wp();
	th = helper_then(NULL, drain);
	TIMED("wait_pwritev2", wait_pwritev2(wp[1]));
	join(th);
	fill_wp();
	th = helper_then(NULL, drain);
	TIMED("wait_pwritev64v2", wait_pwritev64v2(wp[1]));
	join(th);
	th = helper_then(NULL, sk_send);
	TIMED("wait_recvmmsg", wait_recvmmsg());
	join(th);
	fill_sv();
	th = helper_then(NULL, sv_drain);
	TIMED("wait_sendmmsg", wait_sendmmsg());
	join(th);
	fill_sv();
	th = helper_then(NULL, sv_drain);
	TIMED("wait_sendfile", wait_sendfile());
	join(th);
	fill_wp();
	th = helper_then(NULL, drain);
	TIMED("wait_sendfile64", wait_sendfile64());
	join(th);
	close(src);
	close(sv[0]);
	close(sv[1]);
	printf("vectored\n");
	return 0;
}

/* The kin, in the order above. */
static int kin(void)
{
	pthread_t th = helper_then(tmtx_lock, tmtx_unlock);
	TIMED("wait_timedlock", wait_timedlock());
	join(th);
	th = helper_then(rw_rdlock, rw_unlock);
	TIMED("wait_wrlock", wait_wrlock());
	join(th);
	cond_flag = 0;
	th = helper_then(NULL, cond_signal);
	TIMED("wait_cond_timed", wait_cond_timed());
	join(th);
	cond_flag = 0;
	th = helper_then(NULL, cond_signal);
	TIMED("wait_cond_clock", wait_cond_clock());
	join(th);
	th = helper_then(NULL, sem_give);
	TIMED("wait_sem_timed", wait_sem_timed());
	join(th);
	th = helper_then(NULL, sem_give);
	TIMED("wait_sem_clock", wait_sem_clock());
	join(th);
	th = helper_then(NULL, NULL);
	TIMED("wait_timedjoin", wait_timedjoin(th));
	th = helper_then(NULL, NULL);
	TIMED("wait_clockjoin", wait_clockjoin(th));
	TIMED("wait_clock_nanosleep", wait_clock_nanosleep());
	TIMED("wait_usleep", wait_usleep());
	printf("timed and clock forms\n");
	read_pp(); /* wait_poll's byte */
	th = helper_then(NULL, pp_write);
	TIMED("wait_select", wait_select());
	join(th);
	read_pp();
	th = helper_then(NULL, pp_write);
	TIMED("wait_pselect", wait_pselect());
	join(th);
	read_pp();
	th = helper_then(NULL, pp_write);
	TIMED("wait_ppoll", wait_ppoll());
	join(th);
	read_pp();
	ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = pp[0]};
	epoll_ctl(ep, EPOLL_CTL_ADD, pp[0], &ev);
	th = helper_then(NULL, pp_write);
	TIMED("wait_epoll_pwait", wait_epoll_pwait());
	join(th);
	read_pp();
	th = helper_then(NULL, pp_write);
	TIMED("wait_epoll_pwait2", wait_epoll_pwait2());
	join(th);
	read_pp();
	close(ep);
	printf("polls\n");
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sk) < 0 || listener() < 0)
		return 1;
	th = helper_then(NULL, sk_send);
	TIMED("wait_recv", wait_recv());
	join(th);
	th = helper_then(NULL, sk_connect);
	int fd = -1;
	TIMED("wait_accept", fd = wait_accept());
	join(th);
	close(fd);
	int first = socket(AF_UNIX, SOCK_STREAM, 0), second = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(first, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		perror("connect");
	th = helper_then(NULL, sk_accept);
	TIMED("wait_connect", wait_connect(second));
	join(th);
	close(first);
	close(second);
	printf("sockets\n");
	child();
	TIMED("wait_wait", wait_wait());
	child();
	TIMED("wait_wait3", wait_wait3());
	pid_t pid = child();
	TIMED("wait_wait4", wait_wait4(pid));
	pid = child();
	TIMED("wait_waitid", wait_waitid(pid));
	printf("children\n");
	return vectored();
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

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "sync"))
		return syncs();
	for (int i = 0; i < 30; i++) {
		pthread_t th = helper(mutex_holder);
		wait_mutex();
		join(th);
	}
	printf("mutex\n");
	pthread_t th = helper_then(rw_wrlock, rw_unlock);
	TIMED("wait_rwlock", wait_rwlock());
	join(th);
	printf("rwlock\n");
	pthread_spin_init(&spin, 0);
	th = helper(spin_holder);
	TIMED("wait_spin", wait_spin());
	join(th);
	printf("spin\n");
	pthread_barrier_init(&bar, NULL, 2);
	th = helper_then(NULL, bar_wait);
	TIMED("wait_barrier", wait_barrier());
	join(th);
	printf("barrier\n");
	th = helper_then(NULL, cond_signal_late);
	TIMED("wait_cond", wait_cond());
	join(th);
	printf("cond\n");
	sem_init(&sem, 0, 0);
	th = helper_then(NULL, sem_give);
	TIMED("wait_sem", wait_sem());
	join(th);
	printf("sem\n");
	th = helper_then(NULL, futex_wake);
	TIMED("wait_futex", wait_futex());
	join(th);
	printf("futex\n");
	th = helper_then(NULL, NULL);
	TIMED("wait_join", wait_join(th));
	printf("join\n");
	pid_t pid = child();
	TIMED("wait_child", wait_child(pid));
	printf("child\n");
	if (pipe(wp) < 0 || pipe(pp) < 0)
		return 1;
	fill_wp();
	th = helper_then(NULL, drain);
	TIMED("wait_write", wait_write());
	join(th);
	printf("write\n");
	th = helper_then(NULL, pp_write);
	TIMED("wait_poll", wait_poll());
	join(th);
	printf("poll\n");
	if (kin())
		return 1;
	printf("nonblocking: %ld EAGAIN\n", nb_read());
	write_own();
	return 0;
}
