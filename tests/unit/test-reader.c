/* Unit tests of the dump reader: exact decoding of valid dumps, and what it
 * says and keeps when a dump is truncated, corrupt, hostile or not a dump. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fdump-writer.h"
#include "reader.h"

/* A small dump in three chunks: header and module; thread, stacks and
 * samples on two threads; allocations and the trailer. */
static void build(struct fdw *w, bool zstd, bool trailer)
{
	fdw_init(w, FD_VERSION_MAJOR);
	fdw_header(w, 4242, 1, 99, FD_ALLOC_EXACT, "/bin/app", "app\0-x", 6);
	fdw_module(w, 1, 0x400000, 0x401000, 0x402000, "/bin/app", 10);
	fdw_flush(w, zstd);
	uint64_t a[3] = {0x401234, 0x401100, 0x401010};
	fdw_thread(w, 4242, 20, "main");
	fdw_stack(w, 1, 3, a);
	fdw_tid(w, 4242);
	fdw_sample(w, 1000, 1, 1);
	fdw_sample(w, 2000, 1, 3);
	fdw_tid(w, 4243);
	fdw_sample(w, 1500, 2, 1); /* stack 2 is defined later */
	fdw_flush(w, zstd);
	fdw_stack(w, 2, 1, a + 1);
	fdw_tid(w, 4242);
	fdw_alloc(w, 7, 1, 100, 0x10000);
	fdw_alloc(w, 8, 1, 200, 0x10100);
	fdw_free_ev(w, 9, 0x10000);
	fdw_lost(w, FD_LOST_SAMPLES, 2);
	if (trailer)
		fdw_trailer(w, 3000, 3, 5, 2);
	fdw_flush(w, zstd);
}

struct result {
	int rc, nrec, nsamples, nallocs, nstacks;
	bool complete, header;
	char *damage;
	struct rd_rec last_sample;
};

static struct result read_all(const uint8_t *buf, size_t len)
{
	struct result res = {0};
	FILE *f = fmemopen((void *)buf, len ? len : 1, "rb");
	assert_non_null(f);
	if (!len) /* fmemopen refuses size 0: an empty file is a stream at EOF */
		fgetc(f);
	struct reader *r;
	char *err = NULL;
	res.rc = len ? reader_open_stream(&r, f, "t.fdump", &err) : -EINVAL;
	if (res.rc < 0) {
		res.damage = err;
		fclose(f);
		return res;
	}
	struct rd_rec rec;
	int rc;
	while ((rc = reader_next(r, &rec)) > 0) {
		res.nrec++;
		if (rec.kind == FD_REC_SAMPLE) {
			res.nsamples++;
			res.last_sample = rec;
		}
		if (rec.kind == FD_REC_ALLOC)
			res.nallocs++;
		if (rec.kind == FD_REC_STACK)
			res.nstacks++;
		if (rec.kind == FD_REC_HEADER)
			res.header = true;
	}
	res.rc = rc;
	res.complete = reader_complete(r);
	res.damage = reader_damage(r) ? strdup(reader_damage(r)) : NULL;
	reader_close(r);
	fclose(f);
	return res;
}

