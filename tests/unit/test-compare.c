/* Unit tests of the CI verdicts (compare.c) on profiles built by hand: the
 * z-test separates sampling noise from a real slowdown, exact metrics obey
 * their thresholds, budgets hold or fail, and every output format is sound. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compare.h"
#include "fathom-dump.h"
#include "fixture.h"

/* A one-process profile (fixture.h) in which main calls each added function
 * once per stack. A fake starts zeroed ({0}); fake_init() frees what it held. */
struct fake {
	struct profile p;
};

static void fake_init(struct fake *f, int clock, unsigned hz)
{
	profile_free(&f->p);
	fx_init(&f->p);
	uint32_t proc = fx_process(&f->p, NULL, 0, NULL, NULL);
	f->p.procs[proc].hz = hz;
	f->p.procs[proc].clock = clock;
	f->p.procs[proc].complete = true;
	uint32_t app = fx_module(&f->p, proc, "app", 0, 0, 0);
	/* Function 0 is main, the root of every stack. */
	uint32_t main_ = fx_func(&f->p, "main", "app.c", app, 5);
	fx_loc(&f->p, 0x1000, app, fx_frame(&f->p, main_, 9), 1);
}

/* Adds a function called from main with `samples` CPU samples of weight
 * `weight` each, and the given allocation figures as its site. */
static void fake_add(struct fake *f, const char *name, int line, uint64_t samples, unsigned weight,
		     int64_t calls, int64_t bytes, int64_t leaked_blocks, int64_t leaked_bytes)
{
	struct profile *p = &f->p;
	uint32_t fn = fx_func(p, name, "app.c", 0, line);
	uint32_t loc = fx_loc(p, 0x1000 + fn * 16, 0, fx_frame(p, fn, (uint32_t)line + 2), 1);
	uint32_t s = fx_stack(p, 0, 2, (uint32_t[]){loc, 0});
	fx_weight(p, s, FA_CPU, (int64_t)(samples * weight));
	/* The memory figures go into the stack and the summary only, as the heap replay leaves them. */
	p->stacks[s].w[FA_ALLOC_CALLS] = calls;
	p->stacks[s].w[FA_ALLOC_BYTES] = bytes;
	p->stacks[s].w[FA_LEAKED_BLOCKS] = leaked_blocks;
	p->stacks[s].w[FA_LEAKED_BYTES] = leaked_bytes;
	fx_tstack(p, s, 0, (int64_t)(samples * weight), samples);
	p->procs[0].samples += samples;
	p->procs[0].sample_weight += samples * weight;
	p->mem.alloc_calls += (uint64_t)calls;
	p->mem.alloc_bytes += (uint64_t)bytes;
	p->mem.leaked_blocks += leaked_blocks;
	p->mem.leaked_bytes += leaked_bytes;
}

static void fake_alloc(struct fake *f, int mode, int64_t peak, uint64_t temps)
{
	f->p.procs[0].alloc_mode = mode;
	f->p.mem.peak_bytes = peak;
	f->p.mem.temp_calls = temps;
	f->p.mem.sampled = mode == FD_ALLOC_SAMPLED;
	f->p.mem.scale = 1;
}

static void summarize(struct fake *f, struct compare_summary *s)
{
	assert_int_equal(compare_summarize(&f->p, s), 0);
}

static const struct compare_item *find(const struct compare_report *r, const char *name)
{
	for (size_t i = 0; i < r->nitems; i++)
		if (!strcmp(r->items[i].name, name) && r->items[i].section != COMPARE_SEC_GREW &&
		    r->items[i].section != COMPARE_SEC_SHRANK)
			return &r->items[i];
	return NULL;
}

