/* Unit tests of finding source files (source.c): the recorded path, a
 * prefix map, trailing parts under a source directory, relative paths
 * under a base, what a missing file says, lines, and the changed-source
 * check. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "source.h"

static char root[256];

static void write_file(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/fathom-source-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	char d[512];
	snprintf(d, sizeof(d), "%s/checkout", root);
	mkdir(d, 0700);
	snprintf(d, sizeof(d), "%s/checkout/src", root);
	mkdir(d, 0700);
	write_file("checkout/src/a.c", "int a;\n\nint main(void)\r\n{\n\treturn a;\n}");
	write_file("b.py", "x = 1\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_lines(void **state)
{
	(void)state;
	struct source_opts o = {0};
	struct source_file sf;
	char path[512];
	snprintf(path, sizeof(path), "%s/checkout/src/a.c", root);
	assert_int_equal(source_open(&sf, &o, path, 0), 0);
	assert_string_equal(sf.path, path);
	assert_int_equal(sf.nlines, 6); /* the last line has no newline */
	size_t len;
	const char *l = source_line(&sf, 3, &len);
	assert_non_null(l);
	assert_int_equal(len, strlen("int main(void)")); /* \r\n cut */
	assert_memory_equal(l, "int main(void)", len);
	l = source_line(&sf, 6, &len);
	assert_int_equal(len, 1);
	assert_null(source_line(&sf, 7, &len));
	assert_null(source_line(&sf, 0, &len));
	char why[256];
	assert_false(source_changed(&sf, 0, NULL, 6, why, sizeof(why)));
	assert_true(source_changed(&sf, 0, NULL, 9, why, sizeof(why)));
	assert_non_null(strstr(why, "has 6 lines, the recording names line 9"));
	/* Modified after the program was built. */
	assert_true(source_changed(&sf, sf.mtime_ns - 1, "app", 2, why, sizeof(why)));
	assert_non_null(strstr(why, "modified after app was built"));
	assert_false(source_changed(&sf, sf.mtime_ns + 1, "app", 2, why, sizeof(why)));
	source_close(&sf);
	/* A cap: the file is cut there, and its line count proves nothing. */
	assert_int_equal(source_open(&sf, &o, path, 10), 0);
	assert_true(sf.truncated);
	assert_int_equal(sf.size, 10);
	assert_false(source_changed(&sf, 0, NULL, 6, why, sizeof(why)));
	source_close(&sf);
}

static void test_search(void **state)
{
	(void)state;
	struct source_opts o = {0};
	struct source_file sf;
	char want[512], dir[512], map[600];
	/* Built in /build/proj: not here as recorded. */
	assert_int_equal(source_open(&sf, &o, "/build/proj/src/a.c", 0), -ENOENT);
	assert_null(sf.path);
	assert_non_null(strstr(sf.looked, "looked for /build/proj/src/a.c"));
	assert_non_null(strstr(sf.looked, "--source-dir"));
	source_close(&sf);
	/* --source-dir: the trailing parts of the path under DIR. */
	snprintf(dir, sizeof(dir), "%s/checkout", root);
	assert_int_equal(source_add_dir(&o, dir), 0);
	assert_int_equal(source_open(&sf, &o, "/build/proj/src/a.c", 0), 0);
	snprintf(want, sizeof(want), "%s/checkout/src/a.c", root);
	assert_string_equal(sf.path, want);
	source_close(&sf);
	/* Missing everywhere: the message names the directory. */
	assert_int_equal(source_open(&sf, &o, "/build/proj/src/zz.c", 0), -ENOENT);
	assert_non_null(strstr(sf.looked, dir));
	source_close(&sf);
	source_opts_free(&o);
	/* --prefix-map OLD=NEW, at a '/' only. */
	snprintf(map, sizeof(map), "/build/proj=%s/checkout", root);
	assert_int_equal(source_add_map(&o, map), 0);
	assert_int_equal(source_open(&sf, &o, "/build/proj/src/a.c", 0), 0);
	assert_string_equal(sf.path, want);
	source_close(&sf);
	assert_int_equal(source_open(&sf, &o, "/build/projx/src/a.c", 0), -ENOENT);
	source_close(&sf);
	char bad[] = "nothing";
	assert_int_equal(source_add_map(&o, bad), -EINVAL);
	source_opts_free(&o);
	/* A relative path (Python's co_filename) under a base directory. */
	assert_int_equal(source_add_base(&o, root), 0);
	assert_int_equal(source_open(&sf, &o, "b.py", 0), 0);
	assert_int_equal(sf.nlines, 1);
	source_close(&sf);
	/* A directory is no source file. */
	assert_int_equal(source_open(&sf, &o, "checkout", 0), -ENOENT);
	source_close(&sf);
	source_opts_free(&o);
}

/* Where a function ends: the closing brace past comments and strings; a
 * Python def by its indentation. */
static void test_function_end(void **state)
{
	(void)state;
	write_file("f.c", "int f(void)\n"		       /* 1 */
			  "{\n"				       /* 2 */
			  "\tconst char *s = \"}\"; /* } */\n" /* 3 */
			  "\tif (s) {\n"		       /* 4 */
			  "\t\treturn '}';\n"		       /* 5 */
			  "\t} // }\n"			       /* 6 */
			  "\treturn 0;\n"		       /* 7 */
			  "}\n"				       /* 8 */
			  "int g;\n");
	write_file("f.py", "def f(n):\n"       /* 1 */
			   "    s = 0\n"       /* 2 */
			   "\n"		       /* 3 */
			   "    # a comment\n" /* 4 */
			   "    return s\n"    /* 5 */
			   "\n"		       /* 6 */
			   "def g():\n"	       /* 7 */
			   "    pass\n");
	struct source_opts o = {0};
	struct source_file sf;
	char path[512];
	snprintf(path, sizeof(path), "%s/f.c", root);
	assert_int_equal(source_open(&sf, &o, path, 0), 0);
	assert_int_equal(source_function_end(&sf, 1), 8);
	assert_int_equal(source_function_end(&sf, 9), 0); /* no body */
	source_close(&sf);
	snprintf(path, sizeof(path), "%s/f.py", root);
	assert_int_equal(source_open(&sf, &o, path, 0), 0);
	assert_int_equal(source_function_end(&sf, 1), 5);
	assert_int_equal(source_function_end(&sf, 7), 8);
	source_close(&sf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_search),
	    cmocka_unit_test(test_function_end),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
