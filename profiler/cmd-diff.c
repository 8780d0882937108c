/* Placeholder for 'fathom diff', replaced by its real implementation. */
#include <stdio.h>

#include "cmds.h"

int cmd_diff(int argc, char **argv)
{
	fprintf(stderr, "fathom diff: not built yet\n");
	return 2;
}
