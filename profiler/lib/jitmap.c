/* JIT code's names from a dump's PERFMAP records (see jitmap.h): lines
 * "START SIZE NAME" (hexadecimal, 0x optional; the name is the rest of the
 * line), one function per line, merged into non-overlapping segments where
 * the latest line covering an address names it. */
#include "jitmap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fathom-dump.h"
#include "util.h"

struct jit_entry {
	uint64_t start, end;
	uint32_t name; /* offset in names */
};

struct jit_seg {
	uint64_t start, end;
	uint32_t entry;
};

struct jitmap {
	struct jit_entry *entries; /* in file order: a later one wins */
	size_t n, cap;
	char *names;
	size_t names_len, names_cap;
	struct jit_seg *segs; /* built at the first lookup after a change */
	size_t nsegs;
	bool built;
	bool closed; /* a FILE ended the lines: the next TEXT starts afresh */
	uint64_t garbage, garbage_line, lines;
	char garbage_first[48];
	uint64_t named;
};

struct jitmap *jitmap_new(void)
{
	return calloc(1, sizeof(struct jitmap));
}

void jitmap_free(struct jitmap *j)
{
	if (!j)
		return;
	free(j->entries);
	free(j->names);
	free(j->segs);
	free(j);
}

static void reset(struct jitmap *j)
{
	j->n = j->names_len = j->nsegs = 0;
	j->garbage = j->garbage_line = j->lines = 0;
	j->built = false;
	j->closed = false;
}

