/* The record encoder and chunk writer: turns events into the records of
 * include/fathom-dump.h, batches them into chunks, compresses each chunk with
 * zstd and writes it to the dump file.
 *
 * Context: one thread at a time (the writer, or a thread holding the
 * writer's lock at exit and exec). Not async-signal-safe: it may allocate.
 */
#ifndef FATHOM_ENCODE_H
#define FATHOM_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fathom-dump.h"

struct enc_ref;
struct enc_stk;

struct enc {
	int fd;
	int error; /* first write error (positive errno); nothing is written after it */
	uint8_t *raw;
	size_t raw_len, raw_cap, raw_max; /* raw grows to what is batched, up to raw_max */
	uint8_t *zbuf, *zbuf2;		  /* mapped at the first chunk that needs them */
	size_t zcap, zcap2;
	void *zctx;
	int level;	/* zstd level; 0 stores chunks uncompressed */
	int repetitive; /* the last chunk compressed RECOMPRESS_RATIO times (encode.c) */
	/* Per-chunk delta bases (fathom-dump.h), reset at every chunk. */
	uint64_t cur_tid, prev_seq, prev_ptr, prev_time;
	uint32_t chunk_seq;
	uint64_t file_pos;
	/* Per chunk too, what FREE_REF and ALLOC_AT (1.6) refer to
	 * (encode-refs.c): the chunk's allocations by ordinal and the stacks'
	 * last addresses, in tables mapped at the first allocation event whose
	 * entries count for the current ref_gen only; the last frees. */
	struct enc_ref *refs;
	struct enc_stk *stks;
	uint32_t ref_gen, nalloc, nfreed;
	int refs_failed;
	uint64_t freed[FD_REF_FREES];
	uint8_t freed_count[64]; /* the last frees by their address's hash (FREED_HASHES) */
	/* When set, the fd must still be this file before each write: a program
	 * that closes every descriptor and reuses the number must never receive
	 * our bytes. */
	int check_id;
	dev_t dev;
	ino_t ino;
	int seekable; /* a regular file: a failed exec can take its trailer back */
	/* Bytes of records not written because of error (their uncompressed size). */
	uint64_t lost_bytes;
	/* The stack ids this dump defines (a bit each, grown as ids come):
	 * a STACK is written once, and the writer can tell which stacks the
	 * dump still lacks at its end. */
	uint64_t *stack_bits;
	size_t stack_bits_bytes;
	uint64_t stacks_defined;
	/* With track_refs (a rotated recording, rotate.c): the stack ids the
	 * dump's records name, so that the file defines each one it names
	 * (enc_stack_missing), however its definition travelled. */
	int track_refs;
	uint64_t *ref_bits;
	size_t ref_bits_bytes;
	/* Between enc_mark() and enc_rewind(): the ids defined since the mark,
	 * so that a rewind forgets them (marked_over: more than fit). */
	uint32_t marked[64];
	unsigned nmarked;
	int marking, marked_over;
	/* Totals, for the trailer. */
	uint64_t samples, sample_weight, lost_samples, alloc_events, records;
};

struct enc_header_info {
	uint64_t pid, ppid, start_real_ns, start_mono_ns, hz, clock, alloc_mode, alloc_sample_bytes,
	    generation, wait_threshold_ns;
	const char *exe;
	const char *cmdline;
	size_t cmdline_len;
};

/* Starts a dump on fd (already open, empty): writes the file header and
 * prepares chunks of at most chunk_raw decoded bytes. Returns 0 or -errno. */
int enc_open(struct enc *e, int fd, size_t chunk_raw, int level);
/* Whether fd is still the file that enc_open was given (always true without
 * check_id): a program that closes every descriptor may have reused the
 * number for a file of its own. */
int enc_is_ours(struct enc *e);
/* Frees the encoder's buffers; does not flush or close the fd. */
void enc_close(struct enc *e);

void enc_header(struct enc *e, const struct enc_header_info *h);
void enc_module(struct enc *e, uint64_t id, uint64_t bias, uint64_t start, uint64_t end, const char *path,
		const uint8_t *build_id, size_t build_id_len, uint64_t time);
void enc_unload(struct enc *e, uint64_t id, uint64_t time);
void enc_thread(struct enc *e, uint64_t tid, uint64_t time, const char *name);
/* cpu_ns (since 1.2): the thread's measured CPU time; UINT64_MAX: unknown,
 * not written. */
