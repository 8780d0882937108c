/* Python frames in the model: the code objects and interpreter a dump
 * describes (records PYCODE and PYTHON, format 1.3), line numbers from
 * CPython's location tables (python-lines.c), the merge of Python frames
 * into native stacks at the eval loop's frames and the Python-only view
 * (python-merge.c), and the names of Python functions and modules
 * (python.c). */
#ifndef FATHOM_PYMODEL_H
#define FATHOM_PYMODEL_H

#include <stdbool.h>
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

#include "profile.h"

struct py_model;

struct py_model *py_model_new(void);
void py_model_free(struct py_model *m);

/* A PYCODE (17) or PYTHON (18) record body of process proc. Returns 0, 1
 * when it is the first PYTHON FOUND of the process, -1 when the body is
 * malformed, -ENOMEM. */
int py_record(struct py_model *m, uint32_t proc, int kind, const uint8_t *body, size_t len);

/* Gives each Python module of process proc (json.decoder: python.c's
 * module_name tells how files are named) a module of the model: calls add
 * once per module with its dotted name and the file of one of its code
 * objects; add returns the model's index, UINT32_MAX when out of memory.
 * Returns 0 or -ENOMEM. */
int py_modules(struct py_model *m, uint32_t proc,
	       uint32_t (*add)(void *arg, const char *name, const char *file), void *arg);

/* Where the eval loop (_PyEval_EvalFrameDefault) of process proc starts: an
 * address inside the interpreter's own object; 0 when no interpreter was
 * found. */
uint64_t py_eval_addr(struct py_model *m, uint32_t proc);

/* Rewrites a stack of process proc (addresses leaf first, their modules in
 * mods) with its Python part merged in: each native frame of the eval loop
 * is replaced by that call's Python frames (tagged entries, module none).
 * weight is the stack's CPU weight, for the counts py_finish reports.
 * Returns the new depth, never more than n. */
uint32_t py_merge(struct py_model *m, uint32_t proc, uint64_t *addrs, uint32_t *mods, uint32_t n,
		  int64_t weight, uint32_t none);

/* The Python-only view (--python) of a merged stack of process proc, in
 * place: frames root-side of the outermost Python frame go (the process's
 * and thread's start-up), and so do the interpreter's own native frames
 * (those of module interp: the eval loop, call machinery, pymalloc); other
 * native frames called from Python stay (C extensions, libc, libsqlite3).
 * A stack without a Python frame (start-up, finalization) keeps what its
 * innermost interpreter frame called, under one "[python interpreter]"
 * entry for the rest. Stacks of processes without an interpreter are left alone.
 * Returns the new depth; *leaf_ret is set when the new leaf is a native
 * frame that was not the leaf (a return address). */
uint32_t py_view(struct py_model *m, uint32_t proc, uint64_t *addrs, uint32_t *mods, uint32_t n,
		 uint32_t interp, bool *leaf_ret);

/* The function of a tagged entry: name ("module.Class.method": the dotted
 * module, then the qualname), file, line (0 unknown), first line, and the
 * module py_modules gave it (UINT32_MAX none). */
void py_symbol(struct py_model *m, uint32_t proc, uint64_t entry, const char **name, const char **file,
	       int *line, int *decl_line, uint32_t *module);

/* After every stack is merged: fills each process's fa_process.python and
 * makes the warnings py_problem gives. Returns 0 or -ENOMEM. */
int py_finish(struct py_model *m, struct profile *p);

/* The i-th thing the merge could not do or the user must know (a warning),
 * NULL past the last. The string is the model's. */
const char *py_problem(const struct py_model *m, size_t i);

#endif
