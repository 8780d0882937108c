/* Unit tests of the flame graph and export writers on a profile built by hand:
 * the pprof encoding read back field by field, gzip, folded stacks (merging by
 * name, inlined frames, hostile names), the SVG and speedscope JSON. The
 * escaping they share is tested in test-escape.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "fathom-dump.h"
#include "fixture.h"
#include "outfile.h"
#include "outputs.h"
#include "util.h"

/* ---- a small profile: main -> work -> (inlined) inl_helper, main -> "a;b",
 * main -> work -> malloc, and a second "work" from another file ---- */

static void make_profile(struct profile *p)
{
	fx_init(p);
	uint32_t proc = fx_process(p, "t.fdump", 100, "/usr/bin/app", "app --x");
	p->procs[proc].hz = 100;
	p->procs[proc].alloc_mode = 1;
	p->procs[proc].start_real_ns = 1700000000000000000ull;
	p->procs[proc].duration_ns = 2000000000ull;
	uint32_t libc = fx_module(p, proc, "/lib/libc.so.6", 0x7f0000000000, 0x7f0000000000, 0x7f0000200000);
	uint32_t app = fx_module(p, proc, "/usr/bin/app", 0x555500000000, 0x555500000000, 0x555500010000);
	memcpy(p->modules[app].build_id, (uint8_t[]){0xab, 0xcd, 0x01}, 3);
	p->modules[app].build_id_len = 3;
	uint32_t t100 = fx_thread(p, proc, 100, "app"), t101 = fx_thread(p, proc, 101, "worker");
	p->threads[t100].cpu = p->threads[t100].samples = 10;
	p->threads[t101].cpu = p->threads[t101].samples = 5;
	uint32_t main_ = fx_func(p, "main", "app.c", app, 10);
	uint32_t work = fx_func(p, "work", "app.c", app, 25);
	uint32_t inl = fx_func(p, "inl_helper", "app.h", app, 3);
	uint32_t ab = fx_func(p, "a;b", NULL, app, 0);
	uint32_t malloc_ = fx_func(p, "malloc", NULL, libc, 0);
	uint32_t work2 = fx_func(p, "work", "other.c", app, 7);
	uint32_t vec = fx_func(p, "std::vector<int>::push_back&\"x\"", "v.h", app, 1);
	uint32_t f_main = fx_frame(p, main_, 20);
	uint32_t f_work = fx_frame(p, work, 30);
	uint32_t f_inl = fx_frame(p, inl, 5); /* inlined into ... */
	fx_frame(p, work, 31);		      /* ... work, at line 31 */
	uint32_t f_ab = fx_frame(p, ab, 0);
	uint32_t f_malloc = fx_frame(p, malloc_, 0);
	uint32_t f_work2 = fx_frame(p, work2, 8);
	uint32_t f_vec = fx_frame(p, vec, 2);
	uint32_t l_main = fx_loc(p, 0x555500001000, app, f_main, 1);
	uint32_t l_inl = fx_loc(p, 0x555500002000, app, f_inl, 2);
	uint32_t l_work = fx_loc(p, 0x555500002100, app, f_work, 1);
	uint32_t l_ab = fx_loc(p, 0x555500003000, app, f_ab, 1);
	uint32_t l_malloc = fx_loc(p, 0x7f0000001000, libc, f_malloc, 1);
	uint32_t l_work2 = fx_loc(p, 0x555500004000, app, f_work2, 1);
	uint32_t l_vec = fx_loc(p, 0x555500005000, app, f_vec, 1);
	uint32_t s0 = fx_stack(p, proc, 2, (uint32_t[]){l_inl, l_main});
	fx_weight(p, s0, FA_CPU, 7);
	uint32_t s1 = fx_stack(p, proc, 2, (uint32_t[]){l_work, l_main});
	fx_weight(p, s1, FA_CPU, 3);
	fx_weight(p, s1, FA_ALLOC_CALLS, 2);
	fx_weight(p, s1, FA_ALLOC_BYTES, 100);
	uint32_t s2 = fx_stack(p, proc, 2, (uint32_t[]){l_ab, l_main});
	fx_weight(p, s2, FA_CPU, 1);
	uint32_t s3 = fx_stack(p, proc, 3, (uint32_t[]){l_malloc, l_work, l_main});
	fx_weight(p, s3, FA_ALLOC_CALLS, 5);
	fx_weight(p, s3, FA_ALLOC_BYTES, 500);
	fx_weight(p, s3, FA_LEAKED_BYTES, 64);
	fx_weight(p, s3, FA_LEAKED_BLOCKS, 1);
	fx_weight(p, s3, FA_PEAK_BYTES, 200);
	uint32_t s4 = fx_stack(p, proc, 2, (uint32_t[]){l_work2, l_main});
	fx_weight(p, s4, FA_CPU, 2);
	uint32_t s5 = fx_stack(p, proc, 2, (uint32_t[]){l_vec, l_main});
	fx_weight(p, s5, FA_CPU, 2);
	/* Thread 100 ran stacks 0 and 1 (7 + 3), thread 101 stacks 2, 4, 5 (1 + 2 + 2). */
	fx_tstack(p, s0, t100, 7, 7);
	fx_tstack(p, s1, t100, 3, 3);
	fx_tstack(p, s2, t101, 1, 1);
	fx_tstack(p, s4, t101, 2, 2);
	fx_tstack(p, s5, t101, 2, 2);
}

