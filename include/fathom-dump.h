/* The fathom dump format: the one header that the agent and the analyzer share.
 *
 * Layout of a dump file (all fixed-width integers little-endian):
 *
 *   file header, 16 bytes:  magic "FATHOMDP" | u16 major | u16 minor | u32 flags (0)
 *   then chunks, each:      chunk header, 24 bytes | payload (payload_len bytes)
 *
 *   chunk header: u32 magic FD_CHUNK_MAGIC | u8 type (FD_CHUNK_RECORDS)
 *                 u8 flags (FD_CHUNK_ZSTD: payload is one zstd frame)
 *                 u16 header_crc (low 16 bits of crc32c over the whole
 *                                 24-byte header with this field zero)
 *                 u32 seq (0, 1, 2, ... per file)
 *                 u32 payload_len (stored bytes) | u32 raw_len (decoded bytes)
 *                 u32 payload_crc (crc32c of the stored payload)
 *
 * A decoded payload is a sequence of records: u8 kind | varint body_len | body.
 * Unknown kinds are skipped by body_len (minor versions may add kinds and may
 * append fields to a body; a reader ignores trailing bytes it does not know).
 * Every chunk is self-contained: the delta bases below reset at chunk start, so
 * a reader can skip a damaged chunk and resynchronise on the next chunk magic.
 *
 * Body fields are unsigned LEB128 varints unless noted; "zz" is a zigzag-encoded
 * signed varint; "str" and "bytes" are a varint length then that many bytes
 * (no NUL). Times are nanoseconds of CLOCK_MONOTONIC since the HEADER's
 * start_mono_ns unless noted.
 *
 * Per-chunk decoding state, reset to zero at the start of every chunk:
 *   cur_tid   set by FD_REC_TID; the thread that SAMPLE/ALLOC/FREE/REALLOC belong to
 *   prev_seq  the last allocation-event sequence number in this chunk
 *   prev_ptr  the last pointer mentioned by an allocation event in this chunk
 *   prev_time the last time of a SAMPLE in this chunk
 *
 * Records (kind = value):
 *   HEADER (1)   pid, ppid, start_real_ns (CLOCK_REALTIME), start_mono_ns
 *                (absolute CLOCK_MONOTONIC), hz, clock (FD_CLOCK_*),
 *                alloc_mode (FD_ALLOC_*), alloc_sample_bytes (mean sampling
 *                interval in bytes, 0 unless sampled), str exe, str cmdline
 *                (arguments separated by NUL bytes), generation (0 for the
 *                first image of a pid, n for its n-th exec), and since 1.4
 *                optionally wait_threshold_ns: waits are recorded (WAIT,
 *                HOLD), every one at least this long, shorter ones sampled.
 *                Exactly one, the first record of the file.
 *   MODULE (2)   mod_id, load_bias, start, end (absolute addresses covering all
 *                PT_LOAD segments), str path (as the loader names it; the main
 *                program is its real path), bytes build_id (may be empty), time
 *   UNLOAD (3)   mod_id, time
 *   THREAD (4)   tid, time, str name. Sent when a thread starts or is first
 *                seen, and again when its name changes.
 *   THREAD_END (5) tid, time, and since 1.2 optionally cpu_ns: the thread's
 *                measured CPU time (its CPU clock since its birth, or since
 *                the agent started for a thread already running), at its
 *                end or, for threads still running, at the end of the
 *                recording (also threads the agent never saw); then since
 *                1.7 optionally run_ns and runq_ns: the scheduler's
 *                account of the thread over the same span
 *                (/proc/self/task/TID/schedstat's first two fields, less
 *                their values at the agent's start for a thread already
 *                running): time on a CPU, and time runnable but waiting
 *                for a CPU. Absent (old dumps, a kernel without
 *                schedstat): unknown
 *   STACK (6)    stack_id (1, 2, ... per process), nframes, then nframes
 *                addresses: the first as a plain varint, each next one as zz
 *                delta from the previous. Frame 0 is the innermost. Frame 0 is
 *                the exact instruction address; later frames are return
 *                addresses (the analyzer looks up addr-1 for them).
 *                A STACK record always precedes, in the file, the first record
 *                that uses its id... except across threads: a reader must
 *                accept ids defined later in the file and check them at the end.
 *   TID (7)      tid. Sets cur_tid.
 *   SAMPLE (8)   zz time delta from prev_time, stack_id, weight (1 + timer
 *                overruns: the number of sampling periods this sample stands for)
 *                and since 1.2 optionally ns: the exact CPU time it stands for
 *                (a thread's first sample: up to the timer's phase), then
 *                optionally at_end: 1 for a thread's uncovered CPU charged at
 *                its end (weight is then that time in whole periods, rounded
 *                down, for older readers)
 *   ALLOC (9)    zz seq delta, stack_id, size, zz ptr delta
 *   FREE (10)    zz seq delta, zz ptr delta
 *   REALLOC (11) zz seq delta, stack_id, size, zz old ptr delta (from prev_ptr),
 *                zz new ptr delta (from old ptr). Counts as one allocation call;
 *                frees old and allocates new atomically at seq.
 *   TICK (12)    time, seq (global allocation sequence number reached at that
 *                time), rss_bytes, heap_bytes (live heap as the agent counts it),
 *                and since 1.4 optionally rss_file_bytes: the resident pages
 *                of files and shared memory (statm's shared; the anonymous
 *                rest is rss_bytes minus it)
 *   LOST (13)    what (FD_LOST_*), count, and since 1.1 optionally str why
 *                (words a user can act on). CPU_UNAVAILABLE (count 1): no
 *                CPU sampling in this process at all; CPU_THREADS: count
 *                threads whose timer could not be made. Both carry why
 *                ("timer_create: blocked by a seccomp filter (SIGSYS)").
 *   TRAILER (14) time, samples (records written), sample_weight (sum of weights),
 *                lost_samples, alloc_events, reason (FD_END_*), and since 1.2
 *                optionally cpu_ns (the process's CPU time since the agent
 *                started) and agent_cpu_ns (its writer thread's). The last
 *                record of a complete file.
 *   NOTE (16)    since 1.2: what (FD_NOTE_*), str text. RUN: the run id that
 *                every dump of one `fathom record` run shares (FATHOM_RUN);
 *                ALLOC_BYPASS: the object whose malloc the program calls
 *                instead of the agent's (preloaded before it, or the program
 *                itself). Readers ignore a what they do not know.
 *
 *   WAIT (19)    since 1.4: zz time delta from prev_time (the wait's start;
 *                it moves prev_time as a SAMPLE does), stack_id (where the
 *                thread waited), wait_ns (how long), reason (FD_WAIT_*),
 *                object (the mutex/condition/semaphore address, the fd, the
 *                child pid, or 0), fd_kind (FD_FDK_*; FD_FDK_NONE unless the
 *                object is a descriptor), weight_ns (the waiting time this
 *                record stands for: wait_ns for a wait at or over the
 *                threshold; the threshold for a shorter wait, recorded with
 *                probability wait_ns / threshold, so sums stay unbiased).
 *                Belongs to cur_tid.
 *   HOLD (20)    since 1.4: object (the mutex address), stack_id (where the
 *                holder released it, with waiters queued), held_ns (how long
 *                it was held, 0 when not known), weight (the contended
 *                releases this record stands for: holders are sampled).
 *                Belongs to cur_tid.
 *   WINDOW (21)  since 1.4: time, what (FD_WIN_*), seq (the global
 *                allocation sequence number reached: allocation events with
 *                a lower seq came before it), id (a snapshot's number, 1, 2,
 *                ... per process; a rotation's next file number), str label
 *                (may be empty). START and STOP bound the recording's
 *                windows (a dump with no START began on); SNAPSHOT marks a
 *                point the analyzer can show the live heap at; ROTATE, the
 *                last record before the TRAILER (reason FD_END_ROTATE) of a
 *                file that a rotation closed, names the file that follows;
 *                the same mark opens that file, after its HEADER and notes.
 *   MAP (22)     since 1.4: a mapping the program made (mmap, mmap64, or
 *                growth of the break by brk/sbrk): zz seq delta (from
 *                prev_seq; the global allocation sequence, taken after the
 *                call returned), stack_id, zz addr delta (from prev_ptr),
 *                len (bytes, as asked: not rounded to pages), kind
 *                (FD_MAP_*), prot, flags (mmap's; 0 for the break), offset
 *                (in the file; 0 unless FILE), time, str path (FILE: the
 *                file's path, at most 959 bytes; else empty). Sets
 *                prev_seq and prev_ptr (= addr). Belongs to cur_tid. A
 *                MAP over pages already mapped replaces them (MAP_FIXED).
 *   UNMAP (23)   since 1.4: munmap, or the break shrinking: zz seq delta
 *                (taken before the real call; written only when it
 *                succeeded), zz addr delta, len, time, kind (FD_MAP_BRK
 *                for the break, else FD_MAP_ANON: whatever was mapped
 *                there). Sets prev_seq, prev_ptr.
 *   REMAP (24)   since 1.4: mremap that succeeded: zz seq delta (after it
 *                returned), stack_id, zz old addr delta (from prev_ptr),
 *                old_len, zz new addr delta (from the old addr), new_len,
 *                flags (mremap's), time. The pages keep their kind.
 *                Sets prev_seq, prev_ptr (= new addr).
 *   PERFMAP (25) since 1.5: the perf map a JIT runtime wrote
 *                (/tmp/perf-PID.map: lines "START SIZE NAME", hex),
 *                recorded at the end of the image (exit, exec). First
 *                field what (FD_PERFMAP_*). TEXT: offset (in the file),
 *                bytes text: whole lines, as the file has them (at most
 *                64 KB a record; the analyzer parses them and counts the
 *                lines it cannot). FILE, after its TEXT records: state
 *                (FD_PERFMAP_*), size (the file's, bytes), mtime_ns,
 *                btime_ns (its birth; 0 when the file system does not
 *                tell), start_ns (the start they were compared with: the
 *                process's, or the image's after an exec; all three
 *                CLOCK_REALTIME), from (offset of the first byte
 *                recorded), recorded (bytes recorded), cut (FD_PMCUT_*),
 *                str path. A later FILE of the same dump (an exec that
 *                failed, then the end) replaces what earlier ones gave.
 *   FREE_REF (26) since 1.6: a FREE that names its block by reference:
 *                zz seq delta, back (>= 1): the block the back-th
 *                allocation before it in this chunk made (counting ALLOC,
 *                ALLOC_AT and REALLOC's new block, in file order), which
 *                is still live. Sets prev_seq, prev_ptr (= the block).
 *   ALLOC_AT (27) since 1.6: an ALLOC whose address is named by
 *                reference: zz seq delta, stack_id, size, at, then for at
 *                0 a zz delta: at 1..FD_REF_FREES: the address the at-th
 *                free before it in this chunk freed (FREE and FREE_REF);
 *                at 0: the delta is from the address the last ALLOC or
 *                ALLOC_AT of the same stack_id in this chunk returned
 *                (only for stack ids below FD_REF_MAX_STACK). Sets
 *                prev_seq, prev_ptr (= the address).
 *                Per chunk, readers keep the addresses of the allocations
 *                in order, of the last FD_REF_FREES frees, and the last
 *                address ALLOC and ALLOC_AT gave each stack id.
 *
 * Allocation events carry a global sequence number taken from one process-wide
 * atomic counter: for ALLOC after the real allocator returned, for FREE before
 * the real free is called, for REALLOC after it returned. Sorting all events of
 * a process by seq therefore gives an order in which an address is never
 * allocated twice without a free between, even across threads.
 */
