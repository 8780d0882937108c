/* The lookup through DWARF: the chain of function and inlined-call DIEs
 * around an address (an index of each compile unit's functions, then a walk
 * down), their names (C++ ones qualified by their scopes) and the lines of
 * the calls between them. */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die-names.h"
#include "symbols-int.h"

/* ---- scopes: which function DIEs contain an address ---- */

/* How dwarf_getscopes (libdw) treats a DIE, so that the chain found here is
 * the one it finds: a scope with code to match, a container to walk
 * through, a partial unit to follow, or nothing to look into. */
enum die_class { IGNORE, MATCH, WALK, IMPORTED };

static enum die_class classify(Dwarf_Die *die)
{
	switch (dwarf_tag(die)) {
	case DW_TAG_compile_unit:
	case DW_TAG_module:
	case DW_TAG_lexical_block:
	case DW_TAG_with_stmt:
	case DW_TAG_catch_block:
	case DW_TAG_try_block:
	case DW_TAG_entry_point:
	case DW_TAG_inlined_subroutine:
	case DW_TAG_subprogram:
		return MATCH;
	case DW_TAG_namespace:
	case DW_TAG_class_type:
	case DW_TAG_structure_type:
		return WALK;
	case DW_TAG_imported_unit:
		return IMPORTED;
	default:
		return IGNORE;
	}
}

struct roots {
	struct root *r;
	size_t n, cap, order;
	bool failed;
};

static void roots_add(struct roots *rs, Dwarf_Die *die, Dwarf_Addr lo, Dwarf_Addr hi)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct root *n = realloc(rs->r, cap * sizeof(*n));
		if (!n) {
			rs->failed = true;
			return;
		}
		rs->r = n;
		rs->cap = cap;
	}
	rs->r[rs->n++] = (struct root){lo, hi, hi, rs->order, *die};
}

