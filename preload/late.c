/* The agent loaded late, into a running process (`fathom record --pid`): the
 * configuration handed over by fathom_attach() instead of the environment,
 * the start on threads that already run, the program's allocator calls
 * redirected through its modules' GOT slots (got.c), and the detach that
 * finishes the dump and leaves the agent loaded and quiet until the next
 * fathom_attach().
 *
 * The injector (profiler/attach-inject.c) calls fathom_attach() on one of
 * the program's threads, stopped at a safe point, while the other threads
 * run. Nothing here may write to the program's stderr: the agent's messages
 * go back to the injector in the reply buffer.
 *
 * Context: ordinary (the injected call, the writer's round), never signal.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "encode.h"
#include "program.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The configuration: "NAME=VALUE" lines, copied; g_env[] points into it. */
#define LATE_CONF 8192
#define LATE_VARS 64
static char g_conf[LATE_CONF];
static const char *g_env[LATE_VARS];
static int g_nenv;
static volatile int g_late;	      /* loaded late: the configuration is g_env */
static volatile int g_started;	      /* the agent started once (agent_start_late) */
static volatile int g_detach_pending; /* a stop asked for the detach */
/* Where the agent's messages go while fathom_attach runs. */
static char *g_reply;
static size_t g_reply_cap, g_reply_len;

/* The functions whose slots a late agent takes over (got.c): the allocator,
 * the loader (modules loaded later get their slots too; its walk, during
 * which the sampling handler does not unwind), thread creation (new
 * threads get a timer) and naming, everything that reads or sets the signal
 * mask, a disposition or the signal stack, waits for a signal, or passes
 * the mask on to a new image (exec, posix_spawn): the agent's signal is let
 * through on every thread (the threads that ran before by the attaching
 * fathom, fathom-attach.h) while the program sees the mask it set, as at a
 * launch; and, as at a launch too, the blocking calls (waits), the
 * mappings and the exits that no destructor sees. */
static const char *const late_fns[] = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign",
    "valloc", "pvalloc", "malloc_usable_size", "dlopen", "dlmopen", "dlclose", "dl_iterate_phdr",
    "pthread_create", "pthread_setname_np", "prctl",
    /* masks */
    "pthread_sigmask", "sigprocmask", "sigsetmask", "sighold", "sigrelse", "syscall",
    /* dispositions, signal stacks */
    "sigaction", "__sigaction", "signal", "bsd_signal", "ssignal", "sysv_signal", "__sysv_signal", "sigset",
    "sigignore", "siginterrupt", "sigaltstack",
    /* waits for signals */
    "sigsuspend", "__sigsuspend", "sigpause", "__sigpause", "bsd_sigpause", "__xpg_sigpause", "sigwait",
    "sigwaitinfo", "sigtimedwait", "signalfd", "sigpending", "pselect", "ppoll", "__ppoll_chk", "epoll_pwait",
    "epoll_pwait2",
    /* new images */
    "execve", "execv", "execvp", "execvpe", "execl", "execle", "execlp", "fexecve", "execveat", "posix_spawn",
    "posix_spawnp",
    /* waits (blocking.c, blocking-io.c, wait-locks.c) */
    "nanosleep", "clock_nanosleep", "usleep", "sleep", "poll", "epoll_wait", "__poll_chk", "select",
    "pthread_cond_wait", "pthread_cond_timedwait", "pthread_join", "sem_wait", "sem_timedwait", "waitpid",
    "wait", "wait4", "pthread_cond_clockwait", "pthread_timedjoin_np", "pthread_clockjoin_np",
    "sem_clockwait", "wait3", "waitid", "pause", "read", "readv", "pread", "pread64", "recv", "recvfrom",
    "recvmsg", "__read_chk", "__pread_chk", "__pread64_chk", "__recv_chk", "__recvfrom_chk", "write",
    "writev", "pwrite", "pwrite64", "send", "sendto", "sendmsg", "accept", "accept4", "connect", "fsync",
    "fdatasync", "pthread_mutex_lock", "pthread_mutex_timedlock", "pthread_mutex_clocklock",
    "pthread_mutex_unlock", "pthread_rwlock_rdlock", "pthread_rwlock_wrlock", "pthread_rwlock_timedrdlock",
    "pthread_rwlock_timedwrlock", "pthread_rwlock_clockrdlock", "pthread_rwlock_clockwrlock",
    "pthread_spin_lock", "pthread_barrier_wait",
    /* the vectored, many-message and sendfile waits (blocking-io.c) */
    "preadv", "preadv64", "preadv2", "preadv64v2", "recvmmsg", "pwritev", "pwritev64", "pwritev2",
    "pwritev64v2", "sendmmsg", "sendfile", "sendfile64",
    /* mappings (mmap-hooks.c) */
    "mmap", "mmap64", "munmap", "mremap", "sbrk", "brk",
    /* exits (interpose-exit.c) */
    "daemon", "quick_exit", "_exit", "_Exit", NULL};

