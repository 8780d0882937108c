/* The perf map a JIT runtime wrote (/tmp/perf-PID.map: node --perf-basic-prof,
 * Python's -X perf, LuaJIT, Java agents), copied into the dump at the end of
 * the image (exit, exec) as PERFMAP records, so that the analyzer can name
 * the addresses of code that no module covers (profiler/lib/jitmap.c).
 *
 * The agent does not parse the lines: it copies whole lines, bounded in
 * size (FATHOM_PERFMAP_MAX, default 32 MB: only the end of a larger file,
 * where the runtime's latest code is) and in time (a second, reading and
 * compressing, in chunks of 1 MB: the end of a process dying of a signal
 * waits for it), and tells from the file's times
 * whether this process wrote it or another one that had the same pid.
 *
 * Context: ordinary (the writer thread or the thread that exits or execs),
 * with wlock held. No malloc, no stdio: the buffer is mapped.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "encode.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PM_DEFAULT_MAX (32ull << 20)
#define PM_PIECE (64u << 10)		 /* text bytes per TEXT record */
#define PM_TIME_NS (1000000000ull)	 /* reading stops after this long */
#define PM_SLACK_NS (20ull * 1000000ull) /* coarse file times, ticks of /proc's start */

static uint64_t ts_ns(struct timespec t)
{
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t clock_ns(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return ts_ns(t);
}

/* The process's start (CLOCK_REALTIME ns), from /proc/self/stat's
 * starttime (clock ticks since boot: at most a tick early); 0 if unknown. */
static uint64_t process_start_real(void)
{
	char buf[1024];
	ssize_t n = read_file("/proc/self/stat", buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
	if (!p)
		return 0;
	/* Fields after the name start at 3 (state); starttime is the 22nd. */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	long hz = sysconf(_SC_CLK_TCK);
	if (!p || hz <= 0)
		return 0;
	unsigned long long ticks = strtoull(p + 1, NULL, 10);
	uint64_t boot = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	return boot + (uint64_t)(ticks / (unsigned long long)hz) * 1000000000u +
	       (uint64_t)(ticks % (unsigned long long)hz) * (1000000000u / (uint64_t)hz);
}

/* "/tmp/perf-" PID ".map" without stdio. */
static void map_path(char *out, size_t cap, pid_t pid)
{
	char digits[16];
	int nd = 0;
	unsigned v = (unsigned)pid;
	do
		digits[nd++] = (char)('0' + v % 10);
	while ((v /= 10) && nd < 16);
	size_t n = 0;
	const char *pre = "/tmp/perf-";
	while (*pre && n + 1 < cap)
		out[n++] = *pre++;
	while (nd && n + 1 < cap)
		out[n++] = digits[--nd];
	for (const char *suf = ".map"; *suf && n + 1 < cap;)
		out[n++] = *suf++;
	out[n] = 0;
}

/* FATHOM_PERFMAP: "0" or "off" records nothing; FATHOM_PERFMAP_MAX: the
 * most bytes recorded (a number, optionally with k, M or G). */
static uint64_t perfmap_max(void)
{
	const char *s = getenv("FATHOM_PERFMAP");
	if (s && (!strcmp(s, "0") || !strcmp(s, "off")))
		return 0;
	s = getenv("FATHOM_PERFMAP_MAX");
	if (!s || !*s)
		return PM_DEFAULT_MAX;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K')
		v <<= 10;
	else if (*end == 'M' || *end == 'm')
		v <<= 20;
	else if (*end == 'G' || *end == 'g')
		v <<= 30;
	return v;
}

/* What the file is to this image, from its times (fathom-dump.h's
 * FD_PERFMAP_*): t_proc is the process's start, t_image this image's. */
static unsigned classify(uint64_t mtime, uint64_t btime, uint64_t t_proc, uint64_t t_image)
{
	uint64_t born_after = agent_generation > 0 ? t_image : t_proc;
	if (t_proc && mtime + PM_SLACK_NS < t_proc)
		return FD_PERFMAP_STALE;
	if (agent_generation > 0 && mtime + PM_SLACK_NS < t_image)
		return FD_PERFMAP_EARLIER;
	if (btime && born_after && btime + PM_SLACK_NS < born_after)
		return FD_PERFMAP_MIXED;
	return FD_PERFMAP_OURS;
}

struct pm_file {
	uint64_t size, mtime, btime, start, from, recorded;
	unsigned state, cut;
};

static void put_file(struct enc *e, const struct pm_file *f, const char *path)
{
	uint8_t body[512], *p = body;
	size_t pl = strlen(path);
	p += fd_put_varint(p, FD_PERFMAP_FILE);
	p += fd_put_varint(p, f->state);
	p += fd_put_varint(p, f->size);
	p += fd_put_varint(p, f->mtime);
	p += fd_put_varint(p, f->btime);
	p += fd_put_varint(p, f->start);
	p += fd_put_varint(p, f->from);
	p += fd_put_varint(p, f->recorded);
	p += fd_put_varint(p, f->cut);
	p += fd_put_varint(p, pl);
	memcpy(p, path, pl);
	enc_record(e, FD_REC_PERFMAP, body, (size_t)(p + pl - body));
}

/* The bytes of [f->from, f->size) as TEXT records of whole lines; buf
 * holds PM_PIECE + 32 bytes. skip: from is not at a line's start, so the
 * bytes up to the first newline are left out. A line longer than a piece
 * is left out too (no runtime writes one). f->from becomes the offset of
 * the first byte recorded. */
static void copy_lines(struct enc *e, int fd, struct pm_file *f, uint8_t *buf, int skip)
{
	uint64_t deadline = clock_ns(CLOCK_MONOTONIC) + PM_TIME_NS, off = f->from;
	uint8_t *text = buf + 24; /* room for the record's head before it */
	size_t have = 0;
	while (off + have < f->size) {
		if (clock_ns(CLOCK_MONOTONIC) > deadline) {
			f->cut = FD_PMCUT_TIME;
			break;
		}
		size_t want = PM_PIECE - have;
		if (want > f->size - off - have)
			want = (size_t)(f->size - off - have);
		ssize_t r = pread(fd, text + have, want, (off_t)(off + have));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			f->cut = r < 0 ? FD_PMCUT_READ : f->cut; /* 0: it shrank meanwhile */
			break;
		}
		have += (size_t)r;
		if (skip) {
			uint8_t *nl = memchr(text, '\n', have);
			size_t drop = nl ? (size_t)(nl - text) + 1 : have;
			skip = !nl;
			off += drop;
			have -= drop;
			memmove(text, text + drop, have);
			if (skip)
				continue;
		}
		size_t keep = have;
		while (keep && text[keep - 1] != '\n')
			keep--;
		if (!keep) {
			if (have == PM_PIECE) { /* one line fills the piece: leave it out */
				skip = 1;
				off += have;
				have = 0;
			}
			continue; /* else the line goes on: read more of it */
		}
		if (!f->recorded)
			f->from = off;
		/* The head: what, offset, then the text's length, just before it. */
		uint8_t head[24], *h = head;
		h += fd_put_varint(h, FD_PERFMAP_TEXT);
		h += fd_put_varint(h, off);
		h += fd_put_varint(h, keep);
		size_t hl = (size_t)(h - head);
		memcpy(text - hl, head, hl);
		enc_record(e, FD_REC_PERFMAP, text - hl, hl + keep);
		/* Chunks of 1 MB: each is compressed as it fills, so that the
		 * deadline bounds the compression too, not only the reads. */
		if ((f->recorded + keep) >> 20 != f->recorded >> 20)
			enc_flush(e);
		f->recorded += keep;
		off += keep;
		have -= keep;
		memmove(text, text + keep, have);
	}
}

void perfmap_record(void)
{
	char path[64];
	map_path(path, sizeof(path), agent_pid);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return; /* the usual case: no JIT, or none that writes a map */
	struct enc *e = dump_locked();
	struct pm_file f = {0};
	uint64_t t_image = clock_ns(CLOCK_REALTIME) - agent_now(), t_proc = process_start_real();
	f.start = agent_generation > 0 ? t_image : t_proc;
	f.state = FD_PERFMAP_UNREADABLE;
	struct statx sx;
	if (fd >= 0 && statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &sx) == 0 &&
	    S_ISREG(sx.stx_mode)) {
		f.size = sx.stx_size;
		f.mtime = (uint64_t)sx.stx_mtime.tv_sec * 1000000000u + sx.stx_mtime.tv_nsec;
		if (sx.stx_mask & STATX_BTIME)
			f.btime = (uint64_t)sx.stx_btime.tv_sec * 1000000000u + sx.stx_btime.tv_nsec;
		f.state = classify(f.mtime, f.btime, t_proc, t_image);
	}
	uint64_t max = perfmap_max();
	if (!max && f.state != FD_PERFMAP_UNREADABLE)
		f.state = FD_PERFMAP_OFF;
	if (f.state == FD_PERFMAP_OURS || f.state == FD_PERFMAP_MIXED) {
		if (f.size > max) {
			f.cut = FD_PMCUT_SIZE;
			f.from = f.size - max;
		}
		size_t cap = PM_PIECE + 32;
		uint8_t *buf = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (buf == MAP_FAILED) {
			f.cut = FD_PMCUT_READ;
		} else {
			/* Cut: the first line is whole when the byte before it ends one. */
			char c = '\n';
			if (f.from && pread(fd, &c, 1, (off_t)(f.from - 1)) != 1)
				c = 0;
			copy_lines(e, fd, &f, buf, c != '\n');
			munmap(buf, cap);
		}
	}
	if (fd >= 0)
		close(fd);
	put_file(e, &f, path);
}
