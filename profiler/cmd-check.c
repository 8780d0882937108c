/* Placeholder for 'fathom check', replaced by its real implementation. */
#include <stdio.h>

#include "cmds.h"

int cmd_check(int argc, char **argv)
{
	fprintf(stderr, "fathom check: not built yet\n");
	return 2;
}
