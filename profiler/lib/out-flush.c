/* How the writers end their output: one flush that reports the write error. */
#include <errno.h>

#include "outputs.h"

int out_flush(FILE *f)
{
	errno = 0;
	if (fflush(f) != 0 || ferror(f))
		return errno ? -errno : -EIO;
	return 0;
}
