/* Sample "churn": summarising web-server log records, copying every field and
 * every normalised path into a fresh heap block that is freed at once (slow),
 * against parsing in place with one scratch buffer reused across records (fast).
 * Practice: do not allocate in the inner loop; reuse. The slow profile shows
 * millions of allocation calls, nearly all temporary, from field_copy and
 * path_normalize_alloc. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

struct summary {
	uint64_t bytes_by_class[6]; /* by status / 100 */
	uint64_t path_hash, records;
};

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* A path's shape: lowercase, every run of digits one '#', so /Item/123 and
 * /item/9 count as one. Writes at most n + 1 bytes to out. */
static size_t path_shape(const char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (isdigit((unsigned char)in[i])) {
			if (o == 0 || out[o - 1] != '#')
				out[o++] = '#';
		} else {
			out[o++] = (char)tolower((unsigned char)in[i]);
		}
	}
	out[o] = '\0';
	return o;
}

static void account(struct summary *s, long status, long bytes)
{
	s->records++;
	if (status >= 100 && status < 600)
		s->bytes_by_class[status / 100] += (uint64_t)bytes;
	s->path_hash = s->path_hash * 31 + (uint64_t)status;
}

/* The convenient way: each field becomes a string of its own. */
__attribute__((noinline)) static char *field_copy(const char *start, size_t len)
{
	char *f = malloc(len + 1);
	if (!f) {
		perror("churn: malloc");
		exit(1);
	}
	memcpy(f, start, len);
	f[len] = '\0';
	return f;
}

__attribute__((noinline)) static char *path_normalize_alloc(const char *path, size_t *len)
{
	char *out = malloc(strlen(path) + 1);
	if (!out) {
		perror("churn: malloc");
		exit(1);
	}
	*len = path_shape(path, strlen(path), out);
	return out;
}

/* Fields: METHOD PATH STATUS BYTES. Every field and the shape are allocated,
 * used once and freed before the next is made: temporaries, one after another. */
__attribute__((noinline)) static void summarize_with_copies(struct summary *s, const char *rec)
{
	const char *p = rec;
	long status = 0, bytes = 0;
	for (int field = 0; field < 4; field++) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *f = field_copy(p, len);
		if (field == 1) {
			size_t shape_len;
			char *shape = path_normalize_alloc(f, &shape_len);
			s->path_hash = fnv(s->path_hash, shape, shape_len);
			free(shape);
		} else if (field == 2) {
			status = strtol(f, NULL, 10);
		} else if (field == 3) {
			bytes = strtol(f, NULL, 10);
		}
		free(f);
		p = end ? end + 1 : p + len;
	}
	account(s, status, bytes);
}

/* The same fields found in place; the shape goes into a scratch buffer that
 * grows only when a longer path arrives, and lives for the whole run. */
__attribute__((noinline)) static void summarize_in_place(struct summary *s, const char *rec, char **scratch,
							 size_t *cap)
{
	const char *path = strchr(rec, ' ') + 1;
	const char *path_end = strchr(path, ' ');
	size_t len = (size_t)(path_end - path);
	if (len + 1 > *cap) {
		*cap = 2 * (len + 1);
		free(*scratch);
		*scratch = malloc(*cap);
		if (!*scratch) {
			perror("churn: malloc");
			exit(1);
		}
	}
	size_t shape_len = path_shape(path, len, *scratch);
	s->path_hash = fnv(s->path_hash, *scratch, shape_len);
	char *end;
	long status = strtol(path_end + 1, &end, 10);
	long bytes = strtol(end + 1, NULL, 10);
	account(s, status, bytes);
}

int main(int argc, char **argv)
{
	static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
	static const char *const paths[] = {"/api/v1/Items/%u", "/static/img/%u.png", "/Users/%u/profile",
					    "/search?q=%u&page=2", "/api/v1/orders/%u/lines/%u"};
	static const int statuses[] = {200, 200, 200, 201, 204, 301, 304, 404, 500};
	int fast = sample_way(argc, argv, "[RECORDS]  (default 1500000)");
	long nrec = sample_arg(argc, argv, 2, 1500000, 1L << 40);

	/* A pool of distinct records, made once and cycled through, so that the
	 * run's time goes to the summarising, not to making up input. */
	enum { POOL = 4096 };
	static char pool[POOL][96];
	unsigned long long seed = 13;
	for (int i = 0; i < POOL; i++) {
		uint64_t r = sample_rand(&seed);
		char path[64];
		snprintf(path, sizeof path, paths[r % 5], (unsigned)(r >> 8) % 100000,
			 (unsigned)(r >> 40) % 100);
		snprintf(pool[i], sizeof pool[i], "%s %s %d %u", methods[(r >> 4) % 4], path,
			 statuses[(r >> 24) % 9], (unsigned)(r >> 32) % 65536);
	}

	struct summary s = {.path_hash = 1469598103934665603ULL};
	char *scratch = NULL;
	size_t cap = 0;
	for (long i = 0; i < nrec; i++) {
		if (fast)
			summarize_in_place(&s, pool[i % POOL], &scratch, &cap);
		else
			summarize_with_copies(&s, pool[i % POOL]);
	}
	free(scratch);
	printf("churn: %llu records, 2xx %llu B, 3xx %llu B, 4xx %llu B, 5xx %llu B, paths %016llx\n",
	       (unsigned long long)s.records, (unsigned long long)s.bytes_by_class[2],
	       (unsigned long long)s.bytes_by_class[3], (unsigned long long)s.bytes_by_class[4],
	       (unsigned long long)s.bytes_by_class[5], (unsigned long long)s.path_hash);
	return 0;
}
