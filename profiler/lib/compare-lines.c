/* fathom diff --lines: for each function the diff found slower, the lines
 * whose share of the CPU samples grew most, from the per-line rows every
 * command reads (aggregate.h, AGG_FRAME), in text and Markdown. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "compare.h"
#include "escape.h"
#include "source.h"
#include "util.h"

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path;
}

/* Whether row r is a line of function `func` of file `file` (by its
 * base name: two checkouts differ in their directories). */
static bool row_is(const struct agg_row *r, const char *func, const char *file)
{
	if (!r->name || strcmp(r->name, func))
		return false;
	if (!file || !r->file)
		return !file == !r->file;
	return !strcmp(base_name(r->file), base_name(file));
}

/* The share of row r: self or total samples over the table's. */
static double share(const struct agg_table *t, const struct agg_row *r, bool total)
{
	return t->total_n > 0 ? (total ? r->total_n : r->self_n) / t->total_n : 0;
}

struct cand {
	const struct agg_row *row; /* in the new recording */
	uint32_t line;		   /* in the new recording, else in the base */
	double base, value;
	char *text; /* the new line's source, trimmed (malloc'ed); NULL if not found */
	size_t len;
	bool matched; /* a base line found its new line */
};

static int by_growth(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	double gx = x->value - x->base, gy = y->value - y->base;
	if (gx != gy)
		return gx > gy ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* The source of one side's function, opened once, for matching lines by
 * their text: the copy the side's packed dump embeds (fathom pack
 * --sources), else the file at the recorded path. */
struct side_src {
	const char *file;
	struct source_opts so;
	struct source_file sf;
	bool open;
};

static void side_close(struct side_src *ss)
{
	if (ss->open)
		source_close(&ss->sf);
	ss->open = false;
}

static bool side_open(struct side_src *ss, const char *file)
{
	if (file && (!ss->file || strcmp(ss->file, file))) {
		side_close(ss);
		ss->file = file;
		ss->open = source_open(&ss->sf, &ss->so, file, 16u << 20) == 0;
	}
	return file && ss->open;
}

/* Line n of file on this side, without its indentation and trailing blanks
 * (an edit that re-indents still matches); NULL when the source is not found
 * or the line is blank. */
static const char *side_text(struct side_src *ss, const char *file, uint32_t n, size_t *len)
{
	const char *t = side_open(ss, file) ? source_line(&ss->sf, n, len) : NULL;
	if (!t)
		return NULL;
	while (*len && (*t == ' ' || *t == '\t'))
		t++, (*len)--;
	while (*len && (t[*len - 1] == ' ' || t[*len - 1] == '\t' || t[*len - 1] == '\r'))
		(*len)--;
	return *len ? t : NULL;
}

/* The new line that base line `line` (text t) is: the unmatched one with the
 * same text nearest to it, else the one of the same number whose text is
 * unknown on either side (sources not found). SIZE_MAX: none, a line of the
 * base only. */
static size_t match_base(const struct cand *c, size_t n, uint32_t line, const char *t, size_t len)
{
	size_t best = SIZE_MAX;
	for (size_t k = 0; k < n; k++) {
		if (c[k].matched)
			continue;
		if (t && c[k].text && c[k].len == len && !memcmp(c[k].text, t, len)) {
			uint32_t d = c[k].line > line ? c[k].line - line : line - c[k].line;
			uint32_t bd = best == SIZE_MAX	    ? UINT32_MAX
				      : c[best].line > line ? c[best].line - line
							    : line - c[best].line;
			if (d < bd)
				best = k;
		}
	}
	if (best != SIZE_MAX)
		return best;
	for (size_t k = 0; k < n; k++)
		if (!c[k].matched && c[k].line == line && (!t || !c[k].text))
			return k;
	return SIZE_MAX;
}

/* Appends candidate c as a line of func, its text from the new side's
 * source, and note (taken, may be NULL) when it is the function's first. */
