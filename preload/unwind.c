/* The agent's own x86_64 DWARF CFI unwinder (see unwind.h): it finds a pc's
 * frame description through the loader's _dl_find_object and the object's
 * .eh_frame_hdr search table, runs the CIE's and FDE's call frame programs
 * up to the pc, and computes the caller's registers.
 *
 * Context: async-signal-safe, may run inside malloc. It takes no lock, uses
 * no descriptor, and makes no system call unless a stack read falls outside
 * the ranges the caller declared mapped (then process_vm_readv on the own
 * process reads it, failing with EFAULT instead of faulting). It never
 * reads a stack address without such a check, so a corrupt frame ends the
 * walk instead of crashing the program. The object's unwind tables are read
 * directly: the loader keeps them mapped while the object is loaded.
 */
#define _GNU_SOURCE
#include "unwind-int.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

volatile uint32_t unwind_gen = 1;

/* Registers whose caller values a cached frame restores (unwind.h). */
static const uint8_t cached_regs[7] = {3, 6, 12, 13, 14, 15, UW_RA};

/* The caller's registers at the return point, for unwind_init_captured. The
 * callee-saved registers are still the caller's here; the stack pointer
 * after the return is rsp + 8; the return address is at (%rsp). */
__asm__(".text\n"
	".globl unwind_capture\n"
	".hidden unwind_capture\n"
	".type unwind_capture, @function\n"
	"unwind_capture:\n"
	".cfi_startproc\n"
	"	movq %rbx, 24(%rdi)\n"
	"	movq %rbp, 48(%rdi)\n"
	"	leaq 8(%rsp), %rax\n"
	"	movq %rax, 56(%rdi)\n"
	"	movq %r12, 96(%rdi)\n"
	"	movq %r13, 104(%rdi)\n"
	"	movq %r14, 112(%rdi)\n"
	"	movq %r15, 120(%rdi)\n"
	"	movq (%rsp), %rax\n"
	"	movq %rax, 128(%rdi)\n"
	"	ret\n"
	".cfi_endproc\n"
	".size unwind_capture, .-unwind_capture\n");

static void set_ok(struct unwind *u, int i, uintptr_t sp, uintptr_t lo, uintptr_t hi)
{
	/* From the stack pointer up to the stack's top everything is mapped
	 * (the thread is using it); only when sp is on that stack. */
	if (hi && sp >= lo && sp < hi) {
		u->ok_lo[i] = sp;
		u->ok_hi[i] = hi;
	} else {
		u->ok_lo[i] = u->ok_hi[i] = 0;
	}
}

void unwind_init_captured(struct unwind *u, uintptr_t stack_lo, uintptr_t stack_hi)
{
	u->known = 1u << UW_RBX | 1u << UW_RBP | 1u << UW_RSP | 0xfu << 12 | 1u << UW_RA;
	u->exact = 0;
	u->pid = 0;
	u->find = NULL;
	u->ended = 0;
	set_ok(u, 0, u->reg[UW_RSP], stack_lo, stack_hi);
	u->ok_lo[1] = u->ok_hi[1] = 0;
}

void unwind_init_remote(struct unwind *u, pid_t pid, const uint64_t *reg, uw_find_fn find, void *arg)
{
	memcpy(u->reg, reg, sizeof(u->reg));
	u->known = (1u << UW_NREGS) - 1;
	u->exact = 1;
	u->pid = pid;
	u->find = find;
	u->find_arg = arg;
	u->ended = 0;
	u->cache = NULL;
	u->ok_lo[0] = u->ok_hi[0] = u->ok_lo[1] = u->ok_hi[1] = 0;
}