void enc_thread_end(struct enc *e, uint64_t tid, uint64_t time, uint64_t cpu_ns);
/* The same with (since 1.7, after a known cpu_ns) the scheduler's account of
 * the thread over that span: run_ns on a CPU, wait_ns runnable but waiting
 * for one (schedstat); run_ns UINT64_MAX: unknown, not written. */
void enc_thread_end_sched(struct enc *e, uint64_t tid, uint64_t time, uint64_t cpu_ns, uint64_t run_ns,
			  uint64_t wait_ns);
/* Whether stack id is named by a record of this dump (with track_refs)
 * and not defined in it yet. */
int enc_stack_missing(const struct enc *e, uint64_t id);
/* Notes the stack id that ring event w names (with track_refs). */
void enc_event_ref(struct enc *e, const uint64_t *w);
/* Writes a STACK, unless this dump already has one of that id. */
void enc_stack(struct enc *e, uint64_t id, const uint64_t *frames, unsigned n);
/* rss_file: since 1.4, UINT64_MAX when not known (not written). */
void enc_tick(struct enc *e, uint64_t time, uint64_t seq, uint64_t rss, uint64_t heap, uint64_t rss_file);
/* A WINDOW mark (FD_WIN_*, since 1.4): seq is the allocation sequence
 * number reached, id a snapshot's number (or a rotation's next file), label
 * may be NULL (cut at 256 bytes). */
void enc_window(struct enc *e, uint64_t time, unsigned what, uint64_t seq, uint64_t id, const char *label);
void enc_lost(struct enc *e, unsigned what, uint64_t count);
/* The same with the reason (LOST's optional str, format 1.1). */
void enc_lost_why(struct enc *e, unsigned what, uint64_t count, const char *why);
/* cpu_ns, agent_cpu_ns (since 1.2): the process's CPU time since the agent
 * started and that of the agent's writer thread; cpu_ns UINT64_MAX: unknown,
 * neither written. */
/* sig: the signal the process is dying of (reason FD_END_SIGNAL), else 0. */
void enc_trailer(struct enc *e, uint64_t time, unsigned reason, uint64_t cpu_ns, uint64_t agent_cpu_ns,
		 unsigned sig);
/* A NOTE record (FD_NOTE_*) with its text (cut at 4096 bytes). */
void enc_note(struct enc *e, unsigned what, const char *text);
/* A record of this kind with an encoded body of len bytes (less than 128 KB;
 * a longer one is not written): for kinds encoded elsewhere (python.c). */
void enc_record(struct enc *e, unsigned kind, const uint8_t *body, size_t len);
/* Encodes one ring event (event.h) produced by thread tid. Returns the
 * event's length in words, or 0 when the event is malformed. */
unsigned enc_event(struct enc *e, uint64_t tid, const uint64_t *w);
/* Encodes the ALLOC and FREE events that begin w (nwords words, whole
 * events) in one loop, up to the first event of another kind, one whose
 * sequence number exceeds max_seq, or 2048 words: most of an allocation-
 * heavy recording's events. Returns the words encoded; 0 when w does not
 * begin with such an event (enc_event takes it). */
size_t enc_alloc_run(struct enc *e, uint64_t tid, const uint64_t *w, size_t nwords, uint64_t max_seq);

/* CRC-32C of buf, as fd_crc32c(0, buf, len), in hardware where it can. */
uint32_t enc_crc32c(const void *buf, size_t len);

/* Compresses and writes the pending records as one chunk (nothing when there
 * are none). Returns 0 or -errno. After the first error (the fd is no longer
 * the dump, a full disk) nothing more is written: a chunk cut short is taken
 * back off the file, and the records' bytes are counted in lost_bytes. */
int enc_flush(struct enc *e);

/* A position in the file to come back to (exec that fails), with the
 * totals and the count of stacks defined there. */
struct enc_mark {
	uint64_t file_pos;
	uint32_t chunk_seq;
	uint64_t samples, sample_weight, lost_samples, alloc_events, records, stacks_defined;
};
struct enc_mark enc_mark(struct enc *e);
/* Truncates the file back to m, and the totals and defined stacks with it
 * (a stack defined after m is written again when next used, or at the end);
 * pending records must have been flushed.
 * Does nothing (and returns -errno) when the fd is no longer the dump or
 * not a regular file. */
int enc_rewind(struct enc *e, struct enc_mark m);

#endif
