/* The module map: the objects the loader has mapped (scanned at start and
 * after each dlopen and dlclose), written as MODULE and UNLOAD records, with
 * their build ids; the address ranges of the agent itself and of the
 * libraries its own work calls into.
 *
 * Context: ordinary, never signal (the scan allocates and takes locks).
 */
#define _GNU_SOURCE
#include "agent.h"
#include "encode.h"

#include <elf.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct mod {
	uint64_t id, bias, start, end;
	char *path;  /* recorded: absolute when the loader's name resolves */
	char *given; /* the loader's name when it was relative, else NULL */
	uint8_t build_id[64];
	size_t build_id_len;
	int seen;
};
static pthread_mutex_t modlock = PTHREAD_MUTEX_INITIALIZER;
static struct mod *g_mods;
static size_t g_nmods, g_capmods;
static uint64_t g_next_mod_id = 1;

static void find_build_id(struct dl_phdr_info *info, struct mod *m)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			size_t name_sz = (nh->n_namesz + 3) & ~3u, desc_sz = (nh->n_descsz + 3) & ~3u;
			const uint8_t *name = p + sizeof(*nh), *desc = name + name_sz;
			if (desc + desc_sz > end)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
			    nh->n_descsz <= sizeof(m->build_id)) {
				memcpy(m->build_id, desc, nh->n_descsz);
				m->build_id_len = nh->n_descsz;
				return;
			}
			p = desc + desc_sz;
		}
	}
}

struct scan {
	struct mod *list;
	size_t n, cap;
	int redirect;		      /* rewrite new objects' slots that bypass the agent */
	const struct got_scope *deep; /* the RTLD_DEEPBIND handle's lookups, or NULL */
};

/* A module is known by the loader's name for it, which does not change
 * when the program changes directory. */
static const char *mod_key(const struct mod *m)
{
	return m->given ? m->given : m->path;
}

/* Context: modlock held. */
static int mod_known(const struct mod *m)
{
	for (size_t i = 0; i < g_nmods; i++)
		if (g_mods[i].bias == m->bias && g_mods[i].start == m->start &&
		    !strcmp(mod_key(&g_mods[i]), m->path))
			return 1;
	return 0;
}

/* The address range an object's PT_LOAD segments cover (only the executable
 * ones when exec_only); 0 when it has none. */
static int load_range(const struct dl_phdr_info *info, int exec_only, uintptr_t *lo_out, uintptr_t *hi_out)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (exec_only && !(ph->p_flags & PF_X)))
			continue;
		uintptr_t a = info->dlpi_addr + ph->p_vaddr, b = a + ph->p_memsz;
		if (a < lo)
			lo = a;
		if (b > hi)
			hi = b;
	}
	*lo_out = lo;
	*hi_out = hi;
	return lo < hi;
}

static int scan_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct scan *s = data;
	struct mod m;
	memset(&m, 0, sizeof(m));
	uintptr_t lo, hi;
	if (!load_range(info, 0, &lo, &hi))
		return 0;
	m.start = lo;
	m.end = hi;
	m.bias = info->dlpi_addr;
	const char *name = info->dlpi_name;
	char exe[PATH_MAX];
	if (!name || !*name) {
		/* Only the main program has an empty name (the first entry). */
		if (s->n > 0)
			return 0;
		ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[l > 0 ? l : 0] = 0;
		name = exe;
	}
	m.path = strdup(name);
	if (!m.path)
		return 0;
	if (!mod_known(&m)) {
		/* dlopen("./libx.so") leaves a relative name, which the
		 * analyzer cannot open: resolve it now, in the directory the
		 * loader just used. */
		if (name[0] != '/' && strchr(name, '/') && realpath(name, exe)) {
			char *abs = strdup(exe);
			if (abs) {
				m.given = m.path;
				m.path = abs;
			}
		}
		if (s->redirect)
			got_redirect(info, s->deep);
	}
	find_build_id(info, &m);
	if (s->n == s->cap) {
		/* The scratch list is mapped, not taken from the program's heap:
		 * freed between the module paths, which stay, it would leave a
		 * hole that the program's larger blocks are then carved from,
		 * slower than from the top of the heap. */
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *l = mmap(NULL, cap * sizeof(struct mod), PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (l == MAP_FAILED) {
			free(m.path);
			free(m.given);
			return 0;
		}
		if (s->list) {
			memcpy(l, s->list, s->n * sizeof(struct mod));
			munmap(s->list, s->cap * sizeof(struct mod));
		}
		s->list = l;
		s->cap = cap;
	}
	s->list[s->n++] = m;
	return 0;
}

/* Compares the loaded objects with the known ones and writes MODULE and
 * UNLOAD records; with redirect, points the new objects' slots that bind
 * past the agent at it (got.c). The loader is walked outside wlock: a
 * thread inside dlopen may be waiting for the writer. modlock is never held
 * while taking the loader's own lock (dlsym, dladdr): a constructor that
 * calls dlopen holds that lock and would wait for modlock. */
