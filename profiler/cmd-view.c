/* 'fathom view': one self-contained interactive HTML report, made of the viewer
 * embedded at build time and the profile data inline. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmds.h"
#include "profile.h"
#include "source.h"
#include "outfile.h"
#include "util.h"
#include "viewer-data.h"

#ifdef FATHOM_HAVE_VIEWER
/* Written by viewer/embed.cmake from viewer/index.html, viewer.css and viewer.js. */
extern const unsigned char fathom_viewer_html[], fathom_viewer_css[], fathom_viewer_js[],
    fathom_viewer_tljs[];
extern const size_t fathom_viewer_html_len, fathom_viewer_css_len, fathom_viewer_js_len,
    fathom_viewer_tljs_len;
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: fathom view FILE... [-o report.html] [--title T]\n"
		   "       fathom view --diff BASE NEW... [-o report.html]\n"
		   "\n"
		   "Writes one self-contained HTML file (no network access, nothing else to install):\n"
		   "flame graph and icicle with zoom and search, a weight switch (CPU, allocation\n"
		   "bytes and calls, temporaries, leaks, live at peak), a sortable hotspot table,\n"
		   "the heap and RSS timeline with the peak marked, a thread filter and, with --diff,\n"
		   "a differential view. Prints the path of the file it wrote.\n"
		   "\n"
		   "  -o, --output FILE   write here ('-' for stdout); default fathom-report.html\n"
		   "      --diff BASE     compare FILE... against BASE (repeat for several base files)\n"
		   "      --title T       the page's title\n"
		   "      --data-only     write only the viewer's JSON data (schema: viewer/README.md)\n"
		   "      --no-source     leave the source text out (per-line figures stay)\n"
		   "      --source-cap KIB  at most this much source text in the page (default 2048)\n"
		   "      --source-dir DIR  also look for sources under DIR (repeatable)\n"
		   "      --prefix-map OLD=NEW  read sources recorded under OLD from NEW (repeatable)\n");
}

#ifdef FATHOM_HAVE_VIEWER
/* Writes the page: index.html with its three markers (in any order) replaced. */
static int write_page(FILE *f, const struct profile *const *profiles, size_t n, const struct viewer_opts *vo)
{
	static const char *const markers[] = {"<!--FATHOM:CSS-->", "<!--FATHOM:JS-->", "<!--FATHOM:DATA-->"};
	const char *html = (const char *)fathom_viewer_html;
	const char *end = html + fathom_viewer_html_len;
	const char *pos = html;
	bool done[3] = {false, false, false};
	for (int round = 0; round < 3; round++) {
		const char *m = NULL;
		int k = -1;
		for (int i = 0; i < 3; i++) {
			const char *at =
			    done[i] ? NULL : memmem(pos, (size_t)(end - pos), markers[i], strlen(markers[i]));
			if (at && (!m || at < m)) {
				m = at;
				k = i;
			}
		}
		if (!m)
			return -EINVAL; /* a viewer built without its markers: a build defect */
		done[k] = true;
		fwrite(pos, 1, (size_t)(m - pos), f);
		pos = m + strlen(markers[k]);
		if (k == 0) {
			fwrite(fathom_viewer_css, 1, fathom_viewer_css_len, f);
		} else if (k == 1) {
			/* The timeline first: viewer.js uses it. */
			fwrite(fathom_viewer_tljs, 1, fathom_viewer_tljs_len, f);
			fwrite("\n", 1, 1, f);
			fwrite(fathom_viewer_js, 1, fathom_viewer_js_len, f);
		} else {
			/* A name such as "operator</" must not end the script element. */
			FILE *esc = html_script_stream(f);
			if (!esc)
				return -errno;
			setvbuf(esc, NULL, _IOFBF, 1 << 16);
			int rc = viewer_data_write(esc, profiles, n, vo);
			if (fclose(esc) != 0 && !rc)
				rc = -EIO;
			if (rc < 0)
				return rc;
		}
	}
	fwrite(pos, 1, (size_t)(end - pos), f);
	return ferror(f) ? -EIO : 0;
}
#endif

