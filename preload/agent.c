/* The agent's lifecycle: configuration, the dump file, the per-thread state
 * registry, the writer thread, the module map, and the interposed thread,
 * loader, fork, exec and exit functions.
 *
 * Context: ordinary (not signal, not malloc) unless a function says so. Every
 * entry point sets agent_guard while it runs, so the agent's own allocations
 * pass through the hooks unrecorded.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "python.h"
#include "sigmask.h"
#include "encode.h"
#include "program.h"

#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Rings start at 64 KB. With allocation events, a ring that fills faster
 * than the writer drains it grows (x2, to 1 MB) when its thread ends up
 * doing the writer's work, so that a busy thread rarely waits, and a quiet
 * one costs little. */
#define RING_WORDS_START (1u << 13)
#define RING_WORDS_MAX (1u << 17)
#define MAX_THREADS 4096
#define CHUNK_RAW (8u << 20)
/* The stack table starts at 2048 slots and 256 KB of stacks, and doubles
 * as it fills, nine times at most (to 1M slots and 128 MB). */
#define INTERN_SLOTS 2048
#define INTERN_WORDS (32u << 10)
#define INTERN_LEVELS 10
#define WRITER_STACK (1u << 20)
#define FLUSH_NS 50000000ull
#define TICK_NS 20000000ull
#define CHECK_NS 1000000000ull
#define ZSTD_LEVEL 1

struct agent_config agent_cfg = { .hz = 99, .clock = FD_CLOCK_CPU, .alloc = FD_ALLOC_OFF, .cpu = 1 };
struct intern agent_intern;
_Atomic uint64_t agent_seq;
_Atomic uint64_t agent_lost_stacks;
_Atomic uint64_t agent_lost_alloc;
volatile int agent_alloc_on;
volatile int agent_cpu_on;
volatile int agent_multi;
uint64_t agent_start_mono;
pid_t agent_pid;
uintptr_t agent_text_lo, agent_text_hi;
uint32_t agent_intern_gen = 1;
TLS struct tstate *agent_tls;
TLS int agent_guard;

static TLS int tls_attaching;
static TLS int tls_untracked;

static volatile int agent_ready; /* initialised, and not finished */
static struct tstate *_Atomic g_threads[MAX_THREADS];
static _Atomic int g_hiwater;
static pthread_key_t g_key;
static int g_key_ok;

/* The writer. wlock serialises every use of the encoder. */
static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;
static struct enc g_enc;
static int g_fd = -1;
/* The dump could not be written to the end (the program took its
 * descriptor, the disk filled): said once. */
static int g_error_said;
static _Atomic uint32_t g_wake;
static _Atomic int g_writer_sleeping;
/* Producers waiting for room sleep on g_progress, which the writer bumps
 * after every pass. */
static _Atomic uint32_t g_progress;
static _Atomic int g_waiters;
static volatile int g_finished;
/* The main thread called pthread_exit: glibc ends the process when its last
 * thread exits, and the writer, a thread too, must not keep it alive. */
static volatile int g_main_exited;
static pid_t g_writer_tid;
static uint64_t g_last_flush, g_last_tick, g_last_check;
static uint64_t g_lost_stacks_reported, g_lost_alloc_reported, g_cpu_in_agent_reported;
static size_t (*g_mallinfo2)(void *); /* returns nothing useful; see tick() */
static uint64_t g_start_real;
static uint64_t g_cpu_start; /* the process's CPU time (ns) when the agent started */
static char g_path[PATH_MAX];

/* Timers made at start for threads that were already running. */
struct pre_timer {
	pid_t tid;
	timer_t timer;
	uint64_t cpu_base;
};
static struct pre_timer g_pre_timers[64];
static int g_npre;
/* Why CPU sampling is impossible in this process (empty when it is not):
 * found by the start-up probe, recorded in every dump of the process. */
static char g_cpu_off[160];
/* The object whose malloc the program calls instead of the agent's (an
 * allocator preloaded before it): recorded in every dump of the process. */
static char g_alloc_bypass[PATH_MAX];
static uint64_t g_cpu_unsampled_reported;

static void report_dump_error(int at_end);

/* ---------------------------------------------------------------- misc */

static void vsay(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	ssize_t w = write(2, buf, (size_t)n);
	(void)w;
}

/* Context: any. One message on stderr, from write() alone. */
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

/* stderr as it was at start. A message later in the run goes out only while
 * fd 2 is still that file: a program that closed every descriptor may have
 * given the number to a file of its own. */
static dev_t g_err_dev;
static ino_t g_err_ino;
static int g_err_known;

static void note_stderr(void)
{
	struct stat st;
	g_err_known = fstat(2, &st) == 0;
	g_err_dev = st.st_dev;
	g_err_ino = st.st_ino;
}

static void say_late(const char *fmt, ...)
{
	struct stat st;
	if (!g_err_known || fstat(2, &st) < 0 || st.st_dev != g_err_dev || st.st_ino != g_err_ino)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

void agent_say_late(const char *msg)
{
	say_late("%s", msg);
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

void *agent_dlsym_next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

/* ----------------------------------------------------------- configuration */

static int parse_uint(const char *s, uint64_t *out, int suffixes)
{
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (suffixes && *end) {
		unsigned shift = 0;
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -1;
		}
		end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (v > (~0ull >> shift))
			return -1;
		v <<= shift;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static void read_config(void)
{
	const char *s;
	uint64_t v;
	if ((s = getenv("FATHOM_HZ"))) {
		if (parse_uint(s, &v, 0) < 0 || v < 1 || v > 10000)
			say("fathom: FATHOM_HZ='%s' is not a number from 1 to 10000; using 99", s);
		else
			agent_cfg.hz = (int)v;
	}
	if ((s = getenv("FATHOM_CLOCK"))) {
		if (!strcmp(s, "cpu"))
			agent_cfg.clock = FD_CLOCK_CPU;
		else if (!strcmp(s, "wall"))
			agent_cfg.clock = FD_CLOCK_WALL;
		else
			say("fathom: FATHOM_CLOCK='%s' is not cpu or wall; using cpu", s);
	}
	if ((s = getenv("FATHOM_CPU"))) {
		if (!strcmp(s, "0"))
			agent_cfg.cpu = 0;
		else if (strcmp(s, "1"))
			say("fathom: FATHOM_CPU='%s' is not 0 or 1; sampling the CPU", s);
	}
	const char *a = getenv("FATHOM_ALLOC");
	if (a) {
		if (!strcmp(a, "off"))
			agent_cfg.alloc = FD_ALLOC_OFF;
		else if (!strcmp(a, "exact"))
			agent_cfg.alloc = FD_ALLOC_EXACT;
		else if (!strcmp(a, "sampled"))
			agent_cfg.alloc = FD_ALLOC_SAMPLED;
		else
			say("fathom: FATHOM_ALLOC='%s' is not off, exact or sampled; not tracking allocations", a);
	}
	if ((s = getenv("FATHOM_ALLOC_SAMPLE"))) {
		if (parse_uint(s, &v, 1) < 0 || v < 1) {
			say("fathom: FATHOM_ALLOC_SAMPLE='%s' is not a size in bytes (such as 512K); using 512K", s);
		} else {
			agent_cfg.alloc_sample = v;
			if (!a)
				agent_cfg.alloc = FD_ALLOC_SAMPLED;
		}
	}
	/* High in the real-time range, which programs fill from SIGRTMIN up;
	 * computed here, as glibc reserves the first ones for itself. */
	agent_cfg.signo = SIGRTMAX - 2;
	if ((s = getenv("FATHOM_SIGNAL"))) {
		if (parse_uint(s, &v, 0) < 0 || v < (uint64_t)SIGRTMIN || v > (uint64_t)SIGRTMAX)
			say("fathom: FATHOM_SIGNAL='%s' is not a real-time signal number from %d to %d; "
			    "using %d",
			    s, SIGRTMIN, SIGRTMAX, agent_cfg.signo);
		else
			agent_cfg.signo = (int)v;
	}
	if (agent_cfg.alloc == FD_ALLOC_SAMPLED && !agent_cfg.alloc_sample)
		agent_cfg.alloc_sample = 512 * 1024;
	if (agent_cfg.alloc != FD_ALLOC_SAMPLED)
		agent_cfg.alloc_sample = 0;
}

/* ------------------------------------------------------------- the dump file */

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
static int fd_place_high(int fd)
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
 * link; a device or a FIFO named NAME is written into). Returns the fd and
 * the generation (the suffix used: an exec'd image of the same pid finds its
 * predecessor's file). */
static int open_output(pid_t pid, int *generation)
{
	const char *pat = getenv("FATHOM_OUTPUT");
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
		*generation = i;
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

/* Appends a line to FATHOM_MANIFEST, which must be a regular file (a FIFO
 * there would make the program wait at start). Returns 1 when the line was
 * written. */
int manifest_line(const char *fmt, ...)
{
	/* Read once, at start: __libc_freeres at exit (freeres.c) clears the
	 * environment before the last lines are written. */
	static char m[PATH_MAX];
	static int known;
	if (!known) {
		const char *e = getenv("FATHOM_MANIFEST");
		if (e && strlen(e) < sizeof(m))
			strcpy(m, e);
		known = 1;
	}
	if (!*m)
		return 0;
	static int said;
	int fd = open(m, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		/* ENXIO: a FIFO with no reader. */
		if ((fd >= 0 || errno == ENXIO) && !said++)
			say("fathom: FATHOM_MANIFEST %s is not a regular file; not writing to it", m);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	char line[PATH_MAX + 64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	ssize_t w = -1;
	if (n > 0 && n < (int)sizeof(line))
		w = write(fd, line, (size_t)n);
	close(fd);
	return w == n;
}

static ssize_t read_file(const char *path, char *buf, size_t cap)
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

static void write_header(pid_t ppid, int generation)
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
		.generation = (uint64_t)generation,
		.exe = exe,
		.cmdline = cmd,
		.cmdline_len = (size_t)cl,
	};
	enc_header(&g_enc, &h);
}

/* ---------------------------------------------------------------- modules */

struct mod {
	uint64_t id, bias, start, end;
	char *path;  /* recorded: absolute when the loader's name resolves */
	char *given; /* the loader's name when it was relative, else NULL */
	uint8_t build_id[64];
	size_t build_id_len;
	int seen;
};
static pthread_mutex_t modlock = PTHREAD_MUTEX_INITIALIZER;
static struct mod *g_mods;
static size_t g_nmods, g_capmods;
static uint64_t g_next_mod_id = 1;

static void find_build_id(struct dl_phdr_info *info, struct mod *m)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t name_sz = (nh->n_namesz + 3) & ~3u, desc_sz = (nh->n_descsz + 3) & ~3u;
			const uint8_t *name = p + sizeof(*nh), *desc = name + name_sz;
			if (desc + desc_sz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
			    nh->n_descsz <= sizeof(m->build_id)) {
				memcpy(m->build_id, desc, nh->n_descsz);
				m->build_id_len = nh->n_descsz;
				return;
			}
			p = desc + desc_sz;
		}
	}
}

struct scan {
	struct mod *list;
	size_t n, cap;
	int redirect;		      /* rewrite new objects' slots that bypass the agent */
	const struct got_scope *deep; /* the RTLD_DEEPBIND handle's lookups, or NULL */
};

/* A module is known by the loader's name for it, which does not change
 * when the program changes directory. */
static const char *mod_key(const struct mod *m)
{
	return m->given ? m->given : m->path;
}

/* Context: modlock held. */
static int mod_known(const struct mod *m)
{
	for (size_t i = 0; i < g_nmods; i++)
		if (g_mods[i].bias == m->bias && g_mods[i].start == m->start &&
		    !strcmp(mod_key(&g_mods[i]), m->path))
			return 1;
	return 0;
}

/* The address range an object's PT_LOAD segments cover (only the executable
 * ones when exec_only); 0 when it has none. */
static int load_range(const struct dl_phdr_info *info, int exec_only, uintptr_t *lo_out, uintptr_t *hi_out)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (exec_only && !(ph->p_flags & PF_X)))
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
		if (a < lo)
			lo = a;
		if (b > hi)
			hi = b;
	}
	*lo_out = lo;
	*hi_out = hi;
	return lo < hi;
}

