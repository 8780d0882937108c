/* fathom mem --at and --since: the live heap by site at a snapshot (or a
 * time), and what grew between two of them, from the heap replay's state at
 * each mark (lib/marks.c, heap-mark.c); fathom diff between two snapshots of one
 * recording says the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd-mem.h"
#include "cmds.h"
#include "fathom-dump.h"
#include "marks.h"
#include "util.h"

int mem_at_parse(struct mem_at *a, const char *arg, struct profile_opts *po, bool since)
{
	char *end;
	unsigned long long id = strtoull(arg, &end, 10);
	a->given = true;
	if (*arg >= '0' && *arg <= '9' && !*end && id > 0) {
		a->id = id;
		return 0;
	}
	double t = cmd_parse_time(arg);
	if (t < 0 || !strpbrk(arg, "smh"))
		return -1;
	/* --at's time and --since's are two marks of the replay. */
	a->is_time = true;
	a->kind = since ? FA_MARK_FROM : FA_MARK_AT;
	*(since ? &po->mark_from_ns : &po->mark_at_ns) = t > 0 ? (uint64_t)t : 1;
	return 0;
}

/* The mark a --at or --since names, or NULL after saying why not. */
static const struct fa_mark *find(const struct mem *m, const struct mem_at *a, uint32_t *proc)
{
	const struct fa_mark *k =
	    marks_find(m->p, a->is_time ? a->kind : FD_WIN_SNAPSHOT, a->is_time ? 0 : a->id, proc);
	if (!k) {
		if (a->is_time)
			fprintf(stderr, "fathom %s: --at: the recording ends before that time\n", m->cmd);
		else
			fprintf(stderr,
				"fathom %s: no snapshot %llu in the recording (fathom ctl PID snapshot or "
				"record "
				"--snapshot-every make them; fathom report --json lists its marks)\n",
				m->cmd, (unsigned long long)a->id);
	} else if (!k->heap_known) {
		fprintf(stderr, "fathom %s: the process of that mark did not record allocations\n", m->cmd);
		k = NULL;
	}
	return k;
}

static void describe(const struct fa_mark *k, char *buf, size_t len)
{
	if (k->what == FA_MARK_AT || k->what == FA_MARK_FROM)
		snprintf(buf, len, "%.3f s", (double)k->time_ns / 1e9);
	else
		snprintf(buf, len, "snapshot %llu%s%s%s (%.3f s)", (unsigned long long)k->id,
			 k->label ? " '" : "", k->label ? k->label : "", k->label ? "'" : "",
			 (double)k->time_ns / 1e9);
}

int mem_print_at(struct mem *m)
{
	struct profile *p = m->p;
	uint32_t pa = 0, pb = 0;
	const struct fa_mark *at = find(m, &m->at, &pa), *since = NULL;
	if (!at || (m->since.given && !(since = find(m, &m->since, &pb))))
		return 1;
	if (since && pa != pb) {
		fprintf(stderr, "fathom %s: --at and --since name marks of different processes\n", m->cmd);
		return 2;
	}
	/* The figures go into the leaked weights, which this report does not
	 * show otherwise, so that sites are summed as every table sums them. */
	for (size_t s = 0; s < p->nstacks; s++)
		p->stacks[s].w[FA_LEAKED_BYTES] = p->stacks[s].w[FA_LEAKED_BLOCKS] = 0;
	for (size_t i = 0; i < at->nlive; i++)
		if (at->live[i].stack < p->nstacks) {
			p->stacks[at->live[i].stack].w[FA_LEAKED_BYTES] += at->live[i].bytes;
			p->stacks[at->live[i].stack].w[FA_LEAKED_BLOCKS] += at->live[i].blocks;
		}
	for (size_t i = 0; since && i < since->nlive; i++)
		if (since->live[i].stack < p->nstacks) {
			p->stacks[since->live[i].stack].w[FA_LEAKED_BYTES] -= since->live[i].bytes;
			p->stacks[since->live[i].stack].w[FA_LEAKED_BLOCKS] -= since->live[i].blocks;
		}
	free(m->sites);
	m->sites = NULL;
	if (mem_sites_build(p, m->rule, FA_LEAKED_BYTES, &m->sites, &m->nsites) < 0) {
		fprintf(stderr, "fathom %s: out of memory\n", m->cmd);
		return 1;
	}
	mem_sites_sort(p, m->sites, m->nsites, FA_LEAKED_BYTES);
	char a[40], b[40], da[120], db[120], buf[512];
	describe(at, da, sizeof(da));
	const struct fa_process *pr = &p->procs[pa];
	printf("%s  pid %d  %s\n", pr->path, pr->pid, pr->cmdline ? pr->cmdline : "");
	if (since) {
		describe(since, db, sizeof(db));
		printf("\nHeap growth from %s to %s: %s%s (%s to %s)\n", db, da,
		       at->heap_bytes >= since->heap_bytes ? "+" : "",
		       mem_est_bytes(m, a, at->heap_bytes - since->heap_bytes),
		       mem_est_bytes(m, b, since->heap_bytes), mem_est_bytes(m, buf, at->heap_bytes));
	} else {
		printf("\nLive heap at %s: %s in %s blocks\n", da, mem_est_bytes(m, a, at->heap_bytes),
		       mem_est_count(m, b, at->heap_blocks));
	}
	mem_print_window_note(pr, false);
	printf("  %14s %12s  %s\n", since ? "bytes" : "live bytes", "blocks", "site");
	size_t shown = 0;
	for (size_t i = 0; i < m->nsites && (!m->top || shown < m->top); i++) {
		const struct mem_site *s = &m->sites[i];
		if (!s->w[FA_LEAKED_BYTES] && !s->w[FA_LEAKED_BLOCKS])
			continue;
		shown++;
		mem_site_text(m, s, buf, sizeof(buf));
		char x[48], y[48];
		snprintf(x, sizeof(x), "%s%s", since && s->w[FA_LEAKED_BYTES] > 0 ? "+" : "",
			 mem_est_bytes(m, a, s->w[FA_LEAKED_BYTES]));
		snprintf(y, sizeof(y), "%s%s", since && s->w[FA_LEAKED_BLOCKS] > 0 ? "+" : "",
			 mem_est_count(m, b, s->w[FA_LEAKED_BLOCKS]));
		printf("  %14s %12s  %s\n", x, y, buf);
	}
	if (!shown)
		printf("  (none)\n");
	return 0;
}

int mem_marks_diff(struct cmd_common *cc, char **paths, size_t n, const char *since, const char *at)
{
	struct mem m = {.cmd = cc->name, .top = 10, .sort = -1, .est = "", .rule = SITE_USER};
	const char *bad = mem_at_parse(&m.since, since, &cc->po, true) < 0 ? since
			  : mem_at_parse(&m.at, at, &cc->po, false) < 0	   ? at
									   : NULL;
	if (bad) {
		fprintf(stderr,
			"fathom %s: a snapshot is its number (1, 2, ...) or a time with its unit (1.5s, "
			"500ms; one of the two at most), not '%s'\n",
			cc->name, bad);
		return 2;
	}
	struct profile p;
	int status = cmd_load(cc, &p, paths, n, NULL);
	if (status)
		return status;
	m.p = &p;
	m.sampled = p.mem.sampled;
	m.est = m.sampled ? "~" : "";
	status = mem_print_at(&m);
	free(m.sites);
	profile_free(&p);
	return status;
}
