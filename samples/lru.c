/* Sample "lru": a cache in front of an expensive computation, unbounded (slow:
 * it grows with every new key and is never freed) against a bounded LRU that
 * recycles its least recently used entry (fast). Practice: bound every cache.
 * The slow profile's peak and leaks are all cache_insert_unbounded. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"

#define VALUE_BYTES 256

/* A cached value and its links: the hash chain, and (LRU only) the recency list. */
struct entry {
	struct entry *chain;
	struct entry *prev, *next;
	uint64_t key;
	unsigned char value[VALUE_BYTES];
};

static uint64_t key_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	return k ^ (k >> 33);
}

/* The work the cache saves: a few rounds of mixing over the value. */
__attribute__((noinline)) static void render_value(uint64_t key, unsigned char *out)
{
	unsigned long long s = key;
	for (int round = 0; round < 8; round++)
		for (int i = 0; i < VALUE_BYTES; i += 8) {
			unsigned long long r = sample_rand(&s);
			for (int b = 0; b < 8; b++)
				out[i + b] ^= (unsigned char)(r >> (8 * b));
		}
}

/* The unbounded cache: a chained hash table that doubles as it fills. */
struct table {
	struct entry **buckets;
	size_t nbuckets, count;
};

static struct entry *table_find(struct table *t, uint64_t key)
{
	for (struct entry *e = t->buckets[key_hash(key) & (t->nbuckets - 1)]; e; e = e->chain)
		if (e->key == key)
			return e;
	return NULL;
}

static void table_link(struct table *t, struct entry *e)
{
	struct entry **b = &t->buckets[key_hash(e->key) & (t->nbuckets - 1)];
	e->chain = *b;
	*b = e;
}

static void table_alloc(struct table *t, size_t nbuckets)
{
	t->buckets = calloc(nbuckets, sizeof *t->buckets);
	if (!t->buckets) {
		perror("lru: calloc");
		exit(1);
	}
	t->nbuckets = nbuckets;
}

static void table_grow(struct table *t)
{
	struct entry **old = t->buckets;
	size_t n = t->nbuckets;
	table_alloc(t, n * 2);
	for (size_t i = 0; i < n; i++)
		for (struct entry *e = old[i], *next; e; e = next) {
			next = e->chain;
			table_link(t, e);
		}
	free(old);
}

/* Every miss adds an entry that stays for the life of the process: memory grows
 * with the number of distinct keys ever seen, not with the working set. */
__attribute__((noinline)) static struct entry *cache_insert_unbounded(struct table *t, uint64_t key)
{
	struct entry *e = calloc(1, sizeof *e);
	if (!e) {
		perror("lru: calloc");
		exit(1);
	}
	e->key = key;
	render_value(key, e->value);
	if (++t->count > t->nbuckets)
		table_grow(t);
	table_link(t, e);
	return e;
}

/* The bounded LRU: at most cap entries; the recency list has the most recently
 * used entry at head. */
struct lru {
	struct table t;
	struct entry head; /* sentinel of the recency list */
	size_t cap;
};

static void lru_unlink(struct entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void lru_push_front(struct lru *c, struct entry *e)
{
	e->next = c->head.next;
	e->prev = &c->head;
	c->head.next->prev = e;
	c->head.next = e;
}

static void table_unlink(struct table *t, struct entry *e)
{
	struct entry **p = &t->buckets[key_hash(e->key) & (t->nbuckets - 1)];
	while (*p != e)
		p = &(*p)->chain;
	*p = e->chain;
}

/* A miss in a full cache recycles the least recently used entry in place, so
 * the cache allocates cap entries once and never again. */
__attribute__((noinline)) static struct entry *lru_insert(struct lru *c, uint64_t key)
{
	struct entry *e;
	if (c->t.count < c->cap) {
		e = malloc(sizeof *e);
		if (!e) {
			perror("lru: malloc");
			exit(1);
		}
		c->t.count++;
	} else {
		e = c->head.prev;
		lru_unlink(e);
		table_unlink(&c->t, e);
	}
	e->key = key;
	for (int i = 0; i < VALUE_BYTES; i++)
		e->value[i] = 0;
	render_value(key, e->value);
	table_link(&c->t, e);
	lru_push_front(c, e);
	return e;
}

static struct entry *lru_get(struct lru *c, uint64_t key)
{
	struct entry *e = table_find(&c->t, key);
	if (!e)
		return lru_insert(c, key);
	lru_unlink(e);
	lru_push_front(c, e);
	return e;
}

int main(int argc, char **argv)
{
	int fast = sample_way(argc, argv, "[REQUESTS [CAPACITY]]  (defaults 3000000 4096)");
	long requests = sample_arg(argc, argv, 2, 3000000, 1000000000);
	long cap = sample_arg(argc, argv, 3, 4096, 1L << 30);

	/* The requests slide over the key space: at any moment they fall in a
	 * window of 1024 keys, and a new key enters the window every 8 requests. */
	const uint64_t window = 1024, stride = 8;
	struct table unbounded = {0};
	struct lru lru = {.cap = (size_t)cap};
	if (fast) {
		size_t nb = 16;
		while (nb < (size_t)cap)
			nb *= 2;
		table_alloc(&lru.t, nb);
		lru.head.next = lru.head.prev = &lru.head;
	} else {
		table_alloc(&unbounded, 1024);
	}

	unsigned long long seed = 42;
	uint64_t checksum = 0;
	for (long r = 0; r < requests; r++) {
		uint64_t key = (uint64_t)r / stride + sample_rand(&seed) % window;
		struct entry *e;
		if (fast) {
			e = lru_get(&lru, key);
		} else {
			e = table_find(&unbounded, key);
			if (!e)
				e = cache_insert_unbounded(&unbounded, key);
		}
		checksum = checksum * 31 + e->value[r % VALUE_BYTES];
	}

	if (fast) {
		for (struct entry *e = lru.head.next, *next; e != &lru.head; e = next) {
			next = e->next;
			free(e);
		}
		free(lru.t.buckets);
	}
	/* The slow way leaves its cache to the process's exit, as a global cache
	 * usually is: every entry is reported as leaked. */
	printf("lru: %ld requests, checksum %016llx\n", requests, (unsigned long long)checksum);
	return 0;
}
