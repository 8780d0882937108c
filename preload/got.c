/* GOT rewriting: points the relocations of a newly loaded object that bind
 * past the agent (a library loaded with RTLD_DEEPBIND finds libc's malloc
 * before the preloaded one) at the agent's own functions.
 *
 * The functions concerned are all the functions libfathom.so exports that
 * another object also defines (malloc and the rest of the allocator, the
 * loader, exec, signals, threads): for each, the agent's definition and the
 * "next" one, the definition its interposer calls (dlsym(RTLD_NEXT)). A
 * JUMP_SLOT or GLOB_DAT slot that holds exactly that next definition is
 * rewritten to the agent's; any other value (the agent already, another
 * allocator a library brought along, a second libc in a dlmopen namespace)
 * is left alone. With lazy binding a JUMP_SLOT still holds its PLT stub; for
 * the objects of an RTLD_DEEPBIND dlopen the slot is rewritten when the
 * handle's own lookup (dlsym(handle, name)) would bind it to the next
 * definition: the agent's function is then the final target.
 *
 * An agent loaded late (late.c, fathom record --pid) binds past every
 * object: there, the functions late_got_names lists are taken over, in
 * every object at the start and in each one loaded later, lazy slots judged
 * by the global lookup.
 */
#define _GNU_SOURCE
#include "agent.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define R_GLOB_DAT R_X86_64_GLOB_DAT
#define R_ABS64 R_X86_64_64
#elif defined(__aarch64__)
#define R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define R_GLOB_DAT R_AARCH64_GLOB_DAT
#define R_ABS64 R_AARCH64_ABS64
#else
#define R_JUMP_SLOT (~0ul) /* no rewriting: no type matches */
#define R_GLOB_DAT (~0ul)
#define R_ABS64 (~0ul)
#endif

static struct got_fn {
	const char *name;
	void *hook; /* the agent's definition */
	void *next; /* what the hook calls: the definition after the agent */
} fns[GOT_MAX_FNS];
static int nfns;	     /* published (release) once the table is complete */
static _Atomic int prepared; /* the first caller builds the table */
/* A filter before strcmp: a bit per pair of first characters in use, so
 * that the many other names (C++'s "_Z...") cost one load. */
static uint64_t first_pair[65536 / 64];
/* A late agent's (late.c): what the global lookup finds for each name. */
static struct got_scope late_scope;
static int late_scope_set;

static int listed(const char *const *names, const char *name)
{
	for (; *names; names++)
		if (!strcmp(*names, name))
			return 1;
	return 0;
}

static unsigned pair_of(const char *name)
{
	return (unsigned)(uint8_t)name[0] << 8 | (name[0] ? (uint8_t)name[1] : 0);
}

/* The dynamic section holds addresses relocated in place by the loader,
 * except where it is read-only (the vDSO): then they are offsets. */
static uintptr_t dyn_addr(uintptr_t bias, uintptr_t v)
{
	return v < bias ? v + bias : v;
}

static uint32_t gnu_hash_nsyms(const uint32_t *gh)
{
	uint32_t nbuckets = gh[0], symoffset = gh[1], bloom_size = gh[2];
	const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(gh + 4) + bloom_size);
	const uint32_t *chain = buckets + nbuckets;
	uint32_t last = 0;
	for (uint32_t b = 0; b < nbuckets; b++)
		if (buckets[b] > last)
			last = buckets[b];
	if (last < symoffset)
		return symoffset;
	while (!(chain[last - symoffset] & 1))
		last++;
	return last + 1;
}

/* Lists the agent's exported functions that have a next definition. Takes
 * the loader's lock (dladdr1, dlsym): never call it from inside a
 * dl_iterate_phdr callback. */
