/* The injector of fathom record --pid: stops a running process's threads
 * with ptrace, picks one at a safe point, makes function calls on it (the
 * loader's dlopen, the agent's fathom_attach) with its registers saved and
 * put back, and lets it go. Every failure lets every thread go, unchanged. */
#define _GNU_SOURCE
#include "attach.h"
#include "fathom-attach.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)

#define RED_ZONE 128
#define SCAN_BYTES 16384 /* of each candidate's stack, for return addresses */
#define MAX_TRIES 60	 /* rounds of stop, look, resume for 2 ms */

static double mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool known(const struct inj *j, pid_t tid)
{
	for (int i = 0; i < j->ntids; i++)
		if (j->tids[i] == tid)
			return true;
	return false;
}

/* Waits for tid's stop after PTRACE_INTERRUPT: 0 stopped (a signal that
 * stopped it first kept in *sig, delivered at detach), -1 gone. */
static int wait_stop(pid_t tid, int *sig)
{
	for (;;) {
		int st;
		pid_t w = waitpid(tid, &st, __WALL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || WIFEXITED(st) || WIFSIGNALED(st))
			return -1;
		if (!WIFSTOPPED(st))
			continue;
		if (st >> 16 == PTRACE_EVENT_STOP)
			return 0;
		/* A signal-delivery stop came first: the interrupt's stop
		 * follows once it is resumed; the signal waits for detach. */
		if (WSTOPSIG(st) != SIGTRAP || !*sig)
			*sig = WSTOPSIG(st);
		if (ptrace(PTRACE_CONT, tid, 0, 0) < 0)
			return -1;
	}
}

/* The threads run for ms, as they would untraced: a traced thread stops
 * at each signal it gets until its tracer lets it go, and each is let go
 * at once with its signal. (Left stopped until the next look, a thread
 * whose child had exited ran in step with the looks: test-attach-dlfork's
 * loop, resumed at each SIGCHLD, was in the loader at every later look and
 * never in its waitpid.) A group stop is resumed, as in inj_call; an exit
 * is found by the next wait_stop. The injector has no children of its
 * own: every stop waited for here is a thread's of the target. */
static void let_run(double ms)
{
	double until = mono_ms() + ms;
	while (mono_ms() < until) {
		int st;
		pid_t w = waitpid(-1, &st, __WALL | WNOHANG);
		if (w > 0 && WIFSTOPPED(st))
			ptrace(PTRACE_CONT, w, 0, (void *)(long)(st >> 16 ? 0 : WSTOPSIG(st)));
		else if (w <= 0)
			nanosleep(&(struct timespec){0, 100000}, NULL);
	}
}

static void forget(struct inj *j, int i)
{
	j->tids[i] = j->tids[j->ntids - 1];
	j->sig[i] = j->sig[j->ntids - 1];
	j->ntids--;
}

static void release_all(struct inj *j, pid_t keep)
{
	for (int i = 0; i < j->ntids; i++)
		if (j->tids[i] != keep)
			ptrace(PTRACE_DETACH, j->tids[i], 0, (void *)(long)j->sig[i]);
}

/* Seizes and stops every thread, over again until /proc shows no new one.
 * Returns 0, or a negative errno of the first seize. */
static int stop_all(struct inj *j)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)j->pid);
	for (int round = 0; round < 20; round++) {
		DIR *d = opendir(path);
		if (!d)
			return -ESRCH;
		struct dirent *de;
		int added = 0;
		while ((de = readdir(d)) && j->ntids < INJ_MAX_THREADS) {
			pid_t tid = (pid_t)atoi(de->d_name);
			if (tid <= 0 || known(j, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
				int e = errno;
				if (e == ESRCH)
					continue; /* ended meanwhile */
				closedir(d);
				return -e;
			}
			j->tids[j->ntids] = tid;
			j->sig[j->ntids] = 0;
			j->ntids++;
			added++;
			ptrace(PTRACE_INTERRUPT, tid, 0, 0);
		}
		closedir(d);
		for (int i = 0; i < j->ntids; i++) {
			/* Only the threads just seized wait for their stop. */
			if (i < j->ntids - added)
				continue;
			if (wait_stop(j->tids[i], &j->sig[i]) < 0)
				forget(j, i--);
		}
		if (!added)
			return j->ntids ? 0 : -ESRCH;
	}
	return 0;
}

