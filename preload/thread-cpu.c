/* Each thread's CPU account: its CPU clock, counted from its birth (or from
 * the agent's start for a thread that was already running), read when the
 * thread ends or the process does; the part no sample covered is charged in
 * exact nanoseconds, and the measured total goes into THREAD_END, so that a
 * report can say how much of the CPU time its samples hold. With it, the
 * scheduler's account of the same span (schedstat: time on a CPU, and time
 * runnable but waiting for one), so that a report can say when the machine
 * was too busy for the CPU samples to be fair.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "encode.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>

int tcpu_read(pid_t tid, uint64_t *ns)
{
	struct timespec ts;
	if (clock_gettime(sample_thread_clock(tid), &ts) < 0)
		return -1;
	*ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return 0;
}

void tcpu_note_base(struct tstate *t, pid_t tid)
{
	uint64_t ns;
	if (t->cpu_known || tcpu_read(tid, &ns) < 0)
		return;
	t->cpu_base = ns;
	t->cpu_known = 1;
}

void tcpu_note_birth(struct tstate *t, void *(*fn)(void *))
{
	/* A thread started under the agent: all of its CPU time counts,
	 * clone's return and the C library's start-up included. */
	t->cpu_base = 0;
	t->cpu_known = 1;
	t->start_frames[0] = (uint64_t)(uintptr_t)fn;
	t->start_n = 1;
	if (t->in_unwind || !t->stack_hi)
		return;
	t->in_unwind = 1;
	__asm__ volatile("" ::: "memory");
	struct unwind *u = &t->uw;
	unwind_capture(u->reg);
	unwind_init_captured(u, t->stack_lo, t->stack_hi);
	u->cache = t->uw_cache;
	/* The agent's frames (this one, the trampoline) are not the
	 * program's: the start routine's callers follow them. */
	do {
		uint64_t ip = u->reg[UW_RA];
		if (ip >= agent_text_lo && ip < agent_text_hi)
			continue;
		t->start_frames[t->start_n++] = ip;
	} while (t->start_n < sizeof(t->start_frames) / sizeof(t->start_frames[0]) && unwind_step(u));
	__asm__ volatile("" ::: "memory");
	t->in_unwind = 0;
}

/* The stack a thread's uncovered CPU time is charged to: the last sampled
 * one, else its start stack, interned (0 when there is none). When
 * *is_new, f[0..1] are room for a STACK event header and f[2..] holds *n
 * frames: that event must be emitted before the id is used. */
static uint32_t end_stack(struct tstate *t, uint64_t *f, unsigned *n, int *is_new)
{
	*is_new = 0;
	*n = 0;
	if (t->last_id || !t->start_n)
		return t->last_id;
	*n = t->start_n;
	memcpy(f + 2, t->start_frames, t->start_n * sizeof(uint64_t));
	uint32_t id = intern_stack(&agent_intern, f + 2, t->start_n, is_new);
	if (!id)
		atomic_fetch_add_explicit(&agent_lost_stacks, 1, memory_order_relaxed);
	return id;
}

_Atomic uint64_t agent_cpu_skipped;

void tcpu_skip(struct tstate *t, uint64_t clk_now)
{
	if (!t->cpu_known)
		return;
	uint64_t used = clk_now > t->cpu_base ? clk_now - t->cpu_base : 0;
	if (used > t->covered_ns) {
		t->cpu_skipped += used - t->covered_ns;
		atomic_fetch_add(&agent_cpu_skipped, used - t->covered_ns);
		t->covered_ns = used;
	}
	t->first_ns = 0;
}

void tcpu_emit_enc(struct tstate *t, const uint64_t *w, size_t n)
{
	(void)n;
	enc_event(dump_locked(), (uint64_t)t->tid, w);
}

/* Emits the CPU time t ran up to clk that its samples do not cover as one
 * more SAMPLE of that exact time, on the stack it was last sampled in or
 * its start stack; returns the time on its clock since its base (paused
 * time included, as covered_ns counts it). Its weight is the time in whole
 * periods, rounded down, for readers older than 1.2. Changes nothing in t. */
