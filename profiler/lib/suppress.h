/* Leak suppressions (LeakSanitizer's leak:PATTERN format): the defaults for
 * glibc's one-time allocations, files, and the patterns a program embeds. */
#ifndef FATHOM_SUPPRESS_H
#define FATHOM_SUPPRESS_H

#include "profile.h"

/* Moves the leaks that a suppression matches out of p's leaked figures (the
 * stacks' weights and p->mem) into p->mem.suppressed_*, and lists the
 * patterns that matched in p->suppressions. Runs on a symbolized profile.
 * Returns 0, -ENOMEM, or -EINVAL/-errno with *err naming the file at fault. */
int suppress_apply(struct profile *p, const struct profile_opts *o, char **err);
void suppress_free(struct profile *p);

#endif
