/* Unit tests of profile_load: dumps built in memory with real addresses of
 * this very program are merged, weighted and symbolized, so the test knows
 * the truth: which function, which file, which thread, how much. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdump-writer.h"
#include "profile.h"
#include "symbols.h"

volatile int model_sink;

__attribute__((noinline)) void model_hot_leaf(void)
{
	for (int i = 0; i < 100; i++)
		model_sink += i * 3;
}

__attribute__((noinline)) void model_caller(void)
{
	for (int i = 0; i < 10; i++) {
		model_hot_leaf();
		model_sink ^= i;
	}
}

static __attribute__((noinline)) void model_static_leaf(void)
{
	for (int i = 0; i < 200; i++)
		model_sink += i ^ 5;
}

static uint64_t g_bias, g_start, g_end;
static char g_exe[4096];

static int find_main(struct dl_phdr_info *info, size_t size, void *data)
{
	g_bias = info->dlpi_addr;
	g_start = UINT64_MAX;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t s = g_bias + ph->p_vaddr, e = s + ph->p_memsz;
		if (s < g_start)
			g_start = s;
		if (e > g_end)
			g_end = e;
	}
	return 1; /* the first entry is the main program */
}

static char tmpdir[256];

static int setup(void **state)
{
	dl_iterate_phdr(find_main, NULL);
	ssize_t n = readlink("/proc/self/exe", g_exe, sizeof(g_exe) - 1);
	assert_true(n > 0);
	g_exe[n] = 0;
	assert_non_null(fdw_tmpdir(tmpdir, sizeof(tmpdir), "test-model"));
	return 0;
}

static int teardown(void **state)
{
	return fdw_rmdir(tmpdir);
}

static char *write_file(const char *name, const struct fdw *w)
{
	char *path = fdw_save(w, tmpdir, name);
	assert_non_null(path);
	return path;
}

/* One process: threads 100 (main) and 101 (worker); stack 1 is
 * leaf <- caller, stack 2 is caller alone (defined after its use), stack 9
 * is used and never defined. */
static char *make_dump(const char *name, int pid, bool zstd)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, pid, 1, 99, FD_ALLOC_EXACT, g_exe, "app\0-x\0", 7);
	fdw_module(&w, 1, g_bias, g_start, g_end, g_exe, 0);
	fdw_thread(&w, 100, 0, "main");
	fdw_thread(&w, 101, 0, "worker");
	uint64_t leaf = (uint64_t)(uintptr_t)model_hot_leaf + 4;
	uint64_t ret = (uint64_t)(uintptr_t)model_caller + 9;
	uint64_t s1[2] = {leaf, ret};
	fdw_stack(&w, 1, 2, s1);
	fdw_tid(&w, 100);
	fdw_sample(&w, 1000000, 1, 3);
	fdw_sample(&w, 2000000, 2, 1);
	fdw_tid(&w, 101);
	fdw_sample(&w, 2500000, 1, 1);
	fdw_sample(&w, 2600000, 9, 2);
	fdw_alloc(&w, 1, 1, 100, 0x1000);
	fdw_alloc(&w, 2, 2, 50, 0x2000);
	fdw_free_ev(&w, 3, 0x1000);
	fdw_flush(&w, zstd);
	uint64_t s2[1] = {ret + 2};
	fdw_stack(&w, 2, 1, s2);
	fdw_trailer(&w, 3000000, 4, 7, 0);
	fdw_flush(&w, zstd);
	char *path = write_file(name, &w);
	fdw_free(&w);
	return path;
}

static uint32_t func_named(const struct profile *p, const char *name)
{
	uint32_t found = FA_NONE;
	for (size_t i = 0; i < p->nfuncs; i++)
		if (!strcmp(p->funcs[i].name, name)) {
			assert_int_equal(found, FA_NONE); /* deduplicated: only once */
			found = (uint32_t)i;
		}
	return found;
}

