/* fathom lines: the source of the hottest functions (or those a pattern or
 * a file names) with CPU and memory figures beside each line. This half
 * reads the options and the pattern; the line view (lib/lines.c) chooses
 * the functions and gathers their lines and sources; cmd-lines-out.c
 * prints them. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd-lines.h"
#include "fathom-dump.h"
#include "cmds.h"
#include "util.h"

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
	struct lines l = {.top = 5};
	struct lines_show show = {.context = 5};
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
			*(c == O_TOP ? &l.top : &show.context) = v > INT_MAX / 2 ? INT_MAX / 2 : (int)v;
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
			show.json = true;
			break;
		case O_FULL_NAMES:
			show.full_names = true;
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
	show.color = color == 1 || (color == -1 && isatty(1) && !(nc && *nc));
	show.no_symbols = cc.po.no_symbols;
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
	ret = 1;
	int rc = lines_build(&l, pattern);
	if (rc == -ENODATA) {
		fprintf(stderr, "fathom lines: the recording holds no CPU samples and no allocations\n");
		goto out;
	}
	if (rc == 0 && (rc = lines_choose(&l, pattern)) == -ENOENT) {
		closest(&l, pattern);
		ret = 2;
		goto out;
	}
	if (rc < 0 || lines_gather(&l) < 0) {
		fprintf(stderr, "fathom lines: out of memory\n");
		goto out;
	}
	if (!cc.po.quiet)
		for (size_t i = 0; i < l.nwarnings; i++)
			fprintf(stderr, "fathom lines: warning: %s\n", l.warnings[i]);
	if (show.json)
		lines_print_json(&l, &show);
	else
		lines_print_text(&l, &show);
	ret = 0;
out:
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
