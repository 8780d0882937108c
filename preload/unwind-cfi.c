/* The unwinder's reading of an object's unwind tables (see unwind.c): the
 * .eh_frame CIEs and FDEs, found through the loader's _dl_find_object and
 * the .eh_frame_hdr search table, and the DWARF expressions that some
 * rules hold.
 *
 * Context: async-signal-safe, may run inside malloc (as unwind.c).
 */
#define _GNU_SOURCE
#include "unwind-int.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>

int uw_parse_cie(const uint8_t *p, const uint8_t *lo, const uint8_t *hi, struct cie *c)
{
	if (p < lo || p >= hi)
		return -1;
	struct rdr r = {p, hi, 1};
	uint64_t len = rd_fixed(&r, 4, 0);
	int wide = len == 0xffffffffu;
	if (wide)
		len = rd_fixed(&r, 8, 0);
	if (!r.ok || len == 0 || len > (uint64_t)(hi - r.p))
		return -1;
	r.end = r.p + len;
	uint64_t id = rd_fixed(&r, wide ? 8 : 4, 0);
	uint8_t version = (uint8_t)rd_fixed(&r, 1, 0);
	if (!r.ok || id != 0 || (version != 1 && version != 3 && version != 4))
		return -1;
	const char *aug = (const char *)r.p;
	while (r.p < r.end && *r.p)
		r.p++;
	if (!need(&r, 1))
		return -1;
	r.p++;
	if (version == 4)
		rd_fixed(&r, 2, 0); /* address size, segment selector size */
	c->code_align = rd_uleb(&r);
	c->data_align = rd_sleb(&r);
	c->ra = version == 1 ? rd_fixed(&r, 1, 0) : rd_uleb(&r);
	c->fde_enc = 0;
	c->signal = 0;
	c->has_z = aug[0] == 'z';
	if (c->has_z) {
		uint64_t alen = rd_uleb(&r);
		if (!r.ok || alen > (uint64_t)(r.end - r.p))
			return -1;
		const uint8_t *aend = r.p + alen;
		for (const char *a = aug + 1; *a && r.ok; a++) {
			if (*a == 'L')
				rd_fixed(&r, 1, 0);
			else if (*a == 'P')
				rd_ptr(&r, (uint8_t)rd_fixed(&r, 1, 0), 0);
			else if (*a == 'R')
				c->fde_enc = (uint8_t)rd_fixed(&r, 1, 0);
			else if (*a == 'S')
				c->signal = 1;
			else if (*a != 'B')
				break; /* unknown: the length lets us skip the rest */
		}
		r.p = aend;
	} else if (aug[0]) {
		return -1;
	}
	if (!r.ok || c->ra != UW_RA || c->code_align == 0)
		return -1;
	c->insn = r.p;
	c->insn_end = r.end;
	return 0;
}

int uw_find_object(uint64_t pc, const uint8_t **lo, const uint8_t **hi, const uint8_t **hdr)
{
	struct dl_find_object o;
	if (_dl_find_object((void *)(uintptr_t)pc, &o) != 0 || !o.dlfo_eh_frame)
		return -1;
	*lo = o.dlfo_map_start;
	*hi = o.dlfo_map_end;
	*hdr = o.dlfo_eh_frame;
	return 0;
}

