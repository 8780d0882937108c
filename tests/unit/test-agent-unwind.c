/* Unit tests of the agent's unwinder (preload/unwind.c), with libunwind as
 * the oracle: from many points (nested calls, recursion, a qsort callback,
 * signal handlers interrupting libc and the PLT, a fake PLT context) both
 * must give the same return addresses; a corrupt context must end the walk
 * without a fault. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unwind.h"
#include "agent-stack-bounds.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define MAXF 128
#define NOINLINE __attribute__((noinline))

static uintptr_t g_lo, g_hi;
/* One state for the test's own walks and one for the signal handler's,
 * which may interrupt them. */
static struct unwind g_u, g_su;
static volatile int g_in_handler;
static struct uw_cached g_cache[UW_CACHE];

struct walk {
	uint64_t ip[MAXF];
	unsigned n;
};

static void ours_rest(struct unwind *u, struct walk *w)
{
	w->n = 0;
	do
		w->ip[w->n++] = u->reg[UW_RA];
	while (w->n < MAXF && unwind_step(u));
}

static void lib_rest(unw_cursor_t *c, struct walk *w)
{
	w->n = 0;
	do {
		unw_word_t ip;
		if (unw_get_reg(c, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		w->ip[w->n++] = ip;
	} while (w->n < MAXF && unw_step(c) > 0);
}

/* Prints both walks when they differ. */
static int same(const struct walk *a, const struct walk *b, unsigned from)
{
	int ok = a->n == b->n;
	for (unsigned i = from; ok && i < a->n; i++)
		ok = a->ip[i] == b->ip[i];
	if (!ok) {
		fprintf(stderr, "ours (%u) vs libunwind (%u):\n", a->n, b->n);
		for (unsigned i = 0; i < a->n || i < b->n; i++) {
			Dl_info d;
			uint64_t x = i < b->n ? b->ip[i] : 0;
			const char *name =
			    x && dladdr((void *)(uintptr_t)x, &d) && d.dli_sname ? d.dli_sname : "?";
			fprintf(stderr, "  %2u %#18llx %#18llx %s+%#llx\n", i,
				i < a->n ? (unsigned long long)a->ip[i] : 0ull, (unsigned long long)x, name,
				x && d.dli_saddr ? (unsigned long long)(x - (uintptr_t)d.dli_saddr) : 0ull);
		}
	}
	return ok;
}

static int
    g_mode; /* 0: stack bounds known; 1: unknown (every read checked by the kernel); 2: with the cache */

/* Walks from here with both, compares from frame 1 (frame 0 is the call
 * site of each capture, which differ). */
static NOINLINE int probe(void)
{
	static struct walk wa[2], wb[2];
	struct walk *a = &wa[g_in_handler], *b = &wb[g_in_handler];
	struct unwind *u = g_in_handler ? &g_su : &g_u;
	unw_context_t uc;
	unw_cursor_t c;
	unwind_capture(u->reg);
	unwind_init_captured(u, g_mode == 1 ? 0 : g_lo, g_mode == 1 ? 0 : g_hi);
	u->cache = g_mode == 2 && !g_in_handler ? g_cache : NULL;
	ours_rest(u, a);
	unw_getcontext(&uc);
	unw_init_local(&c, &uc);
	lib_rest(&c, b);
	__asm__ volatile("" ::: "memory");
	return same(a, b, 1) && a->n > 3;
}

static volatile int sink;

static NOINLINE int nest3(int x)
{
	int r = probe();
	sink += x;
	return r;
}
static NOINLINE int nest2(int x)
{
	int r = nest3(x + 1);
	sink += x;
	return r;
}
static NOINLINE int nest1(int x)
{
	int r = nest2(x * 2);
	sink += x;
	return r;
}

static NOINLINE int recurse(int d)
{
	char pad[64];
	pad[d % 64] = (char)d;
	sink += pad[d % 64];
	int r = d == 0 ? probe() : recurse(d - 1);
	sink += d;
	return r;
}

static int g_cmp_ok, g_cmp_calls;

static int cmp(const void *x, const void *y)
{
	if (g_cmp_calls++ % 97 == 0)
		g_cmp_ok &= probe();
	return *(const int *)x - *(const int *)y;
}

static NOINLINE int sort_some(void)
{
	int v[500];
	for (int i = 0; i < 500; i++)
		v[i] = (i * 7919) % 1009;
	g_cmp_ok = 1;
	g_cmp_calls = 0;
	qsort(v, 500, sizeof(int), cmp);
	return g_cmp_ok && g_cmp_calls > 97;
}

static void test_calls(void **state)
{
	for (g_mode = 0; g_mode < 3; g_mode++) {
		assert_true(nest1(1));
		assert_true(nest1(2)); /* the second time from the cache in mode 2 */
		assert_true(recurse(40));
		assert_true(sort_some());
	}
}

/* ------------------------------------------------- from a signal's context */

static volatile int g_samples, g_bad, g_inner_bad;
static uint64_t g_ns_ours, g_ns_lib;
static void work(void);

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* Runs the workload until n samples or a CPU-time budget (the timer counts
 * CPU time: a busy machine gives fewer samples per second of wall time). */
static void work_until(int n, uint64_t cpu_budget_ns)
{
	uint64_t end = clock_ns(CLOCK_PROCESS_CPUTIME_ID) + cpu_budget_ns, wall = now_ns() + 20000000000u;
	while (g_samples < n && clock_ns(CLOCK_PROCESS_CPUTIME_ID) < end && now_ns() < wall)
		work();
}

static void on_prof(int sig, siginfo_t *si, void *ucv)
{
	static struct walk a, b;
	uint64_t t0 = now_ns();
	static struct uw_cached cache[UW_CACHE];
	unwind_init_signal(&g_su, ucv, g_lo, g_hi);
	g_su.cache = cache;
	ours_rest(&g_su, &a);
	uint64_t t1 = now_ns();
	unw_cursor_t c;
	if (unw_init_local2(&c, (unw_context_t *)ucv, UNW_INIT_SIGNAL_FRAME) == 0)
		lib_rest(&c, &b);
	else
		b.n = 0;
	uint64_t t2 = now_ns();
	g_ns_ours += t1 - t0;
	g_ns_lib += t2 - t1;
	g_samples++;
	if (!same(&a, &b, 0))
		g_bad++;
	/* From inside the handler, through the signal frame. */
	g_in_handler = 1;
	if (g_samples % 8 == 0 && !probe())
		g_inner_bad++;
	g_in_handler = 0;
}

static NOINLINE void work(void)
{
	char buf[256], dst[256];
	for (int i = 0; i < 50; i++) {
		memset(buf, 'a' + i % 26, sizeof(buf) - 1);
		buf[sizeof(buf) - 1] = 0;
		sink += (int)strlen(buf);
		memcpy(dst, buf, sizeof(buf));
		snprintf(dst, sizeof(dst), "%d %s", i, buf + 200);
		sink += dst[1];
		void *p = malloc(64 + i);
		free(p);
	}
	sort_some();
	sink += recurse(5) * 0;
}

static void test_signals(void **state)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	assert_int_equal(sigaction(SIGPROF, &sa, NULL), 0);
	struct itimerval it = {{0, 200}, {0, 200}};
	assert_int_equal(setitimer(ITIMER_PROF, &it, NULL), 0);
	g_mode = 0;
	work_until(800, 1500000000u);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_PROF, &off, NULL);
	signal(SIGPROF, SIG_IGN);
	fprintf(stderr, "%d samples; mean unwind: ours %llu ns, libunwind %llu ns\n", g_samples,
		(unsigned long long)(g_ns_ours / (g_samples ? g_samples : 1)),
		(unsigned long long)(g_ns_lib / (g_samples ? g_samples : 1)));
	assert_true(g_samples >= 50);
	assert_int_equal(g_bad, 0);
	assert_int_equal(g_inner_bad, 0);
}