static uint64_t charge_rest(struct tstate *t, uint64_t clk, uint64_t now, uint64_t *f, tcpu_emit_fn emit)
{
	uint64_t run = clk > t->cpu_base ? clk - t->cpu_base : 0;
	if (agent_cfg.clock != FD_CLOCK_CPU || run <= t->covered_ns)
		return run;
	uint64_t period = 1000000000u / (unsigned)agent_cfg.hz, rest = run - t->covered_ns;
	unsigned n;
	int is_new;
	uint32_t id = end_stack(t, f, &n, &is_new);
	if (id) {
		if (is_new) {
			f[0] = EV_W0(EV_STACK, n + 2, n);
			f[1] = id;
			emit(t, f, n + 2);
		}
		uint64_t s[6];
		emit(t, s, sample_event(s, rest / period, now, id, rest, EV_SAMPLE_AT_END));
	}
	return run;
}

void tcpu_close(struct tstate *t, int charge, int mid_run, uint64_t now, uint64_t *f, tcpu_emit_fn emit)
{
	uint64_t clk = t->end_clk, used = 0;
	int known = t->cpu_known && (clk || tcpu_read(t->tid, &clk) == 0);
	/* Ending while paused: the time since the pause is not the window's. */
	if (known && window_paused() && agent_cfg.clock == FD_CLOCK_CPU && !charge)
		tcpu_skip(t, clk);
	if (known)
		used = clk > t->cpu_base + t->cpu_skipped ? clk - t->cpu_base - t->cpu_skipped : 0;
	/* With the CPU clock, the samples stand for covered_ns of this very
	 * clock: the rest (a thread shorter than its timer's phase has all
	 * of it here; a thread that blocked the signal most of it) is one
	 * more sample of that exact time. */
	if (known && charge)
		charge_rest(t, clk, now, f, emit);
	uint64_t w[6] = {EV_W0(EV_THREAD_END, known ? 4 : 3, 0), (uint64_t)t->tid, now, used, 0, 0};
	unsigned n = known ? 4 : 3;
	/* Not mid-run: opening the thread's schedstat would take the
	 * program's lowest free descriptor for a moment (docs/AGENT.md, "The
	 * dump's descriptor"), and a program that opens or dup2s onto it on
	 * another thread would see another number. A thread that ends while
	 * the program runs on is left unknown. */
	if (known && !mid_run && tsched_since(t->tid, &w[4], &w[5]) == 0) {
		n = 6;
		w[0] = EV_W0(EV_THREAD_END, 6, 0);
	}
	emit(t, w, n);
}

/* Reads t's clock and, with charge, charges its rest up to it and counts
 * it covered. Returns the clock read (1 for a reading of 0), 0 when
 * unknown. */
static uint64_t settle_now(struct tstate *t, int charge, uint64_t now, uint64_t *f, tcpu_emit_fn emit)
{
	uint64_t clk;
	if (!t->cpu_known || tcpu_read(t->tid, &clk) < 0)
		return 0;
	if (charge) {
		uint64_t run = charge_rest(t, clk, now, f, emit);
		if (run > t->covered_ns)
			t->covered_ns = run;
	}
	return clk ? clk : 1;
}

void tcpu_settle(struct tstate *t, uint64_t now, uint64_t *f, tcpu_emit_fn emit)
{
	if (settle_now(t, 1, now, f, emit))
		t->first_ns = 0;
}

void tcpu_freeze(struct tstate *t, int charge, uint64_t now, uint64_t *f, tcpu_emit_fn emit)
{
	if (t && !t->end_clk)
		t->end_clk = settle_now(t, charge, now, f, emit);
}

uint64_t tcpu_finish_ns(struct tstate *t)
{
	uint64_t clk;
	if (!t || !t->end_clk || tcpu_read(t->tid, &clk) < 0 || clk < t->end_clk)
		return 0;
	return clk - t->end_clk;
}

uint64_t tcpu_sample_ns(struct tstate *t, uint32_t weight)
{
	if (agent_cfg.clock != FD_CLOCK_CPU)
		return 0;
	uint64_t period = 1000000000u / (unsigned)agent_cfg.hz, ns = (uint64_t)weight * period;
	/* The timer expires at its phase after the arming, then every
	 * period: the first sample stands for the CPU time up to its phase
	 * (and what the thread used before the arming), so that the samples
	 * and the rest charged at the end add up to the thread's CPU time
	 * exactly, and a thread is not credited a whole period for the
	 * part of one it ran. */
	if (t->first_ns) {
		ns = t->first_ns + (uint64_t)(weight - 1) * period;
		t->first_ns = 0;
		t->covered_ns += ns;
		return ns ? ns : 1;
	}
	t->covered_ns += ns;
	return 0;
}