static int push(struct compare_report *r, const struct cand *c, const char *func, bool total,
		struct side_src *sn, char **note)
{
	struct compare_line *v = realloc(r->lines, (r->nlines + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->lines = v;
	struct compare_line *l = &r->lines[r->nlines++];
	memset(l, 0, sizeof(*l));
	l->func = func;
	l->file = c->row ? c->row->file : NULL;
	l->line = c->line;
	l->total = total;
	l->base = c->base;
	l->value = c->value;
	l->note = *note;
	*note = NULL;
	size_t len;
	const char *s;
	if (side_open(sn, l->file) && (s = source_line(&sn->sf, l->line, &len)))
		l->text = strndup(s, len);
	for (char *t = l->text; t && *t; t++)
		if ((unsigned char)*t < 0x20 && *t != '\t')
			*t = '?'; /* a report is no place for control characters */
	return 0;
}

static int cand_add(struct cand **c, size_t *n, size_t *cap, struct cand v)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 32;
		struct cand *w = realloc(*c, *cap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		*c = w;
	}
	(*c)[(*n)++] = v;
	return 0;
}

/* The declaration line of the function of the first row of t that is
 * it's; 0 when unknown. Opens that row's source on side ss. */
static int32_t decl_of(const struct profile *p, const struct agg_table *t, const struct compare_item *it,
		       struct side_src *ss)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (t->rows[i].line && row_is(&t->rows[i], it->func, it->file)) {
			side_open(ss, t->rows[i].file);
			uint32_t f = t->rows[i].func;
			return f < p->nfuncs && p->funcs[f].decl_line > 0 ? p->funcs[f].decl_line : 0;
		}
	return 0;
}

/* The lines of one regressed function. A line of the base is matched to
 * the new recording's by its source text (an edit above it moves it), by
 * its number when its text cannot be read. When the function starts at
 * another line in the base, the source changed between the builds: that is
 * said, and when the two sides read the same text (one checkout: the base's
 * own source is gone) base lines are compared shifted by as much. */
static int function_lines(const struct profile *base, const struct profile *cur, const struct agg_table *tb,
			  const struct agg_table *tn, const struct compare_item *it, struct compare_report *r,
			  size_t top)
{
	bool total = !strcmp(it->metric, "cpu-total");
	struct cand *c = NULL;
	size_t n = 0, cap = 0, nnew;
	struct side_src sn = {.so = {.packed = cur}}, sb = {.so = {.packed = base}};
	char *note = NULL;
	int rc = 0;
	int32_t dn = decl_of(cur, tn, it, &sn), db = decl_of(base, tb, it, &sb);
	int32_t shift = dn && db ? dn - db : 0;
	bool one_text =
	    sn.open && sb.open && sn.sf.size == sb.sf.size && !memcmp(sn.sf.text, sb.sf.text, sb.sf.size);
	if (shift) {
		note =
		    str_fmt("%s starts at line %" PRId32 ", in the base at %" PRId32
			    ": the source changed between the builds; %s",
			    it->func, dn, db,
			    sn.open && sb.open && !one_text ? "lines are matched by their text"
			    : one_text ? "only one version of it was found (record with --pack=sources to "
					 "keep each), so base lines are compared shifted by as much (an edit "
					 "inside the function is not followed)"
				       : "its source was not found, so base lines are compared shifted by "
					 "as much");
		if (!note)
			return -ENOMEM;
	}
	for (size_t i = 0; i < tn->nrows && !rc; i++) {
		const struct agg_row *row = &tn->rows[i];
		if (!row->line || !row_is(row, it->func, it->file))
			continue;
		size_t k = 0;
		while (k < n && c[k].line != row->line)
			k++;
		if (k == n) {
			struct cand v = {.row = row, .line = row->line};
			const char *t = side_text(&sn, row->file, row->line, &v.len);
			if (t && !(v.text = strndup(t, v.len)))
				rc = -ENOMEM;
			if (rc || (rc = cand_add(&c, &n, &cap, v))) {
				free(v.text);
				break;
			}
		}
		c[k].value += share(tn, row, total);
	}
	nnew = n;
	for (size_t i = 0; i < tb->nrows && !rc; i++) {
		const struct agg_row *row = &tb->rows[i];
		if (!row->line || !row_is(row, it->func, it->file))
			continue;
		size_t len = 0;
		/* One text for both builds of a moved function is the new one's:
		 * the base's lines are known by their numbers only. */
		const char *t = shift && one_text ? NULL : side_text(&sb, row->file, row->line, &len);
		int64_t moved = (int64_t)row->line + shift;
		size_t k = match_base(c, nnew, moved > 0 ? (uint32_t)moved : row->line, t, len);
		if (k != SIZE_MAX) {
			c[k].matched = true;
		} else {
			/* A base line gone from the new source, or one whose
			 * number another base row (an inlined copy) took. */
			for (k = nnew; k < n && c[k].line != row->line; k++)
				;
			if (k == n && (rc = cand_add(&c, &n, &cap, (struct cand){.line = row->line})))
				break;
		}
		c[k].base += share(tb, row, total);
	}
	if (!rc) {
		qsort(c, n, sizeof(*c), by_growth);
		for (size_t i = 0; i < n && i < top && !rc && c[i].value > c[i].base; i++)
			rc = push(r, &c[i], it->func, total, &sn, &note);
	}
	side_close(&sn);
	side_close(&sb);
	free(note);
	for (size_t i = 0; i < n; i++)
		free(c[i].text);
	free(c);
	return rc;
}