static void check_valid(bool zstd)
{
	struct fdw w;
	build(&w, zstd, true);
	FILE *f = fmemopen(w.buf, w.len, "rb");
	struct reader *r;
	char *err;
	assert_int_equal(reader_open_stream(&r, f, "t.fdump", &err), 0);
	struct rd_rec rec;
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_HEADER);
	assert_int_equal(rec.pid, 4242);
	assert_int_equal(rec.hz, 99);
	assert_int_equal(rec.alloc_mode, FD_ALLOC_EXACT);
	assert_int_equal(rec.cmdline.len, 6);
	assert_memory_equal(rec.exe.p, "/bin/app", 8);
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_MODULE);
	assert_int_equal(rec.bias, 0x400000);
	assert_int_equal(rec.end, 0x402000);
	assert_int_equal(rec.path.len, 8);
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_THREAD);
	assert_memory_equal(rec.name.p, "main", 4);
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_STACK);
	assert_int_equal(rec.nframes, 3);
	assert_int_equal(rec.frames[0], 0x401234);
	assert_int_equal(rec.frames[1], 0x401100);
	assert_int_equal(rec.frames[2], 0x401010);
	assert_int_equal(reader_next(r, &rec), 1); /* TID */
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_SAMPLE);
	assert_int_equal(rec.tid, 4242);
	assert_int_equal(rec.time, 1000);
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.time, 2000); /* delta resolved */
	assert_int_equal(rec.weight, 3);
	assert_int_equal(reader_next(r, &rec), 1); /* TID */
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.tid, 4243);
	assert_int_equal(rec.time, 1500); /* a negative delta */
	assert_int_equal(rec.id, 2);
	assert_int_equal(reader_next(r, &rec), 1); /* STACK 2, in the next chunk */
	assert_int_equal(rec.chunk, 2);
	assert_int_equal(reader_next(r, &rec), 1); /* TID */
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_ALLOC);
	assert_int_equal(rec.seq, 7);
	assert_int_equal(rec.ptr, 0x10000);
	assert_int_equal(rec.size, 100);
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.seq, 8);
	assert_int_equal(rec.ptr, 0x10100);
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_FREE);
	assert_int_equal(rec.seq, 9);
	assert_int_equal(rec.ptr, 0x10000);
	assert_int_equal(rec.tid, 4242);
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_LOST);
	assert_int_equal(rec.count, 2);
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_TRAILER);
	assert_int_equal(rec.samples, 3);
	assert_int_equal(reader_next(r, &rec), 0);
	assert_int_equal(reader_next(r, &rec), 0);
	assert_true(reader_complete(r));
	assert_null(reader_damage(r));
	assert_int_equal(reader_chunks(r), 3);
	reader_close(r);
	fclose(f);
	fdw_free(&w);
}

/* FREE_REF and ALLOC_AT (1.6) come out as FREE and ALLOC with the
 * addresses they name, through reader_next and reader_events alike; a
 * reference to nothing known (too far back, or before the chunk) is a
 * damaged record, never a wrong address. */
static void test_refs(void **state)
{
	for (int fast = 0; fast < 2; fast++) {
		struct fdw w;
		fdw_init(&w, FD_VERSION_MAJOR);
		fdw_header(&w, 4242, 1, 99, FD_ALLOC_EXACT, "/bin/app", "app", 3);
		fdw_tid(&w, 4242);
		fdw_alloc(&w, 1, 1, 16, 0x10000);
		fdw_alloc(&w, 2, 2, 32, 0x10100);
		fdw_realloc(&w, 3, 3, 48, 0x10100, 0x20000);
		fdw_free_ref(&w, 4, 3, 0x10000);	       /* 3 allocations back */
		fdw_alloc_at(&w, 5, 1, 16, 1, 0, 0x10000);     /* the last free */
		fdw_alloc_at(&w, 6, 2, 32, 0, 0x40, 0x10140);  /* stack 2's last + 0x40 */
		fdw_free_ref(&w, 7, 1, 0x10140);	       /* the last allocation */
		fdw_alloc_at(&w, 8, 2, 32, 0, -0x40, 0x10100); /* from 0x10140 */
		fdw_free_ref(&w, 9, 9, 0);		       /* too far back: damaged */
		fdw_alloc_at(&w, 10, 7, 8, 0, 1, 0);	       /* stack 7 has none: damaged */
		fdw_flush(&w, true);
		fdw_tid(&w, 4242);
		fdw_free_ref(&w, 11, 1, 0);	      /* nothing allocated in this chunk: damaged */
		fdw_alloc_at(&w, 12, 1, 16, 1, 0, 0); /* no free in this chunk: damaged */
		fdw_free_ev(&w, 13, 0x20000);
		fdw_flush(&w, true);
		FILE *f = fmemopen(w.buf, w.len, "rb");
		struct reader *r;
		char *err = NULL;
		assert_int_equal(reader_open_stream(&r, f, "refs", &err), 0);
		struct rd_rec rec;
		uint64_t want[][3] = {{FD_REC_ALLOC, 1, 0x10000},   {FD_REC_ALLOC, 2, 0x10100},
				      {FD_REC_REALLOC, 3, 0x20000}, {FD_REC_FREE, 4, 0x10000},
				      {FD_REC_ALLOC, 5, 0x10000},   {FD_REC_ALLOC, 6, 0x10140},
				      {FD_REC_FREE, 7, 0x10140},    {FD_REC_ALLOC, 8, 0x10100},
				      {FD_REC_FREE, 1, 0x20000}}; /* damaged records move no base */
		size_t k = 0;
		for (;;) {
			struct rd_event ev[4];
			size_t n = fast ? reader_events(r, ev, 4) : 0;
			for (size_t i = 0; i < n; i++, k++) {
				assert_true(k < 9);
				assert_int_equal(ev[i].kind, want[k][0]);
				assert_int_equal(ev[i].seq, want[k][1]);
				assert_int_equal(ev[i].ptr, want[k][2]);
			}
			if (n)
				continue;
			if (reader_next(r, &rec) != 1)
				break;
			if (rec.kind == FD_REC_HEADER || rec.kind == FD_REC_TID)
				continue;
			assert_true(k < 9);
			assert_int_equal(rec.kind, want[k][0]);
			assert_int_equal(rec.seq, want[k][1]);
			assert_int_equal(rec.ptr, want[k][2]);
			k++;
		}
		assert_int_equal(k, 9);
		assert_non_null(reader_damage(r));
		assert_non_null(strstr(reader_damage(r), "damaged record (kind 26)"));
		assert_non_null(strstr(reader_damage(r), "damaged record (kind 27)"));
		reader_close(r);
		fclose(f);
		fdw_free(&w);
	}
}

