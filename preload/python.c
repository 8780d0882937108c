/* Python frames in CPU samples: finds a CPython 3.11, 3.12 or 3.13 by its
 * exported symbols and writes each code object that samples named (its
 * names and line table) into the dump once (records PYCODE and PYTHON).
 * The walk itself, in the sampling handler, is in signal-python.c.
 *
 * The walk reads the interpreter's private structures at offsets from the
 * tables below (3.11, 3.12: offsetof in each version's internal headers) or
 * from _Py_DebugOffsets (3.13).
 */
#define _GNU_SOURCE
#include "python.h"

#include "agent.h"
#include "encode.h"
#include "python-int.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const struct py_off off_311 = {
    24, 40, 16, 56, 8, NONE, 32, 48, 56, 68, 69, 72, 112, 128, 136, 184, 32, 16, 48, 72, 16, 32, 8,
};
static const struct py_off off_312 = {
    24, 40, 16, 56, 0, NONE, 0, 8, 56, NONE, 70, 68, 112, 128, 136, 192, 32, 16, 40, 56, 16, 32, 8,
};
static const struct py_off off_313 = {
    608, 632, 16, NONE, NONE, 72, 0, 8, 56, NONE, 70, 68, 112, 128, 136, 200, 32, 16, 40, 56, 16, 32, 8,
};

/* The head of 3.13's _Py_DebugOffsets (Include/internal/pycore_runtime.h),
 * at offset 0 of _PyRuntime. */
struct py_debug_offsets {
	char cookie[8];
	uint64_t version, free_threaded;
	uint64_t rt[3]; /* size, finalizing, interpreters_head */
	uint64_t interp[13];
	uint64_t ts[9];	   /* size, prev, next, interp, current_frame, ... */
	uint64_t frame[6]; /* size, previous, executable, instr_ptr, localsplus, owner */
	uint64_t code[10]; /* size, filename, name, qualname, linetable, firstlineno, ..., co_code_adaptive */
	uint64_t pyobj[2]; /* size, ob_type */
	uint64_t type[4], tuple[3], list[3], dict[3], flt[2], lng[3];
	uint64_t bytes[3]; /* size, ob_size, ob_sval */
	uint64_t ustr[4];  /* size, state, length, asciiobject_size */
};

struct py_off g_off;
unsigned long g_version;
uintptr_t g_runtime, g_code_type, g_eval_lo, g_eval_hi;
void *(*g_get_tstate)(void);
static char g_where[256];
volatile int g_found, g_on;
/* One interpreter was refused (and said so): no more looking, no more lines. */
static int g_said_old, g_refused;
char g_disabled[256];
volatile int g_disable_pending;
_Atomic uint64_t g_walks, g_faults, g_invalid, g_finalizing, g_validated;

/* ------------------------------------------------------------ the code table */

struct pycode *g_codes;
_Atomic uint32_t *g_slots;
char *g_bytes;
_Atomic uint32_t g_ncodes = 1, g_nbytes;
static uint32_t g_written = 1; /* the writer's next id */
static int g_info_written;
static uint64_t g_stats_written[5];

