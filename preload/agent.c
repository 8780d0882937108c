/* The agent's start (the constructor), its end (the destructor) and its
 * fork child handler; the state every part of the agent shares. The parts
 * live in their own files: config.c, dump.c, modules.c, signal-threads.c
 * and threads.c (the thread registry), writer.c, procstat.c, finish.c and
 * interpose-*.c (the interposed thread, loader, exec and exit functions).
 *
 * Context: ordinary (not signal, not malloc) unless a function says so. Every
 * entry point sets agent_guard while it runs, so the agent's own allocations
 * pass through the hooks unrecorded.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "python.h"
#include "sigmask.h"
#include "encode.h"
#include "program.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

/* The stack table starts at 2048 slots and 256 KB of stacks, and doubles
 * as it fills, nine times at most (to 1M slots and 128 MB). */
#define INTERN_SLOTS 2048
#define INTERN_WORDS (32u << 10)
#define INTERN_LEVELS 10

struct intern agent_intern;
/* The sequence counter alone on its cache line: every allocation event
 * writes it, and the writer thread reads the variables around it. */
static struct {
	_Atomic uint64_t v;
	char pad[56];
} __attribute__((aligned(64))) seq_line;
extern _Atomic uint64_t agent_seq __attribute__((alias("seq_line")));
_Atomic uint64_t agent_lost_stacks;
_Atomic uint64_t agent_lost_alloc;
volatile int agent_alloc_on;
volatile int agent_cpu_on;
volatile int agent_multi;
pid_t agent_pid;
uint32_t agent_intern_gen = 1;
TLS int agent_guard;
volatile int agent_ready;
volatile int agent_finished;

void *agent_dlsym_next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void on_fork_child(void);

/* A Go program: its runtime installs its own signal handlers and signal
 * stacks for every thread it makes, and samples itself (pprof). The agent
 * stays off, as in a setuid program, and says so once: in `fathom record`'s
 * summary when it runs under it (the manifest's "go PID EXE" line), else on
 * stderr. */
static void go_program(void)
{
	char exe[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[l > 0 ? l : 0] = 0;
	if (!manifest_line("go %d %s\n", (int)getpid(), exe))
		say("fathom: %s is a Go program, which fathom does not profile (its runtime owns the signals "
		    "fathom samples with); use Go's pprof (runtime/pprof, net/http/pprof); running it "
		    "unprofiled",
		    exe);
}

/* The start, at load (late 0) or when fathom_attach() asks (late 1: the
 * program runs already, late.c). Returns 0 when recording. */
static int agent_start(int late)
{
	if (getauxval(AT_SECURE))
		return -1;
	if (program_is_go()) {
		go_program();
		return -1;
	}
	int ret = -1;
	agent_guard = 1;
	hooks_resolve();
	int have_create = thread_create_resolve();
	procstat_init();
	read_config();
	int hr = hooks_setup();
	if (hr < 0) {
		say(hr == -ENOENT
			? "fathom: cannot find the C library's allocator; not tracking allocations"
			: "fathom: cannot map the sampled-allocation table; not tracking allocations");
		agent_cfg.alloc = FD_ALLOC_OFF;
		agent_cfg.alloc_sample = 0;
	}
	if (!have_create)
		goto out;
	config_check_alloc_bypass();
	agent_pid = getpid();
	agent_multi = count_threads() > 1;
	set_start_times();
	if (intern_init(&agent_intern, INTERN_SLOTS, INTERN_WORDS, INTERN_LEVELS) < 0) {
		say("fathom: cannot map the stack table; not profiling");
		goto out;
	}
	modules_find_agent();
	config_probe_cpu();
	note_stderr();
	agent_generation = program_generation();
	if (open_dump((pid_t)getppid()) < 0)
		goto out;
	threads_key_init(thread_key_dtor);
	if (!late)
		program_env_init();
	agent_ready = 1;
	struct tstate *t = thread_attach();
	thread_stack_bounds(t);
	/* Late, every loaded module's allocator slots are taken over (got.c). */
	modules_scan(late, NULL);
	window_dump_start(dump_locked());
	late_dump_start(dump_locked());
	control_open();
	rotate_init();
	flush_start();
	if (start_writer() < 0) {
		say("fathom: cannot start the writer thread; not profiling");
		agent_ready = 0;
		goto out;
	}
	pthread_atfork(NULL, daemon_fork_parent, on_fork_child);
	/* quick_exit runs the at_quick_exit handlers, then leaves without
	 * destructors: ours, registered before the program's, runs last. */
	exit_hooks_setup();
	/* Late, an exact recording ends at the detach or in the destructor. */
	if (!late)
		agent_exit_late_setup();
	mmap_hooks_start();
	if (t && agent_cfg.cpu) {
		tcpu_note_base(t, t->tid);
		tcpu_note_main(t);
	}
	if (agent_cfg.cpu)
		tsched_note_start();
	int cpu_ok = agent_cfg.cpu && !config_cpu_off()[0] && sample_install() == 0;
	/* Late too: got.c takes the mask calls over with the rest, and the
	 * attaching fathom unblocks the threads that ran before. */
	if (cpu_ok)
		sigmask_init();
	/* Started paused (FATHOM_START=off, FATHOM_DELAY): the handler is in
	 * place, no timer and no hook records until the window opens. */
	if (window_init(cpu_ok)) {
		agent_alloc_on = agent_cfg.alloc;
		agent_wait_on = agent_cfg.wait;
		if (cpu_ok) {
			agent_cpu_on = 1;
			if (t)
				sample_arm(t, t->tid);
			arm_existing_threads(agent_gettid());
		}
	}
	death_install();
	/* Python frames for CPU samples, allocations or both. */
	if (cpu_ok || agent_cfg.alloc)
		python_init();
	ret = 0;
out:
	agent_guard = 0;
	return ret;
}

__attribute__((constructor)) static void agent_init(void)
{
	/* Loaded into a running process: fathom_attach() starts it. */
	if (late_loaded())
		return;
	agent_start(0);
}

int agent_start_late(void)
{
	return agent_start(1);
}

/* A late agent attached again after a detach (late.c): a new dump with the
 * configuration just given; the threads' states, the stack table and the
 * taken-over slots stay. Each thread's CPU account starts again now. */
int agent_restart_late(void)
{
	int g = agent_guard, ret = -1;
	agent_guard = 1;
	read_config();
	if (hooks_setup() < 0) {
		agent_cfg.alloc = FD_ALLOC_OFF;
		agent_cfg.alloc_sample = 0;
	}
	modules_fork_child(1); /* every module goes into the new dump */
	set_start_times();
	int hw = threads_hiwater();
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (!t || atomic_load(&t->state) != TS_LIVE)
			continue;
		t->thread_end_sent = 0;
		tcpu_forget(t);
		tcpu_note_base(t, t->tid);
	}
	if (agent_cfg.cpu)
		tsched_note_start();
	if (open_dump((pid_t)getppid()) < 0)
		goto out;
	agent_finished = 0;
	mmap_hooks_start();
	modules_scan(1, NULL);
	control_open();
	flush_start();
	if (start_writer() < 0) {
		say("fathom: cannot start the writer thread; not profiling");
		agent_finish(FD_END_DETACH);
		goto out;
	}
	int cpu_ok = agent_cfg.cpu && !config_cpu_off()[0] && sample_install() == 0;
	window_late_restart(dump_lock(), cpu_ok);
	dump_unlock();
	ret = 0;
out:
	agent_guard = g;
	return ret;
}