static void test_valid_plain(void **state)
{
	check_valid(false);
}

static void test_valid_zstd(void **state)
{
	check_valid(true);
}

/* Cutting the file anywhere keeps every chunk before the cut and says so. */
static void check_truncations(bool zstd)
{
	struct fdw w;
	build(&w, zstd, true);
	size_t last = w.chunk_start[2];
	for (size_t cut = FD_FILE_HEADER_SIZE; cut < w.len; cut++) {
		struct result res = read_all(w.buf, cut);
		assert_int_equal(res.rc, 0);
		assert_false(res.complete);
		assert_non_null(res.damage);
		if (cut > FD_FILE_HEADER_SIZE && cut != w.chunk_start[1] && cut != w.chunk_start[2])
			assert_non_null(strstr(res.damage, "truncated"));
		assert_non_null(strstr(res.damage, "no trailer") ? res.damage
								 : strstr(res.damage, "no data"));
		if (cut >= last) {
			/* Cut in the last chunk: chunks 0 and 1 are whole. */
			assert_int_equal(res.nsamples, 3);
			assert_int_equal(res.nallocs, 0);
			assert_true(res.header);
			if (cut > last)
				assert_non_null(strstr(res.damage, "after chunk 1"));
		}
		free(res.damage);
	}
	fdw_free(&w);
}

static void test_truncated_every_byte(void **state)
{
	check_truncations(false);
	check_truncations(true);
}

static void test_no_trailer(void **state)
{
	struct fdw w;
	build(&w, false, false);
	struct result res = read_all(w.buf, w.len);
	assert_false(res.complete);
	assert_string_equal(res.damage,
			    "truncated after chunk 2 (killed?); no trailer — the last ~50 ms may be missing");
	assert_int_equal(res.nallocs, 2);
	free(res.damage);
	fdw_free(&w);
}

static void test_corrupt_payload_skipped(void **state)
{
	struct fdw w;
	build(&w, false, true);
	w.buf[w.chunk_start[1] + FD_CHUNK_HEADER_SIZE + 5] ^= 0x40;
	struct result res = read_all(w.buf, w.len);
	assert_int_equal(res.rc, 0);
	assert_non_null(res.damage);
	assert_non_null(strstr(res.damage, "chunk 1 corrupt (checksum), skipped"));
	assert_int_equal(res.nsamples, 0); /* all samples were in chunk 1 */
	assert_int_equal(res.nallocs, 2);  /* chunk 2 is still read */
	assert_true(res.header);
	assert_true(res.complete);
	free(res.damage);
	fdw_free(&w);
}

static void test_corrupt_header_resync(void **state)
{
	struct fdw w;
	build(&w, true, true);
	w.buf[w.chunk_start[1] + 13] ^= 0x01; /* payload_len: the header checksum fails */
	struct result res = read_all(w.buf, w.len);
	assert_int_equal(res.rc, 0);
	assert_non_null(strstr(res.damage, "damaged bytes at offset"));
	assert_non_null(strstr(res.damage, "after chunk 0"));
	assert_int_equal(res.nsamples, 0);
	assert_int_equal(res.nallocs, 2);
	assert_true(res.complete);
	free(res.damage);
	fdw_free(&w);
}