static void run_diff(struct fake *a, struct fake *b, const struct compare_opts *o, struct compare_report *r)
{
	struct compare_summary sa, sb;
	summarize(a, &sa);
	summarize(b, &sb);
	char *err = NULL;
	int rc = compare_diff(&sa, &sb, o, r, &err);
	if (rc)
		fprintf(stderr, "compare_diff: %s\n", err ? err : "?");
	assert_int_equal(rc, 0);
	compare_summary_free(&sa);
	compare_summary_free(&sb);
}

/* Writes a report into a string. */
static char *render_in(const struct compare_report *r, int fmt, bool annotations, const char *root)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	if (annotations)
		compare_write_annotations(r, f, root);
	else
		compare_write(r, (enum compare_format)fmt, f);
	fclose(f);
	return buf;
}

static char *render(const struct compare_report *r, int fmt, bool annotations)
{
	return render_in(r, fmt, annotations, NULL);
}

static void test_normal(void **state)
{
	(void)state;
	assert_true(fabs(compare_normal_tail(0) - 0.5) < 1e-12);
	assert_true(fabs(compare_normal_tail(1.959964) - 0.025) < 1e-6);
	assert_true(fabs(compare_normal_quantile(0.025) - 1.959964) < 1e-5);
	assert_true(fabs(compare_normal_quantile(1e-4) - 3.719016) < 1e-5);
	assert_true(fabs(compare_normal_quantile(0.001 / 8) - 3.6623) < 1e-3);
	/* 500 of 1000 against 565 of 1000: pooled 0.5325, se 0.02231. */
	assert_true(fabs(compare_two_prop_z(500, 1000, 565, 1000) - 2.9133) < 1e-3);
	assert_true(fabs(compare_two_prop_z(565, 1000, 500, 1000) + 2.9133) < 1e-3);
	assert_true(compare_two_prop_z(0, 0, 5, 10) == 0);
	assert_true(compare_two_prop_z(10, 10, 10, 10) == 0);
}

static void test_summarize(void **state)
{
	(void)state;
	struct fake f = {0};
	fake_init(&f, FD_CLOCK_CPU, 1000);
	/* 250 delivered signals standing for 4 periods each (a 250 Hz tick). */
	fake_add(&f, "hot", 10, 250, 4, 0, 0, 0, 0);
	fake_add(&f, "cold", 20, 50, 4, 3, 300, 1, 100);
	fake_alloc(&f, FD_ALLOC_EXACT, 4096, 2);
	struct compare_summary s;
	summarize(&f, &s);
	assert_true(s.samples == 300);
	assert_true(s.cpu_weight == 1200);
	assert_true(fabs(s.cpu_ns - 1.2e9) < 1);
	assert_true(s.has_alloc && !s.alloc_sampled);
	assert_int_equal(s.peak, 4096);
	assert_int_equal(s.alloc_calls, 3);
	assert_int_equal(s.nfuncs, 3);
	for (size_t i = 0; i < s.nfuncs; i++) {
		const struct compare_func *cf = &s.funcs[i];
		if (!strcmp(cf->name, "main")) {
			assert_true(cf->self == 0 && cf->total == 1200);
		} else if (!strcmp(cf->name, "hot")) {
			assert_true(cf->self == 1000 && cf->total == 1000);
			assert_true(cf->self_n == 250 && cf->total_n == 250);
			assert_int_equal(cf->line, 10);
		} else {
			assert_string_equal(cf->name, "cold");
			assert_int_equal(cf->leaked_blocks, 1);
			assert_int_equal(cf->leak_line, 22);
			assert_string_equal(cf->module, "app");
		}
	}
	compare_summary_free(&s);
	profile_free(&f.p);
}

