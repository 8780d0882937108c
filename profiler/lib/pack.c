/* fathom pack: packed dumps written (pack.h): each dump's chunks copied as
 * they are, its symbols and source files appended as symbols chunks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fathom-dump.h"
#include "outfile.h"
#include "pack.h"
#include "util.h"

/* Sets *err to the message (when none is set) and returns rc (a -errno). */
static int fail(char **err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **err, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!*err && vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return rc;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int pack_sources(const struct profile *p, uint32_t proc, struct symcache *c, const struct source_opts *so,
		 struct pack_file *f)
{
	const char **files = malloc((p->nfuncs + 1) * sizeof(*files));
	if (!files)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < p->nfuncs; i++) {
		uint32_t m = p->funcs[i].module;
		if (p->funcs[i].file && m < p->nmodules && p->modules[m].proc == proc)
			files[n++] = p->funcs[i].file;
	}
	qsort(files, n, sizeof(*files), by_str);
	/* As fathom lines looks: the options, and a relative path (Python's)
	 * beside the dump too. */
	struct source_opts local = {0};
	if (so)
		local = *so;
	local.packed = p;
	local.bases = NULL;
	local.nbases = 0;
	const char *path = p->procs[proc].path, *slash = path ? strrchr(path, '/') : NULL;
	char *dir = slash ? strndup(path, (size_t)(slash - path)) : NULL;
	int rc = 0;
	for (size_t i = 0; so && i < so->nbases && !rc; i++)
		rc = source_add_base(&local, so->bases[i]);
	if (!rc && dir)
		rc = source_add_base(&local, dir);
	for (size_t i = 0; i < n && !rc; i++) {
		if (i && !strcmp(files[i], files[i - 1]))
			continue;
		struct source_file sf;
		int r = source_open(&sf, &local, files[i], 8u << 20);
		if (r == -ENOMEM)
			rc = r;
		else if (r < 0 || sf.truncated)
			f->sources_missing++;
		else if ((rc = symcache_add_source(c, files[i], sf.text, sf.size, sf.mtime_ns)) == 0) {
			f->sources++;
			f->source_bytes += sf.size;
		}
		source_close(&sf);
	}
	free(local.bases);
	free(dir);
	free(files);
	return rc;
}

/* Copies the dump at `in` to f, its header's minor version raised to this
 * fathom's and its symbols chunks left out; damaged bytes between chunks
 * are left out too (the reader would skip them). *seq is set to the number
 * after the last chunk's, *copied to the bytes written. Returns 0 or -errno. */
static int copy_chunks(const char *in, FILE *f, uint32_t *seq, uint64_t *copied)
{
	int fd = open(in, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		return e;
	}
	size_t size = (size_t)st.st_size;
	if (!S_ISREG(st.st_mode) || size < FD_FILE_HEADER_SIZE) {
		close(fd);
		return -EINVAL;
	}
	const uint8_t *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -errno;
	uint8_t h[FD_FILE_HEADER_SIZE];
	memcpy(h, m, sizeof(h));
	if (fd_get_u16(h + 10) < FD_VERSION_MINOR)
		fd_put_u16(h + 10, FD_VERSION_MINOR);
	fwrite(h, 1, sizeof(h), f);
	*copied = sizeof(h);
	*seq = 0;
	size_t off = FD_FILE_HEADER_SIZE;
	while (off + FD_CHUNK_HEADER_SIZE <= size) {
		const uint8_t *c = m + off;
		uint32_t len = fd_get_u32(c + 12);
		if (!fd_chunk_header_valid(c) || len > size - off - FD_CHUNK_HEADER_SIZE) {
			/* Damage, or a chunk cut short at the end: on to the next header. */
			const uint8_t *next = memmem(c + 1, size - off - 1, "FCNK", 4);
			if (!next)
				break;
			off = (size_t)(next - m);
			continue;
		}
		size_t total = FD_CHUNK_HEADER_SIZE + len;
		if (c[4] != FD_CHUNK_SYMBOLS) {
			fwrite(c, 1, total, f);
			*copied += total;
			if (fd_get_u32(c + 8) + 1 > *seq)
				*seq = fd_get_u32(c + 8) + 1;
		}
		off += total;
	}
	munmap((void *)m, size);
	return ferror(f) ? -EIO : 0;
}

