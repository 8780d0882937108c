/* Threads whose CPU time sampling cannot reach: "tcpu-blk" blocks every
 * signal with the rt_sigprocmask system call made by a syscall instruction
 * of its own (no libc entry point, not even syscall(), that a profiler could
 * interpose) and burns argv[1] ms (default 300); "tcpu-raw",
 * made by a bare clone (no pthread_create, never runs profiler code),
 * burns argv[2] ms (default 200) and is still running at exit. Prints each
 * one's tid and its own CPU clock reading when its work is done. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long g_blk_ms = 300, g_raw_ms = 200;
static _Atomic uint64_t g_raw_ns;
static _Atomic pid_t g_raw_tid;

static uint64_t thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static __attribute__((noinline)) void burn(long ms)
{
	volatile uint64_t x = 1;
	uint64_t end = thread_cpu() + (uint64_t)ms * 1000000u;
	while (thread_cpu() < end)
		for (int i = 0; i < 10000; i++)
			x = x * 6364136223846793005u + 1442695040888963407u;
}

static __attribute__((noinline)) void *tcpu_blocked(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "tcpu-blk");
	uint64_t all = ~0ull;
#if defined(__x86_64__)
	register long r10 __asm__("r10") = 8; /* sigsetsize */
	long r = SYS_rt_sigprocmask;
	__asm__ volatile("syscall"
			 : "+a"(r)
			 : "D"((long)SIG_BLOCK), "S"(&all), "d"(0L), "r"(r10)
			 : "rcx", "r11", "memory");
#else
	syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, 8);
#endif
	burn(g_blk_ms);
	printf("blk %ld %llu\n", (long)syscall(SYS_gettid), (unsigned long long)thread_cpu());
	return NULL;
}

/* Runs on a bare clone: system calls and the vDSO only. */
static int tcpu_raw(void *arg)
{
	(void)arg;
	syscall(SYS_prctl, PR_SET_NAME, "tcpu-raw", 0, 0, 0);
	burn(g_raw_ms);
	atomic_store(&g_raw_ns, thread_cpu());
	atomic_store(&g_raw_tid, (pid_t)syscall(SYS_gettid));
	for (;;) {
		struct timespec ts = {1, 0};
		syscall(SYS_nanosleep, &ts, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		g_blk_ms = atol(argv[1]);
	if (argc > 2)
		g_raw_ms = atol(argv[2]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	pthread_t th;
	if (pthread_create(&th, NULL, tcpu_blocked, NULL) || pthread_join(th, NULL))
		return 1;
	size_t sz = 256 * 1024;
	char *stack = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return 1;
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
	if (clone(tcpu_raw, stack + sz, flags, NULL) < 0)
		return 1;
	while (!atomic_load(&g_raw_tid))
		usleep(10000);
	printf("raw %d %llu\n", (int)atomic_load(&g_raw_tid), (unsigned long long)atomic_load(&g_raw_ns));
	return 0;
}
