/* fathom record --pid: checks that the running process may be attached to,
 * makes it load the agent (dlopen) and start it (fathom_attach) through the
 * injector, waits for the end of the recording (--duration, Ctrl-C, fathom
 * ctl PID stop, the process's exit) and detaches the agent through its
 * control channel. */
#define _GNU_SOURCE
#include "attach.h"
#include "cmds.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CALL_TIMEOUT_MS 10000

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
	(void)sig;
	g_stop = 1;
}

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A field of /proc/PID/status ("Uid:", "TracerPid:"): its first words. */
int attach_status_field(pid_t pid, const char *key, char *out, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512];
	int found = -1;
	while (found < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key))) {
			snprintf(out, cap, "%s", line + strlen(key) + strspn(line + strlen(key), " \t"));
			out[strcspn(out, "\n")] = 0;
			found = 0;
		}
	fclose(f);
	return found;
}

/* Whether pid is gone (or a zombie: it has exited). */
static bool gone(pid_t pid)
{
	char st[64];
	return attach_status_field(pid, "State:", st, sizeof(st)) < 0 || st[0] == 'Z' || st[0] == 'X';
}

/* Refuses, in one line, a process that cannot or must not be attached to:
 * gone, another user's, setuid (its ids differ), traced already. */
static int check_target(pid_t pid)
{
	char v[256], comm[64] = "?";
	if (gone(pid)) {
		fprintf(stderr, "fathom record: no process %d (it exited, or the pid is wrong)\n", (int)pid);
		return 1;
	}
	attach_status_field(pid, "Name:", comm, sizeof(comm));
	unsigned r, e, s, fs;
	if (attach_status_field(pid, "Uid:", v, sizeof(v)) < 0 ||
	    sscanf(v, "%u %u %u %u", &r, &e, &s, &fs) != 4)
		return 0; /* ptrace will say */
	uid_t me = geteuid();
	if (me != 0 && (r != me || e != me || s != me)) {
		fprintf(
		    stderr,
		    "fathom record: process %d (%s) runs as uid %u%s: only its own user (with the same ids) "
		    "or root can attach\n",
		    (int)pid, comm, e, r != e || e != s ? " (setuid)" : "");
		return 1;
	}
	unsigned g1, g2, g3;
	if (me != 0 && attach_status_field(pid, "Gid:", v, sizeof(v)) == 0 &&
	    sscanf(v, "%u %u %u", &g1, &g2, &g3) == 3 && (g1 != g2 || g2 != g3)) {
		fprintf(stderr, "fathom record: process %d (%s) is setgid: only root can attach\n", (int)pid,
			comm);
		return 1;
	}
	if (attach_status_field(pid, "TracerPid:", v, sizeof(v)) == 0 && atoi(v) != 0) {
		fprintf(stderr,
			"fathom record: process %d (%s) is traced already by process %d (a debugger?); "
			"detach it first\n",
			(int)pid, comm, atoi(v));
		return 1;
	}
	char why[512];
	if (attach_seccomp_check(pid, why, sizeof(why)) < 0) {
		fprintf(stderr, "fathom record: process %d (%s) not attached: %s\n", (int)pid, comm, why);
		return 1;
	}
	return 0;
}

static void add_range(struct attach_unsafe *u, uint64_t lo, uint64_t hi, const char *what)
{
	if (lo && hi > lo && u->n < ATTACH_UNSAFE_MAX) {
		u->what[u->n] = what;
		u->r[u->n++] = (struct arange){lo, hi};
	}
}

/* The agent's waiting interposers (its section fathom_blockers, BLOCKER in
 * preload/agent.h): they hold nothing of the agent's while they wait. */
static struct arange blockers(pid_t pid, const struct attach_obj *agent)
{
	uint64_t size = 0, a = attach_section(pid, agent, "fathom_blockers", &size);
	return a && size ? (struct arange){a, a + size} : (struct arange){0, 0};
}

/* The code a thread must not be in (or be called from) for the agent's
 * dlopen: the loader, the allocator's and the loader's entry points in the
 * C library, fork (its handlers hold the allocator's locks), and the
 * agent itself (a second attach; its waiting interposers excepted, u->allow). */
