/* The record encoders: one function a dump record (see fathom-dump.h), and
 * enc_event(), which turns the events of a thread's ring (event.h) into
 * records. The chunk writer underneath is encode.c. */
#define _GNU_SOURCE
#include "encode-int.h"
#include "event.h"

#include <string.h>

void enc_header(struct enc *e, const struct enc_header_info *h)
{
	size_t xl = cap_len(h->exe, STR_MAX);
	size_t cl = h->cmdline_len > 65536 ? 65536 : h->cmdline_len;
	uint8_t *s = reserve(e, 128 + xl + cl), *p = s + 2;
	PUT(h->pid);
	PUT(h->ppid);
	PUT(h->start_real_ns);
	PUT(h->start_mono_ns);
	PUT(h->hz);
	PUT(h->clock);
	PUT(h->alloc_mode);
	PUT(h->alloc_sample_bytes);
	p = put_bytes(p, h->exe ? h->exe : "", xl);
	p = put_bytes(p, h->cmdline ? h->cmdline : "", cl);
	PUT(h->generation);
	if (h->wait_threshold_ns) /* since 1.4 */
		PUT(h->wait_threshold_ns);
	finish(e, FD_REC_HEADER, s, p);
}

void enc_module(struct enc *e, uint64_t id, uint64_t bias, uint64_t start, uint64_t end, const char *path,
		const uint8_t *build_id, size_t build_id_len, uint64_t time)
{
	size_t pl = cap_len(path, STR_MAX);
	if (build_id_len > 64)
		build_id_len = 64;
	uint8_t *s = reserve(e, 80 + pl + build_id_len), *p = s + 2;
	PUT(id);
	PUT(bias);
	PUT(start);
	PUT(end);
	p = put_bytes(p, path ? path : "", pl);
	p = put_bytes(p, build_id, build_id_len);
	PUT(time);
	finish(e, FD_REC_MODULE, s, p);
}

void enc_unload(struct enc *e, uint64_t id, uint64_t time)
{
	uint8_t *s = reserve(e, 32), *p = s + 2;
	PUT(id);
	PUT(time);
	finish(e, FD_REC_UNLOAD, s, p);
}

void enc_thread(struct enc *e, uint64_t tid, uint64_t time, const char *name)
{
	uint8_t *s = reserve(e, 64), *p = s + 2;
	PUT(tid);
	PUT(time);
	p = put_bytes(p, name ? name : "", cap_len(name, 16));
	finish(e, FD_REC_THREAD, s, p);
}

void enc_thread_end(struct enc *e, uint64_t tid, uint64_t time, uint64_t cpu_ns)
{
	uint8_t *s = reserve(e, 48), *p = s + 2;
	PUT(tid);
	PUT(time);
	if (cpu_ns != UINT64_MAX)
		PUT(cpu_ns);
	finish(e, FD_REC_THREAD_END, s, p);
}

void enc_tick(struct enc *e, uint64_t time, uint64_t seq, uint64_t rss, uint64_t heap, uint64_t rss_file)
{
	uint8_t *s = reserve(e, 64), *p = s + 2;
	PUT(time);
	PUT(seq);
	PUT(rss);
	PUT(heap);
	if (rss_file != UINT64_MAX) /* since 1.4 */
		PUT(rss_file);
	finish(e, FD_REC_TICK, s, p);
}

void enc_window(struct enc *e, uint64_t time, unsigned what, uint64_t seq, uint64_t id, const char *label)
{
	size_t ll = cap_len(label, 256);
	uint8_t *s = reserve(e, 56 + ll), *p = s + 2;
	PUT(time);
	PUT(what);
	PUT(seq);
	PUT(id);
	p = put_bytes(p, label ? label : "", ll);
	finish(e, FD_REC_WINDOW, s, p);
}

void enc_lost(struct enc *e, unsigned what, uint64_t count)
{
	enc_lost_why(e, what, count, NULL);
}

