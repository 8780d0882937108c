/* Opening, finishing and installing the files that -o names, for every command
 * (see outfile.h; the rules for users are in docs/USAGE.md, "Output files"). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "outfile.h"

static int fail(char **err, int e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return -e;
}

/* The directory part of path ("." for a bare name), malloc'ed. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	return strndup(path, slash == path ? 1 : (size_t)(slash - path));
}

/* A directory where anyone may create files but only remove their own
 * (/tmp): there, a name may have been planted by another user. */
static bool shared_dir(const struct stat *d)
{
	return (d->st_mode & S_ISVTX) && (d->st_mode & S_IWOTH);
}

/* Whether the kernel's fs.protected_symlinks / protected_fifos would stop
 * us: a file in a shared directory owned neither by us nor by the
 * directory's owner. Those sysctls are off on some systems (and in many
 * containers), so fathom applies the rule itself. */
static bool planted(const char *path, const struct stat *st)
{
	char *dir = dir_of(path);
	struct stat d;
	bool bad =
	    dir && stat(dir, &d) == 0 && shared_dir(&d) && st->st_uid != geteuid() && st->st_uid != d.st_uid;
	free(dir);
	return bad;
}

/* "/dev/fd/N" and the like: the descriptor N, or -1. */
static int named_fd(const char *name)
{
	if (!strcmp(name, "-") || !strcmp(name, "/dev/stdout"))
		return 1;
	if (!strcmp(name, "/dev/stderr"))
		return 2;
	const char *n = !strncmp(name, "/dev/fd/", 8)	       ? name + 8
			: !strncmp(name, "/proc/self/fd/", 14) ? name + 14
							       : NULL;
	if (!n || !*n || strlen(n) > 9 || n[strspn(n, "0123456789")])
		return -1;
	return atoi(n);
}

static const char *kind_of(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" : S_ISBLK(m) ? "a block device" : "a device";
}

int outfile_resolve(const char *name, struct outfile_target *t, char **err)
{
	memset(t, 0, sizeof(*t));
	*err = NULL;
	t->fd = named_fd(name);
	if (t->fd >= 0) {
		if (fcntl(t->fd, F_GETFL) < 0)
			return fail(err, EBADF, "-o %s: descriptor %d is not open", name, t->fd);
		t->kind = OUTFILE_FD;
		return 0;
	}
	char *path = strdup(name);
	bool via_link = false;
	for (int hops = 0; path; hops++) {
		struct stat st;
		if (hops > 40) {
			free(path);
			return fail(err, ELOOP, "-o %s: %s", name, strerror(ELOOP));
		}
		if (lstat(path, &st) < 0) {
			if (errno != ENOENT) {
				int e = errno;
				free(path);
				return fail(err, e, "cannot write %s: %s", name, strerror(e));
			}
			t->kind = OUTFILE_FILE;
			t->path = path;
			return 0;
		}
		if (S_ISLNK(st.st_mode)) {
			if (planted(path, &st)) {
				int rc =
				    fail(err, EACCES,
					 "-o %s%s%s is a symbolic link owned by another user (uid %d) in a "
					 "shared directory; not followed (remove it, or choose another name)",
					 name, via_link ? ": " : "", via_link ? path : "", (int)st.st_uid);
				free(path);
				return rc;
			}
			char target[PATH_MAX];
			ssize_t n = readlink(path, target, sizeof(target) - 1);
			if (n < 0) {
				int e = errno;
				free(path);
				return fail(err, e, "cannot write %s: %s", name, strerror(e));
			}
			target[n] = 0;
			char *next = NULL;
			if (target[0] == '/') {
				next = strdup(target);
			} else {
				char *dir = dir_of(path);
				if (dir && asprintf(&next, "%s/%s", dir, target) < 0)
					next = NULL;
				free(dir);
			}
			free(path);
			path = next;
			via_link = true;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			free(path);
			return fail(err, EISDIR, "-o %s is a directory; give a file name", name);
		}
		if (S_ISREG(st.st_mode)) {
			t->kind = OUTFILE_FILE;
			t->path = path;
			t->exists = true;
			t->mode = st.st_mode & 0777;
			t->uid = st.st_uid;
			return 0;
		}
		/* A device or FIFO is written into only when named by its own
		 * path (-o /dev/null): through a link it may be a stranger's. */
		int rc =
		    S_ISSOCK(st.st_mode)
			? fail(err, ENXIO, "-o %s is a socket; fathom writes files, devices and FIFOs", name)
		    : via_link ? fail(err, EPERM,
				      "-o %s is a symbolic link to %s (%s); give the device's own path "
				      "to write into it",
				      name, kind_of(st.st_mode), path)
		    : planted(path, &st)
			? fail(err, EACCES,
			       "-o %s is %s owned by another user (uid %d) in a shared directory; not "
			       "written (remove it, or choose another name)",
			       name, kind_of(st.st_mode), (int)st.st_uid)
			: 0;
		if (rc) {
			free(path);
			return rc;
		}
		t->kind = OUTFILE_DEVICE;
		t->path = path;
		return 0;
	}
	return fail(err, ENOMEM, "-o %s: %s", name, strerror(ENOMEM));
}