static void unsafe_ranges(pid_t pid, const struct attach_obj *libc, const char *agent,
			  struct attach_unsafe *u)
{
	static const char *const fns[] = {"malloc",
					  "free",
					  "calloc",
					  "realloc",
					  "reallocarray",
					  "memalign",
					  "posix_memalign",
					  "aligned_alloc",
					  "valloc",
					  "pvalloc",
					  "malloc_trim",
					  "malloc_usable_size",
					  "mallinfo2",
					  "malloc_stats",
					  "dl_iterate_phdr",
					  "dlopen",
					  "dlmopen",
					  "dlclose",
					  "dlsym",
					  "dlvsym",
					  "dladdr",
					  "dladdr1",
					  "dlinfo",
					  "fork",
					  "_Fork",
					  "vfork",
					  "exit",
					  "__libc_dlopen_mode",
					  NULL};
	u->n = 0;
	struct attach_obj o;
	if (attach_find_obj(pid, "ld-linux", &o) == 0 || attach_find_obj(pid, "ld-", &o) == 0)
		add_range(u, o.text.lo, o.text.hi, "the loader");
	const char *leaf = strrchr(agent, '/') ? strrchr(agent, '/') + 1 : agent;
	u->allow = (struct arange){0, 0};
	if (attach_find_obj(pid, leaf, &o) == 0) {
		add_range(u, o.text.lo, o.text.hi, "the agent");
		u->allow = blockers(pid, &o);
	}
	for (int i = 0; fns[i]; i++) {
		uint64_t size = 0, a = attach_sym(pid, libc, fns[i], &size);
		add_range(u, a, a + (size ? size : 1), fns[i]);
	}
}

/* Reads a C string of the target at addr into buf. */
static void read_string(struct inj *j, uint64_t addr, char *buf, size_t cap)
{
	buf[0] = 0;
	for (size_t n = 0; addr && n + 1 < cap; n++) {
		if (inj_read(j, addr + n, buf + n, 1) < 0 || !buf[n]) {
			buf[n] = 0;
			return;
		}
		buf[n + 1] = 0;
	}
}

/* The agent's dlopen and fathom_attach in the target. Returns 0, or -1
 * with why in err; the target runs on, unchanged, either way. */
static int inject(const struct attach_req *a, double *pause_ms, char *err, size_t cap)
{
	struct attach_obj libc, agent;
	if (attach_find_obj(a->pid, "libc.so", &libc) < 0 && attach_find_obj(a->pid, "libc-", &libc) < 0) {
		snprintf(err, cap,
			 "process %d has no C library loaded (a statically linked program?): the agent "
			 "cannot be loaded into it",
			 (int)a->pid);
		return -1;
	}
	uint64_t dlopen_at = attach_sym(a->pid, &libc, "dlopen", NULL);
	uint64_t dlerror_at = attach_sym(a->pid, &libc, "dlerror", NULL);
	if (!dlopen_at) {
		/* glibc before 2.34: dlopen is libdl's, when the program has it. */
		struct attach_obj dl;
		if (attach_find_obj(a->pid, "libdl.so", &dl) == 0) {
			dlopen_at = attach_sym(a->pid, &dl, "dlopen", NULL);
			dlerror_at = attach_sym(a->pid, &dl, "dlerror", NULL);
		}
	}
	if (!dlopen_at) {
		snprintf(err, cap, "cannot find dlopen in process %d's C library (%.200s)", (int)a->pid,
			 libc.path);
		return -1;
	}
	struct attach_unsafe u;
	unsafe_ranges(a->pid, &libc, a->agent, &u);
	u.debug = getenv("FATHOM_ATTACH_DEBUG") != NULL;
	static struct inj j;
	if (inj_begin(&j, a->pid, &u, err, cap) < 0)
		return -1;
	double t0 = mono_ms();
	int rc = -1;
	/* The agent is opened as DIR/./libfathom.so: the loader keeps the name
	 * as given, and the "/./" tells the agent's constructor that it was
	 * loaded into a running process (late.c: late_loaded) rather than at
	 * start (preloaded, or linked in). */
	char marked[PATH_MAX + 3];
	const char *slash = strrchr(a->agent, '/');
	if (!slash || snprintf(marked, sizeof(marked), "%.*s/.%s", (int)(slash - a->agent), a->agent,
			       slash) >= (int)sizeof(marked)) {
		snprintf(err, cap, "the agent's path is not absolute or too long: %s", a->agent);
		goto out;
	}
	uint64_t path = inj_push(&j, marked, strlen(marked) + 1), handle = 0, ret = 0;
	if (!path) {
		snprintf(err, cap, "cannot write to process %d's stack", (int)a->pid);
		goto out;
	}
	if (inj_call(&j, dlopen_at, (uint64_t[]){path, RTLD_NOW}, 2, &handle, CALL_TIMEOUT_MS, err, cap) < 0)
		goto out;
	if (!handle) {
		char why[512] = "";
		uint64_t msg = 0;
		if (dlerror_at && inj_call(&j, dlerror_at, NULL, 0, &msg, CALL_TIMEOUT_MS, err, cap) == 0)
			read_string(&j, msg, why, sizeof(why));
		snprintf(err, cap, "process %d could not load the agent: %s", (int)a->pid,
			 why[0] ? why : "dlopen failed");
		goto out;
	}
	const char *leaf = strrchr(a->agent, '/') ? strrchr(a->agent, '/') + 1 : a->agent;
	uint64_t start = 0;
	if (attach_find_obj(a->pid, leaf, &agent) == 0)
		start = attach_sym(a->pid, &agent, "fathom_attach", NULL);
	if (!start) {
		snprintf(err, cap, "the agent loaded in process %d has no fathom_attach (an older agent?)",
			 (int)a->pid);
		goto out;
	}
	static char reply[2048];
	memset(reply, 0, sizeof(reply));
	uint64_t conf = inj_push(&j, a->config, strlen(a->config) + 1);
	uint64_t rbuf = inj_push(&j, reply, sizeof(reply));
	if (!conf || !rbuf) {
		snprintf(err, cap, "cannot write to process %d's stack", (int)a->pid);
		goto out;
	}
	if (inj_call(&j, start, (uint64_t[]){conf, rbuf, sizeof(reply)}, 3, &ret, CALL_TIMEOUT_MS, err, cap) <
	    0)
		goto out;
	inj_read(&j, rbuf, reply, sizeof(reply) - 1);
	reply[sizeof(reply) - 1] = 0;
	if ((int)ret != 0) {
		/* The agent's own words: "fathom: ..." lines. */
		reply[strcspn(reply, "\n")] = 0;
		snprintf(err, cap, "%.900s",
			 reply[0] ? reply + (strncmp(reply, "fathom: ", 8) ? 0 : 8)
				  : "the agent did not start");
		goto out;
	}
	/* The agent's notes on a start that worked (CPU sampling unavailable,
	 * another allocator): said here, not on the program's stderr. */
	if (reply[0] && !a->quiet)
		fputs(reply, stderr);
	rc = 0;
out:
	inj_end(&j);
	/* The threads that were there block the agent's signal, some of
	 * them (thread pools block every signal): let it through, as a
	 * launch does for every thread (the program still sees it blocked). */
	int unmasked = 0;
	if (rc == 0) {
		inj_unmask(&j, attach_sym(a->pid, &agent, "fathom_late_mask", NULL), agent.text,
			   blockers(a->pid, &agent), &unmasked);
	}
	*pause_ms = j.pause_ms + (mono_ms() - t0);
	if (u.debug)
		fprintf(
		    stderr,
		    "fathom: attach: %d tries, threads stopped %.1f ms, calls %.1f ms, %d threads unmasked\n",
		    j.tries, j.pause_ms, mono_ms() - t0, unmasked);
	return rc;
}

