/* Unit tests of jitmap.c: the parsing of perf map lines (garbage counted,
 * 0x optional, names with spaces) and the rule that the later line wins
 * where ranges overlap, checked against a brute-force scan of random maps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fathom-dump.h"
#include "jitmap.h"

static char g_warn[4][640];
static int g_nwarn;

static void collect(void *arg, const char *msg)
{
	(void)arg;
	if (g_nwarn < 4)
		snprintf(g_warn[g_nwarn], sizeof(g_warn[0]), "%s", msg);
	g_nwarn++;
}

static void text(struct jitmap *j, const char *s)
{
	struct rd_rec r;
	memset(&r, 0, sizeof(r));
	r.kind = FD_REC_PERFMAP;
	r.what = FD_PERFMAP_TEXT;
	r.name = (struct rd_bytes){(const uint8_t *)s, strlen(s)};
	assert_int_equal(jitmap_record(j, &r, 42, collect, NULL), 0);
}

static void file(struct jitmap *j, unsigned state)
{
	struct rd_rec r;
	memset(&r, 0, sizeof(r));
	r.kind = FD_REC_PERFMAP;
	r.what = FD_PERFMAP_FILE;
	r.perfmap.state = state;
	r.path = (struct rd_bytes){(const uint8_t *)"/tmp/perf-42.map", 16};
	assert_int_equal(jitmap_record(j, &r, 42, collect, NULL), 0);
}

static void test_lines(void **state)
{
	(void)state;
	struct jitmap *j = jitmap_new();
	g_nwarn = 0;
	text(j, "1000 100 first fn with spaces\n"
		"garbage\n"
		"0x2000 0x10 LazyCompile:*f /a b.js:1\r\n"
		"\n"
		"3000 zz bad_size\n"
		"ffffffffffffffff 2 overflow\n"
		"4000 0 empty\n"
		"5000 10\n");
	text(j, "6000 10 second_record\n");
	file(j, FD_PERFMAP_OURS);
	assert_int_equal(g_nwarn, 1);
	assert_non_null(strstr(g_warn[0], "4 lines not of the form"));
	assert_non_null(strstr(g_warn[0], "\"garbage\""));
	assert_string_equal(jitmap_lookup(j, 0x1000), "first fn with spaces");
	assert_string_equal(jitmap_lookup(j, 0x10ff), "first fn with spaces");
	assert_null(jitmap_lookup(j, 0x1100));
	assert_string_equal(jitmap_lookup(j, 0x200f), "LazyCompile:*f /a b.js:1");
	assert_null(jitmap_lookup(j, 0x3000));
	assert_null(jitmap_lookup(j, 0x4000));
	assert_string_equal(jitmap_lookup(j, 0x6000), "second_record");
	/* A TEXT after a FILE starts afresh (a failed exec, then the end). */
	text(j, "7000 10 after\n");
	assert_null(jitmap_lookup(j, 0x1000));
	assert_string_equal(jitmap_lookup(j, 0x7000), "after");
	/* A stale map warns. */
	g_nwarn = 0;
	file(j, FD_PERFMAP_STALE);
	assert_int_equal(g_nwarn, 1);
	assert_non_null(strstr(g_warn[0], "pid reuse"));
	jitmap_free(j);
}

/* Random overlapping maps: every address's name is the last line covering it. */
static void test_later_wins(void **state)
{
	(void)state;
	srand(7);
	for (int round = 0; round < 50; round++) {
		struct jitmap *j = jitmap_new();
		enum { N = 60, SPAN = 400 };
		unsigned start[N], size[N];
		char buf[N * 40], *p = buf;
		for (int i = 0; i < N; i++) {
			start[i] = (unsigned)(rand() % SPAN);
			size[i] = 1 + (unsigned)(rand() % (round % 5 == 0 ? SPAN : 40));
			p += sprintf(p, "%x %x f%d\n", 0x10000 + start[i], size[i], i);
		}
		text(j, buf);
		for (unsigned a = 0; a < SPAN + 450; a++) {
			int want = -1;
			for (int i = 0; i < N; i++)
				if (a >= start[i] && a < start[i] + size[i])
					want = i;
			const char *got = jitmap_lookup(j, 0x10000 + a);
			if (want < 0) {
				assert_null(got);
			} else {
				char name[16];
				snprintf(name, sizeof(name), "f%d", want);
				assert_non_null(got);
				assert_string_equal(got, name);
			}
		}
		jitmap_free(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_later_wins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
