/* The agent's configuration, read once from the environment at start
 * (FATHOM_*), what it finds out about the process then (whether CPU sampling
 * can work, whose malloc the program calls), and its words to the user: on
 * stderr, and in the manifest that `fathom record` reads.
 *
 * Context: ordinary (the constructor, the writer), unless a function says so.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "program.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct agent_config agent_cfg = {.hz = 99, .clock = FD_CLOCK_CPU, .alloc = FD_ALLOC_OFF, .cpu = 1};

/* Why CPU sampling is impossible in this process (empty when it is not):
 * found by the start-up probe, recorded in every dump of the process. */
static char g_cpu_off[160];
/* The object whose malloc the program calls instead of the agent's (an
 * allocator preloaded before it): recorded in every dump of the process. */
static char g_alloc_bypass[PATH_MAX];

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
void say(const char *fmt, ...)
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

void note_stderr(void)
{
	struct stat st;
	g_err_known = fstat(2, &st) == 0;
	g_err_dev = st.st_dev;
	g_err_ino = st.st_ino;
}

void say_late(const char *fmt, ...)
{
	struct stat st;
	if (!g_err_known || fstat(2, &st) < 0 || st.st_dev != g_err_dev || st.st_ino != g_err_ino)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

void agent_assert_failed(const char *what, const char *file, int line)
{
	static int said;
#ifdef NDEBUG
	if (!said++)
		say_late("fathom: internal error: %s is false (%s:%d); the dump may lack events", what, file,
			 line);
#else
	(void)said;
	say("fathom: internal error: %s is false (%s:%d)", what, file, line);
	abort();
#endif
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
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		default:
			return -1;
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

/* A time: seconds ("2", "0.5", "2s") or with a unit ("500ms", "200us",
 * "100ns", "3m", "1h"), in ns. */
static int parse_time(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"", 1e9}, {"s", 1e9}, {"ms", 1e6}, {"us", 1e3}, {"ns", 1}, {"m", 60e9}, {"h", 3600e9}};
	char *end;
	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || v > 1e12)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit)) {
			*out = (uint64_t)(v * units[i].ns);
			return 0;
		}
	return -1;
}

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* FATHOM_START, FATHOM_DELAY, FATHOM_DURATION, FATHOM_SNAPSHOT_EVERY: the
 * recording's window (docs/AGENT.md, "Recording a window"). FATHOM_DELAY is
 * a time from this process's start, or "@NS", a CLOCK_REALTIME instant in
 * ns, which `fathom record` passes so that every process of the run shares
 * one window. */
static void read_window_config(void)
{
	const char *s;
	uint64_t v;
	if ((s = getenv("FATHOM_START"))) {
		if (!strcmp(s, "off"))
			agent_cfg.start_off = 1;
		else if (strcmp(s, "on"))
			say("fathom: FATHOM_START='%s' is not on or off; recording from the start", s);
	}
	if ((s = getenv("FATHOM_DELAY"))) {
		uint64_t mono = clock_ns(CLOCK_MONOTONIC);
		if (*s == '@' && parse_uint(s + 1, &v, 0) == 0) {
			uint64_t real = clock_ns(CLOCK_REALTIME);
			agent_cfg.start_at_mono = mono + (v > real ? v - real : 0);
			agent_cfg.start_off = 1;
		} else if (parse_time(s, &v) == 0) {
			agent_cfg.start_at_mono = mono + v;
			agent_cfg.start_off = 1;
		} else {
			say("fathom: FATHOM_DELAY='%s' is not a time (such as 1.5 or 500ms); recording from "
			    "the "
			    "start",
			    s);
		}
	}
	if ((s = getenv("FATHOM_DURATION")) &&
	    (parse_time(s, &agent_cfg.duration_ns) < 0 || !agent_cfg.duration_ns))
		say("fathom: FATHOM_DURATION='%s' is not a time above 0 (such as 2 or 500ms); recording to "
		    "the end",
		    s);
	if ((s = getenv("FATHOM_SNAPSHOT_EVERY")) &&
	    (parse_time(s, &agent_cfg.snapshot_every_ns) < 0 || agent_cfg.snapshot_every_ns < 10000000)) {
		say("fathom: FATHOM_SNAPSHOT_EVERY='%s' is not a time of 10ms or more; no periodic snapshots",
		    s);
		agent_cfg.snapshot_every_ns = 0;
	}
	/* A size has K, M or G (64M, 512KB, 1G; lower case m is minutes); else a
	 * time. */
	if ((s = getenv("FATHOM_ROTATE")) && *s) {
		size_t l = strlen(s);
		char u = s[l - 1] == 'B' || s[l - 1] == 'b' ? (l > 1 ? s[l - 2] : 0) : s[l - 1];
		int size = strchr("kKMGg", u) != NULL || (u == 'm' && s[l - 1] != u);
		if (size ? parse_uint(s, &agent_cfg.rotate_bytes, 1) < 0 || agent_cfg.rotate_bytes < 65536
			 : parse_time(s, &agent_cfg.rotate_ns) < 0 || agent_cfg.rotate_ns < 100000000) {
			say("fathom: FATHOM_ROTATE='%s' is not a time of 100ms or more (such as 10s or 5m) "
			    "or "
			    "a size of 64K or more (such as 64M); one file",
			    s);
			agent_cfg.rotate_bytes = agent_cfg.rotate_ns = 0;
		}
	}
}