int cmd_view(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"diff", required_argument, NULL, 'd'},
	    {"title", required_argument, NULL, 'T'},
	    {"data-only", no_argument, NULL, 'D'},
	    {"no-source", no_argument, NULL, 'S'},
	    {"source-cap", required_argument, NULL, 'C'},
	    {"source-dir", required_argument, NULL, 'R'},
	    {"prefix-map", required_argument, NULL, 'M'},
	    CMD_COMMON_OPTIONS,
	};
	const char *out = "fathom-report.html";
	bool out_set = false, data_only = false;
	struct cmd_common cc = {.name = "view", .usage = usage};
	struct cmd_paths base_paths = {0};
	struct source_opts so = {0};
	struct viewer_opts vo = {
	    .generator = "fathom " FATHOM_VERSION, .source_cap = VIEWER_SOURCE_CAP, .sources = &so};
	int status = 2, c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:" CMD_COMMON_SHORT, longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			out_set = true;
			break;
		case 'd':
			if (cmd_paths_add(&base_paths, optarg)) {
				status = 1;
				goto out;
			}
			break;
		case 'T':
			vo.title = optarg;
			break;
		case 'D':
			data_only = true;
			break;
		case 'S':
			vo.no_source = true;
			break;
		case 'C': {
			char *end;
			unsigned long kib = strtoul(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end || kib > (1ul << 30)) {
				fprintf(stderr, "fathom view: --source-cap takes KiB (a number), not '%s'\n",
					optarg);
				goto out;
			}
			vo.source_cap = (size_t)kib << 10;
			break;
		}
		case 'R':
		case 'M': {
			int rc = cmd_source_option("view", &so, c == 'M', optarg);
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
	if ((status = cmd_files_diff(&cc, &base_paths, &argc, &argv)))
		goto out;
	status = 2;
	if (data_only && !out_set)
		out = "-";
#ifndef FATHOM_HAVE_VIEWER
	if (!data_only) {
		fprintf(stderr, "fathom view: this fathom was built without the viewer (FATHOM_VIEWER=OFF); "
				"only --data-only works\n");
		goto out;
	}
#endif

	struct profile p, base;
	cc.po.keep_times = true; /* the timeline's CPU lanes and its range filter */
	if ((status = cmd_load_diff(&cc, &p, &base, &base_paths, argc, argv)))
		goto out;
	const struct profile *profiles[2] = {base_paths.n ? &base : &p, &p};
	size_t n = base_paths.n ? 2 : 1;
	vo.diff = base_paths.n > 0;
	char title[600];
	if (!vo.title && base_paths.n) {
		char a[256], b[256];
		viewer_default_title(a, sizeof(a), &base);
		viewer_default_title(b, sizeof(b), &p);
		snprintf(title, sizeof(title), "fathom diff: %s vs %s", a + strlen("fathom: "),
			 b + strlen("fathom: "));
		vo.title = title;
	}

	/* A failed run never leaves half a report behind, nor replaces an
	 * earlier one (see outfile.h). */
	struct outfile of;
	char *err = NULL;
	int rc = outfile_open(&of, out, &err);
	if (rc) {
		fprintf(stderr, "fathom view: %s\n", err ? err : strerror(-rc));
		free(err);
		status = 1;
		goto done;
	}
	bool to_stdout = of.t.kind == OUTFILE_FD;
	vo.pretty = data_only && !to_stdout;
#ifdef FATHOM_HAVE_VIEWER
	if (!data_only)
		rc = write_page(of.f, profiles, n, &vo);
	else
#endif
		rc = viewer_data_write(of.f, profiles, n, &vo);
	int wrc = outfile_close(&of, !rc);
	if (!rc)
		rc = wrc;
	if (rc) {
		fprintf(stderr, "fathom view: writing %s: %s\n", to_stdout ? "the output" : out,
			strerror(-rc));
		status = 1;
		goto done;
	}
	status = 0;
	if (!to_stdout) {
		struct stat st;
		char size[32];
		if (!cc.po.quiet && stat(out, &st) == 0 && S_ISREG(st.st_mode))
			fprintf(stderr, "fathom view: wrote %s (%s)%s\n", out, fmt_bytes(size, st.st_size),
				data_only ? " of viewer data" : "; open it in a browser");
		printf("%s\n", out);
	}
done:
	profile_free(&p);
	if (base_paths.n)
		profile_free(&base);
out:
	free(base_paths.v);
	source_opts_free(&so);
	return status;
}