void unwind_init_signal(struct unwind *u, const void *ucv, uintptr_t stack_lo, uintptr_t stack_hi)
{
	const ucontext_t *uc = ucv;
	const greg_t *g = uc->uc_mcontext.gregs;
	static const uint8_t from[UW_NREGS] = {REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI,
					       REG_RBP, REG_RSP, REG_R8,  REG_R9,  REG_R10, REG_R11,
					       REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP};
	for (int i = 0; i < UW_NREGS; i++)
		u->reg[i] = (uint64_t)g[from[i]];
	u->known = (1u << UW_NREGS) - 1;
	u->exact = 1;
	u->pid = 0;
	u->find = NULL;
	u->ended = 0;
	set_ok(u, 0, u->reg[UW_RSP], stack_lo, stack_hi);
	/* The signal stack configured now (the handler may be running on
	 * it, and the interrupted code may have been). */
	if (!(uc->uc_stack.ss_flags & SS_DISABLE) && uc->uc_stack.ss_size) {
		u->ok_lo[1] = (uintptr_t)uc->uc_stack.ss_sp;
		u->ok_hi[1] = u->ok_lo[1] + uc->uc_stack.ss_size;
	} else {
		u->ok_lo[1] = u->ok_hi[1] = 0;
	}
}

int uw_read(struct unwind *u, uint64_t a, uint64_t *v)
{
	for (int i = 0; i < 2; i++)
		if (a >= u->ok_lo[i] && a < u->ok_hi[i] && u->ok_hi[i] - a >= 8) {
			memcpy(v, (const void *)(uintptr_t)a, 8);
			return 0;
		}
	if (a < 4096)
		return -1;
	if (!u->pid)
		u->pid = (pid_t)syscall(SYS_getpid);
	struct iovec l = {v, 8}, r = {(void *)(uintptr_t)a, 8};
	return syscall(SYS_process_vm_readv, u->pid, &l, 1UL, &r, 1UL, 0UL) == 8 ? 0 : -1;
}

/* -------------------------------------------------- the call frame program */

/* Runs the instructions [p, end) from location loc while the location is at
 * most target, into u->rules (u->init holds the CIE's rules, for restore). */
