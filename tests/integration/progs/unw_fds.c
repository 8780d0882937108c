/* A program that owns every descriptor number, for the test that the
 * agent's sampling never touches the program's files (issue 12, item 1):
 *   unw_fds closefds FILE SECONDS  closes fds 3..1024, then opens FILE and
 *                                  writes a line to it between bursts of CPU;
 *                                  every write must succeed and the file must
 *                                  hold exactly those lines;
 *   unw_fds dup2 FILE SECONDS      writes a header to FILE, dup2's it over fds
 *                                  3..1023, burns CPU; the file must hold only
 *                                  the header and every fd must stay open.
 * Prints "ok" or what went wrong, and exits 0 or 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* CPU work a few frames deep, some of it inside libc. */
static __attribute__((noinline)) void burn(int depth)
{
	if (depth > 0) {
		burn(depth - 1);
		sink += (unsigned long)depth;
		return;
	}
	int v[256];
	for (int i = 0; i < 256; i++)
		v[i] = (int)((i * 2654435761u) >> 7);
	qsort(v, 256, sizeof(int), cmp);
	for (int i = 0; i < 2000; i++)
		sink = sink * 31 + (unsigned long)v[i & 255];
}

static void burn_for(double seconds)
{
	double end = cpu_now() + seconds;
	while (cpu_now() < end)
		burn(6);
}

#define LINES 200

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	const char *path = argv[2];
	double secs = atof(argv[3]);
	if (!strcmp(argv[1], "closefds")) {
		for (int fd = 3; fd <= 1024; fd++)
			close(fd);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0) {
			printf("open: %s\n", strerror(errno));
			return 1;
		}
		for (int i = 0; i < LINES; i++) {
			burn_for(secs / LINES);
			char line[32];
			int n = snprintf(line, sizeof(line), "line %d\n", i);
			ssize_t w = write(fd, line, (size_t)n);
			if (w != n) {
				printf("write %d on fd %d: %zd (%s)\n", i, fd, w,
				       w < 0 ? strerror(errno) : "short");
				return 1;
			}
		}
		if (close(fd) < 0) {
			printf("close: %s\n", strerror(errno));
			return 1;
		}
		char want[LINES * 16], got[LINES * 16 + 64];
		size_t len = 0;
		for (int i = 0; i < LINES; i++)
			len += (size_t)snprintf(want + len, sizeof(want) - len, "line %d\n", i);
		fd = open(path, O_RDONLY);
		ssize_t r = read(fd, got, sizeof(got));
		close(fd);
		if (r != (ssize_t)len || memcmp(want, got, len)) {
			printf("file content differs: %zd bytes, %zu expected\n", r, len);
			return 1;
		}
	} else if (!strcmp(argv[1], "dup2")) {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		const char hdr[] = "header\n";
		if (fd < 0 || write(fd, hdr, sizeof(hdr) - 1) != sizeof(hdr) - 1) {
			printf("setup failed\n");
			return 1;
		}
		for (int i = 3; i <= 1023; i++)
			if (i != fd && dup2(fd, i) < 0) {
				printf("dup2 %d: %s\n", i, strerror(errno));
				return 1;
			}
		burn_for(secs);
		for (int i = 3; i <= 1023; i++)
			if (fcntl(i, F_GETFD) < 0) {
				printf("fd %d was closed\n", i);
				return 1;
			}
		char got[64];
		ssize_t r = pread(fd, got, sizeof(got), 0);
		if (r != sizeof(hdr) - 1 || memcmp(got, hdr, sizeof(hdr) - 1)) {
			printf("file content differs: %zd bytes, %zu expected\n", r, sizeof(hdr) - 1);
			return 1;
		}
	} else {
		return 2;
	}
	printf("ok\n");
	return 0;
}
