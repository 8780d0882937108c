/* fathom lines' output: the chosen functions' source with figures beside
 * each line as text (colours on a terminal, cold lines dimmed, long
 * stretches without figures elided, inlined code noted under the line it
 * was inlined at), or per file, per line figures as JSON. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-lines.h"
#include "cmds.h"
#include "cxxname.h"
#include "fathom-dump.h"
#include "json-profile.h"
#include "util.h"

enum col { C_SELFP, C_SELF, C_SAMPLES, C_TOTALP, C_TOTAL, C_CALLS, C_BYTES, C_PEAK, C_LEAKED, NCOLS };
static const char *const col_head[NCOLS] = {"self%", "self",  "samples", "total%", "total",
					    "calls", "bytes", "at peak", "leaked"};
static const int col_width[NCOLS] = {6, 9, 7, 6, 9, 8, 9, 9, 9};

#define MAX_SPAN 100000 /* lines of one function's listing, at most */

#define DIM "\033[2m"
#define BOLD "\033[1m"
#define RED "\033[1;31m"
#define YELLOW "\033[33m"
#define RESET "\033[0m"

static double pct(int64_t part, int64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

/* The raw value of a column for row r (0: blank). */
static double col_value(const struct lines *l, const struct agg_row *r, enum col c)
{
	switch (c) {
	case C_SELFP:
	case C_SELF:
		return (double)r->self[FA_CPU];
	case C_SAMPLES:
		return r->self_n;
	case C_TOTALP:
	case C_TOTAL:
		return (double)r->total[FA_CPU];
	case C_CALLS:
		return (double)r->total[FA_ALLOC_CALLS];
	case C_BYTES:
		return (double)r->total[FA_ALLOC_BYTES];
	case C_PEAK:
		return (double)r->total[FA_PEAK_BYTES];
	case C_LEAKED:
		return (double)r->total[FA_LEAKED_BYTES];
	default:
		(void)l;
		return 0;
	}
}

struct text {
	const struct lines *l;
	const struct lines_show *s;
	bool cols[NCOLS];
	int width; /* of the figure columns together */
};

static void note_cols(struct text *t, const struct agg_row *r)
{
	for (int c = 0; c < NCOLS; c++)
		if (col_value(t->l, r, (enum col)c))
			t->cols[c] = true;
}

static void print_figures(const struct text *t, const struct agg_row *r)
{
	const struct lines *l = t->l;
	for (int c = 0; c < NCOLS; c++) {
		if (!t->cols[c])
			continue;
		char buf[32] = "";
		double v = r ? col_value(l, r, (enum col)c) : 0;
		if (v) {
			switch (c) {
			case C_SELFP:
			case C_TOTALP:
				snprintf(buf, sizeof(buf), "%.1f%%", pct((int64_t)v, l->fr.total[FA_CPU]));
				break;
			case C_SELF:
				fmt_duration(buf, (uint64_t)r->self_ns);
				break;
			case C_TOTAL:
				fmt_duration(buf, (uint64_t)r->total_ns);
				break;
			case C_SAMPLES:
			case C_CALLS:
				fmt_count(buf, (int64_t)v);
				break;
			default:
				fmt_bytes(buf, (int64_t)v);
			}
		}
		printf(" %*s", col_width[c], buf);
	}
}

/* Source text as the terminal may show it: tabs expanded, control
 * characters (a stray escape sequence) as '?'. */
static void print_source(const char *s, size_t len)
{
	int col = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t') {
			do
				putchar(' ');
			while (++col % 8);
			continue;
		}
		putchar(c < 0x20 || c == 0x7f ? '?' : c);
		if ((c & 0xc0) != 0x80)
			col++;
	}
}

/* The colour of a row: hot red, warm yellow, cold dim. */
static const char *heat(const struct text *t, const struct agg_row *r)
{
	if (!t->s->color)
		return "";
	if (!r)
		return DIM;
	double self = pct(r->self[FA_CPU], t->l->fr.total[FA_CPU]),
	       total = pct(r->total[FA_CPU], t->l->fr.total[FA_CPU]);
	return self >= 5 ? RED : self >= 1 || total >= 5 ? YELLOW : "";
}

/* One line: figures, line number, a mark (' ', '+' inlined, '>' the line
 * asked for) and the source text. */
