/* Reading demangled C++ names: where the qualified name starts after a
 * template function's return type, and the short form of a name that text
 * rows show (template arguments elided: std::vector<…>::push_back). */
#ifndef FATHOM_CXXNAME_H
#define FATHOM_CXXNAME_H

#include <stddef.h>

/* The qualified name inside a demangled name: past the return type that a
 * function template's name starts with ("void std::vector<int>::f<int>(int)"
 * gives "std::vector<int>::f<int>(int)"); the name itself otherwise. */
const char *cxxname_qualified(const char *name);

/* name with every template argument list written "<…>", into buf (len
 * bytes, cut short if it must be); returns buf, or name itself when it has
 * no template arguments. Operators (operator<, operator<<, operator<=>) are
 * kept. */
const char *cxxname_short(const char *name, char *buf, size_t len);

#endif
