/* What a recording left (see manifest.h): the agent's manifest of the dumps
 * it made and what it noticed, and a first count of each dump. */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fathom-dump.h"
#include "manifest.h"
#include "reader.h"

void manifest_read(struct manifest *m, const char *path, const char *pattern, pid_t pid)
{
	FILE *mf = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while (mf && (len = getline(&line, &cap, mf)) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (!*line)
			continue;
		unsigned long long lost;
		if (sscanf(line, "disk-full %llu ", &lost) == 1) {
			m->disk_full++;
			m->disk_lost += lost;
			continue;
		}
		if (!strncmp(line, "closed ", 7)) {
			m->closed++;
			continue;
		}
		int lpid, off = 0;
		if (sscanf(line, "go %d %n", &lpid, &off) == 1 && off) {
			if (!m->ngo++) {
				m->go.pid = lpid;
				m->go.what = strdup(line + off);
			}
			continue;
		}
		/* An attached agent's detach (fathom record --pid). */
		if (sscanf(line, "detached %d", &lpid) == 1)
			continue;
		if (sscanf(line, "unprofiled-undo %d", &lpid) == 1) {
			m->nunprof -= m->nunprof > 0;
			continue;
		}
		if (sscanf(line, "unprofiled %d %n", &lpid, &off) == 1 && off) {
			if (!m->nunprof++ || !m->unprof.what) {
				free(m->unprof.what);
				m->unprof.pid = lpid;
				m->unprof.what = strdup(line + off);
			}
			continue;
		}
		char **d = realloc(m->dumps, (m->ndumps + 1) * sizeof(*d));
		if (!d)
			break;
		m->dumps = d;
		m->dumps[m->ndumps++] = strdup(line);
	}
	free(line);
	if (mf)
		fclose(mf);
	unlink(path);
	if (m->ndumps == 0) {
		/* An agent without manifest support still names the main dump by pattern. */
		char guess[PATH_MAX];
		const char *p = strstr(pattern, "%p");
		snprintf(guess, sizeof(guess), "%.*s%d%s", (int)(p - pattern), pattern, (int)pid, p + 2);
		if (access(guess, R_OK) == 0 && (m->dumps = malloc(sizeof(*m->dumps))))
			m->dumps[m->ndumps++] = strdup(guess);
	}
}

void manifest_free(struct manifest *m)
{
	for (size_t i = 0; i < m->ndumps; i++)
		free(m->dumps[i]);
	free(m->dumps);
	free(m->go.what);
	free(m->unprof.what);
	*m = (struct manifest){0};
}

/* The pid in path's header; 0 while it has none. */
static int header_pid(const char *path)
{
	struct reader *r;
	char *err;
	struct rd_rec rec;
	int pid = 0;
	if (reader_open(&r, path, &err) < 0) {
		free(err);
		return 0;
	}
	if (reader_next(r, &rec) > 0 && rec.kind == FD_REC_HEADER)
		pid = rec.pid;
	reader_close(r);
	return pid;
}

void dump_tally_add(struct dump_tally *t, const char *path, bool again)
{
	/* A child that has just made its dump may not have written its header
	 * yet (a daemon's child, read at the command's end; its first chunk
	 * follows the file's creation within milliseconds, longer on a loaded
	 * machine: test-fd-exits saw such a dump, header-less after 200 ms,
	 * called killed): up to 3 s for it. */
	for (int i = 0; again && i < 30 && !header_pid(path); i++)
		nanosleep(&(struct timespec){0, 100000000}, NULL);
	struct reader *r;
	char *err;
	if (reader_open(&r, path, &err) < 0) {
		free(err);
		t->damaged++;
		return;
	}
	struct rd_rec rec;
	struct dump_tally d = {0};
	uint64_t samples = 0, lost = 0;
	bool trailer = false;
	int pid = 0;
	char exe[300] = "";
	while (reader_next(r, &rec) > 0) {
		if (rec.kind == FD_REC_HEADER) {
			pid = rec.pid;
			snprintf(exe, sizeof(exe), "%.*s", (int)rec.exe.len, (const char *)rec.exe.p);
			d.cpu |= rec.hz > 0;
			d.cpu_procs += rec.hz > 0;
			d.alloc |= rec.alloc_mode != FD_ALLOC_OFF;
		} else if (rec.kind == FD_REC_LOST &&
			   (rec.what == FD_LOST_CPU_UNAVAILABLE || rec.what == FD_LOST_CPU_THREADS)) {
			if (rec.what == FD_LOST_CPU_UNAVAILABLE)
				d.cpu_off++;
			else
				d.cpu_unsampled += rec.count;
			if (!d.cpu_why[0])
				snprintf(d.cpu_why, sizeof(d.cpu_why), "%.*s", (int)rec.why.len,
					 (const char *)rec.why.p);
		} else if (rec.kind == FD_REC_NOTE && rec.what == FD_NOTE_ALLOC_BYPASS && !d.bypass[0]) {
			snprintf(d.bypass, sizeof(d.bypass), "%.*s", (int)rec.why.len,
				 (const char *)rec.why.p);
			memcpy(d.bypass_exe, exe, sizeof(d.bypass_exe));
		} else if (rec.kind == FD_REC_SAMPLE)
			samples++;
		else if (rec.kind == FD_REC_ALLOC || rec.kind == FD_REC_REALLOC)
			d.allocs++;
		else if (rec.kind == FD_REC_LOST && rec.what == FD_LOST_SAMPLES)
			lost += rec.count;
		else if (rec.kind == FD_REC_LOST && rec.what == FD_LOST_ALLOC)
			d.lost_allocs += rec.count;
		else if (rec.kind == FD_REC_TRAILER) {
			trailer = true;
			samples = rec.samples > samples ? rec.samples : samples;
			lost = rec.lost_samples > lost ? rec.lost_samples : lost;
		}
	}
	bool damaged = reader_damage(r);
	reader_close(r);
	bool running = !trailer && pid > 0 && kill(pid, 0) == 0;
	if (!trailer && !running && pid > 0 && again) {
		dump_tally_add(t, path, false);
		return;
	}
	if (running)
		t->running++;
	else if (!trailer || damaged)
		t->damaged++;
	t->cpu |= d.cpu;
	t->cpu_procs += d.cpu_procs;
	t->cpu_off += d.cpu_off;
	t->cpu_unsampled += d.cpu_unsampled;
	if (!t->cpu_why[0])
		memcpy(t->cpu_why, d.cpu_why, sizeof(t->cpu_why));
	if (!t->bypass[0] && d.bypass[0]) {
		memcpy(t->bypass, d.bypass, sizeof(t->bypass));
		memcpy(t->bypass_exe, d.bypass_exe, sizeof(t->bypass_exe));
	}
	t->alloc |= d.alloc;
	t->allocs += d.allocs;
	t->lost_allocs += d.lost_allocs;
	t->samples += samples;
	t->lost += lost;
}
