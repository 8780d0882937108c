/* The interposed exec functions: before the image is replaced, sampling
 * stops (no timer or pending signal may survive into the new image) and the
 * dump gets a trailer, both undone when the exec fails; the environment
 * passed on keeps or drops the agent as program.c decides.
 *
 * Context: the program's threads, possibly a vfork child.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "python.h"
#include "interpose.h"
#include "encode.h"
#include "program.h"
#include "sigmask.h"

#include <errno.h>
#include <stdarg.h>
#include <unistd.h>

/* Before the image is replaced: no timer may survive, and no signal of ours
 * may be pending, or the new image, where the signal's disposition is the
 * program's again (its default action ends the process), could be killed
 * before its agent starts. Threads starting right now are kept from arming
 * (the gate), every timer is deleted, then pending signals are discarded. */
static void stop_sampling(void)
{
	sample_stop_arming();
	disarm_all();
	sample_before_exec();
	python_exec(1);
}

/* After a failed exec: the handler again, and a timer for every thread. */
static void resume_sampling(void)
{
	if (sample_install() < 0)
		return;
	python_exec(0);
	sample_allow_arming();
	int hw = threads_hiwater();
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (t && atomic_load(&t->state) == TS_LIVE)
			sample_arm(t, t->tid);
	}
	arm_existing_threads(agent_gettid());
}

struct exec_state {
	int active;
	int mask_blocked; /* the signal was blocked for the new image (signal-mask.c) */
	int sampling;	  /* the timers were stopped */
	struct enc_mark mark;
	int guard;
};

/* Stops sampling (see stop_sampling), flushes everything and writes a
 * trailer (reason EXEC), keeping wlock so that nothing follows it; the exec
 * replaces the image, or fails and exec_failed() takes the trailer back and
 * resumes. */
static struct exec_state before_exec(void)
{
	struct exec_state s = {0};
	s.mask_blocked = sigmask_before_exec();
	if (!agent_ready || getpid() != agent_pid)
		return s; /* (a vfork child: the timers are the parent's) */
	s.guard = agent_guard;
	agent_guard = 1;
	/* Whatever becomes of the dump, the new image must not inherit a
	 * timer or a pending signal. */
	if (agent_cpu_on) {
		s.sampling = 1;
		stop_sampling();
	}
	if (agent_finished || !dump_lock_bounded()) {
		if (!s.sampling)
			agent_guard = s.guard;
		return s;
	}
	s.active = 1;
	s.mark = trailer_provisional(FD_END_EXEC);
	/* Attached (fathom record --pid): the recording ends here, the new
	 * image runs without the agent; the attaching fathom stops waiting. */
	if (late_mode())
		manifest_line("detached %d\n", (int)control_pid());
	/* The new image makes its own channel (same pid). */
	control_close();
	/* A signal that ends the process came meanwhile: the dump is whole
	 * (its trailer says exec); the process ends as it would have, before
	 * the new image. */
	death_deferred_now();
	return s;
}

static void exec_failed(struct exec_state *s)
{
	sigmask_exec_failed(s->mask_blocked);
	if (!s->active && !s->sampling)
		return;
	int e = errno;
	if (s->active) {
		enc_rewind(dump_locked(), s->mark);
		control_open();
	}
	if (s->sampling && agent_cpu_on)
		resume_sampling();
	if (s->active)
		dump_unlock();
	/* Attached: fathom was told the recording ended; so it does. */
	if (s->active && late_mode()) {
		late_request_detach();
		writer_wake();
	}
	agent_guard = s->guard;
	errno = e;
}

REAL(execve, int (*)(const char *, char *const[], char *const[]));
REAL(execv, int (*)(const char *, char *const[]));
REAL(execvp, int (*)(const char *, char *const[]));
REAL(execvpe, int (*)(const char *, char *const[], char *const[]));
REAL(fexecve, int (*)(int, char *const[], char *const[]));
REAL(execveat, int (*)(int, const char *, char *const[], char *const[], int));

static int execve_impl(const char *path, char *const argv[], char *const envp[])
{
	if (!RESOLVE(execve)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(envp, path, &x);
	struct exec_state s = before_exec();
	int r = real_execve(path, argv, env);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return execve_impl(path, argv, envp);
}

static int execv_impl(const char *path, char *const argv[])
{
	if (!RESOLVE(execv)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(environ, path, &x);
	struct exec_state s = before_exec();
	/* execv is execve with environ: the same call with a kept agent. */
	int r = env == environ || !RESOLVE(execve) ? real_execv(path, argv) : real_execve(path, argv, env);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

EXPORT int execv(const char *path, char *const argv[])
{
	return execv_impl(path, argv);
}

static int execvp_impl(const char *file, char *const argv[])
{
	if (!RESOLVE(execvp)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(environ, file, &x);
	struct exec_state s = before_exec();
	int r = env == environ || !RESOLVE(execvpe) ? real_execvp(file, argv) : real_execvpe(file, argv, env);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

EXPORT int execvp(const char *file, char *const argv[])
{
	return execvp_impl(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (!RESOLVE(execvpe)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(envp, file, &x);
	struct exec_state s = before_exec();
	int r = real_execvpe(file, argv, env);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	if (!RESOLVE(fexecve)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(envp, argv[0], &x);
	struct exec_state s = before_exec();
	int r = real_fexecve(fd, argv, env);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	if (!RESOLVE(execveat)) {
		errno = ENOSYS;
		return -1;
	}
	struct exec_env x;
	char *const *env = program_exec_env(envp, path, &x);
	struct exec_state s = before_exec();
	int r = real_execveat(dirfd, path, argv, env, flags);
	exec_failed(&s);
	program_exec_env_done(&x);
	return r;
}

/* execl, execle, execlp: the argument list becomes an array on the stack, as
 * glibc does, then the matching v-function above runs. */
#define COLLECT_ARGS(arg0, ap, argv)                                                                         \
	size_t argc_ = 1;                                                                                    \
	va_start(ap, arg0);                                                                                  \
	while (va_arg(ap, char *))                                                                           \
		argc_++;                                                                                     \
	va_end(ap);                                                                                          \
	char *argv[argc_ + 1];                                                                               \
	argv[0] = (char *)arg0;                                                                              \
	va_start(ap, arg0);                                                                                  \
	for (size_t i_ = 1; i_ <= argc_; i_++)                                                               \
		argv[i_] = va_arg(ap, char *);

EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv)
	va_end(ap);
	/* The implementation itself: loaded late (fathom record --pid), the
	 * agent's own calls of execv would bind to the C library's. */
	return execv_impl(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv)
	va_end(ap);
	return execvp_impl(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	COLLECT_ARGS(arg, ap, argv)
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve_impl(path, argv, envp);
}
