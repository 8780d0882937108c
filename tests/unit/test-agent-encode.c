/* Unit tests of the agent's record encoder and chunk writer: events are
 * encoded into a temporary dump, which is then decoded here with the format
 * header's helpers and compared field by field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "encode.h"
#include "event.h"
#include "fathom-dump.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

/* A decoded record, with the per-chunk delta bases already applied. */
struct rec {
	unsigned kind;
	uint64_t tid; /* cur_tid for thread events */
	uint64_t v[8];
	char str[64];
	uint64_t frames[FD_MAX_FRAMES];
	unsigned chunk;
};

struct decoded {
	struct rec *r;
	size_t n, cap;
	unsigned chunks;
	/* FREE_REF and ALLOC_AT records (1.6) met, by ALLOC_AT's kind of
	 * reference: a recent free, a stack's last address. */
	unsigned free_refs, at_free, at_stack;
};

/* FREE_REF and ALLOC_AT's references (fathom-dump.h), per chunk: decoded
 * here from the format's words, apart from the profiler's reader. */
struct refs {
	uint64_t allocs[1 << 16];
	size_t nalloc;
	uint64_t freed[FD_REF_FREES];
	unsigned nfreed;
	uint64_t stack_ptr[64];
	int stack_set[64];
};

static uint64_t get(const uint8_t **p, const uint8_t *end)
{
	uint64_t v = 0;
	assert_int_equal(fd_get_varint(p, end, &v), 0);
	return v;
}

static int64_t getz(const uint8_t **p, const uint8_t *end)
{
	return fd_unzigzag(get(p, end));
}

static void get_str(const uint8_t **p, const uint8_t *end, char *out, size_t cap)
{
	uint64_t l = get(p, end);
	assert_true(*p + l <= end);
	size_t c = l < cap - 1 ? l : cap - 1;
	memcpy(out, *p, c);
	out[c] = 0;
	*p += l;
}

static void decode_payload(struct decoded *d, const uint8_t *p, const uint8_t *end, unsigned chunk)
{
	uint64_t tid = 0, seq = 0, ptr = 0, time = 0;
	static struct refs rf;
	memset(&rf, 0, sizeof(rf));
	while (p < end) {
		unsigned kind = *p++;
		uint64_t len = get(&p, end);
		const uint8_t *b = p, *be = p + len;
		assert_true(be <= end);
		p = be;
		if (kind == FD_REC_TID) {
			tid = get(&b, be);
			continue;
		}
		if (d->n == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 256;
			d->r = realloc(d->r, d->cap * sizeof(*d->r));
		}
		struct rec *r = &d->r[d->n++];
		memset(r, 0, sizeof(*r));
		r->kind = kind;
		r->tid = tid;
		r->chunk = chunk;
		switch (kind) {
		case FD_REC_HEADER:
			for (int i = 0; i < 8; i++)
				r->v[i] = get(&b, be);
			get_str(&b, be, r->str, sizeof(r->str));
			get_str(&b, be, (char *)r->frames, sizeof(r->frames));
			r->v[7] = get(&b, be); /* generation replaces alloc_sample_bytes here */
			break;
		case FD_REC_MODULE:
			for (int i = 0; i < 4; i++)
				r->v[i] = get(&b, be);
			get_str(&b, be, r->str, sizeof(r->str));
			r->v[4] = get(&b, be); /* build-id length */
			b += r->v[4];
			r->v[5] = get(&b, be);
			break;
		case FD_REC_THREAD:
			r->v[0] = get(&b, be);
			r->v[1] = get(&b, be);
			get_str(&b, be, r->str, sizeof(r->str));
			break;
		case FD_REC_STACK: {
			r->v[0] = get(&b, be);
			r->v[1] = get(&b, be);
			uint64_t a = 0;
			for (uint64_t i = 0; i < r->v[1]; i++) {
				a = i ? a + (uint64_t)getz(&b, be) : get(&b, be);
				r->frames[i] = a;
			}
			break;
		}
		case FD_REC_SAMPLE:
			time += (uint64_t)getz(&b, be);
			r->v[0] = time;
			r->v[1] = get(&b, be);
			r->v[2] = get(&b, be);
			break;
		case FD_REC_ALLOC:
		case FD_REC_ALLOC_AT:
			seq += (uint64_t)getz(&b, be);
			r->v[0] = seq;
			r->v[1] = get(&b, be);
			r->v[2] = get(&b, be);
			assert_true(r->v[1] < 64);
			if (kind == FD_REC_ALLOC) {
				ptr += (uint64_t)getz(&b, be);
			} else {
				uint64_t at = get(&b, be);
				if (at) {
					assert_true(at <= FD_REF_FREES && at <= rf.nfreed);
					ptr = rf.freed[(rf.nfreed - at) % FD_REF_FREES];
					d->at_free++;
				} else {
					assert_true(rf.stack_set[r->v[1]]);
					ptr = rf.stack_ptr[r->v[1]] + (uint64_t)getz(&b, be);
					d->at_stack++;
				}
				r->kind = FD_REC_ALLOC;
			}
			r->v[3] = ptr;
			rf.allocs[rf.nalloc++] = ptr;
			rf.stack_ptr[r->v[1]] = ptr;
			rf.stack_set[r->v[1]] = 1;
			break;
		case FD_REC_FREE:
		case FD_REC_FREE_REF:
			seq += (uint64_t)getz(&b, be);
			r->v[0] = seq;
			if (kind == FD_REC_FREE) {
				ptr += (uint64_t)getz(&b, be);
			} else {
				uint64_t back = get(&b, be);
				assert_true(back >= 1 && back <= rf.nalloc);
				ptr = rf.allocs[rf.nalloc - back];
				r->kind = FD_REC_FREE;
				d->free_refs++;
			}
			r->v[1] = ptr;
			rf.freed[rf.nfreed++ % FD_REF_FREES] = ptr;
			break;
		case FD_REC_REALLOC:
			seq += (uint64_t)getz(&b, be);
			r->v[0] = seq;
			r->v[1] = get(&b, be);
			r->v[2] = get(&b, be);
			ptr += (uint64_t)getz(&b, be);
			r->v[3] = ptr;
			ptr += (uint64_t)getz(&b, be);
			r->v[4] = ptr;
			rf.allocs[rf.nalloc++] = ptr;
			break;
		default: /* UNLOAD, THREAD_END, TICK, LOST, TRAILER: plain varints */
			for (int i = 0; i < 8 && b < be; i++)
				r->v[i] = get(&b, be);
			break;
		}
	}
}

