/* Sample "index": joining a stream of orders to their customers by searching
 * the customer table from the start for every order (slow), against building a
 * hash index on the customer id once (fast). Practice: a lookup repeated many
 * times deserves an index; O(n) per lookup becomes O(1). The slow profile is
 * all find_customer_scan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"

struct customer {
	uint64_t id;
	uint32_t discount_pct;
	uint32_t region;
};

/* Reads the table until the id turns up: half of it on average for a hit, all
 * of it for a miss. */
__attribute__((noinline)) static const struct customer *find_customer_scan(const struct customer *c, size_t n,
									   uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].id == id)
			return &c[i];
	return NULL;
}

/* An open-addressing hash table of indices into the customer table, sized to a
 * power of two at most half full, so a probe sequence is short. */
struct index {
	uint32_t *slot; /* customer index + 1; 0 is empty */
	size_t mask;
};

static size_t id_hash(uint64_t id)
{
	id ^= id >> 31;
	id *= 0x7fb5d329728ea185ULL;
	return (size_t)(id ^ (id >> 27));
}

__attribute__((noinline)) static void index_build(struct index *ix, const struct customer *c, size_t n)
{
	size_t size = 16;
	while (size < 2 * n)
		size *= 2;
	ix->slot = calloc(size, sizeof *ix->slot);
	if (!ix->slot) {
		perror("index: calloc");
		exit(1);
	}
	ix->mask = size - 1;
	for (size_t i = 0; i < n; i++) {
		size_t h = id_hash(c[i].id) & ix->mask;
		while (ix->slot[h])
			h = (h + 1) & ix->mask;
		ix->slot[h] = (uint32_t)(i + 1);
	}
}

__attribute__((noinline)) static const struct customer *
find_customer_hashed(const struct index *ix, const struct customer *c, uint64_t id)
{
	for (size_t h = id_hash(id) & ix->mask; ix->slot[h]; h = (h + 1) & ix->mask)
		if (c[ix->slot[h] - 1].id == id)
			return &c[ix->slot[h] - 1];
	return NULL;
}

int main(int argc, char **argv)
{
	int fast = sample_way(argc, argv, "[CUSTOMERS [ORDERS]]  (defaults 20000 150000)");
	size_t ncust = (size_t)sample_arg(argc, argv, 2, 20000, 1L << 31);
	long norders = sample_arg(argc, argv, 3, 150000, 1L << 40);

	/* Customer ids are sparse and in no order, as ids from elsewhere are. */
	struct customer *cust = malloc(ncust * sizeof *cust);
	if (!cust) {
		perror("index: malloc");
		return 1;
	}
	unsigned long long seed = 9;
	for (size_t i = 0; i < ncust; i++) {
		uint64_t r = sample_rand(&seed);
		cust[i] = (struct customer){.id = (i * 2654435761u) % 4000000007u,
					    .discount_pct = (uint32_t)(r % 30),
					    .region = (uint32_t)((r >> 8) % 8)};
	}
	struct index ix = {0};
	if (fast)
		index_build(&ix, cust, ncust);

	/* Orders name a known customer, except one in ten that names nobody. */
	uint64_t discounted = 0, unknown = 0, checksum = 0;
	for (long o = 0; o < norders; o++) {
		uint64_t r = sample_rand(&seed);
		uint64_t id = r % 10 == 0 ? 4000000007u + r % 1000 : cust[(r >> 8) % ncust].id;
		uint64_t cents = (r >> 20) % 100000;
		const struct customer *c =
		    fast ? find_customer_hashed(&ix, cust, id) : find_customer_scan(cust, ncust, id);
		if (!c) {
			unknown++;
			continue;
		}
		discounted += cents * (100 - c->discount_pct) / 100;
		checksum = checksum * 31 + c->region;
	}
	printf("index: %ld orders, %llu to unknown customers, total %llu, checksum %016llx\n", norders,
	       (unsigned long long)unknown, (unsigned long long)discounted, (unsigned long long)checksum);
	free(ix.slot);
	free(cust);
	return 0;
}