void enc_lost_why(struct enc *e, unsigned what, uint64_t count, const char *why)
{
	size_t wl = cap_len(why, 200);
	uint8_t *s = reserve(e, 40 + wl), *p = s + 2;
	PUT(what);
	PUT(count);
	if (why)
		p = put_bytes(p, why, wl);
	finish(e, FD_REC_LOST, s, p);
	if (what == FD_LOST_SAMPLES)
		e->lost_samples += count;
}

void enc_record(struct enc *e, unsigned kind, const uint8_t *body, size_t len)
{
	if (len > RAW_START - 16)
		return;
	uint8_t *s = reserve(e, len + 16);
	memcpy(s + 2, body, len);
	finish(e, kind, s, s + 2 + len);
}

void enc_note(struct enc *e, unsigned what, const char *text)
{
	size_t tl = cap_len(text, 4096);
	uint8_t *s = reserve(e, 24 + tl), *p = s + 2;
	PUT(what);
	p = put_bytes(p, text ? text : "", tl);
	finish(e, FD_REC_NOTE, s, p);
}

void enc_trailer(struct enc *e, uint64_t time, unsigned reason, uint64_t cpu_ns, uint64_t agent_cpu_ns,
		 unsigned sig)
{
	uint8_t *s = reserve(e, 96), *p = s + 2;
	PUT(time);
	PUT(e->samples);
	PUT(e->sample_weight);
	PUT(e->lost_samples);
	PUT(e->alloc_events);
	PUT(reason);
	if (cpu_ns != UINT64_MAX || sig) {
		PUT(cpu_ns == UINT64_MAX ? 0 : cpu_ns);
		PUT(agent_cpu_ns);
	}
	if (sig) /* since 1.4 */
		PUT(sig);
	finish(e, FD_REC_TRAILER, s, p);
}

/* Emits a TID record when the events' thread changes; after reserve(). */
static uint8_t *set_tid(struct enc *e, uint8_t *s, uint64_t tid)
{
	if (e->cur_tid == tid)
		return s;
	uint8_t *p = s + 2;
	PUT(tid);
	finish(e, FD_REC_TID, s, p);
	e->cur_tid = tid;
	return e->raw + e->raw_len;
}

/* MAP, UNMAP and REMAP from their events (event.h); they share the
 * allocation events' delta bases. Returns the words used, 0 when malformed. */
static unsigned enc_map_event(struct enc *e, uint64_t tid, const uint64_t *w)
{
	unsigned kind = EV_KIND(w[0]), len = EV_LEN(w[0]);
	uint64_t f = EV_FIELD(w[0]);
	uint8_t *s, *p;
	if (kind == EV_MAP) {
		if (len < EV_MAP_FIXED || len > EV_MAP_FIXED + EV_MAP_PATH_WORDS)
			return 0;
		const char *path = (const char *)&w[EV_MAP_FIXED];
		size_t pl = strnlen(path, (len - EV_MAP_FIXED) * 8u);
		s = set_tid(e, reserve(e, 96 + pl), tid);
		p = s + 2;
		PUTZ(f - e->prev_seq);
		PUT(w[1]);
		PUTZ(w[2] - e->prev_ptr);
		PUT(w[3]);
		PUT(w[4] & 0xff);	 /* kind */
		PUT((w[4] >> 8) & 0xff); /* prot */
		PUT(w[4] >> 32);	 /* flags */
		PUT(w[5]);
		PUT(w[6]);
		p = put_bytes(p, path, pl);
		e->prev_ptr = w[2];
		kind = FD_REC_MAP;
	} else if (kind == EV_UNMAP) {
		if (len != 5)
			return 0;
		s = set_tid(e, reserve(e, 64), tid);
		p = s + 2;
		PUTZ(f - e->prev_seq);
		PUTZ(w[1] - e->prev_ptr);
		PUT(w[2]);
		PUT(w[3]);
		PUT(w[4]);
		e->prev_ptr = w[1];
		kind = FD_REC_UNMAP;
	} else {
		if (len != 8)
			return 0;
		s = set_tid(e, reserve(e, 96), tid);
		p = s + 2;
		PUTZ(f - e->prev_seq);
		PUT(w[1]);
		PUTZ(w[2] - e->prev_ptr);
		PUT(w[3]);
		PUTZ(w[4] - w[2]);
		PUT(w[5]);
		PUT(w[6]);
		PUT(w[7]);
		e->prev_ptr = w[4];
		kind = FD_REC_REMAP;
	}
	e->prev_seq = f;
	finish(e, kind, s, p);
	return len;
}

