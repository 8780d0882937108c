/* Placeholder for 'fathom flame', replaced by its real implementation. */
#include <stdio.h>

#include "cmds.h"

int cmd_flame(int argc, char **argv)
{
	fprintf(stderr, "fathom flame: not built yet\n");
	return 2;
}
