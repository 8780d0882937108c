/* fathom diff: compares a new recording with a base one and exits 1 on a
 * regression: exact thresholds for memory, a z-test for sampled CPU shares. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd-mem.h"
#include "cmds.h"
#include "compare.h"
#include "profile.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fathom diff BASE NEW [OPTIONS]\n"
		   "       fathom diff BASE_FILE... -- NEW_FILE... [OPTIONS]\n"
		   "       fathom diff --base FILE [--base FILE...] --new FILE [--new FILE...] [OPTIONS]\n"
		   "       fathom diff DUMP@S1 DUMP@S2\n"
		   "       fathom diff --since S1 --at S2 FILE...\n"
		   "\n"
		   "The last two compare two snapshots (fathom ctl PID snapshot, record\n"
		   "--snapshot-every; or one a time such as 2.5s) of one recording, which may be\n"
		   "the files of a rotated one: what grew by site from S1 to S2, as fathom mem\n"
		   "--at S2 --since S1.\n"
		   "\n"
		   "Compares two recordings, each one or more dump files (the files of one run,\n"
		   "or of several runs merged for more samples). Without a verdict (code that\n"
		   "could not be symbolized: its binary is gone or was rebuilt; see 'fathom\n"
		   "record --symbolize') the exit status is 2.\n"
		   "\n"
		   "judging:\n"
		   "  --metric LIST          what to judge, comma-separated (default: all that both\n"
		   "                         recordings have): cpu (= cpu-time,functions), cpu-time,\n"
		   "                         functions, alloc-calls, alloc-bytes, peak, leaked,\n"
		   "                         temp-calls, memory (all five), wait (the threads'\n"
		   "                         waiting time: record --wait), all\n"
		   "  --threshold PCT        growth that fails an exact memory metric (default 5);\n"
		   "                         in an exact recording any new leak fails\n"
		   "  --cpu-threshold PCT    growth that fails the total CPU time (default 10)\n"
		   "  --wait-threshold PCT   growth that fails the waiting time (default 20), when\n"
		   "                         beyond the estimate's error (short waits are sampled)\n"
		   "  --func-threshold PCT   slowdown of a function relative to the rest of the\n"
		   "                         program that fails, when significant (default 10)\n"
		   "  --alpha P              chance of any false alarm among the function tests\n"
		   "                         (default 0.001; Bonferroni over the functions tested)\n"
		   "  --min-share PCT        functions below this CPU share in both runs are not\n"
		   "                         tested (default 0.5)\n"
		   "  --prefix-map OLD=NEW   match source paths under OLD as if under NEW (repeatable);\n"
		   "                         by default the directory that two checkouts differ by\n"
		   "                         is found and ignored\n"
		   "output:\n"
		   "  --format FMT           text (default), markdown, junit or json\n"
		   "  -o, --output FILE      write the report to FILE instead of stdout\n"
		   "  --top N                functions listed as grown and shrunk most (default 10)\n"
		   "  --lines                for each regressed function, the 5 lines whose share grew\n"
		   "                         most (text and markdown)\n"
		   "When GITHUB_ACTIONS=true, regressions are also printed as ::error annotations;\n"
		   "when GITHUB_STEP_SUMMARY names a file, the Markdown report is appended to it.\n");
}

/* "5", "5%", "12.5": a percentage as a fraction; -1 if bad. */
static double parse_pct(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !(v >= 0) || isinf(v))
		return -1;
	if (*end == '%')
		end++;
	return *end ? -1 : v / 100;
}

enum {
	O_THRESHOLD = 256,
	O_CPU_THRESHOLD,
	O_WAIT_THRESHOLD,
	O_FUNC_THRESHOLD,
	O_ALPHA,
	O_MIN_SHARE,
	O_METRIC,
	O_TOP,
	O_BASE,
	O_NEW,
	O_PREFIX_MAP,
	O_LINES,
	O_AT,
	O_SINCE
};
static const struct option longopts[] = {
    {"threshold", required_argument, NULL, O_THRESHOLD},
    {"cpu-threshold", required_argument, NULL, O_CPU_THRESHOLD},
    {"wait-threshold", required_argument, NULL, O_WAIT_THRESHOLD},
    {"func-threshold", required_argument, NULL, O_FUNC_THRESHOLD},
    {"alpha", required_argument, NULL, O_ALPHA},
    {"min-share", required_argument, NULL, O_MIN_SHARE},
    {"metric", required_argument, NULL, O_METRIC},
    CMD_VERDICT_OPTIONS,
    {"top", required_argument, NULL, O_TOP},
    {"base", required_argument, NULL, O_BASE},
    {"new", required_argument, NULL, O_NEW},
    {"prefix-map", required_argument, NULL, O_PREFIX_MAP},
    {"lines", no_argument, NULL, O_LINES},
    {"at", required_argument, NULL, O_AT},
    {"since", required_argument, NULL, O_SINCE},
    CMD_LEAK_OPTIONS,
    CMD_COMMON_OPTIONS,
};