/* The file process i goes to. */
static char *out_name(const struct profile *p, size_t i, const char *out, const struct pack_result *res)
{
	if (i == 0)
		return strdup(out);
	const struct fa_process *pr = &p->procs[i];
	char *name = pr->generation ? str_fmt("%s.%d.%d", out, pr->pid, pr->generation)
				    : str_fmt("%s.%d", out, pr->pid);
	for (size_t k = 0; name && k < res->n; k++)
		if (!strcmp(res->files[k].out, name)) {
			free(name);
			return str_fmt("%s.%d.n%zu", out, pr->pid, i);
		}
	return name;
}

static int pack_one(const struct profile *p, size_t i, const char *out, const struct pack_opts *o,
		    struct pack_file *pf, char **err)
{
	const struct fa_process *pr = &p->procs[i];
	struct symcache *c = pr->symbols;
	int rc = 0;
	if (o->sources && (rc = pack_sources(p, (uint32_t)i, c, o->so, pf)) < 0)
		return rc;
	pf->addrs = symcache_size(c);
	pf->modules = symcache_nmodules(c);
	struct outfile of;
	if ((rc = outfile_open(&of, out, err)))
		return rc;
	/* A new file is as private as the dump it copies (the agent's are 0600). */
	struct stat st;
	if (of.t.kind == OUTFILE_FILE && !of.t.exists && stat(pr->path, &st) == 0)
		fchmod(fileno(of.f), st.st_mode & 0777);
	uint32_t seq;
	rc = copy_chunks(pr->path, of.f, &seq, &pf->dump_bytes);
	if (rc == -EINVAL)
		rc = fail(err, -EINVAL, "%s: not a dump that can be packed", pr->path);
	else if (rc < 0)
		rc = fail(err, rc, "%s: %s", pr->path, strerror(-rc));
	if (!rc && fflush(of.f) != 0)
		rc = fail(err, -errno, "writing %s: %s", out, strerror(errno));
	if (!rc && (rc = symcache_write(c, fileno(of.f), &seq)) < 0)
		rc = fail(err, rc, "writing %s: %s", out, strerror(-rc));
	if (!rc && fstat(fileno(of.f), &st) == 0)
		pf->out_bytes = (uint64_t)st.st_size;
	int cr = outfile_close(&of, rc == 0);
	if (!rc && cr)
		rc = fail(err, cr, "writing %s: %s", out, strerror(-cr));
	return rc;
}

int pack_dumps(const struct profile *p, const char *out, const struct pack_opts *o, struct pack_result *res,
	       char **err)
{
	memset(res, 0, sizeof(*res));
	*err = NULL;
	if (p->nprocs > 1 && !strcmp(out, "-"))
		return fail(err, -EINVAL, "-o -: %zu dumps make %zu packed files; name a file", p->nprocs,
			    p->nprocs);
	if (!(res->files = calloc(p->nprocs + 1, sizeof(*res->files))))
		return fail(err, -ENOMEM, "packing: %s", strerror(ENOMEM));
	int rc = 0;
	for (size_t i = 0; i < p->nprocs && !rc; i++) {
		struct pack_file *pf = &res->files[res->n];
		if (!p->procs[i].symbols) {
			rc = fail(err, -EINVAL, "packing: the dumps were loaded without their symbols");
			break;
		}
		if (!(pf->out = out_name(p, i, out, res)) || !(pf->in = strdup(p->procs[i].path))) {
			free(pf->out);
			rc = -ENOMEM;
			break;
		}
		res->n++;
		rc = pack_one(p, i, pf->out, o, pf, err);
	}
	if (rc == -ENOMEM)
		fail(err, rc, "packing: %s", strerror(ENOMEM));
	return rc;
}

void pack_result_free(struct pack_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->files[i].in);
		free(res->files[i].out);
	}
	free(res->files);
	memset(res, 0, sizeof(*res));
}
