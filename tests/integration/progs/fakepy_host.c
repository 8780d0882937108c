/* Loads a fake CPython (libfakepy*.so, named by its first argument) with
 * dlopen, then spins in spin_native for the seconds of thread CPU time its
 * second argument gives, allocating as it goes (test-py-badinput). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile unsigned long sink;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static unsigned long spin_native(double seconds)
{
	unsigned long x = sink, rounds = 0;
	double end = cpu_now() + seconds;
	while (cpu_now() < end) {
		for (unsigned long i = 0; i < 20000; i++)
			x = x * 2862933555777941757ul + i;
		void *p = malloc(64 + rounds % 256);
		sink = (unsigned long)p;
		free(p);
		rounds++;
	}
	sink = x;
	return rounds;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "fakepy_host: %s\n", dlerror());
		return 1;
	}
	unsigned long rounds = spin_native(atof(argv[2]));
	printf("spun %s\n", rounds ? "yes" : "no");
	return 0;
}
