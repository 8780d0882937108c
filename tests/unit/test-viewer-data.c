/* Unit tests of the viewer's data on a profile built by hand: the call tree
 * (stacks that symbolize alike share a node, inlined frames are nodes, a stack
 * without frames weighs on the root), sparse weights per metric, per-thread CPU
 * merged by node, the hotspot table as aggregate.c counts it, modules named once, metrics and their units,
 * the timeline, and the two sides of a diff. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "fathom-dump.h"
#include "fixture.h"
#include "viewer-data.h"

/* main -> work (two addresses in work), main -> work -> inl_helper (inlined),
 * main -> work -> malloc, and a stack without frames. */
static void make_profile(struct profile *p)
{
	fx_init(p);
	uint32_t proc = fx_process(p, "t.fdump", 100, "/usr/bin/app", "app --x");
	struct fa_process *pr = &p->procs[proc];
	pr->ppid = 1;
	pr->hz = 100;
	pr->alloc_mode = FD_ALLOC_EXACT;
	pr->start_real_ns = 1700000000123456789ull;
	pr->duration_ns = 2000000000ull;
	pr->samples = pr->sample_weight = 13;
	pr->complete = true;
	uint32_t app = fx_module(p, proc, "/usr/bin/app", 0, 0, 0);
	uint32_t libc = fx_module(p, proc, "/lib/libc.so.6", 0, 0, 0);
	uint32_t app2 = fx_module(p, proc, "/usr/bin/app", 0, 0, 0);
	uint32_t t100 = fx_thread(p, proc, 100, "app"), t101 = fx_thread(p, proc, 101, "worker");
	p->threads[t100].cpu = p->threads[t100].samples = 9;
	p->threads[t101].cpu = p->threads[t101].samples = 4;
	uint32_t main_ = fx_func(p, "main", "app.c", app2, 10);
	uint32_t work = fx_func(p, "work", "app.c", app, 25);
	uint32_t inl = fx_func(p, "inl_helper", "app.h", app, 3);
	uint32_t malloc_ = fx_func(p, "malloc", NULL, libc, 0);
	uint32_t f_main = fx_frame(p, main_, 20);
	uint32_t f_work = fx_frame(p, work, 30);
	uint32_t f_inl = fx_frame(p, inl, 5); /* inlined into ... */
	fx_frame(p, work, 31);		      /* ... work */
	uint32_t f_malloc = fx_frame(p, malloc_, 0);
	uint32_t l_main = fx_loc(p, 0x1000, app, f_main, 1);
	uint32_t l_work = fx_loc(p, 0x2000, app, f_work, 1);
	uint32_t l_inl = fx_loc(p, 0x2100, app, f_inl, 2);
	uint32_t l_malloc = fx_loc(p, 0x7000, libc, f_malloc, 1);
	uint32_t l_work2 = fx_loc(p, 0x2040, app, f_work, 1); /* another address in work */
	uint32_t s0 = fx_stack(p, proc, 2, (uint32_t[]){l_work, l_main});
	fx_weight(p, s0, FA_CPU, 7);
	uint32_t s1 = fx_stack(p, proc, 2, (uint32_t[]){l_inl, l_main});
	fx_weight(p, s1, FA_CPU, 3);
	fx_weight(p, s1, FA_ALLOC_CALLS, 2);
	fx_weight(p, s1, FA_ALLOC_BYTES, 100);
	uint32_t s2 = fx_stack(p, proc, 3, (uint32_t[]){l_malloc, l_work, l_main});
	fx_weight(p, s2, FA_ALLOC_CALLS, 5);
	fx_weight(p, s2, FA_ALLOC_BYTES, 500);
	fx_weight(p, s2, FA_LEAKED_BYTES, 64);
	fx_weight(p, s2, FA_LEAKED_BLOCKS, 1);
	fx_weight(p, s2, FA_PEAK_BYTES, 200);
	uint32_t s3 = fx_stack(p, proc, 2, (uint32_t[]){l_work2, l_main});
	fx_weight(p, s3, FA_CPU, 2);
	uint32_t s4 = fx_stack(p, proc, 0, NULL);
	fx_weight(p, s4, FA_CPU, 1);
	fx_tstack(p, s0, t100, 7, 7);
	fx_tstack(p, s3, t100, 2, 2);
	fx_tstack(p, s1, t101, 3, 3);
	fx_tstack(p, s4, t101, 1, 1);
	fx_point(p, proc, 1000000, 4096, 1 << 20);
	fx_point(p, proc, 2000000, 8192, 2 << 20);
	p->mem = (struct fa_mem){.alloc_calls = 7,
				 .alloc_bytes = 600,
				 .frees = 6,
				 .peak_bytes = 8192,
				 .peak_time_ns = 2000000,
				 .peak_proc = 0,
				 .leaked_bytes = 64,
				 .leaked_blocks = 1,
				 .scale = 1};
}

