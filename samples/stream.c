/* Sample "stream": summing a large CSV of sales by region, by loading the whole
 * file into memory and splitting it into lines first (slow), against reading it
 * line by line with one reused buffer (fast). Practice: stream; memory should
 * follow the record, not the input. The slow profile's heap peak is
 * load_whole_file and split_lines. "stream gen FILE MB" writes an input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sample.h"

#define NREGIONS 8

struct totals {
	long lines, bad;
	int64_t cents[NREGIONS];
	int64_t max_cents;
};

/* Parses "id,region,cents" and adds it in; a malformed line is counted, not fatal. */
static void add_record(struct totals *t, const char *line)
{
	char *end;
	strtoull(line, &end, 10);
	if (*end != ',')
		goto bad;
	unsigned long region = strtoul(end + 1, &end, 10);
	if (*end != ',' || region >= NREGIONS)
		goto bad;
	long long cents = strtoll(end + 1, &end, 10);
	if (*end != '\0' && *end != '\n')
		goto bad;
	t->lines++;
	t->cents[region] += cents;
	if (cents > t->max_cents)
		t->max_cents = cents;
	return;
bad:
	t->bad++;
}

/* Reads all of f into one buffer that doubles as it fills: the heap must hold
 * the whole input (and, while realloc copies, up to one and a half times it). */
__attribute__((noinline)) static char *load_whole_file(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			perror("stream: malloc");
			exit(1);
		}
		n += fread(buf + n, 1, cap - n - 1, f);
		if (n < cap - 1)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Cuts the buffer into lines in place and returns an array of them, the usual
 * next step of load-it-all code: another eight bytes per line. */
__attribute__((noinline)) static char **split_lines(char *buf, size_t len, size_t *count)
{
	size_t cap = 1024, n = 0;
	char **lines = malloc(cap * sizeof *lines);
	for (char *p = buf; lines && p < buf + len;) {
		char *nl = memchr(p, '\n', (size_t)(buf + len - p));
		if (n == cap) {
			cap *= 2;
			lines = realloc(lines, cap * sizeof *lines);
			if (!lines)
				break;
		}
		lines[n++] = p;
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	if (!lines) {
		perror("stream: malloc");
		exit(1);
	}
	*count = n;
	return lines;
}

__attribute__((noinline)) static void sum_loaded(FILE *f, struct totals *t)
{
	size_t len, count;
	char *buf = load_whole_file(f, &len);
	char **lines = split_lines(buf, len, &count);
	for (size_t i = 0; i < count; i++)
		add_record(t, lines[i]);
	free(lines);
	free(buf);
}

/* One line at a time through getline's buffer, which grows only to the
 * longest line. */
__attribute__((noinline)) static void sum_streamed(FILE *f, struct totals *t)
{
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0)
		add_record(t, line);
	free(line);
}

static int generate(const char *path, long mb)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return 1;
	}
	unsigned long long seed = 11, written = 0, target = (unsigned long long)mb << 20;
	for (unsigned long long id = 1; written < target; id++) {
		unsigned long long r = sample_rand(&seed);
		int len = fprintf(f, "%llu,%llu,%llu\n", id, r % NREGIONS, (r >> 8) % 1000000);
		written += (unsigned long long)len;
	}
	if (fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return generate(argv[2], sample_arg(argc, argv, 3, 32, 1 << 20));
	int fast = sample_way(argc, argv, "FILE   (or: gen FILE MB, to write an input of MB mebibytes)");
	if (argc != 3) {
		fprintf(stderr, "%s: which file? usage: %s slow|fast FILE\n", argv[0], argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[2], strerror(errno));
		return 1;
	}
	struct totals t = {0};
	if (fast)
		sum_streamed(f, &t);
	else
		sum_loaded(f, &t);
	if (ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", argv[0], argv[2]);
		return 1;
	}
	fclose(f);

	printf("stream: %ld records, %ld malformed, max %lld", t.lines, t.bad, (long long)t.max_cents);
	for (int r = 0; r < NREGIONS; r++)
		printf(" r%d=%lld", r, (long long)t.cents[r]);
	printf("\n");
	return 0;
}
