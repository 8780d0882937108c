/* The agent's functions of its lifecycle, by the file that defines them:
 * start and configuration, the dump, the memory figures, modules, the
 * thread registry, the writer, rotation, the recording window, the control
 * channel, the perf map, the finish, and the interposers the others call.
 * Included by agent.h (after the per-thread state they take).
 */
#ifndef FATHOM_AGENT_LIFE_H
#define FATHOM_AGENT_LIFE_H

#include "agent.h"

#pragma GCC visibility push(hidden)

/* agent.c */
/* The agent is initialised and not finished (set by the constructor and a
 * fork child, cleared when recording stops for good). */
extern volatile int agent_ready;
/* The dump's trailer is written (or, in daemon()'s parent, about to be):
 * nothing may wait for the writer. */
extern volatile int agent_finished;

/* config.c: FATHOM_* read once at start, and the agent's messages. */
void read_config(void);
const char *config_getenv(const char *name);
/* Context: any. One message on stderr, from write() alone. */
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A message later in the run: only while fd 2 is still the stderr noted at
 * start (note_stderr). */
void say_late(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void note_stderr(void);
void config_check_alloc_bypass(void);
const char *config_alloc_bypass(void); /* "" when the program calls the agent's malloc */
void config_probe_cpu(void);
const char *config_cpu_off(void); /* why CPU sampling cannot work here; "" when it can */

/* dump.c: the dump file and its encoder, whose every use holds wlock. */
struct enc *dump_lock(void);
struct enc *dump_trylock(void);	     /* NULL when another thread holds wlock */
struct enc *dump_lock_bounded(void); /* NULL after two seconds: see dump.c */
void dump_unlock(void);
struct enc *dump_locked(void); /* the encoder; the caller holds wlock */
int open_dump(pid_t ppid);
const char *dump_path(void); /* the current file's absolute path */
/* A rotation (rotate.c): the next file made, then switched to. */
int dump_next_open(const char *path);
void dump_next_switch(uint64_t now);
void set_start_times(void);
void dump_fork_child(int phase); /* 0: the lock, first thing; 1: the parent's dump */
void dump_close(void);
void dump_trailer(uint64_t now, unsigned reason);
/* The signal a FD_END_SIGNAL trailer names. */
void dump_end_signal(int sig);
void report_dump_error(int at_end);
/* Moves a descriptor of the agent's out of the program's way (see dump.c). */
int fd_place_high(int fd);
ssize_t read_file(const char *path, char *buf, size_t cap);

/* mmap-hooks.c: starts recording the program's mappings (unless
 * FATHOM_MMAP=0), with allocation tracking. */
void mmap_hooks_start(void);

/* procstat.c: the memory figures of each TICK. Context: the writer. */
void procstat_init(void);
/* The resident set in bytes, and in *file (when not NULL; UINT64_MAX when
 * unknown) its pages of files and shared memory (statm's shared). */
uint64_t statm_rss(uint64_t *file);
void statm_forget(int close_it);
uint64_t heap_in_use(void);

/* modules.c */
struct got_scope;
/* Records the modules loaded and unloaded since the last scan; with
 * redirect, points the new ones' slots that bind past the agent at it. */
void modules_scan(int redirect, const struct got_scope *deep);
void modules_rescan(void);
void modules_find_agent(void);
void modules_fork_child(int phase);		     /* 0: the lock, first thing; 1: ids */
void modules_write_all(struct enc *e, uint64_t now); /* Context: wlock held */

/* signal-threads.c: the registry. Context: any, async-signal-safe. */
pid_t agent_gettid(void);
void threads_key_init(void (*dtor)(void *));
int threads_hiwater(void);	  /* slots [0, hiwater) may hold a state */
struct tstate *threads_at(int i); /* NULL: a free slot */
void threads_release(int i, struct tstate *t);
void state_unmap(struct tstate *t);
/* A state of this process's thread tid exists: a live one, or with
 * any_state one that is ending too. */
int has_state_any(pid_t tid, int any_state);
int has_state(pid_t tid);
void threads_fork_drop(struct tstate *self);
void threads_fork_adopt(struct tstate *self);
/* Timers made at start for threads already running, taken over by each
 * thread when it attaches. */
int pre_timers_full(void);
void pre_timer_add(pid_t tid, timer_t tm, uint64_t base);
uint64_t pre_timer_base(pid_t tid);
void pre_timers_delete(void);

/* threads.c */
/* Grows t's ring now if wlock is free (the writer is not in a round).
 * Context: malloc, not signal, on t's thread with t->busy set. */
void thread_grow_try(struct tstate *t);
void thread_stack_bounds(struct tstate *t);
void thread_key_dtor(void *p);
int count_threads(void);
void arm_existing_threads(pid_t self);
void disarm_all(void);

/* writer.c */
int start_writer(void);
pid_t writer_tid(void);
size_t writer_cycle(int final); /* Context: wlock held */
int writer_try_cycle(void);
void writer_wake(void);
uint32_t writer_progress_seen(void);
void writer_wait_progress(uint32_t seen);
void writer_note_main_exited(void);
void writer_fork_child(void);
void writer_note_flush(uint64_t now); /* the encoder was flushed at now */
void flush_start(void);
void writer_threads_write(struct enc *e, uint64_t now); /* Context: wlock held */

/* rotate.c: a long recording as a series of files (FATHOM_ROTATE, ctl). */
void rotate_init(void);			       /* the constructor and a fork child, once the dump is open */
void rotate_tick(struct enc *e, uint64_t now); /* Context: the writer's round, wlock held */
/* Ends the current file and goes on in the next one now: returns the next
 * file's number (and in *seq, when not NULL, the allocation sequence number
 * of the switch), or 0 after saying why not. Context: wlock held. */
unsigned rotate_now(struct enc *e, uint64_t now, uint64_t *seq);
/* Before the last file ends: the stacks its records name that it lacks. */
int rotate_define_missing(struct enc *e);

/* window.c: the recording window (paused, on) and its marks. */
int window_init(int cpu_ok); /* the constructor; returns whether recording starts now */
int window_paused(void);     /* Context: any */
void window_dump_start(struct enc *e);
void window_fork_child(void);
void window_late_restart(struct enc *e, int cpu_ok);
void window_tick(struct enc *e, uint64_t now);
void window_command(struct enc *e, uint64_t now, const char *verb, const char *label, char *reply,
		    size_t cap);

/* control.c: the directory `fathom ctl` drives the agent through. */
void control_open(void);
void control_close(void);
void control_close_answered(int ms);
void control_fork_child(void);
void control_poll(struct enc *e, uint64_t now);

/* perfmap.c: the perf map the program wrote (/tmp/perf-PID.map), if
 * any, into the dump as PERFMAP records. Context: wlock held, at the
 * end of the image (finish.c). */
void perfmap_record(void);

/* finish.c */
/* A trailer that may be taken back (exec, daemon()'s parent): returns
 * where it starts. Context: wlock held, and kept by the caller. */
struct enc_mark trailer_provisional(unsigned reason);

/* interpose-thread.c */
int thread_create_resolve(void);
int thread_create_real(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg);
/* interpose-exit.c */
void daemon_fork_parent(void);
void exit_hooks_setup(void);
/* interpose-loader.c: the loader's own dl_iterate_phdr. */
struct dl_phdr_info;
int loader_iterate(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data);

/* wait-locks.c: the C library's mutex calls, for the agent's own mutexes
 * (not the interposers', which would record them). */
int agent_mutex_lock(pthread_mutex_t *m);
int agent_mutex_trylock(pthread_mutex_t *m);
int agent_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts);
int agent_mutex_unlock(pthread_mutex_t *m);