/* The unsafe range holding a, or -1. */
static int in_unsafe(const struct attach_unsafe *u, uint64_t a)
{
	for (int i = 0; i < u->n; i++)
		if (a >= u->r[i].lo && a < u->r[i].hi)
			return i;
	return -1;
}

static bool allowed(const struct attach_unsafe *u, uint64_t a)
{
	return a >= u->allow.lo && a < u->allow.hi;
}

/* Whether tid is at a safe point: its PC, and the return addresses of its
 * live frames, outside the unsafe ranges (return addresses in u->allow
 * excepted). The frames are walked with their unwind tables
 * (attach-unwind.c); from a frame the tables do not describe on, every
 * word of the next 16 KB of the stack is taken for a return address. With
 * u->debug, says what made it unsafe. */
static bool safe_point(pid_t pid, pid_t tid, const struct attach_unsafe *u, struct attach_frames *fr,
		       struct user_regs_struct *r)
{
	if (ptrace(PTRACE_GETREGS, tid, 0, r) < 0)
		return false;
	int k = in_unsafe(u, r->rip);
	if (k >= 0) {
		if (u->debug)
			fprintf(stderr, "fathom: attach: thread %d unsafe: PC %#llx in %s\n", (int)tid,
				(unsigned long long)r->rip, u->what[k]);
		return false;
	}
	static uint64_t pcs[256];
	uint64_t from = r->rsp;
	int n = fr ? attach_frames_walk(fr, r, pcs, 256, &from) : 1;
	for (int i = 1; i < n; i++) {
		if ((k = in_unsafe(u, pcs[i])) < 0 || allowed(u, pcs[i]))
			continue;
		if (u->debug)
			fprintf(
			    stderr,
			    "fathom: attach: thread %d unsafe: PC %#llx, frame %d returns to %#llx in %s\n",
			    (int)tid, (unsigned long long)r->rip, i, (unsigned long long)pcs[i], u->what[k]);
		return false;
	}
	if (!from) {
		if (u->debug)
			fprintf(stderr,
				"fathom: attach: thread %d at a safe point: PC %#llx, %d frames walked\n",
				(int)tid, (unsigned long long)r->rip, n);
		return true; /* every frame walked */
	}
	static uint64_t words[SCAN_BYTES / 8];
	struct iovec local = {words, sizeof(words)}, remote = {(void *)(uintptr_t)from, sizeof(words)};
	ssize_t got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (got < 0) {
		/* The stack ends within the window: read what there is. */
		remote.iov_len = local.iov_len = 4096 - (from & 4095);
		got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (got < 0)
			return false;
	}
	for (ssize_t i = 0; i < got / 8; i++) {
		if ((k = in_unsafe(u, words[i])) < 0 || allowed(u, words[i]))
			continue;
		if (u->debug)
			fprintf(
			    stderr,
			    "fathom: attach: thread %d unsafe: PC %#llx, %d frames walked, word at %#llx: "
			    "%#llx in %s\n",
			    (int)tid, (unsigned long long)r->rip, n,
			    (unsigned long long)(from + (uint64_t)i * 8), (unsigned long long)words[i],
			    u->what[k]);
		return false;
	}
	if (u->debug)
		fprintf(
		    stderr,
		    "fathom: attach: thread %d at a safe point: PC %#llx, %d frames walked, 16 KB above\n",
		    (int)tid, (unsigned long long)r->rip, n);
	return true;
}

static void say_errno(char *err, size_t cap, pid_t pid, int e)
{
	if (e == EPERM) {
		char buf[16] = "";
		FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
		if (f) {
			if (!fgets(buf, sizeof(buf), f))
				buf[0] = 0;
			fclose(f);
		}
		buf[strcspn(buf, "\n")] = 0;
		if (buf[0] && strcmp(buf, "0"))
			snprintf(
			    err, cap,
			    "ptrace not permitted: kernel.yama.ptrace_scope=%s; run as the same user with "
			    "CAP_SYS_PTRACE (or as root), or set kernel.yama.ptrace_scope to 0",
			    buf);
		else
			snprintf(
			    err, cap,
			    "ptrace not permitted on process %d (another user's, or not dumpable); run as "
			    "its user or as root",
			    (int)pid);
	} else if (e == ESRCH) {
		snprintf(err, cap, "process %d exited during the attach", (int)pid);
	} else {
		snprintf(err, cap, "ptrace: %s", strerror(e));
	}
}