static int scan_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct scan *s = data;
	struct mod m;
	memset(&m, 0, sizeof(m));
	uintptr_t lo, hi;
	if (!load_range(info, 0, &lo, &hi))
		return 0;
	m.start = lo;
	m.end = hi;
	m.bias = info->dlpi_addr;
	const char *name = info->dlpi_name;
	char exe[PATH_MAX];
	if (!name || !*name) {
		/* Only the main program has an empty name (the first entry). */
		if (s->n > 0)
			return 0;
		ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[l > 0 ? l : 0] = 0;
		name = exe;
	}
	m.path = strdup(name);
	if (!m.path)
		return 0;
	if (!mod_known(&m)) {
		/* dlopen("./libx.so") leaves a relative name, which the
		 * analyzer cannot open: resolve it now, in the directory the
		 * loader just used. */
		if (name[0] != '/' && strchr(name, '/') && realpath(name, exe)) {
			char *abs = strdup(exe);
			if (abs) {
				m.given = m.path;
				m.path = abs;
			}
		}
		if (s->redirect)
			got_redirect(info, s->deep);
	}
	find_build_id(info, &m);
	if (s->n == s->cap) {
		/* The scratch list is mapped, not taken from the program's heap:
		 * freed between the module paths, which stay, it would leave a
		 * hole that the program's larger blocks are then carved from,
		 * slower than from the top of the heap. */
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *l = mmap(NULL, cap * sizeof(struct mod), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (l == MAP_FAILED) {
			free(m.path);
			free(m.given);
			return 0;
		}
		if (s->list) {
			memcpy(l, s->list, s->n * sizeof(struct mod));
			munmap(s->list, s->cap * sizeof(struct mod));
		}
		s->list = l;
		s->cap = cap;
	}
	s->list[s->n++] = m;
	return 0;
}

static int loader_iterate(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data);

/* Compares the loaded objects with the known ones and writes MODULE and
 * UNLOAD records; with redirect, points the new objects' slots that bind
 * past the agent at it (got.c). The loader is walked outside wlock: a
 * thread inside dlopen may be waiting for the writer. modlock is never held
 * while taking the loader's own lock (dlsym, dladdr): a constructor that
 * calls dlopen holds that lock and would wait for modlock. */
static void modules_scan(int redirect, const struct got_scope *deep)
{
	struct scan s = {.redirect = redirect, .deep = deep};
	struct tstate *t = agent_tls;
	int g = agent_guard, cs;
	agent_guard = 1;
	NO_CANCEL_BEGIN(cs);
	got_prepare(); /* once, at the first scan (the constructor's) */
	pthread_mutex_lock(&modlock);
	if (t)
		t->in_loader++;
	loader_iterate(scan_cb, &s);
	if (t)
		t->in_loader--;
	uint64_t now = agent_now();
	pthread_mutex_lock(&wlock);
	for (size_t i = 0; i < g_nmods; i++)
		g_mods[i].seen = 0;
	for (size_t j = 0; j < s.n; j++) {
		struct mod *m = &s.list[j];
		size_t i;
		for (i = 0; i < g_nmods; i++)
			if (!g_mods[i].seen && g_mods[i].bias == m->bias && g_mods[i].start == m->start &&
			    !strcmp(mod_key(&g_mods[i]), mod_key(m)))
				break;
		if (i < g_nmods) {
			struct mod *k = &g_mods[i];
			k->seen = 1;
			if (!k->id) {
				/* A fork child's new dump: known, not yet in it. */
				k->id = g_next_mod_id++;
				if (!g_finished)
					enc_module(&g_enc, k->id, k->bias, k->start, k->end, k->path,
						   k->build_id, k->build_id_len, now);
			}
			free(m->path);
			free(m->given);
			continue;
		}
		if (g_nmods == g_capmods) {
			size_t cap = g_capmods ? g_capmods * 2 : 64;
			struct mod *l = realloc(g_mods, cap * sizeof(*l));
			if (!l) {
				free(m->path);
				free(m->given);
				continue;
			}
			g_mods = l;
			g_capmods = cap;
		}
		m->id = g_next_mod_id++;
		m->seen = 1;
		if (!g_finished)
			enc_module(&g_enc, m->id, m->bias, m->start, m->end, m->path, m->build_id, m->build_id_len,
				   now);
		g_mods[g_nmods++] = *m;
	}
	for (size_t i = 0; i < g_nmods;) {
		if (g_mods[i].seen) {
			i++;
			continue;
		}
		if (!g_finished && g_mods[i].id)
			enc_unload(&g_enc, g_mods[i].id, now);
		free(g_mods[i].path);
		free(g_mods[i].given);
		g_mods[i] = g_mods[--g_nmods];
	}
	pthread_mutex_unlock(&wlock);
	pthread_mutex_unlock(&modlock);
	if (s.list)
		munmap(s.list, s.cap * sizeof(struct mod));
	NO_CANCEL_END(cs);
	agent_guard = g;
}

static void modules_rescan(void)
{
	modules_scan(0, NULL);
}

/* The libraries the agent calls into (see agent_helper_lo). */
uintptr_t agent_helper_lo[AGENT_HELPERS], agent_helper_hi[AGENT_HELPERS];
unsigned agent_nhelpers;

static int helper_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	static const char *const names[] = { "libc.so", "libzstd.so", "ld-linux", "linux-vdso", "libpthread.so" };
	const char *path = info->dlpi_name ? info->dlpi_name : "", *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	int hit = 0;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		hit |= strncmp(base, names[i], strlen(names[i])) == 0;
	if (!hit || agent_nhelpers >= AGENT_HELPERS)
		return 0;
	uintptr_t lo, hi;
	if (load_range(info, 1, &lo, &hi)) {
		agent_helper_lo[agent_nhelpers] = lo;
		agent_helper_hi[agent_nhelpers] = hi;
		agent_nhelpers++;
	}
	return 0;
}

static int self_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t addr = (uintptr_t)data;
	uintptr_t lo, hi;
	if (load_range(info, 0, &lo, &hi) && addr >= lo && addr < hi) {
		agent_text_lo = lo;
		agent_text_hi = hi;
		return 1;
	}
	return 0;
}

/* ----------------------------------------------------------- thread states */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* The bytes until the next sampled allocation: exponential with mean
 * alloc_sample, so that sampling is a Poisson process over allocated bytes.
 * Context: malloc, async-signal-safe (no libm: -ln(u) by a short series). */
int64_t agent_sample_interval(struct tstate *t)
{
	/* u in (0, 1]; -ln(u) = ln2 * (exponent) - ln(mantissa in [1,2)). */
	uint64_t r = rng_next(&t->rng) >> 11;
	double u = (double)(r + 1) / 9007199254740992.0;
	int e = 0;
	while (u < 0.5) {
		u *= 2;
		e++;
	}
	/* u in [0.5, 1): ln(u) via atanh series, x = (u-1)/(u+1) in (-1/3, 0]. */
	double x = (u - 1) / (u + 1), x2 = x * x, term = x, sum = 0;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= x2;
	}
	double nl = e * 0.6931471805599453 - 2 * sum;
	int64_t v = (int64_t)(nl * (double)agent_cfg.alloc_sample) + 1;
	return v;
}

/* Context: any, async-signal-safe. Inside the timers' gate, so that an exec
 * finds each timer in one place, here or in the thread's state. */