int uw_find_fde(uint64_t pc, const uint8_t *lo, const uint8_t *hi, const uint8_t *hdr, struct cie *c,
		const uint8_t **insn, const uint8_t **insn_end, uint64_t *start)
{
	if (hdr < lo || hdr + 4 > hi || hdr[0] != 1)
		return -1;
	struct rdr r = {hdr + 4, hi, 1};
	rd_ptr(&r, hdr[1], (uintptr_t)hdr); /* eh_frame_ptr */
	uint64_t count = rd_ptr(&r, hdr[2], (uintptr_t)hdr);
	/* The search table: pairs of sdata4 offsets from the header. */
	if (!r.ok || hdr[3] != 0x3b || count == 0 || count > (uint64_t)(hi - r.p) / 8)
		return -1;
	const uint8_t *tab = r.p;
	int64_t rel = (int64_t)(pc - (uintptr_t)hdr);
	size_t a = 0, b = count;
	while (b - a > 1) {
		size_t m = a + (b - a) / 2;
		int32_t loc;
		memcpy(&loc, tab + m * 8, 4);
		if (loc <= rel)
			a = m;
		else
			b = m;
	}
	int32_t loc, off;
	memcpy(&loc, tab + a * 8, 4);
	memcpy(&off, tab + a * 8 + 4, 4);
	if (loc > rel)
		return -1;
	const uint8_t *fde = hdr + off;
	if (fde < lo || fde + 8 > hi)
		return -1;
	struct rdr f = {fde, hi, 1};
	uint64_t len = rd_fixed(&f, 4, 0);
	if (len == 0xffffffffu)
		len = rd_fixed(&f, 8, 0);
	if (!f.ok || len == 0 || len > (uint64_t)(hi - f.p))
		return -1;
	f.end = f.p + len;
	const uint8_t *at = f.p;
	uint32_t cie_off = (uint32_t)rd_fixed(&f, 4, 0);
	if (!f.ok || cie_off == 0 || uw_parse_cie(at - cie_off, lo, hi, c) < 0)
		return -1;
	uint64_t begin = rd_ptr(&f, c->fde_enc, (uintptr_t)hdr);
	uint64_t range = rd_ptr(&f, c->fde_enc & 0x0f, 0);
	if (!f.ok || pc < begin || pc - begin >= range)
		return -1;
	if (c->has_z) {
		uint64_t alen = rd_uleb(&f);
		if (!f.ok || alen > (uint64_t)(f.end - f.p))
			return -1;
		f.p += alen;
	}
	*insn = f.p;
	*insn_end = f.end;
	*start = begin;
	return 0;
}

