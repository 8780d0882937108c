/* A C file for the gcc stress test: it draws one warning on purpose, so the
 * compiler writes to stderr as well. */
#include <stdio.h>

static int unused_result(int x)
{
	return x * 2;
}

int main(void)
{
	int never_used;
	printf("%d\n", unused_result(21));
	return 0;
}
