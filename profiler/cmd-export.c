/* Placeholder for 'fathom export', replaced by its real implementation. */
#include <stdio.h>

#include "cmds.h"

int cmd_export(int argc, char **argv)
{
	fprintf(stderr, "fathom export: not built yet\n");
	return 2;
}
