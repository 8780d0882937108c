/* Unit tests of the aggregation layer on a profile built here: what every
 * command means by self and total (recursion counted once, inlined frames as
 * rows of their own, memory at the allocation's site), the thread and
 * process filters, and a call tree whose totals are the sums of its selves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aggregate.h"
#include "fixture.h"

/* main -> rec -> rec -> leaf (CPU 10 on thread 100, 5 samples),
 * main -> rec(11) -> rec(12) with inl inlined into it (CPU 4, thread 101),
 * main -> fill -> std::vector<int>::push_back -> operator new (3 calls,
 * 300 bytes, 1 leaked block of 100 bytes), a stack without frames with CPU 1
 * (thread 100), and one without frames with an allocation. */
enum { F_MAIN, F_REC, F_INL, F_NEW, F_PUSH, F_LEAF, F_FILL };

static void make_profile(struct profile *p)
{
	fx_init(p);
	uint32_t pr = fx_process(p, "t.fdump", 7, "/bin/app", NULL);
	p->procs[pr].hz = 100;
	p->procs[pr].samples = 10;
	uint32_t app = fx_module(p, pr, "/bin/app", 0, 0, 0);
	uint32_t cxx = fx_module(p, pr, "/lib/libstdc++.so.6", 0, 0, 0);
	uint32_t t100 = fx_thread(p, pr, 100, NULL), t101 = fx_thread(p, pr, 101, NULL);
	p->threads[t100].cpu = 11;
	p->threads[t100].samples = 6;
	p->threads[t101].cpu = 4;
	p->threads[t101].samples = 4;
	fx_func(p, "main", "app.c", app, 1);
	fx_func(p, "rec", "app.c", app, 10);
	fx_func(p, "inl", "app.h", app, 3);
	fx_func(p, "operator new(unsigned long)", NULL, cxx, 0);
	fx_func(p, "std::vector<int>::push_back", "/usr/include/c++/13/bits/stl_vector.h", app, 0);
	fx_func(p, "leaf", "app.c", app, 20);
	fx_func(p, "fill", "app.c", app, 30);
	fx_frame(p, F_MAIN, 2);
	fx_frame(p, F_REC, 11);
	fx_frame(p, F_INL, 4);	/* inlined into ... */
	fx_frame(p, F_REC, 12); /* ... rec, at line 12 */
	fx_frame(p, F_LEAF, 21);
	fx_frame(p, F_NEW, 0);
	fx_frame(p, F_PUSH, 100);
	fx_frame(p, F_FILL, 31);
	fx_loc(p, 0x1000, app, 0, 1);
	fx_loc(p, 0x1100, app, 1, 1);
	fx_loc(p, 0x1200, app, 2, 2);
	fx_loc(p, 0x1300, app, 4, 1);
	fx_loc(p, 0x9000, cxx, 5, 1);
	fx_loc(p, 0x1500, app, 6, 1);
	fx_loc(p, 0x1600, app, 7, 1);
	static const uint32_t s0[] = {3, 1, 1, 0}, s1[] = {2, 1, 0}, s2[] = {4, 5, 6, 0};
	uint32_t a = fx_stack(p, pr, 4, s0), b = fx_stack(p, pr, 3, s1), c = fx_stack(p, pr, 4, s2);
	uint32_t d = fx_stack(p, pr, 0, NULL), e = fx_stack(p, pr, 0, NULL);
	fx_weight(p, a, FA_CPU, 10);
	fx_weight(p, b, FA_CPU, 4);
	fx_weight(p, c, FA_ALLOC_CALLS, 3);
	fx_weight(p, c, FA_ALLOC_BYTES, 300);
	fx_weight(p, c, FA_LEAKED_BLOCKS, 1);
	fx_weight(p, c, FA_LEAKED_BYTES, 100);
	fx_weight(p, d, FA_CPU, 1);
	fx_weight(p, e, FA_ALLOC_CALLS, 1);
	fx_weight(p, e, FA_ALLOC_BYTES, 8);
	fx_tstack(p, a, t100, 10, 5);
	fx_tstack(p, b, t101, 4, 4);
	fx_tstack(p, d, t100, 1, 1);
}

static const struct agg_row *row(const struct agg_table *t, const char *name)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (!strcmp(t->rows[i].name, name))
			return &t->rows[i];
	return NULL;
}