#ifndef FATHOM_DUMP_H
#define FATHOM_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FD_MAGIC "FATHOMDP"
#define FD_MAGIC_LEN 8
#define FD_VERSION_MAJOR 1
#define FD_VERSION_MINOR 7
#define FD_FILE_HEADER_SIZE 16

#define FD_CHUNK_MAGIC 0x4b4e4346u /* "FCNK" */
#define FD_CHUNK_HEADER_SIZE 24
#define FD_CHUNK_RECORDS 1
/* Since 1.2: the symbols `fathom record --symbolize` appends after the
 * trailer (profiler/lib/symcache.c); readers that do not know it skip it. */
#define FD_CHUNK_SYMBOLS 2
#define FD_CHUNK_ZSTD 0x01
/* A chunk never decodes to more than this; the reader rejects larger raw_len. */
#define FD_CHUNK_MAX_RAW (16u << 20)

enum fd_record_kind {
	FD_REC_HEADER = 1,
	FD_REC_MODULE = 2,
	FD_REC_UNLOAD = 3,
	FD_REC_THREAD = 4,
	FD_REC_THREAD_END = 5,
	FD_REC_STACK = 6,
	FD_REC_TID = 7,
	FD_REC_SAMPLE = 8,
	FD_REC_ALLOC = 9,
	FD_REC_FREE = 10,
	FD_REC_REALLOC = 11,
	FD_REC_TICK = 12,
	FD_REC_LOST = 13,
	FD_REC_TRAILER = 14,
	FD_REC_NOTE = 16,     /* since 1.2 */
	FD_REC_PYCODE = 17,   /* since 1.3 */
	FD_REC_PYTHON = 18,   /* since 1.3 */
	FD_REC_WAIT = 19,     /* since 1.4 */
	FD_REC_HOLD = 20,     /* since 1.4 */
	FD_REC_WINDOW = 21,   /* since 1.4 */
	FD_REC_MAP = 22,      /* since 1.4 */
	FD_REC_UNMAP = 23,    /* since 1.4 */
	FD_REC_REMAP = 24,    /* since 1.4 */
	FD_REC_PERFMAP = 25,  /* since 1.5 */
	FD_REC_FREE_REF = 26, /* since 1.6 */
	FD_REC_ALLOC_AT = 27, /* since 1.6 */
	FD_REC_MAX = 27,
};

