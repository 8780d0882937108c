/* Rotation: a long recording as a series of files. With FATHOM_ROTATE (a
 * time, or a size such as 64M) or at `fathom ctl PID rotate`, the writer
 * ends the current file and goes on in the next one at the end of a round:
 * no event is dropped or written twice (the rings simply drain into the
 * next file), and each file reads alone. The file that ends gets a WINDOW
 * ROTATE naming the next file's number, the stacks its records name that it
 * lacks, and a trailer (FD_END_ROTATE); the next one opens with the same
 * HEADER (the process's start times, so that times run on across the
 * series) and notes, a WINDOW ROTATE with its own number, a STOP when
 * recording is paused, a MODULE for every module loaded, a THREAD for every
 * live thread, and the Python code objects again. From the first rotation
 * on, the encoder notes which stacks the records name (enc_event_ref), so
 * that each file defines exactly those.
 *
 * Files are named after the first: NAME.rN.fdump for NAME.fdump (else
 * NAME.rN), N = 2, 3, ...
 *
 * Context: the writer's round (or a thread doing it), wlock held, unless a
 * function says otherwise.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "encode.h"
#include "python.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Retry after a failed rotation (the next name taken, the disk full). */
#define RETRY_NS 1000000000ull

static unsigned g_file;	       /* this process's current file number, from 1 */
static char g_first[PATH_MAX]; /* the first file's path, which names the rest */
static uint64_t g_next_at;     /* agent_now() of the next timed rotation (0: none) */
static uint64_t g_retry_at;    /* no rotation by size before this (after a failure) */
static int g_failed_said;

/* Context: the constructor or a fork child, after the dump is open. */
void rotate_init(void)
{
	g_file = 1;
	g_failed_said = 0;
	g_retry_at = 0;
	snprintf(g_first, sizeof(g_first), "%s", dump_path());
	g_next_at = agent_cfg.rotate_ns ? agent_now() + agent_cfg.rotate_ns : 0;
	/* The first file too may end by rotation: it notes the stacks named. */
	if (agent_cfg.rotate_ns || agent_cfg.rotate_bytes)
		dump_locked()->track_refs = 1;
}

/* File n's name (n >= 2) after the first's. */
static int file_name(char *buf, size_t cap, unsigned n)
{
	size_t l = strlen(g_first);
	int stem = l > 6 && !strcmp(g_first + l - 6, ".fdump") ? (int)(l - 6) : (int)l;
	int w = snprintf(buf, cap, "%.*s.r%u%s", stem, g_first, n, g_first + stem);
	return w < 0 || (size_t)w >= cap ? -1 : 0;
}

static int define_one(void *arg, uint32_t id, const uint64_t *frames, unsigned n)
{
	struct enc *e = arg;
	/* Without track_refs (a file before any rotation): every stack it
	 * lacks; enc_stack skips those it has. */
	if (!e->track_refs || enc_stack_missing(e, id))
		enc_stack(e, id, frames, n);
	return 0;
}

/* A STACK travels in the ring of the thread that made the id, while
 * another thread's ring, a pending sample or the CPU time credited at the
 * end may already have named it (and after a rotation, it went into an
 * earlier file): the stacks a file still lacks when it ends are written
 * from the table. Called once the file's last events are encoded. */
int rotate_define_missing(struct enc *e)
{
	/* Every id named so far was counted before anyone could use it. */
	atomic_thread_fence(memory_order_acquire);
	if (e->track_refs || e->stacks_defined < intern_count(&agent_intern))
		return intern_each(&agent_intern, define_one, e);
	return 0;
}

unsigned rotate_now(struct enc *e, uint64_t now, uint64_t *seq_out)
{
	char path[PATH_MAX];
	unsigned next = g_file + 1;
	int r = file_name(path, sizeof(path), next) < 0 ? -ENAMETOOLONG : dump_next_open(path);
	if (r < 0) {
		if (!g_failed_said++)
			say_late("fathom: cannot start %s: %s; the recording goes on in %s", path,
				 strerror(-r), dump_path());
		g_retry_at = now + RETRY_NS;
		return 0;
	}
	uint64_t seq = atomic_load(&agent_seq);
	enc_window(e, now, FD_WIN_ROTATE, seq, next, NULL);
	rotate_define_missing(e);
	dump_next_switch(now);
	/* e is the dump's encoder, now the next file's. */
	e->track_refs = 1;
	enc_window(e, now, FD_WIN_ROTATE, seq, next, NULL);
	window_dump_start(e);
	modules_write_all(e, now);
	writer_threads_write(e, now);
	python_rotate();
	/* The new file's first chunk says whose it is, as the first file's. */
	enc_flush(e);
	writer_note_flush(now);
	g_file = next;
	if (agent_cfg.rotate_ns)
		g_next_at = now + agent_cfg.rotate_ns;
	if (seq_out)
		*seq_out = seq;
	return next;
}

void rotate_tick(struct enc *e, uint64_t now)
{
	int due = g_next_at && now >= g_next_at;
	if (agent_cfg.rotate_bytes && e->file_pos + e->raw_len >= agent_cfg.rotate_bytes && now >= g_retry_at)
		due = 1;
	if (due && !rotate_now(e, now, NULL) && g_next_at)
		g_next_at = now + agent_cfg.rotate_ns;
}
