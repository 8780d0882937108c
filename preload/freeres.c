/* The end of an exact allocation recording: the agent's last exit handler,
 * which lets glibc release its one-time allocations (__libc_freeres) before
 * the dump is finished, so that stdio buffers, locale data and the like are
 * not reported as leaks.
 *
 * When. The handler is registered with __cxa_atexit from the agent's
 * constructor with no DSO handle, so no library's __cxa_finalize runs it
 * early, and before __libc_start_main registers the loader's destructor
 * pass: exit() therefore runs it after the program's own exit handlers and
 * after every library's destructors, the agent's included, just before the
 * stdio flush and the exit system call. The agent's destructor leaves the
 * dump open for it (agent_exit_late_pending). Only exit() gets here: _exit,
 * _Exit, quick_exit, exec and fatal signals finish the dump as before and
 * never release anything (a fork child that leaves by _exit must not flush
 * its parent's stdio buffers, and quick_exit does not flush at all).
 *
 * Whether. __libc_freeres frees memory that glibc would otherwise use again,
 * so it runs only when nothing can use it afterwards:
 *  - the recording is exact (a sampled one estimates leaks, and the default
 *    suppressions of the analyzer cover what this would free);
 *  - the exiting thread is the process's only thread besides the agent's
 *    writer (another thread may be inside stdio, a locale or NSS);
 *  - the thread is not inside the agent (the frees must be recorded), and the
 *    process is the one the agent started in or a fork child it followed (a
 *    vfork child shares its parent's memory and has another pid);
 *  - glibc has the function (musl does not), FATHOM_FREERES is not 0, and it
 *    has not run yet (glibc guards it too).
 * It also clears the environment (glibc frees setenv's strings): the agent
 * reads what it needs from there at start (the manifest's path).
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);

static int g_armed;   /* the handler is registered for agent_pid's process */
static int g_freeres; /* FATHOM_FREERES is not 0 */
static int g_done;

static void exit_last(void *arg)
{
	(void)arg;
	if (!g_done && g_freeres && agent_alloc_on == FD_ALLOC_EXACT && !agent_guard &&
	    getpid() == agent_pid) {
		g_done = 1;
		/* opendir allocates: the agent's own, not recorded. */
		agent_guard = 1;
		int others = agent_threads_besides(agent_gettid());
		agent_guard = 0;
		if (others)
			goto out;
		void (*fr)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "__libc_freeres");
		if (fr)
			fr();
	}
out:
	agent_finish(FD_END_EXIT);
}

void agent_exit_late_setup(void)
{
	const char *s = config_getenv("FATHOM_FREERES");
	g_freeres = !s || strcmp(s, "0");
	/* Only exact recordings use it; sampled ones and CPU profiles finish
	 * in the destructor as before. */
	if (agent_cfg.alloc == FD_ALLOC_EXACT && g_freeres)
		g_armed = __cxa_atexit(exit_last, NULL, NULL) == 0;
}

int agent_exit_late_pending(void)
{
	/* A fork child inherits the handler list, and exit() there runs it too;
	 * a vfork child's exit() would run the parent's: it is not the
	 * process the handler belongs to, so the destructor finishes. */
	return g_armed && getpid() == agent_pid;
}
