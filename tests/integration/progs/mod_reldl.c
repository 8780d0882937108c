/* Changes to the directory in argv[1], which holds libmod_x.so, loads it by a
 * relative path and spends its time (and leaks its blocks) in it; with
 * "fork" in argv[2], in a child forked after a chdir elsewhere. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mod_reldl DIR [N]\n");
		return 2;
	}
	if (chdir(argv[1]) < 0) {
		perror(argv[1]);
		return 1;
	}
	void *h = dlopen("./libmod_x.so", RTLD_NOW);
	if (!h) {
		fprintf(stderr, "mod_reldl: %s\n", dlerror());
		return 1;
	}
	unsigned long (*burn)(unsigned long) = (unsigned long (*)(unsigned long))dlsym(h, "mod_x_burn");
	void *(*leak)(void) = (void *(*)(void))dlsym(h, "mod_x_leak");
	if (!burn || !leak)
		return 1;
	/* A later chdir, and the module scan of a later dlopen, must not
	 * change what the module map says. */
	if (chdir("/") < 0 || !dlopen("libm.so.6", RTLD_NOW))
		return 1;
	if (argc > 2 && !strcmp(argv[2], "fork")) {
		pid_t pid = fork();
		if (pid < 0)
			return 1;
		if (pid > 0) {
			int st;
			return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 1;
		}
	}
	leak();
	printf("%lu\n", burn(100000000ul) & 1);
	return 0;
}
