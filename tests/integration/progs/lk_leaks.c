/* Leaks of three kinds for the suppression tests: glibc's stdout buffer, a
 * cache the program declares as intended through __lsan_default_suppressions,
 * and (with the argument "leak") a real leak; "thread" leaves a thread
 * running at exit, so that the agent must not call __libc_freeres; "fork"
 * forks a child that leaves by _exit with unflushed output (which must stay
 * unwritten) and one that leaves by exit (whose output must appear once). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* LeakSanitizer's hook: the patterns this program suppresses. */
const char *__lsan_default_suppressions(void)
{
	return "# caches kept for the whole run\nleak:lk_cache_fill\n";
}

void *lk_cache[4]; /* global: the compiler must keep the allocations */

__attribute__((noinline)) void lk_cache_fill(void)
{
	for (int i = 0; i < 4; i++)
		lk_cache[i] = calloc(1, 64);
}

__attribute__((noinline)) void *lk_real_leak(size_t n)
{
	char *p = malloc(n);
	if (p)
		memset(p, 1, n);
	return p;
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	lk_cache_fill();
	for (int i = 0; i < 3; i++)
		printf("line %d of some output\n", i);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "leak"))
			printf("leaked at %p\n", lk_real_leak(200));
		if (!strcmp(argv[i], "fork")) {
			fflush(stdout);
			for (int how = 0; how < 2; how++) {
				pid_t pid = fork();
				if (pid == 0) {
					printf("child %d unflushed", how);
					if (how == 0)
						_exit(0);
					exit(0);
				}
				waitpid(pid, NULL, 0);
			}
			printf("\n");
		}
		if (!strcmp(argv[i], "thread")) {
			pthread_t t;
			pthread_create(&t, NULL, idle, NULL);
		}
	}
	return 0;
}
