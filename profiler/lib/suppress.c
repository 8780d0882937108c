/* Leak suppressions: takes the leaks that are not the program's to fix out of
 * a loaded profile's "leaked" figures, and counts them as suppressed.
 *
 * Three sources, all in LeakSanitizer's format (`leak:PATTERN` lines, `#`
 * comments; other types such as `called_from_lib:` are ignored):
 *  - the defaults below, glibc's and the loader's one-time allocations;
 *  - files named with --suppressions;
 *  - the string the program embeds as __lsan_default_suppressions(), read
 *    from its executable (see embedded()).
 *
 * Matching is LeakSanitizer's: a pattern matches a frame when it matches the
 * frame's function name, source file or module path; `*` matches any run of
 * characters, `^` and `$` anchor it at the start and end, and without anchors
 * it may match anywhere (so `leak:cache_fill` matches `lk_cache_fill`). A
 * user's pattern suppresses a leak when it matches any frame of the leak's
 * allocation stack. A default pattern must match a frame of the stack's libc
 * part, the innermost frames that are in the C library or the loader: glibc's
 * internal function made the allocation, not a program function that glibc
 * merely called (a library constructor run by _dl_init, a qsort callback).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "suppress.h"

/* glibc's one-time allocations: what __libc_freeres would release (the agent
 * calls it at exit when it safely can, see docs/AGENT.md), and the loader's
 * data for libraries that stay loaded. */
static const char default_suppressions[] =
    "# stdio buffers (stdout, stdin, stderr; the FILE of an unclosed fopen is still reported)\n"
    "leak:^_IO_file_doallocate$\n"
    "# setlocale's locale data and alias table\n"
    "leak:^_nl_\n"
    "# the time zone (tzset, localtime)\n"
    "leak:^__tzfile_\n"
    "leak:^tzset_internal$\n"
    "# NSS modules and their tables (getpwnam, getaddrinfo, ...)\n"
    "leak:^__nss_\n"
    "leak:^nss_\n"
    "# the static result buffers of getpwnam, getgrgid, gethostbyname, getservbyport, ...\n"
    "leak:^getpw\n"
    "leak:^getgr\n"
    "leak:^getsp\n"
    "leak:^get*by\n"
    "# iconv's module cache\n"
    "leak:^__gconv_\n"
    "# the dynamic loader: libraries still loaded, thread-local storage\n"
    "leak:^_dl_\n";

#define SRC_DEFAULT "default"

struct pattern {
	char *text;	    /* as written, after "leak:" */
	const char *source; /* SRC_DEFAULT, a file name, or the executable */
	bool libc_only;	    /* a default: matched against the libc part of the stack */
	int64_t bytes, blocks;
};

struct patterns {
	struct pattern *v;
	size_t n, cap;
};

/* Whether pattern p matches a prefix of s (all of s when p ends in `$`). */
static bool glob_at(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return true;
			for (; *s; s++)
				if (glob_at(p, s))
					return true;
			return glob_at(p, s);
		}
		if (*p == '$' && !p[1])
			return !*s;
		if (*s != *p)
			return false;
	}
	return true;
}

/* LeakSanitizer's template match: `*` wildcards, `^` and `$` anchors,
 * otherwise anywhere in s. */
static bool template_match(const char *pat, const char *s)
{
	if (!s || !*s)
		return false;
	if (*pat == '^')
		return glob_at(pat + 1, s);
	for (; *s; s++)
		if (glob_at(pat, s))
			return true;
	return glob_at(pat, s);
}

static int add_pattern(struct patterns *ps, const char *text, size_t len, const char *source, bool libc_only)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 16;
		void *v = realloc(ps->v, cap * sizeof(*ps->v));
		if (!v)
			return -ENOMEM;
		ps->v = v;
		ps->cap = cap;
	}
	char *t = strndup(text, len);
	if (!t)
		return -ENOMEM;
	ps->v[ps->n++] = (struct pattern){.text = t, .source = source, .libc_only = libc_only};
	return 0;
}

/* Parses suppressions text. Returns 0, -ENOMEM, or -EINVAL with *err naming
 * source and line. */