/* Runs a writer into memory and returns what it wrote (malloc'd, NUL-terminated). */
static char *capture(int (*fn)(FILE *, const struct profile *, const struct out_opts *),
		     const struct profile *p, const struct out_opts *o, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	*rc = fn(f, p, o);
	fclose(f);
	return buf;
}

static int folded_plain(FILE *f, const struct profile *p, const struct out_opts *o)
{
	return folded_write(f, p, NULL, o);
}

static void test_folded_cpu(void **state)
{
	struct profile p;
	make_profile(&p);
	struct out_opts o = {.metric = FA_CPU};
	int rc;
	char *s = capture(folded_plain, &p, &o, &rc);
	assert_int_equal(rc, 0);
	/* The two "work" functions merge by name; the inlined helper is a frame of
	 * its own above work; ';' in a name becomes ':'; lines are sorted. */
	assert_string_equal(s, "main;a:b 1\n"
			       "main;std::vector<int>::push_back&\"x\" 2\n"
			       "main;work 5\n"
			       "main;work;inl_helper 7\n");
	free(s);
	profile_free(&p);
}

static void test_folded_alloc_and_tid(void **state)
{
	struct profile p;
	make_profile(&p);
	struct out_opts o = {.metric = FA_ALLOC_BYTES};
	int rc;
	char *s = capture(folded_plain, &p, &o, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "main;work 100\nmain;work;malloc 500\n");
	free(s);
	o = (struct out_opts){.metric = FA_CPU, .tid = 101};
	s = capture(folded_plain, &p, &o, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(s, "main;a:b 1\nmain;std::vector<int>::push_back&\"x\" 2\nmain;work 2\n");
	free(s);
	o.tid = 999;
	s = capture(folded_plain, &p, &o, &rc);
	assert_int_equal(rc, -ENODATA);
	free(s);
	profile_free(&p);
}

static void test_folded_diff(void **state)
{
	struct profile p, base;
	make_profile(&p);
	/* The base: inl_helper had 1 sample instead of 7; "a;b" is gone in the new one. */
	make_profile(&base);
	base.stacks[0].w[FA_CPU] = 1;
	p.stacks[2].w[FA_CPU] = 0;
	struct out_opts o = {.metric = FA_CPU};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(folded_write(f, &p, &base, &o), 0);
	fclose(f);
	assert_string_equal(buf, "main;a:b 1 0\n"
				 "main;std::vector<int>::push_back&\"x\" 2 2\n"
				 "main;work 5 5\n"
				 "main;work;inl_helper 1 7\n");
	free(buf);
	profile_free(&p);
	profile_free(&base);
}

static void test_tree(void **state)
{
	struct profile p;
	make_profile(&p);
	struct out_opts o = {.metric = FA_CPU};
	struct flame_tree t;
	assert_int_equal(flame_build(&t, &p, o.metric, NULL), 0);
	assert_int_equal(t.total, 15);
	assert_int_equal(t.nodes[0].total, 15);
	/* root, main, work, inl_helper, a;b, vector */
	assert_int_equal(t.nnodes, 6);
	flame_sort(&t);
	uint32_t main_n = t.nodes[0].child;
	assert_string_equal(t.names[t.nodes[main_n].name], "main");
	assert_int_equal(t.nodes[main_n].total, 15);
	assert_int_equal(t.nodes[main_n].self, 0);
	uint32_t work = FA_NONE;
	for (uint32_t c = t.nodes[main_n].child; c != FA_NONE; c = t.nodes[c].next)
		if (!strcmp(t.names[t.nodes[c].name], "work"))
			work = c;
	assert_int_not_equal(work, FA_NONE);
	assert_int_equal(t.nodes[work].total, 12);
	assert_int_equal(t.nodes[work].self, 5);
	/* The heaviest path into work is the inlined call site at line 31. */
	assert_int_equal(t.nodes[work].line, 31);
	assert_int_equal(t.nodes[work].depth, 2);
	flame_free(&t);
	profile_free(&p);
}

/* ---- a minimal protobuf reader, to check the encoding independently ---- */

struct field {
	int num, wt;
	uint64_t v;
	const uint8_t *b;
	size_t len;
};

static int next_field(const uint8_t **p, const uint8_t *end, struct field *f)
{
	uint64_t key;
	if (*p >= end || fd_get_varint(p, end, &key))
		return 0;
	f->num = (int)(key >> 3);
	f->wt = (int)(key & 7);
	if (f->wt == 0) {
		assert_int_equal(fd_get_varint(p, end, &f->v), 0);
	} else if (f->wt == 2) {
		uint64_t len = 0;
		assert_int_equal(fd_get_varint(p, end, &len), 0);
		assert_true(len <= (uint64_t)(end - *p));
		f->b = *p;
		f->len = (size_t)len;
		*p += len;
	} else {
		fail_msg("unexpected wire type %d", f->wt);
	}
	return 1;
}

/* Values of a packed (or single) varint field. */
static size_t packed(const struct field *f, uint64_t *out, size_t max)
{
	if (f->wt == 0) {
		out[0] = f->v;
		return 1;
	}
	const uint8_t *p = f->b, *end = f->b + f->len;
	size_t n = 0;
	while (p < end && n < max)
		assert_int_equal(fd_get_varint(&p, end, &out[n++]), 0);
	return n;
}

struct decoded {
	char *strings[256];
	size_t nstrings;
	uint64_t types[16][2];
	size_t ntypes;
	size_t nsamples;
	uint64_t value_sum[16];
	size_t nlocs, nfuncs, nmaps;
	uint64_t first_map_id, first_map_file, first_map_build, first_map_hasfn;
	uint64_t loc1_lines[4][2]; /* (function id, line) of location id 2 */
	size_t loc1_nlines;
	uint64_t loc_ids[16], func_ids[16];
	uint64_t func_names[16];
	uint64_t period, period_type[2], default_type, time, duration;
	bool bad_sample_ref;
	uint64_t labels[64][3]; /* key, str, num */
	size_t nlabels;
};

static void decode(const uint8_t *buf, size_t len, struct decoded *d)
{
	memset(d, 0, sizeof(*d));
	uint64_t sample_locs[64][32];
	size_t sample_nlocs[64];
	const uint8_t *p = buf, *end = buf + len;
	struct field f, g;
	while (next_field(&p, end, &f)) {
		const uint8_t *q = f.b, *qe = f.b + f.len;
		switch (f.num) {
		case 1: /* sample_type */
			while (next_field(&q, qe, &g))
				d->types[d->ntypes][g.num - 1] = g.v;
			d->ntypes++;
			break;
		case 2: { /* sample */
			uint64_t vals[16];
			size_t nv = 0;
			sample_nlocs[d->nsamples] = 0;
			while (next_field(&q, qe, &g)) {
				if (g.num == 1)
					sample_nlocs[d->nsamples] += packed(
					    &g, sample_locs[d->nsamples] + sample_nlocs[d->nsamples], 32);
				else if (g.num == 2)
					nv += packed(&g, vals + nv, 16 - nv);
				else if (g.num == 3 && d->nlabels < 64) {
					const uint8_t *r = g.b, *re = g.b + g.len;
					struct field h;
					uint64_t *l = d->labels[d->nlabels++];
					l[0] = l[1] = l[2] = 0;
					while (next_field(&r, re, &h))
						if (h.num >= 1 && h.num <= 3)
							l[h.num - 1] = h.v;
				}
			}
			assert_int_equal(nv, d->ntypes);
			for (size_t i = 0; i < nv; i++)
				d->value_sum[i] += vals[i];
			d->nsamples++;
			break;
		}
		case 3: { /* mapping */
			uint64_t id = 0, file = 0, build = 0, hasfn = 0;
			while (next_field(&q, qe, &g)) {
				if (g.num == 1)
					id = g.v;
				else if (g.num == 5)
					file = g.v;
				else if (g.num == 6)
					build = g.v;
				else if (g.num == 7)
					hasfn = g.v;
			}
			assert_int_not_equal(id, 0);
			if (d->nmaps++ == 0) {
				d->first_map_id = id;
				d->first_map_file = file;
				d->first_map_build = build;
				d->first_map_hasfn = hasfn;
			}
			break;
		}
		case 4: { /* location */
			uint64_t id = 0, lines[4][2];
			size_t nl = 0;
			while (next_field(&q, qe, &g)) {
				if (g.num == 1)
					id = g.v;
				if (g.num == 4) {
					const uint8_t *r = g.b, *re = g.b + g.len;
					struct field h;
					lines[nl][0] = lines[nl][1] = 0;
					while (next_field(&r, re, &h))
						lines[nl][h.num - 1] = h.v;
					nl++;
				}
			}
			assert_int_not_equal(id, 0);
			d->loc_ids[d->nlocs++] = id;
			if (id == 2) {
				memcpy(d->loc1_lines, lines, sizeof(lines));
				d->loc1_nlines = nl;
			}
			break;
		}
		case 5: { /* function */
			uint64_t id = 0, name = 0;
			while (next_field(&q, qe, &g)) {
				if (g.num == 1)
					id = g.v;
				if (g.num == 2)
					name = g.v;
			}
			assert_int_not_equal(id, 0);
			d->func_names[d->nfuncs] = name;
			d->func_ids[d->nfuncs++] = id;
			break;
		}
		case 6:
			d->strings[d->nstrings++] = strndup((const char *)f.b, f.len);
			break;
		case 9:
			d->time = f.v;
			break;
		case 10:
			d->duration = f.v;
			break;
		case 11:
			while (next_field(&q, qe, &g))
				d->period_type[g.num - 1] = g.v;
			break;
		case 12:
			d->period = f.v;
			break;
		case 14:
			d->default_type = f.v;
			break;
		}
	}
	/* Every sample's locations exist. */
	for (size_t s = 0; s < d->nsamples; s++)
		for (size_t i = 0; i < sample_nlocs[s]; i++) {
			bool found = false;
			for (size_t k = 0; k < d->nlocs; k++)
				found |= d->loc_ids[k] == sample_locs[s][i];
			d->bad_sample_ref |= !found;
		}
}

static void free_decoded(struct decoded *d)
{
	for (size_t i = 0; i < d->nstrings; i++)
		free(d->strings[i]);
}

static const char *str(const struct decoded *d, uint64_t i)
{
	assert_true(i < d->nstrings);
	return d->strings[i];
}

static void test_pprof_all(void **state)
{
	struct profile p;
	make_profile(&p);
	struct out_opts o = {.metric = FA_CPU, .thread_labels = true};
	uint8_t *buf;
	size_t len;
	assert_int_equal(pprof_encode(&p, &o, &buf, &len), 0);
	struct decoded d;
	decode(buf, len, &d);
	assert_string_equal(str(&d, 0), "");
	/* CPU (samples, cpu) and six memory columns. */
	assert_int_equal(d.ntypes, 8);
	assert_string_equal(str(&d, d.types[0][0]), "samples");
	assert_string_equal(str(&d, d.types[0][1]), "count");
	assert_string_equal(str(&d, d.types[1][0]), "cpu");
	assert_string_equal(str(&d, d.types[1][1]), "nanoseconds");
	assert_string_equal(str(&d, d.types[3][0]), "alloc_space");
	assert_string_equal(str(&d, d.types[3][1]), "bytes");
	/* CPU per thread (5 thread-stacks), then memory per stack (stacks 1 and 3). */
	assert_int_equal(d.nsamples, 7);
	size_t nthread = 0, ntid = 0;
	uint64_t tids = 0;
	for (size_t i = 0; i < d.nlabels; i++) {
		if (!strcmp(str(&d, d.labels[i][0]), "thread")) {
			nthread++;
			assert_true(!strcmp(str(&d, d.labels[i][1]), "app") ||
				    !strcmp(str(&d, d.labels[i][1]), "worker"));
		} else if (!strcmp(str(&d, d.labels[i][0]), "tid")) {
			ntid++;
			tids += d.labels[i][2];
		}
	}
	assert_int_equal(nthread, 5);
	assert_int_equal(ntid, 5);
	assert_int_equal(tids, 100 + 100 + 101 + 101 + 101);
	assert_int_equal(d.value_sum[0], 15);
	assert_int_equal(d.value_sum[1], 15 * 10000000ull); /* 100 Hz: 10 ms a sample */
	assert_int_equal(d.value_sum[2], 7);		    /* alloc_objects */
	assert_int_equal(d.value_sum[3], 600);		    /* alloc_space */
	assert_int_equal(d.value_sum[5], 1);		    /* inuse_objects: leaked blocks */
	assert_int_equal(d.value_sum[6], 64);		    /* inuse_space: leaked bytes */
	assert_int_equal(d.value_sum[7], 200);		    /* peak_space */
	assert_false(d.bad_sample_ref);
	/* The main program is the first mapping, with its build-id in hex. */
	assert_int_equal(d.nmaps, 2);
	assert_int_equal(d.first_map_id, 1);
	assert_string_equal(str(&d, d.first_map_file), "/usr/bin/app");
	assert_string_equal(str(&d, d.first_map_build), "abcd01");
	assert_int_equal(d.first_map_hasfn, 1);
	/* Location 2 (locs[1]): the inlined helper first, then work at the call line. */
	assert_int_equal(d.nlocs, 7);
	assert_int_equal(d.loc1_nlines, 2);
	assert_int_equal(d.loc1_lines[0][0], 3);
	assert_int_equal(d.loc1_lines[0][1], 5);
	assert_int_equal(d.loc1_lines[1][0], 2);
	assert_int_equal(d.loc1_lines[1][1], 31);
	assert_int_equal(d.nfuncs, 7);
	assert_string_equal(str(&d, d.func_names[6]), "std::vector<int>::push_back&\"x\"");
	assert_string_equal(str(&d, d.default_type), "cpu");
	assert_string_equal(str(&d, d.period_type[0]), "cpu");
	assert_int_equal(d.period, 10000000);
	assert_int_equal(d.time, 1700000000000000000ull);
	assert_int_equal(d.duration, 2000000000ull);
	free_decoded(&d);
	free(buf);
	profile_free(&p);
}

static void test_pprof_unlabelled(void **state)
{
	struct profile p;
	make_profile(&p);
	struct out_opts o = {.metric = FA_CPU};
	uint8_t *buf;
	size_t len;
	assert_int_equal(pprof_encode(&p, &o, &buf, &len), 0);
	struct decoded d;
	decode(buf, len, &d);
	/* One sample per stack, no labels, the same totals. */
	assert_int_equal(d.nsamples, 6);
	assert_int_equal(d.nlabels, 0);
	assert_int_equal(d.value_sum[0], 15);
	assert_int_equal(d.value_sum[3], 600);
	free_decoded(&d);
	free(buf);
	profile_free(&p);
}

static void test_pprof_one_metric(void **state)
{
	struct profile p;
	make_profile(&p);
	struct out_opts o = {.metric = FA_ALLOC_BYTES, .metric_set = true};
	uint8_t *buf;
	size_t len;
	assert_int_equal(pprof_encode(&p, &o, &buf, &len), 0);
	struct decoded d;
	decode(buf, len, &d);
	assert_int_equal(d.ntypes, 1);
	assert_string_equal(str(&d, d.types[0][0]), "alloc_space");
	assert_int_equal(d.nsamples, 2);
	assert_int_equal(d.value_sum[0], 600);
	assert_string_equal(str(&d, d.default_type), "alloc_space");
	free_decoded(&d);
	free(buf);
	/* A thread's CPU only. */
	o = (struct out_opts){.metric = FA_CPU, .tid = 100};
	assert_int_equal(pprof_encode(&p, &o, &buf, &len), 0);
	decode(buf, len, &d);
	assert_int_equal(d.ntypes, 2);
	assert_int_equal(d.value_sum[0], 10);
	assert_int_equal(d.nsamples, 2);
	free_decoded(&d);
	free(buf);
	/* Nothing to export is an error, not an empty file. */
	p.stacks[0].w[FA_CPU] = p.stacks[1].w[FA_CPU] = p.stacks[2].w[FA_CPU] = p.stacks[4].w[FA_CPU] =
	    p.stacks[5].w[FA_CPU] = 0;
	for (size_t i = 0; i < 5; i++)
		p.tstacks[i].cpu = 0;
	o = (struct out_opts){.metric = FA_CPU, .metric_set = true};
	assert_int_equal(pprof_encode(&p, &o, &buf, &len), -ENODATA);
	profile_free(&p);
}

static void test_pprof_gzip(void **state)
{
	struct profile p;
	make_profile(&p);
	struct out_opts o = {.metric = FA_CPU};
	uint8_t *raw;
	size_t rawlen;
	assert_int_equal(pprof_encode(&p, &o, &raw, &rawlen), 0);
	int rc;
	char *gz = NULL;
	size_t gzlen = 0;
	FILE *f = open_memstream(&gz, &gzlen);
	rc = pprof_write(f, &p, &o);
	fclose(f);
	assert_int_equal(rc, 0);
	assert_true(gzlen > 18);
	assert_int_equal((uint8_t)gz[0], 0x1f);
	assert_int_equal((uint8_t)gz[1], 0x8b);
	uint8_t *out = malloc(rawlen + 16);
	z_stream z = {0};
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (uint8_t *)gz;
	z.avail_in = (uInt)gzlen;
	z.next_out = out;
	z.avail_out = (uInt)rawlen + 16;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, rawlen);
	assert_memory_equal(out, raw, rawlen);
	inflateEnd(&z);
	free(out);
	free(raw);
	free(gz);
	profile_free(&p);
}

