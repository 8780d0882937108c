/* Finding and reading the source files a recording names (see source.h):
 * path rewrites, the search under --source-dir, and the changed-source check. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source.h"
#include "symcache.h"
#include "util.h"

static int push(const char ***v, size_t *n, const char *s)
{
	const char **w = realloc(*v, (*n + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	w[(*n)++] = s;
	*v = w;
	return 0;
}

int source_add_dir(struct source_opts *o, const char *dir)
{
	return push(&o->dirs, &o->ndirs, dir);
}

int source_add_base(struct source_opts *o, const char *dir)
{
	return push(&o->bases, &o->nbases, dir);
}

int source_add_map(struct source_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg)
		return -EINVAL;
	size_t n = o->nmaps;
	if (push(&o->map_from, &n, arg) < 0 || push(&o->map_to, &o->nmaps, eq + 1) < 0)
		return -ENOMEM;
	*eq = 0;
	return 0;
}

void source_opts_free(struct source_opts *o)
{
	free(o->dirs);
	free(o->map_from);
	free(o->map_to);
	free(o->bases);
	memset(o, 0, sizeof(*o));
}

static int take_text(struct source_file *sf, const char *path, char *buf, size_t got, int64_t mtime_ns);

/* Reads the regular file at path into sf (at most max bytes, 0: all).
 * Returns 0, -ENOENT when there is no regular file there, or -errno. */
