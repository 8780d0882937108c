/* A profile built by hand for the analyzer's unit tests: a few calls add
 * processes, modules, threads, functions, frames, locations, stacks, their
 * weights and per-thread CPU, each returning the new element's index, so that
 * a test states its profile in a few lines instead of filling struct profile's
 * arrays itself. Everything is allocated as profile_load() allocates it:
 * profile_free() frees a fixture profile. Failing to allocate fails the test. */
#ifndef FATHOM_TEST_FIXTURE_H
#define FATHOM_TEST_FIXTURE_H

#include <stdint.h>

#include "profile.h"

/* An empty profile (memory scale 1). */
void fx_init(struct profile *p);

/* A process read from the dump file `path`; other fields are set by the
 * caller through p->procs[i] (strings with fx_str). */
uint32_t fx_process(struct profile *p, const char *path, int pid, const char *exe, const char *cmdline);
/* A module of process proc mapped at [start, end) with load bias `bias`;
 * its name is the basename of path. */
uint32_t fx_module(struct profile *p, uint32_t proc, const char *path, uint64_t bias, uint64_t start,
		   uint64_t end);
/* A thread; its cpu and samples are the caller's to set, as the loader sums them. */
uint32_t fx_thread(struct profile *p, uint32_t proc, int tid, const char *name);
/* A function (file may be NULL; module may be FA_NONE). */
uint32_t fx_func(struct profile *p, const char *name, const char *file, uint32_t module, int decl_line);
/* A frame of function func at line (0: unknown). */
uint32_t fx_frame(struct profile *p, uint32_t func, uint32_t line);
/* An address: frames [frame_first, frame_first + nframes), innermost first;
 * its offset is addr less the module's bias (addr without a module). */
uint32_t fx_loc(struct profile *p, uint64_t addr, uint32_t module, uint32_t frame_first, uint32_t nframes);
/* A stack of process proc: depth locations, leaf first (copied); all weights 0. */
uint32_t fx_stack(struct profile *p, uint32_t proc, uint32_t depth, const uint32_t *locs);
/* Adds w to metric m of stack s and to the profile's total of m. */
void fx_weight(struct profile *p, uint32_t s, int m, int64_t w);
/* A (stack, thread) entry: CPU weight and samples of stack s on thread t. */
uint32_t fx_tstack(struct profile *p, uint32_t s, uint32_t t, int64_t cpu, uint64_t samples);
/* A heap and RSS point of process proc's timeline. */
void fx_point(struct profile *p, uint32_t proc, uint64_t time_ns, int64_t heap, int64_t rss);
/* Replaces the string *field with a copy of s (NULL: none). */
void fx_str(char **field, const char *s);

#endif
