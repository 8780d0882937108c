/* The symbolizer: one libdwfl session per module file, reported at its ELF
 * addresses, so a library shared by every process of a fork tree is opened
 * once and an address is looked up as (file, virtual address). */
#define _GNU_SOURCE
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
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
#include "die-names.h"
#include "symbols.h"
#include "symtab.h"
#include "util.h"

/* libstdc++'s demangler, reached through its C symbol. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#define MAX_SCRATCH 64

/* A DIE with code at [lo, hi) that is not inside another such DIE of its
 * unit: a function, nearly always. `order` is its place in the unit. */
struct root {
	Dwarf_Addr lo, hi, maxhi; /* maxhi: the largest hi of this and every earlier root in lo order */
	size_t order;
	Dwarf_Die die;
};

/* A C++ function's name qualified by its namespaces, classes and enclosing
 * functions; `scope_line` is the enclosing class's line (a lambda's closure
 * type carries the lambda's line, its operator() none). */
struct qual {
	const void *key; /* Dwarf_Die.addr of the declaring DIE */
	char *name;
	int scope_line;
};

/* The roots of one compile unit, sorted by lo: looking an address up is a
 * binary search, where dwarf_getscopes walked the whole unit every time. */
struct cu_index {
	Dwarf_Off off; /* of the unit's DIE; the key */
	struct root *roots;
	size_t nroots;
};

struct sym_module {
	struct symbolizer *owner;
	struct sym_module *next;
	struct sym_module *hnext; /* in the symbolizer's hash bucket */
	uint64_t hash;		  /* of path and build id */
	char *path;
	uint8_t build_id[64];
	size_t build_id_len;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	const char *problem; /* why a file module has no symbols, or NULL */
	bool dbgd_asked;     /* debuginfod was asked for its debug file */
	GElf_Addr bias;	     /* dwfl address = ELF virtual address + bias */
	/* .eh_frame_hdr's sorted table of function starts, when its encoding
	 * is the usual one; looked up for functions without a symbol */
	bool hdr_done;
	const uint8_t *hdr_table;
	uint64_t hdr_vaddr, hdr_count;
	/* Every symbol's start and end, sorted, and for each open interval
	 * between neighbours the symbol dwfl_module_addrinfo gave inside it. */
	bool syms_done;
	Dwarf_Addr *bounds;
	const char **bound_name;
	Dwarf_Addr *bound_start; /* the start of the symbol named in bound_name */
	size_t nbounds;
	struct symtab *symtab; /* the symbols by address, searched in place of dwfl_module_addrinfo */
	/* dwfl_module_addrinfo's answers of earlier runs, by build id (debugcache.h) */
	bool names_done;
	struct namecache *names;
	/* qualified names of C++ functions without a linkage name, by the
	 * declaring DIE: open addressing on the DIE's address */
	struct qual *quals;
	size_t nquals, capquals;
	/* compile units indexed so far: open addressing on the unit's offset */
	struct cu_index *cus;
	size_t ncus, capcus;
};

struct symbolizer {
	char *debuginfo_path;
	struct dbgd *dbgd;    /* NULL unless DEBUGINFOD_URLS is set and allowed */
	const char *dbgd_why; /* why debuginfod is not used although asked for */
	Dwfl_Callbacks cb;
	struct sym_module *modules;
	/* the same modules by path and build id: a dump may name hundreds of
	 * thousands of modules, too many for a list */
	struct sym_module **buckets;
	size_t nbuckets, nmodules;
	char *scratch[MAX_SCRATCH]; /* strings handed out by the last lookup */
	int nscratch;
	char warning[512];
};

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

static void scratch_clear(struct symbolizer *s)
{
	for (int i = 0; i < s->nscratch; i++)
		free(s->scratch[i]);
	s->nscratch = 0;
}

