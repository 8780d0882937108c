/* A tiny "JIT" for test-jit-synthetic: copies three counting loops into an
 * anonymous executable mapping, runs them for about CPU_S seconds of CPU
 * time (shares 3:1:1 by iterations), and writes a perf map naming them as
 * a runtime would, with garbage lines and overlapping entries among them.
 *
 * Usage: jit_synth MODE [CPU_S]
 *   map     write /tmp/perf-PID.map (truncating it), then run
 *   append  append the map to the file (as CPython does), then run
 *   nomap   run without writing a map
 *   exec    write the map, run, then exec itself as "nomap" (same pid)
 * x86_64 only (the loops are machine code). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "jitter.h"

/* mov rax, rdi; 1: dec rax; jnz 1b; ret */
static const unsigned char loop_code[] = {0x48, 0x89, 0xf8, 0x48, 0xff, 0xc8, 0x75, 0xfb, 0xc3};

static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void write_map(uintptr_t base, int append)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/perf-%d.map", (int)getpid());
	FILE *f = fopen(path, append ? "a" : "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	/* An early line covering all three loops: the later ones win where
	 * they overlap it, so only the third (at +0x200) keeps its name. */
	fprintf(f, "%lx 1000 jit_region_fn\n", (unsigned long)base);
	fprintf(f, "this line is garbage\n");
	fprintf(f, "%lx 40 jit_stale_name_fn\n", (unsigned long)(base + 0x100));
	fprintf(f, "0x%lx 0x40 jit_hot_fn\n", (unsigned long)base);
	fprintf(f, "zzzz 10 not_hex\n");
	fprintf(f, "%lx 40 jit_cold_fn\n", (unsigned long)(base + 0x100));
	fprintf(f, "%lx\n", (unsigned long)(base + 0x300));
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "map";
	double secs = argc > 2 ? atof(argv[2]) : 0.6;
	unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED)
		return 1;
	for (int i = 0; i < 3; i++)
		memcpy(code + 0x100 * i, loop_code, sizeof(loop_code));
	if (mprotect(code, 4096, PROT_READ | PROT_EXEC) < 0)
		return 1;
	if (strcmp(mode, "nomap"))
		write_map((uintptr_t)code, !strcmp(mode, "append"));
	long (*hot)(long) = (long (*)(long))(void *)code;
	long (*cold)(long) = (long (*)(long))(void *)(code + 0x100);
	long (*region)(long) = (long (*)(long))(void *)(code + 0x200);
	double end = cpu_s() + secs;
	/* Each call's length varies (jitter.h: 0.5 to 1.5 times its mean, the
	 * same sequence every run): a fixed 1.7 ms round aliased with the
	 * kernel's 4 ms tick under load (jit_hot_fn read 22-33% for 60). */
	uint32_t seed = JITTER_SEED;
	while (cpu_s() < end) {
		hot((long)(3000000 * jitter(&seed)));
		cold((long)(1000000 * jitter(&seed)));
		region((long)(1000000 * jitter(&seed)));
	}
	printf("jit_synth %s: code at %p\n", mode, (void *)code);
	fflush(stdout);
	if (!strcmp(mode, "exec")) {
		execl("/proc/self/exe", argv[0], "nomap", argc > 2 ? argv[2] : "0.3", (char *)NULL);
		perror("exec");
		return 1;
	}
	return 0;
}
