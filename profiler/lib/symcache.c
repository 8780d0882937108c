/* Symbols saved in a dump (`fathom record --symbolize`, `fathom pack`): kept
 * in memory by (module, address), with the module's facts and the embedded
 * sources, and decoded back from symbols chunks by the model, which prefers
 * them to the files on disk (symcache-write.c encodes them). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fathom-dump.h"
#include "symcache-int.h"
#include "util.h"

#include "symcache-int.h"

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
	for (size_t i = 0; i < c->nmods; i++) {
		free(c->mods[i].path);
		free(c->mods[i].problem);
	}
	free(c->mods);
	for (size_t i = 0; i < c->nsrcs; i++) {
		free(c->srcs[i].path);
		free(c->srcs[i].text);
	}
	free(c->srcs);
	free(c->frames);
	free(c->entries);
	free(c->entmap);
	free(c);
}

size_t symcache_size(const struct symcache *c)
{
	return c ? c->nentries : 0;
}

size_t symcache_nmodules(const struct symcache *c)
{
	return c ? c->nmods : 0;
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

static int module_add(struct symcache *c, const char *path, size_t path_len, const uint8_t *build_id,
		      size_t build_id_len);

int symcache_module(const struct symcache *c, const char *path, const uint8_t *build_id, size_t build_id_len)
{
	/* Keyed by build id: the same build under another path (a copy, a
	 * container's mount) has the same addresses. A module without one is
	 * known by its path alone. */
	for (size_t i = 0; c && i < c->nmods; i++)
		if (c->mods[i].build_id_len == build_id_len &&
		    !memcmp(c->mods[i].build_id, build_id, build_id_len) &&
		    (build_id_len || !strcmp(c->mods[i].path, path)))
			return (int)i;
	return -1;
}

int symcache_set_module(struct symcache *c, const char *path, const uint8_t *build_id, size_t build_id_len,
			const char *problem, int64_t built_ns, bool no_debuginfo)
{
	int mi = module_add(c, path, strlen(path), build_id, build_id_len);
	if (mi < 0)
		return mi;
	struct cmodule *m = &c->mods[mi];
	if (m->known)
		return 0;
	if (problem && !(m->problem = strdup(problem)))
		return -ENOMEM;
	m->built_ns = built_ns;
	m->no_debuginfo = no_debuginfo;
	m->known = true;
	return 0;
}

bool symcache_module_facts(const struct symcache *c, int mi, const char **problem, int64_t *built_ns,
			   bool *no_debuginfo)
{
	if (!c || mi < 0 || (size_t)mi >= c->nmods || !c->mods[mi].known)
		return false;
	*problem = c->mods[mi].problem;
	*built_ns = c->mods[mi].built_ns;
	*no_debuginfo = c->mods[mi].no_debuginfo;
	return true;
}

int symcache_add_source(struct symcache *c, const char *path, const char *text, size_t len, int64_t mtime_ns)
{
	const char *t;
	size_t l;
	int64_t m;
	if (len > SYMCACHE_SOURCE_MAX || symcache_source(c, path, &t, &l, &m))
		return 0;
	if (GROW(c->srcs, c->capsrcs, c->nsrcs + 1) < 0)
		return -ENOMEM;
	struct csource *s = &c->srcs[c->nsrcs];
	s->path = strdup(path);
	s->text = malloc(len + 1);
	if (!s->path || !s->text) {
		free(s->path);
		free(s->text);
		return -ENOMEM;
	}
	memcpy(s->text, text, len);
	s->text[len] = 0;
	s->len = len;
	s->mtime_ns = mtime_ns;
	c->nsrcs++;
	return 0;
}

bool symcache_source(const struct symcache *c, const char *path, const char **text, size_t *len,
		     int64_t *mtime_ns)
{
	for (size_t i = 0; c && i < c->nsrcs; i++)
		if (!strcmp(c->srcs[i].path, path)) {
			*text = c->srcs[i].text;
			*len = c->srcs[i].len;
			*mtime_ns = c->srcs[i].mtime_ns;
			return true;
		}
	return false;
}

size_t symcache_nsources(const struct symcache *c)
{
	return c ? c->nsrcs : 0;
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
	*m = (struct cmodule){0};
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
	int mi = module_add(c, path, strlen(path), build_id, build_id_len);
	if (mi < 0 || n <= 0)
		return mi < 0 ? mi : 0;
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
			/* Since 1.5: the module's facts, when the body has them. */
			size_t prlen;
			const uint8_t *pr = b.p < b.end ? get_bytes(&b, &prlen) : NULL;
			uint64_t built = pr ? get_u(&b) : 0;
			uint64_t flags = pr && b.p < b.end ? get_u(&b) : 0;
			struct cmodule *m = &c->mods[module];
			if (pr && !b.bad && !m->known) {
				if (prlen && !(m->problem = strndup((const char *)pr, prlen))) {
					ret = -ENOMEM;
					goto out;
				}
				m->built_ns = built > INT64_MAX ? 0 : (int64_t)built;
				m->no_debuginfo = flags & 1;
				m->known = true;
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
		} else if (kind == SYM_SOURCE) {
			size_t plen, tlen;
			const uint8_t *path = get_bytes(&b, &plen);
			uint64_t mtime = get_u(&b);
			const uint8_t *text = get_bytes(&b, &tlen);
			char *ps = b.bad || !plen ? NULL : strndup((const char *)path, plen);
			if (!ps && !b.bad && plen) {
				ret = -ENOMEM;
				goto out;
			}
			if (!ps)
				goto out;
			int added = symcache_add_source(c, ps, text ? (const char *)text : "", tlen,
							mtime > INT64_MAX ? 0 : (int64_t)mtime);
			free(ps);
			if (added < 0) {
				ret = added;
				goto out;
			}
		}
		/* other kinds: from a newer fathom, skipped by length */
	}
	ret = 0;
out:
	free(local);
	return ret;
}