static void test_missing_chunk_named(void **state)
{
	struct fdw w;
	build(&w, false, true);
	/* Cut chunk 1 out of the file entirely. */
	size_t a = w.chunk_start[1], b = w.chunk_start[2];
	memmove(w.buf + a, w.buf + b, w.len - b);
	w.len -= b - a;
	struct result res = read_all(w.buf, w.len);
	assert_non_null(strstr(res.damage, "chunks 1-1 missing"));
	assert_int_equal(res.nallocs, 2);
	free(res.damage);
	fdw_free(&w);
}

static void test_not_a_dump(void **state)
{
	const char *texts[] = {"hello, this is a text file and not a dump\n", "FATHOMD", "ELF\x7f"};
	for (size_t i = 0; i < 3; i++) {
		struct result res = read_all((const uint8_t *)texts[i], strlen(texts[i]));
		assert_int_equal(res.rc, -EINVAL);
		assert_non_null(strstr(res.damage, "t.fdump: not a fathom dump"));
		free(res.damage);
	}
	struct result res = read_all((const uint8_t *)"", 0);
	assert_int_equal(res.rc, -EINVAL);
}

static void test_wrong_magic(void **state)
{
	struct fdw w;
	build(&w, false, true);
	w.buf[3] = 'X';
	struct result res = read_all(w.buf, w.len);
	assert_int_equal(res.rc, -EINVAL);
	assert_non_null(strstr(res.damage, "not a fathom dump"));
	free(res.damage);
	fdw_free(&w);
}

static void test_newer_major(void **state)
{
	struct fdw w;
	build(&w, false, true);
	fd_put_u16(w.buf + 8, FD_VERSION_MAJOR + 1);
	struct result res = read_all(w.buf, w.len);
	assert_int_equal(res.rc, -ENOTSUP);
	assert_non_null(strstr(res.damage, "newer than this fathom"));
	free(res.damage);
	fdw_free(&w);
}

/* Lengths that would make a careless reader allocate gigabytes or read past
 * the end: a chunk claiming 4 GB, a record body longer than its chunk, a
 * stack claiming a billion frames, a varint of eleven bytes. */
static void test_huge_lengths(void **state)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	uint8_t h[FD_CHUNK_HEADER_SIZE];
	fd_chunk_header_encode(h, FD_CHUNK_ZSTD, 0, 0xfffffff0u, 0xffffffffu, 0);
	fdw_append(&w.buf, &w.len, &w.cap, h, sizeof(h));
	fdw_header(&w, 1, 0, 99, 0, "x", "x", 1);
	fdw_flush(&w, false);
	uint8_t bad_body[] = {FD_REC_THREAD, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3};
	fdw_append(&w.chunk, &w.clen, &w.ccap, bad_body, sizeof(bad_body));
	fdw_flush(&w, false);
	fdw_u(&w, 5);
	fdw_u(&w, 1000000000);
	fdw_u(&w, 1);
	fdw_rec(&w, FD_REC_STACK);
	uint8_t long_varint[] = {FD_REC_TID, 11,   0xff, 0xff, 0xff, 0xff, 0xff,
				 0xff,	     0xff, 0xff, 0xff, 0xff, 0x01};
	fdw_append(&w.chunk, &w.clen, &w.ccap, long_varint, sizeof(long_varint));
	fdw_tid(&w, 77);
	fdw_sample(&w, 5, 1, 1);
	fdw_flush(&w, false);
	struct result res = read_all(w.buf, w.len);
	assert_int_equal(res.rc, 0);
	assert_true(res.header);
	assert_int_equal(res.nstacks, 0);
	assert_int_equal(res.nsamples, 1);
	assert_int_equal(res.last_sample.tid, 77);
	assert_non_null(strstr(res.damage, "damaged bytes at offset 16"));
	assert_non_null(strstr(res.damage, "chunk 1: damaged record at byte 0"));
	assert_non_null(strstr(res.damage, "chunk 2: damaged record (kind 6)"));
	assert_non_null(strstr(res.damage, "chunk 2: damaged record (kind 7)"));
	free(res.damage);
	fdw_free(&w);
}

