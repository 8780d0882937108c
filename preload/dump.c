/* The dump file: its name (FATHOM_OUTPUT), its descriptor (placed out of
 * the program's way), its header and notes, the encoder that writes it and
 * the lock (wlock) that serialises every use of that encoder, the trailer,
 * and the one message saying why a dump stopped short.
 *
 * Context: ordinary (the constructor, a fork child, the writer, exit and
 * exec), never signal.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "encode.h"
#include "program.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZSTD_LEVEL 1

/* wlock serialises every use of the encoder. */
static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;
static struct enc g_enc;
static int g_fd = -1;
/* The dump could not be written to the end (the program took its
 * descriptor, the disk filled): said once. */
static int g_error_said;
static uint64_t g_start_real;
static uint64_t g_cpu_start; /* the process's CPU time (ns) when the agent started, or the file */
/* At the last rotation (rotate.c): the threads' time while paused and the
 * writer's CPU time, which each file's trailer counts from. */
static uint64_t g_skipped_base, g_writer_base;
static char g_path[PATH_MAX];
static pid_t g_ppid;
/* The next file of a rotation, opened before the current one ends. */
static struct enc g_next_enc;
static int g_next_fd = -1;
static char g_next_path[PATH_MAX];
uint64_t agent_start_mono;

/* ------------------------------------------------------------------ wlock */

/* The thread holding wlock (0: none): a signal that ends the process and
 * lands on it must wait until it lets go (signal-death.c). */
static _Atomic pid_t g_owner;
/* The calling thread's id, read once per thread and process: wlock is
 * taken at every round of the writer, and gettid is a system call. A fork
 * child's generation is new (dump_fork_child), so the forking thread reads
 * its new id; a child of a raw clone keeps its parent's, as it keeps every
 * other per-thread id of the agent's (tstate's tid). Async-signal-safe: a
 * handler that lands between the two stores stores the same values. */
static TLS pid_t tls_tid;
static TLS unsigned tls_tid_gen;
static unsigned g_tid_gen = 1;

static pid_t self_tid(void)
{
	if (UNLIKELY(tls_tid_gen != g_tid_gen)) {
		tls_tid = agent_gettid();
		__asm__ volatile("" ::: "memory");
		tls_tid_gen = g_tid_gen;
	}
	return tls_tid;
}

struct enc *dump_lock(void)
{
	agent_mutex_lock(&wlock);
	atomic_store(&g_owner, self_tid());
	return &g_enc;
}

struct enc *dump_trylock(void)
{
	if (agent_mutex_trylock(&wlock) != 0)
		return NULL;
	atomic_store(&g_owner, self_tid());
	return &g_enc;
}

int dump_held_here(void)
{
	return atomic_load(&g_owner) == self_tid();
}

int dump_held_by(pid_t tid)
{
	return atomic_load_explicit(&g_owner, memory_order_relaxed) == tid;
}

/* Takes wlock, or gives up after two seconds: exit or exec from a signal
 * handler that interrupted this very thread inside the writer's work must
 * not hang the program; the dump then lacks its trailer. */
struct enc *dump_lock_bounded(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	if (agent_mutex_timedlock(&wlock, &ts) != 0)
		return NULL;
	atomic_store(&g_owner, self_tid());
	return &g_enc;
}

void dump_unlock(void)
{
	atomic_store(&g_owner, 0);
	agent_mutex_unlock(&wlock);
	death_deferred_now();
}

struct enc *dump_locked(void)
{
	return &g_enc;
}

/* --------------------------------------------------------------- the file */

/* Expands FATHOM_OUTPUT (%p = pid, %% = %) into buf. */
static int expand_pattern(char *buf, size_t cap, const char *pat, pid_t pid)
{
	size_t n = 0;
	for (const char *p = pat; *p; p++) {
		char tmp[24];
		const char *add = tmp;
		if (p[0] == '%' && p[1] == 'p') {
			snprintf(tmp, sizeof(tmp), "%d", (int)pid);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			tmp[0] = '%', tmp[1] = 0;
			p++;
		} else {
			tmp[0] = *p, tmp[1] = 0;
		}
		size_t l = strlen(add);
		if (n + l + 1 > cap)
			return -1;
		memcpy(buf + n, add, l);
		n += l;
	}
	buf[n] = 0;
	return 0;
}

