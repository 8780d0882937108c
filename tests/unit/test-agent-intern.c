/* Unit tests of the agent's lock-free stack intern table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "intern.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void make_stack(uint64_t *f, unsigned n, unsigned seed)
{
	for (unsigned i = 0; i < n; i++)
		f[i] = 0x400000 + seed * 64 + i * 0x10;
}

static void test_dedup(void **state)
{
	struct intern in;
	assert_int_equal(intern_init(&in, 1024, 1 << 16, 1), 0);
	uint64_t a[5], b[5];
	make_stack(a, 5, 1);
	make_stack(b, 5, 2);
	int is_new;
	uint32_t ia = intern_stack(&in, a, 5, &is_new);
	assert_true(ia > 0);
	assert_true(is_new);
	uint32_t ib = intern_stack(&in, b, 5, &is_new);
	assert_true(is_new);
	assert_int_not_equal(ia, ib);
	assert_int_equal(intern_stack(&in, a, 5, &is_new), ia);
	assert_false(is_new);
	/* A prefix of a stack is another stack. */
	uint32_t ip = intern_stack(&in, a, 4, &is_new);
	assert_true(is_new);
	assert_int_not_equal(ip, ia);
	unsigned n;
	const uint64_t *f = intern_frames(&in, ib, &n);
	assert_non_null(f);
	assert_int_equal(n, 5);
	assert_memory_equal(f, b, sizeof(b));
	intern_destroy(&in);
}

static void test_full(void **state)
{
	struct intern in;
	/* 16 slots are at most half used: 8 stacks fit in one level. */
	assert_int_equal(intern_init(&in, 16, 1 << 12, 1), 0);
	uint64_t f[3];
	int is_new, got = 0;
	for (unsigned i = 0; i < 20; i++) {
		make_stack(f, 3, i);
		if (intern_stack(&in, f, 3, &is_new))
			got++;
	}
	assert_int_equal(got, 8);
	/* Known stacks are still found when the table is full. */
	make_stack(f, 3, 5);
	assert_true(intern_stack(&in, f, 3, &is_new) > 0);
	assert_false(is_new);
	intern_destroy(&in);

	/* A full arena also fails cleanly. */
	assert_int_equal(intern_init(&in, 1024, 40, 1), 0);
	uint64_t big[16];
	got = 0;
	for (unsigned i = 0; i < 10; i++) {
		make_stack(big, 16, i);
		if (intern_stack(&in, big, 16, &is_new))
			got++;
	}
	assert_int_equal(got, 2);
	intern_destroy(&in);
}

#define NSTACKS 5000
#define NTHREADS 4
struct worker {
	struct intern *in;
	unsigned start;
	uint32_t ids[NSTACKS];
	unsigned created;
};

static void *work(void *p)
{
	struct worker *w = p;
	uint64_t f[12];
	for (unsigned k = 0; k < NSTACKS; k++) {
		unsigned i = (k + w->start) % NSTACKS;
		make_stack(f, 1 + i % 12, i);
		int is_new;
		w->ids[i] = intern_stack(w->in, f, 1 + i % 12, &is_new);
		w->created += (unsigned)is_new;
	}
	return NULL;
}

static void test_concurrent(void **state)
{
	struct intern in;
	assert_int_equal(intern_init(&in, 1 << 14, 1 << 20, 1), 0);
	struct worker *w = calloc(NTHREADS, sizeof(*w));
	pthread_t th[NTHREADS];
	for (int t = 0; t < NTHREADS; t++) {
		w[t].in = &in;
		w[t].start = (unsigned)t * 7;
		assert_int_equal(pthread_create(&th[t], NULL, work, &w[t]), 0);
	}
	unsigned created = 0;
	for (int t = 0; t < NTHREADS; t++) {
		pthread_join(th[t], NULL);
		created += w[t].created;
	}
	/* Every stack was created exactly once, and all threads agree. */
	assert_int_equal(created, NSTACKS);
	for (unsigned i = 0; i < NSTACKS; i++) {
		assert_true(w[0].ids[i] > 0);
		for (int t = 1; t < NTHREADS; t++)
			assert_int_equal(w[t].ids[i], w[0].ids[i]);
		unsigned n;
		const uint64_t *f = intern_frames(&in, w[0].ids[i], &n);
		assert_non_null(f);
		assert_int_equal(n, 1 + i % 12);
		assert_int_equal(f[0], 0x400000 + i * 64);
	}
	free(w);
	intern_destroy(&in);
}

