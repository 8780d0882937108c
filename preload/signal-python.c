/* Python frames in the sampling handler: the fault guard under which the
 * interpreter's structures are read, the copy of a code object's names and
 * line table into the table, and the walk of the sampled thread's frames.
 *
 * A frame's fields can be stack garbage for a few instructions while the
 * eval loop publishes a new frame, so every read is made under a sigsetjmp
 * guard on SIGSEGV and SIGBUS; the program's own handlers of those signals
 * are kept apart (python_sigaction) and run for any fault outside the
 * guard, as the kernel would have.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "python-int.h"
#include "python.h"

#include <setjmp.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* ---------------------------------------------------------- the fault guard */

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);
static volatile int g_guard_on;
/* The program's dispositions of SIGSEGV and SIGBUS, as it believes it set
 * them. */
static struct sigaction g_user_segv, g_user_bus;
static void (*g_restorer)(void);

static TLS sigjmp_buf tls_jmp;
static TLS volatile int tls_guard;
/* Walks under way on this thread: a malloc hook's, and the sampling
 * handler's that interrupted it. */
static TLS int tls_guard_depth;
/* The signal mask when the guarded fault came (the kernel's 64 bits). */
static TLS uint64_t tls_fault_mask;
/* The code entry being filled when a fault came: it is then abandoned. */
static TLS volatile uint32_t tls_filling;

