/* Memory the heap does not explain: maps and touches 80 MiB directly with
 * mmap (as pymalloc's arenas or a custom allocator would), or with the
 * argument "heap" takes the same from malloc, and holds it for 300 ms so
 * that the agent's RSS ticks see it. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define SIZE ((size_t)80 << 20)

int main(int argc, char **argv)
{
	int heap = argc > 1 && !strcmp(argv[1], "heap");
	char *p = heap ? malloc(SIZE)
		       : mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!p || p == MAP_FAILED)
		return 1;
	memset(p, 1, SIZE);
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	if (heap)
		free(p);
	else
		munmap(p, SIZE);
	return 0;
}