void tcpu_note_arm(struct tstate *t, uint64_t clk_now, uint64_t first_ns)
{
	if (!t->cpu_known || agent_cfg.clock != FD_CLOCK_CPU)
		return;
	uint64_t used = clk_now > t->cpu_base ? clk_now - t->cpu_base : 0;
	uint64_t gap = used > t->covered_ns ? used - t->covered_ns : 0;
	t->first_ns = gap + first_ns;
}

void tcpu_forget(struct tstate *t)
{
	t->cpu_known = 0;
	t->cpu_base = 0;
	t->covered_ns = 0;
	t->cpu_skipped = 0;
	t->end_clk = 0;
	t->first_ns = 0;
	t->last_id = 0;
}

void tcpu_note_main(struct tstate *t)
{
	/* The program's entry point (_start) stands for the main thread's
	 * start routine: its CPU time no sample covered is the program's. */
	unsigned long entry = getauxval(AT_ENTRY);
	if (entry && !t->start_n) {
		t->start_frames[0] = entry;
		t->start_n = 1;
	}
}

/* ------------------------------------------------ the scheduler's account */

/* /proc/self/task/TID/schedstat: ns on a CPU, ns runnable but waiting for
 * one (run-queue wait, the kernel's run_delay), and time slices. Both
 * counters run from the thread's birth; a thread that was running when the
 * agent started has its figures of then as a base (g_sched), so that what
 * THREAD_END carries covers the recording, as its CPU time does. A kernel
 * without sched_info (CONFIG_SCHED_INFO) has no such file: unknown. */
int tsched_read(pid_t tid, uint64_t *run_ns, uint64_t *wait_ns)
{
	char path[48], buf[96];
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int)tid);
	ssize_t n = read_file(path, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	unsigned long long run, wait;
	if (sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return -1;
	*run_ns = run;
	*wait_ns = wait;
	return 0;
}

/* The bases of the threads running at the start. Written at the start (and
 * a late agent's restart); an entry is cleared when its thread ends, so
 * that a later thread given the same tid counts from its birth. Full: the
 * threads left out have no base, and a thread not found is unknown rather
 * than counted from its birth. */
static struct {
	_Atomic pid_t tid;
	uint64_t run, wait;
} g_sched[1024];
static _Atomic int g_nsched, g_sched_full;

void tsched_note_start(void)
{
	atomic_store(&g_nsched, 0);
	atomic_store(&g_sched_full, 0);
	DIR *d = opendir("/proc/self/task");
	if (!d) {
		atomic_store(&g_sched_full, 1);
		return;
	}
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		uint64_t run, wait;
		if (tid <= 0 || tid == writer_tid() || tsched_read(tid, &run, &wait) < 0)
			continue;
		if (n == (int)(sizeof(g_sched) / sizeof(g_sched[0]))) {
			atomic_store(&g_sched_full, 1);
			break;
		}
		g_sched[n].run = run;
		g_sched[n].wait = wait;
		atomic_store(&g_sched[n].tid, tid);
		n++;
	}
	closedir(d);
	atomic_store(&g_nsched, n);
}

void tsched_forget_all(void)
{
	atomic_store(&g_nsched, 0);
	atomic_store(&g_sched_full, 0);
}

void tsched_thread_ended(pid_t tid)
{
	int n = atomic_load(&g_nsched);
	for (int i = 0; i < n; i++)
		if (atomic_load(&g_sched[i].tid) == tid)
			atomic_store(&g_sched[i].tid, 0);
}

int tsched_since(pid_t tid, uint64_t *run_ns, uint64_t *wait_ns)
{
	uint64_t run, wait, brun = 0, bwait = 0;
	if (tsched_read(tid, &run, &wait) < 0)
		return -1;
	int n = atomic_load(&g_nsched), found = 0;
	for (int i = 0; i < n && !found; i++)
		if (atomic_load(&g_sched[i].tid) == tid) {
			brun = g_sched[i].run;
			bwait = g_sched[i].wait;
			found = 1;
		}
	/* (A base above the figures: another thread's of the same tid.) */
	if ((!found && atomic_load(&g_sched_full)) || run < brun || wait < bwait)
		return -1;
	*run_ns = run - brun;
	*wait_ns = wait - bwait;
	return 0;
}
