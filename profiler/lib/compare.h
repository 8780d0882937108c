/* CI verdicts: a recording reduced to the figures CI compares, a diff of two
 * such summaries, budgets checked against one, and the report in text,
 * Markdown, JUnit XML, JSON and GitHub annotations. */
#ifndef FATHOM_COMPARE_H
#define FATHOM_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "profile.h"

/* One function of one recording. Strings are borrowed from the profile, which
 * must outlive the summary. */
struct compare_func {
	const char *name, *file, *module;
	int line; /* declaration line, else the hottest line seen; 0 if unknown */
	/* Self and total as every command counts them (aggregate.h). */
	double self, total;		     /* CPU weight (sampling periods) */
	double self_n, total_n;		     /* CPU samples (delivered signals), what the z-test counts */
	int64_t alloc_calls, alloc_bytes;    /* as the allocation's site (site.h) */
	int64_t leaked_bytes, leaked_blocks; /* as the allocation's site */
	int leak_line;			     /* line of the site's biggest leak, 0 if unknown */
	bool unsymbolized;		     /* its module's file gave no names: an address, not a function */
};

struct compare_summary {
	size_t nprocs;
	size_t runs; /* root processes: runs merged into this recording (>= 1) */
	/* CPU */
	double samples;	   /* signals delivered: the independent observations */
	double cpu_weight; /* sampling periods (samples weighted by 1 + overruns) */
	double cpu_ns;	   /* periods converted to time with each process's rate */
	int clock;	   /* FD_CLOCK_CPU, FD_CLOCK_WALL, or -1 when processes disagree */
	uint64_t lost_samples;
	/* heap */
	bool has_alloc;	    /* some process recorded allocations */
	bool alloc_sampled; /* memory figures are estimates */
	bool temp_unknown;  /* temporaries not estimated (a sampled recording) */
	uint64_t lost_alloc;
	int64_t alloc_calls, alloc_bytes, temp_calls, peak, leaked_bytes, leaked_blocks;
	int64_t suppressed_bytes, suppressed_blocks; /* leaks a suppression matched: not in leaked_* */
	bool damaged;				     /* a file was read only up to its last good chunk */
	/* waiting (record --wait): the threads' waiting time, an estimate, and
	 * its variance (short waits are sampled: wait.h) */
	bool has_wait;
	double wait_ns, wait_var;
	struct compare_func *funcs;
	size_t nfuncs;
	/* Modules whose functions could not be named (their file is gone or was
	 * rebuilt since the recording), with the CPU samples in them. */
	struct compare_unsym {
		const char *name, *path, *problem;
		double self_n;
	} * unsym;
	size_t nunsym;
};

/* Reduces a loaded profile. Returns 0 or -ENOMEM. */
int compare_summarize(const struct profile *p, struct compare_summary *s);
void compare_summary_free(struct compare_summary *s);

/* What `fathom diff --metric` can name; a diff judges the selected ones. */
enum {
	COMPARE_M_CPU_TIME = 1u << 0, /* total CPU time, relative threshold */
	COMPARE_M_FUNCS = 1u << 1,    /* per-function CPU shares, z-test + effect size */
	COMPARE_M_ALLOC_CALLS = 1u << 2,
	COMPARE_M_ALLOC_BYTES = 1u << 3,
	COMPARE_M_PEAK = 1u << 4,
	COMPARE_M_LEAKED = 1u << 5, /* leaked bytes, blocks and leak sites */
	COMPARE_M_TEMP_CALLS = 1u << 6,
	COMPARE_M_WAIT = 1u << 7, /* the threads' waiting time (record --wait), relative threshold */
	COMPARE_M_CPU = COMPARE_M_CPU_TIME | COMPARE_M_FUNCS,
	COMPARE_M_MEM = COMPARE_M_ALLOC_CALLS | COMPARE_M_ALLOC_BYTES | COMPARE_M_PEAK | COMPARE_M_LEAKED |
			COMPARE_M_TEMP_CALLS,
	COMPARE_M_ALL = COMPARE_M_CPU | COMPARE_M_MEM | COMPARE_M_WAIT,
};
/* Parses one metric name ("cpu", "cpu-time", "functions", "alloc-calls",
 * "alloc-bytes", "peak", "leaked", "temp-calls", "memory", "wait", "all") into bits;
 * 0 if unknown. */
