/* The unit tests' hand-built profiles (see fixture.h). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"

/* Appends one zeroed element to *arr of *n and returns its index. The arrays
 * grow by one: fixtures are small, and profile_free() frees them alike. */
static uint32_t append(void **arr, size_t *n, size_t size)
{
	void *a = realloc(*arr, (*n + 1) * size);
	assert_non_null(a);
	memset((char *)a + *n * size, 0, size);
	*arr = a;
	return (uint32_t)(*n)++;
}
#define APPEND(arr, n) append((void **)&(arr), &(n), sizeof(*(arr)))

static char *dup_or_null(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

void fx_str(char **field, const char *s)
{
	free(*field);
	*field = dup_or_null(s);
}

void fx_init(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	p->mem.scale = 1;
}

uint32_t fx_process(struct profile *p, const char *path, int pid, const char *exe, const char *cmdline)
{
	uint32_t i = APPEND(p->procs, p->nprocs);
	struct fa_process *pr = &p->procs[i];
	pr->path = dup_or_null(path);
	pr->pid = pid;
	pr->exe = dup_or_null(exe);
	pr->cmdline = dup_or_null(cmdline);
	return i;
}

uint32_t fx_module(struct profile *p, uint32_t proc, const char *path, uint64_t bias, uint64_t start,
		   uint64_t end)
{
	uint32_t i = APPEND(p->modules, p->nmodules);
	struct fa_module *m = &p->modules[i];
	m->proc = proc;
	m->bias = bias;
	m->start = start;
	m->end = end;
	m->path = dup_or_null(path);
	const char *slash = strrchr(m->path, '/');
	m->name = slash ? slash + 1 : m->path;
	return i;
}

uint32_t fx_thread(struct profile *p, uint32_t proc, int tid, const char *name)
{
	uint32_t i = APPEND(p->threads, p->nthreads);
	p->threads[i].proc = proc;
	p->threads[i].tid = tid;
	p->threads[i].name = dup_or_null(name ? name : "");
	return i;
}

uint32_t fx_func(struct profile *p, const char *name, const char *file, uint32_t module, int decl_line)
{
	uint32_t i = APPEND(p->funcs, p->nfuncs);
	p->funcs[i] = (struct fa_func){dup_or_null(name), dup_or_null(file), module, decl_line};
	return i;
}

uint32_t fx_frame(struct profile *p, uint32_t func, uint32_t line)
{
	uint32_t i = APPEND(p->frames, p->nframes);
	p->frames[i] = (struct fa_frame){func, line};
	return i;
}

uint32_t fx_loc(struct profile *p, uint64_t addr, uint32_t module, uint32_t frame_first, uint32_t nframes)
{
	uint32_t i = APPEND(p->locs, p->nlocs);
	uint64_t offset = module != FA_NONE ? addr - p->modules[module].bias : addr;
	p->locs[i] = (struct fa_loc){addr, module, offset, frame_first, nframes};
	return i;
}

uint32_t fx_stack(struct profile *p, uint32_t proc, uint32_t depth, const uint32_t *locs)
{
	uint32_t i = APPEND(p->stacks, p->nstacks);
	struct fa_stack *s = &p->stacks[i];
	s->proc = proc;
	s->depth = depth;
	if (depth) {
		s->locs = malloc(depth * sizeof(*s->locs));
		assert_non_null(s->locs);
		memcpy(s->locs, locs, depth * sizeof(*s->locs));
	}
	return i;
}

void fx_weight(struct profile *p, uint32_t s, int m, int64_t w)
{
	p->stacks[s].w[m] += w;
	p->total[m] += w;
}

uint32_t fx_tstack(struct profile *p, uint32_t s, uint32_t t, int64_t cpu, uint64_t samples)
{
	uint32_t i = APPEND(p->tstacks, p->ntstacks);
	p->tstacks[i] = (struct fa_thread_stack){s, t, cpu, samples, 0};
	return i;
}

void fx_point(struct profile *p, uint32_t proc, uint64_t time_ns, int64_t heap, int64_t rss)
{
	uint32_t i = APPEND(p->timeline, p->ntimeline);
	p->timeline[i] = (struct fa_point){proc, time_ns, heap, rss};
}