/* Long chunks exercise every path of the reader's own CRC-32C (unaligned
 * head, 8-byte blocks, tail): a chunk the writer checksummed must pass. */
static void test_long_chunks_pass_checksum(void **state)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 1, 0, 99, 0, "x", "x", 1);
	for (int c = 0; c < 5; c++) {
		for (int i = 0; i < 1000 + c * 7; i++) {
			char name[16];
			snprintf(name, sizeof(name), "t%d", i % (3 + c));
			fdw_thread(&w, i, (uint64_t)i, name);
		}
		fdw_flush(&w, c & 1);
	}
	struct result res = read_all(w.buf, w.len);
	assert_null(res.damage ? strstr(res.damage, "checksum") : NULL);
	assert_int_equal(res.nrec, 1 + 5000 + 70);
	free(res.damage);
	fdw_free(&w);
}

static void test_unknown_kind_skipped(void **state)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 1, 0, 99, 0, "x", "x", 1);
	fdw_u(&w, 12345);
	fdw_rec(&w, 99);
	fdw_tid(&w, 3);
	fdw_u(&w, 0);
	fdw_u(&w, 1);
	fdw_u(&w, 1);
	fdw_u(&w, 777); /* a field appended by a newer minor version */
	fdw_rec(&w, FD_REC_SAMPLE);
	fdw_trailer(&w, 10, 1, 1, 0);
	fdw_flush(&w, false);
	struct result res = read_all(w.buf, w.len);
	/* The appended field is read past in silence; the unknown record is
	 * skipped and said to be (it may have held events). */
	assert_non_null(res.damage);
	assert_non_null(strstr(res.damage, "1 records and 0 chunks of kinds this fathom does not know"));
	assert_int_equal(res.nsamples, 1);
	assert_int_equal(res.last_sample.tid, 3);
	free(res.damage);
	fdw_free(&w);
}

/* The next record is THREAD_END of tid with these fields (UINT64_MAX:
 * absent, and then read as 0). */
static void expect_thread_end(struct reader *r, int tid, uint64_t cpu_ns, uint64_t run_ns, uint64_t runq_ns)
{
	struct rd_rec rec;
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_THREAD_END);
	assert_int_equal(rec.tid, tid);
	assert_int_equal(rec.has_cpu, cpu_ns != UINT64_MAX);
	assert_int_equal(rec.cpu_ns, cpu_ns != UINT64_MAX ? cpu_ns : 0);
	assert_int_equal(rec.has_sched, run_ns != UINT64_MAX);
	assert_int_equal(rec.run_ns, run_ns != UINT64_MAX ? run_ns : 0);
	assert_int_equal(rec.runq_ns, runq_ns);
}

/* THREAD_END's optional fields: none (1.1), the CPU time (1.2), and the
 * scheduler's account (1.7); a field a later version appends is read past.
 * A record without the account says unknown (has_sched false), whatever
 * the record before it held. */
static void test_thread_end_sched(void **state)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 1, 0, 99, 0, "x", "x", 1);
	fdw_thread_end_cpu(&w, 11, 100, 5000, 4000, 1500);
	fdw_thread_end_cpu(&w, 12, 200, 6000, UINT64_MAX, 0);
	fdw_thread_end(&w, 13, 300);
	fdw_u(&w, 14);
	fdw_u(&w, 400);
	fdw_u(&w, 7000);
	fdw_u(&w, 6900);
	fdw_u(&w, 100);
	fdw_u(&w, 777); /* appended by a newer minor version */
	fdw_rec(&w, FD_REC_THREAD_END);
	fdw_trailer(&w, 500, 0, 0, 0);
	fdw_flush(&w, false);
	FILE *f = fmemopen(w.buf, w.len, "rb");
	struct reader *r;
	char *err;
	assert_int_equal(reader_open_stream(&r, f, "t.fdump", &err), 0);
	struct rd_rec rec;
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_HEADER);
	expect_thread_end(r, 11, 5000, 4000, 1500);
	expect_thread_end(r, 12, 6000, UINT64_MAX, 0);
	expect_thread_end(r, 13, UINT64_MAX, UINT64_MAX, 0);
	expect_thread_end(r, 14, 7000, 6900, 100);
	assert_int_equal(reader_next(r, &rec), 1);
	assert_int_equal(rec.kind, FD_REC_TRAILER);
	assert_int_equal(reader_next(r, &rec), 0);
	assert_null(reader_damage(r));
	reader_close(r);
	fclose(f);
	fdw_free(&w);
	(void)state;
}

