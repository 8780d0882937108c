/* What the commands share: the common options and their help, loading the
 * dumps (with flame's and view's --diff BASE), suggestions for mistyped
 * names, size and weight parsing, and the output of check's and diff's
 * verdicts. */
#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmds.h"
#include "aggregate.h"
#include "compare.h"
#include "profile.h"
#include "source.h"

/* Edits between a and b, a swap of two neighbours counting as one edit
 * (optimal string alignment): "--sotr" is one edit from "--sort". */
size_t cmd_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *cmd_suggest(const char *word, const char *const *cands)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	for (; *cands; cands++) {
		size_t d = cmd_edit_distance(word, *cands);
		/* A prefix of a candidate ("--thread" for "--threads") is close too,
		 * and wins a tie: "--max-leak" means "--max-leaked", not "--max-peak". */
		bool prefix = strlen(word) >= 2 && !strncmp(word, *cands, strlen(word));
		if (prefix && d > 1)
			d = 1;
		d = 2 * d + !prefix;
		if (d < best_d) {
			best_d = d;
			best = *cands;
		}
	}
	size_t len = strlen(word);
	return best && best_d / 2 <= (len < 5 ? 1 : len / 3 + 1) ? best : NULL;
}

int cmd_bad_option(const char *cmd, char **argv, const struct option *longopts)
{
	const char *arg = argv[optind - 1];
	if (optopt && !(arg && arg[0] == '-' && arg[1] == '-')) {
		/* A short option can only miss its value as the last word (else the
		 * next word is its value); then it is named with its long form. */
		for (const struct option *o = longopts; !argv[optind] && o && o->name; o++)
			if (o->val == optopt && !o->flag && o->has_arg == required_argument) {
				fprintf(stderr, "fathom %s: option '-%c' (--%s) needs a value\n", cmd, optopt,
					o->name);
				return 2;
			}
		fprintf(stderr, "fathom %s: unknown option '-%c'; see 'fathom %s --help'\n", cmd, optopt,
			cmd);
		return 2;
	}
	char name[128];
	snprintf(name, sizeof(name), "%s", arg ? arg + 2 : "");
	name[strcspn(name, "=")] = 0;
	const char *cands[128];
	size_t n = 0;
	for (const struct option *o = longopts; o && o->name && n + 1 < 128; o++)
		cands[n++] = o->name;
	cands[n] = NULL;
	/* getopt_long also fails on a known option missing its value. */
	for (size_t i = 0; i < n; i++)
		if (!strcmp(cands[i], name)) {
			fprintf(stderr, "fathom %s: option '--%s' needs a value\n", cmd, name);
			return 2;
		}
	const char *best = cmd_suggest(name, cands);
	fprintf(stderr, "fathom %s: unknown option '--%s'", cmd, name);
	if (best)
		fprintf(stderr, "; did you mean '--%s'?", best);
	fprintf(stderr, "\n");
	return 2;
}

double cmd_parse_time(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !(v >= 0) || isinf(v))
		return -1;
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"", 1e9}, {"s", 1e9},  {"ms", 1e6},   {"us", 1e3},
		     {"ns", 1}, {"m", 60e9}, {"min", 60e9}, {"h", 3600e9}};
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].unit))
			return v * units[i].ns;
	return -1;
}

/* Drops the files that name a file given before (the same inode: "fathom
 * report run.fdump run.fdump*" must not count run.fdump twice), in place, and
 * returns how many are left. Files that cannot be stat'ed are kept, so that
 * loading them reports the error. */
static size_t unique_files(char **files, size_t n)
{
	struct stat *st = calloc(n ? n : 1, sizeof(*st));
	bool *ok = calloc(n ? n : 1, sizeof(*ok));
	size_t k = 0;
	if (!st || !ok) {
		free(st);
		free(ok);
		return n;
	}
	for (size_t i = 0; i < n; i++) {
		ok[k] = stat(files[i], &st[k]) == 0;
		bool dup = false;
		for (size_t j = 0; ok[k] && j < k && !dup; j++)
			dup = ok[j] && st[j].st_dev == st[k].st_dev && st[j].st_ino == st[k].st_ino;
		if (!dup)
			files[k++] = files[i];
	}
	free(st);
	free(ok);
	return k;
}

/* --suppressions FILE (repeatable): appends FILE (borrowed from argv). */
static int add_suppressions(struct profile_opts *po, char *file)
{
	char **v = realloc((char **)po->suppressions, (po->nsuppressions + 1) * sizeof(*v));
	if (!v)
		return -1;
	v[po->nsuppressions++] = file;
	po->suppressions = v;
	return 0;
}

