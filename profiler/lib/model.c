/* The model: reads dump files through the reader, merges them into one
 * struct profile (processes, modules, threads, interned stacks and their
 * weights), hands allocation events to the heap replay, then symbolizes every
 * distinct address once. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fathom-dump.h"
#include "heap.h"
#include "jitmap.h"
#include "marks.h"
#include "series.h"
#include "profile.h"
#include "python.h"
#include "reader.h"
#include "suppress.h"
#include "symbols.h"
#include "symcache.h"
#include "wait.h"
#include "maps.h"
#include "util.h"

const char *const fa_metric_names[FA_NMETRICS] = {
    "cpu", "alloc-calls", "alloc-bytes", "temp-calls", "leaked-bytes", "leaked-blocks", "peak-bytes", "wait",
};

int fa_metric_parse(const char *name)
{
	static const struct {
		const char *alias;
		int metric;
	} aliases[] = {
	    {"samples", FA_CPU},	 {"time", FA_CPU},
	    {"alloc", FA_ALLOC_CALLS},	 {"allocs", FA_ALLOC_CALLS},
	    {"calls", FA_ALLOC_CALLS},	 {"bytes", FA_ALLOC_BYTES},
	    {"temp", FA_TEMP_CALLS},	 {"temporary", FA_TEMP_CALLS},
	    {"leaked", FA_LEAKED_BYTES}, {"leaks", FA_LEAKED_BYTES},
	    {"peak", FA_PEAK_BYTES},	 {"waiting", FA_WAIT},
	};
	char n[32];
	size_t len = strlen(name);
	if (len >= sizeof(n))
		return -1;
	for (size_t i = 0; i <= len; i++)
		n[i] = name[i] == '_' ? '-' : name[i];
	for (int m = 0; m < FA_NMETRICS; m++)
		if (!strcasecmp(n, fa_metric_names[m]))
			return m;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcasecmp(n, aliases[i].alias))
			return aliases[i].metric;
	return -1;
}

/* ---- growable arrays ---- */

/* ---- an open-addressing map from a pair of integers to an index ---- */

struct hmap_entry {
	uint64_t a, b;
	uint32_t v;
};

struct hmap {
	struct hmap_entry *e;
	size_t cap, n; /* cap is a power of two, or 0 */
};

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull + (a << 6) + (a >> 2));
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h;
}

static int hmap_grow(struct hmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 1024;
	struct hmap_entry *e = malloc(ncap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < ncap; i++)
		e[i].v = FA_NONE;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->e[i].v == FA_NONE)
			continue;
		size_t j = mix(m->e[i].a, m->e[i].b) & (ncap - 1);
		while (e[j].v != FA_NONE)
			j = (j + 1) & (ncap - 1);
		e[j] = m->e[i];
	}
	free(m->e);
	m->e = e;
	m->cap = ncap;
	return 0;
}

/* Returns the slot for (a, b): its v is FA_NONE when the key is new, and the
 * caller then stores the value. NULL when out of memory. The pointer is valid
 * until the next call. */
static uint32_t *hmap_slot(struct hmap *m, uint64_t a, uint64_t b)
{
	if ((m->n + 1) * 2 > m->cap && hmap_grow(m) < 0)
		return NULL;
	size_t j = mix(a, b) & (m->cap - 1);
	while (m->e[j].v != FA_NONE) {
		if (m->e[j].a == a && m->e[j].b == b)
			return &m->e[j].v;
		j = (j + 1) & (m->cap - 1);
	}
	m->e[j].a = a;
	m->e[j].b = b;
	m->n++;
	return &m->e[j].v;
}

static uint32_t hmap_find(const struct hmap *m, uint64_t a, uint64_t b)
{
	if (!m->cap)
		return FA_NONE;
	size_t j = mix(a, b) & (m->cap - 1);
	while (m->e[j].v != FA_NONE) {
		if (m->e[j].a == a && m->e[j].b == b)
			return m->e[j].v;
		j = (j + 1) & (m->cap - 1);
	}
	return FA_NONE;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h * 31 + (s ? 1 : 0);
}

/* ---- loading state ---- */

/* A stack's frames while loading: [off, off + depth) of the pool, each the
 * index of a distinct address (loader.raw_*); once symbolized, of a loc.
 * Eight bytes a stack (a million distinct stacks are common): a STACK
 * record's frames take a byte each at least in a chunk of at most
 * FD_CHUNK_MAX_RAW bytes, so a depth fits in 24 bits, and a pool of 2^38
 * frames (1 TB) is beyond any memory. */
#define RAW_OFF_BITS 38
struct rawstack {
	uint64_t off : RAW_OFF_BITS;
	uint64_t depth : 24;
	uint64_t defined : 1;
	uint64_t leaf_ret : 1; /* frame 0 is a return address (the Python view dropped the leaf) */
};
_Static_assert(sizeof(struct rawstack) == 8, "a rawstack is 8 bytes");
_Static_assert(FD_CHUNK_MAX_RAW <= (1u << 24), "a STACK record's depth fits in rawstack.depth");

/* What the loader keeps per process (per dump file) while reading it. */
struct proc_state {
	uint32_t *stack_ids; /* the dump's stack id -> global stack, for dense ids */
	size_t stack_ids_cap;
	uint32_t live_root; /* the treap of the modules loaded now (FA_NONE: none) */
	struct heap *heap;
	/* The thread of the last event: the next one is most often the same. */
	int cur_tid;
	uint32_t cur_thread;
	uint64_t last_time;
	uint64_t bad_events; /* events dropped as impossible */
	/* CPU time of exact (ns) samples not yet a whole period: the model
	 * counts periods, and the sample that completes one gets it. */
	uint64_t ns_carry;
	struct symcache *saved;	   /* the symbols the dump carries, or NULL */
	bool mark_at_done;	   /* profile_opts.mark_at_ns's mark is made */
	struct jitmap *jit;	   /* the perf map's JIT names (PERFMAP), or NULL */
	struct series_file series; /* the first file's place in a rotated series (series.c) */
	bool mark_from_done;	   /* and mark_from_ns's */
};

/* A module's node in its process's live map (below). */
struct mod_node {
	uint32_t l, r, prio;
	bool live;
};

/* Everything profile_load() needs besides the profile it fills. The *_cap
 * fields are the allocated lengths of the profile's arrays of the same name. */
struct loader {
	struct profile *p;
	const struct profile_opts *opts;
	size_t procs_cap, modules_cap, threads_cap, funcs_cap, frames_cap, locs_cap, stacks_cap, tstacks_cap;
	size_t ticks_cap, raw_stacks_cap, pstate_cap, tsamples_cap;
	struct proc_state *pstate;   /* per process */
	struct rawstack *raw_stacks; /* per stack, until symbolized */
	struct mod_node *mod_nodes;  /* per module */
	size_t mod_nodes_cap;
	/* The pool of every stack's frames (see rawstack): 4 bytes a frame, an
	 * address being stored once (a million distinct stacks of depth 20
	 * hold 20 million frames but rarely more than 100,000 addresses). The
	 * symbolizer turns the pool's entries into loc indices in place, and
	 * the profile keeps it (profile.stack_pool). */
	uint32_t *pool;
	size_t npool, pool_cap;
	/* The distinct (process, module covering it when its stack was read,
	 * address) triples of the frames (module FA_NONE: none yet); raw_loc:
	 * the loc of each as a return address, once made (FA_NONE: not yet). */
	uint64_t *raw_addr;
	uint32_t *raw_mod, *raw_proc, *raw_loc;
	size_t nraw, raw_addr_cap, raw_mod_cap, raw_proc_cap;
	struct hmap rawmap;
	struct hmap stackmap, threadmap, modmap, locmap, funcmap;
	/* Per stack: the tstack its last sample went to (FA_NONE: none), for
	 * the first nlast_tstack stacks; made on the first CPU sample, so
	 * that a recording without any costs nothing here. */
	uint32_t *last_tstack;
	size_t last_tstack_cap, nlast_tstack;
	struct hmap tstack_map; /* (stack, thread) -> tstack */
	/* Heap and RSS points of processes without a heap replay. */
	struct fa_point *ticks;
	size_t nticks;
	/* Per module: its index in its process's saved symbols, -1 none, -2 not looked up yet. */
	int *saved_mod;
	struct py_model *py;	  /* Python frames (python.c) */
	struct maps_loader *maps; /* mappings (maps.c), made on first use */
	/* Progress on a terminal: whether to show it, since when, and whether a line is shown. */
	bool progress;
	struct timespec t0;
	bool shown;
};

