/* Sample "memo": answering many Fibonacci queries by naive recursion (slow)
 * against a memo table kept across queries (fast). Practice: cache what you
 * would otherwise recompute. The slow profile is all fib_naive. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"

/* One answered query, kept in a list until the report is printed: this is the
 * program's ordinary heap activity, the same in both ways. */
struct answer {
	struct answer *next;
	unsigned n;
	uint64_t value;
	char *text;
};

/* The recursion recomputes every subproblem: fib_naive(n) makes about
 * 2*fib(n) calls. noinline so the profile names it. */
__attribute__((noinline)) static uint64_t fib_naive(unsigned n)
{
	if (n < 2)
		return n;
	return fib_naive(n - 1) + fib_naive(n - 2);
}

/* The memo table, grown on demand: known[i] says whether value[i] is filled. */
struct memo {
	uint64_t *value;
	unsigned char *known;
	unsigned cap;
};

__attribute__((noinline)) static void memo_grow(struct memo *m, unsigned n)
{
	unsigned cap = m->cap ? m->cap : 16;
	while (cap <= n)
		cap *= 2;
	uint64_t *v = realloc(m->value, cap * sizeof *v);
	unsigned char *k = realloc(m->known, cap);
	if (!v || !k) {
		perror("memo: realloc");
		exit(1);
	}
	for (unsigned i = m->cap; i < cap; i++)
		k[i] = 0;
	m->value = v;
	m->known = k;
	m->cap = cap;
}

/* Each subproblem is solved once and remembered for every later query. */
__attribute__((noinline)) static uint64_t fib_memo(struct memo *m, unsigned n)
{
	if (n >= m->cap)
		memo_grow(m, n);
	if (m->known[n])
		return m->value[n];
	uint64_t v = n < 2 ? n : fib_memo(m, n - 1) + fib_memo(m, n - 2);
	m->value[n] = v;
	m->known[n] = 1;
	return v;
}

__attribute__((noinline)) static struct answer *answer_new(unsigned n, uint64_t value)
{
	struct answer *a = malloc(sizeof *a);
	char buf[64];
	int len = snprintf(buf, sizeof buf, "fib(%u) = %llu", n, (unsigned long long)value);
	if (!a || !(a->text = malloc((size_t)len + 1))) {
		perror("memo: malloc");
		exit(1);
	}
	memcpy(a->text, buf, (size_t)len + 1);
	a->n = n;
	a->value = value;
	a->next = NULL;
	return a;
}

int main(int argc, char **argv)
{
	int fast = sample_way(argc, argv, "[QUERIES [MAX_N]]  (defaults 300 33)");
	long queries = sample_arg(argc, argv, 2, 300, 100000000);
	long max_n = sample_arg(argc, argv, 3, 33, 90);

	struct memo memo = {0};
	struct answer *head = NULL, **tail = &head;
	unsigned long long seed = 7;
	for (long q = 0; q < queries; q++) {
		/* Queries cluster in the 8 values below MAX_N, as real ones tend to. */
		unsigned n =
		    (unsigned)(max_n - (long)(sample_rand(&seed) % (max_n < 8 ? (unsigned long)max_n : 8)));
		uint64_t v = fast ? fib_memo(&memo, n) : fib_naive(n);
		*tail = answer_new(n, v);
		tail = &(*tail)->next;
	}

	uint64_t sum = 0, hash = 1469598103934665603ULL;
	long count = 0;
	while (head) {
		struct answer *a = head;
		sum += a->value;
		for (const char *c = a->text; *c; c++)
			hash = (hash ^ (unsigned char)*c) * 1099511628211ULL;
		count++;
		head = a->next;
		free(a->text);
		free(a);
	}
	free(memo.value);
	free(memo.known);
	printf("memo: %ld queries, sum %llu, checksum %016llx\n", count, (unsigned long long)sum,
	       (unsigned long long)hash);
	return 0;
}