/* A small deterministic generator, so that the simulations are repeatable. */
static uint64_t rng_state = 88172645463325252ull;
static double rng_uniform(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* A recording of n samples drawn from the given time split. */
static void fake_sampled(struct fake *f, const double *time, size_t k, uint64_t n)
{
	static const char *const names[] = {"parse", "hash", "sort", "emit"};
	double sum = 0, cum[8];
	for (size_t i = 0; i < k; i++)
		cum[i] = (sum += time[i]);
	uint64_t count[8] = {0};
	for (uint64_t s = 0; s < n; s++) {
		double u = rng_uniform() * sum;
		size_t i = 0;
		while (i + 1 < k && u >= cum[i])
			i++;
		count[i]++;
	}
	fake_init(f, FD_CLOCK_CPU, 250);
	for (size_t i = 0; i < k; i++)
		fake_add(f, names[i], 10 * (int)(i + 1), count[i], 1, 0, 0, 0, 0);
}

static size_t func_failures(const struct compare_report *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->nitems; i++)
		n += r->items[i].section == COMPARE_SEC_FUNCTION && r->items[i].status == COMPARE_FAIL;
	return n;
}

/* Two recordings of the same program must not alarm; one in which "parse"
 * takes 30% longer must, every time, and name that function only. */
static void test_noise_vs_change(void **state)
{
	(void)state;
	static const double same[] = {0.5, 0.3, 0.15, 0.05};
	static const double slow[] = {0.5 * 1.3, 0.3, 0.15, 0.05};
	struct compare_opts o;
	compare_opts_default(&o);
	o.metrics = COMPARE_M_FUNCS;
	struct fake a = {0}, b = {0};
	double zmax_same = 0, zmin_slow = INFINITY, emin = INFINITY, emax = 0;
	for (int trial = 0; trial < 300; trial++) {
		struct compare_report r;
		fake_sampled(&a, same, 4, 5000);
		fake_sampled(&b, same, 4, 5000);
		run_diff(&a, &b, &o, &r);
		assert_int_equal(r.nfail, 0);
		for (size_t i = 0; i < r.nitems; i++)
			if (!isnan(r.items[i].z))
				zmax_same = fmax(zmax_same, fabs(r.items[i].z));
		compare_report_free(&r);

		fake_sampled(&b, slow, 4, 5000);
		run_diff(&a, &b, &o, &r);
		assert_int_equal(func_failures(&r), 1);
		const struct compare_item *it = find(&r, "cpu self: parse");
		assert_non_null(it);
		assert_int_equal(it->status, COMPARE_FAIL);
		assert_string_equal(it->file, "app.c");
		assert_int_equal(it->line, 10);
		/* The odds ratio estimates the 30% directly. */
		assert_true(it->change > 0.10 && it->change < 0.55);
		emin = fmin(emin, it->change);
		emax = fmax(emax, it->change);
		zmin_slow = fmin(zmin_slow, it->z);
		compare_report_free(&r);
	}
	print_message("same program: max |z| %.2f; 30%% slower: min z %.2f, effect %.2f..%.2f\n", zmax_same,
		      zmin_slow, emin, emax);
	assert_true(zmax_same < zmin_slow);
	profile_free(&a.p);
	profile_free(&b.p);
}

/* Wall-clock samples that waited for the CPU carry large weights; the test
 * counts observations, so weights alone do not make a regression. */
static void test_counts_not_weights(void **state)
{
	(void)state;
	struct fake a = {0}, b = {0};
	fake_init(&a, FD_CLOCK_WALL, 2000);
	fake_add(&a, "parse", 10, 2000, 1, 0, 0, 0, 0);
	fake_add(&a, "hash", 20, 2000, 1, 0, 0, 0, 0);
	fake_init(&b, FD_CLOCK_WALL, 2000);
	fake_add(&b, "parse", 10, 2000, 3, 0, 0, 0, 0);
	fake_add(&b, "hash", 20, 2000, 1, 0, 0, 0, 0);
	struct compare_opts o;
	compare_opts_default(&o);
	struct compare_report r;
	run_diff(&a, &b, &o, &r);
	assert_int_equal(r.nfail, 0);
	compare_report_free(&r);
	profile_free(&a.p);
	profile_free(&b.p);
}