/* Collects the outermost DIEs with code under parent, in DIE order. */
static void collect_roots(Dwarf_Die *parent, struct roots *rs, int depth)
{
	Dwarf_Die child;
	if (depth > 64 || dwarf_child(parent, &child) != 0)
		return;
	do {
		switch (classify(&child)) {
		case MATCH: {
			Dwarf_Addr base, lo, hi;
			ptrdiff_t off = 0;
			rs->order++;
			while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0)
				if (lo < hi)
					roots_add(rs, &child, lo, hi);
			break;
		}
		case WALK:
			collect_roots(&child, rs, depth + 1);
			break;
		case IMPORTED: {
			Dwarf_Attribute at;
			Dwarf_Die unit;
			if (dwarf_formref_die(dwarf_attr(&child, DW_AT_import, &at), &unit))
				collect_roots(&unit, rs, depth + 1);
			break;
		}
		case IGNORE:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static int root_cmp(const void *a, const void *b)
{
	const struct root *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static size_t cu_slot(const struct sym_module *m, Dwarf_Off off)
{
	return (size_t)((off * 0x9e3779b97f4a7c15ull) >> 20) & (m->capcus - 1);
}

/* The index of the unit `cu`, built on first use; NULL when out of memory. */
static struct cu_index *cu_index(struct sym_module *m, Dwarf_Die *cu)
{
	Dwarf_Off off = dwarf_dieoffset(cu);
	if (m->capcus) {
		for (size_t j = cu_slot(m, off);; j = (j + 1) & (m->capcus - 1)) {
			if (!m->cus[j].roots)
				break;
			if (m->cus[j].off == off)
				return &m->cus[j];
		}
	}
	if (2 * (m->ncus + 1) > m->capcus) {
		size_t cap = m->capcus ? m->capcus * 2 : 64;
		struct cu_index *n = calloc(cap, sizeof(*n));
		if (!n)
			return NULL;
		struct cu_index *old = m->cus;
		size_t oldcap = m->capcus;
		m->cus = n;
		m->capcus = cap;
		for (size_t i = 0; i < oldcap; i++) {
			if (!old[i].roots)
				continue;
			size_t j = cu_slot(m, old[i].off);
			while (n[j].roots)
				j = (j + 1) & (cap - 1);
			n[j] = old[i];
		}
		free(old);
	}
	struct roots rs = {0};
	collect_roots(cu, &rs, 0);
	if (rs.failed || !(rs.r || (rs.r = malloc(sizeof(*rs.r))))) {
		free(rs.r);
		return NULL;
	}
	qsort(rs.r, rs.n, sizeof(*rs.r), root_cmp);
	for (size_t i = 1; i < rs.n; i++)
		if (rs.r[i - 1].maxhi > rs.r[i].maxhi)
			rs.r[i].maxhi = rs.r[i - 1].maxhi;
	size_t j = cu_slot(m, off);
	while (m->cus[j].roots)
		j = (j + 1) & (m->capcus - 1);
	m->cus[j] = (struct cu_index){off, rs.r, rs.n};
	m->ncus++;
	return &m->cus[j];
}

/* The first root in DIE order that contains pc, or NULL. */
static Dwarf_Die *root_find(struct cu_index *ci, Dwarf_Addr pc)
{
	size_t lo = 0, hi = ci->nroots;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ci->roots[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	struct root *best = NULL;
	/* Roots do not overlap in practice; when they do, the earliest wins,
	 * as in dwarf_getscopes' depth-first walk. */
	for (size_t i = lo; i-- > 0 && ci->roots[i].maxhi > pc;)
		if (pc < ci->roots[i].hi && (!best || ci->roots[i].order < best->order))
			best = &ci->roots[i];
	return best ? &best->die : NULL;
}

/* Appends to chain the scopes under parent that contain pc, outermost
 * first, taking at each level the first child that does (depth first, as
 * dwarf_getscopes). */
static void descend(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *chain, int *n, int max, int depth)
{
	Dwarf_Die child;
	if (*n >= max || depth > 256 || dwarf_child(parent, &child) != 0)
		return;
	do {
		enum die_class c = classify(&child);
		if (c == MATCH && dwarf_haspc(&child, pc) > 0) {
			chain[(*n)++] = child;
			descend(&chain[*n - 1], pc, chain, n, max, depth + 1);
			return;
		}
		if (c == WALK) {
			int before = *n;
			descend(&child, pc, chain, n, max, depth + 1);
			if (*n > before)
				return;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* ---- names ---- */

static const char *die_linkage_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *ln = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	return ln ? ln : dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
}

/* The DIE that declares the function of die: the end of its chain of
 * abstract origins and specifications, which sits in the function's
 * namespace or class. */
static void die_decl(Dwarf_Die *die, Dwarf_Die *out)
{
	*out = *die;
	for (int i = 0; i < 16; i++) {
		Dwarf_Attribute a;
		Dwarf_Die next;
		if (!dwarf_attr(out, DW_AT_abstract_origin, &a) && !dwarf_attr(out, DW_AT_specification, &a))
			return;
		if (!dwarf_formref_die(&a, &next))
			return;
		*out = next;
	}
}

static bool is_cxx(Dwarf_Die *cu)
{
	switch (dwarf_srclang(cu)) {
	case DW_LANG_C_plus_plus:
	case DW_LANG_C_plus_plus_03:
	case DW_LANG_C_plus_plus_11:
	case DW_LANG_C_plus_plus_14:
	case DW_LANG_ObjC_plus_plus:
	case 0x2a: /* C++17 and C++20, DWARF 6 codes not in every dwarf.h */
	case 0x2b:
		return true;
	default:
		return false;
	}
}

static size_t qual_slot(const struct sym_module *m, const void *key)
{
	return (size_t)(((uintptr_t)key * 0x9e3779b97f4a7c15ull) >> 20) & (m->capquals - 1);
}

static struct qual *qual_find(struct sym_module *m, const void *key)
{
	if (!m->capquals)
		return NULL;
	for (size_t j = qual_slot(m, key);; j = (j + 1) & (m->capquals - 1)) {
		if (!m->quals[j].key)
			return NULL;
		if (m->quals[j].key == key)
			return &m->quals[j];
	}
}

static struct qual *qual_find_hole(struct sym_module *m, const void *key)
{
	size_t j = qual_slot(m, key);
	while (m->quals[j].key)
		j = (j + 1) & (m->capquals - 1);
	return &m->quals[j];
}

/* Keeps name (malloc'd) for key; returns the entry, or NULL (name freed). */
static struct qual *qual_add(struct sym_module *m, const void *key, char *name, int scope_line)
{
	if (2 * (m->nquals + 1) > m->capquals) {
		size_t cap = m->capquals ? m->capquals * 2 : 64;
		struct qual *n = calloc(cap, sizeof(*n));
		if (!n) {
			free(name);
			return NULL;
		}
		struct qual *old = m->quals;
		size_t oldcap = m->capquals;
		m->quals = n;
		m->capquals = cap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].key)
				*qual_find_hole(m, old[i].key) = old[i];
		free(old);
	}
	struct qual *q = qual_find_hole(m, key);
	*q = (struct qual){key, name, scope_line};
	m->nquals++;
	return q;
}

/* The name of the function declared by decl (plain name `name`) qualified
 * by the scopes around it, as the demangler would write them:
 * ns::Class<int>::f, f(int)::{lambda(double)#1}::operator()(double) const;
 * cached per module. */
static const struct qual *qualify(struct sym_module *m, Dwarf_Die *decl, const char *name, int depth)
{
	struct qual *q = qual_find(m, decl->addr);
	if (q)
		return q;
	Dwarf_Die parents[32];
	int np = die_parents(decl, parents, 32);
	if (np < 0)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int scope_line = 0;
	/* An enclosing function's name is written qualified: the scopes
	 * start at the innermost one. */
	int first = np;
	while (first > 0 && dwarf_tag(&parents[first - 1]) != DW_TAG_subprogram)
		first--;
	if (first > 0)
		first--;
	for (int i = first; i < np; i++) {
		Dwarf_Die *p = &parents[i];
		int line = 0;
		if (die_scope_print(f, parents, i)) {
			fputs("::", f);
			if (i == np - 1 && dwarf_tag(p) != DW_TAG_namespace && dwarf_decl_line(p, &line) == 0)
				scope_line = line;
			continue;
		}
		switch (dwarf_tag(p)) {
		case DW_TAG_subprogram: {
			/* a local class's function: qualified by the enclosing
			 * function, demangled here rather than in the lookup's
			 * scratch strings, since the result is kept */
			const char *ln = die_linkage_name(p);
			char *d = symbols_demangle(ln);
			if (d) {
				fprintf(f, "%s::", d);
				free(d);
				break;
			}
			Dwarf_Attribute at;
			const char *fn = dwarf_formstring(dwarf_attr_integrate(p, DW_AT_name, &at));
			Dwarf_Die pdecl;
			die_decl(p, &pdecl);
			const struct qual *pq = fn && depth < 8 ? qualify(m, &pdecl, fn, depth + 1) : NULL;
			fprintf(f, "%s::", pq ? pq->name : fn ? fn : ln ? ln : "{unknown}");
			break;
		}
		default:
			break;
		}
	}
	/* A lambda's call operator reads as the symbol of its out-of-line
	 * copy: with its parameters, and a generic lambda's (a template)
	 * after its return type, auto. */
	bool call = np > 0 && !strncmp(name, "operator()", 10) && !dwarf_diename(&parents[np - 1]) &&
		    die_is_closure(&parents[np - 1]);
	fputs(name, f);
	if (call)
		die_call_print(f, decl);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (call && name[10] == '<') {
		char *a = NULL;
		if (asprintf(&a, "auto %s", buf) < 0)
			a = NULL;
		free(buf);
		if (!(buf = a))
			return NULL;
	}
	return qual_add(m, decl->addr, buf, scope_line);
}

/* The display name of a function DIE: the demangled linkage name when there
 * is one (C++), else its name, qualified by its scopes in C++. */
static const char *func_name(struct symbolizer *s, struct sym_module *m, Dwarf_Die *die, bool cxx,
			     int *scope_line)
{
	*scope_line = 0;
	const char *ln = die_linkage_name(die);
	if (ln) {
		const char *d = symbols_keep(s, symbols_demangle(ln));
		if (d)
			return d;
	}
	Dwarf_Attribute a;
	const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	if (!n || ln || !cxx)
		return n ? n : ln;
	Dwarf_Die decl;
	die_decl(die, &decl);
	const struct qual *q = qualify(m, &decl, n, 0);
	if (!q)
		return n;
	*scope_line = q->scope_line;
	return q->name;
}

/* For the real (outermost) function when its DIE has no linkage name: the
 * demangled name of the ELF symbol that starts where one of the DIE's
 * ranges starts, so it is this function's; "[clone .constprop.0]" and the
 * like dropped so that clones count as the function. NULL when none. */
static const char *symbol_for_die(struct symbolizer *s, struct sym_module *m, Dwarf_Die *die, Dwarf_Addr a,
				  Dwarf_Addr cubias)
{
	Dwarf_Addr start;
	const char *raw = symbols_symtab_raw(m, a, &start);
	if (!raw || raw[0] != '_' || raw[1] != 'Z')
		return NULL;
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	bool ours = false;
	while (!ours && (off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0)
		ours = lo + cubias == start;
	if (!ours)
		return NULL;
	char *d = symbols_demangle(raw);
	if (!d)
		return NULL;
	char *clone = strstr(d, " [clone ");
	if (clone)
		*clone = '\0';
	return symbols_keep(s, d);
}

#define MAX_CHAIN 256

int symbols_lookup(struct symbolizer *s, struct sym_module *m, uint64_t vaddr, struct sym_frame *out, int max)
{
	symbols_scratch_clear(s);
	if (!m || !m->mod || max < 1)
		return 0;
	Dwarf_Addr a = vaddr + m->bias;
	const char *file = NULL;
	int line = 0;
	Dwfl_Line *l = dwfl_module_getsrc(m->mod, a);
	if (l)
		file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);

	int n = 0;
	Dwarf_Addr cubias;
	Dwarf_Die *cu = dwfl_module_addrdie(m->mod, a, &cubias);
	/* The concrete chain of scopes that contain the address, from the
	 * function down to the innermost inlined call: the function comes from
	 * the unit's index, the rest from a walk of its DIEs only. */
	Dwarf_Die chain[MAX_CHAIN];
	int nchain = 0;
	struct cu_index *ci = cu ? cu_index(m, cu) : NULL;
	Dwarf_Die *root = ci ? root_find(ci, a - cubias) : NULL;
	if (root) {
		chain[nchain++] = *root;
		descend(&chain[0], a - cubias, chain, &nchain, MAX_CHAIN, 0);
	}
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	bool cxx = nchain > 0 && is_cxx(cu);
	for (int k = nchain - 1; k >= 0 && n < max; k--) {
		Dwarf_Die *scope = &chain[k];
		int tag = dwarf_tag(scope);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		struct sym_frame *f = &out[n++];
		int scope_line;
		f->name = func_name(s, m, scope, cxx, &scope_line);
		f->file = file;
		f->line = line;
		f->decl_line = 0;
		f->start = 0;
		if (dwarf_decl_line(scope, &f->decl_line) != 0 || f->decl_line <= 0)
			f->decl_line = scope_line;
		if (tag == DW_TAG_subprogram) {
			const char *sn =
			    cxx && !die_linkage_name(scope) ? symbol_for_die(s, m, scope, a, cubias) : NULL;
			if (sn)
				f->name = sn;
			break;
		}
		/* The caller's position is where this inlined copy was called. */
		Dwarf_Attribute at;
		Dwarf_Word cf = 0, cl = 0;
		file = NULL;
		line = 0;
		if (dwarf_formudata(dwarf_attr(scope, DW_AT_call_line, &at), &cl) == 0)
			line = (int)cl;
		if (dwarf_formudata(dwarf_attr(scope, DW_AT_call_file, &at), &cf) == 0 &&
		    (files || dwarf_getsrcfiles(cu, &files, &nfiles) == 0) && cf < nfiles)
			file = dwarf_filesrc(files, cf, NULL, NULL);
	}
	if (n > 0 && !out[n - 1].name)
		out[n - 1].name = symbols_symtab_name(s, m, a);
	if (n == 0) {
		const char *name = symbols_symtab_name(s, m, a);
		uint64_t start = name ? 0 : symbols_cfi_start(m, a);
		if (!name && !file && !start)
			return 0;
		out[0] = (struct sym_frame){name, file, line, 0, start};
		n = 1;
	}
	return n;
}
