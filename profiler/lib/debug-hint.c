/* The report's footer on hot modules without debug information: which
 * Debian package (its -dbgsym, or the -dbg of libc6 and Python) or which
 * --debug-dir file would name them, found with one dpkg-query call. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aggregate.h"
#include "debug-hint.h"
#include "util.h"

extern char **environ;

static bool same_file(const struct fa_module *a, const struct fa_module *b)
{
	return a->build_id_len == b->build_id_len && !memcmp(a->build_id, b->build_id, a->build_id_len) &&
	       !strcmp(a->path, b->path);
}

static const char *problem_of(const struct fa_module *m)
{
	if (m->python || !m->path || m->path[0] != '/')
		return NULL;
	if (m->no_debuginfo)
		return "no debug info";
	/* A file that is gone is named by its debug file alone; one that
	 * changed needs the recorded build, which no package of today has. */
	if (m->symbols_problem && !strcmp(m->symbols_problem, "gone since the recording"))
		return m->symbols_problem;
	return NULL;
}

static int by_share(const void *a, const void *b)
{
	const struct debug_hint *x = a, *y = b;
	return x->share > y->share ? -1 : x->share < y->share ? 1 : (int)x->module - (int)y->module;
}

/* dpkg's name for a file: Debian registers most libraries under /lib while
 * the kernel shows them under /usr/lib (merged /usr), so both are asked. */
static const char *unmerged(const char *path)
{
	static const char *const dirs[] = {"/usr/lib/", "/usr/lib64/", "/usr/bin/", "/usr/sbin/", NULL};
	for (int i = 0; dirs[i]; i++)
		if (!strncmp(path, dirs[i], strlen(dirs[i])))
			return path + 4;
	return NULL;
}

/* Runs `dpkg-query -S PATH...` once and fills each hint's package from its
 * answer ("pkg[:arch][, pkg2]: /path"). Without dpkg-query: nothing. */
static void ask_dpkg(const struct profile *p, struct debug_hint *h, size_t n)
{
	char *argv[2 + 2 * DEBUG_HINT_MAX + 1];
	int argc = 0;
	argv[argc++] = "dpkg-query";
	argv[argc++] = "-S";
	for (size_t i = 0; i < n; i++) {
		const char *path = p->modules[h[i].module].path;
		if (strpbrk(path, "*?[\\")) /* dpkg-query would take it for a pattern */
			continue;
		argv[argc++] = (char *)path;
		if (unmerged(path))
			argv[argc++] = (char *)unmerged(path);
	}
	argv[argc] = NULL;
	if (argc == 2)
		return;
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, "dpkg-query", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	FILE *f = rc == 0 ? fdopen(fds[0], "r") : NULL;
	if (!f) {
		close(fds[0]);
		if (rc == 0)
			waitpid(pid, NULL, 0);
		return;
	}
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, ": /");
		if (!sep || !strncmp(line, "diversion ", 10))
			continue;
		*sep = 0;
		char *file = sep + 2;
		file[strcspn(file, "\n")] = 0;
		/* the first package named; its architecture left out */
		line[strcspn(line, ",:")] = 0;
		for (size_t i = 0; i < n; i++) {
			const char *path = p->modules[h[i].module].path;
			const char *um = unmerged(path);
			if (!h[i].package && (!strcmp(file, path) || (um && !strcmp(file, um))))
				h[i].package = strdup(line);
		}
	}
	free(line);
	fclose(f);
	waitpid(pid, NULL, 0);
}

/* Debian's debug package for a package's files: -dbgsym (built for every
 * package, in the debian-debug archive), but the C library's and Python's
 * are -dbg packages of the main archive. */
static char *debug_package(const char *pkg)
{
	const char *suffix = "-dbgsym";
	if (!strcmp(pkg, "libc6"))
		suffix = "-dbg";
	else if (!strncmp(pkg, "python3.", 8) || !strncmp(pkg, "libpython3.", 11)) {
		if (pkg[0] == 'l')
			pkg += 3; /* libpython3.11's symbols are in python3.11-dbg */
		suffix = "-dbg";
	}
	return str_fmt("%s%s", pkg, suffix);
}

