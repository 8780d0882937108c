/* The viewer's per-line data: self and total by (function, line) from the
 * analyzer's frame table, and the source text of the files those lines are
 * in, found as fathom lines finds them (source.c), hottest files first up to
 * a size cap. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "source.h"
#include "util.h"
#include "viewer-data.h"

/* Lines kept past the last one with figures (a function's end) and before
 * a function's first line (its comment). */
#define TAIL_LINES 8
#define HEAD_LINES 2
/* A file is read up to this much (a "source" larger than that is not one). */
#define MAX_FILE_BYTES (8u << 20)

static const struct profile *sort_p;

static const char *row_file(const struct agg_row *r)
{
	return sort_p->funcs[r->func].file;
}

static int by_file(const void *a, const void *b)
{
	const struct agg_row *x = *(const struct agg_row *const *)a, *y = *(const struct agg_row *const *)b;
	int c = strcmp(row_file(x), row_file(y));
	return c ? c : agg_row_cmp_line(a, b);
}

/* One source file of the lines: its rows' run in the by-file order. */
struct vfile {
	const char *file;
	uint32_t func; /* a function in it (when its code was built) */
	uint32_t max_line;
	size_t row0, nrows; /* its rows in the by-file order (by function, line) */
	double heat;	    /* its largest share of any metric's total, for the order */
};

static int by_heat(const void *a, const void *b)
{
	const struct vfile *x = a, *y = b;
	if (x->heat != y->heat)
		return x->heat > y->heat ? -1 : 1;
	return strcmp(x->file, y->file);
}

struct range {
	uint32_t lo, hi; /* lines, 1-based, inclusive */
};

/* The bytes of lines lo..hi of sf (both read). */
static size_t chunk_len(const struct source_file *sf, uint32_t lo, uint32_t hi)
{
	size_t end = hi < sf->nlines ? sf->line_off[hi] : sf->size;
	return end - sf->line_off[lo - 1];
}

/* The line ranges of a file's functions (rows: by function, then line):
 * from a little before a function's first line (its declaration, when that
 * comes first) to a little past its last line with figures, merged where
 * they meet, and cut to the lines sf holds. Returns their number (at most
 * n, into out). */
static size_t file_ranges(const struct profile *p, const struct agg_row *const *rows, size_t n,
			  const struct source_file *sf, struct range *out)
{
	size_t nr = 0;
	for (size_t i = 0; i < n;) {
		size_t k = i;
		uint32_t lo = rows[i]->line, hi = rows[i]->line;
		for (; k < n && rows[k]->func == rows[i]->func; k++)
			hi = rows[k]->line > hi ? rows[k]->line : hi;
		int decl = p->funcs[rows[i]->func].decl_line;
		if (decl > 0 && (uint32_t)decl < lo && lo - (uint32_t)decl < 2000)
			lo = (uint32_t)decl;
		lo = lo > HEAD_LINES ? lo - HEAD_LINES : 1;
		hi += TAIL_LINES;
		if (hi > sf->nlines)
			hi = sf->nlines;
		if (lo <= hi) {
			/* Rows are by function, so ranges come unordered: merge by scan. */
			size_t r = 0;
			for (; r < nr; r++)
				if (lo <= out[r].hi + 1 && hi + 1 >= out[r].lo) {
					out[r].lo = lo < out[r].lo ? lo : out[r].lo;
					out[r].hi = hi > out[r].hi ? hi : out[r].hi;
					break;
				}
			if (r == nr)
				out[nr++] = (struct range){lo, hi};
		}
		i = k;
	}
	/* One more pass in line order joins ranges a widened one now meets. */
	for (size_t a = 0; a < nr; a++)
		for (size_t b = a + 1; b < nr; b++)
			if (out[b].lo < out[a].lo) {
				struct range t = out[a];
				out[a] = out[b];
				out[b] = t;
			}
	size_t m = 0;
	for (size_t a = 0; a < nr; a++) {
		if (m && out[a].lo <= out[m - 1].hi + 1) {
			if (out[a].hi > out[m - 1].hi)
				out[m - 1].hi = out[a].hi;
		} else {
			out[m++] = out[a];
		}
	}
	return m;
}

