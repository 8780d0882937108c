/* fathom record --pid: whether the target's seccomp filters let the agent
 * load and start. A filter that kills or traps on a call the agent makes
 * (openat and mmap for dlopen, timer_create, clone for its writer thread,
 * ...) would end the program the attach must leave running, so such a
 * process is refused with one line naming the call, before anything is
 * changed in it. The filters are read with PTRACE_SECCOMP_GET_FILTER (which
 * needs CAP_SYS_ADMIN) and run here, classic BPF over the calls the agent
 * makes with the arguments it makes them with; a filter fathom cannot read
 * refuses the attach too. A call a filter answers with an error is fine:
 * dlopen fails cleanly, or the agent goes on without that part (no CPU
 * timers), as at a launch.
 */
#define _GNU_SOURCE
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

/* The calls of the agent's loading and start, with their usual arguments. */
static const struct call {
	const char *name;
	int nr;
	uint64_t args[6];
} g_calls[] = {
    {"openat", SYS_openat, {(uint64_t)-100, 0, O_RDONLY | O_CLOEXEC}},
    {"read", SYS_read, {3}},
    {"pread64", SYS_pread64, {3}},
    {"newfstatat", SYS_newfstatat, {3}},
    {"close", SYS_close, {3}},
    {"mmap", SYS_mmap, {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_DENYWRITE, 3}},
    {"mmap", SYS_mmap, {0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1}},
    {"mprotect", SYS_mprotect, {0, 4096, PROT_READ}},
    {"munmap", SYS_munmap, {0, 4096}},
    {"rt_sigaction", SYS_rt_sigaction, {SIGPROF, 0, 0, 8}},
    {"rt_sigprocmask", SYS_rt_sigprocmask, {SIG_SETMASK, 0, 0, 8}},
    {"sigaltstack", SYS_sigaltstack, {0}},
    {"timer_create", SYS_timer_create, {CLOCK_THREAD_CPUTIME_ID}},
    {"timer_settime", SYS_timer_settime, {0}},
    {"clone",
     SYS_clone,
     {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
      CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID}},
    {"futex", SYS_futex, {0, 0x81 /* FUTEX_WAKE_PRIVATE */}},
    {"gettid", SYS_gettid, {0}},
    {"getpid", SYS_getpid, {0}},
    {"prctl", SYS_prctl, {PR_GET_NAME}},
    {"getdents64", SYS_getdents64, {3}},
    {"write", SYS_write, {3}},
    {"mkdir", SYS_mkdir, {0, 0700}},
    {"rename", SYS_rename, {0}},
    {"process_vm_readv", SYS_process_vm_readv, {0}},
    {"madvise", SYS_madvise, {0, 4096, MADV_DONTNEED}},
    {"exit", SYS_exit, {0}},
};

/* Runs one classic BPF seccomp program on d; returns its action word, or
 * SECCOMP_RET_KILL_PROCESS for a program that is not well formed. */
