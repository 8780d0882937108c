/* Python allocations: wraps the interpreter's MEM and OBJ allocator domains
 * (PyMem_SetAllocator), pymalloc kept underneath, so that every Python
 * object's allocation, reallocation and free is recorded once, with its
 * native frames and the thread's Python frames (docs/AGENT.md, "Python
 * allocations").
 *
 * When: not at start (a static python3's runtime is not set up then, and
 * PYTHONMALLOC or -X dev replace the allocators while it starts), but at
 * the first allocation hook that runs on a thread holding the GIL once
 * Py_IsInitialized(): with the GIL held, no other thread is inside the MEM
 * or OBJ allocators (they require it) while the table is swapped. The
 * writer asks again from time to time whether the wrapper is still there
 * (a second Py_Initialize resets the allocators).
 *
 * Counted once: the wrapper calls the allocator underneath with the
 * agent's guard set (as GUARD_REAL), so that the malloc a large object
 * makes is not recorded again by the malloc hooks.
 *
 * Stacks: every allocation's, the malloc hooks' too (python_alloc_stack),
 * gets the thread's Python frames when it runs Python, so that what a C
 * extension, the RAW domain or a library called from Python takes from
 * malloc is charged to the Python line that called it.
 *
 * Context: malloc, throughout, except python_alloc_found and
 * python_alloc_tick.
 */
#define _GNU_SOURCE
#include "alloc-record.h"
#include "python-int.h"
#include "python.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

/* PyMemAllocatorEx and PyMemAllocatorDomain (Include/cpython/pymem.h), the
 * same in 3.11 to 3.13. */
struct pyalloc {
	void *ctx;
	void *(*malloc)(void *ctx, size_t n);
	void *(*calloc)(void *ctx, size_t nelem, size_t elsize);
	void *(*realloc)(void *ctx, void *p, size_t n);
	void (*free)(void *ctx, void *p);
};
enum { PYMEM_DOMAIN_RAW = 0, PYMEM_DOMAIN_MEM = 1, PYMEM_DOMAIN_OBJ = 2 };

/* The allocators underneath, one per wrapped domain: the wrapper's ctx. */
struct dom {
	struct pyalloc inner;
	int domain;
};
static struct dom g_dom[2] = {{.domain = PYMEM_DOMAIN_MEM}, {.domain = PYMEM_DOMAIN_OBJ}};

static void (*get_allocator)(int, struct pyalloc *);
static void (*set_allocator)(int, struct pyalloc *);
static int (*is_initialized)(void);
static int (*gil_check)(void);

volatile int python_alloc_wanted;
static _Atomic int g_polling;
static volatile int g_installed;
/* The Python part of allocation stacks is cached (FATHOM_PY_ALLOC_CACHE=0:
 * walked afresh each time, for measurement). */
static int g_cache_on = 1;
static uint64_t g_last_tick;

/* ----------------------------------------------------------- the wrappers */

#define PASS() (UNLIKELY(agent_guard) || UNLIKELY(!agent_alloc_on))

/* Calls the allocator underneath as the program's, the guard held. */
#define INNER(call)                                                                                          \
	({                                                                                                   \
		agent_guard = GUARD_REAL;                                                                    \
		__typeof__(call) r_ = (call);                                                                \
		r_;                                                                                          \
	})

static void *w_malloc(void *ctx, size_t n)
{
	struct dom *d = ctx;
	if (PASS())
		return d->inner.malloc(d->inner.ctx, n);
	void *p = INNER(d->inner.malloc(d->inner.ctx, n));
	agent_guard = 1;
	if (LIKELY(p))
		arec_on_alloc(p, n, CALLER_RA, CALLER_SP);
	agent_guard = 0;
	return p;
}

static void *w_calloc(void *ctx, size_t a, size_t b)
{
	struct dom *d = ctx;
	size_t n;
	if (PASS() || __builtin_mul_overflow(a, b, &n))
		return d->inner.calloc(d->inner.ctx, a, b);
	void *p = INNER(d->inner.calloc(d->inner.ctx, a, b));
	agent_guard = 1;
	if (LIKELY(p))
		arec_on_alloc(p, n, CALLER_RA, CALLER_SP);
	agent_guard = 0;
	return p;
}