/* Large samples make a 3% change significant; the effect size keeps it quiet. */
static void test_effect_threshold(void **state)
{
	(void)state;
	struct fake a = {0}, b = {0};
	fake_init(&a, FD_CLOCK_CPU, 250);
	fake_add(&a, "parse", 10, 500000, 1, 0, 0, 0, 0);
	fake_add(&a, "rest", 20, 500000, 1, 0, 0, 0, 0);
	fake_init(&b, FD_CLOCK_CPU, 250);
	fake_add(&b, "parse", 10, 515000, 1, 0, 0, 0, 0);
	fake_add(&b, "rest", 20, 500000, 1, 0, 0, 0, 0);
	struct compare_opts o;
	compare_opts_default(&o);
	o.metrics = COMPARE_M_FUNCS;
	struct compare_report r;
	run_diff(&a, &b, &o, &r);
	assert_int_equal(r.nfail, 0);
	const struct compare_item *g = NULL;
	for (size_t i = 0; i < r.nitems; i++)
		if (r.items[i].section == COMPARE_SEC_GREW)
			g = &r.items[i];
	assert_non_null(g);
	assert_string_equal(g->func, "parse");
	assert_true(g->z > 5);
	compare_report_free(&r);

	o.func_threshold = 0.02;
	run_diff(&a, &b, &o, &r);
	assert_int_equal(r.nfail, 1);
	assert_non_null(find(&r, "cpu self: parse"));
	compare_report_free(&r);
	profile_free(&a.p);
	profile_free(&b.p);
}

/* A function that appears only in the new recording is "new", and the
 * caller whose callee grew is named by its total when its self did not grow. */
static void test_new_function_and_total(void **state)
{
	(void)state;
	struct fake a = {0}, b = {0};
	fake_init(&a, FD_CLOCK_CPU, 250);
	fake_add(&a, "parse", 10, 3000, 1, 0, 0, 0, 0);
	fake_add(&a, "hash", 20, 3000, 1, 0, 0, 0, 0);
	fake_init(&b, FD_CLOCK_CPU, 250);
	fake_add(&b, "parse", 10, 3000, 1, 0, 0, 0, 0);
	fake_add(&b, "hash", 20, 3000, 1, 0, 0, 0, 0);
	fake_add(&b, "validate", 30, 1500, 1, 0, 0, 0, 0);
	struct compare_opts o;
	compare_opts_default(&o);
	struct compare_report r;
	run_diff(&a, &b, &o, &r);
	const struct compare_item *it = find(&r, "cpu self: validate");
	assert_non_null(it);
	assert_true(strstr(it->message, "(new)") != NULL);
	assert_true(it->base == 0);
	/* CPU time grew by 25% too: the total is judged with its own threshold. */
	it = find(&r, "cpu-time");
	assert_non_null(it);
	assert_int_equal(it->status, COMPARE_FAIL);
	assert_true(fabs(it->change - 0.25) < 1e-9);
	compare_report_free(&r);
	profile_free(&a.p);
	profile_free(&b.p);
}

