/* Python frames in the model: reads the PYCODE and PYTHON records of a dump,
 * names each code object as a Python developer does (json.decoder.JSONDecoder
 * .decode, in module json.decoder; the qualname alone for code of no module,
 * such as <string>) and gives each frame its line. The merge
 * into native stacks and the Python-only view are in python-merge.c. */
#define _GNU_SOURCE
#include "python-model.h"

#include "fathom-dump.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
			free(m->procs[i].codes[c].module);
			free(m->procs[i].codes[c].table);
		}
		free(m->procs[i].codes);
		free(m->procs[i].path);
	}
	for (size_t i = 0; i < m->nproblems; i++)
		free(m->problems[i]);
	free(m->problems);
	free(m->procs);
	free(m->tmp_a);
	free(m->tmp_m);
	free(m);
}

struct py_proc *py_proc_of(struct py_model *m, uint32_t proc, bool create)
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

/* ------------------------------------------------------------ module names */

/* Whether a path component is a usual root of sys.path: site-packages,
 * dist-packages, or the standard library's pythonX.Y. */
static bool is_root(const char *c, size_t n)
{
	if ((n == 13 && !strncmp(c, "site-packages", 13)) || (n == 13 && !strncmp(c, "dist-packages", 13)))
		return true;
	if (n < 9 || strncmp(c, "python", 6))
		return false;
	size_t i = 6, d1 = 0, d2 = 0;
	while (i < n && c[i] >= '0' && c[i] <= '9')
		i++, d1++;
	if (i >= n || c[i++] != '.')
		return false;
	while (i < n && c[i] >= '0' && c[i] <= '9')
		i++, d2++;
	return i == n && d1 && d2;
}

static bool has_init(const char *dir)
{
	char p[1200];
	struct stat st;
	snprintf(p, sizeof(p), "%s/__init__.py", *dir ? dir : "/");
	return stat(p, &st) == 0;
}

/* The module a code object's file holds, named as Python names it:
 * "<frozen X>" is X; another "<...>" (<string>, <stdin>) is itself; a path
 * is dotted from the last site-packages, dist-packages or pythonX.Y
 * directory in it (the usual sys.path roots: json/decoder.py is
 * json.decoder), else from the outermost directory of the package that
 * holds it (directories with an __init__.py, looked up on this machine),
 * else its stem; a package's __init__.py is the package. The main script
 * is its stem, not __main__. */
static char *module_name(const char *file)
{
	size_t fl = strlen(file);
	if (fl > 9 && !strncmp(file, "<frozen ", 8) && file[fl - 1] == '>')
		return strndup(file + 8, fl - 9);
	if (!fl || file[0] == '<')
		return strdup(fl ? file : "[unknown]");
	char path[1100];
	snprintf(path, sizeof(path), "%s", file);
	size_t pl = strlen(path);
	if (pl > 3 && !strcmp(path + pl - 3, ".py"))
		path[pl -= 3] = 0;
	else if (pl > 4 && !strcmp(path + pl - 4, ".pyw"))
		path[pl -= 4] = 0;
	/* The part after the last root directory, if any. */
	const char *rel = NULL;
	for (const char *c = path; *c;) {
		const char *e = strchr(c, '/');
		size_t n = e ? (size_t)(e - c) : strlen(c);
		if (e && e[1] && is_root(c, n))
			rel = e + 1;
		c = e ? e + 1 : c + n;
	}
	char out[1100];
	if (rel) {
		snprintf(out, sizeof(out), "%s", rel);
	} else {
		/* Up through the directories that are packages. */
		char *slash = strrchr(path, '/');
		snprintf(out, sizeof(out), "%s", slash ? slash + 1 : path);
		for (int up = 0; slash && up < 32; up++) {
			*slash = 0;
			if (!has_init(path))
				break;
			char *s2 = strrchr(path, '/');
			const char *dir = s2 ? s2 + 1 : path;
			size_t dl = strlen(dir), ol = strlen(out);
			if (dl + 1 + ol >= sizeof(out))
				break;
			memmove(out + dl + 1, out, ol + 1);
			memcpy(out, dir, dl);
			out[dl] = '/';
			slash = s2;
		}
	}
	size_t ol = strlen(out);
	if (ol >= 9 && !strcmp(out + ol - 9, "/__init__"))
		out[ol - 9] = 0;
	for (char *c = out; *c; c++)
		if (*c == '/')
			*c = '.';
	return strdup(*out ? out : file);
}

