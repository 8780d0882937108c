/* What the agent finds out about the program it runs in (a Go runtime, an
 * allocator that takes the hooks' place) and the environment it keeps for
 * the programs an exec starts; see program.h.
 *
 * Context: the constructor, and the exec wrappers (possibly in a vfork
 * child: nothing here allocates or locks on that path).
 */
#define _GNU_SOURCE
#include "program.h"
#include "agent.h"
#include "sigmask.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

extern char **environ;

#define EXEC_VAR "FATHOM_EXEC"

/* ----------------------------------------------------------------- Go */

#define GO_NOTE_BUILDID 4

/* Whether the notes in [p, end) hold Go's build id note; align is the
 * segment's note alignment (4, or 8 for the GNU property notes). */
static int notes_have_go(const uint8_t *p, const uint8_t *end, size_t align)
{
	if (align != 8)
		align = 4;
	while ((size_t)(end - p) >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *n = (const void *)p;
		size_t name = (n->n_namesz + align - 1) & ~(align - 1);
		size_t desc = (n->n_descsz + align - 1) & ~(align - 1);
		const uint8_t *nm = p + sizeof(*n);
		if (name > (size_t)(end - nm) || desc > (size_t)(end - nm) - name)
			return 0;
		/* Go writes the name "Go" padded: n_namesz 4. */
		if (n->n_type == GO_NOTE_BUILDID && (n->n_namesz == 3 || n->n_namesz == 4) &&
		    !memcmp(nm, "Go", 3))
			return 1;
		p = nm + name + desc;
	}
	return 0;
}

int program_is_go(void)
{
	const ElfW(Phdr) *ph = (const void *)getauxval(AT_PHDR);
	size_t n = getauxval(AT_PHNUM);
	if (!ph || !n)
		return 0;
	/* The load bias: where PT_PHDR says the table is against where it is. */
	uintptr_t bias = 0;
	for (size_t i = 0; i < n; i++)
		if (ph[i].p_type == PT_PHDR)
			bias = (uintptr_t)ph - ph[i].p_vaddr;
	for (size_t i = 0; i < n; i++) {
		if (ph[i].p_type != PT_NOTE)
			continue;
		const uint8_t *p = (const uint8_t *)(bias + ph[i].p_vaddr);
		if (notes_have_go(p, p + ph[i].p_memsz, ph[i].p_align))
			return 1;
	}
	return 0;
}

/* ---------------------------------------------------------- the allocator */

/* Whether the code at p is a PLT entry (an indirect jump through a GOT
 * slot): a non-PIE executable that takes malloc's address exports such an
 * entry as its canonical `malloc`, which dlsym then finds, though every
 * call through it reaches the agent's hooks. */
static int is_plt_stub(const uint8_t *p)
{
#if defined(__x86_64__)
	if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa)
		p += 4; /* endbr64 */
	if (p[0] == 0xf2)
		p++;			     /* bnd */
	return p[0] == 0xff && p[1] == 0x25; /* jmp *disp32(%rip) */
#else
	(void)p;
	return 0;
#endif
}

int program_alloc_bypass(char *buf, size_t cap)
{
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	void *next = dlsym(RTLD_NEXT, "malloc");
	Dl_info mi, self, prog;
	if (!m || m == next || !dladdr(m, &mi) || !dladdr((void *)&program_alloc_bypass, &self))
		return 0;
	if (mi.dli_fbase == self.dli_fbase || is_plt_stub(m))
		return 0;
	/* The main program comes first in the lookup order, preloaded
	 * libraries next: anything else that wins over the agent is one of
	 * those. */
	int main_prog = !mi.dli_fname || !*mi.dli_fname ||
			(dladdr((void *)getauxval(AT_PHDR), &prog) && prog.dli_fbase == mi.dli_fbase);
	if (main_prog) {
		ssize_t l = readlink("/proc/self/exe", buf, cap - 1);
		buf[l > 0 ? l : 0] = 0;
		return 2;
	}
	snprintf(buf, cap, "%s", mi.dli_fname);
	return 1;
}