static double since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static void progress(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void progress(struct loader *ld, const char *fmt, ...)
{
	/* Only loads that take long enough to wonder about get a progress line. */
	if (!ld->progress || since(&ld->t0) < 0.7)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "\r\033[Kfathom: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
	ld->shown = true;
}

int profile_warn(struct profile *p, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	for (size_t i = 0; i < p->nwarnings; i++)
		if (!strcmp(p->warnings[i], msg)) {
			free(msg);
			return 0;
		}
	char **w = realloc(p->warnings, (p->nwarnings + 1) * sizeof(*w));
	if (!w) {
		free(msg);
		return -ENOMEM;
	}
	p->warnings = w;
	p->warnings[p->nwarnings++] = msg;
	return 0;
}

static char *dup_bytes(struct rd_bytes b)
{
	char *s = malloc(b.len + 1);
	if (!s)
		return NULL;
	if (b.len)
		memcpy(s, b.p, b.len);
	s[b.len] = 0;
	return s;
}

/* The global index of stack `id` of process `proc`, created empty on first use. */
static uint32_t stack_lookup(struct loader *ld, uint32_t proc, uint64_t id);

static inline uint32_t stack_of(struct loader *ld, uint32_t proc, uint64_t id)
{
	/* Every sample and allocation event looks its stack up: the array hit
	 * goes without a call. */
	const struct proc_state *ps = &ld->pstate[proc];
	if (id < ps->stack_ids_cap && ps->stack_ids[id] != FA_NONE)
		return ps->stack_ids[id];
	return stack_lookup(ld, proc, id);
}

static __attribute__((noinline)) uint32_t stack_lookup(struct loader *ld, uint32_t proc, uint64_t id)
{
	struct profile *p = ld->p;
	struct proc_state *ps = &ld->pstate[proc];
	uint32_t *slot;
	/* The agent numbers stacks 1, 2, ...: a plain array is the fast path
	 * (one cache line instead of a hash probe per sample); ids far beyond
	 * what was seen (damage, another agent) go to the hash map. The array
	 * costs 4 bytes an id, the map 48 to 96 an entry (24 bytes, at most
	 * half full): up to 16 ids a stack the array is no larger, and ids
	 * drawn at random (stress_gendump) stay out of the map once a few
	 * thousand stacks are known (with 2 ids a stack, the map grew to
	 * 524,288 slots, 12.6 MB, on 950,000 stacks). */
	if (id < ps->stack_ids_cap) {
		slot = &ps->stack_ids[id];
	} else if (id < (1u << 26) && id < 16 * p->nstacks + 4096) {
		size_t ncap = ps->stack_ids_cap ? ps->stack_ids_cap : 4096;
		while (ncap <= id)
			ncap *= 2;
		uint32_t *n = realloc(ps->stack_ids, ncap * sizeof(*n));
		if (!n)
			return FA_NONE;
		memset(n + ps->stack_ids_cap, 0xff, (ncap - ps->stack_ids_cap) * sizeof(*n));
		ps->stack_ids = n;
		ps->stack_ids_cap = ncap;
		slot = &ps->stack_ids[id];
	} else {
		slot = hmap_slot(&ld->stackmap, proc, id);
	}
	if (!slot)
		return FA_NONE;
	if (*slot != FA_NONE)
		return *slot;
	/* An id sent to the map while it was beyond the array stays valid. */
	if (ld->stackmap.n && id < ps->stack_ids_cap) {
		uint32_t g = hmap_find(&ld->stackmap, proc, id);
		if (g != FA_NONE)
			return *slot = g;
	}
	if (GROW(p->stacks, ld->stacks_cap, p->nstacks + 1) < 0 ||
	    GROW(ld->raw_stacks, ld->raw_stacks_cap, p->nstacks + 1) < 0)
		return FA_NONE;
	uint32_t g = (uint32_t)p->nstacks++;
	memset(&p->stacks[g], 0, sizeof(p->stacks[g]));
	p->stacks[g].proc = proc;
	ld->raw_stacks[g] = (struct rawstack){0, 0, false, false};
	*slot = g;
	return g;
}

static uint32_t thread_of(struct loader *ld, uint32_t proc, int tid)
{
	struct profile *p = ld->p;
	struct proc_state *ps = &ld->pstate[proc];
	if (ps->cur_thread != FA_NONE && ps->cur_tid == tid)
		return ps->cur_thread;
	uint32_t *slot = hmap_slot(&ld->threadmap, proc, (uint64_t)(unsigned)tid);
	if (!slot)
		return FA_NONE;
	if (*slot == FA_NONE) {
		if (GROW(p->threads, ld->threads_cap, p->nthreads + 1) < 0)
			return FA_NONE;
		struct fa_thread *t = &p->threads[p->nthreads];
		memset(t, 0, sizeof(*t));
		t->proc = proc;
		t->tid = tid;
		*slot = (uint32_t)p->nthreads++;
	}
	ps->cur_tid = tid;
	ps->cur_thread = *slot;
	return *slot;
}

/* ---- the live module map ----
 * Per process, the modules loaded now, which never overlap (a new mapping
 * drops whatever it covers): a treap keyed by start address, its nodes
 * indexed like p->modules, so that a lookup by address, a load and an unload
 * are O(log n) (a dump can hold hundreds of thousands of MODULE records). */

static uint32_t treap_merge(struct loader *ld, uint32_t a, uint32_t b)
{
	/* Every start in a is below every start in b. */
	if (a == FA_NONE)
		return b;
	if (b == FA_NONE)
		return a;
	if (ld->mod_nodes[a].prio > ld->mod_nodes[b].prio) {
		ld->mod_nodes[a].r = treap_merge(ld, ld->mod_nodes[a].r, b);
		return a;
	}
	ld->mod_nodes[b].l = treap_merge(ld, a, ld->mod_nodes[b].l);
	return b;
}

/* Splits t into the modules that start below key and the others. */
static void treap_split(struct loader *ld, uint32_t t, uint64_t key, uint32_t *lo, uint32_t *hi)
{
	if (t == FA_NONE) {
		*lo = *hi = FA_NONE;
	} else if (ld->p->modules[t].start < key) {
		treap_split(ld, ld->mod_nodes[t].r, key, &ld->mod_nodes[t].r, hi);
		*lo = t;
	} else {
		treap_split(ld, ld->mod_nodes[t].l, key, lo, &ld->mod_nodes[t].l);
		*hi = t;
	}
}

static void treap_drop(struct loader *ld, uint32_t t)
{
	for (; t != FA_NONE; t = ld->mod_nodes[t].r) {
		treap_drop(ld, ld->mod_nodes[t].l);
		ld->mod_nodes[t].live = false;
	}
}

/* Takes module m out of its process's live map, if it is there. */
static void live_remove(struct loader *ld, uint32_t proc, uint32_t m)
{
	if (m == FA_NONE || !ld->mod_nodes[m].live)
		return;
	struct proc_state *ps = &ld->pstate[proc];
	uint32_t a, b, mid, c;
	treap_split(ld, ps->live_root, ld->p->modules[m].start, &a, &b);
	treap_split(ld, b, ld->p->modules[m].start + 1, &mid, &c);
	treap_drop(ld, mid); /* just m: starts are unique among live modules */
	ps->live_root = treap_merge(ld, a, c);
}

/* Puts module m into the live map, dropping whatever it overlaps: that
 * memory now holds m. */
static void live_insert(struct loader *ld, uint32_t proc, uint32_t m)
{
	struct proc_state *ps = &ld->pstate[proc];
	const struct fa_module *mod = &ld->p->modules[m];
	uint32_t below, rest, covered, above;
	treap_split(ld, ps->live_root, mod->start, &below, &rest);
	/* Of the modules that start below, only the last can reach into m. */
	uint32_t last = below;
	while (last != FA_NONE && ld->mod_nodes[last].r != FA_NONE)
		last = ld->mod_nodes[last].r;
	if (last != FA_NONE && ld->p->modules[last].end > mod->start) {
		uint32_t keep, gone;
		treap_split(ld, below, ld->p->modules[last].start, &keep, &gone);
		treap_drop(ld, gone);
		below = keep;
	}
	treap_split(ld, rest, mod->end, &covered, &above);
	treap_drop(ld, covered);
	ld->mod_nodes[m] = (struct mod_node){FA_NONE, FA_NONE, (uint32_t)mix(m, proc), true};
	ps->live_root = treap_merge(ld, treap_merge(ld, below, m), above);
}

static uint32_t live_module(struct loader *ld, uint32_t proc, uint64_t addr)
{
	/* The live module with the greatest start at or below addr. */
	uint32_t t = ld->pstate[proc].live_root, best = FA_NONE;
	while (t != FA_NONE) {
		if (ld->p->modules[t].start <= addr) {
			best = t;
			t = ld->mod_nodes[t].r;
		} else {
			t = ld->mod_nodes[t].l;
		}
	}
	return best != FA_NONE && addr < ld->p->modules[best].end ? best : FA_NONE;
}

static int on_module(struct loader *ld, uint32_t proc, const struct rd_rec *r)
{
	struct profile *p = ld->p;
	if (r->end <= r->start)
		return 0;
	/* The next file of a rotated series names every module loaded again. */
	uint32_t same = hmap_find(&ld->modmap, proc, r->id);
	if (same != FA_NONE && ld->mod_nodes[same].live && p->modules[same].start == r->start &&
	    p->modules[same].end == r->end && p->modules[same].bias == r->bias &&
	    strlen(p->modules[same].path) == r->path.len &&
	    (!r->path.len || !memcmp(p->modules[same].path, r->path.p, r->path.len)))
		return 0;
	if (GROW(p->modules, ld->modules_cap, p->nmodules + 1) < 0 ||
	    GROW(ld->mod_nodes, ld->mod_nodes_cap, p->nmodules + 1) < 0)
		return -ENOMEM;
	struct fa_module *m = &p->modules[p->nmodules];
	memset(m, 0, sizeof(*m));
	m->proc = proc;
	m->bias = r->bias;
	m->start = r->start;
	m->end = r->end;
	if (!(m->path = dup_bytes(r->path)))
		return -ENOMEM;
	const char *slash = strrchr(m->path, '/');
	m->name = slash ? slash + 1 : m->path;
	if (r->build_id.len <= sizeof(m->build_id)) {
		memcpy(m->build_id, r->build_id.p, r->build_id.len);
		m->build_id_len = (uint8_t)r->build_id.len;
	}
	uint32_t idx = (uint32_t)p->nmodules++;
	ld->mod_nodes[idx].live = false;
	uint32_t *slot = hmap_slot(&ld->modmap, proc, r->id);
	if (!slot)
		return -ENOMEM;
	/* A mod_id sent again (the same library reloaded) replaces the old one. */
	uint32_t old = *slot;
	*slot = idx;
	live_remove(ld, proc, old);
	live_insert(ld, proc, idx);
	return 0;
}

static void on_unload(struct loader *ld, uint32_t proc, const struct rd_rec *r)
{
	live_remove(ld, proc, hmap_find(&ld->modmap, proc, r->id));
}

/* A new distinct address of process proc, covered by module mod (FA_NONE:
 * none); returns its index, FA_NONE when out of memory. */
static uint32_t raw_add(struct loader *ld, uint32_t proc, uint32_t mod, uint64_t addr)
{
	if (ld->nraw >= FA_NONE || GROW(ld->raw_addr, ld->raw_addr_cap, ld->nraw + 1) < 0 ||
	    GROW(ld->raw_mod, ld->raw_mod_cap, ld->nraw + 1) < 0 ||
	    GROW(ld->raw_proc, ld->raw_proc_cap, ld->nraw + 1) < 0)
		return FA_NONE;
	ld->raw_addr[ld->nraw] = addr;
	ld->raw_mod[ld->nraw] = mod;
	ld->raw_proc[ld->nraw] = proc;
	return (uint32_t)ld->nraw++;
}

static int on_stack(struct loader *ld, uint32_t proc, const struct rd_rec *r)
{
	uint32_t g = stack_of(ld, proc, r->id);
	if (g == FA_NONE)
		return -ENOMEM;
	if (ld->raw_stacks[g].defined)
		return 0; /* sent twice (another thread saw it first): same addresses */
	if (ld->npool + r->nframes >= (1ull << RAW_OFF_BITS) ||
	    GROW(ld->pool, ld->pool_cap, ld->npool + r->nframes) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < r->nframes; i++) {
		uint32_t m = live_module(ld, proc, r->frames[i]);
		uint32_t *slot = hmap_slot(&ld->rawmap, (uint64_t)proc << 32 | m, r->frames[i]);
		if (!slot)
			return -ENOMEM;
		if (*slot == FA_NONE && (*slot = raw_add(ld, proc, m, r->frames[i])) == FA_NONE)
			return -ENOMEM;
		ld->pool[ld->npool + i] = *slot;
	}
	ld->raw_stacks[g] = (struct rawstack){ld->npool, r->nframes, true, false};
	ld->npool += r->nframes;
	return 0;
}

/* A Python record (python.c keeps them until the stacks are symbolized). */
static int on_python(struct loader *ld, uint32_t proc, const struct rd_rec *r)
{
	struct profile *p = ld->p;
	if (!ld->py && !(ld->py = py_model_new()))
		return -ENOMEM;
	int rc = py_record(ld->py, proc, r->kind, r->path.p, r->path.len);
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0)
		return profile_warn(p, "%s: chunk %" PRIu32 ": damaged Python record (kind %d), skipped",
				    p->procs[proc].path, r->chunk, r->kind);
	return 0;
}

