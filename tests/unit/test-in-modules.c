/* Unit tests of the model's module map: which module each address of a stack
 * is attributed to when modules load, unload, reload under the same id,
 * overlap earlier mappings, come after the stacks that use them, and when
 * several processes map the same addresses. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdump-writer.h"
#include "profile.h"

static char tmpdir[256];

static int setup(void **state)
{
	assert_non_null(fdw_tmpdir(tmpdir, sizeof(tmpdir), "test-in-modules"));
	return 0;
}

static int teardown(void **state)
{
	return fdw_rmdir(tmpdir);
}

static char *write_file(const char *name, struct fdw *w)
{
	fdw_trailer(w, 1000, 0, 0, 0);
	fdw_flush(w, false);
	char *path = fdw_save(w, tmpdir, name);
	assert_non_null(path);
	fdw_free(w);
	return path;
}

static void mod(struct fdw *w, uint64_t id, uint64_t start, uint64_t end, const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/nonexistent/%s", name);
	fdw_module(w, id, start, start, end, path, 0);
}

#define STACK(w, id, ...)                                                                                    \
	do {                                                                                                 \
		uint64_t a_[] = {__VA_ARGS__};                                                               \
		fdw_stack((w), (id), (unsigned)(sizeof(a_) / sizeof(a_[0])), a_);                            \
	} while (0)

/* The module of frame i of global stack g, by name ("-" for none). */
static const char *mod_at(const struct profile *p, size_t g, uint32_t i)
{
	assert_true(g < p->nstacks);
	assert_true(i < p->stacks[g].depth);
	uint32_t m = p->locs[p->stacks[g].locs[i]].module;
	return m == FA_NONE ? "-" : p->modules[m].name;
}

static void test_module_map(void **state)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 10, 1, 99, FD_ALLOC_OFF, "/nonexistent/app", "app", 3);
	STACK(&w, 1, 0x1100); /* before any module record */
	mod(&w, 1, 0x1000, 0x3000, "A");
	STACK(&w, 2, 0x1200);
	mod(&w, 2, 0x2000, 0x4000, "B"); /* over A's upper half: A is gone */
	STACK(&w, 3, 0x1300, 0x2100);
	fdw_unload(&w, 2, 0);
	STACK(&w, 4, 0x2200); /* nothing live there */
	mod(&w, 3, 0x2000, 0x2800, "C");
	STACK(&w, 5, 0x2300);
	mod(&w, 3, 0x5000, 0x6000, "D"); /* id 3 again: replaces C */
	STACK(&w, 6, 0x2400, 0x5100);
	mod(&w, 4, 0x7000, 0x8000, "E");
	mod(&w, 5, 0x8000, 0x9000, "F"); /* adjacent: E stays */
	STACK(&w, 7, 0x7fff, 0x8000);
	mod(&w, 6, 0x6800, 0x8800, "G"); /* over E and F */
	STACK(&w, 8, 0x6900, 0x8900, 0x5000, 0x6000);
	STACK(&w, 9, 0xa000, 0x0fff);
	char *paths[2];
	paths[0] = write_file("a.fdump", &w);

	/* Another process maps other modules at the same addresses. */
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 11, 10, 99, FD_ALLOC_OFF, "/nonexistent/app", "app", 3);
	mod(&w, 1, 0x1000, 0x3000, "P");
	STACK(&w, 1, 0x1200, 0x2100);
	STACK(&w, 2, 0x9100);
	mod(&w, 2, 0x9000, 0xa000, "Q");
	paths[1] = write_file("b.fdump", &w);

	struct profile p;
	char *err = NULL;
	struct profile_opts o = {.no_symbols = true, .quiet = true};
	assert_int_equal(profile_load(&p, paths, 2, &o, &err), 0);
	assert_int_equal(p.nstacks, 11);
	/* An address no live module covered goes to the latest loaded module
	 * of its process that covers it at all. */
	assert_string_equal(mod_at(&p, 0, 0), "A");
	assert_string_equal(mod_at(&p, 1, 0), "A");
	assert_string_equal(mod_at(&p, 2, 0), "A");
	assert_string_equal(mod_at(&p, 2, 1), "B");
	assert_string_equal(mod_at(&p, 3, 0), "C");
	assert_string_equal(mod_at(&p, 4, 0), "C");
	assert_string_equal(mod_at(&p, 5, 0), "C");
	assert_string_equal(mod_at(&p, 5, 1), "D");
	assert_string_equal(mod_at(&p, 6, 0), "E");
	assert_string_equal(mod_at(&p, 6, 1), "F");
	assert_string_equal(mod_at(&p, 7, 0), "G");
	assert_string_equal(mod_at(&p, 7, 1), "F");
	assert_string_equal(mod_at(&p, 7, 2), "D");
	assert_string_equal(mod_at(&p, 7, 3), "-"); /* D ends at 0x6000 */
	assert_string_equal(mod_at(&p, 8, 0), "-");
	assert_string_equal(mod_at(&p, 8, 1), "-");
	assert_string_equal(mod_at(&p, 9, 0), "P");
	assert_string_equal(mod_at(&p, 9, 1), "P");
	assert_string_equal(mod_at(&p, 10, 0), "Q");
	profile_free(&p);
	free(paths[0]);
	free(paths[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_module_map),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