/* Several runs merged on one side: totals are compared per run. */
static void test_runs(void **state)
{
	(void)state;
	struct fake a = {0}, b = {0};
	fake_init(&a, FD_CLOCK_CPU, 1000);
	fake_add(&a, "parse", 10, 2000, 1, 0, 0, 0, 0);
	fake_add(&a, "keep", 20, 10, 1, 4, 400, 4, 400);
	fake_alloc(&a, FD_ALLOC_EXACT, 1000, 0);
	for (int i = 1; i < 3; i++) {
		uint32_t k = fx_process(&a.p, NULL, 0, NULL, NULL);
		a.p.procs[k] = a.p.procs[0]; /* no strings to share */
	}
	struct fa_process *procs = a.p.procs;
	procs[0].pid = 10;
	procs[1].pid = 11;
	/* A child of the second run is part of that run. */
	procs[2].pid = 12;
	procs[2].ppid = 11;
	procs[2].sample_weight = 0;
	procs[0].sample_weight = procs[1].sample_weight = 1005;
	fake_init(&b, FD_CLOCK_CPU, 1000);
	fake_add(&b, "parse", 10, 1000, 1, 0, 0, 0, 0);
	fake_add(&b, "keep", 20, 5, 1, 2, 200, 2, 200);
	fake_alloc(&b, FD_ALLOC_EXACT, 1000, 0);
	struct compare_summary s;
	summarize(&a, &s);
	assert_int_equal(s.runs, 2);
	compare_summary_free(&s);
	struct compare_opts o;
	compare_opts_default(&o);
	struct compare_report r;
	run_diff(&a, &b, &o, &r);
	assert_int_equal(r.nfail, 0);
	assert_true(fabs(find(&r, "cpu-time")->base - 1.005e9) < 1);
	assert_true(find(&r, "leaked-blocks")->base == 2);
	assert_null(find(&r, "leak: keep"));
	compare_report_free(&r);
	/* One block more per run is a new leak. */
	b.p.stacks[1].w[FA_LEAKED_BLOCKS] = 3;
	b.p.mem.leaked_blocks = 3;
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "leaked-blocks")->status, COMPARE_FAIL);
	assert_non_null(find(&r, "leak: keep"));
	compare_report_free(&r);
	profile_free(&a.p);
	profile_free(&b.p);
}

static void test_cpu_time(void **state)
{
	(void)state;
	struct fake a = {0}, b = {0};
	fake_init(&a, FD_CLOCK_CPU, 1000);
	fake_add(&a, "parse", 10, 1000, 1, 0, 0, 0, 0);
	fake_init(&b, FD_CLOCK_CPU, 500);
	/* Half the rate, 1080 samples: 2.16 s against 1 s of CPU. */
	fake_add(&b, "parse", 10, 1080, 1, 0, 0, 0, 0);
	struct compare_opts o;
	compare_opts_default(&o);
	struct compare_report r;
	run_diff(&a, &b, &o, &r);
	const struct compare_item *it = find(&r, "cpu-time");
	assert_int_equal(it->status, COMPARE_FAIL);
	assert_true(fabs(it->change - 1.16) < 1e-9);
	compare_report_free(&r);

	/* +8% is within the default 10%. */
	fake_init(&b, FD_CLOCK_CPU, 1000);
	fake_add(&b, "parse", 10, 1080, 1, 0, 0, 0, 0);
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "cpu-time")->status, COMPARE_OK);
	assert_int_equal(r.nfail, 0);
	compare_report_free(&r);
	o.cpu_threshold = 0.05;
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "cpu-time")->status, COMPARE_FAIL);
	assert_int_equal(r.nfail, 1);
	compare_report_free(&r);

	/* Wall-clock time is shown but judged only when asked for. */
	fake_init(&b, FD_CLOCK_WALL, 1000);
	fake_add(&b, "parse", 10, 2000, 1, 0, 0, 0, 0);
	compare_opts_default(&o);
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "cpu-time")->status, COMPARE_SKIPPED);
	assert_int_equal(r.nfail, 0);
	compare_report_free(&r);
	o.metrics = COMPARE_M_CPU_TIME;
	o.metrics_explicit = true;
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "cpu-time")->status, COMPARE_FAIL);
	compare_report_free(&r);
	profile_free(&a.p);
	profile_free(&b.p);
}

static void mem_pair(struct fake *a, struct fake *b, int64_t calls_b, int64_t peak_b, int64_t leaks_b)
{
	fake_init(a, FD_CLOCK_CPU, 250);
	fake_add(a, "load", 10, 100, 1, 1000, 64000, 0, 0);
	fake_add(a, "keep", 20, 100, 1, 10, 640, 2, 128);
	fake_alloc(a, FD_ALLOC_EXACT, 1 << 20, 50);
	fake_init(b, FD_CLOCK_CPU, 250);
	fake_add(b, "load", 10, 100, 1, calls_b, 64000, 0, 0);
	fake_add(b, "keep", 20, 100, 1, 10, 640, leaks_b, leaks_b * 64);
	fake_alloc(b, FD_ALLOC_EXACT, peak_b, 50);
}

