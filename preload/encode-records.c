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
	enc_thread_end_sched(e, tid, time, cpu_ns, UINT64_MAX, 0);
}

void enc_thread_end_sched(struct enc *e, uint64_t tid, uint64_t time, uint64_t cpu_ns, uint64_t run_ns,
			  uint64_t wait_ns)
{
	uint8_t *s = reserve(e, 80), *p = s + 2;
	PUT(tid);
	PUT(time);
	if (cpu_ns != UINT64_MAX) {
		PUT(cpu_ns);
		if (run_ns != UINT64_MAX) { /* since 1.7 */
			PUT(run_ns);
			PUT(wait_ns);
		}
	}
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

unsigned enc_event(struct enc *e, uint64_t tid, const uint64_t *w)
{
	unsigned kind = EV_KIND(w[0]), len = EV_LEN(w[0]);
	uint64_t f = EV_FIELD(w[0]);
	uint8_t *s, *p;
	if (e->track_refs)
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
	case EV_ALLOC: {
		if (len != 4)
			return 0;
		s = set_tid(e, reserve(e, 64), tid);
		p = s + 2;
		/* Since 1.6, the address by reference where it can be. */
		uint64_t base = 0;
		int at = enc_ref_alloc_at(e, w[3], w[1], &base);
		PUTZ(f - e->prev_seq);
		PUT(w[1]);
		PUT(w[2]);
		if (at < 0) {
			PUTZ(w[3] - e->prev_ptr);
		} else {
			PUT((unsigned)at);
			if (at == 0)
				PUTZ(w[3] - base);
		}
		enc_ref_alloc(e, w[3], w[1], 1);
		e->prev_seq = f;
		e->prev_ptr = w[3];
		finish(e, at < 0 ? FD_REC_ALLOC : FD_REC_ALLOC_AT, s, p);
		e->alloc_events++;
		return len;
	}
	case EV_FREE: {
		if (len != 2)
			return 0;
		s = set_tid(e, reserve(e, 64), tid);
		p = s + 2;
		uint32_t back = enc_ref_free(e, w[1]);
		PUTZ(f - e->prev_seq);
		if (back)
			PUT(back);
		else
			PUTZ(w[1] - e->prev_ptr);
		e->prev_seq = f;
		e->prev_ptr = w[1];
		finish(e, back ? FD_REC_FREE_REF : FD_REC_FREE, s, p);
		e->alloc_events++;
		return len;
	}
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
		enc_ref_alloc(e, w[4], w[1], 0);
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
		if (len != 3 && len != 4 && len != 6)
			return 0;
		enc_thread_end_sched(e, w[1], w[2], len >= 4 ? w[3] : UINT64_MAX,
				     len == 6 ? w[4] : UINT64_MAX, len == 6 ? w[5] : 0);
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
