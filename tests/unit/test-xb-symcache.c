/* The symbols a dump carries (fathom record --symbolize): saved into a dump
 * whose program no longer exists, read back by the reader without any damage
 * reported, and used by the model instead of the (missing) file. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fdump-writer.h"
#include "profile.h"
#include "reader.h"
#include "symcache.h"

static char tmpdir[256];
static const char *const gone = "/nonexistent/xb/app";
static const uint8_t bid[4] = {0xde, 0xad, 0xbe, 0xef};

/* A process whose one module, `gone`, is loaded at bias 0x10000: stack 1 is
 * 0x11004 (leaf) <- 0x12009 (a return address). */
static char *make_dump(const char *name)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 77, 1, 99, FD_ALLOC_OFF, gone, "app\0", 4);
	fdw_module_bid(&w, 1, 0x10000, 0x10000, 0x20000, gone, bid, sizeof(bid), 0);
	fdw_thread(&w, 77, 0, "main");
	uint64_t s1[2] = {0x11004, 0x12009};
	fdw_stack(&w, 1, 2, s1);
	fdw_tid(&w, 77);
	fdw_sample(&w, 1000, 1, 1);
	fdw_sample(&w, 2000, 1, 1);
	fdw_trailer(&w, 3000, 2, 2, 0);
	fdw_flush(&w, true);
	char *path = fdw_save(&w, tmpdir, name);
	fdw_free(&w);
	assert_non_null(path);
	return path;
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(fdw_tmpdir(tmpdir, sizeof(tmpdir), "test-xb-symcache"));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return fdw_rmdir(tmpdir);
}

static const char *frame_name(const struct profile *p, size_t stack, size_t k)
{
	struct fa_frame fr[8];
	size_t n = profile_stack_frames(p, &p->stacks[stack], fr, 8);
	assert_true(k < n);
	return p->funcs[fr[k].func].name;
}

static void test_saved_symbols(void **state)
{
	(void)state;
	char *path = make_dump("app.fdump");
	struct profile p;
	char *err = NULL;
	struct profile_opts o = {.quiet = true};

	/* Without saved symbols: addresses, and the model says why. */
	assert_int_equal(profile_load(&p, &path, 1, &o, &err), 0);
	assert_false(p.procs[0].symbolized);
	assert_string_equal(frame_name(&p, 0, 0), "app+0x1004");
	assert_string_equal(p.modules[0].symbols_problem, "gone since the recording");
	profile_free(&p);

	/* Saved: the leaf is an inlined function inside its caller, the return
	 * address is looked up one byte back (0x2008), as the model does. */
	struct symcache *c = symcache_new();
	assert_non_null(c);
	struct sym_frame leaf[2] = {
	    {"inlined_helper", "/src/app/util.h", 12, 10, 0},
	    {"parse", "/src/app/parse.c", 40, 30, 0},
	};
	struct sym_frame caller[1] = {{"main", "/src/app/main.c", 7, 5, 0}};
	assert_int_equal(symcache_add(c, gone, bid, sizeof(bid), 0x1004, leaf, 2), 0);
	assert_int_equal(symcache_add(c, gone, bid, sizeof(bid), 0x2008, caller, 1), 0);
	assert_int_equal(symcache_size(c), 2);
	assert_int_equal(symcache_append(c, path, &err), 0);
	symcache_free(c);

	/* The reader returns the chunk as one record, and sees no damage. */
	struct reader *r;
	assert_int_equal(reader_open(&r, path, &err), 0);
	struct rd_rec rec;
	int nsym = 0;
	while (reader_next(r, &rec) > 0)
		nsym += rec.kind == RD_SYMBOLS;
	assert_int_equal(nsym, 1);
	assert_true(reader_complete(r));
	assert_null(reader_damage(r));
	reader_close(r);

	assert_int_equal(profile_load(&p, &path, 1, &o, &err), 0);
	assert_int_equal(p.nwarnings, 0);
	assert_true(p.procs[0].symbolized);
	assert_null(p.modules[0].symbols_problem);
	assert_string_equal(frame_name(&p, 0, 0), "inlined_helper");
	assert_string_equal(frame_name(&p, 0, 1), "parse");
	assert_string_equal(frame_name(&p, 0, 2), "main");
	struct fa_frame fr[8];
	profile_stack_frames(&p, &p.stacks[0], fr, 8);
	assert_string_equal(p.funcs[fr[1].func].file, "/src/app/parse.c");
	assert_int_equal(fr[1].line, 40);
	assert_int_equal(p.funcs[fr[1].func].decl_line, 30);
	profile_free(&p);

	/* Another build of the same path (another build id) is not named by them. */
	c = symcache_new();
	assert_int_equal(symcache_add(c, gone, (const uint8_t *)"\1\2\3\4", 4, 0x1004, leaf, 2), 0);
	assert_int_equal(symcache_module(c, gone, bid, sizeof(bid)), -1);
	symcache_free(c);
	free(path);
}

/* A damaged symbols payload keeps what came before the damage. */
static void test_decode_damage(void **state)
{
	(void)state;
	struct symcache *c = symcache_new();
	/* MODULE "/a" with no build id, then an ADDR with one frame that names
	 * string 1, which was never defined. */
	const uint8_t bad[] = {2, 4, 2, '/', 'a', 0, 3, 7, 0x10, 1, 1, 0, 0, 0, 0};
	assert_int_equal(symcache_decode(c, bad, sizeof(bad)), -22);
	assert_int_equal(symcache_module(c, "/a", NULL, 0), 0);
	assert_int_equal(symcache_size(c), 0);
	symcache_free(c);
}

/* Format 1.5 (fathom pack): a MODULE's facts after its build id, a SOURCE,
 * and between them a kind this fathom does not know, skipped by length. */
static void test_decode_pack(void **state)
{
	(void)state;
	struct symcache *c = symcache_new();
	const uint8_t payload[] = {
	    2, 10, 2, '/', 'a', 0,   4,	  'g', 'o', 'n', 'e',  5, /* MODULE /a, facts: "gone", built 5 */
	    9, 3,  1, 2,   3,					  /* kind 9: from a newer fathom */
	    4, 9,  4, '/', 's', '.', 'c', 7,   2,   'x', '\n',	  /* SOURCE /s.c, mtime 7, "x\n" */
	};
	assert_int_equal(symcache_decode(c, payload, sizeof(payload)), 0);
	int mi = symcache_module(c, "/a", NULL, 0);
	assert_int_equal(mi, 0);
	const char *problem, *text;
	int64_t built, mtime;
	size_t len;
	bool nodbg = true;
	assert_true(symcache_module_facts(c, mi, &problem, &built, &nodbg));
	assert_false(nodbg);
	assert_string_equal(problem, "gone");
	assert_int_equal(built, 5);
	assert_true(symcache_source(c, "/s.c", &text, &len, &mtime));
	assert_int_equal(len, 2);
	assert_memory_equal(text, "x\n", 2);
	assert_int_equal(mtime, 7);
	assert_false(symcache_source(c, "/t.c", &text, &len, &mtime));
	/* Keyed by build id: another path of the same build is the same module. */
	assert_int_equal(symcache_set_module(c, "/x/lib.so", (const uint8_t *)"\1\2", 2, NULL, 9, true), 0);
	assert_int_equal(symcache_module(c, "/y/lib.so", (const uint8_t *)"\1\2", 2), 1);
	assert_int_equal(symcache_module(c, "/x/lib.so", (const uint8_t *)"\1\3", 2), -1);
	symcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_saved_symbols),
	    cmocka_unit_test(test_decode_pack),
	    cmocka_unit_test(test_decode_damage),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
