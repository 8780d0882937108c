/* Sample "compact": a table of orders queried many times, held as an array of
 * structs of int64 fields (slow), against a struct of arrays with each column in
 * the narrowest type that holds it (fast). Practice: size types to the data and
 * lay out memory for the access: a query then reads only the bytes it needs.
 * The slow profile names orders_alloc_wide (bytes) and query_wide (time). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"

#define NREGIONS 8
#define SHIPPED 2

/* Every field 64 bits, as when a schema is mapped to "long" by default: 64
 * bytes an order, and a query over four fields drags all 64 through the cache. */
struct order_wide {
	int64_t id, customer, product, quantity, price_cents, time, status, region;
};

/* The same table by column, each in the type its values need. */
struct orders_narrow {
	uint32_t *id, *customer, *time;
	uint16_t *product, *quantity;
	uint32_t *price_cents;
	uint8_t *status, *region;
};

/* The orders, one field at a time from one generator, so both layouts hold
 * the same values. */
struct order_gen {
	unsigned long long seed;
	long next_id;
};

static void order_next(struct order_gen *g, struct order_wide *o)
{
	unsigned long long r = sample_rand(&g->seed), s = sample_rand(&g->seed);
	o->id = g->next_id++;
	o->customer = (int64_t)(r % 1000000);
	o->product = (int64_t)((r >> 20) % 5000);
	o->quantity = (int64_t)((r >> 33) % 20 + 1);
	o->price_cents = (int64_t)(s % 100000);
	o->time = (int64_t)(1700000000 + (s >> 17) % 31536000);
	o->status = (int64_t)((s >> 50) % 4);
	o->region = (int64_t)((s >> 54) % NREGIONS);
}

/* Each allocation is made right here, not in a wrapper, so that the profile
 * names these functions as the allocation sites. */
__attribute__((noinline)) static struct order_wide *orders_alloc_wide(size_t n)
{
	struct order_wide *o = malloc(n * sizeof *o);
	if (!o) {
		perror("compact: malloc");
		exit(1);
	}
	return o;
}

__attribute__((noinline)) static void orders_alloc_narrow(struct orders_narrow *t, size_t n)
{
	t->id = malloc(n * sizeof *t->id);
	t->customer = malloc(n * sizeof *t->customer);
	t->time = malloc(n * sizeof *t->time);
	t->product = malloc(n * sizeof *t->product);
	t->quantity = malloc(n * sizeof *t->quantity);
	t->price_cents = malloc(n * sizeof *t->price_cents);
	t->status = malloc(n * sizeof *t->status);
	t->region = malloc(n * sizeof *t->region);
	if (!t->id || !t->customer || !t->time || !t->product || !t->quantity || !t->price_cents ||
	    !t->status || !t->region) {
		perror("compact: malloc");
		exit(1);
	}
}

/* Revenue of shipped orders in one region. */
__attribute__((noinline)) static int64_t query_wide(const struct order_wide *o, size_t n, int region)
{
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		if (o[i].region == region && o[i].status == SHIPPED)
			sum += o[i].quantity * o[i].price_cents;
	return sum;
}

/* The same query reads 8 bytes an order instead of 64. */
__attribute__((noinline)) static int64_t query_narrow(const struct orders_narrow *t, size_t n, int region)
{
	int64_t sum = 0;
	for (size_t i = 0; i < n; i++)
		if (t->region[i] == region && t->status[i] == SHIPPED)
			sum += (int64_t)t->quantity[i] * t->price_cents[i];
	return sum;
}

int main(int argc, char **argv)
{
	int fast = sample_way(argc, argv, "[ORDERS [QUERIES]]  (defaults 2000000 40)");
	size_t n = (size_t)sample_arg(argc, argv, 2, 2000000, 1L << 30);
	long queries = sample_arg(argc, argv, 3, 40, 1000000);

	struct order_gen g = {.seed = 5, .next_id = 1};
	struct order_wide *wide = NULL, o;
	struct orders_narrow narrow = {0};
	if (fast) {
		orders_alloc_narrow(&narrow, n);
		for (size_t i = 0; i < n; i++) {
			order_next(&g, &o);
			narrow.id[i] = (uint32_t)o.id;
			narrow.customer[i] = (uint32_t)o.customer;
			narrow.time[i] = (uint32_t)o.time;
			narrow.product[i] = (uint16_t)o.product;
			narrow.quantity[i] = (uint16_t)o.quantity;
			narrow.price_cents[i] = (uint32_t)o.price_cents;
			narrow.status[i] = (uint8_t)o.status;
			narrow.region[i] = (uint8_t)o.region;
		}
	} else {
		wide = orders_alloc_wide(n);
		for (size_t i = 0; i < n; i++)
			order_next(&g, &wide[i]);
	}

	int64_t total = 0;
	uint64_t checksum = 0;
	for (long q = 0; q < queries; q++) {
		int region = (int)(q % NREGIONS);
		int64_t r = fast ? query_narrow(&narrow, n, region) : query_wide(wide, n, region);
		total += r;
		checksum = checksum * 1000003 + (uint64_t)r;
	}
	printf("compact: %zu orders, %ld queries, revenue %lld, checksum %016llx\n", n, queries,
	       (long long)total, (unsigned long long)checksum);

	free(wide);
	free(narrow.id);
	free(narrow.customer);
	free(narrow.time);
	free(narrow.product);
	free(narrow.quantity);
	free(narrow.price_cents);
	free(narrow.status);
	free(narrow.region);
	return 0;
}
