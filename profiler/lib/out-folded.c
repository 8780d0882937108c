/* The frame tree that flame graphs are drawn from (stacks merged by function
 * name along the path), and its text form: folded stacks for flamegraph.pl. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "outputs.h"
#include "util.h"

bool out_has_metric(const struct profile *p, int metric)
{
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i].w[metric] > 0)
			return true;
	return false;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static uint64_t hash_pair(uint32_t a, uint32_t b)
{
	uint64_t h = ((uint64_t)a << 32 | b) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

static int grow_names(struct flame_tree *t)
{
	size_t cap = (t->name_mask + 1) * 2;
	uint32_t *h = malloc(cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	memset(h, 0xff, cap * sizeof(*h));
	for (size_t i = 0; i < t->nnames; i++) {
		size_t k = hash_str(t->names[i]) & (cap - 1);
		while (h[k] != FA_NONE)
			k = (k + 1) & (cap - 1);
		h[k] = (uint32_t)i;
	}
	free(t->name_hash);
	t->name_hash = h;
	t->name_mask = cap - 1;
	return 0;
}

/* Interns a function name; names from the base profile and this one compare by content. */
static int intern_name(struct flame_tree *t, const char *s, uint32_t *out)
{
	if ((t->nnames + 1) * 2 > t->name_mask + 1 && grow_names(t))
		return -ENOMEM;
	size_t k = hash_str(s) & t->name_mask;
	for (; t->name_hash[k] != FA_NONE; k = (k + 1) & t->name_mask)
		if (!strcmp(t->names[t->name_hash[k]], s)) {
			*out = t->name_hash[k];
			return 0;
		}
	if (t->nnames == t->names_cap) {
		size_t cap = t->names_cap ? t->names_cap * 2 : 256;
		const char **n = realloc(t->names, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->names = n;
		t->names_cap = cap;
	}
	t->names[t->nnames] = s;
	t->name_hash[k] = (uint32_t)t->nnames;
	*out = (uint32_t)t->nnames++;
	return 0;
}

static int grow_children(struct flame_tree *t)
{
	size_t cap = (t->child_mask + 1) * 2;
	uint32_t *h = malloc(cap * sizeof(*h));
	if (!h)
		return -ENOMEM;
	memset(h, 0xff, cap * sizeof(*h));
	for (size_t i = 1; i < t->nnodes; i++) {
		size_t k = hash_pair(t->nodes[i].parent, t->nodes[i].name) & (cap - 1);
		while (h[k] != FA_NONE)
			k = (k + 1) & (cap - 1);
		h[k] = (uint32_t)i;
	}
	free(t->child_hash);
	t->child_hash = h;
	t->child_mask = cap - 1;
	return 0;
}

/* The child of parent named name, created when missing. */
static int child_of(struct flame_tree *t, uint32_t parent, uint32_t name, uint32_t *out)
{
	if ((t->nnodes + 1) * 2 > t->child_mask + 1 && grow_children(t))
		return -ENOMEM;
	size_t k = hash_pair(parent, name) & t->child_mask;
	for (; t->child_hash[k] != FA_NONE; k = (k + 1) & t->child_mask) {
		struct flame_node *n = &t->nodes[t->child_hash[k]];
		if (n->parent == parent && n->name == name) {
			*out = t->child_hash[k];
			return 0;
		}
	}
	if (t->nnodes == t->cap) {
		size_t cap = t->cap * 2;
		struct flame_node *n = realloc(t->nodes, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->nodes = n;
		t->cap = cap;
	}
	uint32_t id = (uint32_t)t->nnodes++;
	struct flame_node *n = &t->nodes[id];
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->parent = parent;
	n->next = t->nodes[parent].child;
	t->nodes[parent].child = id;
	n->child = FA_NONE;
	n->depth = t->nodes[parent].depth + 1;
	n->func = FA_NONE;
	t->child_hash[k] = id;
	t->sorted = false;
	*out = id;
	return 0;
}

static int tree_init(struct flame_tree *t)
{
	memset(t, 0, sizeof(*t));
	t->cap = 1024;
	t->nodes = malloc(t->cap * sizeof(*t->nodes));
	t->child_mask = 2047;
	t->child_hash = malloc((t->child_mask + 1) * sizeof(uint32_t));
	t->name_mask = 255;
	t->name_hash = malloc((t->name_mask + 1) * sizeof(uint32_t));
	if (!t->nodes || !t->child_hash || !t->name_hash)
		return -ENOMEM;
	memset(t->child_hash, 0xff, (t->child_mask + 1) * sizeof(uint32_t));
	memset(t->name_hash, 0xff, (t->name_mask + 1) * sizeof(uint32_t));
	uint32_t root_name;
	if (intern_name(t, "all", &root_name))
		return -ENOMEM;
	struct flame_node *r = &t->nodes[0];
	memset(r, 0, sizeof(*r));
	r->name = root_name;
	r->parent = r->child = r->next = r->func = FA_NONE;
	t->nnodes = 1;
	return 0;
}

static const char *func_name(const struct profile *p, uint32_t f)
{
	const char *s = f < p->nfuncs ? p->funcs[f].name : NULL;
	return s && *s ? s : "[unknown]";
}

/* Adds one stack of p with weight w to the tree (base: to the base weights). */
static int add_stack(struct flame_tree *t, const struct profile *p, uint32_t **fname,
		     const struct fa_stack *s, int64_t w, bool base)
{
	uint32_t node = 0;
	for (uint32_t d = s->depth; d-- > 0;) {
		uint32_t li = s->locs[d];
		if (li >= p->nlocs)
			continue;
		const struct fa_loc *l = &p->locs[li];
		/* The real function (last) is the caller of the inlined ones before it. */
		for (uint32_t k = l->nframes; k-- > 0;) {
			if (l->frame_first + k >= p->nframes)
				continue;
			const struct fa_frame *fr = &p->frames[l->frame_first + k];
			uint32_t name;
			if (fr->func < p->nfuncs && (*fname)[fr->func] != FA_NONE) {
				name = (*fname)[fr->func];
			} else {
				if (intern_name(t, func_name(p, fr->func), &name))
					return -ENOMEM;
				if (fr->func < p->nfuncs)
					(*fname)[fr->func] = name;
			}
			if (child_of(t, node, name, &node))
				return -ENOMEM;
			struct flame_node *n = &t->nodes[node];
			if (base) {
				n->base_total += w;
			} else {
				n->total += w;
				if (n->func == FA_NONE || w > n->line_w) {
					n->func = fr->func;
					n->line = fr->line;
					n->line_w = w;
				}
			}
		}
	}
	if (base) {
		t->nodes[node].base_self += w;
		t->nodes[0].base_total += w;
		t->base_total += w;
	} else {
		t->nodes[node].self += w;
		t->nodes[0].total += w;
		t->total += w;
	}
	return 0;
}

static int add_profile(struct flame_tree *t, const struct profile *p, const struct out_opts *o, bool base)
{
	uint32_t *fname = malloc((p->nfuncs ? p->nfuncs : 1) * sizeof(*fname));
	if (!fname)
		return -ENOMEM;
	memset(fname, 0xff, (p->nfuncs ? p->nfuncs : 1) * sizeof(*fname));
	int rc = 0;
	if (o->tid) {
		/* Only CPU weight is known per thread. */
		for (size_t i = 0; i < p->ntstacks && !rc; i++) {
			const struct fa_thread_stack *ts = &p->tstacks[i];
			if (ts->thread >= p->nthreads || p->threads[ts->thread].tid != o->tid ||
			    ts->cpu <= 0 || ts->stack >= p->nstacks)
				continue;
			rc = add_stack(t, p, &fname, &p->stacks[ts->stack], ts->cpu, base);
		}
	} else {
		for (size_t i = 0; i < p->nstacks && !rc; i++) {
			int64_t w = p->stacks[i].w[o->metric];
			if (w > 0)
				rc = add_stack(t, p, &fname, &p->stacks[i], w, base);
		}
	}
	free(fname);
	return rc;
}

int flame_build(struct flame_tree *t, const struct profile *p, const struct out_opts *o)
{
	int rc = tree_init(t);
	if (!rc)
		rc = add_profile(t, p, o, false);
	if (rc)
		flame_free(t);
	return rc;
}

int flame_add_base(struct flame_tree *t, const struct profile *base, const struct out_opts *o)
{
	return add_profile(t, base, o, true);
}

static const struct flame_tree *sort_tree;

static int by_name(const void *a, const void *b)
{
	const struct flame_node *na = &sort_tree->nodes[*(const uint32_t *)a];
	const struct flame_node *nb = &sort_tree->nodes[*(const uint32_t *)b];
	return strcmp(sort_tree->names[na->name], sort_tree->names[nb->name]);
}

void flame_sort(struct flame_tree *t)
{
	if (t->sorted)
		return;
	uint32_t *kids = NULL;
	size_t cap = 0;
	sort_tree = t;
	for (size_t i = 0; i < t->nnodes; i++) {
		size_t n = 0;
		for (uint32_t c = t->nodes[i].child; c != FA_NONE; c = t->nodes[c].next) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				uint32_t *k = realloc(kids, cap * sizeof(*k));
				if (!k) {
					free(kids);
					return; /* unsorted output is still correct output */
				}
				kids = k;
			}
			kids[n++] = c;
		}
		if (n < 2)
			continue;
		qsort(kids, n, sizeof(*kids), by_name);
		t->nodes[i].child = kids[0];
		for (size_t j = 0; j + 1 < n; j++)
			t->nodes[kids[j]].next = kids[j + 1];
		t->nodes[kids[n - 1]].next = FA_NONE;
	}
	free(kids);
	t->sorted = true;
}