static void test_exact_metrics(void **state)
{
	(void)state;
	struct fake a = {0}, b = {0};
	struct compare_opts o;
	compare_opts_default(&o);
	struct compare_report r;

	/* Identical: nothing fails. */
	mem_pair(&a, &b, 1000, 1 << 20, 2);
	run_diff(&a, &b, &o, &r);
	assert_int_equal(r.nfail, 0);
	assert_int_equal(find(&r, "peak")->status, COMPARE_OK);
	assert_int_equal(find(&r, "leaked-blocks")->status, COMPARE_OK);
	compare_report_free(&r);

	/* 1010 -> 1050 calls is +4%: within 5%; 1070 is +6%: over. */
	mem_pair(&a, &b, 1040, 1 << 20, 2);
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "alloc-calls")->status, COMPARE_OK);
	compare_report_free(&r);
	mem_pair(&a, &b, 1060, 1 << 20, 2);
	run_diff(&a, &b, &o, &r);
	const struct compare_item *it = find(&r, "alloc-calls");
	assert_int_equal(it->status, COMPARE_FAIL);
	assert_true(strstr(it->message, "load (app.c:10)") != NULL);
	assert_int_equal(r.nfail, 1);
	compare_report_free(&r);
	o.threshold = 0.10;
	run_diff(&a, &b, &o, &r);
	assert_int_equal(r.nfail, 0);
	compare_report_free(&r);
	compare_opts_default(&o);

	/* The peak: +5% exactly is allowed, one byte more is not. */
	mem_pair(&a, &b, 1000, (1 << 20) + (1 << 20) / 20, 2);
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "peak")->status, COMPARE_OK);
	compare_report_free(&r);
	mem_pair(&a, &b, 1000, (1 << 20) + (1 << 20) / 20 + 1, 2);
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "peak")->status, COMPARE_FAIL);
	compare_report_free(&r);

	/* One more leaked block fails, however small, and names its site. */
	mem_pair(&a, &b, 1000, 1 << 20, 3);
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "leaked-blocks")->status, COMPARE_FAIL);
	assert_int_equal(find(&r, "leaked-bytes")->status, COMPARE_FAIL);
	it = find(&r, "leak: keep");
	assert_non_null(it);
	assert_int_equal(it->status, COMPARE_FAIL);
	assert_int_equal(it->line, 22);
	assert_true(it->base == 2 && it->value == 3);
	assert_int_equal(r.nfail, 3);
	compare_report_free(&r);

	/* Fewer leaks are an improvement, not a failure. */
	mem_pair(&a, &b, 1000, 1 << 20, 1);
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "leaked-blocks")->status, COMPARE_IMPROVED);
	assert_int_equal(r.nfail, 0);
	compare_report_free(&r);

	/* In sampled recordings leaks are estimates, judged by the threshold. */
	mem_pair(&a, &b, 1000, 1 << 20, 2);
	fake_alloc(&a, FD_ALLOC_SAMPLED, 1 << 20, 50);
	fake_alloc(&b, FD_ALLOC_SAMPLED, 1 << 20, 50);
	b.p.mem.leaked_blocks = 2;
	b.p.mem.leaked_bytes += 1;
	run_diff(&a, &b, &o, &r);
	assert_int_equal(find(&r, "leaked-bytes")->status, COMPARE_OK);
	assert_null(find(&r, "leak: keep"));
	assert_true(r.nnotes >= 1);
	compare_report_free(&r);
	profile_free(&a.p);
	profile_free(&b.p);
}

