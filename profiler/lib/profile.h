/* The analyzer's model of one or more recordings: processes, modules, threads,
 * symbolized stacks and their weights. Every command works on this.
 *
 * Names: the model's types and constants carry the prefix fa_ / FA_ ("fathom
 * analyzer"), as the dump format's carry fd_ / FD_ ("fathom dump") in
 * fathom-dump.h, so that a struct fa_thread (a thread as the analyzer sees it,
 * merged over a dump) is never confused with the record it was read from.
 * Elements refer to each other by uint32_t index into the profile's arrays,
 * FA_NONE meaning none. */
#ifndef FATHOM_PROFILE_H
#define FATHOM_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The weights a stack can carry. Memory weights are estimates scaled by the
 * sampling rate when the recording used sampled allocation tracking. */
enum fa_metric {
	FA_CPU,		 /* sampling periods (sum of sample weights) */
	FA_ALLOC_CALLS,	 /* malloc, calloc, realloc, memalign, ... calls */
	FA_ALLOC_BYTES,	 /* bytes requested by those calls */
	FA_TEMP_CALLS,	 /* temporary allocations: freed before any other allocation of the same thread */
	FA_LEAKED_BYTES, /* still allocated at exit */
	FA_LEAKED_BLOCKS,
	FA_PEAK_BYTES, /* bytes live at the moment of the process's heap peak */
	FA_WAIT,       /* ns a thread waited (record --wait): sums of WAIT weight_ns, an unbiased estimate */
	FA_NMETRICS
};

/* Lowercase names used by flags, JSON and exports: "cpu", "alloc-calls", ... */
extern const char *const fa_metric_names[FA_NMETRICS];
/* Parses a metric name (also accepts "alloc-bytes" etc.); returns -1 if unknown. */
int fa_metric_parse(const char *name);

#define FA_NONE UINT32_MAX

/* A process's Python frames (format 1.3): what the analyzer made of them
 * (profiler/lib/python-merge.c); all zero when no interpreter was found. */
struct fa_python {
	uint64_t version; /* Py_Version: 0x030b02f0 is 3.11.2; 0: none found */
	char *path;	  /* the object that holds the interpreter */
	/* CPU weight of the stacks with Python frames, of those whose
	 * eval-loop frames and Python calls disagreed (their Python frames
	 * shown under the innermost eval frame), and of those whose native
	 * frames stopped at a perf trampoline (the outer Python calls then at
	 * the root; not a disagreement). */
	int64_t weight, mismatched, trampoline_cut;
	/* -X perf (PYTHONPERFSUPPORT, sys.activate_stack_trampoline): the
	 * interpreter's perf trampolines were seen on (format 1.4). Native
	 * unwinding stops at them: native frames between Python calls are lost. */
	bool perf;
	uint64_t walks, faults; /* the agent's walks of Python frames, and those a fault cut short */
};

/* The live heap of one stack at a mark. */
struct fa_mark_live {
	uint32_t stack;
	int64_t bytes, blocks;
	/* At FA_MARK_AT and FA_MARK_FROM only (else 0): what the stack had
	 * allocated so far (calls, bytes); those marks list every stack that
	 * allocated, live or not. */
	int64_t calls, alloc_bytes;
};

/* A WINDOW record of a process (format 1.4: recording switched on or off, a
 * snapshot, a rotation), or the point `fathom mem --at TIME` asked for
 * (what FA_MARK_AT). */
#define FA_MARK_AT 100
#define FA_MARK_FROM 101
struct fa_mark {
	int what; /* FD_WIN_* or FA_MARK_AT */
	uint64_t time_ns, seq, id;
	char *label; /* NULL: none */
	/* The live heap when the mark was written (every allocation event
	 * below seq replayed), in all and by stack (those with live bytes);
	 * heap_known false without allocation tracking. */
	bool heap_known;
	int64_t heap_bytes, heap_blocks;
	/* At FA_MARK_AT and FA_MARK_FROM only: allocation calls, bytes and
	 * frees replayed so far. */
	int64_t alloc_calls, alloc_bytes, frees;
	struct fa_mark_live *live;
	size_t nlive;
};

