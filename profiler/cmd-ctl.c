/* fathom ctl: drives the agent inside a running process through its control
 * channel (preload/control.c): start or stop recording, or mark a snapshot. */
#define _GNU_SOURCE
#include "fathom-ctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fathom ctl [OPTIONS] PID start|stop|snapshot [LABEL]|rotate\n"
		   "Switches recording on or off in a running process under the fathom agent, marks\n"
		   "a snapshot of its heap (fathom mem --at N shows it), or ends its dump file and goes\n"
		   "on in the next one of a series (rotate), and prints the answer.\n"
		   "Only the process's user (and root) can. LABEL names the mark in the dump.\n\n"
		   "      --timeout T          how long to wait for the answer (default 3s)\n"
		   "  -q, --quiet              print nothing when done\n"
		   "  -h, --help               this help\n\n"
		   "exit status: 0 done; 1 the process is gone, is not under the agent, belongs to\n"
		   "another user, or did not answer; 2 bad usage.\n");
}

/* The value of XDG_RUNTIME_DIR in pid's environment, when it can be read. */
static bool target_xdg(int pid, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char *line = NULL;
	size_t n = 0;
	bool found = false;
	while (!found && getdelim(&line, &n, 0, f) > 0)
		if (!strncmp(line, "XDG_RUNTIME_DIR=", 16) && line[16] == '/' && strlen(line + 16) < cap) {
			strcpy(buf, line + 16);
			found = true;
		}
	free(line);
	fclose(f);
	return found;
}

/* Whether pid has the agent (libfathom.so) mapped: 1, 0, or -1 unknown. */
static int has_agent(int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char *line = NULL;
	size_t n = 0;
	int found = 0;
	while (!found && getline(&line, &n, f) > 0)
		found = strstr(line, "/libfathom.so") != NULL;
	free(line);
	fclose(f);
	return found;
}

/* Whether st is a channel of uid's: a directory of its with no group or
 * other permission (what the agent makes). */
static bool private_dir_of(const struct stat *st, uid_t uid)
{
	return S_ISDIR(st->st_mode) && st->st_uid == uid && !(st->st_mode & 077);
}

/* The channel of pid, owned by uid, in one of fathom-ctl.h's bases (the
 * target's XDG_RUNTIME_DIR, when it is uid's, then /dev/shm, then /tmp). */
static bool find_channel(int pid, uid_t uid, char *dir, size_t cap)
{
	char xdg[PATH_MAX - 64], base[PATH_MAX - 32];
	struct stat st;
	bool have_xdg = target_xdg(pid, xdg, sizeof(xdg));
	for (int i = 0; i < FATHOM_CTL_BASES; i++) {
		if (fathom_ctl_base(i, (unsigned)uid, have_xdg ? xdg : NULL, base, sizeof(base)) < 0)
			continue;
		snprintf(dir, cap, "%s/%d", base, pid);
		if (lstat(dir, &st) == 0 && private_dir_of(&st, uid))
			return true;
	}
	return false;
}

/* The answer's file name for token in dir ("r.TOKEN.ANSWER"), found: the
 * answer copied into ans. */
static bool find_answer(const char *dir, const char *token, char *ans, size_t cap)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	char prefix[80];
	snprintf(prefix, sizeof(prefix), "r.%s.", token);
	size_t pl = strlen(prefix);
	struct dirent *de;
	bool found = false;
	while (!found && (de = readdir(d)))
		if (!strncmp(de->d_name, prefix, pl)) {
			snprintf(ans, cap, "%s", de->d_name + pl);
			char path[PATH_MAX + 300];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
			found = true;
		}
	closedir(d);
	return found;
}

static bool process_exists(int pid, struct stat *st)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d", pid);
	return stat(path, st) == 0;
}

/* Removes the channel `name` in base (a directory fd) when no live agent
 * holds its lock (preload/control.c): the process that made it is gone,
 * killed before it could remove it, whatever its pid names now. Kept all
 * the same while a process of that pid has the agent loaded, or may have
 * (its maps unreadable): an agent older than this fathom holds no lock. The
 * lock is held meanwhile, so an agent taking the name over waits, then
 * makes it again. */
