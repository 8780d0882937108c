/* 'fathom flame': an interactive SVG flame graph, a differential one, or folded stacks. */
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
	    "usage: fathom flame FILE... [-o out.svg] [--weight METRIC] [--folded] [--title T] [--tid TID]\n"
	    "       fathom flame --diff BASE NEW... [-o diff.svg] [--weight METRIC]\n"
	    "\n"
	    "Draws an interactive SVG flame graph (hover for details, click to zoom, Search\n"
	    "or Ctrl-F to highlight functions and total their share), or prints folded stacks\n"
	    "(\"root;...;leaf COUNT\") that flamegraph.pl, inferno and speedscope read.\n"
	    "\n"
	    "  -o, --output FILE   write here ('-' for stdout); default stdout, or flame.svg on a terminal\n"
	    "  -w, --weight M      cpu (default), alloc-bytes, alloc-calls, temp-calls, leaked (bytes),\n"
	    "                      leaked-blocks, peak (bytes live at the heap peak), wait (time\n"
	    "                      threads waited: record --wait)\n"
	    "      --folded        print folded stacks instead of an SVG; with --diff, \"STACK BASE NEW\"\n"
	    "                      lines as flamegraph.pl's difffolded.pl writes them\n"
	    "      --title T       the SVG's title\n"
	    "      --tid TID       CPU (or waiting) of one thread only\n"
	    "      --diff BASE     differential graph of FILE... against BASE (repeat for several base "
	    "files):\n"
	    "                      frames are sized by the new profile and coloured red where their share "
	    "of\n"
	    "                      the total grew, blue where it shrank\n"
	    "      --min-width PCT  omit frames narrower than PCT%% of the total (default 0.1)\n"
	    "      --width PX      width of the SVG in pixels (default 1200)\n");
}

int cmd_flame(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"weight", required_argument, NULL, 'w'},
	    {"folded", no_argument, NULL, 'F'},
	    {"title", required_argument, NULL, 'T'},
	    {"tid", required_argument, NULL, 't'},
	    {"diff", required_argument, NULL, 'd'},
	    {"min-width", required_argument, NULL, 'm'},
	    {"width", required_argument, NULL, 'W'},
	    CMD_TIME_OPTIONS,
	    CMD_COMMON_OPTIONS,
	};
	struct out_opts o = {.metric = FA_CPU, .version = "fathom " FATHOM_VERSION};
	const char *out = NULL;
	bool folded = false;
	struct cmd_common cc = {.name = "flame", .usage = usage, .times = true};
	struct cmd_paths base_paths = {0};
	int status = 2, c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:w:" CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'w':
			if ((o.metric = cmd_parse_weight(&cc, optarg)) < 0)
				goto out;
			o.metric_set = true;
			break;
		case 'F':
			folded = true;
			break;
		case 'T':
			o.title = optarg;
			break;
		case 't':
			o.tid = (int)strtol(optarg, &end, 10);
			if (*end || o.tid <= 0) {
				fprintf(stderr, "fathom flame: --tid needs a thread id, not '%s'\n", optarg);
				goto out;
			}
			break;
		case 'd':
			if (cmd_paths_add(&base_paths, optarg)) {
				status = 1;
				goto out;
			}
			break;
		case 'm':
			o.min_width = strtod(optarg, &end) / 100;
			if (*end || o.min_width < 0 || o.min_width >= 1) {
				fprintf(stderr,
					"fathom flame: --min-width needs a percentage below 100, not '%s'\n",
					optarg);
				goto out;
			}
			if (o.min_width == 0)
				o.min_width = 1e-12; /* draw everything */
			break;
		case 'W':
			o.width = (int)strtol(optarg, &end, 10);
			if (*end || o.width < 200 || o.width > 100000) {
				fprintf(stderr,
					"fathom flame: --width needs 200 to 100000 pixels, not '%s'\n",
					optarg);
				goto out;
			}
			break;
		default:
			if ((status = cmd_common_option(&cc, c, argv, longopts)) >= 0)
				goto out;
			status = 2;
		}
	}
	if ((status = cmd_files_diff(&cc, &base_paths, &argc, &argv)))
		goto out;
	status = 2;
	if (o.tid && o.metric != FA_CPU && o.metric != FA_WAIT) {
		fprintf(stderr,
			"fathom flame: --tid works with --weight cpu or wait only (allocations are not "
			"kept per thread)\n");
		goto out;
	}

	if (cc.timed && o.metric != FA_CPU) {
		fprintf(stderr, "fathom flame: --from/--to work with --weight cpu only (only CPU samples are "
				"kept in time; fathom mem --from/--to has the heap of a range)\n");
		goto out;
	}
	o.timed = cc.timed;
	o.from_ns = cc.from_ns;
	o.to_ns = cc.to_ns;

	struct profile p, base;
	if ((status = cmd_load_diff(&cc, &p, &base, &base_paths, argc, argv)))
		goto out;
	if (!(o.tid || o.timed ? true : p.total[o.metric] > 0)) {
		fprintf(stderr, "fathom flame: %s: no %s weight in this recording%s\n", argv[optind],
			fa_metric_names[o.metric],
			o.metric == FA_CPU    ? " (recorded with --no-cpu, or too short for one sample?)"
			: o.metric == FA_WAIT ? " (record with --wait to record waits)"
					      : " (record with --alloc to track allocations)");
		status = 1;
		goto done;
	}

	if (!out && !folded && isatty(1))
		out = "flame.svg";
	struct outfile of = {.f = stdout};
	char *err = NULL;
	int rc = 0;
	if (out && (rc = outfile_open(&of, out, &err))) {
		fprintf(stderr, "fathom flame: %s\n", err ? err : strerror(-rc));
		free(err);
		status = 1;
		goto done;
	}
	bool to_file = out && of.t.kind != OUTFILE_FD;
	size_t omitted = 0;
	rc = folded ? folded_write(of.f, &p, base_paths.n ? &base : NULL, &o)
		    : svg_write(of.f, &p, base_paths.n ? &base : NULL, &o, &omitted);
	/* A failed command leaves an existing file as it was. */
	int wrc = out ? outfile_close(&of, !rc) : fflush(stdout) ? -errno : 0;
	if (!rc)
		rc = wrc;
	if (rc == -ENODATA) {
		if (o.tid || o.timed)
			fprintf(stderr, "fathom flame: no CPU samples of %s in %s\n",
				o.tid ? "that thread" : "that time range", argv[optind]);
		else
			fprintf(stderr, "fathom flame: no %s weight in %s\n", fa_metric_names[o.metric],
				argv[optind]);
		status = 1;
	} else if (rc) {
		fprintf(stderr, "fathom flame: writing %s: %s\n", out ? out : "the output", strerror(-rc));
		status = 1;
	} else {
		status = 0;
		if (to_file && !folded && !cc.po.quiet)
			fprintf(
			    stderr, "fathom flame: wrote %s%s\n", out,
			    omitted
				? " (frames narrower than the minimum width were omitted; see its subtitle)"
				: "");
	}
done:
	if (base_paths.n)
		profile_free(&base);
	profile_free(&p);
out:
	free(base_paths.v);
	return status;
}
