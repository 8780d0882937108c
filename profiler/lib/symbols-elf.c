/* Names from a module's ELF symbol table (symtab.c's sorted copy, libdwfl's
 * answers between symbol bounds, namecache's of earlier runs) and function
 * starts from its unwind tables, for code DWARF does not name. */
#define _GNU_SOURCE
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "debugcache.h"
#include "symbols-int.h"
#include "symtab.h"

static int addr_cmp(const void *a, const void *b)
{
	Dwarf_Addr x = *(const Dwarf_Addr *)a, y = *(const Dwarf_Addr *)b;
	return x < y ? -1 : x > y;
}

/* The symbol starts and ends, and the starts and ends of the loaded
 * sections: between two neighbours, dwfl_module_addrinfo's answer is the
 * same for every address (the same symbols contain it, lie below it, and
 * share its section). */
static void bounds_load(struct sym_module *m)
{
	m->syms_done = true;
	int nsyms = dwfl_module_getsymtab(m->mod);
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->mod, &bias);
	size_t nscn = 0;
	if (elf)
		elf_getshdrnum(elf, &nscn);
	if (nsyms <= 0 || !(m->bounds = malloc((2 * (size_t)nsyms + 2 * nscn) * sizeof(*m->bounds))))
		return;
	size_t n = 0;
	for (int i = 0; i < nsyms; i++) {
		GElf_Sym sym;
		GElf_Addr value;
		if (!dwfl_module_getsym_info(m->mod, i, &sym, &value, NULL, NULL, NULL))
			continue;
		m->bounds[n++] = value;
		m->bounds[n++] = value + sym.st_size;
	}
	for (Elf_Scn *scn = NULL;
	     elf && n + 2 <= 2 * (size_t)nsyms + 2 * nscn && (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_ALLOC)) {
			m->bounds[n++] = sh.sh_addr + bias;
			m->bounds[n++] = sh.sh_addr + sh.sh_size + bias;
		}
	}
	qsort(m->bounds, n, sizeof(*m->bounds), addr_cmp);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || m->bounds[u - 1] != m->bounds[i])
			m->bounds[u++] = m->bounds[i];
	m->bound_name = calloc(u ? u : 1, sizeof(*m->bound_name));
	m->bound_start = calloc(u ? u : 1, sizeof(*m->bound_start));
	if (!m->bound_name || !m->bound_start) {
		free(m->bounds);
		free(m->bound_name);
		free(m->bound_start);
		m->bounds = NULL;
		m->bound_name = NULL;
		m->bound_start = NULL;
		return;
	}
	m->nbounds = u;
	m->symtab = symtab_build(m->mod);
}

/* bound_name's answer "no symbol" */
static const char no_symbol[] = "";

/* The symbol table's name for a, as dwfl_module_addrinfo gives it, not
 * demangled, and where that symbol starts (*start). That call scans every
 * symbol of the module (the larger part of a libc lookup, seconds for
 * libLLVM): symtab.c answers instead when a global symbol with a size
 * contains a, and any answer is kept for the open interval between the
 * neighbouring bounds around a (bounds_load), where it is the same, and
 * dwfl's answers for the next run (namecache, by build id). */
const char *symbols_symtab_raw(struct sym_module *m, Dwarf_Addr a, Dwarf_Addr *start)
{
	if (!m->syms_done)
		bounds_load(m);
	size_t lo = 0, hi = m->nbounds;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->bounds[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* interval lo - 1 is (bounds[lo - 1], bounds[lo]); a bound itself is not inside one */
	bool cacheable = lo > 0 && lo < m->nbounds && m->bounds[lo - 1] != a;
	if (cacheable && m->bound_name[lo - 1]) {
		*start = m->bound_start[lo - 1];
		return m->bound_name[lo - 1] == no_symbol ? NULL : m->bound_name[lo - 1];
	}
	GElf_Off off;
	const char *n;
	uint64_t was;
	if (!symtab_lookup(m->symtab, a, &n, start)) {
		if (!m->names_done) {
			m->names_done = true;
			m->names =
			    namecache_open(m->build_id, m->build_id_len, dwfl_module_getsymtab(m->mod));
		}
		if (namecache_get(m->names, a - m->bias, &n, &was)) {
			*start = was + m->bias;
		} else {
			if ((n = dwfl_module_addrinfo(m->mod, a, &off, &(GElf_Sym){0}, NULL, NULL, NULL)))
				*start = a - off;
			namecache_put(m->names, a - m->bias, n, n ? *start - m->bias : 0);
		}
	}
	if (cacheable) {
		m->bound_name[lo - 1] = n ? n : no_symbol;
		m->bound_start[lo - 1] = n ? *start : 0;
	}
	return n;
}

/* The symbol table's name for a, demangled. */
const char *symbols_symtab_name(struct symbolizer *s, struct sym_module *m, Dwarf_Addr a)
{
	Dwarf_Addr start;
	const char *n = symbols_symtab_raw(m, a, &start);
	if (!n)
		return NULL;
	const char *d = symbols_keep(s, symbols_demangle(n));
	return d ? d : n;
}

/* Finds .eh_frame_hdr and checks it has the usual encodings: a count as
 * udata4 and a table of (start, fde) pairs as datarel sdata4. */
static void hdr_load(struct sym_module *m)
{
	m->hdr_done = true;
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->mod, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".eh_frame_hdr"))
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < 12)
			return;
		const uint8_t *h = d->d_buf;
		if (h[0] != 1 || h[2] != 0x03 || h[3] != 0x3b || (h[1] & 0x0f) != 0x0b)
			return;
		uint64_t count =
		    (uint64_t)h[8] | (uint64_t)h[9] << 8 | (uint64_t)h[10] << 16 | (uint64_t)h[11] << 24;
		if (count > (d->d_size - 12) / 8)
			return;
		m->hdr_table = h + 12;
		m->hdr_count = count;
		m->hdr_vaddr = sh.sh_addr;
		return;
	}
}

static int64_t s32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* The ELF address where the function around dwfl address a starts, from
 * the unwind tables (one FDE per function); 0 when no FDE covers a. */
uint64_t symbols_cfi_start(struct sym_module *m, Dwarf_Addr a)
{
	Dwarf_Addr cbias;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(m->mod, &cbias);
	Dwarf_Frame *frame;
	if (!cfi || dwarf_cfi_addrframe(cfi, a - cbias, &frame) != 0)
		return 0;
	free(frame);
	if (!m->hdr_done)
		hdr_load(m);
	if (!m->hdr_table || !m->hdr_count)
		return 0;
	/* The last entry starting at or before the address: FDEs do not overlap. */
	int64_t vaddr = (int64_t)(a - m->bias);
	uint64_t lo = 0, hi = m->hdr_count;
	while (lo < hi) {
		uint64_t mid = (lo + hi) / 2;
		if ((int64_t)m->hdr_vaddr + s32(m->hdr_table + 8 * mid) <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	int64_t start = (int64_t)m->hdr_vaddr + s32(m->hdr_table + 8 * (lo - 1));
	return start > 0 ? (uint64_t)start : 0;
}
