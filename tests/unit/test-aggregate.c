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

/* main -> rec -> rec -> leaf (CPU 10 on thread 100, 5 samples),
 * main -> rec(11) -> rec(12) with inl inlined into it (CPU 4, thread 101),
 * main -> fill -> std::vector<int>::push_back -> operator new (3 calls,
 * 300 bytes, 1 leaked block of 100 bytes), a stack without frames with CPU 1
 * (thread 100), and one without frames with an allocation. */
static struct fa_process procs[1];
static struct fa_module modules[2];
static struct fa_thread threads[2];
static struct fa_func funcs[7];
static struct fa_frame frames[8];
static struct fa_loc locs[7];
static uint32_t s0[] = {3, 1, 1, 0}, s1[] = {2, 1, 0}, s2[] = {4, 5, 6, 0};
static struct fa_stack stacks[5];
static struct fa_thread_stack tstacks[3];

enum { F_MAIN, F_REC, F_INL, F_NEW, F_PUSH, F_LEAF, F_FILL };

static void make_profile(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	procs[0] =
	    (struct fa_process){.path = "t.fdump", .pid = 7, .exe = "/bin/app", .hz = 100, .samples = 10};
	modules[0] = (struct fa_module){.proc = 0, .path = "/bin/app", .name = "app"};
	modules[1] = (struct fa_module){.proc = 0, .path = "/lib/libstdc++.so.6", .name = "libstdc++.so.6"};
	threads[0] = (struct fa_thread){.proc = 0, .tid = 100, .cpu = 11, .samples = 6};
	threads[1] = (struct fa_thread){.proc = 0, .tid = 101, .cpu = 4, .samples = 4};
	funcs[F_MAIN] = (struct fa_func){"main", "app.c", 0, 1};
	funcs[F_REC] = (struct fa_func){"rec", "app.c", 0, 10};
	funcs[F_INL] = (struct fa_func){"inl", "app.h", 0, 3};
	funcs[F_NEW] = (struct fa_func){"operator new(unsigned long)", NULL, 1, 0};
	funcs[F_PUSH] =
	    (struct fa_func){"std::vector<int>::push_back", "/usr/include/c++/13/bits/stl_vector.h", 0, 0};
	funcs[F_LEAF] = (struct fa_func){"leaf", "app.c", 0, 20};
	funcs[F_FILL] = (struct fa_func){"fill", "app.c", 0, 30};
	frames[0] = (struct fa_frame){F_MAIN, 2};
	frames[1] = (struct fa_frame){F_REC, 11};
	frames[2] = (struct fa_frame){F_INL, 4};  /* inlined into ... */
	frames[3] = (struct fa_frame){F_REC, 12}; /* ... rec, at line 12 */
	frames[4] = (struct fa_frame){F_LEAF, 21};
	frames[5] = (struct fa_frame){F_NEW, 0};
	frames[6] = (struct fa_frame){F_PUSH, 100};
	frames[7] = (struct fa_frame){F_FILL, 31};
	locs[0] = (struct fa_loc){0x1000, 0, 0x1000, 0, 1};
	locs[1] = (struct fa_loc){0x1100, 0, 0x1100, 1, 1};
	locs[2] = (struct fa_loc){0x1200, 0, 0x1200, 2, 2};
	locs[3] = (struct fa_loc){0x1300, 0, 0x1300, 4, 1};
	locs[4] = (struct fa_loc){0x9000, 1, 0x9000, 5, 1};
	locs[5] = (struct fa_loc){0x1500, 0, 0x1500, 6, 1};
	locs[6] = (struct fa_loc){0x1600, 0, 0x1600, 7, 1};
	memset(stacks, 0, sizeof(stacks));
	stacks[0] = (struct fa_stack){.proc = 0, .depth = 4, .locs = s0};
	stacks[0].w[FA_CPU] = 10;
	stacks[1] = (struct fa_stack){.proc = 0, .depth = 3, .locs = s1};
	stacks[1].w[FA_CPU] = 4;
	stacks[2] = (struct fa_stack){.proc = 0, .depth = 4, .locs = s2};
	stacks[2].w[FA_ALLOC_CALLS] = 3;
	stacks[2].w[FA_ALLOC_BYTES] = 300;
	stacks[2].w[FA_LEAKED_BLOCKS] = 1;
	stacks[2].w[FA_LEAKED_BYTES] = 100;
	stacks[3] = (struct fa_stack){.proc = 0, .depth = 0, .locs = NULL};
	stacks[3].w[FA_CPU] = 1;
	stacks[4] = (struct fa_stack){.proc = 0, .depth = 0, .locs = NULL};
	stacks[4].w[FA_ALLOC_CALLS] = 1;
	stacks[4].w[FA_ALLOC_BYTES] = 8;
	tstacks[0] = (struct fa_thread_stack){0, 0, 10, 5, 0};
	tstacks[1] = (struct fa_thread_stack){1, 1, 4, 4, 0};
	tstacks[2] = (struct fa_thread_stack){3, 0, 1, 1, 0};
	p->procs = procs;
	p->nprocs = 1;
	p->modules = modules;
	p->nmodules = 2;
	p->threads = threads;
	p->nthreads = 2;
	p->funcs = funcs;
	p->nfuncs = 7;
	p->frames = frames;
	p->nframes = 8;
	p->locs = locs;
	p->nlocs = 7;
	p->stacks = stacks;
	p->nstacks = 5;
	p->tstacks = tstacks;
	p->ntstacks = 3;
	p->total[FA_CPU] = 15;
	p->total[FA_ALLOC_CALLS] = 4;
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
	threads[0].cpu = 3; /* now the other one is busier */
	assert_int_equal(agg_threads(&t, &p, 0, &v, &n), 0);
	assert_int_equal(v[0].thread, 1);
	free(v);
	agg_table_free(&t);
}

/* Memory belongs to the allocation's site: the program's frame past operator
 * new and the standard library's templates (or, raw, past operator new only);
 * CPU self time stays at the leaf, in the same table. */
/* Waiting time (FA_WAIT): self at the program's call that waited, past the
 * C++ library (SITE_WAIT), once in each total, and per thread under --tid. */
static void test_wait(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	struct fa_thread_stack ts[4];
	memcpy(ts, tstacks, sizeof(tstacks));
	ts[3] = (struct fa_thread_stack){2, 1, 0, 0, 500};
	p.tstacks = ts;
	p.ntstacks = 4;
	stacks[2].w[FA_WAIT] = 500;
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
	stacks[2].w[FA_WAIT] = 0;
}

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
	assert_int_equal(agg_stack_site(&p, &stacks[2], SITE_USER, &fr, &cap, &nf, &at), 0);
	assert_int_equal(nf, 4);
	assert_int_equal(at, 2);
	free(fr);
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
