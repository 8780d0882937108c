/* The JSON objects that several commands' JSON outputs share, written once so
 * that a process reads the same in `report --json`, `mem --json` and the
 * viewer's data (docs/JSON.md, docs/json-schema/). */
#ifndef FATHOM_JSON_PROFILE_H
#define FATHOM_JSON_PROFILE_H

#include "profile.h"
#include "util.h"

/* One process (one dump) as an object: its identity, its recording settings
 * and what the reader found (docs/json-schema/common.json, "process"). */
void json_process(struct json *j, const struct fa_process *pr);

/* The model's warnings, as strings of the array the caller has open (the
 * commands' "warnings", where a command may add its own after them). */
void json_profile_warnings(struct json *j, const struct profile *p);
/* The "processes" array: json_process for each of p's processes (under key). */
void json_processes(struct json *j, const char *key, const struct profile *p);
/* The frames of a stack (innermost first) from its frame `from`, at most
 * max of them, as an array of {function, file, line, module} under key. */
void json_stack_frames(struct json *j, const char *key, const struct profile *p, uint32_t stack, size_t from,
		       size_t max);

#endif
