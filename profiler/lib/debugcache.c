/* A cache of separate debug files with their sections uncompressed, by build
 * id, so that opening one costs an mmap instead of inflating it every run.
 *
 * Why: distributions ship debug files with zlib-compressed .debug_* sections
 * (libc6-dbg's is 4 MB compressed, 16 MB not), and libdw inflates every such
 * section in dwarf_begin_elf before the first line is looked up: about half
 * of `fathom mem`'s time on a small recording went there, and libdwfl's
 * standard search dlopens the debuginfod client (and its TLS stack) first.
 * A file found here skips both. The copy is keyed by build id, the module
 * file's identity, so it is never stale; it is written once, atomically
 * (rename), and any failure leaves the standard path in charge.
 *
 * Where: $FATHOM_CACHE_DIR, else $XDG_CACHE_HOME/fathom, else
 * ~/.cache/fathom; its debug/ subdirectory. FATHOM_CACHE_DIR=off disables it.
 *
 * Size: at most $FATHOM_CACHE_MAX (default 2 GiB; "512M", "0" stores
 * nothing) in all. A copy is stamped (its modification time) each time it
 * is used; storing one removes the least recently used others while the
 * total is over the cap, and a copy larger than the cap alone is not kept
 * (the compressed original is then read, as without a cache). */
#define _GNU_SOURCE
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "debugcache.h"
#include "util.h"

#define CACHE_MAX_DEFAULT (2ll << 30)

/* The cap on the copies' total size, in bytes. */
static long long cache_max(void)
{
	const char *m = getenv("FATHOM_CACHE_MAX");
	long long v = m && *m ? parse_size(m) : -1;
	return v >= 0 ? v : CACHE_MAX_DEFAULT;
}

/* The cache's debug directory into buf (created), or NULL when disabled or
 * impossible. */
static const char *cache_dir(char *buf, size_t size)
{
	const char *d = getenv("FATHOM_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
	int n;
	if (d && (!strcmp(d, "off") || !strcmp(d, "0") || !*d))
		return NULL;
	if (d)
		n = snprintf(buf, size, "%s", d);
	else if (x && x[0] == '/')
		n = snprintf(buf, size, "%s/fathom", x);
	else if (h && h[0] == '/')
		n = snprintf(buf, size, "%s/.cache/fathom", h);
	else
		return NULL;
	if (n < 0 || (size_t)n + 80 >= size)
		return NULL;
	strcpy(buf + n, "/debug");
	/* mkdir -p: every missing level (~/.cache may not exist yet). */
	for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		int r = mkdir(buf, 0755);
		*p = '/';
		if (r < 0 && errno != EEXIST)
			return NULL;
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return NULL;
	return buf;
}

static int cache_path_as(char *buf, size_t size, const char *dir, const unsigned char *id, int len,
			 const char *suffix)
{
	size_t n = (size_t)snprintf(buf, size, "%s/", dir);
	for (int i = 0; i < len && n + 16 < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%02x", id[i]);
	return snprintf(buf + n, size - n, "%s", suffix) < 0 ? -1 : 0;
}

static int cache_path(char *buf, size_t size, const char *dir, const unsigned char *id, int len)
{
	return cache_path_as(buf, size, dir, id, len, ".debug");
}

/* Whether the file has a compressed section: only those are worth a copy. */
static bool has_compressed(Elf *e)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED) && sh.sh_type != SHT_NOBITS)
			return true;
	return false;
}

/* Copies the ELF file `in` into `out` (an empty file) with every compressed
 * section inflated; libelf lays the output out. */
static int write_uncompressed(Elf *in, int out)
{
	int ret = -1;
	Elf *o = elf_begin(out, ELF_C_WRITE, NULL);
	GElf_Ehdr eh;
	size_t phnum, shstrndx;
	if (!o || !gelf_getehdr(in, &eh) || elf_getphdrnum(in, &phnum) < 0 ||
	    elf_getshdrstrndx(in, &shstrndx) < 0 || !gelf_newehdr(o, gelf_getclass(in)))
		goto out;
	if (phnum && !gelf_newphdr(o, phnum))
		goto out;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(in, (int)i, &ph) || !gelf_update_phdr(o, (int)i, &ph))
			goto out;
	}
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(in, scn))) {
		GElf_Shdr sh;
		Elf_Scn *ns = elf_newscn(o);
		if (!ns || !gelf_getshdr(scn, &sh))
			goto out;
		if ((sh.sh_flags & SHF_COMPRESSED) && sh.sh_type != SHT_NOBITS) {
			if (elf_compress(scn, 0, 0) < 0 || !gelf_getshdr(scn, &sh))
				goto out;
		}
		Elf_Data *d = NULL, *nd;
		while ((d = elf_getdata(scn, d))) {
			if (!(nd = elf_newdata(ns)))
				goto out;
			*nd = *d;
		}
		if (!gelf_update_shdr(ns, &sh))
			goto out;
	}
	/* Section indexes are kept (the same order), so the header's
	 * references (shstrndx) and the sections' links stay right. */
	if (shstrndx >= SHN_LORESERVE) {
		GElf_Shdr z;
		Elf_Scn *zero = elf_getscn(o, 0);
		if (!zero || !gelf_getshdr(zero, &z))
			goto out;
		z.sh_link = (GElf_Word)shstrndx;
		gelf_update_shdr(zero, &z);
		eh.e_shstrndx = SHN_XINDEX;
	}
	eh.e_phoff = 0; /* laid out by libelf */
	eh.e_shoff = 0;
	if (!gelf_update_ehdr(o, &eh) || elf_update(o, ELF_C_WRITE) < 0)
		goto out;
	ret = 0;