static void *map_noreserve(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int table_init(void)
{
	if (g_codes)
		return 0;
	g_codes = map_noreserve(CODES_MAX * sizeof(struct pycode));
	g_slots = map_noreserve(CODE_SLOTS * sizeof(*g_slots));
	g_bytes = map_noreserve(CODE_BYTES);
	return g_codes && g_slots && g_bytes ? 0 : -1;
}

/* ------------------------------------------------------------------ finding */

static void *sym(void *h, const char *name)
{
	return dlsym(h ? h : RTLD_DEFAULT, name);
}

/* Looks for an interpreter through handle (NULL: every loaded object).
 * Returns 1 when one is found and supported. */
static int detect(void *h)
{
	const unsigned long *ver = sym(h, "Py_Version");
	if (!ver) {
		if (!g_said_old && sym(h, "Py_GetVersion") && sym(h, "PyEval_EvalFrameEx")) {
			g_said_old = 1;
			say_late(
			    "fathom: a Python older than 3.11 is in the program; its frames are not shown "
			    "(native frames only)");
		}
		return 0;
	}
	unsigned long v = *ver;
	unsigned major = (unsigned)(v >> 24), minor = (unsigned)(v >> 16) & 0xff,
		 micro = (unsigned)(v >> 8) & 0xff;
	Dl_info di;
	memset(&di, 0, sizeof(di));
	dladdr(ver, &di);
	snprintf(g_where, sizeof(g_where), "%s", di.dli_fname ? di.dli_fname : "");
	char name[32];
	snprintf(name, sizeof(name), "Python %u.%u.%u", major, minor, micro);
	if (major != 3 || minor < 11 || minor > 13) {
		say_late("fathom: %s is not one fathom knows (3.11 to 3.13); its frames are not shown "
			 "(native frames "
			 "only)",
			 name);
		return -1;
	}
	g_runtime = (uintptr_t)sym(h, "_PyRuntime");
	g_code_type = (uintptr_t)sym(h, "PyCode_Type");
	*(void **)&g_get_tstate = sym(h, "PyGILState_GetThisThreadState");
	void *eval = sym(h, "_PyEval_EvalFrameDefault");
	if (!g_runtime || !g_code_type || !g_get_tstate || !eval) {
		say_late("fathom: %s in %s lacks the symbols fathom reads (_PyRuntime, PyCode_Type, "
			 "PyGILState_GetThisThreadState, _PyEval_EvalFrameDefault); native frames only",
			 name, g_where);
		return -1;
	}
	if (sym(h, "_Py_NegativeRefcount")) {
		say_late("fathom: %s in %s is a debug build, whose layout fathom does not know; native "
			 "frames only",
			 name, g_where);
		return -1;
	}
	g_off = minor == 11 ? off_311 : minor == 12 ? off_312 : off_313;
	if (minor >= 13) {
		const struct py_debug_offsets *d = (const void *)g_runtime;
		if (memcmp(d->cookie, "xdebugpy", 8) != 0) {
			say_late("fathom: %s in %s has no debug offsets; native frames only", name, g_where);
			return -1;
		}
		if (d->free_threaded || d->pyobj[1] != 8) {
			say_late("fathom: %s in %s is a free-threaded build, which fathom does not support; "
				 "native "
				 "frames only",
				 name, g_where);
			return -1;
		}
		g_off.rt_finalizing = (uint32_t)d->rt[1];
		g_off.rt_interp_head = (uint32_t)d->rt[2];
		g_off.ts_interp = (uint32_t)d->ts[3];
		g_off.ts_frame = (uint32_t)d->ts[4];
		g_off.fr_previous = (uint32_t)d->frame[1];
		g_off.fr_code = (uint32_t)d->frame[2];
		g_off.fr_instr = (uint32_t)d->frame[3];
		g_off.fr_owner = (uint32_t)d->frame[5];
		g_off.co_filename = (uint32_t)d->code[1];
		g_off.co_qualname = (uint32_t)d->code[3];
		g_off.co_linetable = (uint32_t)d->code[4];
		g_off.co_firstlineno = (uint32_t)d->code[5];
		g_off.co_adaptive = (uint32_t)d->code[9];
		g_off.bytes_size = (uint32_t)d->bytes[1];
		g_off.bytes_sval = (uint32_t)d->bytes[2];
		g_off.str_state = (uint32_t)d->ustr[1];
		g_off.str_length = (uint32_t)d->ustr[2];
		g_off.str_ascii_size = (uint32_t)d->ustr[3];
		/* utf8_length and utf8 follow the ASCII header. */
		g_off.str_compact_size = g_off.str_ascii_size + 16;
	}
	const ElfW(Sym) *es = NULL;
	Dl_info ei;
	if (dladdr1(eval, &ei, (void **)&es, RTLD_DL_SYMENT) && es && es->st_size) {
		g_eval_lo = (uintptr_t)eval;
		g_eval_hi = (uintptr_t)eval + es->st_size;
	} else {
		g_eval_lo = g_eval_hi = (uintptr_t)eval;
	}
	g_version = v;
	if (table_init() < 0) {
		say_late("fathom: cannot map the table of Python code objects; native frames only");
		return -1;
	}
	if (python_guard_install() < 0) {
		say_late("fathom: cannot install the fault guard for Python frames; native frames only");
		return -1;
	}
	g_found = 1;
	g_on = 1;
	python_alloc_found(h);
	return 1;
}

void python_init(void)
{
	if (getenv("FATHOM_PYTHON") && !strcmp(getenv("FATHOM_PYTHON"), "0"))
		return;
	g_refused = detect(NULL) < 0;
}

void python_after_dlopen(void *handle)
{
	if (g_found || g_refused || (!agent_cpu_on && !agent_alloc_on) || !handle)
		return;
	if (getenv("FATHOM_PYTHON") && !strcmp(getenv("FATHOM_PYTHON"), "0"))
		return;
	g_refused = detect(handle) < 0;
}

void python_after_fork(void)
{
	g_written = 1;
	g_info_written = 0;
	memset(g_stats_written, 0, sizeof(g_stats_written));
	atomic_store(&g_walks, 0);
	atomic_store(&g_faults, 0);
	atomic_store(&g_invalid, 0);
	atomic_store(&g_finalizing, 0);
}

/* ------------------------------------------------------------------- writing */

#define PUT(v) (p += fd_put_varint(p, (v)))

static uint8_t *put_bytes(uint8_t *p, const void *s, size_t n)
{
	PUT(n);
	memcpy(p, s, n);
	return p + n;
}

/* Records are built here: the writer holds wlock, so one at a time. */
static uint8_t g_body[QUAL_MAX + FILE_MAX + TABLE_MAX + 128];

void python_write(struct enc *e, int final)
{
	if (!g_found)
		return;
	python_alloc_tick();
	uint8_t *p = g_body;
	if (!g_info_written) {
		/* FOUND: version, eval loop start and end, the object's path. */
		PUT(FD_PY_FOUND);
		PUT(g_version);
		PUT(g_eval_lo);
		PUT(g_eval_hi);
		p = put_bytes(p, g_where, strlen(g_where));
		enc_record(e, FD_REC_PYTHON, g_body, (size_t)(p - g_body));
		g_info_written = 1;
	}
	uint32_t n = atomic_load_explicit(&g_ncodes, memory_order_acquire);
	if (n > CODES_MAX)
		n = CODES_MAX;
	for (; g_written < n; g_written++) {
		struct pycode *c = &g_codes[g_written];
		uint32_t st = atomic_load_explicit(&c->state, memory_order_acquire);
		if (st == CODE_FILLING && !final)
			break;
		if (st != CODE_READY)
			continue;
		p = g_body;
		PUT(g_written);
		PUT(c->addr);
		PUT(fd_zigzag(c->firstlineno));
		const char *b = g_bytes + c->off;
		p = put_bytes(p, b, c->nqual);
		p = put_bytes(p, b + c->nqual, c->nfile);
		p = put_bytes(p, b + c->nqual + c->nfile, c->ntable);
		enc_record(e, FD_REC_PYCODE, g_body, (size_t)(p - g_body));
	}
	uint64_t s[5] = {atomic_load(&g_walks), atomic_load(&g_faults), atomic_load(&g_invalid),
			 atomic_load(&g_finalizing), n > 0 ? n - 1 : 0};
	if (final && memcmp(s, g_stats_written, sizeof(s)) != 0) {
		p = g_body;
		PUT(FD_PY_STATS);
		for (int i = 0; i < 5; i++)
			PUT(s[i]);
		enc_record(e, FD_REC_PYTHON, g_body, (size_t)(p - g_body));
		memcpy(g_stats_written, s, sizeof(s));
	}
	if (__atomic_exchange_n(&g_disable_pending, 0, __ATOMIC_ACQUIRE)) {
		p = g_body;
		PUT(FD_PY_DISABLED);
		p = put_bytes(p, g_disabled, strlen(g_disabled));
		enc_record(e, FD_REC_PYTHON, g_body, (size_t)(p - g_body));
		say_late("fathom: Python %lu.%lu in %s: %s; native frames only from here on", g_version >> 24,
			 (g_version >> 16) & 0xff, g_where, g_disabled);
	}
}