static void take_pre_timer(struct tstate *t)
{
	if (!sample_gate_enter())
		return;
	int n = __atomic_load_n(&g_npre, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		if (__atomic_load_n(&g_pre_timers[i].tid, __ATOMIC_ACQUIRE) == t->tid && !t->has_timer) {
			t->timer = g_pre_timers[i].timer;
			if (!t->cpu_known) {
				t->cpu_base = g_pre_timers[i].cpu_base;
				t->cpu_known = 1;
			}
			tcpu_note_arm(t, g_pre_timers[i].cpu_base, sample_first_ns(t->tid));
			t->has_timer = 1;
			__atomic_store_n(&g_pre_timers[i].tid, 0, __ATOMIC_RELEASE);
		}
	sample_gate_leave();
}

/* Context: any, async-signal-safe. */
struct tstate *thread_attach(void)
{
	struct tstate *t = agent_tls;
	if (t)
		return t;
	if (!agent_ready || tls_attaching || tls_untracked)
		return NULL;
	tls_attaching = 1;
	int saved = errno;
	size_t words = RING_WORDS_START;
	size_t head = (sizeof(struct tstate) + 4095) & ~(size_t)4095;
	/* With CPU sampling, the thread's signal stack follows the ring,
	 * above a guard page. */
	size_t alt = agent_cfg.cpu ? 4096 + ALT_BYTES : 0;
	size_t bytes = head + words * sizeof(uint64_t) + alt;
	void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		tls_untracked = 1;
		goto out;
	}
	t = m;
	t->map_bytes = bytes;
	if (alt && mprotect((char *)m + bytes - alt, 4096, PROT_NONE) == 0)
		t->alt_sp = (char *)m + bytes - ALT_BYTES;
	ring_init(&t->ring, (uint64_t *)((char *)m + head), words);
	t->tid = gettid_();
	t->pth = (uintptr_t)pthread_self();
	if (t->tid != agent_pid)
		agent_multi = 1;
	syscall(SYS_prctl, PR_GET_NAME, t->name, 0, 0, 0); /* not the interposer */
	take_pre_timer(t);
	t->rng = ((uint64_t)t->tid << 32 | 0x9e3779b9u) ^ agent_now() ^ (uintptr_t)m;
	if (!t->rng)
		t->rng = 1;
	atomic_store(&t->state, TS_LIVE);
	uint64_t w[5] = { EV_W0(EV_THREAD, 5, 0), (uint64_t)t->tid, agent_now(), 0, 0 };
	memcpy(&w[3], t->name, 16);
	ring_push(&t->ring, w, 5);
	int slot = -1;
	for (int i = 0; i < MAX_THREADS; i++) {
		struct tstate *expect = NULL;
		if (!atomic_load_explicit(&g_threads[i], memory_order_relaxed) &&
		    atomic_compare_exchange_strong(&g_threads[i], &expect, t)) {
			slot = i;
			break;
		}
	}
	if (slot < 0) {
		munmap(m, bytes);
		t = NULL;
		tls_untracked = 1;
		goto out;
	}
	t->slot = slot;
	int hw = atomic_load(&g_hiwater);
	while (hw < slot + 1 && !atomic_compare_exchange_weak(&g_hiwater, &hw, slot + 1))
		;
	agent_tls = t;
	if (g_key_ok)
		pthread_setspecific(g_key, t);
	sample_altstack_on(t);
out:
	tls_attaching = 0;
	errno = saved;
	return t;
}

/* Records the calling thread's stack bounds for the unwinder. Context: not
 * signal (pthread_getattr_np allocates, and reads /proc/self/maps for the
 * main thread); on t's own thread. */
