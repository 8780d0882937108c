/* 'fathom pack': a dump made portable: the names, lines and inline chains of
 * exactly its addresses (and optionally its source files) written into a
 * copy of it, so that it reads the same where its binaries are not. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "pack.h"
#include "profile.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fathom pack FILE... -o OUT [--sources] [--source-dir DIR] [--prefix-map OLD=NEW]\n"
		"\n"
		"Writes a copy of each dump that carries the function names, source files and lines\n"
		"and inline chains of every address its stacks hold, keyed by build id, so that\n"
		"report, mem, flame, export, view and lines give the same names and lines on a\n"
		"machine without the program, its libraries or their debug files. Run it where the\n"
		"recording was made (or where the same builds and debug files are).\n"
		"\n"
		"  -o, --output OUT      the packed dump of the first FILE; the others go to OUT.PID\n"
		"                        (OUT.PID.N for the N-th image after exec), as record -o names them\n"
		"      --sources         also embed the source files the names point to (fathom lines\n"
		"                        and view show them); without it, sources are not packed\n"
		"      --source-dir DIR  with --sources: also look for sources under DIR (repeatable)\n"
		"      --prefix-map OLD=NEW  with --sources: read sources recorded under OLD from NEW\n"
		"                        (they are embedded under the recorded path)\n");
}

int cmd_pack(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"sources", no_argument, NULL, 'S'},
	    {"source-dir", required_argument, NULL, 'R'},
	    {"prefix-map", required_argument, NULL, 'M'},
	    CMD_COMMON_OPTIONS,
	};
	struct cmd_common cc = {.name = "pack", .usage = usage};
	struct source_opts so = {0};
	struct pack_opts o = {.so = &so};
	const char *out = NULL;
	int c, status = 2;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:" CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'S':
			o.sources = true;
			break;
		case 'R':
		case 'M': {
			int rc = cmd_source_option("pack", &so, c == 'M', optarg);
			if (rc) {
				status = rc; /* 1 out of memory, 2 a bad --prefix-map */
				goto out;
			}
			break;
		}
		default:
			if ((status = cmd_common_option(&cc, c, argv, longopts)) >= 0)
				goto out;
			status = 2;
		}
	}
	if (!out) {
		fprintf(stderr, "fathom pack: -o OUT is required (the packed dump to write)\n");
		goto out;
	}
	if ((so.ndirs || so.nmaps) && !o.sources) {
		fprintf(stderr,
			"fathom pack: --source-dir and --prefix-map find sources to embed; add --sources\n");
		goto out;
	}
	if ((status = cmd_files(&cc, &argc, &argv)))
		goto out;
	/* Every address a stack holds is looked up: no view folds any away. */
	cc.po.keep_symbols = true;
	cc.po.python_view = false;
	struct profile p;
	if ((status = cmd_load(&cc, &p, argv + optind, (size_t)(argc - optind), NULL)))
		goto out;
	struct pack_result res;
	char *err = NULL;
	int rc = pack_dumps(&p, out, &o, &res, &err);
	for (size_t i = 0; i < res.n && !cc.po.quiet; i++) {
		const struct pack_file *f = &res.files[i];
		if (!f->out_bytes)
			continue;
		fprintf(stderr,
			"fathom pack: %s: %" PRIu64 " bytes: the dump's own %" PRIu64 " and %" PRIu64
			" of symbols (%zu addresses, %zu modules",
			f->out, f->out_bytes, f->dump_bytes, f->out_bytes - f->dump_bytes, f->addrs,
			f->modules);
		if (o.sources)
			fprintf(stderr, ", %zu source files of %zu bytes%s", f->sources, f->source_bytes,
				f->sources_missing ? "" : ")\n");
		if (o.sources && f->sources_missing)
			fprintf(stderr, "; %zu not found or over 8 MiB, not embedded)\n", f->sources_missing);
		else if (!o.sources)
			fprintf(stderr, "; sources not packed: --sources)\n");
	}
	if (rc < 0)
		fprintf(stderr, "fathom pack: %s\n", err ? err : strerror(-rc));
	status = rc == -ENOMEM ? 1 : rc == -EINVAL ? 2 : rc < 0 ? 1 : 0;
	free(err);
	pack_result_free(&res);
	profile_free(&p);
out:
	source_opts_free(&so);
	cmd_common_free(&cc);
	return status;
}
