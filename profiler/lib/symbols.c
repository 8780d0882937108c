/* The symbolizer: one libdwfl session per module file, reported at its ELF
 * addresses, so a library shared by every process of a fork tree is opened
 * once and an address is looked up as (file, virtual address). Its lookup is
 * in symbols-dwarf.c, the ELF symbol table's names in symbols-elf.c. */
#define _GNU_SOURCE
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "debugcache.h"
#include "debuginfod.h"
#include "symbols-int.h"
#include "symtab.h"
#include "util.h"

/* libstdc++'s demangler, reached through its C symbol and loaded the first
 * time a C++ name needs it: linked, libstdc++ cost every fathom command
 * about 1.5 ms of start-up (its relocations), `fathom record` included,
 * which never demangles. Without libstdc++ names stay mangled. */
typedef char *(*demangle_fn)(const char *mangled, char *buf, size_t *len, int *status);

static demangle_fn demangler(void)
{
	static bool tried;
	static demangle_fn fn;
	if (!tried) {
		tried = true;
		void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
		if (h)
			fn = (demangle_fn)dlsym(h, "__cxa_demangle");
	}
	return fn;
}

/* libdwfl's own search for a module's debug file, then debuginfod's. libdwfl
 * would ask debuginfod itself when DEBUGINFOD_URLS is set, but with no
 * progress line, its 90 s timeout and again after a server failed: the
 * variable is hidden from it (the symbolizer runs on one thread) and the
 * symbolizer's client asked instead. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
			  const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			  char **debuginfo_file_name)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	char *saved = urls ? strdup(urls) : NULL;
	if (saved)
		unsetenv("DEBUGINFOD_URLS");
	int fd = debugcache_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					   debuglink_crc, debuginfo_file_name);
	if (saved) {
		setenv("DEBUGINFOD_URLS", saved, 1);
		free(saved);
	}
	struct sym_module *m = userdata ? *userdata : NULL;
	if (fd >= 0 || !m || !m->owner->dbgd || m->dbgd_asked)
		return fd;
	m->dbgd_asked = true;
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &bits, &vaddr);
	char *path = n > 0 ? dbgd_fetch(m->owner->dbgd, 'd', bits, (size_t)n, m->path) : NULL;
	if (path && (fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		free(*debuginfo_file_name);
		*debuginfo_file_name = path;
		return fd;
	}
	free(path);
	if (n > 0)
		dbgd_missed(m->owner->dbgd, m->path);
	return -1;
}

struct symbolizer *symbols_new(const char *debug_dirs, int flags)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	/* "-" stops libdwfl from trusting .gnu_debuglink CRCs only; ".debug" and
	 * /usr/lib/debug are the Debian places; build-id paths are tried under
	 * every absolute entry. */
	if (asprintf(&s->debuginfo_path, "-:.debug:/usr/lib/debug%s%s", debug_dirs && *debug_dirs ? ":" : "",
		     debug_dirs && *debug_dirs ? debug_dirs : "") < 0) {
		free(s);
		return NULL;
	}
	s->cb.find_elf = dwfl_build_id_find_elf;
	s->cb.find_debuginfo = find_debuginfo;
	s->dbgd = dbgd_new(flags & SYM_DEBUGINFOD, flags & SYM_PROGRESS, &s->dbgd_why);
	s->cb.section_address = dwfl_offline_section_address;
	s->cb.debuginfo_path = &s->debuginfo_path;
	return s;
}

void symbols_scratch_clear(struct symbolizer *s)
{
	for (int i = 0; i < s->nscratch; i++)
		free(s->scratch[i]);
	s->nscratch = 0;
}

void symbols_free(struct symbolizer *s)
{
	if (!s)
		return;
	symbols_scratch_clear(s);
	for (struct sym_module *m = s->modules, *n; m; m = n) {
		n = m->next;
		if (m->dwfl)
			dwfl_end(m->dwfl);
		for (size_t i = 0; i < m->capcus; i++)
			free(m->cus[i].roots);
		free(m->cus);
		free(m->bounds);
		free(m->bound_name);
		free(m->bound_start);
		symtab_free(m->symtab);
		namecache_close(m->names);
		for (size_t i = 0; i < m->capquals; i++)
			free(m->quals[i].name);
		free(m->quals);
		free(m->path);
		free(m);
	}
	free(s->buckets);
	free(s->debuginfo_path);
	dbgd_free(s->dbgd);
	free(s);
}

