/* The frames of a stopped thread of fathom record --pid's target: its stack
 * walked by the agent's CFI unwinder (preload/unwind.c) over copies of the
 * target's unwind tables, read from its memory, so that a safe point is
 * judged by the return addresses of the live frames only. A word that a
 * frame left unwritten (glibc's wait4 keeps a slot it never stores to at
 * the bottom of its frame) holds whatever an earlier, deeper call left
 * there: a return address into the loader from a dlclose long finished
 * made test-attach-dlfork's thread, blocked in waitpid, look inside the
 * loader at every look. */
#define _GNU_SOURCE
#include "attach.h"
#include "../preload/unwind.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/user.h>

#define MAX_OBJS 512
#define MAX_SEG (64u << 20) /* the largest segment of unwind tables copied */

/* An object mapped in the target: its mappings' span, and once looked at,
 * a copy of the segment that holds its .eh_frame_hdr. */
struct aobj {
	char *name;
	uint64_t lo, hi, base; /* base: its mapping of file offset 0 */
	bool looked;
	uint8_t *copy; /* NULL: no unwind tables */
	uint64_t seg, hdr;
	size_t len;
};

struct attach_frames {
	pid_t pid;
	struct aobj o[MAX_OBJS];
	int n;
};

static int rd(pid_t pid, uint64_t at, void *buf, size_t len)
{
	struct iovec l = {buf, len}, r = {(void *)(uintptr_t)at, len};
	return process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)len ? 0 : -1;
}

struct attach_frames *attach_frames_open(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	struct attach_frames *s = f ? calloc(1, sizeof(*s)) : NULL;
	if (!s) {
		if (f)
			fclose(f);
		return NULL;
	}
	s->pid = pid;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		uint64_t lo, hi, off;
		char perms[8], *name;
		if (attach_maps_line(line, &lo, &hi, perms, &off, &name) < 0)
			continue;
		if (name[0] != '/' && strcmp(name, "[vdso]"))
			continue;
		/* The object's other mappings (text, data) follow its first. */
		struct aobj *o = NULL;
		for (int i = s->n - 1; i >= 0 && !o; i--)
			if (!strcmp(s->o[i].name, name) && s->o[i].hi <= lo)
				o = &s->o[i];
		if (o && off) {
			o->hi = hi;
			continue;
		}
		if (s->n == MAX_OBJS || !(name = strdup(name)))
			continue;
		o = &s->o[s->n++];
		o->name = name;
		o->lo = lo;
		o->hi = hi;
		o->base = off ? 0 : lo;
	}
	free(line);
	fclose(f);
	return s;
}

void attach_frames_close(struct attach_frames *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++) {
		free(s->o[i].name);
		free(s->o[i].copy);
	}
	free(s);
}

/* Copies o's segment that holds its .eh_frame_hdr, found through the ELF
 * headers at its base in the target's memory. */
static void look(pid_t pid, struct aobj *o)
{
	o->looked = true;
	Elf64_Ehdr eh;
	if (!o->base || rd(pid, o->base, &eh, sizeof(eh)) < 0 || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum > 64)
		return;
	Elf64_Phdr ph[64];
	if (rd(pid, o->base + eh.e_phoff, ph, eh.e_phnum * sizeof(*ph)) < 0)
		return;
	uint64_t first = UINT64_MAX;
	const Elf64_Phdr *ehf = NULL;
	for (int i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && (ph[i].p_vaddr & ~(uint64_t)4095) < first)
			first = ph[i].p_vaddr & ~(uint64_t)4095;
		if (ph[i].p_type == PT_GNU_EH_FRAME)
			ehf = &ph[i];
	}
	if (!ehf || first == UINT64_MAX)
		return;
	uint64_t bias = o->base - first;
	for (int i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type != PT_LOAD || ehf->p_vaddr < p->p_vaddr ||
		    ehf->p_vaddr >= p->p_vaddr + p->p_filesz || p->p_filesz > MAX_SEG)
			continue;
		uint8_t *copy = malloc(p->p_filesz);
		if (copy && rd(pid, bias + p->p_vaddr, copy, p->p_filesz) == 0) {
			o->copy = copy;
			o->seg = bias + p->p_vaddr;
			o->len = p->p_filesz;
			o->hdr = bias + ehf->p_vaddr;
			return;
		}
		free(copy);
	}
}

static int find(void *arg, uint64_t pc, const uint8_t **lo, const uint8_t **hi, const uint8_t **hdr,
		int64_t *delta)
{
	struct attach_frames *s = arg;
	for (int i = 0; i < s->n; i++) {
		struct aobj *o = &s->o[i];
		if (pc < o->lo || pc >= o->hi)
			continue;
		if (!o->looked)
			look(s->pid, o);
		if (!o->copy)
			return -1;
		*lo = o->copy;
		*hi = o->copy + o->len;
		*hdr = o->copy + (o->hdr - o->seg);
		*delta = (int64_t)((uintptr_t)o->copy - o->seg);
		return 0;
	}
	return -1;
}

int attach_frames_walk(struct attach_frames *s, const void *regs, uint64_t *pcs, int max, uint64_t *stop_sp)
{
	const struct user_regs_struct *r = regs;
	const uint64_t reg[UW_NREGS] = {r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp, r->r8,
					r->r9,	r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip};
	static struct unwind u;
	unwind_init_remote(&u, s->pid, reg, find, s);
	int n = 0;
	pcs[n++] = r->rip;
	while (n < max && unwind_step(&u))
		pcs[n++] = u.reg[UW_RA];
	*stop_sp = u.ended ? 0 : u.reg[UW_RSP];
	return n;
}
