/* fathom record: runs a command with the agent preloaded, passes its stdio and
 * exit status through, and says in one line what the recording holds. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "cmds.h"
#include "manifest.h"
#include "outfile.h"
#include "reader.h"
#include "symcache.h"
#include "util.h"

#ifndef FATHOM_AGENT_RELPATH
#define FATHOM_AGENT_RELPATH "../lib/fathom/libfathom.so"
#endif

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: fathom record [OPTIONS] -- COMMAND [ARGS...]\n"
	       "       fathom record [OPTIONS] --pid PID\n"
	       "Runs COMMAND under the fathom agent and writes one dump per process. Exits with\n"
	       "COMMAND's status (128+N when signal N killed it; 127: not found, 126: not executable).\n"
	       "With --pid, attaches to the running process PID instead (same user or root), and\n"
	       "records it until --duration, Ctrl-C or fathom ctl PID stop; the process runs on.\n\n"
	       "  -p, --pid PID            attach to a running process (x86_64; ptrace permission)\n"
	       "  -o, --output FILE        the main process's dump (default fathom.RUN.PID.fdump, RUN being\n"
	       "                           the run's start time, every dump of the run sharing it); other\n"
	       "                           processes of the run write FILE.PID; a FILE with %%p (the\n"
	       "                           pid) is a pattern for every process\n"
	       "  -F, --freq HZ            CPU samples per second of thread time (default: the agent's, 99)\n"
	       "      --clock cpu|wall     sample CPU time (default) or wall-clock time\n"
	       "      --alloc              record every heap allocation (exact)\n"
	       "      --alloc-sample BYTES record allocations sampled every BYTES on average\n"
	       "      --no-cpu             no CPU sampling (with --alloc: memory only)\n"
	       "      --wait               record where threads wait (contended locks, condition\n"
	       "                           waits, blocking I/O, sleeps, children), with stacks\n"
	       "      --wait-threshold T   with --wait: record every wait at least T long (default\n"
	       "                           1ms; ns, us, ms or s), shorter ones sampled\n"
	       "      --pack[=sources]     at the end, save the function names, files, lines and\n"
	       "                           inline chains in the dumps (with =sources, the source\n"
	       "                           files too), so that they read the same after the\n"
	       "                           program is rebuilt or deleted, or on another machine\n"
	       "                           (as fathom pack; --symbolize is its older name)\n"
	       "      --jit                make JIT runtimes write the perf map that names their\n"
	       "                           code (node: --perf-basic-prof through NODE_OPTIONS;\n"
	       "                           Python 3.12+: PYTHONPERFSUPPORT=1); any map a program\n"
	       "                           writes (/tmp/perf-PID.map) is recorded without it too\n"
	       "      --delay T            start recording T after the start (1.5s, 500ms, 2m):\n"
	       "                           every process of the run shares that instant\n"
	       "      --duration T         stop recording T after it started (the program runs on)\n"
	       "      --paused             start with recording off: fathom ctl PID start turns it on\n"
	       "      --snapshot-every T   mark a snapshot of the heap every T (fathom mem --at N)\n"
	       "      --rotate T|SIZE      a series of dump files: the next one every T (10s, 5m)\n"
	       "                           or when one reaches SIZE (64M, 1G); each reads alone,\n"
	       "                           and given together they read as one recording\n"
	       "  -q, --quiet              no summary line\n");
}

/* The agent: $FATHOM_AGENT, or FATHOM_AGENT_RELPATH from this program's
 * directory (the build tree's bin/ and an install prefix's bin/ alike). */
static char *find_agent(void)
{
	const char *env = getenv("FATHOM_AGENT");
	if (env && *env)
		return realpath(env, NULL);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return NULL;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	char *path;
	if (asprintf(&path, "%s/%s", self, FATHOM_AGENT_RELPATH) < 0)
		return NULL;
	char *real = realpath(path, NULL);
	free(path);
	return real;
}

/* An absolute version of `path`, since the command may change directory. */
static char *absolute(const char *path)
{
	if (path[0] == '/')
		return strdup(path);
	char cwd[PATH_MAX];
	char *abs;
	if (!getcwd(cwd, sizeof(cwd)) || asprintf(&abs, "%s/%s", cwd, path) < 0)
		return NULL;
	return abs;
}