static void test_missing_data(void **state)
{
	(void)state;
	struct fake a = {0}, b = {0};
	fake_init(&a, FD_CLOCK_CPU, 250);
	fake_add(&a, "parse", 10, 100, 1, 0, 0, 0, 0);
	fake_init(&b, FD_CLOCK_CPU, 250);
	fake_add(&b, "parse", 10, 100, 1, 0, 0, 0, 0);
	struct compare_summary sa, sb;
	summarize(&a, &sa);
	summarize(&b, &sb);
	struct compare_opts o;
	compare_opts_default(&o);
	struct compare_report r;
	char *err = NULL;
	/* By default the memory metrics are left out quietly... */
	assert_int_equal(compare_diff(&sa, &sb, &o, &r, &err), 0);
	assert_null(find(&r, "peak"));
	compare_report_free(&r);
	/* ...but named on the command line they are an error that says what to do. */
	o.metrics = COMPARE_M_PEAK;
	o.metrics_explicit = true;
	assert_int_equal(compare_diff(&sa, &sb, &o, &r, &err), -EINVAL);
	assert_non_null(err);
	assert_true(strstr(err, "--alloc") != NULL);
	free(err);
	compare_summary_free(&sa);
	compare_summary_free(&sb);
	profile_free(&a.p);
	profile_free(&b.p);
}

static void test_check(void **state)
{
	(void)state;
	struct fake f = {0};
	fake_init(&f, FD_CLOCK_CPU, 1000);
	fake_add(&f, "load", 10, 1500, 1, 1000, 64000, 2, 128);
	fake_alloc(&f, FD_ALLOC_EXACT, 1 << 20, 7);
	struct compare_summary s;
	summarize(&f, &s);
	struct compare_budgets b;
	compare_budgets_init(&b);
	struct compare_report r;
	char *err = NULL;
	assert_int_equal(compare_check(&s, &b, &r, &err), -EINVAL);
	assert_true(strstr(err, "no budget") != NULL);
	free(err);

	b.max_peak = 1 << 20;
	b.max_alloc_calls = 1000;
	b.max_cpu_ns = 2e9;
	b.max_leaked_blocks = 2;
	assert_int_equal(compare_check(&s, &b, &r, &err), 0);
	assert_int_equal(r.nfail, 0);
	assert_int_equal(r.nitems, 4);
	compare_report_free(&r);

	b.max_peak = (1 << 20) - 1;
	b.max_cpu_ns = 1e9;
	b.max_leaked = 0;
	assert_int_equal(compare_check(&s, &b, &r, &err), 0);
	assert_int_equal(r.nfail, 3);
	assert_int_equal(find(&r, "max-peak")->status, COMPARE_FAIL);
	assert_int_equal(find(&r, "max-cpu")->status, COMPARE_FAIL);
	assert_int_equal(find(&r, "max-leaked")->status, COMPARE_FAIL);
	assert_int_equal(find(&r, "max-alloc-calls")->status, COMPARE_OK);
	char *txt = render(&r, COMPARE_TEXT, false);
	assert_non_null(strstr(txt, "FAIL, 3 budgets exceeded"));
	assert_non_null(strstr(txt, "Peak heap 1.00 MiB exceeds the budget of 1024 KiB"));
	free(txt);
	compare_report_free(&r);
	compare_summary_free(&s);

	/* A memory budget on a recording without allocation data is bad input. */
	f.p.procs[0].alloc_mode = FD_ALLOC_OFF;
	summarize(&f, &s);
	assert_int_equal(compare_check(&s, &b, &r, &err), -EINVAL);
	assert_true(strstr(err, "--alloc") != NULL);
	free(err);
	compare_budgets_init(&b);
	b.max_samples = 1000;
	assert_int_equal(compare_check(&s, &b, &r, &err), 0);
	assert_int_equal(r.nfail, 1);
	compare_report_free(&r);
	compare_summary_free(&s);
	profile_free(&f.p);
}