static int run_cfa(struct unwind *u, const uint8_t *p, const uint8_t *end, const struct cie *c, uint64_t loc,
		   uint64_t target, int *depth)
{
	struct rdr r = {p, end, 1};
	struct uw_rules *rs = &u->rules;
	while (r.p < r.end && r.ok) {
		uint8_t op = *r.p++;
		uint64_t reg = 0, delta;
		int64_t off;
		switch (op >> 6) {
		case 1: /* advance_loc */
			delta = op & 0x3f;
			goto advance;
		case 2: /* offset */
			reg = op & 0x3f;
			off = (int64_t)rd_uleb(&r) * c->data_align;
			goto set_offset;
		case 3: /* restore */
			reg = op & 0x3f;
			goto restore;
		}
		switch (op) {
		case 0x00: /* nop */
			break;
		case 0x01: /* set_loc */
			loc = rd_ptr(&r, c->fde_enc, 0);
			if (loc > target)
				return 0;
			break;
		case 0x02:
			delta = rd_fixed(&r, 1, 0);
			goto advance;
		case 0x03:
			delta = rd_fixed(&r, 2, 0);
			goto advance;
		case 0x04:
			delta = rd_fixed(&r, 4, 0);
			goto advance;
		case 0x05: /* offset_extended */
			reg = rd_uleb(&r);
			off = (int64_t)rd_uleb(&r) * c->data_align;
			goto set_offset;
		case 0x06: /* restore_extended */
			reg = rd_uleb(&r);
			goto restore;
		case 0x07: /* undefined */
		case 0x08: /* same_value */
			reg = rd_uleb(&r);
			if (reg < UW_NREGS) {
				rs->reg[reg].kind = op == 0x07 ? UWR_UNDEF : UWR_SAME;
			}
			break;
		case 0x09: { /* register */
			reg = rd_uleb(&r);
			uint64_t r2 = rd_uleb(&r);
			if (reg < UW_NREGS) {
				if (r2 >= UW_NREGS)
					return -1;
				rs->reg[reg].kind = UWR_REG;
				rs->reg[reg].val = (int64_t)r2;
			}
			break;
		}
		case 0x0a: /* remember_state */
			if (*depth >= (int)(sizeof(u->saved) / sizeof(u->saved[0])))
				return -1;
			u->saved[(*depth)++] = *rs;
			break;
		case 0x0b: /* restore_state: the whole row, the CFA too (as GCC expects) */
			if (*depth <= 0)
				return -1;
			*rs = u->saved[--(*depth)];
			break;
		case 0x0c: /* def_cfa */
			reg = rd_uleb(&r);
			off = (int64_t)rd_uleb(&r);
		set_cfa:
			if (reg >= UW_NREGS)
				return -1;
			rs->cfa.kind = UWR_REG;
			rs->cfa.len = (uint32_t)reg;
			rs->cfa.val = off;
			break;
		case 0x12: /* def_cfa_sf */
			reg = rd_uleb(&r);
			off = rd_sleb(&r) * c->data_align;
			goto set_cfa;
		case 0x0d: /* def_cfa_register */
			reg = rd_uleb(&r);
			if (reg >= UW_NREGS || rs->cfa.kind != UWR_REG)
				return -1;
			rs->cfa.len = (uint32_t)reg;
			break;
		case 0x0e: /* def_cfa_offset */
			off = (int64_t)rd_uleb(&r);
		set_cfa_off:
			if (rs->cfa.kind != UWR_REG)
				return -1;
			rs->cfa.val = off;
			break;
		case 0x13: /* def_cfa_offset_sf */
			off = rd_sleb(&r) * c->data_align;
			goto set_cfa_off;
		case 0x0f: { /* def_cfa_expression */
			uint64_t n = rd_uleb(&r);
			if (!r.ok || n > (uint64_t)(r.end - r.p))
				return -1;
			rs->cfa.kind = UWR_EXPR;
			rs->cfa.val = (int64_t)(uintptr_t)r.p;
			rs->cfa.len = (uint32_t)n;
			r.p += n;
			break;
		}
		case 0x10:   /* expression */
		case 0x16: { /* val_expression */
			reg = rd_uleb(&r);
			uint64_t n = rd_uleb(&r);
			if (!r.ok || n > (uint64_t)(r.end - r.p))
				return -1;
			if (reg < UW_NREGS) {
				rs->reg[reg].kind = op == 0x10 ? UWR_EXPR : UWR_VAL_EXPR;
				rs->reg[reg].val = (int64_t)(uintptr_t)r.p;
				rs->reg[reg].len = (uint32_t)n;
			}
			r.p += n;
			break;
		}
		case 0x11: /* offset_extended_sf */
			reg = rd_uleb(&r);
			off = rd_sleb(&r) * c->data_align;
			goto set_offset;
		case 0x14: /* val_offset */
		case 0x15: /* val_offset_sf */
			reg = rd_uleb(&r);
			off = op == 0x14 ? (int64_t)rd_uleb(&r) * c->data_align : rd_sleb(&r) * c->data_align;
			if (reg < UW_NREGS) {
				rs->reg[reg].kind = UWR_VAL_OFFSET;
				rs->reg[reg].val = off;
			}
			break;
		case 0x2e: /* GNU_args_size */
			rd_uleb(&r);
			break;
		case 0x2f: /* GNU_negative_offset_extended */
			reg = rd_uleb(&r);
			off = -(int64_t)rd_uleb(&r) * c->data_align;
			goto set_offset;
		default:
			return -1;
		}
		continue;
	advance:
		loc += delta * c->code_align;
		if (loc > target)
			return 0;
		continue;
	set_offset:
		if (reg < UW_NREGS) {
			rs->reg[reg].kind = UWR_OFFSET;
			rs->reg[reg].val = off;
		}
		continue;
	restore:
		if (reg < UW_NREGS)
			rs->reg[reg] = u->init.reg[reg];
		continue;
	}
	return r.ok ? 0 : -1;
}

/* ------------------------------------------------------------- stepping */

/* The first of the UW_CACHE_WAYS entries of pc's set (the top bits of a
 * multiplicative hash). */
static inline struct uw_cached *cache_set(const struct unwind *u, uint64_t pc)
{
	return u->cache +
	       (((pc * 0x9e3779b97f4a7c15ull) >> (64 - UW_CACHE_BITS)) & ~(uint64_t)(UW_CACHE_WAYS - 1));
}

