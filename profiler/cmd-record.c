/* Placeholder for 'fathom record', replaced by its real implementation. */
#include <stdio.h>

#include "cmds.h"

int cmd_record(int argc, char **argv)
{
	fprintf(stderr, "fathom record: not built yet\n");
	return 2;
}
