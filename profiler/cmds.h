/* The subcommands of fathom, one file each (cmd-<name>.c), and what they share:
 * the common options, loading the dumps, option helpers. */
#ifndef FATHOM_CMDS_H
#define FATHOM_CMDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "profile.h"

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
int cmd_lines(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_ctl(int argc, char **argv);
int cmd_pack(int argc, char **argv);
/* Sends verb (start, stop, snapshot) with label to the agent in pid and
 * says its answer (nothing when quiet; errors always): fathom ctl's work,
 * which fathom record --pid uses to detach. Returns ctl's exit status. */
int ctl_send(int pid, const char *verb, const char *label, double timeout, bool quiet);
/* Removes the control channels of this user that no live agent holds
 * (left by processes killed with SIGKILL): fathom ctl and fathom record do
 * it first. Leaves alone anything that is not a private directory of the
 * user's named by a number. */
void ctl_prune(void);

/* Edits between a and b, a swap of two neighbours counting as one (99 when
 * either is longer than 64 bytes). */
size_t cmd_edit_distance(const char *a, const char *b);

/* The candidate closest to `word` by edit distance, or NULL when none is close:
 * for "unknown flag --thread; did you mean --threads?". `cands` ends with NULL. */
const char *cmd_suggest(const char *word, const char *const *cands);

struct option;
/* Reports an option that getopt_long rejected (argv[optind-1] or optopt) once,
 * with the closest known long option: "fathom report: unknown option
 * '--thread'; did you mean '--threads'?". Returns 2, the usage exit status. */
int cmd_bad_option(const char *cmd, char **argv, const struct option *longopts);

/* The options every command that reads dumps takes, with one meaning and one
 * help text everywhere (docs/USAGE.md, "Common options"). A command puts
 * CMD_COMMON_OPTIONS (after CMD_LEAK_OPTIONS when leaks matter to it) at the
 * end of its getopt_long table, CMD_COMMON_SHORT in its short options, and
 * hands every option it does not handle itself to cmd_common_option(). */
enum {
	CMD_OPT_NO_SYMBOLS = 0x1000,
	CMD_OPT_DEBUG_DIR,
	CMD_OPT_SUPPRESSIONS,
	CMD_OPT_NO_DEFAULT_SUPPRESSIONS,
	CMD_OPT_INCLUDE_AGENT,
	CMD_OPT_PYTHON,
	CMD_OPT_FROM,
	CMD_OPT_TO,
	CMD_OPT_NO_DEBUGINFOD,
};
#define CMD_COMMON_SHORT "qh"
#define CMD_LEAK_OPTIONS                                                                                     \
	{"suppressions", required_argument, NULL, CMD_OPT_SUPPRESSIONS},                                     \
	{                                                                                                    \
		"no-default-suppressions", no_argument, NULL, CMD_OPT_NO_DEFAULT_SUPPRESSIONS                \
	}
/* --from T and --to T (a time range: CPU samples in it only), for the
 * commands that read them through the aggregation's filter. */
#define CMD_TIME_OPTIONS                                                                                     \
	{"from", required_argument, NULL, CMD_OPT_FROM},                                                     \
	{                                                                                                    \
		"to", required_argument, NULL, CMD_OPT_TO                                                    \
	}
/* Ends the table (it holds the terminating entry). */
#define CMD_COMMON_OPTIONS                                                                                   \
	{"no-symbols", no_argument, NULL, CMD_OPT_NO_SYMBOLS},                                               \
	    {"include-agent", no_argument, NULL, CMD_OPT_INCLUDE_AGENT},                                     \
	    {"python", no_argument, NULL, CMD_OPT_PYTHON},                                                   \
	    {"debug-dir", required_argument, NULL, CMD_OPT_DEBUG_DIR},                                       \
	    {"no-debuginfod", no_argument, NULL, CMD_OPT_NO_DEBUGINFOD}, {"quiet", no_argument, NULL, 'q'},  \
	    {"help", no_argument, NULL, 'h'},                                                                \
	{                                                                                                    \
		NULL, 0, NULL, 0                                                                             \
	}

/* One command's run: its name, its help and what the common options set. */
struct cmd_common {
	const char *name;	/* "report": the prefix of every message */
	void (*usage)(FILE *f); /* the command's own part of --help */
	const char *verdict;	/* what exit status 1 means besides a failure
				 * ("a budget is exceeded"), or NULL */
	bool leaks;		/* takes CMD_LEAK_OPTIONS */
	bool explicit_files;	/* never reads the latest run by default (diff) */
	bool times;		/* takes CMD_TIME_OPTIONS (their help) */
	/* --from/--to: the range [from_ns, to_ns) since each process's start
	 * (to_ns UINT64_MAX without --to); timed when either was given. */
	bool timed;
	uint64_t from_ns, to_ns;
	struct profile_opts po; /* what the common options set */
};

/* Handles option c of getopt_long (an unknown one too). Returns -1 when
 * parsing goes on, else the exit status to return now: 0 after --help, 1 out
 * of memory, 2 an unknown option or a missing value (said, with the closest
 * known option). */
int cmd_common_option(struct cmd_common *cc, int c, char **argv, const struct option *longopts);

struct source_opts;
/* --source-dir DIR (map false) or --prefix-map OLD=NEW (map true) of the
 * commands that read sources (lines, view, pack): adds arg to so. Returns
 * 0, 1 when out of memory, 2 for a --prefix-map without '=' (said, naming
 * command `name`). */
int cmd_source_option(const char *name, struct source_opts *so, bool map, char *arg);

/* Prints the whole --help: the command's usage(), the common options and the
 * exit status. */
void cmd_help(const struct cmd_common *cc, FILE *f);

/* The dump files the command line names from optind on, or the latest run's
 * when it names none (fathom.RUN.PID.fdump in the current directory with the
 * greatest RUN, said in one line on stderr). Returns 0, or says that there is
 * no file and returns 2. */
int cmd_files(const struct cmd_common *cc, int *argc, char ***argv);

/* Loads paths[0..n) (a file named twice counts once: "run.fdump run.fdump*")
 * into *p and prints the model's warnings unless -q, as "fathom CMD: warning:
 * [SIDE recording: ]..."; side names one recording of several (diff's "base"
 * and "new"), or is NULL. Returns 0, or says why not and returns the exit
 * status: 1 out of memory, 2 a file that cannot be read or is no dump. */
int cmd_load(const struct cmd_common *cc, struct profile *p, char **paths, size_t n, const char *side);

/* The time range of --from/--to into f (nothing without them). */
struct agg_filter;
void cmd_range_filter(const struct cmd_common *cc, struct agg_filter *f);

/* "from 1.000 s to 2.500 s" ("from 1.000 s to the end"), what a header
 * says of the range. */
void cmd_range_text(const struct cmd_common *cc, char *buf, size_t len);

/* Frees what the common options allocated (the suppression list). */
void cmd_common_free(struct cmd_common *cc);

/* Parses "1.5s", "200ms", "3m", "250us", or seconds into ns; -1 if bad. */
double cmd_parse_time(const char *s);

/* cmd_files() and cmd_load() of them: the recording the command line names
 * (or the latest run's) into *p. Returns 0, or the exit status. */
int cmd_load_files(const struct cmd_common *cc, struct profile *p, int *argc, char ***argv);

/* The last component of path ("/usr/lib/libc.so.6": "libc.so.6"); NULL for
 * NULL. */
const char *cmd_base_name(const char *path);

/* Whether p has a thread of id tid (a --tid that names none is a usage error). */
bool cmd_has_tid(const struct profile *p, int tid);

/* -w/--weight METRIC (flame, export): the metric (enum fa_metric), or -1
 * after saying that it is unknown. */
int cmd_parse_weight(const struct cmd_common *cc, const char *arg);

/* A list of paths borrowed from argv (flame's and view's --diff BASE, diff's
 * --base, --new and --prefix-map). cmd_paths_add returns 0, or -1 when out
 * of memory. */
struct cmd_paths {
	char **v;
	size_t n;
};
int cmd_paths_add(struct cmd_paths *l, char *path);

/* flame and view: FILE... against the base recording of --diff BASE
 * (repeatable). cmd_files_diff is cmd_files(), also saying, when no file is
 * left, that --diff takes one file; cmd_load_diff loads the new recording
 * into *p and the base (when there is one) into *base. Each returns 0, or
 * the exit status (then nothing is left to free). */
int cmd_files_diff(const struct cmd_common *cc, const struct cmd_paths *base, int *argc, char ***argv);
int cmd_load_diff(const struct cmd_common *cc, struct profile *p, struct profile *base,
		  const struct cmd_paths *base_paths, int argc, char **argv);

/* The output options of the commands that give a verdict (check, diff):
 * CMD_VERDICT_OPTIONS goes in their getopt_long table (with "o:" in the
 * short options), before CMD_COMMON_OPTIONS; cmd_verdict_option() is
 * cmd_common_option() that also takes these (-1: parsing goes on, else the
 * exit status; 2 for an unknown --format, said). */
enum { CMD_OPT_FORMAT = 0x1100 };
#define CMD_VERDICT_OPTIONS                                                                                  \
	{"format", required_argument, NULL, CMD_OPT_FORMAT},                                                 \
	{                                                                                                    \
		"output", required_argument, NULL, 'o'                                                       \
	}
struct cmd_verdict {
	int format;	 /* enum compare_format */
	const char *out; /* -o, or NULL: stdout */
};
int cmd_verdict_option(struct cmd_common *cc, struct cmd_verdict *v, int c, char **argv,
		       const struct option *longopts);
/* Writes report r as v says, with GitHub's ::error annotations and step
 * summary where the environment asks for them (GITHUB_ACTIONS=true,
 * GITHUB_STEP_SUMMARY); when the report went to a file and items failed,
 * says how many on stderr ("fathom diff: 2 regressions (report in F)": one
 * and many name them). Returns 0, or 2 after saying why it could not. */
struct compare_report;
int cmd_verdict_publish(const struct cmd_common *cc, const struct cmd_verdict *v,
			const struct compare_report *r, const char *one, const char *many);

#endif