static void decode_file(FILE *f, struct decoded *d)
{
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)size);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	assert_true(size >= FD_FILE_HEADER_SIZE);
	assert_memory_equal(buf, FD_MAGIC, FD_MAGIC_LEN);
	assert_int_equal(fd_get_u16(buf + 8), FD_VERSION_MAJOR);
	long off = FD_FILE_HEADER_SIZE;
	uint8_t *raw = malloc(FD_CHUNK_MAX_RAW);
	while (off < size) {
		assert_true(off + FD_CHUNK_HEADER_SIZE <= size);
		const uint8_t *h = buf + off;
		assert_true(fd_chunk_header_valid(h));
		assert_int_equal(fd_get_u32(h + 8), d->chunks);
		uint32_t plen = fd_get_u32(h + 12), rlen = fd_get_u32(h + 16);
		assert_true(off + FD_CHUNK_HEADER_SIZE + plen <= size);
		const uint8_t *payload = h + FD_CHUNK_HEADER_SIZE;
		assert_int_equal(fd_crc32c(0, payload, plen), fd_get_u32(h + 20));
		size_t n;
		if (h[5] & FD_CHUNK_ZSTD) {
			n = ZSTD_decompress(raw, FD_CHUNK_MAX_RAW, payload, plen);
			assert_false(ZSTD_isError(n));
		} else {
			memcpy(raw, payload, plen);
			n = plen;
		}
		assert_int_equal(n, rlen);
		decode_payload(d, raw, raw + n, d->chunks);
		d->chunks++;
		off += FD_CHUNK_HEADER_SIZE + plen;
	}
	free(raw);
	free(buf);
}

