/* fathom record --pid: the injector (attach-inject.c: ptrace, a call made
 * in the target on one of its threads), the target's objects and symbols
 * (attach-elf.c), and the attach and detach themselves (attach.c). */
#ifndef FATHOM_ATTACH_H
#define FATHOM_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* An address range [lo, hi). */
/* The value of KEY ("Seccomp:") in /proc/PID/status, without the key and
 * the blanks after it; -1 when there is none. */
int attach_status_field(pid_t pid, const char *key, char *out, size_t cap);
/* attach-seccomp.c: 0 when the target's seccomp filters (if any) let the
 * agent load and start; else -1 and why, in words. Stops the target for the
 * moment it takes to read its filters. */
int attach_seccomp_check(pid_t pid, char *why, size_t cap);

struct arange {
	uint64_t lo, hi;
};

#define ATTACH_UNSAFE_MAX 32
/* Where a thread must not be for the agent's dlopen to run on it: inside
 * the loader, the allocator, dl_iterate_phdr (the loader's locks, the
 * arena's lock would be taken again on the same thread) or the agent. */
struct attach_unsafe {
	struct arange r[ATTACH_UNSAFE_MAX];
	const char *what[ATTACH_UNSAFE_MAX]; /* the range's name, for FATHOM_ATTACH_DEBUG */
	int n;
	bool debug; /* FATHOM_ATTACH_DEBUG: say on stderr what made a thread unsafe */
	/* Inside the ranges, but allowed as a return address on the stack
	 * (never as the PC): the agent's interposers that wait in the C
	 * library (its section fathom_blockers, preload/agent.h BLOCKER). */
	struct arange allow;
};

/* attach-unwind.c: the target's objects and their unwind tables, copied
 * from its memory as the walks need them. */
struct attach_frames;
struct attach_frames *attach_frames_open(pid_t pid);
void attach_frames_close(struct attach_frames *s);
/* The frames of a stopped thread (regs: its struct user_regs_struct):
 * pcs[0] its pc, then the return addresses of the frames its unwind
 * tables describe, up to max. Returns how many; *stop_sp is 0 when the
 * walk reached the outermost frame, else the stack pointer of the frame
 * where it stopped (no unwind table, or max frames): the words from there
 * up were not walked. */
int attach_frames_walk(struct attach_frames *s, const void *regs, uint64_t *pcs, int max, uint64_t *stop_sp);

#define INJ_MAX_THREADS 4096
struct inj {
	pid_t pid;
	pid_t tids[INJ_MAX_THREADS];
	int sig[INJ_MAX_THREADS]; /* a signal its stop withheld, delivered at detach */
	int ntids;
	pid_t tid;		 /* the thread the calls run on */
	unsigned char regs[512]; /* its registers (struct user_regs_struct) */
	unsigned char *xstate;	 /* its FPU/vector state (NT_X86_XSTATE) */
	size_t xstate_len;
	uint64_t sp;	 /* the scratch area's low end, below the red zone */
	int tries;	 /* rounds until a thread was at a safe point */
	double pause_ms; /* how long every thread was stopped */
};

/* Stops every thread of pid (PTRACE_SEIZE, PTRACE_INTERRUPT), picks one at
 * a safe point (retrying after short resumes) and lets the others run on.
 * Returns 0, or -1 with why in err, every thread let go. */
int inj_begin(struct inj *j, pid_t pid, const struct attach_unsafe *unsafe, char *err, size_t cap);
/* After the agent started (fathom_attach, inj_end): every thread that was
 * there at inj_begin and blocks the agent's signal (fathom_late_mask.signo,
 * at mask_at in the target) gets it unblocked by ptrace, each listed in
 * fathom_late_mask first (the program still sees it blocked); a thread
 * running the agent's code (agent: its text, allow: its waiting
 * interposers excepted), whose block may be the agent's for the moment, is
 * looked at again later. *unmasked: how many. Returns 0. Reorders j->tids. */
int inj_unmask(struct inj *j, uint64_t mask_at, struct arange agent, struct arange allow, int *unmasked);
/* Copies len bytes onto the chosen thread's stack, below the red zone and
 * what is already there; returns their address in the target (0: failed). */
uint64_t inj_push(struct inj *j, const void *data, size_t len);
/* Calls fn(args...) (up to 6 integer arguments) on the chosen thread and
 * waits (timeout_ms) for it to return to an address that traps. Returns 0
 * and the result in *ret, or -1 with why in err. */
int inj_call(struct inj *j, uint64_t fn, const uint64_t *args, int nargs, uint64_t *ret, int timeout_ms,
	     char *err, size_t cap);
int inj_read(struct inj *j, uint64_t addr, void *buf, size_t len);
/* Puts the chosen thread's registers back and lets it go. */
void inj_end(struct inj *j);

/* attach-elf.c: an object mapped in pid: its path, where it is mapped,
 * its executable part. */
struct attach_obj {
	char path[4096];
	uint64_t base; /* where its first PT_LOAD (page-aligned) is mapped */
	struct arange text;
	bool found;
};
/* One line of /proc/PID/maps: its range, permissions, file offset and
 * name ("" when anonymous; the newline cut). Returns 0, or -1 when the
 * line is not a mapping's. */
int attach_maps_line(char *line, uint64_t *lo, uint64_t *hi, char perms[8], uint64_t *off, char **name);
/* Finds the object whose file name (the last component) starts with
 * prefix in pid's maps. */
int attach_find_obj(pid_t pid, const char *prefix, struct attach_obj *o);
/* The address in pid of a dynamic symbol of o (0: none), and its size. */
uint64_t attach_sym(pid_t pid, const struct attach_obj *o, const char *name, uint64_t *size);
/* The address in pid of o's section name (0: none), and its size. */
uint64_t attach_section(pid_t pid, const struct attach_obj *o, const char *name, uint64_t *size);

/* attach.c: one recording of a running process. */
struct attach_req {
	pid_t pid;
	const char *agent;    /* libfathom.so's absolute path */
	const char *config;   /* "NAME=VALUE" lines: the FATHOM_* a launch would set */
	const char *manifest; /* where the agent lists its dumps (FATHOM_MANIFEST) */
	double duration;      /* ns; 0: until Ctrl-C, fathom ctl PID stop or the exit */
	bool quiet;
};
/* Attaches, waits for the end, detaches. Returns the exit status (0: a
 * dump was made; 1: not attached, said why in one line). */
int attach_run(const struct attach_req *a);

#endif