void symbols_free(struct symbolizer *s)
{
	if (!s)
		return;
	scratch_clear(s);
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
	int status = 0;
	char *d = __cxa_demangle(name, NULL, NULL, &status);
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

static const char *keep(struct symbolizer *s, char *str)
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

static int addr_cmp(const void *a, const void *b)
{
	Dwarf_Addr x = *(const Dwarf_Addr *)a, y = *(const Dwarf_Addr *)b;
	return x < y ? -1 : x > y;
}

/* The symbol starts and ends, and the starts and ends of the loaded
 * sections: between two neighbours, dwfl_module_addrinfo's answer is the
 * same for every address (the same symbols contain it, lie below it, and
 * share its section). */
static void bounds_load(struct sym_module *m)
{
	m->syms_done = true;
	int nsyms = dwfl_module_getsymtab(m->mod);
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->mod, &bias);
	size_t nscn = 0;
	if (elf)
		elf_getshdrnum(elf, &nscn);
	if (nsyms <= 0 || !(m->bounds = malloc((2 * (size_t)nsyms + 2 * nscn) * sizeof(*m->bounds))))
		return;
	size_t n = 0;
	for (int i = 0; i < nsyms; i++) {
		GElf_Sym sym;
		GElf_Addr value;
		if (!dwfl_module_getsym_info(m->mod, i, &sym, &value, NULL, NULL, NULL))
			continue;
		m->bounds[n++] = value;
		m->bounds[n++] = value + sym.st_size;
	}
	for (Elf_Scn *scn = NULL;
	     elf && n + 2 <= 2 * (size_t)nsyms + 2 * nscn && (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_ALLOC)) {
			m->bounds[n++] = sh.sh_addr + bias;
			m->bounds[n++] = sh.sh_addr + sh.sh_size + bias;
		}
	}
	qsort(m->bounds, n, sizeof(*m->bounds), addr_cmp);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || m->bounds[u - 1] != m->bounds[i])
			m->bounds[u++] = m->bounds[i];
	m->bound_name = calloc(u ? u : 1, sizeof(*m->bound_name));
	m->bound_start = calloc(u ? u : 1, sizeof(*m->bound_start));
	if (!m->bound_name || !m->bound_start) {
		free(m->bounds);
		free(m->bound_name);
		free(m->bound_start);
		m->bounds = NULL;
		m->bound_name = NULL;
		m->bound_start = NULL;
		return;
	}
	m->nbounds = u;
	m->symtab = symtab_build(m->mod);
}

/* bound_name's answer "no symbol" */
static const char no_symbol[] = "";

/* The symbol table's name for a, as dwfl_module_addrinfo gives it, not
 * demangled, and where that symbol starts (*start). That call scans every
 * symbol of the module (the larger part of a libc lookup, seconds for
 * libLLVM): symtab.c answers instead when a global symbol with a size
 * contains a, and any answer is kept for the open interval between the
 * neighbouring bounds around a (bounds_load), where it is the same, and
 * dwfl's answers for the next run (namecache, by build id). */
