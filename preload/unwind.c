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
#include "unwind.h"

#include <dlfcn.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <ucontext.h>
#include <unistd.h>

volatile uint32_t unwind_gen = 1;

enum { UWR_SAME = 0, UWR_UNDEF, UWR_OFFSET, UWR_VAL_OFFSET, UWR_REG, UWR_EXPR, UWR_VAL_EXPR };

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
	set_ok(u, 0, u->reg[UW_RSP], stack_lo, stack_hi);
	u->ok_lo[1] = u->ok_hi[1] = 0;
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

/* Reads the word at a, checked. Returns 0 or -1. */
static int rd(struct unwind *u, uint64_t a, uint64_t *v)
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

/* ------------------------------------------------ reading the CFI tables */

/* A bounded reader over an object's unwind tables; ok drops to 0 on an
 * overrun and stays there. */
struct rdr {
	const uint8_t *p, *end;
	int ok;
};

static inline int need(struct rdr *r, size_t n)
{
	if (!r->ok || (size_t)(r->end - r->p) < n) {
		r->ok = 0;
		return 0;
	}
	return 1;
}

static uint64_t rd_fixed(struct rdr *r, size_t n, int sign)
{
	if (!need(r, n))
		return 0;
	uint64_t v = 0;
	if (n == 1)
		v = sign ? (uint64_t)(int64_t)(int8_t)r->p[0] : r->p[0];
	else if (n == 2) {
		uint16_t x;
		memcpy(&x, r->p, 2);
		v = sign ? (uint64_t)(int64_t)(int16_t)x : x;
	} else if (n == 4) {
		uint32_t x;
		memcpy(&x, r->p, 4);
		v = sign ? (uint64_t)(int64_t)(int32_t)x : x;
	} else {
		memcpy(&v, r->p, 8);
	}
	r->p += n;
	return v;
}