unsigned compare_metric_parse(const char *name);
/* The names compare_metric_parse accepts, NULL-terminated (for suggestions). */
extern const char *const compare_metric_names[];

struct compare_opts {
	unsigned metrics;      /* COMPARE_M_* bits; 0 means every metric both recordings have */
	bool metrics_explicit; /* the user named them: a missing input is an error, not a note */
	double threshold;      /* relative growth that fails an exact memory metric (0.05) */
	double cpu_threshold;  /* relative growth that fails total CPU time (0.10) */
	double wait_threshold; /* relative growth that fails the waiting time, beyond its error (0.20) */
	double func_threshold; /* minimum slowdown of a function relative to the rest (0.10) */
	double alpha;	       /* family-wise false-alarm rate of the function tests (0.001) */
	double min_share;      /* functions below this share in both runs are not tested (0.005) */
	size_t top;	       /* how many grown and shrunk functions to list (10) */
	/* "OLD=NEW": source paths starting with OLD (in either recording) are
	 * matched as if they started with NEW. Without any, a prefix that the
	 * two recordings' source paths differ by (two checkouts) is found. */
	const char *const *prefix_maps;
	size_t nprefix_maps;
};
void compare_opts_default(struct compare_opts *o);

enum compare_unit { COMPARE_COUNT, COMPARE_BYTES, COMPARE_NS, COMPARE_SHARE };
enum compare_status { COMPARE_OK, COMPARE_FAIL, COMPARE_IMPROVED, COMPARE_SKIPPED };
enum compare_section {
	COMPARE_SEC_PROGRAM,  /* whole-program metric of a diff */
	COMPARE_SEC_FUNCTION, /* a judged function or leak site (failures only, plus one summary) */
	COMPARE_SEC_GREW,     /* informational: grew most */
	COMPARE_SEC_SHRANK,   /* informational: shrank most */
	COMPARE_SEC_BUDGET,   /* one budget of a check */
};

/* One line of a verdict: a JUnit testcase, a table row, maybe an annotation. */
struct compare_item {
	enum compare_section section;
	char *name;		 /* unique in the report: "peak", "cpu self: parse_line" */
	const char *metric;	 /* "cpu-time", "cpu-self", "cpu-total", "peak", "leak-site", ... */
	const char *func, *file; /* borrowed; NULL for whole-program items */
	int line;
	enum compare_unit unit;
	double base, value; /* diff: base and new value; check: value (base unused, NAN) */
	double limit;	    /* check: the budget; diff: the threshold applied (relative), or NAN */
	double change;	    /* relative change new/base - 1; function rows: estimated slowdown */
	double z, p;	    /* function rows: z-score and one-sided p-value; NAN otherwise */
	enum compare_status status;
	char *message; /* one sentence saying what was found, or why it was skipped */
};

struct compare_report {
	const char *command; /* "diff" or "check" */
	struct compare_item *items;
	size_t nitems, cap;
	char **notes; /* caveats worth printing with the verdict */
	size_t nnotes;
	size_t nfail;
	/* diff: the largest share of a recording's CPU samples in modules that
	 * could not be symbolized (when at least --min-share): no verdict is
	 * possible on them, so a diff without failures is not a pass */
	double unjudged;
	/* diff: the figures of the statistical test, for the JSON output and the docs */
	size_t tests;	   /* function tests performed (the Bonferroni divisor) */
	double z_crit;	   /* z-score a function must exceed */
	double samples[2]; /* CPU samples of base and new (diff), or of the recording (check) */
	/* diff --lines: for each regressed function, the lines whose share grew
	 * most (compare-lines.c); written after the text and Markdown reports. */
	struct compare_line *lines;
	size_t nlines;
};

