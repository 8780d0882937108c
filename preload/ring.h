/* A lock-free single-producer single-consumer ring of 64-bit words: each
 * thread of the target produces its events into its own ring, and the writer
 * thread consumes them.
 *
 * Context: ring_push and ring_space are async-signal-safe and may run inside
 * malloc; they never allocate, lock or make a system call. One producer and
 * one consumer at a time: the producer side must not be re-entered (a signal
 * handler that finds the producer busy defers its event, see agent.h).
 */
#ifndef FATHOM_RING_H
#define FATHOM_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct ring {
	_Atomic uint64_t head; /* next word the producer writes; producer-owned */
	uint64_t tail_cache;   /* producer's last view of tail, saves a shared load */
	uint64_t mask;	       /* capacity - 1; capacity is a power of two */
	uint64_t *buf;
	/* The producer's bound for an event written in place (ring_slot):
	 * words up to here are free by tail_cache and do not wrap. A lower
	 * bound of the truth: the tail only grows, and a ring that grows
	 * keeps its laps' ends (its capacity doubles). */
	uint64_t room_end;
	char pad1[24];
	_Atomic uint64_t tail; /* next word the consumer reads; consumer-owned */
	char pad2[56];
};

/* Asks for the ring line RING_AHEAD words past head in exclusive state: the
 * consumer read it a ring ago, so a plain store would miss and wait for it
 * from the consumer's core (and any locked instruction after it, the
 * allocator's own, with it). Fetched early, the store finds it in L1. */
#define RING_AHEAD 64
static inline void ring_prefetch_at(const uint64_t *buf, uint64_t mask, uint64_t head)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetchw %0" : : "m"(buf[(head + RING_AHEAD) & mask]));
#else
	__builtin_prefetch(&buf[(head + RING_AHEAD) & mask], 1, 3);
#endif
}

static inline void ring_prefetch_ahead(const struct ring *r, uint64_t head)
{
	ring_prefetch_at(r->buf, r->mask, head);
}

/* buf must hold nwords words, nwords a power of two. */
static inline void ring_init(struct ring *r, uint64_t *buf, size_t nwords)
{
	atomic_store_explicit(&r->head, 0, memory_order_relaxed);
	atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
	r->tail_cache = 0;
	r->room_end = 0;
	r->mask = nwords - 1;
	r->buf = buf;
}

static inline size_t ring_capacity(const struct ring *r)
{
	return (size_t)r->mask + 1;
}

/* Words the producer may push now. Context: producer, async-signal-safe. */
static inline size_t ring_space(struct ring *r)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
	return (size_t)(r->mask + 1 - (head - r->tail_cache));
}

/* Appends n words, all or nothing. Returns 0, or -1 when there is not room.
 * Context: producer, async-signal-safe. */
static inline int ring_push(struct ring *r, const uint64_t *w, size_t n)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t cap = r->mask + 1;
	if (cap - (head - r->tail_cache) < n) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (cap - (head - r->tail_cache) < n)
			return -1;
	}
	for (size_t i = 0; i < n; i++)
		r->buf[(head + i) & r->mask] = w[i];
	ring_prefetch_ahead(r, head);
	atomic_store_explicit(&r->head, head + n, memory_order_release);
	return 0;
}

/* Room at the head for an event written in place (ring_slot), with the
 * ring's fields the commit needs, read before the event's stores (which
 * the compiler must assume may alias them). */
struct ring_slot {
	uint64_t *w; /* the event's words */
	uint64_t head, mask;
	uint64_t *buf;
};

/* The n free words at the head, contiguous, for an event written in place
 * and published by ring_commit: 0 when there is not room for them or they
 * would wrap (then ring_push). Context: producer, async-signal-safe. */
static inline int ring_slot(struct ring *r, size_t n, struct ring_slot *s)
{
	s->head = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (__builtin_expect(s->head + n > r->room_end, 0)) {
		/* The lap's end, or the tail's last view a ring ahead. */
		uint64_t lap = (s->head | r->mask) + 1, room = r->tail_cache + r->mask + 1;
		r->room_end = lap < room ? lap : room;
		if (s->head + n > r->room_end)
			return 0;
	}
	s->mask = r->mask;
	s->buf = r->buf;
	s->w = s->buf + (s->head & s->mask);
	return 1;
}

/* Publishes the n words written at s.w. Context: producer,
 * async-signal-safe. */
static inline void ring_commit(struct ring *r, const struct ring_slot *s, size_t n)
{
	ring_prefetch_at(s->buf, s->mask, s->head);
	atomic_store_explicit(&r->head, s->head + n, memory_order_release);
}

/* Words filled, from the producer's side (a lower bound of the truth). */
static inline size_t ring_fill_producer(struct ring *r)
{
	return (size_t)(atomic_load_explicit(&r->head, memory_order_relaxed) - r->tail_cache);
}

/* Consumer: the number of words ready to read. */
static inline size_t ring_ready(struct ring *r)
{
	return (size_t)(atomic_load_explicit(&r->head, memory_order_acquire) -
			atomic_load_explicit(&r->tail, memory_order_relaxed));
}

/* Consumer: the i-th ready word. */
static inline uint64_t ring_word(const struct ring *r, size_t i)
{
	return r->buf[(atomic_load_explicit(&r->tail, memory_order_relaxed) + i) & r->mask];
}

/* Consumer: releases n words to the producer. */
static inline void ring_consume(struct ring *r, size_t n)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
}

/* Consumer, in batches (the writer's way, writer.c): the words from
 * ring_tail() up to a head taken once with ring_head() are read by position
 * with ring_at(), and handed back in steps with ring_release(). */
static inline uint64_t ring_head(struct ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire);
}

static inline uint64_t ring_tail(struct ring *r)
{
	return atomic_load_explicit(&r->tail, memory_order_relaxed);
}

static inline uint64_t ring_at(const struct ring *r, uint64_t pos)
{
	return r->buf[pos & r->mask];
}

/* Consumer: every word before position tail is read. */
static inline void ring_release(struct ring *r, uint64_t tail)
{
	atomic_store_explicit(&r->tail, tail, memory_order_release);
}

#endif
