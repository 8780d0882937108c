/* What python.c (finding the interpreter, writing its code objects) and
 * signal-python.c (the fault guard and the walk in the sampling handler)
 * share: the interpreter's offsets, the state of Python support and the
 * table of code objects. Private to those two files.
 */
#ifndef FATHOM_PYTHON_INT_H
#define FATHOM_PYTHON_INT_H

#include <signal.h>
#include <stdint.h>

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

#pragma GCC visibility push(hidden)

/* Offsets into the interpreter's structures; NONE where a version has no
 * such field. */
#define NONE UINT32_MAX
struct py_off {
	uint32_t rt_finalizing, rt_interp_head;
	uint32_t ts_interp, ts_cframe, cf_frame, ts_frame;
	uint32_t fr_code, fr_previous, fr_instr, fr_is_entry, fr_owner;
	uint32_t co_firstlineno, co_filename, co_qualname, co_linetable, co_adaptive;
	uint32_t str_state, str_length, str_ascii_size, str_compact_size;
	uint32_t bytes_size, bytes_sval, ob_type;
};

#define FRAME_OWNED_BY_CSTACK 3
/* The code id of a frame whose code object the full table could not take. */
#define PY_CODE_UNKNOWN 0x3fffffffu

extern struct py_off g_off;
extern unsigned long g_version; /* Py_Version: 0x030b02f0 is 3.11.2 */
extern uintptr_t g_runtime, g_code_type, g_eval_lo, g_eval_hi;
extern void *(*g_get_tstate)(void);
/* Found: the interpreter is described in the dump (python_walk_on, python.h:
 * frames are walked). */
extern volatile int g_found;
/* Why frames stopped being walked (said by the writer: no stdio in the
 * handler), and whether it is still to be said. */
extern char g_disabled[256];
extern volatile int g_disable_pending;
/* The walks' counters, written as a PYTHON STATS record. */
extern _Atomic uint64_t g_walks, g_faults, g_invalid, g_finalizing, g_validated;

/* Code objects seen in samples, by (address, first line, qualname and
 * filename objects): an address is reused once a code object is freed. An
 * entry is filled in the signal handler, then published (READY) for the
 * writer, which writes entries in id order. Lock-free: a lost insertion race
 * leaves a duplicate entry, written twice under two ids. */
#define CODES_MAX (1u << 16)
#define CODE_SLOTS (1u << 17)
#define CODE_BYTES (32u << 20)
#define QUAL_MAX 256
#define FILE_MAX 1024
#define TABLE_MAX (32u << 10)
enum { CODE_FILLING = 0, CODE_READY, CODE_DEAD };

struct pycode {
	uint64_t addr, qual, file;
	int64_t firstlineno;
	_Atomic uint32_t state;
	uint32_t off, nqual, nfile, ntable;
};

extern struct pycode *g_codes;	  /* [CODES_MAX]; id 0 is no code */
extern _Atomic uint32_t *g_slots; /* [CODE_SLOTS]: ids */
extern char *g_bytes;		  /* [CODE_BYTES]: names and tables */
extern _Atomic uint32_t g_ncodes, g_nbytes;

/* Installs the fault guard's SIGSEGV and SIGBUS handler (once); -1 when
 * it cannot. */
int python_guard_install(void);

#pragma GCC visibility pop

#endif