out:
	if (o)
		elf_end(o);
	return ret;
}

struct cached {
	char name[80];
	off_t size;
	struct timespec used;
};

static int older_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct cached *)a)->used, *y = &((const struct cached *)b)->used;
	if (x->tv_sec != y->tv_sec)
		return x->tv_sec < y->tv_sec ? -1 : 1;
	return (x->tv_nsec > y->tv_nsec) - (x->tv_nsec < y->tv_nsec);
}

/* Removes the least recently used copies of dir (never `keep`, a file name
 * in it) while their total is over max. */
static void prune(const char *dir, const char *keep, long long max)
{
	DIR *d = opendir(dir);
	struct cached *c = NULL;
	size_t n = 0, cap = 0;
	long long total = 0;
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		struct stat st;
		if (len < 7 || len >= sizeof(c->name) ||
		    (strcmp(e->d_name + len - 6, ".debug") && strcmp(e->d_name + len - 6, ".names")) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		total += st.st_size;
		if (!strcmp(e->d_name, keep))
			continue;
		if (GROW(c, cap, n + 1) < 0)
			break;
		memcpy(c[n].name, e->d_name, len + 1);
		c[n].size = st.st_size;
		c[n++].used = st.st_mtim;
	}
	if (total > max && n)
		qsort(c, n, sizeof(*c), older_first);
	for (size_t i = 0; i < n && total > max; i++)
		if (unlinkat(dirfd(d), c[i].name, 0) == 0)
			total -= c[i].size;
	closedir(d);
	free(c);
}

/* Stores an uncompressed copy of the debug file `fd` (found by libdwfl) for
 * next time and returns a descriptor of that copy, closing fd; or returns fd
 * itself when the file holds nothing compressed or the copy failed. */
static int store(int fd, const char *dir, const char *path, char **name)
{
	long long max = cache_max();
	struct stat st;
	if (max <= 0)
		return fd;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e)
		return fd;
	if (!has_compressed(e)) {
		elf_end(e);
		return fd;
	}
	char tmp[PATH_MAX + 240];
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	int out = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ok = out >= 0 && write_uncompressed(e, out) == 0 && fstat(out, &st) == 0 && st.st_size <= max &&
		 fsync(out) == 0;
	elf_end(e);
	if (out >= 0)
		close(out);
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return fd;
	}
	prune(dir, path + strlen(dir) + 1, max);
	int nfd = open(path, O_RDONLY | O_CLOEXEC);
	char *n = nfd >= 0 ? strdup(path) : NULL;
	if (!n) {
		if (nfd >= 0)
			close(nfd);
		return fd;
	}
	close(fd);
	free(*name);
	*name = n;
	return nfd;
}

/* Whether fd is an ELF file whose build id is id: a damaged copy would
 * otherwise cost the module its lines for good. */
static bool valid(int fd, const unsigned char *id, int len)
{
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	const void *bid;
	size_t shnum;
	bool ok = e && elf_kind(e) == ELF_K_ELF && elf_getshdrnum(e, &shnum) == 0 && shnum > 1 &&
		  dwelf_elf_gnu_build_id(e, &bid) == len && !memcmp(bid, id, (size_t)len);
	if (e)
		elf_end(e);
	return ok;
}

int debugcache_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
			      const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
			      char **debuginfo_file_name)
{
	char dir[PATH_MAX], path[PATH_MAX + 200];
	const unsigned char *bits;
	GElf_Addr vaddr;
	int n = dwfl_module_build_id(mod, &bits, &vaddr);
	const char *d = n >= 8 ? cache_dir(dir, sizeof(dir)) : NULL;
	if (d && cache_path(path, sizeof(path), d, bits, n) == 0) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && !valid(fd, bits, n)) {
			/* Damaged (a full disk, a hand's edit): made again below. */
			close(fd);
			unlink(path);
			fd = -1;
		}
		if (fd >= 0) {
			char *name = strdup(path);
			futimens(fd, NULL); /* used now: the last to go when over the cap */
			if (name) {
				free(*debuginfo_file_name);
				*debuginfo_file_name = name;
				return fd;
			}
			close(fd);
		}
	}
	int fd = dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file,
					      debuglink_crc, debuginfo_file_name);
	if (fd < 0 || !d || !*debuginfo_file_name)
		return fd;
	return store(fd, d, path, debuginfo_file_name);
}