static void print_row(const struct text *t, const struct agg_row *r, uint32_t line, char mark,
		      const struct lines_src *src)
{
	const char *h = heat(t, r);
	printf("%s", h);
	print_figures(t, r);
	if (line)
		printf("  %6" PRIu32 " %c", line, mark);
	else
		printf("  %6s %c", "?", mark);
	size_t len;
	const char *s = src && !src->rc ? source_line(&src->sf, line, &len) : NULL;
	if (s) {
		putchar(' ');
		print_source(s, len);
	} else if (!line) {
		printf(" (line unknown)");
	}
	printf("%s\n", *h ? RESET : "");
}

static const char *short_name(const struct lines_show *s, const char *name, char *buf, size_t len)
{
	return s->full_names ? name : cxxname_short(name, buf, len);
}

/* The notes under line `line` of f: the code inlined there, its lines
 * with their figures and source. */
static void print_inlined(const struct text *t, const struct lines_func *f, uint32_t line)
{
	const struct lines *l = t->l;
	const struct lines_show *sh = t->s;
	uint32_t callee = FA_NONE;
	for (size_t k = 0; k < f->ninl; k++) {
		const struct agg_row *r = f->inl[k];
		if (r->call_line != line)
			continue;
		const struct lines_src *src = NULL;
		for (size_t i = 0; r->file && i < l->nsrcs && !src; i++)
			if (!strcmp(l->srcs[i].sf.recorded, r->file))
				src = &l->srcs[i];
		if (r->func != callee) {
			char nb[512];
			callee = r->func;
			printf("%s%*s  %6s + inlined %s (%s)%s\n", sh->color ? DIM : "", t->width, "", "",
			       short_name(sh, r->name, nb, sizeof(nb)),
			       r->file ? cmd_base_name(r->file) : "no file", sh->color ? RESET : "");
		}
		print_row(t, r, r->line, '+', src);
	}
}

static bool has_inlined(const struct lines_func *f, uint32_t line)
{
	for (size_t k = 0; k < f->ninl; k++)
		if (f->inl[k]->call_line == line)
			return true;
	return false;
}

/* Why function f has no lines, in words that say what to do. */
static void no_lines_why(const struct lines *l, const struct lines_show *s, const struct lines_func *f,
			 char *buf, size_t len)
{
	const struct fa_func *fn = &l->p->funcs[f->func];
	const struct fa_module *m = fn->module < l->p->nmodules ? &l->p->modules[fn->module] : NULL;
	if (s->no_symbols)
		snprintf(buf, len, "no line information: --no-symbols skips debug information");
	else if (m && m->symbols_problem)
		snprintf(buf, len, "no line information: %s %s", m->name, m->symbols_problem);
	else if (m)
		snprintf(buf, len,
			 "no line information: %s has no debug information; build it with -g, or give "
			 "--debug-dir DIR with its separate debug files (a distribution's -dbg or -dbgsym "
			 "package installs them under /usr/lib/debug)",
			 m->name);
	else
		snprintf(buf, len, "no line information: the address lies outside every module");
}

/* Shows the lines of f within ctx of line ln. */
static void mark(bool *show, const struct lines_func *f, uint32_t ln, uint64_t ctx)
{
	uint64_t lo = ln > ctx ? ln - ctx : 0, hi = (uint64_t)ln + ctx;
	if (lo < f->first)
		lo = f->first;
	if (hi > f->last)
		hi = f->last;
	for (uint64_t x = lo; x <= hi; x++)
		show[x - f->first] = true;
}