/* A Python module of process proc (py_modules' callback): its dotted name
 * and its file in one allocation, no addresses. */
struct py_add {
	struct loader *ld;
	uint32_t proc;
};

static uint32_t add_py_module(void *arg, const char *name, const char *file)
{
	struct py_add *a = arg;
	struct profile *p = a->ld->p;
	if (GROW(p->modules, a->ld->modules_cap, p->nmodules + 1) < 0 ||
	    GROW(a->ld->mod_nodes, a->ld->mod_nodes_cap, p->nmodules + 1) < 0)
		return FA_NONE;
	struct fa_module *m = &p->modules[p->nmodules];
	memset(m, 0, sizeof(*m));
	m->proc = a->proc;
	m->python = true;
	size_t fl = strlen(file), nl = strlen(name);
	if (!(m->path = malloc(fl + nl + 2)))
		return FA_NONE;
	memcpy(m->path, file, fl + 1);
	memcpy(m->path + fl + 1, name, nl + 1);
	m->name = m->path + fl + 1;
	a->ld->mod_nodes[p->nmodules].live = false;
	return (uint32_t)p->nmodules++;
}

/* The module of process proc that holds its interpreter, FA_NONE when none. */
static uint32_t interp_module(const struct profile *p, uint32_t proc, uint64_t eval)
{
	for (size_t i = 0; eval && i < p->nmodules; i++)
		if (p->modules[i].proc == proc && !p->modules[i].python && p->modules[i].start <= eval &&
		    eval < p->modules[i].end)
			return (uint32_t)i;
	return FA_NONE;
}

/* Python frames take the place of the eval loop's native frames; with
 * --python, the interpreter's own frames go (python-merge.c). */
static int python_stacks(struct loader *ld)
{
	struct profile *p = ld->p;
	p->python_view = ld->opts && ld->opts->python_view;
	if (!ld->py)
		return 0;
	for (uint32_t i = 0; i < p->nprocs; i++)
		if (py_modules(ld->py, i, add_py_module, &(struct py_add){ld, i}) < 0)
			return -ENOMEM;
	/* py_merge and py_view rewrite a stack's addresses and modules: each
	 * stack's are spelled out, rewritten, and what changed added as new
	 * distinct addresses (few: Python frames and their callers). */
	uint64_t *addrs = NULL;
	uint32_t *mods = NULL;
	size_t cap = 0, cap2 = 0;
	int rc = 0;
	for (size_t s = 0; s < p->nstacks && !rc; s++) {
		struct rawstack *r = &ld->raw_stacks[s];
		/* An empty stack has nothing to rewrite (and may have no pool). */
		if (!r->defined || !r->depth)
			continue;
		if (GROW(addrs, cap, r->depth) < 0 || GROW(mods, cap2, r->depth) < 0) {
			rc = -ENOMEM;
			break;
		}
		uint32_t *frames = ld->pool + r->off;
		for (uint32_t i = 0; i < r->depth; i++) {
			addrs[i] = ld->raw_addr[frames[i]];
			mods[i] = ld->raw_mod[frames[i]];
		}
		uint32_t proc = p->stacks[s].proc;
		r->depth = py_merge(ld->py, proc, addrs, mods, r->depth, p->stacks[s].w[FA_CPU], FA_NONE);
		if (ld->opts && ld->opts->python_view) {
			bool leaf_ret = r->leaf_ret;
			r->depth = py_view(ld->py, proc, addrs, mods, r->depth,
					   interp_module(p, proc, py_eval_addr(ld->py, proc)), &leaf_ret);
			r->leaf_ret = leaf_ret;
		}
		for (uint32_t i = 0; i < r->depth; i++)
			if (ld->raw_addr[frames[i]] != addrs[i] || ld->raw_mod[frames[i]] != mods[i] ||
			    ld->raw_proc[frames[i]] != proc)
				if ((frames[i] = raw_add(ld, proc, mods[i], addrs[i])) == FA_NONE)
					rc = -ENOMEM;
	}
	free(addrs);
	free(mods);
	if (rc < 0)
		return rc;
	if (py_finish(ld->py, p) < 0)
		return -ENOMEM;
	for (size_t i = 0; py_problem(ld->py, i); i++)
		if (profile_warn(p, "%s", py_problem(ld->py, i)) < 0)
			return -ENOMEM;
	return 0;
}

static int on_header(struct loader *ld, uint32_t proc, const struct rd_rec *r)
{
	struct fa_process *pr = &ld->p->procs[proc];
	pr->pid = r->pid;
	pr->ppid = r->ppid;
	pr->generation = (int)(r->generation > 1000000 ? 1000000 : r->generation);
	pr->hz = (unsigned)(r->hz > 1000000 ? 1000000 : r->hz);
	pr->clock = r->clock;
	pr->alloc_mode = r->alloc_mode;
	pr->alloc_sample_bytes = r->alloc_sample_bytes;
	pr->start_real_ns = r->start_real_ns;
	pr->wait_threshold_ns = r->wait_threshold_ns;
	free(pr->exe);
	free(pr->cmdline);
	pr->exe = dup_bytes(r->exe);
	pr->cmdline = dup_bytes(r->cmdline);
	if (!pr->exe || !pr->cmdline)
		return -ENOMEM;
	/* Arguments are NUL-separated in the dump; shown space-separated. */
	size_t len = r->cmdline.len;
	while (len > 0 && pr->cmdline[len - 1] == 0)
		len--;
	for (size_t i = 0; i < len; i++)
		if (pr->cmdline[i] == 0)
			pr->cmdline[i] = ' ';
	if (r->alloc_mode != FD_ALLOC_OFF && !ld->pstate[proc].heap &&
	    !(ld->pstate[proc].heap =
		  heap_new(r->alloc_mode == FD_ALLOC_SAMPLED ? r->alloc_sample_bytes : 0, ld->p)))
		return -ENOMEM;
	return 0;
}

static struct heap *heap_of(struct loader *ld, uint32_t proc)
{
	struct proc_state *ps = &ld->pstate[proc];
	struct fa_process *pr = &ld->p->procs[proc];
	if (!ps->heap)
		ps->heap = heap_new(pr->alloc_mode == FD_ALLOC_SAMPLED ? pr->alloc_sample_bytes : 0, ld->p);
	return ps->heap;
}

static void seen_time(struct loader *ld, uint32_t proc, uint64_t t)
{
	/* A damaged or hostile time must not stretch the duration absurdly:
	 * times go in order within a thread, so a jump of days is damage. */
	if (t > ld->pstate[proc].last_time && t < 400ull * 24 * 3600 * 1000000000ull)
		ld->pstate[proc].last_time = t;
}

/* The (stack g, thread t) entry, created on first use. */
static __attribute__((noinline)) uint32_t tstack_lookup(struct loader *ld, uint32_t g, uint32_t t)
{
	struct profile *p = ld->p;
	uint32_t *slot = hmap_slot(&ld->tstack_map, g, t);
	if (!slot)
		return FA_NONE;
	if (*slot == FA_NONE) {
		if (GROW(p->tstacks, ld->tstacks_cap, p->ntstacks + 1) < 0)
			return FA_NONE;
		p->tstacks[p->ntstacks] = (struct fa_thread_stack){g, t, 0, 0, 0};
		*slot = (uint32_t)p->ntstacks++;
	}
	return *slot;
}

