/* The layout of events in a thread's ring: what the hooks and the signal
 * handler produce and the writer turns into dump records (encode.c).
 *
 * Each event is a run of 64-bit words; word 0 holds the kind (bits 0-7), the
 * event's length in words (bits 8-15) and a kind-specific field (bits 16-63).
 *   EV_SAMPLE     w0 field = weight;  w1 time (ns since start), w2 stack id,
 *                 and (4 words) w3 the exact CPU time in ns it stands for, and
 *                 (5 words) w4 1: the CPU time charged at the thread's end, and
 *                 (6 words) w5 1: the agent's own work, charged to the frame
 *                 that called into the agent (sample_event() builds them)
 *   EV_ALLOC      w0 field = seq;     w1 stack id, w2 size, w3 ptr
 *   EV_FREE       w0 field = seq;     w1 ptr
 *   EV_REALLOC    w0 field = seq;     w1 stack id, w2 size, w3 old, w4 new
 *   EV_STACK      w0 field = nframes; w1 stack id, w2... frames (innermost first)
 *   EV_THREAD     w1 tid, w2 time, w3..w4 name (16 bytes, NUL padded)
 *   EV_THREAD_END w1 tid, w2 time, and (4 words) w3 its measured CPU time (ns)
 *   EV_WAIT       w0 field = reason (FD_WAIT_*) | fd kind (FD_FDK_*) << 8;
 *                 w1 start (ns since start), w2 stack id, w3 wait_ns,
 *                 w4 object, w5 weight_ns (wait_event() builds them)
 *   EV_HOLD       w1 object, w2 stack id, w3 held_ns (0: unknown), w4 weight
 *   EV_MAP        w0 field = seq;     w1 stack id, w2 addr, w3 len, w4 kind
 *                 (bits 0-7) | prot (8-15) | mmap's flags (32-63), w5 file
 *                 offset, w6 time, w7... the file's path (NUL padded; none
 *                 unless FILE)
 *   EV_UNMAP      w0 field = seq;     w1 addr, w2 len, w3 time, w4 kind
 *   EV_REMAP      w0 field = seq;     w1 stack id, w2 old addr, w3 old len,
 *                 w4 new addr, w5 new len, w6 mremap's flags, w7 time
 *                 (mmap-hooks.c makes the three)
 * A STACK event is pushed before the first event of the same ring that uses
 * its id, so the dump defines a stack before its first use on that thread.
 */
#ifndef FATHOM_EVENT_H
#define FATHOM_EVENT_H

#include <stdint.h>

enum ev_kind {
	EV_SAMPLE = 1,
	EV_ALLOC,
	EV_FREE,
	EV_REALLOC,
	EV_STACK,
	EV_THREAD,
	EV_THREAD_END,
	EV_WAIT,
	EV_HOLD,
};

/* The mapping events (mmap-hooks.c): numbered apart from the list above,
 * which others extend. They carry an allocation sequence number, as
 * EV_ALLOC does. */
enum ev_map_kind { EV_MAP = 32, EV_UNMAP, EV_REMAP };
#define EV_MAP_FIXED 7	      /* EV_MAP's words before the path */
#define EV_MAP_PATH_WORDS 120 /* at most 959 bytes of path and a NUL */

#define EV_W0(kind, nwords, field) ((uint64_t)(kind) | (uint64_t)(nwords) << 8 | (uint64_t)(field) << 16)
#define EV_KIND(w0) ((unsigned)((w0)&0xff))
#define EV_LEN(w0) ((unsigned)(((w0) >> 8) & 0xff))
#define EV_FIELD(w0) ((w0) >> 16)

/* Flags of a SAMPLE event (sample_event). */
#define EV_SAMPLE_AT_END 1u /* the CPU time its thread's samples did not cover, charged at its end */
#define EV_SAMPLE_AGENT 2u  /* the agent's own work, charged to the frame that called into it */

/* Writes a SAMPLE event into s (6 words of room) and returns its length in
 * words: as short as its fields allow, so that a plain sample stays 3 words.
 * ns is the exact CPU (or wall) time it stands for, 0 when it stands for
 * weight whole periods. Context: any, async-signal-safe. */
static inline unsigned sample_event(uint64_t *s, uint64_t weight, uint64_t time, uint32_t id, uint64_t ns,
				    unsigned flags)
{
	unsigned n = (flags & EV_SAMPLE_AGENT) ? 6 : (flags & EV_SAMPLE_AT_END) ? 5 : ns ? 4 : 3;
	s[0] = EV_W0(EV_SAMPLE, n, weight);
	s[1] = time;
	s[2] = id;
	s[3] = ns;
	s[4] = (flags & EV_SAMPLE_AT_END) ? 1 : 0;
	s[5] = (flags & EV_SAMPLE_AGENT) ? 1 : 0;
	return n;
}

/* Writes a WAIT event into s (6 words) and returns its length. Context: any,
 * async-signal-safe. */
static inline unsigned wait_event(uint64_t *s, unsigned reason, unsigned fd_kind, uint64_t start, uint32_t id,
				  uint64_t wait_ns, uint64_t object, uint64_t weight_ns)
{
	s[0] = EV_W0(EV_WAIT, 6, reason | fd_kind << 8);
	s[1] = start;
	s[2] = id;
	s[3] = wait_ns;
	s[4] = object;
	s[5] = weight_ns;
	return 6;
}

/* The longest event: a STACK of FD_MAX_FRAMES frames. FD_MAX_FRAMES + 2 must
 * stay below 256, the largest length word 0 can hold. */
#define EV_MAX_WORDS (2 + 128)

#endif