int inj_begin(struct inj *j, pid_t pid, const struct attach_unsafe *unsafe, char *err, size_t cap)
{
	memset(j, 0, offsetof(struct inj, tids));
	j->pid = pid;
	j->ntids = 0;
	j->tid = 0;
	double t0 = mono_ms();
	int rc = stop_all(j);
	if (rc < 0) {
		release_all(j, 0);
		say_errno(err, cap, pid, -rc);
		return -1;
	}
	struct user_regs_struct r;
	for (j->tries = 1; j->tries <= MAX_TRIES; j->tries++) {
		/* The main thread first: it is the one most often waiting in a
		 * plain system call. The objects as they are now, every thread
		 * stopped. */
		struct attach_frames *fr = attach_frames_open(pid);
		for (int i = 0; i < j->ntids && !j->tid; i++) {
			if (j->sig[i]) {
				/* Its stop held a signal back: it must run it. */
				if (unsafe->debug)
					fprintf(stderr,
						"fathom: attach: thread %d unsafe: signal %d pending\n",
						(int)j->tids[i], j->sig[i]);
			} else if (safe_point(pid, j->tids[i], unsafe, fr, &r)) {
				j->tid = j->tids[i];
			}
		}
		attach_frames_close(fr);
		if (j->tid)
			break;
		/* Let them run about 2 ms (1.5 to 2.5: no beat with a loop of
		 * the program's), and look again. */
		for (int i = 0; i < j->ntids; i++)
			ptrace(PTRACE_CONT, j->tids[i], 0, (void *)(long)j->sig[i]);
		for (int i = 0; i < j->ntids; i++)
			j->sig[i] = 0;
		j->pause_ms += mono_ms() - t0;
		let_run(1.5 + (double)((unsigned)(j->tries * 2654435761u) >> 22) / 1024);
		t0 = mono_ms();
		for (int i = 0; i < j->ntids; i++)
			ptrace(PTRACE_INTERRUPT, j->tids[i], 0, 0);
		for (int i = 0; i < j->ntids; i++)
			if (wait_stop(j->tids[i], &j->sig[i]) < 0)
				forget(j, i--);
		if ((rc = stop_all(j)) < 0) {
			release_all(j, 0);
			say_errno(err, cap, pid, -rc);
			return -1;
		}
	}
	if (!j->tid) {
		release_all(j, 0);
		snprintf(
		    err, cap,
		    "no thread of process %d came to a safe point (outside the loader and the allocator) "
		    "in %d tries; try again",
		    (int)pid, MAX_TRIES);
		return -1;
	}
	/* The other threads run on while the calls are made: one of them
	 * may hold a lock the loader or malloc needs. */
	release_all(j, j->tid);
	j->pause_ms += mono_ms() - t0;
	memcpy(j->regs, &r, sizeof(r));
	j->xstate_len = 16384;
	j->xstate = calloc(1, j->xstate_len);
	struct iovec io = {j->xstate, j->xstate_len};
	if (!j->xstate || ptrace(PTRACE_GETREGSET, j->tid, NT_X86_XSTATE, &io) < 0) {
		/* No XSAVE: the legacy FPU and SSE state. */
		io.iov_len = sizeof(struct user_fpregs_struct);
		if (!j->xstate || ptrace(PTRACE_GETFPREGS, j->tid, 0, j->xstate) < 0) {
			ptrace(PTRACE_DETACH, j->tid, 0, 0);
			snprintf(err, cap, "cannot read the registers of thread %d", (int)j->tid);
			free(j->xstate);
			return -1;
		}
		io.iov_len = 0;
	}
	j->xstate_len = io.iov_len;
	j->sp = (r.rsp - RED_ZONE - 256) & ~(uint64_t)15;
	return 0;
}

