/* libFuzzer harness for the analyzer's input path: feeds arbitrary bytes to the
 * dump reader record by record, then to profile_load() (reader, model and heap
 * replay, without symbols), as `fathom report` would read a damaged file. */
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

/* The reader alone, over an in-memory stream: every record it returns must
 * have the fields its kind promises. */
static void read_records(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "rb");
	struct reader *r = NULL;
	char *err = NULL;
	if (!f)
		return;
	if (reader_open_stream(&r, f, "fuzz.fdump", &err) == 0) {
		struct rd_rec rec;
		int rc;
		/* A reader that cannot make progress would loop here forever;
		 * libFuzzer's -timeout turns that into a finding. */
		while ((rc = reader_next(r, &rec)) == 1) {
			if (rec.kind == FD_REC_STACK && rec.nframes > 0 && !rec.frames)
				abort();
			if (rec.nframes > FD_MAX_FRAMES * 1024)
				abort();
		}
		(void)reader_damage(r);
		reader_close(r);
	}
	free(err);
	fclose(f);
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
	char *paths[1] = { path };
	struct profile p = { 0 };
	struct profile_opts opts = { .no_symbols = true, .quiet = true };
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
	read_records(data, size);
	load_profile(data, size);
	uint8_t *fixed = fix_checksums(data, size);
	if (fixed) {
		if (memcmp(fixed, data, size) != 0) {
			read_records(fixed, size);
			load_profile(fixed, size);
		}
		free(fixed);
	}
	return 0;
}
