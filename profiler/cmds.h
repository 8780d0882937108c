/* The subcommands of fathom, one file each (cmd-<name>.c), and the few helpers
 * they share for option handling. */
#ifndef FATHOM_CMDS_H
#define FATHOM_CMDS_H

#include <stddef.h>

/* Each returns the process exit status: 0 ok, 1 a finding (check/diff) or a
 * failure, 2 bad usage or input. They never call exit(). */
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_mem(int argc, char **argv);
int cmd_flame(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_view(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* The candidate closest to `word` by edit distance, or NULL when none is close:
 * for "unknown flag --thread; did you mean --threads?". `cands` ends with NULL. */
const char *cmd_suggest(const char *word, const char *const *cands);

struct option;
/* Reports an option that getopt_long rejected (argv[optind-1] or optopt) once,
 * with the closest known long option: "fathom report: unknown option
 * '--thread'; did you mean '--threads'?". Returns 2, the usage exit status. */
int cmd_bad_option(const char *cmd, char **argv, const struct option *longopts);

/* Drops the files that name a file given before (the same inode: "fathom
 * report run.fdump run.fdump*" must not count run.fdump twice), in place, and
 * returns how many are left. Files that cannot be stat'ed are kept, so that
 * loading them reports the error. */
size_t cmd_unique_files(char **files, size_t n);

struct profile_opts;
/* --suppressions FILE (repeatable): appends FILE (borrowed from argv) to the
 * list; -1 when out of memory. cmd_free_suppressions frees the list. */
int cmd_add_suppressions(struct profile_opts *po, char *file);
void cmd_free_suppressions(struct profile_opts *po);
/* When the command line names no dump (optind == *argc), the latest run's:
 * the fathom.RUN.PID.fdump files (and their fathom.RUN.PID.N.fdump images)
 * in the current directory with the greatest RUN (the start time `fathom
 * record` names a run by), appended to a copy of *argv, said in one line on
 * stderr. Returns how many were added (0: none found, argv untouched). */
int cmd_default_run(const char *cmd, int *argc, char ***argv);

/* Parses "64M", "1.5G", "4096", "10k" (powers of 1024) into bytes; -1 if bad. */
long long cmd_parse_size(const char *s);

#endif
