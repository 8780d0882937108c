/* Debug files and executables by build id from debuginfod servers: elfutils'
 * client library opened with dlopen (its headers are not needed to build),
 * its own cache ($DEBUGINFOD_CACHE_PATH or ~/.cache/debuginfod_client), a
 * shorter default timeout than its 90 s, and one summary of what failed. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debuginfod.h"

/* The few functions of <elfutils/debuginfod.h> used here, as that header
 * declares them (elfutils 0.179 and later). */
typedef struct debuginfod_client debuginfod_client;
typedef int (*dbgd_progressfn)(debuginfod_client *c, long a, long b);

/* Seconds without progress before a download is given up, unless the user
 * set DEBUGINFOD_TIMEOUT. */
#define DEFAULT_TIMEOUT "10"
#define MAX_NAMED 3

struct dbgd {
	void *so;
	debuginfod_client *client;
	debuginfod_client *(*begin)(void);
	void (*end)(debuginfod_client *);
	int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int, char **);
	int (*find_executable)(debuginfod_client *, const unsigned char *, int, char **);
	void (*set_progressfn)(debuginfod_client *, dbgd_progressfn);
	void (*set_user_data)(debuginfod_client *, void *);
	int dead;	/* the errno of the failure that stopped the queries */
	size_t missing; /* modules with nothing found */
	char named[MAX_NAMED][80];
	const char *current; /* the module being downloaded, for the progress line */
	bool shown;	     /* a progress line is on the terminal */
	char summary[512];
};

/* The library's debuginfod_get_user_data: the way from a client back to its
 * struct dbgd in the progress callback. */
static void *(*get_user_data)(debuginfod_client *);

/* The client calls it on every turn of its transfer loop, also while it
 * waits for an answer (a = 0, b <= 0). */
static int on_progress(debuginfod_client *c, long a, long b)
{
	struct dbgd *d = get_user_data(c);
	if (!d || !d->current)
		return 0;
	if (b > 0)
		fprintf(stderr, "\r\033[Kfathom: debuginfod: downloading %s: %ld of %ld kB", d->current,
			a / 1024, b / 1024);
	else if (a > 0)
		fprintf(stderr, "\r\033[Kfathom: debuginfod: downloading %s: %ld kB", d->current, a / 1024);
	else
		fprintf(stderr, "\r\033[Kfathom: debuginfod: asking for %s", d->current);
	fflush(stderr);
	d->shown = true;
	return 0;
}

struct dbgd *dbgd_new(bool allowed, bool progress, const char **why)
{
	*why = NULL;
	const char *urls = getenv("DEBUGINFOD_URLS");
	if (!allowed || !urls || !*urls)
		return NULL;
	struct dbgd *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->so = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (d->so) {
		*(void **)&d->begin = dlsym(d->so, "debuginfod_begin");
		*(void **)&d->end = dlsym(d->so, "debuginfod_end");
		*(void **)&d->find_debuginfo = dlsym(d->so, "debuginfod_find_debuginfo");
		*(void **)&d->find_executable = dlsym(d->so, "debuginfod_find_executable");
		*(void **)&d->set_progressfn = dlsym(d->so, "debuginfod_set_progressfn");
		*(void **)&d->set_user_data = dlsym(d->so, "debuginfod_set_user_data");
		*(void **)&get_user_data = dlsym(d->so, "debuginfod_get_user_data");
	}
	if (!d->so || !d->begin || !d->end || !d->find_debuginfo || !d->find_executable ||
	    !(d->client = d->begin())) {
		*why = "DEBUGINFOD_URLS is set but elfutils' client library (libdebuginfod.so.1, "
		       "Debian package libdebuginfod1) cannot be loaded: no downloads";
		if (d->so)
			dlclose(d->so);
		free(d);
		return NULL;
	}
	if (progress && d->set_progressfn && d->set_user_data && get_user_data && isatty(2)) {
		d->set_user_data(d->client, d);
		d->set_progressfn(d->client, on_progress);
	}
	return d;
}

void dbgd_free(struct dbgd *d)
{
	if (!d)
		return;
	d->end(d->client);
	/* The library stays loaded: curl's global state may outlive the client. */
	free(d);
}

char *dbgd_fetch(struct dbgd *d, char what, const uint8_t *build_id, size_t len, const char *name)
{
	if (!d || d->dead || !len)
		return NULL;
	const char *slash = strrchr(name, '/');
	d->current = slash ? slash + 1 : name;
	/* The client reads its timeout at each query: a shorter default than
	 * its own, set only around the query (a recording's program must not
	 * inherit it). */
	bool set_timeout = !getenv("DEBUGINFOD_TIMEOUT");
	if (set_timeout)
		setenv("DEBUGINFOD_TIMEOUT", DEFAULT_TIMEOUT, 1);
	char *path = NULL;
	int fd = (what == 'e' ? d->find_executable : d->find_debuginfo)(d->client, build_id, (int)len, &path);
	d->current = NULL;
	if (set_timeout)
		unsetenv("DEBUGINFOD_TIMEOUT");
	if (d->shown) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		d->shown = false;
	}
	if (fd >= 0) {
		close(fd);
		return path;
	}
	free(path);
	if (fd != -ENOENT)
		d->dead = -fd;
	return NULL;
}

void dbgd_missed(struct dbgd *d, const char *name)
{
	if (!d)
		return;
	const char *slash = strrchr(name, '/');
	if (d->missing < MAX_NAMED)
		snprintf(d->named[d->missing], sizeof(d->named[0]), "%s", slash ? slash + 1 : name);
	d->missing++;
}

const char *dbgd_summary(struct dbgd *d)
{
	if (!d || (!d->missing && !d->dead))
		return NULL;
	char *s = d->summary;
	size_t cap = sizeof(d->summary);
	int n = snprintf(s, cap, "debuginfod:");
	if (d->dead)
		n += snprintf(s + n, cap - (size_t)n,
			      " the servers in DEBUGINFOD_URLS failed (%s), no more queries%s",
			      strerror(d->dead), d->missing ? ";" : "");
	if (d->missing && n < (int)cap) {
		n += snprintf(s + n, cap - (size_t)n, " no debug info for %zu module%s (", d->missing,
			      d->missing == 1 ? "" : "s");
		for (size_t i = 0; i < d->missing && i < MAX_NAMED && n < (int)cap; i++)
			n += snprintf(s + n, cap - (size_t)n, "%s%s", i ? ", " : "", d->named[i]);
		if (n < (int)cap)
			snprintf(s + n, cap - (size_t)n, "%s)", d->missing > MAX_NAMED ? ", ..." : "");
	}
	return s;
}