/* Encodes a run of every kind of record and checks it decodes the same. */
static void round_trip(size_t chunk_raw, int level)
{
	FILE *f = tmpfile();
	assert_non_null(f);
	struct enc e;
	assert_int_equal(enc_open(&e, fileno(f), chunk_raw, level), 0);
	struct enc_header_info h = {.pid = 4242,
				    .ppid = 1,
				    .start_real_ns = 1700000000000000000ull,
				    .start_mono_ns = 123456789,
				    .hz = 99,
				    .clock = FD_CLOCK_WALL,
				    .alloc_mode = FD_ALLOC_SAMPLED,
				    .alloc_sample_bytes = 524288,
				    .generation = 2,
				    .exe = "/usr/bin/prog",
				    .cmdline = "prog\0-x",
				    .cmdline_len = 7};
	enc_header(&e, &h);
	uint8_t bid[20];
	for (int i = 0; i < 20; i++)
		bid[i] = (uint8_t)i;
	enc_module(&e, 1, 0x555500000000, 0x555500001000, 0x555500009000, "/usr/bin/prog", bid, 20, 5);
	enc_thread(&e, 4242, 6, "main");
	/* Events from a ring, as the writer sees them, from two threads, many
	 * enough to span several chunks when chunk_raw is small. */
	uint64_t frames[4] = {0x555500001234, 0x555500001100, 0x7f0000002000, 0x555500001000};
	uint64_t w[EV_MAX_WORDS];
	w[0] = EV_W0(EV_STACK, 6, 4);
	w[1] = 1;
	memcpy(&w[2], frames, sizeof(frames));
	assert_int_equal(enc_event(&e, 4242, w), 6);
	const int N = 3000;
	for (int i = 0; i < N; i++) {
		uint64_t tid = i % 3 ? 4242 : 4243;
		uint64_t s[3] = {EV_W0(EV_SAMPLE, 3, 1 + i % 4), 1000000u * (uint64_t)i, 1};
		assert_int_equal(enc_event(&e, tid, s), 3);
		uint64_t a[4] = {EV_W0(EV_ALLOC, 4, 3 * i), 1, 16 + (uint64_t)i,
				 0x560000001000 + 32 * (uint64_t)(i % 7)};
		assert_int_equal(enc_event(&e, tid, a), 4);
		uint64_t r[5] = {EV_W0(EV_REALLOC, 5, 3 * i + 1), 1, 100, a[3],
				 0x7f0000100000 - 64 * (uint64_t)i};
		assert_int_equal(enc_event(&e, tid, r), 5);
		uint64_t fr[2] = {EV_W0(EV_FREE, 2, 3 * i + 2), r[4]};
		assert_int_equal(enc_event(&e, tid, fr), 2);
	}
	uint64_t bad[2] = {EV_W0(EV_FREE, 3, 1), 0};
	assert_int_equal(enc_event(&e, 1, bad), 0);
	uint64_t te[3] = {EV_W0(EV_THREAD_END, 3, 0), 4243, 77};
	assert_int_equal(enc_event(&e, 4243, te), 3);
	enc_unload(&e, 1, 88);
	enc_tick(&e, 99, 9000, 1 << 20, 4096, UINT64_MAX);
	enc_lost(&e, FD_LOST_SAMPLES, 7);
	enc_trailer(&e, 100, FD_END_EXIT, UINT64_MAX, 0, 0);
	assert_int_equal(enc_flush(&e), 0);
	enc_close(&e);

	struct decoded d = {0};
	fflush(f);
	decode_file(f, &d);
	fclose(f);
	if (chunk_raw < 4096)
		assert_true(d.chunks > 10);
	size_t k = 0;
	struct rec *r = &d.r[k++];
	assert_int_equal(r->kind, FD_REC_HEADER);
	assert_int_equal(r->v[0], 4242);
	assert_int_equal(r->v[2], 1700000000000000000ull);
	assert_int_equal(r->v[5], FD_CLOCK_WALL);
	assert_int_equal(r->v[6], FD_ALLOC_SAMPLED);
	assert_int_equal(r->v[7], 2);
	assert_string_equal(r->str, "/usr/bin/prog");
	assert_memory_equal((char *)r->frames, "prog\0-x", 8);
	r = &d.r[k++];
	assert_int_equal(r->kind, FD_REC_MODULE);
	assert_int_equal(r->v[1], 0x555500000000);
	assert_int_equal(r->v[3], 0x555500009000);
	assert_int_equal(r->v[4], 20);
	assert_int_equal(r->v[5], 5);
	r = &d.r[k++];
	assert_int_equal(r->kind, FD_REC_THREAD);
	assert_string_equal(r->str, "main");
	r = &d.r[k++];
	assert_int_equal(r->kind, FD_REC_STACK);
	assert_int_equal(r->v[1], 4);
	assert_memory_equal(r->frames, frames, sizeof(frames));
	for (int i = 0; i < N; i++) {
		uint64_t tid = i % 3 ? 4242 : 4243;
		r = &d.r[k++];
		assert_int_equal(r->kind, FD_REC_SAMPLE);
		assert_int_equal(r->tid, tid);
		assert_int_equal(r->v[0], 1000000u * (uint64_t)i);
		assert_int_equal(r->v[2], 1 + i % 4);
		r = &d.r[k++];
		assert_int_equal(r->kind, FD_REC_ALLOC);
		assert_int_equal(r->tid, tid);
		assert_int_equal(r->v[0], 3 * i);
		assert_int_equal(r->v[2], 16 + i);
		assert_int_equal(r->v[3], 0x560000001000 + 32 * (uint64_t)(i % 7));
		r = &d.r[k++];
		assert_int_equal(r->kind, FD_REC_REALLOC);
		assert_int_equal(r->v[0], 3 * i + 1);
		assert_int_equal(r->v[3], 0x560000001000 + 32 * (uint64_t)(i % 7));
		assert_int_equal(r->v[4], 0x7f0000100000 - 64 * (uint64_t)i);
		r = &d.r[k++];
		assert_int_equal(r->kind, FD_REC_FREE);
		assert_int_equal(r->v[0], 3 * i + 2);
		assert_int_equal(r->v[1], 0x7f0000100000 - 64 * (uint64_t)i);
	}
	r = &d.r[k++];
	assert_int_equal(r->kind, FD_REC_THREAD_END);
	assert_int_equal(r->v[0], 4243);
	r = &d.r[k++];
	assert_int_equal(r->kind, FD_REC_UNLOAD);
	r = &d.r[k++];
	assert_int_equal(r->kind, FD_REC_TICK);
	assert_int_equal(r->v[1], 9000);
	assert_int_equal(r->v[2], 1 << 20);
	r = &d.r[k++];
	assert_int_equal(r->kind, FD_REC_LOST);
	assert_int_equal(r->v[1], 7);
	r = &d.r[k++];
	assert_int_equal(r->kind, FD_REC_TRAILER);
	assert_int_equal(r->v[1], N);			   /* samples */
	assert_int_equal(r->v[2], (uint64_t)(N / 4) * 10); /* weights 1..4 */
	assert_int_equal(r->v[3], 7);
	assert_int_equal(r->v[4], 3 * (uint64_t)N);
	assert_int_equal(k, d.n);
	/* Each free names the block the realloc before it made, and each
	 * allocation's address is its stack's last one plus a delta, except
	 * the first of a chunk. */
	assert_true(d.free_refs > N * 9 / 10);
	assert_true(d.at_stack > N / 2);
	free(d.r);
}

