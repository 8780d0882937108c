/* Matching the functions of two recordings for `fathom diff`: by name,
 * module and source path, the paths rewritten by --prefix-map or by the
 * prefix found to differ between two checkouts. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare-int.h"

/* Functions in the order of their name, source path and module, the path
 * given apart: as recorded, or as rewritten for matching. */
static int key_cmp(const struct compare_func *a, const char *afile, const struct compare_func *b,
		   const char *bfile)
{
	int c = strcmp(a->name, b->name);
	if (c)
		return c;
	c = strcmp(afile ? afile : "", bfile ? bfile : "");
	if (c)
		return c;
	return strcmp(a->module ? a->module : "", b->module ? b->module : "");
}

int compare_func_cmp(const struct compare_func *a, const struct compare_func *b)
{
	return key_cmp(a, a->file, b, b->file);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int by_basename(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	int c = strcmp(base_name(x), base_name(y));
	return c ? c : strcmp(x, y);
}

/* The distinct source files of s, sorted by cmp; NULL when out of memory. */
static const char **distinct_files(const struct compare_summary *s, size_t *n,
				   int (*cmp)(const void *, const void *))
{
	const char **v = malloc((s->nfuncs + 1) * sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; v && i < s->nfuncs; i++)
		if (s->funcs[i].file)
			v[k++] = s->funcs[i].file;
	if (!v)
		return NULL;
	qsort(v, k, sizeof(*v), cmp);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (!u || strcmp(v[u - 1], v[i]))
			v[u++] = v[i];
	*n = u;
	return v;
}

struct vote {
	char *from, *to;
	size_t n;
};

/* Where the paths f (base) and g (new), which end alike, differ: the
 * directories before their common tail of whole path components. */
static int vote(struct vote **votes, size_t *nvotes, const char *f, const char *g)
{
	size_t lf = strlen(f), i = lf, j = strlen(g);
	while (i && j && f[i - 1] == g[j - 1])
		i--, j--;
	while (i < lf && (i == 0 || f[i - 1] != '/'))
		i++, j++;
	if (i == 0 || j == 0 || i == lf)
		return 0;
	for (size_t k = 0; k < *nvotes; k++)
		if (strlen((*votes)[k].from) == i && strlen((*votes)[k].to) == j &&
		    !strncmp((*votes)[k].from, f, i) && !strncmp((*votes)[k].to, g, j)) {
			(*votes)[k].n++;
			return 0;
		}
	void *nv = realloc(*votes, (*nvotes + 1) * sizeof(**votes));
	if (!nv)
		return -ENOMEM;
	*votes = nv;
	struct vote *v = &(*votes)[(*nvotes)++];
	v->from = strndup(f, i);
	v->to = strndup(g, j);
	v->n = 1;
	return v->from && v->to ? 0 : -ENOMEM;
}

/* The prefix the base's source paths have where the new recording's have
 * another: every base file the new recording lacks votes for how it differs
 * from the new files of the same name, and the most common answer wins. */
static int detect_prefix(const struct compare_summary *base, const struct compare_summary *cur,
			 struct compare_match *mt)
{
	size_t nb = 0, nn = 0, nvotes = 0;
	const char **bf = distinct_files(base, &nb, by_str);
	const char **nf = distinct_files(cur, &nn, by_str);
	const char **nbase = distinct_files(cur, &nn, by_basename);
	struct vote *votes = NULL;
	int ret = -ENOMEM;
	if (!bf || !nf || !nbase)
		goto out;
	for (size_t i = 0; i < nb; i++) {
		if (bsearch(&bf[i], nf, nn, sizeof(*nf), by_str))
			continue;
		const char *name = base_name(bf[i]);
		size_t lo = 0, hi = nn;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (strcmp(base_name(nbase[mid]), name) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (size_t k = lo; k < nn && !strcmp(base_name(nbase[k]), name); k++)
			if (vote(&votes, &nvotes, bf[i], nbase[k]) < 0)
				goto out;
	}
	size_t best = nvotes;
	for (size_t k = 0; k < nvotes; k++)
		if (best == nvotes || votes[k].n > votes[best].n)
			best = k;
	if (best < nvotes) {
		mt->from = votes[best].from;
		mt->to = votes[best].to;
		votes[best].from = votes[best].to = NULL;
	}
	ret = 0;
out:
	for (size_t k = 0; k < nvotes; k++) {
		free(votes[k].from);
		free(votes[k].to);
	}
	free(votes);
	free(bf);
	free(nf);
	free(nbase);
	return ret;
}

/* path with its prefix `from` replaced by `to` when it starts with it; a copy. */
static char *remap(const char *path, const char *from, size_t from_len, const char *to)
{
	char *out;
	if (!path)
		return NULL;
	if (from && !strncmp(path, from, from_len)) {
		if (asprintf(&out, "%s%s", to, path + from_len) < 0)
			return NULL;
		return out;
	}
	return strdup(path);
}

/* path rewritten by the --prefix-map whose OLD is the longest prefix of it. */
static char *remap_explicit(const char *path, const struct compare_opts *o)
{
	const char *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; path && i < o->nprefix_maps; i++) {
		const char *eq = strchr(o->prefix_maps[i], '=');
		size_t len = eq ? (size_t)(eq - o->prefix_maps[i]) : 0;
		if (eq && len >= best_len && !strncmp(path, o->prefix_maps[i], len)) {
			best = o->prefix_maps[i];
			best_len = len;
		}
	}
	return remap(path, best, best_len, best ? best + best_len + 1 : NULL);
}

void compare_match_free(struct compare_match *mt, size_t nb, size_t nn)
{
	for (size_t i = 0; mt->bkey && i < nb; i++)
		free(mt->bkey[i]);
	for (size_t i = 0; mt->nkey && i < nn; i++)
		free(mt->nkey[i]);
	free(mt->bkey);
	free(mt->nkey);
	free(mt->from);
	free(mt->to);
	memset(mt, 0, sizeof(*mt));
}

int compare_match_init(struct compare_match *mt, const struct compare_summary *base,
		       const struct compare_summary *cur, const struct compare_opts *o)
{
	memset(mt, 0, sizeof(*mt));
	mt->bkey = calloc(base->nfuncs + 1, sizeof(*mt->bkey));
	mt->nkey = calloc(cur->nfuncs + 1, sizeof(*mt->nkey));
	if (!mt->bkey || !mt->nkey || (!o->nprefix_maps && detect_prefix(base, cur, mt) < 0))
		goto nomem;
	for (int side = 0; side < 2; side++) {
		const struct compare_summary *s = side ? cur : base;
		char **key = side ? mt->nkey : mt->bkey;
		for (size_t i = 0; i < s->nfuncs; i++) {
			const char *f = s->funcs[i].file;
			if (o->nprefix_maps)
				key[i] = remap_explicit(f, o);
			else
				key[i] =
				    remap(f, side ? NULL : mt->from, mt->from ? strlen(mt->from) : 0, mt->to);
			if (f && !key[i])
				goto nomem;
		}
	}
	return 0;
nomem:
	compare_match_free(mt, base->nfuncs, cur->nfuncs);
	return -ENOMEM;
}

struct keyed {
	const struct compare_func *f;
	const char *file;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	return key_cmp(x->f, x->file, y->f, y->file);
}

/* The functions of both recordings paired by key, each once; *npairs of them,
 * or NULL when out of memory. */
struct compare_pair *compare_match_funcs(const struct compare_summary *base,
					 const struct compare_summary *cur, const struct compare_match *mt,
					 size_t *npairs)
{
	struct keyed *a = malloc((base->nfuncs + 1) * sizeof(*a));
	struct keyed *b = malloc((cur->nfuncs + 1) * sizeof(*b));
	struct compare_pair *out = calloc(base->nfuncs + cur->nfuncs + 1, sizeof(*out));
	if (!a || !b || !out) {
		free(a);
		free(b);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < base->nfuncs; i++)
		a[i] = (struct keyed){&base->funcs[i], mt->bkey[i]};
	for (size_t i = 0; i < cur->nfuncs; i++)
		b[i] = (struct keyed){&cur->funcs[i], mt->nkey[i]};
	qsort(a, base->nfuncs, sizeof(*a), cmp_keyed);
	qsort(b, cur->nfuncs, sizeof(*b), cmp_keyed);
	size_t i = 0, j = 0, n = 0;
	while (i < base->nfuncs || j < cur->nfuncs) {
		int c = i == base->nfuncs ? 1 : j == cur->nfuncs ? -1 : cmp_keyed(&a[i], &b[j]);
		out[n].b = c <= 0 ? a[i++].f : NULL;
		out[n].n = c >= 0 ? b[j++].f : NULL;
		n++;
	}
	free(a);
	free(b);
	*npairs = n;
	return out;
}