static void thread_stack_bounds(struct tstate *t)
{
	pthread_attr_t a;
	void *addr;
	size_t size;
	if (!t || t->stack_hi || pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	if (pthread_attr_getstack(&a, &addr, &size) == 0) {
		t->stack_lo = (uintptr_t)addr;
		t->stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&a);
}

/* A thread's state and its ring, when the ring has grown out of it. */
static void state_unmap(struct tstate *t)
{
	if (t->ring_map)
		munmap(t->ring_map, t->ring_bytes);
	munmap(t, t->map_bytes);
}

/* Doubles t's ring (up to RING_WORDS_MAX), keeping what it holds. Called by
 * t's own thread with wlock held (the writer is not reading it) and t->busy
 * set (no signal handler pushes to it). */
static void ring_grow(struct tstate *t)
{
	struct ring *r = &t->ring;
	size_t cap = ring_capacity(r), ncap = cap * 2;
	if (cap >= RING_WORDS_MAX)
		return;
	void *m =
	    mmap(NULL, ncap * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	uint64_t *buf = m;
	uint64_t head = atomic_load(&r->head), tail = atomic_load(&r->tail);
	for (uint64_t i = tail; i < head; i++)
		buf[i & (ncap - 1)] = r->buf[i & r->mask];
	void *old = t->ring_map;
	size_t old_bytes = t->ring_bytes;
	r->buf = buf;
	r->mask = ncap - 1;
	t->ring_map = m;
	t->ring_bytes = ncap * sizeof(uint64_t);
	if (old)
		munmap(old, old_bytes);
}

/* Context: any. */
void writer_nudge(struct tstate *t)
{
	if (ring_fill_producer(&t->ring) > ring_capacity(&t->ring) / 8 &&
	    atomic_load_explicit(&g_writer_sleeping, memory_order_relaxed)) {
		int saved = errno;
		atomic_store_explicit(&g_writer_sleeping, 0, memory_order_relaxed);
		atomic_fetch_add(&g_wake, 1);
		futex_wake(&g_wake);
		errno = saved;
	}
}

static size_t writer_cycle(int final);

/* Whether this thread has the stack for the writer's work (unknown
 * bounds: assume so). */
static int stack_room(struct tstate *t)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	return !t->stack_hi || sp < t->stack_lo || sp >= t->stack_hi || sp - t->stack_lo >= 256 * 1024;
}

/* Context: malloc, not signal. */
void thread_wait_space(struct tstate *t, size_t n)
{
	unsigned spins = 0;
	int saved = errno;
	while (ring_space(&t->ring) < n) {
		if (g_finished || !agent_ready)
			break;
		/* A ring that fills faster than the writer drains it grows: the
		 * thread waits for the writer's lock (the writer may be draining
		 * this very ring), then moves the ring into a larger mapping. It
		 * does not do the writer's work here: the shorter the time it is
		 * busy, the fewer CPU samples it must defer. */
		if (t->busy && ring_capacity(&t->ring) < RING_WORDS_MAX && getpid() == agent_pid) {
			int cs;
			NO_CANCEL_BEGIN(cs);
			pthread_mutex_lock(&wlock);
			if (ring_space(&t->ring) < n)
				ring_grow(t);
			pthread_mutex_unlock(&wlock);
			NO_CANCEL_END(cs);
			continue;
		}
		/* Rather than wait for the writer, do its work when it is not
		 * doing it already: a busy machine may give the writer little
		 * CPU, and this thread has nothing better to do. Not on a
		 * thread short of stack: compressing needs tens of KB. */
		if (getpid() == agent_pid && stack_room(t) && pthread_mutex_trylock(&wlock) == 0) {
			int cs;
			NO_CANCEL_BEGIN(cs);
			writer_cycle(0);
			pthread_mutex_unlock(&wlock);
			NO_CANCEL_END(cs);
			atomic_fetch_add(&g_progress, 1);
			if (atomic_load(&g_waiters))
				syscall(SYS_futex, &g_progress, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
			continue;
		}
		uint32_t seen = atomic_load(&g_progress);
		if (atomic_load_explicit(&g_writer_sleeping, memory_order_relaxed)) {
			atomic_store(&g_writer_sleeping, 0);
			atomic_fetch_add(&g_wake, 1);
			futex_wake(&g_wake);
		}
		/* A child made by a raw clone or _Fork has no writer: stop
		 * recording in it rather than wait forever. */
		if ((++spins & 63) == 0 && getpid() != agent_pid) {
			agent_alloc_on = 0;
			agent_cpu_on = 0;
			agent_ready = 0;
			break;
		}
		if (spins < 16) {
			sched_yield();
			continue;
		}
		struct timespec ts = { 0, 2000000 };
		atomic_fetch_add(&g_waiters, 1);
		syscall(SYS_futex, &g_progress, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
		atomic_fetch_sub(&g_waiters, 1);
	}
	errno = saved;
}

/* Context: malloc, not signal. */
void thread_push_wait(struct tstate *t, const uint64_t *w, size_t n)
{
	while (ring_push(&t->ring, w, n) < 0) {
		if (g_finished || !agent_ready)
			return;
		thread_wait_space(t, n);
	}
	writer_nudge(t);
}

/* Context: malloc, not signal. */
void thread_flush_pending(struct tstate *t)
{
	while (t->pending) {
		t->busy = 1;
		__asm__ volatile("" ::: "memory");
		if (t->pending_new) {
			/* The frames follow room for the header (no event
			 * staged on the program's stack). */
			t->pending_frames[0] = EV_W0(EV_STACK, t->pending_n + 2, t->pending_n);
			t->pending_frames[1] = t->pending_id;
			thread_push_wait(t, t->pending_frames, t->pending_n + 2);
		}
		uint64_t s[4] = {EV_W0(EV_SAMPLE, t->pending_ns ? 4 : 3, t->pending_weight), t->pending_time,
				 t->pending_id, t->pending_ns};
		thread_push_wait(t, s, t->pending_ns ? 4 : 3);
		t->pending = 0;
		__asm__ volatile("" ::: "memory");
		t->busy = 0;
	}
}

/* Runs at thread exit (pthread key destructor). The state stays usable: a
 * later destructor may still free memory, and those events are recorded too.
 * The writer releases the state once the thread is gone. */
static void thread_key_dtor(void *p)
{
	struct tstate *t = p;
	if (!t || t != agent_tls)
		return;
	int g = agent_guard;
	agent_guard = 1;
	/* The thread is ending: no more samples; its CPU account closes
	 * below (thread-cpu.c), the time its samples do not cover charged. */
	sigset_t prof;
	sigemptyset(&prof);
	sigaddset(&prof, agent_cfg.signo);
	sigmask_real(SIG_BLOCK, &prof, NULL);
	sample_disarm(t);
	char name[16] = { 0 };
	syscall(SYS_prctl, PR_GET_NAME, name, 0, 0, 0);
	t->busy = 1;
	__asm__ volatile("" ::: "memory");
	if (memcmp(name, t->name, 16)) {
		memcpy(t->name, name, 16);
		uint64_t w[5] = { EV_W0(EV_THREAD, 5, 0), (uint64_t)t->tid, agent_now(), 0, 0 };
		memcpy(&w[3], name, 16);
		thread_push_wait(t, w, 5);
	}
	if (agent_cfg.cpu)
		tcpu_close(t, agent_cpu_on, agent_now(), t->hook_frames, thread_push_wait);
	else
		thread_push_wait(t, (uint64_t[3]){EV_W0(EV_THREAD_END, 3, 0), (uint64_t)t->tid, agent_now()},
				 3);
	t->thread_end_sent = 1;
	__asm__ volatile("" ::: "memory");
	t->busy = 0;
	if (t->pending)
		thread_flush_pending(t);
	atomic_store(&t->state, TS_ENDING);
	if (t->tid == agent_pid)
		g_main_exited = 1;
	agent_guard = g;
}

/* ---------------------------------------------------------------- the writer */

static int thread_alive(pid_t tid)
{
	return !(syscall(SYS_tgkill, agent_pid, tid, 0) < 0 && errno == ESRCH);
}

/* Writer-owned: the last name of each slot's thread written to the dump. */
static char g_wname[MAX_THREADS][16];

static inline int is_alloc_event(unsigned kind)
{
	return kind == EV_ALLOC || kind == EV_FREE || kind == EV_REALLOC;
}

/* The sequence number of the next allocation event in t's ring before
 * `until`; 0 when the next event has none (it can be written at once), and
 * UINT64_MAX when the ring is drained up to `until`. */
static uint64_t next_seq(struct tstate *t, uint64_t until)
{
	struct ring *r = &t->ring;
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (tail >= until)
		return UINT64_MAX;
	uint64_t w0 = r->buf[tail & r->mask];
	return is_alloc_event(EV_KIND(w0)) ? EV_FIELD(w0) : 0;
}

/* Drains t's ring up to the word `until` (an event boundary; 0: its
 * current head), stopping before an allocation event whose sequence number
 * exceeds max_seq. Returns the words drained. */
static size_t drain(struct tstate *t, uint64_t until, uint64_t max_seq)
{
	struct ring *r = &t->ring;
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	if (until && until < head)
		head = until;
	uint64_t start = tail, released = tail;
	uint64_t w[256];
	while (tail < head) {
		uint64_t w0 = r->buf[tail & r->mask];
		unsigned len = EV_LEN(w0);
		if (len == 0 || len > head - tail) {
			tail = head; /* cannot happen unless memory was overwritten */
			break;
		}
		if (is_alloc_event(EV_KIND(w0)) && EV_FIELD(w0) > max_seq)
			break;
		for (unsigned i = 0; i < len; i++)
			w[i] = r->buf[(tail + i) & r->mask];
		if (EV_KIND(w0) == EV_THREAD)
			memcpy(g_wname[t->slot], &w[3], 16);
		enc_event(&g_enc, (uint64_t)t->tid, w);
		tail += len;
		if (tail - released >= 4096) {
			atomic_store_explicit(&r->tail, tail, memory_order_release);
			released = tail;
		}
	}
	atomic_store_explicit(&r->tail, tail, memory_order_release);
	uint64_t lost = atomic_load_explicit(&t->lost_samples, memory_order_relaxed);
	if (lost != t->lost_reported) {
		enc_lost(&g_enc, FD_LOST_SAMPLES, lost - t->lost_reported);
		t->lost_reported = lost;
	}
	return (size_t)(tail - start);
}

static void release_state(int i, struct tstate *t)
{
	atomic_store(&g_threads[i], NULL);
	if (t->has_timer)
		timer_delete(t->timer);
	state_unmap(t);
}

/* pthread_setname_np of another thread: the name the interposer left in the
 * thread's state goes out (the thread's own renames are sent by itself). */
static void check_name(int i, struct tstate *t, uint64_t now)
{
	if (!atomic_exchange(&t->xname_set, 0))
		return;
	char name[17] = { 0 };
	memcpy(name, t->xname, 16);
	char padded[16] = { 0 };
	memcpy(padded, name, strnlen(name, 16));
	if (memcmp(padded, g_wname[i], 16)) {
		memcpy(g_wname[i], padded, 16);
		enc_thread(&g_enc, (uint64_t)t->tid, now, name);
	}
}

/* /proc/self/statm, read every tick through one descriptor of the agent's,
 * placed high (fd_place_high) and read with pread at offset 0 (the kernel
 * makes the text anew). Opening it for each read would take the lowest free
 * descriptor for a moment, fifty times a second: the program's own open()
 * would get another number than without the agent (close(0) then
 * open("/dev/null") no longer makes a stdin) and its dup2 onto that number
 * could fail with EBUSY (test-fd-lowest). The descriptor is checked (device
 * and inode) before each read, since the program may have closed it and
 * reused its number; only then is it opened again. Writer thread only. */
static int g_statm_fd = -1, g_statm_per_read;
static dev_t g_statm_dev;
static ino_t g_statm_ino;

static void statm_forget(int close_it)
{
	if (g_statm_fd >= 0 && close_it)
		close(g_statm_fd);
	g_statm_fd = -1;
}

static uint64_t statm_parse(char *buf, ssize_t n)
{
	if (n <= 0)
		return 0;
	buf[n] = 0;
	unsigned long long size, res;
	if (sscanf(buf, "%llu %llu", &size, &res) != 2)
		return 0;
	return res * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t statm_parse_file(void)
{
	char buf[128];
	return statm_parse(buf, read_file("/proc/self/statm", buf, sizeof(buf) - 1));
}

static uint64_t statm_rss(void)
{
	if (g_statm_per_read)
		return statm_parse_file();
	struct stat st;
	if (g_statm_fd >= 0 &&
	    (fstat(g_statm_fd, &st) < 0 || st.st_dev != g_statm_dev || st.st_ino != g_statm_ino))
		statm_forget(0); /* not ours any more: the program closed it */
	if (g_statm_fd < 0) {
		int fd = open("/proc/self/statm", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return 0;
		fd = fd_place_high(fd);
		struct rlimit rl;
		if (fstat(fd, &st) < 0 || (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
					   (rlim_t)fd < rl.rlim_cur && rl.rlim_cur <= 2048)) {
			/* No number above the program's range (a small soft
			 * limit, a hard one too close): the agent keeps none of
			 * the program's numbers and opens it for each read. */
			close(fd);
			g_statm_per_read = 1;
			return statm_parse_file();
		}
		g_statm_fd = fd;
		g_statm_dev = st.st_dev;
		g_statm_ino = st.st_ino;
	}
	char buf[128];
	ssize_t n;
	do
		n = pread(g_statm_fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	return statm_parse(buf, n);
}

/* The heap in use as glibc counts it (mallinfo2: arena bytes in use plus
 * mmap'd chunks), read by the writer so the hooks pay nothing for it. */
static uint64_t heap_in_use(void)
{
	if (!g_mallinfo2)
		return 0;
	struct mallinfo2 (*mi)(void) = (struct mallinfo2(*)(void))(void *)g_mallinfo2;
	struct mallinfo2 m = mi();
	return (uint64_t)m.uordblks + (uint64_t)m.hblkhd;
}

/* The rings' heads when a round of draining began (writer-owned). */
static struct tstate *g_snap_t[MAX_THREADS];
static uint64_t g_snap_head[MAX_THREADS];
/* How far past the other rings' next event one ring may run ahead in a
 * batch: long runs per thread compress well, and the file stays within this
 * many sequence numbers of sorted order, far inside the analyzer's window. */
#define MERGE_SLACK 65536

/* One round: every ring is drained up to where its head was when the round
 * began, merged by allocation sequence number (each ring is in sequence
 * order), so that the file is nearly in sequence order however many threads
 * allocate (the analyzer replays by sequence within a bounded window). The
 * TICK that ends the round carries the sequence number read before the
 * round began: every event below it was in a ring then, and is now in the
 * file. Called with wlock held. Returns the words drained. */
static size_t writer_cycle(int final)
{
	if (g_finished)
		return 0;
	size_t got = 0;
	uint64_t tick_seq = atomic_load(&agent_seq);
	int hw = atomic_load(&g_hiwater), n = 0;
	for (int i = 0; i < hw; i++) {
		struct tstate *t = atomic_load(&g_threads[i]);
		if (!t)
			continue;
		g_snap_t[n] = t;
		g_snap_head[n] = atomic_load_explicit(&t->ring.head, memory_order_acquire);
		n++;
	}
	for (;;) {
		/* The ring with the smallest next sequence number runs until it
		 * passes the second smallest by MERGE_SLACK. */
		int best = -1;
		uint64_t s1 = UINT64_MAX, s2 = UINT64_MAX;
		for (int k = 0; k < n; k++) {
			uint64_t s = next_seq(g_snap_t[k], g_snap_head[k]);
			if (s < s1) {
				s2 = s1;
				s1 = s;
				best = k;
			} else if (s < s2) {
				s2 = s;
			}
		}
		if (best < 0 || s1 == UINT64_MAX)
			break;
		uint64_t bound = s2 > UINT64_MAX - MERGE_SLACK ? UINT64_MAX : s2 + MERGE_SLACK;
		size_t d = drain(g_snap_t[best], g_snap_head[best], bound);
		if (!d) /* cannot happen: its next event is within the bound */
			d = drain(g_snap_t[best], g_snap_head[best], UINT64_MAX);
		got += d;
		if (g_enc.raw_len >= CHUNK_RAW / 2) {
			enc_flush(&g_enc);
			g_last_flush = agent_now();
		}
	}
	uint64_t now = agent_now();
	int check = final || now - g_last_check >= CHECK_NS;
	for (int i = 0; i < hw; i++) {
		struct tstate *t = atomic_load(&g_threads[i]);
		if (!t)
			continue;
		int st = atomic_load(&t->state);
		if (st == TS_ENDING || check) {
			if (!thread_alive(t->tid)) {
				/* Its last events go out through the merge of a
				 * round, in sequence order; then the state goes. */
				if (ring_ready(&t->ring))
					continue;
				if (!t->thread_end_sent)
					enc_thread_end(&g_enc, (uint64_t)t->tid, now, UINT64_MAX);
				release_state(i, t);
			} else if (check && st == TS_LIVE) {
				check_name(i, t, now);
			}
		}
	}
	if (check)
		g_last_check = now;
	uint64_t ls = atomic_load(&agent_lost_stacks), la = atomic_load(&agent_lost_alloc);
	if (ls != g_lost_stacks_reported) {
		enc_lost(&g_enc, FD_LOST_STACKS, ls - g_lost_stacks_reported);
		g_lost_stacks_reported = ls;
	}
	if (la != g_lost_alloc_reported) {
		enc_lost(&g_enc, FD_LOST_ALLOC, la - g_lost_alloc_reported);
		g_lost_alloc_reported = la;
	}
	uint64_t ia = atomic_load(&agent_cpu_in_agent);
	if (ia != g_cpu_in_agent_reported) {
		enc_lost(&g_enc, FD_LOST_CPU_IN_AGENT, ia - g_cpu_in_agent_reported);
		g_cpu_in_agent_reported = ia;
	}
	uint64_t lc = atomic_load(&agent_cpu_unsampled);
	if (lc != g_cpu_unsampled_reported) {
		char why[160];
		snprintf(why, sizeof(why), "%s: %s",
			 agent_cpu_unsampled_call ? "timer_settime" : "timer_create",
			 strerror(agent_cpu_unsampled_errno));
		enc_lost_why(&g_enc, FD_LOST_CPU_THREADS, lc - g_cpu_unsampled_reported, why);
		g_cpu_unsampled_reported = lc;
	}
	python_write(&g_enc, final);
	if (final || now - g_last_tick >= TICK_NS) {
		enc_tick(&g_enc, now, tick_seq, statm_rss(), heap_in_use());
		g_last_tick = now;
	}
	if (g_enc.raw_len >= CHUNK_RAW / 2 || (g_enc.raw_len && now - g_last_flush >= FLUSH_NS)) {
		enc_flush(&g_enc);
		g_last_flush = now;
	}
	report_dump_error(0);
	return got;
}

/* Says once why the dump stopped short: at once when the program took its
 * descriptor (the dump simply ends there); at the end for a full disk or
 * another write error, with the bytes lost. A full disk is also noted in
 * the manifest, so that `fathom record` can say so instead of "killed":
 * the dump itself has no room left for the note. Called with wlock held. */
static void report_dump_error(int at_end)
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

/* How many of the process's threads are neither `self` nor the writer.
 * Not signal-safe (opendir allocates, with agent_guard set). */
int agent_threads_besides(pid_t self)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int others = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid > 0 && tid != g_writer_tid && tid != self)
			others++;
	}
	closedir(d);
	return others;
}

/* True when every thread but the writer (and the exited main thread) is
 * gone. */
static int only_writer_left(void)
{
	return agent_threads_besides(agent_pid) == 0;
}

pid_t agent_gettid(void)
{
	return gettid_();
}

static void *writer_main(void *arg)
{
	agent_guard = 1;
	__atomic_store_n(&g_writer_tid, gettid_(), __ATOMIC_RELEASE);
	syscall(SYS_prctl, PR_SET_NAME, "fathom-writer", 0, 0, 0);
	while (!g_finished) {
		/* The program's last thread is gone: end the process as glibc
		 * would have, had the writer not been counted as a thread. */
		if (g_main_exited && only_writer_left())
			exit(0);
		uint32_t seen = atomic_load(&g_wake);
		pthread_mutex_lock(&wlock);
		size_t got = writer_cycle(0);
		pthread_mutex_unlock(&wlock);
		atomic_fetch_add(&g_progress, 1);
		if (atomic_load(&g_waiters))
			syscall(SYS_futex, &g_progress, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
		/* Busy rings keep the writer going; otherwise it sleeps until a
		 * ring is an eighth full (writer_nudge) or the next tick. */
		if (got >= 4096)
			continue;
		struct timespec ts = { 0, got ? 1000000 : 10000000 };
		atomic_store(&g_writer_sleeping, 1);
		syscall(SYS_futex, &g_wake, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
		atomic_store(&g_writer_sleeping, 0);
	}
	return NULL;
}

static int (*real_pthread_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static int start_writer(void)
{
	pthread_t th;
	sigset_t all, old;
	sigfillset(&all);
	/* The writer must never run the program's signal handlers. */
	sigmask_real(SIG_SETMASK, &all, &old);
	g_writer_tid = 0;
	/* 1 MB of stack, not the default 8 MB of address space: the writer
	 * needs a few KB, and at most runs the program's exit handlers when the
	 * main thread has called pthread_exit. */
	pthread_attr_t attr;
	int a = pthread_attr_init(&attr) == 0 && pthread_attr_setstacksize(&attr, WRITER_STACK) == 0;
	int r = real_pthread_create(&th, a ? &attr : NULL, writer_main, NULL);
	if (a)
		pthread_attr_destroy(&attr);
	sigmask_real(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	pthread_detach(th);
	/* Its tid, set first thing, keeps it out of the threads given a
	 * sampling timer: it blocks every signal. */
	while (!__atomic_load_n(&g_writer_tid, __ATOMIC_ACQUIRE))
		sched_yield();
	return 0;
}

/* ------------------------------------------------------------ start and end */

static int open_dump(pid_t ppid)
{
	int generation = 0;
	g_fd = open_output(agent_pid, &generation);
	if (g_fd < 0)
		return -1;
	/* Opened now, while the program waits (constructor, fork child), so
	 * that its moment on a low number never meets the program's open(). */
	(void)statm_rss();
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
	g_enc.check_id = 1;
	manifest_line("%s\n", g_path);
	write_header(ppid, generation);
	const char *run = getenv("FATHOM_RUN");
	if (run && *run)
		enc_note(&g_enc, FD_NOTE_RUN, run);
	if (g_alloc_bypass[0])
		enc_note(&g_enc, FD_NOTE_ALLOC_BYPASS, g_alloc_bypass);
	if (g_cpu_off[0])
		enc_lost_why(&g_enc, FD_LOST_CPU_UNAVAILABLE, 1, g_cpu_off);
	return 0;
}

static void set_start_times(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	g_start_real = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	agent_start_mono = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	g_cpu_start = 0;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0)
		g_cpu_start = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	g_last_flush = g_last_tick = g_last_check = 0;
}

/* A state of this process's thread tid exists: a live one, or with
 * any_state one that is ending too. */
static int has_state_any(pid_t tid, int any_state)
{
	int hw = atomic_load(&g_hiwater);
	for (int i = 0; i < hw; i++) {
		struct tstate *t = atomic_load(&g_threads[i]);
		if (t && t->tid == tid && (any_state || atomic_load(&t->state) == TS_LIVE))
			return 1;
	}
	return 0;
}

static int has_state(pid_t tid)
{
	return has_state_any(tid, 0);
}

/* Arms a timer for each thread that runs without the agent's state yet (at
 * start, and again after a failed exec); the thread takes it over when it
 * first attaches. */
static void arm_existing_threads(pid_t self)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) && g_npre < (int)(sizeof(g_pre_timers) / sizeof(g_pre_timers[0]))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid <= 0 || tid == self || tid == g_writer_tid || has_state(tid))
			continue;
		if (!sample_gate_enter())
			break;
		timer_t tm;
		uint64_t base = sample_thread_cpu(tid);
		if (sample_arm_tid(tid, &tm) == 0) {
			int i = g_npre;
			g_pre_timers[i].cpu_base = base;
			g_pre_timers[i].timer = tm;
			__atomic_store_n(&g_pre_timers[i].tid, tid, __ATOMIC_RELEASE);
			__atomic_store_n(&g_npre, i + 1, __ATOMIC_RELEASE);
		} else if (errno != ESRCH && errno != EINVAL) {
			/* (A thread that ended meanwhile is not unsampled.) */
			atomic_fetch_add(&agent_cpu_unsampled, 1);
		}
		sample_gate_leave();
	}
	closedir(d);
}

static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return 2; /* unknown: assume several */
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += atoi(de->d_name) > 0;
	closedir(d);
	return n;
}

/* Writes the header and the module map at once, as the first chunk: a dump
 * whose process is still running, or ended without a trailer, still says
 * whose it is. The writer does not run yet. */
static void flush_start(void)
{
	pthread_mutex_lock(&wlock);
	enc_flush(&g_enc);
	g_last_flush = agent_now();
	pthread_mutex_unlock(&wlock);
}

static void on_fork_child(void);
static void on_fork_parent(void);
static void on_quick_exit(void);
static int g_quick_exit_hooked;

/* A Go program: its runtime installs its own signal handlers and signal
 * stacks for every thread it makes, and samples itself (pprof). The agent
 * stays off, as in a setuid program, and says so once: in `fathom record`'s
 * summary when it runs under it (the manifest's "go PID EXE" line), else on
 * stderr. */
static void go_program(void)
{
	char exe[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[l > 0 ? l : 0] = 0;
	if (!manifest_line("go %d %s\n", (int)getpid(), exe))
		say("fathom: %s is a Go program, which fathom does not profile (its runtime owns the signals "
		    "fathom samples with); use Go's pprof (runtime/pprof, net/http/pprof); running it "
		    "unprofiled",
		    exe);
}

__attribute__((constructor)) static void agent_init(void)
{
	if (getauxval(AT_SECURE))
		return;
	if (program_is_go()) {
		go_program();
		return;
	}
	agent_guard = 1;
	hooks_resolve();
	real_pthread_create = agent_dlsym_next("pthread_create");
	g_mallinfo2 = (size_t(*)(void *))dlsym(RTLD_DEFAULT, "mallinfo2");
	read_config();
	int hr = hooks_setup();
	if (hr < 0) {
		say(hr == -ENOENT ? "fathom: cannot find the C library's allocator; not tracking allocations"
				  : "fathom: cannot map the sampled-allocation table; not tracking allocations");
		agent_cfg.alloc = FD_ALLOC_OFF;
		agent_cfg.alloc_sample = 0;
	}
	if (!real_pthread_create)
		goto out;
	int bypass = agent_cfg.alloc != FD_ALLOC_OFF ? program_alloc_bypass(g_alloc_bypass, sizeof(g_alloc_bypass)) : 0;
	if (bypass && !getenv("FATHOM_MANIFEST"))
		say("fathom: the program's malloc is %s's, which comes before fathom's hooks (%s): no "
		    "allocation is recorded%s",
		    g_alloc_bypass, bypass == 1 ? "preloaded before it" : "linked into the program",
		    bypass == 1 ? "; put libfathom.so first in LD_PRELOAD" : "");
	agent_pid = getpid();
	agent_multi = count_threads() > 1;
	set_start_times();
	if (intern_init(&agent_intern, INTERN_SLOTS, INTERN_WORDS, INTERN_LEVELS) < 0) {
		say("fathom: cannot map the stack table; not profiling");
		goto out;
	}
	dl_iterate_phdr(self_cb, (void *)(uintptr_t)&agent_init);
	dl_iterate_phdr(helper_cb, NULL);
	/* A seccomp filter may forbid the timers, even kill for them: found
	 * out now, the only time SIGSYS is caught, and said once. */
	if (agent_cfg.cpu && sample_probe(g_cpu_off, sizeof(g_cpu_off)) < 0)
		say("fathom: CPU sampling unavailable: %s", g_cpu_off);
	note_stderr();
	if (open_dump((pid_t)getppid()) < 0)
		goto out;
	g_key_ok = pthread_key_create(&g_key, thread_key_dtor) == 0;
	program_env_init();
	agent_ready = 1;
	struct tstate *t = thread_attach();
	thread_stack_bounds(t);
	modules_rescan();
	flush_start();
	if (start_writer() < 0) {
		say("fathom: cannot start the writer thread; not profiling");
		agent_ready = 0;
		goto out;
	}
	pthread_atfork(NULL, on_fork_parent, on_fork_child);
	/* quick_exit runs the at_quick_exit handlers, then leaves without
	 * destructors: ours, registered before the program's, runs last. */
	g_quick_exit_hooked = at_quick_exit(on_quick_exit) == 0;
	agent_exit_late_setup();
	agent_alloc_on = agent_cfg.alloc;
	if (t && agent_cfg.cpu) {
		tcpu_note_base(t, t->tid);
		tcpu_note_main(t);
	}
	if (agent_cfg.cpu && !g_cpu_off[0] && sample_install() == 0) {
		agent_cpu_on = 1;
		sigmask_init();
		python_init();
		if (t)
			sample_arm(t, t->tid);
		arm_existing_threads(gettid_());
	}
out:
	agent_guard = 0;
}

/* The writer's emitter for tcpu_close(). */
static void emit_enc(struct tstate *t, const uint64_t *w, size_t n)
{
	(void)n;
	enc_event(&g_enc, (uint64_t)t->tid, w);
}

/* Threads the agent never saw (they never ran agent code: created by a raw
 * clone, or running since before the agent with the signal blocked): their
 * names and measured CPU time, from /proc and their CPU clocks. */
static void close_unseen(uint64_t now)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return;
	struct dirent *de;
	for (int n = 0; (de = readdir(d)) && n < 4096;) {
		pid_t tid = (pid_t)atoi(de->d_name);
		uint64_t clk, base = 0;
		if (tid <= 0 || tid == g_writer_tid || has_state_any(tid, 1) || tcpu_read(tid, &clk) < 0)
			continue;
		for (int i = 0; i < g_npre; i++)
			if (g_pre_timers[i].tid == tid)
				base = g_pre_timers[i].cpu_base;
		char path[64], name[17] = {0};
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
		ssize_t k = read_file(path, name, 16);
		if (k > 0 && name[k - 1] == '\n')
			name[k - 1] = 0;
		enc_thread(&g_enc, (uint64_t)tid, now, name);
		enc_thread_end(&g_enc, (uint64_t)tid, now, clk > base ? clk - base : 0);
		n++;
	}
	closedir(d);
}

/* At the end of the recording (exit, exec, daemon): closes the CPU account
 * of every thread still running (thread-cpu.c), and of those the agent
 * never saw. final: the threads' own ends will not be recorded (exit); an
 * exec's trailer may be taken back, so nothing is changed then. */
static void close_accounts(uint64_t now, int charge, int final)
{
	if (!agent_cfg.cpu)
		return;
	/* The threads run on and may use their own buffers. */
	static uint64_t f[EV_MAX_WORDS];
	int hw = atomic_load(&g_hiwater);
	for (int i = 0; i < hw; i++) {
		struct tstate *t = atomic_load(&g_threads[i]);
		if (!t || atomic_load(&t->state) != TS_LIVE || t->thread_end_sent)
			continue;
		tcpu_close(t, charge, now, f, emit_enc);
		if (final)
			t->thread_end_sent = 1;
	}
	close_unseen(now);
}

/* With the wall clock, a thread still blocked when the dump ends: its time
 * blocked so far, on the stack it blocked in (blocking.c; an atomic exchange
 * there keeps an interval from counting twice). */
static void close_blocked(uint64_t now)
{
	int hw = atomic_load(&g_hiwater);
	for (int i = 0; agent_cpu_on && i < hw; i++) {
		struct tstate *t = atomic_load(&g_threads[i]);
		if (!t || atomic_load(&t->state) != TS_LIVE)
			continue;
		uint32_t bid;
		uint64_t bns = blocking_take(t, now, &bid);
		if (bns && bid) {
			uint64_t s[4] = { EV_W0(EV_SAMPLE, 4, bns / (1000000000u / (unsigned)agent_cfg.hz)), now, bid,
					  bns };
			enc_event(&g_enc, (uint64_t)t->tid, s);
		}
	}
}

/* The trailer, with the process's CPU time since the agent started and the
 * writer's (the agent's own thread, which no report counts). */
static void trailer(uint64_t now, unsigned reason)
{
	struct timespec ts;
	uint64_t proc = UINT64_MAX, writer = 0;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0) {
		proc = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		proc = proc > g_cpu_start ? proc - g_cpu_start : 0;
	}
	if (g_writer_tid && tcpu_read(g_writer_tid, &writer) < 0)
		writer = 0;
	enc_trailer(&g_enc, now, reason, proc, writer);
}

