/* Python frames in CPU samples: finds a CPython 3.11, 3.12 or 3.13 by its
 * exported symbols, walks the sampled thread's own interpreter frames in the
 * signal handler under a fault guard, and writes each code object's names
 * and line table into the dump once (records PYCODE and PYTHON).
 *
 * The walk reads the interpreter's private structures at offsets from the
 * tables below (3.11, 3.12: offsetof in each version's internal headers) or
 * from _Py_DebugOffsets (3.13). A frame's fields can be stack garbage for a few
 * instructions while the eval loop publishes a new frame, so every read is
 * made under a sigsetjmp guard on SIGSEGV and SIGBUS; the program's own
 * handlers of those signals are kept apart (python_sigaction) and run for
 * any fault outside the guard, as the kernel would have.
 */
#define _GNU_SOURCE
#include "python.h"

#include "agent.h"
#include "encode.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <errno.h>
#include <link.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Offsets into the interpreter's structures; NONE where a version has no
 * such field. */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

#define NONE UINT32_MAX
struct py_off {
	uint32_t rt_finalizing, rt_interp_head;
	uint32_t ts_interp, ts_cframe, cf_frame, ts_frame;
	uint32_t fr_code, fr_previous, fr_instr, fr_is_entry, fr_owner;
	uint32_t co_firstlineno, co_filename, co_qualname, co_linetable, co_adaptive;
	uint32_t str_state, str_length, str_ascii_size, str_compact_size;
	uint32_t bytes_size, bytes_sval, ob_type;
};

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

#define FRAME_OWNED_BY_CSTACK 3
/* The code id of a frame whose code object the full table could not take. */
#define PY_CODE_UNKNOWN 0x3fffffffu

static struct py_off g_off;
static unsigned long g_version; /* Py_Version: 0x030b02f0 is 3.11.2 */
static uintptr_t g_runtime, g_code_type, g_eval_lo, g_eval_hi;
static void *(*g_get_tstate)(void);
static char g_where[256];
/* Found: the interpreter is described in the dump; on: frames are walked. */
static volatile int g_found, g_on;
/* One interpreter was refused (and said so): no more looking, no more lines. */
static int g_said_old, g_refused;
static char g_disabled[256];
static volatile int g_disable_pending;

/* The walks' counters, written as a PYTHON STATS record. */
static _Atomic uint64_t g_walks, g_faults, g_invalid, g_finalizing, g_validated;

/* ---------------------------------------------------------- the fault guard */

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static volatile int g_guard_on;
/* The program's dispositions of SIGSEGV and SIGBUS, as it believes it set
 * them. */
static struct sigaction g_user_segv, g_user_bus;
static void (*g_restorer)(void);

static TLS sigjmp_buf tls_jmp;
static TLS volatile int tls_guard;
/* The code entry being filled when a fault came: it is then abandoned. */
static TLS volatile uint32_t tls_filling;

/* Context: signal (SIGSEGV, SIGBUS). */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	if (tls_guard) {
		tls_guard = 0;
		siglongjmp(tls_jmp, 1);
	}
	struct sigaction *d = sig == SIGSEGV ? &g_user_segv : &g_user_bus;
	if (d->sa_handler == SIG_IGN && si->si_code > 0) {
		/* A fault the kernel raised cannot be ignored: it kills. */
		struct sigaction dfl = *d;
		dfl.sa_handler = SIG_DFL;
		sample_chain(&dfl, sig, si, uc);
		return;
	}
	sample_chain(d, sig, si, uc);
}

static int guard_install(void)
{
	if (g_guard_on)
		return 0;
	if (!real_sigaction)
		real_sigaction = agent_dlsym_next("sigaction");
	if (!real_sigaction)
		return -1;
	struct sigaction sa, old_segv, old_bus, cur;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART;
	/* No sample inside the program's own fault handler: at a high rate,
	 * unwinding from the signal stack outlasts the period, and the handler
	 * would never get past its first instruction. Inside the walk the
	 * signal is blocked already (the handler's own). */
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, agent_cfg.signo);
	if (real_sigaction(SIGSEGV, NULL, &old_segv) < 0 || real_sigaction(SIGBUS, NULL, &old_bus) < 0)
		return -1;
	g_user_segv = old_segv;
	g_user_bus = old_bus;
	if (real_sigaction(SIGSEGV, &sa, NULL) < 0)
		return -1;
	if (real_sigaction(SIGBUS, &sa, NULL) < 0) {
		real_sigaction(SIGSEGV, &old_segv, NULL);
		return -1;
	}
	if (real_sigaction(SIGSEGV, NULL, &cur) == 0 && (cur.sa_flags & SA_RESTORER))
		g_restorer = cur.sa_restorer;
	__atomic_store_n(&g_guard_on, 1, __ATOMIC_SEQ_CST);
	return 0;
}

