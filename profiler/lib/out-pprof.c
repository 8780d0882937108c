/* pprof export: the profile as gzip-compressed profile.proto, with its own small
 * protobuf encoder (varints and length-delimited fields are all it takes). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "outputs.h"
#include "util.h"

/* profile.proto field numbers (see docs/REFERENCE or pprof's profile.proto). */
enum {
	P_SAMPLE_TYPE = 1,
	P_SAMPLE = 2,
	P_MAPPING = 3,
	P_LOCATION = 4,
	P_FUNCTION = 5,
	P_STRING = 6,
	P_TIME = 9,
	P_DURATION = 10,
	P_PERIOD_TYPE = 11,
	P_PERIOD = 12,
	P_COMMENT = 13,
	P_DEFAULT_TYPE = 14,
};
enum { VT_TYPE = 1, VT_UNIT = 2 };
enum { S_LOCATION = 1, S_VALUE = 2, S_LABEL = 3 };
enum {
	M_ID = 1,
	M_START = 2,
	M_LIMIT = 3,
	M_OFFSET = 4,
	M_FILENAME = 5,
	M_BUILD_ID = 6,
	M_HAS_FUNCTIONS = 7,
	M_HAS_FILENAMES = 8,
	M_HAS_LINES = 9,
	M_HAS_INLINE = 10,
};
enum { L_ID = 1, L_MAPPING = 2, L_ADDRESS = 3, L_LINE = 4 };
enum { LN_FUNCTION = 1, LN_LINE = 2 };
enum { F_ID = 1, F_NAME = 2, F_SYSTEM_NAME = 3, F_FILENAME = 4, F_START_LINE = 5 };

struct pb {
	uint8_t *p;
	size_t len, cap;
	int err;
};