static char *capture(const struct profile *const *ps, size_t n, const struct viewer_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(viewer_data_write(f, ps, n, o), 0);
	fclose(f);
	return buf;
}

#define assert_has(hay, needle)                                                                              \
	do {                                                                                                 \
		if (!strstr((hay), (needle)))                                                                \
			fail_msg("missing %s\n in %s", (needle), (hay));                                     \
	} while (0)

static void test_tree_and_weights(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	const struct profile *ps[] = {&p};
	struct viewer_opts o = {.generator = "fathom test"};
	char *s = capture(ps, 1, &o);
	assert_has(s, "{\"format\":\"fathom-viewer\",\"version\":2,\"title\":\"fathom: app (pid 100)\","
		      "\"generator\":\"fathom test\",\"diff\":false,\"profiles\":[{\"label\":\"\"");
	/* main(0) <- work(1) <- inl_helper(2), work(1) <- malloc(3): parents 1, 2 and 3 back. */
	assert_has(s, "\"nodes\":{\"up\":[1,1,1,2],\"func\":[0,1,2,3]}");
	/* Stacks 0 and 3 end in work at different addresses: one node, 7 + 2;
	 * the frameless stack weighs on the root (-1). Nodes are written as
	 * steps from the previous one, from -1: -1, 1, 2 become 0, 2, 1. */
	assert_has(s, "\"cpu\":[0,1,2,9,1,3]");
	assert_has(s, "\"alloc-bytes\":[3,100,1,500]");
	assert_has(s, "\"alloc-calls\":[3,2,1,5]");
	assert_has(s, "\"temp-calls\":[]");
	assert_has(s, "\"leaked-bytes\":[4,64]");
	assert_has(s, "\"leaked-blocks\":[4,1]");
	assert_has(s, "\"peak-bytes\":[4,200]");
	/* Thread 0: work 7 + 2 = 9; thread 1: root 1, inl_helper 3; ordered by
	 * node (-1, 1, 2 as steps 0, 2, 1). */
	assert_has(s, "\"thread_cpu\":[0,1,1,2,0,9,1,1,3]");
	/* The hotspot table, as aggregate.c counts (functions as steps from
	 * -1): CPU self where a stack ends (work 7 + 2, inl_helper 3; the
	 * frameless stack in no row), each stack once in a total (main 12);
	 * memory self at the allocation's site (site.c: here malloc itself,
	 * which the agent would have cut; operator new would be passed over). */
	assert_has(s, "\"hotspots\":{\"cpu\":[1,0,12,1,9,12,1,3,3],"
		      "\"alloc-bytes\":[1,0,600,1,0,600,1,100,100,1,500,500],"
		      "\"alloc-calls\":[1,0,7,1,0,7,1,2,2,1,5,5],\"temp-calls\":[],"
		      "\"leaked-bytes\":[1,0,64,1,0,64,2,64,64],\"leaked-blocks\":[1,0,1,1,0,1,2,1,1],"
		      "\"peak-bytes\":[1,0,200,1,0,200,2,200,200]}");
	/* "app" is named once; main's module (the second "app") points at it. */
	assert_has(s, "\"modules\":[\"app\",\"libc.so.6\"]");
	assert_has(
	    s, "\"funcs\":{\"name\":[\"main\",\"work\",\"inl_helper\",\"malloc\"],"
	       "\"file\":[\"app.c\",\"app.c\",\"app.h\",null],\"line\":[10,25,3,0],\"module\":[0,0,0,1]}");
	assert_has(s, "{\"id\":\"cpu\",\"label\":\"CPU "
		      "time\",\"unit\":\"samples\",\"total\":13,\"ns_per_unit\":10000000}");
	assert_has(s,
		   "{\"id\":\"alloc-bytes\",\"label\":\"Allocated bytes\",\"unit\":\"bytes\",\"total\":600}");
	assert_has(s,
		   "{\"id\":\"leaked-blocks\",\"label\":\"Leaked blocks\",\"unit\":\"count\",\"total\":1}");
	assert_has(
	    s, "\"threads\":[{\"proc\":0,\"pid\":100,\"tid\":100,\"name\":\"app\",\"cpu\":9,\"samples\":9},");
	assert_has(s, "\"timeline\":[{\"proc\":0,\"t\":[1000000,2000000],\"heap\":[4096,8192],\"rss\":["
		      "1048576,2097152]}]");
	assert_has(s, "\"peak_bytes\":8192,\"peak_time_ns\":2000000,\"peak_proc\":0,\"leaked_bytes\":64");
	assert_has(s, "\"start_ms\":1700000000123,");
	assert_has(s, "\"alloc_mode\":\"exact\"");
	assert_has(s, "\"warnings\":[]");
	free(s);
	profile_free(&p);
}