/* Since 1.3: a STACK entry with bit 63 set is a Python frame, not an address
 * (no user-space address has it). Bit 62 marks the first (outermost) frame of
 * one call of the interpreter's eval loop; bits 32-61 are a PYCODE id; bits
 * 0-31 the instruction offset in code units plus one (0: before the first
 * instruction). A stack's Python part follows its native frames: one marker
 * entry (code id 0; its low bits FD_PY_CUT_*), then the Python frames,
 * innermost first. docs/FORMAT.md tells how the analyzer merges them. */
#define FD_PY_TAG (1ull << 63)
#define FD_PY_ENTRY (1ull << 62)
#define FD_PY_IS(w) (((w)&FD_PY_TAG) != 0)
#define FD_PY_CODE(w) ((uint32_t)(((w) >> 32) & 0x3fffffffu))
#define FD_PY_OFF(w) ((uint32_t)(w))
#define FD_PY_FRAME(code, off1, entry)                                                                       \
	(FD_PY_TAG | ((entry) ? FD_PY_ENTRY : 0) | (uint64_t)((code)&0x3fffffffu) << 32 | (uint32_t)(off1))
#define FD_PY_CUT_PYTHON 1u /* the outermost Python frames were left out */
#define FD_PY_CUT_NATIVE 2u /* the outermost native frames were left out */
enum fd_python {
	FD_PY_FOUND = 0,    /* since 1.3: the interpreter (see docs/FORMAT.md) */
	FD_PY_STATS = 1,    /* since 1.3: the walks' counters */
	FD_PY_DISABLED = 2, /* since 1.3: Python frames are not recorded: why */
	FD_PY_PERF = 3,	    /* since 1.4: -X perf's trampolines seen on (1) */
};