static int pb_reserve(struct pb *b, size_t n)
{
	if (b->len + n <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + n)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p) {
		b->err = -ENOMEM;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	if (pb_reserve(b, 10))
		return;
	while (v >= 0x80) {
		b->p[b->len++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	b->p[b->len++] = (uint8_t)v;
}

/* A varint field; zero is the default and is left out, as proto3 does. */
static void pb_uint(struct pb *b, int field, uint64_t v)
{
	if (!v)
		return;
	pb_varint(b, (uint64_t)field << 3 | 0);
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, int field, const void *data, size_t len)
{
	pb_varint(b, (uint64_t)field << 3 | 2);
	pb_varint(b, len);
	if (pb_reserve(b, len))
		return;
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

/* Appends the message built in sub as field `field` of b, and empties sub. */
static void pb_message(struct pb *b, int field, struct pb *sub)
{
	if (sub->err)
		b->err = sub->err;
	pb_bytes(b, field, sub->p, sub->len);
	sub->len = 0;
}

/* The string table: every string once, "" first. */
struct strtab {
	const char **s;
	size_t n, cap;
	uint32_t *hash;
	size_t mask;
	int err;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static uint64_t str_id(struct strtab *t, const char *s)
{
	if (!s)
		s = "";
	if ((t->n + 1) * 2 > t->mask + 1) {
		size_t cap = t->mask ? (t->mask + 1) * 2 : 1024;
		uint32_t *h = malloc(cap * sizeof(*h));
		if (!h) {
			t->err = -ENOMEM;
			return 0;
		}
		memset(h, 0xff, cap * sizeof(*h));
		for (size_t i = 0; i < t->n; i++) {
			size_t k = hash_str(t->s[i]) & (cap - 1);
			while (h[k] != UINT32_MAX)
				k = (k + 1) & (cap - 1);
			h[k] = (uint32_t)i;
		}
		free(t->hash);
		t->hash = h;
		t->mask = cap - 1;
	}
	size_t k = hash_str(s) & t->mask;
	for (; t->hash[k] != UINT32_MAX; k = (k + 1) & t->mask)
		if (!strcmp(t->s[t->hash[k]], s))
			return t->hash[k];
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		const char **n = realloc(t->s, cap * sizeof(*n));
		if (!n) {
			t->err = -ENOMEM;
			return 0;
		}
		t->s = n;
		t->cap = cap;
	}
	t->s[t->n] = s;
	t->hash[k] = (uint32_t)t->n;
	return t->n++;
}

/* One column of the sample values. */
struct column {
	const char *type, *unit;
	int metric;
	bool cpu_ns; /* FA_CPU converted to nanoseconds */
};

static size_t pick_columns(const struct profile *p, const struct out_opts *o, struct column *cols, int *deflt)
{
	static const struct column mem[] = {
	    {"alloc_objects", "count", FA_ALLOC_CALLS, false},
	    {"alloc_space", "bytes", FA_ALLOC_BYTES, false},
	    {"temp_objects", "count", FA_TEMP_CALLS, false},
	    {"inuse_objects", "count", FA_LEAKED_BLOCKS, false},
	    {"inuse_space", "bytes", FA_LEAKED_BYTES, false},
	    {"peak_space", "bytes", FA_PEAK_BYTES, false},
	};
	size_t n = 0;
	*deflt = -1;
	bool cpu = o->metric_set ? o->metric == FA_CPU : agg_has_metric(p, FA_CPU);
	if (cpu) {
		cols[n++] = (struct column){"samples", "count", FA_CPU, false};
		*deflt = (int)n;
		cols[n++] = (struct column){"cpu", "nanoseconds", FA_CPU, true};
	}
	if (o->tid)
		return n; /* only CPU weight is known per thread */
	/* Waiting time (record --wait), in the estimate's nanoseconds. */
	if (o->metric_set ? o->metric == FA_WAIT : agg_has_metric(p, FA_WAIT)) {
		if (*deflt < 0)
			*deflt = (int)n;
		cols[n++] = (struct column){"wait", "nanoseconds", FA_WAIT, false};
	}
	bool any_mem = false;
	for (size_t i = 0; i < p->nprocs; i++)
		any_mem |= p->procs[i].alloc_mode != 0;
	any_mem |= agg_has_metric(p, FA_ALLOC_CALLS);
	for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
		if (o->metric_set ? o->metric != mem[i].metric : !any_mem)
			continue;
		if (*deflt < 0 || (!cpu && mem[i].metric == FA_ALLOC_BYTES))
			*deflt = (int)n;
		cols[n++] = mem[i];
	}
	return n;
}

enum { LB_KEY = 1, LB_STR = 2, LB_NUM = 3 };

/* One Sample: the stack's locations leaf first, one value per column (raw
 * weights, CPU converted to nanoseconds at its process's rate), and the
 * thread as labels when th is given. */
static void emit_sample(struct pb *b, struct pb *m, struct pb *sub, struct strtab *st,
			const struct profile *p, const struct fa_stack *s, const struct column *cols,
			size_t ncols, const int64_t *raw, const struct fa_thread *th)
{
	unsigned hz = s->proc < p->nprocs && p->procs[s->proc].hz ? p->procs[s->proc].hz : 100;
	for (uint32_t d = 0; d < s->depth; d++)
		if (s->locs[d] < p->nlocs)
			pb_varint(sub, (uint64_t)s->locs[d] + 1);
	pb_message(m, S_LOCATION, sub);
	for (size_t c = 0; c < ncols; c++)
		pb_varint(sub,
			  cols[c].cpu_ns ? (uint64_t)((double)raw[c] * 1e9 / hz + 0.5) : (uint64_t)raw[c]);
	pb_message(m, S_VALUE, sub);
	if (th) {
		/* The string table keeps pointers: only strings that outlive it go in. */
		if (th->name && *th->name) {
			pb_uint(sub, LB_KEY, str_id(st, "thread"));
			pb_uint(sub, LB_STR, str_id(st, th->name));
			pb_message(m, S_LABEL, sub);
		}
		pb_uint(sub, LB_KEY, str_id(st, "tid"));
		pb_uint(sub, LB_NUM, (uint64_t)th->tid);
		pb_message(m, S_LABEL, sub);
	}
	pb_message(b, P_SAMPLE, m);
}

static const char hexdig[] = "0123456789abcdef";

/* The mapping that is the main program goes first, as pprof expects. */
static uint32_t main_module(const struct profile *p)
{
	if (!p->nprocs || !p->procs[0].exe)
		return p->nmodules ? 0 : FA_NONE;
	for (size_t i = 0; i < p->nmodules; i++)
		if (p->modules[i].proc == 0 && p->modules[i].path &&
		    !strcmp(p->modules[i].path, p->procs[0].exe))
			return (uint32_t)i;
	for (size_t i = 0; i < p->nmodules; i++)
		if (p->modules[i].proc == 0)
			return (uint32_t)i;
	return p->nmodules ? 0 : FA_NONE;
}

int pprof_encode(const struct profile *p, const struct out_opts *o, uint8_t **out, size_t *outlen)
{
	struct pb b = {0}, m = {0}, sub = {0};
	struct strtab st = {0};
	struct column cols[16];
	uint32_t *mapid = NULL;
	uint8_t *modflags = NULL;
	char(*hexids)[129] = NULL; /* build-ids in hex: the string table points into them */
	char **owned = NULL;	   /* other strings made here that the table points into */
	size_t nowned = 0;
	int64_t *raw = NULL, *tidcpu = NULL, *covered = NULL;
	int rc = 0, deflt;
	str_id(&st, "");

	size_t ncols = pick_columns(p, o, cols, &deflt);
	if (!ncols) {
		rc = -ENODATA;
		goto out;
	}
	for (size_t i = 0; i < ncols; i++) {
		pb_uint(&m, VT_TYPE, str_id(&st, cols[i].type));
		pb_uint(&m, VT_UNIT, str_id(&st, cols[i].unit));
		pb_message(&b, P_SAMPLE_TYPE, &m);
	}
	/* With a thread chosen, CPU weight comes from that thread's stacks only. */
	if (o->tid) {
		tidcpu = malloc((p->nstacks ? p->nstacks : 1) * sizeof(*tidcpu));
		if (!tidcpu ||
		    agg_stack_weights(p, &(struct agg_filter){.tid = o->tid}, FA_CPU, tidcpu, NULL) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
	raw = malloc(ncols * sizeof(*raw));
	if (!raw) {
		rc = -ENOMEM;
		goto out;
	}
	/* With thread labels, CPU goes in one sample per thread and stack, so
	 * that pprof can focus on a thread (-tagfocus thread=NAME); memory
	 * weights are not kept per thread and go in one sample per stack, with
	 * whatever CPU the per-thread samples did not cover. Labels are asked
	 * for, not the default: a stack that ran on many threads becomes as many
	 * samples, and pprof reads labelled samples several times slower. */
	size_t nsamples = 0;
	bool per_thread = o->thread_labels && cols[0].metric == FA_CPU && !o->tid && p->ntstacks > 0;
	if (per_thread) {
		covered = calloc(p->nstacks ? p->nstacks : 1, sizeof(*covered));
		if (!covered) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < p->ntstacks; i++) {
			const struct fa_thread_stack *ts = &p->tstacks[i];
			if (ts->cpu <= 0 || ts->stack >= p->nstacks || ts->thread >= p->nthreads)
				continue;
			for (size_t c = 0; c < ncols; c++)
				raw[c] = cols[c].metric == FA_CPU ? ts->cpu : 0;
			emit_sample(&b, &m, &sub, &st, p, &p->stacks[ts->stack], cols, ncols, raw,
				    &p->threads[ts->thread]);
			covered[ts->stack] += ts->cpu;
			nsamples++;
		}
	}
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct fa_stack *s = &p->stacks[i];
		bool any = false;
		for (size_t c = 0; c < ncols; c++) {
			int64_t w = tidcpu ? tidcpu[i] : s->w[cols[c].metric];
			if (covered && cols[c].metric == FA_CPU)
				w -= covered[i];
			raw[c] = w > 0 ? w : 0;
			any |= w > 0;
		}
		if (!any)
			continue;
		emit_sample(&b, &m, &sub, &st, p, s, cols, ncols, raw, NULL);
		nsamples++;
	}
	if (!nsamples) {
		rc = -ENODATA;
		goto out;
	}

	/* What each module's locations tell: functions, files, lines, inlining. */
	modflags = calloc(p->nmodules ? p->nmodules : 1, 1);
	mapid = calloc(p->nmodules ? p->nmodules : 1, sizeof(*mapid));
	hexids = calloc(p->nmodules ? p->nmodules : 1, sizeof(*hexids));
	if (!modflags || !mapid || !hexids) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p->nlocs; i++) {
		const struct fa_loc *l = &p->locs[i];
		if (l->module >= p->nmodules)
			continue;
		for (uint32_t k = 0; k < l->nframes && l->frame_first + k < p->nframes; k++) {
			const struct fa_frame *fr = &p->frames[l->frame_first + k];
			const struct fa_func *fn = fr->func < p->nfuncs ? &p->funcs[fr->func] : NULL;
			if (fn && fn->name && !strstr(fn->name, "+0x"))
				modflags[l->module] |= 1;
			if (fn && fn->file)
				modflags[l->module] |= 2;
			if (fr->line)
				modflags[l->module] |= 4;
		}
		if (l->nframes > 1)
			modflags[l->module] |= 8;
	}
	uint32_t first = main_module(p), next_id = 1;
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < p->nmodules; i++) {
			if ((pass == 0) != (i == first))
				continue;
			const struct fa_module *md = &p->modules[i];
			mapid[i] = next_id;
			pb_uint(&m, M_ID, next_id++);
			pb_uint(&m, M_START, md->start);
			pb_uint(&m, M_LIMIT, md->end);
			/* The first PT_LOAD segment of an ELF file starts at file offset 0. */
			pb_uint(&m, M_OFFSET, 0);
			pb_uint(&m, M_FILENAME, str_id(&st, md->path));
			if (md->build_id_len) {
				char *hex = hexids[i];
				for (unsigned k = 0; k < md->build_id_len && k < 64; k++) {
					hex[2 * k] = hexdig[md->build_id[k] >> 4];
					hex[2 * k + 1] = hexdig[md->build_id[k] & 15];
				}
				hex[2 * (md->build_id_len < 64 ? md->build_id_len : 64)] = 0;
				pb_uint(&m, M_BUILD_ID, str_id(&st, hex));
			}
			pb_uint(&m, M_HAS_FUNCTIONS, modflags[i] & 1 ? 1 : 0);
			pb_uint(&m, M_HAS_FILENAMES, modflags[i] & 2 ? 1 : 0);
			pb_uint(&m, M_HAS_LINES, modflags[i] & 4 ? 1 : 0);
			pb_uint(&m, M_HAS_INLINE, modflags[i] & 8 ? 1 : 0);
			pb_message(&b, P_MAPPING, &m);
		}

	for (size_t i = 0; i < p->nlocs; i++) {
		const struct fa_loc *l = &p->locs[i];
		pb_uint(&m, L_ID, i + 1);
		if (l->module < p->nmodules)
			pb_uint(&m, L_MAPPING, mapid[l->module]);
		pb_uint(&m, L_ADDRESS, l->addr);
		/* Innermost (inlined) function first, the real function last: pprof's order too. */
		for (uint32_t k = 0; k < l->nframes && l->frame_first + k < p->nframes; k++) {
			const struct fa_frame *fr = &p->frames[l->frame_first + k];
			if (fr->func >= p->nfuncs)
				continue;
			pb_uint(&sub, LN_FUNCTION, (uint64_t)fr->func + 1);
			pb_uint(&sub, LN_LINE, fr->line);
			pb_message(&m, L_LINE, &sub);
		}
		pb_message(&b, P_LOCATION, &m);
	}
	for (size_t i = 0; i < p->nfuncs; i++) {
		const struct fa_func *fn = &p->funcs[i];
		uint64_t name = str_id(&st, fn->name && *fn->name ? fn->name : "[unknown]"), sys = name;
		/* pprof strips what looks like C++ template arguments from a
		 * name it takes for demangled: "<module>" of <string> code would
		 * be left empty. A system name of its own (file:name) tells it
		 * the name needs nothing. */
		if (fn->name && fn->name[0] == '<' && fn->module < p->nmodules &&
		    p->modules[fn->module].python) {
			char **o2 = realloc(owned, (nowned + 1) * sizeof(*o2));
			if (!o2 || asprintf(&o2[nowned], "%s:%s", fn->file ? fn->file : "", fn->name) < 0) {
				owned = o2 ? o2 : owned;
				rc = -ENOMEM;
				goto out;
			}
			owned = o2;
			sys = str_id(&st, owned[nowned++]);
		}
		pb_uint(&m, F_ID, i + 1);
		pb_uint(&m, F_NAME, name);
		pb_uint(&m, F_SYSTEM_NAME, sys);
		pb_uint(&m, F_FILENAME, str_id(&st, fn->file));
		pb_uint(&m, F_START_LINE, fn->decl_line > 0 ? (uint64_t)fn->decl_line : 0);
		pb_message(&b, P_FUNCTION, &m);
	}

	uint64_t start = 0, dur = 0;
	for (size_t i = 0; i < p->nprocs; i++) {
		if (p->procs[i].start_real_ns && (!start || p->procs[i].start_real_ns < start))
			start = p->procs[i].start_real_ns;
		if (p->procs[i].duration_ns > dur)
			dur = p->procs[i].duration_ns;
	}
	pb_uint(&b, P_TIME, start);
	pb_uint(&b, P_DURATION, dur);
	if (cols[0].metric == FA_CPU) {
		unsigned hz = p->nprocs && p->procs[0].hz ? p->procs[0].hz : 100;
		pb_uint(&m, VT_TYPE, str_id(&st, "cpu"));
		pb_uint(&m, VT_UNIT, str_id(&st, "nanoseconds"));
		pb_message(&b, P_PERIOD_TYPE, &m);
		pb_uint(&b, P_PERIOD, (uint64_t)(1e9 / hz + 0.5));
	} else {
		uint64_t every =
		    p->nprocs && p->procs[0].alloc_sample_bytes ? p->procs[0].alloc_sample_bytes : 1;
		pb_uint(&m, VT_TYPE, str_id(&st, "space"));
		pb_uint(&m, VT_UNIT, str_id(&st, "bytes"));
		pb_message(&b, P_PERIOD_TYPE, &m);
		pb_uint(&b, P_PERIOD, every);
	}
	if (o->version)
		pb_uint(&b, P_COMMENT, str_id(&st, o->version));
	for (size_t i = 0; i < p->nprocs && i < 16; i++)
		if (p->procs[i].cmdline)
			pb_uint(&b, P_COMMENT, str_id(&st, p->procs[i].cmdline));
	pb_uint(&b, P_DEFAULT_TYPE, str_id(&st, cols[deflt].type));
	/* The table last: every string above has been interned by now. */
	/* profile.proto's strings are proto3 strings, which decoders may
	 * reject unless they are well-formed UTF-8 (a function name may hold
	 * any bytes). */
	for (size_t i = 0; i < st.n; i++) {
		bool ok = utf8_valid(st.s[i]);
		char *clean = ok ? NULL : utf8_sanitize(st.s[i]);
		if (!ok && !clean) {
			b.err = -ENOMEM;
			break;
		}
		pb_bytes(&b, P_STRING, ok ? st.s[i] : clean, strlen(ok ? st.s[i] : clean));
		free(clean);
	}
	rc = b.err ? b.err : m.err ? m.err : sub.err ? sub.err : st.err;
out:
	free(hexids);
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(st.s);
	free(st.hash);
	free(m.p);
	free(sub.p);
	free(raw);
	free(covered);
	free(tidcpu);
	free(mapid);
	free(modflags);
	if (rc) {
		free(b.p);
		return rc;
	}
	*out = b.p;
	*outlen = b.len;
	return 0;
}

int pprof_write(FILE *f, const struct profile *p, const struct out_opts *o)
{
	uint8_t *buf;
	size_t len;
	int rc = pprof_encode(p, o, &buf, &len);
	if (rc)
		return rc;
	z_stream z;
	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip wrapper, as pprof reads. Big profiles trade ratio for speed. */
	if (deflateInit2(&z, len > (8u << 20) ? 1 : 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	uint8_t outbuf[1 << 16];
	z.next_in = buf;
	size_t left = len;
	int zr;
	do {
		uInt step = left > (1u << 30) ? (1u << 30) : (uInt)left;
		z.avail_in = step;
		left -= step;
		do {
			z.next_out = outbuf;
			z.avail_out = sizeof(outbuf);
			zr = deflate(&z, left ? Z_NO_FLUSH : Z_FINISH);
			size_t have = sizeof(outbuf) - z.avail_out;
			if (have && fwrite(outbuf, 1, have, f) != have) {
				rc = -EIO;
				break;
			}
		} while (z.avail_out == 0 && !rc);
	} while (left && !rc);
	if (!rc && zr != Z_STREAM_END)
		rc = -EIO;
	deflateEnd(&z);
	free(buf);
	return rc ? rc : out_flush(f);
}