/* The same on the handler's own signal stack. */
static void test_altstack(void **state)
{
	stack_t ss = {.ss_sp = malloc(1 << 16), .ss_size = 1 << 16, .ss_flags = 0};
	assert_int_equal(sigaltstack(&ss, NULL), 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	assert_int_equal(sigaction(SIGPROF, &sa, NULL), 0);
	g_samples = g_bad = g_inner_bad = 0;
	struct itimerval it = {{0, 200}, {0, 200}};
	setitimer(ITIMER_PROF, &it, NULL);
	work_until(300, 1000000000u);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_PROF, &off, NULL);
	signal(SIGPROF, SIG_IGN);
	void *alt = ss.ss_sp;
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	free(alt); /* (LeakSanitizer, unit/test-agent-unwind-asan) */
	assert_true(g_samples >= 50);
	assert_int_equal(g_bad, 0);
	assert_int_equal(g_inner_bad, 0);
}

/* ------------------------------------------------------- a PLT stub's CFI */

static uintptr_t g_plt;
static size_t g_plt_size;

/* The main program's .plt, from its section headers. */
static int find_plt_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	int fd = open("/proc/self/exe", O_RDONLY);
	if (fd < 0)
		return 1;
	Elf64_Ehdr eh;
	if (pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) && eh.e_shnum < 256) {
		Elf64_Shdr sh[256];
		char names[8192];
		if (pread(fd, sh, eh.e_shnum * sizeof(Elf64_Shdr), (off_t)eh.e_shoff) > 0 &&
		    pread(fd, names, sizeof(names), (off_t)sh[eh.e_shstrndx].sh_offset) > 0)
			for (int i = 0; i < eh.e_shnum; i++)
				if (sh[i].sh_name < sizeof(names) - 8 &&
				    !strcmp(names + sh[i].sh_name, ".plt")) {
					g_plt = info->dlpi_addr + sh[i].sh_addr;
					g_plt_size = sh[i].sh_size;
				}
	}
	close(fd);
	return 1; /* the main program only */
}