static void test_one_file(void **state)
{
	char *path = make_dump("one.fdump", 4242, false);
	struct profile p;
	char *err = NULL;
	struct profile_opts o = {.quiet = true};
	assert_int_equal(profile_load(&p, &path, 1, &o, &err), 0);
	assert_null(err);
	assert_int_equal(p.nprocs, 1);
	assert_int_equal(p.procs[0].pid, 4242);
	assert_string_equal(p.procs[0].cmdline, "app -x");
	assert_true(p.procs[0].complete);
	assert_null(p.procs[0].damage);
	assert_int_equal(p.procs[0].samples, 4);
	assert_int_equal(p.procs[0].sample_weight, 7);
	assert_int_equal(p.procs[0].duration_ns, 3000000);
	assert_int_equal(p.total[FA_CPU], 7);
	assert_int_equal(p.nthreads, 2);
	assert_string_equal(p.threads[0].name, "main");
	assert_int_equal(p.threads[0].cpu, 4);
	assert_int_equal(p.threads[1].cpu, 3);
	assert_int_equal(p.nstacks, 3);
	assert_int_equal(p.ntstacks, 4);

	/* Stack 1: leaf then caller, symbolized from this program's DWARF. */
	const struct fa_stack *s = &p.stacks[0];
	assert_int_equal(s->w[FA_CPU], 4);
	struct fa_frame fr[16];
	size_t n = profile_stack_frames(&p, s, fr, 16);
	assert_int_equal(n, 2);
	assert_string_equal(p.funcs[fr[0].func].name, "model_hot_leaf");
	assert_string_equal(p.funcs[fr[1].func].name, "model_caller");
	assert_non_null(p.funcs[fr[0].func].file);
	assert_non_null(strstr(p.funcs[fr[0].func].file, "test-model.c"));
	assert_true(fr[0].line > 0);
	assert_true(p.funcs[fr[0].func].decl_line > 0);
	assert_true(p.funcs[fr[0].func].decl_line <= (int)fr[0].line);
	assert_int_equal(p.locs[s->locs[0]].module, 0);
	assert_string_equal(p.modules[0].name, strrchr(g_exe, '/') + 1);

	/* Stack 2 was defined after its use; stack 9 never. */
	n = profile_stack_frames(&p, &p.stacks[1], fr, 16);
	assert_int_equal(n, 1);
	assert_string_equal(p.funcs[fr[0].func].name, "model_caller");
	assert_int_equal(p.stacks[1].w[FA_CPU], 1);
	n = profile_stack_frames(&p, &p.stacks[2], fr, 16);
	assert_int_equal(n, 1);
	assert_string_equal(p.funcs[fr[0].func].name, "[unknown stack]");
	assert_int_equal(p.stacks[2].w[FA_CPU], 2);
	bool warned = false;
	for (size_t i = 0; i < p.nwarnings; i++)
		warned |= strstr(p.warnings[i], "never defined") != NULL;
	assert_true(warned);

	/* The heap replay got the allocations with global stack indices. */
	assert_int_equal(p.mem.alloc_calls, 2);
	assert_int_equal(p.mem.leaked_bytes, 50);
	assert_int_equal(p.stacks[1].w[FA_LEAKED_BYTES], 50);
	assert_int_equal(p.stacks[0].w[FA_ALLOC_BYTES], 100);
	assert_int_equal(p.total[FA_ALLOC_CALLS], 2);
	profile_free(&p);
	free(path);
}

static void test_merge_and_no_symbols(void **state)
{
	char *paths[2] = {make_dump("a.fdump", 500, false), make_dump("b.fdump", 501, true)};
	struct profile p;
	char *err = NULL;
	struct profile_opts o = {.quiet = true};
	assert_int_equal(profile_load(&p, paths, 2, &o, &err), 0);
	assert_int_equal(p.nprocs, 2);
	assert_int_equal(p.procs[1].pid, 501);
	assert_int_equal(p.nthreads, 4);
	assert_int_equal(p.nstacks, 6);
	assert_int_equal(p.total[FA_CPU], 14);
	assert_int_equal(p.nmodules, 2);
	/* One function over both processes. */
	assert_int_not_equal(func_named(&p, "model_hot_leaf"), FA_NONE);
	assert_int_equal(p.mem.leaked_bytes, 100);
	profile_free(&p);

	o.no_symbols = true;
	assert_int_equal(profile_load(&p, paths, 2, &o, &err), 0);
	struct fa_frame fr[4];
	profile_stack_frames(&p, &p.stacks[0], fr, 4);
	char want[128];
	snprintf(want, sizeof(want), "%s+0x%" PRIx64, strrchr(g_exe, '/') + 1,
		 (uint64_t)(uintptr_t)model_hot_leaf + 4 - g_bias);
	assert_string_equal(p.funcs[fr[0].func].name, want);
	profile_free(&p);
	free(paths[0]);
	free(paths[1]);
}

