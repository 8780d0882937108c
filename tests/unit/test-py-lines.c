/* Unit test of the Python line-table decoder (python-lines.c) against the
 * interpreter's own code.co_lines(), over every code object of whole stdlib
 * modules, for each Python 3.11+ found here (Debian's python3, pyenv's). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "python.h"

/* Prints, per code object: "C firstlineno hex-linetable", then one line
 * "L start end line" per co_lines() entry (line -1 for None). */
static const char *gen =
    "import sys, importlib, inspect\n"
    "mods = ['json.decoder', 'argparse', 'typing', 'collections', 'ast', 'inspect', 'dataclasses',\n"
    "        'email.message', 'http.client', 'unittest.case', 'asyncio.base_events', 'difflib']\n"
    "def walk(co):\n"
    "    yield co\n"
    "    for c in co.co_consts:\n"
    "        if hasattr(c, 'co_lines'):\n"
    "            yield from walk(c)\n"
    "out = sys.stdout\n"
    "for m in mods:\n"
    "    f = inspect.getsourcefile(importlib.import_module(m))\n"
    "    top = compile(open(f, encoding='utf-8').read(), f, 'exec')\n"
    "    for co in walk(top):\n"
    "        out.write('C %d %s\\n' % (co.co_firstlineno, co.co_linetable.hex() or '-'))\n"
    "        for s, e, l in co.co_lines():\n"
    "            out.write('L %d %d %d\\n' % (s, e, -1 if l is None else l))\n";

static int unhex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	size_t len = strlen(s);
	if (len == 1 && s[0] == '-') {
		*n = 0;
		return 0;
	}
	if (len % 2 || len / 2 > cap)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*n = len / 2;
	return 0;
}

/* Checks every code unit of every entry; returns the number of checks, or
 * -1 when the interpreter is absent. */
static long check_python(const char *python)
{
	if (access(python, X_OK) != 0)
		return -1;
	char script[] = "/tmp/fathom-py-lines-XXXXXX";
	int fd = mkstemp(script);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, gen, strlen(gen)), (ssize_t)strlen(gen));
	close(fd);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "%s %s", python, script);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	static char line[1 << 20];
	static uint8_t table[1 << 19];
	size_t nt = 0;
	int first = 0;
	long checks = 0, wrong = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (line[0] == 'C') {
			char *hex = strchr(line + 2, ' ');
			assert_non_null(hex);
			first = atoi(line + 2);
			assert_int_equal(unhex(hex + 1, table, sizeof(table), &nt), 0);
			continue;
		}
		unsigned start, end;
		int want;
		assert_int_equal(sscanf(line, "L %u %u %d", &start, &end, &want), 3);
		for (unsigned b = start; b < end; b += 2) {
			int got = py_line(table, nt, first, b / 2);
			checks++;
			if (got != want && wrong++ < 5)
				fprintf(stderr, "%s: offset %u: line %d, co_lines() says %d\n", python, b,
					got, want);
		}
	}
	int st = pclose(f);
	unlink(script);
	assert_int_equal(st, 0);
	fprintf(stderr, "# %s: %ld offsets checked, %ld wrong\n", python, checks, wrong);
	assert_int_equal(wrong, 0);
	return checks;
}

static void test_co_lines(void **state)
{
	(void)state;
	static const char *pythons[] = {
	    "/usr/bin/python3.11",
	    "/usr/bin/python3.12",
	    "/usr/bin/python3.13",
	    "/root/.pyenv/versions/3.11.7/bin/python3",
	    "/root/.pyenv/versions/3.12.1/bin/python3",
	    "/root/.pyenv/versions/3.13.0/bin/python3",
	};
	long total = 0;
	for (size_t i = 0; i < sizeof(pythons) / sizeof(pythons[0]); i++) {
		long n = check_python(pythons[i]);
		if (n > 0)
			total += n;
	}
	if (!total)
		skip();
	assert_true(total > 10000);
}

/* Hand-made tables: the forms of the format, and a code unit beyond the end. */
static void test_forms(void **state)
{
	(void)state;
	/* short form (code 0, 2 units), one-line +1 (code 11, 1 unit), no
	 * column -3 (code 13, 1 unit), no location (code 15, 1 unit), long +5
	 * (code 14, 3 units). */
	static const uint8_t t[] = {
	    0x80 | (0 << 3) | 1,
	    0x05,
	    0x80 | (11 << 3) | 0,
	    0x01,
	    0x02,
	    0x80 | (13 << 3) | 0,
	    0x07,
	    0x80 | (15 << 3) | 0,
	    0x80 | (14 << 3) | 2,
	    0x0a,
	    0x00,
	    0x01,
	    0x02,
	};
	assert_int_equal(py_line(t, sizeof(t), 10, 0), 10);
	assert_int_equal(py_line(t, sizeof(t), 10, 1), 10);
	assert_int_equal(py_line(t, sizeof(t), 10, 2), 11);
	assert_int_equal(py_line(t, sizeof(t), 10, 3), 8);
	assert_int_equal(py_line(t, sizeof(t), 10, 4), -1);
	assert_int_equal(py_line(t, sizeof(t), 10, 5), 13);
	assert_int_equal(py_line(t, sizeof(t), 10, 7), 13);
	assert_int_equal(py_line(t, sizeof(t), 10, 8), -1);
	/* A table cut short: no line, no overrun. */
	assert_int_equal(py_line(t, 12, 10, 5), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_forms),
	    cmocka_unit_test(test_co_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
