/* Rotated recordings (preload/rotate.c): which dump files are the files of
 * one series, and the order they are read in, so that the model reads a
 * series as one process (series.c). */
#ifndef FATHOM_SERIES_H
#define FATHOM_SERIES_H

#include <stddef.h>
#include <stdint.h>

/* What a dump's first records say of its place in a series. */
struct series_file {
	int pid, generation;
	uint64_t start_real_ns;
	uint32_t number; /* the file's number in its series: 1 for the first (or no series) */
	int known;	 /* the header was read */
};

/* Reads the first records of each of the n files into info[] and puts in
 * order[] the order to read them in: the files as given, except that the
 * files of one series are read one after the other in their numbers'
 * order, where the first of them was given. Returns 0 or -ENOMEM. A file
 * that cannot be read is left where it is (the load says why). */
int series_order(char *const *paths, size_t n, struct series_file *info, size_t *order);

/* Whether b is a later file of a's series. */
int series_same(const struct series_file *a, const struct series_file *b);

#endif