/* pc's entry in the cache, or NULL. */
static inline const struct uw_cached *cache_find(const struct unwind *u, uint64_t pc)
{
	const struct uw_cached *e = cache_set(u, pc);
	uint32_t gen = unwind_gen;
	for (unsigned w = 0; w < UW_CACHE_WAYS; w++, e++)
		if (e->pc == pc && e->gen == gen)
			return e;
	return NULL;
}

/* The entry to overwrite with pc's rules: one of its set, round robin (a
 * miss found no valid entry for pc there). */
static inline struct uw_cached *cache_victim(struct unwind *u, uint64_t pc)
{
	return cache_set(u, pc) + (u->cache_next++ & (UW_CACHE_WAYS - 1));
}

/* Applies a cached simple frame: the saved registers (mask, offsets from
 * the CFA) read directly when all lie on the known part of the stack. */
static int step_cached(struct unwind *u, const struct uw_cached *e)
{
	if (!(u->known & (1u << e->cfa_reg)))
		return -1;
	uint64_t cfa = u->reg[e->cfa_reg] + (uint64_t)(int64_t)e->cfa_off;
	if (cfa <= u->reg[UW_RSP])
		return -1;
	unsigned m = e->mask & ~UW_CACHED_END;
	uint64_t lo = cfa + (uint64_t)(int64_t)e->low;
	if (lo >= u->ok_lo[0] && lo < cfa && cfa <= u->ok_hi[0]) {
		for (unsigned b = m; b; b &= b - 1) {
			int i = __builtin_ctz(b);
			uint64_t v;
			memcpy(&v, (const void *)(uintptr_t)(cfa + (uint64_t)(int64_t)e->off[i]), 8);
			u->reg[cached_regs[i]] = v;
		}
	} else {
		uint64_t v[7];
		for (unsigned b = m; b; b &= b - 1) {
			int i = __builtin_ctz(b);
			if (uw_read(u, cfa + (uint64_t)(int64_t)e->off[i], &v[i]) < 0)
				return -1;
		}
		for (unsigned b = m; b; b &= b - 1) {
			int i = __builtin_ctz(b);
			u->reg[cached_regs[i]] = v[i];
		}
	}
	/* The registers of cached_regs[] for the bits of m: 3, 6, 12-16. */
	u->known |= (m & 1) << 3 | (m & 2) << 5 | (m & 0x7c) << 10;
	u->reg[UW_RSP] = cfa;
	u->exact = 0;
	return 0;
}

/* Stores the rules just computed when they describe a simple frame. */
static void cache_store(struct unwind *u, uint64_t target, const struct cie *c, uint32_t gen)
{
	const struct uw_rules *rs = &u->rules;
	if (!u->cache || c->signal || rs->cfa.kind != UWR_REG || rs->cfa.val != (int16_t)rs->cfa.val ||
	    rs->reg[UW_RA].kind != UWR_OFFSET)
		return;
	struct uw_cached e;
	memset(&e, 0, sizeof(e));
	for (int reg = 0, k = 0; reg < UW_NREGS; reg++) {
		int tracked = k < 7 && cached_regs[k] == reg;
		const struct uw_rule *x = &rs->reg[reg];
		if (x->kind == UWR_SAME) {
			k += tracked;
			continue;
		}
		if (!tracked || x->kind != UWR_OFFSET || x->val >= 0 || x->val != (int16_t)x->val)
			return;
		e.mask |= (uint8_t)(1u << k);
		if (x->val < e.low)
			e.low = (int16_t)x->val;
		e.off[k++] = (int16_t)x->val;
	}
	e.pc = target;
	e.gen = gen;
	e.cfa_reg = (uint8_t)rs->cfa.len;
	e.cfa_off = (int16_t)rs->cfa.val;
	*cache_victim(u, target) = e;
}