char *symbols_demangle(const char *name)
{
	if (!name || name[0] != '_' || name[1] != 'Z')
		return NULL;
	demangle_fn demangle = demangler();
	if (!demangle)
		return NULL;
	int status = 0;
	char *d = demangle(name, NULL, NULL, &status);
	if (status != 0) {
		free(d);
		return NULL;
	}
	return d;
}

/* Reports `file` into a fresh session; returns false when it is not an ELF file. */
static bool open_file(struct symbolizer *s, struct sym_module *m, const char *file)
{
	Dwfl *d = dwfl_begin(&s->cb);
	if (!d)
		return false;
	dwfl_report_begin(d);
	Dwfl_Module *mod = dwfl_report_elf(d, m->path, file, -1, 0, false);
	dwfl_report_end(d, NULL, NULL);
	if (!mod || !dwfl_module_getelf(mod, &m->bias)) {
		dwfl_end(d);
		return false;
	}
	m->dwfl = d;
	m->mod = mod;
	/* find_debuginfo's way back to the module */
	void **ud;
	if (dwfl_module_info(mod, &ud, NULL, NULL, NULL, NULL, NULL, NULL))
		*ud = m;
	return true;
}

/* The kernel's vDSO (linux-vdso.so.1: clock_gettime, gettimeofday) is no
 * file. This process has one too, from the running kernel: when its build
 * id is the recording's (the same kernel build), its image is read from
 * memory, through a memfd. */
static void open_own_vdso(struct symbolizer *s, struct sym_module *m)
{
	uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	FILE *f = base ? fopen("/proc/self/maps", "re") : NULL;
	if (!f)
		return;
	char line[512];
	unsigned long lo, hi, size = 0;
	while (!size && fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo == base && hi > lo)
			size = hi - lo;
	fclose(f);
	int fd = size ? memfd_create("vdso", MFD_CLOEXEC) : -1;
	if (fd < 0)
		return;
	char name[64];
	snprintf(name, sizeof(name), "/proc/self/fd/%d", fd);
	if (write(fd, (const void *)base, size) == (ssize_t)size && open_file(s, m, name)) {
		const unsigned char *bits;
		GElf_Addr vaddr;
		int n = dwfl_module_build_id(m->mod, &bits, &vaddr);
		if (n <= 0 || (size_t)n != m->build_id_len || memcmp(bits, m->build_id, m->build_id_len)) {
			dwfl_end(m->dwfl);
			m->dwfl = NULL;
			m->mod = NULL;
		}
	}
	close(fd);
}

/* Opens the separate debug file named by m's build id under any absolute
 * directory of the debug path (/usr/lib/debug, --debug-dir):
 * DIR/.build-id/xx/yyyy.debug. */
static void open_by_build_id(struct symbolizer *s, struct sym_module *m)
{
	char hex[2 * sizeof(m->build_id) + 1];
	hex_string(hex, m->build_id, m->build_id_len);
	for (const char *dir = s->debuginfo_path; dir && *dir && !m->mod;) {
		size_t dl = strcspn(dir, ":");
		char dbg[1024];
		if (dir[0] == '/' &&
		    snprintf(dbg, sizeof(dbg), "%.*s/.build-id/%.2s/%s.debug", (int)dl, dir, hex, hex + 2) <
			(int)sizeof(dbg) &&
		    access(dbg, R_OK) == 0)
			open_file(s, m, dbg);
		dir += dl + (dir[dl] == ':');
	}
}

