/* Unit test of the walk fathom record --pid makes of a stopped thread of
 * another process (profiler/attach-unwind.c over the agent's unwinder): a
 * child blocked in read() under a function whose frame keeps slots it never
 * writes, which hold what an earlier call left there (the addresses of a
 * "forbidden" function, as a dlclose leaves the loader's on the stack). The
 * words of the stack show them; the walk's frames do not, and reach the
 * outermost frame with the child's own return address among them. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The walk and the maps parser it uses, as fathom builds them. */
#include "../../profiler/attach-elf.c"
#include "../../profiler/attach-unwind.c"

#define NOINLINE __attribute__((noinline, noipa))
#define SLOTS 512

NOINLINE void forbidden(void)
{
	__asm__ volatile("nop; nop; nop; nop");
}

/* Fills the stack below its caller with forbidden's address. */
NOINLINE static void poison(void)
{
	volatile uint64_t buf[SLOTS];
	for (int i = 0; i < SLOTS; i++)
		buf[i] = (uint64_t)(uintptr_t)forbidden + 2;
	__asm__ volatile("" ::"r"(buf) : "memory");
}

/* Blocks in read() with a frame of SLOTS words it never writes. */
NOINLINE static void leaf(int fd, int tell)
{
	volatile uint64_t pad[SLOTS];
	__asm__ volatile("" ::"r"(pad) : "memory");
	uint64_t ra = (uint64_t)(uintptr_t)__builtin_return_address(0);
	if (write(tell, &ra, sizeof(ra)) != sizeof(ra))
		_exit(3);
	char c;
	if (read(fd, &c, 1) < 0)
		_exit(4);
	__asm__ volatile("");
}

NOINLINE static void child(int fd, int tell)
{
	poison();
	leaf(fd, tell);
	__asm__ volatile("");
	_exit(0);
}

static bool is_forbidden(uint64_t a)
{
	return a >= (uint64_t)(uintptr_t)forbidden && a < (uint64_t)(uintptr_t)forbidden + 8;
}

static void test_stale_words(void **state)
{
	(void)state;
	int in[2], out[2];
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child(in[0], out[1]);
	uint64_t ra = 0;
	assert_int_equal(read(out[0], &ra, sizeof(ra)), (ssize_t)sizeof(ra));
	nanosleep(&(struct timespec){0, 50000000}, NULL); /* into the read */
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) < 0) {
		int e = errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (e == EPERM)
			skip(); /* ptrace not allowed here */
		fail_msg("PTRACE_SEIZE: %s", strerror(e));
	}
	assert_int_equal(ptrace(PTRACE_INTERRUPT, pid, 0, 0), 0);
	int st;
	assert_int_equal(waitpid(pid, &st, __WALL), pid);
	assert_true(WIFSTOPPED(st));
	struct user_regs_struct r;
	assert_int_equal(ptrace(PTRACE_GETREGS, pid, 0, &r), 0);

	/* The premise: the words above the stack pointer hold forbidden's
	 * address, left by poison() in leaf()'s unwritten slots. */
	static uint64_t words[2048];
	struct iovec l = {words, sizeof(words)}, rem = {(void *)(uintptr_t)r.rsp, sizeof(words)};
	ssize_t got = process_vm_readv(pid, &l, 1, &rem, 1, 0);
	assert_true(got > 0);
	int stale = 0;
	for (ssize_t i = 0; i < got / 8; i++)
		stale += is_forbidden(words[i]);
	assert_true(stale > 0);

	struct attach_frames *fr = attach_frames_open(pid);
	assert_non_null(fr);
	uint64_t pcs[256], stop_sp = 1;
	int n = attach_frames_walk(fr, &r, pcs, 256, &stop_sp);
	attach_frames_close(fr);
	int found = 0;
	for (int i = 0; i < n; i++) {
		assert_false(is_forbidden(pcs[i]));
		found += pcs[i] == ra;
	}
	assert_int_equal(stop_sp, 0); /* the outermost frame reached */
	assert_int_equal(found, 1);   /* leaf's return into child */
	assert_true(n >= 4);	      /* read, leaf, child, the test's frames */

	ptrace(PTRACE_DETACH, pid, 0, 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_stale_words)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