/* Moves the dump's descriptor out of the program's way. With a small soft
 * RLIMIT_NOFILE (where a program may run short), to the number of the
 * limit itself, which the program's own open() never hands out: the limit
 * is raised for this one dup and restored at once, so the program keeps
 * every descriptor it had (this needs a hard limit above the soft one, or
 * CAP_SYS_RESOURCE); else as high below the limit as it goes. With a large
 * limit, to 1024 or above: past FD_SETSIZE, where a select() user's
 * descriptors are not, and the kernel's descriptor table stays small. The
 * copy is close-on-exec; the old number is closed. */
int fd_place_high(int fd)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fd;
	long soft = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX ? INT_MAX : (long)rl.rlim_cur;
	int nfd = -1;
	if (soft > 2048) {
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 1024);
	} else if (soft > fd) {
		/* Room for the agent's few descriptors (the dump, statm) from the
		 * limit's number up; or, with a hard limit too close, for one. */
		for (long room = 8; nfd < 0 && room >= 1; room = room > 1 ? 1 : 0) {
			struct rlimit up = rl;
			up.rlim_cur = (rlim_t)(soft + room);
			if (up.rlim_max != RLIM_INFINITY && up.rlim_max < up.rlim_cur)
				up.rlim_max = up.rlim_cur; /* lowered again below */
			if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
				nfd = fcntl(fd, F_DUPFD_CLOEXEC, (int)soft);
				setrlimit(RLIMIT_NOFILE, &rl);
			}
		}
		for (long base = soft - 8; nfd < 0 && base > fd; base = base > 64 ? base / 2 : fd)
			nfd = fcntl(fd, F_DUPFD_CLOEXEC, (int)base);
	}
	if (nfd < 0)
		return fd;
	close(fd);
	return nfd;
}

/* Opens a device or a FIFO that FATHOM_OUTPUT names, to write the dump into
 * it as asked (a FIFO must have a reader already: the program must not wait
 * for one); anything else is refused. */
static int open_special(const char *name, const struct stat *st)
{
	if (!S_ISCHR(st->st_mode) && !S_ISFIFO(st->st_mode)) {
		say("fathom: %s is not a regular file, a character device or a FIFO; not profiling", name);
		return -1;
	}
	int fd = open(name, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENXIO)
			say("fathom: %s is a FIFO with no reader; not profiling", name);
		else
			say("fathom: cannot open %s: %s; not profiling", name, strerror(errno));
		return -1;
	}
	struct stat now;
	if (fstat(fd, &now) < 0 || (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT)) {
		say("fathom: %s changed while being opened; not profiling", name);
		close(fd);
		return -1;
	}
	/* Writes wait for the reader, as a program writing there would. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* Creates the dump without ever following a symlink or replacing a file:
 * NAME, else NAME.1, NAME.2, ... (NAME.1.fdump for a NAME.fdump; only around an existing regular file or
 * link; a device or a FIFO named NAME is written into: an exec'd image of
 * the same pid, a fork child of a fixed NAME or a run before finds NAME
 * taken). Returns the fd. */
static int open_output(pid_t pid)
{
	const char *pat = config_getenv("FATHOM_OUTPUT");
	char base[PATH_MAX];
	if (!pat || !*pat)
		pat = "fathom.%p.fdump";
	if (expand_pattern(base, sizeof(base) - 16, pat, pid) < 0) {
		say("fathom: FATHOM_OUTPUT is too long; not profiling");
		return -1;
	}
	/* NAME.fdump's variants are NAME.N.fdump, which `*.fdump` still selects. */
	size_t bl = strlen(base);
	int stem = bl > 6 && !strcmp(base + bl - 6, ".fdump") ? (int)(bl - 6) : (int)bl;
	for (int i = 0; i < 1000; i++) {
		char name[PATH_MAX + 16];
		if (i == 0)
			snprintf(name, sizeof(name), "%s", base);
		else
			snprintf(name, sizeof(name), "%.*s.%d%s", stem, base, i, base + stem);
		int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
		struct stat st;
		if (fd < 0 && errno == EEXIST && i == 0 && lstat(name, &st) == 0 && !S_ISREG(st.st_mode) &&
		    !S_ISLNK(st.st_mode))
			fd = open_special(name, &st);
		else if (fd < 0 && errno == EEXIST)
			continue;
		else if (fd < 0)
			say("fathom: cannot create %s: %s; not profiling", name, strerror(errno));
		if (fd < 0)
			return -1;
		if (name[0] == '/' || !getcwd(g_path, sizeof(g_path)) ||
		    strlen(g_path) + strlen(name) + 2 > sizeof(g_path))
			snprintf(g_path, sizeof(g_path), "%s", name);
		else
			strcat(strcat(g_path, "/"), name);
		return fd_place_high(fd);
	}
	say("fathom: %s and 999 numbered variants exist; not profiling", base);
	return -1;
}

