/* Burns CPU in spine_forever until killed; writes its pid to argv[1] first. */
#include <stdio.h>
#include <unistd.h>

static volatile unsigned long spine_f_sink;

__attribute__((noinline, noipa)) void spine_forever(void)
{
	for (unsigned long i = 0;; i++)
		spine_f_sink = spine_f_sink * 31 + i;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		FILE *f = fopen(argv[1], "w");
		if (!f)
			return 1;
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	spine_forever();
	return 0;
}