/* ---------------------------------------------- symbol-table answers */

struct nc_entry {
	uint64_t off, start; /* ELF virtual addresses */
	const char *name;    /* NULL: no symbol */
};

struct namecache {
	char path[PATH_MAX + 200];
	long nsyms;
	char *text; /* the file read, its separators made NULs */
	struct nc_entry *old, *add;
	size_t nold, nadd, capadd;
	bool writable;
};

#define NC_MAGIC "fathom-names 1"

static int by_off(const void *a, const void *b)
{
	const struct nc_entry *x = a, *y = b;
	return (x->off > y->off) - (x->off < y->off);
}

/* Reads the file's entries ("OFF START NAME", hex, NAME to the end of the
 * line, empty for no symbol) when its header names nsyms symbols. */
static void nc_read(struct namecache *c)
{
	int fd = open(c->path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > (64 << 20) ||
	    !(c->text = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return;
	}
	ssize_t got = read(fd, c->text, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size)
		return;
	c->text[got] = 0;
	char *p = c->text, *nl = strchr(p, '\n');
	long n;
	if (!nl || sscanf(p, NC_MAGIC " %ld", &n) != 1 || n != c->nsyms)
		return;
	size_t lines = 0;
	for (char *q = nl; (q = strchr(q + 1, '\n'));)
		lines++;
	if (!(c->old = calloc(lines ? lines : 1, sizeof(*c->old))))
		return;
	for (p = nl + 1; (nl = strchr(p, '\n')); p = nl + 1) {
		*nl = 0;
		char *end;
		struct nc_entry e;
		e.off = strtoull(p, &end, 16);
		if (*end != ' ')
			continue;
		e.start = strtoull(end + 1, &end, 16);
		if (*end != ' ')
			continue;
		e.name = end[1] ? end + 1 : NULL;
		c->old[c->nold++] = e;
	}
	qsort(c->old, c->nold, sizeof(*c->old), by_off);
}

struct namecache *namecache_open(const unsigned char *id, size_t len, long nsyms)
{
	char dir[PATH_MAX];
	struct namecache *c;
	if (len < 8 || len > 64 || cache_max() <= 0 || !cache_dir(dir, sizeof(dir)) ||
	    !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->nsyms = nsyms;
	if (cache_path_as(c->path, sizeof(c->path), dir, id, (int)len, ".names") < 0) {
		free(c);
		return NULL;
	}
	nc_read(c);
	c->writable = true;
	return c;
}

int namecache_get(const struct namecache *c, uint64_t off, const char **name, uint64_t *start)
{
	if (!c || !c->nold)
		return 0;
	struct nc_entry k = {.off = off}, *e = bsearch(&k, c->old, c->nold, sizeof(k), by_off);
	if (!e)
		return 0;
	*name = e->name;
	*start = e->start;
	return 1;
}

void namecache_put(struct namecache *c, uint64_t off, const char *name, uint64_t start)
{
	if (!c || !c->writable || (name && strchr(name, '\n')))
		return;
	char *n = name ? strdup(name) : NULL;
	if ((name && !n) || GROW(c->add, c->capadd, c->nadd + 1) < 0) {
		free(n);
		c->writable = false;
		return;
	}
	c->add[c->nadd++] = (struct nc_entry){.off = off, .start = start, .name = n};
}

/* Writes the file again (atomically) with the new entries, then holds the
 * cache to its cap. */
static void nc_write(struct namecache *c)
{
	char tmp[PATH_MAX + 240];
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", c->path, (int)getpid());
	FILE *f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, NC_MAGIC " %ld\n", c->nsyms);
	for (int pass = 0; pass < 2; pass++) {
		const struct nc_entry *e = pass ? c->add : c->old;
		for (size_t i = 0, n = pass ? c->nadd : c->nold; i < n; i++)
			fprintf(f, "%" PRIx64 " %" PRIx64 " %s\n", e[i].off, e[i].start,
				e[i].name ? e[i].name : "");
	}
	if (fclose(f) != 0 || rename(tmp, c->path) < 0) {
		unlink(tmp);
		return;
	}
	char *slash = strrchr(c->path, '/');
	*slash = 0;
	prune(c->path, slash + 1, cache_max());
	*slash = '/';
}

void namecache_close(struct namecache *c)
{
	if (!c)
		return;
	if (c->nadd && c->writable)
		nc_write(c);
	for (size_t i = 0; i < c->nadd; i++)
		free((char *)c->add[i].name);
	free(c->add);
	free(c->old);
	free(c->text);
	free(c);
}
