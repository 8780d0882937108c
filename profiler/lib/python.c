/* Python frames in the model: reads the PYCODE and PYTHON records of a dump,
 * merges each stack's Python frames into its native frames at the eval
 * loop's frames (the hybrid stack of memray and py-spy --native), and names
 * Python frames as functions of a "python" module. */
#define _GNU_SOURCE
#include "python.h"

#include "fathom-dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct py_code {
	char *name, *file;
	int firstlineno;
	uint8_t *table;
	size_t ntable;
};

struct py_proc {
	bool found;
	uint64_t version, eval_lo, eval_hi;
	struct py_code *codes; /* by id */
	size_t ncodes;
};

struct py_model {
	struct py_proc *procs;
	size_t nprocs;
	/* Merge statistics, in CPU weight: stacks with a Python part, those
	 * whose eval frames and Python calls disagreed. */
	int64_t merged, mismatched;
	uint64_t faults, walks;
	char *problems;
	uint64_t *tmp_a;
	uint32_t *tmp_m;
	size_t tmp_cap;
	char unknown_name[64];
};

struct py_model *py_model_new(void)
{
	return calloc(1, sizeof(struct py_model));
}

void py_model_free(struct py_model *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nprocs; i++) {
		for (size_t c = 0; c < m->procs[i].ncodes; c++) {
			free(m->procs[i].codes[c].name);
			free(m->procs[i].codes[c].file);
			free(m->procs[i].codes[c].table);
		}
		free(m->procs[i].codes);
	}
	free(m->procs);
	free(m->problems);
	free(m->tmp_a);
	free(m->tmp_m);
	free(m);
}

static struct py_proc *proc_of(struct py_model *m, uint32_t proc, bool create)
{
	if (proc < m->nprocs)
		return &m->procs[proc];
	if (!create)
		return NULL;
	struct py_proc *n = realloc(m->procs, (proc + 1) * sizeof(*n));
	if (!n)
		return NULL;
	memset(n + m->nprocs, 0, (proc + 1 - m->nprocs) * sizeof(*n));
	m->procs = n;
	m->nprocs = proc + 1;
	return &n[proc];
}