enum fd_clock { FD_CLOCK_CPU = 0, FD_CLOCK_WALL = 1 };
enum fd_alloc_mode { FD_ALLOC_OFF = 0, FD_ALLOC_EXACT = 1, FD_ALLOC_SAMPLED = 2 };
enum fd_lost {
	FD_LOST_SAMPLES = 0,
	FD_LOST_ALLOC = 1,
	FD_LOST_STACKS = 2,
	FD_LOST_CPU_UNAVAILABLE = 3, /* since 1.1 */
	FD_LOST_CPU_THREADS = 4,     /* since 1.1 */
	FD_LOST_CPU_IN_AGENT = 5,    /* since 1.1: not lost, charged to the caller */
};
enum fd_note {
	FD_NOTE_RUN = 0,	  /* since 1.2 */
	FD_NOTE_ALLOC_BYPASS = 1, /* since 1.2 */
};
/* Why a thread waited (WAIT's reason), since 1.4. */
enum fd_wait {
	FD_WAIT_MUTEX = 0,   /* pthread_mutex_lock/timedlock, contended */
	FD_WAIT_RWLOCK = 1,  /* pthread_rwlock_rdlock/wrlock (and timed), contended */
	FD_WAIT_SPIN = 2,    /* pthread_spin_lock, contended */
	FD_WAIT_COND = 3,    /* pthread_cond_wait/timedwait/clockwait */
	FD_WAIT_SEM = 4,     /* sem_wait/timedwait/clockwait */
	FD_WAIT_BARRIER = 5, /* pthread_barrier_wait */
	FD_WAIT_JOIN = 6,    /* pthread_join and friends */
	FD_WAIT_READ = 7,    /* read, readv, recv*, pread(64), preadv* on a blocking descriptor */
	FD_WAIT_WRITE = 8,   /* write, writev, send* (sendfile too), pwrite(64), pwritev* */
	FD_WAIT_POLL = 9,    /* poll, ppoll, select, pselect, epoll_wait/pwait */
	FD_WAIT_ACCEPT = 10, /* accept, accept4 */
	FD_WAIT_CONNECT = 11,
	FD_WAIT_SYNC = 12,  /* fsync, fdatasync */
	FD_WAIT_SLEEP = 13, /* nanosleep, clock_nanosleep, usleep, sleep, pause */
	FD_WAIT_CHILD = 14, /* wait, waitpid, wait3/4, waitid */
	FD_WAIT_FUTEX = 15, /* syscall(SYS_futex, FUTEX_WAIT...) */
	FD_WAIT_OTHER = 16,
};
/* What kind of descriptor a WAIT's object is, since 1.4. */
enum fd_fdkind {
	FD_FDK_NONE = 0,
	FD_FDK_FILE = 1,
	FD_FDK_SOCKET = 2,
	FD_FDK_PIPE = 3,
	FD_FDK_TTY = 4,
	FD_FDK_OTHER = 5
};
/* What a MAP maps (its kind), since 1.4. The analyzer counts HEAP in the
 * heap, not among the mappings; GUARD (PROT_NONE: reserved, never
 * resident until made accessible) apart. */