ssize_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	while (n < cap) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	return (ssize_t)n;
}

int agent_generation;

static void write_header(pid_t ppid)
{
	static char exe[PATH_MAX];
	static char cmd[65536];
	ssize_t xl = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[xl > 0 ? xl : 0] = 0;
	ssize_t cl = read_file("/proc/self/cmdline", cmd, sizeof(cmd));
	if (cl < 0)
		cl = 0;
	if (cl > 0 && cmd[cl - 1] == 0)
		cl--;
	struct enc_header_info h = {
	    .pid = (uint64_t)agent_pid,
	    .ppid = (uint64_t)ppid,
	    .start_real_ns = g_start_real,
	    .start_mono_ns = agent_start_mono,
	    .hz = agent_cfg.cpu ? (uint64_t)agent_cfg.hz : 0,
	    .clock = (uint64_t)agent_cfg.clock,
	    .alloc_mode = (uint64_t)agent_cfg.alloc,
	    .alloc_sample_bytes = agent_cfg.alloc_sample,
	    .generation = (uint64_t)agent_generation,
	    .wait_threshold_ns = agent_cfg.wait ? agent_cfg.wait_threshold_ns : 0,
	    .exe = exe,
	    .cmdline = cmd,
	    .cmdline_len = (size_t)cl,
	};
	enc_header(&g_enc, &h);
}

/* The first records of every file of the dump: its header and the notes
 * that say how it was recorded. */
static void start_file(void)
{
	g_enc.check_id = 1;
	manifest_line("%s\n", g_path);
	write_header(g_ppid);
	const char *run = config_getenv("FATHOM_RUN");
	if (run && *run)
		enc_note(&g_enc, FD_NOTE_RUN, run);
	if (config_alloc_bypass()[0])
		enc_note(&g_enc, FD_NOTE_ALLOC_BYPASS, config_alloc_bypass());
	if (config_cpu_off()[0])
		enc_lost_why(&g_enc, FD_LOST_CPU_UNAVAILABLE, 1, config_cpu_off());
}

int open_dump(pid_t ppid)
{
	g_ppid = ppid;
	g_fd = open_output(agent_pid);
	if (g_fd < 0)
		return -1;
	/* Opened now, while the program waits (constructor, fork child), so
	 * that its moment on a low number never meets the program's open(). */
	(void)statm_rss(NULL);
	int r = enc_open(&g_enc, g_fd, CHUNK_RAW, ZSTD_LEVEL);
	if (r < 0) {
		if (r == -ENOSPC || r == -EDQUOT)
			say("fathom: disk full: cannot write %s; not profiling", g_path);
		else
			say("fathom: cannot write %s: %s; not profiling", g_path, strerror(-r));
		enc_close(&g_enc);
		close(g_fd);
		g_fd = -1;
		return -1;
	}
	start_file();
	return 0;
}

const char *dump_path(void)
{
	return g_path;
}

/* ------------------------------------------------------------ rotation */

/* Creates the next file of a rotation (never over an existing one) and its
 * encoder; the current file goes on until dump_next_switch(). Returns 0 or
 * -errno. Context: wlock held. */
int dump_next_open(const char *path)
{
	if (g_next_fd >= 0)
		return 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	fd = fd_place_high(fd);
	int r = enc_open(&g_next_enc, fd, CHUNK_RAW, ZSTD_LEVEL);
	if (r < 0) {
		enc_close(&g_next_enc);
		close(fd);
		unlink(path);
		return r;
	}
	g_next_fd = fd;
	snprintf(g_next_path, sizeof(g_next_path), "%s", path);
	return 0;
}

/* Ends the current file with its trailer and makes the next one, opened by
 * dump_next_open(), the dump, started with its header and notes. The CPU
 * time each trailer states is that of its own file. Context: wlock held. */
