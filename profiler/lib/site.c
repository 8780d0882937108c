/* Which frame of an allocation's stack is its site: the caller's code, not
 * the language runtime that forwards the allocation for it (see site.h). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cxxname.h"
#include "site.h"

/* The agent already cuts its own frames and malloc's; what is left on top is
 * code that only forwards an allocation for its caller. A user who asks
 * "who allocates" means the caller: `new Node` in their function, not
 * `operator new(unsigned long)` in libstdc++, which every C++ allocation
 * goes through and which would otherwise be the one site of every program. */
static bool alloc_function(const struct profile *p, const struct fa_func *fn)
{
	if (!strncmp(fn->name, "operator new", 12) || !strcmp(fn->name, "strdup") ||
	    !strcmp(fn->name, "__strdup") || !strcmp(fn->name, "strndup") || !strcmp(fn->name, "__strndup"))
		return true;
	const char *mod = fn->module != FA_NONE ? p->modules[fn->module].name : NULL;
	return mod && (!strncmp(mod, "libstdc++.so", 12) || !strncmp(mod, "libc++.so", 9));
}

/* The C library, its loader and the agent: a wait inside them (read under
 * fread, the futex under pthread_mutex_lock, the agent's interposer) is
 * their caller's. */
static bool system_function(const struct profile *p, const struct fa_func *fn)
{
	const char *mod = fn->module != FA_NONE ? p->modules[fn->module].name : NULL;
	return mod && (!strncmp(mod, "libc.so", 7) || !strncmp(mod, "libpthread.so", 13) ||
		       !strncmp(mod, "ld-linux", 8) || !strncmp(mod, "libfathom", 9));
}

/* The standard library's templates, inlined into the program or
 * instantiated in it: std::vector<…>::push_back, the allocator traits,
 * std::__new_allocator<…>::allocate. They are the library's code wherever
 * the compiler put them: a container's growth is its caller's allocation.
 * A function of the std namespace in the program's own source (a
 * std::hash specialization) is the program's. */
static bool std_library(const struct fa_func *fn)
{
	if (fn->file && strstr(fn->file, "/include/") && strstr(fn->file, "/c++/"))
		return true;
	if (fn->file && fn->file[0] && !strstr(fn->file, "/include/"))
		return false;
	const char *q = cxxname_qualified(fn->name);
	return !strncmp(q, "std::", 5) || !strncmp(q, "__gnu_cxx::", 11);
}

/* A frame of Python code (a module of Python code, which covers no
 * address: model.c). */
static bool python_frame(const struct profile *p, const struct fa_func *fn)
{
	const struct fa_module *m = fn->module < p->nmodules ? &p->modules[fn->module] : NULL;
	return m && m->python;
}

/* Python's own library (json/decoder.py, importlib's frozen modules), as
 * opposed to the program's code and the packages it installed. */
static bool python_library(const struct fa_func *fn)
{
	const char *f = fn->file;
	if (!f || f[0] == '<')
		return true;
	return strstr(f, "/lib/python3") && !strstr(f, "/site-packages/") && !strstr(f, "/dist-packages/");
}

/* An allocation with Python frames (the interpreter's allocators, wrapped
 * by the agent, or malloc called by code that Python called) is the
 * allocation of the innermost Python line: of the program's code under the
 * user rule (the first frame outside Python's library when there is one),
 * of any code under the raw rule. The native frames above it are the
 * interpreter making the object, or the C extension or library that the
 * line called (zlib's deflate state, sqlite3's pages). SIZE_MAX: no Python
 * frame. */
static size_t python_site(const struct profile *p, const struct fa_frame *fr, size_t n, enum site_rule rule)
{
	size_t first = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		if (fr[i].func >= p->nfuncs || !python_frame(p, &p->funcs[fr[i].func]))
			continue;
		if (first == SIZE_MAX)
			first = i;
		if (rule == SITE_RAW || !python_library(&p->funcs[fr[i].func]))
			return i;
	}
	return first;
}

size_t site_first(const struct profile *p, const struct fa_frame *fr, size_t n, enum site_rule rule)
{
	size_t i = python_site(p, fr, n, rule);
	if (i != SIZE_MAX)
		return i;
	i = 0;
	for (; i + 1 < n && fr[i].func < p->nfuncs; i++) {
		const struct fa_func *fn = &p->funcs[fr[i].func];
		if (!fn->name || !(alloc_function(p, fn) || (rule != SITE_RAW && std_library(fn)) ||
				   (rule == SITE_WAIT && system_function(p, fn))))
			break;
	}
	return i;
}
