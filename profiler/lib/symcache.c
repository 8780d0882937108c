/* Symbols saved in a dump (`fathom record --symbolize`): kept in memory by
 * (module file, address), encoded as symbols chunks appended to the dump, and
 * decoded back by the model, which prefers them to the files on disk. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "fathom-dump.h"
#include "profile.h"
#include "symcache.h"
#include "util.h"

/* Record kinds inside a symbols chunk (their own namespace, not FD_REC_*). */
enum { SYM_STRING = 1, SYM_MODULE = 2, SYM_ADDR = 3 };

/* A chunk is flushed when its raw payload passes this: well below
 * FD_CHUNK_MAX_RAW, and small enough that a damaged chunk loses little. */
#define CHUNK_TARGET (1u << 20)

struct cframe {
	uint32_t name, file; /* string indices; 0 = none */
	int line, decl_line;
	uint64_t start;
};

struct centry {
	uint32_t module;
	uint64_t vaddr;
	uint32_t first, n; /* frames [first, first + n) */
};

struct cmodule {
	char *path;
	uint8_t build_id[64];
	size_t build_id_len;
};

struct symcache {
	char **strs; /* index 0 unused: "none" */
	size_t nstrs, capstrs;
	uint32_t *strmap; /* open addressing: string index, 0 = hole */
	size_t capstrmap;
	struct cmodule *mods;
	size_t nmods, capmods;
	struct cframe *frames;
	size_t nframes, capframes;
	struct centry *entries;
	size_t nentries, capentries;
	uint32_t *entmap; /* open addressing: entry index + 1, 0 = hole */
	size_t capentmap;
};

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t hash_entry(uint32_t module, uint64_t vaddr)
{
	uint64_t h = (vaddr ^ ((uint64_t)module << 48)) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

struct symcache *symcache_new(void)
{
	struct symcache *c = calloc(1, sizeof(*c));
	if (c && GROW(c->strs, c->capstrs, 1) < 0) {
		free(c);
		return NULL;
	}
	if (c) {
		c->strs[0] = NULL;
		c->nstrs = 1;
	}
	return c;
}

void symcache_free(struct symcache *c)
{
	if (!c)
		return;
	for (size_t i = 1; i < c->nstrs; i++)
		free(c->strs[i]);
	free(c->strs);
	free(c->strmap);
	for (size_t i = 0; i < c->nmods; i++)
		free(c->mods[i].path);
	free(c->mods);
	free(c->frames);
	free(c->entries);
	free(c->entmap);
	free(c);
}

size_t symcache_size(const struct symcache *c)
{
	return c ? c->nentries : 0;
}

/* The index of string s (len bytes), added when new; 0 for NULL; -1 when out of memory. */
static int64_t intern(struct symcache *c, const char *s, size_t len)
{
	if (!s)
		return 0;
	if (2 * (c->nstrs + 1) > c->capstrmap) {
		size_t cap = c->capstrmap ? c->capstrmap * 2 : 256;
		uint32_t *m = calloc(cap, sizeof(*m));
		if (!m)
			return -1;
		for (size_t i = 1; i < c->nstrs; i++) {
			size_t j =
			    hash_bytes(0xcbf29ce484222325ull, c->strs[i], strlen(c->strs[i])) & (cap - 1);
			while (m[j])
				j = (j + 1) & (cap - 1);
			m[j] = (uint32_t)i;
		}
		free(c->strmap);
		c->strmap = m;
		c->capstrmap = cap;
	}
	size_t j = hash_bytes(0xcbf29ce484222325ull, s, len) & (c->capstrmap - 1);
	for (; c->strmap[j]; j = (j + 1) & (c->capstrmap - 1)) {
		const char *t = c->strs[c->strmap[j]];
		if (!strncmp(t, s, len) && t[len] == 0)
			return c->strmap[j];
	}
	if (GROW(c->strs, c->capstrs, c->nstrs + 1) < 0 || !(c->strs[c->nstrs] = strndup(s, len)))
		return -1;
	c->strmap[j] = (uint32_t)c->nstrs;
	return (int64_t)c->nstrs++;
}

int symcache_module(const struct symcache *c, const char *path, const uint8_t *build_id, size_t build_id_len)
{
	for (size_t i = 0; c && i < c->nmods; i++)
		if (!strcmp(c->mods[i].path, path) && c->mods[i].build_id_len == build_id_len &&
		    !memcmp(c->mods[i].build_id, build_id, build_id_len))
			return (int)i;
	return -1;
}

static int module_add(struct symcache *c, const char *path, size_t path_len, const uint8_t *build_id,
		      size_t build_id_len)
{
	if (build_id_len > sizeof(c->mods[0].build_id))
		build_id_len = 0;
	char *p = strndup(path, path_len);
	if (!p)
		return -ENOMEM;
	int i = symcache_module(c, p, build_id, build_id_len);
	if (i >= 0) {
		free(p);
		return i;
	}
	if (GROW(c->mods, c->capmods, c->nmods + 1) < 0) {
		free(p);
		return -ENOMEM;
	}
	struct cmodule *m = &c->mods[c->nmods];
	m->path = p;
	memcpy(m->build_id, build_id, build_id_len);
	m->build_id_len = build_id_len;
	return (int)c->nmods++;
}

/* The slot of (module, vaddr) in the entry map: its entry, or the hole where it goes. */
static uint32_t *entry_slot(const struct symcache *c, uint32_t module, uint64_t vaddr)
{
	size_t j = hash_entry(module, vaddr) & (c->capentmap - 1);
	for (;; j = (j + 1) & (c->capentmap - 1)) {
		uint32_t e = c->entmap[j];
		if (!e || (c->entries[e - 1].module == module && c->entries[e - 1].vaddr == vaddr))
			return &c->entmap[j];
	}
}

static int entry_add(struct symcache *c, uint32_t module, uint64_t vaddr, const struct cframe *f, uint32_t n)
{
	if (2 * (c->nentries + 1) > c->capentmap) {
		size_t cap = c->capentmap ? c->capentmap * 2 : 1024;
		uint32_t *m = calloc(cap, sizeof(*m));
		if (!m)
			return -ENOMEM;
		free(c->entmap);
		c->entmap = m;
		c->capentmap = cap;
		for (size_t i = 0; i < c->nentries; i++)
			*entry_slot(c, c->entries[i].module, c->entries[i].vaddr) = (uint32_t)i + 1;
	}
	uint32_t *slot = entry_slot(c, module, vaddr);
	if (*slot)
		return 0; /* kept already: the same file gives the same answer */
	if (GROW(c->entries, c->capentries, c->nentries + 1) < 0 ||
	    GROW(c->frames, c->capframes, c->nframes + n) < 0)
		return -ENOMEM;
	memcpy(c->frames + c->nframes, f, n * sizeof(*f));
	c->entries[c->nentries] = (struct centry){module, vaddr, (uint32_t)c->nframes, n};
	c->nframes += n;
	*slot = (uint32_t)++c->nentries;
	return 0;
}

int symcache_add(struct symcache *c, const char *path, const uint8_t *build_id, size_t build_id_len,
		 uint64_t vaddr, const struct sym_frame *f, int n)
{
	if (n <= 0)
		return 0;
	int mi = module_add(c, path, strlen(path), build_id, build_id_len);
	if (mi < 0)
		return mi;
	struct cframe cf[64];
	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++) {
		int64_t name = intern(c, f[i].name, f[i].name ? strlen(f[i].name) : 0);
		int64_t file = intern(c, f[i].file, f[i].file ? strlen(f[i].file) : 0);
		if (name < 0 || file < 0)
			return -ENOMEM;
		cf[i] =
		    (struct cframe){(uint32_t)name, (uint32_t)file, f[i].line, f[i].decl_line, f[i].start};
	}
	return entry_add(c, (uint32_t)mi, vaddr, cf, (uint32_t)n);
}

