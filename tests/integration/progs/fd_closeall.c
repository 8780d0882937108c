/* Test program: a program that closes every descriptor and reuses the
 * numbers, then execs (and fails) or forks; it checks that its own files got
 * exactly what it wrote. `fd_closeall exec DIR` or `fd_closeall fork DIR`;
 * exits 0 when its files are intact, 1 (with a message) when not. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE 20480

static int bad(const char *what)
{
	fprintf(stderr, "fd_closeall: %s\n", what);
	return 1;
}

/* Closes every descriptor from 3 up, the agent's included. */
static void close_all(void)
{
	if (syscall(SYS_close_range, 3u, ~0u, 0u) < 0) {
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		for (int fd = 3; fd < (int)rl.rlim_cur; fd++)
			close(fd);
	}
}

/* Makes every free number below the soft limit refer to fd: whatever number
 * the agent held, it is now the program's file. */
static void dup_everywhere(int fd)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	int top = rl.rlim_cur > 4096 ? 4096 : (int)rl.rlim_cur;
	for (int n = 3; n < top; n++)
		if (n != fd && fcntl(n, F_GETFD) < 0)
			dup2(fd, n);
}

static int check(const char *path, const char *want, size_t len)
{
	char buf[SIZE + 64];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)len && !memcmp(buf, want, len);
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "exec") && strcmp(argv[1], "fork"))) {
		fprintf(stderr, "usage: fd_closeall exec|fork DIR\n");
		return 2;
	}
	/* Keep stderr: the messages must reach the test. */
	int err = dup(2);
	close_all();
	dup2(err, 2);
	close(err);
	char path[4096];
	if (!strcmp(argv[1], "exec")) {
		snprintf(path, sizeof(path), "%s/mine.dat", argv[2]);
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			return bad("cannot create mine.dat");
		dup_everywhere(fd);
		static char data[SIZE];
		for (size_t i = 0; i < SIZE; i++)
			data[i] = (char)('a' + i % 26);
		if (write(fd, data, SIZE) != SIZE)
			return bad("write failed");
		char *args[] = {"no-such-program", NULL};
		execv("/nonexistent/no-such-program", args);
		if (errno != ENOENT)
			return bad("execv did not fail with ENOENT");
		struct stat st;
		if (fstat(fd, &st) < 0 || st.st_size != SIZE) {
			fprintf(stderr, "fd_closeall: mine.dat is %lld bytes after the failed exec, not %d\n",
				(long long)st.st_size, SIZE);
			return 1;
		}
		if (!check(path, data, SIZE))
			return bad("mine.dat's content changed");
		return 0;
	}
	/* fork: the program's own fds 3..6; the child writes to 5 and 6. */
	char p5[4096], p6[4096];
	for (int i = 3; i <= 6; i++) {
		snprintf(path, sizeof(path), "%s/f%d.dat", argv[2], i);
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd != i) {
			fprintf(stderr, "fd_closeall: opened f%d.dat as fd %d\n", i, fd);
			return 1;
		}
	}
	snprintf(p5, sizeof(p5), "%s/f5.dat", argv[2]);
	snprintf(p6, sizeof(p6), "%s/f6.dat", argv[2]);
	pid_t pid = fork();
	if (pid < 0)
		return bad("fork failed");
	if (pid == 0) {
		int ok = write(5, "child wrote five\n", 17) == 17;
		ok &= write(6, "child wrote six\n", 16) == 16;
		_exit(ok ? 0 : 3);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "fd_closeall: the child's writes to fds 5 and 6 failed (status %d)\n",
			status);
		return 1;
	}
	int r = 0;
	if (!check(p5, "child wrote five\n", 17))
		r = bad("f5.dat does not hold what the child wrote to fd 5");
	if (!check(p6, "child wrote six\n", 16))
		r = bad("f6.dat does not hold what the child wrote to fd 6");
	return r;
}