struct args {
	/* Each side may be several recorded runs, its repetitions: no warning
	 * that the dumps come from different runs. */
	struct cmd_common cc;
	struct compare_opts o;
	struct cmd_verdict vo;
	struct cmd_paths base, cur; /* from --base and --new */
	struct cmd_paths maps;	    /* --prefix-map OLD=NEW */
	bool lines;		    /* --lines: the lines of each regressed function */
	const char *at, *since;	    /* two marks of one recording */
};

/* Parses the options of one half of the command line (before or after '--')
 * and appends its other words to pos. Returns 0, or the exit status. */
static int parse_half(int argc, char **argv, struct args *a, struct cmd_paths *pos)
{
	int c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:" CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		double v;
		switch (c) {
		case O_THRESHOLD:
		case O_CPU_THRESHOLD:
		case O_WAIT_THRESHOLD:
		case O_FUNC_THRESHOLD:
		case O_MIN_SHARE:
			if ((v = parse_pct(optarg)) < 0) {
				fprintf(stderr,
					"fathom diff: %s needs a percentage such as 5 or 12.5%%, not '%s'\n",
					c == O_THRESHOLD	? "--threshold"
					: c == O_CPU_THRESHOLD	? "--cpu-threshold"
					: c == O_WAIT_THRESHOLD ? "--wait-threshold"
					: c == O_FUNC_THRESHOLD ? "--func-threshold"
								: "--min-share",
					optarg);
				return 2;
			}
			*(c == O_THRESHOLD	  ? &a->o.threshold
			  : c == O_CPU_THRESHOLD  ? &a->o.cpu_threshold
			  : c == O_WAIT_THRESHOLD ? &a->o.wait_threshold
			  : c == O_FUNC_THRESHOLD ? &a->o.func_threshold
						  : &a->o.min_share) = v;
			break;
		case O_ALPHA: {
			char *end;
			v = strtod(optarg, &end);
			if (end == optarg || *end || !(v > 0 && v < 1)) {
				fprintf(
				    stderr,
				    "fathom diff: --alpha needs a probability between 0 and 1, not '%s'\n",
				    optarg);
				return 2;
			}
			a->o.alpha = v;
			break;
		}
		case O_METRIC: {
			char *copy = strdup(optarg), *save = NULL;
			if (!copy)
				return 2;
			for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				unsigned bits = compare_metric_parse(t);
				if (!bits) {
					const char *best = cmd_suggest(t, compare_metric_names);
					fprintf(stderr, "fathom diff: unknown metric '%s'", t);
					if (best)
						fprintf(stderr, "; did you mean '%s'?", best);
					fprintf(
					    stderr,
					    " (metrics: cpu, cpu-time, functions, alloc-calls, alloc-bytes, "
					    "peak, leaked, temp-calls, memory, wait, all)\n");
					free(copy);
					return 2;
				}
				a->o.metrics |= bits;
			}
			free(copy);
			a->o.metrics_explicit = true;
			break;
		}
		case O_TOP: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 0) {
				fprintf(stderr, "fathom diff: --top needs a count, not '%s'\n", optarg);
				return 2;
			}
			a->o.top = (size_t)n;
			break;
		}
		case O_BASE:
		case O_NEW:
			if (cmd_paths_add(c == O_BASE ? &a->base : &a->cur, optarg))
				return 2;
			break;
		case O_LINES:
			a->lines = true;
			break;
		case O_AT:
			a->at = optarg;
			break;
		case O_SINCE:
			a->since = optarg;
			break;
		case O_PREFIX_MAP:
			if (!strchr(optarg, '=') || optarg[0] == '=') {
				fprintf(stderr,
					"fathom diff: --prefix-map needs OLD=NEW (a source directory and "
					"what to match it as), not '%s'\n",
					optarg);
				return 2;
			}
			if (cmd_paths_add(&a->maps, optarg))
				return 2;
			break;
		default: {
			/* --help is answered at once, in whichever half it stands. */
			int rc = cmd_verdict_option(&a->cc, &a->vo, c, argv, longopts);
			if (rc >= 0)
				return rc ? rc : -1;
		}
		}
	}
	for (int i = optind; i < argc; i++)
		if (cmd_paths_add(pos, argv[i]))
			return 2;
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	struct args a = {.cc = {.name = "diff",
				.usage = usage,
				.verdict = "a regression",
				.leaks = true,
				.explicit_files = true,
				.po.several_runs = true},
			 .vo.format = COMPARE_TEXT};
	compare_opts_default(&a.o);
	struct cmd_paths before = {0}, after = {0};
	int status = 2;
	/* The first "--" divides the base files from the new ones; options may
	 * stand on either side, so each half is parsed on its own. */
	int split = -1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--")) {
			split = i;
			break;
		}
	char **half = malloc(((size_t)argc + 1) * sizeof(*half));
	if (!half)
		return 2;
	int rc;
	if (split < 0) {
		memcpy(half, argv, (size_t)argc * sizeof(*half));
		half[argc] = NULL;
		rc = parse_half(argc, half, &a, &before);
	} else {
		memcpy(half, argv, (size_t)split * sizeof(*half));
		half[split] = NULL;
		rc = parse_half(split, half, &a, &before);
		if (!rc) {
			half[0] = argv[0];
			int n = argc - split - 1;
			memcpy(half + 1, argv + split + 1, (size_t)n * sizeof(*half));
			half[n + 1] = NULL;
			rc = parse_half(n + 1, half, &a, &after);
		}
	}
	free(half);
	if (rc) {
		status = rc < 0 ? 0 : rc; /* -1: --help was printed */
		goto out;
	}
	/* DUMP@S1 DUMP@S2: two marks of one dump (a name that exists as a whole
	 * is a file's, even with an '@'). */
	struct stat st;
	char *x = before.n == 2 && !a.at && !a.since ? strrchr(before.v[0], '@') : NULL,
	     *y = x ? strrchr(before.v[1], '@') : NULL;
	if (x && y && x - before.v[0] == y - before.v[1] &&
	    !strncmp(before.v[0], before.v[1], (size_t)(x - before.v[0])) && stat(before.v[0], &st) < 0 &&
	    stat(before.v[1], &st) < 0) {
		*x = 0;
		a.since = x + 1;
		a.at = y + 1;
		before.n = 1;
	}
	if (a.at || a.since) {
		if (!a.at || !a.since || split >= 0 || a.base.n || a.cur.n || !before.n) {
			fprintf(stderr,
				"fathom diff: two snapshots of one recording are 'fathom diff DUMP@S1 "
				"DUMP@S2' or 'fathom diff --since S1 --at S2 FILE...'\n");
			goto out;
		}
		status = mem_marks_diff(&a.cc, before.v, before.n, a.since, a.at);
		goto out;
	}
	struct cmd_paths *base = &a.base, *cur = &a.cur;
	if (split >= 0) {
		for (size_t i = 0; i < before.n; i++)
			if (cmd_paths_add(base, before.v[i]))
				goto out;
		for (size_t i = 0; i < after.n; i++)
			if (cmd_paths_add(cur, after.v[i]))
				goto out;
	} else if (!base->n && !cur->n && before.n == 2) {
		cmd_paths_add(base, before.v[0]);
		cmd_paths_add(cur, before.v[1]);
	} else if (before.n) {
		fprintf(stderr,
			"fathom diff: %zu file%s given without saying which side %s on; use 'fathom diff "
			"BASE NEW', 'fathom diff BASE... -- NEW...' or --base/--new\n",
			before.n, before.n == 1 ? "" : "s", before.n == 1 ? "it is" : "they are");
		goto out;
	}
	if (!base->n || !cur->n) {
		fprintf(stderr, "fathom diff: %s; see 'fathom diff --help'\n",
			!base->n && !cur->n ? "no recordings given"
			: !base->n	    ? "no base recording given"
					    : "no new recording given");
		goto out;
	}

	struct profile pb, pn;
	if ((status = cmd_load(&a.cc, &pb, base->v, base->n, "base")))
		goto out;
	if ((status = cmd_load(&a.cc, &pn, cur->v, cur->n, "new"))) {
		profile_free(&pb);
		goto out;
	}
	status = 2;
	struct compare_summary sb = {0}, sn = {0};
	struct compare_report r;
	char *err = NULL;
	if ((rc = compare_summarize(&pb, &sb)) || (rc = compare_summarize(&pn, &sn))) {
		fprintf(stderr, "fathom diff: %s\n", strerror(-rc));
		goto out_profiles;
	}
	a.o.prefix_maps = (const char *const *)a.maps.v;
	a.o.nprefix_maps = a.maps.n;
	if ((rc = compare_diff(&sb, &sn, &a.o, &r, &err))) {
		fprintf(stderr, "fathom diff: %s\n", err ? err : strerror(-rc));
		goto out_profiles;
	}
	if (a.lines && (rc = compare_lines(&pb, &pn, &r, 5))) {
		fprintf(stderr, "fathom diff: %s\n", strerror(-rc));
		compare_report_free(&r);
		goto out_profiles;
	}
	if (!cmd_verdict_publish(&a.cc, &a.vo, &r, "regression", "regressions")) {
		status = r.nfail ? 1 : r.unjudged > 0 ? 2 : 0;
		if (status == 2)
			fprintf(
			    stderr,
			    "fathom diff: no verdict: %.1f%% of a recording's CPU samples are in a program "
			    "or library that could not be symbolized (gone or rebuilt since the recording); "
			    "record with 'fathom record --symbolize'\n",
			    100 * r.unjudged);
	}
	compare_report_free(&r);
out_profiles:
	free(err);
	compare_summary_free(&sb);
	compare_summary_free(&sn);
	profile_free(&pb);
	profile_free(&pn);
out:
	free(a.base.v);
	free(a.cur.v);
	free(a.maps.v);
	free(before.v);
	free(after.v);
	cmd_common_free(&a.cc);
	return status;
}
