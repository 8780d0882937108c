/* Finding and reading the source files a recording names (the path DWARF
 * gives, its compilation directory joined, or a Python code object's
 * co_filename), rewritten by --prefix-map and searched under --source-dir,
 * and telling whether a file changed since the code was built. Used by
 * fathom lines and the viewer's embedded sources. */
#ifndef FATHOM_SOURCE_H
#define FATHOM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* Where to look. Strings are borrowed (argv). */
struct source_opts {
	const char **dirs; /* --source-dir DIR, in order */
	size_t ndirs;
	const char **map_from, **map_to; /* --prefix-map OLD=NEW, in order */
	size_t nmaps;
	const char **bases; /* where a relative path is tried, after the current directory */
	size_t nbases;
	/* The profile whose packed dumps may embed sources (fathom pack
	 * --sources), tried after the prefix maps, before the path itself. */
	const struct profile *packed;
};

/* --source-dir DIR: appends DIR. Returns 0 or -ENOMEM. */
int source_add_dir(struct source_opts *o, const char *dir);
/* --prefix-map OLD=NEW: appends the rewrite (arg is kept and cut at '=').
 * Returns 0, -EINVAL when arg has no '=' or OLD is empty, -ENOMEM. */
int source_add_map(struct source_opts *o, char *arg);
/* A directory where relative recorded paths are tried (a Python program's
 * co_filename is relative to its working directory: the dumps' directories
 * are good guesses). Returns 0 or -ENOMEM. */
int source_add_base(struct source_opts *o, const char *dir);
void source_opts_free(struct source_opts *o);

/* One source file, found and read. */
struct source_file {
	char *recorded;	    /* the path the recording names */
	char *path;	    /* where it was found; NULL when not */
	char *looked;	    /* when not found: where it was looked for, in words */
	char *text;	    /* its bytes, NUL-terminated (a NUL inside ends no line) */
	size_t size;	    /* bytes read */
	bool truncated;	    /* the file is larger than max_bytes: read up to that */
	uint32_t *line_off; /* line n (1-based) starts at text + line_off[n - 1] */
	uint32_t nlines;    /* lines read (a last line without newline counts) */
	int64_t mtime_ns;   /* its modification time */
};

/* Finds `recorded` and reads it (at most max_bytes, 0: no limit), trying in
 * order: each --prefix-map whose OLD is a leading part of the path (at a '/'),
 * the copy a packed dump embeds (o->packed), the path itself (relative: in the current directory, then in
 * each base), and under each --source-dir every trailing part of the path, the longest first (DIR/src/a/b.c,
 * DIR/a/b.c, DIR/b.c for /build/src/a/b.c). Only regular files are read. Returns 0 (found and read), -ENOENT
 * (not found: sf->looked says where it was looked for), -ENOMEM, or another -errno from reading the file that
 * was found (sf->path names it). sf is always to be closed with source_close. */
int source_open(struct source_file *sf, const struct source_opts *o, const char *recorded, size_t max_bytes);

/* Line n (1-based) of sf and its length without the line end; NULL when
 * n is 0 or beyond the lines read. */
const char *source_line(const struct source_file *sf, uint32_t n, size_t *len);

void source_close(struct source_file *sf);

/* The last line of the function that starts at line `first` of sf (its
 * declaration line): for Python (a .py file), the last line indented
 * deeper than its def; otherwise the line of the brace that closes its
 * body (comments, strings and characters skipped). 0 when not found. */
uint32_t source_function_end(const struct source_file *sf, uint32_t first);

/* When the code of function `func` of p was built: its module file's
 * modification time (ns since the epoch), or for code without a module file
 * (Python's) its process's start; 0 when unknown. *what names it for a
 * message ("app", "the recording's start"). */
int64_t source_built_ns(const struct profile *p, uint32_t func, const char **what);

/* Whether sf looks changed since its code was built: modified after
 * built_ns (0: unknown, not compared), or fewer lines than max_line (the
 * highest line the recording holds for it). Writes why into buf (at least
 * 256 bytes: "modified after app was built", "it has 40 lines, the
 * recording names line 52") and returns true. */
bool source_changed(const struct source_file *sf, int64_t built_ns, const char *built_what, uint32_t max_line,
		    char *buf, size_t len);

#endif
