/* A module's symbol table sorted by address, so that naming an address is
 * a binary search where dwfl_module_addrinfo scans every symbol (seconds
 * per thousand addresses in libLLVM's 60,000 symbols). */
#ifndef FATHOM_SYMTAB_H
#define FATHOM_SYMTAB_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>

struct symtab;

/* The symbols of mod with a size, sorted; NULL when it has none or out of
 * memory (then every lookup is the caller's). */
struct symtab *symtab_build(Dwfl_Module *mod);
void symtab_free(struct symtab *t);

/* The symbol dwfl_module_addrinfo would pick for a: its name and start.
 * Returns false when the caller must ask dwfl_module_addrinfo (no global
 * sized symbol around a while the module has sizeless ones, which dwfl may
 * pick; more overlapping symbols than usual); true with *name NULL when no
 * symbol names a. */
bool symtab_lookup(const struct symtab *t, Dwarf_Addr a, const char **name, Dwarf_Addr *start);

#endif