/* Makes ld->last_tstack cover every stack made so far. */
static __attribute__((noinline)) int last_tstack_cover(struct loader *ld)
{
	size_t n = ld->p->nstacks;
	if (GROW(ld->last_tstack, ld->last_tstack_cap, n) < 0)
		return -ENOMEM;
	for (size_t g = ld->nlast_tstack; g < n; g++)
		ld->last_tstack[g] = FA_NONE;
	ld->nlast_tstack = n;
	return 0;
}

/* A CPU sample or an allocation event, from reader_events() or reader_next().
 * Inlined into the loop over events: the call was 6% of the instructions of
 * reading an allocation-heavy dump. */
static inline __attribute__((always_inline)) int on_event(struct loader *ld, uint32_t proc,
							  const struct rd_event *e)
{
	struct profile *p = ld->p;
	struct fa_process *pr = &p->procs[proc];
	uint32_t g, t;
	switch (e->kind) {
	case FD_REC_SAMPLE: {
		if ((g = stack_of(ld, proc, e->id)) == FA_NONE ||
		    (t = thread_of(ld, proc, e->tid)) == FA_NONE)
			return -ENOMEM;
		uint64_t periods = e->weight;
		if (e->ns && pr->hz) {
			uint64_t period = 1000000000u / pr->hz, *c = &ld->pstate[proc].ns_carry;
			uint64_t ns = e->ns > (1ull << 50) ? (1ull << 50) : e->ns;
			*c += ns;
			periods = *c / period;
			*c -= periods * period;
			if (e->at_end) {
				p->threads[t].end_ns += ns;
				pr->cpu_end_ns += ns;
			} else {
				p->threads[t].timer_ns += ns;
			}
		} else if (pr->hz) {
			p->threads[t].timer_ns +=
			    (periods > (1u << 30) ? (1u << 30) : periods) * (1000000000u / pr->hz);
		}
		int64_t w = (int64_t)(periods > (1u << 30) ? (1u << 30) : periods);
		seen_time(ld, proc, e->time);
		if (!e->at_end) {
			if (!pr->timer_samples || e->time < pr->first_sample_ns)
				pr->first_sample_ns = e->time;
			if (!pr->timer_samples || e->time > pr->last_sample_ns)
				pr->last_sample_ns = e->time;
			pr->timer_samples++;
			pr->timer_weight += e->ns && pr->hz ? e->ns / (1000000000u / pr->hz) : e->weight;
		}
		if (e->agent && !(ld->opts && ld->opts->include_agent)) {
			/* The agent's own work: in the CPU account, not in the
			 * program's shares. */
			pr->samples++;
			pr->sample_weight += (uint64_t)w;
			pr->agent_left_out += (uint64_t)w;
			return 0;
		}
		p->stacks[g].w[FA_CPU] += w;
		p->threads[t].cpu += w;
		p->threads[t].samples++;
		pr->samples++;
		pr->sample_weight += (uint64_t)w;
		/* Most stacks run on one thread: the stack's last (stack, thread)
		 * entry is the fast path, the map the rest. */
		if (g >= ld->nlast_tstack && last_tstack_cover(ld) < 0)
			return -ENOMEM;
		uint32_t ts = ld->last_tstack[g];
		if (ts == FA_NONE || p->tstacks[ts].thread != t)
			if ((ts = ld->last_tstack[g] = tstack_lookup(ld, g, t)) == FA_NONE)
				return -ENOMEM;
		p->tstacks[ts].cpu += w;
		p->tstacks[ts].samples++;
		/* CPU charged at a thread's end has no time of its own: it is in
		 * no time range. */
		if (ld->opts && ld->opts->keep_times && !e->at_end) {
			if (GROW(p->tsamples, ld->tsamples_cap, p->ntsamples + 1) < 0)
				return -ENOMEM;
			p->tsamples[p->ntsamples++] = (struct fa_tsample){e->time, ts, (uint32_t)w};
		}
		/* Running, for the timeline of running against waiting. */
		if (pr->wait_threshold_ns && pr->hz)
			return wait_sample(p, t, e->time, (uint64_t)w * (1000000000u / pr->hz));
		return 0;
	}
	case FD_REC_ALLOC:
	case FD_REC_REALLOC: {
		/* No allocation of 256 TiB ever succeeded: such a size is damage,
		 * and it would wreck every sum downstream. */
		if (e->size > (1ull << 48)) {
			ld->pstate[proc].bad_events++;
			return 0;
		}
		struct heap *h = heap_of(ld, proc);
		if (!h || (g = stack_of(ld, proc, e->id)) == FA_NONE)
			return -ENOMEM;
		if (e->kind == FD_REC_ALLOC)
			return heap_alloc(h, e->seq, e->tid, g, e->size, e->ptr);
		return heap_realloc(h, e->seq, e->tid, g, e->size, e->old_ptr, e->ptr);
	}
	case FD_REC_FREE: {
		struct heap *h = heap_of(ld, proc);
		return h ? heap_free(h, e->seq, e->tid, e->ptr) : -ENOMEM;
	}
	default:
		return 0;
	}
}

/* A WAIT or HOLD record (format 1.4): a wait's time is its stack's FA_WAIT
 * weight, on its thread too; the rest is wait.c's. */
static int on_wait(struct loader *ld, uint32_t proc, const struct rd_rec *r)
{
	struct profile *p = ld->p;
	uint32_t g, t;
	if ((g = stack_of(ld, proc, r->id)) == FA_NONE || (t = thread_of(ld, proc, r->tid)) == FA_NONE)
		return -ENOMEM;
	if (r->kind == FD_REC_WAIT && r->weight <= WAIT_MAX_NS && r->ns <= WAIT_MAX_NS &&
	    r->time <= WAIT_MAX_NS) {
		seen_time(ld, proc, r->time + r->ns);
		p->stacks[g].w[FA_WAIT] += (int64_t)r->weight;
		uint32_t ts = tstack_lookup(ld, g, t);
		if (ts == FA_NONE)
			return -ENOMEM;
		p->tstacks[ts].wait += (int64_t)r->weight;
	}
	return wait_record(p, proc, t, g, r);
}

/* A mapping record, or a tick with the resident set's file part: to maps.c. */
static int on_map(struct loader *ld, uint32_t proc, const struct rd_rec *r)
{
	if (!ld->maps && !(ld->maps = maps_loader_new()))
		return -ENOMEM;
	if (r->kind == FD_REC_TICK)
		return maps_tick(ld->maps, proc, r);
	seen_time(ld, proc, r->time);
	uint32_t g = FA_NONE;
	if (r->kind != FD_REC_UNMAP && (g = stack_of(ld, proc, r->id)) == FA_NONE)
		return -ENOMEM;
	return maps_record(ld->maps, proc, r, g);
}

static void jit_warn(void *p, const char *msg)
{
	profile_warn(p, "%s", msg);
}

/* The mark `what` that profile_opts asked for at time at_ns (0: none),
 * made at the first tick at or after it. Returns 0 or -ENOMEM. */
static int tick_mark(struct loader *ld, uint32_t proc, const struct rd_rec *r, int what, uint64_t at_ns,
		     bool *done)
{
	if (!at_ns || *done || r->time < at_ns)
		return 0;
	*done = true;
	return marks_add(&ld->p->procs[proc], ld->pstate[proc].heap, what, r->time, r->seq, 0, NULL, 0);
}

