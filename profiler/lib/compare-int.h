/* What compare.c (summaries, statistics, reports, check), compare-match.c
 * (the functions of two recordings paired) and compare-diff.c (fathom diff)
 * share. */
#ifndef FATHOM_COMPARE_INT_H
#define FATHOM_COMPARE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "compare.h"

/* A new item of r, its figures NaN, owning name (freed on failure); NULL
 * when out of memory or when name is NULL. */
struct compare_item *compare_item_add(struct compare_report *r, enum compare_section sec, const char *metric,
				      enum compare_unit unit, char *name);
/* Adds note (owned; freed on failure) to r. Returns 0 or -ENOMEM (also for
 * a NULL note). */
int compare_note_add(struct compare_report *r, char *note);

/* Functions by name, source path and module. */
int compare_func_cmp(const struct compare_func *a, const struct compare_func *b);

/* A function is the same in both recordings when its name, its module's
 * basename and its source path agree, the paths rewritten first: two
 * checkouts of one project differ in the directory they sit in, not in the
 * project's own paths. */
struct compare_match {
	char **bkey, **nkey; /* per function of base and new: the source path matched on, or NULL */
	char *from, *to;     /* the prefix found automatically, or NULL */
};

/* A function matched across the two recordings; either side may be missing. */
struct compare_pair {
	const struct compare_func *b, *n;
	double s1, s2, t1, t2; /* self and total shares */
	double zs, zt, es, et; /* z-scores and odds ratios - 1 */
	bool test_self, test_total;
};

/* The keys of base's and cur's functions, by o's --prefix-map or else by the
 * prefix detected. Returns 0 or -ENOMEM (mt then holds nothing). */
int compare_match_init(struct compare_match *mt, const struct compare_summary *base,
		       const struct compare_summary *cur, const struct compare_opts *o);
void compare_match_free(struct compare_match *mt, size_t nb, size_t nn);
struct compare_pair *compare_match_funcs(const struct compare_summary *base,
					 const struct compare_summary *cur, const struct compare_match *mt,
					 size_t *npairs);

#endif