/* One line of a regressed function (diff --lines). */
struct compare_line {
	const char *func, *file; /* borrowed from the new recording */
	uint32_t line;
	bool total;	    /* the function's total regressed: total shares, else self */
	double base, value; /* the line's share of the CPU samples, base and new */
	char *text;	    /* the line's source, NULL when not found */
	char *note;	    /* on a function's first line: its source changed between the builds */
};

/* diff --lines: for each regressed function of r (by self or total CPU
 * share), its `top` lines whose share of the samples grew most from base
 * to cur, with their source when it is found. Returns 0 or -ENOMEM. */
int compare_lines(const struct profile *base, const struct profile *cur, struct compare_report *r,
		  size_t top);
/* Writes them (text or Markdown; nothing for other formats or none). */
void compare_lines_write(const struct compare_report *r, int fmt, FILE *f);
void compare_lines_free(struct compare_report *r);

/* Compares new against base. Returns 0, -ENOMEM, or -EINVAL with *err set
 * when an explicitly requested metric is missing from a recording. */
int compare_diff(const struct compare_summary *base, const struct compare_summary *cur,
		 const struct compare_opts *o, struct compare_report *r, char **err);

/* Budgets of `fathom check`; a negative value means "not set". */
struct compare_budgets {
	double max_peak, max_leaked, max_leaked_blocks, max_alloc_calls, max_alloc_bytes, max_temp_calls;
	double max_samples, max_cpu_ns;
	double max_wait_ns; /* the threads' waiting time (record --wait) */
};
void compare_budgets_init(struct compare_budgets *b);
/* Checks s against the budgets that are set. Returns 0, -ENOMEM, or -EINVAL
 * with *err set when no budget is set, a memory budget is set on a
 * recording without allocation data, or a waiting budget on one without
 * waits. */
int compare_check(const struct compare_summary *s, const struct compare_budgets *b, struct compare_report *r,
		  char **err);

void compare_report_free(struct compare_report *r);

enum compare_format { COMPARE_TEXT, COMPARE_MARKDOWN, COMPARE_JUNIT, COMPARE_JSON };
/* Parses "text", "markdown" (or "md"), "junit" (or "xml"), "json"; -1 if unknown. */
int compare_format_parse(const char *s);
void compare_write(const struct compare_report *r, enum compare_format fmt, FILE *f);
/* GitHub workflow commands (::error) for the failed items. A source file
 * under root (the checkout, $GITHUB_WORKSPACE; may be NULL) is named relative
 * to it, as GitHub needs to place the annotation on the file. */
void compare_write_annotations(const struct compare_report *r, FILE *f, const char *root);

/* Publishes a verdict the way CI reads it: the report in fmt to out_path
 * (stdout when NULL or "-"), GitHub annotations on stdout when annotate is
 * set (files relative to root), and the Markdown report appended to
 * summary_path when not NULL (the file $GITHUB_STEP_SUMMARY names). Returns 0,
 * or -errno with *err naming the file that could not be written. */
int compare_publish(const struct compare_report *r, enum compare_format fmt, const char *out_path,
		    const char *summary_path, bool annotate, const char *root, char **err);

/* A figure in unit u ("1.2 MiB", "35 ms", "12.5%", "1,234"; "-" for NaN),
 * a relative change ("+12.5%", "new", "gone") and a function as people name
 * it in a report line ("parse_line (parse.c:42)"), for compare.c,
 * compare-diff.c and the writers. buf holds at least 32 bytes. */
const char *compare_value_str(char *buf, enum compare_unit u, double v);
const char *compare_change_str(char *buf, double c);
void compare_func_where(char *buf, size_t len, const char *func, const char *file, int line);

/* Statistics, exposed for the tests. */
/* One-sided upper tail of the standard normal distribution, P(Z > z). */
double compare_normal_tail(double z);
/* The z with compare_normal_tail(z) == p, for 0 < p < 0.5. */
double compare_normal_quantile(double p);
/* Two-proportion z-score for x1 of n1 against x2 of n2 (positive when the
 * second proportion is larger); 0 when undefined. */
double compare_two_prop_z(double x1, double n1, double x2, double n2);

#endif
