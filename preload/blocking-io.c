/* The program's blocking calls on descriptors: reads, writes (vectored and
 * positioned too), sends and receives (one message or many), sendfile,
 * accept and connect, fsync and fdatasync. The wrappers of
 * blocking.c's kind (blocking.h): retried after the agent's signal, the
 * wall clock's blocked state, and timed for the waiting profile. A call on
 * a non-blocking descriptor (or with MSG_DONTWAIT) is no wait: the estimator
 * asks the descriptor's flags only for a wait it is about to record.
 *
 * Context: the program's threads, possibly inside its signal handlers
 * (these calls are async-signal-safe), see blocking.c.
 */
#define _GNU_SOURCE
#include "blocking.h"

#include <errno.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* A call on descriptor fd, timed as a wait of reason r on fd (unless
 * flags say MSG_DONTWAIT). The wrapper's body: call is the real call's
 * expression. Not retried on EINTR: the kernel restarts these calls after
 * the agent's signal (SA_RESTART), so an EINTR is the program's own
 * signal's. Except on a socket with a timeout (SO_RCVTIMEO, SO_SNDTIMEO),
 * which the kernel never restarts: with the wall clock the agent's first
 * signal in such a call can end it with EINTR. */
#define FD_CALL(type, call, r, fd, flags)                                                                    \
	do {                                                                                                 \
		BLK(b, NULL);                                                                                \
		type ret_ = (call);                                                                          \
		if (!((flags)&MSG_DONTWAIT))                                                                 \
			BLK_WAIT(b, (r), (fd), WAIT_FD | WAIT_NB);                                           \
		return ret_;                                                                                 \
	} while (0)

/* ------------------------------------------------------------------ reads */

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_readv)(int, const struct iovec *, int);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static ssize_t (*real_recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static ssize_t (*real_preadv)(int, const struct iovec *, int, off_t);
static ssize_t (*real_preadv2)(int, const struct iovec *, int, off_t, int);
static int (*real_recvmmsg)(int, struct mmsghdr *, unsigned, int, struct timespec *);

/* preadv2's and pwritev2's RWF_NOWAIT is their MSG_DONTWAIT: no wait. */
#define RWF_DONTWAIT(flags) (((flags)&RWF_NOWAIT) ? MSG_DONTWAIT : 0)

EXPORT_BLOCKER ssize_t read(int fd, void *buf, size_t n)
{
	RESOLVE(real_read, "read");
	FD_CALL(ssize_t, real_read(fd, buf, n), FD_WAIT_READ, fd, 0);
}

EXPORT_BLOCKER ssize_t readv(int fd, const struct iovec *iov, int n)
{
	RESOLVE(real_readv, "readv");
	FD_CALL(ssize_t, real_readv(fd, iov, n), FD_WAIT_READ, fd, 0);
}

EXPORT_BLOCKER ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	RESOLVE(real_pread, "pread");
	FD_CALL(ssize_t, real_pread(fd, buf, n, off), FD_WAIT_READ, fd, 0);
}

/* The large-file names (programs built with _FILE_OFFSET_BITS=64, such as
 * SQLite, call these): the same functions on x86-64, where off_t is 64 bits. */
EXPORT extern __typeof__(pread) pread64 __attribute__((alias("pread")));

EXPORT_BLOCKER ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	RESOLVE(real_recv, "recv");
	FD_CALL(ssize_t, real_recv(fd, buf, n, flags), FD_WAIT_READ, fd, flags);
}

EXPORT_BLOCKER ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len)
{
	RESOLVE(real_recvfrom, "recvfrom");
	FD_CALL(ssize_t, real_recvfrom(fd, buf, n, flags, sa, len), FD_WAIT_READ, fd, flags);
}

EXPORT_BLOCKER ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	RESOLVE(real_recvmsg, "recvmsg");
	FD_CALL(ssize_t, real_recvmsg(fd, msg, flags), FD_WAIT_READ, fd, flags);
}

EXPORT_BLOCKER ssize_t preadv(int fd, const struct iovec *iov, int n, off_t off)
{
	RESOLVE(real_preadv, "preadv");
	FD_CALL(ssize_t, real_preadv(fd, iov, n, off), FD_WAIT_READ, fd, 0);
}

EXPORT extern __typeof__(preadv) preadv64 __attribute__((alias("preadv")));

EXPORT_BLOCKER ssize_t preadv2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	RESOLVE(real_preadv2, "preadv2");
	FD_CALL(ssize_t, real_preadv2(fd, iov, n, off, flags), FD_WAIT_READ, fd, RWF_DONTWAIT(flags));
}

EXPORT extern __typeof__(preadv2) preadv64v2 __attribute__((alias("preadv2")));

EXPORT_BLOCKER int recvmmsg(int fd, struct mmsghdr *msgs, unsigned n, int flags, struct timespec *timeout)
{
	RESOLVE(real_recvmmsg, "recvmmsg");
	FD_CALL(int, real_recvmmsg(fd, msgs, n, flags, timeout), FD_WAIT_READ, fd, flags);
}

/* Fortified reads (_FORTIFY_SOURCE) check the buffer, then read as above. */
extern void __chk_fail(void) __attribute__((noreturn));
SELF(read);
SELF(pread);
SELF(recv);
SELF(recvfrom);

EXPORT_BLOCKER ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return self_read(fd, buf, n);
}