static void w_free(void *ctx, void *p)
{
	struct dom *d = ctx;
	if (UNLIKELY(!p) || PASS() ||
	    (agent_alloc_on == FD_ALLOC_SAMPLED && LIKELY(!arec_maybe_sampled(p)))) {
		int g = agent_guard;
		if (!g)
			agent_guard = GUARD_REAL;
		d->inner.free(d->inner.ctx, p);
		agent_guard = g;
		return;
	}
	agent_guard = 1;
	arec_on_free(p);
	agent_guard = GUARD_REAL;
	d->inner.free(d->inner.ctx, p);
	agent_guard = 0;
}

/* realloc(p, 0) is no free here: the interpreter's allocators return a
 * block of one byte for it. */
static void *w_realloc(void *ctx, void *old, size_t n)
{
	struct dom *d = ctx;
	if (PASS())
		return d->inner.realloc(d->inner.ctx, old, n);
	uint64_t ra = CALLER_RA, sp0 = CALLER_SP;
	void *p;
	if (!old) {
		p = INNER(d->inner.realloc(d->inner.ctx, NULL, n));
		agent_guard = 1;
		if (LIKELY(p))
			arec_on_alloc(p, n, ra, sp0);
		agent_guard = 0;
		return p;
	}
	if (agent_alloc_on == FD_ALLOC_SAMPLED && LIKELY(!arec_maybe_sampled(old)) &&
	    LIKELY(arec_left - (int64_t)n > 0)) {
		arec_left -= (int64_t)n;
		p = INNER(d->inner.realloc(d->inner.ctx, old, n));
		agent_guard = 0;
		return p;
	}
	agent_guard = 1;
	int was = arec_realloc_before(old);
	p = AS_PROGRAM(d->inner.realloc(d->inner.ctx, old, n));
	arec_realloc_after(old, was, p, n, ra, sp0);
	agent_guard = 0;
	return p;
}

/* ------------------------------------------------------ finding the moment */

void python_alloc_found(void *h)
{
	if (agent_cfg.alloc == FD_ALLOC_OFF || get_allocator)
		return;
	void *(*s)(void *, const char *) = dlsym;
	void *hh = h ? h : RTLD_DEFAULT;
	*(void **)&get_allocator = s(hh, "PyMem_GetAllocator");
	*(void **)&set_allocator = s(hh, "PyMem_SetAllocator");
	*(void **)&is_initialized = s(hh, "Py_IsInitialized");
	*(void **)&gil_check = s(hh, "PyGILState_Check");
	if (!get_allocator || !set_allocator || !is_initialized || !gil_check) {
		get_allocator = NULL;
		say_late("fathom: this Python lacks PyMem_GetAllocator, PyMem_SetAllocator, Py_IsInitialized "
			 "or PyGILState_Check; its objects' allocations are not recorded (only the malloc "
			 "calls of its allocator)");
		return;
	}
	const char *c = config_getenv("FATHOM_PY_ALLOC_CACHE");
	g_cache_on = !(c && !strcmp(c, "0"));
	__atomic_store_n(&python_alloc_wanted, 1, __ATOMIC_RELEASE);
}

/* Whether the interpreter is running and this thread holds its GIL. */
static int gil_held(void)
{
	if (!is_initialized())
		return 0;
	if (*(volatile uint64_t *)(g_runtime + g_off.rt_finalizing))
		return 0;
	return g_get_tstate() && gil_check();
}

static int is_ours(const struct pyalloc *a, const struct dom *d)
{
	return a->malloc == w_malloc && a->ctx == d;
}

/* Installs the wrapper over the domain's current allocator, or again over
 * the same allocator when it was put back (a second Py_Initialize); one
 * that is neither (tracemalloc's hooks, installed over ours) is left
 * alone: it calls ours. Returns 1 when the wrapper is in place. */
static int wrap(struct dom *d)
{
	struct pyalloc cur;
	get_allocator(d->domain, &cur);
	if (is_ours(&cur, d))
		return 1;
	if (g_installed && cur.malloc != d->inner.malloc)
		return 1;
	d->inner = cur;
	struct pyalloc w = {d, w_malloc, w_calloc, w_realloc, w_free};
	set_allocator(d->domain, &w);
	return 1;
}

void python_alloc_poll_slow(void)
{
	if (!agent_alloc_on)
		return;
	int expect = 0;
	if (!atomic_compare_exchange_strong(&g_polling, &expect, 1))
		return;
	int g = agent_guard;
	agent_guard = 1;
	if (gil_held()) {
		int ok = wrap(&g_dom[0]) & wrap(&g_dom[1]);
		if (ok) {
			g_installed = 1;
			__atomic_store_n(&python_alloc_wanted, 0, __ATOMIC_RELEASE);
		}
	}
	agent_guard = g;
	atomic_store(&g_polling, 0);
}