int unwind_step(struct unwind *u)
{
	uint64_t pc = u->reg[UW_RA];
	if (pc < 4096 || !(u->known & (1u << UW_RA)))
		return 0;
	/* A return address may be just past the end of its function (a call
	 * to a noreturn function): look up the call instruction. */
	uint64_t target = u->exact ? pc : pc - 1;
	const struct uw_cached *ce;
	if (u->cache && (ce = cache_find(u, target)))
		return !(ce->mask & UW_CACHED_END) && step_cached(u, ce) == 0 && u->reg[UW_RA] >= 4096;
	/* The generation before the lookup: a dlclose meanwhile makes the
	 * entry stale at once. */
	uint32_t gen = unwind_gen;
	__asm__ volatile("" ::: "memory");
	struct cie c;
	const uint8_t *insn, *insn_end;
	uint64_t start;
	const uint8_t *lo, *hi, *hdr;
	/* Another process's tables are a copy at target + delta: the
	 * pc-relative addresses in it are the copy's, and so is the pc to
	 * look up (an absolute encoding would be the process's: not
	 * followed). */
	int64_t delta = 0;
	if ((u->find ? u->find(u->find_arg, target, &lo, &hi, &hdr, &delta)
		     : uw_find_object(target, &lo, &hi, &hdr)) < 0 ||
	    uw_find_fde(target + (uint64_t)delta, lo, hi, hdr, &c, &insn, &insn_end, &start) < 0 ||
	    (delta && (c.fde_enc & 0x70) != 0x10))
		return 0;
	target += (uint64_t)delta;
	memset(&u->rules, 0, sizeof(u->rules));
	u->rules.cfa.kind = UWR_UNDEF;
	int depth = 0;
	if (run_cfa(u, c.insn, c.insn_end, &c, 0, UINT64_MAX, &depth) < 0)
		return 0;
	u->init = u->rules;
	depth = 0;
	if (run_cfa(u, insn, insn_end, &c, start, target, &depth) < 0)
		return 0;
	const struct uw_rules *rs = &u->rules;
	uint64_t cfa;
	if (rs->cfa.kind == UWR_REG) {
		if (!(u->known & (1u << rs->cfa.len)))
			return 0;
		cfa = u->reg[rs->cfa.len] + (uint64_t)rs->cfa.val;
	} else if (rs->cfa.kind == UWR_EXPR) {
		if (uw_eval(u, (const uint8_t *)(uintptr_t)rs->cfa.val, rs->cfa.len, 0, 0, &cfa) < 0)
			return 0;
	} else {
		return 0;
	}
	if (rs->reg[UW_RA].kind == UWR_UNDEF || rs->reg[UW_RA].kind == UWR_SAME) {
		/* The outermost frame (_start, a thread's start): every walk
		 * ends here, so remember it too. */
		u->ended = 1;
		if (u->cache) {
			struct uw_cached *e = cache_victim(u, target);
			memset(e, 0, sizeof(*e));
			e->pc = target;
			e->gen = gen;
			e->mask = UW_CACHED_END;
		}
		return 0;
	}
	/* The caller's registers, computed from the callee's before any is
	 * replaced (in the state, not on the stack). */
	uint64_t *nv = u->next;
	uint32_t nk = 0;
	for (int i = 0; i < UW_NREGS; i++) {
		const struct uw_rule *x = &rs->reg[i];
		uint64_t a;
		switch (x->kind) {
		case UWR_SAME:
			nv[i] = u->reg[i];
			nk |= u->known & (1u << i);
			continue;
		case UWR_UNDEF:
			continue;
		case UWR_OFFSET:
			if (uw_read(u, cfa + (uint64_t)x->val, &nv[i]) < 0)
				return 0;
			break;
		case UWR_VAL_OFFSET:
			nv[i] = cfa + (uint64_t)x->val;
			break;
		case UWR_REG:
			if (!(u->known & (1u << x->val)))
				continue;
			nv[i] = u->reg[x->val];
			break;
		case UWR_EXPR:
			if (uw_eval(u, (const uint8_t *)(uintptr_t)x->val, x->len, 1, cfa, &a) < 0 ||
			    uw_read(u, a, &nv[i]) < 0)
				return 0;
			break;
		case UWR_VAL_EXPR:
			if (uw_eval(u, (const uint8_t *)(uintptr_t)x->val, x->len, 1, cfa, &nv[i]) < 0)
				return 0;
			break;
		}
		nk |= 1u << i;
	}
	/* The stack grows down: a caller's frame is above its callee's, except
	 * across a signal frame (the handler may run on another stack). */
	if (rs->reg[UW_RSP].kind == UWR_SAME) {
		nv[UW_RSP] = cfa;
		nk |= 1u << UW_RSP;
	}
	if (!(nk & (1u << UW_RA)) || (!c.signal && nv[UW_RSP] <= u->reg[UW_RSP]))
		return 0;
	cache_store(u, target, &c, gen);
	memcpy(u->reg, nv, sizeof(u->reg));
	u->known = nk;
	u->exact = c.signal;
	return u->reg[UW_RA] >= 4096;
}

