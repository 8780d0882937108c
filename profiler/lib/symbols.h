/* The symbolizer: ELF virtual address of a module file -> function names
 * (inline chain, demangled), source file and line, through elfutils libdwfl. */
#ifndef FATHOM_SYMBOLS_H
#define FATHOM_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symbolizer;
struct sym_module;

/* One function of an inline chain. Strings belong to the symbolizer and stay
 * valid until the next symbols_lookup() call. */
struct sym_frame {
	const char *name; /* NULL when no symbol covers the address */
	const char *file; /* source file of `line`, or NULL */
	int line;	  /* 0 when unknown */
	int decl_line;	  /* first line of the function, 0 when unknown */
	uint64_t start;	  /* with no name: the ELF address where the unnamed
			     function starts (from its unwind entry), else 0 */
};

/* symbols_new's flags. SYM_DEBUGINFOD: debug files and executables that
 * are nowhere here may be fetched from the servers in DEBUGINFOD_URLS (when
 * set); SYM_PROGRESS: a progress line on a terminal while downloading. */
#define SYM_DEBUGINFOD 1
#define SYM_PROGRESS 2

/* `debug_dirs`: extra directories (colon-separated) searched for separate
 * debug files, besides the standard ones (/usr/lib/debug, build-id paths
 * DIR/.build-id/xx/yyyy.debug under each). */
struct symbolizer *symbols_new(const char *debug_dirs, int flags);
void symbols_free(struct symbolizer *s);

/* The module file at `path`, opened once per distinct (path, build id) and
 * cached. Never NULL unless out of memory; a file that cannot be read gives a
 * module whose lookups return 0. When the file on disk is not the one that
 * was recorded (another build id), *warning is set to a message (owned by the
 * symbolizer) the first time. */
struct sym_module *symbols_module(struct symbolizer *s, const char *path, const uint8_t *build_id,
				  size_t build_id_len, const char **warning);

/* Why the module file at an absolute path gives no symbols ("gone since the
 * recording", "changed since the recording (other build id)"), or NULL when
 * it does (or is no file at all, like the vDSO). */
const char *symbols_module_problem(const struct sym_module *m);

/* Whether the module has DWARF debug information (in its file or a separate
 * debug file found by build id, debug link or debuginfod). */
bool symbols_module_has_debuginfo(struct sym_module *m);

/* One line for the user about debuginfod (what could not be found, a
 * failing server, a missing client library), or NULL. */
const char *symbols_summary(struct symbolizer *s);

/* Resolves `vaddr` (an ELF virtual address of the module, i.e. the runtime
 * address minus the load bias) into at most max frames, innermost inlined
 * function first, the real function last. Returns how many were written;
 * 0 when nothing at all is known about the address. An address in a function
 * without any symbol (a stripped library's static function) gives one frame
 * with a NULL name and the function's start, so that its addresses can be
 * counted as one function. */
int symbols_lookup(struct symbolizer *s, struct sym_module *m, uint64_t vaddr, struct sym_frame *out,
		   int max);

/* Demangles a C++ or Rust-style Itanium name; returns a malloc'd string, or
 * NULL when `name` is not mangled. */
char *symbols_demangle(const char *name);

#endif
