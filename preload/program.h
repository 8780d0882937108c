/* What the agent finds out about the program it runs in (a Go runtime, an
 * allocator that takes the hooks' place) and the environment it keeps for
 * the programs an exec starts. */
#ifndef FATHOM_PROGRAM_H
#define FATHOM_PROGRAM_H

#include <stddef.h>

/* True when the main executable carries Go's build-id note (the `Go` note
 * of type 4 in a PT_NOTE segment, `.note.go.buildid`): the Go runtime owns
 * its threads' signals and stacks, and the agent stays out of it.
 * Context: the constructor. */
int program_is_go(void);

/* When the program's calls to malloc reach another object's malloc, not the
 * agent's (an allocator preloaded before the agent, or one linked into the
 * program itself): writes that object's path into buf and returns 1 when it
 * is a preloaded library, 2 when it is the program; 0 when the hooks see the
 * program's allocations. Context: the constructor, agent_guard set. */
int program_alloc_bypass(char *buf, size_t cap);

/* Remembers the agent's own path and the FATHOM_* settings it started with,
 * which an exec passes on when the program's new environment dropped the
 * agent from LD_PRELOAD. Context: the constructor. */
void program_env_init(void);

/* The environment an exec should pass: envp itself, or, when envp has an
 * LD_PRELOAD without the agent (`env LD_PRELOAD=other.so prog`), a copy
 * whose LD_PRELOAD has the agent appended and which has the FATHOM_*
 * settings it lacks. A copy lives in a mapping (x->map) that
 * program_exec_env_done() unmaps after a failed exec (after a vfork child's
 * successful exec, the parent keeps that one mapping). When envp
 * has no LD_PRELOAD at all (`env -u LD_PRELOAD`, `env -i`), the program
 * meant none: envp is kept, and the manifest notes the process that runs
 * without the agent ("unprofiled PID PATH"). Context: an exec wrapper,
 * possibly in a vfork child: no malloc, no locks. */
struct exec_env {
	void *map;
	size_t len;
	int noted; /* an "unprofiled" line was written (1), or is the caller's to write (-1) */
};
char *const *program_exec_env(char *const *envp, const char *path, struct exec_env *x);
/* At start, before program_env_init(): this image's exec generation (0:
 * the first image of its pid), taken out of the environment. */
int program_generation(void);
/* After a failed exec: unmaps the copy, takes the manifest's note back. */
void program_exec_env_done(struct exec_env *x);

/* Appends a line to FATHOM_MANIFEST (config.c); returns 1 when written. */
int manifest_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void manifest_forget(void);

#endif