static void test_errors(void **state)
{
	struct profile p;
	char *err = NULL;
	char *missing = "no-such-file.fdump";
	assert_int_equal(profile_load(&p, &missing, 1, NULL, &err), -ENOENT);
	assert_string_equal(err, "no-such-file.fdump: No such file or directory");
	free(err);
	char *path;
	assert_true(asprintf(&path, "%s/text.fdump", tmpdir) > 0);
	FILE *f = fopen(path, "w");
	fputs("just some text\n", f);
	fclose(f);
	assert_int_equal(profile_load(&p, &path, 1, NULL, &err), -EINVAL);
	assert_non_null(strstr(err, "text.fdump: not a fathom dump"));
	free(err);
	free(path);
}

/* A truncated file loads, with its damage named in the process and warnings. */
static void test_truncated(void **state)
{
	char *full = make_dump("t.fdump", 77, false);
	FILE *f = fopen(full, "r+b");
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fclose(f);
	assert_int_equal(truncate(full, len - 5), 0);
	struct profile p;
	char *err = NULL;
	struct profile_opts o = {.quiet = true};
	assert_int_equal(profile_load(&p, &full, 1, &o, &err), 0);
	assert_false(p.procs[0].complete);
	assert_non_null(p.procs[0].damage);
	assert_non_null(strstr(p.procs[0].damage, "truncated after chunk 0"));
	assert_int_equal(p.procs[0].samples, 4);
	bool named = false;
	for (size_t i = 0; i < p.nwarnings; i++)
		named |= strstr(p.warnings[i], "t.fdump: truncated") != NULL;
	assert_true(named);
	profile_free(&p);
	free(full);
}

/* LOST records of format 1.1 carry a reason: CPU sampling unavailable in the
 * process, threads left unsampled; the 1.0 form (no reason) still reads. */
static void test_cpu_unavailable(void **state)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 42, 1, 99, FD_ALLOC_OFF, g_exe, "app", 3);
	const char *why = "timer_create: blocked by a seccomp filter (SIGSYS)";
	fdw_u(&w, FD_LOST_CPU_UNAVAILABLE);
	fdw_u(&w, 1);
	fdw_str(&w, why, strlen(why));
	fdw_rec(&w, FD_REC_LOST);
	const char *why2 = "timer_create: Resource temporarily unavailable";
	for (int i = 0; i < 2; i++) {
		fdw_u(&w, FD_LOST_CPU_THREADS);
		fdw_u(&w, 3);
		fdw_str(&w, why2, strlen(why2));
		fdw_rec(&w, FD_REC_LOST);
	}
	fdw_lost(&w, FD_LOST_SAMPLES, 2);
	fdw_trailer(&w, 1000, 0, 0, 2);
	fdw_flush(&w, false);
	char *path = write_file("cpu-off.fdump", &w);
	fdw_free(&w);
	struct profile p;
	char *err = NULL;
	struct profile_opts o = {.quiet = true};
	assert_int_equal(profile_load(&p, &path, 1, &o, &err), 0);
	assert_string_equal(p.procs[0].cpu_unavailable, why);
	assert_int_equal(p.procs[0].cpu_unsampled_threads, 6);
	assert_string_equal(p.procs[0].cpu_unsampled_why, why2);
	assert_int_equal(p.procs[0].lost_samples, 2);
	bool said = false;
	for (size_t i = 0; i < p.nwarnings; i++)
		said |= strstr(p.warnings[i], "CPU sampling unavailable: timer_create: blocked") != NULL;
	assert_true(said);
	profile_free(&p);
	free(path);
}

