/* fathom mem's text report, shared by its files: the command's state and
 * one printing function a section (cmd-mem-text.c: the header, totals, peak,
 * leaks, temporaries and site tables; cmd-mem-time.c: sizes and the heap over
 * time). A new section is a new function here, called from cmd-mem.c's
 * print_text. */
#ifndef FATHOM_CMD_MEM_H
#define FATHOM_CMD_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "profile.h"

#define FRAMES_SHOWN 4 /* frames of a stack shown under its site */

struct mem {
	const char *cmd; /* the command that prints it ("mem", "diff"), for messages */
	struct profile *p;
	bool sampled, json;
	bool full_names; /* text keeps template arguments */
	enum site_rule rule;
	size_t top;
	int sort; /* the --sort metric, or -1 */
	struct mem_site *sites;
	size_t nsites;
	const char *est; /* "~" before estimated figures */
	/* --at and --since: a snapshot's number, or a time (then in
	 * profile_opts.mark_at_ns, and mark_from_ns for --since: a mark of
	 * kind FA_MARK_AT or FA_MARK_FROM). */
	struct mem_at {
		bool given, is_time;
		int kind;
		uint64_t id;
	} at, since;
};

/* Parses --at or (since) --since ARG into *a (a time goes into po). Returns
 * 0 or -1. */
struct profile_opts;
int mem_at_parse(struct mem_at *a, const char *arg, struct profile_opts *po, bool since);
/* The live heap by site at --at, or its growth since --since (cmd-mem-at.c).
 * Returns the exit status. */
int mem_print_at(struct mem *m);
/* fathom diff between two marks of one recording (the n files paths):
 * what grew by site from mark `since` to mark `at` (snapshot numbers, or
 * one a time), as mem --at AT --since SINCE. Returns the exit status. */
struct cmd_common;
int mem_marks_diff(struct cmd_common *cc, char **paths, size_t n, const char *since, const char *at);

/* --from/--to (cmd-mem-range.c): the marks the range needs, into po
 * (-1 when --at names a time too); and its report: the live heap at both
 * ends, what it allocated and freed, by site. Returns the exit status. */
struct cmd_common;
int mem_range_opts(const struct cmd_common *cc, struct profile_opts *po);
int mem_print_range(struct mem *m, const struct cmd_common *cc);

/* fmt_bytes and fmt_count of a figure that is an estimate in a sampled
 * recording: then with "~" in front. */
char *mem_est_bytes(const struct mem *m, char buf[40], int64_t v);
char *mem_est_count(const struct mem *m, char buf[40], int64_t v);

/* A site's name as the tables show it. */
void mem_site_text(const struct mem *m, const struct mem_site *s, char *buf, size_t len);

/* The sections of the text report, in the order print_text prints them. */
void mem_print_header(const struct mem *m);
void mem_print_totals(const struct mem *m);
/* For a process recorded in windows (a late start, ctl stop and start):
 * that only blocks allocated while recording count, and how many frees of
 * others were ignored; always, or only when some were (always false). */
void mem_print_window_note(const struct fa_process *pr, bool always);
void mem_print_peak(const struct mem *m);
void mem_print_leaks(const struct mem *m);
void mem_print_temporaries(struct mem *m);
void mem_print_sites(struct mem *m, int metric); /* the top sites by metric */
void mem_print_histogram(const struct mem *m);
void mem_print_timeline(const struct mem *m);
/* Heap, mappings and RSS side by side, the mappings by kind, the top
 * mapping sites and files (cmd-mem-maps.c). */
void mem_print_mappings(const struct mem *m);
/* Whether the recording ended at a detach (fathom record --pid): what is
 * left then is live at the detach, not at an exit. */
bool mem_detached(const struct mem *m);
/* A stack's site and up to FRAMES_SHOWN callers, indented (cmd-mem-text.c). */
void mem_print_stack(const struct mem *m, uint32_t stack, const char *indent);

#endif
