/* A thread's life outside signal context: pushes that must wait for the
 * writer (a ring that fills grows, or the thread does the writer's work),
 * the sample a signal deferred, the thread's stack bounds, its end (the key
 * destructor), and the timers armed for threads older than the agent.
 *
 * Context: malloc or ordinary, never signal, as each function says.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "sigmask.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Doubles t's ring (up to RING_WORDS_MAX), keeping what it holds. Called by
 * t's own thread with wlock held (the writer is not reading it) and t->busy
 * set (no signal handler pushes to it). */
static void ring_grow(struct tstate *t)
{
	struct ring *r = &t->ring;
	size_t cap = ring_capacity(r), ncap = cap * 2;
	if (cap >= RING_WORDS_MAX)
		return;
	void *m =
	    mmap(NULL, ncap * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return;
	uint64_t *buf = m;
	uint64_t head = atomic_load(&r->head), tail = atomic_load(&r->tail);
	for (uint64_t i = tail; i < head; i++)
		buf[i & (ncap - 1)] = r->buf[i & r->mask];
	void *old = t->ring_map;
	size_t old_bytes = t->ring_bytes;
	r->buf = buf;
	r->mask = ncap - 1;
	t->ring_map = m;
	t->ring_bytes = ncap * sizeof(uint64_t);
	if (old)
		munmap(old, old_bytes);
}

void thread_grow_try(struct tstate *t)
{
	if (ring_capacity(&t->ring) < RING_WORDS_MAX) {
		if (!dump_trylock())
			return;
		ring_grow(t);
		dump_unlock();
	}
	t->ring_grow = 0;
}

/* Whether this thread has the stack for the writer's work (unknown
 * bounds: assume so). */
static int stack_room(struct tstate *t)
{
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	return !t->stack_hi || sp < t->stack_lo || sp >= t->stack_hi || sp - t->stack_lo >= 256 * 1024;
}

/* Context: malloc, not signal. */
void thread_wait_space(struct tstate *t, size_t n)
{
	unsigned spins = 0;
	int saved = errno;
	/* A child of a raw clone or _Fork (no fork handler ran) is not the
	 * agent's process: asked once per wait, then every 64 turns below. */
	int ours = -1;
	while (ring_space(&t->ring) < n) {
		if (agent_finished || !agent_ready)
			break;
		if (ours < 0)
			ours = getpid() == agent_pid;
		/* A ring that fills faster than the writer drains it grows: the
		 * thread waits for the writer's lock (the writer may be draining
		 * this very ring), then moves the ring into a larger mapping. It
		 * does not do the writer's work here: the shorter the time it is
		 * busy, the fewer CPU samples it must defer. */
		if (t->busy && ring_capacity(&t->ring) < RING_WORDS_MAX && ours) {
			int cs;
			NO_CANCEL_BEGIN(cs);
			dump_lock();
			if (ring_space(&t->ring) < n)
				ring_grow(t);
			dump_unlock();
			NO_CANCEL_END(cs);
			continue;
		}
		/* Rather than wait for the writer, do its work when it is not
		 * doing it already: a busy machine may give the writer little
		 * CPU, and this thread has nothing better to do. Not on a
		 * thread short of stack: compressing needs tens of KB. */
		if (ours && stack_room(t) && writer_try_cycle())
			continue;
		uint32_t seen = writer_progress_seen();
		writer_wake();
		/* A child made by a raw clone or _Fork has no writer: stop
		 * recording in it rather than wait forever. */
		if ((++spins & 63) == 0 && (ours = getpid() == agent_pid) == 0) {
			agent_alloc_on = 0;
			agent_cpu_on = 0;
			agent_wait_on = 0;
			agent_ready = 0;
			break;
		}
		if (spins < 16) {
			sched_yield();
			continue;
		}
		writer_wait_progress(seen);
	}
	errno = saved;
}

/* Context: malloc, not signal. */
void thread_push_seq_slow(struct tstate *t, size_t n, uint64_t w0, uint64_t a, uint64_t b, uint64_t c,
			  uint64_t d)
{
	thread_reserve(t, n);
	uint64_t w[5] = {w0 | agent_next_seq() << 16, a, b, c, d};
	thread_push(t, w, n);
}

void thread_push_wait(struct tstate *t, const uint64_t *w, size_t n)
{
	while (ring_push(&t->ring, w, n) < 0) {
		if (agent_finished || !agent_ready)
			return;
		thread_wait_space(t, n);
	}
	writer_nudge(t);
}

/* Context: malloc, not signal. */
void thread_flush_pending(struct tstate *t)
{
	while (t->pending) {
		t->busy = 1;
		__asm__ volatile("" ::: "memory");
		if (t->pending_new) {
			/* The frames follow room for the header (no event
			 * staged on the program's stack). */
			t->pending_frames[0] = EV_W0(EV_STACK, t->pending_n + 2, t->pending_n);
			t->pending_frames[1] = t->pending_id;
			thread_push_wait(t, t->pending_frames, t->pending_n + 2);
		}
		t->pending_closed = 1;
		__asm__ volatile("" ::: "memory");
		uint64_t s[6];
		unsigned n = sample_event(s, t->pending_weight, t->pending_time, t->pending_id, t->pending_ns,
					  t->pending_flags);
		__asm__ volatile("" ::: "memory");
		t->pending = 0;
		t->pending_closed = 0;
		__asm__ volatile("" ::: "memory");
		thread_push_wait(t, s, n);
		__asm__ volatile("" ::: "memory");
		t->busy = 0;
	}
}

/* ---------------------------------------------------- start and end */

/* Records the calling thread's stack bounds for the unwinder. Context: not
 * signal (pthread_getattr_np allocates, and reads /proc/self/maps for the
 * main thread); on t's own thread. */
void thread_stack_bounds(struct tstate *t)
{
	pthread_attr_t a;
	void *addr;
	size_t size;
	if (!t || t->stack_hi || pthread_getattr_np(pthread_self(), &a) != 0)
		return;
	if (pthread_attr_getstack(&a, &addr, &size) == 0) {
		t->stack_lo = (uintptr_t)addr;
		t->stack_hi = (uintptr_t)addr + size;
	}
	pthread_attr_destroy(&a);
}

/* Runs at thread exit (pthread key destructor). The state stays usable: a
 * later destructor may still free memory, and those events are recorded too.
 * The writer releases the state once the thread is gone. */
void thread_key_dtor(void *p)
{
	struct tstate *t = p;
	if (!t || t != agent_tls)
		return;
	int g = agent_guard;
	agent_guard = 1;
	/* The thread is ending: no more samples; its CPU account closes
	 * below (thread-cpu.c), the time its samples do not cover charged. */
	sigset_t prof;
	sigemptyset(&prof);
	sigaddset(&prof, agent_cfg.signo);
	sigmask_real(SIG_BLOCK, &prof, NULL);
	sample_disarm(t);
	char name[16] = {0};
	syscall(SYS_prctl, PR_GET_NAME, name, 0, 0, 0);
	t->busy = 1;
	__asm__ volatile("" ::: "memory");
	if (memcmp(name, t->name, 16)) {
		memcpy(t->name, name, 16);
		uint64_t w[5] = {EV_W0(EV_THREAD, 5, 0), (uint64_t)t->tid, agent_now(), 0, 0};
		memcpy(&w[3], name, 16);
		thread_push_wait(t, w, 5);
	}
	if (agent_cfg.cpu) {
		tcpu_close(t, agent_cpu_on, 1, agent_now(), t->hook_frames, thread_push_wait);
		tsched_thread_ended(t->tid);
	} else
		thread_push_wait(t, (uint64_t[3]){EV_W0(EV_THREAD_END, 3, 0), (uint64_t)t->tid, agent_now()},
				 3);
	t->thread_end_sent = 1;
	__asm__ volatile("" ::: "memory");
	t->busy = 0;
	if (t->pending)
		thread_flush_pending(t);
	atomic_store(&t->state, TS_ENDING);
	if (t->tid == agent_pid)
		writer_note_main_exited();
	agent_guard = g;
}

/* How many of the process's threads are neither `self` nor the writer.
 * Not signal-safe (opendir allocates, with agent_guard set). */
int agent_threads_besides(pid_t self)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int others = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid > 0 && tid != writer_tid() && tid != self)
			others++;
	}
	closedir(d);
	return others;
}

int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return 2; /* unknown: assume several */
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += atoi(de->d_name) > 0;
	closedir(d);
	return n;
}

/* ------------------------------------------------ timers of older threads */

/* Arms a timer for each thread that runs without the agent's state yet (at
 * start, and again after a failed exec); the thread takes it over when it
 * first attaches. */
void arm_existing_threads(pid_t self)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)) && !pre_timers_full()) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid <= 0 || tid == self || tid == writer_tid() || has_state(tid))
			continue;
		if (!sample_gate_enter())
			break;
		timer_t tm;
		uint64_t base = sample_thread_cpu(tid);
		if (sample_arm_tid(tid, &tm) == 0) {
			pre_timer_add(tid, tm, base);
		} else if (errno != ESRCH && errno != EINVAL) {
			/* (A thread that ended meanwhile is not unsampled.) */
			atomic_fetch_add(&agent_cpu_unsampled, 1);
		}
		sample_gate_leave();
	}
	closedir(d);
}

/* Deletes every timer of the process: each thread's, and those made at start
 * for threads that never attached. Only after sample_stop_arming(), so none
 * is being made meanwhile. */
void disarm_all(void)
{
	int hw = threads_hiwater();
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (t)
			sample_disarm(t);
	}
	pre_timers_delete();
}
