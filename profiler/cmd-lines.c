/* fathom lines: the source of the hottest functions (or those a pattern or
 * a file names) with CPU and memory figures beside each line. This half
 * reads the options, chooses the functions and gathers their lines and
 * sources; cmd-lines-out.c prints them. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd-lines.h"
#include "fathom-dump.h"
#include "cmds.h"
#include "util.h"

#define MAX_SOURCE_BYTES (64u << 20) /* a larger "source" is cut there */

static void usage(FILE *f)
{
	fprintf(f, "usage: fathom lines [OPTIONS] FILE... [FUNCTION|SOURCE[:LINE]]\n"
		   "Shows the source of the hottest functions with, beside each line, its self and\n"
		   "total CPU time, share and samples and, when the recording has allocations, the\n"
		   "allocation calls, bytes, bytes live at the peak and leaked bytes of the line and\n"
		   "what it called. FUNCTION is a regular expression (extended) matched against\n"
		   "function names; SOURCE a source file (its name or a trailing part of its path),\n"
		   "optionally with the line to show. Without either: the top functions by self CPU.\n"
		   "The last word is the pattern unless it names a dump (a name with .fdump in it,\n"
		   "or a file that is a dump).\n\n"
		   "  --top N                functions shown (default 5; 0: every match)\n"
		   "  --context N            lines kept around lines with figures in long\n"
		   "                         functions; the rest is elided as '...' (default 5)\n"
		   "  --source-dir DIR       also look for sources under DIR, by every trailing part\n"
		   "                         of their recorded path (repeatable)\n"
		   "  --prefix-map OLD=NEW   read sources recorded under OLD from NEW (repeatable)\n"
		   "  --color WHEN           auto (default: on a terminal, unless NO_COLOR is set),\n"
		   "                         always or never\n"
		   "  --json                 per file, per line figures for programs\n"
		   "  --full-names           keep C++ template arguments in the text\n"
		   "  --tid TID              CPU of one thread only (no memory figures: allocations\n"
		   "                         are not kept by thread); shares are of its time\n");
}

static void warn(struct lines *l, char *msg)
{
	char **w = msg ? realloc(l->warnings, (l->nwarnings + 1) * sizeof(*w)) : NULL;
	if (!w) {
		free(msg);
		return;
	}
	w[l->nwarnings++] = msg;
	l->warnings = w;
}

bool lines_row_has(const struct lines *l, const struct agg_row *r)
{
	for (int m = 0; m < FA_NMETRICS; m++)
		if ((l->metrics & AGG_METRIC(m)) && (r->self[m] || r->total[m]))
			return true;
	return r->total_n > 0;
}

/* ---- sources ---- */

uint32_t lines_source(struct lines *l, const char *file, uint32_t max_line)
{
	for (size_t i = 0; i < l->nsrcs; i++)
		if (!strcmp(l->srcs[i].sf.recorded, file)) {
			if (max_line > l->srcs[i].max_line)
				l->srcs[i].max_line = max_line;
			return (uint32_t)i;
		}
	struct lines_src *s = realloc(l->srcs, (l->nsrcs + 1) * sizeof(*s));
	if (!s)
		return FA_NONE;
	l->srcs = s;
	s = &l->srcs[l->nsrcs];
	memset(s, 0, sizeof(*s));
	s->rc = source_open(&s->sf, &l->so, file, MAX_SOURCE_BYTES);
	s->max_line = max_line;
	return (uint32_t)l->nsrcs++;
}

/* Checks every source found against its build, once all of its lines are known. */
static void check_sources(struct lines *l)
{
	for (size_t i = 0; i < l->nsrcs; i++) {
		struct lines_src *s = &l->srcs[i];
		const char *what = NULL;
		int64_t built = 0;
		for (size_t k = 0; k < l->nfuncs && !built; k++)
			if (l->funcs[k].src == i)
				built = source_built_ns(l->p, l->funcs[k].func, &what);
		char why[1024];
		if (!s->rc && source_changed(&s->sf, built, what, s->max_line, why, sizeof(why))) {
			s->changed = strdup(why);
			warn(l, str_fmt("%s", why));
		}
	}
}

/* ---- choosing the functions ---- */

