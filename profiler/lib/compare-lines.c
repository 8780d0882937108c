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
 * their text. */
struct side_src {
	const char *file;
	struct source_file sf;
	bool open;
};

static void side_close(struct side_src *ss)
{
	if (ss->open)
		source_close(&ss->sf);
	ss->open = false;
}

/* Line n of file on this side, without its indentation and trailing blanks
 * (an edit that re-indents still matches); NULL when the source is not found
 * or the line is blank. */
static const char *side_text(struct side_src *ss, const char *file, uint32_t n, size_t *len)
{
	if (!file)
		return NULL;
	if (!ss->file || strcmp(ss->file, file)) {
		side_close(ss);
		struct source_opts so = {0};
		ss->file = file;
		ss->open = source_open(&ss->sf, &so, file, 16u << 20) == 0;
	}
	const char *t = ss->open ? source_line(&ss->sf, n, len) : NULL;
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

static int push(struct compare_report *r, const struct cand *c, const char *func, bool total)
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
	if (l->file) {
		struct source_opts so = {0};
		struct source_file sf;
		size_t len;
		const char *s;
		if (source_open(&sf, &so, l->file, 16u << 20) == 0 && (s = source_line(&sf, l->line, &len)))
			l->text = strndup(s, len);
		for (char *t = l->text; t && *t; t++)
			if ((unsigned char)*t < 0x20 && *t != '\t')
				*t = '?'; /* a report is no place for control characters */
		source_close(&sf);
	}
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

/* The lines of one regressed function. A line of the base is matched to
 * the new recording's by its source text (an edit above it moves it), by
 * its number when its text cannot be read. */
static int function_lines(const struct agg_table *tb, const struct agg_table *tn,
			  const struct compare_item *it, struct compare_report *r, size_t top)
{
	bool total = !strcmp(it->metric, "cpu-total");
	struct cand *c = NULL;
	size_t n = 0, cap = 0, nnew;
	struct side_src sn = {0}, sb = {0};
	int rc = 0;
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
		const char *t = side_text(&sb, row->file, row->line, &len);
		size_t k = match_base(c, nnew, row->line, t, len);
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
	side_close(&sn);
	side_close(&sb);
	if (!rc) {
		qsort(c, n, sizeof(*c), by_growth);
		for (size_t i = 0; i < n && i < top && !rc && c[i].value > c[i].base; i++)
			rc = push(r, &c[i], it->func, total);
	}
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
			rc = function_lines(&tb, &tn, it, r, top);
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
				fprintf(f,
					"** (%s CPU share)\n\n| line | base | new | change | source |\n"
					"|---|---:|---:|---:|---|\n",
					l->total ? "total" : "self");
			} else {
				fprintf(
				    f,
				    "\nLines that grew most in %s (%s CPU share):\n  %-24s %8s %8s %8s  %s\n",
				    func, l->total ? "total" : "self", "line", "base", "new", "change",
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
	for (size_t i = 0; i < r->nlines; i++)
		free(r->lines[i].text);
	free(r->lines);
	r->lines = NULL;
	r->nlines = 0;
}
