/* Which frame of an allocation's stack is its site: the caller's code, not the
 * language runtime's allocation wrappers (C++ operator new, libstdc++, strdup);
 * and how the writers end their output. */
#include <errno.h>
#include <string.h>

#include "outputs.h"

/* The agent already cuts its own frames and malloc's; what is left on top is
 * code that only forwards an allocation for its caller. A user who asks
 * "who allocates" means the caller: `new Node` in their function, not
 * `operator new(unsigned long)` in libstdc++, which every C++ allocation
 * goes through and which would otherwise be the one site of every program. */
static bool alloc_wrapper(const struct profile *p, const struct fa_func *fn)
{
	if (!fn->name)
		return false;
	if (!strncmp(fn->name, "operator new", 12) || !strcmp(fn->name, "strdup") ||
	    !strcmp(fn->name, "__strdup") || !strcmp(fn->name, "strndup") || !strcmp(fn->name, "__strndup"))
		return true;
	const char *mod = fn->module != FA_NONE ? p->modules[fn->module].name : NULL;
	return mod && !strncmp(mod, "libstdc++.so", 12);
}

size_t site_first(const struct profile *p, const struct fa_frame *fr, size_t n)
{
	size_t i = 0;
	while (i + 1 < n && fr[i].func < p->nfuncs && alloc_wrapper(p, &p->funcs[fr[i].func]))
		i++;
	return i;
}

int out_flush(FILE *f)
{
	errno = 0;
	if (fflush(f) != 0 || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
