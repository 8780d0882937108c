/* Python frames in native stacks: merges a stack's Python part into its
 * native frames at the eval loop's frames (the hybrid stack of memray and
 * py-spy --native), makes the Python-only view (--python), and counts what
 * the merge could not do, for the report and the warnings. */
#define _GNU_SOURCE
#include "python-model.h"

#include "fathom-dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_eval(const struct py_proc *pp, uint64_t a, bool is_return)
{
	uint64_t x = a - (is_return ? 1 : 0);
	return pp->eval_hi > pp->eval_lo && x >= pp->eval_lo && x < pp->eval_hi;
}

static int grow_tmp(struct py_model *m, uint32_t n)
{
	if (n <= m->tmp_cap)
		return 0;
	size_t cap = n < 256 ? 256 : n;
	uint64_t *ta = realloc(m->tmp_a, cap * sizeof(*ta));
	if (ta)
		m->tmp_a = ta;
	uint32_t *tm = realloc(m->tmp_m, cap * sizeof(*tm));
	if (tm)
		m->tmp_m = tm;
	if (!ta || !tm)
		return -ENOMEM;
	m->tmp_cap = cap;
	return 0;
}

uint32_t py_merge(struct py_model *m, uint32_t proc, uint64_t *a, uint32_t *mods, uint32_t n, int64_t weight,
		  uint32_t none)
{
	uint32_t k = 0;
	while (k < n && !FD_PY_IS(a[k]))
		k++;
	if (k == n)
		return n;
	struct py_proc *pp = py_proc_of(m, proc, false);
	if (grow_tmp(m, n) < 0)
		return k; /* out of memory: the native frames alone */
	uint32_t cut = FD_PY_OFF(a[k]);
	const uint64_t *py = a + k + 1;
	uint32_t np = n - k - 1;
	/* The Python calls of the eval loop, innermost first: [gs[g], ge[g]). */
	uint32_t gs[FD_MAX_FRAMES + 1], ge[FD_MAX_FRAMES + 1], G = 0;
	for (uint32_t i = 0; i < np; i++) {
		if (i == 0 || (py[i - 1] & FD_PY_ENTRY))
			gs[G++] = i;
		ge[G - 1] = i + 1;
	}
	uint32_t E = 0;
	for (uint32_t i = 0; i < k; i++)
		E += pp && is_eval(pp, a[i], i > 0);
	/* -X perf: each call of the eval loop goes through a trampoline in
	 * anonymous memory, without unwind information or a frame pointer:
	 * the native stack stops at the innermost one, its last frame in no
	 * module. The outer calls' Python frames go at the root, in order. */
	bool at_trampoline =
	    pp && pp->perf && E && k > 1 && mods[k - 1] == none && !is_eval(pp, a[k - 1], true);
	if (at_trampoline)
		k--; /* the trampoline's return address: not a function */
	bool trampoline = at_trampoline && E <= G;
	bool paired = E == G || (E && G && (cut || trampoline));
	if (pp) {
		pp->merged += weight;
		/* No eval frame at all: the native stack was not unwound (a
		 * sample inside the loader or the agent's own unwinding); the
		 * Python frames go at the root, which is no disagreement. */
		if (!paired && E)
			pp->mismatched += weight;
		if (trampoline)
			pp->trampoline_cut += weight;
	}
	uint64_t *oa = m->tmp_a;
	uint32_t *om = m->tmp_m, o = 0, g = 0;
	bool placed = false;
	for (uint32_t i = 0; i < k; i++) {
		bool ev = pp && is_eval(pp, a[i], i > 0);
		if (ev && paired && g < G) {
			for (uint32_t j = gs[g]; j < ge[g]; j++) {
				oa[o] = py[j];
				om[o++] = none;
			}
			g++;
			continue;
		}
		if (ev && !paired && !placed) {
			/* They disagree: every Python frame under the innermost
			 * eval frame, the mismatch counted. */
			for (uint32_t j = 0; j < np; j++) {
				oa[o] = py[j];
				om[o++] = none;
			}
			placed = true;
			continue;
		}
		oa[o] = a[i];
		om[o++] = mods[i];
	}
	/* Calls whose eval frames were cut from the native stack, or no eval
	 * frame at all: at the root end. */
	uint32_t from = paired ? gs[g < G ? g : 0] : 0;
	if (paired ? g < G : !placed)
		for (uint32_t j = from; j < np; j++) {
			oa[o] = py[j];
			om[o++] = none;
		}
	memcpy(a, oa, o * sizeof(*a));
	memcpy(mods, om, o * sizeof(*mods));
	return o;
}