/* FATHOM_WAIT=1 records waits; FATHOM_WAIT_THRESHOLD (a duration, 1ms by
 * default) alone turns it on too, unless FATHOM_WAIT=0 says otherwise. */
static void read_wait_config(void)
{
	const char *s = getenv("FATHOM_WAIT"), *th = getenv("FATHOM_WAIT_THRESHOLD");
	uint64_t v;
	agent_cfg.wait_threshold_ns = 1000000;
	if (s && !strcmp(s, "1"))
		agent_cfg.wait = 1;
	else if (s && strcmp(s, "0"))
		say("fathom: FATHOM_WAIT='%s' is not 0 or 1; not recording waits", s);
	if (th) {
		if (parse_time(th, &v) < 0 || v < 1 || v > 60000000000ull)
			say("fathom: FATHOM_WAIT_THRESHOLD='%s' is not a duration from 1ns to 60s (such as "
			    "1ms, "
			    "200us); using 1ms",
			    th);
		else
			agent_cfg.wait_threshold_ns = v;
		if (!s)
			agent_cfg.wait = 1;
	}
}

void read_config(void)
{
	read_window_config();

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
			say("fathom: FATHOM_ALLOC='%s' is not off, exact or sampled; not tracking "
			    "allocations",
			    a);
	}
	if ((s = getenv("FATHOM_ALLOC_SAMPLE"))) {
		if (parse_uint(s, &v, 1) < 0 || v < 1) {
			say("fathom: FATHOM_ALLOC_SAMPLE='%s' is not a size in bytes (such as 512K); using "
			    "512K",
			    s);
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
	read_wait_config();
	if (agent_cfg.alloc == FD_ALLOC_SAMPLED && !agent_cfg.alloc_sample)
		agent_cfg.alloc_sample = 512 * 1024;
	if (agent_cfg.alloc != FD_ALLOC_SAMPLED)
		agent_cfg.alloc_sample = 0;
}

/* ------------------------------------------------------- found at start */

/* Notes whether the program's malloc is another allocator's, which comes
 * before the agent's hooks (then no allocation is recorded). */
void config_check_alloc_bypass(void)
{
	int bypass = agent_cfg.alloc != FD_ALLOC_OFF
			 ? program_alloc_bypass(g_alloc_bypass, sizeof(g_alloc_bypass))
			 : 0;
	if (bypass && !getenv("FATHOM_MANIFEST"))
		say("fathom: the program's malloc is %s's, which comes before fathom's hooks (%s): no "
		    "allocation is recorded%s",
		    g_alloc_bypass, bypass == 1 ? "preloaded before it" : "linked into the program",
		    bypass == 1 ? "; put libfathom.so first in LD_PRELOAD" : "");
}

const char *config_alloc_bypass(void)
{
	return g_alloc_bypass;
}

/* A seccomp filter may forbid the timers, even kill for them: found out
 * now, the only time SIGSYS is caught, and said once. */
void config_probe_cpu(void)
{
	if (agent_cfg.cpu && sample_probe(g_cpu_off, sizeof(g_cpu_off)) < 0)
		say("fathom: CPU sampling unavailable: %s", g_cpu_off);
}

const char *config_cpu_off(void)
{
	return g_cpu_off;
}

/* ---------------------------------------------------------------- manifest */

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