EXPORT_BLOCKER ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen)
{
	if (n > buflen)
		__chk_fail();
	return self_pread(fd, buf, n, off);
}

EXPORT extern __typeof__(__pread_chk) __pread64_chk __attribute__((alias("__pread_chk")));

EXPORT_BLOCKER ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	if (n > buflen)
		__chk_fail();
	return self_recv(fd, buf, n, flags);
}

EXPORT_BLOCKER ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
				      struct sockaddr *sa, socklen_t *len)
{
	if (n > buflen)
		__chk_fail();
	return self_recvfrom(fd, buf, n, flags, sa, len);
}

/* ----------------------------------------------------------------- writes */

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_send)(int, const void *, size_t, int);
static ssize_t (*real_sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
static ssize_t (*real_sendmsg)(int, const struct msghdr *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static int (*real_sendmmsg)(int, struct mmsghdr *, unsigned, int);
static ssize_t (*real_sendfile)(int, int, off_t *, size_t);

EXPORT_BLOCKER ssize_t write(int fd, const void *buf, size_t n)
{
	RESOLVE(real_write, "write");
	FD_CALL(ssize_t, real_write(fd, buf, n), FD_WAIT_WRITE, fd, 0);
}

EXPORT_BLOCKER ssize_t writev(int fd, const struct iovec *iov, int n)
{
	RESOLVE(real_writev, "writev");
	FD_CALL(ssize_t, real_writev(fd, iov, n), FD_WAIT_WRITE, fd, 0);
}

EXPORT_BLOCKER ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	RESOLVE(real_pwrite, "pwrite");
	FD_CALL(ssize_t, real_pwrite(fd, buf, n, off), FD_WAIT_WRITE, fd, 0);
}

EXPORT extern __typeof__(pwrite) pwrite64 __attribute__((alias("pwrite")));

EXPORT_BLOCKER ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	RESOLVE(real_send, "send");
	FD_CALL(ssize_t, real_send(fd, buf, n, flags), FD_WAIT_WRITE, fd, flags);
}

EXPORT_BLOCKER ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
			      socklen_t len)
{
	RESOLVE(real_sendto, "sendto");
	FD_CALL(ssize_t, real_sendto(fd, buf, n, flags, sa, len), FD_WAIT_WRITE, fd, flags);
}

EXPORT_BLOCKER ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	RESOLVE(real_sendmsg, "sendmsg");
	FD_CALL(ssize_t, real_sendmsg(fd, msg, flags), FD_WAIT_WRITE, fd, flags);
}

EXPORT_BLOCKER ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	RESOLVE(real_pwritev, "pwritev");
	FD_CALL(ssize_t, real_pwritev(fd, iov, n, off), FD_WAIT_WRITE, fd, 0);
}

EXPORT extern __typeof__(pwritev) pwritev64 __attribute__((alias("pwritev")));

EXPORT_BLOCKER ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t off, int flags)
{
	RESOLVE(real_pwritev2, "pwritev2");
	FD_CALL(ssize_t, real_pwritev2(fd, iov, n, off, flags), FD_WAIT_WRITE, fd, RWF_DONTWAIT(flags));
}

EXPORT extern __typeof__(pwritev2) pwritev64v2 __attribute__((alias("pwritev2")));

EXPORT_BLOCKER int sendmmsg(int fd, struct mmsghdr *msgs, unsigned n, int flags)
{
	RESOLVE(real_sendmmsg, "sendmmsg");
	FD_CALL(int, real_sendmmsg(fd, msgs, n, flags), FD_WAIT_WRITE, fd, flags);
}

/* A write to out_fd (a socket, a pipe or a file) from in_fd: the wait is
 * out_fd's, where a sendfile blocks once the file is in the page cache. */
EXPORT_BLOCKER ssize_t sendfile(int out_fd, int in_fd, off_t *off, size_t n)
{
	RESOLVE(real_sendfile, "sendfile");
	FD_CALL(ssize_t, real_sendfile(out_fd, in_fd, off, n), FD_WAIT_WRITE, out_fd, 0);
}

EXPORT extern __typeof__(sendfile) sendfile64 __attribute__((alias("sendfile")));

/* ------------------------------------------ accept, connect, sync */

static int (*real_accept)(int, struct sockaddr *, socklen_t *);
static int (*real_accept4)(int, struct sockaddr *, socklen_t *, int);
static int (*real_connect)(int, const struct sockaddr *, socklen_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

EXPORT_BLOCKER int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	RESOLVE(real_accept, "accept");
	FD_CALL(int, real_accept(fd, sa, len), FD_WAIT_ACCEPT, fd, 0);
}

EXPORT_BLOCKER int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	RESOLVE(real_accept4, "accept4");
	FD_CALL(int, real_accept4(fd, sa, len, flags), FD_WAIT_ACCEPT, fd, 0);
}

EXPORT_BLOCKER int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	RESOLVE(real_connect, "connect");
	FD_CALL(int, real_connect(fd, sa, len), FD_WAIT_CONNECT, fd, 0);
}

EXPORT_BLOCKER int fsync(int fd)
{
	RESOLVE(real_fsync, "fsync");
	FD_CALL(int, real_fsync(fd), FD_WAIT_SYNC, fd, 0);
}

EXPORT_BLOCKER int fdatasync(int fd)
{
	RESOLVE(real_fdatasync, "fdatasync");
	FD_CALL(int, real_fdatasync(fd), FD_WAIT_SYNC, fd, 0);
}