static const char *symtab_raw(struct sym_module *m, Dwarf_Addr a, Dwarf_Addr *start)
{
	if (!m->syms_done)
		bounds_load(m);
	size_t lo = 0, hi = m->nbounds;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (m->bounds[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* interval lo - 1 is (bounds[lo - 1], bounds[lo]); a bound itself is not inside one */
	bool cacheable = lo > 0 && lo < m->nbounds && m->bounds[lo - 1] != a;
	if (cacheable && m->bound_name[lo - 1]) {
		*start = m->bound_start[lo - 1];
		return m->bound_name[lo - 1] == no_symbol ? NULL : m->bound_name[lo - 1];
	}
	GElf_Off off;
	const char *n;
	uint64_t was;
	if (!symtab_lookup(m->symtab, a, &n, start)) {
		if (!m->names_done) {
			m->names_done = true;
			m->names =
			    namecache_open(m->build_id, m->build_id_len, dwfl_module_getsymtab(m->mod));
		}
		if (namecache_get(m->names, a - m->bias, &n, &was)) {
			*start = was + m->bias;
		} else {
			if ((n = dwfl_module_addrinfo(m->mod, a, &off, &(GElf_Sym){0}, NULL, NULL, NULL)))
				*start = a - off;
			namecache_put(m->names, a - m->bias, n, n ? *start - m->bias : 0);
		}
	}
	if (cacheable) {
		m->bound_name[lo - 1] = n ? n : no_symbol;
		m->bound_start[lo - 1] = n ? *start : 0;
	}
	return n;
}

/* The symbol table's name for a, demangled. */
static const char *symtab_name(struct symbolizer *s, struct sym_module *m, Dwarf_Addr a)
{
	Dwarf_Addr start;
	const char *n = symtab_raw(m, a, &start);
	if (!n)
		return NULL;
	const char *d = keep(s, symbols_demangle(n));
	return d ? d : n;
}

/* Finds .eh_frame_hdr and checks it has the usual encodings: a count as
 * udata4 and a table of (start, fde) pairs as datarel sdata4. */
static void hdr_load(struct sym_module *m)
{
	m->hdr_done = true;
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(m->mod, &bias);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		const char *name;
		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(elf, shstrndx, sh.sh_name)) ||
		    strcmp(name, ".eh_frame_hdr"))
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size < 12)
			return;
		const uint8_t *h = d->d_buf;
		if (h[0] != 1 || h[2] != 0x03 || h[3] != 0x3b || (h[1] & 0x0f) != 0x0b)
			return;
		uint64_t count =
		    (uint64_t)h[8] | (uint64_t)h[9] << 8 | (uint64_t)h[10] << 16 | (uint64_t)h[11] << 24;
		if (count > (d->d_size - 12) / 8)
			return;
		m->hdr_table = h + 12;
		m->hdr_count = count;
		m->hdr_vaddr = sh.sh_addr;
		return;
	}
}

static int64_t s32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

/* The ELF address where the function around dwfl address a starts, from
 * the unwind tables (one FDE per function); 0 when no FDE covers a. */
static uint64_t cfi_start(struct sym_module *m, Dwarf_Addr a)
{
	Dwarf_Addr cbias;
	Dwarf_CFI *cfi = dwfl_module_eh_cfi(m->mod, &cbias);
	Dwarf_Frame *frame;
	if (!cfi || dwarf_cfi_addrframe(cfi, a - cbias, &frame) != 0)
		return 0;
	free(frame);
	if (!m->hdr_done)
		hdr_load(m);
	if (!m->hdr_table || !m->hdr_count)
		return 0;
	/* The last entry starting at or before the address: FDEs do not overlap. */
	int64_t vaddr = (int64_t)(a - m->bias);
	uint64_t lo = 0, hi = m->hdr_count;
	while (lo < hi) {
		uint64_t mid = (lo + hi) / 2;
		if ((int64_t)m->hdr_vaddr + s32(m->hdr_table + 8 * mid) <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	int64_t start = (int64_t)m->hdr_vaddr + s32(m->hdr_table + 8 * (lo - 1));
	return start > 0 ? (uint64_t)start : 0;
}

/* ---- scopes: which function DIEs contain an address ---- */

/* How dwarf_getscopes (libdw) treats a DIE, so that the chain found here is
 * the one it finds: a scope with code to match, a container to walk
 * through, a partial unit to follow, or nothing to look into. */
enum die_class { IGNORE, MATCH, WALK, IMPORTED };

static enum die_class classify(Dwarf_Die *die)
{
	switch (dwarf_tag(die)) {
	case DW_TAG_compile_unit:
	case DW_TAG_module:
	case DW_TAG_lexical_block:
	case DW_TAG_with_stmt:
	case DW_TAG_catch_block:
	case DW_TAG_try_block:
	case DW_TAG_entry_point:
	case DW_TAG_inlined_subroutine:
	case DW_TAG_subprogram:
		return MATCH;
	case DW_TAG_namespace:
	case DW_TAG_class_type:
	case DW_TAG_structure_type:
		return WALK;
	case DW_TAG_imported_unit:
		return IMPORTED;
	default:
		return IGNORE;
	}
}

struct roots {
	struct root *r;
	size_t n, cap, order;
	bool failed;
};

static void roots_add(struct roots *rs, Dwarf_Die *die, Dwarf_Addr lo, Dwarf_Addr hi)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct root *n = realloc(rs->r, cap * sizeof(*n));
		if (!n) {
			rs->failed = true;
			return;
		}
		rs->r = n;
		rs->cap = cap;
	}
	rs->r[rs->n++] = (struct root){lo, hi, hi, rs->order, *die};
}

