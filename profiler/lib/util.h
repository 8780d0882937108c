/* Small helpers every output shares: human-readable numbers, the one UTF-8
 * validator that every writer's escaping goes through, and a JSON writer. */
#ifndef FATHOM_UTIL_H
#define FATHOM_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* "1.5 MiB", "812 B": into buf (at least 32 bytes); returns buf. */
char *fmt_bytes(char *buf, int64_t bytes);
/* "1,234,567": into buf (at least 32 bytes); returns buf. */
char *fmt_count(char *buf, int64_t n);
/* "1.23 s", "45.6 ms": into buf (at least 32 bytes); returns buf. */
char *fmt_duration(char *buf, uint64_t ns);

/* Decodes the UTF-8 sequence at *s (NUL-terminated) and moves *s past it.
 * An ill-formed sequence (a stray continuation byte, an overlong form such as
 * C0 80, a surrogate such as ED A0 80, a code point above U+10FFFF, a byte
 * F5-FF, a sequence cut short) gives U+FFFD and moves past its longest valid
 * prefix, as Unicode recommends, so that no writer ever emits text a strict
 * parser rejects (function names come from any binary, and may hold any
 * bytes). Never reads past the terminating NUL. */
uint32_t utf8_decode(const char **s);
/* Writes code point cp as UTF-8 into buf (at least 4 bytes); returns its length. */
size_t utf8_encode(char *buf, uint32_t cp);
/* True when all of s is well-formed UTF-8. */
bool utf8_valid(const char *s);
/* A copy of s with every ill-formed sequence replaced by U+FFFD (malloc'ed;
 * NULL when out of memory). */
char *utf8_sanitize(const char *s);

/* A new string formatted as by printf, or NULL when out of memory. */
char *str_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* Writes s as XML character data or attribute text: markup escaped, every
 * character XML 1.0 forbids (controls other than tab, line feed and carriage
 * return; U+FFFE, U+FFFF) and every ill-formed sequence as U+FFFD. */
void xml_write_escaped(FILE *f, const char *s);

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
/* Writes s as a JSON string literal (quotes included), escaping as needed;
 * ill-formed UTF-8 becomes U+FFFD (see utf8_decode). */
void json_write_escaped(FILE *f, const char *s);

#endif