/* The longest ALLOC or FREE record: kind, a length byte and five varints
 * (43 bytes). */
#define RUN_REC_MAX 48
/* The most words one call encodes, so that its room is reserved at once
 * (2048 words: at most 1024 records, 48 KB, within RAW_START). */
#define RUN_WORDS 2048
#ifndef RUN_AHEAD
#define RUN_AHEAD 64
#endif

/* A varint in one byte when the value fits, the general loop otherwise:
 * an allocation record's fields are mostly small. (A branchless store of
 * up to three bytes took a third longer on the bench_alloc pattern.) */
static inline uint8_t *put_small(uint8_t *p, uint64_t v)
{
	if (__builtin_expect(v < 0x80, 1)) {
		*p = (uint8_t)v;
		return p + 1;
	}
	return p + fd_put_varint(p, v);
}

#define FREED_HASH(ptr) ((unsigned)(((ptr)*0x9e3779b97f4a7c15ull) >> 58)) /* of FREED_HASHES */

/* The n-th free of the chunk: kept at slot ~n % 8, so that the slots from
 * the last free's on are in the order of ALLOC_AT's `at`, and counted by
 * its address's hash, so that an allocation whose hash has no count (most
 * of them, where a program frees blocks of other sizes in between) skips
 * the search. */
static inline void note_free(uint64_t *freed, uint8_t *count, uint32_t n, uint64_t ptr)
{
	unsigned slot = ~n % FD_REF_FREES;
	if (n >= FD_REF_FREES)
		count[FREED_HASH(freed[slot])]--;
	count[FREED_HASH(ptr)]++;
	freed[slot] = ptr;
}

/* The loop keeps the chunk's delta bases and references in locals, written
 * back at its end: every byte it stores could otherwise alias them (a
 * uint8_t store may alias anything), and the compiler would read them from
 * memory again at every field. Room for the whole run is reserved first,
 * and a record's body is below 128 bytes, so its length is one byte
 * written after it: no check, no move per record. */