void outfile_target_free(struct outfile_target *t)
{
	free(t->path);
	t->path = NULL;
}

/* Creates a new file beside path, never through a link (O_EXCL), with the
 * mode a new file gets, or the existing file's own when it is ours (another
 * user's file in /tmp may be readable by all; ours then would be too).
 * Returns the descriptor, with *tmp its name, or -errno. */
static int create_temp(const struct outfile_target *t, char **tmp)
{
	static unsigned seq;
	for (int i = 0; i < 100; i++) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t r =
		    ((uint64_t)ts.tv_nsec * 2654435761u) ^ ((uint64_t)getpid() << 20) ^ (++seq * 40503u);
		if (asprintf(tmp, "%s.fathom-tmp.%06llx", t->path, (unsigned long long)(r & 0xffffff)) < 0) {
			*tmp = NULL;
			return -ENOMEM;
		}
		int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd >= 0) {
			if (t->exists && t->uid == geteuid())
				fchmod(fd, t->mode);
			return fd;
		}
		int e = errno;
		free(*tmp);
		*tmp = NULL;
		if (e != EEXIST)
			return -e;
	}
	return -EEXIST;
}

int outfile_open(struct outfile *o, const char *name, char **err)
{
	memset(o, 0, sizeof(*o));
	o->name = name;
	int rc = outfile_resolve(name, &o->t, err);
	if (rc)
		return rc;
	int fd;
	switch (o->t.kind) {
	case OUTFILE_FD:
		if (o->t.fd == 1) {
			o->f = stdout;
			return 0;
		}
		fd = fcntl(o->t.fd, F_DUPFD_CLOEXEC, 3);
		break;
	case OUTFILE_DEVICE:
		/* No O_CREAT and no O_TRUNC: what is there is written into.
		 * A FIFO waits for its reader, as the user asked. */
		fd = open(o->t.path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0) {
			struct stat st;
			if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
				close(fd);
				outfile_target_free(&o->t);
				return fail(err, EAGAIN, "-o %s changed while it was opened; try again",
					    name);
			}
		}
		break;
	case OUTFILE_FILE:
	default:
		fd = create_temp(&o->t, &o->tmp);
		if (fd < 0) {
			errno = -fd;
			fd = -1;
		}
		break;
	}
	if (fd < 0 || !(o->f = fdopen(fd, "w"))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (o->tmp)
			unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
		outfile_target_free(&o->t);
		return fail(err, e, "cannot write %s: %s", name, strerror(e));
	}
	return 0;
}

int outfile_close(struct outfile *o, bool ok)
{
	int rc = 0;
	if (o->f == stdout) {
		if (fflush(stdout) != 0 || ferror(stdout))
			rc = -(errno ? errno : EIO);
	} else if (o->f) {
		bool bad = ferror(o->f);
		int e = errno;
		if (fclose(o->f) != 0 || bad)
			rc = -(bad && e ? e : errno ? errno : EIO);
	}
	o->f = NULL;
	if (o->tmp) {
		if (ok && !rc && rename(o->tmp, o->t.path) < 0)
			rc = -errno;
		if (!ok || rc)
			unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
	outfile_target_free(&o->t);
	return rc;
}

int outfile_install(const char *src, const char *name, char **err)
{
	*err = NULL;
	struct outfile_target t;
	int rc = outfile_resolve(name, &t, err);
	if (rc)
		return rc;
	if (t.kind == OUTFILE_FILE) {
		/* rename never follows a link at its destination: one planted
		 * since outfile_resolve is replaced, not written through. */
		rc = rename(src, t.path) < 0 ? -errno : 0;
		outfile_target_free(&t);
		if (rc != -EXDEV)
			return rc ? fail(err, -rc, "cannot rename %s to %s: %s", src, name, strerror(-rc))
				  : 0;
	} else {
		outfile_target_free(&t);
	}
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return fail(err, errno, "cannot read %s: %s", src, strerror(errno));
	struct outfile o;
	if ((rc = outfile_open(&o, name, err))) {
		close(in);
		return rc;
	}
	char buf[65536];
	ssize_t n;
	int e = 0;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			break;
		}
		if (fwrite(buf, 1, (size_t)n, o.f) != (size_t)n) {
			e = errno ? errno : EIO;
			break;
		}
	}
	close(in);
	rc = outfile_close(&o, !e);
	if (e)
		rc = -e;
	if (rc)
		return fail(err, -rc, "writing %s: %s", name, strerror(-rc));
	unlink(src);
	return 0;
}
