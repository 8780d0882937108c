/* The process's memory figures that every TICK record carries, read by the
 * writer so that the hooks pay nothing for them: the resident set from
 * /proc/self/statm, and the heap in use as glibc counts it.
 *
 * Context: the writer thread (and the constructor or a fork child, before
 * it starts).
 */
#define _GNU_SOURCE
#include "agent.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t (*g_mallinfo2)(void *); /* returns nothing useful; see heap_in_use() */

void procstat_init(void)
{
	g_mallinfo2 = (size_t(*)(void *))dlsym(RTLD_DEFAULT, "mallinfo2");
}

/* /proc/self/statm, read every tick through one descriptor of the agent's,
 * placed high (fd_place_high) and read with pread at offset 0 (the kernel
 * makes the text anew). Opening it for each read would take the lowest free
 * descriptor for a moment, fifty times a second: the program's own open()
 * would get another number than without the agent (close(0) then
 * open("/dev/null") no longer makes a stdin) and its dup2 onto that number
 * could fail with EBUSY (test-fd-lowest). The descriptor is checked (device
 * and inode) before each read, since the program may have closed it and
 * reused its number; only then is it opened again. Writer thread only. */
static int g_statm_fd = -1, g_statm_per_read;
static dev_t g_statm_dev;
static ino_t g_statm_ino;

void statm_forget(int close_it)
{
	if (g_statm_fd >= 0 && close_it)
		close(g_statm_fd);
	g_statm_fd = -1;
}

/* statm's second and third fields: resident, and of it the pages of files
 * and shared memory (RssFile + RssShmem). The anonymous rest costs nothing
 * more; smaps_rollup would tell file from shmem and stacks, but it walks
 * every page table of the process (docs/AGENT.md, "Mappings"). */
static uint64_t statm_parse(char *buf, ssize_t n, uint64_t *file)
{
	if (file)
		*file = UINT64_MAX;
	if (n <= 0)
		return 0;
	buf[n] = 0;
	unsigned long long size, res, shared;
	int got = sscanf(buf, "%llu %llu %llu", &size, &res, &shared);
	if (got < 2)
		return 0;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	if (file && got == 3 && shared <= res)
		*file = shared * page;
	return res * page;
}

static uint64_t statm_parse_file(uint64_t *file)
{
	char buf[128];
	return statm_parse(buf, read_file("/proc/self/statm", buf, sizeof(buf) - 1), file);
}

uint64_t statm_rss(uint64_t *file)
{
	if (g_statm_per_read)
		return statm_parse_file(file);
	struct stat st;
	if (g_statm_fd >= 0 &&
	    (fstat(g_statm_fd, &st) < 0 || st.st_dev != g_statm_dev || st.st_ino != g_statm_ino))
		statm_forget(0); /* not ours any more: the program closed it */
	if (g_statm_fd < 0) {
		int fd = open("/proc/self/statm", O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return statm_parse(NULL, 0, file);
		fd = fd_place_high(fd);
		struct rlimit rl;
		if (fstat(fd, &st) < 0 ||
		    (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
		     (rlim_t)fd < rl.rlim_cur && rl.rlim_cur <= 2048)) {
			/* No number above the program's range (a small soft
			 * limit, a hard one too close): the agent keeps none of
			 * the program's numbers and opens it for each read. */
			close(fd);
			g_statm_per_read = 1;
			return statm_parse_file(file);
		}
		g_statm_fd = fd;
		g_statm_dev = st.st_dev;
		g_statm_ino = st.st_ino;
	}
	char buf[128];
	ssize_t n;
	do
		n = pread(g_statm_fd, buf, sizeof(buf) - 1, 0);
	while (n < 0 && errno == EINTR);
	return statm_parse(buf, n, file);
}

/* How many times its own duration a mallinfo2 call waits before the next. */
#define MALLINFO_SPACING 200

static uint64_t g_heap_last, g_heap_next_at;

/* The heap in use as glibc counts it (mallinfo2: arena bytes in use plus
 * mmap'd chunks), read by the writer so the hooks pay nothing for it.
 * mallinfo2 walks every free chunk under the arena's lock, and the
 * program's malloc waits for it: on a heap of many free chunks (perl
 * building a hash of 300,000 keys) the calls took a third of the CPU
 * samples of a 99 Hz recording, and its user time was 0.58-0.93 s against
 * 0.29-0.36 s plain (0.34-0.40 s with the spacing). So a call comes no sooner than 200 times the
 * last one's duration after it (at most half a percent of the time under
 * the lock); in between, the last figure stands (a fork child's heap is
 * its parent's: it keeps both). */
uint64_t heap_in_use(void)
{
	if (!g_mallinfo2)
		return 0;
	uint64_t t0 = agent_now();
	if (t0 < g_heap_next_at)
		return g_heap_last;
	struct mallinfo2 (*mi)(void) = (struct mallinfo2(*)(void))(void *)g_mallinfo2;
	struct mallinfo2 m = mi();
	uint64_t t1 = agent_now();
	g_heap_next_at = t1 + (t1 - t0) * MALLINFO_SPACING;
	g_heap_last = (uint64_t)m.uordblks + (uint64_t)m.hblkhd;
	return g_heap_last;
}