size_t enc_alloc_run(struct enc *e, uint64_t tid, const uint64_t *w, size_t nwords, uint64_t max_seq)
{
	if (nwords > RUN_WORDS)
		nwords = RUN_WORDS;
	/* Nothing is written unless the first event is one of the run's. */
	unsigned k0 = EV_KIND(w[0]), l0 = EV_LEN(w[0]);
	if (!((k0 == EV_ALLOC && l0 == 4) || (k0 == EV_FREE && l0 == 2)) || l0 > nwords ||
	    EV_FIELD(w[0]) > max_seq)
		return 0;
	refs_ready(e);
	uint8_t *p = set_tid(e, reserve(e, nwords / 2 * RUN_REC_MAX + 16), tid);
	uint64_t seq = e->prev_seq, last = e->prev_ptr, n = 0;
	uint32_t nalloc = e->nalloc, nfreed = e->nfreed, gen = e->ref_gen;
	struct enc_ref *refs = e->refs;
	struct enc_stk *stks = e->stks;
	const int track = e->track_refs;
	uint64_t freed[FD_REF_FREES];
	uint8_t fcount[FREED_HASHES];
	memcpy(freed, e->freed, sizeof(freed));
	memcpy(fcount, e->freed_count, sizeof(fcount));
	size_t i = 0;
	while (i < nwords) {
		/* The lines ahead, which the producer's core holds: waiting
		 * for each in turn was most of the loop's time. */
		if (i + RUN_AHEAD < nwords)
			__builtin_prefetch(&w[i + RUN_AHEAD], 0, 3);
		uint64_t w0 = w[i], f = EV_FIELD(w0);
		unsigned kind = EV_KIND(w0), len = EV_LEN(w0);
		if (f > max_seq || len > nwords - i)
			break;
		uint8_t *s = p;
		p += 2;
		p = put_small(p, fd_zigzag((int64_t)(f - seq)));
		if (kind == EV_ALLOC && len == 4) {
			uint64_t id = w[i + 1], ptr = w[i + 3];
			if (track)
				enc_event_ref(e, &w[i]);
			p = put_small(p, id);
			p = put_small(p, w[i + 2]);
			/* Since 1.6, the address by reference where it can be
			 * (ALLOC_AT): a recent free's, else a delta from the
			 * stack's last address. */
			/* Which of the last frees freed this address (note_free):
			 * all eight compared without a branch. */
			unsigned at = 0;
			if (fcount[FREED_HASH(ptr)]) {
				unsigned nf = nfreed < FD_REF_FREES ? nfreed : FD_REF_FREES, hit = 0;
#pragma GCC unroll 8
				for (unsigned k = 0; k < FD_REF_FREES; k++)
					hit |= (unsigned)(freed[k] == ptr) << k;
				unsigned base = -nfreed % FD_REF_FREES;
				hit = ((hit | hit << FD_REF_FREES) >> base) & ((1u << nf) - 1);
				if (hit)
					at = (unsigned)__builtin_ctz(hit) + 1;
			}
			int stack_ok = id && id < FD_REF_MAX_STACK && stks;
			struct enc_stk *st = stack_ok ? stk_slot(stks, id) : NULL;
			if (at) {
				*s = FD_REC_ALLOC_AT;
				*p++ = (uint8_t)at;
			} else if (st && st->gen == gen && st->id == id) {
				*s = FD_REC_ALLOC_AT;
				*p++ = 0;
				p = put_small(p, fd_zigzag((int64_t)(ptr - st->ptr)));
			} else {
				*s = FD_REC_ALLOC;
				p = put_small(p, fd_zigzag((int64_t)(ptr - last)));
			}
			nalloc++;
			const uint64_t *nx = &w[i + 4];
			if (refs && nwords - i >= 6 && nx[1] == ptr && EV_KIND(nx[0]) == EV_FREE &&
			    EV_LEN(nx[0]) == 2 && EV_FIELD(nx[0]) <= max_seq) {
				/* Freed next (a temporary): its FREE_REF is 1 back,
				 * with no slot to fill and look up again. The
				 * slot's other block, if any, stays findable. */
				uint64_t f2 = EV_FIELD(nx[0]);
				s[1] = (uint8_t)(p - (s + 2));
				s = p;
				*s = FD_REC_FREE_REF;
				p = put_small(p + 2, fd_zigzag((int64_t)(f2 - f)));
				*p++ = 1;
				note_free(freed, fcount, nfreed++, ptr);
				f = f2;
				len = 6;
				n++;
			} else if (refs) {
				*ref_slot(refs, ptr) = (struct enc_ref){ptr, nalloc, gen};
			}
			if (st && refs)
				*st = (struct enc_stk){ptr, (uint32_t)id, gen};
			last = ptr;
		} else if (kind == EV_FREE && len == 2) {
			uint64_t ptr = w[i + 1];
			/* How many allocations back in the chunk its block was
			 * made (FREE_REF); the block is then no longer live. */
			struct enc_ref *r = refs ? ref_slot(refs, ptr) : NULL;
			if (r && r->gen == gen && r->ptr == ptr) {
				*s = FD_REC_FREE_REF;
				p = put_small(p, nalloc - r->ord + 1);
				r->gen = 0;
			} else {
				*s = FD_REC_FREE;
				p = put_small(p, fd_zigzag((int64_t)(ptr - last)));
			}
			note_free(freed, fcount, nfreed++, ptr);
			last = ptr;
		} else {
			p = s;
			break;
		}
		s[1] = (uint8_t)(p - (s + 2));
		seq = f;
		i += len;
		n++;
	}
	e->raw_len = (size_t)(p - e->raw);
	e->prev_seq = seq;
	e->prev_ptr = last;
	e->nalloc = nalloc;
	e->nfreed = nfreed;
	memcpy(e->freed, freed, sizeof(freed));
	memcpy(e->freed_count, fcount, sizeof(fcount));
	e->records += n;
	e->alloc_events += n;
	return i;
}