static int svg_plain(FILE *f, const struct profile *p, const struct out_opts *o)
{
	return svg_write(f, p, NULL, o, NULL);
}

static void test_svg(void **state)
{
	struct profile p;
	make_profile(&p);
	struct out_opts o = {.metric = FA_CPU, .title = "T<1>"};
	int rc;
	char *s = capture(svg_plain, &p, &o, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(s, "<?xml"));
	assert_non_null(strstr(s, "<script type=\"text/ecmascript\"><![CDATA["));
	assert_non_null(strstr(s, "T&lt;1&gt;"));
	/* Markup in names is escaped; the tooltip has file:line and the share. */
	assert_non_null(strstr(s, "<title>std::vector&lt;int&gt;::push_back&amp;&quot;x&quot;\nv.h:2\n2 "
				  "samples, 20.0 ms (13.33%)</title>"));
	assert_non_null(strstr(s, "<title>work\napp.c:31\n12 samples, 120.0 ms (80.00%)</title>"));
	assert_non_null(strstr(s, "<title>inl_helper\napp.h:5\n"));
	assert_non_null(strstr(s, "data-total=\"15\""));
	assert_null(strstr(s, "omitted"));
	free(s);
	/* Frames under 10% are left out, and the subtitle says so. */
	o.min_width = 0.10;
	s = capture(svg_plain, &p, &o, &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(s, "<title>a;b"));
	assert_non_null(strstr(s, "<title>std::vector"));
	assert_non_null(
	    strstr(s, "1 frames narrower than 10% omitted (stacks with 6.67% of the weight are cut short)"));
	free(s);
	profile_free(&p);
}