static void print_func(struct text *t, const struct lines_func *f)
{
	const struct lines *l = t->l;
	const struct lines_show *sh = t->s;
	const struct fa_func *fn = &l->p->funcs[f->func];
	const struct agg_row *r = f->row;
	char nb[512], a[32], b[32], c3[32], d[32];
	printf("\n%s%s%s", sh->color ? BOLD : "", short_name(sh, r->name, nb, sizeof(nb)),
	       sh->color ? RESET : "");
	if (fn->file)
		printf("  %s%s%.0d", fn->file, fn->decl_line > 0 ? ":" : "",
		       fn->decl_line > 0 ? fn->decl_line : 0);
	printf("  (%s)\n", r->module);
	bool cpu = r->total[FA_CPU] > 0;
	if (cpu)
		printf("  CPU: self %.1f%% (%s), total %.1f%% (%s)",
		       pct(r->self[FA_CPU], l->fr.total[FA_CPU]), fmt_duration(a, (uint64_t)r->self_ns),
		       pct(r->total[FA_CPU], l->fr.total[FA_CPU]), fmt_duration(b, (uint64_t)r->total_ns));
	if ((l->metrics & AGG_MEMORY) && r->total[FA_ALLOC_CALLS])
		printf("%s allocations: %s calls, %s, %s at the peak, %s leaked (its lines and what they "
		       "called)",
		       cpu ? ";" : " ", fmt_count(a, r->total[FA_ALLOC_CALLS]),
		       fmt_bytes(b, r->total[FA_ALLOC_BYTES]), fmt_bytes(c3, r->total[FA_PEAK_BYTES]),
		       fmt_bytes(d, r->total[FA_LEAKED_BYTES]));
	printf("\n");
	for (size_t k = 0; k < f->nsites; k++) {
		/* It is inlined: where, and how much of its self time each call site holds. */
		const struct agg_row *s = f->sites[k];
		if (k && s->caller == f->sites[k - 1]->caller && s->call_line == f->sites[k - 1]->call_line)
			continue;
		int64_t self = 0;
		for (size_t j = k; j < f->nsites; j++)
			if (f->sites[j]->caller == s->caller && f->sites[j]->call_line == s->call_line)
				self += f->sites[j]->self[FA_CPU];
		const struct fa_func *cf = &l->p->funcs[s->caller];
		printf("  inlined into %s at %s:%" PRIu32 " (self %.1f%% there)\n",
		       short_name(sh, cf->name, nb, sizeof(nb)), cf->file ? cmd_base_name(cf->file) : "?",
		       s->call_line, pct(self, l->fr.total[FA_CPU]));
	}
	const struct lines_src *src = f->src != FA_NONE ? &l->srcs[f->src] : NULL;
	if (!fn->file) {
		no_lines_why(l, sh, f, nb, sizeof(nb));
		printf("  %s\n", nb);
		return;
	}
	if (src && src->rc)
		printf("  source not found: %s; figures by line number alone\n",
		       src->sf.looked ? src->sf.looked : "cannot read it");
	else if (src && src->changed)
		printf("  warning: %s\n", src->changed);
	/* The column heads. */
	printf("%s", sh->color ? DIM : "");
	for (int c = 0; c < NCOLS; c++)
		if (t->cols[c])
			printf(" %*s", col_width[c], col_head[c]);
	printf("  %6s%s%s\n", "line", src && !src->rc ? "   source" : "", sh->color ? RESET : "");
	size_t k = 0;
	while (k < f->nlines && !f->lines[k]->line)
		print_row(t, f->lines[k++], 0, ' ', NULL);
	/* Without the source (or with a span no function has: debug
	 * information gone wrong), the lines with figures alone. */
	if ((src && src->rc) || f->last - f->first > MAX_SPAN) {
		for (; k < f->nlines; k++) {
			print_row(t, f->lines[k], f->lines[k]->line,
				  f->lines[k]->line == f->target ? '>' : ' ', NULL);
			print_inlined(t, f, f->lines[k]->line);
		}
		return;
	}
	/* Which lines to show: near a line with figures (or the one asked
	 * for), the first and the last; a gap of fewer than 3 lines is shown
	 * rather than elided. */
	size_t n = f->last >= f->first ? (size_t)(f->last - f->first) + 1 : 0;
	bool *show = calloc(n ? n : 1, sizeof(*show));
	if (!show)
		return;
	for (size_t i = k; i < f->nlines; i++)
		mark(show, f, f->lines[i]->line, (uint64_t)sh->context);
	if (f->target)
		mark(show, f, f->target, (uint64_t)sh->context);
	if (n)
		show[0] = show[n - 1] = true;
	for (size_t i = 0; i < n;) {
		if (show[i]) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && !show[j])
			j++;
		if (j - i < 3)
			for (size_t x = i; x < j; x++)
				show[x] = true;
		i = j;
	}
	for (size_t i = 0; i < n;) {
		uint32_t ln = f->first + (uint32_t)i;
		if (!show[i]) {
			size_t j = i;
			while (j < n && !show[j])
				j++;
			printf("%s%*s  %6s   ... (%zu lines)%s\n", sh->color ? DIM : "", t->width, "", "",
			       j - i, sh->color ? RESET : "");
			i = j;
			continue;
		}
		while (k < f->nlines && f->lines[k]->line < ln)
			k++;
		const struct agg_row *x = k < f->nlines && f->lines[k]->line == ln ? f->lines[k] : NULL;
		print_row(t, x, ln, ln == f->target ? '>' : ' ', src);
		if (x && has_inlined(f, ln))
			print_inlined(t, f, ln);
		i++;
	}
	free(show);
}