/* Whether the manifest says the agent in pid detached. */
static bool detached(const struct attach_req *a)
{
	FILE *f = fopen(a->manifest, "r");
	if (!f)
		return false;
	char line[512], want[64];
	snprintf(want, sizeof(want), "detached %d\n", (int)a->pid);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strcmp(line, want);
	fclose(f);
	return found;
}

int attach_run(const struct attach_req *a)
{
	if (check_target(a->pid))
		return 1;
	char err[1024] = "";
	double pause_ms = 0, t0 = mono_ms();
	if (inject(a, &pause_ms, err, sizeof(err)) < 0) {
		fprintf(stderr, "fathom record: cannot attach to process %d: %s; it runs on unchanged\n",
			(int)a->pid, err);
		return 1;
	}
	if (!a->quiet) {
		char comm[64] = "?";
		attach_status_field(a->pid, "Name:", comm, sizeof(comm));
		fprintf(stderr, "fathom: attached to process %d (%s) in %.0f ms; recording ", (int)a->pid,
			comm, mono_ms() - t0);
		if (a->duration > 0)
			fprintf(stderr, "for %.3g s (Ctrl-C ends it sooner)\n", a->duration / 1e9);
		else
			fprintf(stderr, "until Ctrl-C or fathom ctl %d stop\n", (int)a->pid);
	}
	struct sigaction sa = {.sa_handler = on_stop}, old[3];
	sigemptyset(&sa.sa_mask);
	const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &sa, &old[i]);
	double until = a->duration > 0 ? mono_ms() + a->duration / 1e6 : 0;
	bool by_agent = false;
	while (!g_stop && !(until && mono_ms() >= until)) {
		if (gone(a->pid) || detached(a)) {
			by_agent = true;
			break;
		}
		nanosleep(&(struct timespec){0, 10000000}, NULL);
	}
	if (!by_agent) {
		/* The detach: a "stop" through the control channel, answered by
		 * the agent's writer, which then ends the dump. */
		if (ctl_send(a->pid, "stop", "detach", 5e9, true) == 0)
			for (double t = mono_ms(); !detached(a) && !gone(a->pid) && mono_ms() - t < 10000;)
				nanosleep(&(struct timespec){0, 5000000}, NULL);
		else if (!gone(a->pid))
			fprintf(stderr,
				"fathom record: process %d did not take the stop; its dump may lack a "
				"trailer\n",
				(int)a->pid);
	}
	for (int i = 0; i < 3; i++)
		sigaction(sigs[i], &old[i], NULL);
	if (!a->quiet && gone(a->pid))
		fprintf(stderr, "fathom: process %d exited\n", (int)a->pid);
	else if (!a->quiet)
		fprintf(stderr, "fathom: detached from process %d; it runs on\n", (int)a->pid);
	return 0;
}