static void test_round_trip_one_chunk(void **state)
{
	round_trip(1 << 20, 1);
}

static void test_round_trip_many_chunks(void **state)
{
	/* Chunks of 1 KB: the delta bases and the TID reset at each one. */
	round_trip(1024, 3);
}

static void test_round_trip_uncompressed(void **state)
{
	round_trip(2048, 0);
}

static void test_compact(void **state)
{
	/* Repetitive allocation events must cost well under a byte each. */
	FILE *f = tmpfile();
	struct enc e;
	assert_int_equal(enc_open(&e, fileno(f), 4 << 20, 1), 0);
	for (uint64_t i = 0; i < 200000; i++) {
		uint64_t a[4] = {EV_W0(EV_ALLOC, 4, 2 * i), 1 + i % 4, 8 << (i % 8),
				 0x560000001000 + 64 * (i % 8)};
		uint64_t fr[2] = {EV_W0(EV_FREE, 2, 2 * i + 1), a[3]};
		enc_event(&e, 7, a);
		enc_event(&e, 7, fr);
	}
	assert_int_equal(enc_flush(&e), 0);
	long size = ftell(f);
	enc_close(&e);
	fclose(f);
	assert_true(size < 400000 / 4);
}

/* A run of ALLOC and FREE events encoded in one enc_alloc_run call makes
 * the same file as the events given to enc_event one at a time (pairs freed
 * at once, a block freed later, an address a recent free gave back, a
 * REALLOC between runs); the run stops before an event past max_seq and
 * takes no event of another kind. */