/* Four threads with the scheduler's account (format 1.7), or without it (an
 * older dump): main (38 of 60 periods) waited for a CPU 40% of its runnable
 * time, worker (1 period) 90%, quiet (10) 5%, edge (11) exactly 10%. */
static char *make_sched_dump(const char *name, bool sched)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 77, 1, 99, FD_ALLOC_OFF, g_exe, "app", 3);
	fdw_module(&w, 1, g_bias, g_start, g_end, g_exe, 0);
	static const char *names[4] = {"main", "worker", "quiet", "edge"};
	static const uint64_t weight[4] = {38, 1, 10, 11}, runq[4] = {400, 900, 50, 100};
	uint64_t s1[1] = {(uint64_t)(uintptr_t)model_hot_leaf + 4};
	fdw_stack(&w, 1, 1, s1);
	for (int i = 0; i < 4; i++) {
		fdw_thread(&w, 100 + i, 0, names[i]);
		fdw_tid(&w, 100 + i);
		fdw_sample(&w, 1000000 * (uint64_t)(i + 1), 1, weight[i]);
		uint64_t ns = weight[i] * 10000000u; /* 99 Hz: ~10 ms a period */
		/* run_ns + runq_ns is 1000 units: runq_ns per thousand. */
		fdw_thread_end_cpu(&w, 100 + i, 5000000, ns, sched ? (1000 - runq[i]) * 1000000u : UINT64_MAX,
				   runq[i] * 1000000u);
	}
	fdw_trailer(&w, 6000000, 4, 60, 0);
	fdw_flush(&w, false);
	char *path = write_file(name, &w);
	fdw_free(&w);
	return path;
}

static size_t waits_said(const struct profile *p, const char **which)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nwarnings; i++)
		if (strstr(p->warnings[i], "waited for a CPU")) {
			*which = p->warnings[i];
			n++;
		}
	return n;
}

/* A thread that holds 5% or more of the CPU weight and waited for a CPU
 * more than 10% of its runnable time is warned of, once; an older dump
 * (no scheduler's account: unknown) says nothing. */
static void test_cpu_waits(void **state)
{
	for (int sched = 1; sched >= 0; sched--) {
		char *path = make_sched_dump(sched ? "sched.fdump" : "nosched.fdump", sched);
		struct profile p;
		char *err = NULL;
		struct profile_opts o = {.quiet = true};
		assert_int_equal(profile_load(&p, &path, 1, &o, &err), 0);
		assert_int_equal(p.nthreads, 4);
		const char *w = NULL;
		if (sched) {
			assert_true(p.threads[0].sched);
			assert_int_equal(p.threads[0].runq_ns, 400000000u);
			assert_int_equal(p.threads[0].run_ns, 600000000u);
			assert_int_equal(waits_said(&p, &w), 1);
			assert_non_null(
			    strstr(w, "thread 100 (main) waited for a CPU 40% of the time it was runnable "
				      "(0.40 s of 1.00 s; the machine was busy)"));
			assert_non_null(strstr(w, "re-record on an idle machine or with more CPUs"));
		} else {
			assert_false(p.threads[0].sched);
			assert_int_equal(waits_said(&p, &w), 0);
		}
		profile_free(&p);
		free(path);
	}
	(void)state;
}

/* 1M samples over 100k distinct stacks of depth 16 drawn from 4,000
 * addresses of this program: the load must stay fast. */
