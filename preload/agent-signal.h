/* The agent's functions on the sampling signal's side, by the file that
 * defines them: the sample's cost, the threads' CPU accounts, the handler,
 * the program's view of the agent's signal, the timers, the signal stack,
 * and what the handler reads of a thread inside a blocking call. Included
 * by agent.h (after the per-thread state they take).
 */
#ifndef FATHOM_AGENT_SIGNAL_H
#define FATHOM_AGENT_SIGNAL_H

#include "agent.h"

#pragma GCC visibility push(hidden)

/* sample-cost.c: the CPU sample's cost with FATHOM_DEBUG_COST=1. scost_add:
 * Context: signal. */
extern int scost_on;
void scost_setup(void);
void scost_add(uint64_t ns, unsigned frames);
void scost_report(void);

/* thread-cpu.c */
/* Reads the CPU clock of the process's thread tid. Context: any,
 * async-signal-safe. */
int tcpu_read(pid_t tid, uint64_t *ns);
/* Starts t's CPU account at tid's clock now, unless it has one. Context:
 * any, async-signal-safe. */
void tcpu_note_base(struct tstate *t, pid_t tid);
/* Starts the account of a thread born under the agent at 0 and notes its
 * start routine fn and the frames that called it (start_frames). Context:
 * on the new thread, before it runs fn. */
void tcpu_note_birth(struct tstate *t, void *(*fn)(void *));
typedef void (*tcpu_emit_fn)(struct tstate *t, const uint64_t *w, size_t n);
/* The emitter that writes into the dump directly, for another thread's
 * account. Context: wlock held. */
void tcpu_emit_enc(struct tstate *t, const uint64_t *w, size_t n);
/* Closes t's CPU account at time now: with charge (CPU sampling on, CPU
 * clock), the CPU time its samples do not cover is emitted as a SAMPLE of
 * that exact time (4 words), on the stack it was last sampled in or its
 * start stack (a STACK event first when that is new; f is room for one, of
 * EV_MAX_WORDS); then a THREAD_END carrying the measured CPU time (4 words;
 * 3 when the clock could not be read), and with it the scheduler's account
 * of the thread (6 words: on a CPU, waiting for one; tsched_since), but
 * not with mid_run (a thread's own end while the program runs on: the
 * open would take the program's lowest free descriptor for a moment).
 * Changes nothing in t, so that a trailer taken back (a failed exec) can be
 * written again. Context: not signal; the emitter's. */
void tcpu_close(struct tstate *t, int charge, int mid_run, uint64_t now, uint64_t *f, tcpu_emit_fn emit);
/* Sampling pauses (a window's stop, a late agent's detach), t's timer
 * gone: the CPU time t used since its samples' cover, up to now, is charged
 * as at its end (emitted as tcpu_close does), so that the window holds it;
 * the time from here to the resume or the close is then skipped
 * (tcpu_skip). Context: not signal; the emitter's. */
void tcpu_settle(struct tstate *t, uint64_t now, uint64_t *f, tcpu_emit_fn emit);
/* The agent's finish is about to run on t (the program's exit): its
 * account ends here, with charge its rest charged as at its end; from
 * here on it takes no sample, its THREAD_END gives its time up to here,
 * and its CPU time after it counts as the agent's writer's (the trailer,
 * tcpu_finish_ns). Does nothing for NULL or a frozen t. Context: not
 * signal; on t's thread; the emitter's. */
void tcpu_freeze(struct tstate *t, int charge, uint64_t now, uint64_t *f, tcpu_emit_fn emit);
/* t's CPU time since tcpu_freeze, 0 when not frozen. */
uint64_t tcpu_finish_ns(struct tstate *t);
/* The CPU time a sample of this weight stands for, and counts it as
 * covered: 0 when that is weight whole periods, else the exact time (the
 * first sample after an arming covers the timer's phase, not a period).
 * Context: signal (the sampling handler). */
uint64_t tcpu_sample_ns(struct tstate *t, uint32_t weight);
/* The timer of t was armed now, its first expiration first_ns later: the
 * next sample stands for the CPU time not yet covered up to there. Context:
 * any, async-signal-safe. */
void tcpu_note_arm(struct tstate *t, uint64_t clk_now, uint64_t first_ns);
/* Recording resumes (or t ends while paused): t's CPU time not covered by
 * samples so far was used while paused, and is left out of its account and
 * of the process's (agent_cpu_skipped). Context: not signal; no timer of t
 * armed. */
void tcpu_skip(struct tstate *t, uint64_t clk_now);
extern _Atomic uint64_t agent_cpu_skipped;
/* The scheduler's account of thread tid (schedstat): ns on a CPU and ns
 * runnable but waiting for a CPU, since its birth (tsched_read) or, for a
 * thread running at the start, since then (tsched_since). -1: unknown (no
 * schedstat on this kernel, or no base). tsched_note_start takes the bases
 * of the threads running now; tsched_forget_all drops them (a fork child's
 * thread is born with the child); tsched_thread_ended drops tid's. Context:
 * not signal, not malloc (a /proc file is read). */
