/* Test program: installs a seccomp filter that answers timer_create with
 * SECCOMP_RET_TRAP (SIGSYS), then execs itself as a CPU-burning child, which
 * inherits the filter: under the agent, the child's agent start-up meets it
 * and must neither die nor change the output. `sig_seccomp` exits 77 when
 * seccomp filters are not permitted here; `sig_seccomp burn` is the child. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static __attribute__((noinline)) uint64_t burn(void)
{
	volatile uint64_t h = 0;
	struct timespec ts;
	double end;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	end = ts.tv_sec + ts.tv_nsec / 1e9 + 0.2;
	do {
		for (int i = 0; i < 100000; i++)
			h += (uint64_t)i * i;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	} while (ts.tv_sec + ts.tv_nsec / 1e9 < end);
	return h;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "burn")) {
		burn();
		printf("child: burned the CPU\n");
		return 0;
	}
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_timer_create, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
		fprintf(stderr, "sig_seccomp: seccomp not permitted here: %s\n", strerror(errno));
		return 77;
	}
	printf("parent: filter installed\n");
	fflush(stdout);
	execl("/proc/self/exe", argv[0], "burn", (char *)NULL);
	perror("execl");
	return 1;
}