struct fa_process {
	const char *path; /* the dump file */
	int pid, ppid, generation;
	char *exe;
	char *cmdline; /* arguments joined by spaces */
	unsigned hz;
	int clock;	/* FD_CLOCK_* */
	int alloc_mode; /* FD_ALLOC_* */
	uint64_t alloc_sample_bytes;
	uint64_t start_real_ns; /* wall-clock start, ns since the epoch */
	uint64_t duration_ns;	/* last time seen in the dump */
	uint64_t samples, sample_weight;
	uint64_t lost_samples, lost_alloc;
	/* CPU sampling was impossible in the process: why, in words
	 * ("timer_create: ..."); or it was for some threads: how many. */
	char *cpu_unavailable;
	uint64_t cpu_unsampled_threads;
	/* Sample weight that landed in the agent's own code, charged to the
	 * program's frame that called into it. Since format 1.3 those samples
	 * are flagged: unless profile_opts.include_agent, they are left out of
	 * the stacks' weights (the program's shares), with their weight in
	 * agent_left_out (sample_weight and samples still count them). */
	uint64_t cpu_in_agent, agent_left_out;
	/* The timer's samples (not those charged at a thread's end) and their
	 * weight in periods: their ratio says how late the kernel delivered the
	 * timer (report's header notes it when samples are sparse). */
	uint64_t timer_samples, timer_weight;
	char *cpu_unsampled_why;
	/* The `fathom record` run the dump belongs to (NULL: not recorded,
	 * an older dump or the agent used alone). */
	char *run_id;
	/* The object whose malloc the program called instead of the agent's
	 * (an allocator preloaded before it, or the program's own), or NULL. */
	char *alloc_bypass;
	/* The CPU account (format 1.2; see cpu-account.h): the threads'
	 * measured CPU time (sum of THREAD_END cpu_ns, over cpu_threads
	 * threads), and the CPU time the agent charged at thread ends
	 * (exact ns; it is part of sample_weight). When has_process_cpu, the
	 * trailer's CPU time of the whole process since the agent started,
	 * and of the agent's writer thread. */
	uint64_t cpu_measured_ns, cpu_threads, cpu_end_ns;
	uint64_t cpu_process_ns, cpu_agent_ns;
	bool has_process_cpu;
	bool complete; /* a trailer was read */
	/* The process died of this signal, left at its default action; the
	 * agent finished the dump first (0: it ended otherwise). */
	int end_signal;
	/* The agent detached (FD_END_DETACH): the process ran on. */
	bool detached;
	/* The dump carries its own symbols (fathom record --symbolize), used
	 * instead of the module files. */
	bool symbolized;
	/* With profile_opts.keep_symbols: what was looked up in the module files
	 * for this process's addresses, to save into its dump. */
	struct symcache *symbols;
	/* The symbols the dump carries (symbols chunks: record --symbolize,
	 * fathom pack), with its modules' facts and embedded sources; NULL
	 * when it has none. */
	struct symcache *saved;
	char *damage; /* NULL, or what the reader could not read, in words */
	struct fa_python python;
	/* Waits were recorded (format 1.4, record --wait): every wait at least
	 * this long, shorter ones sampled (wait.h). 0: not recorded. */
	uint64_t wait_threshold_ns;
	/* The recording's windows and snapshots (marks.c), in file order. */
	struct fa_mark *marks;
	size_t nmarks;
	/* The first and last time of the timer's samples (ns since start;
	 * meaningful when timer_samples > 0). */
	uint64_t first_sample_ns, last_sample_ns;
	/* Frees of blocks the replay never saw allocated (allocated before
	 * the recording started, or while it was paused): left out. And the
	 * blocks live when recording paused, whose fate while paused is
	 * unknown: left out from the next start on. */
	uint64_t frees_unknown;
	int64_t paused_live_bytes, paused_live_blocks;
	/* A rotated recording (record --rotate) is one process however many of
	 * its files were read (series.c): files read, and the numbers of the
	 * first and last (1 and 1: one whole dump). A first_file above 1: the
	 * files before it were not read, so what came before is unknown; a
	 * next_file above last_file: the recording goes on in files not read. */
	uint32_t files, first_file, last_file, next_file;
};

struct fa_module {
	uint32_t proc;
	uint64_t bias, start, end;
	char *path;
	const char *name; /* basename of path; a Python module's dotted name */
	uint8_t build_id[64];
	uint8_t build_id_len;
	/* Why this module's file gave no names ("gone since the recording",
	 * "changed since the recording (other build id)"); its functions are
	 * then "module+0xOFFSET". NULL when symbolized, or not a file. */
	const char *symbols_problem;
	/* From a packed dump (format 1.5): the module file's modification time
	 * when it was packed (ns since the epoch), for an analysis without the
	 * file; 0 when unknown. */
	int64_t packed_built_ns;
	/* A Python module (python.c names them: json.decoder): path is the
	 * file of its code, and it covers no addresses. */
	bool python;
	/* The symbolizer opened the module but found no debug information
	 * (no source lines; functions from its symbol table only, or none):
	 * debug-hint.c tells which package or --debug-dir would give it. */
	bool no_debuginfo;
};

