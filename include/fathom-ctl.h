/* Where the control channels of `fathom ctl` live, for the agent (which
 * makes its process's channel: preload/control.c) and the command (which
 * finds and prunes them: profiler/cmd-ctl.c), so that both try the same
 * places in the same order.
 *
 * A user's channels live in one base directory: $XDG_RUNTIME_DIR/fathom
 * when that variable names a directory of the user's, else
 * /dev/shm/fathom-UID when /dev/shm is a shared sticky directory (a tmpfs
 * on Linux: making and removing the channel there costs microseconds,
 * where /tmp on a disk's file system took 2-5 ms at each of the program's
 * start and exit), else /tmp/fathom-UID.
 */
#ifndef FATHOM_CTL_H
#define FATHOM_CTL_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#define FATHOM_CTL_BASES 3

/* The i-th candidate base of uid's channels (0: XDG, 1: /dev/shm, 2: /tmp)
 * into buf; xdg is the XDG_RUNTIME_DIR to use (NULL: none). Returns 0, or
 * -1 when candidate i does not apply here (no usable XDG_RUNTIME_DIR owned
 * by uid, no sticky /dev/shm, or buf too small). */
static inline int fathom_ctl_base(int i, unsigned uid, const char *xdg, char *buf, size_t cap)
{
	struct stat st;
	int n;
	switch (i) {
	case 0:
		if (!xdg || xdg[0] != '/' || lstat(xdg, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid)
			return -1;
		n = snprintf(buf, cap, "%s/fathom", xdg);
		break;
	case 1:
		if (lstat("/dev/shm", &st) < 0 || !S_ISDIR(st.st_mode) || !(st.st_mode & S_ISVTX) ||
		    (st.st_mode & 0777) != 0777)
			return -1;
		n = snprintf(buf, cap, "/dev/shm/fathom-%u", uid);
		break;
	case 2:
		n = snprintf(buf, cap, "/tmp/fathom-%u", uid);
		break;
	default:
		return -1;
	}
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

#endif