static int cmp_line(const void *a, const void *b)
{
	const struct agg_row *x = *(const struct agg_row *const *)a, *y = *(const struct agg_row *const *)b;
	if (x->func != y->func)
		return x->func < y->func ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_inl(const void *a, const void *b)
{
	const struct agg_row *x = *(const struct agg_row *const *)a, *y = *(const struct agg_row *const *)b;
	if (x->caller != y->caller)
		return x->caller < y->caller ? -1 : 1;
	if (x->call_line != y->call_line)
		return x->call_line < y->call_line ? -1 : 1;
	if (x->func != y->func)
		return x->func < y->func ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* The heaviest first: by self CPU, then total CPU, then self bytes. */
static int cmp_heavy(const void *a, const void *b)
{
	const struct agg_row *x = *(const struct agg_row *const *)a, *y = *(const struct agg_row *const *)b;
	static const int order[] = {FA_CPU, FA_ALLOC_BYTES};
	for (int i = 0; i < 2; i++) {
		int m = order[i];
		if (x->self[m] != y->self[m])
			return x->self[m] > y->self[m] ? -1 : 1;
		if (x->total[m] != y->total[m])
			return x->total[m] > y->total[m] ? -1 : 1;
	}
	return strcmp(x->name, y->name);
}

/* Rows of t (sorted by cmp) whose func is f: [*lo, *hi). */
static void rows_of(const struct agg_row **v, size_t n, uint32_t f, bool by_caller, size_t *lo, size_t *hi)
{
	size_t a = 0, b = n;
	while (a < b) {
		size_t m = (a + b) / 2;
		if ((by_caller ? v[m]->caller : v[m]->func) < f)
			a = m + 1;
		else
			b = m;
	}
	*lo = a;
	while (a < n && (by_caller ? v[a]->caller : v[a]->func) == f)
		a++;
	*hi = a;
}

/* Whether the recorded file path names `want` (the whole path, or a
 * trailing part of it at a '/'). */
static bool file_matches(const char *file, const char *want, size_t wlen)
{
	size_t n = strlen(file);
	if (!wlen || n < wlen || strncmp(file + n - wlen, want, wlen))
		return false;
	return n == wlen || file[n - wlen - 1] == '/' || want[0] == '/';
}

/* Lists the function names closest to pattern (by edit distance, names
 * containing it first) on stderr. */
static void closest(const struct lines *l, const char *pattern)
{
	const struct agg_row *best[5] = {0};
	size_t bd[5];
	for (size_t i = 0; i < l->fn.nrows; i++) {
		const struct agg_row *r = &l->fn.rows[i];
		if (r->func == FA_NONE || !lines_row_has(l, r))
			continue;
		size_t d = strcasestr(r->name, pattern) ? 0 : 1 + cmd_edit_distance(pattern, r->name);
		for (int k = 0; k < 5; k++)
			if (!best[k] || d < bd[k]) {
				memmove(&best[k + 1], &best[k], (size_t)(4 - k) * sizeof(best[0]));
				memmove(&bd[k + 1], &bd[k], (size_t)(4 - k) * sizeof(bd[0]));
				best[k] = r;
				bd[k] = d;
				break;
			}
	}
	fprintf(stderr, "fathom lines: no function with figures matches '%s'", pattern);
	for (int k = 0; k < 5 && best[k]; k++)
		fprintf(stderr, "%s%s", k ? ", " : "; the closest: ", best[k]->name);
	fprintf(stderr, "\n");
}

/* Fills l->funcs with the functions to show. Returns 0, or the exit status. */
static int choose(struct lines *l, const char *pattern, const struct agg_row **heavy, size_t nheavy)
{
	const struct agg_row **pick = calloc(nheavy + 1, sizeof(*pick));
	size_t n = 0;
	if (!pick)
		return 1;
	uint32_t target = 0;
	if (pattern) {
		/* SOURCE[:LINE] when some function of that file has figures. */
		char *colon = strrchr(pattern, ':');
		size_t wlen = strlen(pattern);
		char *end = NULL;
		if (colon && colon[1]) {
			unsigned long v = strtoul(colon + 1, &end, 10);
			if (!*end && v > 0 && v < UINT32_MAX) {
				target = (uint32_t)v;
				wlen = (size_t)(colon - pattern);
			}
		}
		for (size_t i = 0; i < nheavy; i++)
			if (heavy[i]->file && file_matches(heavy[i]->file, pattern, wlen))
				pick[n++] = heavy[i];
		if (n && target) {
			/* The function of that line: the last to start at or before it. */
			const struct agg_row *best = NULL;
			for (size_t i = 0; i < n; i++)
				if (pick[i]->line <= target && (!best || pick[i]->line > best->line))
					best = pick[i];
			n = 0;
			if (best)
				pick[n++] = best;
		}
		if (!n) {
			target = 0;
			regex_t re;
			bool ok = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) == 0;
			for (size_t i = 0; i < nheavy; i++)
				if (ok ? regexec(&re, heavy[i]->name, 0, NULL, 0) == 0
				       : strstr(heavy[i]->name, pattern) != NULL)
					pick[n++] = heavy[i];
			if (ok)
				regfree(&re);
		}
		if (!n) {
			closest(l, pattern);
			free(pick);
			return 2;
		}
	} else {
		for (size_t i = 0; i < nheavy; i++)
			pick[n++] = heavy[i];
	}
	if (l->top && n > (size_t)l->top) {
		l->more = n - (size_t)l->top;
		n = (size_t)l->top;
	}
	l->funcs = calloc(n ? n : 1, sizeof(*l->funcs));
	if (!l->funcs) {
		free(pick);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct lines_func *f = &l->funcs[i];
		f->row = pick[i];
		f->func = pick[i]->func;
		f->target = target;
		f->src = FA_NONE;
	}
	l->nfuncs = n;
	free(pick);
	return 0;
}

/* Gathers the lines of each chosen function, its inlined code and its
 * source, and the lines to show. Returns 0 or -ENOMEM. */
static int gather(struct lines *l)
{
	const struct agg_row **byline = malloc((l->fr.nrows + 1) * sizeof(*byline));
	const struct agg_row **bycall = malloc((l->in.nrows + 1) * sizeof(*bycall));
	const struct agg_row **bycallee = malloc((l->in.nrows + 1) * sizeof(*bycallee));
	int rc = -ENOMEM;
	if (!byline || !bycall || !bycallee)
		goto out;
	for (size_t i = 0; i < l->fr.nrows; i++)
		byline[i] = &l->fr.rows[i];
	for (size_t i = 0; i < l->in.nrows; i++)
		bycall[i] = bycallee[i] = &l->in.rows[i];
	qsort(byline, l->fr.nrows, sizeof(*byline), cmp_line);
	qsort(bycall, l->in.nrows, sizeof(*bycall), cmp_inl);
	qsort(bycallee, l->in.nrows, sizeof(*bycallee), cmp_line);
	for (size_t i = 0; i < l->nfuncs; i++) {
		struct lines_func *f = &l->funcs[i];
		size_t lo, hi;
		rows_of(byline, l->fr.nrows, f->func, false, &lo, &hi);
		if (!(f->lines = malloc((hi - lo + 1) * sizeof(*f->lines))))
			goto out;
		for (size_t k = lo; k < hi; k++)
			if (lines_row_has(l, byline[k]))
				f->lines[f->nlines++] = byline[k];
		rows_of(bycall, l->in.nrows, f->func, true, &lo, &hi);
		if (!(f->inl = malloc((hi - lo + 1) * sizeof(*f->inl))))
			goto out;
		for (size_t k = lo; k < hi; k++)
			if (lines_row_has(l, bycall[k]))
				f->inl[f->ninl++] = bycall[k];
		rows_of(bycallee, l->in.nrows, f->func, false, &lo, &hi);
		if (!(f->sites = malloc((hi - lo + 1) * sizeof(*f->sites))))
			goto out;
		for (size_t k = lo; k < hi; k++)
			f->sites[f->nsites++] = bycallee[k];
		/* The lines shown: from the declaration to the end of the
		 * function in its source, and every line with figures. */
		const struct fa_func *fn = &l->p->funcs[f->func];
		uint32_t first = fn->decl_line > 0 ? (uint32_t)fn->decl_line : 0, last = first;
		for (size_t k = 0; k < f->nlines; k++) {
			uint32_t ln = f->lines[k]->line;
			if (ln && (!first || ln < first))
				first = ln;
			if (ln > last)
				last = ln;
		}
		if (f->target && f->target > last)
			last = f->target;
		if (!fn->file)
			continue;
		f->src = lines_source(l, fn->file, last);
		if (f->src == FA_NONE)
			goto out;
		const struct lines_src *s = &l->srcs[f->src];
		if (!s->rc && fn->decl_line > 0) {
			uint32_t end = source_function_end(&s->sf, (uint32_t)fn->decl_line);
			if (end > last)
				last = end;
		}
		f->first = first;
		f->last = last;
		/* The sources of the code inlined into it, for its notes. */
		for (size_t k = 0; k < f->ninl; k++)
			if (f->inl[k]->file && lines_source(l, f->inl[k]->file, f->inl[k]->line) == FA_NONE)
				goto out;
	}
	rc = 0;
out:
	free(byline);
	free(bycall);
	free(bycallee);
	return rc;
}

static int build_tables(struct lines *l)
{
	l->metrics = AGG_METRIC(FA_CPU);
	for (int m = FA_ALLOC_CALLS; !l->tid && m < FA_NMETRICS; m++)
		if (m != FA_TEMP_CALLS && m != FA_LEAKED_BLOCKS && agg_has_metric(l->p, m))
			l->metrics |= AGG_METRIC(m);
	struct agg_opts o = {
	    .key = AGG_FUNCTION, .metrics = l->metrics, .heavy = -1, .filter = {.tid = l->tid}};
	if (agg_table_build(&l->fn, l->p, &o) < 0)
		return -ENOMEM;
	o.key = AGG_FRAME;
	if (agg_table_build(&l->fr, l->p, &o) < 0)
		return -ENOMEM;
	o.key = AGG_INLINED;
	return agg_table_build(&l->in, l->p, &o);
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->nfuncs; i++) {
		free(l->funcs[i].lines);
		free(l->funcs[i].inl);
		free(l->funcs[i].sites);
	}
	free(l->funcs);
	for (size_t i = 0; i < l->nsrcs; i++) {
		source_close(&l->srcs[i].sf);
		free(l->srcs[i].changed);
	}
	free(l->srcs);
	for (size_t i = 0; i < l->nwarnings; i++)
		free(l->warnings[i]);
	free(l->warnings);
	agg_table_free(&l->fn);
	agg_table_free(&l->fr);
	agg_table_free(&l->in);
	source_opts_free(&l->so);
}