/* Collects the outermost DIEs with code under parent, in DIE order. */
static void collect_roots(Dwarf_Die *parent, struct roots *rs, int depth)
{
	Dwarf_Die child;
	if (depth > 64 || dwarf_child(parent, &child) != 0)
		return;
	do {
		switch (classify(&child)) {
		case MATCH: {
			Dwarf_Addr base, lo, hi;
			ptrdiff_t off = 0;
			rs->order++;
			while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0)
				if (lo < hi)
					roots_add(rs, &child, lo, hi);
			break;
		}
		case WALK:
			collect_roots(&child, rs, depth + 1);
			break;
		case IMPORTED: {
			Dwarf_Attribute at;
			Dwarf_Die unit;
			if (dwarf_formref_die(dwarf_attr(&child, DW_AT_import, &at), &unit))
				collect_roots(&unit, rs, depth + 1);
			break;
		}
		case IGNORE:
			break;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static int root_cmp(const void *a, const void *b)
{
	const struct root *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static size_t cu_slot(const struct sym_module *m, Dwarf_Off off)
{
	return (size_t)((off * 0x9e3779b97f4a7c15ull) >> 20) & (m->capcus - 1);
}

/* The index of the unit `cu`, built on first use; NULL when out of memory. */
static struct cu_index *cu_index(struct sym_module *m, Dwarf_Die *cu)
{
	Dwarf_Off off = dwarf_dieoffset(cu);
	if (m->capcus) {
		for (size_t j = cu_slot(m, off);; j = (j + 1) & (m->capcus - 1)) {
			if (!m->cus[j].roots)
				break;
			if (m->cus[j].off == off)
				return &m->cus[j];
		}
	}
	if (2 * (m->ncus + 1) > m->capcus) {
		size_t cap = m->capcus ? m->capcus * 2 : 64;
		struct cu_index *n = calloc(cap, sizeof(*n));
		if (!n)
			return NULL;
		struct cu_index *old = m->cus;
		size_t oldcap = m->capcus;
		m->cus = n;
		m->capcus = cap;
		for (size_t i = 0; i < oldcap; i++) {
			if (!old[i].roots)
				continue;
			size_t j = cu_slot(m, old[i].off);
			while (n[j].roots)
				j = (j + 1) & (cap - 1);
			n[j] = old[i];
		}
		free(old);
	}
	struct roots rs = {0};
	collect_roots(cu, &rs, 0);
	if (rs.failed || !(rs.r || (rs.r = malloc(sizeof(*rs.r))))) {
		free(rs.r);
		return NULL;
	}
	qsort(rs.r, rs.n, sizeof(*rs.r), root_cmp);
	for (size_t i = 1; i < rs.n; i++)
		if (rs.r[i - 1].maxhi > rs.r[i].maxhi)
			rs.r[i].maxhi = rs.r[i - 1].maxhi;
	size_t j = cu_slot(m, off);
	while (m->cus[j].roots)
		j = (j + 1) & (m->capcus - 1);
	m->cus[j] = (struct cu_index){off, rs.r, rs.n};
	m->ncus++;
	return &m->cus[j];
}

/* The first root in DIE order that contains pc, or NULL. */
static Dwarf_Die *root_find(struct cu_index *ci, Dwarf_Addr pc)
{
	size_t lo = 0, hi = ci->nroots;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (ci->roots[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	struct root *best = NULL;
	/* Roots do not overlap in practice; when they do, the earliest wins,
	 * as in dwarf_getscopes' depth-first walk. */
	for (size_t i = lo; i-- > 0 && ci->roots[i].maxhi > pc;)
		if (pc < ci->roots[i].hi && (!best || ci->roots[i].order < best->order))
			best = &ci->roots[i];
	return best ? &best->die : NULL;
}

/* Appends to chain the scopes under parent that contain pc, outermost
 * first, taking at each level the first child that does (depth first, as
 * dwarf_getscopes). */
static void descend(Dwarf_Die *parent, Dwarf_Addr pc, Dwarf_Die *chain, int *n, int max, int depth)
{
	Dwarf_Die child;
	if (*n >= max || depth > 256 || dwarf_child(parent, &child) != 0)
		return;
	do {
		enum die_class c = classify(&child);
		if (c == MATCH && dwarf_haspc(&child, pc) > 0) {
			chain[(*n)++] = child;
			descend(&chain[*n - 1], pc, chain, n, max, depth + 1);
			return;
		}
		if (c == WALK) {
			int before = *n;
			descend(&child, pc, chain, n, max, depth + 1);
			if (*n > before)
				return;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* ---- names ---- */

static const char *die_linkage_name(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	const char *ln = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &a));
	return ln ? ln : dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &a));
}

/* The DIE that declares the function of die: the end of its chain of
 * abstract origins and specifications, which sits in the function's
 * namespace or class. */
static void die_decl(Dwarf_Die *die, Dwarf_Die *out)
{
	*out = *die;
	for (int i = 0; i < 16; i++) {
		Dwarf_Attribute a;
		Dwarf_Die next;
		if (!dwarf_attr(out, DW_AT_abstract_origin, &a) && !dwarf_attr(out, DW_AT_specification, &a))
			return;
		if (!dwarf_formref_die(&a, &next))
			return;
		*out = next;
	}
}

static bool is_cxx(Dwarf_Die *cu)
{
	switch (dwarf_srclang(cu)) {
	case DW_LANG_C_plus_plus:
	case DW_LANG_C_plus_plus_03:
	case DW_LANG_C_plus_plus_11:
	case DW_LANG_C_plus_plus_14:
	case DW_LANG_ObjC_plus_plus:
	case 0x2a: /* C++17 and C++20, DWARF 6 codes not in every dwarf.h */
	case 0x2b:
		return true;
	default:
		return false;
	}
}

static size_t qual_slot(const struct sym_module *m, const void *key)
{
	return (size_t)(((uintptr_t)key * 0x9e3779b97f4a7c15ull) >> 20) & (m->capquals - 1);
}

static struct qual *qual_find(struct sym_module *m, const void *key)
{
	if (!m->capquals)
		return NULL;
	for (size_t j = qual_slot(m, key);; j = (j + 1) & (m->capquals - 1)) {
		if (!m->quals[j].key)
			return NULL;
		if (m->quals[j].key == key)
			return &m->quals[j];
	}
}

static struct qual *qual_find_hole(struct sym_module *m, const void *key)
{
	size_t j = qual_slot(m, key);
	while (m->quals[j].key)
		j = (j + 1) & (m->capquals - 1);
	return &m->quals[j];
}

/* Keeps name (malloc'd) for key; returns the entry, or NULL (name freed). */
static struct qual *qual_add(struct sym_module *m, const void *key, char *name, int scope_line)
{
	if (2 * (m->nquals + 1) > m->capquals) {
		size_t cap = m->capquals ? m->capquals * 2 : 64;
		struct qual *n = calloc(cap, sizeof(*n));
		if (!n) {
			free(name);
			return NULL;
		}
		struct qual *old = m->quals;
		size_t oldcap = m->capquals;
		m->quals = n;
		m->capquals = cap;
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].key)
				*qual_find_hole(m, old[i].key) = old[i];
		free(old);
	}
	struct qual *q = qual_find_hole(m, key);
	*q = (struct qual){key, name, scope_line};
	m->nquals++;
	return q;
}

/* The name of the function declared by decl (plain name `name`) qualified
 * by the scopes around it, as the demangler would write them:
 * ns::Class<int>::f, f(int)::{lambda(double)#1}::operator()(double) const;
 * cached per module. */
static const struct qual *qualify(struct sym_module *m, Dwarf_Die *decl, const char *name, int depth)
{
	struct qual *q = qual_find(m, decl->addr);
	if (q)
		return q;
	Dwarf_Die parents[32];
	int np = die_parents(decl, parents, 32);
	if (np < 0)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int scope_line = 0;
	/* An enclosing function's name is written qualified: the scopes
	 * start at the innermost one. */
	int first = np;
	while (first > 0 && dwarf_tag(&parents[first - 1]) != DW_TAG_subprogram)
		first--;
	if (first > 0)
		first--;
	for (int i = first; i < np; i++) {
		Dwarf_Die *p = &parents[i];
		int line = 0;
		if (die_scope_print(f, parents, i)) {
			fputs("::", f);
			if (i == np - 1 && dwarf_tag(p) != DW_TAG_namespace && dwarf_decl_line(p, &line) == 0)
				scope_line = line;
			continue;
		}
		switch (dwarf_tag(p)) {
		case DW_TAG_subprogram: {
			/* a local class's function: qualified by the enclosing
			 * function, demangled here rather than in the lookup's
			 * scratch strings, since the result is kept */
			const char *ln = die_linkage_name(p);
			char *d = symbols_demangle(ln);
			if (d) {
				fprintf(f, "%s::", d);
				free(d);
				break;
			}
			Dwarf_Attribute at;
			const char *fn = dwarf_formstring(dwarf_attr_integrate(p, DW_AT_name, &at));
			Dwarf_Die pdecl;
			die_decl(p, &pdecl);
			const struct qual *pq = fn && depth < 8 ? qualify(m, &pdecl, fn, depth + 1) : NULL;
			fprintf(f, "%s::", pq ? pq->name : fn ? fn : ln ? ln : "{unknown}");
			break;
		}
		default:
			break;
		}
	}
	/* A lambda's call operator reads as the symbol of its out-of-line
	 * copy: with its parameters, and a generic lambda's (a template)
	 * after its return type, auto. */
	bool call = np > 0 && !strncmp(name, "operator()", 10) && !dwarf_diename(&parents[np - 1]) &&
		    die_is_closure(&parents[np - 1]);
	fputs(name, f);
	if (call)
		die_call_print(f, decl);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (call && name[10] == '<') {
		char *a = NULL;
		if (asprintf(&a, "auto %s", buf) < 0)
			a = NULL;
		free(buf);
		if (!(buf = a))
			return NULL;
	}
	return qual_add(m, decl->addr, buf, scope_line);
}

/* The display name of a function DIE: the demangled linkage name when there
 * is one (C++), else its name, qualified by its scopes in C++. */
static const char *func_name(struct symbolizer *s, struct sym_module *m, Dwarf_Die *die, bool cxx,
			     int *scope_line)
{
	*scope_line = 0;
	const char *ln = die_linkage_name(die);
	if (ln) {
		const char *d = keep(s, symbols_demangle(ln));
		if (d)
			return d;
	}
	Dwarf_Attribute a;
	const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &a));
	if (!n || ln || !cxx)
		return n ? n : ln;
	Dwarf_Die decl;
	die_decl(die, &decl);
	const struct qual *q = qualify(m, &decl, n, 0);
	if (!q)
		return n;
	*scope_line = q->scope_line;
	return q->name;
}

