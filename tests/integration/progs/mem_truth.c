/* A multi-threaded program whose heap facts are known exactly: it writes, as
 * JSON, the allocation calls, bytes, temporaries, leaks and bytes held at the
 * heap peak of each of its mem_truth_* functions, for test-mem-truth.sh to
 * compare with 'fathom mem --json'. Producer and consumer threads free each
 * other's buffers, and addresses are reused across threads constantly.
 *
 * Temporaries follow fathom's definition: a block freed by the thread that
 * allocated it, with no other allocation by that thread in between. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
/* Keeps the compiler from removing a malloc/free pair whose memory is unused. */
#define ESCAPE(p) __asm__ volatile("" : : "r"(p) : "memory")

enum { F_SMALL, F_GROW, F_CALLOC, F_ALIGNED, F_PRODUCE, F_CONSUME, F_LEAK, F_LEAK_BIG, F_BULK, F_PEAK, NF };
static const char *const fname[NF] = {
    "mem_truth_small",	 "mem_truth_grow", "mem_truth_calloc",	 "mem_truth_aligned", "mem_truth_produce",
    "mem_truth_consume", "mem_truth_leak", "mem_truth_leak_big", "mem_truth_bulk",    "mem_truth_peak",
};

struct fact {
	uint64_t calls, bytes, temp, leaked_bytes, leaked_blocks, peak_bytes;
};
static struct fact facts[NF];
static pthread_mutex_t facts_lock = PTHREAD_MUTEX_INITIALIZER;

static void add(int f, uint64_t calls, uint64_t bytes, uint64_t temp)
{
	pthread_mutex_lock(&facts_lock);
	facts[f].calls += calls;
	facts[f].bytes += bytes;
	facts[f].temp += temp;
	pthread_mutex_unlock(&facts_lock);
}

static void add_leak(int f, uint64_t bytes, uint64_t blocks)
{
	pthread_mutex_lock(&facts_lock);
	facts[f].leaked_bytes += bytes;
	facts[f].leaked_blocks += blocks;
	pthread_mutex_unlock(&facts_lock);
}

/* 1000 allocate-and-free pairs: all temporaries. */
NOINLINE static void mem_truth_small(void)
{
	for (int i = 0; i < 1000; i++) {
		char *p = malloc(32);
		ESCAPE(p);
		free(p);
	}
	add(F_SMALL, 1000, 32000, 1000);
}

/* malloc(16) grown by ten reallocs, then freed: the block the last realloc
 * returned is a temporary; blocks released by realloc are not. */
NOINLINE static void mem_truth_grow(void)
{
	uint64_t bytes = 0;
	for (int i = 0; i < 50; i++) {
		char *p = malloc(16);
		bytes += 16;
		ESCAPE(p);
		for (int k = 1; k <= 10; k++) {
			p = realloc(p, (size_t)16 << k);
			bytes += (uint64_t)16 << k;
			ESCAPE(p);
		}
		free(p);
	}
	add(F_GROW, 50 * 11, bytes, 50);
}

/* 100 callocs kept, then freed newest first: only the newest is a temporary. */
NOINLINE static void mem_truth_calloc(void)
{
	void *v[100];
	for (int i = 0; i < 100; i++) {
		v[i] = calloc(10, 12);
		ESCAPE(v[i]);
	}
	for (int i = 99; i >= 0; i--)
		free(v[i]);
	add(F_CALLOC, 100, 100 * 120, 1);
}

NOINLINE static void mem_truth_aligned(void)
{
	for (int i = 0; i < 20; i++) {
		void *p;
		if (posix_memalign(&p, 64, 100) != 0)
			abort();
		ESCAPE(p);
		free(p);
	}
	for (int i = 0; i < 20; i++) {
		void *p = aligned_alloc(64, 128);
		ESCAPE(p);
		free(p);
	}
	add(F_ALIGNED, 40, 20 * 100 + 20 * 128, 40);
}

NOINLINE static void mem_truth_leak(int n, size_t size)
{
	for (int i = 0; i < n; i++) {
		void *p = malloc(size);
		ESCAPE(p);
	}
	add(F_LEAK, (uint64_t)n, (uint64_t)n * size, 0);
	add_leak(F_LEAK, (uint64_t)n * size, (uint64_t)n);
}

NOINLINE static void mem_truth_leak_big(void)
{
	for (int i = 0; i < 2; i++) {
		void *p = malloc(256 << 10);
		ESCAPE(p);
	}
	add(F_LEAK_BIG, 2, 2 << 18, 0);
	add_leak(F_LEAK_BIG, 2 << 18, 2);
}

/* ---- producer and consumer: each frees the other's buffers ---- */