enum fd_map {
	FD_MAP_ANON = 0,  /* anonymous, private or shared */
	FD_MAP_FILE = 1,  /* a file's pages (path in the record) */
	FD_MAP_STACK = 2, /* MAP_STACK or MAP_GROWSDOWN */
	FD_MAP_GUARD = 3, /* PROT_NONE: a guard or a reservation */
	FD_MAP_HEAP = 4,  /* the allocator's own, made inside a malloc the hooks recorded */
	FD_MAP_BRK = 5,	  /* the break, grown by the program's brk/sbrk */
};
#define FD_MAP_NKINDS 6
/* WINDOW's what, since 1.4. */
enum fd_window { FD_WIN_START = 0, FD_WIN_STOP = 1, FD_WIN_SNAPSHOT = 2, FD_WIN_ROTATE = 3 };
/* PERFMAP's what, and its FILE's state and cut, since 1.5. */
enum fd_perfmap_what { FD_PERFMAP_TEXT = 0, FD_PERFMAP_FILE = 1 };
enum fd_perfmap_state {
	FD_PERFMAP_OURS = 0,	   /* written since the image started: recorded */
	FD_PERFMAP_STALE = 1,	   /* last written before the process started: another
				      process's of the same pid; not recorded */
	FD_PERFMAP_EARLIER = 2,	   /* written by an earlier image of this process (before
				      its exec; in that image's dump): not recorded */
	FD_PERFMAP_MIXED = 3,	   /* born before the process started, written since:
				      recorded; older lines may be another process's */
	FD_PERFMAP_UNREADABLE = 4, /* not a regular file, or no read: not recorded */
	FD_PERFMAP_OFF = 5,	   /* FATHOM_PERFMAP=0: not recorded */
};
enum fd_perfmap_cut {
	FD_PMCUT_NONE = 0,
	FD_PMCUT_SIZE = 1, /* larger than FATHOM_PERFMAP_MAX: only its end recorded */
	FD_PMCUT_TIME = 2, /* reading took too long: stopped early */
	FD_PMCUT_READ = 3, /* a read failed */
};
/* FD_END_ROTATE (since 1.4's rotation): the file ends because the
 * recording goes on in the next file of a series (WINDOW ROTATE).
 * FD_END_DETACH (since 1.5, fathom record --pid): the agent detached from a
 * process that runs on. */
