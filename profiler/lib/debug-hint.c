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

static int by_file(const void *a, const void *b, void *arg)
{
	const struct profile *p = arg;
	const struct fa_module *x = &p->modules[*(const uint32_t *)a], *y = &p->modules[*(const uint32_t *)b];
	int c = strcmp(x->path, y->path);
	if (c || x->build_id_len != y->build_id_len)
		return c ? c : x->build_id_len - y->build_id_len;
	c = memcmp(x->build_id, y->build_id, x->build_id_len);
	return c ? c
		 : (*(const uint32_t *)a > *(const uint32_t *)b) -
		       (*(const uint32_t *)a < *(const uint32_t *)b);
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

/* The other name of a file under merged /usr (/lib is /usr/lib): Debian
 * registers some libraries under /lib and others under /usr/lib, while the
 * dynamic linker names them by its search path; both are asked. Returns a
 * malloc'd string, or NULL. */
static char *other_name(const char *path)
{
	static const char *const dirs[] = {"/lib/", "/lib64/", "/bin/", "/sbin/", NULL};
	if (!strncmp(path, "/usr/", 5)) {
		for (int i = 0; dirs[i]; i++)
			if (!strncmp(path + 4, dirs[i], strlen(dirs[i])))
				return strdup(path + 4);
		return NULL;
	}
	for (int i = 0; dirs[i]; i++)
		if (!strncmp(path, dirs[i], strlen(dirs[i])))
			return str_fmt("/usr%s", path);
	return NULL;
}

/* Runs `dpkg-query -S PATH...` once and fills each hint's package from its
 * answer ("pkg[:arch][, pkg2]: /path"). Without dpkg-query: nothing. */
static void ask_dpkg(const struct profile *p, struct debug_hint *h, size_t n)
{
	char *argv[2 + 2 * DEBUG_HINT_MAX + 1];
	char *other[DEBUG_HINT_MAX] = {NULL};
	int argc = 0;
	argv[argc++] = "dpkg-query";
	argv[argc++] = "-S";
	for (size_t i = 0; i < n; i++) {
		const char *path = p->modules[h[i].module].path;
		if (strpbrk(path, "*?[\\")) /* dpkg-query would take it for a pattern */
			continue;
		argv[argc++] = (char *)path;
		if ((other[i] = other_name(path)))
			argv[argc++] = other[i];
	}
	argv[argc] = NULL;
	int fds[2];
	if (argc == 2 || pipe2(fds, O_CLOEXEC) < 0)
		goto out;
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
		goto out;
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
			if (!h[i].package && (!strcmp(file, path) || (other[i] && !strcmp(file, other[i]))))
				h[i].package = strdup(line);
		}
	}
	free(line);
	fclose(f);
	waitpid(pid, NULL, 0);
out:
	for (size_t i = 0; i < n; i++)
		free(other[i]);
}

/* Debian's debug package for a package's files: -dbgsym (built for every
 * package, in the debian-debug archive), but the C library's and Python's
 * are -dbg packages of the main archive. Every binary package of Python
 * 3.X (python3.X-minimal's interpreter, libpython3.X, the extension
 * modules of libpython3.X-minimal and -stdlib) has its debug files in
 * python3.X-dbg (the Build-Ids of its package entry). */
static char *debug_package(const char *pkg)
{
	if (!strcmp(pkg, "libc6"))
		return str_fmt("%s-dbg", pkg);
	const char *py = !strncmp(pkg, "lib", 3) ? pkg + 3 : pkg;
	size_t digits = strncmp(py, "python3.", 8) ? 0 : strspn(py + 8, "0123456789");
	if (digits)
		return str_fmt("%.*s-dbg", (int)(8 + digits), py);
	return str_fmt("%s-dbgsym", pkg);
}

int debug_hints(const struct profile *p, int tid, struct debug_hint **out)
{
	*out = NULL;
	size_t candidates = 0;
	for (size_t m = 0; m < p->nmodules && !candidates; m++)
		candidates += problem_of(&p->modules[m]) != NULL;
	if (!candidates)
		return 0;
	struct agg_table t;
	struct agg_opts o = {
	    .key = AGG_FUNCTION, .metrics = AGG_METRIC(FA_CPU), .heavy = -1, .filter = {.tid = tid}};
	if (agg_table_build(&t, p, &o) < 0)
		return -ENOMEM;
	/* self weight per module, then per file: the modules with weight
	 * sorted by path and build id, each run of one file summed */
	int64_t *w = calloc(p->nmodules + 1, sizeof(*w));
	uint32_t *idx = malloc((p->nmodules + 1) * sizeof(*idx));
	struct debug_hint *h = NULL;
	size_t n = 0, nidx = 0;
	if (!w || !idx)
		goto out;
	for (size_t r = 0; r < t.nrows; r++) {
		const struct agg_row *row = &t.rows[r];
		uint32_t m = row->func < p->nfuncs ? p->funcs[row->func].module : FA_NONE;
		if (m < p->nmodules && problem_of(&p->modules[m]))
			w[m] += row->self[FA_CPU];
	}
	for (size_t m = 0; m < p->nmodules; m++)
		if (w[m] > 0)
			idx[nidx++] = (uint32_t)m;
	qsort_r(idx, nidx, sizeof(*idx), by_file, (void *)p);
	if (t.total[FA_CPU] <= 0 || !(h = calloc(nidx + 1, sizeof(*h))))
		goto out;
	for (size_t i = 0, j; i < nidx; i = j) {
		int64_t sum = 0;
		for (j = i; j < nidx && same_file(&p->modules[idx[i]], &p->modules[idx[j]]); j++)
			sum += w[idx[j]];
		double share = (double)sum / (double)t.total[FA_CPU];
		if (share < DEBUG_HINT_SHARE)
			continue;
		struct debug_hint *d = &h[n++];
		d->module = idx[i];
		d->share = share;
		d->problem = problem_of(&p->modules[idx[i]]);
		hex_string(d->build_id, p->modules[idx[i]].build_id, p->modules[idx[i]].build_id_len);
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
	free(idx);
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