static int read_file(struct source_file *sf, const char *path, size_t max)
{
	struct stat st;
	/* Never open a FIFO or a device: stat first, and open without blocking. */
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -ENOENT;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	size_t want = (size_t)st.st_size;
	if (max && want > max) {
		want = max;
		sf->truncated = true;
	}
	char *buf = malloc(want + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t got = 0;
	while (got < want) {
		ssize_t r = read(fd, buf + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = 0;
	return take_text(sf, path, buf, got, (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
}

/* sf gets buf (got bytes, NUL-terminated, malloc'd; taken) as the text
 * found at path, and its line starts. Returns 0 or -ENOMEM. */
static int take_text(struct source_file *sf, const char *path, char *buf, size_t got, int64_t mtime_ns)
{
	sf->text = buf;
	sf->size = got;
	sf->mtime_ns = mtime_ns;
	if (!(sf->path = strdup(path)))
		return -ENOMEM;
	/* The line starts, in one pass. */
	size_t cap = 256, n = 0;
	uint32_t *off = malloc(cap * sizeof(*off));
	if (!off)
		return -ENOMEM;
	size_t i = 0;
	while (i < got && got <= UINT32_MAX) {
		if (n == cap) {
			uint32_t *w = realloc(off, (cap *= 2) * sizeof(*off));
			if (!w) {
				free(off);
				return -ENOMEM;
			}
			off = w;
		}
		off[n++] = (uint32_t)i;
		const char *nl = memchr(buf + i, '\n', got - i);
		i = nl ? (size_t)(nl - buf) + 1 : got;
	}
	sf->line_off = off;
	sf->nlines = (uint32_t)n;
	return 0;
}

/* Tries path: 1 found (sf filled), 0 not there, or -errno. */
static int try_path(struct source_file *sf, const char *path, size_t max)
{
	int rc = read_file(sf, path, max);
	if (rc == -ENOENT)
		return 0;
	return rc < 0 ? rc : 1;
}

/* The copy of `recorded` a packed dump embeds (fathom pack --sources): 1
 * found (sf filled, its path the recorded one), 0 none, or -ENOMEM. */
static int try_embedded(struct source_file *sf, const struct profile *p, const char *recorded, size_t max)
{
	const char *text;
	size_t len;
	int64_t mtime;
	for (size_t i = 0; p && i < p->nprocs; i++) {
		if (!symcache_source(p->procs[i].saved, recorded, &text, &len, &mtime))
			continue;
		if (max && len > max) {
			len = max;
			sf->truncated = true;
		}
		char *buf = malloc(len + 1);
		if (!buf)
			return -ENOMEM;
		memcpy(buf, text, len);
		buf[len] = 0;
		return take_text(sf, recorded, buf, len, mtime) < 0 ? -ENOMEM : 1;
	}
	return 0;
}

/* Tries dir/rel; 1, 0 or -errno as try_path. */
static int try_join(struct source_file *sf, const char *dir, const char *rel, size_t max)
{
	char *p = str_fmt("%s/%s", dir, rel);
	if (!p)
		return -ENOMEM;
	int rc = try_path(sf, p, max);
	free(p);
	return rc;
}

/* Where the path was looked for, for the one line that says it is missing. */
static char *looked_words(const struct source_opts *o, const char *recorded, const char *mapped)
{
	char dirs[512] = "";
	size_t used = 0;
	for (size_t i = 0; i < o->ndirs && used < sizeof(dirs) - 1; i++)
		used += (size_t)snprintf(dirs + used, sizeof(dirs) - used, "%s%s", i ? ", " : "", o->dirs[i]);
	if (used >= sizeof(dirs))
		used = sizeof(dirs) - 1;
	return str_fmt(
	    "looked for %s%s%s%s%s%s", recorded, mapped ? " and " : "", mapped ? mapped : "",
	    o->ndirs ? ", and its trailing parts under " : "", dirs,
	    o->ndirs || o->nmaps
		? ""
		: " (--source-dir DIR or --prefix-map OLD=NEW find sources moved since the build)");
}

int source_open(struct source_file *sf, const struct source_opts *o, const char *recorded, size_t max_bytes)
{
	memset(sf, 0, sizeof(*sf));
	if (!(sf->recorded = strdup(recorded ? recorded : "")))
		return -ENOMEM;
	int rc = 0;
	char *mapped = NULL;
	/* A prefix map: OLD must end at a '/' of the path (or be all of it). */
	for (size_t i = 0; i < o->nmaps && !rc && !mapped; i++) {
		size_t l = strlen(o->map_from[i]);
		while (l > 1 && o->map_from[i][l - 1] == '/')
			l--;
		if (strncmp(recorded, o->map_from[i], l) || (recorded[l] && recorded[l] != '/'))
			continue;
		if (!(mapped = str_fmt("%s%s", o->map_to[i], recorded + l)))
			return -ENOMEM;
		rc = try_path(sf, mapped, max_bytes);
	}
	/* A packed dump's copy is the text its code was packed with: before
	 * whatever the path holds on this machine. */
	if (!rc && *recorded)
		rc = try_embedded(sf, o->packed, recorded, max_bytes);
	if (!rc && *recorded)
		rc = try_path(sf, recorded, max_bytes);
	for (size_t i = 0; !rc && recorded[0] != '/' && *recorded && i < o->nbases; i++)
		rc = try_join(sf, o->bases[i], recorded, max_bytes);
	/* Under each --source-dir, the trailing parts of the path, longest first. */
	for (size_t i = 0; !rc && i < o->ndirs; i++)
		for (const char *s = recorded; !rc && s && *s;) {
			while (*s == '/')
				s++;
			if (*s)
				rc = try_join(sf, o->dirs[i], s, max_bytes);
			s = strchr(s, '/');
		}
	if (rc > 0) {
		free(mapped);
		return 0;
	}
	if (!rc) {
		sf->looked = looked_words(o, recorded, mapped);
		rc = sf->looked ? -ENOENT : -ENOMEM;
	}
	free(mapped);
	return rc;
}

const char *source_line(const struct source_file *sf, uint32_t n, size_t *len)
{
	if (!sf->text || n == 0 || n > sf->nlines)
		return NULL;
	size_t start = sf->line_off[n - 1];
	size_t end = n < sf->nlines ? sf->line_off[n] : sf->size;
	while (end > start && (sf->text[end - 1] == '\n' || sf->text[end - 1] == '\r'))
		end--;
	*len = end - start;
	return sf->text + start;
}

void source_close(struct source_file *sf)
{
	free(sf->recorded);
	free(sf->path);
	free(sf->looked);
	free(sf->text);
	free(sf->line_off);
	memset(sf, 0, sizeof(*sf));
}

int64_t source_built_ns(const struct profile *p, uint32_t func, const char **what)
{
	*what = NULL;
	if (func >= p->nfuncs)
		return 0;
	uint32_t m = p->funcs[func].module;
	if (m >= p->nmodules)
		return 0;
	const struct fa_module *md = &p->modules[m];
	struct stat st;
	if (md->path && md->path[0] == '/' && stat(md->path, &st) == 0 && S_ISREG(st.st_mode)) {
		*what = md->name;
		return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	}
	/* A packed dump read without the file: its time when it was packed. */
	if (md->packed_built_ns && !md->python) {
		*what = md->name;
		return md->packed_built_ns;
	}
	/* Code without a module file (Python's): what ran is what the file
	 * held when the process started. */
	if (md->proc < p->nprocs && p->procs[md->proc].start_real_ns) {
		*what = "the recording's start";
		return (int64_t)p->procs[md->proc].start_real_ns;
	}
	return 0;
}

bool source_changed(const struct source_file *sf, int64_t built_ns, const char *built_what, uint32_t max_line,
		    char *buf, size_t len)
{
	if (!sf->path)
		return false;
	if (max_line > sf->nlines && !sf->truncated) {
		snprintf(buf, len,
			 "%s has %" PRIu32 " lines, the recording names line %" PRIu32
			 ": it changed since the build; its lines may not match the figures",
			 sf->path, sf->nlines, max_line);
		return true;
	}
	if (built_ns && sf->mtime_ns > built_ns) {
		if (built_what && !strcmp(built_what, "the recording's start"))
			snprintf(buf, len,
				 "%s was modified after the recording started: its lines may not match the "
				 "figures",
				 sf->path);
		else
			snprintf(buf, len,
				 "%s was modified after %s was built: its lines may not match the figures",
				 sf->path, built_what ? built_what : "its program");
		return true;
	}
	return false;
}

/* ---- where a function ends ---- */

#define MAX_EXTENT 20000 /* lines scanned for a function's end */

/* Where a C-like function that starts at line `from` ends: the line of the
 * brace that closes its first '{' (comments, strings and characters
 * skipped); 0 when not found. */
static uint32_t brace_end(const struct source_file *sf, uint32_t from)
{
	int depth = 0;
	bool opened = false, comment = false;
	for (uint32_t n = from; n <= sf->nlines && n < from + MAX_EXTENT; n++) {
		size_t len;
		const char *s = source_line(sf, n, &len);
		char quote = 0;
		for (size_t i = 0; i < len; i++) {
			char c = s[i];
			if (comment) {
				if (c == '*' && i + 1 < len && s[i + 1] == '/')
					comment = false, i++;
			} else if (quote) {
				if (c == '\\')
					i++;
				else if (c == quote)
					quote = 0;
			} else if (c == '/' && i + 1 < len && s[i + 1] == '/') {
				break;
			} else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
				comment = true, i++;
			} else if (c == '"' || c == '\'') {
				quote = c;
			} else if (c == '{') {
				depth++, opened = true;
			} else if (c == '}' && opened && --depth == 0) {
				return n;
			}
		}
		if (!opened && n > from + 50)
			return 0; /* no body in sight: not a function definition */
	}
	return 0;
}

static size_t indent_of(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

/* Where a Python function that starts at line `from` ends: its last line
 * before one indented no deeper than its def (blank and comment lines do
 * not end it). */
static uint32_t indent_end(const struct source_file *sf, uint32_t from)
{
	size_t len;
	const char *s = source_line(sf, from, &len);
	if (!s)
		return 0;
	size_t base = indent_of(s, len);
	uint32_t last = from;
	for (uint32_t n = from + 1; n <= sf->nlines && n < from + MAX_EXTENT; n++) {
		s = source_line(sf, n, &len);
		size_t in = indent_of(s, len);
		if (in == len || s[in] == '#')
			continue;
		if (in <= base && s[in] != ')' && s[in] != ']')
			break;
		last = n;
	}
	return last;
}

static bool is_python(const char *file)
{
	size_t n = strlen(file);
	return n > 3 && !strcmp(file + n - 3, ".py");
}

uint32_t source_function_end(const struct source_file *sf, uint32_t first)
{
	if (!sf->text || !first || first > sf->nlines)
		return 0;
	return is_python(sf->recorded) || is_python(sf->path ? sf->path : "") ? indent_end(sf, first)
									      : brace_end(sf, first);
}
