/* The UTF-8 decoder and the escaper of each output syntax (see escape.h). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

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

/* Unicode's control characters (general category Cc). */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static void put_cp(FILE *f, uint32_t cp)
{
	char buf[4];
	if (cp < 0x80)
		putc((int)cp, f);
	else
		fwrite(buf, 1, utf8_encode(buf, cp), f);
}

void json_write_escaped(FILE *f, const char *s)
{
	putc('"', f);
	while (s && *s) {
		uint32_t cp = utf8_decode(&s);
		if (cp == '"' || cp == '\\') {
			putc('\\', f);
			putc((int)cp, f);
		} else if (is_control(cp) || cp == 0x2028 || cp == 0x2029) {
			fprintf(f, "\\u%04x", (unsigned)cp);
		} else {
			put_cp(f, cp);
		}
	}
	putc('"', f);
}

void xml_write_escaped(FILE *f, const char *s)
{
	while (s && *s) {
		uint32_t cp = utf8_decode(&s);
		switch (cp) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		case '\t':
		case '\n':
		case '\r':
			fprintf(f, "&#%u;", (unsigned)cp);
			break;
		default:
			put_cp(f, is_control(cp) || cp == 0xfffe || cp == 0xffff ? 0xfffd : cp);
		}
	}
}

/* A tab or line break as a space, any other control as U+FFFD: for the
 * syntaxes that are read line by line and have no escape for them. */
static uint32_t text_char(uint32_t cp)
{
	if (cp == '\t' || cp == '\n' || cp == '\r')
		return ' ';
	return is_control(cp) ? 0xfffd : cp;
}

void md_write_escaped(FILE *f, const char *s)
{
	while (s && *s) {
		uint32_t cp = text_char(utf8_decode(&s));
		if (cp == '|' || cp == '\\' || cp == '*' || cp == '_' || cp == '`') {
			putc('\\', f);
			putc((int)cp, f);
		} else if (cp == '<') {
			fputs("&lt;", f);
		} else if (cp == '>') {
			fputs("&gt;", f);
		} else if (cp == '&') {
			fputs("&amp;", f);
		} else {
			put_cp(f, cp);
		}
	}
}

void gh_write_escaped(FILE *f, const char *s, bool property)
{
	while (s && *s) {
		uint32_t cp = utf8_decode(&s);
		if (cp == '%' || cp == '\r' || cp == '\n' || (property && (cp == ':' || cp == ',')))
			fprintf(f, "%%%02X", (unsigned)cp);
		else
			put_cp(f, text_char(cp));
	}
}

void folded_write_escaped(FILE *f, const char *s)
{
	while (s && *s) {
		uint32_t cp = text_char(utf8_decode(&s));
		put_cp(f, cp == ';' ? ':' : cp);
	}
}

static ssize_t script_write(void *cookie, const char *buf, size_t len)
{
	FILE *out = cookie;
	size_t start = 0;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '<') {
			if (fwrite(buf + start, 1, i - start, out) != i - start || fputs("\\u003c", out) < 0)
				return -1;
			start = i + 1;
		}
	if (fwrite(buf + start, 1, len - start, out) != len - start)
		return -1;
	return (ssize_t)len;
}

FILE *html_script_stream(FILE *f)
{
	return fopencookie(f, "w", (cookie_io_functions_t){.write = script_write});
}