uint64_t inj_push(struct inj *j, const void *data, size_t len)
{
	uint64_t at = (j->sp - len) & ~(uint64_t)15;
	struct iovec local = {(void *)data, len}, remote = {(void *)(uintptr_t)at, len};
	if (process_vm_writev(j->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		return 0;
	j->sp = at;
	return at;
}

int inj_read(struct inj *j, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
	return process_vm_readv(j->pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

int inj_call(struct inj *j, uint64_t fn, const uint64_t *args, int nargs, uint64_t *ret, int timeout_ms,
	     char *err, size_t cap)
{
	struct user_regs_struct r;
	memcpy(&r, j->regs, sizeof(r));
	/* The return address 0: the call ends in a SIGSEGV at PC 0, which
	 * ptrace reports and which is never delivered. */
	uint64_t zero = 0, sp = j->sp - 16;
	struct iovec local = {&zero, 8}, remote = {(void *)(uintptr_t)(sp - 8), 8};
	if (process_vm_writev(j->pid, &local, 1, &remote, 1, 0) != 8) {
		snprintf(err, cap, "cannot write to the stack of thread %d", (int)j->tid);
		return -1;
	}
	r.rsp = sp - 8; /* at the entry, rsp + 8 is 16-aligned */
	r.rip = fn;
	r.rax = 0;
	r.orig_rax = (uint64_t)-1; /* no system call to restart at this PC */
	unsigned long long *regs[6] = {&r.rdi, &r.rsi, &r.rdx, &r.rcx, &r.r8, &r.r9};
	for (int i = 0; i < nargs && i < 6; i++)
		*regs[i] = args[i];
	if (ptrace(PTRACE_SETREGS, j->tid, 0, &r) < 0 || ptrace(PTRACE_CONT, j->tid, 0, 0) < 0) {
		snprintf(err, cap, "ptrace: %s", strerror(errno));
		return -1;
	}
	double until = mono_ms() + timeout_ms;
	for (;;) {
		int st;
		pid_t w = waitpid(j->tid, &st, __WALL | WNOHANG);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || (w > 0 && (WIFEXITED(st) || WIFSIGNALED(st)))) {
			snprintf(err, cap, "process %d exited during the attach", (int)j->pid);
			j->tid = 0;
			return -1;
		}
		if (w == 0) {
			if (mono_ms() > until) {
				ptrace(PTRACE_INTERRUPT, j->tid, 0, 0);
				int s = 0;
				wait_stop(j->tid, &s);
				snprintf(err, cap, "the call in process %d did not return within %d ms",
					 (int)j->pid, timeout_ms);
				return -1;
			}
			nanosleep(&(struct timespec){0, 200000}, NULL);
			continue;
		}
		if (!WIFSTOPPED(st))
			continue;
		int sig = WSTOPSIG(st);
		if (st >> 16 == PTRACE_EVENT_STOP) {
			/* A group stop (SIGSTOP to the process): the call goes
			 * on; the stop is the process's own business later. */
			ptrace(PTRACE_CONT, j->tid, 0, 0);
			continue;
		}
		struct user_regs_struct now;
		if (ptrace(PTRACE_GETREGS, j->tid, 0, &now) < 0) {
			snprintf(err, cap, "ptrace: %s", strerror(errno));
			return -1;
		}
		if (sig == SIGSEGV && now.rip == 0) {
			*ret = now.rax;
			return 0;
		}
		if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) {
			snprintf(err, cap, "the call in process %d faulted (signal %d at %#llx)", (int)j->pid,
				 sig, (unsigned long long)now.rip);
			return -1;
		}
		/* The program's own signal: delivered, its handler runs on
		 * top of the call, as it would on top of any code. */
		ptrace(PTRACE_CONT, j->tid, 0, (void *)(long)sig);
	}
}

void inj_end(struct inj *j)
{
	if (j->tid) {
		ptrace(PTRACE_SETREGS, j->tid, 0, j->regs);
		if (j->xstate_len) {
			struct iovec io = {j->xstate, j->xstate_len};
			ptrace(PTRACE_SETREGSET, j->tid, NT_X86_XSTATE, &io);
		} else if (j->xstate) {
			ptrace(PTRACE_SETFPREGS, j->tid, 0, j->xstate);
		}
		ptrace(PTRACE_DETACH, j->tid, 0, 0);
	}
	free(j->xstate);
	j->xstate = NULL;
	j->tid = 0;
}

/* Whether the stopped thread tid runs the agent's code (its PC, or a live
 * frame's return address, in agent; its waiting interposers, allow,
 * excepted): its sampling handler, say, which runs with the agent's signal
 * blocked. */
static bool in_agent(pid_t tid, struct attach_frames *fr, struct arange agent, struct arange allow)
{
	struct user_regs_struct r;
	if (ptrace(PTRACE_GETREGS, tid, 0, &r) < 0)
		return false;
	static uint64_t pcs[256];
	uint64_t stop_sp;
	int n = fr ? attach_frames_walk(fr, &r, pcs, 256, &stop_sp) : 0;
	if (!n)
		pcs[n++] = r.rip;
	for (int i = 0; i < n; i++)
		if (pcs[i] >= agent.lo && pcs[i] < agent.hi &&
		    (i == 0 || pcs[i] < allow.lo || pcs[i] >= allow.hi))
			return true;
	return false;
}

/* Lists tid (the n-th) in the agent's fathom_late_mask and lets the
 * agent's signal (bit) through to it. Returns 0 or -1. */
static int unmask_one(struct inj *j, uint64_t mask_at, pid_t tid, int n, uint64_t m, uint64_t bit)
{
	int32_t t32 = (int32_t)tid, n1 = n + 1;
	struct iovec local = {&t32, 4},
		     remote = {(void *)(uintptr_t)(mask_at + offsetof(struct fathom_late_mask, tid) +
						   4 * (size_t)n),
			       4};
	struct iovec lcount = {&n1, 4},
		     rcount = {(void *)(uintptr_t)(mask_at + offsetof(struct fathom_late_mask, n)), 4};
	m &= ~bit;
	return process_vm_writev(j->pid, &local, 1, &remote, 1, 0) == 4 &&
		       process_vm_writev(j->pid, &lcount, 1, &rcount, 1, 0) == 4 &&
		       ptrace(PTRACE_SETSIGMASK, tid, (void *)sizeof(m), &m) == 0
		   ? 0
		   : -1;
}

int inj_unmask(struct inj *j, uint64_t mask_at, struct arange agent, struct arange allow, int *unmasked)
{
	*unmasked = 0;
	struct fathom_late_mask h;
	if (!mask_at || inj_read(j, mask_at, &h, offsetof(struct fathom_late_mask, tid)) < 0 ||
	    h.signo <= 0 || h.signo > 64)
		return 0;
	uint64_t bit = 1ull << (h.signo - 1);
	int n = 0, left = j->ntids;
	/* j->tids[0, left) are still to be looked at. A thread inside the
	 * agent's code (its sampling handler: the agent started its timers)
	 * may block the signal for the moment only: let go and looked at
	 * again 1 ms later, up to 20 times; then left as it is. */
	for (int round = 0; round < 20 && left && n < FATHOM_LATE_MASK_MAX; round++) {
		if (round)
			nanosleep(&(struct timespec){0, 1000000}, NULL);
		struct attach_frames *fr = attach_frames_open(j->pid);
		for (int i = 0; i < left && n < FATHOM_LATE_MASK_MAX; i++) {
			pid_t tid = j->tids[i];
			int sig = 0;
			uint64_t m = 0;
			bool again = false;
			if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0)
				goto done; /* ended meanwhile */
			if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
				ptrace(PTRACE_DETACH, tid, 0, 0);
				goto done;
			}
			if (wait_stop(tid, &sig) < 0)
				goto done; /* gone */
			if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(m), &m) == 0 && (m & bit)) {
				if (in_agent(tid, fr, agent, allow))
					again = true;
				else if (unmask_one(j, mask_at, tid, n, m, bit) == 0)
					n++; /* listed before it runs with the signal let through */
			}
			ptrace(PTRACE_DETACH, tid, 0, (void *)(long)sig);
			if (again)
				continue;
		done:
			/* Looked at: out of the list, swapped to its end. */
			j->tids[i--] = j->tids[--left];
			j->tids[left] = tid;
		}
		attach_frames_close(fr);
	}
	*unmasked = n;
	return 0;
}

#else

int inj_unmask(struct inj *j, uint64_t mask_at, struct arange agent, struct arange allow, int *unmasked)
{
	(void)j, (void)mask_at, (void)agent, (void)allow;
	*unmasked = 0;
	return 0;
}

int inj_begin(struct inj *j, pid_t pid, const struct attach_unsafe *unsafe, char *err, size_t cap)
{
	(void)j;
	(void)unsafe;
	snprintf(err, cap, "attaching to a running process (%d) is supported on x86_64 only", (int)pid);
	return -1;
}

uint64_t inj_push(struct inj *j, const void *data, size_t len)
{
	(void)j;
	(void)data;
	(void)len;
	return 0;
}

int inj_call(struct inj *j, uint64_t fn, const uint64_t *args, int nargs, uint64_t *ret, int timeout_ms,
	     char *err, size_t cap)
{
	(void)j, (void)fn, (void)args, (void)nargs, (void)ret, (void)timeout_ms;
	snprintf(err, cap, "not supported");
	return -1;
}

int inj_read(struct inj *j, uint64_t addr, void *buf, size_t len)
{
	(void)j, (void)addr, (void)buf, (void)len;
	return -1;
}

void inj_end(struct inj *j)
{
	(void)j;
}

#endif