/* A context stopped inside a PLT entry: before and after its push. */
static void test_plt(void **state)
{
	dl_iterate_phdr(find_plt_cb, NULL);
	if (!g_plt || g_plt_size < 32)
		skip();
	static uint64_t fake[8];
	ucontext_t uc;
	getcontext(&uc);
	uc.uc_stack.ss_flags = SS_DISABLE; /* getcontext leaves it unset */
	uint64_t ret = (uint64_t)(uintptr_t)nest1 + 1;
	for (int off = 0; off < 16; off += 5) {
		uint64_t rip = g_plt + 16 + (uint64_t)off;
		int pushed = off >= 11;
		fake[0] = pushed ? 3 : ret;
		fake[1] = pushed ? ret : 0;
		uc.uc_mcontext.gregs[REG_RIP] = (greg_t)rip;
		uc.uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)fake;
		unwind_init_signal(&g_u, &uc, 0, 0);
		g_u.cache = NULL;
		assert_int_equal(unwind_step(&g_u), 1);
		assert_int_equal(g_u.reg[UW_RA], ret);
		assert_int_equal(g_u.reg[UW_RSP], (uint64_t)(uintptr_t)&fake[pushed ? 2 : 1]);
		unw_cursor_t c;
		unw_word_t ip;
		assert_int_equal(unw_init_local2(&c, (unw_context_t *)&uc, UNW_INIT_SIGNAL_FRAME), 0);
		assert_true(unw_step(&c) > 0);
		unw_get_reg(&c, UNW_REG_IP, &ip);
		assert_int_equal(ip, ret);
	}
}

/* ---------------------------------------------------- corrupt contexts */

static void test_bad(void **state)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	munmap(m + pg, (size_t)pg); /* a hole above m's page */
	ucontext_t uc;
	getcontext(&uc);
	uc.uc_stack.ss_flags = SS_DISABLE;
	uint64_t sps[] = {0,
			  8,
			  4096,
			  (uint64_t)(uintptr_t)(m + pg),
			  (uint64_t)(uintptr_t)(m + pg - 8),
			  0x7ffffffffff8ull,
			  ~0ull - 7};
	memset(m, 0x41, (size_t)pg);
	for (size_t i = 0; i < sizeof(sps) / sizeof(sps[0]); i++) {
		uc.uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)nest2 + 4;
		uc.uc_mcontext.gregs[REG_RSP] = (greg_t)sps[i];
		uc.uc_mcontext.gregs[REG_RBP] = (greg_t)sps[i];
		/* Claim bounds that are wrong, too: reads beyond them are checked. */
		unwind_init_signal(&g_u, &uc, 0, 0);
		g_u.cache = g_cache;
		int steps = 0;
		while (steps < 200 && unwind_step(&g_u))
			steps++;
		assert_true(steps < 200);
	}
	/* A pc in no object, and pc 0. */
	uc.uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)m;
	uc.uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)m;
	unwind_init_signal(&g_u, &uc, 0, 0);
	assert_int_equal(unwind_step(&g_u), 0);
	uc.uc_mcontext.gregs[REG_RIP] = 0;
	unwind_init_signal(&g_u, &uc, 0, 0);
	assert_int_equal(unwind_step(&g_u), 0);
	munmap(m, (size_t)pg);
}

/* The cache gives what the full walk gives, and dlclose's generation
 * bump drops it. */
static void test_cache_gen(void **state)
{
	memset(g_cache, 0, sizeof(g_cache));
	g_mode = 2;
	assert_true(nest1(3));
	unsigned used = 0;
	for (unsigned i = 0; i < UW_CACHE; i++)
		used += g_cache[i].pc != 0;
	assert_true(used >= 4);
	unwind_gen++;
	assert_true(nest1(4));
}

int main(void)
{
	stack_bounds_of_thread(&g_lo, &g_hi);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_calls),    cmocka_unit_test(test_cache_gen), cmocka_unit_test(test_signals),
	    cmocka_unit_test(test_altstack), cmocka_unit_test(test_plt),       cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