static int define_stack(void *arg, uint32_t id, const uint64_t *frames, unsigned n)
{
	enc_stack(arg, id, frames, n);
	return 0;
}

/* Before the dump ends: a STACK travels in the ring of the thread that made
 * the id, while another thread's ring, a pending sample or the CPU time
 * credited at the end may already have named it; when the last round cut
 * the rings before the definition, it is written here, from the table.
 * Called with wlock held, once the last events are encoded. */
static void define_missing_stacks(void)
{
	/* Every id named so far was counted before anyone could use it. */
	atomic_thread_fence(memory_order_acquire);
	if (g_enc.stacks_defined < intern_count(&agent_intern))
		intern_each(&agent_intern, define_stack, &g_enc);
}

/* Writes everything that is pending and the trailer. Called at exit, _exit
 * and (keeping wlock) before exec. */
static void finish_locked(unsigned reason)
{
	uint64_t now = agent_now();
	writer_cycle(1);
	writer_cycle(1);
	close_accounts(now, agent_cpu_on, 1);
	close_blocked(now);
	define_missing_stacks();
	trailer(now, reason);
	enc_flush(&g_enc);
	g_last_flush = now;
	report_dump_error(1);
}

/* Takes wlock, or gives up after two seconds: exit or exec from a signal
 * handler that interrupted this very thread inside the writer's work must
 * not hang the program; the dump then lacks its trailer. */