void cmd_common_free(struct cmd_common *cc)
{
	free((char **)cc->po.suppressions);
	cc->po.suppressions = NULL;
	cc->po.nsuppressions = 0;
}

/* The run id in a default dump name, fathom.YYYYMMDD-HHMMSS[-N].PID[.G].fdump:
 * its length, and N (1 without it); 0 when the name is not one. */
static size_t run_id_of(const char *name, int *n)
{
	size_t l = strlen(name);
	if (strncmp(name, "fathom.", 7) || l < 7 + 15 + 7 || strcmp(name + l - 6, ".fdump"))
		return 0;
	const char *id = name + 7;
	for (int i = 0; i < 15; i++)
		if (i == 8 ? id[i] != '-' : !isdigit((unsigned char)id[i]))
			return 0;
	size_t k = 15;
	*n = 1;
	if (id[k] == '-') {
		char *end;
		long v = strtol(id + k + 1, &end, 10);
		if (end == id + k + 1 || *end != '.' || v < 2)
			return 0;
		*n = (int)v;
		k = (size_t)(end - id);
	}
	return id[k] == '.' ? k : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* When the command line names no dump (optind == *argc), the latest run's:
 * the fathom.RUN.PID.fdump files (and their fathom.RUN.PID.N.fdump images)
 * in the current directory with the greatest RUN (the start time `fathom
 * record` names a run by), appended to a copy of *argv, said in one line on
 * stderr unless quiet. Returns how many were added (0: none found, argv
 * untouched). */
static int default_run(const char *cmd, bool quiet, int *argc, char ***argv)
{
	if (optind < *argc)
		return 0;
	DIR *d = opendir(".");
	if (!d)
		return 0;
	char best[64] = "";
	int best_n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		int n;
		size_t k = run_id_of(de->d_name, &n);
		if (!k)
			continue;
		int c = strncmp(de->d_name + 7, best, 15);
		if (!best[0] || c > 0 || (c == 0 && n > best_n)) {
			snprintf(best, sizeof(best), "%.*s", (int)k, de->d_name + 7);
			best_n = n;
		}
	}
	if (!best[0]) {
		closedir(d);
		return 0;
	}
	size_t cap = (size_t)*argc + 8, used = (size_t)*argc;
	char **v = malloc((cap + 1) * sizeof(*v));
	if (!v) {
		closedir(d);
		return 0;
	}
	memcpy(v, *argv, used * sizeof(*v));
	rewinddir(d);
	size_t bl = strlen(best);
	while ((de = readdir(d))) {
		int n;
		if (run_id_of(de->d_name, &n) != bl || strncmp(de->d_name + 7, best, bl))
			continue;
		if (used == cap) {
			char **w = realloc(v, (2 * cap + 1) * sizeof(*v));
			if (!w)
				break;
			v = w;
			cap *= 2;
		}
		v[used++] = strdup(de->d_name);
	}
	closedir(d);
	v[used] = NULL;
	qsort(v + *argc, used - (size_t)*argc, sizeof(*v), cmp_str);
	int added = (int)used - *argc;
	if (!quiet)
		fprintf(stderr, "fathom %s: the latest run: fathom.%s.*.fdump (%d dump%s)\n", cmd, best,
			added, added == 1 ? "" : "s");
	*argv = v;
	*argc = (int)used;
	return added;
}