static size_t file_bytes(FILE *f, uint8_t *buf, size_t cap)
{
	fflush(f);
	size_t n = (size_t)ftell(f);
	assert_true(n <= cap);
	rewind(f);
	assert_int_equal(fread(buf, 1, n, f), n);
	return n;
}

static void test_alloc_run(void **state)
{
	uint64_t w[4096];
	size_t n = 0;
	uint64_t seq = 1, held = 0x7f0000000000;
	for (int i = 0; i < 300; i++) {
		uint64_t p = 0x560000001000 + 48 * (uint64_t)(i % 11);
		uint64_t *a = &w[n];
		a[0] = EV_W0(EV_ALLOC, 4, seq++), a[1] = 1 + (uint64_t)(i % 3), a[2] = 16u << (i % 9),
		a[3] = p;
		n += 4;
		if (i % 7 == 3) { /* a block freed later: FREE_REF further back */
			w[n++] = EV_W0(EV_ALLOC, 4, seq++), w[n++] = 9, w[n++] = 4000,
			w[n++] = held + 64 * (uint64_t)i;
		}
		if (i % 7 == 5)
			w[n++] = EV_W0(EV_FREE, 2, seq++), w[n++] = held + 64 * (uint64_t)(i - 2);
		w[n++] = EV_W0(EV_FREE, 2, seq++), w[n++] = p;
		if (i == 150) { /* another kind ends a run */
			w[n++] = EV_W0(EV_REALLOC, 5, seq++), w[n++] = 2, w[n++] = 99, w[n++] = held - 4096,
			w[n++] = held - 8192;
		}
	}
	assert_true(n < 4000);
	FILE *f1 = tmpfile(), *f2 = tmpfile();
	struct enc e1, e2;
	assert_int_equal(enc_open(&e1, fileno(f1), 1 << 20, 0), 0);
	assert_int_equal(enc_open(&e2, fileno(f2), 1 << 20, 0), 0);
	size_t runs = 0;
	for (size_t i = 0; i < n;) {
		size_t got = enc_alloc_run(&e1, 7, &w[i], n - i, UINT64_MAX);
		if (!got) {
			assert_int_equal(EV_KIND(w[i]), EV_REALLOC);
			got = enc_event(&e1, 7, &w[i]);
		}
		assert_true(got > 0);
		runs++;
		i += got;
	}
	assert_true(runs <= 4); /* 2048 words a call at most, and the REALLOC */
	for (size_t i = 0; i < n; i += EV_LEN(w[i]))
		assert_int_equal(enc_event(&e2, 7, &w[i]), EV_LEN(w[i]));
	assert_int_equal(e1.alloc_events, e2.alloc_events);
	assert_int_equal(e1.records, e2.records);
	assert_int_equal(enc_flush(&e1), 0);
	assert_int_equal(enc_flush(&e2), 0);
	static uint8_t b1[1 << 16], b2[1 << 16];
	size_t n1 = file_bytes(f1, b1, sizeof(b1)), n2 = file_bytes(f2, b2, sizeof(b2));
	assert_int_equal(n1, n2);
	assert_memory_equal(b1, b2, n1);
	/* max_seq: the run stops before the first event past it. */
	assert_int_equal(enc_alloc_run(&e1, 7, w, n, 1), 4);
	assert_int_equal(enc_alloc_run(&e1, 7, w, n, 2), 6); /* the pair */
	assert_int_equal(enc_alloc_run(&e1, 7, w, n, 0), 0);
	enc_close(&e1);
	enc_close(&e2);
	fclose(f1);
	fclose(f2);
}

/* A free, then an allocation the allocator gives the same block (its
 * cache of freed blocks, last in first out): the allocation names the
 * free; a free of a block made in an earlier chunk is a plain FREE. */
