/* 'fathom mem': where the heap went: totals, the peak and who held it, leaks,
 * temporary allocations, the top allocation sites, sizes and the heap over time. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "fathom-dump.h"
#include "outputs.h"
#include "profile.h"
#include "cmd-mem.h"
#include "mem.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fathom mem [--top N] [--sort calls|bytes|peak|leaked|temp] [--json] [--raw-sites]\n"
		"                  [--full-names] [--at SNAPSHOT|TIME [--since SNAPSHOT|TIME]]\n"
		"                  [COMMON OPTIONS] FILE...\n"
		"\n"
		"Reports the heap of a recording made with 'fathom record --alloc' (or\n"
		"--alloc-sample BYTES): allocation calls and bytes, the peak heap and the stacks\n"
		"that held it, what was still allocated at exit, temporary allocations (freed by\n"
		"the allocating thread before it allocated anything else), the top allocation\n"
		"sites, a size histogram and the heap and RSS over time.\n"
		"\n"
		"  -n, --top N        how many sites and stacks each section lists (default 10; 0: all)\n"
		"  -s, --sort KEY     one table of sites ordered by calls, bytes, peak, leaked or temp\n"
		"                     (default: two tables, by calls and by bytes)\n"
		"      --json         everything as JSON on stdout\n"
		"      --raw-sites    a site is the first frame past operator new and malloc's other\n"
		"                     callers in the runtime (std::__new_allocator<...>::allocate), not\n"
		"                     the program's own code past the C++ standard library\n"
		"      --full-names   keep C++ template arguments in the text (std::vector<int, ...>)\n"
		"      --at S|T       the live heap by site at snapshot S (fathom ctl PID snapshot,\n"
		"                     record --snapshot-every) or at time T (1.5s: the writer's tick then)\n"
		"      --since S|T    with --at: what grew (or shrank) by site from S to the --at mark\n");
}

/* The whole report as JSON (json-mem.c). */
static void print_json(struct mem *m)
{
	struct json j;
	struct mem_json o = {.p = m->p,
			     .sites = m->sites,
			     .nsites = m->nsites,
			     .rule = m->rule,
			     .sort = m->sort >= 0 ? m->sort : FA_ALLOC_BYTES,
			     .top = m->top,
			     .site_frames = FRAMES_SHOWN};
	json_init(&j, stdout, false);
	json_mem(&j, &o);
	putchar('\n');
}

/* The text report: one function a section, in this order. */
static void print_text(struct mem *m)
{
	mem_print_header(m);
	mem_print_totals(m);
	mem_print_peak(m);
	mem_print_mappings(m);
	mem_print_leaks(m);
	mem_print_temporaries(m);
	if (m->sort >= 0) {
		mem_print_sites(m, m->sort);
	} else {
		mem_print_sites(m, FA_ALLOC_CALLS);
		mem_print_sites(m, FA_ALLOC_BYTES);
	}
	mem_print_histogram(m);
	mem_print_timeline(m);
}

