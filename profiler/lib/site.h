/* Which frame of an allocation's stack is its site. */
#ifndef FATHOM_SITE_H
#define FATHOM_SITE_H

#include <stddef.h>

#include "profile.h"

enum site_rule {
	/* The program's own code: the first frame outside the allocation
	 * functions (operator new, strdup), the C++ standard library and the
	 * templates of its headers (std::vector<…>::push_back and the
	 * allocators under it). What fathom mem, diff and check show. */
	SITE_USER,
	/* The first frame outside the allocation functions only: in C++,
	 * std::__new_allocator<…>::allocate (fathom mem --raw-sites). */
	SITE_RAW,
	/* Where a thread waited: the program's call, past the user rule's
	 * frames and those of the C library, its loader and the agent (a
	 * read under fread, a futex under pthread_mutex_lock are the
	 * caller's waits). FA_WAIT's self frame (aggregate.h). */
	SITE_WAIT,
};

/* The index of an allocation's site among its n frames (innermost first),
 * never past the last frame. */
size_t site_first(const struct profile *p, const struct fa_frame *fr, size_t n, enum site_rule rule);

#endif