void lines_print_text(const struct lines *l, const struct lines_show *s)
{
	const struct profile *p = l->p;
	struct text t = {.l = l, .s = s};
	for (size_t i = 0; i < l->nfuncs; i++) {
		for (size_t k = 0; k < l->funcs[i].nlines; k++)
			note_cols(&t, l->funcs[i].lines[k]);
		for (size_t k = 0; k < l->funcs[i].ninl; k++)
			note_cols(&t, l->funcs[i].inl[k]);
	}
	for (int c = 0; c < NCOLS; c++)
		if (t.cols[c])
			t.width += 1 + col_width[c];
	char a[32], b[32], d[32];
	uint64_t samples = 0;
	for (size_t i = 0; i < p->nprocs; i++)
		samples += p->procs[i].samples;
	printf("recording %s%s: ", p->procs[0].path, p->nprocs > 1 ? " and more" : "");
	if (l->tid) /* the thread's samples, not the recording's */
		samples = (uint64_t)(l->fr.total_n + 0.5);
	if (l->fr.total[FA_CPU])
		printf("CPU %s in %s samples%s", fmt_duration(a, (uint64_t)l->fr.total_ns),
		       fmt_count(b, (int64_t)samples), l->tid ? " of this thread" : "");
	else
		printf("no CPU samples");
	if (l->metrics & AGG_MEMORY)
		printf("; %s%s allocation calls, %s", p->mem.sampled ? "~" : "",
		       fmt_count(a, l->fr.total[FA_ALLOC_CALLS]), fmt_bytes(d, l->fr.total[FA_ALLOC_BYTES]));
	if (l->tid)
		printf("\nthread %d only: shares are of its CPU time", l->tid);
	else
		printf("\nshares are of the whole recording");
	if (l->metrics & AGG_MEMORY)
		printf("; memory is what a line allocated, itself or through its calls%s",
		       p->mem.sampled ? " (estimated from a sampled recording)" : "");
	printf("\n");
	for (size_t i = 0; i < l->nfuncs; i++)
		print_func(&t, &l->funcs[i]);
	if (l->more)
		printf("\n... and %zu more function%s (--top 0 shows every one)\n", l->more,
		       l->more == 1 ? "" : "s");
}

/* ---- JSON ---- */

static void json_figures(const struct lines *l, struct json *j, const struct agg_row *r)
{
	json_uint(j, "self_samples", (uint64_t)r->self_n);
	json_int(j, "self_weight", r->self[FA_CPU]);
	json_double(j, "self_ns", r->self_ns);
	json_double(j, "self_percent", pct(r->self[FA_CPU], l->fr.total[FA_CPU]));
	json_uint(j, "total_samples", (uint64_t)r->total_n);
	json_int(j, "total_weight", r->total[FA_CPU]);
	json_double(j, "total_ns", r->total_ns);
	json_double(j, "total_percent", pct(r->total[FA_CPU], l->fr.total[FA_CPU]));
	if (!(l->metrics & AGG_MEMORY))
		return;
	static const struct {
		const char *key;
		int m;
	} mem[] = {{"alloc_calls", FA_ALLOC_CALLS},
		   {"alloc_bytes", FA_ALLOC_BYTES},
		   {"peak_bytes", FA_PEAK_BYTES},
		   {"leaked_bytes", FA_LEAKED_BYTES}};
	char key[64];
	for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
		json_int(j, mem[i].key, r->total[mem[i].m]);
		snprintf(key, sizeof(key), "self_%s", mem[i].key);
		json_int(j, key, r->self[mem[i].m]);
	}
}

static void json_text(struct json *j, const struct lines_src *src, uint32_t line)
{
	size_t len;
	const char *s = src && !src->rc ? source_line(&src->sf, line, &len) : NULL;
	char *copy = s ? strndup(s, len) : NULL;
	json_string(j, "text", copy);
	free(copy);
}