/* Context: signal (SIGSEGV, SIGBUS). */
static void on_fault(int sig, siginfo_t *si, void *uc)
{
	if (tls_guard) {
		tls_guard = 0;
		/* The mask the fault interrupted, which a walk in a malloc
		 * hook puts back after the jump: no sigreturn does it there,
		 * and the jump keeps this handler's mask, which blocks the
		 * sampling signal. */
		memcpy(&tls_fault_mask, &((ucontext_t *)uc)->uc_sigmask, sizeof(tls_fault_mask));
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

int python_guard_install(void)
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
		python_walk_on = 0;
		if (__atomic_exchange_n(&g_guard_on, 0, __ATOMIC_SEQ_CST)) {
			real_sigaction(SIGSEGV, &g_user_segv, NULL);
			real_sigaction(SIGBUS, &g_user_bus, NULL);
		}
	} else if (python_guard_install() == 0 && !g_disabled[0]) {
		python_walk_on = 1;
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
	if (!python_walk_on)
		return;
	python_walk_on = 0;
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
static unsigned walk(uint64_t *py, unsigned max, int *more, struct py_chain *ch)
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
	unsigned n = 0, nv = 0;
	while (fr && n < max) {
		if (ch && nv < PY_CHAIN_MAX) {
			ch->fa[nv] = fr;
			ch->fi[nv] = RD(uint64_t, fr + o->fr_instr);
		}
		nv++;
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
	if (ch)
		ch->n = fr || nv > PY_CHAIN_MAX ? 0 : nv;
	if (n && !atomic_load_explicit(&g_validated, memory_order_relaxed))
		atomic_store_explicit(&g_validated, 1, memory_order_relaxed);
	return n;
}

/* Faults beyond this many, and more than one walk in eight: the guard is
 * working too hard for this program; Python frames go. */
#define FAULT_STORM 10000

/* This thread's innermost frame. Context: signal or malloc, under the guard. */
static uintptr_t head_frame(void)
{
	const struct py_off *o = &g_off;
	if (RD(uint64_t, g_runtime + o->rt_finalizing))
		return 0;
	uintptr_t ts = (uintptr_t)g_get_tstate();
	if (!ts)
		return 0;
	if (o->ts_frame != NONE)
		return RD(uint64_t, ts + o->ts_frame);
	uintptr_t cf = RD(uint64_t, ts + o->ts_cframe);
	return cf ? RD(uint64_t, cf + o->cf_frame) : 0;
}

/* python_chain_pick under the guard: a chain matches when each frame is at
 * its address with the same instruction pointer, and nothing is beyond the
 * last. Only live frames are read (each one's previous). */
static int chain_pick(const struct py_chain *first, size_t stride, unsigned count)
{
	const struct py_off *o = &g_off;
	uintptr_t fr0 = head_frame();
	if (!fr0)
		return PY_NO_FRAMES;
	uint64_t in0 = RD(uint64_t, fr0 + o->fr_instr);
	for (unsigned i = 0; i < count; i++) {
		const struct py_chain *ch = (const void *)((const char *)first + i * stride);
		if (!ch->n || ch->fa[0] != fr0 || ch->fi[0] != in0)
			continue;
		uintptr_t fr = RD(uint64_t, fr0 + o->fr_previous);
		unsigned k;
		for (k = 1; k < ch->n; k++) {
			if (fr != ch->fa[k] || RD(uint64_t, fr + o->fr_instr) != ch->fi[k])
				break;
			fr = RD(uint64_t, fr + o->fr_previous);
		}
		if (k == ch->n && !fr)
			return (int)i;
	}
	return -1;
}

/* Runs body under the fault guard: on a fault, abandons the code entry
 * being filled and counts the fault (onfault is then the result). A walk
 * of a malloc hook that the sampling handler interrupts keeps its guard:
 * the handler's own walk saves it and puts it back. Context: signal or
 * malloc. */
#define GUARDED(in_hook, result, onfault, body)                                                              \
	do {                                                                                                 \
		sigjmp_buf saved_jmp;                                                                        \
		int nested = tls_guard_depth++ > 0;                                                          \
		int saved_guard = tls_guard;                                                                 \
		uint32_t saved_filling = tls_filling;                                                        \
		if (nested)                                                                                  \
			memcpy(saved_jmp, tls_jmp, sizeof(saved_jmp));                                       \
		if (sigsetjmp(tls_jmp, 0)) {                                                                 \
			fault_taken(in_hook);                                                                \
			(result) = (onfault);                                                                \
		} else {                                                                                     \
			tls_guard = 1;                                                                       \
			__asm__ volatile("" ::: "memory");                                                   \
			body;                                                                                \
			__asm__ volatile("" ::: "memory");                                                   \
			tls_guard = 0;                                                                       \
		}                                                                                            \
		if (nested) {                                                                                \
			memcpy(tls_jmp, saved_jmp, sizeof(saved_jmp));                                       \
			tls_filling = saved_filling;                                                         \
		}                                                                                            \
		tls_guard = saved_guard;                                                                     \
		tls_guard_depth--;                                                                           \
	} while (0)

/* After a fault in a walk: the code entry being filled is abandoned; a
 * storm turns the walks off. */
static void fault_taken(int in_hook)
{
	/* In the sampling handler, its sigreturn puts the mask back. */
	if (in_hook)
		syscall(SYS_rt_sigprocmask, SIG_SETMASK, &tls_fault_mask, NULL, sizeof(tls_fault_mask));
	uint32_t id = tls_filling;
	if (id) {
		atomic_store_explicit(&g_codes[id].state, CODE_DEAD, memory_order_release);
		tls_filling = 0;
	}
	uint64_t fl = atomic_fetch_add_explicit(&g_faults, 1, memory_order_relaxed) + 1;
	if (fl > FAULT_STORM && fl * 8 > atomic_load_explicit(&g_walks, memory_order_relaxed))
		disable("its frames faulted too often");
}

static unsigned walk_guarded(uint64_t *py, unsigned max, int *more, struct py_chain *ch, int in_hook)
{
	if (!python_walk_on)
		return 0;
	volatile unsigned np = 0;
	*more = 0;
	atomic_fetch_add_explicit(&g_walks, 1, memory_order_relaxed);
	GUARDED(in_hook, np, 0, np = walk(py, max, more, ch));
	return np;
}

unsigned python_walk(uint64_t *py, unsigned max, int *more, struct py_chain *ch)
{
	return walk_guarded(py, max, more, ch, 1);
}

int python_chain_pick(const struct py_chain *first, size_t stride, unsigned count)
{
	if (!python_walk_on)
		return PY_NO_FRAMES;
	volatile int k = -1;
	GUARDED(1, k, -1, k = chain_pick(first, stride, count));
	return k;
}

unsigned python_frames(uint64_t *f, unsigned n)
{
	if (UNLIKELY(python_alloc_wanted))
		python_alloc_kick();
	uint64_t py[FD_MAX_FRAMES];
	int more = 0;
	unsigned np = walk_guarded(py, FD_MAX_FRAMES - 1, &more, NULL, 0);
	if (!np)
		return n;
	return python_append(f, n, py, np, more);
}

unsigned python_append(uint64_t *f, unsigned n, const uint64_t *py, unsigned np, int more)
{
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
