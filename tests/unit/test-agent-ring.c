/* Unit tests of the agent's single-producer single-consumer ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ring.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

/* Consumes one event of the given length and checks its words. */
static void pop_check(struct ring *r, uint64_t first, size_t n)
{
	assert_true(ring_ready(r) >= n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ring_word(r, i), first + i);
	ring_consume(r, n);
}

static void test_wraparound(void **state)
{
	uint64_t buf[16];
	struct ring r;
	ring_init(&r, buf, 16);
	uint64_t next = 100;
	/* 3-word events over a 16-word ring wrap at every position. */
	for (int round = 0; round < 100; round++) {
		uint64_t w[3] = {next, next + 1, next + 2};
		assert_int_equal(ring_push(&r, w, 3), 0);
		if (round % 2 == 1) {
			pop_check(&r, next - 3, 3);
			pop_check(&r, next, 3);
		}
		next += 3;
	}
	assert_int_equal(ring_ready(&r), 0);
	assert_int_equal(ring_space(&r), 16);
}

static void test_full(void **state)
{
	uint64_t buf[8];
	struct ring r;
	ring_init(&r, buf, 8);
	uint64_t w[3] = {1, 2, 3};
	assert_int_equal(ring_push(&r, w, 3), 0);
	assert_int_equal(ring_push(&r, w, 3), 0);
	/* 6 of 8 words used: a 3-word event does not fit, all or nothing. */
	assert_int_equal(ring_push(&r, w, 3), -1);
	assert_int_equal(ring_ready(&r), 6);
	assert_int_equal(ring_space(&r), 2);
	uint64_t two[2] = {7, 8};
	assert_int_equal(ring_push(&r, two, 2), 0);
	assert_int_equal(ring_space(&r), 0);
	assert_int_equal(ring_push(&r, two, 1), -1);
	ring_consume(&r, 3);
	assert_int_equal(ring_space(&r), 3);
	assert_int_equal(ring_push(&r, w, 3), 0);
	/* Order survives: 1 2 3 | 7 8 | 1 2 3 (wrapped). */
	assert_int_equal(ring_word(&r, 0), 1);
	assert_int_equal(ring_word(&r, 3), 7);
	assert_int_equal(ring_word(&r, 4), 8);
	assert_int_equal(ring_word(&r, 5), 1);
	assert_int_equal(ring_word(&r, 7), 3);
}

#define EVENTS 500000
struct shared {
	struct ring r;
	uint64_t buf[1024];
	int full_seen;
};

/* Producer: events of 1..5 words; word 0 = (seq << 8 | len), the rest
 * seq * 1000 + i. */
/* Events written in place (ring_slot/ring_commit), 2 to 5 words, with the
 * consumer at every distance behind: the slot is given exactly when the
 * words are free by the producer's view of the tail and do not wrap (its
 * cached bound never gives a word the consumer has not read, or one past
 * the ring's end), else the event goes through ring_push; the ring is
 * reset (ring_init, as after a fork) and its capacity doubled (as
 * threads.c grows it) on the way. */
static void test_slot(void **state)
{
	static uint64_t big[64];
	uint64_t buf[16];
	struct ring r;
	ring_init(&r, buf, 16);
	uint64_t next = 1000, slots = 0, pushes = 0;
	for (int round = 0; round < 3000; round++) {
		if (round == 1000) { /* the producer's state starts over */
			while (ring_ready(&r))
				ring_consume(&r, 1);
			ring_init(&r, buf, 16);
		}
		if (round == 2000) { /* doubled, the words kept in place */
			uint64_t head = atomic_load(&r.head);
			for (uint64_t i = atomic_load(&r.tail); i < head; i++)
				big[i & 31] = buf[i & 15];
			r.buf = big;
			r.mask = 31;
		}
		size_t n = 2 + (size_t)(round * 7 % 4);
		uint64_t head = atomic_load(&r.head), cap = r.mask + 1;
		int fits = cap - (head - r.tail_cache) >= n && (head & r.mask) + n <= cap;
		struct ring_slot s;
		int got = ring_slot(&r, n, &s);
		assert_int_equal(got, fits);
		if (got) {
			assert_ptr_equal(s.w, r.buf + (head & r.mask));
			for (size_t i = 0; i < n; i++)
				s.w[i] = next + i;
			ring_commit(&r, &s, n);
			slots++;
		} else {
			uint64_t w[5] = {next, next + 1, next + 2, next + 3, next + 4};
			if (ring_push(&r, w, n) < 0) {
				/* Full: the consumer catches up, the producer looks. */
				while (ring_ready(&r))
					ring_consume(&r, 1);
				assert_true(ring_space(&r) >= n);
				assert_int_equal(ring_push(&r, w, n), 0);
			}
			pushes++;
		}
		/* The consumer reads this event now or lets some pile up. */
		size_t ready = ring_ready(&r);
		assert_true(ready >= n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(ring_word(&r, ready - n + i), next + i);
		if (round % 3 == 0)
			ring_consume(&r, ready);
		else if (round % 3 == 1 && ready > 6)
			ring_consume(&r, ready - 6);
		if (round % 5 == 0)
			ring_space(&r); /* the producer's view of the tail, refreshed */
		next += n;
	}
	assert_true(slots > 1000 && pushes > 100);
}

static void *producer(void *p)
{
	struct shared *s = p;
	uint64_t w[5];
	for (uint64_t seq = 0; seq < EVENTS; seq++) {
		size_t len = 1 + seq % 5;
		w[0] = seq << 8 | len;
		for (size_t i = 1; i < len; i++)
			w[i] = seq * 1000 + i;
		while (ring_push(&s->r, w, len) < 0) {
			s->full_seen = 1;
			sched_yield();
		}
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct shared *s = calloc(1, sizeof(*s));
	ring_init(&s->r, s->buf, 1024);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, producer, s), 0);
	/* Start late, so that the producer certainly meets a full ring. */
	usleep(20000);
	uint64_t seq = 0;
	while (seq < EVENTS) {
		size_t ready = ring_ready(&s->r);
		if (!ready) {
			sched_yield();
			continue;
		}
		uint64_t w0 = ring_word(&s->r, 0);
		size_t len = w0 & 0xff;
		assert_int_equal(w0 >> 8, seq);
		assert_true(len <= ready);
		for (size_t i = 1; i < len; i++)
			assert_int_equal(ring_word(&s->r, i), seq * 1000 + i);
		ring_consume(&s->r, len);
		seq++;
	}
	pthread_join(th, NULL);
	assert_int_equal(ring_ready(&s->r), 0);
	/* 500,000 events through 1024 words: the producer must have met a
	 * full ring, so the test exercised that path. */
	assert_true(s->full_seen);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wraparound),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_concurrent),
	    cmocka_unit_test(test_slot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