int debug_hints(const struct profile *p, int tid, struct debug_hint **out)
{
	*out = NULL;
	size_t candidates = 0;
	for (size_t m = 0; m < p->nmodules; m++)
		candidates += problem_of(&p->modules[m]) != NULL;
	if (!candidates)
		return 0;
	struct agg_table t;
	struct agg_opts o = {
	    .key = AGG_FUNCTION, .metrics = AGG_METRIC(FA_CPU), .heavy = -1, .filter = {.tid = tid}};
	if (agg_table_build(&t, p, &o) < 0)
		return -ENOMEM;
	/* self weight per module, gathered on the first module of each file */
	int64_t *w = calloc(p->nmodules + 1, sizeof(*w));
	uint32_t *first = malloc((p->nmodules + 1) * sizeof(*first));
	struct debug_hint *h = NULL;
	size_t n = 0;
	if (!w || !first)
		goto out;
	for (size_t m = 0; m < p->nmodules; m++) {
		first[m] = (uint32_t)m;
		if (!problem_of(&p->modules[m]))
			continue;
		for (size_t k = 0; k < m; k++)
			if (first[k] == k && same_file(&p->modules[k], &p->modules[m])) {
				first[m] = (uint32_t)k;
				break;
			}
	}
	for (size_t r = 0; r < t.nrows; r++) {
		const struct agg_row *row = &t.rows[r];
		uint32_t m = row->func < p->nfuncs ? p->funcs[row->func].module : FA_NONE;
		if (m < p->nmodules && problem_of(&p->modules[m]))
			w[first[m]] += row->self[FA_CPU];
	}
	if (t.total[FA_CPU] <= 0 || !(h = calloc(candidates, sizeof(*h))))
		goto out;
	for (size_t m = 0; m < p->nmodules; m++) {
		double share = (double)w[m] / (double)t.total[FA_CPU];
		if (first[m] != m || !problem_of(&p->modules[m]) || share < DEBUG_HINT_SHARE)
			continue;
		struct debug_hint *d = &h[n++];
		d->module = (uint32_t)m;
		d->share = share;
		d->problem = problem_of(&p->modules[m]);
		hex_string(d->build_id, p->modules[m].build_id, p->modules[m].build_id_len);
	}
	qsort(h, n, sizeof(*h), by_share);
	if (n > DEBUG_HINT_MAX)
		n = DEBUG_HINT_MAX;
	ask_dpkg(p, h, n);
	for (size_t i = 0; i < n; i++)
		if (h[i].package)
			h[i].debug_package = debug_package(h[i].package);
out:
	free(w);
	free(first);
	agg_table_free(&t);
	if (!n) {
		free(h);
		return 0;
	}
	*out = h;
	return (int)n;
}

void debug_hints_free(struct debug_hint *h, size_t n)
{
	for (size_t i = 0; h && i < n; i++) {
		free(h[i].package);
		free(h[i].debug_package);
	}
	free(h);
}

const char *debug_hint_advice(const struct debug_hint *h, char *buf, size_t n)
{
	int len = 0;
	if (h->debug_package)
		len = snprintf(buf, n, "install %s%s, or ", h->debug_package,
			       strstr(h->debug_package, "-dbgsym") ? " (Debian's debian-debug archive)" : "");
	if (len < 0 || (size_t)len >= n)
		return buf;
	if (h->build_id[0])
		len += snprintf(buf + len, n - (size_t)len,
				"give --debug-dir DIR holding .build-id/%.2s/%s.debug", h->build_id,
				h->build_id + 2);
	else
		len += snprintf(buf + len, n - (size_t)len, "give --debug-dir DIR holding its debug file");
	const char *urls = getenv("DEBUGINFOD_URLS");
	if (h->build_id[0] && (!urls || !*urls) && len > 0 && (size_t)len < n)
		snprintf(buf + len, n - (size_t)len, ", or set DEBUGINFOD_URLS");
	return buf;
}