/* malloc-hooks.c */
void hooks_resolve(void);
int hooks_setup(void);
void *hooks_real_malloc(size_t n);
void hooks_real_free(void *p);

/* finish.c: writes what is pending and the trailer, once (exit, exec, ...). */
void agent_finish(unsigned reason);
/* Finishes the dump of a process dying of sig (signal-death.c). Context: the
 * writer thread. */
void agent_finish_signal(int sig);

/* signal-death.c: a signal left at its default action that ends the process
 * (SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGALRM, SIGUSR1, SIGUSR2) finishes the
 * dump first. death_install takes those the program leaves at SIG_DFL;
 * death_owned says whether the agent holds sig (the program's view is then
 * death_view); death_release hands it back (the program sets it);
 * death_default and death_oneshot keep it when the program sets SIG_DFL or
 * a one-shot (SA_RESETHAND) handler. */
void death_install(void);
int death_owned(int sig);
void death_view(int sig, struct sigaction *old);
void death_release(int sig);
int death_default(int sig, const struct sigaction *act, struct sigaction *old);
int death_oneshot(int sig, const struct sigaction *act, struct sigaction *old);
int death_writer_check(void);
void death_after_fork(void);
/* A death signal that came while its thread held wlock is acted on when it
 * lets go (dump_unlock calls this), or before an exec. */