static struct agg_opts cpu_opts(enum agg_key key)
{
	return (struct agg_opts){.key = key, .metrics = AGG_METRIC(FA_CPU), .heavy = -1};
}

/* A function that calls itself is in a stack's total once; self time is the leaf's. */
static void test_recursion_once(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	struct agg_table t;
	struct agg_opts o = cpu_opts(AGG_FUNCTION);
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(t.total[FA_CPU], 15); /* the stack without frames counts in the total */
	assert_true(t.total_n == 10);
	const struct agg_row *rec = row(&t, "rec"), *leaf = row(&t, "leaf"), *m = row(&t, "main");
	assert_non_null(rec);
	assert_int_equal(rec->total[FA_CPU], 14); /* not 10 + 10 + 4 + 4 */
	assert_true(rec->total_n == 9);
	assert_int_equal(rec->self[FA_CPU], 0);
	assert_int_equal(rec->line, 10); /* a function row shows its declaration */
	assert_int_equal(leaf->self[FA_CPU], 10);
	assert_true(leaf->self_n == 5);
	assert_true(leaf->self_ns == 10 * 1e7); /* 100 Hz: 10 ms a period */
	assert_int_equal(m->total[FA_CPU], 14);
	assert_int_equal(t.leaf[0], (uint32_t)(leaf - t.rows));
	assert_int_equal(t.leaf[3], FA_NONE);
	agg_table_free(&t);

	/* Two lines of one file in one stack: the file's total counts it once. */
	o = cpu_opts(AGG_FILE);
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(row(&t, "app.c")->total[FA_CPU], 14);
	assert_int_equal(row(&t, "app.c")->self[FA_CPU], 10);
	assert_int_equal(row(&t, "app.h")->self[FA_CPU], 4);
	agg_table_free(&t);
	profile_free(&p);
}

/* An inlined function is a frame of its own: it holds the self time of the
 * stacks that end in it, and its caller's line is a line of the caller. */
static void test_inlined(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	struct agg_table t;
	struct agg_opts o = cpu_opts(AGG_FUNCTION);
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	const struct agg_row *inl = row(&t, "inl");
	assert_non_null(inl);
	assert_int_equal(inl->self[FA_CPU], 4);
	assert_int_equal(inl->total[FA_CPU], 4);
	assert_int_equal(inl->self_line[FA_CPU], 4);
	agg_table_free(&t);

	o = cpu_opts(AGG_LINE);
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(row(&t, "app.c:11")->total[FA_CPU], 14); /* twice in stack 0, once */
	assert_int_equal(row(&t, "app.c:12")->total[FA_CPU], 4);
	assert_int_equal(row(&t, "app.h:4")->self[FA_CPU], 4);
	assert_int_equal(row(&t, "app.c:21")->self[FA_CPU], 10);
	agg_table_free(&t);

	/* By inlined frame: inl at line 4, inlined into rec at line 12, is
	 * the one row; frames that were not inlined make none, and their
	 * self weight (leaf's 10) is in no row. */
	o = cpu_opts(AGG_INLINED);
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(t.nrows, 1);
	assert_string_equal(t.rows[0].name, "inl");
	assert_string_equal(t.rows[0].file, "app.h");
	assert_int_equal(t.rows[0].line, 4);
	assert_int_equal(t.rows[0].caller, F_REC);
	assert_int_equal(t.rows[0].call_line, 12);
	assert_int_equal(t.rows[0].self[FA_CPU], 4);
	assert_int_equal(t.rows[0].total[FA_CPU], 4);
	assert_int_equal(t.total[FA_CPU], 15);
	agg_table_free(&t);
	profile_free(&p);
}

/* Only the chosen thread's (or process's) weight counts; memory is not known
 * per thread. */
