/* Test program: what a program can still do within its limits.
 * `fd_limits files` opens /dev/null until it cannot and prints how many it
 * got; `fd_limits alloc MB` allocates and touches MB blocks of 1 MB, prints
 * how many it got (exit 1 when not all); `fd_limits status MS` computes and
 * allocates for MS milliseconds, then prints its VmPeak and VmHWM in kB. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static __attribute__((noinline)) void work(long ms)
{
	struct timespec t0, t;
	void *keep[256] = {0};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned k = 0;
	do {
		for (int i = 0; i < 20000; i++) {
			unsigned j = (k++ * 2654435761u) >> 24;
			free(keep[j]);
			keep[j] = malloc(16 + (k % 4096));
			sink += (unsigned long)keep[j] * (unsigned long)i;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
	for (int j = 0; j < 256; j++)
		free(keep[j]);
}

static long status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(key);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = atol(line + n + 1);
	if (f)
		fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "files")) {
		int n = 0;
		while (open("/dev/null", O_RDONLY) >= 0)
			n++;
		printf("%d files\n", n);
		return 0;
	}
	if (!strcmp(mode, "alloc") && argc > 2) {
		long want = atol(argv[2]), got = 0;
		for (; got < want; got++) {
			char *p = malloc(1 << 20);
			if (!p)
				break;
			memset(p, 1, 1 << 20);
		}
		printf("%ld MB\n", got);
		return got == want ? 0 : 1;
	}
	if (!strcmp(mode, "status") && argc > 2) {
		work(atol(argv[2]));
		printf("VmPeak %ld kB VmHWM %ld kB\n", status_kb("VmPeak"), status_kb("VmHWM"));
		return 0;
	}
	fprintf(stderr, "usage: fd_limits files | alloc MB | status MS\n");
	return 2;
}