static void test_no_alloc_no_memory_metrics(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	p.procs[0].alloc_mode = FD_ALLOC_OFF;
	p.mem.alloc_calls = 0;
	p.total[FA_ALLOC_CALLS] = 0;
	p.procs[0].clock = FD_CLOCK_WALL;
	fx_str(&p.procs[0].damage, "truncated after chunk 3");
	const struct profile *ps[] = {&p};
	struct viewer_opts o = {.title = "my <title>"};
	char *s = capture(ps, 1, &o);
	assert_has(s, "\"title\":\"my <title>\"");
	assert_has(s,
		   "\"metrics\":[{\"id\":\"cpu\",\"label\":\"Wall time\",\"unit\":\"samples\",\"total\":13,"
		   "\"ns_per_unit\":10000000}]");
	assert_has(s, "\"weights\":{\"cpu\":[0,1,2,9,1,3]}");
	/* A damaged file is always visible in the report. */
	assert_has(s, "\"warnings\":[\"t.fdump: truncated after chunk 3\"]");
	free(s);
	profile_free(&p);
}

static void test_diff_sides(void **state)
{
	(void)state;
	struct profile base, neu;
	make_profile(&base);
	make_profile(&neu);
	const struct profile *ps[] = {&base, &neu};
	struct viewer_opts o = {.diff = true};
	char *s = capture(ps, 2, &o);
	assert_has(s, "\"diff\":true,\"profiles\":[{\"label\":\"base\"");
	assert_has(s, "]},{\"label\":\"new\"");
	free(s);
	profile_free(&base);
	profile_free(&neu);
}

static void test_write_error(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	struct profile p;
	make_profile(&p);
	const struct profile *ps[] = {&p};
	struct viewer_opts o = {0};
	assert_int_equal(viewer_data_write(f, ps, 1, &o), -EIO);
	fclose(f);
	profile_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_and_weights),
	    cmocka_unit_test(test_no_alloc_no_memory_metrics),
	    cmocka_unit_test(test_diff_sides),
	    cmocka_unit_test(test_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