void flame_free(struct flame_tree *t)
{
	free(t->nodes);
	free(t->names);
	free(t->child_hash);
	free(t->name_hash);
	memset(t, 0, sizeof(*t));
}

int folded_write(FILE *f, const struct profile *p, const struct profile *base, const struct out_opts *o)
{
	struct flame_tree t;
	int rc = flame_build(&t, p, o);
	if (rc)
		return rc;
	if (base && (rc = flame_add_base(&t, base, o))) {
		flame_free(&t);
		return rc;
	}
	if (t.total <= 0) {
		flame_free(&t);
		return -ENODATA;
	}
	flame_sort(&t);
	/* Depth-first, children in name order, so lines come out sorted by path. */
	uint32_t *path = malloc((t.nnodes + 1) * sizeof(*path));
	if (!path) {
		flame_free(&t);
		return -ENOMEM;
	}
	size_t depth = 0;
	uint32_t n = t.nodes[0].child;
	while (n != FA_NONE) {
		path[depth++] = n;
		const struct flame_node *fn = &t.nodes[n];
		if (fn->self > 0 || (base && fn->base_self > 0)) {
			for (size_t i = 0; i < depth; i++) {
				if (i)
					putc(';', f);
				folded_write_escaped(f, t.names[t.nodes[path[i]].name]);
			}
			if (base)
				fprintf(f, " %" PRId64 " %" PRId64 "\n", fn->base_self, fn->self);
			else
				fprintf(f, " %" PRId64 "\n", fn->self);
		}
		if (fn->child != FA_NONE) {
			n = fn->child;
			continue;
		}
		/* Climb until a node has a next sibling. */
		while (depth > 0 && t.nodes[path[depth - 1]].next == FA_NONE)
			depth--;
		if (depth == 0)
			break;
		n = t.nodes[path[--depth]].next;
	}
	free(path);
	flame_free(&t);
	return out_flush(f);
}
