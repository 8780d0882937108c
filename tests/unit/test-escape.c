/* Unit tests of escape.c: the UTF-8 decoder, and every output syntax's
 * escaper fed the same hostile names (ill-formed UTF-8, controls, tab, DEL,
 * quotes, markup, "</script>", U+2028), each output checked by a parser of
 * its syntax written here, independently of the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "escape.h"
#include "util.h"

#define FFFD "\xef\xbf\xbd"

/* The names every escaper gets. */
static const char *const nasty[] = {
    "",
    "plain_name",
    "tab\there",
    "del\x7fhere",
    "nel\xc2\x85here",	      /* U+0085, a C1 control */
    "esc\x1b[31mred\x01\x1f", /* a terminal escape, C0 controls */
    "line\nbreak\r\nend",
    "quotes\"and'apostrophes",
    "back\\slash\\",
    "</script><!--<script>",
    "a&b<c>d&amp;",
    "pipe|star*under_tick`",
    "semi;colon%25:comma,",
    "\xf5\xf6\xf7\xf8\xfb\xfc\xfd\xfe\xff", /* bytes that never occur in UTF-8 */
    "over\xc0\x80long\xc1\xbf\xe0\x80\x80\xf0\x80\x80\x80",
    "sur\xed\xa0\x80rogate\xed\xbf\xbf",
    "big\xf4\x90\x80\x80", /* above U+10FFFF */
    "cut\xe2\x82",
    "cut\xf0\x9f\x98x",
    "\x80stray\xbf",
    "ls\xe2\x80\xa8ps\xe2\x80\xa9", /* U+2028, U+2029 */
    "nonchar\xef\xbf\xbe\xef\xbf\xbf",
    "ok \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 std::vector<int>::push_back",
};
#define NNASTY (sizeof(nasty) / sizeof(nasty[0]))

/* ---- an independent strict UTF-8 decoder (Unicode's table 3-7) ---- */

/* The code point at s (length *len), or -1 when s does not start with a
 * well-formed sequence. */
