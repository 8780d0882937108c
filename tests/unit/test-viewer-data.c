/* Unit tests of the viewer's data on a profile built by hand: the call tree
 * (stacks that symbolize alike share a node, inlined frames are nodes, a stack
 * without frames weighs on the root), sparse weights per metric, per-thread CPU
 * merged by node, modules named once, metrics and their units, the timeline,
 * and the two sides of a diff. */
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
#include "viewer-data.h"

static struct fa_process procs[1];
static struct fa_module modules[3];
static struct fa_thread threads[2];
static struct fa_func funcs[4];
static struct fa_frame frames[5];
static struct fa_loc locs[5];
static uint32_t s0[] = {1, 0}, s1[] = {2, 0}, s2[] = {3, 1, 0}, s3[] = {4, 0};
static struct fa_stack stacks[5];
static struct fa_thread_stack tstacks[4];
static struct fa_point timeline[2];

/* main -> work (two addresses in work), main -> work -> inl_helper (inlined),
 * main -> work -> malloc, and a stack without frames. */
static void make_profile(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	procs[0] = (struct fa_process){.path = "t.fdump",
				       .pid = 100,
				       .ppid = 1,
				       .exe = "/usr/bin/app",
				       .cmdline = "app --x",
				       .hz = 100,
				       .alloc_mode = FD_ALLOC_EXACT,
				       .start_real_ns = 1700000000123456789ull,
				       .duration_ns = 2000000000ull,
				       .samples = 13,
				       .sample_weight = 13,
				       .complete = true};
	modules[0] = (struct fa_module){.proc = 0, .path = "/usr/bin/app", .name = "app"};
	modules[1] = (struct fa_module){.proc = 0, .path = "/lib/libc.so.6", .name = "libc.so.6"};
	modules[2] = (struct fa_module){.proc = 0, .path = "/usr/bin/app", .name = "app"};
	threads[0] = (struct fa_thread){.proc = 0, .tid = 100, .name = "app", .cpu = 9, .samples = 9};
	threads[1] = (struct fa_thread){.proc = 0, .tid = 101, .name = "worker", .cpu = 4, .samples = 4};
	funcs[0] = (struct fa_func){"main", "app.c", 2, 10};
	funcs[1] = (struct fa_func){"work", "app.c", 0, 25};
	funcs[2] = (struct fa_func){"inl_helper", "app.h", 0, 3};
	funcs[3] = (struct fa_func){"malloc", NULL, 1, 0};
	frames[0] = (struct fa_frame){0, 20};
	frames[1] = (struct fa_frame){1, 30};
	frames[2] = (struct fa_frame){2, 5};  /* inlined into ... */
	frames[3] = (struct fa_frame){1, 31}; /* ... work */
	frames[4] = (struct fa_frame){3, 0};
	locs[0] = (struct fa_loc){0x1000, 0, 0x1000, 0, 1};
	locs[1] = (struct fa_loc){0x2000, 0, 0x2000, 1, 1};
	locs[2] = (struct fa_loc){0x2100, 0, 0x2100, 2, 2};
	locs[3] = (struct fa_loc){0x7000, 1, 0x7000, 4, 1};
	locs[4] = (struct fa_loc){0x2040, 0, 0x2040, 1, 1}; /* another address in work */
	memset(stacks, 0, sizeof(stacks));
	stacks[0] = (struct fa_stack){.proc = 0, .depth = 2, .locs = s0};
	stacks[0].w[FA_CPU] = 7;
	stacks[1] = (struct fa_stack){.proc = 0, .depth = 2, .locs = s1};
	stacks[1].w[FA_CPU] = 3;
	stacks[1].w[FA_ALLOC_CALLS] = 2;
	stacks[1].w[FA_ALLOC_BYTES] = 100;
	stacks[2] = (struct fa_stack){.proc = 0, .depth = 3, .locs = s2};
	stacks[2].w[FA_ALLOC_CALLS] = 5;
	stacks[2].w[FA_ALLOC_BYTES] = 500;
	stacks[2].w[FA_LEAKED_BYTES] = 64;
	stacks[2].w[FA_LEAKED_BLOCKS] = 1;
	stacks[2].w[FA_PEAK_BYTES] = 200;
	stacks[3] = (struct fa_stack){.proc = 0, .depth = 2, .locs = s3};
	stacks[3].w[FA_CPU] = 2;
	stacks[4] = (struct fa_stack){.proc = 0, .depth = 0, .locs = NULL};
	stacks[4].w[FA_CPU] = 1;
	tstacks[0] = (struct fa_thread_stack){0, 0, 7, 7};
	tstacks[1] = (struct fa_thread_stack){3, 0, 2, 2};
	tstacks[2] = (struct fa_thread_stack){1, 1, 3, 3};
	tstacks[3] = (struct fa_thread_stack){4, 1, 1, 1};
	timeline[0] = (struct fa_point){0, 1000000, 4096, 1 << 20};
	timeline[1] = (struct fa_point){0, 2000000, 8192, 2 << 20};
	p->procs = procs;
	p->nprocs = 1;
	p->modules = modules;
	p->nmodules = 3;
	p->threads = threads;
	p->nthreads = 2;
	p->funcs = funcs;
	p->nfuncs = 4;
	p->frames = frames;
	p->nframes = 5;
	p->locs = locs;
	p->nlocs = 5;
	p->stacks = stacks;
	p->nstacks = 5;
	p->tstacks = tstacks;
	p->ntstacks = 4;
	p->timeline = timeline;
	p->ntimeline = 2;
	p->mem = (struct fa_mem){.alloc_calls = 7,
				 .alloc_bytes = 600,
				 .frees = 6,
				 .peak_bytes = 8192,
				 .peak_time_ns = 2000000,
				 .peak_proc = 0,
				 .leaked_bytes = 64,
				 .leaked_blocks = 1,
				 .scale = 1};
	for (size_t i = 0; i < p->nstacks; i++)
		for (int m = 0; m < FA_NMETRICS; m++)
			p->total[m] += stacks[i].w[m];
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
	assert_has(s, "{\"format\":\"fathom-viewer\",\"version\":1,\"title\":\"fathom: app (pid 100)\","
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
	/* "app" is named once; main's module (the second "app") points at it. */
	assert_has(s, "\"modules\":[\"app\",\"libc.so.6\"]");
	assert_has(
	    s, "\"funcs\":{\"name\":[\"main\",\"work\",\"inl_helper\",\"malloc\"],"
	       "\"file\":[\"app.c\",\"app.c\",\"app.h\",null],\"line\":[10,25,3,0],\"module\":[0,0,0,1]}");
	assert_has(
	    s,
	    "{\"id\":\"cpu\",\"label\":\"CPU time\",\"unit\":\"samples\",\"total\":13,\"ns_per_unit\":10000000}");
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
}

static void test_no_alloc_no_memory_metrics(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	procs[0].alloc_mode = FD_ALLOC_OFF;
	p.mem.alloc_calls = 0;
	p.total[FA_ALLOC_CALLS] = 0;
	procs[0].clock = FD_CLOCK_WALL;
	procs[0].damage = "truncated after chunk 3";
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
}

static void test_write_error(void **state)
{
	(void)state;
	struct profile p;
	make_profile(&p);
	const struct profile *ps[] = {&p};
	struct viewer_opts o = {0};
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	assert_int_equal(viewer_data_write(f, ps, 1, &o), -EIO);
	fclose(f);
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