/* Random damage anywhere must never crash the reader, and whatever it
 * returns must be a record kind it knows. */
static void test_random_damage(void **state)
{
	struct fdw w;
	build(&w, true, true);
	uint8_t *copy = malloc(w.len);
	srand(12345);
	for (int iter = 0; iter < 3000; iter++) {
		memcpy(copy, w.buf, w.len);
		int flips = 1 + rand() % 8;
		for (int k = 0; k < flips; k++)
			copy[FD_FILE_HEADER_SIZE + (size_t)rand() % (w.len - FD_FILE_HEADER_SIZE)] =
			    (uint8_t)rand();
		size_t len =
		    rand() % 4 ? w.len : FD_FILE_HEADER_SIZE + (size_t)rand() % (w.len - FD_FILE_HEADER_SIZE);
		struct result res = read_all(copy, len);
		assert_int_equal(res.rc, 0);
		assert_true(res.nsamples <= 3);
		free(res.damage);
	}
	free(copy);
	fdw_free(&w);
}

/* Events, the bulk of a dump, as reader_events() and reader_next() give them. */
struct evlist {
	struct rd_event ev[400];
	int n, nother;
	char *damage;
};

static void ev_add(struct evlist *l, const struct rd_event *e)
{
	assert_true(l->n < 400);
	l->ev[l->n++] = *e;
}

/* Reads every record, with reader_events() taking up to `batch` events at a
 * time (0: reader_next() alone). */
static void read_events(const uint8_t *buf, size_t len, size_t batch, struct evlist *l)
{
	memset(l, 0, sizeof(*l));
	FILE *f = fmemopen((void *)buf, len, "rb");
	struct reader *r;
	char *err;
	assert_int_equal(reader_open_stream(&r, f, "t.fdump", &err), 0);
	struct rd_rec rec;
	struct rd_event ev[8];
	for (;;) {
		size_t n = batch ? reader_events(r, ev, batch) : 0;
		for (size_t i = 0; i < n; i++)
			ev_add(l, &ev[i]);
		if (n)
			continue;
		if (reader_next(r, &rec) <= 0)
			break;
		if (rec.kind == FD_REC_SAMPLE || rec.kind == FD_REC_ALLOC || rec.kind == FD_REC_FREE ||
		    rec.kind == FD_REC_REALLOC) {
			/* Fields an event does not use stay zero after other records. */
			assert_int_equal(rec.path.len, 0);
			assert_int_equal(rec.nframes, 0);
			assert_int_equal(rec.count, 0);
			struct rd_event e = {rec.kind, rec.tid,	 rec.id,     rec.seq, rec.ptr,	  rec.old_ptr,
					     rec.size, rec.time, rec.weight, rec.ns,  rec.at_end, rec.agent};
			ev_add(l, &e);
		} else {
			/* ... and those of other records after events. */
			assert_int_equal(rec.ptr, 0);
			assert_int_equal(rec.size, 0);
			assert_int_equal(rec.weight, 0);
			l->nother++;
		}
	}
	l->damage = reader_damage(r) ? strdup(reader_damage(r)) : NULL;
	reader_close(r);
	fclose(f);
}

static void assert_same_events(const struct evlist *a, const struct evlist *b)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->nother, b->nother);
	for (int i = 0; i < a->n; i++)
		assert_memory_equal(&a->ev[i], &b->ev[i], sizeof(a->ev[i]));
	if (a->damage || b->damage)
		assert_string_equal(a->damage ? a->damage : "(none)", b->damage ? b->damage : "(none)");
}

/* reader_events() is a fast path only: mixed with reader_next() it gives
 * exactly the records reader_next() alone gives, damaged dumps included. */
