/* The program's view of its signal mask (signal-mask.c): the agent's
 * sampling signal is never really blocked, and what the program asked for is
 * kept per thread; the calls that wait for signals (sigwait.c) read it.
 */
#ifndef FATHOM_SIGMASK_H
#define FATHOM_SIGMASK_H

#include <signal.h>
#include <spawn.h>

#pragma GCC visibility push(hidden)

/* At start, once the sampling handler is installed: the mask becomes
 * virtual, and the calling (main) thread's real mask admits the signal. */
void sigmask_init(void);
/* pthread_create: the creating thread's view, handed to the new thread,
 * which calls sigmask_thread_start() first thing. */
int sigmask_thread_view(void);
void sigmask_thread_start(int view);
/* Before exec: the new image inherits the mask the program believes it has
 * (returns 1 when the signal was blocked for it); after a failed exec the
 * signal is admitted again. Also in a vfork child. */
int sigmask_before_exec(void);
void sigmask_exec_failed(int blocked);
/* In a fork child: signals held for the parent's thread are not the child's. */
void sigmask_after_fork(void);
/* The agent's own changes to the real mask (the writer blocks everything, a
 * thread that ends stops its samples). Context: any, async-signal-safe. */
int sigmask_real(int how, const sigset_t *set, sigset_t *old);
/* Around a handler the agent runs for the program (chain()): the view is
 * put back after it, as sigreturn puts the mask back. Context: signal. */
int sigmask_view_save(void);
void sigmask_view_restore(int view);
/* A signal of the agent's number that is not from its timers, while the
 * thread's view blocks it: kept pending for the program, as the kernel would
 * have (returns 1), else 0 and the program's disposition runs.
 * Context: signal (the agent's handler). */
int sigmask_hold(int sig, siginfo_t *si, void *uc);

/* For the calls that wait (sigwait.c). Context: any, async-signal-safe. */
/* The view is on (the handler is installed). */
int sigmask_on(void);
/* A signal of the program's of the agent's number is held for this thread. */
int sigmask_held(void);
/* The set of the agent's signal alone. */
void sigmask_one(sigset_t *s);
/* The program's current mask as it sees it, for a wait without a mask of its
 * own. Returns 0, or -1 (then the call is made as the program made it). */
int sigmask_view_now(sigset_t *m);
/* sigwait.c: resolves libc's functions, at start (from sigmask_init). */
void sigwait_init(void);

/* posix_spawn: the attributes to pass down so that the child starts with the
 * mask the program believes it has (attr itself, or *copy filled from it). */
const posix_spawnattr_t *sigmask_spawn_attr(const posix_spawnattr_t *attr, posix_spawnattr_t *copy);

#pragma GCC visibility pop

#endif
