/* What the two halves of fathom lines share: cmd-lines.c reads the options
 * and builds the line view (lines.h), cmd-lines-out.c prints it as text or
 * JSON. */
#ifndef FATHOM_CMD_LINES_H
#define FATHOM_CMD_LINES_H

#include <stdbool.h>

#include "lines.h"

/* How the view is printed: the command's options. */
struct lines_show {
	int context; /* lines kept around lines with figures */
	bool json, color, full_names;
	bool no_symbols; /* --no-symbols: why functions have no lines */
};

void lines_print_text(const struct lines *l, const struct lines_show *s);
void lines_print_json(const struct lines *l, const struct lines_show *s);

#endif