/* Levels are added as the table fills: 16, 32, 64 and 128 slots at most
 * half used hold 120 stacks, each found again with its own frames. */
static void test_levels(void **state)
{
	struct intern in;
	assert_int_equal(intern_init(&in, 16, 1 << 10, 4), 0);
	size_t first = intern_mapped(&in);
	uint64_t f[6];
	uint32_t ids[200];
	int is_new, got = 0;
	for (unsigned i = 0; i < 200; i++) {
		make_stack(f, 6, i);
		ids[i] = intern_stack(&in, f, 6, &is_new);
		got += ids[i] != 0;
	}
	assert_int_equal(got, 120);
	assert_true(intern_mapped(&in) > 8 * first);
	for (unsigned i = 0; i < 200; i++) {
		if (!ids[i])
			continue;
		make_stack(f, 6, i);
		assert_int_equal(intern_stack(&in, f, 6, &is_new), ids[i]);
		assert_false(is_new);
		unsigned n;
		const uint64_t *fr = intern_frames(&in, ids[i], &n);
		assert_non_null(fr);
		assert_int_equal(n, 6);
		assert_memory_equal(fr, f, sizeof(f));
	}
	intern_destroy(&in);
}

/* Threads adding levels as they go: every id names the stack it was given
 * for (a race with a new level may give a stack a second id). */
static void test_concurrent_levels(void **state)
{
	struct intern in;
	assert_int_equal(intern_init(&in, 64, 1 << 10, 10), 0);
	struct worker *w = calloc(NTHREADS, sizeof(*w));
	pthread_t th[NTHREADS];
	for (int t = 0; t < NTHREADS; t++) {
		w[t].in = &in;
		w[t].start = (unsigned)t * 7;
		assert_int_equal(pthread_create(&th[t], NULL, work, &w[t]), 0);
	}
	unsigned created = 0;
	for (int t = 0; t < NTHREADS; t++) {
		pthread_join(th[t], NULL);
		created += w[t].created;
	}
	assert_true(created >= NSTACKS);
	assert_true(created < NSTACKS + NSTACKS / 10);
	for (int t = 0; t < NTHREADS; t++)
		for (unsigned i = 0; i < NSTACKS; i++) {
			assert_true(w[t].ids[i] > 0);
			unsigned n;
			const uint64_t *f = intern_frames(&in, w[t].ids[i], &n);
			assert_non_null(f);
			assert_int_equal(n, 1 + i % 12);
			assert_int_equal(f[0], 0x400000 + i * 64);
		}
	free(w);
	intern_destroy(&in);
}

static int count_id(void *arg, uint32_t id, const uint64_t *frames, unsigned n)
{
	unsigned *seen = arg;
	(void)frames;
	(void)n;
	if (id < 256)
		seen[id]++;
	return 0;
}

/* A stack made in an older level gets a forward in the newest one when
 * looked up (the same id, no new stack): the next lookup finds it at the
 * first level it tries. Forwards take slots (a level fills sooner) but are
 * neither counted as stacks nor visited by intern_each. */