void got_prepare(void)
{
	if (atomic_exchange(&prepared, 1))
		return;
	Dl_info dli;
	struct link_map *lm = NULL;
	if (!dladdr1((void *)got_prepare, &dli, (void **)&lm, RTLD_DL_LINKMAP) || !lm || !lm->l_ld)
		return;
	uintptr_t bias = lm->l_addr;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	uint32_t nsyms = 0;
	for (const ElfW(Dyn) *d = lm->l_ld; d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB)
			symtab = (const ElfW(Sym) *)dyn_addr(bias, d->d_un.d_ptr);
		else if (d->d_tag == DT_STRTAB)
			strtab = (const char *)dyn_addr(bias, d->d_un.d_ptr);
		else if (d->d_tag == DT_GNU_HASH && !nsyms)
			nsyms = gnu_hash_nsyms((const uint32_t *)dyn_addr(bias, d->d_un.d_ptr));
		else if (d->d_tag == DT_HASH)
			nsyms = ((const uint32_t *)dyn_addr(bias, d->d_un.d_ptr))[1];
	}
	if (!symtab || !strtab)
		return;
	int n = 0;
	const char *const *only = late_got_names();
	for (uint32_t i = 1; i < nsyms && n < GOT_MAX_FNS; i++) {
		const ElfW(Sym) *s = &symtab[i];
		if (s->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s->st_info) != STT_FUNC ||
		    ELF64_ST_BIND(s->st_info) == STB_LOCAL)
			continue;
		const char *name = strtab + s->st_name;
		if (only && !listed(only, name))
			continue;
		void *next = agent_dlsym_next(name);
		void *hook = (void *)(bias + s->st_value);
		if (!next || next == hook)
			continue;
		fns[n++] = (struct got_fn){name, hook, next};
		first_pair[pair_of(name) / 64] |= 1ull << (pair_of(name) % 64);
	}
	dlerror(); /* the names without a next definition left an error */
	__atomic_store_n(&nfns, n, __ATOMIC_RELEASE);
	/* Loaded late, the agent is in no object's scope: every slot not
	 * bound yet binds past it, to what the global lookup finds. */
	if (only) {
		got_scope_of(RTLD_DEFAULT, &late_scope);
		late_scope_set = 1;
	}
}

/* Context: outside the loader's lock. */
void got_scope_of(void *handle, struct got_scope *sc)
{
	memset(sc, 0, sizeof(*sc));
	int n = __atomic_load_n(&nfns, __ATOMIC_ACQUIRE);
	for (int i = 0; i < n; i++)
		sc->target[i] = dlsym(handle, fns[i].name);
	dlerror();
}

static int find_fn(const char *name)
{
	unsigned k = pair_of(name);
	if (!(first_pair[k / 64] >> (k % 64) & 1))
		return -1;
	for (int i = 0; i < nfns; i++)
		if (fns[i].name[0] == name[0] && !strcmp(fns[i].name, name))
			return i;
	return -1;
}

struct object {
	uintptr_t bias, lo, hi; /* lo..hi: the loaded segments */
	const ElfW(Phdr) * phdr;
	int phnum;
	const ElfW(Sym) * symtab;
	const char *strtab;
	size_t strsz;
	long page;
};

/* The protection of the page holding addr once the loader is done: RELRO
 * pages are read-only (the loader protects whole pages only). */
static int page_prot(const struct object *o, uintptr_t addr)
{
	for (int i = 0; i < o->phnum; i++) {
		const ElfW(Phdr) *ph = &o->phdr[i];
		if (ph->p_type != PT_GNU_RELRO)
			continue;
		uintptr_t lo = (o->bias + ph->p_vaddr) & ~(uintptr_t)(o->page - 1);
		uintptr_t hi = (o->bias + ph->p_vaddr + ph->p_memsz) & ~(uintptr_t)(o->page - 1);
		if (addr >= lo && addr < hi)
			return PROT_READ;
	}
	for (int i = 0; i < o->phnum; i++) {
		const ElfW(Phdr) *ph = &o->phdr[i];
		if (ph->p_type != PT_LOAD || addr < o->bias + ph->p_vaddr ||
		    addr >= o->bias + ph->p_vaddr + ph->p_memsz)
			continue;
		return (ph->p_flags & PF_R ? PROT_READ : 0) | (ph->p_flags & PF_W ? PROT_WRITE : 0) |
		       (ph->p_flags & PF_X ? PROT_EXEC : 0);
	}
	return -1;
}

static int write_slot(const struct object *o, void **slot, void *value)
{
	int prot = page_prot(o, (uintptr_t)slot);
	if (prot < 0)
		return 0;
	void *page = (void *)((uintptr_t)slot & ~(uintptr_t)(o->page - 1));
	if (!(prot & PROT_WRITE) && mprotect(page, (size_t)o->page, prot | PROT_WRITE) < 0)
		return 0;
	/* One aligned store: a thread calling through the slot meanwhile
	 * reaches either function, both correct. */
	__atomic_store_n(slot, value, __ATOMIC_RELEASE);
	if (!(prot & PROT_WRITE))
		mprotect(page, (size_t)o->page, prot);
	return 1;
}

