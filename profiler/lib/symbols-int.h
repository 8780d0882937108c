/* What symbols.c (the symbolizer and its modules), symbols-elf.c (names
 * from the ELF symbol table and the unwind tables) and symbols-dwarf.c (the
 * lookup through DWARF: functions, inlined calls, lines) share. */
#ifndef FATHOM_SYMBOLS_INT_H
#define FATHOM_SYMBOLS_INT_H

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbols.h"

#define MAX_SCRATCH 64

/* A DIE with code at [lo, hi) that is not inside another such DIE of its
 * unit: a function, nearly always. `order` is its place in the unit. */
struct root {
	Dwarf_Addr lo, hi, maxhi; /* maxhi: the largest hi of this and every earlier root in lo order */
	size_t order;
	Dwarf_Die die;
};

/* A C++ function's name qualified by its namespaces, classes and enclosing
 * functions; `scope_line` is the enclosing class's line (a lambda's closure
 * type carries the lambda's line, its operator() none). */
struct qual {
	const void *key; /* Dwarf_Die.addr of the declaring DIE */
	char *name;
	int scope_line;
};

/* The roots of one compile unit, sorted by lo: looking an address up is a
 * binary search, where dwarf_getscopes walked the whole unit every time. */
struct cu_index {
	Dwarf_Off off; /* of the unit's DIE; the key */
	struct root *roots;
	size_t nroots;
};

struct sym_module {
	struct symbolizer *owner;
	struct sym_module *next;
	struct sym_module *hnext; /* in the symbolizer's hash bucket */
	uint64_t hash;		  /* of path and build id */
	char *path;
	uint8_t build_id[64];
	size_t build_id_len;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	const char *problem; /* why a file module has no symbols, or NULL */
	bool dbgd_asked;     /* debuginfod was asked for its debug file */
	GElf_Addr bias;	     /* dwfl address = ELF virtual address + bias */
	/* .eh_frame_hdr's sorted table of function starts, when its encoding
	 * is the usual one; looked up for functions without a symbol */
	bool hdr_done;
	const uint8_t *hdr_table;
	uint64_t hdr_vaddr, hdr_count;
	/* Every symbol's start and end, sorted, and for each open interval
	 * between neighbours the symbol dwfl_module_addrinfo gave inside it. */
	bool syms_done;
	Dwarf_Addr *bounds;
	const char **bound_name;
	Dwarf_Addr *bound_start; /* the start of the symbol named in bound_name */
	size_t nbounds;
	struct symtab *symtab; /* the symbols by address, searched in place of dwfl_module_addrinfo */
	/* dwfl_module_addrinfo's answers of earlier runs, by build id (debugcache.h) */
	bool names_done;
	struct namecache *names;
	/* qualified names of C++ functions without a linkage name, by the
	 * declaring DIE: open addressing on the DIE's address */
	struct qual *quals;
	size_t nquals, capquals;
	/* compile units indexed so far: open addressing on the unit's offset */
	struct cu_index *cus;
	size_t ncus, capcus;
};

struct symbolizer {
	char *debuginfo_path;
	struct dbgd *dbgd;    /* NULL unless DEBUGINFOD_URLS is set and allowed */
	const char *dbgd_why; /* why debuginfod is not used although asked for */
	Dwfl_Callbacks cb;
	struct sym_module *modules;
	/* the same modules by path and build id: a dump may name hundreds of
	 * thousands of modules, too many for a list */
	struct sym_module **buckets;
	size_t nbuckets, nmodules;
	char *scratch[MAX_SCRATCH]; /* strings handed out by the last lookup */
	int nscratch;
	char warning[512];
};

/* Keeps str (malloc'ed) until the next lookup; NULL when str is NULL or
 * the scratch is full (str is then freed). */
const char *symbols_keep(struct symbolizer *s, char *str);
/* Frees the strings the last lookup kept. */
void symbols_scratch_clear(struct symbolizer *s);

/* The symbol table's name for dwfl address a, not demangled, and where that
 * symbol starts (*start); NULL when none. */
const char *symbols_symtab_raw(struct sym_module *m, Dwarf_Addr a, Dwarf_Addr *start);
/* The symbol table's name for a, demangled. */
const char *symbols_symtab_name(struct symbolizer *s, struct sym_module *m, Dwarf_Addr a);
/* The ELF address where the function around dwfl address a starts, from
 * the unwind tables; 0 when no FDE covers a. */
uint64_t symbols_cfi_start(struct sym_module *m, Dwarf_Addr a);

#endif
