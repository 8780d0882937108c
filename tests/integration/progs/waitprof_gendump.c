/* Writes a synthetic dump of waits (format 1.4's WAIT and HOLD records) whose
 * totals are known exactly, for the analyzer's tests of fathom wait, flame,
 * export and check: three workers contending for one mutex whose holders
 * release it mostly at update_histogram, a consumer on a condition, a reader
 * blocked on a pipe, a server in epoll_wait, the main thread sleeping and
 * joining, and many short waits on a second mutex sampled as the agent
 * samples them (probability wait / threshold, weight threshold). The stacks
 * are this program's own functions (and libc's), so they symbolize to real
 * names and lines. Prints the facts as key=value lines.
 * usage: waitprof_gendump [--short N] [--seed N] [--lock-ms N] [--no-wait] OUT
 * --lock-ms: the length of each wait for the contended mutex (default 100);
 * --no-wait writes the same run recorded without --wait: samples only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <limits.h>
#include <link.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gendump.h"

#define CHUNK (1u << 16)
#define MS 1000000ull
#define THRESHOLD MS /* every wait of 1 ms or more recorded, shorter sampled */
#define MUTEX 0x5000ull
#define MUTEX2 0x6000ull
#define COND 0x7000ull

static struct fdw w;

/* The return address into the caller: a frame of the caller at the line of the call. */
__attribute__((noinline)) uint64_t here(void)
{
	return (uint64_t)__builtin_return_address(0);
}

/* A call site of this program: its address and its line. */
struct site {
	uint64_t addr;
	int line;
};
#define SITE(s)                                                                                              \
	do {                                                                                                 \
		(s)->addr = here();                                                                          \
		(s)->line = __LINE__;                                                                        \
		__asm__ volatile("" ::: "memory");                                                           \
	} while (0)

/* The functions where the threads wait (and one where holders release). */
__attribute__((noinline)) void count_items(struct site *s)
{
	SITE(s);
}
__attribute__((noinline)) void count_fast(struct site *s)
{
	SITE(s);
}
__attribute__((noinline)) void update_histogram(struct site *s)
{
	SITE(s);
}
__attribute__((noinline)) void flush_histogram(struct site *s)
{
	SITE(s);
}
__attribute__((noinline)) void consume(struct site *s)
{
	SITE(s);
}
__attribute__((noinline)) void read_pipe(struct site *s)
{
	SITE(s);
}
__attribute__((noinline)) void serve(struct site *s)
{
	SITE(s);
}
__attribute__((noinline)) void nap(struct site *s)
{
	SITE(s);
}
__attribute__((noinline)) void join_all(struct site *s)
{
	SITE(s);
}
__attribute__((noinline)) void thread_root(struct site *s)
{
	SITE(s);
}

/* Every loaded object with a file: a MODULE record each. */
static int module_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	uint64_t *id = arg;
	char path[PATH_MAX];
	const char *name = info->dlpi_name;
	if (!name || !name[0]) {
		ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
		if (n <= 0)
			return 0;
		path[n] = 0;
		name = path;
	} else if (name[0] != '/') {
		return 0; /* the vdso */
	}
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_vaddr < lo)
			lo = ph->p_vaddr;
		if (ph->p_vaddr + ph->p_memsz > hi)
			hi = ph->p_vaddr + ph->p_memsz;
	}
	/* The build id, so that the analyzer trusts the file as the one recorded. */
	const uint8_t *bid = NULL;
	size_t bid_len = 0;
	for (int i = 0; i < info->dlpi_phnum && !bid; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *e = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= e) {
			const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
			const uint8_t *desc = p + sizeof(*nh) + ((nh->n_namesz + 3) & ~3u);
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(p + sizeof(*nh), "GNU", 4)) {
				bid = desc;
				bid_len = nh->n_descsz;
				break;
			}
			p = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	gd_room(&w, 4096, CHUNK);
	if (lo < hi)
		fdw_module_bid(&w, ++*id, info->dlpi_addr, info->dlpi_addr + lo, info->dlpi_addr + hi, name,
			       bid, bid_len, 0);
	return 0;
}

