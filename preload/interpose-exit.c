/* The interposed ways out of a process that no destructor sees: daemon()
 * (its parent leaves by the C library's internal _exit), quick_exit, _exit
 * and _Exit; each writes the dump's trailer first.
 *
 * Context: the program's threads.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "interpose.h"
#include "encode.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static int g_quick_exit_hooked;

/* daemon(): its parent leaves by the C library's internal _exit, which no
 * interposed function sees. The fork's parent handler writes the trailer
 * first, keeping wlock (the parent is about to end); when the fork failed
 * and daemon() returns in the parent, the trailer is taken back. */
static struct {
	pid_t pid; /* the process inside daemon(), 0 when none */
	int held;
	int guard;
	struct enc_mark mark;
} g_daemon;

void daemon_fork_parent(void)
{
	if (!g_daemon.pid || g_daemon.pid != getpid() || !agent_ready || agent_finished ||
	    getpid() != agent_pid)
		return;
	g_daemon.guard = agent_guard;
	agent_guard = 1;
	if (!dump_lock_bounded()) {
		agent_guard = g_daemon.guard;
		return;
	}
	g_daemon.mark = trailer_provisional(FD_END_EXIT);
	g_daemon.held = 1;
	/* Nothing may wait for the writer now (it would wait on wlock, which
	 * this thread holds): hooks drop what finds a ring full. */
	agent_finished = 1;
}

REAL(daemon, int (*)(int, int));

EXPORT int daemon(int nochdir, int noclose)
{
	if (!RESOLVE(daemon)) {
		errno = ENOSYS;
		return -1;
	}
	pid_t self = getpid();
	g_daemon.pid = self;
	int r = real_daemon(nochdir, noclose);
	int e = errno;
	if (getpid() == self && g_daemon.held) {
		enc_rewind(dump_locked(), g_daemon.mark);
		agent_finished = 0;
		dump_unlock();
		agent_guard = g_daemon.guard;
	}
	g_daemon.held = 0;
	g_daemon.pid = 0;
	errno = e;
	return r;
}

static void on_quick_exit(void)
{
	agent_finish(FD_END_EXIT);
}

REAL(quick_exit, void (*)(int));

/* The at_quick_exit handler above writes the trailer after the program's
 * own handlers; without it (it could not be registered), quick_exit does. */
EXPORT void quick_exit(int status)
{
	if (!g_quick_exit_hooked)
		agent_finish(FD_END_EXIT);
	if (RESOLVE(quick_exit))
		real_quick_exit(status);
	agent_finish(FD_END_EXIT);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

REAL(_exit, void (*)(int));
REAL(_Exit, void (*)(int));

EXPORT void _exit(int status)
{
	agent_finish(FD_END_EXIT);
	if (RESOLVE(_exit))
		real__exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

EXPORT void _Exit(int status)
{
	agent_finish(FD_END_EXIT);
	if (RESOLVE(_Exit))
		real__Exit(status);
	syscall(SYS_exit_group, status);
	__builtin_unreachable();
}

/* The agent's at_quick_exit handler, registered in the constructor before
 * the program's own, so that it runs last. */
void exit_hooks_setup(void)
{
	g_quick_exit_hooked = at_quick_exit(on_quick_exit) == 0;
}