int compare_lines(const struct profile *base, const struct profile *cur, struct compare_report *r, size_t top)
{
	struct agg_table tb, tn;
	struct agg_opts o = {.key = AGG_FRAME, .metrics = AGG_METRIC(FA_CPU), .heavy = -1};
	if (agg_table_build(&tb, base, &o) < 0)
		return -ENOMEM;
	if (agg_table_build(&tn, cur, &o) < 0) {
		agg_table_free(&tb);
		return -ENOMEM;
	}
	int rc = 0;
	for (size_t i = 0; i < r->nitems && !rc; i++) {
		const struct compare_item *it = &r->items[i];
		if (it->status == COMPARE_FAIL && it->section == COMPARE_SEC_FUNCTION && it->func &&
		    (!strcmp(it->metric, "cpu-self") || !strcmp(it->metric, "cpu-total")))
			rc = function_lines(base, cur, &tb, &tn, it, r, top);
	}
	agg_table_free(&tb);
	agg_table_free(&tn);
	return rc;
}

void compare_lines_write(const struct compare_report *r, int fmt, FILE *f)
{
	if (!r->nlines || (fmt != COMPARE_TEXT && fmt != COMPARE_MARKDOWN))
		return;
	char b1[32], b2[32], b3[32];
	bool md = fmt == COMPARE_MARKDOWN;
	const char *func = NULL;
	for (size_t i = 0; i < r->nlines; i++) {
		const struct compare_line *l = &r->lines[i];
		if (l->func != func) {
			func = l->func;
			if (md) {
				fputs("\n**Lines that grew most in ", f);
				md_write_escaped(f, func);
				fprintf(f, "** (%s CPU share)\n\n", l->total ? "total" : "self");
				if (l->note) {
					fputs("_", f);
					md_write_escaped(f, l->note);
					fputs("_\n\n", f);
				}
				fputs("| line | base | new | change | source |\n|---|---:|---:|---:|---|\n",
				      f);
			} else {
				fprintf(f, "\nLines that grew most in %s (%s CPU share):\n", func,
					l->total ? "total" : "self");
				if (l->note)
					fprintf(f, "  (%s)\n", l->note);
				fprintf(f, "  %-24s %8s %8s %8s  %s\n", "line", "base", "new", "change",
					"source");
			}
		}
		char where[300];
		snprintf(where, sizeof(where), "%s:%" PRIu32, l->file ? base_name(l->file) : "?", l->line);
		snprintf(b3, sizeof(b3), "%+.1f pt", 100 * (l->value - l->base));
		compare_value_str(b1, COMPARE_SHARE, l->base);
		compare_value_str(b2, COMPARE_SHARE, l->value);
		if (md) {
			fputs("| ", f);
			md_write_escaped(f, where);
			fprintf(f, " | %s | %s | %s | ", b1, b2, b3);
			if (l->text) {
				const char *t = l->text + strspn(l->text, " \t");
				md_write_escaped(f, t);
			}
			fputs(" |\n", f);
		} else {
			fprintf(f, "  %-24s %8s %8s %8s  %s\n", where, b1, b2, b3,
				l->text ? l->text + strspn(l->text, " \t") : "");
		}
	}
}

void compare_lines_free(struct compare_report *r)
{
	for (size_t i = 0; i < r->nlines; i++) {
		free(r->lines[i].text);
		free(r->lines[i].note);
	}
	free(r->lines);
	r->lines = NULL;
	r->nlines = 0;
}