void modules_scan(int redirect, const struct got_scope *deep)
{
	struct scan s = {.redirect = redirect, .deep = deep};
	struct tstate *t = agent_tls;
	int g = agent_guard, cs;
	agent_guard = 1;
	NO_CANCEL_BEGIN(cs);
	got_prepare(); /* once, at the first scan (the constructor's) */
	agent_mutex_lock(&modlock);
	if (t)
		t->in_loader++;
	loader_iterate(scan_cb, &s);
	if (t)
		t->in_loader--;
	uint64_t now = agent_now();
	struct enc *e = dump_lock();
	for (size_t i = 0; i < g_nmods; i++)
		g_mods[i].seen = 0;
	for (size_t j = 0; j < s.n; j++) {
		struct mod *m = &s.list[j];
		size_t i;
		for (i = 0; i < g_nmods; i++)
			if (!g_mods[i].seen && g_mods[i].bias == m->bias && g_mods[i].start == m->start &&
			    !strcmp(mod_key(&g_mods[i]), mod_key(m)))
				break;
		if (i < g_nmods) {
			struct mod *k = &g_mods[i];
			k->seen = 1;
			if (!k->id) {
				/* A fork child's new dump: known, not yet in it. */
				k->id = g_next_mod_id++;
				if (!agent_finished)
					enc_module(e, k->id, k->bias, k->start, k->end, k->path, k->build_id,
						   k->build_id_len, now);
			}
			free(m->path);
			free(m->given);
			continue;
		}
		if (g_nmods == g_capmods) {
			size_t cap = g_capmods ? g_capmods * 2 : 64;
			struct mod *l = realloc(g_mods, cap * sizeof(*l));
			if (!l) {
				free(m->path);
				free(m->given);
				continue;
			}
			g_mods = l;
			g_capmods = cap;
		}
		m->id = g_next_mod_id++;
		m->seen = 1;
		if (!agent_finished)
			enc_module(e, m->id, m->bias, m->start, m->end, m->path, m->build_id, m->build_id_len,
				   now);
		g_mods[g_nmods++] = *m;
	}
	for (size_t i = 0; i < g_nmods;) {
		if (g_mods[i].seen) {
			i++;
			continue;
		}
		if (!agent_finished && g_mods[i].id)
			enc_unload(e, g_mods[i].id, now);
		free(g_mods[i].path);
		free(g_mods[i].given);
		g_mods[i] = g_mods[--g_nmods];
	}
	dump_unlock();
	agent_mutex_unlock(&modlock);
	if (s.list)
		munmap(s.list, s.cap * sizeof(struct mod));
	NO_CANCEL_END(cs);
	agent_guard = g;
}

/* A rotation's next file (rotate.c): a MODULE record for every module
 * loaded now. g_mods changes only under wlock too, which the caller holds. */
void modules_write_all(struct enc *e, uint64_t now)
{
	for (size_t i = 0; i < g_nmods; i++)
		if (g_mods[i].id)
			enc_module(e, g_mods[i].id, g_mods[i].bias, g_mods[i].start, g_mods[i].end,
				   g_mods[i].path, g_mods[i].build_id, g_mods[i].build_id_len, now);
}

void modules_rescan(void)
{
	modules_scan(0, NULL);
}

/* ------------------------------------------------- the agent and its helpers */

uintptr_t agent_text_lo, agent_text_hi;

/* The libraries the agent calls into (see agent_helper_lo). */
uintptr_t agent_helper_lo[AGENT_HELPERS], agent_helper_hi[AGENT_HELPERS];
unsigned agent_nhelpers;

static int helper_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	(void)data;
	static const char *const names[] = {"libc.so", "libzstd.so", "ld-linux", "linux-vdso",
					    "libpthread.so"};
	const char *path = info->dlpi_name ? info->dlpi_name : "", *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	int hit = 0;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		hit |= strncmp(base, names[i], strlen(names[i])) == 0;
	if (!hit || agent_nhelpers >= AGENT_HELPERS)
		return 0;
	uintptr_t lo, hi;
	if (load_range(info, 1, &lo, &hi)) {
		agent_helper_lo[agent_nhelpers] = lo;
		agent_helper_hi[agent_nhelpers] = hi;
		agent_nhelpers++;
	}
	return 0;
}

static int self_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	uintptr_t addr = (uintptr_t)data;
	uintptr_t lo, hi;
	if (load_range(info, 0, &lo, &hi) && addr >= lo && addr < hi) {
		agent_text_lo = lo;
		agent_text_hi = hi;
		return 1;
	}
	return 0;
}

/* Finds the agent's own code and that of the libraries its work calls into
 * (agent_text_lo, agent_helper_lo). */
void modules_find_agent(void)
{
	dl_iterate_phdr(self_cb, (void *)(uintptr_t)&modules_find_agent);
	dl_iterate_phdr(helper_cb, NULL);
}

/* In a fork child: the lock is new again (phase 0); the modules stay known,
 * with the paths resolved when they were loaded (the directory may have
 * changed since), and are recorded again in the child's dump (id 0: not in
 * it yet). */
void modules_fork_child(int phase)
{
	if (phase == 0) {
		pthread_mutex_init(&modlock, NULL);
		return;
	}
	for (size_t i = 0; i < g_nmods; i++)
		g_mods[i].id = 0;
}
