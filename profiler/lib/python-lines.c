/* Line numbers from CPython 3.11+ location tables (co_linetable), decoded as
 * the interpreter's own code.co_lines() does (Objects/locations.md). */
#include "python.h"

#include <stdbool.h>

struct lt {
	const uint8_t *p, *end;
	int bad;
};

static unsigned byte(struct lt *t)
{
	if (t->p >= t->end) {
		t->bad = 1;
		return 0;
	}
	return *t->p++;
}

/* 6-bit groups, low first; bit 6 says another follows. */
static uint32_t varint(struct lt *t)
{
	unsigned b = byte(t);
	uint32_t v = b & 63;
	unsigned shift = 0;
	while ((b & 64) && !t->bad && shift < 30) {
		b = byte(t);
		shift += 6;
		v |= (uint32_t)(b & 63) << shift;
	}
	return v;
}

static int svarint(struct lt *t)
{
	uint32_t u = varint(t);
	return u & 1 ? -(int)(u >> 1) : (int)(u >> 1);
}

int py_lines_each(const uint8_t *table, size_t len, int firstlineno,
		  void (*fn)(void *arg, uint32_t start, uint32_t end, int line), void *arg)
{
	struct lt t = {table, table + len, 0};
	int line = firstlineno;
	uint32_t at = 0;
	while (t.p < t.end) {
		unsigned first = byte(&t);
		if (!(first & 0x80))
			return -1;
		unsigned code = (first >> 3) & 15, units = (first & 7) + 1;
		int this_line = line;
		if (code == 15) {
			this_line = -1;
		} else if (code == 14) {
			line += svarint(&t);
			varint(&t); /* end line delta */
			varint(&t); /* column + 1 */
			varint(&t); /* end column + 1 */
			this_line = line;
		} else if (code == 13) {
			line += svarint(&t);
			this_line = line;
		} else if (code >= 10) {
			line += (int)code - 10;
			byte(&t);
			byte(&t);
			this_line = line;
		} else {
			byte(&t);
		}
		if (t.bad)
			return -1;
		if (fn)
			fn(arg, at * 2, (at + units) * 2, this_line);
		at += units;
	}
	return 0;
}

struct line_at {
	uint32_t byte; /* the instruction's offset in bytes */
	int line;
	bool found;
};

static void line_at_cb(void *arg, uint32_t start, uint32_t end, int line)
{
	struct line_at *q = arg;
	if (!q->found && q->byte >= start && q->byte < end) {
		q->line = line;
		q->found = true;
	}
}

/* One decoder: the entry that covers lasti, found by py_lines_each (damage
 * after that entry does not matter, damage before it leaves it unfound). */
int py_line(const uint8_t *table, size_t len, int firstlineno, uint32_t lasti)
{
	struct line_at q = {lasti * 2, -1, false};
	py_lines_each(table, len, firstlineno, line_at_cb, &q);
	return q.found ? q.line : -1;
}