static void test_events_fast_path(void **state)
{
	struct fdw w;
	fdw_init(&w, FD_VERSION_MAJOR);
	fdw_header(&w, 7, 1, 99, FD_ALLOC_EXACT, "/bin/app", "app", 3);
	uint64_t a[2] = {0x401234, 0x401100};
	fdw_stack(&w, 1, 2, a);
	for (int c = 0; c < 3; c++) {
		for (int i = 0; i < 40; i++) {
			uint64_t seq = (uint64_t)(c * 100 + 2 * i);
			fdw_tid(&w, 100 + i % 3);
			fdw_alloc(&w, seq, 1 + (uint64_t)i % 4, (uint64_t)i * 37,
				  0x7f0000001000ull + (uint64_t)i * 4096);
			fdw_sample(&w, (uint64_t)(c * 1000000 + i * 999), 1, 1 + (uint64_t)i % 2);
			fdw_free_ev(&w, seq + 1, 0x7f0000001000ull + (uint64_t)i * 4096);
		}
		/* A realloc, an event with a field from a newer minor version
		 * after its own, and one whose length takes two bytes. */
		fdw_zz(&w, 1);
		fdw_u(&w, 2);
		fdw_u(&w, 5000);
		fdw_zz(&w, -4096);
		fdw_zz(&w, 64);
		w.prev_seq += 1;
		w.prev_ptr += 64 - 4096;
		fdw_rec(&w, FD_REC_REALLOC);
		fdw_zz(&w, 1);
		fdw_zz(&w, 0);
		fdw_u(&w, 12345);
		w.prev_seq += 1;
		fdw_rec(&w, FD_REC_FREE);
		fdw_zz(&w, 1);
		fdw_u(&w, 3);
		fdw_u(&w, 8);
		fdw_zz(&w, 16);
		for (int k = 0; k < 150; k++)
			fdw_u(&w, 0);
		w.prev_seq += 1;
		w.prev_ptr += 16;
		fdw_rec(&w, FD_REC_ALLOC);
		fdw_lost(&w, FD_LOST_ALLOC, 1);
		fdw_flush(&w, c == 1);
	}
	fdw_trailer(&w, 5000000, 120, 180, 0);
	fdw_flush(&w, false);

	struct evlist *ref = malloc(sizeof(*ref)), *got = malloc(sizeof(*got));
	read_events(w.buf, w.len, 0, ref);
	assert_int_equal(ref->n, 3 * (3 * 40 + 3));
	assert_null(ref->damage);
	assert_int_equal(ref->ev[3 * 40].kind, FD_REC_REALLOC);
	assert_int_equal(ref->ev[3 * 40].size, 5000);
	assert_int_equal(ref->ev[3 * 40].ptr - ref->ev[3 * 40].old_ptr, 64);
	for (size_t batch = 1; batch <= 8; batch *= 2) {
		read_events(w.buf, w.len, batch, got);
		assert_same_events(ref, got);
		free(got->damage);
	}
	free(ref->damage);

	uint8_t *copy = malloc(w.len);
	srand(777);
	for (int iter = 0; iter < 2000; iter++) {
		memcpy(copy, w.buf, w.len);
		int flips = 1 + rand() % 4;
		for (int k = 0; k < flips; k++)
			copy[FD_FILE_HEADER_SIZE + (size_t)rand() % (w.len - FD_FILE_HEADER_SIZE)] =
			    (uint8_t)rand();
		read_events(copy, w.len, 0, ref);
		read_events(copy, w.len, 1 + (size_t)rand() % 8, got);
		assert_same_events(ref, got);
		free(ref->damage);
		free(got->damage);
	}
	free(copy);
	free(ref);
	free(got);
	fdw_free(&w);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_plain),
	    cmocka_unit_test(test_refs),
	    cmocka_unit_test(test_valid_zstd),
	    cmocka_unit_test(test_truncated_every_byte),
	    cmocka_unit_test(test_no_trailer),
	    cmocka_unit_test(test_corrupt_payload_skipped),
	    cmocka_unit_test(test_corrupt_header_resync),
	    cmocka_unit_test(test_missing_chunk_named),
	    cmocka_unit_test(test_not_a_dump),
	    cmocka_unit_test(test_wrong_magic),
	    cmocka_unit_test(test_newer_major),
	    cmocka_unit_test(test_huge_lengths),
	    cmocka_unit_test(test_long_chunks_pass_checksum),
	    cmocka_unit_test(test_unknown_kind_skipped),
	    cmocka_unit_test(test_thread_end_sched),
	    cmocka_unit_test(test_random_damage),
	    cmocka_unit_test(test_events_fast_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