int cmd_common_option(struct cmd_common *cc, int c, char **argv, const struct option *longopts)
{
	switch (c) {
	case CMD_OPT_NO_SYMBOLS:
		cc->po.no_symbols = true;
		return -1;
	case CMD_OPT_DEBUG_DIR:
		cc->po.debug_dirs = optarg;
		return -1;
	case CMD_OPT_NO_DEBUGINFOD:
		cc->po.no_debuginfod = true;
		return -1;
	case CMD_OPT_INCLUDE_AGENT:
		cc->po.include_agent = true;
		return -1;
	case CMD_OPT_PYTHON:
		cc->po.python_view = true;
		return -1;
	case 'q':
		cc->po.quiet = true;
		return -1;
	case CMD_OPT_SUPPRESSIONS:
		if (add_suppressions(&cc->po, optarg) < 0) {
			fprintf(stderr, "fathom %s: out of memory\n", cc->name);
			return 1;
		}
		return -1;
	case CMD_OPT_NO_DEFAULT_SUPPRESSIONS:
		cc->po.no_default_suppressions = true;
		return -1;
	case CMD_OPT_FROM:
	case CMD_OPT_TO: {
		double t = cmd_parse_time(optarg);
		if (t < 0 || t > 1e18) {
			fprintf(stderr,
				"fathom %s: --%s takes a time since the process started (2.5s, 300ms, 1m), "
				"not '%s'\n",
				cc->name, c == CMD_OPT_FROM ? "from" : "to", optarg);
			return 2;
		}
		if (!cc->timed)
			cc->to_ns = UINT64_MAX;
		cc->timed = cc->po.keep_times = true;
		*(c == CMD_OPT_FROM ? &cc->from_ns : &cc->to_ns) = (uint64_t)t;
		if (cc->to_ns <= cc->from_ns) {
			fprintf(stderr, "fathom %s: --to must be later than --from\n", cc->name);
			return 2;
		}
		return -1;
	}
	case 'h':
		cmd_help(cc, stdout);
		return 0;
	default:
		return cmd_bad_option(cc->name, argv, longopts);
	}
}

void cmd_help(const struct cmd_common *cc, FILE *f)
{
	cc->usage(f);
	/* The option lines follow the layout every --help uses ("  -q, --quiet",
	 * the text from the same column on): profiler/man/help2man.awk makes the
	 * man pages from it. */
	fprintf(f,
		"\ncommon options:\n"
		"      --no-symbols       do not read debug information (functions are module+offset)\n"
		"      --debug-dir DIR    also look for separate debug files in DIR (and by build id\n"
		"                         in DIR/.build-id/xx/yyyy.debug)\n"
		"      --no-debuginfod    never download debug files from the servers named in\n"
		"                         DEBUGINFOD_URLS (used when that variable is set)\n"
		"      --include-agent    charge CPU samples of the agent's own work (recording\n"
		"                         allocations) to the frames that called it (default:\n"
		"                         left out of the shares; the report's header says how much)\n"
		"      --python           Python programs: Python frames only, with the native code\n"
		"                         they call (C extensions, libc, sqlite3); the interpreter's\n"
		"                         own frames (eval loop, calls, pymalloc) folded into the\n"
		"                         Python line that ran them\n"
		"  -q, --quiet            nothing on stderr but errors (no progress, warnings or summary)\n"
		"  -h, --help             this help\n");
	if (cc->leaks)
		fprintf(f, "\nleak suppressions:\n"
			   "      --suppressions FILE\n"
			   "                         leaks not to count, in LeakSanitizer's format\n"
			   "                         (leak:PATTERN lines); repeatable\n"
			   "      --no-default-suppressions\n"
			   "                         count glibc's one-time allocations and the program's\n"
			   "                         __lsan_default_suppressions as leaks too\n");
	if (cc->times)
		fprintf(f, "\ntime range:\n"
			   "      --from T           only CPU samples from T on (T since the process\n"
			   "                         started: 2.5s, 300ms, 1m; seconds without a unit)\n"
			   "      --to T             only CPU samples before T; memory weights are left\n"
			   "                         out under a range (fathom mem --from/--to has them)\n");
	if (!cc->explicit_files)
		fprintf(f,
			"\nWithout FILE, the dumps of the latest run in the current directory are read.\n");
	fprintf(f, "\nexit status: 0 done; 1 %s%sa failure; 2 bad usage or input.\n",
		cc->verdict ? cc->verdict : "", cc->verdict ? ", or " : "");
}

int cmd_files(const struct cmd_common *cc, int *argc, char ***argv)
{
	default_run(cc->name, cc->po.quiet, argc, argv);
	if (optind < *argc)
		return 0;
	fprintf(stderr, "fathom %s: no dump file given; see 'fathom %s --help'\n", cc->name, cc->name);
	return 2;
}

int cmd_load(const struct cmd_common *cc, struct profile *p, char **paths, size_t n, const char *side)
{
	char *err = NULL;
	int rc = profile_load(p, paths, unique_files(paths, n), &cc->po, &err);
	if (rc < 0) {
		fprintf(stderr, "fathom %s: %s%s%s\n", cc->name, side ? side : "", side ? " recording: " : "",
			err ? err : strerror(-rc));
		free(err);
		return rc == -ENOMEM ? 1 : 2;
	}
	for (size_t i = 0; !cc->po.quiet && i < p->nwarnings; i++)
		fprintf(stderr, "fathom %s: warning: %s%s%s\n", cc->name, side ? side : "",
			side ? " recording: " : "", p->warnings[i]);
	return 0;
}

