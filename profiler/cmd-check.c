/* fathom check: one recording against budgets (peak heap, leaks, allocations,
 * CPU, waiting); exit 0 when all hold, 1 when one is exceeded, 2 on bad input. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "util.h"
#include "compare.h"
#include "profile.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fathom check FILE... BUDGET... [--format text|markdown|junit|json] [-o FILE]\n"
		   "\n"
		   "Checks one recording (the dump files of one run) against budgets.\n"
		   "\n"
		   "budgets (SIZE: 64M, 1.5G, 4096; N: 1000, 10k, 2M; TIME: 1.5s, 200ms, 2m, 1h):\n"
		   "  --max-peak SIZE          peak heap in use\n"
		   "  --max-leaked SIZE        bytes still allocated at exit\n"
		   "  --max-leaked-blocks N    blocks still allocated at exit\n"
		   "  --max-alloc-calls N      allocation calls (malloc, calloc, realloc, ...)\n"
		   "  --max-alloc-bytes SIZE   bytes requested by those calls\n"
		   "  --max-temp-calls N       temporary allocations\n"
		   "  --max-samples N          CPU samples\n"
		   "  --max-cpu TIME           CPU time (sampling periods times the period)\n"
		   "  --max-wait TIME          the threads' waiting time (an estimate: short waits are\n"
		   "                           sampled; the report says its error)\n"
		   "Memory budgets need a recording made with 'fathom record --alloc', --max-wait one\n"
		   "made with 'fathom record --wait'.\n"
		   "Leaks matched by a suppression (see below) are not counted; the report says how many.\n"
		   "\n"
		   "output:\n"
		   "  --format FMT             text (default), markdown, junit or json\n"
		   "  -o, --output FILE        write the report to FILE instead of stdout\n"
		   "When GITHUB_ACTIONS=true, failures are also printed as ::error annotations;\n"
		   "when GITHUB_STEP_SUMMARY names a file, the Markdown report is appended to it.\n");
}

/* "1000", "10k", "2.5M": a count, in powers of 1000; -1 if bad. */
static double parse_count(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || !(v >= 0) || isinf(v))
		return -1;
	switch (*end) {
	case 0:
		return v;
	case 'k':
	case 'K':
		v *= 1e3;
		break;
	case 'm':
	case 'M':
		v *= 1e6;
		break;
	case 'g':
	case 'G':
		v *= 1e9;
		break;
	default:
		return -1;
	}
	return end[1] ? -1 : v;
}

int cmd_check(int argc, char **argv)
{
	enum {
		O_PEAK = 256,
		O_LEAKED,
		O_LEAKED_BLOCKS,
		O_ALLOC_CALLS,
		O_ALLOC_BYTES,
		O_TEMP,
		O_SAMPLES,
		O_CPU,
		O_WAIT
	};
	static const struct option longopts[] = {
	    {"max-peak", required_argument, NULL, O_PEAK},
	    {"max-leaked", required_argument, NULL, O_LEAKED},
	    {"max-leaked-blocks", required_argument, NULL, O_LEAKED_BLOCKS},
	    {"max-alloc-calls", required_argument, NULL, O_ALLOC_CALLS},
	    {"max-alloc-bytes", required_argument, NULL, O_ALLOC_BYTES},
	    {"max-temp-calls", required_argument, NULL, O_TEMP},
	    {"max-samples", required_argument, NULL, O_SAMPLES},
	    {"max-cpu", required_argument, NULL, O_CPU},
	    {"max-wait", required_argument, NULL, O_WAIT},
	    CMD_VERDICT_OPTIONS,
	    CMD_LEAK_OPTIONS,
	    CMD_COMMON_OPTIONS,
	};
	struct compare_budgets b;
	compare_budgets_init(&b);
	struct cmd_common cc = {
	    .name = "check", .usage = usage, .verdict = "a budget is exceeded", .leaks = true};
	struct cmd_verdict vo = {.format = COMPARE_TEXT};
	int c, status;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:" CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		double v;
		const char *kind = NULL;
		switch (c) {
		case O_PEAK:
		case O_LEAKED:
		case O_ALLOC_BYTES:
			v = (double)parse_size(optarg);
			kind = "a size such as 64M, 1.5G or 4096";
			break;
		case O_LEAKED_BLOCKS:
		case O_ALLOC_CALLS:
		case O_TEMP:
		case O_SAMPLES:
			v = parse_count(optarg);
			kind = "a count such as 1000 or 10k";
			break;
		case O_CPU:
		case O_WAIT:
			v = cmd_parse_time(optarg);
			kind = "a time such as 1.5s or 200ms";
			break;
		default:
			if ((status = cmd_verdict_option(&cc, &vo, c, argv, longopts)) >= 0) {
				cmd_common_free(&cc);
				return status;
			}
			continue;
		}
		if (v < 0) {
			const char *name = "";
			for (const struct option *o = longopts; o->name; o++)
				if (o->val == c)
					name = o->name;
			fprintf(stderr, "fathom check: --%s needs %s, not '%s'\n", name, kind, optarg);
			cmd_common_free(&cc);
			return 2;
		}
		switch (c) {
		case O_PEAK:
			b.max_peak = v;
			break;
		case O_LEAKED:
			b.max_leaked = v;
			break;
		case O_ALLOC_BYTES:
			b.max_alloc_bytes = v;
			break;
		case O_LEAKED_BLOCKS:
			b.max_leaked_blocks = v;
			break;
		case O_ALLOC_CALLS:
			b.max_alloc_calls = v;
			break;
		case O_TEMP:
			b.max_temp_calls = v;
			break;
		case O_SAMPLES:
			b.max_samples = v;
			break;
		case O_CPU:
			b.max_cpu_ns = v;
			break;
		case O_WAIT:
			b.max_wait_ns = v;
			break;
		}
	}
	const double set[] = {b.max_peak,	 b.max_leaked,	    b.max_leaked_blocks,
			      b.max_alloc_calls, b.max_alloc_bytes, b.max_temp_calls,
			      b.max_samples,	 b.max_cpu_ns,	    b.max_wait_ns};
	bool any = false;
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
		any |= set[i] >= 0;
	if (!any) {
		cmd_common_free(&cc);
		fprintf(stderr,
			"fathom check: no budget given (e.g. --max-peak 64M, --max-leaked 0, --max-cpu 2s); "
			"see 'fathom check --help'\n");
		return 2;
	}
	struct profile p;
	if ((status = cmd_load_files(&cc, &p, &argc, &argv))) {
		cmd_common_free(&cc);
		return status;
	}
	cmd_common_free(&cc);
	status = 2;
	char *err = NULL;
	int rc;
	struct compare_summary s;
	struct compare_report r;
	if ((rc = compare_summarize(&p, &s))) {
		fprintf(stderr, "fathom check: %s\n", strerror(-rc));
		goto out_profile;
	}
	if ((rc = compare_check(&s, &b, &r, &err))) {
		if (rc == -EINVAL)
			fprintf(stderr, "fathom check: %s%s: %s\n", argv[optind],
				argc - optind > 1 ? " ..." : "", err ? err : strerror(-rc));
		else
			fprintf(stderr, "fathom check: %s\n", err ? err : strerror(-rc));
		goto out_summary;
	}
	if (!cmd_verdict_publish(&cc, &vo, &r, "budget exceeded", "budgets exceeded"))
		status = r.nfail ? 1 : 0;
	compare_report_free(&r);
out_summary:
	compare_summary_free(&s);
out_profile:
	free(err);
	profile_free(&p);
	return status;
}
