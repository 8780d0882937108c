/* C++ names that DWARF leaves to be built (the scopes around a DIE, types,
 * lambda closure types), spelt as the Itanium demangler spells them, so that a
 * function known only from DWARF reads like the same function in the symbol
 * table. */
#ifndef FATHOM_DIE_NAMES_H
#define FATHOM_DIE_NAMES_H

#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdio.h>

/* The DIEs that enclose die in its unit, outermost first (the unit itself
 * not included); -1 when not found. */
int die_parents(Dwarf_Die *die, Dwarf_Die *out, int max);

/* A nameless class with an operator() is a lambda's closure type. */
bool die_is_closure(Dwarf_Die *type);

/* Prints the scope parents[i] (a namespace, class, union or closure type)
 * as its part of a qualified name, without the "::"; parents[0..i) are the
 * scopes around it. A closure type is "{lambda(double)#2}": its call
 * operator's parameters, and its place among the lambdas of the enclosing
 * function (GCC numbers them in source order). Returns false, printing
 * nothing, for any other kind of scope (a function, a block). */
bool die_scope_print(FILE *f, Dwarf_Die *parents, int i);

/* What the demangler writes after the name of op, a closure's operator()
 * (declaring DIE): its parameter list, and " const" unless the lambda is
 * mutable. */
void die_call_print(FILE *f, Dwarf_Die *op);

#endif
