/* Stress program: fork without exec, several levels deep, with allocations and
 * CPU work on both sides of each fork, and a child that exits with a status of
 * its own. The agent must give each process its own dump. Output is
 * deterministic because every parent waits before it prints. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static __attribute__((noinline)) uint64_t work(uint64_t seed, long n)
{
	uint64_t h = seed;
	for (long i = 0; i < n; i++) {
		h = h * 6364136223846793005ULL + 1442695040888963407ULL;
		if (i % 16 == 0) { /* an allocation every 16th round */
			char *p = malloc(64 + (size_t)(h % 256));
			if (!p)
				abort();
			p[0] = (char)h;
			h += (uint64_t)p[0];
			free(p);
		}
	}
	return h;
}

static void *volatile leaked;

/* Forks `width` children; each child forks again while depth remains. */
static int tree(int depth, int width, uint64_t seed, char *path, size_t len)
{
	uint64_t h = work(seed, 20000000);
	printf("%s work %016llx\n", path, (unsigned long long)h);
	fflush(stdout);
	if (depth == 0)
		return (int)(h % 7);
	for (int i = 0; i < width; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 100;
		}
		if (pid == 0) {
			snprintf(path + len, 64, "/%d", i);
			_exit(tree(depth - 1, width, h + (uint64_t)i, path, strlen(path)));
		}
		int st = 0;
		if (waitpid(pid, &st, 0) < 0) {
			perror("waitpid");
			return 100;
		}
		path[len] = 0;
		printf("%s child %d exited %d\n", path, i, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		fflush(stdout);
	}
	/* A block each parent still holds at exit: 1000 + depth bytes leaked by
	 * tree() in every process that forked (root 1002, its children 1001 each
	 * with the defaults). Kept in a global so that the compiler cannot
	 * remove the allocation. */
	leaked = malloc(1000 + (size_t)depth);
	return 0;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 2;
	int width = argc > 2 ? atoi(argv[2]) : 2;
	char path[512] = "root";
	if (depth < 0 || depth > 5 || width < 1 || width > 4) {
		fprintf(stderr, "usage: stress_fork [DEPTH<=5 [WIDTH<=4]]\n");
		return 2;
	}
	return tree(depth, width, 42, path, strlen(path));
}
