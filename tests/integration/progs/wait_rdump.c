/* Prints a dump's WAIT and HOLD records one a line, each with its stack's
 * function names (innermost first), for the agent's waiting tests: the raw
 * records, independent of the analyzer's model.
 *
 * Output: "threshold NS", then for each record
 *   WAIT tid reason fd_kind object wait_ns weight_ns time f0;f1;...
 *   HOLD tid object held_ns weight f0;f1;...
 * A frame without a name prints as "?". */
#include "reader.h"
#include "symbols.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mod {
	uint64_t bias, start, end;
	char *path;
	struct sym_module *sm;
};
struct stk {
	uint64_t id;
	uint32_t n;
	uint64_t *f;
};
struct ev {
	int kind, tid;
	uint64_t id, reason, fdk, object, ns, weight, time;
};

static struct mod mods[256];
static size_t nmods;
static struct stk *stks;
static size_t nstks, capstks;
static struct ev *evs;
static size_t nevs, capevs;

static void name_of(struct symbolizer *sy, uint64_t a, char *out, size_t cap)
{
	for (size_t i = 0; i < nmods; i++) {
		if (a < mods[i].start || a >= mods[i].end)
			continue;
		const char *warn;
		if (!mods[i].sm)
			mods[i].sm = symbols_module(sy, mods[i].path, NULL, 0, &warn);
		struct sym_frame fr[8];
		int n = symbols_lookup(sy, mods[i].sm, a - mods[i].bias, fr, 8);
		if (n > 0 && fr[n - 1].name) {
			snprintf(out, cap, "%s", fr[n - 1].name);
			return;
		}
	}
	snprintf(out, cap, "?");
}

static const struct stk *find_stack(uint64_t id)
{
	for (size_t i = 0; i < nstks; i++)
		if (stks[i].id == id)
			return &stks[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct reader *r;
	char *err;
	if (argc != 2) {
		fprintf(stderr, "usage: wait_rdump DUMP\n");
		return 2;
	}
	if (reader_open(&r, argv[1], &err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct rd_rec rec;
	memset(&rec, 0, sizeof(rec));
	while (reader_next(r, &rec) > 0) {
		switch (rec.kind) {
		case FD_REC_HEADER:
			printf("threshold %" PRIu64 "\n", rec.wait_threshold_ns);
			break;
		case FD_REC_MODULE:
			if (nmods < 256) {
				mods[nmods] =
				    (struct mod){rec.bias, rec.start, rec.end,
						 strndup((const char *)rec.path.p, rec.path.len), NULL};
				nmods++;
			}
			break;
		case FD_REC_STACK:
			if (nstks == capstks)
				stks = realloc(stks, (capstks = capstks * 2 + 64) * sizeof(*stks));
			stks[nstks].id = rec.id;
			stks[nstks].n = rec.nframes;
			stks[nstks].f = malloc(rec.nframes * sizeof(uint64_t) + 1);
			memcpy(stks[nstks].f, rec.frames, rec.nframes * sizeof(uint64_t));
			nstks++;
			break;
		case FD_REC_WAIT:
		case FD_REC_HOLD:
			if (nevs == capevs)
				evs = realloc(evs, (capevs = capevs * 2 + 64) * sizeof(*evs));
			evs[nevs++] = (struct ev){rec.kind,   rec.tid, rec.id,	   rec.reason, rec.fd_kind,
						  rec.object, rec.ns,  rec.weight, rec.time};
			break;
		}
	}
	struct symbolizer *sy = symbols_new(NULL, 0);
	for (size_t i = 0; i < nevs; i++) {
		struct ev *e = &evs[i];
		if (e->kind == FD_REC_WAIT)
			printf("WAIT %d %" PRIu64 " %" PRIu64 " %#" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64
			       " ",
			       e->tid, e->reason, e->fdk, e->object, e->ns, e->weight, e->time);
		else
			printf("HOLD %d %#" PRIx64 " %" PRIu64 " %" PRIu64 " ", e->tid, e->object, e->ns,
			       e->weight);
		const struct stk *s = find_stack(e->id);
		if (!s) {
			printf("(undefined stack %" PRIu64 ")\n", e->id);
			continue;
		}
		for (uint32_t k = 0; k < s->n; k++) {
			char name[256];
			name_of(sy, s->f[k] - (k > 0), name, sizeof(name));
			printf("%s%s", k ? ";" : "", name);
		}
		printf("\n");
	}
	symbols_free(sy);
	reader_close(r);
	return 0;
}