int uw_eval(struct unwind *u, const uint8_t *p, uint32_t len, int has_push, uint64_t push, uint64_t *out)
{
	uint64_t st[16];
	int n = 0;
	struct rdr r = {p, p + len, 1};
	if (has_push)
		st[n++] = push;
#define NEED(k)                                                                                              \
	do {                                                                                                 \
		if (n < (k))                                                                                 \
			return -1;                                                                           \
	} while (0)
#define PUSH(v)                                                                                              \
	do {                                                                                                 \
		uint64_t v_ = (v);                                                                           \
		if (n >= 16)                                                                                 \
			return -1;                                                                           \
		st[n++] = v_;                                                                                \
	} while (0)
	while (r.p < r.end && r.ok) {
		uint8_t op = *r.p++;
		uint64_t a, b;
		if (op >= 0x30 && op <= 0x4f) { /* lit0..31 */
			PUSH((uint64_t)(op - 0x30));
			continue;
		}
		if ((op >= 0x50 && op <= 0x6f) || (op >= 0x70 && op <= 0x8f) || op == 0x90 || op == 0x92) {
			/* reg0..31, breg0..31, regx, bregx */
			uint64_t reg =
			    op == 0x90 || op == 0x92 ? rd_uleb(&r) : (uint64_t)((op - 0x50) & 0x1f);
			int64_t off = op >= 0x70 && op != 0x90 ? rd_sleb(&r) : 0;
			if (reg >= UW_NREGS || !(u->known & (1u << reg)))
				return -1;
			PUSH(u->reg[reg] + (uint64_t)off);
			continue;
		}
		switch (op) {
		case 0x03:
			PUSH(rd_fixed(&r, 8, 0));
			break; /* addr */
		case 0x06:     /* deref */
			NEED(1);
			if (uw_read(u, st[n - 1], &st[n - 1]) < 0)
				return -1;
			break;
		case 0x94: { /* deref_size */
			uint64_t sz = rd_fixed(&r, 1, 0), v;
			NEED(1);
			if (sz == 0 || sz > 8 || uw_read(u, st[n - 1], &v) < 0)
				return -1;
			st[n - 1] = sz == 8 ? v : v & ((1ull << (sz * 8)) - 1);
			break;
		}
		case 0x08:
			PUSH(rd_fixed(&r, 1, 0));
			break;
		case 0x09:
			PUSH(rd_fixed(&r, 1, 1));
			break;
		case 0x0a:
			PUSH(rd_fixed(&r, 2, 0));
			break;
		case 0x0b:
			PUSH(rd_fixed(&r, 2, 1));
			break;
		case 0x0c:
			PUSH(rd_fixed(&r, 4, 0));
			break;
		case 0x0d:
			PUSH(rd_fixed(&r, 4, 1));
			break;
		case 0x0e:
			PUSH(rd_fixed(&r, 8, 0));
			break;
		case 0x0f:
			PUSH(rd_fixed(&r, 8, 1));
			break;
		case 0x10:
			PUSH(rd_uleb(&r));
			break;
		case 0x11:
			PUSH((uint64_t)rd_sleb(&r));
			break;
		case 0x12:
			NEED(1);
			PUSH(st[n - 1]);
			break; /* dup */
		case 0x13:
			NEED(1);
			n--;
			break; /* drop */
		case 0x14:
			NEED(2);
			PUSH(st[n - 2]);
			break; /* over */
		case 0x15:
			a = rd_fixed(&r, 1, 0);
			NEED((int)a + 1);
			PUSH(st[n - 1 - (int)a]);
			break; /* pick */
		case 0x16:
			NEED(2);
			a = st[n - 1];
			st[n - 1] = st[n - 2];
			st[n - 2] = a;
			break; /* swap */
		case 0x17:
			NEED(3);
			a = st[n - 1];
			st[n - 1] = st[n - 2];
			st[n - 2] = st[n - 3];
			st[n - 3] = a;
			break;
		case 0x19:
			NEED(1);
			if ((int64_t)st[n - 1] < 0)
				st[n - 1] = -st[n - 1];
			break; /* abs */
		case 0x1f:
			NEED(1);
			st[n - 1] = -st[n - 1];
			break; /* neg */
		case 0x20:
			NEED(1);
			st[n - 1] = ~st[n - 1];
			break; /* not */
		case 0x23:
			NEED(1);
			st[n - 1] += rd_uleb(&r);
			break; /* plus_uconst */
		case 0x2f:     /* skip */
		case 0x28: {   /* bra */
			int64_t d = (int64_t)rd_fixed(&r, 2, 1);
			if (op == 0x28) {
				NEED(1);
				if (st[--n] == 0)
					break;
			}
			if (d < (int64_t)(p - r.p) || d > (int64_t)(r.end - r.p))
				return -1;
			r.p += d;
			break;
		}
		case 0x96:
			break; /* nop */
		default:
			NEED(2);
			b = st[--n];
			a = st[n - 1];
			switch (op) {
			case 0x1a:
				a &= b;
				break;
			case 0x1b:
				if (!b)
					return -1;
				a = (uint64_t)((int64_t)a / (int64_t)b);
				break;
			case 0x1c:
				a -= b;
				break;
			case 0x1d:
				if (!b)
					return -1;
				a %= b;
				break;
			case 0x1e:
				a *= b;
				break;
			case 0x21:
				a |= b;
				break;
			case 0x22:
				a += b;
				break;
			case 0x24:
				a = b < 64 ? a << b : 0;
				break;
			case 0x25:
				a = b < 64 ? a >> b : 0;
				break;
			case 0x26:
				a = b < 64 ? (uint64_t)((int64_t)a >> b) : 0;
				break;
			case 0x27:
				a ^= b;
				break;
			case 0x29:
				a = a == b;
				break;
			case 0x2a:
				a = (int64_t)a >= (int64_t)b;
				break;
			case 0x2b:
				a = (int64_t)a > (int64_t)b;
				break;
			case 0x2c:
				a = (int64_t)a <= (int64_t)b;
				break;
			case 0x2d:
				a = (int64_t)a < (int64_t)b;
				break;
			case 0x2e:
				a = a != b;
				break;
			default:
				return -1;
			}
			st[n - 1] = a;
		}
	}
#undef NEED
#undef PUSH
	if (!r.ok || n < 1)
		return -1;
	*out = st[n - 1];
	return 0;
}