/* A path shown relative to the current directory when it lies below it. */
static const char *shown(const char *path)
{
	static char cwd[PATH_MAX];
	if (!cwd[0] && !getcwd(cwd, sizeof(cwd)))
		return path;
	size_t n = strlen(cwd);
	if (!strncmp(path, cwd, n) && path[n] == '/')
		return path + n + 1;
	return path;
}

#define SUMMARY_DUMPS 4 /* dump names listed in the summary line */

/* Whether the agent can create files in the directory of `path`: checked
 * before the command runs, because the agent, inside the target, can only
 * warn and run it unprofiled, and a recording that silently did not happen
 * is worse than a clear refusal. */
static int check_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
	struct stat st;
	if (stat(dir, &st) < 0) {
		fprintf(stderr, "fathom record: cannot write the dump in %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "fathom record: cannot write the dump in %s: not a directory\n", dir);
		return -1;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		fprintf(stderr, "fathom record: cannot write the dump in %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Signals that a supervisor sends to fathom (a CI runner's SIGTERM, a
 * closed terminal's SIGHUP) are meant for the program it runs: forwarded,
 * so that the program ends (or does what it does with them) and fathom
 * stays to report, instead of leaving the program running unsupervised. */
static const int forwarded[] = {SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
static volatile pid_t child_pid;

/* Context: signal handler; kill() is async-signal-safe. */
static void forward(int sig)
{
	int e = errno;
	if (child_pid > 0)
		kill(child_pid, sig);
	errno = e;
}

/* The run id that every dump of this run shares (FATHOM_RUN, kept in each
 * dump's NOTE record) and that names them: the local start time,
 * YYYYMMDD-HHMMSS, with -2, -3, ... when a run of that second already left
 * fathom.ID.* files in `dir`, so that `fathom.ID.*.fdump` selects this run
 * alone. */
static void make_run_id(char *id, size_t cap, const char *dir)
{
	time_t now = time(NULL);
	struct tm tm;
	char base[32];
	strftime(base, sizeof(base), "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
	for (int n = 1;; n++) {
		if (n == 1)
			snprintf(id, cap, "%s", base);
		else
			snprintf(id, cap, "%s-%d", base, n);
		char prefix[64];
		int pl = snprintf(prefix, sizeof(prefix), "fathom.%s.", id);
		DIR *d = opendir(dir);
		struct dirent *de;
		bool taken = false;
		while (d && !taken && (de = readdir(d)))
			taken = !strncmp(de->d_name, prefix, (size_t)pl);
		if (d)
			closedir(d);
		if (!taken || n > 1000)
			return;
	}
}

/* --pack (--symbolize): the names go into the dumps now, while the files the run
 * used are still the ones it used. */
static void record_symbolize(char **dumps, size_t ndumps, bool sources)
{
	size_t saved;
	char *err = NULL;
	char **v = malloc(ndumps * sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; v && i < ndumps; i++)
		if (dumps[i])
			v[n++] = dumps[i];
	int rc = v ? symcache_save(v, n, sources, &saved, &err) : -ENOMEM;
	if (rc < 0)
		fprintf(stderr, "fathom record: --pack: %s; the dumps keep only addresses\n",
			err ? err : strerror(-rc));
	free(err);
	free(v);
}

/* One recording: what the command line asks, what is set up for it, and
 * what the run left (the manifest the agent writes). */
struct rec {
	/* the options */
	const char *output, *clock, *hz, *alloc, *wait, *wait_threshold;
	char sample_bytes[32], wait_threshold_ns[32];
	/* The window (FATHOM_DELAY as "@NS", FATHOM_DURATION, FATHOM_START,
	 * FATHOM_SNAPSHOT_EVERY), in ns; delay < 0: none. */
	double delay, duration, snapshot_every;
	bool paused;
	char delay_at[32], duration_s[32], snapshot_s[32];
	char rotate_s[32]; /* FATHOM_ROTATE: a time in ms, or a size in KiB */
	bool quiet, no_cpu, symbolize, pack_sources, jit;
	char **cmd;	  /* the command and its arguments, in argv */
	pid_t attach_pid; /* --pid: the running process to attach to */
	/* the set-up */
	char *agent;   /* the agent's absolute path */
	char *pattern; /* FATHOM_OUTPUT: every dump's name, %p the pid */
	char *final;   /* with -o FILE: the main dump's final name */
	char run_id[48];
	char manifest[PATH_MAX]; /* where the agent lists the dumps it made */
	pid_t pid;
	bool exec_failed;  /* the command did not start (said) */
	struct manifest m; /* what the run left: the dumps, the agent's notes (manifest.h) */
};

/* --rotate: a size has K, M or G (64M, 512KB; lower case m is minutes),
 * else it is a time; into the agent's FATHOM_ROTATE. Returns 0 or -1. */
static int parse_rotate(struct rec *r, const char *arg)
{
	size_t l = strlen(arg);
	if (!l)
		return -1;
	char last = arg[l - 1], u = (last == 'B' || last == 'b') && l > 1 ? arg[l - 2] : last;
	if (strchr("kKMGg", u) || (u == 'm' && last != u)) {
		long long v = parse_size(arg);
		if (v < 65536)
			return -1;
		snprintf(r->rotate_s, sizeof(r->rotate_s), "%lldK", (v + 1023) / 1024);
		return 0;
	}
	double v = cmd_parse_time(arg);
	if (!(v >= 1e8))
		return -1;
	snprintf(r->rotate_s, sizeof(r->rotate_s), "%.3fms", v / 1e6);
	return 0;
}

/* Reads the command line into r. Returns -1 to go on, else the exit status. */
static int parse_args(struct rec *r, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"freq", required_argument, NULL, 'F'},
	    {"clock", required_argument, NULL, 'c'},
	    {"alloc", no_argument, NULL, 'a'},
	    {"alloc-sample", required_argument, NULL, 's'},
	    {"no-cpu", no_argument, NULL, 'N'},
	    {"wait", no_argument, NULL, 'W'},
	    {"wait-threshold", required_argument, NULL, 'T'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"symbolize", no_argument, NULL, 'S'},
	    {"pack", optional_argument, NULL, 'K'},
	    {"delay", required_argument, NULL, 'D'},
	    {"duration", required_argument, NULL, 'U'},
	    {"snapshot-every", required_argument, NULL, 'P'},
	    {"paused", no_argument, NULL, 'Z'},
	    {"jit", no_argument, NULL, 'J'},
	    {"rotate", required_argument, NULL, 'R'},
	    {"pid", required_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	char *end;
	opterr = 0;
	optind = 1;
	/* "+": the first non-option word is the command; its flags are its own. */
	while ((c = getopt_long(argc, argv, "+o:F:p:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			r->output = optarg;
			break;
		case 'F': {
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 10000) {
				fprintf(stderr, "fathom record: -F takes a rate in Hz (1-10000), not '%s'\n",
					optarg);
				return 2;
			}
			r->hz = optarg;
			break;
		}
		case 'c':
			if (strcmp(optarg, "cpu") && strcmp(optarg, "wall")) {
				fprintf(stderr, "fathom record: --clock takes cpu or wall, not '%s'\n",
					optarg);
				return 2;
			}
			r->clock = optarg;
			break;
		case 'a':
			r->alloc = "exact";
			break;
		case 's': {
			long long v = parse_size(optarg);
			if (v < 1) {
				fprintf(stderr,
					"fathom record: --alloc-sample takes a size such as 64k, not '%s'\n",
					optarg);
				return 2;
			}
			snprintf(r->sample_bytes, sizeof(r->sample_bytes), "%lld", v);
			r->alloc = "sampled";
			break;
		}
		case 'N':
			r->no_cpu = true;
			break;
		case 'W':
			r->wait = "1";
			break;
		case 'T': {
			/* The agent's FATHOM_WAIT_THRESHOLD, in ns. */
			double v = cmd_parse_time(optarg);
			if (!(v >= 1) || v > 60e9) {
				fprintf(stderr,
					"fathom record: --wait-threshold takes a duration from 1ns to 60s "
					"such as "
					"1ms or 200us, not '%s'\n",
					optarg);
				return 2;
			}
			snprintf(r->wait_threshold_ns, sizeof(r->wait_threshold_ns), "%.0fns", v);
			r->wait_threshold = r->wait_threshold_ns;
			r->wait = "1";
			break;
		}
		case 'S':
			r->symbolize = true;
			break;
		case 'K':
			if (optarg && strcmp(optarg, "sources")) {
				fprintf(stderr, "fathom record: --pack takes nothing or =sources, not '%s'\n",
					optarg);
				return 2;
			}
			r->symbolize = true;
			r->pack_sources = optarg != NULL;
			break;
		case 'D':
		case 'U':
		case 'P': {
			double v = cmd_parse_time(optarg);
			const char *name = c == 'D'   ? "--delay"
					   : c == 'U' ? "--duration"
						      : "--snapshot-every";
			if (v < 0 || (c != 'D' && v <= 0) || (c == 'P' && v < 1e7)) {
				fprintf(stderr,
					"fathom record: %s takes a time such as 1.5s or 500ms%s, not '%s'\n",
					name,
					c == 'P'   ? " (10ms or more)"
					: c == 'U' ? " above 0"
						   : "",
					optarg);
				return 2;
			}
			*(c == 'D' ? &r->delay : c == 'U' ? &r->duration : &r->snapshot_every) = v;
			break;
		}
		case 'Z':
			r->paused = true;
			break;
		case 'J':
			r->jit = true;
			break;
		case 'R':
			if (parse_rotate(r, optarg) < 0) {
				fprintf(
				    stderr,
				    "fathom record: --rotate takes a time of 100ms or more (10s, 5m) or a "
				    "size of 64K or more (64M, 1G), not '%s'\n",
				    optarg);
				return 2;
			}
			break;
		case 'p': {
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > INT_MAX) {
				fprintf(stderr, "fathom record: --pid takes a process id, not '%s'\n",
					optarg);
				return 2;
			}
			r->attach_pid = (pid_t)v;
			break;
		}
		case 'q':
			r->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cmd_bad_option("record", argv, longopts);
		}
	}
	if (r->attach_pid && optind < argc) {
		fprintf(stderr, "fathom record: --pid attaches to a running process: give no command too\n");
		return 2;
	}
	if (r->attach_pid && (r->delay > 0 || r->paused)) {
		fprintf(stderr,
			"fathom record: --delay and --paused do not go with --pid: attach later instead\n");
		return 2;
	}
	if (!r->attach_pid && optind >= argc) {
		fprintf(
		    stderr,
		    "fathom record: no command given; usage: fathom record [OPTIONS] -- COMMAND [ARGS...]\n");
		return 2;
	}
	r->cmd = argv + optind;
	/* One instant for every process of the run (children read it too). */
	if (r->delay > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(r->delay_at, sizeof(r->delay_at), "@%.0f",
			 (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec + r->delay);
	}
	if (r->duration > 0)
		snprintf(r->duration_s, sizeof(r->duration_s), "%.3fms", r->duration / 1e6);
	if (r->snapshot_every > 0)
		snprintf(r->snapshot_s, sizeof(r->snapshot_s), "%.3fms", r->snapshot_every / 1e6);
	return -1;
}

/* Finds the agent; says why not and returns the exit status, or -1. */
static int setup_agent(struct rec *r)
{
	r->agent = find_agent();
	if (!r->agent) {
		fprintf(stderr,
			"fathom record: the agent libfathom.so was not found next to fathom (%s from its "
			"directory); set FATHOM_AGENT to its path\n",
			getenv("FATHOM_AGENT") && *getenv("FATHOM_AGENT") ? getenv("FATHOM_AGENT")
									  : FATHOM_AGENT_RELPATH);
		return 1;
	}
	/* LD_PRELOAD separates its entries by spaces and colons, with no way to
	 * quote them: an agent under "/opt/my tools" would silently not load. */
	if (strpbrk(r->agent, " :")) {
		fprintf(stderr,
			"fathom record: the agent's path '%s' holds a space or a colon, which LD_PRELOAD "
			"cannot carry; install fathom under another directory, or point FATHOM_AGENT at a "
			"copy elsewhere\n",
			r->agent);
		return 1;
	}
	return -1;
}

/* Where dumps go: r->pattern (and r->final with -o FILE), the run id, and
 * the manifest file. With -o FILE every process writes FILE.PID, and the
 * main process's dump is renamed to FILE afterwards, so the name given is
 * the one a user opens, and no process can clobber another's. Says why not
 * and returns the exit status, or -1. */
static int setup_dumps(struct rec *r)
{
	const char *output = r->output;
	if (output && strstr(output, "%p")) {
		r->pattern = absolute(output);
	} else if (output) {
		/* Checked now, so that a name that will be refused (a stranger's
		 * link in /tmp, a directory) does not cost a run; installed at
		 * the end by outfile_install, which checks again. */
		struct outfile_target t;
		char *err = NULL;
		int rc = outfile_resolve(output, &t, &err);
		if (rc) {
			fprintf(stderr, "fathom record: %s\n", err ? err : strerror(-rc));
			free(err);
			return 2;
		}
		/* A regular file: the dumps are made beside it (beside the file a
		 * link of the user's points to), and the main one renamed over it.
		 * A device, a FIFO or stdout: they are made in the temporary
		 * directory, not as /dev/null.PID, and the main one is copied in. */
		char *base = NULL;
		if (t.kind == OUTFILE_FILE) {
			r->final = absolute(t.path);
		} else {
			const char *tn = getenv("TMPDIR");
			const char *leaf = strrchr(output, '/') ? strrchr(output, '/') + 1 : output;
			if (!strcmp(output, "-"))
				leaf = "stdout";
			if (asprintf(&base, "%s/fathom-%s", tn && *tn ? tn : "/tmp", leaf) < 0)
				base = NULL;
			r->final = strdup(output);
		}
		bool to_device = t.kind != OUTFILE_FILE;
		outfile_target_free(&t);
		const char *from = base ? base : to_device ? NULL : r->final;
		/* The agent expands %p and %%: a literal % is doubled. */
		size_t n = from ? strlen(from) : 0, k = 0;
		char *pattern = from ? malloc(2 * n + 4) : NULL;
		for (size_t i = 0; pattern && i < n; i++) {
			if (from[i] == '%')
				pattern[k++] = '%';
			pattern[k++] = from[i];
		}
		free(base);
		if (pattern)
			memcpy(pattern + k, ".%p", 4);
		r->pattern = pattern;
	}
	make_run_id(r->run_id, sizeof(r->run_id), ".");
	if (!output) {
		char name[96];
		snprintf(name, sizeof(name), "fathom.%s.%%p.fdump", r->run_id);
		r->pattern = absolute(name);
	}
	if (r->pattern && check_dir(r->pattern) < 0)
		return 2;
	const char *tmp = getenv("TMPDIR");
	snprintf(r->manifest, sizeof(r->manifest), "%s/fathom-manifest-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	int mfd = mkstemp(r->manifest);
	if (!r->pattern || mfd < 0) {
		fprintf(stderr, "fathom record: cannot set up the recording: %s\n", strerror(errno));
		r->manifest[0] = 0;
		return 1;
	}
	close(mfd);
	return -1;
}

struct agent_var {
	const char *name, *value; /* value NULL: not set */
};

/* The FATHOM_* variables that make the agent record as asked: the
 * environment of a launch, the configuration of an attach. */
static size_t agent_vars(const struct rec *r, struct agent_var *env, size_t cap)
{
	const struct agent_var all[] = {
	    {"FATHOM_OUTPUT", r->pattern},
	    {"FATHOM_MANIFEST", r->manifest},
	    {"FATHOM_RUN", r->run_id},
	    {"FATHOM_CPU", r->no_cpu ? "0" : NULL},
	    {"FATHOM_HZ", r->hz},
	    {"FATHOM_CLOCK", r->clock},
	    {"FATHOM_ALLOC", r->alloc},
	    {"FATHOM_ALLOC_SAMPLE", r->sample_bytes[0] ? r->sample_bytes : NULL},
	    {"FATHOM_WAIT", r->wait},
	    {"FATHOM_WAIT_THRESHOLD", r->wait_threshold},
	    {"FATHOM_START", r->paused ? "off" : NULL},
	    {"FATHOM_DELAY", r->delay_at[0] ? r->delay_at : NULL},
	    {"FATHOM_DURATION", r->duration_s[0] ? r->duration_s : NULL},
	    {"FATHOM_SNAPSHOT_EVERY", r->snapshot_s[0] ? r->snapshot_s : NULL},
	    {"FATHOM_ROTATE", r->rotate_s[0] ? r->rotate_s : NULL},
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && n < cap; i++)
		if (all[i].value)
			env[n++] = all[i];
	return n;
}

/* The environment that makes the agent record: set in the child, between
 * fork and exec. Returns -1 when out of memory. */
static int set_agent_env(const struct rec *r)
{
	const char *old = getenv("LD_PRELOAD");
	char *preload = r->agent;
	if (old && *old && asprintf(&preload, "%s:%s", r->agent, old) < 0)
		return -1;
	if (setenv("LD_PRELOAD", preload, 1) < 0)
		return -1;
	/* --jit: the runtimes' own switches for perf maps, after the user's
	 * NODE_OPTIONS (node reads V8 flags there; interpreted functions get
	 * code of their own, so they are named too). */
	if (r->jit) {
		const char *node_old = getenv("NODE_OPTIONS");
		char *node_opts = NULL;
		if (asprintf(&node_opts, "%s%s--perf-basic-prof --interpreted-frames-native-stack",
			     node_old ? node_old : "", node_old && *node_old ? " " : "") < 0 ||
		    setenv("NODE_OPTIONS", node_opts, 1) < 0 || setenv("PYTHONPERFSUPPORT", "1", 1) < 0)
			return -1;
	}
	struct agent_var env[32];
	size_t n = agent_vars(r, env, 32);
	for (size_t i = 0; i < n; i++)
		if (setenv(env[i].name, env[i].value, 1) < 0)
			return -1;
	return 0;
}

/* fathom record --pid: the agent is loaded into the running process and
 * given the same settings as "NAME=VALUE" lines (attach.c). The recording
 * ends at --duration, which the command itself keeps. */
static int attach(struct rec *r)
{
	struct agent_var env[32];
	size_t n = agent_vars(r, env, 32), len = 32;
	for (size_t i = 0; i < n; i++)
		len += strlen(env[i].name) + strlen(env[i].value) + 2;
	char *config = malloc(len), *p = config;
	if (!config)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(env[i].name, "FATHOM_DURATION"))
			p += sprintf(p, "%s=%s\n", env[i].name, env[i].value);
	/* The pid the agent names its control channel by: ours, which is not
	 * its own when it runs in another PID namespace (a container). */
	p += sprintf(p, "FATHOM_CTL_PID=%d\n", (int)r->attach_pid);
	*p = 0;
	struct attach_req a = {.pid = r->attach_pid,
			       .agent = r->agent,
			       .config = config,
			       .manifest = r->manifest,
			       .duration = r->duration,
			       .quiet = r->quiet};
	r->pid = r->attach_pid;
	int rc = attach_run(&a);
	free(config);
	return rc;
}

/* Starts the command with the agent's environment. *exec_fd is the read end
 * of a pipe that closes on exec and carries exec's errno when it fails.
 * The forwarded signals come back blocked in *old_mask's stead: wait_run()
 * installs their handlers and unblocks them. Returns -1 to go on, or says
 * why not and returns the exit status. */
static int spawn(struct rec *r, int *exec_fd, sigset_t *old_mask)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		fprintf(stderr, "fathom record: pipe: %s\n", strerror(errno));
		return 1;
	}
	fflush(NULL);
	/* Blocked across fork, so that none arrives before the handlers are in
	 * place (in the parent) or the defaults restored (in the child). */
	sigset_t fwd;
	sigemptyset(&fwd);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&fwd, forwarded[i]);
	sigprocmask(SIG_BLOCK, &fwd, old_mask);
	pid_t pid = fork();
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		fprintf(stderr, "fathom record: fork: %s\n", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return 1;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, old_mask, NULL);
		close(pfd[0]);
		if (set_agent_env(r) < 0)
			_exit(127);
		execvp(r->cmd[0], r->cmd);
		int e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(pfd[1]);
	r->pid = pid;
	*exec_fd = pfd[0];
	return -1;
}

/* Waits for the command, forwarding the supervisor's signals to it and
 * ignoring ^C meanwhile, and returns its exit status the shell's way
 * (128+N when signal N killed it; 127 or 126 when exec failed, said, and
 * r->exec_failed set). */
static int wait_run(struct rec *r, int exec_fd, const sigset_t *old_mask)
{
	child_pid = r->pid;
	struct sigaction fwd_act = {.sa_handler = forward, .sa_flags = SA_RESTART}, old_fwd[4];
	sigemptyset(&fwd_act.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &fwd_act, &old_fwd[i]);
	sigprocmask(SIG_SETMASK, old_mask, NULL);
	/* Like time(1): a ^C goes to the command, and fathom stays to report. */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old_int, old_quit;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	int exec_errno = 0;
	ssize_t got;
	do
		got = read(exec_fd, &exec_errno, sizeof(exec_errno));
	while (got < 0 && errno == EINTR);
	close(exec_fd);
	int status = 0;
	while (waitpid(r->pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	child_pid = 0;
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &old_fwd[i], NULL);

	if (got == (ssize_t)sizeof(exec_errno)) {
		if (exec_errno == ENOENT)
			fprintf(stderr, "fathom record: %s: command not found\n", r->cmd[0]);
		else
			fprintf(stderr, "fathom record: %s: %s\n", r->cmd[0], strerror(exec_errno));
		r->exec_failed = true;
		return exec_errno == ENOENT ? 127 : 126;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
}

/* With -o FILE: the main dump takes its final name. Renamed over a regular
 * file; a device or a FIFO is written into, never replaced (a rename over
 * /dev/null as root would break the machine). */
static void install_main_dump(struct rec *r)
{
	if (!r->final || r->m.ndumps == 0 || !r->m.dumps[0])
		return;
	char *err = NULL;
	int rc = outfile_install(r->m.dumps[0], r->output, &err);
	if (rc == 0) {
		free(r->m.dumps[0]);
		r->m.dumps[0] = strdup(r->final);
	} else {
		fprintf(stderr, "fathom record: %s; the dump stays at %s\n", err ? err : strerror(-rc),
			shown(r->m.dumps[0]));
		free(err);
	}
}

/* The one line that says what the recording holds, from the dumps' tally. */
static void print_summary(const struct rec *r, const struct dump_tally *t)
{
	size_t ndumps = r->m.ndumps;
	if (ndumps == 0 && r->m.ngo) {
		fprintf(stderr,
			"fathom: %s is a Go program: fathom leaves Go programs alone (their runtime "
			"owns the signals fathom samples with); profile it with Go's pprof "
			"(runtime/pprof, net/http/pprof); no dump written\n",
			r->m.go.what ? r->m.go.what : "the command");
		return;
	}
	if (ndumps == 0) {
		fprintf(stderr,
			"fathom: no dump was written (a statically linked program ignores LD_PRELOAD, "
			"and a setuid one ignores the agent)\n");
		return;
	}
	char a[32], b[32];
	fprintf(stderr, "fathom: ");
	/* A recording that could not sample says so, not "0 samples". */
	if (t->cpu_off && t->cpu_off >= t->cpu_procs)
		fprintf(stderr, "CPU sampling unavailable (%s), ", t->cpu_why);
	else if (t->cpu || !t->alloc)
		fprintf(stderr, "%s samples (%s lost), ", fmt_count(a, (int64_t)t->samples),
			fmt_count(b, (int64_t)t->lost));
	if (t->cpu_off && t->cpu_off < t->cpu_procs)
		fprintf(stderr, "CPU sampling unavailable in %d of %d processes (%s), ", t->cpu_off,
			t->cpu_procs, t->cpu_why);
	else if (!t->cpu_off && t->cpu_unsampled)
		fprintf(stderr, "%s threads not CPU-sampled (%s), ", fmt_count(a, (int64_t)t->cpu_unsampled),
			t->cpu_why);
	if (t->alloc) {
		fprintf(stderr, "%s allocation events", fmt_count(a, (int64_t)t->allocs));
		if (t->lost_allocs)
			fprintf(stderr, " (%s lost)", fmt_count(b, (int64_t)t->lost_allocs));
		if (t->bypass[0])
			fprintf(stderr, " (%s's allocator, %s, bypasses fathom: %s)",
				cmd_base_name(t->bypass_exe), cmd_base_name(t->bypass),
				strcmp(t->bypass, t->bypass_exe) ? "preloaded before it" : "linked into it");
		fprintf(stderr, ", ");
	}
	fprintf(stderr, "%zu dump%s:", ndumps, ndumps == 1 ? "" : "s");
	/* A shell script or a build writes a dump per process: name a few. */
	size_t listed = ndumps <= SUMMARY_DUMPS + 1 ? ndumps : SUMMARY_DUMPS;
	for (size_t i = 0; i < listed; i++)
		fprintf(stderr, " %s", r->m.dumps[i] ? shown(r->m.dumps[i]) : "?");
	if (listed < ndumps)
		fprintf(stderr, " and %zu more", ndumps - listed);

	/* A dump that lost its tail to a full disk is not one whose process
	 * was killed. */
	int killed = t->damaged - r->m.disk_full - r->m.closed;
	if (r->m.disk_full)
		fprintf(stderr, " (disk full: %llu bytes lost)", r->m.disk_lost);
	if (r->m.closed)
		fprintf(stderr, " (%d ended early: the program closed the dump's descriptor)", r->m.closed);
	if (killed > 0)
		fprintf(stderr, " (%d incomplete: the process was killed or crashed)", killed);
	if (t->running)
		fprintf(stderr, " (%d still being written: the process outlived the command)", t->running);
	if (r->m.ngo)
		fprintf(stderr, " (%d Go program%s not profiled: %s; use Go's pprof)", r->m.ngo,
			r->m.ngo == 1 ? "" : "s", r->m.go.what ? r->m.go.what : "?");
	if (r->m.nunprof > 0)
		fprintf(stderr,
			" (%d process%s ran without the agent: %s (pid %d), started with "
			"LD_PRELOAD removed from its environment)",
			r->m.nunprof, r->m.nunprof == 1 ? "" : "es",
			r->m.unprof.what ? r->m.unprof.what : "?", r->m.unprof.pid);
	struct stat fst;
	if (r->final && ndumps > 1 && stat(r->final, &fst) == 0 && S_ISREG(fst.st_mode))
		fprintf(stderr, "; all of them: fathom report %s*", shown(r->final));
	else if (!r->output && ndumps > 1)
		fprintf(stderr, "; all of them: fathom report (the latest run), or fathom.%s.*.fdump",
			r->run_id);
	fprintf(stderr, "\n");
}

static void rec_free(struct rec *r)
{
	if (r->manifest[0])
		unlink(r->manifest);
	manifest_free(&r->m);
	free(r->agent);
	free(r->pattern);
	free(r->final);
}

int cmd_record(int argc, char **argv)
{
	struct rec r = {0};
	int ret, exec_fd;
	sigset_t old_mask;
	if ((ret = parse_args(&r, argc, argv)) >= 0 || (ret = setup_agent(&r)) >= 0 ||
	    (ret = setup_dumps(&r)) >= 0)
		goto out;
	if (r.attach_pid) {
		if ((ret = attach(&r)) != 0)
			goto out;
	} else {
		if ((ret = spawn(&r, &exec_fd, &old_mask)) >= 0)
			goto out;
		ret = wait_run(&r, exec_fd, &old_mask);
		if (r.exec_failed)
			goto out;
	}
	manifest_read(&r.m, r.manifest, r.pattern, r.pid);
	r.manifest[0] = 0;
	if (r.symbolize && r.m.ndumps > 0)
		record_symbolize(r.m.dumps, r.m.ndumps, r.pack_sources);
	/* Counted before the main dump takes its final name, which may be a
	 * device that cannot be read back (-o /dev/null). */
	struct dump_tally t = {0};
	for (size_t i = 0; !r.quiet && i < r.m.ndumps; i++)
		if (r.m.dumps[i])
			dump_tally_add(&t, r.m.dumps[i], true);
	install_main_dump(&r);
	if (!r.quiet)
		print_summary(&r, &t);
out:
	rec_free(&r);
	return ret;
}
