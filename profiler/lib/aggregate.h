/* The one aggregation of a profile that every command reads: per-stack
 * weights under a thread or process filter, self and total per row for any
 * key (function, file, line, module, frame) and metric, and the call tree. */
#ifndef FATHOM_AGGREGATE_H
#define FATHOM_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "site.h"

/* Which stacks count. Only CPU weight and waiting time are known per
 * thread: with a tid, every memory weight is 0. Only CPU samples are known
 * in time: with a time range, only the samples in it count, and every
 * other weight is 0 (fathom mem --from/--to takes the heap at the range's
 * ends from marks instead). */
struct agg_filter {
	int tid; /* 0: every thread; otherwise threads of this id */
	int pid; /* 0: every process; otherwise processes of this id */
	/* The range [from_ns, to_ns) in ns since each process's start; needs a
	 * profile loaded with profile_opts.keep_times. */
	bool timed;
	uint64_t from_ns, to_ns;
};

/* Whether a CPU sample at time t (ns since its process's start) is in f's
 * range (always, without one). */
static inline bool agg_in_range(const struct agg_filter *f, uint64_t t)
{
	return !f || !f->timed || (t >= f->from_ns && t < f->to_ns);
}

/* What the weight of stack s is under f: w[s] for the metric (and, when n
 * is not NULL, n[s] for the CPU samples: delivered signals, what a
 * statistical test counts). Both arrays hold p->nstacks entries. Without a
 * per-thread table (a hand-built profile) the samples are estimated from the
 * weights. Returns 0, -ENOMEM, or -EINVAL for a time range on a profile
 * loaded without keep_times. */
int agg_stack_weights(const struct profile *p, const struct agg_filter *f, int metric, int64_t *w, double *n);

/* Whether any stack of p has weight in metric. */
bool agg_has_metric(const struct profile *p, int metric);

/* What a row of a table is. A function is (name, file, module name), as the
 * model interns it; a file row without a file is "[module]"; a line row is
 * "file:line", or the function's name when it has no file; a frame is a
 * function at one line (what fathom mem calls a site); an inlined frame is
 * a function at one line inlined at one call site (function and line, the
 * function it was inlined into and the line of the call: fathom lines'
 * notes under the line where code was inlined), and frames that were not
 * inlined make no row of it. */
enum agg_key { AGG_FUNCTION, AGG_FILE, AGG_LINE, AGG_MODULE, AGG_FRAME, AGG_INLINED };

/* What every table means by its figures, whatever the key:
 * - a stack's CPU self weight (and samples) belongs to its innermost frame;
 *   its memory self weights to its allocation's site (site.h, by `rule`):
 *   the code that asked for the memory, not operator new; its waiting time
 *   (FA_WAIT) to the program's call that waited (SITE_WAIT), not the futex
 *   under pthread_mutex_lock;
 * - a stack counts once in a row's total, however many of its frames the
 *   row holds (recursion, inlining, two lines of one file);
 * - inlined functions are frames of their own (their caller's frame is the
 *   next one); frames whose function is unknown to the model are skipped. */
struct agg_opts {
	enum agg_key key;
	/* Bit (1u << m) per enum fa_metric to add up; a stack without weight
	 * in any of them is left out (it makes no row). */
	uint32_t metrics;
	enum site_rule rule;
	/* The metric by which each row keeps its heaviest stack (stack,
	 * stack_w); -1: none. */
	int heavy;
	/* A stack without frames is a row of its own (func FA_NONE,
	 * "[no stack]"); otherwise it adds to the table's totals only. */
	bool no_stack_row;
	/* Rows only for the frames that hold self weight, totals left at 0
	 * (fathom mem's sites: cheaper, and no row without self weight). */
	bool self_only;
	struct agg_filter filter;
};

#define AGG_METRIC(m) (1u << (m))
#define AGG_MEMORY                                                                                           \
	(AGG_METRIC(FA_ALLOC_CALLS) | AGG_METRIC(FA_ALLOC_BYTES) | AGG_METRIC(FA_TEMP_CALLS) |               \
	 AGG_METRIC(FA_LEAKED_BYTES) | AGG_METRIC(FA_LEAKED_BLOCKS) | AGG_METRIC(FA_PEAK_BYTES))

struct agg_row {
	/* FUNCTION and FRAME: the function; other keys: the function of the
	 * frame that first made the row (FA_NONE: the "[no stack]" row). */
	uint32_t func;
	uint32_t line;	    /* FRAME, INLINED: its line; FUNCTION: the declaration line; else 0 */
	uint32_t caller;    /* INLINED: the function it was inlined into; else FA_NONE */
	uint32_t call_line; /* INLINED: the line of that function where it was inlined; else 0 */
	const char *name;   /* what the row shows: function, file, "file:line", module */
	const char *file;   /* FUNCTION, FRAME: the function's source file, or NULL */
	const char *module; /* the module's name, "[unknown]" when none */
	int64_t self[FA_NMETRICS], total[FA_NMETRICS];
	double self_n, total_n;	  /* CPU samples */
	double self_ns, total_ns; /* CPU weight in ns, each stack at its process's rate */
	/* Per metric: the line of the self frame of the heaviest stack (by
	 * that metric) whose self frame has a line; 0 when none has. */
	uint32_t self_line[FA_NMETRICS];
	int64_t self_line_w[FA_NMETRICS];
	uint32_t stack;	 /* by opts.heavy: the heaviest stack with self weight here */
	int64_t stack_w; /* its weight, -1 when no stack gave self weight */
	/* internal */
	char *key;
	uint32_t stamp;
};