static void test_svg_diff(void **state)
{
	struct profile p, base;
	make_profile(&p);
	/* The base: the same stacks, but inl_helper had 1 sample instead of 7. */
	make_profile(&base);
	base.stacks[0].w[FA_CPU] = 1;
	struct out_opts o = {.metric = FA_CPU};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_int_equal(svg_write(f, &p, &base, &o, NULL), 0);
	fclose(f);
	/* inl_helper: 7/15 now against 1/9 before: grew by 35.56 points, deepest red. */
	char *t = strstr(buf, "<title>inl_helper");
	assert_non_null(t);
	assert_non_null(
	    strstr(t, "base: 1 samples, 10.0 ms (11.11%)\nchange: +35.56 points of share</title>"));
	assert_non_null(strstr(t, "fill=\"rgb(255,50,50)\""));
	/* a;b: 1/15 now against 1/9: shrank, blue. */
	t = strstr(buf, "<title>a;b");
	assert_non_null(t);
	assert_non_null(strstr(t, "change: -4.44 points"));
	char *fill = strstr(t, "fill=\"rgb(");
	assert_non_null(fill);
	assert_non_null(strstr(fill, ",255)\""));
	assert_true(strstr(fill, ",255)\"") - fill < 30);
	free(buf);
	profile_free(&p);
	profile_free(&base);
}