void death_deferred_now(void);
/* This thread holds wlock. Context: any. */
int dump_held_here(void);
/* The dump lock's holder is thread tid. Context: any, async-signal-safe. */
int dump_held_by(pid_t tid);
/* threads.c: the process's threads other than `self` and the writer; -1 if
 * unknown. */
int agent_threads_besides(pid_t self);

/* freeres.c: the agent's last exit handler, which releases glibc's one-time
 * allocations before an exact recording is finished. */
void agent_exit_late_setup(void);
int agent_exit_late_pending(void); /* the destructor leaves the finish to it */

/* agent.c: real libc functions the agent interposes. */
void *agent_dlsym_next(const char *name);
/* Finds libc's function into var on first use: 1, or 0 with errno ENOSYS
 * when the C library has none (the call then fails as it would without it).
 * Context: any, async-signal-safe once resolved. */
#define AGENT_NEXT(var, name)                                                                                \
	((var) ? 1 : ((*(void **)&(var) = agent_dlsym_next(name)) != NULL || (errno = ENOSYS, 0)))

/* got.c: points the GOT slots of objects that bind past the agent
 * (RTLD_DEEPBIND) at the agent's functions. got_scope holds, for each
 * function the agent interposes, what a dlopen handle's own lookup finds. */
#define GOT_MAX_FNS 192
struct got_scope {
	void *target[GOT_MAX_FNS];
};
void got_prepare(void);
void got_scope_of(void *handle, struct got_scope *sc);
int got_redirect(const struct dl_phdr_info *info, const struct got_scope *deep);

/* late.c: the agent loaded into a running process (fathom record --pid). */
int late_loaded(void); /* the constructor: not preloaded; fathom_attach starts it */
int late_mode(void);
int late_getenv(const char *name, const char **v);
/* control.c: the pid the control channel and the manifest's "detached"
 * line name the process by: its own, except in a process attached from
 * outside its PID namespace (a container), which fathom names by the pid
 * it sees (FATHOM_CTL_PID in the attach's settings), the one `fathom ctl`
 * is given. A fork child of it goes back to its own. Context: not signal. */
pid_t control_pid(void);
int late_capture(const char *msg, size_t n); /* Context: any */
const char *const *late_got_names(void);     /* the slots taken over late, or NULL */
void late_dump_start(struct enc *e);
void late_request_detach(void);
int late_writer_round(void);
/* agent.c: the start of an agent loaded late, and its restart after a
 * detach; 0 when recording. */
int agent_start_late(void);
int agent_restart_late(void);
/* finish.c: the end of a dump, wlock held. */
void agent_finish_locked(unsigned reason);

#pragma GCC visibility pop

#endif
