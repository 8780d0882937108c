/* The calling thread's stack, for the agent's unwinder tests (its
 * unchecked reads stay within it). */
#ifndef FATHOM_TEST_AGENT_STACK_BOUNDS_H
#define FATHOM_TEST_AGENT_STACK_BOUNDS_H

#include <pthread.h>
#include <stdint.h>

static inline void stack_bounds_of_thread(uintptr_t *lo, uintptr_t *hi)
{
	pthread_attr_t a;
	void *addr;
	size_t size;
	assert_int_equal(pthread_getattr_np(pthread_self(), &a), 0);
	assert_int_equal(pthread_attr_getstack(&a, &addr, &size), 0);
	pthread_attr_destroy(&a);
	*lo = (uintptr_t)addr;
	*hi = *lo + size;
}

#endif