static void test_filters(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	struct agg_table t;
	struct agg_opts o = cpu_opts(AGG_FUNCTION);
	o.metrics |= AGG_MEMORY;
	o.filter.tid = 101;
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(t.total[FA_CPU], 4);
	assert_int_equal(t.total[FA_ALLOC_CALLS], 0);
	assert_true(t.total_n == 4);
	assert_null(row(&t, "leaf"));
	assert_null(row(&t, "fill"));
	assert_int_equal(row(&t, "rec")->total[FA_CPU], 4);
	agg_table_free(&t);

	o.filter.tid = 100;
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(t.total[FA_CPU], 11);
	assert_int_equal(row(&t, "leaf")->self[FA_CPU], 10);
	agg_table_free(&t);

	o.filter = (struct agg_filter){.pid = 8};
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(t.nrows, 0);
	assert_int_equal(t.total[FA_CPU], 0);
	agg_table_free(&t);
	o.filter.pid = 7;
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(t.total[FA_CPU], 15);
	assert_int_equal(t.total[FA_ALLOC_CALLS], 4);
	agg_table_free(&t);

	int64_t w[5];
	double n[5];
	assert_int_equal(agg_stack_weights(&p, &(struct agg_filter){.tid = 100}, FA_CPU, w, n), 0);
	assert_int_equal(w[0], 10);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[3], 1);
	assert_true(n[0] == 5 && n[1] == 0);
	assert_int_equal(agg_stack_weights(&p, &(struct agg_filter){.tid = 100}, FA_ALLOC_CALLS, w, NULL), 0);
	assert_int_equal(w[2], 0);
	profile_free(&p);
}

/* Per thread: busiest first, each with the rows where its samples' innermost
 * frames are, by its weight there; a tid keeps its threads only. */
static void test_threads(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	struct agg_table t;
	struct agg_opts o = cpu_opts(AGG_FUNCTION);
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	struct agg_thread *v;
	size_t n;
	assert_int_equal(agg_threads(&t, &p, 0, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].thread, 0); /* 11 of CPU before 4 */
	assert_string_equal(t.rows[v[0].top[0]].name, "leaf");
	assert_int_equal(v[0].top_w[0], 10);
	assert_int_equal(v[0].top[1], FA_NONE); /* the stack without frames makes no row */
	assert_int_equal(v[1].thread, 1);
	assert_string_equal(t.rows[v[1].top[0]].name, "inl"); /* inlined: a frame of its own */
	assert_int_equal(v[1].top_w[0], 4);
	free(v);
	assert_int_equal(agg_threads(&t, &p, 101, &v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].thread, 1);
	free(v);
	p.threads[0].cpu = 3; /* now the other one is busier */
	assert_int_equal(agg_threads(&t, &p, 0, &v, &n), 0);
	assert_int_equal(v[0].thread, 1);
	free(v);
	agg_table_free(&t);
	profile_free(&p);
}

/* Waiting time (FA_WAIT): self at the program's call that waited, past the
 * C++ library (SITE_WAIT), once in each total, and per thread under --tid. */
static void test_wait(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	uint32_t ts = fx_tstack(&p, 2, 1, 0, 0); /* fx_tstack moves p.tstacks */
	p.tstacks[ts].wait = 500;
	fx_weight(&p, 2, FA_WAIT, 500);
	struct agg_table t;
	struct agg_opts o = {.key = AGG_FRAME, .metrics = AGG_METRIC(FA_WAIT), .heavy = FA_WAIT};
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(t.total[FA_WAIT], 500);
	const struct agg_row *fill = row(&t, "fill");
	assert_int_equal(fill->self[FA_WAIT], 500);
	assert_int_equal(fill->line, 31);
	assert_int_equal(fill->stack, 2);
	assert_int_equal(row(&t, "operator new(unsigned long)")->self[FA_WAIT], 0);
	assert_int_equal(row(&t, "operator new(unsigned long)")->total[FA_WAIT], 500);
	assert_int_equal(row(&t, "main")->total[FA_WAIT], 500);
	assert_null(row(&t, "leaf")); /* CPU only: no waiting */
	agg_table_free(&t);
	/* Per thread: all of it on 101, none on 100. */
	o.filter.tid = 101;
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(row(&t, "fill")->self[FA_WAIT], 500);
	agg_table_free(&t);
	o.filter.tid = 100;
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(t.total[FA_WAIT], 0);
	agg_table_free(&t);
	profile_free(&p);
}

/* Memory belongs to the allocation's site: the program's frame past operator
 * new and the standard library's templates (or, raw, past operator new only);
 * CPU self time stays at the leaf, in the same table. */