static int32_t strict_decode(const unsigned char *s, size_t *len)
{
	unsigned c = s[0];
	if (c < 0x80) {
		*len = 1;
		return (int32_t)c;
	}
	int n;
	uint32_t cp, min;
	if ((c & 0xe0) == 0xc0) {
		n = 2, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*len = (size_t)n;
	return (int32_t)cp;
}

static bool is_cc(int32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static void put_utf8(char **o, uint32_t cp)
{
	*o += utf8_encode(*o, cp);
}

/* Fails unless out is well-formed UTF-8 without a raw control character
 * other than those in allowed. */
static void check_text(const char *what, const char *in, const char *out, const char *allowed)
{
	for (const unsigned char *p = (const unsigned char *)out; *p;) {
		size_t n;
		int32_t cp = strict_decode(p, &n);
		if (cp < 0)
			fail_msg("%s of \"%s\": ill-formed UTF-8 at byte %zu of \"%s\"", what, in,
				 (size_t)(p - (const unsigned char *)out), out);
		if (is_cc(cp) && !(cp < 0x80 && strchr(allowed, cp)))
			fail_msg("%s of \"%s\": a raw control U+%04X in \"%s\"", what, in, (unsigned)cp, out);
		p += n;
	}
}

/* What an escaper writes: the whole output as a string. */
static char *capture(void (*fn)(FILE *, const char *), const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fn(f, s);
	fclose(f);
	return buf;
}

/* The sanitized input with every control character but those in keep
 * replaced by U+FFFD (and U+FFFE, U+FFFF when nonchar): what a syntax that
 * cannot carry them must show. */
static char *expected(const char *in, const char *keep, bool nonchar)
{
	char *out = malloc(3 * strlen(in) + 1), *o = out;
	for (const char *s = in; *s;) {
		uint32_t cp = utf8_decode(&s);
		if ((is_cc((int32_t)cp) && !(cp < 0x80 && strchr(keep, (int)cp))) ||
		    (nonchar && (cp == 0xfffe || cp == 0xffff)))
			cp = 0xfffd;
		put_utf8(&o, cp);
	}
	*o = 0;
	return out;
}

/* ---- JSON (RFC 8259), also valid as a JavaScript string literal ---- */

static int hexval(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

static int32_t hex4(const char *p)
{
	int32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval((unsigned char)p[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Parses out as one JSON string literal and returns its value (malloc'ed),
 * failing the test on anything a strict parser rejects. */
static char *json_parse_string(const char *in, const char *out)
{
	check_text("JSON", in, out, "");
	size_t len = strlen(out);
	if (len < 2 || out[0] != '"' || out[len - 1] != '"')
		fail_msg("JSON of \"%s\": not one string literal: %s", in, out);
	char *val = malloc(len + 1), *o = val;
	for (const char *p = out + 1; p < out + len - 1;) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			fail_msg("JSON of \"%s\": an unescaped quote in %s", in, out);
		if (c != '\\') {
			size_t n;
			int32_t cp = strict_decode((const unsigned char *)p, &n);
			if (cp == 0x2028 || cp == 0x2029)
				fail_msg("JSON of \"%s\": a raw U+%04X (a line break to JavaScript) in %s",
					 in, (unsigned)cp, out);
			memcpy(o, p, n);
			o += n;
			p += n;
			continue;
		}
		p++;
		const char *esc = strchr("\"\\/bfnrt", *p);
		if (*p && esc) {
			*o++ = "\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"];
			p++;
			continue;
		}
		int32_t cp = -1;
		if (*p != 'u' || (cp = hex4(p + 1)) < 0)
			fail_msg("JSON of \"%s\": a bad escape in %s", in, out);
		p += 5;
		if (cp >= 0xd800 && cp <= 0xdbff && p[0] == '\\' && p[1] == 'u') {
			int32_t lo = hex4(p + 2);
			if (lo >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			}
		}
		if (cp >= 0xd800 && cp <= 0xdfff)
			fail_msg("JSON of \"%s\": a lone surrogate escape in %s", in, out);
		put_utf8(&o, (uint32_t)cp);
	}
	*o = 0;
	return val;
}

static void test_json(void **state)
{
	(void)state;
	for (size_t i = 0; i < NNASTY; i++) {
		char *out = capture(json_write_escaped, nasty[i]);
		char *val = json_parse_string(nasty[i], out);
		/* JSON can carry every character: only ill-formed bytes change. */
		char *want = utf8_sanitize(nasty[i]);
		assert_string_equal(val, want);
		free(want);
		free(val);
		free(out);
	}
	char *out = capture(json_write_escaped, "a\x01\"\\<\t\x7f\xe2\x80\xa8");
	assert_string_equal(out, "\"a\\u0001\\\"\\\\<\\u0009\\u007f\\u2028\"");
	free(out);
}

/* ---- XML 1.0, as attribute text in either quote and as character data ---- */

static bool xml_char(int32_t cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
	       (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

static void test_xml(void **state)
{
	(void)state;
	for (size_t i = 0; i < NNASTY; i++) {
		const char *in = nasty[i];
		char *out = capture(xml_write_escaped, in);
		/* No raw control at all: a raw tab or line break in an attribute
		 * reads back as a space; DEL and C1 are discouraged. */
		check_text("XML", in, out, "");
		char *val = malloc(strlen(out) + 1), *o = val;
		for (const char *p = out; *p;) {
			size_t n;
			int32_t cp = strict_decode((const unsigned char *)p, &n);
			if (strchr("<>\"'", *p))
				fail_msg("XML of \"%s\": a raw '%c' in %s", in, *p, out);
			if (cp == 0xfffe || cp == 0xffff || !xml_char(cp))
				fail_msg("XML of \"%s\": U+%04X is not an XML character: %s", in,
					 (unsigned)cp, out);
			if (*p != '&') {
				memcpy(o, p, n);
				o += n;
				p += n;
				continue;
			}
			static const char *const ents[] = {"&lt;", "&gt;", "&amp;", "&quot;", "&apos;"};
			bool named = false;
			for (int k = 0; k < 5 && !named; k++)
				if (!strncmp(p, ents[k], strlen(ents[k]))) {
					*o++ = "<>&\"'"[k];
					p += strlen(ents[k]);
					named = true;
				}
			if (named)
				continue;
			char *end;
			long ref = p[1] != '#'	 ? -1
				   : p[2] == 'x' ? strtol(p + 3, &end, 16)
						 : strtol(p + 2, &end, 10);
			if (ref < 0 || *end != ';' || !xml_char((int32_t)ref))
				fail_msg("XML of \"%s\": a bad reference in %s", in, out);
			put_utf8(&o, (uint32_t)ref);
			p = end + 1;
		}
		*o = 0;
		/* Tab, line feed and carriage return are kept; the characters XML
		 * cannot carry become U+FFFD. */
		char *want = expected(in, "\t\n\r", true);
		assert_string_equal(val, want);
		free(want);
		free(val);
		free(out);
	}
	char *out = capture(xml_write_escaped, "a\x01\t\n<&>\"'\x7f\xef\xbf\xbe");
	assert_string_equal(out, "a" FFFD "&#9;&#10;&lt;&amp;&gt;&quot;&#39;" FFFD FFFD);
	free(out);
}

/* ---- text syntaxes read line by line: Markdown cells, workflow commands,
 * folded stacks ---- */

static void test_markdown(void **state)
{
	(void)state;
	for (size_t i = 0; i < NNASTY; i++) {
		const char *in = nasty[i];
		char *out = capture(md_write_escaped, in);
		check_text("Markdown", in, out, "");
		for (const char *p = out; *p; p++) {
			if (*p == '\\') {
				if (!p[1] || !strchr("|\\*_`", p[1]))
					fail_msg("Markdown of \"%s\": a stray backslash in %s", in, out);
				p++;
			} else if (strchr("|*_`<>", *p)) {
				fail_msg("Markdown of \"%s\": a raw '%c' in %s", in, *p, out);
			} else if (*p == '&' && strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) &&
				   strncmp(p, "&amp;", 5)) {
				fail_msg("Markdown of \"%s\": a raw '&' in %s", in, out);
			}
		}
		free(out);
	}
	char *out = capture(md_write_escaped, "a|b\tc\nd<T>&\x7f");
	assert_string_equal(out, "a\\|b c d&lt;T&gt;&amp;" FFFD);
	free(out);
}

static void gh_value(FILE *f, const char *s)
{
	gh_write_escaped(f, s, false);
}
static void gh_property(FILE *f, const char *s)
{
	gh_write_escaped(f, s, true);
}

static void test_github(void **state)
{
	(void)state;
	for (int prop = 0; prop < 2; prop++)
		for (size_t i = 0; i < NNASTY; i++) {
			const char *in = nasty[i];
			char *out = capture(prop ? gh_property : gh_value, in);
			check_text(prop ? "GitHub property" : "GitHub value", in, out, "");
			/* Percent-decoded, the value is the input with other controls as
			 * U+FFFD and tabs as spaces. */
			char *val = malloc(strlen(out) + 1), *o = val;
			for (const char *p = out; *p; p++) {
				if (prop && (*p == ':' || *p == ','))
					fail_msg("GitHub property of \"%s\": a raw '%c' in %s", in, *p, out);
				if (*p != '%') {
					*o++ = *p;
					continue;
				}
				if (hexval((unsigned char)p[1]) < 0 || hexval((unsigned char)p[2]) < 0)
					fail_msg("GitHub value of \"%s\": a bare '%%' in %s", in, out);
				*o++ = (char)(hexval((unsigned char)p[1]) << 4 | hexval((unsigned char)p[2]));
				p += 2;
			}
			*o = 0;
			char *want = expected(in, "\t\n\r", false);
			for (char *t = want; *t; t++)
				if (*t == '\t')
					*t = ' ';
			assert_string_equal(val, want);
			free(want);
			free(val);
			free(out);
		}
	char *out = capture(gh_property, "a%b:c,d\ne\xf5");
	assert_string_equal(out, "a%25b%3Ac%2Cd%0Ae" FFFD);
	free(out);
}

static void test_folded(void **state)
{
	(void)state;
	for (size_t i = 0; i < NNASTY; i++) {
		const char *in = nasty[i];
		char *out = capture(folded_write_escaped, in);
		check_text("folded frame", in, out, "");
		if (strchr(out, ';'))
			fail_msg("folded frame of \"%s\": a ';' in %s", in, out);
		free(out);
	}
	char *out = capture(folded_write_escaped, "a;b\tc\nd\x7f\xff");
	assert_string_equal(out, "a:b c d" FFFD FFFD);
	free(out);
}

/* ---- JSON inside an HTML <script> element ---- */

static void script_json(FILE *f, const char *s)
{
	FILE *esc = html_script_stream(f);
	assert_non_null(esc);
	struct json j;
	json_init(&j, esc, false);
	json_string(&j, NULL, s);
	assert_int_equal(fclose(esc), 0);
}

static void test_html_script(void **state)
{
	(void)state;
	for (size_t i = 0; i < NNASTY; i++) {
		char *out = capture(script_json, nasty[i]);
		/* Nothing that could end or confuse the script element. */
		if (strchr(out, '<'))
			fail_msg("script JSON of \"%s\": a raw '<' in %s", nasty[i], out);
		char *val = json_parse_string(nasty[i], out), *want = utf8_sanitize(nasty[i]);
		assert_string_equal(val, want);
		free(want);
		free(val);
		free(out);
	}
}

/* ---- the decoder ---- */

static void expect_clean(const char *in, const char *want)
{
	char *s = utf8_sanitize(in);
	assert_string_equal(s, want);
	assert_true(utf8_valid(s));
	assert_int_equal(utf8_valid(in), !strcmp(in, want));
	free(s);
	/* Every writer goes through the same decoder. */
	s = capture(xml_write_escaped, in);
	assert_string_equal(s, want);
	free(s);
	s = capture(json_write_escaped, in);
	assert_int_equal(strlen(s), strlen(want) + 2);
	assert_memory_equal(s + 1, want, strlen(want));
	free(s);
}

static void test_utf8(void **state)
{
	(void)state;
	/* Well-formed: 2-, 3- and 4-byte sequences, the highest code point
	 * (U+10FFFF, F4 8F BF BF), and a U+FFFD of the input's own. */
	expect_clean("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	expect_clean("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");
	expect_clean("x" FFFD "y", "x" FFFD "y");
	/* Overlongs: C0 and C1 never start a sequence; E0 80 80 is NUL in 3 bytes. */
	expect_clean("a\xc0\x80z", "a" FFFD FFFD "z");
	expect_clean("\xc1\xbf", FFFD FFFD);
	expect_clean("\xe0\x80\x80", FFFD FFFD FFFD);
	expect_clean("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD);
	/* A lone surrogate (U+D800), which JSON parsers and XML reject. */
	expect_clean("f\xed\xa0\x80g", "f" FFFD FFFD FFFD "g");
	expect_clean("\xed\x9f\xbf", "\xed\x9f\xbf"); /* U+D7FF, just below */
	/* Bytes that never occur in UTF-8, and beyond U+10FFFF. */
	expect_clean("\xf5", FFFD);
	expect_clean("\xff\xfe", FFFD FFFD);
	expect_clean("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
	/* Cut short: one U+FFFD for the valid prefix, and the next character kept. */
	expect_clean("\xe2\x82", FFFD);
	expect_clean("\xe2\x82x", FFFD "x");
	expect_clean("\xf0\x9f\x98", FFFD);
	expect_clean("\x80", FFFD);
	char buf[4];
	assert_int_equal(utf8_encode(buf, 0x10ffff), 4);
	assert_memory_equal(buf, "\xf4\x8f\xbf\xbf", 4);
	/* The decoder agrees with the independent one above on every input. */
	for (size_t i = 0; i < NNASTY; i++) {
		bool strict = true;
		for (const unsigned char *p = (const unsigned char *)nasty[i]; *p && strict;) {
			size_t n;
			strict = strict_decode(p, &n) >= 0;
			p += strict ? n : 0;
		}
		assert_int_equal(utf8_valid(nasty[i]), strict);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_utf8),	cmocka_unit_test(test_json),   cmocka_unit_test(test_xml),
	    cmocka_unit_test(test_markdown),	cmocka_unit_test(test_github), cmocka_unit_test(test_folded),
	    cmocka_unit_test(test_html_script),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