/* For the real (outermost) function when its DIE has no linkage name: the
 * demangled name of the ELF symbol that starts where one of the DIE's
 * ranges starts, so it is this function's; "[clone .constprop.0]" and the
 * like dropped so that clones count as the function. NULL when none. */
static const char *symbol_for_die(struct symbolizer *s, struct sym_module *m, Dwarf_Die *die, Dwarf_Addr a,
				  Dwarf_Addr cubias)
{
	Dwarf_Addr start;
	const char *raw = symtab_raw(m, a, &start);
	if (!raw || raw[0] != '_' || raw[1] != 'Z')
		return NULL;
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	bool ours = false;
	while (!ours && (off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0)
		ours = lo + cubias == start;
	if (!ours)
		return NULL;
	char *d = symbols_demangle(raw);
	if (!d)
		return NULL;
	char *clone = strstr(d, " [clone ");
	if (clone)
		*clone = '\0';
	return keep(s, d);
}

#define MAX_CHAIN 256

int symbols_lookup(struct symbolizer *s, struct sym_module *m, uint64_t vaddr, struct sym_frame *out, int max)
{
	scratch_clear(s);
	if (!m || !m->mod || max < 1)
		return 0;
	Dwarf_Addr a = vaddr + m->bias;
	const char *file = NULL;
	int line = 0;
	Dwfl_Line *l = dwfl_module_getsrc(m->mod, a);
	if (l)
		file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);

	int n = 0;
	Dwarf_Addr cubias;
	Dwarf_Die *cu = dwfl_module_addrdie(m->mod, a, &cubias);
	/* The concrete chain of scopes that contain the address, from the
	 * function down to the innermost inlined call: the function comes from
	 * the unit's index, the rest from a walk of its DIEs only. */
	Dwarf_Die chain[MAX_CHAIN];
	int nchain = 0;
	struct cu_index *ci = cu ? cu_index(m, cu) : NULL;
	Dwarf_Die *root = ci ? root_find(ci, a - cubias) : NULL;
	if (root) {
		chain[nchain++] = *root;
		descend(&chain[0], a - cubias, chain, &nchain, MAX_CHAIN, 0);
	}
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	bool cxx = nchain > 0 && is_cxx(cu);
	for (int k = nchain - 1; k >= 0 && n < max; k--) {
		Dwarf_Die *scope = &chain[k];
		int tag = dwarf_tag(scope);
		if (tag != DW_TAG_subprogram && tag != DW_TAG_inlined_subroutine)
			continue;
		struct sym_frame *f = &out[n++];
		int scope_line;
		f->name = func_name(s, m, scope, cxx, &scope_line);
		f->file = file;
		f->line = line;
		f->decl_line = 0;
		f->start = 0;
		if (dwarf_decl_line(scope, &f->decl_line) != 0 || f->decl_line <= 0)
			f->decl_line = scope_line;
		if (tag == DW_TAG_subprogram) {
			const char *sn =
			    cxx && !die_linkage_name(scope) ? symbol_for_die(s, m, scope, a, cubias) : NULL;
			if (sn)
				f->name = sn;
			break;
		}
		/* The caller's position is where this inlined copy was called. */
		Dwarf_Attribute at;
		Dwarf_Word cf = 0, cl = 0;
		file = NULL;
		line = 0;
		if (dwarf_formudata(dwarf_attr(scope, DW_AT_call_line, &at), &cl) == 0)
			line = (int)cl;
		if (dwarf_formudata(dwarf_attr(scope, DW_AT_call_file, &at), &cf) == 0 &&
		    (files || dwarf_getsrcfiles(cu, &files, &nfiles) == 0) && cf < nfiles)
			file = dwarf_filesrc(files, cf, NULL, NULL);
	}
	if (n > 0 && !out[n - 1].name)
		out[n - 1].name = symtab_name(s, m, a);
	if (n == 0) {
		const char *name = symtab_name(s, m, a);
		uint64_t start = name ? 0 : cfi_start(m, a);
		if (!name && !file && !start)
			return 0;
		out[0] = (struct sym_frame){name, file, line, 0, start};
		n = 1;
	}
	return n;
}