static void test_site(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	struct agg_table t;
	struct agg_opts o = {.key = AGG_FUNCTION, .metrics = AGG_METRIC(FA_CPU) | AGG_MEMORY, .heavy = -1};
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	const struct agg_row *fill = row(&t, "fill"), *nw = row(&t, "operator new(unsigned long)");
	assert_int_equal(fill->self[FA_ALLOC_CALLS], 3);
	assert_int_equal(fill->self[FA_ALLOC_BYTES], 300);
	assert_int_equal(fill->self[FA_LEAKED_BLOCKS], 1);
	assert_int_equal(fill->self_line[FA_LEAKED_BLOCKS], 31);
	assert_int_equal(nw->self[FA_ALLOC_CALLS], 0);
	assert_int_equal(nw->total[FA_ALLOC_CALLS], 3);
	assert_int_equal(row(&t, "main")->total[FA_ALLOC_CALLS], 3);
	assert_int_equal(row(&t, "leaf")->self[FA_CPU], 10);
	agg_table_free(&t);

	o.rule = SITE_RAW;
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(row(&t, "std::vector<int>::push_back")->self[FA_ALLOC_CALLS], 3);
	assert_int_equal(row(&t, "fill")->self[FA_ALLOC_CALLS], 0);
	agg_table_free(&t);

	/* fathom mem's sites: frames that hold memory, and the stack without frames. */
	o = (struct agg_opts){.key = AGG_FRAME,
			      .metrics = AGG_MEMORY,
			      .heavy = FA_ALLOC_BYTES,
			      .no_stack_row = true,
			      .self_only = true};
	assert_int_equal(agg_table_build(&t, &p, &o), 0);
	assert_int_equal(t.nrows, 2);
	fill = row(&t, "fill");
	assert_int_equal(fill->line, 31);
	assert_int_equal(fill->stack, 2);
	assert_int_equal(fill->stack_w, 300);
	const struct agg_row *none = row(&t, "[no stack]");
	assert_int_equal(none->func, FA_NONE);
	assert_int_equal(none->self[FA_ALLOC_CALLS], 1);
	agg_table_free(&t);

	struct fa_frame *fr = NULL;
	size_t cap = 0, nf, at;
	assert_int_equal(agg_stack_site(&p, &p.stacks[2], SITE_USER, &fr, &cap, &nf, &at), 0);
	assert_int_equal(nf, 4);
	assert_int_equal(at, 2);
	free(fr);
	profile_free(&p);
}

/* Every node's total is its self plus its children's totals, and the root's
 * the sum of every self: the tree and the tables count the same weight. */
static void test_tree(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	for (int m = 0; m < 2; m++) {
		int metric = m ? FA_ALLOC_BYTES : FA_CPU;
		struct flame_tree t;
		assert_int_equal(flame_build(&t, &p, metric, NULL), 0);
		int64_t selves = 0;
		for (size_t i = 0; i < t.nnodes; i++) {
			int64_t kids = 0;
			for (uint32_t c = t.nodes[i].child; c != FA_NONE; c = t.nodes[c].next)
				kids += t.nodes[c].total;
			/* The root holds the stacks without frames as its self. */
			assert_int_equal(t.nodes[i].total, t.nodes[i].self + kids);
			selves += t.nodes[i].self;
		}
		assert_int_equal(t.total, m ? 308 : 15);
		assert_int_equal(selves, t.total);
		flame_free(&t);
	}
	/* A thread's tree. */
	struct flame_tree t;
	assert_int_equal(flame_build(&t, &p, FA_CPU, &(struct agg_filter){.tid = 101}), 0);
	assert_int_equal(t.total, 4);
	flame_free(&t);
	/* The viewer's tree by function: every stack, each stack's end node. */
	uint32_t node_of[5];
	assert_int_equal(flame_build_by_func(&t, &p, node_of), 0);
	assert_int_equal(node_of[3], 0);
	assert_int_equal(t.nodes[node_of[0]].func, F_LEAF);
	assert_int_equal(t.nodes[t.nodes[node_of[1]].parent].func, F_REC);
	for (size_t i = 1; i < t.nnodes; i++)
		assert_true(t.nodes[i].parent < i);
	flame_free(&t);
	profile_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_recursion_once), cmocka_unit_test(test_inlined),
	    cmocka_unit_test(test_filters),	   cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_site),	   cmocka_unit_test(test_wait),
	    cmocka_unit_test(test_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