static int lock_writer_bounded(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	return pthread_mutex_timedlock(&wlock, &ts);
}

void agent_finish(unsigned reason)
{
	if (!agent_ready || g_finished || getpid() != agent_pid)
		return;
	int g = agent_guard, cs;
	agent_guard = 1;
	NO_CANCEL_BEGIN(cs);
	if (lock_writer_bounded()) {
		NO_CANCEL_END(cs);
		agent_guard = g;
		return;
	}
	if (!g_finished) {
		finish_locked(reason);
		g_finished = 1;
		agent_alloc_on = 0;
		agent_cpu_on = 0;
	}
	pthread_mutex_unlock(&wlock);
	NO_CANCEL_END(cs);
	agent_guard = g;
}

/* After the program's destructors. An exact recording is finished later,
 * by the agent's last exit handler (freeres.c). */
__attribute__((destructor)) static void agent_fini(void)
{
	if (agent_exit_late_pending())
		return;
	agent_finish(FD_END_EXIT);
}

/* -------------------------------------------------------------------- fork */

static void on_fork_child(void)
{
	sigmask_after_fork();
	if (!agent_ready)
		return;
	int g = agent_guard;
	agent_guard = 1;
	pthread_mutex_init(&wlock, NULL);
	pthread_mutex_init(&modlock, NULL);
	pid_t ppid = agent_pid;
	agent_pid = getpid();
	struct tstate *self = agent_tls;
	/* The other threads do not exist here; their rings were the parent's. */
	int hw = atomic_load(&g_hiwater);
	for (int i = 0; i < hw; i++) {
		struct tstate *t = atomic_load(&g_threads[i]);
		atomic_store(&g_threads[i], NULL);
		if (t && t != self)
			state_unmap(t);
	}
	atomic_store(&g_hiwater, 0);
	memset(g_wname, 0, sizeof(g_wname));
	g_npre = 0;
	python_after_fork();
	/* Stack ids are per process: start a fresh table. */
	intern_destroy(&agent_intern);
	if (intern_init(&agent_intern, INTERN_SLOTS, INTERN_WORDS, INTERN_LEVELS) < 0)
		goto off;
	agent_intern_gen++;
	agent_multi = 0;
	g_main_exited = 0; /* the forking thread is the child's main thread */
	atomic_store(&agent_seq, 0);
	atomic_store(&agent_lost_stacks, 0);
	atomic_store(&agent_cpu_in_agent, 0);
	g_cpu_in_agent_reported = 0;
	atomic_store(&agent_lost_alloc, 0);
	g_lost_stacks_reported = g_lost_alloc_reported = 0;
	atomic_store(&agent_cpu_unsampled, 0);
	g_cpu_unsampled_reported = 0;
	/* The modules stay known, with the paths resolved when they were
	 * loaded (the directory may have changed since), and are recorded
	 * again in the child's dump (id 0: not in it yet). */
	for (size_t i = 0; i < g_nmods; i++)
		g_mods[i].id = 0;
	/* The parent's dump is closed here only while the number is still
	 * that file: the program may have closed it and reused the number. */
	if (g_fd >= 0 && enc_is_ours(&g_enc))
		close(g_fd);
	g_fd = -1;
	enc_close(&g_enc);
	g_error_said = 0;
	set_start_times();
	statm_forget(1); /* it names the parent's /proc entry */
	if (open_dump(ppid) < 0)
		goto off;
	if (self) {
		/* Keep this thread's state, emptied, as the child's first thread. */
		ring_init(&self->ring, self->ring.buf, ring_capacity(&self->ring));
		self->tid = gettid_();
		self->has_timer = 0;
		self->pending = 0;
		self->busy = 0;
		/* Its last stack id was the parent's: no CPU time is credited
		 * to it in the child's table. */
		self->last_id = 0;
		atomic_store(&self->lost_samples, 0);
		self->lost_reported = 0;
		self->thread_end_sent = 0;
		tcpu_forget(self);
		self->slot = 0;
		atomic_store(&g_threads[0], self);
		atomic_store(&g_hiwater, 1);
		uint64_t w[5] = { EV_W0(EV_THREAD, 5, 0), (uint64_t)self->tid, agent_now(), 0, 0 };
		memcpy(&w[3], self->name, 16);
		ring_push(&self->ring, w, 5);
	}
	modules_rescan();
	flush_start();
	g_finished = 0;
	if (start_writer() < 0)
		goto off;
	if (agent_cpu_on && self)
		sample_arm(self, self->tid);
	agent_guard = g;
	return;
off:
	agent_ready = 0;
	agent_alloc_on = 0;
	agent_cpu_on = 0;
	agent_guard = g;
}

/* -------------------------------------------------------------------- exec */

/* Deletes every timer of the process: each thread's, and those made at start
 * for threads that never attached. Only after sample_stop_arming(), so none
 * is being made meanwhile. */
static void disarm_all(void)
{
	int hw = atomic_load(&g_hiwater);
	for (int i = 0; i < hw; i++) {
		struct tstate *t = atomic_load(&g_threads[i]);
		if (t)
			sample_disarm(t);
	}
	for (int i = 0; i < g_npre; i++)
		if (g_pre_timers[i].tid) {
			timer_delete(g_pre_timers[i].timer);
			g_pre_timers[i].tid = 0;
		}
	g_npre = 0;
}