/* A hexadecimal number at *p (0x optional), then one or more blanks. */
static bool hex_field(const char **p, const char *end, uint64_t *out)
{
	const char *q = *p;
	if (end - q > 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
		q += 2;
	uint64_t v = 0;
	int digits = 0;
	for (; q < end; q++, digits++) {
		int c = *q, d = c >= '0' && c <= '9'   ? c - '0'
				: c >= 'a' && c <= 'f' ? c - 'a' + 10
				: c >= 'A' && c <= 'F' ? c - 'A' + 10
						       : -1;
		if (d < 0)
			break;
		if (digits >= 16)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits || q >= end || (*q != ' ' && *q != '\t'))
		return false;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	*p = q;
	*out = v;
	return true;
}

static void note_garbage(struct jitmap *j, const char *line, const char *end)
{
	if (!j->garbage++) {
		j->garbage_line = j->lines;
		size_t n = 0;
		for (const char *q = line; q < end && n + 1 < sizeof(j->garbage_first); q++)
			j->garbage_first[n++] = *q >= 0x20 && *q < 0x7f ? *q : '?';
		j->garbage_first[n] = 0;
	}
}

static int add_line(struct jitmap *j, const char *line, const char *end)
{
	j->lines++;
	if (end > line && end[-1] == '\r')
		end--;
	if (line == end)
		return 0; /* an empty line names nothing and harms nothing */
	const char *p = line;
	uint64_t start, size;
	if (!hex_field(&p, end, &start) || !hex_field(&p, end, &size) || p >= end || start + size < start ||
	    end - p > 65536) {
		note_garbage(j, line, end);
		return 0;
	}
	if (!size)
		return 0;
	size_t nl = (size_t)(end - p);
	if (GROW(j->entries, j->cap, j->n + 1) < 0 || GROW(j->names, j->names_cap, j->names_len + nl + 1) < 0)
		return -ENOMEM;
	if (j->names_len + nl + 1 > UINT32_MAX)
		return 0;
	memcpy(j->names + j->names_len, p, nl);
	j->names[j->names_len + nl] = 0;
	j->entries[j->n++] = (struct jit_entry){start, start + size, (uint32_t)j->names_len};
	j->names_len += nl + 1;
	j->built = false;
	return 0;
}

static void file_warnings(struct jitmap *j, const struct rd_rec *r, int pid,
			  void (*warn)(void *, const char *), void *arg)
{
	char msg[640];
	int pl = r->path.len > 200 ? 200 : (int)r->path.len;
	const char *path = (const char *)r->path.p;
	double start = (double)r->perfmap.start_ns, mt = (double)r->perfmap.mtime_ns;
	switch (r->perfmap.state) {
	case FD_PERFMAP_STALE:
		snprintf(msg, sizeof(msg),
			 "%.*s was last written %.1f s before process %d started: another process's of the "
			 "same pid (pid reuse?); not used, its JIT frames stay unnamed",
			 pl, path, (start - mt) / 1e9, pid);
		warn(arg, msg);
		break;
	case FD_PERFMAP_MIXED:
		snprintf(msg, sizeof(msg),
			 "%.*s was created before process %d started and written since (pid reuse, then "
			 "appended to?): lines another process left in it may name JIT frames wrongly",
			 pl, path, pid);
		warn(arg, msg);
		break;
	case FD_PERFMAP_UNREADABLE:
		snprintf(msg, sizeof(msg),
			 "%.*s could not be read at the end of process %d (not a regular file, or no "
			 "permission): its JIT frames stay unnamed",
			 pl, path, pid);
		warn(arg, msg);
		break;
	}
	if (r->perfmap.cut != FD_PMCUT_NONE) {
		double mb = (double)r->size / 1048576.0, rec = (double)r->perfmap.recorded / 1048576.0;
		const char *why = r->perfmap.cut == FD_PMCUT_SIZE   ? "it is over FATHOM_PERFMAP_MAX"
				  : r->perfmap.cut == FD_PMCUT_TIME ? "reading it took over a second"
								    : "a read failed";
		snprintf(msg, sizeof(msg),
			 "%.*s: only %.1f of its %.1f MB recorded (%s): JIT code described in the rest "
			 "stays unnamed",
			 pl, path, rec, mb, why);
		warn(arg, msg);
	}
	if (j->garbage) {
		snprintf(msg, sizeof(msg),
			 "%.*s: %" PRIu64 " line%s not of the form \"START SIZE NAME\" skipped (the first, "
			 "line %" PRIu64 " of those recorded: \"%s\")",
			 pl, path, j->garbage, j->garbage == 1 ? "" : "s", j->garbage_line, j->garbage_first);
		warn(arg, msg);
	}
}

int jitmap_record(struct jitmap *j, const struct rd_rec *r, int pid, void (*warn)(void *arg, const char *msg),
		  void *arg)
{
	if (r->what == FD_PERFMAP_FILE) {
		file_warnings(j, r, pid, warn, arg);
		j->closed = true;
		return 0;
	}
	if (r->what != FD_PERFMAP_TEXT)
		return 0;
	if (j->closed)
		reset(j);
	const char *p = (const char *)r->name.p, *end = p + r->name.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end; /* the agent writes whole lines; a rest is one too */
		if (add_line(j, p, le) < 0)
			return -ENOMEM;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int start_cmp(const void *a, const void *b)
{
	const struct jit_entry *x = *(struct jit_entry *const *)a, *y = *(struct jit_entry *const *)b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The segments: a sweep over every range's bounds, with the ranges open
 * at each bound in a max-heap of line numbers (the latest on top), expired ones dropped lazily from
 * the top. O(n log n). */
static int build(struct jitmap *j)
{
	free(j->segs);
	j->segs = NULL;
	j->nsegs = 0;
	j->built = true;
	if (!j->n)
		return 0;
	struct jit_entry **order = malloc(j->n * sizeof(*order));
	uint64_t *bounds = malloc(2 * j->n * sizeof(*bounds));
	uint32_t *heap = malloc(j->n * sizeof(*heap));
	j->segs = malloc(2 * j->n * sizeof(*j->segs));
	if (!order || !bounds || !heap || !j->segs) {
		free(order);
		free(bounds);
		free(heap);
		j->built = false;
		return -ENOMEM;
	}
	for (size_t i = 0; i < j->n; i++) {
		order[i] = &j->entries[i];
		bounds[2 * i] = j->entries[i].start;
		bounds[2 * i + 1] = j->entries[i].end;
	}
	qsort(order, j->n, sizeof(*order), start_cmp);
	qsort(bounds, 2 * j->n, sizeof(*bounds), u64_cmp);
	size_t nb = 0;
	for (size_t i = 0; i < 2 * j->n; i++)
		if (!nb || bounds[nb - 1] != bounds[i])
			bounds[nb++] = bounds[i];
	size_t next = 0, nh = 0;
	for (size_t k = 0; k + 1 < nb; k++) {
		uint64_t x = bounds[k];
		while (next < j->n && order[next]->start <= x)
			u32_maxheap_push(heap, &nh, (uint32_t)(order[next++] - j->entries));
		while (nh && j->entries[heap[0]].end <= x)
			u32_maxheap_pop(heap, &nh);
		if (!nh)
			continue;
		struct jit_seg *last = j->nsegs ? &j->segs[j->nsegs - 1] : NULL;
		if (last && last->entry == heap[0] && last->end == x)
			last->end = bounds[k + 1];
		else
			j->segs[j->nsegs++] = (struct jit_seg){x, bounds[k + 1], heap[0]};
	}
	free(order);
	free(bounds);
	free(heap);
	return 0;
}

const char *jitmap_lookup(struct jitmap *j, uint64_t addr)
{
	if (!j || !j->n || (!j->built && build(j) < 0))
		return NULL;
	size_t lo = 0, hi = j->nsegs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (j->segs[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == j->nsegs || j->segs[lo].start > addr)
		return NULL;
	j->named++;
	return j->names + j->entries[j->segs[lo].entry].name;
}

uint64_t jitmap_named(const struct jitmap *j)
{
	return j ? j->named : 0;
}

uint64_t jitmap_entries(const struct jitmap *j)
{
	return j ? j->n : 0;
}