/* The sources of files[0..n), hottest first, within the cap. */
static int write_sources(struct json *j, const struct profile *p, const struct agg_row *const *rows,
			 struct vfile *files, size_t n, const struct viewer_opts *o)
{
	qsort(files, n, sizeof(*files), by_heat);
	/* The caller's options, and the dumps' directories as bases: relative
	 * recorded paths (Python's) are tried beside the dumps, as fathom lines
	 * does. The options borrow their strings: dirs lives until the end. */
	struct source_opts local = {0};
	if (o->sources)
		local = *o->sources;
	local.bases = NULL;
	local.nbases = 0;
	local.packed = p;
	char **dirs = calloc(p->nprocs + 1, sizeof(*dirs));
	size_t most = 1;
	for (size_t i = 0; i < n; i++)
		most = files[i].nrows > most ? files[i].nrows : most;
	struct range *ranges = malloc(most * sizeof(*ranges));
	int rc = -ENOMEM;
	if (!dirs || !ranges) {
		free(dirs);
		free(ranges);
		return -ENOMEM;
	}
	for (size_t i = 0; o->sources && i < o->sources->nbases; i++)
		if (source_add_base(&local, o->sources->bases[i]) < 0)
			goto out;
	for (size_t i = 0; i < p->nprocs; i++) {
		const char *path = p->procs[i].path, *slash = path ? strrchr(path, '/') : NULL;
		if (slash && (!(dirs[i] = strndup(path, (size_t)(slash - path))) ||
			      source_add_base(&local, dirs[i]) < 0))
			goto out;
	}
	size_t used = 0, left_out = 0;
	json_array_begin(j, "sources");
	for (size_t i = 0; i < n; i++) {
		struct source_file sf;
		int found = source_open(&sf, &local, files[i].file, MAX_FILE_BYTES);
		json_object_begin(j, NULL);
		json_string(j, "file", files[i].file);
		char note[768] = "";
		if (found == -ENOMEM) {
			source_close(&sf);
			goto out; /* the caller drops the output */
		}
		size_t nr = 0, len = 0;
		if (found < 0) {
			snprintf(note, sizeof(note), "%s", sf.looked ? sf.looked : strerror(-found));
		} else {
			nr = file_ranges(p, rows + files[i].row0, files[i].nrows, &sf, ranges);
			for (size_t k = 0; k < nr; k++)
				len += chunk_len(&sf, ranges[k].lo, ranges[k].hi);
			if (used + len > o->source_cap) {
				snprintf(note, sizeof(note),
					 "left out: the page's sources reached their cap of %zu KiB",
					 o->source_cap >> 10);
				left_out++;
				nr = 0;
			} else {
				used += len;
				const char *what = NULL;
				int64_t built = source_built_ns(p, files[i].func, &what);
				char why[512];
				if (source_changed(&sf, built, what, files[i].max_line, why, sizeof(why)))
					snprintf(note, sizeof(note), "may not match the recording: %s", why);
			}
		}
		/* The text as chunks [first line, "lines first..last", ...]:
		 * the functions with figures, not the whole file. */
		json_array_begin(j, "chunks");
		for (size_t k = 0; k < nr; k++) {
			size_t clen = chunk_len(&sf, ranges[k].lo, ranges[k].hi);
			char *text = strndup(sf.text + sf.line_off[ranges[k].lo - 1], clen);
			if (!text) {
				source_close(&sf);
				goto out;
			}
			json_uint(j, NULL, ranges[k].lo);
			json_string(j, NULL, text);
			free(text);
		}
		json_array_end(j);
		json_string(j, "path", found < 0 ? NULL : sf.path);
		json_string(j, "note", *note ? note : NULL);
		json_object_end(j);
		source_close(&sf);
	}
	json_array_end(j);
	if (left_out) {
		char msg[256];
		snprintf(msg, sizeof(msg),
			 "%zu of %zu source files left out: the page's cap of %zu KiB was reached", left_out,
			 n, o->source_cap >> 10);
		json_string(j, "sources_note", msg);
	}
	rc = 0;
out:
	free(ranges);
	free(local.bases);
	for (size_t i = 0; i < p->nprocs; i++)
		free(dirs[i]);
	free(dirs);
	return rc;
}

/* Object `key` of rows[0..n) per metric, in the metrics' order, each row
 * with figures as [function step, line, self, total] (the step: from the
 * previous row's function); `inlined` rows as [caller step, call line,
 * function, line, self, total]. */