/* Before the image is replaced: no timer may survive, and no signal of ours
 * may be pending, or the new image, where the signal's disposition is the
 * program's again (its default action ends the process), could be killed
 * before its agent starts. Threads starting right now are kept from arming
 * (the gate), every timer is deleted, then pending signals are discarded. */
static void stop_sampling(void)
{
	sample_stop_arming();
	disarm_all();
	sample_before_exec();
	python_exec(1);
}

/* After a failed exec: the handler again, and a timer for every thread. */
static void resume_sampling(void)
{
	if (sample_install() < 0)
		return;
	python_exec(0);
	sample_allow_arming();
	int hw = atomic_load(&g_hiwater);
	for (int i = 0; i < hw; i++) {
		struct tstate *t = atomic_load(&g_threads[i]);
		if (t && atomic_load(&t->state) == TS_LIVE)
			sample_arm(t, t->tid);
	}
	arm_existing_threads(gettid_());
}

/* Flushes everything and writes a trailer that may be taken back (exec, and
 * daemon()'s parent, whose fork can fail): returns where it starts. Called
 * with wlock held, which the caller keeps so that nothing follows it. */
static struct enc_mark trailer_provisional(unsigned reason)
{
	writer_cycle(1);
	define_missing_stacks(); /* kept if the trailer is taken back */
	enc_flush(&g_enc);
	struct enc_mark m = enc_mark(&g_enc);
	uint64_t now = agent_now();
	/* (With CPU sampling just stopped for an exec: it was on.) */
	close_accounts(now, agent_cfg.cpu && !g_cpu_off[0], 0);
	trailer(now, reason);
	enc_flush(&g_enc);
	report_dump_error(1);
	return m;
}

struct exec_state {
	int active;
	int mask_blocked; /* the signal was blocked for the new image (sigmask.c) */
	int sampling; /* the timers were stopped */
	struct enc_mark mark;
	int guard;
};

/* Stops sampling (see stop_sampling), flushes everything and writes a
 * trailer (reason EXEC), keeping wlock so that nothing follows it; the exec
 * replaces the image, or fails and exec_failed() takes the trailer back and
 * resumes. */
static struct exec_state before_exec(void)
{
	struct exec_state s = { 0 };
	s.mask_blocked = sigmask_before_exec();
	if (!agent_ready || getpid() != agent_pid)
		return s; /* (a vfork child: the timers are the parent's) */
	s.guard = agent_guard;
	agent_guard = 1;
	/* Whatever becomes of the dump, the new image must not inherit a
	 * timer or a pending signal. */
	if (agent_cpu_on) {
		s.sampling = 1;
		stop_sampling();
	}
	if (g_finished || lock_writer_bounded()) {
		if (!s.sampling)
			agent_guard = s.guard;
		return s;
	}
	s.active = 1;
	s.mark = trailer_provisional(FD_END_EXEC);
	return s;
}

static void exec_failed(struct exec_state *s)
{
	sigmask_exec_failed(s->mask_blocked);
	if (!s->active && !s->sampling)
		return;
	int e = errno;
	if (s->active)
		enc_rewind(&g_enc, s->mark);
	if (s->sampling && agent_cpu_on)
		resume_sampling();
	if (s->active)
		pthread_mutex_unlock(&wlock);
	agent_guard = s->guard;
	errno = e;
}

#define REAL(name, type) static __typeof__(type) real_##name
#define RESOLVE(name) (real_##name ? real_##name : (real_##name = agent_dlsym_next(#name)))