static void test_refs(void **state)
{
	FILE *f = tmpfile();
	struct enc e;
	assert_int_equal(enc_open(&e, fileno(f), 4096, 1), 0);
	const int N = 2000;
	uint64_t held = 0x7f0000000000;
	uint64_t a[4] = {EV_W0(EV_ALLOC, 4, 0), 2, 64, held};
	enc_event(&e, 7, a);
	for (int i = 0; i < N; i++) {
		uint64_t p = 0x560000001000 + 16 * (uint64_t)(i % 5);
		uint64_t al[4] = {EV_W0(EV_ALLOC, 4, 1 + 2 * (uint64_t)i), 1 + (uint64_t)(i % 3), 24, p};
		uint64_t fr[2] = {EV_W0(EV_FREE, 2, 2 + 2 * (uint64_t)i), p};
		enc_event(&e, 7, al);
		enc_event(&e, 7, fr);
	}
	uint64_t fh[2] = {EV_W0(EV_FREE, 2, 1 + 2 * (uint64_t)N), held};
	enc_event(&e, 7, fh);
	assert_int_equal(enc_flush(&e), 0);
	enc_close(&e);
	struct decoded d = {0};
	decode_file(f, &d);
	fclose(f);
	assert_true(d.chunks > 3);
	assert_int_equal(d.n, 2 + 2 * (size_t)N);
	assert_int_equal(d.r[0].kind, FD_REC_ALLOC);
	assert_int_equal(d.r[0].v[3], held);
	for (int i = 0; i < N; i++) {
		uint64_t p = 0x560000001000 + 16 * (uint64_t)(i % 5);
		assert_int_equal(d.r[1 + 2 * i].kind, FD_REC_ALLOC);
		assert_int_equal(d.r[1 + 2 * i].v[1], 1 + i % 3);
		assert_int_equal(d.r[1 + 2 * i].v[3], p);
		assert_int_equal(d.r[2 + 2 * i].kind, FD_REC_FREE);
		assert_int_equal(d.r[2 + 2 * i].v[1], p);
	}
	assert_int_equal(d.r[1 + 2 * N].v[1], held);
	assert_true(d.free_refs > N * 9 / 10);
	assert_true(d.at_free > N / 2);
	free(d.r);
}

static void test_rewind(void **state)
{
	FILE *f = tmpfile();
	struct enc e;
	assert_int_equal(enc_open(&e, fileno(f), 1 << 16, 1), 0);
	enc_tick(&e, 1, 2, 3, 4, UINT64_MAX);
	assert_int_equal(enc_flush(&e), 0);
	struct enc_mark m = enc_mark(&e);
	enc_trailer(&e, 5, FD_END_EXEC, UINT64_MAX, 0, 0);
	assert_int_equal(enc_flush(&e), 0);
	assert_int_equal(enc_rewind(&e, m), 0);
	enc_tick(&e, 6, 7, 8, 9, UINT64_MAX);
	enc_trailer(&e, 10, FD_END_EXIT, 7000, 300, 0);
	assert_int_equal(enc_flush(&e), 0);
	enc_close(&e);
	struct decoded d = {0};
	decode_file(f, &d);
	fclose(f);
	/* The EXEC trailer was taken back; chunk numbers stay consecutive. */
	assert_int_equal(d.chunks, 2);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.r[0].kind, FD_REC_TICK);
	assert_int_equal(d.r[1].kind, FD_REC_TICK);
	assert_int_equal(d.r[2].kind, FD_REC_TRAILER);
	assert_int_equal(d.r[2].v[5], FD_END_EXIT);
	free(d.r);
}

/* A rewind takes back the totals and the stacks defined after the mark:
 * the trailer that follows counts only what the file holds, and a stack
 * first defined in the part taken back is defined again when used. */