struct fa_thread {
	uint32_t proc;
	int tid;
	char *name;
	int64_t cpu; /* sum of sample weights */
	uint64_t samples;
	/* The CPU account (format 1.2): the CPU time of the timer's samples,
	 * the CPU time charged at the thread's end (ns), and the measured CPU
	 * time (THREAD_END's cpu_ns; summed when a tid was used twice), valid
	 * when measured. */
	uint64_t timer_ns, end_ns, measured_ns;
	bool measured;
	/* The scheduler's account of the same span (format 1.7, THREAD_END;
	 * summed like measured_ns), valid when sched: ns on a CPU, and ns
	 * runnable but waiting for a CPU. */
	uint64_t run_ns, runq_ns;
	bool sched;
};

/* A function, unique over the whole profile by (name, file, module name). */
struct fa_func {
	char *name;	 /* demangled; "module+0x1f3a" when unknown */
	char *file;	 /* source file, or NULL */
	uint32_t module; /* index into modules, or FA_NONE */
	int decl_line;	 /* first line of the function, 0 if unknown */
};

/* One symbolized frame; inlined functions are frames of their own. */
struct fa_frame {
	uint32_t func;
	uint32_t line; /* 0 if unknown */
};

/* One distinct instruction address of one process, symbolized once. */
struct fa_loc {
	uint64_t addr;
	uint32_t module;      /* FA_NONE when no module covers addr */
	uint64_t offset;      /* addr - module bias (the ELF virtual address) */
	uint32_t frame_first; /* index into frames: innermost (inlined) first ... */
	uint32_t nframes;     /* ... up to the real function; always >= 1 */
};

struct fa_stack {
	uint32_t proc;
	uint32_t depth;
	uint32_t *locs; /* depth loc indices, leaf first */
	int64_t w[FA_NMETRICS];
};

/* CPU weight of one stack on one thread (for --threads, --tid and the viewer),
 * and its waiting time (FA_WAIT's weight, ns). */
struct fa_thread_stack {
	uint32_t stack, thread;
	int64_t cpu;
	uint64_t samples;
	int64_t wait;
};

/* One CPU sample in time (kept with profile_opts.keep_times, for time
 * ranges: aggregate.h's agg_filter, the viewer's timeline): its (stack,
 * thread) entry and its weight in periods. */
struct fa_tsample {
	uint64_t time_ns; /* since its process's start */
	uint32_t tstack;  /* index into profile.tstacks */
	uint32_t weight;
};

/* Heap and RSS over time, from the agent's periodic ticks and the heap replay. */
struct fa_point {
	uint32_t proc;
	uint64_t time_ns; /* since the process's start */
	int64_t heap, rss;
};

#define FA_HIST_BUCKETS 40 /* bucket i holds sizes in [2^(i-1), 2^i), bucket 0 size 0 */

struct fa_mem {
	uint64_t alloc_calls, alloc_bytes, frees, temp_calls;
	int64_t peak_bytes;
	uint64_t peak_time_ns; /* of the largest peak */
	uint32_t peak_proc;
	int64_t leaked_bytes, leaked_blocks;
	/* Leaked, but matched by a suppression: not in leaked_* (nor in the
	 * stacks' leaked weights). */
	int64_t suppressed_bytes, suppressed_blocks;
	uint64_t hist_calls[FA_HIST_BUCKETS];
	uint64_t hist_bytes[FA_HIST_BUCKETS];
	double scale; /* 1 for exact recordings; sampled ones are scaled up */
	bool sampled;
	/* A process was recorded with sampled allocation tracking, which cannot
	 * tell temporaries: temp_calls and the temp weights leave it out, and
	 * reports say "not estimated" rather than a count. */
	bool temp_unknown;
};

/* A leak suppression that matched, and what it took out of "leaked". */
struct fa_suppression {
	char *pattern; /* after "leak:" */
	char *source;  /* "default", the file, or the executable that embeds it */
	int64_t bytes, blocks;
};