REAL(execve, int (*)(const char *, char *const[], char *const[]));
REAL(execv, int (*)(const char *, char *const[]));
REAL(execvp, int (*)(const char *, char *const[]));
REAL(execvpe, int (*)(const char *, char *const[], char *const[]));
REAL(fexecve, int (*)(int, char *const[], char *const[]));
REAL(execveat, int (*)(int, const char *, char *const[], char *const[], int));

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	if (!RESOLVE(execve)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(envp, path, &x);
	struct exec_state s = before_exec();
	int r = real_execve(path, argv, env);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

EXPORT int execv(const char *path, char *const argv[])
{
	if (!RESOLVE(execv)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(environ, path, &x);
	struct exec_state s = before_exec();
	/* execv is execve with environ: the same call with a kept agent. */
	int r = env == environ || !RESOLVE(execve) ? real_execv(path, argv) : real_execve(path, argv, env);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

EXPORT int execvp(const char *file, char *const argv[])
{
	if (!RESOLVE(execvp)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(environ, file, &x);
	struct exec_state s = before_exec();
	int r = env == environ || !RESOLVE(execvpe) ? real_execvp(file, argv) : real_execvpe(file, argv, env);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (!RESOLVE(execvpe)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(envp, file, &x);
	struct exec_state s = before_exec();
	int r = real_execvpe(file, argv, env);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	if (!RESOLVE(fexecve)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(envp, argv[0], &x);
	struct exec_state s = before_exec();
	int r = real_fexecve(fd, argv, env);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	if (!RESOLVE(execveat)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(envp, path, &x);
	struct exec_state s = before_exec();
	int r = real_execveat(dirfd, path, argv, env, flags);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

/* execl, execle, execlp: the argument list becomes an array on the stack, as
 * glibc does, then the matching v-function above runs. */
#define COLLECT_ARGS(arg0, ap, argv)                                                                                  \
	size_t argc_ = 1;                                                                                             \
	va_start(ap, arg0);                                                                                           \
	while (va_arg(ap, char *))                                                                                    \
		argc_++;                                                                                              \
	va_end(ap);                                                                                                   \
	char *argv[argc_ + 1];                                                                                        \
	argv[0] = (char *)arg0;                                                                                       \
	va_start(ap, arg0);                                                                                           \
	for (size_t i_ = 1; i_ <= argc_; i_++)                                                                        \
		argv[i_] = va_arg(ap, char *);

EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv)
	va_end(ap);
	return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv)
	va_end(ap);
	return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv)
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

/* -------------------------------------------------------------------- exit */

/* daemon(): its parent leaves by the C library's internal _exit, which no
 * interposed function sees. The fork's parent handler writes the trailer
 * first, keeping wlock (the parent is about to end); when the fork failed
 * and daemon() returns in the parent, the trailer is taken back. */
static struct {
	pid_t pid; /* the process inside daemon(), 0 when none */
	int held;
	int guard;
	struct enc_mark mark;
} g_daemon;

static void on_fork_parent(void)
{
	if (!g_daemon.pid || g_daemon.pid != getpid() || !agent_ready || g_finished || getpid() != agent_pid)
		return;
	g_daemon.guard = agent_guard;
	agent_guard = 1;
	if (lock_writer_bounded()) {
		agent_guard = g_daemon.guard;
		return;
	}
	g_daemon.mark = trailer_provisional(FD_END_EXIT);
	g_daemon.held = 1;
	/* Nothing may wait for the writer now (it would wait on wlock, which
	 * this thread holds): hooks drop what finds a ring full. */
	g_finished = 1;
}

REAL(daemon, int (*)(int, int));

EXPORT int daemon(int nochdir, int noclose)
{
	if (!RESOLVE(daemon)) {
		errno = ENOSYS;
		return -1;
	}
	pid_t self = getpid();
	g_daemon.pid = self;
	int r = real_daemon(nochdir, noclose);
	int e = errno;
	if (getpid() == self && g_daemon.held) {
		enc_rewind(&g_enc, g_daemon.mark);
		g_finished = 0;
		pthread_mutex_unlock(&wlock);
		agent_guard = g_daemon.guard;
	}
	g_daemon.held = 0;
	g_daemon.pid = 0;
	errno = e;
	return r;
}

static void on_quick_exit(void)
{
	agent_finish(FD_END_EXIT);
}

REAL(quick_exit, void (*)(int));

/* The at_quick_exit handler above writes the trailer after the program's
 * own handlers; without it (it could not be registered), quick_exit does. */
EXPORT void quick_exit(int status)
{
	if (!g_quick_exit_hooked)
		agent_finish(FD_END_EXIT);
	if (RESOLVE(quick_exit))
		real_quick_exit(status);
	agent_finish(FD_END_EXIT);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

REAL(_exit, void (*)(int));
REAL(_Exit, void (*)(int));

EXPORT void _exit(int status)
{
	agent_finish(FD_END_EXIT);
	if (RESOLVE(_exit))
		real__exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

EXPORT void _Exit(int status)
{
	agent_finish(FD_END_EXIT);
	if (RESOLVE(_Exit))
		real__Exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

/* ----------------------------------------------------------------- threads */

struct tramp {
	void *(*fn)(void *);
	void *arg;
	int sigmask_view; /* the creator's view of its mask (sigmask.c) */
};

static void *trampoline(void *p)
{
	struct tramp a = *(struct tramp *)p;
	hooks_real_free(p);
	int g = agent_guard;
	agent_guard = 1;
	sigmask_thread_start(a.sigmask_view);
	struct tstate *t = thread_attach();
	thread_stack_bounds(t);
	if (t && agent_cfg.cpu)
		tcpu_note_birth(t, a.fn);
	if (t && agent_cpu_on)
		sample_arm(t, t->tid);
	agent_guard = g;
	return a.fn(a.arg);
}

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	if (!real_pthread_create)
		real_pthread_create = agent_dlsym_next("pthread_create");
	if (!real_pthread_create)
		return EAGAIN;
	agent_multi = 1;
	if (!agent_ready)
		return real_pthread_create(th, attr, fn, arg);
	struct tramp *a = hooks_real_malloc(sizeof(*a));
	if (!a)
		return real_pthread_create(th, attr, fn, arg);
	a->fn = fn;
	a->arg = arg;
	a->sigmask_view = sigmask_thread_view();
	int r = real_pthread_create(th, attr, trampoline, a);
	if (r)
		hooks_real_free(a);
	return r;
}

REAL(pthread_setname_np, int (*)(pthread_t, const char *));

/* A thread renamed itself (pthread_setname_np, prctl PR_SET_NAME): its new
 * name goes out as a THREAD record from the thread itself. */
static void note_own_name(const char *name)
{
	if (!agent_ready)
		return;
	int g = agent_guard;
	agent_guard = 1;
	struct tstate *t = thread_attach();
	if (t) {
		t->busy = 1;
		__asm__ volatile("" ::: "memory");
		memset(t->name, 0, 16);
		memcpy(t->name, name, strnlen(name, 15));
		uint64_t w[5] = { EV_W0(EV_THREAD, 5, 0), (uint64_t)t->tid, agent_now(), 0, 0 };
		memcpy(&w[3], t->name, 16);
		thread_push_wait(t, w, 5);
		__asm__ volatile("" ::: "memory");
		t->busy = 0;
		if (t->pending)
			thread_flush_pending(t);
	}
	agent_guard = g;
}

EXPORT int pthread_setname_np(pthread_t th, const char *name)
{
	if (!RESOLVE(pthread_setname_np))
		return ENOSYS;
	int r = real_pthread_setname_np(th, name);
	if (r || !agent_ready)
		return r;
	if (th == pthread_self()) {
		note_own_name(name);
		return r;
	}
	/* Another thread's: left in its state for the writer. */
	int hw = atomic_load(&g_hiwater);
	for (int i = 0; i < hw; i++) {
		struct tstate *t = atomic_load(&g_threads[i]);
		if (t && t->pth == (uintptr_t)th && atomic_load(&t->state) == TS_LIVE) {
			memset(t->xname, 0, 16);
			memcpy(t->xname, name, strnlen(name, 15));
			atomic_store(&t->xname_set, 1);
			break;
		}
	}
	return r;
}

REAL(prctl, int (*)(int, ...));

/* prctl: PR_SET_NAME renames the calling thread; every other option goes
 * through untouched. Four arguments are read and passed on, as glibc's own
 * variadic prctl reads them. */
EXPORT int prctl(int option, ...)
{
	va_list ap;
	va_start(ap, option);
	unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
	unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
	va_end(ap);
	if (!RESOLVE(prctl)) {
		errno = ENOSYS;
		return -1;
	}
	int r = real_prctl(option, a2, a3, a4, a5);
	if (r == 0 && option == PR_SET_NAME && a2) {
		int e = errno;
		char name[16] = { 0 };
		memcpy(name, (const char *)a2, strnlen((const char *)a2, 15));
		note_own_name(name);
		errno = e;
	}
	return r;
}

/* ------------------------------------------------------------------ loader */

REAL(dlopen, void *(*)(const char *, int));
REAL(dlmopen, void *(*)(Lmid_t, const char *, int));
REAL(dlclose, int (*)(void *));
REAL(dl_iterate_phdr, int (*)(int (*)(struct dl_phdr_info *, size_t, void *), void *));

static int loader_iterate(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	if (!RESOLVE(dl_iterate_phdr))
		return 0;
	return real_dl_iterate_phdr(cb, data);
}

/* The loader's walk takes its lock; the signal handler must not unwind (and
 * so walk it again) while this thread is inside. */
EXPORT int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	struct tstate *t = agent_tls;
	if (t)
		t->in_loader++;
	int r = loader_iterate(cb, data);
	if (t)
		t->in_loader--;
	return r;
}

/* After a dlopen or dlmopen: records the new modules, and points their
 * slots that bind past the agent at it. A library loaded with
 * RTLD_DEEPBIND (and its new dependencies) looks symbols up in its own
 * scope first, so it calls libc's malloc and free directly; its slots not
 * bound yet (lazy binding) are judged by what the handle's lookup finds.
 * Allocations made by its constructors, before dlopen returns, are not
 * seen. */
static void *after_open(void *h, int mode)
{
	if (h && agent_ready && !g_finished) {
		int e = errno, g = agent_guard;
		agent_guard = 1;
		struct got_scope deep;
		if (mode & RTLD_DEEPBIND)
			got_scope_of(h, &deep);
		agent_guard = g;
		modules_scan(1, mode & RTLD_DEEPBIND ? &deep : NULL);
		python_after_dlopen(h);
		errno = e;
	}
	return h;
}

/* dlopen, or dlmopen into lmid when dlm. */
struct opener {
	int dlm;
	Lmid_t lmid;
};

static void *open_real(const struct opener *o, const char *file, int mode)
{
	return o->dlm ? real_dlmopen(o->lmid, file, mode) : real_dlopen(file, mode);
}

/* The directories the loader searches for a bare name dlopen'd by the
 * object `map` (its DT_RPATH chain, LD_LIBRARY_PATH, its DT_RUNPATH, the
 * system's), mapped: munmap dls_size bytes. */
static Dl_serinfo *search_dirs(void *map)
{
	Dl_serinfo size;
	if (dlinfo(map, RTLD_DI_SERINFOSIZE, &size) != 0 || size.dls_size < sizeof(size))
		return NULL;
	Dl_serinfo *si =
	    mmap(NULL, size.dls_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (si == MAP_FAILED)
		return NULL;
	*si = size;
	if (dlinfo(map, RTLD_DI_SERINFO, si) != 0) {
		munmap(si, size.dls_size);
		return NULL;
	}
	return si;
}

/* Writes `file` with each $ORIGIN (or ${ORIGIN}) replaced by the directory
 * of the object `from` into out; returns 0 when there was none, or it does
 * not fit. */
static int expand_origin(const struct link_map *from, const char *file, char *out, size_t size)
{
	char origin[PATH_MAX];
	const char *name = from->l_name;
	if (!name || !*name) {
		ssize_t l = readlink("/proc/self/exe", origin, sizeof(origin) - 1);
		origin[l > 0 ? l : 0] = 0;
	} else if (!realpath(name, origin))
		snprintf(origin, sizeof(origin), "%s", name);
	char *slash = strrchr(origin, '/');
	if (!slash)
		return 0;
	*slash = 0;
	size_t n = 0, ol = strlen(origin);
	int found = 0;
	for (const char *p = file; *p;) {
		size_t skip = 0;
		if (!strncmp(p, "${ORIGIN}", 9))
			skip = 9;
		else if (!strncmp(p, "$ORIGIN", 7) && !isalnum((unsigned char)p[7]) && p[7] != '_')
			skip = 7;
		if (skip) {
			if (n + ol >= size)
				return 0;
			memcpy(out + n, origin, ol);
			n += ol;
			p += skip;
			found = 1;
		} else {
			if (n + 1 >= size)
				return 0;
			out[n++] = *p++;
		}
	}
	out[n] = 0;
	return found;
}

/* glibc's dlopen resolves a name relative to its caller, which it takes
 * from its return address, which from here is libfathom.so's: $ORIGIN is
 * the caller's directory, and a bare name ("libplug.so") is searched along
 * the caller's DT_RPATH or DT_RUNPATH. So the agent expands $ORIGIN itself,
 * and for a bare name first looks, in the loader's order, in the
 * directories that the caller searches and libfathom.so does not (the lists
 * differ in their beginnings; the system's directories end both), and
 * opens a file found there by its path. A name already loaded is the
 * loader's answer whoever asks. (A library without DT_SONAME opened so is
 * then known by its path only, not also by the bare name.) */
static void *open_as(const void *caller, const struct opener *o, const char *file, int mode)
{
	static struct link_map *self;
	struct link_map *from = NULL;
	Dl_info di;
	/* In a setuid program the loader restricts $ORIGIN: leave it all to
	 * the loader there. */
	if (!file || (strchr(file, '/') && !strchr(file, '$')) || agent_guard || getauxval(AT_SECURE) ||
	    !dladdr1(caller, &di, (void **)&from, RTLD_DL_LINKMAP) || !from)
		return open_real(o, file, mode);
	if (!self && !dladdr1((void *)open_as, &di, (void **)&self, RTLD_DL_LINKMAP))
		self = NULL;
	if (!self || from == self)
		return open_real(o, file, mode);
	int g = agent_guard;
	agent_guard = 1;
	void *h = NULL;
	char path[PATH_MAX];
	if (strchr(file, '$')) {
		int x = expand_origin(from, file, path, sizeof(path));
		agent_guard = g;
		return open_real(o, x ? path : file, mode);
	}
	Dl_serinfo *mine = search_dirs(self), *theirs = search_dirs(from);
	unsigned k = 0;
	if (mine && theirs)
		while (k < mine->dls_cnt && k < theirs->dls_cnt &&
		       !strcmp(mine->dls_serpath[mine->dls_cnt - 1 - k].dls_name,
			       theirs->dls_serpath[theirs->dls_cnt - 1 - k].dls_name))
			k++;
	if (mine && theirs && k < theirs->dls_cnt) {
		if (!o->dlm || o->lmid != LM_ID_NEWLM)
			h = open_real(o, file, mode | RTLD_NOLOAD);
		for (unsigned i = 0; !h && i < theirs->dls_cnt - k; i++) {
			const char *dir = theirs->dls_serpath[i].dls_name;
			size_t l = strlen(dir);
			if (snprintf(path, sizeof(path), "%s%s%s", dir, l && dir[l - 1] == '/' ? "" : "/",
				     file) < (int)sizeof(path) &&
			    access(path, F_OK) == 0)
				h = open_real(o, path, mode);
		}
	}
	if (mine)
		munmap(mine, mine->dls_size);
	if (theirs)
		munmap(theirs, theirs->dls_size);
	agent_guard = g;
	return h ? h : open_real(o, file, mode);
}

EXPORT void *dlopen(const char *file, int mode)
{
	if (!RESOLVE(dlopen))
		return NULL;
	struct tstate *t = agent_tls;
	if (t)
		t->in_loader++;
	struct opener o = {0};
	void *h = open_as(__builtin_return_address(0), &o, file, mode);
	if (t)
		t->in_loader--;
	return after_open(h, mode);
}

EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	if (!RESOLVE(dlmopen))
		return NULL;
	struct tstate *t = agent_tls;
	if (t)
		t->in_loader++;
	struct opener o = {1, lmid};
	void *h = open_as(__builtin_return_address(0), &o, file, mode);
	if (t)
		t->in_loader--;
	return after_open(h, mode);
}

EXPORT int dlclose(void *h)
{
	if (!RESOLVE(dlclose))
		return -1;
	if (agent_ready && !g_finished && getpid() == agent_pid) {
		/* Samples taken in the library must reach the dump before its
		 * UNLOAD record. */
		int g = agent_guard, cs;
		agent_guard = 1;
		NO_CANCEL_BEGIN(cs);
		pthread_mutex_lock(&wlock);
		writer_cycle(0);
		pthread_mutex_unlock(&wlock);
		NO_CANCEL_END(cs);
		agent_guard = g;
	}
	struct tstate *t = agent_tls;
	if (t)
		t->in_loader++;
	int r = real_dlclose(h);
	/* The unwinder's cached frames may describe unloaded code. */
	__atomic_fetch_add(&unwind_gen, 1, __ATOMIC_RELAXED);
	if (t)
		t->in_loader--;
	if (agent_ready && !g_finished && getpid() == agent_pid) {
		int e = errno;
		modules_rescan();
		errno = e;
	}
	return r;
}