/* A libc function's address, a few bytes in (the innermost frame of a stack). */
static uint64_t libc_fn(const char *name)
{
	void *f = dlsym(RTLD_DEFAULT, name);
	if (!f) {
		fprintf(stderr, "waitprof_gendump: %s not found\n", name);
		exit(1);
	}
	return (uint64_t)f + 4;
}

static struct site root;

/* Stack id: libc's leaf, the site's function, the thread's root. */
static void stack3(uint64_t id, uint64_t leaf, const struct site *s)
{
	uint64_t a[3] = {leaf, s->addr, root.addr};
	gd_room(&w, 128, CHUNK);
	fdw_stack(&w, id, 3, a);
}

static void wait_of(int tid, uint64_t time, uint64_t stack, uint64_t ns, int reason, uint64_t obj, int kind,
		    uint64_t weight)
{
	gd_room(&w, 96, CHUNK);
	fdw_switch_tid(&w, tid);
	gd_wait(&w, time, stack, ns, reason, obj, kind, weight);
}

/* CPU samples of thread tid every ms over [from, to). */
static uint64_t nsamples;
static void run(int tid, uint64_t stack, uint64_t from, uint64_t to)
{
	for (uint64_t t = from + MS; t <= to; t += MS) {
		gd_room(&w, 64, CHUNK);
		fdw_switch_tid(&w, tid);
		fdw_sample(&w, t, stack, 1);
		nsamples++;
	}
}

