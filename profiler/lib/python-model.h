/* What python.c (the records, code objects and module names) and
 * python-merge.c (the merge of Python frames into native stacks, the
 * Python-only view and what they could not do) share. Private to those two
 * files. */
#ifndef FATHOM_PYTHON_MODEL_H
#define FATHOM_PYTHON_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "python.h"

struct py_code {
	char *name, *file, *module;
	int firstlineno;
	uint8_t *table;
	size_t ntable;
	uint32_t mod_index; /* the model's module (py_modules), UINT32_MAX none */
};

struct py_proc {
	bool found;
	/* -X perf: the interpreter's frame evaluator was seen to be its perf
	 * trampolines (a PYTHON PERF record, format 1.4). */
	bool perf;
	uint64_t version, eval_lo, eval_hi;
	char *path;	       /* the object that holds the interpreter */
	struct py_code *codes; /* by id */
	size_t ncodes;
	/* The merge, in CPU weight: stacks with a Python part, those whose
	 * eval frames and Python calls disagreed, those cut short at a perf
	 * trampoline (whose outer Python calls went at the root). */
	int64_t merged, mismatched, trampoline_cut;
	uint64_t walks, faults;
};

struct py_model {
	struct py_proc *procs;
	size_t nprocs;
	char **problems; /* py_finish's warnings */
	size_t nproblems;
	uint64_t *tmp_a;
	uint32_t *tmp_m;
	size_t tmp_cap;
};

/* The process's state, NULL when it has none (and !create). */
struct py_proc *py_proc_of(struct py_model *m, uint32_t proc, bool create);

/* The entry that stands for a run of the interpreter's native frames in a
 * stack without Python frames, in the Python view ("[python interpreter]"). */
#define PY_INTERP_CODE 0x3ffffffeu

#endif