enum fd_end { FD_END_EXIT = 0, FD_END_EXEC = 1, FD_END_SIGNAL = 2, FD_END_ROTATE = 3, FD_END_DETACH = 4 };

/* FREE_REF and ALLOC_AT (since 1.6): how many frees back ALLOC_AT can
 * name, and the stack ids its delta from a stack's last address is for. */
#define FD_REF_FREES 8
#define FD_REF_MAX_STACK (1u << 24)

/* A stack deeper than this is cut at the outermost end. */
#define FD_MAX_FRAMES 128

/* Context: any, async-signal-safe. */
static inline size_t fd_put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static inline uint64_t fd_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t fd_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Reads a varint from [*p, end). Returns 0 and advances *p, or -1 when the
 * varint is truncated or longer than 10 bytes. */
static inline int fd_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	unsigned shift = 0;
	const uint8_t *q = *p;
	while (q < end && shift < 70) {
		uint8_t b = *q++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*p = q;
			*out = v;
			return 0;
		}
		shift += 7;
	}
	return -1;
}

static inline void fd_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void fd_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t fd_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t fd_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* CRC-32C (Castagnoli), bitwise over nibbles: small, table-free, and fast
 * enough for the writer thread and the reader (it runs over compressed data).
 * Context: any, async-signal-safe. */
static inline uint32_t fd_crc32c(uint32_t crc, const void *buf, size_t len)
{
	static const uint32_t t[16] = {
	    0x00000000, 0x105ec76f, 0x20bd8ede, 0x30e349b1, 0x417b1dbc, 0x5125dad3, 0x61c69362, 0x7198540d,
	    0x82f63b78, 0x92a8fc17, 0xa24bb5a6, 0xb21572c9, 0xc38d26c4, 0xd3d3e1ab, 0xe330a81a, 0xf36e6f75,
	};
	const uint8_t *p = buf;
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		crc = (crc >> 4) ^ t[crc & 15];
		crc = (crc >> 4) ^ t[crc & 15];
	}
	return ~crc;
}

/* Fills a chunk header; payload_crc is computed by the caller. */
static inline void fd_chunk_header_encode(uint8_t h[FD_CHUNK_HEADER_SIZE], uint8_t flags, uint32_t seq,
					  uint32_t payload_len, uint32_t raw_len, uint32_t payload_crc)
{
	fd_put_u32(h, FD_CHUNK_MAGIC);
	h[4] = FD_CHUNK_RECORDS;
	h[5] = flags;
	fd_put_u16(h + 6, 0);
	fd_put_u32(h + 8, seq);
	fd_put_u32(h + 12, payload_len);
	fd_put_u32(h + 16, raw_len);
	fd_put_u32(h + 20, payload_crc);
	fd_put_u16(h + 6, (uint16_t)fd_crc32c(0, h, FD_CHUNK_HEADER_SIZE));
}

/* Returns 1 when the 24 bytes at h are a chunk header whose own checksum holds. */
static inline int fd_chunk_header_valid(const uint8_t h[FD_CHUNK_HEADER_SIZE])
{
	uint8_t copy[FD_CHUNK_HEADER_SIZE];
	if (fd_get_u32(h) != FD_CHUNK_MAGIC)
		return 0;
	memcpy(copy, h, sizeof(copy));
	fd_put_u16(copy + 6, 0);
	return fd_get_u16(h + 6) == (uint16_t)fd_crc32c(0, copy, FD_CHUNK_HEADER_SIZE);
}

#endif
