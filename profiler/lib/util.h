/* Small helpers every output shares: human-readable numbers and a JSON
 * writer (its strings escaped by escape.h, which every output includes
 * through this header). */
#ifndef FATHOM_UTIL_H
#define FATHOM_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "escape.h"

/* "1.5 MiB", "812 B": into buf (at least 32 bytes); returns buf. */
char *fmt_bytes(char *buf, int64_t bytes);
/* "1,234,567": into buf (at least 32 bytes); returns buf. */
char *fmt_count(char *buf, int64_t n);
/* "1.23 s", "45.6 ms": into buf (at least 32 bytes); returns buf. */
char *fmt_duration(char *buf, uint64_t ns);

/* Parses "64M", "1.5G", "4096", "10k" (powers of 1024) into bytes; -1 if bad. */
long long parse_size(const char *s);

/* A new string formatted as by printf, or NULL when out of memory. */
char *str_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* The bytes as lower-case hex (a build id), into buf of 2 * n + 1 bytes;
 * returns buf. */
char *hex_string(char *buf, const uint8_t *bytes, size_t n);
/* "SIGTERM" for 15 (or "signal N"), into buf of n bytes. */
const char *signal_name(char *buf, size_t n, int sig);
/* Makes room for need elements in a growing array of *cap (doubling, from
 * 64). Returns 0 or -ENOMEM (the array intact). */
int grow_array(void **arr, size_t *cap, size_t need, size_t size);
#define GROW(arr, cap, need) grow_array((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* A binary max-heap of n numbers in h (room for one more to push): the
 * largest at h[0]. */
void u32_maxheap_push(uint32_t *h, size_t *n, uint32_t v);
void u32_maxheap_pop(uint32_t *h, size_t *n);

/* A streaming JSON writer. Inside an object every value takes a key; inside an
 * array the key is NULL. Output is compact unless pretty is set. */
struct json {
	FILE *f;
	bool pretty;
	int depth;
	bool first[64];
};
void json_init(struct json *j, FILE *f, bool pretty);
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *s); /* NULL writes null */
void json_int(struct json *j, const char *key, int64_t v);
void json_uint(struct json *j, const char *key, uint64_t v);
void json_double(struct json *j, const char *key, double v);
void json_bool(struct json *j, const char *key, bool v);
void json_null(struct json *j, const char *key);
#endif