static void test_forwards(void **state)
{
	struct intern in;
	assert_int_equal(intern_init(&in, 16, 1 << 10, 4), 0);
	uint64_t f[6];
	uint32_t ids[12];
	int is_new;
	/* 8 fill level 0 (16 slots, half used), the next 4 go to level 1. */
	for (unsigned i = 0; i < 12; i++) {
		make_stack(f, 6, i);
		ids[i] = intern_stack(&in, f, 6, &is_new);
		assert_true(ids[i] > 0);
		assert_true(is_new);
	}
	struct intern_level *l0 = atomic_load(&in.level[0]), *l1 = atomic_load(&in.level[1]);
	assert_non_null(l1);
	assert_null(atomic_load(&in.level[2]));
	assert_int_equal(atomic_load(&l0->count), 8);
	assert_int_equal(atomic_load(&l1->count), 4);
	assert_int_equal(atomic_load(&l1->used), 4);
	/* Looking up a level-0 stack forwards it into level 1, once. */
	for (int round = 0; round < 3; round++) {
		make_stack(f, 6, 2);
		assert_int_equal(intern_stack(&in, f, 6, &is_new), ids[2]);
		assert_false(is_new);
		assert_int_equal(atomic_load(&l1->used), 5);
	}
	assert_int_equal(atomic_load(&l1->count), 4);
	assert_int_equal(intern_count(&in), 12);
	/* Forwards stop at 3/8 of level 1 (12 of 32 slots): the 7 other
	 * level-0 stacks make 12. */
	for (unsigned i = 0; i < 8; i++) {
		make_stack(f, 6, i);
		assert_int_equal(intern_stack(&in, f, 6, &is_new), ids[i]);
	}
	assert_int_equal(atomic_load(&l1->used), 12);
	/* Each stack once, forwards left out. */
	unsigned seen[256] = {0};
	intern_each(&in, count_id, seen);
	for (unsigned i = 0; i < 12; i++)
		assert_int_equal(seen[ids[i]], 1);
	unsigned n;
	const uint64_t *fr = intern_frames(&in, ids[3], &n);
	make_stack(f, 6, 3);
	assert_non_null(fr);
	assert_int_equal(n, 6);
	assert_memory_equal(fr, f, sizeof(f));
	/* New stacks fill level 1 (4 more), then a new level takes them. */
	for (unsigned i = 100; i < 110; i++) {
		make_stack(f, 6, i);
		assert_true(intern_stack(&in, f, 6, &is_new) > 0);
		assert_true(is_new);
	}
	assert_int_equal(atomic_load(&l1->used), 16);
	assert_non_null(atomic_load(&in.level[2]));
	assert_int_equal(intern_count(&in), 22);
	/* Every stack is still found with its id. */
	for (unsigned i = 0; i < 12; i++) {
		make_stack(f, 6, i);
		assert_int_equal(intern_stack(&in, f, 6, &is_new), ids[i]);
		assert_false(is_new);
	}
	intern_destroy(&in);

	/* Forwards stop at 3/8 of a level: 8 + 16 stacks in levels 0 and 1,
	 * one in level 2 (64 slots), whose forwards stop at 24. */
	uint32_t many[25];
	assert_int_equal(intern_init(&in, 16, 1 << 10, 4), 0);
	for (unsigned i = 0; i < 25; i++) {
		make_stack(f, 6, 200 + i);
		many[i] = intern_stack(&in, f, 6, &is_new);
		assert_true(is_new);
	}
	struct intern_level *l2 = atomic_load(&in.level[2]);
	assert_non_null(l2);
	assert_int_equal(atomic_load(&l2->used), 1);
	for (unsigned i = 0; i < 24; i++) {
		make_stack(f, 6, 200 + i);
		assert_int_equal(intern_stack(&in, f, 6, &is_new), many[i]);
	}
	assert_int_equal(atomic_load(&l2->used), 24);
	assert_false(atomic_load(&l2->full));
	intern_destroy(&in);

	/* Nothing is forwarded into the last level there can be. */
	assert_int_equal(intern_init(&in, 16, 1 << 10, 2), 0);
	for (unsigned i = 0; i < 12; i++) {
		make_stack(f, 6, i);
		ids[i] = intern_stack(&in, f, 6, &is_new);
	}
	l1 = atomic_load(&in.level[1]);
	assert_non_null(l1);
	make_stack(f, 6, 2);
	assert_int_equal(intern_stack(&in, f, 6, &is_new), ids[2]);
	assert_int_equal(atomic_load(&l1->used), 4);
	intern_destroy(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedup),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_concurrent),
	    cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_concurrent_levels),
	    cmocka_unit_test(test_forwards),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
