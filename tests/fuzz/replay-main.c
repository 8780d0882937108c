/* A main() for the reader's fuzz harness where clang's libFuzzer is not
 * available: each file named on the command line goes through
 * LLVMFuzzerTestOneInput() once, so that the seed corpus is still replayed as
 * a regression test. libFuzzer's options (arguments starting with '-') are
 * accepted and ignored, so run-fuzz.sh runs both builds the same way. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the whole file at path; returns 0 or -errno. */
static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t size = 0, cap = 0;
	int rc = 0;
	if (!f)
		return -errno;
	for (;;) {
		if (size == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *n = realloc(data, ncap);
			if (!n) {
				rc = -ENOMEM;
				goto out;
			}
			data = n;
			cap = ncap;
		}
		size_t got = fread(data + size, 1, cap - size, f);
		size += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		goto out;
	}
	LLVMFuzzerTestOneInput(data, size);
out:
	free(data);
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		int rc = replay(argv[i]);
		if (rc < 0) {
			fprintf(stderr, "fuzz-reader: %s: %s\n", argv[i], strerror(-rc));
			return 1;
		}
		n++;
	}
	fprintf(stderr, "fuzz-reader: replayed %d input%s (a plain driver: libFuzzer is not available)\n", n,
		n == 1 ? "" : "s");
	return n ? 0 : 1;
}