static void prune_one(int base, const char *name, uid_t uid)
{
	int fd = openat(base, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st, again;
	if (fd < 0)
		return;
	long pid = strtol(name, NULL, 10);
	if (fstat(fd, &st) == 0 && private_dir_of(&st, uid) && flock(fd, LOCK_EX | LOCK_NB) == 0 &&
	    (pid <= 0 || pid > INT_MAX || !process_exists((int)pid, &again) || has_agent((int)pid) == 0) &&
	    fstatat(base, name, &again, AT_SYMLINK_NOFOLLOW) == 0 && again.st_dev == st.st_dev &&
	    again.st_ino == st.st_ino) {
		DIR *d = fdopendir(dup(fd));
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (de->d_name[0] == 'c' || de->d_name[0] == 'r')
				unlinkat(fd, de->d_name, 0);
		if (d)
			closedir(d);
		unlinkat(base, name, AT_REMOVEDIR);
	}
	close(fd);
}

void ctl_prune(void)
{
	uid_t uid = geteuid();
	char bases[FATHOM_CTL_BASES][PATH_MAX];
	const char *x = getenv("XDG_RUNTIME_DIR");
	for (int i = 0; i < FATHOM_CTL_BASES; i++) {
		if (fathom_ctl_base(i, (unsigned)uid, x, bases[i], sizeof(bases[i])) < 0)
			continue;
		int base = open(bases[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (base < 0)
			continue;
		DIR *d = fstat(base, &st) == 0 && private_dir_of(&st, uid) ? fdopendir(dup(base)) : NULL;
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (de->d_name[0] && strspn(de->d_name, "0123456789") == strlen(de->d_name))
				prune_one(base, de->d_name, uid);
		if (d)
			closedir(d);
		close(base);
	}
}

/* Says the agent's answer in one line. */
static int say_answer(int pid, const char *ans, bool quiet)
{
	char word[16] = "", verb[16] = "";
	unsigned long long seq = 0, ns = 0, id = 0;
	int n = sscanf(ans, "%15[a-z].%15[a-z].%llu.%llu.%llu", word, verb, &seq, &ns, &id);
	if (!strcmp(ans, "failed.rotate")) {
		fprintf(stderr,
			"fathom ctl: process %d could not start its next file (its own message says why); "
			"it goes on in the current one\n",
			pid);
		return 1;
	}
	if (n < 4 || (strcmp(word, "ok") && strcmp(word, "same"))) {
		fprintf(stderr,
			"fathom ctl: process %d did not understand the command (answer '%s'): is its agent "
			"older than this fathom?\n",
			pid, ans);
		return 1;
	}
	if (quiet)
		return 0;
	double s = (double)ns / 1e9;
	if (!strcmp(verb, "rotate"))
		printf("fathom ctl: process %d: file %llu started at %.3f s (allocation event %llu)\n", pid,
		       id, s, seq);
	else if (!strcmp(verb, "snapshot"))
		printf("fathom ctl: process %d: snapshot %llu at %.3f s (allocation event %llu)\n", pid, id,
		       s, seq);
	else if (!strcmp(word, "same"))
		printf("fathom ctl: process %d: recording was already %s (at %.3f s)\n", pid,
		       verb[2] == 'a' ? "on" : "off", s);
	else
		printf("fathom ctl: process %d: recording %s at %.3f s (allocation event %llu)\n", pid,
		       verb[2] == 'a' ? "started" : "stopped", s, seq);
	return 0;
}

int cmd_ctl(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"timeout", required_argument, NULL, 'T'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	double timeout = 3e9;
	bool quiet = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'T':
			timeout = cmd_parse_time(optarg);
			if (timeout <= 0) {
				fprintf(stderr,
					"fathom ctl: --timeout takes a time such as 3s or 500ms, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return cmd_bad_option("ctl", argv, longopts);
		}
	}
	if (argc - optind < 2 || argc - optind > 3) {
		fprintf(stderr, "fathom ctl: usage: fathom ctl PID start|stop|snapshot [LABEL]|rotate\n");
		return 2;
	}
	const char *pids = argv[optind], *verb = argv[optind + 1],
		   *label = argc - optind > 2 ? argv[optind + 2] : "";
	char *end;
	long pid = strtol(pids, &end, 10);
	if (*end || end == pids || pid <= 0 || pid > INT_MAX) {
		fprintf(stderr, "fathom ctl: '%s' is not a process id\n", pids);
		return 2;
	}
	if (strcmp(verb, "start") && strcmp(verb, "stop") && strcmp(verb, "snapshot") &&
	    strcmp(verb, "rotate")) {
		const char *best =
		    cmd_suggest(verb, (const char *const[]){"start", "stop", "snapshot", "rotate", NULL});
		fprintf(stderr, "fathom ctl: '%s' is not start, stop, snapshot or rotate", verb);
		if (best)
			fprintf(stderr, "; did you mean '%s'?", best);
		fprintf(stderr, "\n");
		return 2;
	}
	if (strlen(label) > 64) {
		fprintf(stderr, "fathom ctl: the label is longer than 64 bytes\n");
		return 2;
	}
	ctl_prune();
	return ctl_send((int)pid, verb, label, timeout, quiet);
}

int ctl_send(int ipid, const char *verb, const char *label, double timeout, bool quiet)
{
	long pid = ipid;
	struct stat st;
	if (!process_exists((int)pid, &st)) {
		fprintf(stderr, "fathom ctl: no process %ld (it exited, or the pid is wrong)\n", pid);
		return 1;
	}
	if (st.st_uid != geteuid() && geteuid() != 0) {
		fprintf(stderr,
			"fathom ctl: process %ld belongs to another user (uid %u): only its user or root can "
			"control it\n",
			pid, (unsigned)st.st_uid);
		return 1;
	}
	char dir[PATH_MAX];
	int agent = has_agent((int)pid);
	if (agent == 0) {
		fprintf(stderr,
			"fathom ctl: process %ld is not running under fathom's agent (start it with fathom "
			"record)\n",
			pid);
		return 1;
	}
	if (!find_channel((int)pid, st.st_uid, dir, sizeof(dir)) && agent < 0) {
		fprintf(
		    stderr,
		    "fathom ctl: process %ld has no fathom control channel: it is not running under fathom's "
		    "agent (or its agent is older than this fathom, or has finished)\n",
		    pid);
		return 1;
	}
	if (!find_channel((int)pid, st.st_uid, dir, sizeof(dir))) {
		fprintf(stderr,
			"fathom ctl: process %ld has no control channel (its agent is older than this "
			"fathom, has finished, or could not make its directory in $XDG_RUNTIME_DIR/fathom, "
			"/dev/shm/fathom-%u or /tmp/fathom-%u)\n",
			pid, (unsigned)st.st_uid, (unsigned)st.st_uid);
		return 1;
	}
	/* The command: an empty file whose name says it all. */
	char token[48], cmdpath[PATH_MAX + 400];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(token, sizeof(token), "%d-%lx", (int)getpid(), (unsigned long)t0.tv_nsec);
	int n = snprintf(cmdpath, sizeof(cmdpath), "%s/c.%s.%s%s", dir, token, verb, *label ? "." : "");
	for (const unsigned char *p = (const unsigned char *)label; *p; p++)
		n += snprintf(cmdpath + n, sizeof(cmdpath) - (size_t)n, "%02x", *p);
	int fd = open(cmdpath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "fathom ctl: cannot write to %s: %s\n", dir, strerror(errno));
		return 1;
	}
	close(fd);
	char ans[256];
	for (;;) {
		if (find_answer(dir, token, ans, sizeof(ans)))
			return say_answer((int)pid, ans, quiet);
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double waited = (double)(now.tv_sec - t0.tv_sec) * 1e9 + (double)(now.tv_nsec - t0.tv_nsec);
		bool gone = !process_exists((int)pid, &st);
		if (gone || waited > timeout) {
			unlink(cmdpath);
			/* The answer may have come just now. */
			if (find_answer(dir, token, ans, sizeof(ans)))
				return say_answer((int)pid, ans, quiet);
			if (gone)
				fprintf(stderr, "fathom ctl: process %ld exited before answering\n", pid);
			else
				fprintf(stderr,
					"fathom ctl: process %ld did not answer within %.1f s (stopped, or "
					"busy; its agent reads commands every 20 ms, up to 160 ms "
					"when it records no allocations and memory stays flat)\n",
					pid, timeout / 1e9);
			return 1;
		}
		nanosleep(&(struct timespec){0, 5000000}, NULL);
	}
}
