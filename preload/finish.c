/* The end of a dump (exit, exec, daemon()'s parent): the last rounds, the
 * CPU accounts of the threads still running and of those the agent never
 * saw, the time of threads still blocked, the stacks not yet defined, and
 * the trailer; for exec and daemon a trailer that can be taken back.
 *
 * Context: ordinary, never signal.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "encode.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Threads the agent never saw (they never ran agent code: created by a raw
 * clone, or running since before the agent with the signal blocked): their
 * names and measured CPU time, from /proc and their CPU clocks, and the
 * scheduler's account of them (schedstat). */
static void close_unseen(uint64_t now)
{
	struct enc *e = dump_locked();
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return;
	struct dirent *de;
	for (int n = 0; (de = readdir(d)) && n < 4096;) {
		pid_t tid = (pid_t)atoi(de->d_name);
		uint64_t clk, base;
		if (tid <= 0 || tid == writer_tid() || has_state_any(tid, 1) || tcpu_read(tid, &clk) < 0)
			continue;
		base = pre_timer_base(tid);
		char path[64], name[17] = {0};
		snprintf(path, sizeof(path), "/proc/self/task/%d/comm", (int)tid);
		ssize_t k = read_file(path, name, 16);
		if (k > 0 && name[k - 1] == '\n')
			name[k - 1] = 0;
		enc_thread(e, (uint64_t)tid, now, name);
		uint64_t run = UINT64_MAX, wait = 0;
		if (tsched_since(tid, &run, &wait) < 0)
			run = UINT64_MAX;
		enc_thread_end_sched(e, (uint64_t)tid, now, clk > base ? clk - base : 0, run, wait);
		n++;
	}
	closedir(d);
}

/* At the end of the recording (exit, exec, daemon): closes the CPU account
 * of every thread still running (thread-cpu.c), and of those the agent
 * never saw. final: the threads' own ends will not be recorded (exit); an
 * exec's trailer may be taken back, so nothing is changed then. */
static void close_accounts(uint64_t now, int charge, int final)
{
	if (!agent_cfg.cpu)
		return;
	/* The threads run on and may use their own buffers. */
	static uint64_t f[EV_MAX_WORDS];
	int hw = threads_hiwater();
	for (int i = 0; i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (!t || atomic_load(&t->state) != TS_LIVE || t->thread_end_sent)
			continue;
		tcpu_close(t, charge, 0, now, f, tcpu_emit_enc);
		if (final)
			t->thread_end_sent = 1;
	}
	close_unseen(now);
}

/* With the wall clock, a thread still blocked when the dump ends: its time
 * blocked so far, on the stack it blocked in (blocking.c; an atomic exchange
 * there keeps an interval from counting twice). */
static void close_blocked(uint64_t now)
{
	struct enc *e = dump_locked();
	int hw = threads_hiwater();
	for (int i = 0; agent_cpu_on && i < hw; i++) {
		struct tstate *t = threads_at(i);
		if (!t || atomic_load(&t->state) != TS_LIVE)
			continue;
		uint32_t bid;
		uint64_t bns = blocking_take(t, now, &bid);
		if (bns && bid) {
			uint64_t s[6];
			sample_event(s, bns / (1000000000u / (unsigned)agent_cfg.hz), now, bid, bns, 0);
			enc_event(e, (uint64_t)t->tid, s);
		}
	}
}

/* Writes everything that is pending and the trailer. Called at exit, _exit
 * and (keeping wlock) before exec. */
static void finish_locked(unsigned reason)
{
	struct enc *e = dump_locked();
	uint64_t now = agent_now();
	/* What follows is the writer's work on this thread: its account ends
	 * here (a sample taken after the last round would be lost, yet
	 * counted as covered: an exact recording of perl lost 80 ms so). */
	static uint64_t f[EV_MAX_WORDS];
	tcpu_freeze(agent_tls, agent_cpu_on, now, f, tcpu_emit_enc);
	writer_cycle(1);
	writer_cycle(1);
	close_accounts(now, agent_cpu_on, 1);
	close_blocked(now);
	perfmap_record();
	rotate_define_missing(e);
	dump_trailer(now, reason);
	enc_flush(e);
	writer_note_flush(now);
	report_dump_error(1);
}

/* Flushes everything and writes a trailer that may be taken back (exec, and
 * daemon()'s parent, whose fork can fail): returns where it starts. Called
 * with wlock held, which the caller keeps so that nothing follows it. */
struct enc_mark trailer_provisional(unsigned reason)
{
	struct enc *e = dump_locked();
	writer_cycle(1);
	perfmap_record();	  /* kept too: a later one replaces it */
	rotate_define_missing(e); /* kept if the trailer is taken back */
	enc_flush(e);
	struct enc_mark m = enc_mark(e);
	uint64_t now = agent_now();
	/* (With CPU sampling just stopped for an exec: it was on.) */
	close_accounts(now, agent_cfg.cpu && !config_cpu_off()[0] && !window_paused(), 0);
	/* A thread's rest is charged to its last sampled stack, which a
	 * sample taken since the rounds above may have made: its definition
	 * is still in the thread's ring, which nothing drains now (daemon()'s
	 * parent ends; test-fd-exits saw "1 stack used but never defined"). */
	rotate_define_missing(e);
	dump_trailer(now, reason);
	enc_flush(e);
	report_dump_error(1);
	return m;
}

/* The end of a dump while the process runs on (a late agent's detach,
 * late.c): as at exit, and the agent goes quiet; wlock held. The control
 * channel stays until its answers are read (control_close_answered). */
void agent_finish_locked(unsigned reason)
{
	if (!agent_ready || agent_finished)
		return;
	finish_locked(reason);
	agent_finished = 1;
	agent_alloc_on = 0;
	agent_cpu_on = 0;
	agent_wait_on = 0;
}

void agent_finish_signal(int sig)
{
	dump_end_signal(sig);
	agent_finish(FD_END_SIGNAL);
}

void agent_finish(unsigned reason)
{
	if (!agent_ready || agent_finished || getpid() != agent_pid)
		return;
	int g = agent_guard, cs;
	agent_guard = 1;
	NO_CANCEL_BEGIN(cs);
	if (!dump_lock_bounded()) {
		NO_CANCEL_END(cs);
		agent_guard = g;
		return;
	}
	if (!agent_finished) {
		finish_locked(reason);
		agent_finished = 1;
		agent_alloc_on = 0;
		agent_cpu_on = 0;
		agent_wait_on = 0;
		control_close();
		scost_report();
	}
	dump_unlock();
	NO_CANCEL_END(cs);
	agent_guard = g;
}