void dump_next_switch(uint64_t now)
{
	dump_trailer(now, FD_END_ROTATE);
	enc_flush(&g_enc);
	report_dump_error(1);
	if (g_fd >= 0 && enc_is_ours(&g_enc))
		close(g_fd);
	enc_close(&g_enc);
	g_enc = g_next_enc;
	memset(&g_next_enc, 0, sizeof(g_next_enc));
	g_fd = g_next_fd;
	g_next_fd = -1;
	snprintf(g_path, sizeof(g_path), "%s", g_next_path);
	g_error_said = 0;
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0)
		g_cpu_start = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	g_skipped_base = atomic_load(&agent_cpu_skipped);
	pid_t wt = writer_tid();
	if (!wt || tcpu_read(wt, &g_writer_base) < 0)
		g_writer_base = 0;
	start_file();
}

void set_start_times(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	g_start_real = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	agent_start_mono = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	g_cpu_start = g_skipped_base = g_writer_base = 0;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0)
		g_cpu_start = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* In a fork child: the parent's lock is new again, and the parent's dump is
 * closed here only while the number is still that file (the program may
 * have closed it and reused the number). */
void dump_fork_child(int phase)
{
	if (phase == 0) {
		pthread_mutex_init(&wlock, NULL);
		g_tid_gen++;
		return;
	}
	dump_close();
}

/* Closes the dump (a fork child's copy of the parent's, a late agent's at
 * its detach) while the number is still that file. */
void dump_close(void)
{
	if (g_fd >= 0 && enc_is_ours(&g_enc))
		close(g_fd);
	g_fd = -1;
	enc_close(&g_enc);
	g_error_said = 0;
	/* A rotation the parent was in the middle of is the parent's. */
	if (g_next_fd >= 0) {
		close(g_next_fd);
		enc_close(&g_next_enc);
		g_next_fd = -1;
	}
}

/* ------------------------------------------------------------ the end */

/* The trailer, with the process's CPU time since the agent started and the
 * writer's (the agent's own thread, which no report counts). */
static int g_end_signal;

void dump_end_signal(int sig)
{
	g_end_signal = sig;
}

void dump_trailer(uint64_t now, unsigned reason)
{
	struct timespec ts;
	uint64_t proc = UINT64_MAX, writer = 0;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0) {
		proc = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		proc = proc > g_cpu_start ? proc - g_cpu_start : 0;
		/* The threads' time while recording was paused (window.c). */
		uint64_t skipped = atomic_load(&agent_cpu_skipped) - g_skipped_base;
		proc = proc > skipped ? proc - skipped : 0;
	}
	pid_t wt = writer_tid();
	if (wt && tcpu_read(wt, &writer) < 0)
		writer = 0;
	writer = writer > g_writer_base ? writer - g_writer_base : 0;
	/* The finish's work on the thread ending the recording (tcpu_freeze). */
	writer += tcpu_finish_ns(agent_tls);
	enc_trailer(&g_enc, now, reason, proc, writer, reason == FD_END_SIGNAL ? (unsigned)g_end_signal : 0);
}

/* Says once why the dump stopped short: at once when the program took its
 * descriptor (the dump simply ends there); at the end for a full disk or
 * another write error, with the bytes lost. A full disk is also noted in
 * the manifest, so that `fathom record` can say so instead of "killed":
 * the dump itself has no room left for the note. Called with wlock held. */
void report_dump_error(int at_end)
{
	int err = g_enc.error;
	if (!err || g_error_said || (!at_end && err != EBADF))
		return;
	g_error_said = 1;
	unsigned long long lost = (unsigned long long)g_enc.lost_bytes;
	if (err == EBADF) {
		/* Under fathom record the note goes to its summary: the
		 * program's own stderr stays as it would be without the agent. */
		if (!manifest_line("closed %s\n", g_path))
			say_late("fathom: the program closed the dump's descriptor; %s ends here", g_path);
	} else if (err == ENOSPC || err == EDQUOT) {
		say_late("fathom: disk full: %llu bytes lost (%s ends early)", lost, g_path);
		manifest_line("disk-full %llu %s\n", lost, g_path);
	} else {
		say_late("fathom: cannot write %s: %s; %llu bytes lost", g_path, strerror(err), lost);
	}
}