void python_alloc_kick(void)
{
	if (agent_alloc_on == FD_ALLOC_SAMPLED) {
		/* A fresh draw at the next allocation: the intervals are
		 * exponential, so restarting one leaves the sampling fair. */
		arec_left = 0;
		arec_armed = 0;
	}
}

void python_alloc_tick(void)
{
	if (!g_installed || !agent_alloc_on)
		return;
	uint64_t now = agent_now();
	if (now - g_last_tick < 500000000u)
		return;
	g_last_tick = now;
	__atomic_store_n(&python_alloc_wanted, 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------ the stacks */

/* The native frames f (n of them, f[0] the return address into the
 * caller), the marker and np Python frames py, interned. Context: malloc,
 * t->busy set. */
static uint32_t intern_mixed(struct tstate *t, const uint64_t *f, unsigned n, const uint64_t *py, unsigned np,
			     int more)
{
	uint64_t *w = t->hook_frames + 2;
	if (f != w)
		memcpy(w, f, n * sizeof(uint64_t));
	w[0] -= 1;
	unsigned m = python_append(w, n, py, np, more);
	int is_new;
	uint32_t id = intern_stack(&agent_intern, w, m, &is_new);
	if (!id) {
		atomic_fetch_add_explicit(&agent_lost_stacks, 1, memory_order_relaxed);
		return 0;
	}
	if (is_new) {
		t->hook_frames[0] = EV_W0(EV_STACK, m + 2, m);
		t->hook_frames[1] = id;
		thread_push_wait(t, t->hook_frames, m + 2);
	}
	return id;
}

/* The stack with the thread's Python frames: kept out of
 * python_alloc_stack's frame, whose few bytes every allocation of every
 * program pays on its stack (a thread with a 16 KB stack allocates at its
 * deepest point: test-unw-minstack). */
static __attribute__((noinline)) uint32_t mixed_stack(struct tstate *t, uint32_t nat, const uint64_t *f,
						      unsigned n)
{
	if (!g_cache_on) {
		uint64_t py[FD_MAX_FRAMES];
		int more;
		unsigned np = python_walk(py, FD_MAX_FRAMES - 1, &more, NULL);
		return np ? intern_mixed(t, f, n, py, np, more) : nat;
	}
	int k = python_chain_pick(&t->pyc[0].ch, sizeof(t->pyc[0]), PYC_ENTRIES);
	struct pyc_entry *e;
	if (k == PY_NO_FRAMES) {
		/* A thread that runs no Python now (a C thread, or C code
		 * before the first frame): keep the entries. */
		return nat;
	} else if (k >= 0) {
		e = &t->pyc[k];
	} else {
		/* A fresh walk, kept in the next entry (round robin). */
		e = &t->pyc[t->pyc_rr];
		t->pyc_rr = (uint8_t)((t->pyc_rr + 1) % PYC_ENTRIES);
		memset(e->nat, 0, sizeof(e->nat));
		e->ch.n = 0;
		int more;
		unsigned np = python_walk(e->py, PY_CHAIN_MAX, &more, &e->ch);
		if (!np)
			return nat;
		if (more || !e->ch.n) {
			/* Too deep for the cache: a walk of its own. */
			uint64_t py[FD_MAX_FRAMES];
			e->ch.n = 0;
			np = python_walk(py, FD_MAX_FRAMES - 1, &more, NULL);
			return np ? intern_mixed(t, f, n, py, np, more) : nat;
		}
		e->np = np;
		e->gen = agent_intern_gen;
	}
	if (e->gen != agent_intern_gen) {
		memset(e->nat, 0, sizeof(e->nat));
		e->gen = agent_intern_gen;
	}
	unsigned slot = ((nat * 0x9e3779b1u) >> 24) % PYC_MEMO;
	if (e->nat[slot] == nat)
		return e->id[slot];
	uint32_t id = intern_mixed(t, f, n, e->py, e->np, 0);
	if (id) {
		e->nat[slot] = nat;
		e->id[slot] = id;
	}
	return id;
}

uint32_t python_alloc_stack(struct tstate *t, uint64_t ra, uint64_t sp0)
{
	const uint64_t *f;
	unsigned n;
	uint32_t nat = arec_stack(t, ra, sp0, &f, &n);
	/* No interpreter walked (none, or not supported): the native stack. */
	if (!nat || !python_walk_on)
		return nat;
	return mixed_stack(t, nat, f, n);
}