static int on_record(struct loader *ld, uint32_t proc, const struct rd_rec *r, bool *saw_header)
{
	struct profile *p = ld->p;
	struct fa_process *pr = &p->procs[proc];
	uint32_t t;
	switch (r->kind) {
	case FD_REC_HEADER:
		if (*saw_header)
			return 0;
		*saw_header = true;
		return on_header(ld, proc, r);
	case FD_REC_MODULE:
		seen_time(ld, proc, r->time);
		return on_module(ld, proc, r);
	case FD_REC_UNLOAD:
		on_unload(ld, proc, r);
		return 0;
	case RD_SYMBOLS: {
		/* A damaged symbols chunk keeps what it held before the damage;
		 * the addresses it lost are looked up in the files as usual. */
		if (!ld->pstate[proc].saved && !(ld->pstate[proc].saved = symcache_new()))
			return -ENOMEM;
		pr->symbolized = true;
		int rc = symcache_decode(ld->pstate[proc].saved, r->path.p, r->path.len);
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			profile_warn(p, "%s: chunk %" PRIu32 ": damaged symbols, partly read", pr->path,
				     r->chunk);
		return 0;
	}
	case FD_REC_THREAD:
		seen_time(ld, proc, r->time);
		if ((t = thread_of(ld, proc, r->tid)) == FA_NONE)
			return -ENOMEM;
		free(p->threads[t].name);
		if (!(p->threads[t].name = dup_bytes(r->name)))
			return -ENOMEM;
		return 0;
	case FD_REC_THREAD_END:
		seen_time(ld, proc, r->time);
		if (r->has_cpu) {
			if ((t = thread_of(ld, proc, r->tid)) == FA_NONE)
				return -ENOMEM;
			uint64_t ns = r->cpu_ns > (1ull << 56) ? (1ull << 56) : r->cpu_ns;
			p->threads[t].measured_ns += ns;
			p->threads[t].measured = true;
			pr->cpu_measured_ns += ns;
			pr->cpu_threads++;
			if (r->has_sched) {
				p->threads[t].run_ns += r->run_ns;
				p->threads[t].runq_ns += r->runq_ns;
				p->threads[t].sched = true;
			}
		}
		return 0;
	case FD_REC_STACK:
		return on_stack(ld, proc, r);
	case FD_REC_SAMPLE:
	case FD_REC_ALLOC:
	case FD_REC_FREE:
	case FD_REC_REALLOC: {
		struct rd_event ev = {r->kind, r->tid,	r->id,	   r->seq, r->ptr,    r->old_ptr,
				      r->size, r->time, r->weight, r->ns,  r->at_end, r->agent};
		return on_event(ld, proc, &ev);
	}
	case FD_REC_WINDOW:
		seen_time(ld, proc, r->time);
		if (r->what == FD_WIN_ROTATE) {
			/* A rotation ends one file and opens the next with the same
			 * mark: one mark when both are read. */
			if (r->id <= pr->last_file && pr->files > 1)
				return 0;
			if (r->id > pr->next_file)
				pr->next_file = r->id > UINT32_MAX ? UINT32_MAX : (uint32_t)r->id;
		}
		return marks_add(pr, ld->pstate[proc].heap, (int)r->what, r->time, r->seq, r->id,
				 (const char *)r->name.p, r->name.len);
	case FD_REC_MAP:
	case FD_REC_UNMAP:
	case FD_REC_REMAP:
		return on_map(ld, proc, r);
	case FD_REC_PERFMAP:
		if (!ld->pstate[proc].jit && !(ld->pstate[proc].jit = jitmap_new()))
			return -ENOMEM;
		return jitmap_record(ld->pstate[proc].jit, r, pr->pid, jit_warn, p);
	case FD_REC_TICK:
		seen_time(ld, proc, r->time);
		if (r->rss_file != UINT64_MAX && on_map(ld, proc, r) < 0)
			return -ENOMEM;
		if (ld->opts) {
			int rc = tick_mark(ld, proc, r, FA_MARK_FROM, ld->opts->mark_from_ns,
					   &ld->pstate[proc].mark_from_done);
			if (rc || (rc = tick_mark(ld, proc, r, FA_MARK_AT, ld->opts->mark_at_ns,
						  &ld->pstate[proc].mark_at_done)))
				return rc;
		}
		if (ld->pstate[proc].heap)
			return heap_tick(ld->pstate[proc].heap, r->time, r->seq, (int64_t)r->rss);
		if (GROW(ld->ticks, ld->ticks_cap, ld->nticks + 1) < 0)
			return -ENOMEM;
		ld->ticks[ld->nticks++] = (struct fa_point){proc, r->time, (int64_t)r->heap, (int64_t)r->rss};
		return 0;
	case FD_REC_LOST:
		if (r->what == FD_LOST_SAMPLES)
			pr->lost_samples += r->count;
		else if (r->what == FD_LOST_ALLOC)
			pr->lost_alloc += r->count;
		else if (r->what == FD_LOST_CPU_IN_AGENT)
			pr->cpu_in_agent += r->count;
		else if (r->what == FD_LOST_CPU_UNAVAILABLE || r->what == FD_LOST_CPU_THREADS) {
			char **why = r->what == FD_LOST_CPU_UNAVAILABLE ? &pr->cpu_unavailable
									: &pr->cpu_unsampled_why;
			free(*why);
			if (!(*why = r->why.len ? dup_bytes(r->why) : strdup("reason unknown")))
				return -ENOMEM;
			if (r->what == FD_LOST_CPU_THREADS)
				pr->cpu_unsampled_threads += r->count;
		}
		return 0;
	case FD_REC_NOTE:
		if (r->what == FD_NOTE_RUN || r->what == FD_NOTE_ALLOC_BYPASS) {
			char **to = r->what == FD_NOTE_RUN ? &pr->run_id : &pr->alloc_bypass;
			free(*to);
			if (!(*to = dup_bytes(r->why)))
				return -ENOMEM;
		}
		return 0;
	case FD_REC_PYCODE:
	case FD_REC_PYTHON:
		return on_python(ld, proc, r);
	case FD_REC_WAIT:
	case FD_REC_HOLD:
		return on_wait(ld, proc, r);
	case FD_REC_TRAILER:
		seen_time(ld, proc, r->time);
		pr->complete = true;
		pr->end_signal = r->reason == FD_END_SIGNAL && r->end_signal < 128 ? (int)r->end_signal : 0;
		pr->detached = r->reason == FD_END_DETACH;
		if (r->has_cpu) {
			/* Each file of a rotated series counts its own time. */
			uint64_t cpu = r->cpu_ns > (1ull << 56) ? (1ull << 56) : r->cpu_ns;
			pr->cpu_process_ns += cpu;
			pr->cpu_agent_ns += r->agent_cpu_ns > cpu ? cpu : r->agent_cpu_ns;
			pr->has_process_cpu = true;
		}
		if (r->lost_samples > pr->lost_samples)
			pr->lost_samples = r->lost_samples;
		/* The trailer's count tells how much skipped chunks held. */
		if (r->samples > pr->samples)
			return profile_warn(p, "%s: read %" PRIu64 " of %" PRIu64 " samples", pr->path,
					    pr->samples, r->samples);
		return 0;
	default:
		return 0;
	}
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Reads one dump file into the profile: as a process of its own, or with
 * cont (not FA_NONE) as the next file of that process's rotated series. */
static int load_file(struct loader *ld, const char *path, const struct series_file *sf, uint32_t cont,
		     char **err)
{
	struct profile *p = ld->p;
	struct reader *rd;
	int rc = reader_open(&rd, path, err);
	if (rc < 0)
		return rc;
	uint32_t proc = cont;
	struct fa_process *pr;
	bool saw_header = false;
	if (cont != FA_NONE) {
		pr = &p->procs[proc];
		/* Its header repeats the first file's. */
		saw_header = true;
		ld->pstate[proc].cur_thread = FA_NONE;
		if (sf->number > pr->last_file + 1)
			profile_warn(
			    p,
			    "%s: files %u to %u of the rotated recording of pid %d are missing: what they "
			    "held is not here",
			    pr->path, pr->last_file + 1, sf->number - 1, pr->pid);
	} else {
		if (GROW(p->procs, ld->procs_cap, p->nprocs + 1) < 0 ||
		    GROW(ld->pstate, ld->pstate_cap, p->nprocs + 1) < 0) {
			reader_close(rd);
			return -ENOMEM;
		}
		proc = (uint32_t)p->nprocs++;
		pr = &p->procs[proc];
		memset(pr, 0, sizeof(*pr));
		memset(&ld->pstate[proc], 0, sizeof(ld->pstate[proc]));
		ld->pstate[proc].cur_thread = FA_NONE;
		ld->pstate[proc].live_root = FA_NONE;
		ld->pstate[proc].series = *sf;
		pr->first_file = sf->number;
		pr->path = strdup(path);
		if (!pr->path) {
			reader_close(rd);
			return -ENOMEM;
		}
	}
	pr->files++;
	pr->last_file = sf->number;
	struct rd_rec r;
	struct rd_event ev[128];
	uint64_t n = 0, next_progress = 1 << 16;
	for (;;) {
		/* Runs of events take the reader's fast path; everything else,
		 * and whatever it leaves, comes from reader_next(). */
		size_t nev = reader_events(rd, ev, sizeof(ev) / sizeof(ev[0]));
		for (size_t i = 0; i < nev && rc >= 0; i++)
			rc = on_event(ld, proc, &ev[i]);
		if (rc < 0)
			break;
		if (!nev) {
			if ((rc = reader_next(rd, &r)) <= 0)
				break;
			if ((rc = on_record(ld, proc, &r, &saw_header)) < 0)
				break;
		}
		n += nev ? nev : 1;
		if (n >= next_progress && reader_size(rd)) {
			next_progress = n + (1 << 16);
			progress(ld, "reading %s: %d%%", path,
				 (int)(reader_offset(rd) * 100 / reader_size(rd)));
		}
	}
	if (rc < 0) {
		if (asprintf(err, "%s: %s", path, strerror(-rc)) < 0)
			*err = NULL;
		reader_close(rd);
		return rc;
	}
	pr->duration_ns = ld->pstate[proc].last_time;
	if (!pr->exe)
		pr->exe = strdup("?"), pr->cmdline = strdup("");
	if (!saw_header)
		profile_warn(p, "%s: the header record is missing; process details unknown", path);
	if (reader_damage(rd)) {
		free(pr->damage);
		pr->damage = strdup(reader_damage(rd));
		profile_warn(p, "%s: %s", path, reader_damage(rd));
	}
	if (pr->lost_samples)
		profile_warn(p, "%s: %" PRIu64 " samples lost (the writer fell behind)", path,
			     pr->lost_samples);
	if (ld->pstate[proc].bad_events)
		profile_warn(
		    p, "%s: %" PRIu64 " allocation events with impossible sizes skipped (damaged dump?)",
		    path, ld->pstate[proc].bad_events);
	if (pr->lost_alloc)
		profile_warn(p, "%s: %" PRIu64 " allocation events lost", path, pr->lost_alloc);
	if (pr->cpu_unavailable)
		profile_warn(p, "%s: CPU sampling unavailable: %s", path, pr->cpu_unavailable);
	if (pr->cpu_unsampled_threads)
		profile_warn(p, "%s: %" PRIu64 " thread%s not CPU-sampled: %s", path,
			     pr->cpu_unsampled_threads, pr->cpu_unsampled_threads == 1 ? "" : "s",
			     pr->cpu_unsampled_why);
	if (pr->alloc_bypass)
		profile_warn(
		    p, "%s: %s's allocator (%s) bypasses fathom (%s): its allocations are not recorded%s",
		    path, base_of(pr->exe), base_of(pr->alloc_bypass),
		    strcmp(pr->alloc_bypass, pr->exe) ? "preloaded before it" : "linked into it",
		    strcmp(pr->alloc_bypass, pr->exe) ? "; put libfathom.so first in LD_PRELOAD" : "");
	reader_close(rd);
	return 0;
}

/* ---- symbolization ---- */

static uint32_t intern_func(struct loader *ld, const char *name, const char *file, uint32_t module,
			    int decl_line)
{
	struct profile *p = ld->p;
	const char *mname = module != FA_NONE ? p->modules[module].name : "";
	uint64_t h = hash_str(hash_str(hash_str(0xcbf29ce484222325ull, name), file), mname);
	/* Chained through the map: probe (h, k) for k = 0, 1, ... until a match or a hole. */
	for (uint64_t k = 0;; k++) {
		uint32_t *slot = hmap_slot(&ld->funcmap, h, k);
		if (!slot)
			return FA_NONE;
		if (*slot == FA_NONE) {
			if (GROW(p->funcs, ld->funcs_cap, p->nfuncs + 1) < 0)
				return FA_NONE;
			struct fa_func *f = &p->funcs[p->nfuncs];
			f->name = strdup(name);
			f->file = file ? strdup(file) : NULL;
			f->module = module;
			f->decl_line = decl_line;
			if (!f->name)
				return FA_NONE;
			*slot = (uint32_t)p->nfuncs++;
			return *slot;
		}
		struct fa_func *f = &p->funcs[*slot];
		const char *fm = f->module != FA_NONE ? p->modules[f->module].name : "";
		if (!strcmp(f->name, name) && !strcmp(fm, mname) &&
		    ((!f->file && !file) || (f->file && file && !strcmp(f->file, file)))) {
			if (!f->decl_line)
				f->decl_line = decl_line;
			return *slot;
		}
	}
}

static int add_frame(struct loader *ld, uint32_t func, uint32_t line)
{
	struct profile *p = ld->p;
	if (func == FA_NONE || GROW(p->frames, ld->frames_cap, p->nframes + 1) < 0)
		return -ENOMEM;
	p->frames[p->nframes++] = (struct fa_frame){func, line};
	return 0;
}

static uint64_t mtime_ns(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return 0;
	return (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
}

/* Whether the module file at path was written after the recording: after
 * its process started (start_real_ns, ns since the epoch) and after the
 * dump was last written, the end of the run. */
static bool changed_since(const char *path, uint64_t start_real_ns, const char *dump)
{
	uint64_t m = mtime_ns(path), d = mtime_ns(dump);
	return m && m > start_real_ns && m > d;
}

/* Creates the loc for (module or process, address) and symbolizes it: from
 * the symbols the dump carries when it has them for the module, else from
 * the module's file when that is the recorded build. */
/* The module's modification time (ns since the epoch), 0 when unknown. */
static int64_t file_mtime_ns(const char *path)
{
	struct stat st;
	if (!path || path[0] != '/' || stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

/* Whether the dump's own symbols cover module `mod` (ld->saved_mod), and
 * the facts they carry about its file (format 1.5), which stand for the
 * file's: a packed dump says what its analysis said where the file was.
 * Returns 0 or -ENOMEM. */
static int saved_module(struct loader *ld, uint32_t proc, uint32_t mod)
{
	struct fa_module *m = &ld->p->modules[mod];
	const struct symcache *saved = ld->pstate[proc].saved;
	int mi = symcache_module(saved, m->path, m->build_id, m->build_id_len);
	const char *problem;
	int64_t built;
	bool no_debuginfo;
	ld->saved_mod[mod] = mi;
	if (mi < 0 || !symcache_module_facts(saved, mi, &problem, &built, &no_debuginfo))
		return 0;
	m->symbols_problem = problem;
	m->packed_built_ns = built;
	m->no_debuginfo = no_debuginfo;
	struct symcache *keep = ld->p->procs[proc].symbols;
	return keep ? symcache_set_module(keep, m->path, m->build_id, m->build_id_len, problem, built,
					  no_debuginfo)
		    : 0;
}

static int make_loc(struct loader *ld, struct symbolizer *sym, struct sym_module **sym_mods, uint32_t proc,
		    uint32_t mod, uint64_t addr, bool is_return, uint32_t *out)
{
	struct profile *p = ld->p;
	bool py = FD_PY_IS(addr) && ld->py;
	struct sym_frame sf[32];
	if (py) {
		/* A Python frame: its own function, whatever its position. */
		py_symbol(ld->py, proc, addr, &sf[0].name, &sf[0].file, &sf[0].line, &sf[0].decl_line, &mod);
		is_return = false;
	}
	uint64_t lookup = addr - (is_return && addr ? 1 : 0);
	uint64_t key = mod != FA_NONE ? mod : (1ull << 32) | proc;
	uint32_t *slot = hmap_slot(&ld->locmap, key | (uint64_t)is_return << 40, lookup);
	if (!slot)
		return -ENOMEM;
	if (*slot != FA_NONE) {
		*out = *slot;
		return 0;
	}
	if (GROW(p->locs, ld->locs_cap, p->nlocs + 1) < 0)
		return -ENOMEM;
	uint32_t li = (uint32_t)p->nlocs++;
	*slot = li;
	*out = li;
	struct fa_loc *loc = &p->locs[li];
	loc->addr = addr;
	loc->module = mod;
	loc->offset = mod != FA_NONE ? addr - p->modules[mod].bias : addr;
	loc->frame_first = (uint32_t)p->nframes;
	loc->nframes = 0;

	int n = 0;
	struct fa_module *m = mod != FA_NONE ? &p->modules[mod] : NULL;
	if (py) {
		sf[0].start = 0;
		n = 1;
		m = NULL;
	}
	struct symcache *keep = p->procs[proc].symbols;
	if (m && ld->saved_mod[mod] == -2 && saved_module(ld, proc, mod) < 0)
		return -ENOMEM;
	if (m && ld->saved_mod[mod] >= 0) {
		/* Named at the end of the run or by fathom pack, when the file was
		 * the recorded one. */
		n = symcache_lookup(ld->pstate[proc].saved, ld->saved_mod[mod], lookup - m->bias, sf, 32);
		if (keep &&
		    symcache_add(keep, m->path, m->build_id, m->build_id_len, lookup - m->bias, sf, n) < 0)
			return -ENOMEM;
	} else if (m && sym) {
		if (!sym_mods[mod] && !m->symbols_problem) {
			const char *w;
			sym_mods[mod] = symbols_module(sym, m->path, m->build_id, m->build_id_len, &w);
			if (w)
				profile_warn(p, "%s", w);
			m->symbols_problem = sym_mods[mod] ? symbols_module_problem(sym_mods[mod]) : NULL;
			if (sym_mods[mod] && !m->symbols_problem && !m->build_id_len &&
			    changed_since(m->path, p->procs[proc].start_real_ns, p->procs[proc].path)) {
				/* No build id to tell the recorded build from another:
				 * a file written after the process started is not it. */
				m->symbols_problem =
				    "modified since the recording (and it has no build id to check)";
				profile_warn(p, "%s %s; its functions are shown as offsets", m->path,
					     m->symbols_problem);
			}
			m->no_debuginfo = sym_mods[mod] && !m->symbols_problem &&
					  !symbols_module_has_debuginfo(sym_mods[mod]);
			/* What a pack of this module must say without its file. */
			if (sym_mods[mod] && keep &&
			    symcache_set_module(
				keep, m->path, m->build_id, m->build_id_len, m->symbols_problem,
				m->symbols_problem ? 0 : file_mtime_ns(m->path), m->no_debuginfo) < 0)
				return -ENOMEM;
		}
		if (sym_mods[mod] && !m->symbols_problem) {
			n = symbols_lookup(sym, sym_mods[mod], lookup - m->bias, sf, 32);
			if (keep && symcache_add(keep, m->path, m->build_id, m->build_id_len,
						 lookup - m->bias, sf, n) < 0)
				return -ENOMEM;
		}
	}
	/* No module: JIT code, named by the perf map its runtime wrote. */
	const char *jit = !n && mod == FA_NONE && !py ? jitmap_lookup(ld->pstate[proc].jit, lookup) : NULL;
	if (jit)
		sf[n++] = (struct sym_frame){jit, NULL, 0, 0, 0};
	char fallback[96];
	if (mod != FA_NONE)
		snprintf(fallback, sizeof(fallback), "%s+0x%" PRIx64, p->modules[mod].name, loc->offset);
	else
		snprintf(fallback, sizeof(fallback), "[unknown]+0x%" PRIx64, addr);
	if (n == 0)
		sf[n++] = (struct sym_frame){NULL, NULL, 0, 0, 0};
	for (int i = 0; i < n; i++) {
		char unnamed[96];
		const char *name = sf[i].name ? sf[i].name : fallback;
		if (!sf[i].name && sf[i].start && mod != FA_NONE) {
			/* A function without a symbol: named by where it starts, so
			 * that all its addresses are one function, not one each. */
			snprintf(unnamed, sizeof(unnamed), "%s+0x%" PRIx64, p->modules[mod].name,
				 sf[i].start);
			name = unnamed;
		}
		uint32_t f = intern_func(ld, name, sf[i].file, mod, sf[i].decl_line);
		if (add_frame(ld, f, (uint32_t)(sf[i].line > 0 ? sf[i].line : 0)) < 0)
			return -ENOMEM;
	}
	/* intern_func may have grown locs' neighbours; loc itself is stable. */
	p->locs[li].nframes = (uint32_t)n;
	return 0;
}

/* Addresses no module covered when their stack was recorded (the module
 * record may come later in the file) get any module of the process that
 * covers them, the latest loaded first. All at once, by a sweep over the
 * addresses and the modules sorted by address with a heap of the modules
 * that started below the address (a max-heap: the latest loaded on top): O((n + m) log m), where a scan of
 * every module for each address was quadratic. */
struct sweep_item {
	uint64_t addr; /* the address; for a module, its start */
	uint32_t proc;
	uint32_t mod;	  /* for a module, its index */
	uint32_t *answer; /* for an address, where the answer goes */
};

static int sweep_cmp(const void *a, const void *b)
{
	const struct sweep_item *x = a, *y = b;
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int resolve_late(struct loader *ld)
{
	struct profile *p = ld->p;
	size_t nlate = 0;
	for (size_t i = 0; i < ld->nraw; i++)
		nlate += ld->raw_mod[i] == FA_NONE;
	if (!nlate || !p->nmodules)
		return 0;
	struct sweep_item *addrs = malloc(nlate * sizeof(*addrs));
	struct sweep_item *mods = malloc(p->nmodules * sizeof(*mods));
	uint32_t *open = malloc(p->nmodules * sizeof(*open));
	if (!addrs || !mods || !open) {
		free(addrs);
		free(mods);
		free(open);
		return -ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < ld->nraw; i++)
		if (ld->raw_mod[i] == FA_NONE)
			addrs[k++] =
			    (struct sweep_item){ld->raw_addr[i], ld->raw_proc[i], FA_NONE, &ld->raw_mod[i]};
	qsort(addrs, nlate, sizeof(*addrs), sweep_cmp);
	for (uint32_t i = 0; i < p->nmodules; i++)
		mods[i] = (struct sweep_item){p->modules[i].start, p->modules[i].proc, i, NULL};
	qsort(mods, p->nmodules, sizeof(*mods), sweep_cmp);
	size_t next = 0, nopen = 0;
	uint32_t proc = FA_NONE;
	for (size_t i = 0; i < nlate; i++) {
		if (addrs[i].proc != proc) {
			proc = addrs[i].proc;
			nopen = 0;
			while (next < p->nmodules && mods[next].proc < proc)
				next++;
		}
		while (next < p->nmodules && mods[next].proc == proc && mods[next].addr <= addrs[i].addr)
			u32_maxheap_push(open, &nopen, mods[next++].mod);
		/* A module that ends at or below this address ends below every
		 * later one too. */
		while (nopen && p->modules[open[0]].end <= addrs[i].addr)
			u32_maxheap_pop(open, &nopen);
		*addrs[i].answer = nopen ? open[0] : FA_NONE;
	}
	free(addrs);
	free(mods);
	free(open);
	return 0;
}

static int symbolize(struct loader *ld)
{
	struct profile *p = ld->p;
	struct symbolizer *sym =
	    ld->opts && ld->opts->no_symbols
		? NULL
		: symbols_new(ld->opts ? ld->opts->debug_dirs : NULL,
			      (ld->opts && ld->opts->no_debuginfod ? 0 : SYM_DEBUGINFOD) |
				  (ld->progress ? SYM_PROGRESS : 0));
	/* Python modules are made before the arrays by module. */
	int rc = resolve_late(ld) < 0 ? -ENOMEM : python_stacks(ld);
	struct sym_module **sym_mods = calloc(p->nmodules + 1, sizeof(*sym_mods));
	uint32_t unknown_loc = FA_NONE;
	size_t undefined = 0;
	if (rc < 0 || !sym_mods || (!sym && !(ld->opts && ld->opts->no_symbols)) ||
	    !(ld->saved_mod = malloc((p->nmodules + 1) * sizeof(*ld->saved_mod)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p->nmodules; i++)
		ld->saved_mod[i] = -2;
	for (size_t i = 0; ld->opts && ld->opts->keep_symbols && i < p->nprocs; i++)
		if (!(p->procs[i].symbols = symcache_new())) {
			rc = -ENOMEM;
			goto out;
		}
	/* One more pool entry: the unknown stack's loc, shared by every stack
	 * without frames; and a loc per distinct address as a return address. */
	size_t unknown_off = ld->npool;
	if (GROW(ld->pool, ld->pool_cap, ld->npool + 1) < 0 ||
	    !(ld->raw_loc = malloc((ld->nraw + 1) * sizeof(uint32_t)))) {
		rc = -ENOMEM;
		goto out;
	}
	memset(ld->raw_loc, 0xff, (ld->nraw + 1) * sizeof(uint32_t));
	for (size_t s = 0; s < p->nstacks; s++) {
		struct fa_stack *st = &p->stacks[s];
		struct rawstack *r = &ld->raw_stacks[s];
		if ((s & 0x3ff) == 0)
			progress(ld, "symbolizing: %zu of %zu stacks, %zu addresses", s, p->nstacks,
				 p->nlocs);
		if (!r->defined || r->depth == 0) {
			if (!r->defined)
				undefined++;
			if (unknown_loc == FA_NONE) {
				if (GROW(p->locs, ld->locs_cap, p->nlocs + 1) < 0) {
					rc = -ENOMEM;
					goto out;
				}
				unknown_loc = (uint32_t)p->nlocs++;
				p->locs[unknown_loc] =
				    (struct fa_loc){0, FA_NONE, 0, (uint32_t)p->nframes, 1};
				if ((rc = add_frame(ld, intern_func(ld, "[unknown stack]", NULL, FA_NONE, 0),
						    0)) < 0)
					goto out;
				ld->pool[unknown_off] = unknown_loc;
			}
			r->off = unknown_off;
			st->depth = 1;
			continue;
		}
		st->depth = r->depth;
		uint32_t *frames = ld->pool + r->off;
		for (uint32_t i = 0; i < r->depth; i++) {
			uint32_t id = frames[i];
			bool ret = i > 0 || r->leaf_ret;
			if (ret && ld->raw_loc[id] != FA_NONE) {
				frames[i] = ld->raw_loc[id];
				continue;
			}
			if ((rc = make_loc(ld, sym, sym_mods, st->proc, ld->raw_mod[id], ld->raw_addr[id],
					   ret, &frames[i])) < 0)
				goto out;
			if (ret)
				ld->raw_loc[id] = frames[i];
		}
	}
	/* The pool is final: trimmed, handed to the profile, and the stacks
	 * pointed into it. */
	uint32_t *pool = realloc(ld->pool, (unknown_off + 1) * sizeof(*pool));
	if (pool)
		ld->pool = pool;
	p->stack_pool = ld->pool;
	p->nstack_pool = unknown_off + 1;
	ld->pool = NULL;
	for (size_t s = 0; s < p->nstacks; s++)
		p->stacks[s].locs = p->stack_pool + ld->raw_stacks[s].off;
	if (undefined)
		profile_warn(
		    p, "%zu stack%s used but never defined (the dump lost them); shown as [unknown stack]",
		    undefined, undefined == 1 ? " was" : "s were");
	const char *sw = symbols_summary(sym);
	if (sw)
		profile_warn(p, "%s", sw);
out:
	free(sym_mods);
	symbols_free(sym);
	return rc;
}

static int finish_heaps(struct loader *ld)
{
	struct profile *p = ld->p;
	int rc = 0;
	/* Tick points of processes without a heap replay first, then the replays' own. */
	if (ld->nticks) {
		struct fa_point *t = realloc(p->timeline, (p->ntimeline + ld->nticks) * sizeof(*t));
		if (!t)
			return -ENOMEM;
		memcpy(t + p->ntimeline, ld->ticks, ld->nticks * sizeof(*t));
		p->timeline = t;
		p->ntimeline += ld->nticks;
	}
	rc = maps_finish(ld->maps, p);
	ld->maps = NULL;
	for (size_t i = 0; i < p->nprocs; i++) {
		if (!ld->pstate[i].heap)
			continue;
		int r = heap_finish(ld->pstate[i].heap, p, (uint32_t)i);
		ld->pstate[i].heap = NULL;
		if (r < 0 && !rc)
			rc = r;
	}
	return rc;
}

static void loader_free(struct loader *ld)
{
	for (size_t i = 0; ld->pstate && i < ld->p->nprocs; i++) {
		free(ld->pstate[i].stack_ids);
		/* Kept: module facts and embedded sources are read later. */
		ld->p->procs[i].saved = ld->pstate[i].saved;
		jitmap_free(ld->pstate[i].jit);
		if (ld->pstate[i].heap)
			heap_finish(ld->pstate[i].heap, ld->p, (uint32_t)i);
	}
	free(ld->pstate);
	free(ld->saved_mod);
	free(ld->raw_stacks);
	free(ld->mod_nodes);
	free(ld->pool);
	free(ld->raw_addr);
	free(ld->raw_mod);
	free(ld->raw_proc);
	free(ld->raw_loc);
	free(ld->rawmap.e);
	free(ld->ticks);
	free(ld->stackmap.e);
	free(ld->threadmap.e);
	free(ld->last_tstack);
	free(ld->tstack_map.e);
	free(ld->modmap.e);
	free(ld->locmap.e);
	free(ld->funcmap.e);
	py_model_free(ld->py);
	maps_loader_free(ld->maps);
}

/* The files of rotated series read in part: said, and a later file's CPU
 * account left out (its threads' measured time covers their whole life,
 * its samples only the file). */
static int warn_series(struct profile *p)
{
	for (size_t i = 0; i < p->nprocs; i++) {
		struct fa_process *pr = &p->procs[i];
		char more[96] = "";
		if (pr->next_file > pr->last_file)
			snprintf(more, sizeof(more), "; it goes on in file %u, not read", pr->next_file);
		int rc = 0;
		if (pr->first_file > 1) {
			uint64_t from = 0;
			for (size_t k = 0; k < pr->nmarks && !from; k++)
				if (pr->marks[k].what == FD_WIN_ROTATE)
					from = pr->marks[k].time_ns;
			pr->cpu_threads = pr->cpu_measured_ns = 0;
			rc = profile_warn(
			    p,
			    "%s is file %u of a rotated recording of pid %d, read without the files before "
			    "it: it starts %.2f s into the run; blocks allocated before that are unknown "
			    "(%" PRIu64
			    " frees of them ignored) and its CPU account is not checked%s; give every file "
			    "of the series to read the whole recording",
			    pr->path, pr->first_file, pr->pid, (double)from / 1e9, pr->frees_unknown, more);
		} else if (more[0]) {
			rc = profile_warn(
			    p,
			    "%s begins a rotated recording of pid %d (files 1 to %u read)%s; give every "
			    "file of the series to read the whole recording",
			    pr->path, pr->pid, pr->last_file, more);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Dumps of different `fathom record` runs merged by a glob that caught old
 * runs too: said, with how many dumps each run has. */
static void warn_runs(struct profile *p)
{
	size_t nruns = 0, shown = 0;
	char list[512] = "";
	for (size_t i = 0; i < p->nprocs; i++) {
		const char *id = p->procs[i].run_id;
		bool first = id != NULL;
		for (size_t j = 0; first && j < i; j++)
			first = !p->procs[j].run_id || strcmp(p->procs[j].run_id, id);
		if (!first)
			continue;
		size_t n = 0;
		for (size_t j = i; j < p->nprocs; j++)
			n += p->procs[j].run_id && !strcmp(p->procs[j].run_id, id);
		nruns++;
		size_t l = strlen(list);
		if (shown++ < 4)
			snprintf(list + l, sizeof(list) - l, "%s%s: %zu dump%s", l ? ", " : "", id, n,
				 n == 1 ? "" : "s");
	}
	if (nruns > 1)
		profile_warn(
		    p,
		    "these dumps come from %zu different runs (%s%s): they are merged as one; a run's dumps "
		    "are fathom.RUN.*.fdump, and a command given no file reads the latest run",
		    nruns, list, shown > 4 ? ", ..." : "");
}

/* A thread that holds at least 1/CPU_WAIT_SHARE of the profile's CPU
 * weight and waited for a CPU more than 1/CPU_WAIT_OF of the time it was
 * runnable (format 1.7's scheduler account): its CPU samples may be biased,
 * and the report says so. The CPU clock's timer expires at the kernel's
 * tick, and only while the thread runs: a thread preempted at its yield
 * points resumes in the same code, and the tick after a resume lands there
 * more often than its share (an event loop's coroutine read 75-78% for a
 * true 60% with the thread waiting 36-40% of its runnable time); work in
 * fixed rounds can alias with the tick the same way. */
#define CPU_WAIT_SHARE 20 /* 5% of the CPU weight */
#define CPU_WAIT_OF 10	  /* 10% of its runnable time */
/* A bias shows only over many samples: a thread that ran fewer sampling
 * periods than this is left alone (its few samples say little anyway; a
 * 20 ms test program on a busy machine was warned about). */
#define CPU_WAIT_MIN_PERIODS 10

static int warn_cpu_waits(struct profile *p)
{
	int64_t total = 0;
	for (size_t t = 0; t < p->nthreads; t++)
		if (p->procs[p->threads[t].proc].clock == FD_CLOCK_CPU && p->threads[t].cpu > 0)
			total += p->threads[t].cpu;
	for (size_t i = 0; i < p->nthreads && total > 0; i++) {
		const struct fa_thread *t = &p->threads[i];
		uint64_t runnable = t->run_ns + t->runq_ns;
		unsigned hz = p->procs[t->proc].hz;
		if (!t->sched || p->procs[t->proc].clock != FD_CLOCK_CPU || t->cpu * CPU_WAIT_SHARE < total ||
		    !runnable || t->runq_ns * CPU_WAIT_OF <= runnable || !hz ||
		    t->run_ns < CPU_WAIT_MIN_PERIODS * (1000000000ull / hz))
			continue;
		int rc = profile_warn(
		    p,
		    "%s: thread %d (%s) waited for a CPU %.0f%% of the time it was runnable (%.2f s "
		    "of %.2f s; the machine was busy): its CPU samples land at the kernel's tick, so "
		    "the shares of code that yields or runs in fixed rounds may be biased; re-record "
		    "on an idle machine or with more CPUs",
		    p->procs[t->proc].path, t->tid, t->name ? t->name : "",
		    100.0 * (double)t->runq_ns / (double)runnable, (double)t->runq_ns / 1e9,
		    (double)runnable / 1e9);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int profile_load(struct profile *p, char *const *paths, size_t npaths, const struct profile_opts *opts,
		 char **err)
{
	memset(p, 0, sizeof(*p));
	*err = NULL;
	struct loader ld = {.p = p, .opts = opts};
	p->has_times = opts && opts->keep_times;
	ld.progress = !(opts && opts->quiet) && isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &ld.t0);
	int rc = 0;
	if (npaths == 0) {
		if (asprintf(err, "no dump files given") < 0)
			*err = NULL;
		return -EINVAL;
	}
	/* The files of a rotated series are read one after the other, in
	 * order, into one process. */
	struct series_file *sf = malloc(npaths * sizeof(*sf));
	size_t *order = malloc(npaths * sizeof(*order));
	if (!sf || !order || series_order(paths, npaths, sf, order) < 0) {
		free(sf);
		free(order);
		rc = -ENOMEM;
		goto fail;
	}
	for (size_t k = 0; k < npaths && rc >= 0; k++) {
		const struct series_file *f = &sf[order[k]];
		uint32_t cont = FA_NONE;
		for (size_t i = p->nprocs; f->number > 1 && i-- > 0;)
			if (series_same(&ld.pstate[i].series, f) && p->procs[i].last_file < f->number) {
				cont = (uint32_t)i;
				break;
			}
		rc = load_file(&ld, paths[order[k]], f, cont, err);
	}
	free(sf);
	free(order);
	if (rc < 0)
		goto out;
	if (!(opts && opts->several_runs))
		warn_runs(p);
	if ((rc = wait_finish(p)) < 0)
		goto fail;
	/* Memory weights go into the stacks before symbolization makes their locs. */
	if ((rc = finish_heaps(&ld)) < 0 || (rc = warn_series(p)) < 0 || (rc = warn_cpu_waits(p)) < 0)
		goto fail;
	if ((rc = symbolize(&ld)) < 0)
		goto fail;
	static const struct profile_opts none;
	if ((rc = suppress_apply(p, opts ? opts : &none, err)) < 0)
		goto fail;
	for (size_t s = 0; s < p->nstacks; s++)
		for (int m = 0; m < FA_NMETRICS; m++)
			if (m != FA_PEAK_BYTES || p->stacks[s].w[m] > 0)
				p->total[m] += p->stacks[s].w[m];
	for (size_t t = 0; t < p->nthreads; t++)
		if (!p->threads[t].name && !(p->threads[t].name = strdup("")))
			rc = -ENOMEM;
	goto out;
fail:
	if (!*err && asprintf(err, "loading the profile: %s", strerror(-rc)) < 0)
		*err = NULL;
out:
	if (ld.shown)
		fprintf(stderr, "\r\033[K");
	loader_free(&ld);
	if (rc < 0)
		profile_free(p);
	return rc;
}

void profile_free(struct profile *p)
{
	suppress_free(p);
	maps_free(p->maps);
	for (size_t i = 0; i < p->nprocs; i++) {
		free((char *)p->procs[i].path);
		free(p->procs[i].exe);
		free(p->procs[i].cmdline);
		free(p->procs[i].damage);
		free(p->procs[i].cpu_unavailable);
		free(p->procs[i].cpu_unsampled_why);
		symcache_free(p->procs[i].symbols);
		symcache_free(p->procs[i].saved);
		free(p->procs[i].run_id);
		free(p->procs[i].alloc_bypass);
		free(p->procs[i].python.path);
		marks_free(&p->procs[i]);
	}
	for (size_t i = 0; i < p->nmodules; i++)
		free(p->modules[i].path);
	for (size_t i = 0; i < p->nthreads; i++)
		free(p->threads[i].name);
	for (size_t i = 0; i < p->nfuncs; i++) {
		free(p->funcs[i].name);
		free(p->funcs[i].file);
	}
	uintptr_t pool = (uintptr_t)p->stack_pool, pool_end = pool + p->nstack_pool * sizeof(uint32_t);
	for (size_t i = 0; i < p->nstacks; i++)
		if ((uintptr_t)p->stacks[i].locs < pool || (uintptr_t)p->stacks[i].locs >= pool_end)
			free(p->stacks[i].locs);
	free(p->stack_pool);
	for (size_t i = 0; i < p->nwarnings; i++)
		free(p->warnings[i]);
	free(p->procs);
	free(p->modules);
	free(p->threads);
	free(p->funcs);
	free(p->frames);
	free(p->locs);
	free(p->stacks);
	free(p->tstacks);
	free(p->tsamples);
	free(p->timeline);
	free(p->warnings);
	wait_free(p->waits);
	memset(p, 0, sizeof(*p));
}

size_t profile_stack_frames(const struct profile *p, const struct fa_stack *s, struct fa_frame *out,
			    size_t max)
{
	size_t n = 0;
	for (uint32_t i = 0; i < s->depth; i++) {
		const struct fa_loc *l = &p->locs[s->locs[i]];
		for (uint32_t k = 0; k < l->nframes; k++, n++)
			if (n < max)
				out[n] = p->frames[l->frame_first + k];
	}
	return n;
}

int profile_tstacks_by_thread(const struct profile *p, uint32_t **first, uint32_t **by)
{
	uint32_t *f = calloc(p->nthreads + 2, sizeof(*f));
	uint32_t *b = malloc((p->ntstacks ? p->ntstacks : 1) * sizeof(*b));
	if (!f || !b) {
		free(f);
		free(b);
		return -ENOMEM;
	}
	/* A counting sort: counts at t + 2, their prefix sums, then each entry
	 * placed at its thread's next slot, which leaves f[t] = the start. */
	for (size_t i = 0; i < p->ntstacks; i++)
		f[p->tstacks[i].thread + 2]++;
	for (size_t t = 0; t < p->nthreads; t++)
		f[t + 2] += f[t + 1];
	for (size_t i = 0; i < p->ntstacks; i++)
		b[f[p->tstacks[i].thread + 1]++] = (uint32_t)i;
	*first = f;
	*by = b;
	return 0;
}