static int parse(struct patterns *ps, const char *text, const char *source, bool libc_only, char **err)
{
	unsigned lineno = 0;
	for (const char *l = text; *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l) : strlen(l);
		lineno++;
		const char *s = l, *end = l + len;
		l = e ? e + 1 : end;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			end--;
		if (s == end || *s == '#')
			continue;
		const char *colon = memchr(s, ':', (size_t)(end - s));
		if (!colon || colon == s) {
			if (asprintf(err, "%s:%u: '%.*s' is not TYPE:PATTERN (such as leak:my_cache_init)",
				     source, lineno, (int)(end - s), s) < 0)
				*err = NULL;
			return -EINVAL;
		}
		if ((size_t)(colon - s) != 4 || memcmp(s, "leak", 4))
			continue; /* another sanitizer's suppression */
		if (colon + 1 == end) {
			if (asprintf(err, "%s:%u: empty pattern after 'leak:'", source, lineno) < 0)
				*err = NULL;
			return -EINVAL;
		}
		int rc = add_pattern(ps, colon + 1, (size_t)(end - colon - 1), source, libc_only);
		if (rc)
			return rc;
	}
	return 0;
}

static int read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[4096];
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *b = realloc(buf, cap);
			if (!b) {
				rc = -ENOMEM;
				goto out;
			}
			buf = b;
		}
		memcpy(buf + len, chunk, n);
		len += n;
	}
	if (ferror(f))
		rc = -EIO;
out:
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = 0;
	*out = buf;
	return 0;
}

/* The bytes at ELF virtual address [va, va + *len) of a file's sections. */
static const unsigned char *elf_at(Elf *elf, uint64_t va, size_t *len)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_ALLOC))
			continue;
		if (va < sh.sh_addr || va >= sh.sh_addr + sh.sh_size)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || d->d_size != sh.sh_size)
			return NULL;
		*len = sh.sh_size - (va - sh.sh_addr);
		return (const unsigned char *)d->d_buf + (va - sh.sh_addr);
	}
	return NULL;
}

/* The string __lsan_default_suppressions() returns in the executable at
 * path, read without running it: the function of a program that embeds
 * suppressions returns a string literal, which x86-64 compilers load with
 * `lea rax, [rip + disp32]` (48 8d 05) before returning. Returns a malloc'd
 * copy, or NULL when the program has no such function or it does something
 * else. */
