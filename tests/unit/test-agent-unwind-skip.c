/* Unit tests of unwind_skip (preload/unwind.c): the run of frames whose code
 * lies in a range (here the functions of the section "uwrun", as the
 * agent's own code is for the allocation hooks) is learned on its first
 * walk and applied on later ones; either way the walk must arrive where
 * stepping frame by frame arrives, with the same callee-saved registers,
 * and a path through the range that differs from a learned one must not
 * take it. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unwind.h"
#include "agent-stack-bounds.h"

#include <pthread.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))
#define RUN __attribute__((noinline, section("uwrun")))

extern char __start_uwrun[], __stop_uwrun[];

static uintptr_t g_lo, g_hi;
static struct unwind g_u, g_ref;
static struct uw_cached g_cache[UW_CACHE];
static volatile unsigned sink;
/* What the walk from the innermost run function found: 1 when the skip's
 * state equals the state after stepping over the run's frames. */
static int g_ok, g_steps;

static int in_range(uint64_t pc)
{
	return pc >= (uintptr_t)__start_uwrun && pc < (uintptr_t)__stop_uwrun;
}

/* Captures here (inside the range) and compares unwind_skip with stepping:
 * the first frame outside the range, its stack pointer and the registers
 * the frames restored, then the next frames. */
RUN static void probe(void)
{
	unwind_capture(g_u.reg);
	memcpy(g_ref.reg, g_u.reg, sizeof(g_u.reg));
	unwind_init_captured(&g_u, g_lo, g_hi);
	unwind_init_captured(&g_ref, g_lo, g_hi);
	g_u.cache = g_cache;
	g_ref.cache = NULL;
	g_steps = 0;
	while (in_range(g_ref.reg[UW_RA]) && unwind_step(&g_ref))
		g_steps++;
	int ok = unwind_skip(&g_u, (uintptr_t)__start_uwrun, (uintptr_t)__stop_uwrun) == 1;
	static const int regs[] = {3, 6, 7, 12, 13, 14, 15, UW_RA};
	for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
		ok = ok && (g_u.known & (1u << regs[i])) == (g_ref.known & (1u << regs[i])) &&
		     g_u.reg[regs[i]] == g_ref.reg[regs[i]];
	for (int k = 0; ok && k < 3; k++) {
		int a = unwind_step(&g_u), b = unwind_step(&g_ref);
		ok = a == b && g_u.reg[UW_RA] == g_ref.reg[UW_RA] && g_u.reg[UW_RSP] == g_ref.reg[UW_RSP];
	}
	g_ok = ok && g_steps > 0;
}

/* Functions of the range that keep values in callee-saved registers
 * across their calls, so that the run saves and restores them. */
RUN static unsigned leaf(unsigned a, unsigned b, unsigned c, unsigned d)
{
	probe();
	return a + b + c + d;
}

RUN static unsigned mid(unsigned x, int how)
{
	unsigned a = x * 3, b = x ^ 5, c = x + sink, d = x - 7, e = x * x;
	unsigned r = how ? leaf(a, b, c, d) : leaf(d, c, b, a) + 1; /* two call sites of leaf */
	sink += a + b + c + d + e;
	return r + e;
}

RUN static unsigned top(unsigned x, int how, int via_mid)
{
	unsigned p = x + 1, q = x * 5, s = sink + x;
	unsigned r = via_mid ? mid(x, how) : leaf(p, q, s, x);
	sink += p * q + s;
	return r + p + q;
}

/* Outside the range: the program's frames. */
static NOINLINE unsigned outside(unsigned x, int how, int via_mid)
{
	unsigned r = top(x, how, via_mid);
	sink += r;
	return r;
}

static NOINLINE unsigned outside_deeper(unsigned x, int how, int via_mid)
{
	char pad[100];
	pad[x % 100] = (char)x;
	unsigned r = outside(x, how, via_mid) + (unsigned)pad[x % 100];
	sink += r;
	return r;
}

static void test_paths(void **state)
{
	(void)state;
	memset(g_cache, 0, sizeof(g_cache));
	unsigned before = unwind_skip_runs();
	/* First walks learn, later ones apply; each path its own run, and
	 * from another depth of the stack the same run. */
	for (int round = 0; round < 3; round++)
		for (int path = 0; path < 3; path++) {
			g_ok = 0;
			outside(round + 10, path == 1, path < 2);
			assert_true(g_ok);
			g_ok = 0;
			outside_deeper(round + 20, path == 1, path < 2);
			assert_true(g_ok);
		}
	assert_int_equal(g_steps, 3); /* probe, leaf, top (the last path) */
	assert_int_equal(unwind_skip_runs() - before, 3);
	/* A new generation of the cache (dlclose) does not drop runs, which
	 * hold the rules of code that is never unloaded. */
	unwind_gen++;
	g_ok = 0;
	outside(5, 1, 1);
	assert_true(g_ok);
	assert_int_equal(unwind_skip_runs() - before, 3);
}

/* Without a cache nothing is learned, and the skip still steps over the
 * range; a start outside the range is left as it is. */
static void test_no_cache(void **state)
{
	(void)state;
	unsigned before = unwind_skip_runs();
	unwind_capture(g_u.reg);
	unwind_init_captured(&g_u, g_lo, g_hi);
	g_u.cache = NULL;
	uint64_t pc = g_u.reg[UW_RA], sp = g_u.reg[UW_RSP];
	assert_int_equal(unwind_skip(&g_u, (uintptr_t)__start_uwrun, (uintptr_t)__stop_uwrun), 1);
	assert_int_equal(g_u.reg[UW_RA], pc);
	assert_int_equal(g_u.reg[UW_RSP], sp);
	assert_int_equal(unwind_skip_runs(), before);
}

int main(void)
{
	stack_bounds_of_thread(&g_lo, &g_hi);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_no_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