/* Names with markup and control characters must not break any format. */
static void test_formats(void **state)
{
	(void)state;
	struct fake a = {0}, b = {0};
	mem_pair(&a, &b, 1000, 1 << 20, 3);
	fx_str(&a.p.funcs[2].name, "keep<T>|&\"x\"\x01");
	fx_str(&b.p.funcs[2].name, a.p.funcs[2].name);
	fx_str(&b.p.funcs[2].file, "dir/a,b:c.c");
	fx_str(&a.p.funcs[2].file, b.p.funcs[2].file);
	struct compare_opts o;
	compare_opts_default(&o);
	struct compare_report r;
	run_diff(&a, &b, &o, &r);
	assert_true(r.nfail >= 1);

	char *x = render(&r, COMPARE_JUNIT, false);
	assert_non_null(strstr(x, "<testsuite name=\"fathom diff\""));
	assert_non_null(strstr(x, "keep&lt;T&gt;|&amp;&quot;x&quot;\xef\xbf\xbd"));
	assert_null(strchr(x, '\x01'));
	assert_non_null(strstr(x, "<failure type=\"leak-site\""));
	char expect[64];
	snprintf(expect, sizeof(expect), "failures=\"%zu\"", r.nfail);
	assert_non_null(strstr(x, expect));
	free(x);

	x = render(&r, COMPARE_MARKDOWN, false);
	assert_non_null(strstr(x, ":x: fathom diff"));
	assert_non_null(strstr(x, "| leaked-blocks | 2 | 3 | +50.0% |"));
	/* The '|' in the name is escaped so the table keeps its columns. */
	assert_non_null(strstr(x, "keep&lt;T&gt;\\|&"));
	free(x);

	x = render(&r, COMPARE_JSON, false);
	assert_non_null(strstr(x, "\"verdict\": \"fail\""));
	assert_non_null(strstr(x, "\"metric\": \"leak-site\""));
	assert_non_null(strstr(x, "\\u0001"));
	free(x);

	x = render(&r, 0, true);
	/* ',' and ':' in a property would end it; they are percent-encoded. */
	assert_non_null(strstr(x, "::error file=dir/a%2Cb%3Ac.c,line=22,title=fathom diff%3A leak%3A keep"));
	size_t lines = 0;
	for (char *c = x; *c; c++)
		lines += *c == '\n';
	assert_int_equal(lines, r.nfail);
	free(x);
	/* Under the checkout's root, files are named relative to it. */
	x = render_in(&r, 0, true, "dir/");
	assert_non_null(strstr(x, "::error file=a%2Cb%3Ac.c,line=22,"));
	free(x);

	x = render(&r, COMPARE_TEXT, false);
	assert_non_null(strstr(x, "fathom diff: FAIL"));
	assert_non_null(strstr(x, "Regressions:"));
	free(x);
	compare_report_free(&r);

	assert_int_equal(compare_format_parse("md"), COMPARE_MARKDOWN);
	assert_int_equal(compare_format_parse("junit"), COMPARE_JUNIT);
	assert_int_equal(compare_format_parse("yaml"), -1);
	assert_int_equal(compare_metric_parse("cpu"), COMPARE_M_CPU);
	assert_int_equal(compare_metric_parse("peak-bytes"), COMPARE_M_PEAK);
	assert_int_equal(compare_metric_parse("speed"), 0);
	profile_free(&a.p);
	profile_free(&b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normal),
	    cmocka_unit_test(test_summarize),
	    cmocka_unit_test(test_noise_vs_change),
	    cmocka_unit_test(test_effect_threshold),
	    cmocka_unit_test(test_counts_not_weights),
	    cmocka_unit_test(test_runs),
	    cmocka_unit_test(test_new_function_and_total),
	    cmocka_unit_test(test_cpu_time),
	    cmocka_unit_test(test_exact_metrics),
	    cmocka_unit_test(test_missing_data),
	    cmocka_unit_test(test_check),
	    cmocka_unit_test(test_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