struct sym_module *symbols_module(struct symbolizer *s, const char *path, const uint8_t *build_id,
				  size_t build_id_len, const char **warning)
{
	*warning = NULL;
	if (build_id_len > sizeof(((struct sym_module *)0)->build_id))
		build_id_len = 0;
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *c = path; *c; c++)
		h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
	for (size_t i = 0; i < build_id_len; i++)
		h = (h ^ build_id[i]) * 0x100000001b3ull;
	if (s->nbuckets)
		for (struct sym_module *m = s->buckets[h & (s->nbuckets - 1)]; m; m = m->hnext)
			if (m->hash == h && !strcmp(m->path, path) && m->build_id_len == build_id_len &&
			    !memcmp(m->build_id, build_id, build_id_len))
				return m;
	if (s->nmodules + 1 > s->nbuckets) {
		size_t n = s->nbuckets ? s->nbuckets * 2 : 64;
		struct sym_module **b = calloc(n, sizeof(*b));
		if (!b)
			return NULL;
		for (struct sym_module *m = s->modules; m; m = m->next) {
			m->hnext = b[m->hash & (n - 1)];
			b[m->hash & (n - 1)] = m;
		}
		free(s->buckets);
		s->buckets = b;
		s->nbuckets = n;
	}
	struct sym_module *m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(path))) {
		free(m);
		return NULL;
	}
	m->owner = s;
	memcpy(m->build_id, build_id, build_id_len);
	m->build_id_len = build_id_len;
	m->hash = h;
	m->next = s->modules;
	s->modules = m;
	m->hnext = s->buckets[h & (s->nbuckets - 1)];
	s->buckets[h & (s->nbuckets - 1)] = m;
	s->nmodules++;

	/* Dumps of older agents kept the name a program gave dlopen
	 * ("./libx.so"): try it from the current directory, trusted only when
	 * its build id proves it is the recorded file. */
	bool relative = path[0] != '/' && strchr(path, '/') && build_id_len;
	if ((path[0] == '/' || relative) && access(path, R_OK) == 0 && open_file(s, m, path) &&
	    build_id_len) {
		const unsigned char *bits;
		GElf_Addr vaddr;
		int n = dwfl_module_build_id(m->mod, &bits, &vaddr);
		if ((n > 0 || relative) &&
		    ((size_t)n != build_id_len || memcmp(bits, build_id, build_id_len) != 0)) {
			/* The file was rebuilt or upgraded since the recording: its
			 * addresses mean other code now. */
			dwfl_end(m->dwfl);
			m->dwfl = NULL;
			m->mod = NULL;
		}
	}
	if (!m->mod && build_id_len && !strncmp(path, "linux-vdso.so", 13))
		open_own_vdso(s, m);
	if (!m->mod && build_id_len >= 2) {
		/* The recorded build's debug file, when installed or in a
		 * --debug-dir, has the symbols; else a debuginfod server's
		 * debug file, or its copy of the executable. */
		open_by_build_id(s, m);
		for (char what = 'd'; !m->mod && s->dbgd && what; what = what == 'd' ? 'e' : 0) {
			char *got = dbgd_fetch(s->dbgd, what, build_id, build_id_len, path);
			if (got)
				open_file(s, m, got);
			else if (what == 'd')
				dbgd_missed(s->dbgd, path);
			free(got);
			m->dbgd_asked = true;
		}
		if (!m->mod && path[0] == '/' && access(path, R_OK) == 0) {
			m->problem = "changed since the recording (other build id)";
			snprintf(s->warning, sizeof(s->warning),
				 "%s changed since the recording (other build id); its functions are shown "
				 "as offsets",
				 path);
			*warning = s->warning;
		}
	}
	if (!m->mod && !m->problem && path[0] == '/')
		m->problem =
		    access(path, F_OK) == 0 ? "not readable as an ELF file" : "gone since the recording";
	return m;
}

const char *symbols_module_problem(const struct sym_module *m)
{
	return m ? m->problem : NULL;
}

bool symbols_module_has_debuginfo(struct sym_module *m)
{
	Dwarf_Addr bias;
	return m && m->mod && dwfl_module_getdwarf(m->mod, &bias) != NULL;
}

const char *symbols_summary(struct symbolizer *s)
{
	return !s ? NULL : s->dbgd_why ? s->dbgd_why : dbgd_summary(s->dbgd);
}

const char *symbols_keep(struct symbolizer *s, char *str)
{
	if (!str)
		return NULL;
	if (s->nscratch == MAX_SCRATCH) {
		free(str);
		return NULL;
	}
	s->scratch[s->nscratch++] = str;
	return str;
}
