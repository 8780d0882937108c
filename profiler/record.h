/* What fathom record's two halves share: cmd-record.c reads the options and
 * says what the recording holds; record-run.c sets the run up (the agent,
 * the dumps' names, the agent's settings) and runs it (a launched command,
 * or an attach to a running process). */
#ifndef FATHOM_RECORD_H
#define FATHOM_RECORD_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "manifest.h"

/* One recording: what the command line asks, what is set up for it, and
 * what the run left (the manifest the agent writes). */
struct rec {
	/* the options */
	const char *output, *clock, *hz, *alloc, *wait, *wait_threshold;
	char sample_bytes[32], wait_threshold_ns[32];
	/* The window (FATHOM_DELAY as "@NS", FATHOM_DURATION, FATHOM_START,
	 * FATHOM_SNAPSHOT_EVERY), in ns; delay < 0: none. */
	double delay, duration, snapshot_every;
	bool paused;
	char delay_at[32], duration_s[32], snapshot_s[32];
	char rotate_s[32]; /* FATHOM_ROTATE: a time in ms, or a size in KiB */
	bool quiet, no_cpu, symbolize, pack_sources, jit;
	char **cmd;	  /* the command and its arguments, in argv */
	pid_t attach_pid; /* --pid: the running process to attach to */
	/* the set-up */
	char *agent;   /* the agent's absolute path */
	char *pattern; /* FATHOM_OUTPUT: every dump's name, %p the pid */
	char *final;   /* with -o FILE: the main dump's final name */
	char run_id[48];
	char manifest[PATH_MAX]; /* where the agent lists the dumps it made */
	pid_t pid;
	struct manifest m; /* what the run left: the dumps, the agent's notes (manifest.h) */
};

/* Finds the agent (r->agent). Returns -1 to go on, or says why not and
 * returns the exit status. */
int record_setup_agent(struct rec *r);

/* Where dumps go: r->pattern (and r->final with -o FILE), the run id, and
 * the manifest file. Returns -1 to go on, or says why not and returns the
 * exit status. */
int record_setup_dumps(struct rec *r);

/* Starts the command with the agent's environment. Returns -1 to go on
 * (then record_wait), or says why not and returns the exit status (127 or
 * 126 when the command did not start). */
int record_spawn(struct rec *r, sigset_t *old_mask);

/* Waits for the command started by record_spawn; its exit status the
 * shell's way. */
int record_wait(struct rec *r, const sigset_t *old_mask);

/* fathom record --pid: loads the agent into the running process with the
 * run's settings, and records it. Returns 0 or the exit status. */
int record_attach(struct rec *r);

#endif