int tsched_read(pid_t tid, uint64_t *run_ns, uint64_t *wait_ns);
int tsched_since(pid_t tid, uint64_t *run_ns, uint64_t *wait_ns);
void tsched_note_start(void);
void tsched_forget_all(void);
void tsched_thread_ended(pid_t tid);
/* The main thread's start stack: the program's entry point. */
void tcpu_note_main(struct tstate *t);
/* A forked child's thread: no account, no samples, no stacks yet (its
 * start stack stays: the same addresses in the same image). */
void tcpu_forget(struct tstate *t);

/* signal-sample.c */
/* Installs the handler on agent_cfg.signo (also after a failed exec). */
int sample_install(void);

/* signal-action.c: the program's view of the agent's signal */
/* Installs handler with flags on agent_cfg.signo; the program's disposition
 * of it becomes virtual. */
int sample_action_install(void (*handler)(int, siginfo_t *, void *), int flags);
/* The C library's sigaction (-1, ENOSYS without one). */
int sample_real_sigaction(int sig, const struct sigaction *act, struct sigaction *old);
/* Before exec, once every timer is deleted: discard our pending signals and
 * restore the program's disposition (sample_install() undoes it). */
void sample_before_exec(void);
/* Runs the program's disposition *disp of sig as the kernel would have
 * (SA_RESETHAND updates *disp). Context: signal. */
void sample_chain(struct sigaction *disp, int sig, siginfo_t *si, void *uc);
/* sample_chain() with the program's disposition of the agent's signal.
 * Context: signal. */
void sample_chain_program(int sig, siginfo_t *si, void *uc);
/* The program has a handler of its own for the agent's signal. Context: any. */
int sample_user_handles(void);

/* signal-timers.c */
/* At start-up: tries the calls the timers need (timer_create, timer_settime)
 * with SIGSYS caught, so that a seccomp filter cannot kill the program.
 * Returns 0, or -1 with the reason ("timer_create: ...") in why. */
int sample_probe(char *why, size_t cap);
/* Context: any. Arms the thread's timer (not while an exec is under way);
 * a failure is counted in agent_cpu_unsampled. */
int sample_arm(struct tstate *t, pid_t tid);
/* The delay (ns of its clock) of the first expiration of tid's timer: each
 * thread's timer starts at its own phase. */
uint64_t sample_first_ns(pid_t tid);
void sample_disarm(struct tstate *t);
clockid_t sample_thread_clock(pid_t tid);
/* Timers are made only inside the gate: enter returns 0 once an exec has
 * stopped arming. sample_stop_arming() waits until no thread is inside, so
 * that every timer is then known and can be deleted. Context: any,
 * async-signal-safe. */
int sample_gate_enter(void);
void sample_gate_leave(void);
void sample_stop_arming(void);
void sample_allow_arming(void);
/* Inside the gate. */
int sample_arm_tid(pid_t tid, timer_t *out);
uint64_t sample_thread_cpu(pid_t tid);
/* The signal comes from the agent's own timers. Context: any. */
int sample_timer_info(const siginfo_t *si);
/* Threads left unsampled because their timer could not be made, and why
 * (the errno of the last failure, of timer_create (0) or timer_settime (1)). */
extern _Atomic uint64_t agent_cpu_unsampled;
extern int agent_cpu_unsampled_errno;
extern int agent_cpu_unsampled_call;

/* signal-altstack.c */
/* Installs the thread's agent signal stack unless the program has one.
 * Context: any, async-signal-safe; on the thread t belongs to. */
void sample_altstack_on(struct tstate *t);

/* Bumped by the handler for each signal of the agent's timers on this
 * thread: a blocking call that fails with EINTR while it changed was
 * interrupted by the agent (blocking.c retries it). */
extern TLS unsigned agent_sample_sigs;

/* blocking.c */
/* The handler's frames of a thread inside a blocking call (t->blk_on):
 * the agent's own dropped, the libc function the program called put in
 * their place. Returns the new count. Context: signal. */
unsigned blocking_frames(struct tstate *t, uint64_t *f, unsigned n);
/* The handler sampled a thread inside a blocking call on stack id: its
 * timer is paused and the rest of the call charged exactly at its return.
 * Context: signal. */
void blocking_sampled(struct tstate *t, uint32_t id, uint64_t now);
/* The blocked time of thread t not yet charged, up to now (ns since
 * start), taken (it is charged from now on): 0 when t is not blocked, else
 * the ns, with the stack in *id. Context: any (the writer, at the end). */
uint64_t blocking_take(struct tstate *t, uint64_t now, uint32_t *id);

#pragma GCC visibility pop

#endif