/* ----------------------------------------------------- exec's environment */

static char g_self[4096];     /* the agent's path as the loader knows it */
static char g_settings[8192]; /* the FATHOM_* settings at start */
static const char *g_set[32];
static int g_nset;

void program_env_init(void)
{
	Dl_info self;
	if (dladdr((void *)&program_env_init, &self) && self.dli_fname && *self.dli_fname &&
	    strlen(self.dli_fname) < sizeof(g_self))
		strcpy(g_self, self.dli_fname);
	size_t used = 0;
	for (char **e = environ; e && *e && g_nset < (int)(sizeof(g_set) / sizeof(g_set[0])); e++) {
		size_t l = strlen(*e) + 1;
		if (strncmp(*e, "FATHOM_", 7) || used + l > sizeof(g_settings))
			continue;
		memcpy(g_settings + used, *e, l);
		g_set[g_nset++] = g_settings + used;
		used += l;
	}
}

/* Whether one LD_PRELOAD entry [s, s+n) names the agent: its path, or a
 * file of the agent's name elsewhere. */
static int is_agent(const char *s, size_t n)
{
	size_t l = strlen(g_self);
	if (n == l && !memcmp(s, g_self, n))
		return 1;
	const char *base = strrchr(g_self, '/') ? strrchr(g_self, '/') + 1 : g_self;
	size_t bl = strlen(base);
	return n >= bl && !memcmp(s + n - bl, base, bl) && (n == bl || s[n - bl - 1] == '/');
}

/* LD_PRELOAD separates its entries by colons and spaces. */
static int preload_has_agent(const char *v)
{
	while (*v) {
		size_t n = strcspn(v, ": ");
		if (n && is_agent(v, n))
			return 1;
		v += n;
		if (*v)
			v++;
	}
	return 0;
}

/* The entry of envp named `name` (with its '='), or NULL. */
static const char *env_find(char *const *envp, const char *name, size_t n)
{
	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n))
			return *envp;
	return NULL;
}

/* Writes "FATHOM_EXEC=PID:N" into s (room for 48 bytes) without stdio: it
 * may run in a vfork child. */
static void exec_mark(char *s, unsigned pid, unsigned gen)
{
	char d[24];
	int n;
	strcpy(s, EXEC_VAR "=");
	s += strlen(s);
	for (unsigned v = pid, k = 0; k < 2; v = gen, k++) {
		n = 0;
		do
			d[n++] = (char)('0' + v % 10);
		while ((v /= 10) && n < 20);
		while (n)
			*s++ = d[--n];
		*s++ = k ? 0 : ':';
	}
}

/* The environment for an exec (exec 1) or a spawned program (exec 0): the
 * agent appended to LD_PRELOAD when the program's environment lost it
 * there, the agent's settings where it lost them, and for an exec of this
 * very process FATHOM_EXEC=PID:N, which tells the next image that it is
 * this pid's N-th exec (the agent there takes it out of its environment at
 * start, so the program never sees it). */
