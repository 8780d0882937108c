/* A module's sized symbols sorted by start, searched as libdwfl's
 * dwfl_module_addrinfo chooses among the symbols that contain an address:
 * global before local, then the closest start, a stronger binding
 * replacing a weaker one, in symbol table order. */
#define _GNU_SOURCE
#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "symtab.h"

#define MAX_AROUND 64 /* symbols containing one address; more: dwfl decides */

struct ssym {
	Dwarf_Addr lo, hi; /* [lo, hi) */
	Dwarf_Addr maxhi;  /* the largest hi of this and every earlier entry */
	const char *name;
	uint32_t index; /* in the module's symbol table: dwfl's order */
	uint8_t bind;	/* binding_value as libdwfl ranks it */
};

struct symtab {
	struct ssym *s;
	size_t n;
	bool sizeless; /* some eligible symbol has no size: dwfl may fall back on it */
};

/* libdwfl's ranking of bindings (dwfl_module_addrsym.c). */
static uint8_t binding_value(const GElf_Sym *sym)
{
	switch (GELF_ST_BIND(sym->st_info)) {
	case STB_GLOBAL:
		return 3;
	case STB_GNU_UNIQUE:
		return 2;
	case STB_WEAK:
		return 1;
	}
	return 0;
}

static int by_lo(const void *a, const void *b)
{
	const struct ssym *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

struct symtab *symtab_build(Dwfl_Module *mod)
{
	int nsyms = dwfl_module_getsymtab(mod);
	struct symtab *t = nsyms > 0 ? calloc(1, sizeof(*t)) : NULL;
	if (!t || !(t->s = malloc((size_t)nsyms * sizeof(*t->s)))) {
		free(t);
		return NULL;
	}
	for (int i = 0; i < nsyms; i++) {
		GElf_Sym sym;
		GElf_Addr value;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &sym, &value, &shndx, NULL, NULL);
		int type = GELF_ST_TYPE(sym.st_info);
		/* what dwfl_module_addrinfo considers at all */
		if (!name || !name[0] || sym.st_shndx == SHN_UNDEF || type == STT_SECTION ||
		    type == STT_FILE || type == STT_TLS)
			continue;
		if (!sym.st_size) {
			t->sizeless = true;
			continue;
		}
		t->s[t->n++] = (struct ssym){.lo = value,
					     .hi = value + sym.st_size,
					     .name = name,
					     .index = (uint32_t)i,
					     .bind = binding_value(&sym)};
	}
	qsort(t->s, t->n, sizeof(*t->s), by_lo);
	for (size_t i = 0; i < t->n; i++)
		t->s[i].maxhi = i && t->s[i - 1].maxhi > t->s[i].hi ? t->s[i - 1].maxhi : t->s[i].hi;
	return t;
}

void symtab_free(struct symtab *t)
{
	if (t)
		free(t->s);
	free(t);
}

static int by_index(const void *a, const void *b)
{
	const struct ssym *x = *(const struct ssym *const *)a, *y = *(const struct ssym *const *)b;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* dwfl's pass over one part of the table (globals, then locals): a symbol
 * replaces the one kept when it starts closer or binds more strongly. */
static const struct ssym *pick(const struct ssym *const *c, size_t n, bool global)
{
	const struct ssym *best = NULL;
	for (size_t i = 0; i < n; i++)
		if ((c[i]->bind != 0) == global && (!best || best->lo < c[i]->lo || best->bind < c[i]->bind))
			best = c[i];
	return best;
}

bool symtab_lookup(const struct symtab *t, Dwarf_Addr a, const char **name, Dwarf_Addr *start)
{
	*name = NULL;
	if (!t)
		return false;
	/* the last symbol starting at or below a */
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (t->s[mid].lo <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct ssym *around[MAX_AROUND];
	size_t n = 0;
	for (size_t i = lo; i-- > 0 && t->s[i].maxhi > a;) {
		if (t->s[i].hi > a) {
			if (n == MAX_AROUND)
				return false;
			around[n++] = &t->s[i];
		}
	}
	qsort(around, n, sizeof(*around), by_index);
	const struct ssym *best = pick(around, n, true);
	/* Without a global, dwfl may pick a sizeless symbol (at a, or as its
	 * fallback when no sized symbol contains a): it decides. */
	if (!best && t->sizeless)
		return false;
	if (!best && !(best = pick(around, n, false)))
		return true;
	*name = best->name;
	*start = best->lo;
	return true;
}
