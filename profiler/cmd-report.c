/* Placeholder for 'fathom report', replaced by its real implementation. */
#include <stdio.h>

#include "cmds.h"

int cmd_report(int argc, char **argv)
{
	fprintf(stderr, "fathom report: not built yet\n");
	return 2;
}
