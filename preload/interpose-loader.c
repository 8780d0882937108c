/* The interposed loader functions: dlopen and dlmopen (resolved relative to
 * their real caller, then the new modules recorded and their slots that
 * bind past the agent redirected), dlclose (the samples taken in the
 * library written before its UNLOAD) and dl_iterate_phdr (no unwinding
 * inside the loader's lock).
 *
 * Context: the program's threads.
 */
#define _GNU_SOURCE
#include "agent.h"
#include "python.h"
#include "interpose.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

REAL(dlopen, void *(*)(const char *, int));
REAL(dlmopen, void *(*)(Lmid_t, const char *, int));
REAL(dlclose, int (*)(void *));
REAL(dl_iterate_phdr, int (*)(int (*)(struct dl_phdr_info *, size_t, void *), void *));

int loader_iterate(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	if (!RESOLVE(dl_iterate_phdr))
		return 0;
	return real_dl_iterate_phdr(cb, data);
}

/* The loader's walk takes its lock; the signal handler must not unwind (and
 * so walk it again) while this thread is inside. */
EXPORT int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
	struct tstate *t = agent_tls;
	if (t)
		t->in_loader++;
	int r = loader_iterate(cb, data);
	if (t)
		t->in_loader--;
	return r;
}

/* After a dlopen or dlmopen: records the new modules, and points their
 * slots that bind past the agent at it. A library loaded with
 * RTLD_DEEPBIND (and its new dependencies) looks symbols up in its own
 * scope first, so it calls libc's malloc and free directly; its slots not
 * bound yet (lazy binding) are judged by what the handle's lookup finds.
 * Allocations made by its constructors, before dlopen returns, are not
 * seen. */
static void *after_open(void *h, int mode)
{
	if (h && agent_ready && !agent_finished) {
		int e = errno, g = agent_guard;
		agent_guard = 1;
		struct got_scope deep;
		if (mode & RTLD_DEEPBIND)
			got_scope_of(h, &deep);
		agent_guard = g;
		modules_scan(1, mode & RTLD_DEEPBIND ? &deep : NULL);
		python_after_dlopen(h);
		errno = e;
	}
	return h;
}

/* dlopen, or dlmopen into lmid when dlm. */
struct opener {
	int dlm;
	Lmid_t lmid;
};

static void *open_real(const struct opener *o, const char *file, int mode)
{
	return o->dlm ? real_dlmopen(o->lmid, file, mode) : real_dlopen(file, mode);
}

/* The directories the loader searches for a bare name dlopen'd by the
 * object `map` (its DT_RPATH chain, LD_LIBRARY_PATH, its DT_RUNPATH, the
 * system's), mapped: munmap dls_size bytes. */