static uint64_t rd_uleb(struct rdr *r)
{
	uint64_t v = 0;
	unsigned shift = 0;
	for (;;) {
		if (!need(r, 1))
			return 0;
		uint8_t b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
}

static int64_t rd_sleb(struct rdr *r)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;
	do {
		if (!need(r, 1))
			return 0;
		b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

/* A pointer in DW_EH_PE encoding enc; datarel is the base of datarel
 * pointers (the .eh_frame_hdr). Indirect pointers are returned undereferenced
 * (only the personality routine uses them, and it is skipped). */
static uint64_t rd_ptr(struct rdr *r, uint8_t enc, uint64_t datarel)
{
	const uint8_t *at = r->p;
	uint64_t v;
	switch (enc & 0x0f) {
	case 0x00:
		v = rd_fixed(r, 8, 0);
		break;
	case 0x01:
		v = rd_uleb(r);
		break;
	case 0x02:
		v = rd_fixed(r, 2, 0);
		break;
	case 0x03:
		v = rd_fixed(r, 4, 0);
		break;
	case 0x04:
		v = rd_fixed(r, 8, 0);
		break;
	case 0x09:
		v = (uint64_t)rd_sleb(r);
		break;
	case 0x0a:
		v = rd_fixed(r, 2, 1);
		break;
	case 0x0b:
		v = rd_fixed(r, 4, 1);
		break;
	case 0x0c:
		v = rd_fixed(r, 8, 1);
		break;
	default:
		r->ok = 0;
		return 0;
	}
	switch (enc & 0x70) {
	case 0x00:
		break;
	case 0x10:
		v += (uintptr_t)at;
		break;
	case 0x30:
		v += datarel;
		break;
	default:
		r->ok = 0;
		return 0;
	}
	return v;
}

struct cie {
	const uint8_t *insn, *insn_end;
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra;
	uint8_t fde_enc;
	uint8_t signal;
	uint8_t has_z;
};

/* Parses the CIE at p; lo/hi bound the object. */
static int parse_cie(const uint8_t *p, const uint8_t *lo, const uint8_t *hi, struct cie *c)
{
	if (p < lo || p >= hi)
		return -1;
	struct rdr r = {p, hi, 1};
	uint64_t len = rd_fixed(&r, 4, 0);
	int wide = len == 0xffffffffu;
	if (wide)
		len = rd_fixed(&r, 8, 0);
	if (!r.ok || len == 0 || len > (uint64_t)(hi - r.p))
		return -1;
	r.end = r.p + len;
	uint64_t id = rd_fixed(&r, wide ? 8 : 4, 0);
	uint8_t version = (uint8_t)rd_fixed(&r, 1, 0);
	if (!r.ok || id != 0 || (version != 1 && version != 3 && version != 4))
		return -1;
	const char *aug = (const char *)r.p;
	while (r.p < r.end && *r.p)
		r.p++;
	if (!need(&r, 1))
		return -1;
	r.p++;
	if (version == 4)
		rd_fixed(&r, 2, 0); /* address size, segment selector size */
	c->code_align = rd_uleb(&r);
	c->data_align = rd_sleb(&r);
	c->ra = version == 1 ? rd_fixed(&r, 1, 0) : rd_uleb(&r);
	c->fde_enc = 0;
	c->signal = 0;
	c->has_z = aug[0] == 'z';
	if (c->has_z) {
		uint64_t alen = rd_uleb(&r);
		if (!r.ok || alen > (uint64_t)(r.end - r.p))
			return -1;
		const uint8_t *aend = r.p + alen;
		for (const char *a = aug + 1; *a && r.ok; a++) {
			if (*a == 'L')
				rd_fixed(&r, 1, 0);
			else if (*a == 'P')
				rd_ptr(&r, (uint8_t)rd_fixed(&r, 1, 0), 0);
			else if (*a == 'R')
				c->fde_enc = (uint8_t)rd_fixed(&r, 1, 0);
			else if (*a == 'S')
				c->signal = 1;
			else if (*a != 'B')
				break; /* unknown: the length lets us skip the rest */
		}
		r.p = aend;
	} else if (aug[0]) {
		return -1;
	}
	if (!r.ok || c->ra != UW_RA || c->code_align == 0)
		return -1;
	c->insn = r.p;
	c->insn_end = r.end;
	return 0;
}

/* Finds the FDE covering pc: its CIE, and its instructions and start. */
static int find_fde(uint64_t pc, struct cie *c, const uint8_t **insn, const uint8_t **insn_end,
		    uint64_t *start)
{
	struct dl_find_object o;
	if (_dl_find_object((void *)(uintptr_t)pc, &o) != 0 || !o.dlfo_eh_frame)
		return -1;
	const uint8_t *lo = o.dlfo_map_start, *hi = o.dlfo_map_end;
	const uint8_t *hdr = o.dlfo_eh_frame;
	if (hdr < lo || hdr + 4 > hi || hdr[0] != 1)
		return -1;
	struct rdr r = {hdr + 4, hi, 1};
	rd_ptr(&r, hdr[1], (uintptr_t)hdr); /* eh_frame_ptr */
	uint64_t count = rd_ptr(&r, hdr[2], (uintptr_t)hdr);
	/* The search table: pairs of sdata4 offsets from the header. */
	if (!r.ok || hdr[3] != 0x3b || count == 0 || count > (uint64_t)(hi - r.p) / 8)
		return -1;
	const uint8_t *tab = r.p;
	int64_t rel = (int64_t)(pc - (uintptr_t)hdr);
	size_t a = 0, b = count;
	while (b - a > 1) {
		size_t m = a + (b - a) / 2;
		int32_t loc;
		memcpy(&loc, tab + m * 8, 4);
		if (loc <= rel)
			a = m;
		else
			b = m;
	}
	int32_t loc, off;
	memcpy(&loc, tab + a * 8, 4);
	memcpy(&off, tab + a * 8 + 4, 4);
	if (loc > rel)
		return -1;
	const uint8_t *fde = hdr + off;
	if (fde < lo || fde + 8 > hi)
		return -1;
	struct rdr f = {fde, hi, 1};
	uint64_t len = rd_fixed(&f, 4, 0);
	if (len == 0xffffffffu)
		len = rd_fixed(&f, 8, 0);
	if (!f.ok || len == 0 || len > (uint64_t)(hi - f.p))
		return -1;
	f.end = f.p + len;
	const uint8_t *at = f.p;
	uint32_t cie_off = (uint32_t)rd_fixed(&f, 4, 0);
	if (!f.ok || cie_off == 0 || parse_cie(at - cie_off, lo, hi, c) < 0)
		return -1;
	uint64_t begin = rd_ptr(&f, c->fde_enc, (uintptr_t)hdr);
	uint64_t range = rd_ptr(&f, c->fde_enc & 0x0f, 0);
	if (!f.ok || pc < begin || pc - begin >= range)
		return -1;
	if (c->has_z) {
		uint64_t alen = rd_uleb(&f);
		if (!f.ok || alen > (uint64_t)(f.end - f.p))
			return -1;
		f.p += alen;
	}
	*insn = f.p;
	*insn_end = f.end;
	*start = begin;
	return 0;
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

/* Evaluates a DWARF expression on the current frame's registers; push:
 * a value pushed first (the CFA, for DW_CFA_expression). */
static int eval(struct unwind *u, const uint8_t *p, uint32_t len, int has_push, uint64_t push, uint64_t *out)
{
	uint64_t st[16];
	int n = 0;
	struct rdr r = {p, p + len, 1};
	if (has_push)
		st[n++] = push;
#define NEED(k)                                                                                              \
	do {                                                                                                 \
		if (n < (k))                                                                                 \
			return -1;                                                                           \
	} while (0)
#define PUSH(v)                                                                                              \
	do {                                                                                                 \
		uint64_t v_ = (v);                                                                           \
		if (n >= 16)                                                                                 \
			return -1;                                                                           \
		st[n++] = v_;                                                                                \
	} while (0)
	while (r.p < r.end && r.ok) {
		uint8_t op = *r.p++;
		uint64_t a, b;
		if (op >= 0x30 && op <= 0x4f) { /* lit0..31 */
			PUSH((uint64_t)(op - 0x30));
			continue;
		}
		if ((op >= 0x50 && op <= 0x6f) || (op >= 0x70 && op <= 0x8f) || op == 0x90 || op == 0x92) {
			/* reg0..31, breg0..31, regx, bregx */
			uint64_t reg =
			    op == 0x90 || op == 0x92 ? rd_uleb(&r) : (uint64_t)((op - 0x50) & 0x1f);
			int64_t off = op >= 0x70 && op != 0x90 ? rd_sleb(&r) : 0;
			if (reg >= UW_NREGS || !(u->known & (1u << reg)))
				return -1;
			PUSH(u->reg[reg] + (uint64_t)off);
			continue;
		}
		switch (op) {
		case 0x03:
			PUSH(rd_fixed(&r, 8, 0));
			break; /* addr */
		case 0x06:     /* deref */
			NEED(1);
			if (rd(u, st[n - 1], &st[n - 1]) < 0)
				return -1;
			break;
		case 0x94: { /* deref_size */
			uint64_t sz = rd_fixed(&r, 1, 0), v;
			NEED(1);
			if (sz == 0 || sz > 8 || rd(u, st[n - 1], &v) < 0)
				return -1;
			st[n - 1] = sz == 8 ? v : v & ((1ull << (sz * 8)) - 1);
			break;
		}
		case 0x08:
			PUSH(rd_fixed(&r, 1, 0));
			break;
		case 0x09:
			PUSH(rd_fixed(&r, 1, 1));
			break;
		case 0x0a:
			PUSH(rd_fixed(&r, 2, 0));
			break;
		case 0x0b:
			PUSH(rd_fixed(&r, 2, 1));
			break;
		case 0x0c:
			PUSH(rd_fixed(&r, 4, 0));
			break;
		case 0x0d:
			PUSH(rd_fixed(&r, 4, 1));
			break;
		case 0x0e:
			PUSH(rd_fixed(&r, 8, 0));
			break;
		case 0x0f:
			PUSH(rd_fixed(&r, 8, 1));
			break;
		case 0x10:
			PUSH(rd_uleb(&r));
			break;
		case 0x11:
			PUSH((uint64_t)rd_sleb(&r));
			break;
		case 0x12:
			NEED(1);
			PUSH(st[n - 1]);
			break; /* dup */
		case 0x13:
			NEED(1);
			n--;
			break; /* drop */
		case 0x14:
			NEED(2);
			PUSH(st[n - 2]);
			break; /* over */
		case 0x15:
			a = rd_fixed(&r, 1, 0);
			NEED((int)a + 1);
			PUSH(st[n - 1 - (int)a]);
			break; /* pick */
		case 0x16:
			NEED(2);
			a = st[n - 1];
			st[n - 1] = st[n - 2];
			st[n - 2] = a;
			break; /* swap */
		case 0x17:
			NEED(3);
			a = st[n - 1];
			st[n - 1] = st[n - 2];
			st[n - 2] = st[n - 3];
			st[n - 3] = a;
			break;
		case 0x19:
			NEED(1);
			if ((int64_t)st[n - 1] < 0)
				st[n - 1] = -st[n - 1];
			break; /* abs */
		case 0x1f:
			NEED(1);
			st[n - 1] = -st[n - 1];
			break; /* neg */
		case 0x20:
			NEED(1);
			st[n - 1] = ~st[n - 1];
			break; /* not */
		case 0x23:
			NEED(1);
			st[n - 1] += rd_uleb(&r);
			break; /* plus_uconst */
		case 0x2f:     /* skip */
		case 0x28: {   /* bra */
			int64_t d = (int64_t)rd_fixed(&r, 2, 1);
			if (op == 0x28) {
				NEED(1);
				if (st[--n] == 0)
					break;
			}
			if (d < (int64_t)(p - r.p) || d > (int64_t)(r.end - r.p))
				return -1;
			r.p += d;
			break;
		}
		case 0x96:
			break; /* nop */
		default:
			NEED(2);
			b = st[--n];
			a = st[n - 1];
			switch (op) {
			case 0x1a:
				a &= b;
				break;
			case 0x1b:
				if (!b)
					return -1;
				a = (uint64_t)((int64_t)a / (int64_t)b);
				break;
			case 0x1c:
				a -= b;
				break;
			case 0x1d:
				if (!b)
					return -1;
				a %= b;
				break;
			case 0x1e:
				a *= b;
				break;
			case 0x21:
				a |= b;
				break;
			case 0x22:
				a += b;
				break;
			case 0x24:
				a = b < 64 ? a << b : 0;
				break;
			case 0x25:
				a = b < 64 ? a >> b : 0;
				break;
			case 0x26:
				a = b < 64 ? (uint64_t)((int64_t)a >> b) : 0;
				break;
			case 0x27:
				a ^= b;
				break;
			case 0x29:
				a = a == b;
				break;
			case 0x2a:
				a = (int64_t)a >= (int64_t)b;
				break;
			case 0x2b:
				a = (int64_t)a > (int64_t)b;
				break;
			case 0x2c:
				a = (int64_t)a <= (int64_t)b;
				break;
			case 0x2d:
				a = (int64_t)a < (int64_t)b;
				break;
			case 0x2e:
				a = a != b;
				break;
			default:
				return -1;
			}
			st[n - 1] = a;
		}
	}
#undef NEED
#undef PUSH
	if (!r.ok || n < 1)
		return -1;
	*out = st[n - 1];
	return 0;
}

/* ------------------------------------------------------------- stepping */

static inline unsigned cache_index(uint64_t pc)
{
	return (unsigned)((pc * 0x9e3779b97f4a7c15ull) >> 56) % UW_CACHE;
}

/* Applies a cached simple frame. */
static int step_cached(struct unwind *u, const struct uw_cached *e)
{
	if (!(u->known & (1u << e->cfa_reg)))
		return -1;
	uint64_t cfa = u->reg[e->cfa_reg] + (uint64_t)(int64_t)e->cfa_off, v[7];
	if (cfa <= u->reg[UW_RSP])
		return -1;
	/* Saved registers sit just below the CFA: one range check for all
	 * when the frame is on the known part of the stack. */
	if (cfa - 256 >= u->ok_lo[0] && cfa <= u->ok_hi[0] && cfa - 256 < cfa) {
		for (int i = 0; i < 7; i++)
			if (e->off[i]) {
				if (e->off[i] < -256 || e->off[i] > -8)
					goto slow;
				memcpy(&v[i], (const void *)(uintptr_t)(cfa + (uint64_t)(int64_t)e->off[i]),
				       8);
			}
	} else {
	slow:
		for (int i = 0; i < 7; i++)
			if (e->off[i] && rd(u, cfa + (uint64_t)(int64_t)e->off[i], &v[i]) < 0)
				return -1;
	}
	for (int i = 0; i < 7; i++)
		if (e->off[i]) {
			u->reg[cached_regs[i]] = v[i];
			u->known |= 1u << cached_regs[i];
		}
	u->reg[UW_RSP] = cfa;
	u->exact = 0;
	return 0;
}

/* Stores the rules just computed when they describe a simple frame. */
static void cache_store(struct unwind *u, uint64_t target, const struct cie *c, uint32_t gen)
{
	const struct uw_rules *rs = &u->rules;
	if (!u->cache || c->signal || rs->cfa.kind != UWR_REG || rs->cfa.val != (int32_t)rs->cfa.val ||
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
		if (!tracked || x->kind != UWR_OFFSET || !x->val || x->val != (int32_t)x->val)
			return;
		e.off[k++] = (int32_t)x->val;
	}
	e.pc = target;
	e.gen = gen;
	e.cfa_reg = (uint8_t)rs->cfa.len;
	e.cfa_off = (int32_t)rs->cfa.val;
	u->cache[cache_index(target)] = e;
}

int unwind_step(struct unwind *u)
{
	uint64_t pc = u->reg[UW_RA];
	if (pc < 4096 || !(u->known & (1u << UW_RA)))
		return 0;
	/* A return address may be just past the end of its function (a call
	 * to a noreturn function): look up the call instruction. */
	uint64_t target = u->exact ? pc : pc - 1;
	if (u->cache) {
		const struct uw_cached *e = &u->cache[cache_index(target)];
		if (e->pc == target && e->gen == unwind_gen)
			return !e->end && step_cached(u, e) == 0 && u->reg[UW_RA] >= 4096;
	}
	/* The generation before the lookup: a dlclose meanwhile makes the
	 * entry stale at once. */
	uint32_t gen = unwind_gen;
	__asm__ volatile("" ::: "memory");
	struct cie c;
	const uint8_t *insn, *insn_end;
	uint64_t start;
	if (find_fde(target, &c, &insn, &insn_end, &start) < 0)
		return 0;
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
		if (eval(u, (const uint8_t *)(uintptr_t)rs->cfa.val, rs->cfa.len, 0, 0, &cfa) < 0)
			return 0;
	} else {
		return 0;
	}
	if (rs->reg[UW_RA].kind == UWR_UNDEF || rs->reg[UW_RA].kind == UWR_SAME) {
		/* The outermost frame (_start, a thread's start): every walk
		 * ends here, so remember it too. */
		if (u->cache) {
			struct uw_cached *e = &u->cache[cache_index(target)];
			memset(e, 0, sizeof(*e));
			e->pc = target;
			e->gen = gen;
			e->end = 1;
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
			if (rd(u, cfa + (uint64_t)x->val, &nv[i]) < 0)
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
			if (eval(u, (const uint8_t *)(uintptr_t)x->val, x->len, 1, cfa, &a) < 0 ||
			    rd(u, a, &nv[i]) < 0)
				return 0;
			break;
		case UWR_VAL_EXPR:
			if (eval(u, (const uint8_t *)(uintptr_t)x->val, x->len, 1, cfa, &nv[i]) < 0)
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