/* --------------------------------------------------- runs of frames (skip) */

/* A learned run (unwind_skip), offsets from the start's stack pointer. A
 * frame whose CFA is its frame pointer plus a constant (code built with
 * frame pointers) fits when the frame pointer is found at the same offset
 * from the start each time: checked as the return addresses are. */
struct uw_run {
	_Atomic int state;	    /* 0 free, 1 being written, 2 ready */
	unsigned n;		    /* frames */
	int32_t end;		    /* the stack pointer after the run */
	uint64_t pc[UW_RUN_MAX];    /* each frame's pc (pc[0] the start's return address) */
	int32_t ra_at[UW_RUN_MAX];  /* where frame i's return address sits (pc[i + 1], then the end's) */
	int32_t rbp_at[UW_RUN_MAX]; /* frame i's CFA is rbp-based: its rbp, saved there (-1: the start's) */
	int32_t rbp_is[UW_RUN_MAX]; /* and that rbp's offset; RBP_NONE: the CFA is rsp-based */
	int32_t saved[6];	    /* rbx rbp r12-r15 after the run: saved there, or -1: unchanged */
};
#define RBP_NONE INT32_MIN

static struct uw_run g_runs[UW_RUNS];

unsigned unwind_skip_runs(void)
{
	unsigned n = 0;
	while (n < UW_RUNS && atomic_load_explicit(&g_runs[n].state, memory_order_acquire) == 2)
		n++;
	return n;
}

static inline int in_run(uint64_t pc, uintptr_t lo, uintptr_t hi)
{
	return pc >= lo && pc < hi;
}

static inline uint64_t at_sp(uint64_t sp, int32_t off)
{
	return *(const uint64_t *)(uintptr_t)(sp + (uint64_t)(int64_t)off);
}

/* Applies run r when the stack holds its return addresses (and frame
 * pointers). */
static int run_apply(struct unwind *u, const struct uw_run *r, uintptr_t lo, uintptr_t hi)
{
	uint64_t sp = u->reg[UW_RSP], end = sp + (uint64_t)r->end;
	/* Every slot lies in [sp, end), on the live stack. */
	if (sp < u->ok_lo[0] || end > u->ok_hi[0] || end < sp)
		return 0;
	for (unsigned i = 0; i < r->n; i++) {
		if (i && at_sp(sp, r->ra_at[i - 1]) != r->pc[i])
			return 0;
		if (r->rbp_is[i] != RBP_NONE &&
		    (r->rbp_at[i] < 0 ? u->reg[UW_RBP] : at_sp(sp, r->rbp_at[i])) !=
			sp + (uint64_t)(int64_t)r->rbp_is[i])
			return 0;
	}
	uint64_t ra = at_sp(sp, r->ra_at[r->n - 1]);
	if (ra < 4096 || in_run(ra, lo, hi))
		return 0;
	for (int i = 0; i < 6; i++)
		if (r->saved[i] >= 0) {
			u->reg[cached_regs[i]] = at_sp(sp, r->saved[i]);
			u->known |= 1u << cached_regs[i];
		}
	u->reg[UW_RSP] = end;
	u->reg[UW_RA] = ra;
	u->exact = 0;
	return 1;
}

/* Folds the frame just stepped over (its cache entry e, its stack and
 * frame pointers sp and rbp, offsets from the start) into the run being
 * learned; returns 0 when the frame does not fit one. */
