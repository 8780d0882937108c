/* A fork/exec tree: the parent burns CPU in spine_parent_work, forks a child
 * that burns in spine_child_work and then execs this program again in
 * "exec" mode, which burns in spine_exec_work. Three images, three dumps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile unsigned long spine_fe_sink;

#define SPIN(n)                                                                                              \
	do {                                                                                                 \
		unsigned long x = spine_fe_sink;                                                             \
		for (unsigned long i = 0; i < (n); i++)                                                      \
			x = x * 6364136223846793005ul + i;                                                   \
		spine_fe_sink = x;                                                                           \
	} while (0)

#define N 150000000ul

__attribute__((noinline, noipa)) void spine_parent_work(void)
{
	SPIN(N);
}
__attribute__((noinline, noipa)) void spine_child_work(void)
{
	SPIN(N);
}
__attribute__((noinline, noipa)) void spine_exec_work(void)
{
	SPIN(N);
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec")) {
		spine_exec_work();
		return 0;
	}
	pid_t pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		spine_child_work();
		execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
		_exit(127);
	}
	spine_parent_work();
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
