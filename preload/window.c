/* The recording window: the agent may start paused (FATHOM_START=off) and be
 * switched on and off while the program runs (FATHOM_DELAY, FATHOM_DURATION,
 * `fathom ctl`), and it marks snapshots (ctl, FATHOM_SNAPSHOT_EVERY). Each
 * switch and mark is a WINDOW record carrying the allocation sequence number
 * reached, so that the analyzer can tell which allocation events came before
 * it. While paused, the sampling timers are deleted and the allocation hooks
 * take their pass-through path: the agent records nothing and costs what a
 * CPU-only recording's hooks cost.
 *
 * Context: the writer thread (or a thread doing its round), wlock held,
 * unless a function says otherwise.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "encode.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Whether the agent records now; what it records when on. */
static volatile int g_on = 1;
static int g_cpu_ok;	 /* the sampling handler is installed */
static int g_cpu_inited; /* window_init ran */
static int g_alloc_mode; /* FD_ALLOC_* when on */
/* The automatic window (CLOCK_MONOTONIC ns, 0: none) and periodic marks. */
static uint64_t g_start_at, g_stop_at, g_next_snap;
static uint64_t g_snap_id; /* the last snapshot's number in this process */
static uint64_t g_mark_ns; /* the last mark's time: marks never go back */

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int window_paused(void)
{
	return !g_on;
}

/* Context: the constructor, before any thread is armed. Returns whether
 * sampling and allocation tracking start now. */
int window_init(int cpu_ok)
{
	g_cpu_ok = cpu_ok;
	g_cpu_inited = 1;
	g_alloc_mode = agent_cfg.alloc;
	uint64_t now = mono_now();
	g_on = !agent_cfg.start_off;
	g_start_at = agent_cfg.start_at_mono;
	if (agent_cfg.duration_ns)
		g_stop_at = (g_start_at ? g_start_at : now) + agent_cfg.duration_ns;
	if (agent_cfg.snapshot_every_ns)
		g_next_snap = now + agent_cfg.snapshot_every_ns;
	return g_on;
}

/* The first records of a dump (a process's, a fork child's): a dump that
 * begins paused says so with a STOP at its start. */
void window_dump_start(struct enc *e)
{
	/* The constructor writes the dump's start before window_init. */
	if (g_cpu_inited ? !g_on : agent_cfg.start_off)
		enc_window(e, 0, FD_WIN_STOP, atomic_load(&agent_seq), 0, NULL);
}

/* A fork child numbers its own snapshots; its window is the parent's. */
void window_fork_child(void)
{
	g_snap_id = 0;
	g_mark_ns = 0;
}

/* Sampling resumes: each thread's CPU time while paused counts as covered
 * (no sample after the pause may stand for it), then every thread gets a
 * timer again. */
static void cpu_resume(void)
{
	int hw = threads_hiwater();
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		uint64_t clk;
		if (t && atomic_load(&t->state) == TS_LIVE && tcpu_read(t->tid, &clk) == 0)
			tcpu_skip(t, clk);
	}
	agent_cpu_on = 1;
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (t && atomic_load(&t->state) == TS_LIVE)
			sample_arm(t, t->tid);
	}
	arm_existing_threads(writer_tid());
}

/* Sampling stops: no timer is left (a thread starting now is kept from
 * arming while they are deleted); a signal still pending is dropped by the
 * handler, which sees agent_cpu_on clear. */
static void cpu_pause(void)
{
	agent_cpu_on = 0;
	sample_stop_arming();
	disarm_all();
	sample_allow_arming();
	/* What each thread ran since its last sample is the window's: charged
	 * now, before the window closes (a thread sampled rarely, say one
	 * that waits for a CPU behind busy ones, would otherwise lose most
	 * of its time, and a detach would report it as 0). */
	static uint64_t f[EV_MAX_WORDS];
	uint64_t now = agent_now();
	int hw = threads_hiwater();
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (t && atomic_load(&t->state) == TS_LIVE && !t->thread_end_sent)
			tcpu_settle(t, now, f, tcpu_emit_enc);
	}
}

/* Switches recording on or off; returns the sequence number of the switch
 * and sets *now to its time. Turning on takes the number before the hooks
 * record (every event recorded after it has a number at least as high);
 * turning off, after they stop, and the time after the timers are gone: a
 * sample taken while the round drained, after the round's time, still
 * falls inside the window it closes. */
