/* Human-readable numbers, UTF-8 validation and escaping, and the streaming
 * JSON writer shared by all outputs. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

char *fmt_bytes(char *buf, int64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	int u = 0;
	while ((v >= 1024 || v <= -1024) && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 32, "%" PRId64 " B", bytes);
	else
		snprintf(buf, 32, "%.*f %s", fabs(v) < 10 ? 2 : fabs(v) < 100 ? 1 : 0, v, units[u]);
	return buf;
}

char *fmt_count(char *buf, int64_t n)
{
	char tmp[32];
	int len = snprintf(tmp, sizeof(tmp), "%" PRIu64, (uint64_t)(n < 0 ? -(uint64_t)n : (uint64_t)n));
	char *o = buf;
	if (n < 0)
		*o++ = '-';
	for (int i = 0; i < len; i++) {
		*o++ = tmp[i];
		if ((len - i - 1) % 3 == 0 && i != len - 1)
			*o++ = ',';
	}
	*o = 0;
	return buf;
}

char *fmt_duration(char *buf, uint64_t ns)
{
	if (ns >= 1000000000ull)
		snprintf(buf, 32, "%.2f s", ns / 1e9);
	else if (ns >= 1000000ull)
		snprintf(buf, 32, "%.1f ms", ns / 1e6);
	else if (ns >= 1000ull)
		snprintf(buf, 32, "%.1f us", ns / 1e3);
	else
		snprintf(buf, 32, "%" PRIu64 " ns", ns);
	return buf;
}

void json_init(struct json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
	j->first[0] = true;
}

uint32_t utf8_decode(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	unsigned c = p[0];
	if (c < 0x80) {
		*s += 1;
		return c;
	}
	/* The well-formed sequences of Unicode's table 3-7: the second byte's
	 * range depends on the first, which rules out overlongs (E0 80..9F,
	 * F0 80..8F), surrogates (ED A0..BF) and code points past U+10FFFF
	 * (F4 90..BF). */
	unsigned lo = 0x80, hi = 0xbf;
	int more;
	uint32_t cp;
	if (c >= 0xc2 && c <= 0xdf) {
		more = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		more = 2;
		cp = c & 0x0f;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
	} else if (c >= 0xf0 && c <= 0xf4) {
		more = 3;
		cp = c & 0x07;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
	} else {
		/* 80-BF without a lead, C0 and C1 (overlong leads), F5-FF. */
		*s += 1;
		return 0xfffd;
	}
	for (int i = 1; i <= more; i++) {
		unsigned b = p[i]; /* the NUL ends a cut sequence: it is below lo */
		if (b < lo || b > hi) {
			*s += i;
			return 0xfffd;
		}
		lo = 0x80;
		hi = 0xbf;
		cp = cp << 6 | (b & 0x3f);
	}
	*s += more + 1;
	return cp;
}

size_t utf8_encode(char *buf, uint32_t cp)
{
	unsigned char *b = (unsigned char *)buf;
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (unsigned char)(0xf0 | cp >> 18);
	b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

bool utf8_valid(const char *s)
{
	while (*s) {
		const char *at = s;
		/* A U+FFFD in the input is well-formed: only one made by the
		 * decoder (from anything but EF BF BD) is not. */
		if (utf8_decode(&s) == 0xfffd && (s - at != 3 || memcmp(at, "\xef\xbf\xbd", 3)))
			return false;
	}
	return true;
}

char *utf8_sanitize(const char *s)
{
	/* U+FFFD takes 3 bytes and replaces at least one. */
	char *out = malloc(3 * strlen(s) + 1), *o = out;
	if (!out)
		return NULL;
	while (*s)
		o += utf8_encode(o, utf8_decode(&s));
	*o = 0;
	return out;
}

/* Copies the well-formed character that starts at *s to f (or U+FFFD for an
 * ill-formed one) and returns its code point. */
static uint32_t put_char(FILE *f, const char **s, bool xml)
{
	char buf[4];
	uint32_t cp = utf8_decode(s);
	if (xml && ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xfffe || cp == 0xffff))
		cp = 0xfffd;
	if (cp < 0x80)
		putc((int)cp, f);
	else
		fwrite(buf, 1, utf8_encode(buf, cp), f);
	return cp;
}

void xml_write_escaped(FILE *f, const char *s)
{
	while (s && *s) {
		const char *ent = *s == '<'    ? "&lt;"
				  : *s == '>'  ? "&gt;"
				  : *s == '&'  ? "&amp;"
				  : *s == '"'  ? "&quot;"
				  : *s == '\'' ? "&#39;"
					       : NULL;
		if (ent) {
			fputs(ent, f);
			s++;
		} else {
			put_char(f, &s, true);
		}
	}
}

void json_write_escaped(FILE *f, const char *s)
{
	putc('"', f);
	while (*s) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			putc('\\', f);
			putc(c, f);
			s++;
		} else if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
			s++;
		} else {
			put_char(f, &s, false);
		}
	}
	putc('"', f);
}

static void json_key(struct json *j, const char *key)
{
	if (!j->first[j->depth])
		putc(',', j->f);
	j->first[j->depth] = false;
	if (j->pretty && j->depth > 0) {
		putc('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	if (key) {
		json_write_escaped(j->f, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void json_open(struct json *j, const char *key, int c)
{
	json_key(j, key);
	putc(c, j->f);
	if (j->depth < 63)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, int c)
{
	bool empty = j->first[j->depth];
	if (j->depth > 0)
		j->depth--;
	if (j->pretty && !empty) {
		putc('\n', j->f);
		for (int i = 0; i < j->depth; i++)
			fputs("  ", j->f);
	}
	putc(c, j->f);
	if (j->depth == 0 && j->pretty)
		putc('\n', j->f);
}

void json_object_begin(struct json *j, const char *key) { json_open(j, key, '{'); }
void json_object_end(struct json *j) { json_close(j, '}'); }
void json_array_begin(struct json *j, const char *key) { json_open(j, key, '['); }
void json_array_end(struct json *j) { json_close(j, ']'); }

void json_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	if (s)
		json_write_escaped(j->f, s);
	else
		fputs("null", j->f);
}

void json_int(struct json *j, const char *key, int64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void json_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void json_double(struct json *j, const char *key, double v)
{
	json_key(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.15g", v);
	else
		fputs("null", j->f);
}

void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->f);
}

char *str_fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = NULL;
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}