static int walk(const struct object *o, const ElfW(Rela) * r, size_t bytes, const struct got_scope *deep)
{
	int n = 0;
	for (const ElfW(Rela) *end = r + bytes / sizeof(*r); r < end; r++) {
		unsigned long type = ELF64_R_TYPE(r->r_info);
		/* A function pointer initialised in data is an absolute
		 * relocation against the function itself (addend 0). */
		if (type != R_JUMP_SLOT && type != R_GLOB_DAT && (type != R_ABS64 || r->r_addend))
			continue;
		const ElfW(Sym) *s = &o->symtab[ELF64_R_SYM(r->r_info)];
		if (s->st_name >= o->strsz)
			continue;
		int i = find_fn(o->strtab + s->st_name);
		if (i < 0)
			continue;
		void **slot = (void **)(o->bias + r->r_offset);
		void *cur = __atomic_load_n(slot, __ATOMIC_RELAXED);
		int bypass = cur == fns[i].next;
		/* Lazy binding: the slot points back into the object (its PLT)
		 * until the first call resolves it in the object's scope. */
		if (!bypass && deep && type == R_JUMP_SLOT && (uintptr_t)cur >= o->lo &&
		    (uintptr_t)cur < o->hi)
			bypass = deep->target[i] == fns[i].next;
		if (bypass)
			n += write_slot(o, slot, fns[i].hook);
	}
	return n;
}

/* Context: inside a dl_iterate_phdr callback (the loader's lock is held: no
 * dlsym, no dlopen); got_prepare has run. */
int got_redirect(const struct dl_phdr_info *info, const struct got_scope *deep)
{
	if (__atomic_load_n(&nfns, __ATOMIC_ACQUIRE) <= 0)
		return 0;
	if (!deep && late_scope_set)
		deep = &late_scope;
	struct object o = {.bias = info->dlpi_addr,
			   .lo = UINTPTR_MAX,
			   .phdr = info->dlpi_phdr,
			   .phnum = info->dlpi_phnum,
			   .page = sysconf(_SC_PAGESIZE)};
	const ElfW(Dyn) *dyn = NULL;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(o.bias + ph->p_vaddr);
		else if (ph->p_type == PT_LOAD) {
			if (o.bias + ph->p_vaddr < o.lo)
				o.lo = o.bias + ph->p_vaddr;
			if (o.bias + ph->p_vaddr + ph->p_memsz > o.hi)
				o.hi = o.bias + ph->p_vaddr + ph->p_memsz;
		}
	}
	/* The agent's own slots are its business. */
	if (!dyn || o.page <= 0 || (agent_text_lo >= o.lo && agent_text_lo < o.hi))
		return 0;
	const ElfW(Rela) *jmprel = NULL, *rela = NULL;
	size_t jmpsz = 0, relasz = 0, relacount = 0;
	long pltrel = DT_RELA;
	for (const ElfW(Dyn) *d = dyn; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_SYMTAB:
			o.symtab = (const ElfW(Sym) *)dyn_addr(o.bias, d->d_un.d_ptr);
			break;
		case DT_STRTAB:
			o.strtab = (const char *)dyn_addr(o.bias, d->d_un.d_ptr);
			break;
		case DT_STRSZ:
			o.strsz = d->d_un.d_val;
			break;
		case DT_JMPREL:
			jmprel = (const ElfW(Rela) *)dyn_addr(o.bias, d->d_un.d_ptr);
			break;
		case DT_PLTRELSZ:
			jmpsz = d->d_un.d_val;
			break;
		case DT_PLTREL:
			pltrel = (long)d->d_un.d_val;
			break;
		case DT_RELA:
			rela = (const ElfW(Rela) *)dyn_addr(o.bias, d->d_un.d_ptr);
			break;
		case DT_RELASZ:
			relasz = d->d_un.d_val;
			break;
		case DT_RELACOUNT: /* the leading RELATIVE ones, most of them */
			relacount = d->d_un.d_val;
			break;
		}
	}
	if (!o.symtab || !o.strtab)
		return 0;
	int n = 0;
	if (jmprel && pltrel == DT_RELA)
		n += walk(&o, jmprel, jmpsz, deep);
	if (rela && relacount <= relasz / sizeof(*rela))
		n += walk(&o, rela + relacount, relasz - relacount * sizeof(*rela), deep);
	return n;
}