/* ------------------------------------------------------------------ records */

int py_record(struct py_model *m, uint32_t proc, int kind, const uint8_t *body, size_t len)
{
	struct py_proc *pp = py_proc_of(m, proc, true);
	if (!pp)
		return -ENOMEM;
	struct body b = {body, body + len, false};
	if (kind == FD_REC_PYTHON) {
		uint64_t what = u(&b);
		if (b.bad)
			return -1;
		if (what == FD_PY_FOUND) {
			uint64_t v = u(&b), lo = u(&b), hi = u(&b);
			size_t np;
			const uint8_t *path = bytes(&b, &np);
			if (b.bad)
				return -1;
			bool first = !pp->found;
			pp->found = true;
			pp->version = v;
			pp->eval_lo = lo;
			pp->eval_hi = hi;
			free(pp->path);
			if (!(pp->path = strndup((const char *)path, np)))
				return -ENOMEM;
			return first ? 1 : 0;
		}
		if (what == FD_PY_STATS) {
			uint64_t walks = u(&b), faults = u(&b);
			if (!b.bad) {
				pp->walks += walks;
				pp->faults += faults;
			}
		}
		if (what == FD_PY_PERF) {
			uint64_t on = u(&b);
			if (b.bad)
				return -1;
			pp->perf |= on != 0;
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
	c->file = strndup((const char *)f, nf);
	c->table = malloc(nt + 1);
	/* Code of a file that is no module (<string>, <stdin>): the qualname. */
	bool bare = nf && f[0] == '<' && (nf < 8 || memcmp(f, "<frozen ", 8));
	if (!c->file || !c->table || !(c->module = module_name(c->file)) ||
	    (bare ? asprintf(&c->name, "%.*s", (int)nq, (const char *)q)
		  : asprintf(&c->name, "%s.%.*s", c->module, (int)nq, (const char *)q)) < 0) {
		c->name = NULL;
		return -ENOMEM;
	}
	memcpy(c->table, t, nt);
	c->ntable = nt;
	c->firstlineno = first > 0 && first < INT32_MAX ? (int)first : 0;
	c->mod_index = UINT32_MAX;
	return 0;
}

int py_modules(struct py_model *m, uint32_t proc,
	       uint32_t (*add)(void *arg, const char *name, const char *file), void *arg)
{
	struct py_proc *pp = py_proc_of(m, proc, false);
	for (size_t i = 0; pp && i < pp->ncodes; i++) {
		struct py_code *c = &pp->codes[i];
		if (!c->name || c->mod_index != UINT32_MAX)
			continue;
		if ((c->mod_index = add(arg, c->module, c->file)) == UINT32_MAX)
			return -ENOMEM;
		/* Every other code object of that module: the same one. */
		for (size_t k = i + 1; k < pp->ncodes; k++)
			if (pp->codes[k].name && pp->codes[k].mod_index == UINT32_MAX &&
			    !strcmp(pp->codes[k].module, c->module))
				pp->codes[k].mod_index = c->mod_index;
	}
	return 0;
}

void py_symbol(struct py_model *m, uint32_t proc, uint64_t entry, const char **name, const char **file,
	       int *line, int *decl_line, uint32_t *module)
{
	struct py_proc *pp = py_proc_of(m, proc, false);
	uint32_t id = FD_PY_CODE(entry);
	*module = UINT32_MAX;
	if (!pp || id >= pp->ncodes || !pp->codes[id].name) {
		*name = id == PY_INTERP_CODE ? "[python interpreter]" : "[python code unknown]";
		*file = NULL;
		*line = *decl_line = 0;
		return;
	}
	const struct py_code *c = &pp->codes[id];
	*name = c->name;
	*file = c->file[0] ? c->file : NULL;
	*decl_line = c->firstlineno;
	*module = c->mod_index;
	uint32_t off1 = FD_PY_OFF(entry);
	int l = off1 ? py_line(c->table, c->ntable, c->firstlineno, off1 - 1) : c->firstlineno;
	*line = l > 0 ? l : c->firstlineno;
}

uint64_t py_eval_addr(struct py_model *m, uint32_t proc)
{
	struct py_proc *pp = m ? py_proc_of(m, proc, false) : NULL;
	return pp && pp->found ? pp->eval_lo : 0;
}