int cmd_load_files(const struct cmd_common *cc, struct profile *p, int *argc, char ***argv)
{
	int status = cmd_files(cc, argc, argv);
	return status ? status : cmd_load(cc, p, *argv + optind, (size_t)(*argc - optind), NULL);
}

void cmd_range_filter(const struct cmd_common *cc, struct agg_filter *f)
{
	if (!cc->timed)
		return;
	f->timed = true;
	f->from_ns = cc->from_ns;
	f->to_ns = cc->to_ns;
}

void cmd_range_text(const struct cmd_common *cc, char *buf, size_t len)
{
	if (cc->to_ns == UINT64_MAX)
		snprintf(buf, len, "from %.3f s to the end", (double)cc->from_ns / 1e9);
	else
		snprintf(buf, len, "from %.3f s to %.3f s", (double)cc->from_ns / 1e9,
			 (double)cc->to_ns / 1e9);
}

bool cmd_has_tid(const struct profile *p, int tid)
{
	for (size_t t = 0; t < p->nthreads; t++)
		if (p->threads[t].tid == tid)
			return true;
	return false;
}

const char *cmd_base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path;
}

int cmd_parse_weight(const struct cmd_common *cc, const char *arg)
{
	int m = fa_metric_parse(arg);
	if (m < 0)
		fprintf(
		    stderr,
		    "fathom %s: unknown weight '%s'; use cpu, alloc-bytes, alloc-calls, temp-calls, leaked, "
		    "leaked-blocks, peak or wait\n",
		    cc->name, arg);
	return m;
}

int cmd_paths_add(struct cmd_paths *l, char *path)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -1;
	l->v = v;
	l->v[l->n++] = path;
	return 0;
}

int cmd_files_diff(const struct cmd_common *cc, const struct cmd_paths *base, int *argc, char ***argv)
{
	int status = cmd_files(cc, argc, argv);
	if (status && base->n)
		fprintf(stderr, "fathom %s: --diff BASE takes one file; the new recording comes after it\n",
			cc->name);
	return status;
}

int cmd_load_diff(const struct cmd_common *cc, struct profile *p, struct profile *base,
		  const struct cmd_paths *base_paths, int argc, char **argv)
{
	int status = cmd_load(cc, p, argv + optind, (size_t)(argc - optind), NULL);
	if (!status && base_paths->n && (status = cmd_load(cc, base, base_paths->v, base_paths->n, NULL)))
		profile_free(p);
	return status;
}

int cmd_verdict_option(struct cmd_common *cc, struct cmd_verdict *v, int c, char **argv,
		       const struct option *longopts)
{
	switch (c) {
	case CMD_OPT_FORMAT:
		if ((v->format = compare_format_parse(optarg)) < 0) {
			fprintf(stderr, "fathom %s: unknown format '%s'; use text, markdown, junit or json\n",
				cc->name, optarg);
			return 2;
		}
		return -1;
	case 'o':
		v->out = optarg;
		return -1;
	default:
		return cmd_common_option(cc, c, argv, longopts);
	}
}

int cmd_verdict_publish(const struct cmd_common *cc, const struct cmd_verdict *v,
			const struct compare_report *r, const char *one, const char *many)
{
	char *err = NULL;
	const char *gha = getenv("GITHUB_ACTIONS");
	int rc = compare_publish(r, v->format, v->out, getenv("GITHUB_STEP_SUMMARY"),
				 gha && !strcmp(gha, "true"), getenv("GITHUB_WORKSPACE"), &err);
	if (rc) {
		fprintf(stderr, "fathom %s: %s\n", cc->name, err ? err : strerror(-rc));
		free(err);
		return 2;
	}
	if (r->nfail && v->out && strcmp(v->out, "-"))
		fprintf(stderr, "fathom %s: %zu %s (report in %s)\n", cc->name, r->nfail,
			r->nfail == 1 ? one : many, v->out);
	return 0;
}

int cmd_source_option(const char *name, struct source_opts *so, bool map, char *arg)
{
	int rc = map ? source_add_map(so, arg) : source_add_dir(so, arg);
	if (rc == -EINVAL) {
		fprintf(stderr,
			"fathom %s: --prefix-map needs OLD=NEW (where the sources were built and where "
			"they are now), not '%s'\n",
			name, arg);
		return 2;
	}
	return rc < 0 ? 1 : 0;
}