static void test_rewind_totals(void **state)
{
	FILE *f = tmpfile();
	struct enc e;
	assert_int_equal(enc_open(&e, fileno(f), 1 << 16, 1), 0);
	uint64_t fr[2] = {0x401000, 0x402000};
	enc_stack(&e, 1, fr, 2);
	uint64_t s[6];
	sample_event(s, 1, 10, 1, 0, 0);
	enc_event(&e, 7, s);
	assert_int_equal(enc_flush(&e), 0);
	struct enc_mark m = enc_mark(&e);
	enc_stack(&e, 2, fr, 1);
	sample_event(s, 1, 20, 2, 0, 0);
	enc_event(&e, 7, s);
	enc_trailer(&e, 30, FD_END_EXEC, UINT64_MAX, 0, 0);
	assert_int_equal(enc_flush(&e), 0);
	assert_int_equal(e.samples, 2);
	assert_int_equal(enc_rewind(&e, m), 0);
	assert_int_equal(e.samples, 1);
	assert_int_equal(e.stacks_defined, 1);
	enc_stack(&e, 2, fr, 1); /* taken back: written again */
	enc_stack(&e, 1, fr, 2); /* before the mark: not again */
	enc_trailer(&e, 40, FD_END_EXIT, UINT64_MAX, 0, 0);
	assert_int_equal(enc_flush(&e), 0);
	enc_close(&e);
	struct decoded d = {0};
	decode_file(f, &d);
	fclose(f);
	int stacks = 0;
	for (size_t i = 0; i < d.n; i++)
		stacks += d.r[i].kind == FD_REC_STACK;
	assert_int_equal(stacks, 2);
	assert_int_equal(d.r[d.n - 1].kind, FD_REC_TRAILER);
	assert_int_equal(d.r[d.n - 1].v[1], 1); /* samples the file holds */
	free(d.r);
}

/* Once the descriptor names another file (the program closed ours and
 * reused the number), the encoder neither writes, nor truncates it, and
 * counts what it could not write. */
static void test_not_ours(void **state)
{
	FILE *f = tmpfile(), *other = tmpfile();
	assert_non_null(f);
	assert_non_null(other);
	struct enc e;
	int fd = dup(fileno(f));
	assert_int_equal(enc_open(&e, fd, 1 << 16, 1), 0);
	e.check_id = 1;
	assert_true(enc_is_ours(&e));
	enc_tick(&e, 1, 2, 3, 4, UINT64_MAX);
	assert_int_equal(enc_flush(&e), 0);
	struct enc_mark m = enc_mark(&e);
	assert_int_equal(fwrite("the program's own data", 1, 22, other), 22);
	fflush(other);
	assert_int_equal(dup2(fileno(other), fd), fd);
	assert_false(enc_is_ours(&e));
	assert_int_equal(enc_rewind(&e, m), -EBADF);
	enc_tick(&e, 5, 6, 7, 8, UINT64_MAX);
	assert_int_equal(enc_flush(&e), -EBADF);
	assert_true(e.lost_bytes > 0);
	struct stat st;
	assert_int_equal(fstat(fileno(other), &st), 0);
	assert_int_equal(st.st_size, 22);
	enc_close(&e);
	close(fd);
	fclose(other);
	fclose(f);
}

/* A full device: the header cannot be written, and enc_open says so. */
static void test_disk_full(void **state)
{
	int fd = open("/dev/full", O_WRONLY);
	if (fd < 0)
		skip();
	struct enc e;
	assert_int_equal(enc_open(&e, fd, 1 << 16, 1), -ENOSPC);
	enc_close(&e);
	close(fd);
}

/* The record buffer starts small and grows with what is batched: a chunk
 * of more than its first size still round-trips. */
static void test_grow(void **state)
{
	FILE *f = tmpfile();
	struct enc e;
	assert_int_equal(enc_open(&e, fileno(f), 4 << 20, 1), 0);
	size_t first = e.raw_cap;
	uint64_t n = 0;
	for (uint64_t i = 0; e.raw_len < 3 * first; i++, n++) {
		uint64_t a[4] = {EV_W0(EV_ALLOC, 4, i), 1 + i % 4, i, 0x560000001000 + 4096 * i};
		assert_int_equal(enc_event(&e, 7, a), 4);
	}
	assert_true(e.raw_cap > first);
	assert_int_equal(enc_flush(&e), 0);
	enc_close(&e);
	struct decoded d = {0};
	decode_file(f, &d);
	fclose(f);
	assert_int_equal(d.chunks, 1);
	assert_int_equal(d.n, n);
	free(d.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_one_chunk),
	    cmocka_unit_test(test_round_trip_many_chunks),
	    cmocka_unit_test(test_round_trip_uncompressed),
	    cmocka_unit_test(test_compact),
	    cmocka_unit_test(test_refs),
	    cmocka_unit_test(test_rewind),
	    cmocka_unit_test(test_rewind_totals),
	    cmocka_unit_test(test_not_ours),
	    cmocka_unit_test(test_disk_full),
	    cmocka_unit_test(test_grow),
	    cmocka_unit_test(test_alloc_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
