/* Unit test of the merge of Python frames into native stacks
 * (python-merge.c, memray's hybrid rule): each eval-loop frame of the native
 * stack takes its own call's Python frames, in order; when the eval frames
 * and the Python calls disagree, every Python frame goes under the innermost
 * eval frame and the sample's weight is counted as mismatched, which
 * py_finish reports (the process's figure and one warning). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fathom-dump.h"
#include "fixture.h"
#include "python-model.h"

#define EVAL_LO 0x1000u
#define EVAL_HI 0x2000u
#define NONE 0xffffffffu

/* Leaf first: a C function, the innermost eval frame's return address, a
 * C call (PyObject_Call, say), the outer eval frame, main. */
static const uint64_t native[] = {0x5000, 0x1100, 0x6000, 0x1200, 0x7000};

static struct py_model *model(void)
{
	struct py_model *m = py_model_new();
	assert_non_null(m);
	struct py_proc *pp = py_proc_of(m, 0, true);
	assert_non_null(pp);
	pp->found = true;
	pp->version = 0x030b02f0;
	pp->eval_lo = EVAL_LO;
	pp->eval_hi = EVAL_HI;
	return m;
}

/* Merges native + marker + py (np frames, innermost first) with weight w
 * into out; returns the depth. */
static uint32_t merge(struct py_model *m, const uint64_t *py, uint32_t np, int64_t w, uint64_t *out)
{
	uint32_t mods[16], n = 0;
	for (uint32_t i = 0; i < 5; i++) {
		out[n] = native[i];
		mods[n++] = 1;
	}
	out[n] = FD_PY_FRAME(0, 0, 0);
	mods[n++] = NONE;
	for (uint32_t i = 0; i < np; i++) {
		out[n] = py[i];
		mods[n++] = NONE;
	}
	return py_merge(m, 0, out, mods, n, w, NONE);
}

/* Two calls of the eval loop, two eval frames: each call's frames replace
 * its own eval frame. */
static void test_paired(void **state)
{
	(void)state;
	struct py_model *m = model();
	uint64_t p1 = FD_PY_FRAME(1, 5, 1), p2 = FD_PY_FRAME(2, 7, 0), p3 = FD_PY_FRAME(3, 9, 1);
	uint64_t py[] = {p1, p2, p3}, out[16];
	uint32_t n = merge(m, py, 3, 4, out);
	uint64_t want[] = {0x5000, p1, 0x6000, p2, p3, 0x7000};
	assert_int_equal(n, 6);
	assert_memory_equal(out, want, sizeof(want));
	struct py_proc *pp = py_proc_of(m, 0, false);
	assert_int_equal(pp->merged, 4);
	assert_int_equal(pp->mismatched, 0);

	struct profile p;
	fx_init(&p);
	fx_process(&p, "a.fdump", 1, "python3", "python3");
	assert_int_equal(py_finish(m, &p), 0);
	assert_null(py_problem(m, 0));
	assert_int_equal(p.procs[0].python.mismatched, 0);
	profile_free(&p);
	py_model_free(m);
}

/* One call of the eval loop (no entry frame among the Python frames) but
 * two eval frames: the Python frames go under the innermost, in order, the
 * outer eval frame stays as a native frame, and the weight is counted. */
static void test_mismatched(void **state)
{
	(void)state;
	struct py_model *m = model();
	uint64_t p1 = FD_PY_FRAME(1, 5, 0), p2 = FD_PY_FRAME(2, 7, 0), p3 = FD_PY_FRAME(3, 9, 0);
	uint64_t py[] = {p1, p2, p3}, out[16];
	uint32_t n = merge(m, py, 3, 3, out);
	uint64_t want[] = {0x5000, p1, p2, p3, 0x6000, 0x1200, 0x7000};
	assert_int_equal(n, 7);
	assert_memory_equal(out, want, sizeof(want));
	/* A paired sample beside it: 3 of 4 mismatched. */
	uint64_t q[] = {FD_PY_FRAME(1, 5, 1), p2};
	merge(m, q, 2, 1, out);
	struct py_proc *pp = py_proc_of(m, 0, false);
	assert_int_equal(pp->merged, 4);
	assert_int_equal(pp->mismatched, 3);

	struct profile p;
	fx_init(&p);
	fx_process(&p, "a.fdump", 1, "python3", "python3");
	assert_int_equal(py_finish(m, &p), 0);
	assert_int_equal(p.procs[0].python.weight, 4);
	assert_int_equal(p.procs[0].python.mismatched, 3);
	const char *w = py_problem(m, 0);
	assert_non_null(w);
	assert_non_null(strstr(w, "75.0% of the CPU samples with Python frames (weight 3 of 4)"));
	assert_non_null(strstr(w, "disagree"));
	assert_null(py_problem(m, 1));
	profile_free(&p);
	py_model_free(m);
}

/* No eval frame at all (a native stack that was not unwound): the Python
 * frames go at the root, which is not a disagreement. */
static void test_no_eval(void **state)
{
	(void)state;
	struct py_model *m = model();
	uint64_t p1 = FD_PY_FRAME(1, 5, 0), out[8];
	uint32_t mods[8] = {1, NONE, NONE};
	out[0] = 0x5000;
	out[1] = FD_PY_FRAME(0, 0, 0);
	out[2] = p1;
	uint32_t n = py_merge(m, 0, out, mods, 3, 2, NONE);
	assert_int_equal(n, 2);
	assert_true(out[0] == 0x5000 && out[1] == p1);
	assert_int_equal(py_proc_of(m, 0, false)->mismatched, 0);
	py_model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paired),
	    cmocka_unit_test(test_mismatched),
	    cmocka_unit_test(test_no_eval),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
