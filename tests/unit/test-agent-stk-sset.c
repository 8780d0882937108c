/* Unit tests of sampled mode's live set (preload/sset.c): every pointer
 * inserted is found again by sset_remove, also when threads contend for the
 * same slots. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

/* The set's code itself, with a hook that lets the test play the thread
 * that takes a slot between another's look at it and its compare-and-swap
 * (the archive's copy is then not linked). */
static void race_hook(_Atomic uintptr_t *slot, size_t offset);
#define SSET_RACE_HOOK(slot, offset) race_hook(slot, offset)
#include "sset.c"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

/* n addresses (never dereferenced) whose place in level 0 is `bucket`,
 * searched from *next upwards. */
static void same_bucket(uintptr_t *p, unsigned n, size_t bucket, uintptr_t *next)
{
	for (unsigned i = 0; i < n; (*next) += 16)
		if (sset_index(*next, 0) == bucket)
			p[i++] = *next;
}

static void test_basic(void **state)
{
	(void)state;
	assert_int_equal(sset_setup(), 0);
	uintptr_t next = 0x10000000, p[SSET_PROBES + 8];
	/* More pointers in one bucket than its window holds: the rest go to
	 * the next level, and every one is found. */
	same_bucket(p, SSET_PROBES + 8, 100, &next);
	for (unsigned i = 0; i < SSET_PROBES + 8; i++) {
		assert_true(sset_insert(p[i]));
		assert_true(sset_maybe(p[i]));
	}
	for (unsigned i = 0; i < SSET_PROBES + 8; i++)
		assert_true(sset_remove(p[i]));
	for (unsigned i = 0; i < SSET_PROBES + 8; i++)
		assert_false(sset_remove(p[i]));
	/* Tombstones are reused. */
	assert_true(sset_insert(p[3]));
	assert_true(sset_remove(p[3]));
}

/* The pointers "another thread" inserts, one each time an insertion is
 * about to claim the last slot of its window. */
static uintptr_t g_foreign[8];
static unsigned g_nforeign, g_raced;

static void race_hook(_Atomic uintptr_t *slot, size_t offset)
{
	if (offset != SSET_PROBES - 1 || g_raced >= g_nforeign)
		return;
	uintptr_t s = atomic_load(slot);
	if (s == 0 || s == SSET_TOMB)
		atomic_store(slot, g_foreign[g_raced++]);
}

/* An insertion that loses the last slot of its window to another thread
 * must go on to the next level, not past the window, where sset_remove
 * never looks: it used to skip the contended slot without counting the
 * probe. Deterministic: the other thread is the hook above. */
static void test_lost_slot(void **state)
{
	(void)state;
	assert_int_equal(sset_setup(), 0);
	uintptr_t next = 0x30000000, own[SSET_PROBES + 8];
	size_t bucket = 5000;
	same_bucket(own, SSET_PROBES + 8, bucket, &next);
	same_bucket(g_foreign, 8, bucket, &next);
	g_nforeign = 8;
	g_raced = 0;
	for (unsigned i = 0; i < SSET_PROBES + 8; i++)
		assert_true(sset_insert(own[i]));
	g_nforeign = 0;
	assert_int_equal(g_raced, 1); /* one race, at the 64th insertion */
	unsigned missing = 0;
	for (unsigned i = 0; i < SSET_PROBES + 8; i++)
		missing += !sset_remove(own[i]);
	missing += !sset_remove(g_foreign[0]);
	if (missing)
		print_error("%u of %u pointers not found by sset_remove\n", missing, SSET_PROBES + 9);
	assert_int_equal(missing, 0);
}

#define NT 2
#define PER (SSET_PROBES * 3 / 2 / NT)
#define ROUNDS 200

static uintptr_t g_ptrs[ROUNDS][NT][PER];
static _Atomic unsigned g_go[ROUNDS], g_done[ROUNDS], g_missing;

static void *inserter(void *arg)
{
	unsigned t = (unsigned)(uintptr_t)arg;
	for (unsigned r = 0; r < ROUNDS; r++) {
		/* All threads start a round together: they race for the same
		 * free slots of one bucket. */
		atomic_fetch_add(&g_go[r], 1);
		for (unsigned spin = 0; atomic_load(&g_go[r]) < NT; spin++)
			if (spin > 100000)
				sched_yield();
		for (unsigned i = 0; i < PER; i++)
			if (!sset_insert(g_ptrs[r][t][i]))
				abort();
		atomic_fetch_add(&g_done[r], 1);
		if (t)
			continue;
		/* Thread 0 takes the round's pointers out again, so that
		 * later rounds find the set as empty. */
		while (atomic_load(&g_done[r]) < NT)
			sched_yield();
		for (unsigned u = 0; u < NT; u++)
			for (unsigned i = 0; i < PER; i++)
				if (!sset_remove(g_ptrs[r][u][i]))
					atomic_fetch_add(&g_missing, 1);
	}
	return NULL;
}

/* Threads that insert into one bucket at once, each taking the slot another
 * just took under it: a pointer must still land within SSET_PROBES slots of
 * its place, where sset_remove looks (it used to skip the contended slot
 * without counting the probe, and went past the window). */
static void test_contention(void **state)
{
	(void)state;
	assert_int_equal(sset_setup(), 0);
	uintptr_t next = 0x20000000;
	for (unsigned r = 0; r < ROUNDS; r++) {
		/* Buckets far apart: rounds do not share windows. */
		size_t bucket = ((size_t)r * 2 * SSET_PROBES + 1000) % ((size_t)1 << SSET_BITS0);
		uintptr_t all[NT * PER];
		same_bucket(all, NT * PER, bucket, &next);
		for (unsigned t = 0; t < NT; t++)
			for (unsigned i = 0; i < PER; i++)
				g_ptrs[r][t][i] = all[t * PER + i];
	}
	pthread_t th[NT];
	for (unsigned t = 0; t < NT; t++)
		assert_int_equal(pthread_create(&th[t], NULL, inserter, (void *)(uintptr_t)t), 0);
	for (unsigned t = 0; t < NT; t++)
		pthread_join(th[t], NULL);
	unsigned missing = atomic_load(&g_missing);
	if (missing)
		print_error("%u of %u pointers not found by sset_remove\n", missing, ROUNDS * NT * PER);
	assert_int_equal(missing, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_lost_slot),
	    cmocka_unit_test(test_contention),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