struct profile {
	struct fa_process *procs;
	size_t nprocs;
	struct fa_module *modules;
	size_t nmodules;
	struct fa_thread *threads;
	size_t nthreads;
	struct fa_func *funcs;
	size_t nfuncs;
	struct fa_frame *frames;
	size_t nframes;
	struct fa_loc *locs;
	size_t nlocs;
	struct fa_stack *stacks;
	size_t nstacks;
	/* The loc indices of the stacks profile_load made, which point into
	 * it (one allocation, where a malloc per stack cost its overhead). A
	 * stack's locs outside it (a fixture's) are its own allocation. */
	uint32_t *stack_pool;
	size_t nstack_pool;
	struct fa_thread_stack *tstacks;
	size_t ntstacks;
	struct fa_point *timeline;
	size_t ntimeline;
	/* The CPU samples in file order, each process's in time order (only
	 * with profile_opts.keep_times; has_times says so). */
	struct fa_tsample *tsamples;
	size_t ntsamples;
	bool has_times;
	struct fa_maps *maps; /* the program's mappings (maps.h); NULL when none were recorded */
	struct fa_mem mem;
	int64_t total[FA_NMETRICS]; /* sum over stacks (peak: the sum at the peak) */
	char **warnings;
	size_t nwarnings; /* to print once on stderr */
	struct fa_suppression *suppressions;
	size_t nsuppressions; /* those that matched */
	/* Loaded with profile_opts.python_view: Python frames are nodes by
	 * line in trees by name (aggregate.h, flame_python_label). */
	bool python_view;
	/* What the WAIT and HOLD records said beyond the stacks' FA_WAIT
	 * weights (wait.h): NULL when the dumps hold none. */
	struct fa_waits *waits;
};

struct profile_opts {
	bool no_symbols;	/* skip libdwfl: functions are module+offset */
	bool quiet;		/* no progress on stderr */
	const char *debug_dirs; /* extra directories for separate debug files */
	bool no_debuginfod;	/* never ask DEBUGINFOD_URLS' servers (--no-debuginfod) */
	/* Leak suppressions (suppress.c): files in LeakSanitizer's format, and
	 * whether to skip the defaults for glibc and what the program embeds. */
	char *const *suppressions;
	size_t nsuppressions;
	bool no_default_suppressions;
	bool keep_symbols; /* fill each process's `symbols` (fathom record --symbolize) */
	bool several_runs; /* dumps of different runs are meant together (diff's repetitions): no warning */
	/* Charge samples of the agent's own work to the program's frames that
	 * called into it, instead of leaving them out (fa_process.agent_left_out). */
	bool include_agent;
	/* --python: the Python-only view of stacks with Python frames
	 * (python.h, py_view): the interpreter's native frames folded away. */
	bool python_view;
	/* fathom mem --at TIME: a mark (FA_MARK_AT) at the first tick at or
	 * after this time (ns since each process's start; 0: none). */
	uint64_t mark_at_ns;
	/* fathom mem --from or --since TIME: a second such mark (FA_MARK_FROM),
	 * for the live heap at the start of a range (0: none). */
	uint64_t mark_from_ns;
	/* Keep every CPU sample's time (profile.tsamples): 16 bytes a sample,
	 * for --from/--to and the viewer's timeline. */
	bool keep_times;
};

/* Reads, validates and merges the dump files, replays the heap and symbolizes.
 * A damaged file is read up to its last good chunk and noted in warnings and in
 * its process's damage; a file that is not a fathom dump at all is an error.
 * Returns 0, or -errno with *err set to a message naming the file. */
int profile_load(struct profile *p, char *const *paths, size_t npaths, const struct profile_opts *opts,
		 char **err);
void profile_free(struct profile *p);
/* Adds a warning (printf-style) to p->warnings, once: a repeat is dropped.
 * Returns 0 or -ENOMEM. */
int profile_warn(struct profile *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The (stack, thread) entries grouped by thread, each thread's in p->tstacks
 * order: those of thread t are p->tstacks[(*by)[i]] for i in
 * [(*first)[t], (*first)[t + 1]). One pass, for per-thread views (a scan of
 * every entry for each thread is quadratic). Returns 0 or -ENOMEM; the caller
 * frees *first and *by. */
int profile_tstacks_by_thread(const struct profile *p, uint32_t **first, uint32_t **by);

/* Writes the frames of stack s, leaf first, inlined frames expanded, into out
 * (at most max) and returns how many there are in all. */
size_t profile_stack_frames(const struct profile *p, const struct fa_stack *s, struct fa_frame *out,
			    size_t max);

#endif