int symcache_lookup(const struct symcache *c, int mi, uint64_t vaddr, struct sym_frame *out, int max)
{
	if (!c || mi < 0 || !c->capentmap)
		return 0;
	uint32_t e = *entry_slot(c, (uint32_t)mi, vaddr);
	if (!e)
		return 0;
	const struct centry *en = &c->entries[e - 1];
	int n = (int)en->n < max ? (int)en->n : max;
	for (int i = 0; i < n; i++) {
		const struct cframe *f = &c->frames[en->first + i];
		out[i] =
		    (struct sym_frame){c->strs[f->name], c->strs[f->file], f->line, f->decl_line, f->start};
	}
	return n;
}

/* ---- decoding ---- */

struct cursor {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t get_u(struct cursor *b)
{
	uint64_t v = 0;
	if (!b->bad && fd_get_varint(&b->p, b->end, &v) < 0)
		b->bad = true;
	return b->bad ? 0 : v;
}

static const uint8_t *get_bytes(struct cursor *b, size_t *len)
{
	uint64_t n = get_u(b);
	if (b->bad || n > (uint64_t)(b->end - b->p)) {
		b->bad = true;
		*len = 0;
		return NULL;
	}
	const uint8_t *s = b->p;
	b->p += n;
	*len = (size_t)n;
	return s;
}

int symcache_decode(struct symcache *c, const uint8_t *p, size_t len)
{
	/* chunk-local string index -> cache string index */
	uint32_t *local = NULL;
	size_t nlocal = 1, caplocal = 0;
	int module = -1, ret = -EINVAL;
	struct cframe cf[64];
	if (GROW(local, caplocal, 1) < 0)
		return -ENOMEM;
	local[0] = 0;
	struct cursor r = {p, p + len, false};
	while (r.p < r.end) {
		int kind = *r.p++;
		size_t blen;
		const uint8_t *body = get_bytes(&r, &blen);
		if (r.bad)
			goto out;
		struct cursor b = {body, body + blen, false};
		if (kind == SYM_STRING) {
			int64_t s = intern(c, (const char *)body, blen);
			if (s < 0 || GROW(local, caplocal, nlocal + 1) < 0) {
				ret = -ENOMEM;
				goto out;
			}
			local[nlocal++] = (uint32_t)s;
		} else if (kind == SYM_MODULE) {
			size_t plen, blen2;
			const uint8_t *path = get_bytes(&b, &plen);
			const uint8_t *bid = get_bytes(&b, &blen2);
			if (b.bad || !plen)
				goto out;
			if ((module = module_add(c, (const char *)path, plen, bid, blen2)) < 0) {
				ret = module;
				goto out;
			}
		} else if (kind == SYM_ADDR) {
			uint64_t vaddr = get_u(&b), n = get_u(&b);
			if (b.bad || module < 0 || n == 0 || n > 64)
				goto out;
			for (uint64_t i = 0; i < n; i++) {
				uint64_t name = get_u(&b), file = get_u(&b), line = get_u(&b),
					 decl = get_u(&b);
				uint64_t start = get_u(&b);
				if (b.bad || name >= nlocal || file >= nlocal)
					goto out;
				cf[i] =
				    (struct cframe){local[name], local[file], line > 1u << 30 ? 0 : (int)line,
						    decl > 1u << 30 ? 0 : (int)decl, start};
			}
			if ((ret = entry_add(c, (uint32_t)module, vaddr, cf, (uint32_t)n)) < 0)
				goto out;
			ret = -EINVAL;
		}
		/* other kinds: from a newer fathom, skipped by length */
	}
	ret = 0;
out:
	free(local);
	return ret;
}

/* ---- encoding ---- */

static void put_u(FILE *f, uint64_t v)
{
	while (v >= 0x80) {
		fputc((int)(v & 0x7f) | 0x80, f);
		v >>= 7;
	}
	fputc((int)v, f);
}

static void put_record(FILE *f, int kind, const char *body, size_t len)
{
	fputc(kind, f);
	put_u(f, len);
	fwrite(body, 1, len, f);
}

/* Writes one chunk of `raw` (compressed) at the end of fd. */
static int write_chunk(int fd, uint32_t seq, const char *raw, size_t len)
{
	size_t cap = ZSTD_compressBound(len);
	uint8_t *z = malloc(FD_CHUNK_HEADER_SIZE + cap);
	if (!z)
		return -ENOMEM;
	size_t zn = ZSTD_compress(z + FD_CHUNK_HEADER_SIZE, cap, raw, len, 3);
	if (ZSTD_isError(zn)) {
		free(z);
		return -EIO;
	}
	uint8_t *h = z;
	fd_chunk_header_encode(h, FD_CHUNK_ZSTD, seq, (uint32_t)zn, (uint32_t)len,
			       fd_crc32c(0, z + FD_CHUNK_HEADER_SIZE, zn));
	/* The shared encoder writes record chunks: retyped, and its checksum redone. */
	h[4] = FD_CHUNK_SYMBOLS;
	fd_put_u16(h + 6, 0);
	fd_put_u16(h + 6, (uint16_t)fd_crc32c(0, h, FD_CHUNK_HEADER_SIZE));
	size_t total = FD_CHUNK_HEADER_SIZE + zn, done = 0;
	int ret = 0;
	while (done < total) {
		ssize_t w = write(fd, z + done, total - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			break;
		}
		done += (size_t)w;
	}
	free(z);
	return ret;
}

/* The seq the next chunk of the dump on fd takes, from a walk over its chunk
 * headers; -EINVAL when a header is damaged (a chunk appended after damage
 * could not be found again reliably). */
static int64_t next_seq(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	uint64_t off = FD_FILE_HEADER_SIZE, size = (uint64_t)st.st_size;
	int64_t next = 0;
	uint8_t h[FD_CHUNK_HEADER_SIZE];
	while (off + FD_CHUNK_HEADER_SIZE <= size) {
		if (pread(fd, h, sizeof(h), (off_t)off) != (ssize_t)sizeof(h) || !fd_chunk_header_valid(h))
			return -EINVAL;
		next = (int64_t)fd_get_u32(h + 8) + 1;
		off += FD_CHUNK_HEADER_SIZE + fd_get_u32(h + 12);
	}
	return off == size ? next : -EINVAL;
}

int symcache_append(const struct symcache *c, const char *path, char **err)
{
	*err = NULL;
	int ret = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = NULL;
	uint32_t *local = NULL; /* cache string index -> chunk-local index, 0: not sent in this chunk */
	int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	int64_t seq = next_seq(fd);
	if (seq < 0) {
		ret = (int)seq;
		goto out;
	}
	if (!(local = calloc(c->nstrs + 1, sizeof(*local)))) {
		ret = -ENOMEM;
		goto out;
	}
	uint32_t nlocal = 1;
	uint32_t cur_mod = UINT32_MAX;
	char *body = NULL;
	size_t blen = 0;
	for (size_t e = 0; e <= c->nentries; e++) {
		bool flush = e == c->nentries || (f && (fflush(f), len >= CHUNK_TARGET));
		if (flush && f) {
			if (fclose(f) != 0) {
				f = NULL;
				ret = -ENOMEM;
				goto out;
			}
			f = NULL;
			if ((ret = write_chunk(fd, (uint32_t)seq++, buf, len)) < 0)
				goto out;
			free(buf);
			buf = NULL;
		}
		if (e == c->nentries)
			break;
		if (!f) {
			if (!(f = open_memstream(&buf, &len))) {
				ret = -ENOMEM;
				goto out;
			}
			memset(local, 0, (c->nstrs + 1) * sizeof(*local));
			nlocal = 1;
			cur_mod = UINT32_MAX;
		}
		const struct centry *en = &c->entries[e];
		if (en->module != cur_mod) {
			const struct cmodule *m = &c->mods[en->module];
			FILE *bf = open_memstream(&body, &blen);
			if (!bf) {
				ret = -ENOMEM;
				goto out;
			}
			put_u(bf, strlen(m->path));
			fputs(m->path, bf);
			put_u(bf, m->build_id_len);
			fwrite(m->build_id, 1, m->build_id_len, bf);
			fclose(bf);
			put_record(f, SYM_MODULE, body, blen);
			free(body);
			body = NULL;
			cur_mod = en->module;
		}
		for (uint32_t i = 0; i < en->n; i++) {
			const struct cframe *fr = &c->frames[en->first + i];
			uint32_t s[2] = {fr->name, fr->file};
			for (int k = 0; k < 2; k++)
				if (s[k] && !local[s[k]]) {
					put_record(f, SYM_STRING, c->strs[s[k]], strlen(c->strs[s[k]]));
					local[s[k]] = nlocal++;
				}
		}
		FILE *bf = open_memstream(&body, &blen);
		if (!bf) {
			ret = -ENOMEM;
			goto out;
		}
		put_u(bf, en->vaddr);
		put_u(bf, en->n);
		for (uint32_t i = 0; i < en->n; i++) {
			const struct cframe *fr = &c->frames[en->first + i];
			put_u(bf, local[fr->name]);
			put_u(bf, local[fr->file]);
			put_u(bf, fr->line > 0 ? (uint64_t)fr->line : 0);
			put_u(bf, fr->decl_line > 0 ? (uint64_t)fr->decl_line : 0);
			put_u(bf, fr->start);
		}
		fclose(bf);
		put_record(f, SYM_ADDR, body, blen);
		free(body);
		body = NULL;
	}
out:
	if (f)
		fclose(f);
	free(buf);
	free(local);
	if (fd >= 0 && close(fd) < 0 && !ret)
		ret = -errno;
	if (ret && asprintf(err, "%s: cannot add the symbols: %s", path,
			    ret == -EINVAL ? "the dump is damaged" : strerror(-ret)) < 0)
		*err = NULL;
	return ret;
}

/* ---- fathom record --symbolize ---- */

int symcache_save(char *const *paths, size_t npaths, size_t *saved, char **err)
{
	*saved = 0;
	*err = NULL;
	struct profile p;
	struct profile_opts po = {.quiet = true, .keep_symbols = true};
	int rc = profile_load(&p, paths, npaths, &po, err);
	if (rc < 0)
		return rc;
	/* One dump that cannot take them (damaged, read-only) does not keep
	 * the others from getting theirs; the first failure is reported. */
	for (size_t i = 0; i < p.nprocs; i++) {
		const struct fa_process *pr = &p.procs[i];
		/* A dump without a trailer whose process still runs is still
		 * being written (a daemon outlived the command): not touched. */
		if (pr->symbolized || !pr->symbols || !symcache_size(pr->symbols) ||
		    (!pr->complete && pr->pid > 0 && kill(pr->pid, 0) == 0))
			continue;
		char *e = NULL;
		int r = symcache_append(pr->symbols, pr->path, &e);
		if (r == 0)
			(*saved)++;
		else if (!rc) {
			rc = r;
			*err = e;
			e = NULL;
		}
		free(e);
	}
	profile_free(&p);
	return rc;
}
