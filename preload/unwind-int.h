/* The unwinder's own parts (unwind.c, unwind-cfi.c), not for its callers:
 * the rule kinds, a bounded reader over an object's unwind tables, a parsed
 * CIE, and the functions the two files call in each other.
 *
 * Context: async-signal-safe, as unwind.c says.
 */
#ifndef FATHOM_UNWIND_INT_H
#define FATHOM_UNWIND_INT_H

#include "unwind.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#pragma GCC visibility push(hidden)

enum { UWR_SAME = 0, UWR_UNDEF, UWR_OFFSET, UWR_VAL_OFFSET, UWR_REG, UWR_EXPR, UWR_VAL_EXPR };

/* A bounded reader over an object's unwind tables; ok drops to 0 on an
 * overrun and stays there. */
struct rdr {
	const uint8_t *p, *end;
	int ok;
};

static inline int need(struct rdr *r, size_t n)
{
	if (!r->ok || (size_t)(r->end - r->p) < n) {
		r->ok = 0;
		return 0;
	}
	return 1;
}

static inline uint64_t rd_fixed(struct rdr *r, size_t n, int sign)
{
	if (!need(r, n))
		return 0;
	uint64_t v = 0;
	if (n == 1)
		v = sign ? (uint64_t)(int64_t)(int8_t)r->p[0] : r->p[0];
	else if (n == 2) {
		uint16_t x;
		memcpy(&x, r->p, 2);
		v = sign ? (uint64_t)(int64_t)(int16_t)x : x;
	} else if (n == 4) {
		uint32_t x;
		memcpy(&x, r->p, 4);
		v = sign ? (uint64_t)(int64_t)(int32_t)x : x;
	} else {
		memcpy(&v, r->p, 8);
	}
	r->p += n;
	return v;
}

static inline uint64_t rd_uleb(struct rdr *r)
{
	uint64_t v = 0;
	unsigned shift = 0;
	for (;;) {
		if (!need(r, 1))
			return 0;
		uint8_t b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80))
			return v;
	}
}

static inline int64_t rd_sleb(struct rdr *r)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;
	do {
		if (!need(r, 1))
			return 0;
		b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while (b & 0x80);
	if (shift < 64 && (b & 0x40))
		v |= ~(uint64_t)0 << shift;
	return (int64_t)v;
}

/* A pointer in DW_EH_PE encoding enc; datarel is the base of datarel
 * pointers (the .eh_frame_hdr). Indirect pointers are returned undereferenced
 * (only the personality routine uses them, and it is skipped). */
static inline uint64_t rd_ptr(struct rdr *r, uint8_t enc, uint64_t datarel)
{
	const uint8_t *at = r->p;
	uint64_t v;
	switch (enc & 0x0f) {
	case 0x00:
		v = rd_fixed(r, 8, 0);
		break;
	case 0x01:
		v = rd_uleb(r);
		break;
	case 0x02:
		v = rd_fixed(r, 2, 0);
		break;
	case 0x03:
		v = rd_fixed(r, 4, 0);
		break;
	case 0x04:
		v = rd_fixed(r, 8, 0);
		break;
	case 0x09:
		v = (uint64_t)rd_sleb(r);
		break;
	case 0x0a:
		v = rd_fixed(r, 2, 1);
		break;
	case 0x0b:
		v = rd_fixed(r, 4, 1);
		break;
	case 0x0c:
		v = rd_fixed(r, 8, 1);
		break;
	default:
		r->ok = 0;
		return 0;
	}
	switch (enc & 0x70) {
	case 0x00:
		break;
	case 0x10:
		v += (uintptr_t)at;
		break;
	case 0x30:
		v += datarel;
		break;
	default:
		r->ok = 0;
		return 0;
	}
	return v;
}

struct cie {
	const uint8_t *insn, *insn_end;
	uint64_t code_align;
	int64_t data_align;
	uint64_t ra;
	uint8_t fde_enc;
	uint8_t signal;
	uint8_t has_z;
};

/* unwind-cfi.c */
/* Parses the CIE at p; lo/hi bound the object. */
int uw_parse_cie(const uint8_t *p, const uint8_t *lo, const uint8_t *hi, struct cie *c);
/* The mapping [lo, hi) of the object holding pc and its .eh_frame_hdr
 * (glibc's _dl_find_object). Returns 0, or -1 when none. */
int uw_find_object(uint64_t pc, const uint8_t **lo, const uint8_t **hi, const uint8_t **hdr);
/* pc's FDE in that object: its CIE into c, its instructions, its start.
 * Two calls, not one: the caller makes them one after the other, so that
 * _dl_find_object's frame and the FDE parsing's never sit on the stack
 * together (an uncached walk runs on the program's own stack:
 * test-unw-minstack). */
int uw_find_fde(uint64_t pc, const uint8_t *lo, const uint8_t *hi, const uint8_t *hdr, struct cie *c,
		const uint8_t **insn, const uint8_t **insn_end, uint64_t *start);
/* Evaluates a DWARF expression on the current frame's registers; push:
 * a value pushed first (the CFA, for DW_CFA_expression). */
int uw_eval(struct unwind *u, const uint8_t *p, uint32_t len, int has_push, uint64_t push, uint64_t *out);

/* unwind.c */
/* Reads the word at a, checked. Returns 0 or -1. */
int uw_read(struct unwind *u, uint64_t a, uint64_t *v);

#pragma GCC visibility pop

#endif
