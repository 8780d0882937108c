/* The control channel `fathom ctl` drives: a private directory per process,
 * $XDG_RUNTIME_DIR/fathom/PID (or /dev/shm/fathom-UID/PID, or
 * /tmp/fathom-UID/PID: include/fathom-ctl.h), mode 0700, which the
 * writer reads at its rounds. A command is an empty file the user creates
 * there, its name the command ("c.TOKEN.VERB[.HEXLABEL]"); the writer acts on
 * it and renames it to the answer ("r.TOKEN.ANSWER"). Names alone carry the
 * conversation: the agent never opens a file there, so it never takes one of
 * the program's descriptor numbers, even for a moment. Only the directory's
 * owner (and root) can create files in it, and the agent acts only on files
 * of its own user or root: no other user can drive it, and no signal the
 * program might use is involved. The directory goes at exit and exec (the new
 * image makes its own); a fork child makes its own and leaves the parent's.
 * The agent holds the directory's flock while the process lives, so that one
 * left by a killed process (its lock gone with it) can be told from a live
 * one whatever its pid names now: `fathom ctl` and `fathom record` remove
 * those (profiler/cmd-ctl.c, ctl_prune).
 *
 * Context: the constructor, a fork child, exit and exec, and the writer
 * (control_poll, wlock held).
 */
#define _GNU_SOURCE
#include "agent.h"
#include "fathom-ctl.h"
#include "encode.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS 20000000ull

static int g_fd = -1;
static dev_t g_dev;
static ino_t g_ino;
static char g_dir[PATH_MAX];
static uint64_t g_last_poll;

/* A directory of ours that no one else can enter: a real directory (no
 * link), owned by the effective user, with no permission for group or
 * others. */
static int private_dir(const struct stat *st)
{
	return S_ISDIR(st->st_mode) && st->st_uid == geteuid() && !(st->st_mode & 077);
}

/* The directory the channels of this user live in (the first of
 * fathom-ctl.h's bases that applies), made when missing. */