static int run_fold(struct uw_run *r, const struct uw_cached *e, int64_t sp, int64_t rbp)
{
	if (!e || (e->mask & UW_CACHED_END) || !(e->mask & 0x40) || r->n >= UW_RUN_MAX)
		return 0;
	int64_t cfa;
	if (e->cfa_reg == UW_RSP) {
		cfa = sp + e->cfa_off;
		r->rbp_is[r->n] = RBP_NONE;
	} else if (e->cfa_reg == UW_RBP && rbp > sp && rbp < INT32_MAX) {
		cfa = rbp + e->cfa_off;
		r->rbp_is[r->n] = (int32_t)rbp;
		r->rbp_at[r->n] = r->saved[1];
	} else {
		return 0;
	}
	if (cfa <= sp || cfa > INT32_MAX)
		return 0;
	for (unsigned b = e->mask; b; b &= b - 1) {
		int i = __builtin_ctz(b);
		int64_t at = cfa + e->off[i];
		if (at < 0 || at + 8 > cfa)
			return 0;
		if (i == 6)
			r->ra_at[r->n] = (int32_t)at;
		else
			r->saved[i] = (int32_t)at;
	}
	r->end = (int32_t)cfa;
	r->n++;
	return 1;
}

int unwind_skip(struct unwind *u, uintptr_t lo, uintptr_t hi)
{
	uint64_t pc = u->reg[UW_RA];
	if (!in_run(pc, lo, hi))
		return 1;
	/* Only from a captured start (a return address) on a stack of known
	 * bounds. */
	int learn = u->cache && !u->exact && u->ok_hi[0] && (u->known & (1u << UW_RSP));
	if (learn) {
		for (unsigned k = 0; k < UW_RUNS; k++) {
			const struct uw_run *r = &g_runs[k];
			if (atomic_load_explicit(&r->state, memory_order_acquire) != 2)
				break;
			if (r->pc[0] == pc && run_apply(u, r, lo, hi))
				return 1;
		}
	}
	/* Step by step, learning the run on the way. */
	struct uw_run nr;
	memset(&nr, 0, sizeof(nr));
	memset(nr.saved, 0xff, sizeof(nr.saved));
	uint64_t sp0 = u->reg[UW_RSP];
	do {
		pc = u->reg[UW_RA];
		int64_t sp = (int64_t)(u->reg[UW_RSP] - sp0);
		int64_t rbp = u->known & (1u << UW_RBP) ? (int64_t)(u->reg[UW_RBP] - sp0) : -1;
		if (learn)
			nr.pc[nr.n < UW_RUN_MAX ? nr.n : 0] = pc;
		if (!unwind_step(u))
			return 0;
		/* The step used (or made) the frame's cache entry. */
		learn = learn && !u->exact && run_fold(&nr, cache_find(u, pc - 1), sp, rbp) &&
			u->reg[UW_RSP] == sp0 + (uint64_t)(int64_t)nr.end;
	} while (in_run(u->reg[UW_RA], lo, hi));
	if (!learn)
		return 1;
	for (unsigned k = 0; k < UW_RUNS; k++) {
		struct uw_run *r = &g_runs[k];
		int free = 0;
		if (!atomic_compare_exchange_strong(&r->state, &free, 1)) {
			if (free == 1)
				return 1; /* another thread is writing it: not waited for */
			if (r->n == nr.n && r->end == nr.end && !memcmp(r->pc, nr.pc, sizeof(r->pc)) &&
			    !memcmp(r->ra_at, nr.ra_at, sizeof(r->ra_at)) &&
			    !memcmp(r->rbp_at, nr.rbp_at, sizeof(r->rbp_at)) &&
			    !memcmp(r->rbp_is, nr.rbp_is, sizeof(r->rbp_is)) &&
			    !memcmp(r->saved, nr.saved, sizeof(r->saved)))
				return 1; /* known (it did not apply: not learned twice) */
			continue;
		}
		r->n = nr.n;
		r->end = nr.end;
		memcpy(r->pc, nr.pc, sizeof(r->pc));
		memcpy(r->ra_at, nr.ra_at, sizeof(r->ra_at));
		memcpy(r->rbp_at, nr.rbp_at, sizeof(r->rbp_at));
		memcpy(r->rbp_is, nr.rbp_is, sizeof(r->rbp_is));
		memcpy(r->saved, nr.saved, sizeof(r->saved));
		atomic_store_explicit(&r->state, 2, memory_order_release);
		return 1;
	}
	return 1;
}