#define QCAP 64
struct queue {
	void *item[QCAP];
	size_t size[QCAP];
	unsigned head, tail;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static void q_init(struct queue *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
}

static void q_put(struct queue *q, void *p, size_t size)
{
	pthread_mutex_lock(&q->lock);
	while (q->tail - q->head == QCAP)
		pthread_cond_wait(&q->cond, &q->lock);
	q->item[q->tail % QCAP] = p;
	q->size[q->tail % QCAP] = size;
	q->tail++;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

static void *q_get(struct queue *q, size_t *size)
{
	pthread_mutex_lock(&q->lock);
	while (q->tail == q->head)
		pthread_cond_wait(&q->cond, &q->lock);
	void *p = q->item[q->head % QCAP];
	*size = q->size[q->head % QCAP];
	q->head++;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return p;
}

struct pair {
	struct queue to_consumer, to_producer;
};

#define NITEMS 5000

/* The producer allocates buffers for the consumer to free, and frees the
 * consumer's replies. */
NOINLINE static void mem_truth_produce(struct pair *pr)
{
	uint64_t bytes = 0;
	int replies = 0;
	for (int i = 0; i < NITEMS; i++) {
		size_t size = 100 + (size_t)(i % 50);
		char *p = malloc(size);
		ESCAPE(p);
		bytes += size;
		q_put(&pr->to_consumer, p, size);
		/* Free the replies that have arrived, without waiting for them all. */
		pthread_mutex_lock(&pr->to_producer.lock);
		bool ready = pr->to_producer.tail != pr->to_producer.head;
		pthread_mutex_unlock(&pr->to_producer.lock);
		if (ready) {
			size_t rs;
			free(q_get(&pr->to_producer, &rs));
			replies++;
		}
	}
	q_put(&pr->to_consumer, NULL, 0);
	while (replies < NITEMS) {
		size_t rs;
		free(q_get(&pr->to_producer, &rs));
		replies++;
	}
	add(F_PRODUCE, NITEMS, bytes, 0);
}

/* The consumer frees each buffer and answers with one of the same size,
 * which malloc likely serves from the address it just freed. */
NOINLINE static void mem_truth_consume(struct pair *pr)
{
	uint64_t bytes = 0, n = 0;
	for (;;) {
		size_t size;
		char *p = q_get(&pr->to_consumer, &size);
		if (!p)
			break;
		free(p);
		char *r = malloc(size);
		ESCAPE(r);
		bytes += size;
		n++;
		q_put(&pr->to_producer, r, size);
	}
	add(F_CONSUME, n, bytes, 0);
}

static void *producer_main(void *arg)
{
	mem_truth_produce(arg);
	mem_truth_leak(3, 333);
	return NULL;
}

static void *consumer_main(void *arg)
{
	mem_truth_consume(arg);
	return NULL;
}

/* Many allocate-and-free pairs of mixed sizes, from two threads at once:
 * the volume that sampled mode estimates from. */
#define NBULK 100000
NOINLINE static void mem_truth_bulk(void)
{
	uint64_t bytes = 0;
	for (int i = 0; i < NBULK; i++) {
		size_t size = 16 + (size_t)(i * 37) % 2000;
		char *p = malloc(size);
		ESCAPE(p);
		free(p);
		bytes += size;
	}
	add(F_BULK, NBULK, bytes, NBULK);
}

static void *bulk_main(void *arg)
{
	(void)arg;
	mem_truth_bulk();
	return NULL;
}

/* The heap peak: sixteen 1 MiB blocks held at once, on top of the leaks. */
NOINLINE static void mem_truth_peak(void)
{
	void *v[16];
	for (int i = 0; i < 16; i++) {
		v[i] = malloc(1 << 20);
		ESCAPE(v[i]);
	}
	for (int i = 0; i < 16; i++)
		free(v[i]);
	/* Freed oldest first: the newest block is freed with no allocation
	 * after it, so it is a temporary. */
	add(F_PEAK, 16, 16 << 20, 1);
	facts[F_PEAK].peak_bytes = 16 << 20;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mem_truth FACTS.json\n");
		return 2;
	}
	mem_truth_small();
	mem_truth_grow();
	mem_truth_calloc();
	mem_truth_aligned();

	struct pair pairs[2];
	pthread_t th[4];
	for (int i = 0; i < 2; i++) {
		q_init(&pairs[i].to_consumer);
		q_init(&pairs[i].to_producer);
		pthread_create(&th[2 * i], NULL, producer_main, &pairs[i]);
		pthread_create(&th[2 * i + 1], NULL, consumer_main, &pairs[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, bulk_main, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);

	mem_truth_leak(7, 1000);
	mem_truth_leak_big();
	/* Everything leaked so far is live at the peak. */
	facts[F_LEAK].peak_bytes = facts[F_LEAK].leaked_bytes;
	facts[F_LEAK_BIG].peak_bytes = facts[F_LEAK_BIG].leaked_bytes;
	mem_truth_peak();

	FILE *f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "{");
	for (int i = 0; i < NF; i++)
		fprintf(f,
			"%s\"%s\": {\"calls\": %llu, \"bytes\": %llu, \"temp_calls\": %llu, "
			"\"leaked_bytes\": %llu, "
			"\"leaked_blocks\": %llu, \"peak_bytes\": %llu}",
			i ? ", " : "", fname[i], (unsigned long long)facts[i].calls,
			(unsigned long long)facts[i].bytes, (unsigned long long)facts[i].temp,
			(unsigned long long)facts[i].leaked_bytes, (unsigned long long)facts[i].leaked_blocks,
			(unsigned long long)facts[i].peak_bytes);
	fprintf(f, "}\n");
	fclose(f);
	printf("mem_truth: done\n");
	return 0;
}
