/* Heap replay: turns one process's allocation events, read in file order, into
 * exact leaks, the peak and who held it, temporaries and a heap timeline.
 * The model (model.c) feeds it while reading; heap.c implements it
 * (with heap-mark.c and heap-finish.c). */
#ifndef FATHOM_HEAP_H
#define FATHOM_HEAP_H

#include <stdint.h>

#include "profile.h"

struct heap;

/* One replay per process. `sample_bytes` is the mean sampling interval of a
 * sampled recording, 0 for an exact one. The calls, bytes and temporaries of
 * an exact one go straight into p's stack weights as events are replayed (p
 * must be the profile later given to heap_finish); until heap_finish, the
 * leaked and peak weights of the process's stacks hold the replay's state
 * (they start at 0, and nothing else may read or write them). Returns NULL
 * when out of memory. */
struct heap *heap_new(uint64_t sample_bytes, struct profile *p);

/* Events in file order; `stack` is the profile's global stack index (the stack's
 * addresses may arrive later in the file). seq is the agent's global sequence
 * number; heap.c orders events by it before replaying them. */
int heap_alloc(struct heap *h, uint64_t seq, int tid, uint32_t stack, uint64_t size, uint64_t ptr);
int heap_free(struct heap *h, uint64_t seq, int tid, uint64_t ptr);
int heap_realloc(struct heap *h, uint64_t seq, int tid, uint32_t stack, uint64_t size, uint64_t old_ptr,
		 uint64_t new_ptr);
/* A periodic tick: at time_ns the agent had reached sequence number seq. */
int heap_tick(struct heap *h, uint64_t time_ns, uint64_t seq, int64_t rss);

/* A WINDOW mark (or FA_MARK_AT) at sequence number seq: the live heap then
 * goes to p->procs[proc].marks[idx] at heap_finish; what FD_WIN_START after
 * a STOP sets the blocks still live aside (their frees went unseen). */
int heap_mark(struct heap *h, uint64_t seq, size_t idx, int what);

/* Replays what is still buffered, then adds this process's weights into
 * p->stacks[*].w (alloc, temp, leaked, peak), its summary into p->mem and its
 * points into p->timeline (proc is the process index). Frees h. */
int heap_finish(struct heap *h, struct profile *p, uint32_t proc);

#endif
