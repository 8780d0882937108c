/* The real functions behind the agent's interposed ones (interpose-*.c):
 * REAL(name, type) declares real_name, RESOLVE(name) finds it on first use
 * (NULL when the C library has none).
 */
#ifndef FATHOM_INTERPOSE_H
#define FATHOM_INTERPOSE_H

#include "agent.h"

#define REAL(name, type) static __typeof__(type) real_##name
#define RESOLVE(name) (real_##name ? real_##name : (real_##name = agent_dlsym_next(#name)))

#endif
