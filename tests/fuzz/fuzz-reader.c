/* libFuzzer harness for the analyzer's input path: feeds arbitrary bytes to the
 * dump reader, record by record and through its fast event path (the two must
 * agree), then to profile_load() (reader, model and heap replay, without
 * symbols), as `fathom report` would read a damaged file. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fathom-dump.h"
#include "profile.h"
#include "reader.h"

/* A digest of the events a reader returns, to compare two ways of reading. */
struct digest {
	uint64_t n, h;
};

static void digest_add(struct digest *d, int kind, int tid, uint64_t id, uint64_t seq, uint64_t ptr,
		       uint64_t old_ptr, uint64_t size, uint64_t time, uint64_t weight)
{
	uint64_t v[] = {(uint64_t)kind, (uint64_t)(unsigned)tid, id, seq, ptr, old_ptr, size, time, weight};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		d->h = (d->h ^ v[i]) * 0x100000001b3ULL;
	d->n++;
}

static bool is_event(int kind)
{
	return kind == FD_REC_SAMPLE || kind == FD_REC_ALLOC || kind == FD_REC_FREE || kind == FD_REC_REALLOC;
}

/* Reads the input with reader_next() alone (step 0), or mixing in
 * reader_events() runs of at most `step` events, and digests the events and
 * the number of other records. Returns false when the reader refused it. */
static bool read_records(const uint8_t *data, size_t size, size_t step, struct digest *d, uint64_t *others)
{
	FILE *f = fmemopen((void *)data, size, "rb");
	struct reader *r = NULL;
	char *err = NULL;
	bool ok = false;
	if (!f)
		return false;
	if (reader_open_stream(&r, f, "fuzz.fdump", &err) == 0) {
		struct rd_rec rec;
		struct rd_event ev[7];
		ok = true;
		/* A reader that cannot make progress would loop here forever;
		 * libFuzzer's -timeout turns that into a finding. */
		for (;;) {
			if (step) {
				size_t n = reader_events(r, ev, step);
				if (n > step)
					abort();
				for (size_t i = 0; i < n; i++) {
					if (!is_event(ev[i].kind))
						abort();
					digest_add(d, ev[i].kind, ev[i].tid, ev[i].id, ev[i].seq, ev[i].ptr,
						   ev[i].old_ptr, ev[i].size, ev[i].time, ev[i].weight);
				}
			}
			if (reader_next(r, &rec) != 1)
				break;
			if (rec.kind == FD_REC_STACK && rec.nframes > 0 && !rec.frames)
				abort();
			if (is_event(rec.kind))
				digest_add(d, rec.kind, rec.tid, rec.id, rec.seq, rec.ptr, rec.old_ptr,
					   rec.size, rec.time, rec.weight);
			else
				(*others)++;
		}
		(void)reader_damage(r);
		reader_close(r);
	}
	free(err);
	fclose(f);
	return ok;
}

/* The fast path (reader_events) and the record-by-record path must agree on
 * every input, damaged or not. */
static void read_both_ways(const uint8_t *data, size_t size)
{
	struct digest slow = {0, 0}, fast = {0, 0};
	uint64_t slow_others = 0, fast_others = 0;
	bool a = read_records(data, size, 0, &slow, &slow_others);
	bool b = read_records(data, size, 1 + size % 7, &fast, &fast_others);
	if (a != b || slow.n != fast.n || slow.h != fast.h || slow_others != fast_others) {
		fprintf(stderr,
			"fuzz-reader: reader_events and reader_next disagree: %llu/%llu events, %llu/%llu "
			"others\n",
			(unsigned long long)slow.n, (unsigned long long)fast.n,
			(unsigned long long)slow_others, (unsigned long long)fast_others);
		abort();
	}
}

/* The whole model through a path, as the commands use it. */
static void load_profile(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.fdump", 0);
	char path[64];
	if (fd < 0)
		return;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	char *paths[1] = {path};
	struct profile p = {0};
	struct profile_opts opts = {.no_symbols = true, .quiet = true};
	char *err = NULL;
	if (profile_load(&p, paths, 1, &opts, &err) == 0) {
		/* Touch what the commands read, so sanitizers see bad indices. */
		uint64_t sum = 0; /* unsigned: the weights themselves may be anything */
		for (size_t i = 0; i < p.nstacks; i++) {
			const struct fa_stack *s = &p.stacks[i];
			struct fa_frame fr[8];
			sum += (uint64_t)s->w[FA_CPU] + (uint64_t)s->w[FA_ALLOC_BYTES];
			size_t n = profile_stack_frames(&p, s, fr, 8);
			for (size_t k = 0; k < n && k < 8; k++)
				if (fr[k].func >= p.nfuncs)
					abort();
			if (s->proc >= p.nprocs)
				abort();
			for (uint32_t d = 0; d < s->depth; d++)
				if (s->locs[d] >= p.nlocs)
					abort();
		}
		for (size_t i = 0; i < p.nlocs; i++)
			if (p.locs[i].frame_first + p.locs[i].nframes > p.nframes)
				abort();
		(void)sum;
		profile_free(&p);
	} else {
		free(err);
	}
	close(fd);
}

/* Checksums stop almost every mutation at the chunk check, so the record
 * decoder would hardly be fuzzed: a copy of the input with every complete
 * chunk's checksums made right again goes through the same paths. */
static uint8_t *fix_checksums(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	size_t off = FD_FILE_HEADER_SIZE;
	if (!copy)
		return NULL;
	memcpy(copy, data, size);
	while (off + FD_CHUNK_HEADER_SIZE <= size && fd_get_u32(copy + off) == FD_CHUNK_MAGIC) {
		uint8_t *h = copy + off;
		uint32_t plen = fd_get_u32(h + 12);
		if (plen > size - off - FD_CHUNK_HEADER_SIZE)
			break;
		fd_put_u32(h + 20, fd_crc32c(0, h + FD_CHUNK_HEADER_SIZE, plen));
		fd_put_u16(h + 6, 0);
		fd_put_u16(h + 6, (uint16_t)fd_crc32c(0, h, FD_CHUNK_HEADER_SIZE));
		off += FD_CHUNK_HEADER_SIZE + (size_t)plen;
	}
	return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	read_both_ways(data, size);
	load_profile(data, size);
	uint8_t *fixed = fix_checksums(data, size);
	if (fixed) {
		if (memcmp(fixed, data, size) != 0) {
			read_both_ways(fixed, size);
			load_profile(fixed, size);
		}
		free(fixed);
	}
	return 0;
}