/* Whether the word names a dump rather than the pattern: a name with
 * ".fdump" in it, or a regular file that starts as a dump does. */
static bool is_dump(const char *word)
{
	const char *base = strrchr(word, '/');
	if (strstr(base ? base + 1 : word, ".fdump"))
		return true;
	struct stat st;
	char magic[FD_MAGIC_LEN];
	if (stat(word, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	FILE *f = fopen(word, "rb");
	bool yes =
	    f && fread(magic, 1, sizeof(magic), f) == sizeof(magic) && !memcmp(magic, FD_MAGIC, FD_MAGIC_LEN);
	if (f)
		fclose(f);
	return yes;
}

enum { O_TOP = 256, O_CONTEXT, O_SOURCE_DIR, O_PREFIX_MAP, O_COLOR, O_JSON, O_FULL_NAMES, O_TID };

int cmd_lines(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"top", required_argument, NULL, O_TOP},
	    {"context", required_argument, NULL, O_CONTEXT},
	    {"source-dir", required_argument, NULL, O_SOURCE_DIR},
	    {"prefix-map", required_argument, NULL, O_PREFIX_MAP},
	    {"color", required_argument, NULL, O_COLOR},
	    {"json", no_argument, NULL, O_JSON},
	    {"full-names", no_argument, NULL, O_FULL_NAMES},
	    {"tid", required_argument, NULL, O_TID},
	    CMD_LEAK_OPTIONS,
	    CMD_COMMON_OPTIONS,
	};
	struct lines l = {.top = 5, .context = 5};
	struct cmd_common cc = {.name = "lines", .usage = usage, .leaks = true};
	int c, ret = 2, color = -1;
	char *end;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		long v;
		switch (c) {
		case O_TOP:
		case O_CONTEXT:
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0) {
				fprintf(stderr, "fathom lines: --%s takes a count, not '%s'\n",
					c == O_TOP ? "top" : "context", optarg);
				goto out_opts;
			}
			*(c == O_TOP ? &l.top : &l.context) = v > INT_MAX / 2 ? INT_MAX / 2 : (int)v;
			break;
		case O_SOURCE_DIR:
		case O_PREFIX_MAP: {
			int rc = cmd_source_option("lines", &l.so, c == O_PREFIX_MAP, optarg);
			if (rc == 1)
				goto nomem;
			if (rc)
				goto out_opts;
			break;
		}
		case O_COLOR:
			if (!strcmp(optarg, "auto"))
				color = -1;
			else if (!strcmp(optarg, "always"))
				color = 1;
			else if (!strcmp(optarg, "never"))
				color = 0;
			else {
				fprintf(stderr,
					"fathom lines: --color takes auto, always or never, not '%s'\n",
					optarg);
				goto out_opts;
			}
			break;
		case O_JSON:
			l.json = true;
			break;
		case O_FULL_NAMES:
			l.full_names = true;
			break;
		case O_TID:
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v <= 0 || v > INT_MAX) {
				fprintf(stderr, "fathom lines: --tid takes a thread id, not '%s'\n", optarg);
				goto out_opts;
			}
			l.tid = (int)v;
			break;
		default:
			if ((ret = cmd_common_option(&cc, c, argv, longopts)) >= 0)
				goto out_opts;
		}
	}
	/* The pattern: a last word that is not a file (a dump is a file). */
	const char *pattern = NULL;
	if (optind < argc && !is_dump(argv[argc - 1])) {
		pattern = argv[argc - 1];
		argc--;
	}
	const char *nc = getenv("NO_COLOR");
	l.color = color == 1 || (color == -1 && isatty(1) && !(nc && *nc));
	l.no_symbols = cc.po.no_symbols;
	struct profile p;
	if ((ret = cmd_files(&cc, &argc, &argv)) ||
	    (ret = cmd_load(&cc, &p, argv + optind, (size_t)(argc - optind), NULL)))
		goto out_opts;
	l.p = &p;
	l.so.packed = &p;
	if (l.tid && !cmd_has_tid(&p, l.tid)) {
		fprintf(stderr, "fathom lines: no thread %d in the recording (see fathom report --threads)\n",
			l.tid);
		ret = 2;
		profile_free(&p);
		goto out_opts;
	}
	/* Relative recorded paths (Python's) are tried beside the dumps too. */
	char **dirs = calloc(p.nprocs + 1, sizeof(*dirs));
	for (size_t i = 0; dirs && i < p.nprocs; i++) {
		const char *slash = strrchr(p.procs[i].path, '/');
		dirs[i] = slash ? strndup(p.procs[i].path, (size_t)(slash - p.procs[i].path)) : NULL;
		if (dirs[i] && source_add_base(&l.so, dirs[i]) < 0)
			break;
	}
	const struct agg_row **heavy = NULL;
	size_t nheavy = 0;
	ret = 1;
	if (!dirs || build_tables(&l) < 0 || !(heavy = malloc((l.fn.nrows + 1) * sizeof(*heavy)))) {
		fprintf(stderr, "fathom lines: out of memory\n");
		goto out;
	}
	/* The candidates: with a pattern, every function with figures; by
	 * default those with self CPU time (self bytes in a recording without
	 * CPU samples). */
	int by = l.fn.total[FA_CPU] ? FA_CPU : FA_ALLOC_BYTES;
	for (size_t i = 0; i < l.fn.nrows; i++) {
		const struct agg_row *r = &l.fn.rows[i];
		if (r->func != FA_NONE && (pattern ? lines_row_has(&l, r) : r->self[by] > 0))
			heavy[nheavy++] = r;
	}
	qsort(heavy, nheavy, sizeof(*heavy), cmp_heavy);
	if (!nheavy) {
		fprintf(stderr, "fathom lines: the recording holds no CPU samples and no allocations\n");
		goto out;
	}
	if ((ret = choose(&l, pattern, heavy, nheavy)))
		goto out;
	ret = 1;
	if (gather(&l) < 0) {
		fprintf(stderr, "fathom lines: out of memory\n");
		goto out;
	}
	check_sources(&l);
	if (!cc.po.quiet)
		for (size_t i = 0; i < l.nwarnings; i++)
			fprintf(stderr, "fathom lines: warning: %s\n", l.warnings[i]);
	if (l.json)
		lines_print_json(&l);
	else
		lines_print_text(&l);
	ret = 0;
out:
	for (size_t i = 0; dirs && i < p.nprocs; i++)
		free(dirs[i]);
	free(dirs);
	free(heavy);
	lines_free(&l);
	profile_free(&p);
	cmd_common_free(&cc);
	return ret;
nomem:
	fprintf(stderr, "fathom lines: out of memory\n");
	ret = 1;
out_opts:
	lines_free(&l);
	cmd_common_free(&cc);
	return ret;
}
