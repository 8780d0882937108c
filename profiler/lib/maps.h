/* The program's mappings in the model (maps.c): the MAP, UNMAP and REMAP
 * records replayed in sequence order per process, giving the bytes mapped
 * over time by kind, their peak, the stacks and files that mapped them, and
 * the resident set's file part from the ticks. */
#ifndef FATHOM_MAPS_H
#define FATHOM_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fathom-dump.h"
#include "reader.h"

struct profile;

/* Mapped bytes a kind adds to "mapped": the program's own mappings. GUARD
 * (PROT_NONE, not resident) and HEAP (the allocator's, in the heap) not. */
#define MAPS_COUNTED(kind)                                                                                   \
	((kind) == FD_MAP_ANON || (kind) == FD_MAP_FILE || (kind) == FD_MAP_STACK || (kind) == FD_MAP_BRK)

/* What one stack mapped of one kind, in one process. */
struct fa_map_stack {
	uint32_t stack, proc;
	unsigned kind;	   /* FD_MAP_* */
	uint64_t calls;	   /* MAP and REMAP records */
	int64_t bytes;	   /* mapped in all (a REMAP: its new length) */
	int64_t live_peak; /* mapped at its process's mapped peak (the largest process's) */
	int64_t max_live;  /* its own largest */
	int64_t live_end;  /* still mapped at the end */
	int32_t file;	   /* index in files, -1 */
};

/* A file mapped by one process. */
struct fa_map_file {
	char *path;
	uint32_t proc;
	uint64_t calls;
	int64_t bytes, max_live, live_end;
};

/* Mapped bytes by kind after one event of a process. */
struct fa_map_point {
	uint32_t proc;
	uint64_t time_ns;
	int64_t live[FD_MAP_NKINDS];
};

/* A tick's resident set and its pages of files and shared memory (since 1.4). */
struct fa_rss_point {
	uint32_t proc;
	uint64_t time_ns;
	int64_t rss, rss_file;
};

struct fa_maps {
	/* Per process: it recorded mappings (a 1.4 agent tracking
	 * allocations: its ticks carry rss_file, or it wrote a MAP). */
	bool *recorded;
	uint64_t calls[FD_MAP_NKINDS]; /* MAP records by kind */
	uint64_t unmaps, remaps;
	/* The largest mapped total (MAPS_COUNTED kinds) of one process, when,
	 * and its kinds then; each kind's own largest in one process. */
	int64_t peak_bytes;
	uint64_t peak_time_ns;
	uint32_t peak_proc;
	int64_t peak_kind[FD_MAP_NKINDS], kind_max[FD_MAP_NKINDS];
	int64_t end_kind[FD_MAP_NKINDS]; /* still mapped at the end, every process */
	uint64_t bad;			 /* records that made no sense (an unmapping of nothing is not one) */
	struct fa_map_stack *stacks;
	size_t nstacks;
	struct fa_map_file *files;
	size_t nfiles;
	struct fa_map_point *points;
	size_t npoints;
	struct fa_rss_point *rss;
	size_t nrss;
};

/* The loader's side: records in, the replay at the end. */
struct maps_loader;
struct maps_loader *maps_loader_new(void);
/* A MAP, UNMAP or REMAP of process proc; stack: the model's stack index of
 * its stack_id (MAP, REMAP). Returns 0 or -ENOMEM. */
int maps_record(struct maps_loader *ml, uint32_t proc, const struct rd_rec *r, uint32_t stack);
/* A TICK of process proc. Returns 0 or -ENOMEM. */
int maps_tick(struct maps_loader *ml, uint32_t proc, const struct rd_rec *r);
/* Replays what was read into p->maps (NULL when nothing was) and frees
 * ml; nprocs: the profile's processes. Returns 0 or -ENOMEM. */
int maps_finish(struct maps_loader *ml, struct profile *p);
void maps_loader_free(struct maps_loader *ml);
void maps_free(struct fa_maps *m);

/* The bytes each kind had mapped in process proc at time t (after the
 * last event at or before it). */
void maps_at(const struct fa_maps *m, uint32_t proc, uint64_t t, int64_t live[FD_MAP_NKINDS]);
/* The sum of the MAPS_COUNTED kinds. */
int64_t maps_counted(const int64_t live[FD_MAP_NKINDS]);
/* A kind's name: "anonymous", "file", "stack", "guard", "heap", "break". */
const char *maps_kind_name(unsigned kind);

#endif
