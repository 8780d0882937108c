/* The agent's own x86_64 stack unwinder: DWARF call frame information found
 * through the loader's _dl_find_object, no descriptors, no locks, no system
 * call on the common path, and a small stack footprint (its state lives in
 * a caller-provided struct, per thread in the agent).
 *
 * Context: async-signal-safe; may run inside malloc.
 */
#ifndef FATHOM_UNWIND_H
#define FATHOM_UNWIND_H

#include <stdint.h>
#include <sys/types.h>

#pragma GCC visibility push(hidden)

/* DWARF register numbers on x86_64: rax rdx rcx rbx rsi rdi rbp rsp r8..r15,
 * then 16, the return address column, which holds the frame's pc. */
enum { UW_RBX = 3, UW_RBP = 6, UW_RSP = 7, UW_RA = 16, UW_NREGS = 17 };

/* How a register of the caller is found from the callee's frame. */
struct uw_rule {
	int64_t val;  /* offset from the CFA, register number, or expression address */
	uint32_t len; /* expression length */
	uint8_t kind; /* UWR_* */
};

struct uw_rules {
	struct uw_rule reg[UW_NREGS];
	struct uw_rule cfa; /* kind UWR_REG (reg + val) or UWR_EXPR */
};

/* Per-thread cache of simple frames (CFA = register + offset, the return
 * address and callee-saved registers at fixed offsets from it): one lookup
 * instead of finding and running the frame's CFI. 4096 entries of 32 bytes
 * (128 KB, touched as used) in sets of 4, a set's victim chosen round
 * robin: cc1's walks visit 4,000-5,000 distinct return addresses, and 2048
 * entries mapped directly missed on 4.4% of its steps (each miss a search
 * of cc1's .eh_frame_hdr and two CFI programs, ~700 ns); these miss on
 * 0.6% (simulated on the trace of its 5.3 M steps: 4096 direct 2.5%, 8192
 * in sets of 4 0.15%). */
#ifndef UW_CACHE_BITS
#define UW_CACHE_BITS 12
#endif
#define UW_CACHE (1u << UW_CACHE_BITS)
#define UW_CACHE_WAYS 4
struct uw_cached {
	uint64_t pc; /* the address looked up (pc, or pc - 1 for a return address) */
	uint32_t gen;
	int16_t cfa_off;
	int16_t low;	/* the lowest of the offsets set */
	int16_t off[7]; /* rbx rbp r12 r13 r14 r15 ra: CFA offset, 0 = unchanged */
	uint8_t cfa_reg;
	uint8_t mask; /* bit i (0-6): off[i] is set; UW_CACHED_END: the outermost frame */
};
#define UW_CACHED_END 0x80
_Static_assert(sizeof(struct uw_cached) == 32, "a cached frame is 32 bytes");

/* Another process's unwind tables (fathom record --pid walks the stack of
 * a stopped thread of its target: profiler/attach-unwind.c): the object
 * holding pc as a local copy [lo, hi) of the segment with its
 * .eh_frame_hdr at hdr, *delta the copy's address minus the segment's in
 * that process. Returns 0, or -1 when pc is in no known object. */
typedef int (*uw_find_fn)(void *arg, uint64_t pc, const uint8_t **lo, const uint8_t **hi, const uint8_t **hdr,
			  int64_t *delta);

/* The unwinder's state: the registers of the current frame, and the rule
 * tables used while stepping (kept here, not on the stack). */
struct unwind {
	uint64_t reg[UW_NREGS];	 /* reg[UW_RA] is the frame's pc */
	uint64_t next[UW_NREGS]; /* scratch: the caller's registers */
	uint32_t known;		 /* bit i: reg[i] is known */
	int exact;		 /* pc is where the frame stopped, not a return address */
	/* Memory read without a check: [lo, hi) ranges known mapped (the
	 * live part of the thread's stack, the signal stack). Anything else
	 * is read with process_vm_readv, which fails instead of faulting. */
	uintptr_t ok_lo[2], ok_hi[2];
	pid_t pid; /* for process_vm_readv; looked up on first need */
	struct uw_rules rules, init;
	struct uw_rules saved[6];
	struct uw_cached *cache; /* NULL: no cache */
	unsigned cache_next;	 /* the next victim's way (round robin over all sets) */
	uw_find_fn find;	 /* NULL: this process's objects (_dl_find_object) */
	void *find_arg;
	int ended; /* the last step stopped at the outermost frame (no return address) */
};

/* Bumped when code may have been unloaded (dlclose): cached frames are
 * dropped. */
extern volatile uint32_t unwind_gen;

/* Fills regs with the registers of its caller's frame as they are when it
 * returns: the caller's callee-saved registers, its stack pointer after the
 * call, and (regs[UW_RA]) the return address into it. Implemented in
 * assembly. */
void unwind_capture(uint64_t *regs);

/* Starts from the frame of unwind_capture's caller (after capturing into
 * u->reg). stack_lo/hi: the thread's stack, 0 when unknown. */
void unwind_init_captured(struct unwind *u, uintptr_t stack_lo, uintptr_t stack_hi);

/* Starts from the interrupted frame of a signal (the handler's ucontext):
 * frame 0 is the interrupted pc itself. */
void unwind_init_signal(struct unwind *u, const void *ucontext, uintptr_t stack_lo, uintptr_t stack_hi);

/* Starts from the registers of a stopped thread of process pid (DWARF
 * order, reg[UW_RA] its pc): frame 0 is that pc; every read goes through
 * process_vm_readv, every object through find. */
void unwind_init_remote(struct unwind *u, pid_t pid, const uint64_t *reg, uw_find_fn find, void *arg);

/* Steps over the frames whose pcs lie in [lo, hi) (the agent's own, from
 * a captured start) to the first frame outside it. A run of such frames is
 * learned on its first walk (each frame's rules from the cache, every CFA
 * the stack pointer plus a constant) as one transform: where each return
 * address sits and what it is, where the run ends, where each callee-saved
 * register was saved, all relative to the start's stack pointer. A later
 * walk checks the return addresses in their slots (the same path through
 * the same code gives the same frames) and applies it: a load a frame
 * instead of a step. Up to UW_RUNS runs of up to UW_RUN_MAX frames are kept,
 * process-wide (written once; the agent's code is never unloaded). Returns
 * 1 at the first frame outside [lo, hi) (at once when the current one is),
 * 0 when the walk ended inside it. */
#define UW_RUN_MAX 12
#define UW_RUNS 16
int unwind_skip(struct unwind *u, uintptr_t lo, uintptr_t hi);
/* The runs learned so far (for tests). */
unsigned unwind_skip_runs(void);

/* Steps to the caller's frame. Returns 1 when it did (u->reg[UW_RA] is the
 * new pc, u->reg[UW_RSP] its stack pointer), 0 at the end of the stack or
 * when the frame cannot be unwound. */
int unwind_step(struct unwind *u);

#pragma GCC visibility pop

#endif