void python_exec(int before)
{
	if (!g_found)
		return;
	if (before) {
		/* The new image inherits the program's dispositions (SIG_IGN
		 * survives exec); nothing is walked without the guard. */
		g_on = 0;
		if (__atomic_exchange_n(&g_guard_on, 0, __ATOMIC_SEQ_CST)) {
			real_sigaction(SIGSEGV, &g_user_segv, NULL);
			real_sigaction(SIGBUS, &g_user_bus, NULL);
		}
	} else if (guard_install() == 0 && !g_disabled[0]) {
		g_on = 1;
	}
}

int python_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *ret)
{
	if ((sig != SIGSEGV && sig != SIGBUS) || !__atomic_load_n(&g_guard_on, __ATOMIC_SEQ_CST) ||
	    getpid() != agent_pid)
		return 0;
	struct sigaction *d = sig == SIGSEGV ? &g_user_segv : &g_user_bus;
	struct sigaction prev = *d;
	if (act) {
		struct sigaction a = *act;
		/* As glibc passes it to the kernel, and reads it back. */
		if (g_restorer) {
			a.sa_flags |= SA_RESTORER;
			a.sa_restorer = g_restorer;
		}
		*d = a;
	}
	if (old)
		*old = prev;
	*ret = 0;
	return 1;
}

/* ------------------------------------------------------------ the code table */

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

static struct pycode *g_codes;	  /* [CODES_MAX]; id 0 is no code */
static _Atomic uint32_t *g_slots; /* [CODE_SLOTS]: ids */
static char *g_bytes;		  /* [CODE_BYTES]: names and tables */
static _Atomic uint32_t g_ncodes = 1, g_nbytes;
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

#define RD(T, a) (*(volatile T *)(uintptr_t)(a))

/* Copies a str object as UTF-8 into out (at most cap bytes); returns the
 * length. Only compact strings, which all code object names are.
 * Context: signal, under the guard. */