static char *const *exec_env(char *const *envp, const char *path, struct exec_env *x, int exec)
{
	x->map = NULL;
	x->len = 0;
	x->noted = 0;
	if (!g_self[0])
		return envp; /* the agent is off in this process */
	const char *pre = env_find(envp, "LD_PRELOAD=", 11);
	if (!pre || !pre[11]) {
		/* The program meant its child to have no preloads: said, not
		 * overruled. */
		if (exec)
			x->noted = manifest_line("unprofiled %d %s\n", (int)getpid(), path ? path : "?");
		else
			x->noted = -1; /* the caller notes it, knowing the pid */
		return envp;
	}
	/* A vfork child (its pid is not the agent's) starts a new process's
	 * first image. */
	int mark = exec && agent_pid > 0 && getpid() == agent_pid;
	int has = preload_has_agent(pre + 11);
	if (has && !mark)
		return envp;
	size_t n = 0;
	while (envp[n])
		n++;
	size_t strl = has ? 0 : strlen(pre) + 1 + strlen(g_self) + 1;
	size_t vecl = (n + (size_t)g_nset + 2) * sizeof(char *);
	size_t len = vecl + strl + 48;
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return envp;
	char **out = m;
	char *s = (char *)m + vecl, *gen = s + strl;
	/* Appended: the program's own preloads keep their place before it. */
	if (!has)
		snprintf(s, strl, "%s:%s", pre, g_self);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(envp[i], EXEC_VAR "=", sizeof(EXEC_VAR)))
			continue; /* a stale mark is never passed on */
		out[k++] = envp[i] == pre && !has ? s : envp[i];
	}
	/* The agent's settings, where the new environment lost them. */
	for (int i = 0; i < g_nset; i++) {
		size_t nl = strcspn(g_set[i], "=") + 1;
		if (!env_find(envp, g_set[i], nl))
			out[k++] = (char *)g_set[i];
	}
	if (mark) {
		exec_mark(gen, (unsigned)agent_pid, (unsigned)agent_generation + 1);
		out[k++] = gen;
	}
	out[k] = NULL;
	x->map = m;
	x->len = len;
	return out;
}

/* At start: this image's generation from FATHOM_EXEC (0 unless the image
 * before it in this pid set it), and the variable out of the environment. */
int program_generation(void)
{
	const char *v = config_getenv(EXEC_VAR);
	if (!v)
		return 0;
	char *end;
	long pid = strtol(v, &end, 10);
	long gen = *end == ':' ? strtol(end + 1, &end, 10) : 0;
	unsetenv(EXEC_VAR);
	return pid == (long)getpid() && gen > 0 && gen < 1000000 ? (int)gen : 0;
}

char *const *program_exec_env(char *const *envp, const char *path, struct exec_env *x)
{
	return exec_env(envp, path, x, 1);
}

void program_exec_env_done(struct exec_env *x)
{
	int e = errno;
	if (x->map)
		munmap(x->map, x->len);
	if (x->noted > 0)
		manifest_line("unprofiled-undo %d\n", (int)getpid());
	x->map = NULL;
	x->noted = 0;
	errno = e;
}

/* posix_spawn and posix_spawnp run the new program in a new process (glibc
 * execs it there by its internal execve, which no wrapper sees): the same
 * environment rule, applied here. The parent resumes once the child has
 * exec'd or failed, so the copy is unmapped at once. The child also gets the
 * signal mask the program believes it has (signal-mask.c). */
static int spawn(int (*real)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			     const posix_spawnattr_t *, char *const[], char *const[]),
		 pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (!real)
		return ENOSYS;
	struct exec_env x;
	pid_t child = 0;
	char *const *env = exec_env(envp ? envp : environ, path, &x, 0);
	posix_spawnattr_t copy;
	int r = real(&child, path, fa, sigmask_spawn_attr(attr, &copy), argv, env);
	if (pid)
		*pid = child;
	if (r == 0 && x.noted < 0)
		manifest_line("unprofiled %d %s\n", (int)child, path);
	x.noted = 0;
	program_exec_env_done(&x);
	return r;
}

typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
			char *const[], char *const[]);
static spawn_fn real_posix_spawn, real_posix_spawnp;

EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (!real_posix_spawn)
		real_posix_spawn = (spawn_fn)agent_dlsym_next("posix_spawn");
	return spawn(real_posix_spawn, pid, path, fa, attr, argv, envp);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (!real_posix_spawnp)
		real_posix_spawnp = (spawn_fn)agent_dlsym_next("posix_spawnp");
	return spawn(real_posix_spawnp, pid, file, fa, attr, argv, envp);
}
