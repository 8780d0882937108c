/* fathom record: runs a command with the agent preloaded, passes its stdio and
 * exit status through, and says in one line what the recording holds. This
 * half reads the options and says what the run left; record-run.c sets the
 * run up and runs it. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "outfile.h"
#include "reader.h"
#include "record.h"
#include "symcache.h"
#include "util.h"

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
	int ret;
	sigset_t old_mask;
	if ((ret = parse_args(&r, argc, argv)) >= 0 || (ret = record_setup_agent(&r)) >= 0 ||
	    (ret = record_setup_dumps(&r)) >= 0)
		goto out;
	/* Control channels left by processes killed earlier go first. */
	ctl_prune();
	if (r.attach_pid) {
		if ((ret = record_attach(&r)) != 0)
			goto out;
	} else {
		if ((ret = record_spawn(&r, &old_mask)) >= 0)
			goto out;
		ret = record_wait(&r, &old_mask);
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