uint32_t py_view(struct py_model *m, uint32_t proc, uint64_t *a, uint32_t *mods, uint32_t n, uint32_t interp,
		 bool *leaf_ret)
{
	struct py_proc *pp = m ? py_proc_of(m, proc, false) : NULL;
	*leaf_ret = false;
	if (!pp || !pp->found || !n)
		return n;
	/* Where the stack is cut: at its outermost Python frame, else at its
	 * innermost frame of the interpreter, which becomes one entry. */
	uint32_t top = n, o = 0;
	bool python = false;
	for (uint32_t i = n; i-- > 0 && top == n;)
		if (FD_PY_IS(a[i]))
			top = i, python = true;
	for (uint32_t i = 0; !python && i < n && top == n; i++)
		if (mods[i] == interp)
			top = i;
	if (top == n)
		return n; /* no Python, no interpreter: a thread of native code only */
	for (uint32_t i = 0; i <= top; i++) {
		if (i == top && !python) {
			a[o] = FD_PY_FRAME(PY_INTERP_CODE, 0, false);
			mods[o++] = UINT32_MAX;
		} else if (FD_PY_IS(a[i]) || mods[i] != interp) {
			if (o == 0 && i > 0 && !FD_PY_IS(a[i]))
				*leaf_ret = true;
			a[o] = a[i];
			mods[o++] = mods[i];
		}
	}
	return o;
}

/* ------------------------------------------------------------- the account */

static int add_problem(struct py_model *m, char *s)
{
	if (!s)
		return -ENOMEM;
	char **n = realloc(m->problems, (m->nproblems + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return -ENOMEM;
	}
	m->problems = n;
	m->problems[m->nproblems++] = s;
	return 0;
}

int py_finish(struct py_model *m, struct profile *p)
{
	int64_t merged = 0, mismatched = 0;
	for (size_t i = 0; i < m->nprocs && i < p->nprocs; i++) {
		const struct py_proc *pp = &m->procs[i];
		struct fa_python *fp = &p->procs[i].python;
		if (!pp->found)
			continue;
		free(fp->path);
		*fp = (struct fa_python){pp->version,	     pp->path ? strdup(pp->path) : NULL,
					 pp->merged,	     pp->mismatched,
					 pp->trampoline_cut, pp->perf,
					 pp->walks,	     pp->faults};
		merged += pp->merged;
		mismatched += pp->mismatched;
		char *s = NULL;
		if (pp->perf &&
		    asprintf(&s,
			     "python: pid %d ran with -X perf (perf trampolines): native frames stop at the "
			     "innermost Python call; Python frames are complete, native frames between "
			     "Python calls are not shown (%.1f%% of its samples with Python frames)",
			     p->procs[i].pid,
			     pp->merged ? 100.0 * (double)pp->trampoline_cut / (double)pp->merged : 0.0) >=
			0 &&
		    add_problem(m, s) < 0)
			return -ENOMEM;
	}
	char *s = NULL;
	if (mismatched &&
	    asprintf(&s,
		     "python: %.1f%% of the CPU samples with Python frames (weight %" PRId64 " of %" PRId64
		     ") had eval-loop frames and Python calls that disagree; their Python frames are shown "
		     "under the innermost eval frame",
		     100.0 * (double)mismatched / (double)merged, mismatched, merged) >= 0 &&
	    add_problem(m, s) < 0)
		return -ENOMEM;
	return 0;
}

const char *py_problem(const struct py_model *m, size_t i)
{
	return m && i < m->nproblems ? m->problems[i] : NULL;
}