static int base_dir(char *buf, size_t cap)
{
	struct stat st;
	const char *x = getenv("XDG_RUNTIME_DIR");
	int i = 0;
	while (fathom_ctl_base(i, (unsigned)geteuid(), x, buf, cap) < 0)
		if (++i == FATHOM_CTL_BASES)
			return -1;
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -1;
	if (lstat(buf, &st) < 0 || !private_dir(&st)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* Takes the directory's lock, which says "a live agent owns this channel"
 * for as long as the process lives (the kernel drops it with the last
 * descriptor): `fathom ctl` and `fathom record` remove the channels whose
 * lock is free, those left by killed processes, whatever became of their
 * pid. A pruner holds the lock for the moment it removes one; the agent
 * waits that moment out, then checks that the name still leads to the
 * directory it locked. Returns 0, -EBUSY when another live process holds
 * it (a process of the same pid in another PID namespace sharing /tmp), or
 * -ENOENT when the directory was removed meanwhile. */
static int hold_dir(int fd, const struct stat *st)
{
	for (int waited = 0; syscall(SYS_flock, fd, LOCK_EX | LOCK_NB) < 0; waited++) {
		if (errno != EWOULDBLOCK || waited == 50)
			return errno == EWOULDBLOCK ? -EBUSY : -errno;
		nanosleep(&(struct timespec){0, 2000000}, NULL);
	}
	struct stat now;
	if (lstat(g_dir, &now) < 0 || now.st_dev != st->st_dev || now.st_ino != st->st_ino)
		return -ENOENT;
	return 0;
}

/* Removes every entry of the directory fd (files only: the agent and ctl
 * make nothing else there). */
static void empty_dir(int fd)
{
	static char buf[4096];
	for (int round = 0; round < 64; round++) {
		lseek(fd, 0, SEEK_SET);
		long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
		int removed = 0;
		for (long off = 0; off < n;) {
			const char *name = buf + off + 19;
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			if (strcmp(name, ".") && strcmp(name, ".."))
				removed += unlinkat(fd, name, 0) == 0;
			off += reclen;
		}
		if (!removed)
			break;
	}
}

pid_t control_pid(void)
{
	static pid_t attached; /* agent_pid of the process the setting is for */
	const char *v;
	long p;
	if (!late_getenv("FATHOM_CTL_PID", &v) || !v || (p = strtol(v, NULL, 10)) <= 0 || p > INT_MAX)
		return agent_pid;
	if (!attached)
		attached = agent_pid;
	return attached == agent_pid ? (pid_t)p : agent_pid;
}

void control_open(void)
{
	char base[PATH_MAX - 32];
	if (base_dir(base, sizeof(base)) < 0) {
		if (agent_cfg.start_off)
			say("fathom: no control channel (%s: not a private directory of yours): `fathom ctl` "
			    "cannot reach process %d",
			    base, (int)control_pid());
		return;
	}
	snprintf(g_dir, sizeof(g_dir), "%s/%d", base, (int)control_pid());
	struct stat st;
	int fd = -1, held = 0;
	for (int attempt = 0; fd < 0 && attempt < 4; attempt++) {
		/* One left by a process that had this pid before (killed), or by
		 * this process's image before an exec, is taken over, emptied. */
		if (mkdir(g_dir, 0700) < 0 && errno != EEXIST)
			return;
		fd = open(g_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue; /* pruned just now */
		if (fstat(fd, &st) < 0 || !private_dir(&st)) {
			close(fd);
			return;
		}
		switch (hold_dir(fd, &st)) {
		case 0:
			break;
		case -EBUSY:
			held = 1;
			/* fall through */
		default:
			close(fd);
			fd = -1;
		}
		if (held)
			break;
	}
	if (fd < 0) {
		if (held && agent_cfg.start_off)
			say("fathom: the control channel %s is held by another live process (one with "
			    "the same pid in another PID namespace?): `fathom ctl` cannot reach process %d",
			    g_dir, (int)control_pid());
		return;
	}
	empty_dir(fd);
	g_fd = fd_place_high(fd);
	g_dev = st.st_dev;
	g_ino = st.st_ino;
	g_last_poll = 0;
}

/* Whether g_fd is still the directory (a program that closes every
 * descriptor may have reused the number). */
static int still_ours(void)
{
	struct stat st;
	return g_fd >= 0 && fstat(g_fd, &st) == 0 && st.st_dev == g_dev && st.st_ino == g_ino;
}

void control_close(void)
{
	if (g_fd < 0)
		return;
	if (still_ours()) {
		empty_dir(g_fd);
		close(g_fd);
	}
	rmdir(g_dir);
	g_fd = -1;
}

/* Closes the channel once the answers in it have been read (`fathom ctl`
 * unlinks its answer), or after ms milliseconds: a late agent's detach,
 * whose "stop" is answered in the round that ends the dump. */
void control_close_answered(int ms)
{
	static char buf[4096];
	for (int waited = 0; g_fd >= 0 && still_ours() && waited < ms; waited += 5) {
		lseek(g_fd, 0, SEEK_SET);
		long n = syscall(SYS_getdents64, g_fd, buf, sizeof(buf));
		int answers = 0;
		for (long off = 0; off < n;) {
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			answers += buf[off + 19] == 'r' && buf[off + 20] == '.';
			off += reclen;
		}
		if (!answers)
			break;
		nanosleep(&(struct timespec){0, 5000000}, NULL);
	}
	control_close();
}

/* In a fork child: the parent's directory stays the parent's. */
void control_fork_child(void)
{
	if (g_fd >= 0 && still_ours())
		close(g_fd);
	g_fd = -1;
	control_open();
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Acts on one command file's name ("c.TOKEN.VERB[.HEXLABEL]"). */
static void command(struct enc *e, uint64_t now, const char *name)
{
	struct stat st;
	if (fstatat(g_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISREG(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0)) {
		unlinkat(g_fd, name, 0);
		return;
	}
	char token[64] = "x", verb[16], label[129];
	const char *p = name + 2, *dot = strchr(p, '.');
	size_t tl = dot ? (size_t)(dot - p) : 0;
	char reply[160] = "bad";
	if (!dot || tl == 0 || tl >= sizeof(token) || strspn(p, "0123456789abcdefghijklmnopqrstuvwxyz-") < tl)
		goto answer;
	memcpy(token, p, tl);
	token[tl] = 0;
	p = dot + 1;
	dot = strchr(p, '.');
	size_t vl = dot ? (size_t)(dot - p) : strlen(p);
	if (vl >= sizeof(verb))
		goto answer;
	memcpy(verb, p, vl);
	verb[vl] = 0;
	size_t ll = 0;
	if (dot) {
		for (p = dot + 1; p[0] && p[1] && ll < sizeof(label) - 1; p += 2) {
			int hi = hexval(p[0]), lo = hexval(p[1]);
			if (hi < 0 || lo < 0)
				break;
			label[ll++] = (char)(hi << 4 | lo);
		}
	}
	label[ll] = 0;
	window_command(e, now, verb, ll ? label : NULL, reply, sizeof(reply));
answer:;
	char to[256];
	snprintf(to, sizeof(to), "r.%s.%s", token, reply);
	if (renameat(g_fd, name, g_fd, to) < 0)
		unlinkat(g_fd, name, 0);
}

/* At the writer's rounds (every 20 ms at most): the commands waiting. */
void control_poll(struct enc *e, uint64_t now)
{
	if (g_fd < 0 || now - g_last_poll < POLL_NS)
		return;
	g_last_poll = now;
	static char buf[4096];
	if (!still_ours()) {
		g_fd = -1;
		return;
	}
	if (lseek(g_fd, 0, SEEK_SET) < 0)
		return;
	long n = syscall(SYS_getdents64, g_fd, buf, sizeof(buf));
	for (long off = 0; off < n;) {
		const char *name = buf + off + 19;
		unsigned short reclen;
		memcpy(&reclen, buf + off + 16, sizeof(reclen));
		if (name[0] == 'c' && name[1] == '.')
			command(e, now, name);
		off += reclen;
	}
}