/* After the program's destructors. An exact recording is finished later,
 * by the agent's last exit handler (freeres.c). */
__attribute__((destructor)) static void agent_fini(void)
{
	if (agent_exit_late_pending()) {
		/* What runs from here to the late finish is teardown of the
		 * libraries loaded before the agent (libzstd's destructor and
		 * .fini, which a walk from them cannot tie to the agent: a
		 * libzstd frame in the program's profile, twice in CI), never
		 * the program's work: its destructors have run. This thread's
		 * account ends here (its rest charged), and it takes no more
		 * samples; its time from here counts as the agent's. */
		struct tstate *t = agent_tls;
		if (t && agent_cfg.cpu) {
			int g = agent_guard;
			agent_guard = 1;
			thread_busy_on(t);
			tcpu_freeze(t, agent_cpu_on, agent_now(), t->hook_frames, thread_push_wait);
			thread_busy_off(t);
			agent_guard = g;
		}
		return;
	}
	agent_finish(FD_END_EXIT);
}

static void on_fork_child(void)
{
	sigmask_after_fork();
	if (!agent_ready)
		return;
	int g = agent_guard;
	agent_guard = 1;
	dump_fork_child(0);
	modules_fork_child(0);
	/* Attached to one process (fathom record --pid): its children are
	 * not recorded; the hooks pass through in them. */
	if (late_mode())
		goto off;
	pid_t ppid = agent_pid;
	agent_pid = getpid();
	struct tstate *self = agent_tls;
	/* The other threads do not exist here; their rings were the parent's. */
	threads_fork_drop(self);
	writer_fork_child();
	python_after_fork();
	death_after_fork();
	/* Stack ids are per process: start a fresh table. */
	intern_destroy(&agent_intern);
	if (intern_init(&agent_intern, INTERN_SLOTS, INTERN_WORDS, INTERN_LEVELS) < 0)
		goto off;
	agent_intern_gen++;
	agent_multi = 0;
	atomic_store(&agent_seq, 0);
	atomic_store(&agent_lost_stacks, 0);
	atomic_store(&agent_cpu_in_agent, 0);
	atomic_store(&agent_lost_alloc, 0);
	atomic_store(&agent_cpu_unsampled, 0);
	atomic_store(&agent_cpu_skipped, 0);
	modules_fork_child(1);
	dump_fork_child(1);
	set_start_times();
	statm_forget(1); /* it names the parent's /proc entry */
	agent_generation = 0;
	if (open_dump(ppid) < 0)
		goto off;
	if (self) {
		/* Keep this thread's state, emptied, as the child's first thread. */
		ring_init(&self->ring, self->ring.buf, ring_capacity(&self->ring));
		self->tid = agent_gettid();
		self->has_timer = 0;
		self->pending = 0;
		self->busy = 0;
		/* Its last stack id was the parent's: no CPU time is credited
		 * to it in the child's table. */
		self->last_id = 0;
		atomic_store(&self->lost_samples, 0);
		self->lost_reported = 0;
		self->thread_end_sent = 0;
		tcpu_forget(self);
		tsched_forget_all();
		threads_fork_adopt(self);
		uint64_t w[5] = {EV_W0(EV_THREAD, 5, 0), (uint64_t)self->tid, agent_now(), 0, 0};
		memcpy(&w[3], self->name, 16);
		ring_push(&self->ring, w, 5);
	}
	modules_rescan();
	window_fork_child();
	window_dump_start(dump_locked());
	control_fork_child();
	rotate_init();
	flush_start();
	agent_finished = 0;
	if (start_writer() < 0)
		goto off;
	if (agent_cpu_on && self)
		sample_arm(self, self->tid);
	agent_guard = g;
	return;
off:
	agent_ready = 0;
	agent_alloc_on = 0;
	agent_cpu_on = 0;
	agent_wait_on = 0;
	agent_guard = g;
}