static uint32_t run_filter(const struct sock_filter *f, unsigned n, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
	for (unsigned pc = 0; pc < n; pc++) {
		const struct sock_filter *i = &f[pc];
		uint32_t k = i->k, src = BPF_SRC(i->code) == BPF_X ? x : k;
		switch (BPF_CLASS(i->code)) {
		case BPF_LD:
			if (i->code == (BPF_LD | BPF_W | BPF_ABS) && k % 4 == 0 && k + 4 <= sizeof(*d))
				memcpy(&a, (const char *)d + k, 4);
			else if (i->code == (BPF_LD | BPF_W | BPF_LEN))
				a = sizeof(*d);
			else if (i->code == (BPF_LD | BPF_IMM))
				a = k;
			else if (i->code == (BPF_LD | BPF_MEM) && k < BPF_MEMWORDS)
				a = mem[k];
			else
				return SECCOMP_RET_KILL_PROCESS;
			break;
		case BPF_LDX:
			if (i->code == (BPF_LDX | BPF_W | BPF_LEN))
				x = sizeof(*d);
			else if (i->code == (BPF_LDX | BPF_IMM))
				x = k;
			else if (i->code == (BPF_LDX | BPF_MEM) && k < BPF_MEMWORDS)
				x = mem[k];
			else
				return SECCOMP_RET_KILL_PROCESS;
			break;
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return SECCOMP_RET_KILL_PROCESS;
			mem[k] = BPF_CLASS(i->code) == BPF_ST ? a : x;
			break;
		case BPF_ALU:
			switch (BPF_OP(i->code)) {
			case BPF_ADD:
				a += src;
				break;
			case BPF_SUB:
				a -= src;
				break;
			case BPF_MUL:
				a *= src;
				break;
			case BPF_DIV:
				if (!src)
					return SECCOMP_RET_KILL_PROCESS;
				a /= src;
				break;
			case BPF_MOD:
				if (!src)
					return SECCOMP_RET_KILL_PROCESS;
				a %= src;
				break;
			case BPF_AND:
				a &= src;
				break;
			case BPF_OR:
				a |= src;
				break;
			case BPF_XOR:
				a ^= src;
				break;
			case BPF_LSH:
				a = src < 32 ? a << src : 0;
				break;
			case BPF_RSH:
				a = src < 32 ? a >> src : 0;
				break;
			case BPF_NEG:
				a = -a;
				break;
			default:
				return SECCOMP_RET_KILL_PROCESS;
			}
			break;
		case BPF_JMP: {
			unsigned to;
			switch (BPF_OP(i->code)) {
			case BPF_JA:
				to = pc + 1 + k;
				break;
			case BPF_JEQ:
				to = pc + 1 + (a == src ? i->jt : i->jf);
				break;
			case BPF_JGT:
				to = pc + 1 + (a > src ? i->jt : i->jf);
				break;
			case BPF_JGE:
				to = pc + 1 + (a >= src ? i->jt : i->jf);
				break;
			case BPF_JSET:
				to = pc + 1 + ((a & src) ? i->jt : i->jf);
				break;
			default:
				return SECCOMP_RET_KILL_PROCESS;
			}
			if (to >= n)
				return SECCOMP_RET_KILL_PROCESS;
			pc = to - 1;
			break;
		}
		case BPF_RET:
			return BPF_RVAL(i->code) == BPF_A ? a : k;
		case BPF_MISC:
			if (BPF_MISCOP(i->code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		default:
			return SECCOMP_RET_KILL_PROCESS;
		}
	}
	return SECCOMP_RET_KILL_PROCESS;
}

/* Whether an action lets the call through or answers it with an error:
 * anything else (kill, trap, a tracer's or a supervisor's decision) is
 * not for the agent to meet. */
static bool harmless(uint32_t action)
{
	uint32_t act = action & SECCOMP_RET_ACTION_FULL;
	return act == SECCOMP_RET_ALLOW || act == SECCOMP_RET_LOG || act == SECCOMP_RET_ERRNO;
}

static const char *action_name(uint32_t action)
{
	switch (action & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_KILL_PROCESS:
		return "kills the process";
	case SECCOMP_RET_KILL_THREAD:
		return "kills the thread";
	case SECCOMP_RET_TRAP:
		return "raises SIGSYS";
	case SECCOMP_RET_TRACE:
		return "stops it for a tracer";
	case SECCOMP_RET_USER_NOTIF:
		return "waits for a supervisor";
	default:
		return "answers with an unknown action";
	}
}

int attach_seccomp_check(pid_t pid, char *why, size_t cap)
{
	char v[64];
	why[0] = 0;
	if (attach_status_field(pid, "Seccomp:", v, sizeof(v)) < 0 || atoi(v) == 0)
		return 0;
	if (atoi(v) == 1) {
		snprintf(
		    why, cap,
		    "it runs in seccomp strict mode (read, write and exit only): the agent cannot be loaded");
		return -1;
	}
	/* Mode 2: read every filter (the process must be stopped by us). */
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0)
		return 0; /* the attach itself will say why */
	ptrace(PTRACE_INTERRUPT, pid, 0, 0);
	int st;
	if (waitpid(pid, &st, __WALL) < 0) {
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return 0;
	}
	int rc = 0;
	struct sock_filter *prog = NULL;
	for (long idx = 0;; idx++) {
		long n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)idx, NULL);
		if (n < 0 && errno == ENOENT)
			break; /* no more filters */
		if (n <= 0 || n > BPF_MAXINSNS) {
			snprintf(why, cap,
				 "it has seccomp filters fathom cannot read (%s; reading them needs "
				 "CAP_SYS_ADMIN): "
				 "one that kills on a call the agent makes would end it",
				 n < 0 ? strerror(errno) : "empty");
			rc = -1;
			break;
		}
		free(prog);
		prog = calloc((size_t)n, sizeof(*prog));
		if (!prog || ptrace(PTRACE_SECCOMP_GET_FILTER, pid, (void *)idx, prog) != n) {
			snprintf(why, cap, "its seccomp filter %ld could not be read", idx);
			rc = -1;
			break;
		}
		for (size_t c = 0; c < sizeof(g_calls) / sizeof(g_calls[0]); c++) {
			struct seccomp_data d = {.nr = g_calls[c].nr, .arch = AUDIT_ARCH_X86_64};
			memcpy(d.args, g_calls[c].args, sizeof(d.args));
			uint32_t act = run_filter(prog, (unsigned)n, &d);
			if (!harmless(act)) {
				snprintf(why, cap,
					 "its seccomp filter %ld %s at %s, which the agent needs: attaching "
					 "would end it",
					 idx, action_name(act), g_calls[c].name);
				rc = -1;
				break;
			}
		}
		if (rc)
			break;
	}
	free(prog);
	/* Let it go as it was: a stop it had pending stays its own. */
	ptrace(PTRACE_DETACH, pid, 0, 0);
	return rc;
}
