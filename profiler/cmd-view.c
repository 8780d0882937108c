/* Placeholder for 'fathom view', replaced by its real implementation. */
#include <stdio.h>

#include "cmds.h"

int cmd_view(int argc, char **argv)
{
	fprintf(stderr, "fathom view: not built yet\n");
	return 2;
}
