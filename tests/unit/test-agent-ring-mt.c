/* Concurrency test of the agent's ring (preload/ring.h) as the agent uses
 * it: one producer pushing events of every length, and a consumer that
 * drains the way the writer does (writer.c: a head taken once per batch,
 * words read by position, the tail released in steps), checking that every
 * word arrives once and in order. Built under ThreadSanitizer too when
 * FATHOM_TSAN is on (unit/test-agent-ring-mt-tsan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ring.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#define RING_WORDS 1024
#define EVENTS 200000
#define MAX_LEN 130	 /* EV_MAX_WORDS: the longest event, a STACK */
#define RELEASE_STEP 256 /* the writer's is 4096, over larger rings */

struct shared {
	struct ring r;
	uint64_t buf[RING_WORDS];
	int full_seen; /* read after the join */
};

/* Event seq: word 0 = seq << 8 | len, word i = seq * 1000 + i. Lengths
 * cycle through 1..MAX_LEN, so that events wrap at every position. */
static size_t event_len(uint64_t seq)
{
	return 1 + (size_t)(seq * 7 % MAX_LEN);
}

static void *producer(void *p)
{
	struct shared *s = p;
	uint64_t w[MAX_LEN];
	for (uint64_t seq = 0; seq < EVENTS; seq++) {
		size_t len = event_len(seq);
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

/* One batch, as writer.c's drain(): returns the next expected seq. */
static uint64_t drain_batch(struct ring *r, uint64_t seq)
{
	uint64_t head = ring_head(r), tail = ring_tail(r), released = tail;
	uint64_t w[MAX_LEN];
	while (tail < head) {
		uint64_t w0 = ring_at(r, tail);
		size_t len = w0 & 0xff;
		assert_int_equal(w0 >> 8, seq);
		assert_int_equal(len, event_len(seq));
		assert_true(len <= head - tail); /* never a partial event */
		for (size_t i = 0; i < len; i++)
			w[i] = ring_at(r, tail + i);
		for (size_t i = 1; i < len; i++)
			assert_int_equal(w[i], seq * 1000 + i);
		tail += len;
		seq++;
		if (tail - released >= RELEASE_STEP) {
			ring_release(r, tail);
			released = tail;
		}
	}
	ring_release(r, tail);
	return seq;
}

static void test_writer_consumer(void **state)
{
	(void)state;
	struct shared *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	ring_init(&s->r, s->buf, RING_WORDS);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, producer, s), 0);
	uint64_t seq = 0;
	while (seq < EVENTS) {
		uint64_t next = drain_batch(&s->r, seq);
		if (next == seq)
			sched_yield();
		seq = next;
	}
	pthread_join(th, NULL);
	assert_int_equal(ring_ready(&s->r), 0);
	assert_int_equal(ring_space(&s->r), RING_WORDS);
	/* 200,000 events of 65 words on average through 1024 words: the
	 * producer certainly met a full ring. */
	assert_true(s->full_seen);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_writer_consumer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