static void write_rows(struct json *j, const char *key, const struct agg_row *const *rows, size_t n,
		       uint32_t metrics, const int *order, size_t norder, bool inlined)
{
	json_object_begin(j, key);
	for (size_t k = 0; k < norder; k++) {
		int m = order[k];
		if (!(metrics & AGG_METRIC(m)))
			continue;
		json_array_begin(j, fa_metric_names[m]);
		int64_t prev = -1;
		for (size_t i = 0; i < n; i++) {
			const struct agg_row *r = rows[i];
			if (!r->self[m] && !r->total[m])
				continue;
			uint32_t step = inlined ? r->caller : r->func;
			json_int(j, NULL, (int64_t)step - prev);
			if (inlined) {
				json_uint(j, NULL, r->call_line);
				json_uint(j, NULL, r->func);
			}
			json_uint(j, NULL, r->line);
			json_int(j, NULL, r->self[m]);
			json_int(j, NULL, r->total[m]);
			prev = step;
		}
		json_array_end(j);
	}
	json_object_end(j);
}

/* The code inlined at each line, as fathom lines notes it under that line:
 * per metric, [caller - previous caller, call line, function, line, self,
 * total] for every inlined function's line with figures. */
static int write_inlined(struct json *j, const struct profile *p, uint32_t metrics, const int *order,
			 size_t norder)
{
	struct agg_opts ao = {.key = AGG_INLINED, .metrics = metrics, .rule = SITE_USER, .heavy = -1};
	struct agg_table t;
	if (agg_table_build(&t, p, &ao) < 0)
		return -ENOMEM;
	const struct agg_row **rows = malloc((t.nrows + 1) * sizeof(*rows));
	if (!rows) {
		agg_table_free(&t);
		return -ENOMEM;
	}
	size_t n = 0;
	for (size_t i = 0; i < t.nrows; i++)
		if (t.rows[i].func < p->nfuncs && t.rows[i].caller < p->nfuncs)
			rows[n++] = &t.rows[i];
	qsort(rows, n, sizeof(*rows), agg_row_cmp_call_site);
	write_rows(j, "inlined", rows, n, metrics, order, norder, true);
	free(rows);
	agg_table_free(&t);
	return 0;
}

int viewer_write_lines(struct json *j, const struct profile *p, uint32_t metrics, const int *order,
		       size_t norder, const struct viewer_opts *o)
{
	struct agg_opts ao = {.key = AGG_FRAME, .metrics = metrics, .rule = SITE_USER, .heavy = -1};
	struct agg_table t;
	if (agg_table_build(&t, p, &ao) < 0)
		return -ENOMEM;
	const struct agg_row **rows = malloc((t.nrows + 1) * sizeof(*rows));
	struct vfile *files = malloc((t.nrows + 1) * sizeof(*files));
	int rc = -ENOMEM;
	if (!rows || !files)
		goto out;
	size_t n = 0;
	for (size_t i = 0; i < t.nrows; i++) {
		const struct agg_row *r = &t.rows[i];
		if (r->func < p->nfuncs && r->line && p->funcs[r->func].file)
			rows[n++] = r;
	}
	sort_p = p;
	qsort(rows, n, sizeof(*rows), agg_row_cmp_line);
	write_rows(j, "lines", rows, n, metrics, order, norder, false);
	if (write_inlined(j, p, metrics, order, norder) < 0)
		goto out;
	if (o->no_source) {
		rc = 0;
		goto out;
	}
	/* The files, each once, with the last line that has figures and how
	 * hot they are. */
	qsort(rows, n, sizeof(*rows), by_file);
	size_t nf = 0;
	for (size_t i = 0; i < n; i++) {
		if (!nf || strcmp(files[nf - 1].file, row_file(rows[i])))
			files[nf++] =
			    (struct vfile){.file = row_file(rows[i]), .func = rows[i]->func, .row0 = i};
		struct vfile *f = &files[nf - 1];
		f->nrows++;
		if (rows[i]->line > f->max_line)
			f->max_line = rows[i]->line;
		for (int m = 0; m < FA_NMETRICS; m++)
			if ((metrics & AGG_METRIC(m)) && t.total[m] > 0) {
				double h = (double)rows[i]->total[m] / (double)t.total[m];
				if (h > f->heat)
					f->heat = h;
			}
	}
	rc = write_sources(j, p, rows, files, nf, o);
out:
	free(rows);
	free(files);
	agg_table_free(&t);
	return rc;
}