static Dl_serinfo *search_dirs(void *map)
{
	Dl_serinfo size;
	if (dlinfo(map, RTLD_DI_SERINFOSIZE, &size) != 0 || size.dls_size < sizeof(size))
		return NULL;
	Dl_serinfo *si =
	    mmap(NULL, size.dls_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (si == MAP_FAILED)
		return NULL;
	*si = size;
	if (dlinfo(map, RTLD_DI_SERINFO, si) != 0) {
		munmap(si, size.dls_size);
		return NULL;
	}
	return si;
}

/* Writes `file` with each $ORIGIN (or ${ORIGIN}) replaced by the directory
 * of the object `from` into out; returns 0 when there was none, or it does
 * not fit. */
static int expand_origin(const struct link_map *from, const char *file, char *out, size_t size)
{
	char origin[PATH_MAX];
	const char *name = from->l_name;
	if (!name || !*name) {
		ssize_t l = readlink("/proc/self/exe", origin, sizeof(origin) - 1);
		origin[l > 0 ? l : 0] = 0;
	} else if (!realpath(name, origin))
		snprintf(origin, sizeof(origin), "%s", name);
	char *slash = strrchr(origin, '/');
	if (!slash)
		return 0;
	*slash = 0;
	size_t n = 0, ol = strlen(origin);
	int found = 0;
	for (const char *p = file; *p;) {
		size_t skip = 0;
		if (!strncmp(p, "${ORIGIN}", 9))
			skip = 9;
		else if (!strncmp(p, "$ORIGIN", 7) && !isalnum((unsigned char)p[7]) && p[7] != '_')
			skip = 7;
		if (skip) {
			if (n + ol >= size)
				return 0;
			memcpy(out + n, origin, ol);
			n += ol;
			p += skip;
			found = 1;
		} else {
			if (n + 1 >= size)
				return 0;
			out[n++] = *p++;
		}
	}
	out[n] = 0;
	return found;
}

/* glibc's dlopen resolves a name relative to its caller, which it takes
 * from its return address, which from here is libfathom.so's: $ORIGIN is
 * the caller's directory, and a bare name ("libplug.so") is searched along
 * the caller's DT_RPATH or DT_RUNPATH. So the agent expands $ORIGIN itself,
 * and for a bare name first looks, in the loader's order, in the
 * directories that the caller searches and libfathom.so does not (the lists
 * differ in their beginnings; the system's directories end both), and
 * opens a file found there by its path. A name already loaded is the
 * loader's answer whoever asks. (A library without DT_SONAME opened so is
 * then known by its path only, not also by the bare name.) */
static void *open_as(const void *caller, const struct opener *o, const char *file, int mode)
{
	static struct link_map *self;
	struct link_map *from = NULL;
	Dl_info di;
	/* In a setuid program the loader restricts $ORIGIN: leave it all to
	 * the loader there. */
	if (!file || (strchr(file, '/') && !strchr(file, '$')) || agent_guard || getauxval(AT_SECURE) ||
	    !dladdr1(caller, &di, (void **)&from, RTLD_DL_LINKMAP) || !from)
		return open_real(o, file, mode);
	if (!self && !dladdr1((void *)open_as, &di, (void **)&self, RTLD_DL_LINKMAP))
		self = NULL;
	if (!self || from == self)
		return open_real(o, file, mode);
	int g = agent_guard;
	agent_guard = 1;
	void *h = NULL;
	char path[PATH_MAX];
	if (strchr(file, '$')) {
		int x = expand_origin(from, file, path, sizeof(path));
		agent_guard = g;
		return open_real(o, x ? path : file, mode);
	}
	Dl_serinfo *mine = search_dirs(self), *theirs = search_dirs(from);
	unsigned k = 0;
	if (mine && theirs)
		while (k < mine->dls_cnt && k < theirs->dls_cnt &&
		       !strcmp(mine->dls_serpath[mine->dls_cnt - 1 - k].dls_name,
			       theirs->dls_serpath[theirs->dls_cnt - 1 - k].dls_name))
			k++;
	if (mine && theirs && k < theirs->dls_cnt) {
		if (!o->dlm || o->lmid != LM_ID_NEWLM)
			h = open_real(o, file, mode | RTLD_NOLOAD);
		for (unsigned i = 0; !h && i < theirs->dls_cnt - k; i++) {
			const char *dir = theirs->dls_serpath[i].dls_name;
			size_t l = strlen(dir);
			if (snprintf(path, sizeof(path), "%s%s%s", dir, l && dir[l - 1] == '/' ? "" : "/",
				     file) < (int)sizeof(path) &&
			    access(path, F_OK) == 0)
				h = open_real(o, path, mode);
		}
	}
	if (mine)
		munmap(mine, mine->dls_size);
	if (theirs)
		munmap(theirs, theirs->dls_size);
	agent_guard = g;
	return h ? h : open_real(o, file, mode);
}

EXPORT void *dlopen(const char *file, int mode)
{
	if (!RESOLVE(dlopen))
		return NULL;
	struct tstate *t = agent_tls;
	if (t)
		t->in_loader++;
	struct opener o = {0};
	void *h = open_as(__builtin_return_address(0), &o, file, mode);
	if (t)
		t->in_loader--;
	return after_open(h, mode);
}

EXPORT void *dlmopen(Lmid_t lmid, const char *file, int mode)
{
	if (!RESOLVE(dlmopen))
		return NULL;
	struct tstate *t = agent_tls;
	if (t)
		t->in_loader++;
	struct opener o = {1, lmid};
	void *h = open_as(__builtin_return_address(0), &o, file, mode);
	if (t)
		t->in_loader--;
	return after_open(h, mode);
}

EXPORT int dlclose(void *h)
{
	if (!RESOLVE(dlclose))
		return -1;
	if (agent_ready && !agent_finished && getpid() == agent_pid) {
		/* Samples taken in the library must reach the dump before its
		 * UNLOAD record. */
		int g = agent_guard, cs;
		agent_guard = 1;
		NO_CANCEL_BEGIN(cs);
		dump_lock();
		writer_cycle(0);
		dump_unlock();
		NO_CANCEL_END(cs);
		agent_guard = g;
	}
	struct tstate *t = agent_tls;
	if (t)
		t->in_loader++;
	int r = real_dlclose(h);
	/* The unwinder's cached frames may describe unloaded code. */
	__atomic_fetch_add(&unwind_gen, 1, __ATOMIC_RELAXED);
	if (t)
		t->in_loader--;
	if (agent_ready && !agent_finished && getpid() == agent_pid) {
		int e = errno;
		modules_rescan();
		errno = e;
	}
	return r;
}
