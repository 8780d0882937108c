/* Python frames in the model: the code objects and interpreter a dump
 * describes (records PYCODE and PYTHON, format 1.3), line numbers from
 * CPython's location tables, and the merge of Python frames into native
 * stacks at the eval loop's frames (python.c, python-lines.c). */
#ifndef FATHOM_PYMODEL_H
#define FATHOM_PYMODEL_H

#include <stddef.h>
#include <stdint.h>

/* The source line of code unit `lasti` in a CPython 3.11+ location table
 * (co_linetable) of a code object that starts at `firstlineno`: the entry
 * with start <= lasti < end. Returns the line, or -1 when the entry has no
 * line (code 15) or lasti lies beyond the table. */
int py_line(const uint8_t *table, size_t len, int firstlineno, uint32_t lasti);

/* Calls fn for each entry of the table, as code.co_lines() gives them:
 * start and end in bytes, line or -1. Returns 0, or -1 when the table is
 * malformed. */
int py_lines_each(const uint8_t *table, size_t len, int firstlineno,
		  void (*fn)(void *arg, uint32_t start, uint32_t end, int line), void *arg);

struct py_model;

struct py_model *py_model_new(void);
void py_model_free(struct py_model *m);

/* A PYCODE (17) or PYTHON (18) record body of process proc. Returns 0, 1
 * when it is the first PYTHON FOUND of the process (the caller then makes
 * its "python" module), -1 when the body is malformed, -ENOMEM. */
int py_record(struct py_model *m, uint32_t proc, int kind, const uint8_t *body, size_t len);

/* Rewrites a stack of process proc (addresses leaf first, their modules in
 * mods) with its Python part merged in: each native frame of the eval loop
 * is replaced by that call's Python frames (tagged entries, module none).
 * weight is the stack's CPU weight, for the mismatch count. Returns the new
 * depth, never more than n. */
uint32_t py_merge(struct py_model *m, uint32_t proc, uint64_t *addrs, uint32_t *mods, uint32_t n,
		  int64_t weight, uint32_t none);

/* The function of a tagged entry: name ("module.Class.method", from the
 * file's name and the qualname), file, line (0 unknown) and first line. */
void py_symbol(struct py_model *m, uint32_t proc, uint64_t entry, const char **name, const char **file,
	       int *line, int *decl_line);

/* What the merge could not do, for a warning; NULL when nothing. The
 * string is the model's. */
const char *py_problems(struct py_model *m);

#endif
