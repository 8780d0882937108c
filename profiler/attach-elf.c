/* The target's objects for fathom record --pid: where a library is mapped
 * (/proc/PID/maps) and the address of one of its dynamic symbols (its
 * file's .dynsym, read through /proc/PID/root so that a process in another
 * mount namespace is read right). */
#define _GNU_SOURCE
#include "attach.h"

#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int attach_maps_line(char *line, uint64_t *lo, uint64_t *hi, char perms[8], uint64_t *off, char **name)
{
	int name_at = 0;
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s %n", lo, hi, perms, off, &name_at) <
		4 ||
	    !name_at)
		return -1;
	*name = line + name_at;
	(*name)[strcspn(*name, "\n")] = 0;
	return 0;
}

int attach_find_obj(pid_t pid, const char *prefix, struct attach_obj *o)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	memset(o, 0, sizeof(*o));
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	uint64_t low = UINT64_MAX;
	while (getline(&line, &cap, f) > 0) {
		uint64_t lo, hi, off;
		char perms[8], *name;
		if (attach_maps_line(line, &lo, &hi, perms, &off, &name) < 0)
			continue;
		const char *leaf = strrchr(name, '/');
		if (name[0] != '/' || !leaf || strncmp(leaf + 1, prefix, strlen(prefix)))
			continue;
		if (o->found && strcmp(o->path, name))
			continue; /* another object of that name: the first one counts */
		o->found = true;
		snprintf(o->path, sizeof(o->path), "%s", name);
		if (off == 0 && lo < low)
			low = lo;
		if (perms[2] == 'x') {
			if (!o->text.lo || lo < o->text.lo)
				o->text.lo = lo;
			if (hi > o->text.hi)
				o->text.hi = hi;
		}
	}
	free(line);
	fclose(f);
	o->base = low == UINT64_MAX ? 0 : low;
	return o->found && o->base ? 0 : -1;
}

/* The address in pid of o's dynamic symbol name, or (section) of its
 * section of that name; 0: none. *size its size. */
static uint64_t lookup(pid_t pid, const struct attach_obj *o, const char *name, uint64_t *size, bool section)
{
	char path[4200];
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, o->path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = open(o->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	size_t len = (size_t)st.st_size;
	const unsigned char *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return 0;
	uint64_t addr = 0;
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > len ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len)
		goto out;
	/* The first PT_LOAD is mapped at base, page-aligned. */
	uint64_t first = UINT64_MAX;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(m + eh->e_phoff);
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_vaddr < first)
			first = ph[i].p_vaddr & ~(uint64_t)4095;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(m + eh->e_shoff);
	if (section) {
		if (eh->e_shstrndx >= eh->e_shnum ||
		    sh[eh->e_shstrndx].sh_offset + sh[eh->e_shstrndx].sh_size > len)
			goto out;
		const char *names = (const char *)m + sh[eh->e_shstrndx].sh_offset;
		size_t nlen = sh[eh->e_shstrndx].sh_size;
		for (int i = 0; i < eh->e_shnum && !addr; i++) {
			if (sh[i].sh_name >= nlen ||
			    strnlen(names + sh[i].sh_name, nlen - sh[i].sh_name) == nlen - sh[i].sh_name ||
			    strcmp(names + sh[i].sh_name, name) || !sh[i].sh_addr)
				continue;
			addr = o->base + sh[i].sh_addr - (first == UINT64_MAX ? 0 : first);
			if (size)
				*size = sh[i].sh_size;
		}
		goto out;
	}
	for (int i = 0; i < eh->e_shnum && !addr; i++) {
		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum ||
		    sh[i].sh_offset + sh[i].sh_size > len)
			continue;
		const Elf64_Shdr *strs = &sh[sh[i].sh_link];
		if (strs->sh_offset + strs->sh_size > len)
			continue;
		const Elf64_Sym *sym = (const Elf64_Sym *)(m + sh[i].sh_offset);
		const char *str = (const char *)m + strs->sh_offset;
		for (size_t k = 0; k < sh[i].sh_size / sizeof(*sym); k++) {
			if (sym[k].st_shndx == SHN_UNDEF || sym[k].st_name >= strs->sh_size ||
			    (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC &&
			     ELF64_ST_TYPE(sym[k].st_info) != STT_OBJECT) ||
			    strnlen(str + sym[k].st_name, strs->sh_size - sym[k].st_name) ==
				strs->sh_size - sym[k].st_name ||
			    strcmp(str + sym[k].st_name, name))
				continue;
			addr = o->base + sym[k].st_value - (first == UINT64_MAX ? 0 : first);
			if (size)
				*size = sym[k].st_size;
			break;
		}
	}
out:
	munmap((void *)m, len);
	return addr;
}

uint64_t attach_sym(pid_t pid, const struct attach_obj *o, const char *name, uint64_t *size)
{
	return lookup(pid, o, name, size, false);
}

uint64_t attach_section(pid_t pid, const struct attach_obj *o, const char *name, uint64_t *size)
{
	return lookup(pid, o, name, size, true);
}
