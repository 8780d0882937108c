/* Folded stacks for flamegraph.pl: the frame tree (aggregate.h) as text. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "outputs.h"
#include "util.h"

/* A frame name as flamegraph.pl can split it: no ';', no line breaks; and
 * well-formed UTF-8, as the tools that read folded stacks expect. */
static void put_folded_name(FILE *f, const char *s)
{
	char buf[4];
	while (*s) {
		uint32_t c = utf8_decode(&s);
		if (c == ';')
			c = ':';
		else if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		fwrite(buf, 1, utf8_encode(buf, c), f);
	}
}

int folded_write(FILE *f, const struct profile *p, const struct profile *base, const struct out_opts *o)
{
	struct flame_tree t;
	int rc = flame_build(&t, p, o->metric, &(struct agg_filter){ .tid = o->tid });
	if (rc)
		return rc;
	if (base && (rc = flame_add_base(&t, base, o->metric, &(struct agg_filter){ .tid = o->tid }))) {
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
				put_folded_name(f, t.names[t.nodes[path[i]].name]);
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