int cmd_mem(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"top", required_argument, NULL, 'n'},
	    {"sort", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"raw-sites", no_argument, NULL, 'R'},
	    {"full-names", no_argument, NULL, 'F'},
	    {"at", required_argument, NULL, 'A'},
	    {"since", required_argument, NULL, 'B'},
	    CMD_TIME_OPTIONS,
	    CMD_LEAK_OPTIONS,
	    CMD_COMMON_OPTIONS,
	};
	struct mem m = {.cmd = "mem", .top = 10, .sort = -1, .est = "", .rule = SITE_USER};
	struct cmd_common cc = {.name = "mem", .usage = usage, .leaks = true, .times = true};
	int c, status;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:s:" CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		char *end;
		long v;
		switch (c) {
		case 'n':
			v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 0) {
				fprintf(stderr, "fathom mem: --top needs a count (0 for all), not '%s'\n",
					optarg);
				cmd_common_free(&cc);
				return 2;
			}
			m.top = (size_t)v;
			break;
		case 's':
			m.sort = fa_metric_parse(optarg);
			if (m.sort == FA_LEAKED_BLOCKS)
				m.sort = FA_LEAKED_BYTES;
			if (m.sort < 0 || m.sort == FA_CPU) {
				fprintf(stderr,
					"fathom mem: unknown sort key '%s'; use calls, bytes, peak, leaked "
					"or temp\n",
					optarg);
				cmd_common_free(&cc);
				return 2;
			}
			break;
		case 'j':
			m.json = true;
			break;
		case 'R':
			m.rule = SITE_RAW;
			break;
		case 'F':
			m.full_names = true;
			break;
		case 'A':
		case 'B':
			if (mem_at_parse(c == 'A' ? &m.at : &m.since, optarg, &cc.po, c == 'B') < 0) {
				fprintf(
				    stderr,
				    "fathom mem: --%s takes a snapshot number (1, 2, ...) or a time with its "
				    "unit (1.5s, 500ms), not '%s'\n",
				    c == 'A' ? "at" : "since", optarg);
				cmd_common_free(&cc);
				return 2;
			}
			break;
		default:
			if ((status = cmd_common_option(&cc, c, argv, longopts)) >= 0) {
				cmd_common_free(&cc);
				return status;
			}
		}
	}
	if (cc.timed && (m.at.given || m.since.given || m.json || mem_range_opts(&cc, &cc.po) < 0)) {
		fprintf(stderr, "fathom mem: --from/--to %s\n",
			m.json ? "has no --json output yet"
			       : "and --at/--since are two ways to say one thing");
		cmd_common_free(&cc);
		return 2;
	}
	struct profile p;
	if ((status = cmd_load_files(&cc, &p, &argc, &argv))) {
		cmd_common_free(&cc);
		return status;
	}
	cmd_common_free(&cc);

	status = 0;
	bool any = false;
	for (size_t i = 0; i < p.nprocs; i++)
		if (p.procs[i].alloc_mode != FD_ALLOC_OFF)
			any = true;
	if (!any) {
		bool damaged = false;
		for (size_t i = 0; i < p.nprocs; i++)
			if (p.procs[i].damage)
				damaged = true;
		if (damaged)
			fprintf(
			    stderr,
			    "fathom mem: %s: no allocation data could be read (the recording is damaged)\n",
			    argv[optind]);
		else
			fprintf(stderr,
				"fathom mem: %s: no allocation data in this recording; record with "
				"'fathom record --alloc -- CMD' (or --alloc-sample BYTES)\n",
				argv[optind]);
		status = 1;
		goto out;
	}
	if (m.sort == FA_TEMP_CALLS && p.mem.temp_unknown) {
		fprintf(stderr, "fathom mem: --sort temp: a sampled recording cannot estimate temporary "
				"allocations; record with 'fathom record --alloc'\n");
		status = 2;
		goto out;
	}
	m.p = &p;
	m.sampled = p.mem.sampled;
	m.est = m.sampled ? "~" : "";
	if (m.since.given && !m.at.given) {
		fprintf(stderr, "fathom mem: --since needs --at (the growth from --since to --at)\n");
		status = 2;
		goto out;
	}
	if (m.at.given) {
		status = mem_print_at(&m);
		goto out;
	}
	if (cc.timed) {
		status = mem_print_range(&m, &cc);
		goto out;
	}
	if (mem_sites_build(&p, m.rule, m.sort >= 0 ? m.sort : FA_ALLOC_BYTES, &m.sites, &m.nsites) < 0) {
		fprintf(stderr, "fathom mem: out of memory\n");
		status = 1;
		goto out;
	}
	if (m.json)
		print_json(&m);
	else
		print_text(&m);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "fathom mem: writing the output: %s\n", strerror(errno));
		status = 1;
	}
out:
	free(m.sites);
	profile_free(&p);
	return status;
}