static void test_scale(void **state)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 9, 1, 99, FD_ALLOC_OFF, g_exe, "big", 3);
	fdw_module(&w, 1, g_bias, g_start, g_end, g_exe, 0);
	fdw_flush(&w, true);
	uint64_t text = (uint64_t)(uintptr_t)model_hot_leaf;
	srand(7);
	const unsigned nstacks = 100000, nsamples = 1000000, depth = 16;
	for (unsigned s = 1; s <= nstacks; s++) {
		uint64_t a[16];
		for (unsigned i = 0; i < depth; i++)
			a[i] = text + (uint64_t)((s * 7919u + i * 104729u) % 4000u);
		a[0] = text + s % 4000u;
		a[depth - 1] = text + (s / 4000u) * 7u % 4000u;
		a[depth - 2] = text + (s / 16u) % 4000u;
		fdw_stack(&w, s, depth, a);
		if (w.clen > (1u << 20))
			fdw_flush(&w, true);
	}
	fdw_flush(&w, true);
	fdw_tid(&w, 9);
	for (unsigned i = 0; i < nsamples; i++) {
		if (i % 100000 == 0 && i) {
			fdw_flush(&w, true);
			fdw_tid(&w, 9 + (int)(i / 100000) % 4);
		}
		fdw_sample(&w, i * 1000ull, 1 + (uint64_t)rand() % nstacks, 1);
	}
	fdw_trailer(&w, nsamples * 1000ull, nsamples, nsamples, 0);
	fdw_flush(&w, true);
	char *path = write_file("big.fdump", &w);
	size_t bytes = w.len;
	fdw_free(&w);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct profile p;
	char *err = NULL;
	struct profile_opts o = {.quiet = true};
	assert_int_equal(profile_load(&p, &path, 1, &o, &err), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# profile_load: %u samples, %u stacks, %zu locs, %zu funcs, %zu KiB dump: %.2f s\n", nsamples,
	       nstacks, p.nlocs, p.nfuncs, bytes >> 10, secs);
	assert_int_equal(p.total[FA_CPU], nsamples);
	assert_int_equal(p.nstacks, nstacks);
	assert_int_equal(p.nthreads, 4);
	assert_true(secs < 20);
	profile_free(&p);
	free(path);
}

/* A function with no symbol at all (a stripped program's static function)
 * is one function named by its start, found through the unwind tables. */
static void test_stripped_static(void **state)
{
	model_static_leaf();
	char *copy, *cmd, *path;
	assert_true(asprintf(&copy, "%s/stripped", tmpdir) > 0);
	assert_true(asprintf(&cmd, "strip --strip-all -o '%s' '%s' 2>/dev/null", copy, g_exe) > 0);
	if (system(cmd) != 0) {
		free(copy);
		free(cmd);
		skip();
	}
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 5, 1, 99, FD_ALLOC_OFF, copy, "s", 1);
	fdw_module(&w, 1, g_bias, g_start, g_end, copy, 0);
	uint64_t f = (uint64_t)(uintptr_t)model_static_leaf;
	uint64_t a1[1] = {f + 3}, a2[1] = {f + 12};
	fdw_stack(&w, 1, 1, a1);
	fdw_stack(&w, 2, 1, a2);
	fdw_tid(&w, 5);
	fdw_sample(&w, 1, 1, 1);
	fdw_sample(&w, 2, 2, 1);
	fdw_trailer(&w, 3, 2, 2, 0);
	fdw_flush(&w, false);
	path = write_file("stripped.fdump", &w);
	fdw_free(&w);
	struct profile p;
	char *err = NULL;
	struct profile_opts o = {.quiet = true};
	assert_int_equal(profile_load(&p, &path, 1, &o, &err), 0);
	assert_int_equal(p.nlocs, 2);
	struct fa_frame fr1[2], fr2[2];
	assert_int_equal(profile_stack_frames(&p, &p.stacks[0], fr1, 2), 1);
	assert_int_equal(profile_stack_frames(&p, &p.stacks[1], fr2, 2), 1);
	assert_int_equal(fr1[0].func, fr2[0].func);
	char want[128];
	snprintf(want, sizeof(want), "stripped+0x%" PRIx64, f - g_bias);
	assert_string_equal(p.funcs[fr1[0].func].name, want);
	profile_free(&p);
	free(path);
	free(copy);
	free(cmd);
}

static void test_demangle(void **state)
{
	char *d = symbols_demangle("_ZN6fathom6widget4spinEPKcm");
	assert_non_null(d);
	assert_string_equal(d, "fathom::widget::spin(char const*, unsigned long)");
	free(d);
	assert_null(symbols_demangle("spine_a"));
	assert_null(symbols_demangle("_Znot-a-name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_demangle),	    cmocka_unit_test(test_stripped_static),
	    cmocka_unit_test(test_one_file),	    cmocka_unit_test(test_merge_and_no_symbols),
	    cmocka_unit_test(test_errors),	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_cpu_unavailable), cmocka_unit_test(test_scale),
	    cmocka_unit_test(test_cpu_waits),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
