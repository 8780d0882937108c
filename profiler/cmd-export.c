/* 'fathom export': the profile as pprof, speedscope JSON or folded stacks, for other tools. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "outfile.h"
#include "outputs.h"
#include "profile.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: fathom export FILE... --format pprof|speedscope|folded [-o OUT] [--weight METRIC] [--tid "
	    "TID] [--threads]\n"
	    "\n"
	    "  -f, --format F      pprof: gzip-compressed profile.proto (go tool pprof, Pyroscope, Parca);\n"
	    "                      speedscope: speedscope's JSON file format; folded: \"root;...;leaf "
	    "COUNT\"\n"
	    "                      lines (flamegraph.pl, inferno)\n"
	    "  -o, --output OUT    write here ('-' or none: stdout; pprof is binary and is not written to a "
	    "terminal)\n"
	    "  -w, --weight M      pprof and speedscope: only this metric (default: every metric recorded);\n"
	    "                      folded: the weight of the counts (default cpu). cpu, alloc-bytes,\n"
	    "                      alloc-calls, temp-calls, leaked, leaked-blocks, peak, wait (pprof:\n"
	    "                      wait/nanoseconds; record --wait)\n"
	    "      --tid TID       CPU of one thread only\n"
	    "      --threads       pprof: CPU samples per thread, labelled thread=NAME and tid=N\n"
	    "                      (go tool pprof -tags, -tagfocus thread=NAME); bigger files\n");
}

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"weight", required_argument, NULL, 'w'},
	    {"tid", required_argument, NULL, 't'},
	    {"threads", no_argument, NULL, 'T'},
	    CMD_TIME_OPTIONS,
	    CMD_COMMON_OPTIONS,
	};
	static const char *const formats[] = {"pprof", "speedscope", "folded", NULL};
	struct out_opts o = {.metric = FA_CPU, .version = "fathom " FATHOM_VERSION};
	const char *out = NULL, *format = NULL;
	struct cmd_common cc = {.name = "export", .usage = usage, .times = true};
	int c, status;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:w:" CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'w':
			if ((o.metric = cmd_parse_weight(&cc, optarg)) < 0)
				return 2;
			o.metric_set = true;
			break;
		case 't':
			o.tid = (int)strtol(optarg, &end, 10);
			if (*end || o.tid <= 0) {
				fprintf(stderr, "fathom export: --tid needs a thread id, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'T':
			o.thread_labels = true;
			break;
		default:
			if ((status = cmd_common_option(&cc, c, argv, longopts)) >= 0)
				return status;
		}
	}
	if (!format) {
		fprintf(stderr, "fathom export: --format pprof, speedscope or folded is required\n");
		return 2;
	}
	int fmt = -1;
	for (int i = 0; formats[i]; i++)
		if (!strcmp(format, formats[i]))
			fmt = i;
	if (fmt < 0) {
		const char *best = cmd_suggest(format, formats);
		fprintf(stderr, "fathom export: unknown format '%s'", format);
		if (best)
			fprintf(stderr, "; did you mean '%s'?", best);
		fprintf(stderr, " (pprof, speedscope or folded)\n");
		return 2;
	}
	if ((status = cmd_files(&cc, &argc, &argv)))
		return status;
	if (o.tid && o.metric_set && o.metric != FA_CPU) {
		fprintf(stderr, "fathom export: --tid works with CPU weight only (allocations are not kept "
				"per thread)\n");
		return 2;
	}
	if (o.tid)
		o.metric = FA_CPU;
	if (cc.timed && (fmt != 2 || (o.metric_set && o.metric != FA_CPU))) {
		fprintf(stderr, "fathom export: --from/--to work with --format folded of CPU only for now\n");
		return 2;
	}
	o.timed = cc.timed;
	o.from_ns = cc.from_ns;
	o.to_ns = cc.to_ns;
	bool to_file = out && strcmp(out, "-");
	if (fmt == 0 && !to_file && isatty(1)) {
		fprintf(stderr, "fathom export: pprof is binary; give -o FILE or redirect stdout\n");
		return 2;
	}

	struct profile p;
	if ((status = cmd_load(&cc, &p, argv + optind, (size_t)(argc - optind), NULL)))
		return status;
	struct outfile of = {.f = stdout};
	char *err = NULL;
	int rc = to_file ? outfile_open(&of, out, &err) : 0;
	if (rc) {
		fprintf(stderr, "fathom export: %s\n", err ? err : strerror(-rc));
		free(err);
		profile_free(&p);
		return 1;
	}
	rc = fmt == 0	? pprof_write(of.f, &p, &o)
	     : fmt == 1 ? speedscope_write(of.f, &p, &o)
			: folded_write(of.f, &p, NULL, &o);
	/* A failed command leaves an existing file as it was. */
	int wrc = to_file ? outfile_close(&of, !rc) : fflush(stdout) ? -errno : 0;
	if (!rc)
		rc = wrc;
	status = 0;
	if (rc == -ENODATA) {
		if (o.tid || o.timed)
			fprintf(stderr, "fathom export: no CPU samples of %s in %s\n",
				o.tid ? "that thread" : "that time range", argv[optind]);
		else if (o.metric_set || fmt == 2)
			fprintf(stderr, "fathom export: no %s weight in %s\n", fa_metric_names[o.metric],
				argv[optind]);
		else
			fprintf(stderr, "fathom export: %s has no samples and no allocations to export\n",
				argv[optind]);
		status = 1;
	} else if (rc) {
		fprintf(stderr, "fathom export: writing %s: %s\n", to_file ? out : "the output",
			strerror(-rc));
		status = 1;
	}
	profile_free(&p);
	return status;
}