struct agg_table {
	struct agg_row *rows; /* in the order the stacks first reached them */
	size_t nrows;
	int64_t total[FA_NMETRICS]; /* over the stacks that count */
	double total_n, total_ns;
	/* Per stack: the row that holds its CPU self weight (innermost frame),
	 * FA_NONE for stacks left out or without frames. */
	uint32_t *leaf;
	/* internal: the row of each function (non-line keys), the hash of keys */
	uint32_t *func_row;
	uint32_t *slots;
	size_t nslots, cap;
};

/* Builds the table of p. Returns 0 or -ENOMEM. */
int agg_table_build(struct agg_table *t, const struct profile *p, const struct agg_opts *o);
void agg_table_free(struct agg_table *t);

/* qsort orders of pointers to rows (const struct agg_row **): by function,
 * then line; by the function they were inlined into and the line of the
 * call, then by function and line (AGG_INLINED rows). */
int agg_row_cmp_line(const void *a, const void *b);
int agg_row_cmp_call_site(const void *a, const void *b);

/* ---- per thread ---- */

#define AGG_THREAD_TOP 3 /* rows kept per thread */

/* A thread's hottest rows of a table: where its CPU samples' innermost
 * frames are (table.leaf), by its CPU weight there. */
struct agg_thread {
	uint32_t thread;	       /* index into profile.threads */
	uint32_t top[AGG_THREAD_TOP];  /* rows of the table, heaviest first; FA_NONE past the last */
	int64_t top_w[AGG_THREAD_TOP]; /* the thread's CPU weight in each (a sample without weight
					* counts 1) */
};

/* The threads of p with samples (of thread id tid only, when not 0),
 * busiest (by CPU weight) first and in thread order among equals, each with
 * its hottest rows of t, a table built from p. *out (to be freed) holds
 * *n entries. Returns 0 or -ENOMEM. */
int agg_threads(const struct agg_table *t, const struct profile *p, int tid, struct agg_thread **out,
		size_t *n);

/* The frames of stack s (innermost first, inlined frames expanded) in a
 * buffer that grows as needed (*buf, *cap: start with NULL, 0; free *buf),
 * their number in *n, and in *site the index of its allocation site among
 * them (0 when there is no frame): the frame that holds its memory self
 * weight, searched over every frame. Returns 0 or -ENOMEM. */
int agg_stack_site(const struct profile *p, const struct fa_stack *s, enum site_rule rule,
		   struct fa_frame **buf, size_t *cap, size_t *n, size_t *site);

/* ---- the call tree ---- */

/* A node: one function along one path from the root. In a tree by name,
 * functions with the same name on the same path are one node; in a tree by
 * function, functions are told apart by file and module too. Inlined frames
 * are nodes of their own. A node's parent has a lower index. */
struct flame_node {
	uint32_t name;	      /* index into flame_tree.names (FA_NONE in a tree by function) */
	uint32_t parent;      /* node index; the root's is FA_NONE */
	uint32_t child, next; /* first child, next sibling (FA_NONE ends) */
	uint32_t depth;	      /* 0 for the root ("all") */
	uint32_t func;	     /* a function of that name seen here (the heaviest path), FA_NONE for the root */
	uint32_t line;	     /* its line on the heaviest path into this node, 0 if unknown */
	int64_t total, self; /* weight of this profile */
	int64_t base_total, base_self; /* weight of the base profile (differential graphs) */
	int64_t line_w;		       /* weight of the stack that set line */
};

/* The tree points into the profiles' strings: free it before them. */
struct flame_tree {
	struct flame_node *nodes; /* nodes[0] is the root */
	size_t nnodes, cap;
	const char **names; /* interned function names (pointers into the profiles) */
	size_t nnames, names_cap;
	int64_t total, base_total;
	bool by_func; /* children keyed by function index, not name */
	/* (parent, key) -> node, and name -> index: open addressing. */
	uint32_t *child_hash;
	size_t child_mask;
	uint32_t *name_hash;
	size_t name_mask;
	bool sorted;
	char **labels; /* the names the tree made itself (Python frames' labels), freed with it */
	size_t nlabels;
};

/* The tree by name of p weighted by metric under f (the paths of stacks with
 * positive weight; the self of a node is the weight of the stacks that end
 * there, its total the weight of those that pass through it). Returns 0 or
 * -ENOMEM; with no weight at all the tree has only its root. */
int flame_build(struct flame_tree *t, const struct profile *p, int metric, const struct agg_filter *f);
/* A Python frame's name in a call tree, made in buf (len bytes):
 * "module.qualname (file.py:LINE)", the file's base name, for a frame of a
 * Python module with a line in the Python view (--python); otherwise NULL
 * (the function's name is the node's). In that view Python frames are nodes
 * by line in trees by name (flame graphs, folded stacks, speedscope), as
 * py-spy draws them. */
const char *flame_python_label(const struct profile *p, const struct fa_frame *fr, char *buf, size_t len);
/* Adds base as the comparison profile of a differential graph. Call once,
 * after flame_build. Returns 0 or -ENOMEM. */
int flame_add_base(struct flame_tree *t, const struct profile *base, int metric, const struct agg_filter *f);
/* The tree by function of every stack of p, weights left at 0, and
 * node_of[s] the node where stack s ends (0, the root, for a stack without
 * known frames): the viewer weighs nodes by every metric from it. */
int flame_build_by_func(struct flame_tree *t, const struct profile *p, uint32_t *node_of);
/* Orders every node's children by name (flame graphs and folded stacks are
 * drawn in that order, so that the output does not depend on input order). */
void flame_sort(struct flame_tree *t);
void flame_free(struct flame_tree *t);

#endif