static void test_speedscope(void **state)
{
	struct profile p;
	make_profile(&p);
	struct out_opts o = {.metric = FA_CPU, .version = "fathom test"};
	int rc;
	char *s = capture(speedscope_write, &p, &o, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(s, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\""));
	assert_non_null(strstr(s, "{\"name\":\"inl_helper\",\"file\":\"app.h\",\"line\":3}"));
	/* cpu over all threads, then each thread, then the memory metrics. */
	assert_non_null(strstr(s, "\"name\":\"cpu: all threads\",\"unit\":\"nanoseconds\",\"startValue\":0,"
				  "\"endValue\":150000000"));
	assert_non_null(strstr(s, "\"name\":\"cpu: worker (101)\""));
	/* Stacks root first, the inlined function after its caller. */
	assert_non_null(strstr(s,
			       "\"samples\":[[0,1,2],[0,1],[0,3],[0,5],[0,6]],\"weights\":[70000000,30000000,"
			       "10000000,20000000,20000000]"));
	assert_non_null(
	    strstr(s, "\"name\":\"alloc-bytes\",\"unit\":\"bytes\",\"startValue\":0,\"endValue\":600,"
		      "\"samples\":[[0,1],[0,1,4]],\"weights\":[100,500]"));
	assert_null(strstr(s, "\"name\":\"temp-calls\"")); /* no weight, no profile */
	free(s);
	o = (struct out_opts){.metric = FA_LEAKED_BYTES, .metric_set = true};
	s = capture(speedscope_write, &p, &o, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(
	    strstr(s, "\"profiles\":[{\"type\":\"sampled\",\"name\":\"leaked-bytes\",\"unit\":\"bytes\""));
	assert_null(strstr(s, "\"name\":\"cpu"));
	free(s);
	o = (struct out_opts){.metric = FA_TEMP_CALLS, .metric_set = true};
	s = capture(speedscope_write, &p, &o, &rc);
	assert_int_equal(rc, -ENODATA);
	free(s);
	profile_free(&p);
}

/* -o NAME: descriptors by name, refusals, and the existing file kept when
 * the command fails (outfile.c). Integration: test-out-files.sh. */
static void test_outfile(void **state)
{
	char dir[] = "/tmp/fathom-test-outfile-XXXXXX", path[256], link[256], fifo[256];
	assert_non_null(mkdtemp(dir));
	struct outfile_target t;
	char *err = NULL;
	const char *fds[] = {"-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(outfile_resolve(fds[i], &t, &err), 0);
		assert_int_equal(t.kind, OUTFILE_FD);
		assert_int_equal(t.fd, 1);
	}
	assert_int_equal(outfile_resolve("/dev/fd/999", &t, &err), -EBADF);
	free(err);
	assert_int_equal(outfile_resolve("/dev/null", &t, &err), 0);
	assert_int_equal(t.kind, OUTFILE_DEVICE);
	outfile_target_free(&t);
	assert_int_equal(outfile_resolve(dir, &t, &err), -EISDIR);
	assert_non_null(strstr(err, "is a directory"));
	free(err);
	/* A link to a FIFO: refused, even the user's own. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(symlink("fifo", link), 0);
	assert_int_equal(outfile_resolve(link, &t, &err), -EPERM);
	assert_non_null(strstr(err, "give the device's own path"));
	free(err);
	unlink(link);
	/* The user's link to a file: followed, the file is the target. */
	snprintf(path, sizeof(path), "%s/file", dir);
	FILE *f = fopen(path, "w");
	fputs("old", f);
	fclose(f);
	assert_int_equal(symlink("file", link), 0);
	assert_int_equal(outfile_resolve(link, &t, &err), 0);
	assert_int_equal(t.kind, OUTFILE_FILE);
	assert_string_equal(t.path, path);
	outfile_target_free(&t);
	/* Failed: the file is as it was; succeeded: replaced, the link kept. */
	struct outfile o;
	char buf[16] = "";
	for (int ok = 0; ok < 2; ok++) {
		assert_int_equal(outfile_open(&o, link, &err), 0);
		fputs("new", o.f);
		assert_int_equal(outfile_close(&o, ok), 0);
		f = fopen(path, "r");
		assert_non_null(fgets(buf, sizeof(buf), f));
		fclose(f);
		assert_string_equal(buf, ok ? "new" : "old");
	}
	struct stat st;
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	unlink(link);
	unlink(path);
	unlink(fifo);
	assert_int_equal(rmdir(dir), 0); /* no temporary left behind */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_folded_cpu),
	    cmocka_unit_test(test_folded_alloc_and_tid),
	    cmocka_unit_test(test_tree),
	    cmocka_unit_test(test_folded_diff),
	    cmocka_unit_test(test_pprof_all),
	    cmocka_unit_test(test_pprof_unlabelled),
	    cmocka_unit_test(test_pprof_one_metric),
	    cmocka_unit_test(test_pprof_gzip),
	    cmocka_unit_test(test_svg),
	    cmocka_unit_test(test_svg_diff),
	    cmocka_unit_test(test_speedscope),
	    cmocka_unit_test(test_outfile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