static uint64_t window_switch(struct enc *e, uint64_t *now, int on, const char *label)
{
	uint64_t seq;
	if (on) {
		seq = atomic_load(&agent_seq);
		g_on = 1;
		agent_alloc_on = g_alloc_mode;
		agent_wait_on = agent_cfg.wait;
		if (g_cpu_ok)
			cpu_resume();
	} else {
		late_request_detach(); /* an attached agent detaches */
		g_on = 0;
		agent_alloc_on = FD_ALLOC_OFF;
		agent_wait_on = 0;
		if (g_cpu_ok)
			cpu_pause();
		seq = atomic_load(&agent_seq);
		*now = agent_now();
	}
	if (*now < g_mark_ns)
		*now = g_mark_ns; /* a command after a stop in the same round */
	g_mark_ns = *now;
	enc_window(e, *now, on ? FD_WIN_START : FD_WIN_STOP, seq, 0, label);
	return seq;
}

/* A late agent attached again (late.c): recording on in the new dump, a
 * START mark labelled "attach" first, the window's settings those just
 * given. Paused CPU time is skipped (cpu_resume): the new dump's accounts
 * start now. */
void window_late_restart(struct enc *e, int cpu_ok)
{
	uint64_t now = mono_now();
	g_cpu_ok = cpu_ok;
	g_alloc_mode = agent_cfg.alloc;
	g_snap_id = 0;
	g_mark_ns = 0;
	g_start_at = 0;
	g_stop_at = agent_cfg.duration_ns ? now + agent_cfg.duration_ns : 0;
	g_next_snap = agent_cfg.snapshot_every_ns ? now + agent_cfg.snapshot_every_ns : 0;
	uint64_t t = agent_now();
	window_switch(e, &t, 1, "attach");
}

static uint64_t window_snapshot(struct enc *e, uint64_t now, const char *label)
{
	uint64_t seq = atomic_load(&agent_seq);
	if (now < g_mark_ns)
		now = g_mark_ns;
	g_mark_ns = now;
	enc_window(e, now, FD_WIN_SNAPSHOT, seq, ++g_snap_id, label);
	return seq;
}

/* A command from `fathom ctl` (control.c): "start", "stop", "snapshot"
 * (with an optional label) or "rotate" (rotate.c). Writes the answer, one
 * word and its figures separated by dots ("ok.start.SEQ.NS",
 * "same.stop.SEQ.NS", "ok.snapshot.SEQ.NS.ID", "ok.rotate.SEQ.NS.FILE",
 * "failed.rotate", "bad"), into reply. */
void window_command(struct enc *e, uint64_t now, const char *verb, const char *label, char *reply, size_t cap)
{
	unsigned long long seq;
	if (!strcmp(verb, "start") || !strcmp(verb, "stop")) {
		int on = verb[2] == 'a';
		if (on == g_on) {
			if (!on)
				late_request_detach();
			snprintf(reply, cap, "same.%s.%llu.%llu", verb,
				 (unsigned long long)atomic_load(&agent_seq), (unsigned long long)now);
			return;
		}
		/* A switch by hand ends the automatic window. */
		g_start_at = g_stop_at = 0;
		seq = window_switch(e, &now, on, label);
		snprintf(reply, cap, "ok.%s.%llu.%llu", verb, seq, (unsigned long long)now);
	} else if (!strcmp(verb, "snapshot")) {
		seq = window_snapshot(e, now, label);
		snprintf(reply, cap, "ok.snapshot.%llu.%llu.%llu", seq, (unsigned long long)now,
			 (unsigned long long)g_snap_id);
	} else if (!strcmp(verb, "rotate")) {
		uint64_t rseq = 0;
		unsigned n = rotate_now(e, now, &rseq);
		if (n)
			snprintf(reply, cap, "ok.rotate.%llu.%llu.%u", (unsigned long long)rseq,
				 (unsigned long long)now, n);
		else
			snprintf(reply, cap, "failed.rotate");
	} else {
		snprintf(reply, cap, "bad");
	}
}

/* At each round: the automatic window's ends and the periodic marks. */
void window_tick(struct enc *e, uint64_t now)
{
	if (!g_start_at && !g_stop_at && !g_next_snap)
		return;
	uint64_t mono = mono_now();
	if (g_start_at && mono >= g_start_at) {
		g_start_at = 0;
		if (!g_on)
			window_switch(e, &(uint64_t){now}, 1, NULL);
	}
	if (g_stop_at && !g_start_at && mono >= g_stop_at) {
		g_stop_at = 0;
		if (g_on)
			window_switch(e, &(uint64_t){now}, 0, NULL);
	}
	if (g_next_snap && mono >= g_next_snap) {
		/* Marks while paused would all show the same heap. */
		if (g_on)
			window_snapshot(e, now, NULL);
		while (g_next_snap <= mono)
			g_next_snap += agent_cfg.snapshot_every_ns;
	}
}