int main(int argc, char **argv)
{
	uint64_t nshort = 4000, seed = 1, lock_ms = 100;
	int no_wait = 0;
	const struct gd_opt opts[] = {{"short", GD_U64, &nshort},
				      {"seed", GD_U64, &seed},
				      {"lock-ms", GD_U64, &lock_ms},
				      {"no-wait", GD_FLAG, &no_wait}};
	if (gd_options(argc, argv, opts, sizeof(opts) / sizeof(opts[0])) < 0 || optind + 1 != argc) {
		fprintf(stderr,
			"usage: waitprof_gendump [--short N] [--seed N] [--lock-ms N] [--no-wait] OUT\n");
		return 2;
	}
	FILE *out = fopen(argv[optind], "wb");
	if (!out) {
		perror(argv[optind]);
		return 1;
	}
	struct site s_count, s_fast, s_update, s_flush, s_consume, s_read, s_serve, s_nap, s_join;
	count_items(&s_count);
	count_fast(&s_fast);
	update_histogram(&s_update);
	flush_histogram(&s_flush);
	consume(&s_consume);
	read_pipe(&s_read);
	serve(&s_serve);
	nap(&s_nap);
	join_all(&s_join);
	thread_root(&root);

	fdw_init_file(&w, out);
	const char *cmd = "waitprof";
	if (no_wait)
		fdw_header(&w, 4242, 1, 1000, FD_ALLOC_OFF, "/usr/bin/waitprof", cmd, strlen(cmd));
	else
		gd_header_wait(&w, 4242, 1, 1000, "/usr/bin/waitprof", cmd, THRESHOLD);
	uint64_t nmod = 0;
	dl_iterate_phdr(module_cb, &nmod);
	static const char *const names[] = {"gen-main", "counter-1", "counter-2", "counter-3",
					    "consumer", "reader",    "server"};
	for (int i = 0; i < 7; i++) {
		gd_room(&w, 64, CHUNK);
		fdw_thread(&w, 100 + i, 0, names[i]);
	}
	enum { S_LOCK = 1, S_FAST, S_UNLOCK, S_FLUSH, S_COND, S_READ, S_POLL, S_SLEEP, S_JOIN, S_RUN };
	stack3(S_LOCK, libc_fn("pthread_mutex_lock"), &s_count);
	stack3(S_FAST, libc_fn("pthread_mutex_lock"), &s_fast);
	stack3(S_UNLOCK, libc_fn("pthread_mutex_unlock"), &s_update);
	stack3(S_FLUSH, libc_fn("pthread_mutex_unlock"), &s_flush);
	stack3(S_COND, libc_fn("pthread_cond_wait"), &s_consume);
	stack3(S_READ, libc_fn("read"), &s_read);
	stack3(S_POLL, libc_fn("epoll_wait"), &s_serve);
	stack3(S_SLEEP, libc_fn("nanosleep"), &s_nap);
	stack3(S_JOIN, libc_fn("pthread_join"), &s_join);
	stack3(S_RUN, libc_fn("memset"), &s_count);
	uint64_t long_ms[8] = {0}; /* per thread 100..106: exact waiting (ms) */

	/* The workers: counter-1 runs 200 ms, waits for the mutex 3 x 100 ms,
	 * runs 100 ms; counter-2 runs 300, waits 2 x 100, runs 200;
	 * counter-3 runs 100, waits 1 x 100, then makes the short waits. */
	run(101, S_RUN, 0, 200 * MS);
	run(102, S_RUN, 0, 300 * MS);
	run(103, S_RUN, 0, 100 * MS);
	for (int i = 0; i < 3 && !no_wait; i++)
		wait_of(101, (200 + 100 * (uint64_t)i) * MS, S_LOCK, lock_ms * MS, FD_WAIT_MUTEX, MUTEX,
			FD_FDK_NONE, lock_ms * MS);
	for (int i = 0; i < 2 && !no_wait; i++)
		wait_of(102, (300 + 100 * (uint64_t)i) * MS, S_LOCK, lock_ms * MS, FD_WAIT_MUTEX, MUTEX,
			FD_FDK_NONE, lock_ms * MS);
	if (!no_wait)
		wait_of(103, 100 * MS, S_LOCK, lock_ms * MS, FD_WAIT_MUTEX, MUTEX, FD_FDK_NONE, lock_ms * MS);
	long_ms[1] = 3 * lock_ms, long_ms[2] = 2 * lock_ms, long_ms[3] = lock_ms;
	run(101, S_RUN, 500 * MS, 600 * MS);
	run(102, S_RUN, 500 * MS, 700 * MS);
	/* The holders: 78 contended releases at update_histogram, 22 at
	 * flush_histogram, each after holding the mutex 1 ms. */
	if (!no_wait) {
		gd_room(&w, 64, CHUNK);
		fdw_switch_tid(&w, 101);
		gd_hold(&w, MUTEX, S_UNLOCK, 1 * MS, 60);
		gd_hold(&w, MUTEX, S_FLUSH, 1 * MS, 22);
		fdw_switch_tid(&w, 102);
		gd_hold(&w, MUTEX, S_UNLOCK, 1 * MS, 18);
	}
	/* The short waits of counter-3 on the second mutex, 10 to 190 us, one
	 * after the other from 200 ms: recorded as the agent records them. */
	uint64_t rng = seed, t = 200 * MS, truth = 0, weight = 0, recorded = 0;
	double var = 0;
	for (uint64_t i = 0; i < nshort; i++) {
		uint64_t ns = 10000 + gd_rand(&rng) % 180001;
		truth += ns;
		if (gd_rand(&rng) % THRESHOLD < ns && !no_wait) {
			wait_of(103, t, S_FAST, ns, FD_WAIT_MUTEX, MUTEX2, FD_FDK_NONE, THRESHOLD);
			weight += THRESHOLD;
			var += (double)THRESHOLD * (double)(THRESHOLD - ns);
			recorded++;
		}
		t += ns + 1000;
	}
	uint64_t c3_end = t;
	/* The consumer: 4 x 50 ms on the condition, running between. */
	for (uint64_t i = 0; i < 4; i++) {
		if (!no_wait)
			wait_of(104, i * 100 * MS, S_COND, 50 * MS, FD_WAIT_COND, COND, FD_FDK_NONE, 50 * MS);
		run(104, S_RUN, (i * 100 + 50) * MS, (i + 1) * 100 * MS);
	}
	long_ms[4] = 200;
	/* The reader: one read of a pipe, 300 ms. */
	if (!no_wait)
		wait_of(105, 100 * MS, S_READ, 300 * MS, FD_WAIT_READ, 5, FD_FDK_PIPE, 300 * MS);
	run(105, S_RUN, 400 * MS, 420 * MS);
	long_ms[5] = 300;
	/* The server: epoll_wait 5 x 100 ms. */
	for (uint64_t i = 0; i < 5 && !no_wait; i++)
		wait_of(106, i * 100 * MS, S_POLL, 100 * MS, FD_WAIT_POLL, 7, FD_FDK_NONE, 100 * MS);
	long_ms[6] = 500;
	/* The main thread: sleeps 200 ms, then joins for 1 s. */
	if (!no_wait) {
		wait_of(100, 0, S_SLEEP, 200 * MS, FD_WAIT_SLEEP, 0, FD_FDK_NONE, 200 * MS);
		wait_of(100, 200 * MS, S_JOIN, 1000 * MS, FD_WAIT_JOIN, 0, FD_FDK_NONE, 1000 * MS);
	}
	long_ms[0] = 1200;
	gd_room(&w, 64, CHUNK);
	fdw_trailer(&w, 1200 * MS, nsamples, nsamples, 0);
	fdw_flush(&w, false);
	fdw_free(&w);
	if (fclose(out) != 0 || w.write_error) {
		perror("waitprof_gendump: close");
		return 1;
	}
	const char *file = strrchr(__FILE__, '/') ? strrchr(__FILE__, '/') + 1 : __FILE__;
	printf("threshold_ns=%llu\n", (unsigned long long)THRESHOLD);
	printf("samples=%llu\n", (unsigned long long)nsamples);
	for (int i = 0; i < 7; i++)
		printf("wait_%d_ns=%llu\n", 100 + i,
		       (unsigned long long)(long_ms[i] * MS + (i == 3 ? weight : 0)));
	printf("lock_ns=%llu\n", (unsigned long long)(6 * lock_ms * MS + weight));
	printf("mutex_ns=%llu\nmutex_threads=3\n", (unsigned long long)(6 * lock_ms * MS));
	printf("short_true_ns=%llu\nshort_est_ns=%llu\nshort_sigma_ns=%.0f\nshort_records=%llu\n",
	       (unsigned long long)truth, (unsigned long long)weight, sqrt(var),
	       (unsigned long long)recorded);
	printf("short_end_ns=%llu\n", (unsigned long long)c3_end);
	printf("condition_ns=%llu\npipe_ns=%llu\npoll_ns=%llu\nsleep_ns=%llu\njoin_ns=%llu\n", 200 * MS,
	       300 * MS, 500 * MS, 200 * MS, 1000 * MS);
	printf("total_ns=%llu\n", (unsigned long long)((2200 + 6 * lock_ms) * MS + weight));
	printf("holder_site=update_histogram (%s:%d)\nholder_share=78\n", file, s_update.line);
	printf("flush_site=flush_histogram (%s:%d)\n", file, s_flush.line);
	printf("mutex_site=count_items (%s:%d)\n", file, s_count.line);
	printf("fast_site=count_fast (%s:%d)\n", file, s_fast.line);
	printf("cond_site=consume (%s:%d)\nread_site=read_pipe (%s:%d)\npoll_site=serve (%s:%d)\n", file,
	       s_consume.line, file, s_read.line, file, s_serve.line);
	printf("sleep_site=nap (%s:%d)\njoin_site=join_all (%s:%d)\n", file, s_nap.line, file, s_join.line);
	return 0;
}