static uint32_t copy_str(uintptr_t s, char *out, uint32_t cap)
{
	if (!s)
		return 0;
	uint32_t state = RD(uint32_t, s + g_off.str_state);
	int64_t len = RD(int64_t, s + g_off.str_length);
	unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	if (!compact || len < 0)
		return 0;
	if (ascii) {
		uint32_t n = len > cap ? cap : (uint32_t)len;
		const volatile char *d = (const volatile char *)(s + g_off.str_ascii_size);
		for (uint32_t i = 0; i < n; i++)
			out[i] = d[i];
		return n;
	}
	if (kind != 1 && kind != 2 && kind != 4)
		return 0;
	uintptr_t d = s + g_off.str_compact_size;
	uint32_t o = 0;
	for (int64_t i = 0; i < len; i++) {
		uint32_t c = kind == 1	 ? RD(uint8_t, d + i)
			     : kind == 2 ? RD(uint16_t, d + 2 * i)
					 : RD(uint32_t, d + 4 * i);
		uint8_t b[4];
		unsigned k;
		if (c < 0x80) {
			b[0] = (uint8_t)c;
			k = 1;
		} else if (c < 0x800) {
			b[0] = (uint8_t)(0xc0 | c >> 6);
			b[1] = (uint8_t)(0x80 | (c & 0x3f));
			k = 2;
		} else if (c < 0x10000) {
			b[0] = (uint8_t)(0xe0 | c >> 12);
			b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
			b[2] = (uint8_t)(0x80 | (c & 0x3f));
			k = 3;
		} else {
			b[0] = (uint8_t)(0xf0 | (c >> 18 & 7));
			b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
			b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
			b[3] = (uint8_t)(0x80 | (c & 0x3f));
			k = 4;
		}
		if (o + k > cap)
			break;
		memcpy(out + o, b, k);
		o += k;
	}
	return o;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* The id of code object co, copied into the table the first time; 0 when
 * the table is full. Context: signal, under the guard. */
static uint32_t code_id(uintptr_t co)
{
	int64_t first = RD(int32_t, co + g_off.co_firstlineno);
	uint64_t qual = RD(uint64_t, co + g_off.co_qualname), file = RD(uint64_t, co + g_off.co_filename);
	uint64_t h = mix64(co ^ mix64((uint64_t)first ^ qual * 31 ^ file));
	uint32_t slot = 0;
	for (unsigned i = 0; i < 32; i++) {
		slot = (uint32_t)((h + i) & (CODE_SLOTS - 1));
		uint32_t id = atomic_load_explicit(&g_slots[slot], memory_order_acquire);
		if (!id)
			break;
		struct pycode *e = &g_codes[id];
		if (e->addr == co && e->firstlineno == first && e->qual == qual && e->file == file)
			return id;
		if (i == 31)
			return 0;
	}
	if (atomic_load_explicit(&g_ncodes, memory_order_relaxed) >= CODES_MAX)
		return 0;
	uint32_t id = atomic_fetch_add(&g_ncodes, 1);
	if (id >= CODES_MAX)
		return 0;
	struct pycode *e = &g_codes[id];
	tls_filling = id;
	e->addr = co;
	e->firstlineno = first;
	e->qual = qual;
	e->file = file;
	uintptr_t lt = RD(uint64_t, co + g_off.co_linetable);
	int64_t tl = lt ? RD(int64_t, lt + g_off.bytes_size) : 0;
	uint32_t ntable = tl < 0 ? 0 : tl > TABLE_MAX ? TABLE_MAX : (uint32_t)tl;
	uint32_t need = QUAL_MAX + FILE_MAX + ntable;
	uint32_t at = atomic_fetch_add(&g_nbytes, need);
	if ((uint64_t)at + need > CODE_BYTES) {
		e->nqual = e->nfile = e->ntable = 0;
		e->off = 0;
	} else {
		char *p = g_bytes + at;
		e->off = at;
		e->nqual = copy_str((uintptr_t)qual, p, QUAL_MAX);
		e->nfile = copy_str((uintptr_t)file, p + e->nqual, FILE_MAX);
		const volatile char *src = (const volatile char *)(lt + g_off.bytes_sval);
		char *dst = p + e->nqual + e->nfile;
		for (uint32_t i = 0; i < ntable; i++)
			dst[i] = src[i];
		e->ntable = ntable;
	}
	atomic_store_explicit(&e->state, CODE_READY, memory_order_release);
	tls_filling = 0;
	uint32_t expect = 0;
	atomic_compare_exchange_strong(&g_slots[slot], &expect, id);
	return id;
}

/* ------------------------------------------------------------------ the walk */

/* Not validated yet: the first walks that find frames check that they lead
 * to code objects; if none ever does, the offsets are wrong for this build. */
#define VALIDATE_TRIES 50

static void disable(const char *why)
{
	if (!g_on)
		return;
	g_on = 0;
	/* Said by the writer: no stdio here. */
	size_t n = strlen(why);
	if (n >= sizeof(g_disabled))
		n = sizeof(g_disabled) - 1;
	memcpy(g_disabled, why, n);
	g_disabled[n] = 0;
	__atomic_store_n(&g_disable_pending, 1, __ATOMIC_RELEASE);
}

/* Walks this thread's frames into py (innermost first, at most max);
 * *more is set when frames were left. Returns the count, 0 when there is
 * nothing to record. Context: signal, under the guard. */
static unsigned walk(uint64_t *py, unsigned max, int *more)
{
	const struct py_off *o = &g_off;
	if (RD(uint64_t, g_runtime + o->rt_finalizing)) {
		atomic_fetch_add_explicit(&g_finalizing, 1, memory_order_relaxed);
		return 0;
	}
	uintptr_t ts = (uintptr_t)g_get_tstate();
	if (!ts)
		return 0;
	uintptr_t interp = RD(uint64_t, g_runtime + o->rt_interp_head);
	if (!interp || RD(uint64_t, ts + o->ts_interp) != interp)
		return 0;
	uintptr_t fr;
	if (o->ts_frame != NONE) {
		fr = RD(uint64_t, ts + o->ts_frame);
	} else {
		uintptr_t cf = RD(uint64_t, ts + o->ts_cframe);
		fr = cf ? RD(uint64_t, cf + o->cf_frame) : 0;
	}
	unsigned n = 0;
	while (fr && n < max) {
		if (o->fr_is_entry == NONE && RD(uint8_t, fr + o->fr_owner) == FRAME_OWNED_BY_CSTACK) {
			/* 3.12+: the shim frame under each call of the eval loop. */
			if (n)
				py[n - 1] |= FD_PY_ENTRY;
			fr = RD(uint64_t, fr + o->fr_previous);
			continue;
		}
		uintptr_t co = RD(uint64_t, fr + o->fr_code);
		if (!co || RD(uint64_t, co + o->ob_type) != g_code_type) {
			atomic_fetch_add_explicit(&g_invalid, 1, memory_order_relaxed);
			if (!atomic_load_explicit(&g_validated, memory_order_relaxed) &&
			    atomic_load_explicit(&g_invalid, memory_order_relaxed) >= VALIDATE_TRIES)
				disable(
				    "its frames do not lead to code objects (a build fathom does not know?)");
			return 0;
		}
		uintptr_t instr = RD(uint64_t, fr + o->fr_instr);
		int64_t lasti = ((int64_t)instr - (int64_t)(co + o->co_adaptive)) / 2;
		uint32_t off1 = lasti < -1 || lasti >= 0x7fffffff ? 0 : (uint32_t)(lasti + 1);
		int entry = o->fr_is_entry != NONE && RD(uint8_t, fr + o->fr_is_entry);
		uint32_t id = code_id(co);
		if (!id)
			id = PY_CODE_UNKNOWN;
		py[n++] = FD_PY_FRAME(id, off1, entry);
		fr = RD(uint64_t, fr + o->fr_previous);
	}
	*more = fr != 0;
	if (n && !atomic_load_explicit(&g_validated, memory_order_relaxed))
		atomic_store_explicit(&g_validated, 1, memory_order_relaxed);
	return n;
}

/* Faults beyond this many, and more than one walk in eight: the guard is
 * working too hard for this program; Python frames go. */
#define FAULT_STORM 10000

unsigned python_frames(uint64_t *f, unsigned n)
{
	if (!g_on)
		return n;
	uint64_t py[FD_MAX_FRAMES];
	int more = 0;
	volatile unsigned np = 0;
	atomic_fetch_add_explicit(&g_walks, 1, memory_order_relaxed);
	if (sigsetjmp(tls_jmp, 0)) {
		uint32_t id = tls_filling;
		if (id) {
			atomic_store_explicit(&g_codes[id].state, CODE_DEAD, memory_order_release);
			tls_filling = 0;
		}
		uint64_t fl = atomic_fetch_add_explicit(&g_faults, 1, memory_order_relaxed) + 1;
		if (fl > FAULT_STORM && fl * 8 > atomic_load_explicit(&g_walks, memory_order_relaxed))
			disable("its frames faulted too often");
		return n;
	}
	tls_guard = 1;
	__asm__ volatile("" ::: "memory");
	np = walk(py, FD_MAX_FRAMES - 1, &more);
	__asm__ volatile("" ::: "memory");
	tls_guard = 0;
	if (!np)
		return n;
	/* Room for the marker; each side keeps at least half when both are long. */
	unsigned room = FD_MAX_FRAMES - 1, keep_py = np, keep_nat = n;
	uint32_t cut = (more ? FD_PY_CUT_PYTHON : 0) | (n >= FD_MAX_FRAMES ? FD_PY_CUT_NATIVE : 0);
	if (keep_nat + keep_py > room) {
		if (keep_nat < room / 2)
			keep_py = room - keep_nat;
		else if (keep_py < room / 2)
			keep_nat = room - keep_py;
		else
			keep_py = room - (keep_nat = room / 2);
	}
	if (keep_py < np)
		cut |= FD_PY_CUT_PYTHON;
	if (keep_nat < n)
		cut |= FD_PY_CUT_NATIVE;
	f[keep_nat] = FD_PY_FRAME(0, cut, 0);
	memcpy(f + keep_nat + 1, py, keep_py * sizeof(uint64_t));
	return keep_nat + 1 + keep_py;
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
	if (guard_install() < 0) {
		say_late("fathom: cannot install the fault guard for Python frames; native frames only");
		return -1;
	}
	g_found = 1;
	g_on = 1;
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
	if (g_found || g_refused || !agent_cpu_on || !handle)
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