struct body {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t u(struct body *b)
{
	uint64_t v;
	if (fd_get_varint(&b->p, b->end, &v) < 0) {
		b->bad = true;
		return 0;
	}
	return v;
}

static const uint8_t *bytes(struct body *b, size_t *len)
{
	uint64_t n = u(b);
	if (b->bad || n > (uint64_t)(b->end - b->p)) {
		b->bad = true;
		*len = 0;
		return NULL;
	}
	const uint8_t *p = b->p;
	b->p += n;
	*len = (size_t)n;
	return p;
}

/* "stem.qualname": the module's name from the file's (a package's
 * __init__.py: its directory), as a Python developer names a function. */
static char *func_name(const uint8_t *q, size_t nq, const uint8_t *f, size_t nf)
{
	char file[1100], *s = NULL;
	snprintf(file, sizeof(file), "%.*s", (int)nf, (const char *)f);
	char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	size_t bl = strlen(base);
	if (bl > 3 && !strcmp(base + bl - 3, ".py")) {
		base[bl - 3] = 0;
		if (!strcmp(base, "__init__") && base > file + 1) {
			base[-1] = 0;
			char *up = strrchr(file, '/');
			base = up ? up + 1 : file;
		}
	} else {
		base = NULL; /* <string>, <frozen ...>: the qualname alone */
	}
	int r = base && *base ? asprintf(&s, "%s.%.*s", base, (int)nq, (const char *)q)
			      : asprintf(&s, "%.*s", (int)nq, (const char *)q);
	return r < 0 ? NULL : s;
}

int py_record(struct py_model *m, uint32_t proc, int kind, const uint8_t *body, size_t len)
{
	struct py_proc *pp = proc_of(m, proc, true);
	if (!pp)
		return -ENOMEM;
	struct body b = {body, body + len, false};
	if (kind == FD_REC_PYTHON) {
		uint64_t what = u(&b);
		if (b.bad)
			return -1;
		if (what == FD_PY_FOUND) {
			uint64_t v = u(&b), lo = u(&b), hi = u(&b);
			if (b.bad)
				return -1;
			bool first = !pp->found;
			pp->found = true;
			pp->version = v;
			pp->eval_lo = lo;
			pp->eval_hi = hi;
			return first ? 1 : 0;
		}
		if (what == FD_PY_STATS) {
			uint64_t walks = u(&b), faults = u(&b);
			if (!b.bad) {
				m->walks += walks;
				m->faults += faults;
			}
		}
		return 0;
	}
	uint64_t id = u(&b);
	u(&b); /* the address */
	int64_t first = fd_unzigzag(u(&b));
	size_t nq, nf, nt;
	const uint8_t *q = bytes(&b, &nq), *f = bytes(&b, &nf), *t = bytes(&b, &nt);
	if (b.bad || id == 0 || id >= (1u << 30))
		return -1;
	if (id >= pp->ncodes) {
		size_t cap = pp->ncodes ? pp->ncodes : 64;
		while (cap <= id)
			cap *= 2;
		struct py_code *n = realloc(pp->codes, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		memset(n + pp->ncodes, 0, (cap - pp->ncodes) * sizeof(*n));
		pp->codes = n;
		pp->ncodes = cap;
	}
	struct py_code *c = &pp->codes[id];
	if (c->name)
		return 0; /* written again (a forked child's dump, a rewrite) */
	c->name = func_name(q, nq, f, nf);
	c->file = malloc(nf + 1);
	c->table = malloc(nt + 1);
	if (!c->name || !c->file || !c->table)
		return -ENOMEM;
	memcpy(c->file, f, nf);
	c->file[nf] = 0;
	memcpy(c->table, t, nt);
	c->ntable = nt;
	c->firstlineno = first > 0 && first < INT32_MAX ? (int)first : 0;
	return 0;
}

void py_symbol(struct py_model *m, uint32_t proc, uint64_t entry, const char **name, const char **file,
	       int *line, int *decl_line)
{
	struct py_proc *pp = proc_of(m, proc, false);
	uint32_t id = FD_PY_CODE(entry);
	if (!pp || id >= pp->ncodes || !pp->codes[id].name) {
		*name = "[python code unknown]";
		*file = NULL;
		*line = *decl_line = 0;
		return;
	}
	const struct py_code *c = &pp->codes[id];
	*name = c->name;
	*file = c->file[0] ? c->file : NULL;
	*decl_line = c->firstlineno;
	uint32_t off1 = FD_PY_OFF(entry);
	int l = off1 ? py_line(c->table, c->ntable, c->firstlineno, off1 - 1) : c->firstlineno;
	*line = l > 0 ? l : c->firstlineno;
}

static bool is_eval(const struct py_proc *pp, uint64_t a, bool is_return)
{
	uint64_t x = a - (is_return ? 1 : 0);
	return pp->eval_hi > pp->eval_lo && x >= pp->eval_lo && x < pp->eval_hi;
}

uint32_t py_merge(struct py_model *m, uint32_t proc, uint64_t *a, uint32_t *mods, uint32_t n, int64_t weight,
		  uint32_t none)
{
	uint32_t k = 0;
	while (k < n && !FD_PY_IS(a[k]))
		k++;
	if (k == n)
		return n;
	struct py_proc *pp = proc_of(m, proc, false);
	if (n > m->tmp_cap) {
		size_t cap = n < 256 ? 256 : n;
		uint64_t *ta = realloc(m->tmp_a, cap * sizeof(*ta));
		if (ta)
			m->tmp_a = ta;
		uint32_t *tm = realloc(m->tmp_m, cap * sizeof(*tm));
		if (tm)
			m->tmp_m = tm;
		if (!ta || !tm)
			return k; /* out of memory: the native frames alone */
		m->tmp_cap = cap;
	}
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
	bool paired = E == G || (cut && E && G);
	m->merged += weight;
	/* No eval frame at all: the native stack was not unwound (a sample
	 * inside the loader or the agent's own unwinding); the Python frames
	 * go at the root, which is no disagreement. */
	if (!paired && E)
		m->mismatched += weight;
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

const char *py_problems(struct py_model *m)
{
	if (!m->merged || !m->mismatched)
		return NULL;
	free(m->problems);
	m->problems = NULL;
	if (asprintf(&m->problems,
		     "python: %" PRId64 " of %" PRId64
		     " samples with Python frames (%.1f%%) had eval-loop frames "
		     "and Python calls that disagree; their Python frames are shown under the innermost eval "
		     "frame",
		     m->mismatched, m->merged, 100.0 * (double)m->mismatched / (double)m->merged) < 0)
		m->problems = NULL;
	return m->problems;
}
