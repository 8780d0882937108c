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
#include <sys/uio.h>
#include <unistd.h>

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
volatile int g_found, python_walk_on;
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

/* -X perf (3.12+): the interpreter's perf trampolines are its own frame
 * evaluator, set in the main interpreter's eval_frame at start-up (or by
 * sys.activate_stack_trampoline). Where eval_frame is (interpreter state,
 * offsetof in 3.12's and 3.13's internal headers; 3.13's debug offsets do
 * not have it), the main interpreter's state (inside _PyRuntime), and the
 * interpreter's object (an evaluator inside it is the trampolines'). */
static uint32_t g_eval_frame_off;
static uintptr_t g_runtime_end, g_obj_lo, g_obj_hi;
static int g_perf_written; /* a PERF record was written */

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

/* The extent of the loaded object whose base address is base. */
struct obj_range {
	uintptr_t base, lo, hi;
};

static int obj_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct obj_range *r = arg;
	if (info->dlpi_addr != r->base)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
		if (!r->lo || lo < r->lo)
			r->lo = lo;
		if (hi > r->hi)
			r->hi = hi;
	}
	return r->hi != 0;
}

/* What the writer needs to tell whether -X perf's trampolines are on: a
 * 3.12+ build that has them (it exports _Py_trampoline_func_start, the
 * trampoline's template), where eval_frame is, and where _PyRuntime and
 * the interpreter's object end. Not at start: the interpreter sets its
 * evaluator later, while it initialises. */
static void perf_init(void *h, unsigned minor)
{
	g_eval_frame_off = 0;
	if (minor < 12 || !sym(h, "_Py_trampoline_func_start"))
		return;
	const ElfW(Sym) *es = NULL;
	Dl_info di;
	if (!dladdr1((void *)g_runtime, &di, (void **)&es, RTLD_DL_SYMENT) || !es || !es->st_size)
		return;
	struct obj_range r = {(uintptr_t)di.dli_fbase, 0, 0};
	/* The executable's dli_fbase is its load address, not its bias: a
	 * static, non-PIE python3 has bias 0. */
	dl_iterate_phdr(obj_cb, &r);
	if (!r.hi) {
		r.base = 0;
		dl_iterate_phdr(obj_cb, &r);
	}
	if (!r.hi)
		return;
	g_runtime_end = g_runtime + es->st_size;
	g_obj_lo = r.lo;
	g_obj_hi = r.hi;
	g_eval_frame_off = minor == 12 ? 1744 : 8472;
}

/* Reads n bytes at addr of this process without faulting on an address
 * that is no longer mapped (an embedding program may unload libpython):
 * process_vm_readv fails instead. */
static int read_self(uintptr_t addr, void *out, size_t n)
{
	struct iovec local = {out, n}, remote = {(void *)addr, n};
	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)n ? 0 : -1;
}

/* 1 when the main interpreter's frame evaluator is the perf trampolines',
 * 0 when it is not, -1 when that cannot be told. Context: the writer. */
static int perf_on(void)
{
	if (!g_eval_frame_off)
		return -1;
	uintptr_t head = 0, ev = 0;
	if (read_self(g_runtime + g_off.rt_interp_head, &head, sizeof(head)) < 0)
		return -1;
	/* No interpreter yet or any more, or not the main one in _PyRuntime. */
	if (head < g_runtime || head + g_eval_frame_off + sizeof(ev) > g_runtime_end)
		return 0;
	if (read_self(head + g_eval_frame_off, &ev, sizeof(ev)) < 0)
		return -1;
	return ev && ev >= g_obj_lo && ev < g_obj_hi;
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
	perf_init(h, minor);
	if (table_init() < 0) {
		say_late("fathom: cannot map the table of Python code objects; native frames only");
		return -1;
	}
	if (python_guard_install() < 0) {
		say_late("fathom: cannot install the fault guard for Python frames; native frames only");
		return -1;
	}
	g_found = 1;
	python_walk_on = 1;
	python_alloc_found(h);
	return 1;
}

void python_init(void)
{
	if (config_getenv("FATHOM_PYTHON") && !strcmp(config_getenv("FATHOM_PYTHON"), "0"))
		return;
	g_refused = detect(NULL) < 0;
}

void python_after_dlopen(void *handle)
{
	if (g_found || g_refused || (!agent_cpu_on && !agent_alloc_on && !window_paused()) || !handle)
		return;
	if (config_getenv("FATHOM_PYTHON") && !strcmp(config_getenv("FATHOM_PYTHON"), "0"))
		return;
	g_refused = detect(handle) < 0;
}

/* A rotation's next file (rotate.c) gets the interpreter's records and
 * every code object again, so that it reads alone. Context: wlock held. */
void python_rotate(void)
{
	g_written = 1;
	g_info_written = 0;
	g_perf_written = 0;
}

void python_after_fork(void)
{
	g_written = 1;
	g_info_written = 0;
	g_perf_written = 0;
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
	/* -X perf: said once, when first seen on (the interpreter turns it
	 * off again while it finalises, which says nothing). */
	if (!g_perf_written && perf_on() == 1) {
		p = g_body;
		PUT(FD_PY_PERF);
		PUT(1);
		enc_record(e, FD_REC_PYTHON, g_body, (size_t)(p - g_body));
		g_perf_written = 1;
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
