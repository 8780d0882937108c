/* Symbols saved in a dump, written: a symcache encoded as symbols chunks
 * appended to a dump (fathom record --symbolize/--pack, fathom pack). */
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
#include "pack.h"
#include "profile.h"
#include "symcache-int.h"
#include "util.h"

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

/* One symbols chunk being built: records in a memory stream, strings
 * numbered afresh in each chunk. */
struct builder {
	const struct symcache *c;
	int fd;
	uint32_t *seq;
	FILE *f;
	char *buf;
	size_t len;
	uint32_t *local; /* cache string index -> chunk-local index, 0: not sent in this chunk */
	uint32_t nlocal;
	uint32_t cur_mod;
};

static int flush_chunk(struct builder *w)
{
	if (!w->f)
		return 0;
	int rc = fclose(w->f) != 0 ? -ENOMEM : 0;
	w->f = NULL;
	if (!rc)
		rc = write_chunk(w->fd, (*w->seq)++, w->buf, w->len);
	free(w->buf);
	w->buf = NULL;
	return rc;
}

/* Starts a chunk when none is open, and ends the one that is full. */
static int need_chunk(struct builder *w)
{
	if (w->f && (fflush(w->f), w->len >= CHUNK_TARGET)) {
		int rc = flush_chunk(w);
		if (rc < 0)
			return rc;
	}
	if (w->f)
		return 0;
	if (!(w->f = open_memstream(&w->buf, &w->len)))
		return -ENOMEM;
	memset(w->local, 0, (w->c->nstrs + 1) * sizeof(*w->local));
	w->nlocal = 1;
	w->cur_mod = UINT32_MAX;
	return 0;
}

/* A record whose body put() writes into a memory stream. */
static int put_built(struct builder *w, int kind, void (*put)(FILE *, const void *), const void *arg)
{
	char *body = NULL;
	size_t blen = 0;
	FILE *bf = open_memstream(&body, &blen);
	if (!bf)
		return -ENOMEM;
	put(bf, arg);
	int rc = fclose(bf) != 0 ? -ENOMEM : 0;
	if (!rc)
		put_record(w->f, kind, body, blen);
	free(body);
	return rc;
}

static void put_bytes(FILE *f, const void *p, size_t n)
{
	put_u(f, n);
	fwrite(p, 1, n, f);
}

static void put_module(FILE *f, const void *arg)
{
	const struct cmodule *m = arg;
	put_bytes(f, m->path, strlen(m->path));
	put_bytes(f, m->build_id, m->build_id_len);
	if (m->known) { /* since 1.5 */
		put_bytes(f, m->problem ? m->problem : "", m->problem ? strlen(m->problem) : 0);
		put_u(f, m->built_ns > 0 ? (uint64_t)m->built_ns : 0);
		put_u(f, m->no_debuginfo ? 1 : 0); /* flags: bit 0 no debug information */
	}
}

static void put_source(FILE *f, const void *arg)
{
	const struct csource *s = arg;
	put_bytes(f, s->path, strlen(s->path));
	put_u(f, s->mtime_ns > 0 ? (uint64_t)s->mtime_ns : 0);
	put_bytes(f, s->text, s->len);
}

struct addr_arg {
	const struct builder *w;
	const struct centry *en;
};

static void put_addr(FILE *f, const void *arg)
{
	const struct addr_arg *a = arg;
	const struct centry *en = a->en;
	put_u(f, en->vaddr);
	put_u(f, en->n);
	for (uint32_t i = 0; i < en->n; i++) {
		const struct cframe *fr = &a->w->c->frames[en->first + i];
		put_u(f, a->w->local[fr->name]);
		put_u(f, a->w->local[fr->file]);
		put_u(f, fr->line > 0 ? (uint64_t)fr->line : 0);
		put_u(f, fr->decl_line > 0 ? (uint64_t)fr->decl_line : 0);
		put_u(f, fr->start);
	}
}

static int put_entry(struct builder *w, const struct centry *en)
{
	const struct symcache *c = w->c;
	int rc;
	if (en->module != w->cur_mod) {
		if ((rc = put_built(w, SYM_MODULE, put_module, &c->mods[en->module])) < 0)
			return rc;
		w->cur_mod = en->module;
	}
	for (uint32_t i = 0; i < en->n; i++) {
		const struct cframe *fr = &c->frames[en->first + i];
		uint32_t s[2] = {fr->name, fr->file};
		for (int k = 0; k < 2; k++)
			if (s[k] && !w->local[s[k]]) {
				put_record(w->f, SYM_STRING, c->strs[s[k]], strlen(c->strs[s[k]]));
				w->local[s[k]] = w->nlocal++;
			}
	}
	struct addr_arg a = {w, en};
	return put_built(w, SYM_ADDR, put_addr, &a);
}

int symcache_write(const struct symcache *c, int fd, uint32_t *seq)
{
	struct builder w = {.c = c, .fd = fd, .seq = seq};
	bool *named = calloc(c->nmods + 1, sizeof(*named));
	int rc = 0;
	if (!named || !(w.local = calloc(c->nstrs + 1, sizeof(*w.local)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t e = 0; e < c->nentries && !rc; e++) {
		named[c->entries[e].module] = true;
		if (!(rc = need_chunk(&w)))
			rc = put_entry(&w, &c->entries[e]);
	}
	/* Modules opened that named nothing: their facts alone. */
	for (size_t m = 0; m < c->nmods && !rc; m++)
		if (!named[m] && c->mods[m].known && !(rc = need_chunk(&w)))
			rc = put_built(&w, SYM_MODULE, put_module, &c->mods[m]);
	for (size_t i = 0; i < c->nsrcs && !rc; i++)
		if (!(rc = need_chunk(&w)))
			rc = put_built(&w, SYM_SOURCE, put_source, &c->srcs[i]);
	if (!rc)
		rc = flush_chunk(&w);
out:
	if (w.f)
		fclose(w.f);
	free(w.buf);
	free(w.local);
	free(named);
	return rc;
}

int symcache_append(const struct symcache *c, const char *path, char **err)
{
	*err = NULL;
	int ret = 0;
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
	uint32_t s = (uint32_t)seq;
	ret = symcache_write(c, fd, &s);
out:
	if (fd >= 0 && close(fd) < 0 && !ret)
		ret = -errno;
	if (ret && asprintf(err, "%s: cannot add the symbols: %s", path,
			    ret == -EINVAL ? "the dump is damaged" : strerror(-ret)) < 0)
		*err = NULL;
	return ret;
}

/* ---- fathom record --symbolize ---- */

int symcache_save(char *const *paths, size_t npaths, bool sources, size_t *saved, char **err)
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
		if (pr->symbolized || !pr->symbols || !symcache_nmodules(pr->symbols) ||
		    (!pr->complete && pr->pid > 0 && kill(pr->pid, 0) == 0))
			continue;
		struct pack_file pf = {0};
		if (sources && pack_sources(&p, (uint32_t)i, pr->symbols, NULL, &pf) < 0) {
			rc = -ENOMEM;
			break;
		}
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