static char *embedded(const char *path)
{
	char *out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	if (!elf || !gelf_getehdr(elf, &eh) || eh.e_machine != EM_X86_64)
		goto out;
	uint64_t fn = 0;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	while (!fn && (scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
		    !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name;
			if (gelf_getsym(d, (int)i, &sym) && sym.st_shndx != SHN_UNDEF &&
			    GELF_ST_TYPE(sym.st_info) == STT_FUNC &&
			    (name = elf_strptr(elf, sh.sh_link, sym.st_name)) &&
			    !strcmp(name, "__lsan_default_suppressions")) {
				fn = sym.st_value;
				break;
			}
		}
	}
	size_t len;
	const unsigned char *code = fn ? elf_at(elf, fn, &len) : NULL;
	for (size_t i = 0; code && i + 7 <= len && i < 64; i++) {
		if (code[i] == 0xc3)
			break; /* ret before any lea: not a literal */
		if (code[i] != 0x48 || code[i + 1] != 0x8d || code[i + 2] != 0x05)
			continue;
		int32_t disp;
		memcpy(&disp, code + i + 3, 4);
		size_t slen;
		const char *s = (const char *)elf_at(elf, fn + i + 7 + (uint64_t)(int64_t)disp, &slen);
		if (s && memchr(s, 0, slen))
			out = strdup(s);
		break;
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return out;
}

static bool libc_module(const char *name)
{
	return name && (!strncmp(name, "libc.so", 7) || !strncmp(name, "ld-linux", 8) ||
			!strncmp(name, "ld64.so", 7) || !strncmp(name, "libpthread.so", 13) ||
			!strncmp(name, "libdl.so", 8));
}

/* The first pattern that suppresses stack s, or NULL. */
static struct pattern *match(const struct profile *p, const struct fa_stack *s, struct patterns *ps,
			     struct fa_frame *fr, size_t cap)
{
	size_t n = profile_stack_frames(p, s, fr, cap);
	if (n > cap)
		n = cap;
	/* The libc part: innermost frames in the C library or the loader. */
	size_t nlibc = 0;
	while (nlibc < n) {
		const struct fa_func *f = &p->funcs[fr[nlibc].func];
		if (f->module == FA_NONE || !libc_module(p->modules[f->module].name))
			break;
		nlibc++;
	}
	for (size_t k = 0; k < ps->n; k++) {
		struct pattern *pt = &ps->v[k];
		for (size_t i = 0; i < (pt->libc_only ? nlibc : n); i++) {
			const struct fa_func *f = &p->funcs[fr[i].func];
			if (template_match(pt->text, f->name) || template_match(pt->text, f->file) ||
			    (f->module != FA_NONE && template_match(pt->text, p->modules[f->module].path)))
				return pt;
		}
	}
	return NULL;
}

int suppress_apply(struct profile *p, const struct profile_opts *o, char **err)
{
	struct patterns ps = {0};
	char **texts = NULL;
	size_t ntexts = 0;
	int rc = 0;
	*err = NULL;
	if (!p->mem.leaked_blocks)
		return 0;
	if (!o->no_default_suppressions && (rc = parse(&ps, default_suppressions, SRC_DEFAULT, true, err)))
		goto out;
	if (!(texts = calloc(o->nsuppressions + p->nprocs + 1, sizeof(*texts)))) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < o->nsuppressions; i++) {
		if ((rc = read_file(o->suppressions[i], &texts[ntexts])) < 0) {
			if (asprintf(err, "%s: cannot read suppressions: %s", o->suppressions[i],
				     strerror(-rc)) < 0)
				*err = NULL;
			goto out;
		}
		if ((rc = parse(&ps, texts[ntexts++], o->suppressions[i], false, err)))
			goto out;
	}
	/* What each distinct program embeds (a program whose suppressions do
	 * not parse is not worth failing the command for: skipped). */
	for (size_t i = 0; i < p->nprocs && !o->no_default_suppressions; i++) {
		const char *exe = p->procs[i].exe;
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++)
			seen = p->procs[k].exe && exe && !strcmp(p->procs[k].exe, exe);
		if (!exe || seen || !(texts[ntexts] = embedded(exe)))
			continue;
		char *perr = NULL;
		size_t before = ps.n;
		if ((rc = parse(&ps, texts[ntexts++], exe, false, &perr)) == -EINVAL) {
			for (size_t k = before; k < ps.n; k++)
				free(ps.v[k].text);
			ps.n = before;
			rc = 0;
		}
		free(perr);
		if (rc)
			goto out;
	}
	struct fa_frame fr[512];
	for (size_t i = 0; i < p->nstacks; i++) {
		struct fa_stack *s = &p->stacks[i];
		if (s->w[FA_LEAKED_BLOCKS] <= 0 && s->w[FA_LEAKED_BYTES] <= 0)
			continue;
		struct pattern *pt = match(p, s, &ps, fr, sizeof(fr) / sizeof(fr[0]));
		if (!pt)
			continue;
		pt->bytes += s->w[FA_LEAKED_BYTES];
		pt->blocks += s->w[FA_LEAKED_BLOCKS];
		p->mem.leaked_bytes -= s->w[FA_LEAKED_BYTES];
		p->mem.leaked_blocks -= s->w[FA_LEAKED_BLOCKS];
		p->mem.suppressed_bytes += s->w[FA_LEAKED_BYTES];
		p->mem.suppressed_blocks += s->w[FA_LEAKED_BLOCKS];
		s->w[FA_LEAKED_BYTES] = s->w[FA_LEAKED_BLOCKS] = 0;
	}
	/* Keep the patterns that matched, for the reports. */
	for (size_t k = 0; k < ps.n; k++) {
		if (!ps.v[k].blocks && !ps.v[k].bytes)
			continue;
		void *v = realloc(p->suppressions, (p->nsuppressions + 1) * sizeof(*p->suppressions));
		char *src = strdup(ps.v[k].source);
		if (!v || !src) {
			free(src);
			rc = -ENOMEM;
			goto out;
		}
		p->suppressions = v;
		p->suppressions[p->nsuppressions++] = (struct fa_suppression){
		    .pattern = ps.v[k].text, .source = src, .bytes = ps.v[k].bytes, .blocks = ps.v[k].blocks};
		ps.v[k].text = NULL;
	}
out:
	for (size_t k = 0; k < ps.n; k++)
		free(ps.v[k].text);
	free(ps.v);
	for (size_t i = 0; texts && i < ntexts; i++)
		free(texts[i]);
	free(texts);
	return rc;
}

void suppress_free(struct profile *p)
{
	for (size_t i = 0; i < p->nsuppressions; i++) {
		free(p->suppressions[i].pattern);
		free(p->suppressions[i].source);
	}
	free(p->suppressions);
	p->suppressions = NULL;
	p->nsuppressions = 0;
}
