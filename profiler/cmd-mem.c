/* Placeholder for 'fathom mem', replaced by its real implementation. */
#include <stdio.h>

#include "cmds.h"

int cmd_mem(int argc, char **argv)
{
	fprintf(stderr, "fathom mem: not built yet\n");
	return 2;
}