int late_mode(void)
{
	return g_late;
}

const char *const *late_got_names(void)
{
	return g_late ? late_fns : NULL;
}

/* Whether the agent was loaded into a running process by fathom record
 * --pid, which opens it as DIR/./libfathom.so (attach.c; the loader keeps
 * the name as given): then it waits for fathom_attach(). Loaded at start
 * (LD_PRELOAD, /etc/ld.so.preload, linked into the program) or by the
 * program's own dlopen, it starts at once as always. */
int late_loaded(void)
{
	Dl_info di;
	if (!dladdr((void *)late_loaded, &di) || !di.dli_fname || !strstr(di.dli_fname, "/./libfathom"))
		return 0;
	g_late = 1;
	return 1;
}

/* The value of name in the configuration fathom_attach() gave: 1 and *v
 * (NULL when unset) in late mode, else 0 (the environment holds it). */
int late_getenv(const char *name, const char **v)
{
	if (!g_late)
		return 0;
	size_t l = strlen(name);
	*v = NULL;
	for (int i = 0; i < g_nenv; i++)
		if (!strncmp(g_env[i], name, l) && g_env[i][l] == '=')
			*v = g_env[i] + l + 1;
	return 1;
}

/* A message of the agent's while fathom_attach runs: into the reply, not
 * onto the program's stderr. Returns 1 when taken. Context: any. */
int late_capture(const char *msg, size_t n)
{
	if (!g_late)
		return 0;
	if (!g_reply)
		return 1; /* later: the program's stderr is not ours */
	if (g_reply_len + n + 1 < g_reply_cap) {
		memcpy(g_reply + g_reply_len, msg, n);
		g_reply_len += n;
		g_reply[g_reply_len] = 0;
	}
	return 1;
}

static void parse_config(const char *config)
{
	snprintf(g_conf, sizeof(g_conf), "%s", config ? config : "");
	g_nenv = 0;
	for (char *p = g_conf; *p && g_nenv < LATE_VARS;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		if (strchr(p, '='))
			g_env[g_nenv++] = p;
		if (!nl)
			break;
		p = nl + 1;
	}
}

/* The first records of an attached dump: a window that starts at the
 * attach, so that frees of older blocks count apart ("frees_unknown") and
 * figures read "since attach". Context: wlock held. */
void late_dump_start(struct enc *e)
{
	if (g_late)
		enc_window(e, 0, FD_WIN_START, atomic_load(&agent_seq), 0, "attach");
}

/* A "stop" (fathom ctl, or the attaching fathom) in late mode: the writer
 * detaches at the end of its round. Context: wlock held. */
void late_request_detach(void)
{
	if (g_late)
		g_detach_pending = 1;
}

/* The writer's round, wlock held: the detach asked for. The dump ends
 * (FD_END_DETACH), timers are gone and the hooks pass through (the window
 * was switched off); the writer then leaves its loop, and closes the
 * control channel once wlock is let go. Returns whether it detached. */
int late_writer_round(void)
{
	if (!g_detach_pending)
		return 0;
	g_detach_pending = 0;
	agent_finish_locked(FD_END_DETACH);
	manifest_line("detached %d\n", (int)control_pid());
	/* The program's descriptors and memory as before the attach (the
	 * agent's code and thread states stay for the next one). */
	dump_close();
	statm_forget(1);
	return 1;
}

/* Called by the injector in the program, on one of its threads: starts (or
 * after a detach, restarts) the agent with config ("NAME=VALUE" lines: the
 * FATHOM_* variables a launch would set). The agent's messages go into
 * reply. Returns 0 when recording, -1 when not (reply says why). */
EXPORT int fathom_attach(const char *config, char *reply, size_t cap)
{
	if (!g_late) {
		snprintf(reply, cap, "the agent was preloaded at start: use fathom ctl PID start");
		return -1;
	}
	g_reply = reply;
	g_reply_cap = cap;
	g_reply_len = 0;
	if (cap)
		reply[0] = 0;
	int r;
	if (agent_ready && !agent_finished) {
		say("fathom: process %d is being recorded already", (int)getpid());
		r = -1;
	} else {
		parse_config(config);
		manifest_forget();
		r = g_started ? agent_restart_late() : agent_start_late();
		if (r == 0)
			g_started = 1;
	}
	g_reply = NULL;
	return r;
}