unsigned enc_event(struct enc *e, uint64_t tid, const uint64_t *w)
{
	unsigned kind = EV_KIND(w[0]), len = EV_LEN(w[0]);
	uint64_t f = EV_FIELD(w[0]);
	uint8_t *s, *p;
	if (e->track_refs && kind != EV_ALLOC)
		enc_event_ref(e, w);
	switch (kind) {
	case EV_SAMPLE:
		if (len < 3 || len > 6)
			return 0;
		s = set_tid(e, reserve(e, 80), tid);
		p = s + 2;
		PUTZ(w[1] - e->prev_time);
		e->prev_time = w[1];
		PUT(w[2]);
		PUT(f);
		if (len >= 4)
			PUT(w[3]); /* the exact CPU time it stands for */
		if (len >= 5)
			PUT(w[4]); /* 1: charged at the thread's end */
		if (len == 6)
			PUT(w[5]); /* 1: the agent's own work */
		finish(e, FD_REC_SAMPLE, s, p);
		e->samples++;
		e->sample_weight += f;
		return len;
	case EV_ALLOC:
	case EV_FREE:
		/* One event, through the loop that encodes runs of them. */
		return enc_alloc_run(e, tid, w, len, UINT64_MAX) == len ? len : 0;
	case EV_REALLOC:
		if (len != 5)
			return 0;
		s = set_tid(e, reserve(e, 80), tid);
		p = s + 2;
		PUTZ(f - e->prev_seq);
		PUT(w[1]);
		PUT(w[2]);
		PUTZ(w[3] - e->prev_ptr);
		PUTZ(w[4] - w[3]);
		enc_ref_drop(e, w[3]);
		enc_ref_realloc(e, w[4]);
		e->prev_seq = f;
		e->prev_ptr = w[4];
		finish(e, FD_REC_REALLOC, s, p);
		e->alloc_events++;
		return len;
	case EV_MAP:
	case EV_UNMAP:
	case EV_REMAP:
		return enc_map_event(e, tid, w);
	case EV_STACK:
		if (len < 2 || f != len - 2u || f > FD_MAX_FRAMES)
			return 0;
		enc_stack(e, w[1], w + 2, (unsigned)f);
		return len;
	case EV_THREAD: {
		if (len != 5)
			return 0;
		char name[17];
		memcpy(name, &w[3], 16);
		name[16] = 0;
		enc_thread(e, w[1], w[2], name);
		return len;
	}
	case EV_THREAD_END:
		if (len != 3 && len != 4)
			return 0;
		enc_thread_end(e, w[1], w[2], len == 4 ? w[3] : UINT64_MAX);
		return len;
	case EV_WAIT:
		if (len != 6)
			return 0;
		s = set_tid(e, reserve(e, 80), tid);
		p = s + 2;
		PUTZ(w[1] - e->prev_time); /* the wait's start moves prev_time, as a SAMPLE's time */
		e->prev_time = w[1];
		PUT(w[2]);
		PUT(w[3]);
		PUT(f & 0xff);
		PUT(w[4]);
		PUT((f >> 8) & 0xff);
		PUT(w[5]);
		finish(e, FD_REC_WAIT, s, p);
		return len;
	case EV_HOLD:
		if (len != 5)
			return 0;
		s = set_tid(e, reserve(e, 64), tid);
		p = s + 2;
		PUT(w[1]);
		PUT(w[2]);
		PUT(w[3]);
		PUT(w[4]);
		finish(e, FD_REC_HOLD, s, p);
		return len;
	}
	return 0;
}
