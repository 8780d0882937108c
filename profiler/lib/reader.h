/* The dump reader: turns a dump file into decoded records, one chunk in memory
 * at a time, validating every checksum, length and varint, and describing in
 * words whatever it had to skip. */
#ifndef FATHOM_READER_H
#define FATHOM_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fathom-dump.h"

/* A string or byte field: points into the reader's current chunk, valid until
 * the next reader_next() call. Not NUL-terminated. */
struct rd_bytes {
	const uint8_t *p;
	size_t len;
};

/* One decoded record. Per-chunk deltas are already resolved: seq, ptr,
 * old_ptr and time are absolute, and tid is the chunk's cur_tid for SAMPLE,
 * ALLOC, FREE and REALLOC. Fields a kind does not use are zero, provided the
 * caller does not write into the struct between calls: to stay fast, the
 * reader clears only the fields it wrote there itself. */
/* Not a record kind of the dump: reader_next() returns a symbols chunk
 * (FD_CHUNK_SYMBOLS) whole as one record of this kind, its decoded payload
 * in `path`, for symcache_decode(). */
#define RD_SYMBOLS 0x100

struct rd_rec {
	int kind;	/* FD_REC_*, or RD_SYMBOLS */
	uint32_t chunk; /* seq of the chunk that held it */
	int tid;
	uint64_t time; /* ns since the process start */
	uint64_t id;   /* mod_id (MODULE, UNLOAD) or stack_id (STACK, SAMPLE, ALLOC, REALLOC) */
	uint64_t seq, ptr, old_ptr, size, weight;
	uint64_t ns;	 /* SAMPLE since 1.2: the exact CPU time (0: weight periods) */
	uint64_t at_end; /* SAMPLE since 1.2: 1 when charged at the thread's end */
	uint64_t agent;	 /* SAMPLE since 1.3: 1 when the agent's own work, charged to its caller */
	/* HEADER */
	int pid, ppid;
	uint64_t start_real_ns, start_mono_ns, hz, alloc_sample_bytes, generation;
	uint64_t wait_threshold_ns; /* since 1.4: 0 when waits were not recorded */
	int clock, alloc_mode;
	struct rd_bytes exe, cmdline;
	/* MODULE: bias, start, end, path, build_id; THREAD: name */
	uint64_t bias, start, end;
	struct rd_bytes path, build_id, name;
	/* STACK: nframes addresses, leaf first (the reader's buffer) */
	uint32_t nframes;
	const uint64_t *frames;
	/* NOTE (since 1.2): what (FD_NOTE_*) and its text in why.
	 * TICK: seq, rss, heap; LOST: what, count, why (since 1.1; may be
	 * empty); TRAILER: the totals */
	uint64_t rss, heap, what, count;
	struct rd_bytes why;
	uint64_t samples, sample_weight, lost_samples, alloc_events, reason;
	/* Since 1.2, when has_cpu: THREAD_END's measured CPU time of the
	 * thread; TRAILER's CPU time of the process since the agent started,
	 * and agent_cpu_ns that of the agent's writer thread. */
	uint64_t cpu_ns, agent_cpu_ns;
	/* Since 1.7, when has_sched: THREAD_END's scheduler account of the
	 * thread over the same span (schedstat): ns on a CPU, and ns runnable
	 * but waiting for a CPU (the run queue). Absent: unknown. */
	uint64_t run_ns, runq_ns;
	/* Since 1.4, reason FD_END_SIGNAL: the signal the process died of. */
	uint64_t end_signal;
	/* Since 1.4. WAIT: time (its start), id (stack), ns (wait_ns), reason,
	 * object, fd_kind, weight (weight_ns). HOLD: object, id, ns
	 * (held_ns), weight. WINDOW: time, what (FD_WIN_*), seq, id, name
	 * (the label). */
	uint64_t object, fd_kind;
	/* Since 1.4. MAP: seq, id (stack), ptr (address), size (len),
	 * map_kind (FD_MAP_*), prot, flags, offset, time, path (FILE's; may be
	 * empty). UNMAP: seq, ptr, size, time, map_kind. REMAP: seq, id,
	 * old_ptr, old_size, ptr, size, flags, time. TICK: rss_file
	 * (UINT64_MAX when the tick has none). */
	uint64_t old_size, map_kind, prot, flags, offset, rss_file;
	/* Since 1.5. PERFMAP: what (FD_PERFMAP_*); TEXT: offset, name (the
	 * lines); FILE: path, size, offset (from), and perfmap below. */
	struct {
		uint64_t state, mtime_ns, btime_ns, start_ns, recorded, cut;
	} perfmap;
	bool has_cpu, has_sched;
};

/* A CPU sample or an allocation event: the records that make up nearly all
 * of a dump, in the compact form reader_events() gives. Fields as in struct
 * rd_rec; those a kind does not use are zero. */
struct rd_event {
	int kind; /* FD_REC_SAMPLE, _ALLOC, _FREE or _REALLOC */
	int tid;
	uint64_t id; /* stack_id (not for FREE) */
	uint64_t seq, ptr, old_ptr, size;
	uint64_t time, weight;
	uint64_t ns;	 /* SAMPLE since 1.2: the exact CPU time (0: weight periods) */
	uint64_t at_end; /* SAMPLE since 1.2: 1 when charged at the thread's end */
	uint64_t agent;	 /* SAMPLE since 1.3: 1 when the agent's own work, charged to its caller */
};

struct reader;

/* Opens a dump for reading and checks its file header. On failure returns
 * -errno (-ENOENT, -EINVAL for "not a fathom dump", -ENOTSUP for a newer major
 * version, ...) with *err set to a one-line message that names the file. */
int reader_open(struct reader **r, const char *path, char **err);
/* The same over an open stream (a file, or fmemopen() in tests); the reader
 * does not close f. `name` is used in messages. */
int reader_open_stream(struct reader **r, FILE *f, const char *name, char **err);
void reader_close(struct reader *r);

/* Decodes the next record into *rec. Returns 1 for a record, 0 at the end of
 * the file, or -errno on a read error. Damage never makes it fail: damaged
 * chunks are skipped (the reader resynchronises on the next valid chunk
 * header) and described by reader_damage(). */
int reader_next(struct reader *r, struct rd_rec *rec);

/* The fast path for runs of events: decodes up to max event records that
 * come next in the current chunk into ev and returns how many. It stops
 * before anything else (another kind of record, the end of a chunk, damage),
 * which reader_next() then reads; reader_next() returns events as well, so a
 * caller that mixes the two sees every record once, in file order. */
size_t reader_events(struct reader *r, struct rd_event *ev, size_t max);

/* NULL while nothing was lost; otherwise what was, in words, e.g. "truncated
 * after chunk 812 (crash?); no trailer — the last ~50 ms may be missing".
 * Complete only after reader_next() returned 0. */
const char *reader_damage(const struct reader *r);
/* True when a TRAILER record was read. */
bool reader_complete(const struct reader *r);
/* Bytes consumed and the file's size (0 when unknown), for progress. */
uint64_t reader_offset(const struct reader *r);
uint64_t reader_size(const struct reader *r);
/* Chunks decoded, and chunks skipped as damaged. */
uint32_t reader_chunks(const struct reader *r);
uint32_t reader_bad_chunks(const struct reader *r);

#endif