static const struct lines_src *src_named(const struct lines *l, const char *file)
{
	for (size_t i = 0; file && i < l->nsrcs; i++)
		if (!strcmp(l->srcs[i].sf.recorded, file))
			return &l->srcs[i];
	return NULL;
}

static void json_func(const struct lines *l, struct json *j, const struct lines_func *f)
{
	const struct fa_func *fn = &l->p->funcs[f->func];
	const struct lines_src *src = f->src != FA_NONE ? &l->srcs[f->src] : NULL;
	json_object_begin(j, NULL);
	json_string(j, "name", fn->name);
	json_string(j, "module", f->row->module);
	json_uint(j, "line", fn->decl_line > 0 ? (uint64_t)fn->decl_line : 0);
	json_uint(j, "first_line", f->first);
	json_uint(j, "last_line", f->last);
	json_figures(l, j, f->row);
	json_array_begin(j, "inlined_into");
	for (size_t k = 0; k < f->nsites; k++) {
		const struct agg_row *s = f->sites[k];
		json_object_begin(j, NULL);
		json_string(j, "function", l->p->funcs[s->caller].name);
		json_string(j, "file", l->p->funcs[s->caller].file);
		json_uint(j, "call_line", s->call_line);
		json_uint(j, "line", s->line);
		json_figures(l, j, s);
		json_object_end(j);
	}
	json_array_end(j);
	json_array_begin(j, "lines");
	for (size_t k = 0; k < f->nlines; k++) {
		const struct agg_row *r = f->lines[k];
		json_object_begin(j, NULL);
		json_uint(j, "line", r->line);
		json_text(j, src, r->line);
		json_figures(l, j, r);
		json_array_begin(j, "inlined");
		for (size_t i = 0; r->line && i < f->ninl; i++) {
			const struct agg_row *x = f->inl[i];
			if (x->call_line != r->line)
				continue;
			json_object_begin(j, NULL);
			json_string(j, "function", x->name);
			json_string(j, "file", x->file);
			json_uint(j, "line", x->line);
			json_text(j, src_named(l, x->file), x->line);
			json_figures(l, j, x);
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

void lines_print_json(const struct lines *l, const struct lines_show *sh)
{
	const struct profile *p = l->p;
	struct json j;
	json_init(&j, stdout, false);
	json_object_begin(&j, NULL);
	json_processes(&j, "processes", p);
	json_uint(&j, "samples", (uint64_t)l->fr.total_n);
	json_int(&j, "weight", l->fr.total[FA_CPU]);
	json_double(&j, "cpu_ns", l->fr.total_ns);
	json_bool(&j, "memory", (l->metrics & AGG_MEMORY) != 0);
	json_bool(&j, "sampled", p->mem.sampled);
	json_array_begin(&j, "files");
	/* Each file once, its functions in the order they were chosen. */
	for (size_t s = 0; s < l->nsrcs; s++) {
		bool any = false;
		for (size_t i = 0; i < l->nfuncs && !any; i++)
			any = l->funcs[i].src == s;
		if (!any)
			continue;
		const struct lines_src *src = &l->srcs[s];
		json_object_begin(&j, NULL);
		json_string(&j, "file", src->sf.recorded);
		json_string(&j, "path", src->rc ? NULL : src->sf.path);
		json_string(&j, "not_found", src->rc ? src->sf.looked : NULL);
		json_string(&j, "changed", src->changed);
		json_array_begin(&j, "functions");
		for (size_t i = 0; i < l->nfuncs; i++)
			if (l->funcs[i].src == s)
				json_func(l, &j, &l->funcs[i]);
		json_array_end(&j);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "no_lines");
	for (size_t i = 0; i < l->nfuncs; i++) {
		const struct lines_func *f = &l->funcs[i];
		if (f->src != FA_NONE)
			continue;
		char why[512];
		no_lines_why(l, sh, f, why, sizeof(why));
		json_object_begin(&j, NULL);
		json_string(&j, "name", f->row->name);
		json_string(&j, "module", f->row->module);
		json_string(&j, "why", why);
		json_figures(l, &j, f->row);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_uint(&j, "more", l->more);
	json_array_begin(&j, "warnings");
	json_profile_warnings(&j, p);
	for (size_t i = 0; i < l->nwarnings; i++)
		json_string(&j, NULL, l->warnings[i]);
	json_array_end(&j);
	json_object_end(&j);
	fputc('\n', stdout);
}
