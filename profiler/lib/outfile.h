/* The one way every command writes the file named by -o: checked for links and
 * devices a stranger may have planted, written beside its name and renamed
 * into place on success, so that a failed command leaves it as it was. */
#ifndef FATHOM_OUTFILE_H
#define FATHOM_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* What -o NAME designates (the rules are in docs/USAGE.md, "Output files"). */
enum outfile_kind {
	OUTFILE_FD,	/* "-", /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: an open descriptor */
	OUTFILE_DEVICE, /* a device or FIFO named by its own path: written into */
	OUTFILE_FILE,	/* a regular file, or none yet: replaced by rename */
};

struct outfile_target {
	enum outfile_kind kind;
	int fd;	     /* OUTFILE_FD: the descriptor */
	char *path;  /* DEVICE, FILE: the path to write (a link the user owns is followed) */
	bool exists; /* FILE: there is a file at path now */
	mode_t mode; /* FILE: its permission bits, kept when it is the user's own */
	uid_t uid;   /* FILE: its owner */
};

/* Decides where -o NAME goes, without writing anything: refuses a directory,
 * a socket, a symbolic link owned by another user in a sticky world-writable
 * directory (as the kernel's fs.protected_symlinks would), a device or FIFO
 * reached through a symbolic link, or one that another user owns in such a
 * directory (fs.protected_fifos). Returns 0, or -errno with *err a message
 * for the user that starts with "-o NAME" (malloc'ed). */
int outfile_resolve(const char *name, struct outfile_target *t, char **err);
void outfile_target_free(struct outfile_target *t);

/* An output being written. */
struct outfile {
	FILE *f;	  /* write here */
	const char *name; /* as given, for messages */
	struct outfile_target t;
	char *tmp; /* OUTFILE_FILE: the temporary beside t.path, renamed over it on success */
};

/* Resolves NAME and opens it for writing: a new temporary file (O_EXCL,
 * O_NOFOLLOW) in the target's directory, the device itself (O_NOFOLLOW,
 * without truncation), or a duplicate of the descriptor (stdout itself for
 * "-"). Returns 0, or -errno with *err a message (malloc'ed). */
int outfile_open(struct outfile *o, const char *name, char **err);

/* Ends the output. When ok (the command succeeded), flushes it and renames
 * the temporary over the target; otherwise, or when flushing or renaming
 * fails, removes the temporary and leaves the target untouched. Returns 0 or
 * the -errno of the failed write. */
int outfile_close(struct outfile *o, bool ok);

/* Moves the finished file src to -o NAME: renamed over it (copied through a
 * temporary when on another file system), or copied into a device or
 * descriptor; src is removed on success. For 'fathom record', whose agent
 * writes the dump itself. Returns 0, or -errno with *err a message. */
int outfile_install(const char *src, const char *name, char **err);

#endif
