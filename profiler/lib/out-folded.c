/* Folded stacks for flamegraph.pl: the frame tree (aggregate.h) as text. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "outputs.h"
#include "util.h"

int out_flame_tree(struct flame_tree *t, const struct profile *p, const struct profile *base,
		   const struct out_opts *o)
{
	const struct agg_filter f = {
	    .tid = o->tid, .timed = o->timed, .from_ns = o->from_ns, .to_ns = o->to_ns};
	int rc = flame_build(t, p, o->metric, &f);
	if (rc)
		return rc;
	if (base && (rc = flame_add_base(t, base, o->metric, &f))) {
		flame_free(t);
		return rc;
	}
	if (t->total <= 0) {
		flame_free(t);
		return -ENODATA;
	}
	flame_sort(t);
	return 0;
}

int folded_write(FILE *f, const struct profile *p, const struct profile *base, const struct out_opts *o)
{
	struct flame_tree t;
	int rc = out_flame_tree(&t, p, base, o);
	if (rc)
		return rc;
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
