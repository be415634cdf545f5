/* Random instruction sequences from the templates.
 *
 * Each template instance gets random registers, operand size, addressing
 * form, immediates and prefixes. Operands that must hold something
 * specific (a memory address inside the data pages, a shift count whose
 * undefined flags the runner must know, a dividend, string pointers...) are
 * loaded just before the instruction by MOV r64, imm64 "set-up" items, so
 * the sequence is self-contained. After an instruction that leaves flags
 * undefined (SDM), a PUSHF / AND [RSP], ~mask / POPF item clears them on
 * both sides, so they can neither be compared nor leak into later results.
 */
#include <string.h>

#include "tests/diff/seq.h"

#define FL_CF 0x1u
#define FL_PF 0x4u
#define FL_AF 0x10u
#define FL_ZF 0x40u
#define FL_SF 0x80u
#define FL_TF 0x100u
#define FL_DF 0x400u
#define FL_OF 0x800u
#define FL_AC 0x40000u

#define RSP 4
#define NOREG 0xff

uint64_t rng_next(struct rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A value with the bit patterns that find flag bugs: 0, 1, -1, sign
 * boundaries of each size, small numbers, and plain random. */
static uint64_t interesting(struct rng *r)
{
	static const uint64_t special[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
		0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, ~0ull - 1, 0x100, 0x10000, 0x100000000ull,
	};
	switch (rng_below(r, 8)) {
	case 0: return special[rng_below(r, sizeof(special) / sizeof(special[0]))];
	case 1: return rng_below(r, 64);
	case 2: return (uint64_t)-(int64_t)rng_below(r, 64);
	case 3: return rng_next(r) & 0xffffffffu;
	default: return rng_next(r);
	}
}

/* ---- the builder ---- */

struct gen {
	struct seq *s;
	struct rng *r;
	const struct seq_opts *o;
	uint16_t reserved;      /* registers a set-up item loaded for this instruction */
	unsigned first_item;    /* first item of the current template instance */
};

static void emit(struct gen *g, const uint8_t *b, unsigned n, enum item_role role, int tmpl, uint16_t undef)
{
	struct seq *s = g->s;
	if (s->len + n > SEQ_CODE_MAX - 64 || s->nit >= SEQ_ITEMS_MAX)
		return;
	memcpy(s->code + s->len, b, n);
	s->it[s->nit++] = (struct item){ .off = s->len, .len = (uint8_t)n, .role = (uint8_t)role, .tmpl = (int16_t)tmpl,
					 .undef = undef, .cut_ok = true };
	s->len += n;
}

/* MOV r64, imm64 (REX.W B8+r). */
static void setup_reg(struct gen *g, unsigned reg, uint64_t v)
{
	uint8_t b[10] = { (uint8_t)(0x48 | (reg >> 3)), (uint8_t)(0xb8 | (reg & 7)) };
	memcpy(b + 2, &v, 8);
	emit(g, b, 10, ITEM_SETUP, -1, 0);
	g->reserved |= (uint16_t)(1u << reg);
}

/* PUSHFQ; AND QWORD [RSP], ~mask (sign-extended imm32); POPFQ. */
static void normalize_flags(struct gen *g, uint16_t mask)
{
	if (!mask)
		return;
	if (g->s->nit)
		g->s->it[g->s->nit - 1].cut_ok = false;   /* never compare before the flags are cleared */
	uint32_t keep = ~(uint32_t)mask;
	uint8_t b[10] = { 0x9c, 0x48, 0x81, 0x24, 0x24 };
	memcpy(b + 5, &keep, 4);
	b[9] = 0x9d;
	emit(g, b, 10, ITEM_NORMALIZE, -1, mask);
}

static void put_data(struct gen *g, uint64_t la, uint64_t v, unsigned n)
{
	if (la >= DIFF_DATA && la + n <= DIFF_DATA + DIFF_RW_SIZE)
		memcpy(g->s->data + (la - DIFF_DATA), &v, n);
}

static uint64_t get_data(struct gen *g, uint64_t la, unsigned n)
{
	uint64_t v = 0;
	if (la >= DIFF_DATA && la + n <= DIFF_DATA + DIFF_MAPPED)
		memcpy(&v, g->s->data + (la - DIFF_DATA), n);
	return v;
}

/* Where a memory operand of n bytes points: mostly inside the data pages,
 * sometimes the stack or the read-only page, rarely across the edge of the
 * mapping (#PF) or at a non-canonical address (#GP). */
static uint64_t pick_target(struct gen *g, unsigned n, unsigned room)
{
	struct rng *r = g->r;
	unsigned p = rng_below(r, 1000);
	uint64_t a;
	if (p < 880) {
		a = DIFF_DATA + room + rng_below(r, DIFF_DATA_SIZE - 2 * room - n);
	} else if (p < 930) {
		a = DIFF_STACK + 0x1400 + rng_below(r, 0x400);
	} else if (p < 965) {
		a = DIFF_RO + rng_below(r, 0x1000 - n);
	} else if (p < 985) {
		a = DIFF_DATA + DIFF_MAPPED - rng_below(r, n + 1);        /* into the guard page */
	} else if (p < 995) {
		a = DIFF_DATA - 1 - rng_below(r, n);                      /* below the data pages */
	} else {
		a = 0x8000000000000000ull ^ (rng_next(r) & 0xffff);       /* non-canonical */
	}
	if (rng_pct(r, 50) && p < 965)
		a &= ~(uint64_t)(n - 1 < 15 ? n - 1 : 15);
	return a;
}

/* ---- one instruction's encoding ---- */

enum mform { MF_BASE, MF_SIB, MF_RIP, MF_ABS };

struct ins {
	const struct diff_tmpl *t;
	unsigned op;
	unsigned osz;           /* SZ_B, SZ_W, SZ_D, SZ_Q or SZ_X */
	bool rex, rexw, a32, lock;
	uint8_t seg, rep;       /* extra prefixes */
	unsigned reg;           /* ModRM.reg (register number or group ext) */
	bool has_modrm, mem;
	unsigned rm;            /* register when !mem, opcode register for opreg forms */
	int fixed_modrm;        /* -1, or the whole ModRM byte */
	enum mform form;
	unsigned base, index, scale;
	int32_t disp;
	unsigned dispsz;
	uint64_t target;        /* the effective address wanted */
	unsigned vvvv;
	uint64_t imm;
	unsigned immsz;
	uint16_t imm2;
	unsigned imm2sz;
	/* output */
	uint8_t b[24];
	unsigned n, disp_at;
};

static unsigned size_bytes(unsigned osz)
{
	switch (osz) {
	case SZ_B: return 1;
	case SZ_W: return 2;
	case SZ_D: return 4;
	case SZ_Q: return 8;
	default: return 16;
	}
}

static void encode(struct ins *x)
{
	const struct diff_tmpl *t = x->t;
	unsigned n = 0;
	bool sib = false;
	unsigned rmf = 0, modf = 3, sibb = 0;
	uint8_t *b = x->b;
	unsigned R = (x->reg >> 3) & 1, X = 0, B = (x->rm >> 3) & 1;
	if (x->has_modrm && x->mem) {
		B = 0;
		switch (x->form) {
		case MF_BASE:
			B = x->base >> 3;
			rmf = x->base & 7;
			if (rmf == 4) {
				sib = true;
				sibb = 4 << 3 | 4;
			}
			break;
		case MF_SIB:
			B = x->base >> 3;
			X = x->index >> 3;
			rmf = 4;
			sib = true;
			sibb = x->scale << 6 | (x->index & 7) << 3 | (x->base & 7);
			break;
		case MF_RIP:
			rmf = 5;
			x->dispsz = 4;
			break;
		case MF_ABS:
			rmf = 4;
			sib = true;
			sibb = 4 << 3 | 5;
			x->dispsz = 4;
			break;
		}
		if (x->form == MF_RIP || x->form == MF_ABS)
			modf = 0;
		else
			modf = x->dispsz == 0 ? 0 : x->dispsz == 1 ? 1 : 2;
	}
	if (x->seg)
		b[n++] = x->seg;
	if (x->lock)
		b[n++] = 0xf0;
	if (x->rep)
		b[n++] = x->rep;
	if (x->osz == SZ_W && t->pfx != 0x66 && !t->vex)
		b[n++] = 0x66;
	if (x->a32)
		b[n++] = 0x67;
	if (t->vex) {
		unsigned w = (t->vex >> 5 & 1) ? x->osz == SZ_Q : (t->vex >> 4 & 1);
		b[n++] = 0xc4;
		b[n++] = (uint8_t)((!R) << 7 | (!X) << 6 | (!B) << 5 | t->map);
		b[n++] = (uint8_t)(w << 7 | (~x->vvvv & 15) << 3 | (t->vex >> 1 & 1) << 2 | (t->vex >> 2 & 3));
	} else {
		if (t->pfx)
			b[n++] = t->pfx;
		if (x->rex || x->rexw || R || X || B)
			b[n++] = (uint8_t)(0x40 | x->rexw << 3 | R << 2 | X << 1 | B);
		if (t->map)
			b[n++] = 0x0f;
		if (t->map == 2)
			b[n++] = 0x38;
		if (t->map == 3)
			b[n++] = 0x3a;
	}
	b[n++] = (uint8_t)(x->op | (t->opreg ? (x->rm & 7) : 0));
	if (x->has_modrm) {
		if (x->fixed_modrm >= 0)
			b[n++] = (uint8_t)x->fixed_modrm;
		else
			b[n++] = (uint8_t)(modf << 6 | (x->reg & 7) << 3 | (x->mem ? rmf : (x->rm & 7)));
		if (x->mem && sib)
			b[n++] = (uint8_t)sibb;
		if (x->mem) {
			x->disp_at = n;
			memcpy(b + n, &x->disp, x->dispsz);
			n += x->dispsz;
		}
	}
	memcpy(b + n, &x->imm, x->immsz);
	n += x->immsz;
	memcpy(b + n, &x->imm2, x->imm2sz);
	n += x->imm2sz;
	x->n = n;
}

/* A register for an operand: never RSP (the stack must stay usable), never a
 * reserved one, within 0-7 without REX; byte registers 4-7 are AH-BH
 * without REX (SPL-DIL, excluded as SPL is RSP, with it). */
static unsigned pick_reg(struct gen *g, const struct ins *x, uint16_t avoid)
{
	unsigned lim = (x->rex || x->t->vex) ? 16 : 8;
	for (int tries = 0; tries < 64; tries++) {
		unsigned v = rng_below(g->r, lim);
		if (v == RSP && !(x->osz == SZ_B && !x->rex))
			continue;
		if (avoid & (1u << v))
			continue;
		return v;
	}
	return 0;
}

static unsigned pick_osz(struct gen *g, const struct diff_tmpl *t)
{
	unsigned c[5], k = 0;
	for (unsigned b = 1; b <= SZ_X; b <<= 1)
		if (t->sizes & b)
			c[k++] = b;
	return c[rng_below(g->r, k)];
}

static void pick_imm(struct gen *g, struct ins *x)
{
	uint64_t v = interesting(g->r);
	switch (x->t->imm) {
	case IM_B: x->immsz = 1; break;
	case IM_W: x->immsz = 2; break;
	case IM_Z: x->immsz = x->osz == SZ_W ? 2 : 4; break;
	case IM_V: x->immsz = x->osz == SZ_W ? 2 : x->osz == SZ_Q ? 8 : x->osz == SZ_B ? 1 : 4; break;
	case IM_WB: x->immsz = 2; x->imm2sz = 1; break;
	case IM_AP: x->immsz = 4; x->imm2sz = 2; break;
	default: x->immsz = 0; break;
	}
	x->imm = v;
	x->imm2 = (uint16_t)rng_next(g->r);
}

/* Choose the addressing form and the base/index values that make the
 * effective address equal x->target; load them with set-up items. */
static void address(struct gen *g, struct ins *x, uint16_t avoid)
{
	struct rng *r = g->r;
	unsigned p = rng_below(r, 100);
	x->a32 = rng_pct(r, 15) && x->target < (1ull << 32);
	static const unsigned dsz[3] = { 0, 1, 4 };
	x->dispsz = dsz[rng_below(r, 3)];
	x->disp = x->dispsz == 1 ? (int8_t)rng_next(r) : x->dispsz == 4 ? (int32_t)(rng_next(r) & 0x800fffff) : 0;
	uint16_t av = avoid | g->reserved;
	if (p < 12 && x->target < 0x80000000ull && !x->a32) {
		x->form = MF_RIP;      /* disp filled once the length is known */
		return;
	}
	if (p < 18 && x->target < 0x80000000ull) {
		x->form = MF_ABS;
		x->disp = (int32_t)x->target;
		return;
	}
	struct ins probe = *x;
	probe.rex = true;
	x->base = pick_reg(g, &probe, av);
	if (!x->rex && x->base >= 8)
		x->rex = true;
	if (x->osz == SZ_B && !x->rex && x->base >= 8)
		x->base &= 7;
	uint64_t mask = x->a32 ? 0xffffffffull : ~0ull;
	uint64_t hi = x->a32 ? (rng_next(r) << 32) * rng_pct(r, 50) : 0;
	if (p < 55) {
		x->form = MF_BASE;
		if ((x->base & 7) == 5 && x->dispsz == 0)
			x->dispsz = 1, x->disp = 0;
		setup_reg(g, x->base, (((x->target - (uint64_t)(int64_t)x->disp) & mask) | hi));
		return;
	}
	x->form = MF_SIB;
	x->scale = rng_below(r, 4);
	do
		x->index = pick_reg(g, &probe, av | (uint16_t)(1u << x->base));
	while (x->index == RSP);
	if (x->index >= 8)
		x->rex = true;
	if ((x->base & 7) == 5 && x->dispsz == 0)
		x->dispsz = 1, x->disp = 0;
	uint64_t iv = rng_pct(r, 50) ? (uint64_t)(int64_t)(int16_t)rng_next(r) : interesting(r);
	uint64_t bv = x->target - (uint64_t)(int64_t)x->disp - (iv << x->scale);
	setup_reg(g, x->index, iv | (x->a32 ? hi : 0));
	setup_reg(g, x->base, (bv & mask) | hi);
}

/* Registers and memory for a ModRM instruction; byte-ness per operand. */
static void operands(struct gen *g, struct ins *x, bool reg_byte, bool rm_byte, uint16_t avoid)
{
	const struct diff_tmpl *t = x->t;
	(void)reg_byte;
	(void)rm_byte;
	if (t->ext >= 0x100) {
		x->fixed_modrm = t->ext & 0xff;
		return;
	}
	x->reg = t->ext >= 0 ? (unsigned)t->ext : pick_reg(g, x, avoid | g->reserved);
	x->mem = t->rm == RM_MEM || (t->rm == RM_ANY && rng_pct(g->r, 45));
	if (!x->mem)
		x->rm = pick_reg(g, x, avoid | g->reserved);
}

static void finish(struct gen *g, struct ins *x, int tmpl, uint16_t undef)
{
	encode(x);
	if (x->has_modrm && x->mem && x->form == MF_RIP) {
		uint64_t next = DIFF_CODE + g->s->len + x->n;
		int32_t d = (int32_t)(x->target - next);
		memcpy(x->b + x->disp_at, &d, 4);
	}
	emit(g, x->b, x->n, ITEM_TEST, tmpl, 0);
	normalize_flags(g, undef);
}

static void init_ins(struct gen *g, struct ins *x, const struct diff_tmpl *t)
{
	memset(x, 0, sizeof(*x));
	x->t = t;
	x->fixed_modrm = -1;
	x->op = t->lo + rng_below(g->r, t->hi - t->lo + 1u);
	x->osz = pick_osz(g, t);
	x->rexw = x->osz == SZ_Q && !t->vex;
	x->rex = x->rexw || rng_pct(g->r, 30);
	x->has_modrm = t->rm != RM_NONE;
	static const uint8_t segs[4] = { 0x2e, 0x3e, 0x26, 0x36 };
	if (rng_pct(g->r, 5))
		x->seg = segs[rng_below(g->r, 4)];   /* ignored in 64-bit mode */
}

/* The common case: random registers, a memory operand in the data pages. */
static void gen_plain(struct gen *g, const struct diff_tmpl *t, int ti, uint16_t undef)
{
	struct ins x;
	init_ins(g, &x, t);
	if (t->opreg)
		x.rm = pick_reg(g, &x, g->reserved);
	if (t->vex && (t->vex >> 6 & 1))
		x.vvvv = pick_reg(g, &x, 0);
	if (x.has_modrm) {
		operands(g, &x, x.osz == SZ_B, x.osz == SZ_B, 0);
		if (x.mem) {
			unsigned n = size_bytes(x.osz);
			x.target = pick_target(g, n, 64);
			address(g, &x, 0);
			x.lock = t->lock && rng_pct(g->r, 30);
		}
	}
	if (t->kind == DK_UD && rng_pct(g->r, 50))
		x.rex = false;
	pick_imm(g, &x);
	finish(g, &x, ti, undef);
}

/* ---- kinds with set-up ---- */

static unsigned width_bits(unsigned osz)
{
	return 8 * size_bytes(osz);
}

/* SAL/SAR/SHL/SHR, ROL/ROR, RCL/RCR: flags the SDM leaves undefined for
 * this count ("Flags Affected" of each): none for a masked count of 0; OF
 * unless the masked count is 1; for shifts also AF, and CF for SHL/SHR when
 * the count is at least the operand width. */
static uint16_t shift_undef(unsigned ext, unsigned osz, unsigned count)
{
	unsigned masked = count & (osz == SZ_Q ? 63 : 31);
	if (masked == 0)
		return 0;
	uint16_t u = masked != 1 ? FL_OF : 0;
	if (ext >= 4) {
		u |= FL_AF;
		if (ext != 7 && masked >= width_bits(osz))
			u |= FL_CF;
	}
	return u;
}

static unsigned pick_count(struct gen *g, unsigned osz)
{
	unsigned w = width_bits(osz);
	unsigned c[] = { 0, 1, 1, 2, w - 1, w, w + 1, 31, 32, 33, 63, 64, 65, rng_below(g->r, 256), rng_below(g->r, w) };
	return c[rng_below(g->r, sizeof(c) / sizeof(c[0]))] & 0xff;
}

static void gen_shift(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	unsigned count = t->arg == 1 ? 1 : pick_count(g, x.osz);
	if (t->arg == 2)
		setup_reg(g, 1, (rng_next(g->r) & ~0xffull) | count);
	operands(g, &x, true, true, 0);
	if (x.mem) {
		x.target = pick_target(g, size_bytes(x.osz), 64);
		address(g, &x, 0);
	}
	pick_imm(g, &x);
	x.imm = count;
	uint16_t u = shift_undef((unsigned)t->ext, x.osz, count);
	finish(g, &x, ti, u);
}

/* SHLD/SHRD (SDM "Flags Affected"): count 0 leaves the flags; AF undefined
 * for any shift; OF undefined unless the count is 1. A count above the
 * operand size (16-bit only) leaves the result undefined: not drawn. */
static void gen_shxd(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	unsigned count = pick_count(g, x.osz);
	unsigned masked = count & (x.osz == SZ_Q ? 63 : 31);
	if (x.osz == SZ_W && masked > 16)
		count = masked = masked % 17;
	if (t->arg == 2)
		setup_reg(g, 1, (rng_next(g->r) & ~0xffull) | count);
	operands(g, &x, false, false, 0);
	if (x.mem) {
		x.target = pick_target(g, size_bytes(x.osz), 64);
		address(g, &x, 0);
	}
	pick_imm(g, &x);
	x.imm = count;
	uint16_t u = masked == 0 ? 0 : (uint16_t)(FL_AF | (masked != 1 ? FL_OF : 0));
	finish(g, &x, ti, u);
}

/* DIV/IDIV: dividends that mostly fit (and sometimes overflow: #DE), and
 * divisors that are sometimes 0. */
static void gen_div(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	struct rng *r = g->r;
	init_ins(g, &x, t);
	unsigned bits = width_bits(x.osz);
	uint64_t m = bits == 64 ? ~0ull : (1ull << bits) - 1;
	uint64_t d = interesting(r) & m;
	if (rng_pct(r, 4))
		d = 0;
	uint64_t lo = rng_next(r) & m, hi;
	if (rng_pct(r, 75)) {
		if (t->arg)     /* IDIV: the sign extension of the low half */
			hi = (lo >> (bits - 1) & 1) ? m : 0;
		else
			hi = d ? rng_next(r) % d : 0;
	} else {
		hi = interesting(r) & m;
	}
	if (x.osz == SZ_B) {
		setup_reg(g, 0, (rng_next(r) & ~0xffffull) | hi << 8 | lo);
	} else {
		setup_reg(g, 0, (rng_next(r) & ~m) | lo);
		setup_reg(g, 2, (rng_next(r) & ~m) | hi);
	}
	operands(g, &x, true, true, 0);
	if (x.mem) {
		x.target = pick_target(g, size_bytes(x.osz), 64);
		put_data(g, x.target, d, size_bytes(x.osz));
		address(g, &x, 0);
	} else if (!(g->reserved & (1u << x.rm)) && !(x.osz == SZ_B && !x.rex && x.rm >= 4)) {
		setup_reg(g, x.rm, (rng_next(r) & ~m) | d);
	}
	pick_imm(g, &x);
	finish(g, &x, ti, t->undef);
}

/* BT*: the register bit offset reaches bytes around the operand, so keep
 * it small for memory operands. */
static void gen_bitoff(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	operands(g, &x, false, false, 0);
	if (x.mem) {
		int64_t off = (int64_t)rng_below(g->r, 4096) - 2048;
		setup_reg(g, x.reg, (uint64_t)off);
		x.target = pick_target(g, size_bytes(x.osz), 512);
		address(g, &x, (uint16_t)(1u << x.reg));
		x.lock = t->lock && rng_pct(g->r, 30);
	}
	pick_imm(g, &x);
	finish(g, &x, ti, t->undef);
}

/* BSF/BSR: with a zero source the destination is undefined (SDM), so
 * JNZ over a MOV that gives it a known value. */
static void gen_bsf(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	operands(g, &x, false, false, 0);
	if (x.mem) {
		x.target = pick_target(g, size_bytes(x.osz), 64);
		address(g, &x, 0);
	}
	pick_imm(g, &x);
	finish(g, &x, ti, 0);
	uint8_t b[12];
	unsigned n = 0;
	b[n++] = 0x75;
	b[n++] = 0;
	if (x.osz == SZ_W)
		b[n++] = 0x66;
	if (x.reg >= 8)
		b[n++] = 0x41;
	b[n++] = (uint8_t)(0xb8 | (x.reg & 7));
	unsigned immn = x.osz == SZ_W ? 2 : 4;
	uint32_t v = 0x5a5a5a5a;
	memcpy(b + n, &v, immn);
	n += immn;
	b[1] = (uint8_t)(n - 2);
	g->s->it[g->s->nit - 1].cut_ok = false;
	emit(g, b, n, ITEM_SETUP, -1, 0);
	normalize_flags(g, t->undef);
}

/* MOV AL/rAX <-> moffs: a 64-bit (or, with 67, 32-bit) absolute address. */
static void gen_moffs(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	x.rex = x.rexw;
	x.a32 = rng_pct(g->r, 20);
	x.target = pick_target(g, size_bytes(x.osz), 64);
	if (x.a32)
		x.target &= 0xffffffffull;
	x.imm = x.target;
	x.immsz = x.a32 ? 4 : 8;
	finish(g, &x, ti, 0);
}

/* Selectors worth loading (Linux GDT): null, user data/code, kernel ones
 * (DPL 0: #GP), the TSS (system: #GP), CPUNODE (read-only data), beyond
 * the limit (#GP), and RPL variants. */
static uint16_t pick_selector(struct gen *g)
{
	static const uint16_t sels[] = { 0, 3, 0x2b, 0x2b, 0x2b, 0x28, 0x33, 0x23, 0x10, 0x18, 0x1b, 0x40, 0x7b, 0x80, 0x38,
					  0x0c };
	return rng_pct(g->r, 90) ? sels[rng_below(g->r, sizeof(sels) / sizeof(sels[0]))] : (uint16_t)rng_next(g->r);
}

static void gen_movseg(struct gen *g, const struct diff_tmpl *t, int ti, bool to_seg)
{
	struct ins x;
	init_ins(g, &x, t);
	static const unsigned to[] = { 0, 2, 3, 5, 0, 2, 3, 5, 1, 6, 7 };
	x.rex = x.rexw;
	x.reg = to_seg ? to[rng_below(g->r, sizeof(to) / sizeof(to[0]))] : rng_below(g->r, rng_pct(g->r, 90) ? 6 : 8);
	x.mem = rng_pct(g->r, 40);
	uint16_t sel = pick_selector(g);
	if (x.mem) {
		x.target = pick_target(g, 2, 64);
		if (to_seg)
			put_data(g, x.target, sel, 2);
		address(g, &x, 0);
	} else {
		x.rm = pick_reg(g, &x, g->reserved);
		if (to_seg)
			setup_reg(g, x.rm, (rng_next(g->r) & ~0xffffull) | sel);
	}
	pick_imm(g, &x);
	finish(g, &x, ti, 0);
}

/* CMPXCHG8B/16B: half the time EDX:EAX (RDX:RAX) matches memory. */
static void gen_cx8(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	unsigned n = x.osz == SZ_Q ? 16 : 8;
	x.target = pick_target(g, n, 64);
	if (rng_pct(g->r, 80))
		x.target &= ~(uint64_t)(n - 1);
	if (rng_pct(g->r, 50)) {
		setup_reg(g, 0, n == 16 ? get_data(g, x.target, 8) : (rng_next(g->r) & ~0xffffffffull) | get_data(g, x.target, 4));
		setup_reg(g, 2, n == 16 ? get_data(g, x.target + 8, 8)
					: (rng_next(g->r) & ~0xffffffffull) | get_data(g, x.target + 4, 4));
	}
	x.reg = 1;
	x.mem = true;
	address(g, &x, 0);
	x.lock = rng_pct(g->r, 50);
	finish(g, &x, ti, 0);
}

static void gen_xlat(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	x.a32 = rng_pct(g->r, 25);
	uint64_t base = pick_target(g, 1, 300) & ~0x3full;
	if (base + 256 > DIFF_DATA + DIFF_MAPPED || base < DIFF_DATA)
		base = DIFF_DATA + 0x1000;
	setup_reg(g, 3, base | (x.a32 ? rng_next(g->r) << 32 : 0));
	x.rex = rng_pct(g->r, 20);
	x.rexw = rng_pct(g->r, 20);
	finish(g, &x, ti, 0);
}

/* POPF: push a random image first (never TF: a single-step trap would end
 * the native run; AC only when alignment checks are enabled). */
static void gen_popf(struct gen *g, const struct diff_tmpl *t, int ti)
{
	uint32_t v = (uint32_t)rng_next(g->r) & ~FL_TF;
	if (!g->o->alignment_checks)
		v &= ~FL_AC;
	if (rng_pct(g->r, 50))
		v &= 0xfff;
	uint8_t b[5] = { 0x68 };
	memcpy(b + 1, &v, 4);
	emit(g, b, 5, ITEM_SETUP, -1, 0);
	gen_plain(g, t, ti, 0);
}

/* PUSH FS/GS with a 64-bit operand size: the SDM lets the processor
 * either zero-extend the selector or write only its 16 bits ("PUSH",
 * Description; recent Intel cores do the 16-bit move, AMD zero-extends).
 * The other six bytes are cleared with MOVs, which leave the flags alone. */
static void gen_pushseg(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	pick_imm(g, &x);
	finish(g, &x, ti, 0);
	if (x.osz == SZ_W)
		return;
	static const uint8_t clear[] = { 0x66, 0xc7, 0x44, 0x24, 0x02, 0, 0, 0xc7, 0x44, 0x24, 0x04, 0, 0, 0, 0 };
	g->s->it[g->s->nit - 1].cut_ok = false;
	emit(g, clear, 7, ITEM_SETUP, -1, 0);
	g->s->it[g->s->nit - 1].cut_ok = false;
	emit(g, clear + 7, 8, ITEM_SETUP, -1, 0);
}

static void gen_popgs(struct gen *g, const struct diff_tmpl *t, int ti)
{
	uint32_t v = pick_selector(g);
	uint8_t b[5] = { 0x68 };
	memcpy(b + 1, &v, 4);
	emit(g, b, 5, ITEM_SETUP, -1, 0);
	gen_plain(g, t, ti, 0);
}

/* ENTER/LEAVE: RBP points into the stack pages first. */
static void gen_frame(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	uint64_t rbp = DIFF_STACK + 0x1000 + 8 * rng_below(g->r, 64) - 0x100;
	if (rng_pct(g->r, 10))
		rbp += rng_below(g->r, 8);
	setup_reg(g, 5, rbp);
	if (t->kind == DK_ENTER) {
		x.immsz = 2;
		x.imm2sz = 1;
		x.imm = rng_pct(g->r, 80) ? 8 * rng_below(g->r, 16) : rng_below(g->r, 0x300);
		unsigned lv[] = { 0, 0, 0, 1, 2, 3, 5, rng_below(g->r, 256) };
		x.imm2 = (uint16_t)lv[rng_below(g->r, 8)];
		if ((x.imm2 & 31) > 8)
			x.imm2 = (uint16_t)(x.imm2 & ~31u);
	}
	finish(g, &x, ti, 0);
}

/* A filler instruction a jump can skip: MOV r32, imm32. */
static unsigned filler(struct gen *g, uint8_t *b)
{
	unsigned reg;
	do
		reg = rng_below(g->r, 16);
	while (reg == RSP);
	unsigned n = 0;
	if (reg >= 8)
		b[n++] = 0x41;
	b[n++] = (uint8_t)(0xb8 | (reg & 7));
	uint32_t v = (uint32_t)rng_next(g->r);
	memcpy(b + n, &v, 4);
	return n + 4;
}

static void mark_jump(struct gen *g, unsigned from_item)
{
	for (unsigned k = from_item; k + 1 < g->s->nit; k++)
		g->s->it[k].cut_ok = false;
}

/* Jcc/JMP/LOOPcc/JRCXZ forward over a filler (or by zero bytes). */
static void gen_jump(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	x.rex = false;
	x.rexw = false;
	if (t->kind == DK_LOOP) {
		uint64_t c[] = { 0, 1, 2, 3, 0x10000, 0x100000001ull };
		x.a32 = rng_pct(g->r, 25);
		setup_reg(g, 1, rng_pct(g->r, 80) ? c[rng_below(g->r, 6)] : rng_next(g->r));
	}
	uint8_t fb[8];
	unsigned fn = rng_pct(g->r, 85) ? filler(g, fb) : 0;
	pick_imm(g, &x);
	x.imm = fn;
	unsigned first = g->s->nit;
	finish(g, &x, ti, 0);
	if (fn)
		emit(g, fb, fn, ITEM_SETUP, -1, 0);
	mark_jump(g, first);
}

/* CALL rel32 to a RET (or RET imm16) placed after a short JMP:
 *   call L; jmp over; L: ret */
static void gen_callret(struct gen *g, const struct diff_tmpl *t, int ti)
{
	uint8_t ret[3] = { 0xc3 };
	unsigned rn = 1;
	if (t->arg) {
		uint16_t imm = rng_pct(g->r, 80) ? (uint16_t)(8 * rng_below(g->r, 4)) : (uint16_t)rng_below(g->r, 64);
		ret[0] = 0xc2;
		memcpy(ret + 1, &imm, 2);
		rn = 3;
	}
	unsigned first = g->s->nit;
	uint8_t call[5] = { 0xe8, 2, 0, 0, 0 };
	emit(g, call, 5, ITEM_TEST, ti, 0);
	uint8_t jmp[2] = { 0xeb, (uint8_t)rn };
	emit(g, jmp, 2, ITEM_SETUP, -1, 0);
	emit(g, ret, rn, ITEM_TEST, ti, 0);
	mark_jump(g, first);
}

/* CALL r/m64 to a RET, JMP r/m64 over a filler. The target address goes
 * into a register or into memory. */
static void gen_indirect(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	x.rexw = false;
	x.osz = SZ_Q;
	x.reg = (unsigned)t->ext;
	x.mem = rng_pct(g->r, 40);
	unsigned first = g->s->nit;
	if (x.mem) {
		x.target = pick_target(g, 8, 64) & ~7ull;
		if (x.target < DIFF_DATA || x.target >= DIFF_DATA + DIFF_DATA_SIZE)
			x.target = DIFF_DATA + 0x800 + 8ull * (g->s->nit % 256);   /* not another jump's slot */
	} else {
		x.rm = pick_reg(g, &x, 0);
	}
	/* The set-up comes first, so the target is computed from a length
	 * that does not depend on it: encode once to learn the length. */
	unsigned setup_len = x.mem ? 0 : 10;
	if (x.mem) {
		address(g, &x, 0);
	} else {
		setup_reg(g, x.rm, 0);  /* patched below */
	}
	encode(&x);
	uint8_t fb[8];
	unsigned fn = filler(g, fb);
	uint64_t after = DIFF_CODE + g->s->len + x.n;
	uint64_t target = t->kind == DK_CALLIND ? after + 2 : after + fn;
	if (x.mem)
		put_data(g, x.target, target, 8);
	else
		memcpy(g->s->code + g->s->len - setup_len + 2, &target, 8);
	finish(g, &x, ti, 0);
	if (t->kind == DK_CALLIND) {
		uint8_t jr[3] = { 0xeb, 1, 0xc3 };
		emit(g, jr, 2, ITEM_SETUP, -1, 0);
		emit(g, jr + 2, 1, ITEM_SETUP, -1, 0);
	} else {
		emit(g, fb, fn, ITEM_SETUP, -1, 0);
	}
	mark_jump(g, first);
}

/* MOVS/CMPS/STOS/LODS/SCAS with REP/REPNE, both address sizes, either
 * direction (DF comes from the running state). */
static void gen_string(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	struct rng *r = g->r;
	init_ins(g, &x, t);
	if (!(x.op & 1))
		x.osz = SZ_B;
	else if (x.osz == SZ_B)
		x.osz = SZ_D;
	x.rexw = x.osz == SZ_Q;
	x.rex = x.rexw || rng_pct(r, 20);
	unsigned p = rng_below(r, 10);
	x.rep = p < 4 ? 0 : p < 8 ? 0xf3 : 0xf2;
	x.a32 = rng_pct(r, 30);
	unsigned sz = size_bytes(x.osz);
	uint64_t count = rng_pct(r, 90) ? rng_below(r, 40) : rng_below(r, 300);
	uint64_t room = (count + 1) * sz + 16;
	uint64_t hi = x.a32 ? rng_next(r) << 32 : 0;
	for (int k = 0; k < 2; k++) {
		uint64_t a;
		if (rng_pct(r, 5))
			a = DIFF_DATA + DIFF_MAPPED - rng_below(r, (unsigned)room);       /* runs into the guard page */
		else
			a = DIFF_DATA + room + rng_below(r, (unsigned)(DIFF_DATA_SIZE - 2 * room));
		if (rng_pct(r, 50))
			a &= ~(uint64_t)(sz - 1);
		setup_reg(g, k ? 7 : 6, a | hi);
	}
	setup_reg(g, 1, count | (x.a32 ? rng_next(r) << 32 : 0));
	finish(g, &x, ti, 0);
}

/* INT n except 80H (a system call on Linux). */
static void gen_intn(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	x.rex = false;
	x.rexw = false;
	x.immsz = 1;
	do
		x.imm = rng_below(g->r, 256);
	while (x.imm == 0x80);
	finish(g, &x, ti, 0);
}

static void gen_crreg(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	x.rexw = false;
	x.rex = rng_pct(g->r, 50);
	x.reg = rng_below(g->r, x.rex ? 16 : 8);
	x.rm = pick_reg(g, &x, 0);
	finish(g, &x, ti, 0);
}

/* MOVDQU xmm, [m] (F3 0F 6F) or MOVDQU [m], xmm (F3 0F 7F). */
static void sse_move(struct gen *g, unsigned xmm, bool store)
{
	static const struct diff_tmpl mv[2] = {
		{ "movdqu load", 0xf3, 1, 0x6f, 0x6f, -1, RM_MEM, IM_NONE, SZ_X, DK_SSE, 0, 0, 0, 0, 0, 0 },
		{ "movdqu store", 0xf3, 1, 0x7f, 0x7f, -1, RM_MEM, IM_NONE, SZ_X, DK_SSE, 0, 0, 0, 0, 0, 0 },
	};
	struct ins x;
	memset(&x, 0, sizeof(x));
	x.t = &mv[store];
	x.fixed_modrm = -1;
	x.op = mv[store].lo;
	x.osz = SZ_X;
	x.has_modrm = true;
	x.mem = true;
	x.reg = xmm;
	x.rex = xmm >= 8;
	x.target = pick_target(g, 16, 64);
	if (x.target < DIFF_DATA || x.target + 16 > DIFF_DATA + DIFF_DATA_SIZE)
		x.target = DIFF_DATA + 0x100;
	address(g, &x, 0);
	encode(&x);
	if (x.form == MF_RIP) {
		int32_t d = (int32_t)(x.target - (DIFF_CODE + g->s->len + x.n));
		memcpy(x.b + x.disp_at, &d, 4);
	}
	emit(g, x.b, x.n, ITEM_SETUP, -1, 0);
	g->reserved = 0;
}

/* SSE: XMM operands are loaded from the data pages first and the
 * destination is stored back, so the comparison of memory covers them.
 * arg bit 0: ModRM.reg is a general register; bit 1: ModRM.rm (register
 * form) is a general register; bit 2: the destination is ModRM.rm. */
static void gen_sse(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	x.rex = rng_pct(g->r, 50) || x.rexw;
	bool reg_gpr = t->arg & 1, rm_gpr = t->arg & 2;
	x.reg = t->ext >= 0 ? (unsigned)t->ext : reg_gpr ? pick_reg(g, &x, 0) : rng_below(g->r, x.rex ? 16 : 8);
	x.mem = t->rm == RM_MEM || (t->rm == RM_ANY && rng_pct(g->r, 40));
	if (!x.mem)
		x.rm = rm_gpr ? pick_reg(g, &x, 0) : rng_below(g->r, x.rex ? 16 : 8);
	if (t->ext < 0 && !reg_gpr)
		sse_move(g, x.reg, false);
	if (!x.mem && !rm_gpr)
		sse_move(g, x.rm, false);
	if (x.mem) {
		x.target = pick_target(g, 16, 64);
		address(g, &x, 0);
	}
	if (t->arg & 8) {
		/* MASKMOVDQU: DS:[RDI], or [EDI] with 67 (SDM MASKMOVDQU). */
		uint64_t a = pick_target(g, 16, 64);
		x.a32 = rng_pct(g->r, 15) && a < (1ull << 32);
		setup_reg(g, 7, a | (x.a32 ? rng_next(g->r) << 32 : 0));
	}
	pick_imm(g, &x);
	finish(g, &x, ti, t->undef);
	/* The destination register goes back to memory; a memory
	 * destination is compared as it is. */
	if (t->kind == DK_SSE && !(t->arg & 8) && !((t->arg & 4) && x.mem))
		sse_move(g, (t->arg & 4) || t->ext >= 0 ? x.rm : x.reg, true);
}

/* A set-up item storing to an absolute address (ModRM 04, SIB 25:
 * [disp32]), for the data pages only. */
static void emit_abs(struct gen *g, const uint8_t *op, unsigned oplen, uint64_t la, const void *imm, unsigned immlen)
{
	uint8_t b[16];
	memcpy(b, op, oplen);
	unsigned n = oplen;
	b[n++] = (uint8_t)(0x04 | (op[oplen] << 3));
	b[n++] = 0x25;
	uint32_t d = (uint32_t)la;
	memcpy(b + n, &d, 4);
	n += 4;
	if (immlen)
		memcpy(b + n, imm, immlen);
	n += immlen;
	emit(g, b, n, ITEM_SETUP, -1, 0);
}

/* x87 and XSAVE images are accessed field by field in an order the SDM
 * does not give, so a fault part-way (which byte CR2 names, which bytes
 * were already written) is the implementation's: such images lie wholly
 * in the writable pages, or at a non-canonical address (#GP). */
static uint64_t place_image(struct gen *g, uint64_t a, unsigned n)
{
	if (a >= DIFF_DATA && a + n <= DIFF_DATA + DIFF_RW_SIZE)
		return a;
	if (a >> 47 && a >> 47 != 0x1ffff)
		return a & ~63ull;      /* aligned: which of #GP (alignment) and
					 * #SS/#GP (canonical) comes first is the
					 * implementation's (AMD: FXSAVE one way,
					 * XSAVE the other) */
	return DIFF_DATA + 64 + rng_below(g->r, DIFF_DATA_SIZE - 128 - n);
}

/* MOV word [la], v: set-up right before an instruction that loads an
 * image, whose earlier instructions may have overwritten it. */
static void store16(struct gen *g, uint64_t la, uint16_t v)
{
	static const uint8_t mov[] = { 0x66, 0xc7, 0 };
	if (la >= DIFF_DATA && la + 2 <= DIFF_DATA + DIFF_RW_SIZE)
		emit_abs(g, mov, 2, la, &v, 2);
}

/* x87 control: the instruction, then FNSTENV [DIFF_DATA + X87_ENV] so the
 * state it left is compared as memory. arg 1 FLDCW, 2 FLDENV, 3 FRSTOR:
 * the image mostly holds values worth loading (else random bytes).
 *
 * Two fields are reserved (SDM vol. 1 8.1.5 Figure 8-6, 8.1.10 Figure
 * 8-9) and read differently on the host: FCW bits 6, 7 and 13-15 (AMD
 * keeps 6 = 1 and the others 0 whatever is loaded), so loaded control
 * words hold the values FNINIT gives them; bits 31:16 of the FDS dword of
 * a 32-bit image (AMD writes FFFFH), which are cleared after each store. */
#define X87_ENV 0x3fc0u
#define FCW_RESERVED 0xe0c0u
#define FCW_RESERVED_INIT 0x0040u

static uint16_t x87_fcw(uint16_t v)
{
	return (uint16_t)((v & ~FCW_RESERVED) | FCW_RESERVED_INIT);
}

/* MOV word [la], 0 after a 32-bit x87 image at la-26 was stored. */
static void clear_fds_high(struct gen *g, uint64_t la)
{
	static const uint8_t mov[] = { 0x66, 0xc7, 0 };
	uint16_t zero = 0;
	if (la < DIFF_DATA || la + 2 > DIFF_DATA + DIFF_RW_SIZE)
		return;
	g->s->it[g->s->nit - 1].cut_ok = false;
	emit_abs(g, mov, 2, la, &zero, 2);
}

static void gen_x87(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	struct rng *r = g->r;
	init_ins(g, &x, t);
	if (x.has_modrm)
		operands(g, &x, false, false, 0);
	if (x.mem) {
		x.target = place_image(g, pick_target(g, 108, 64), 108);
		if (t->arg && t->arg < 4 && rng_pct(r, 70)) {
			/* FCW: masks mostly set, any precision and rounding; FSW:
			 * some exception flags, any TOP; FTW: any tags. */
			uint16_t fcw = (uint16_t)((rng_next(r) & 0x0f00) | 0x40 | (rng_pct(r, 70) ? 0x3f : rng_next(r) & 0x3f));
			uint16_t fsw = (uint16_t)(rng_pct(r, 50) ? rng_next(r) & 0x3800 : rng_next(r) & 0x7fff);
			uint16_t ftw = (uint16_t)(rng_pct(r, 30) ? 0xffff : rng_next(r));
			bool wide = x.osz != SZ_W;
			fcw = x87_fcw(fcw);
			if (t->arg == 1) {
				put_data(g, x.target, fcw, 2);
			} else if (wide) {
				put_data(g, x.target, 0xffff0000u | fcw, 4);
				put_data(g, x.target + 4, 0xffff0000u | fsw, 4);
				put_data(g, x.target + 8, 0xffff0000u | ftw, 4);
			} else {
				put_data(g, x.target, fcw, 2);
				put_data(g, x.target + 2, fsw, 2);
				put_data(g, x.target + 4, ftw, 2);
			}
		}
		if (t->arg == 2 || t->arg == 3) {
			/* The pointer fields (FIP, FCS/FOP, FDP, FDS) of a loaded
			 * image are zero: an AMD host saves them across a context
			 * switch only while an x87 exception is pending, so a
			 * preempted sequence would read 0 where vtxsim keeps the
			 * loaded value, a flaky difference (vol. 1 8.1.10). */
			bool wide = x.osz != SZ_W;
			for (unsigned k = wide ? 12 : 6; k < (wide ? 28u : 14u); k += 2)
				put_data(g, x.target + k, 0, 2);
		}
		address(g, &x, 0);
		if (t->arg >= 1 && t->arg <= 3)
			store16(g, x.target, x87_fcw((uint16_t)get_data(g, x.target, 2)));
	}
	pick_imm(g, &x);
	finish(g, &x, ti, 0);
	if (x.mem && !t->arg && t->ext == 6 && x.osz != SZ_W)
		clear_fds_high(g, x.target + 26);       /* FNSTENV, FNSAVE */
	static const uint8_t fnstenv[] = { 0xd9, 6 }, fldenv[] = { 0xd9, 4 }, movq[] = { 0x48, 0xc7, 0 },
			     movd[] = { 0xc7, 0 };
	g->s->it[g->s->nit - 1].cut_ok = false;
	if (t->arg >= 4) {
		/* FNOP is not a control instruction: it sets FIP (SDM vol. 1
		 * 8.1.8); FCS is the model's (CPUID.7:EBX[13] deprecates it),
		 * FOP depends on the fopcode compatibility sub-mode (8.1.9.1)
		 * and FDP/FDS are undefined after an instruction without a
		 * memory operand (8.1.8). Those fields are zeroed in a stored
		 * image that is loaded back. */
		uint32_t zero = 0;
		uint64_t e = DIFF_DATA + X87_ENV;
		emit_abs(g, fnstenv, 1, e, NULL, 0);
		g->s->it[g->s->nit - 1].cut_ok = false;
		if (t->arg == 5) {
			emit_abs(g, movd, 1, e + 12, &zero, 4);
			g->s->it[g->s->nit - 1].cut_ok = false;
		}
		emit_abs(g, movq, 2, e + 16, &zero, 4);
		g->s->it[g->s->nit - 1].cut_ok = false;
		emit_abs(g, movd, 1, e + 24, &zero, 4);
		g->s->it[g->s->nit - 1].cut_ok = false;
		emit_abs(g, fldenv, 1, e, NULL, 0);
		g->s->it[g->s->nit - 1].cut_ok = false;
	}
	emit_abs(g, fnstenv, 1, DIFF_DATA + X87_ENV, NULL, 0);
	clear_fds_high(g, DIFF_DATA + X87_ENV + 26);
}

/* FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, XSAVE/XRSTOR/XSAVEOPT/XSAVEC (arg as in
 * gen.py). EDX:EAX never requests a component outside vtxsim's XCR0 (bit
 * 2, AVX, is the host's only other one). Images that are loaded mostly
 * hold a valid MXCSR and XSAVE header (SDM vol. 1 13.8: XRSTOR #GP(0)
 * otherwise), sometimes random bytes. XSTATE_BV keeps x87 and SSE in use,
 * so XINUSE is 1 for both on both sides (vol. 1 13.6 lets a processor
 * report an initial component either way). MXCSR_MASK (FXSAVE image bytes
 * 28-31) is the model's, like CPUID (AMD sets bit 17, MM): overwritten
 * after a save. */
static void gen_xsave(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	struct rng *r = g->r;
	unsigned a = t->arg;
	init_ins(g, &x, t);
	unsigned n = a == 2 || a == 3 ? 4 : a <= 1 ? 512 : 576;
	unsigned align = a == 2 || a == 3 ? 4 : a <= 1 ? 16 : 64;
	x.target = place_image(g, pick_target(g, n, 64), n);
	if (x.target >= DIFF_DATA && x.target < DIFF_DATA + DIFF_DATA_SIZE) {
		if (x.target + n > DIFF_DATA + DIFF_DATA_SIZE - 64)
			x.target = DIFF_DATA + 64 + rng_below(r, DIFF_DATA_SIZE - 128 - n);
		if (rng_pct(r, 85))
			x.target &= ~(uint64_t)(align - 1);
	}
	bool valid = rng_pct(r, 92);
	/* Half the time every exception masked (any flags, DAZ, rounding, FTZ). */
	uint32_t mxcsr = (uint32_t)rng_next(r) & 0xffffu;
	if (rng_pct(r, 50))
		mxcsr |= 0x1f80u;
	if (a == 2 && valid)
		put_data(g, x.target, mxcsr, 4);
	if ((a == 1 || a == 5) && valid)
		put_data(g, x.target + 24, mxcsr, 4);

	if (a == 5 && valid) {
		put_data(g, x.target + 512, 3, 8);
		for (unsigned k = 8; k < 64; k += 8)
			put_data(g, x.target + 512 + k, 0, 8);
	}
	if (a >= 4) {
		uint64_t rfbm = rng_pct(r, 70) ? 3 : rng_next(r) & 3;
		setup_reg(g, 0, ((rng_next(r) & ~7ull) * rng_pct(r, 30)) | rfbm);
		setup_reg(g, 2, rng_next(r) * rng_pct(r, 30));
	}
	x.reg = (unsigned)t->ext;
	x.mem = true;
	address(g, &x, 0);
	if (a == 1 || a == 5)
		store16(g, x.target, x87_fcw((uint16_t)get_data(g, x.target, 2)));
	finish(g, &x, ti, 0);
	if ((a == 0 || a >= 4) && a != 5 && x.target >= DIFF_DATA && x.target + 32 <= DIFF_DATA + DIFF_RW_SIZE) {
		static const uint8_t movd[] = { 0xc7, 0 }, movq[] = { 0x48, 0xc7, 0 }, movw[] = { 0x66, 0xc7, 0 };
		uint32_t mask = 0xffff, zero = 0;
		g->s->it[g->s->nit - 1].cut_ok = false;
		emit_abs(g, movd, 1, x.target + 28, &mask, 4);
		/* FOP, FIP, FDP (bytes 6-23): AMD saves them only while an
		 * exception is pending (FXSAVE/XSAVE differ from the SDM's
		 * "always" there); compared through FNSTENV instead. */
		g->s->it[g->s->nit - 1].cut_ok = false;
		emit_abs(g, movw, 2, x.target + 6, &zero, 2);
		g->s->it[g->s->nit - 1].cut_ok = false;
		emit_abs(g, movq, 2, x.target + 8, &zero, 4);
		g->s->it[g->s->nit - 1].cut_ok = false;
		emit_abs(g, movq, 2, x.target + 16, &zero, 4);
	}
}

/* XGETBV: ECX 0 (XCR0), 1 (XINUSE, with XGETBV_ECX1) or an invalid index
 * (#GP(0)); then AND EAX, 3: the host's XCR0 also enables AVX (bit 2),
 * which vtxsim does not implement, so bits 1:0 (x87, SSE) are compared. */
static void gen_xgetbv(struct gen *g, const struct diff_tmpl *t, int ti)
{
	static const uint64_t ecx[] = { 0, 0, 0, 1, 1, 2, 3, 0x100000000ull, 0x80000000ull };
	setup_reg(g, 1, rng_pct(g->r, 90) ? ecx[rng_below(g->r, 9)] : rng_next(g->r));
	gen_plain(g, t, ti, 0);
	static const uint8_t and3[] = { 0x83, 0xe0, 0x03 };
	g->s->it[g->s->nit - 1].cut_ok = false;
	emit(g, and3, 3, ITEM_SETUP, -1, 0);
}

/* RDPKRU/WRPKRU: ECX (and EDX) 0 mostly, so only CR4.PKE decides. */
static void gen_pkru(struct gen *g, const struct diff_tmpl *t, int ti)
{
	setup_reg(g, 1, rng_pct(g->r, 80) ? 0 : interesting(g->r));
	setup_reg(g, 2, rng_pct(g->r, 80) ? 0 : interesting(g->r));
	gen_plain(g, t, ti, 0);
}

/* LAR/LSL on the selectors of pick_selector except GDT entry 15 (Linux's
 * CPUNODE segment, whose limit is the host CPU number). */
static void gen_lar(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	uint16_t sel;
	do
		sel = pick_selector(g);
	while ((sel & ~7u) == 0x78);
	x.reg = pick_reg(g, &x, 0);
	x.mem = rng_pct(g->r, 40);
	if (x.mem) {
		x.target = pick_target(g, 2, 64);
		put_data(g, x.target, sel, 2);
		address(g, &x, 0);
	} else {
		x.rm = pick_reg(g, &x, g->reserved);
		setup_reg(g, x.rm, (interesting(g->r) & ~0xffffull) | sel);
	}
	finish(g, &x, ti, 0);
	if (t->lo != 0x02)
		return;
	/* LAR: "masked by 00FxFF00H" (SDM LAR): bits 19:16 are undefined;
	 * PUSHFQ; AND r32/r64, FFF0FFFFH; POPFQ keeps ZF. */
	if (x.osz == SZ_W)
		return;         /* a 16-bit destination has no bits 19:16 */
	uint8_t b[10];
	unsigned n = 0;
	b[n++] = 0x9c;
	if (x.rexw || x.reg >= 8)
		b[n++] = (uint8_t)(0x40 | (x.rexw ? 8 : 0) | (x.reg >> 3));
	b[n++] = 0x81;
	b[n++] = (uint8_t)(0xe0 | (x.reg & 7));
	uint32_t m = 0xfff0ffffu;
	memcpy(b + n, &m, 4);
	n += 4;
	b[n++] = 0x9d;
	g->s->it[g->s->nit - 1].cut_ok = false;
	emit(g, b, n, ITEM_SETUP, -1, 0);
}

/* WRFSBASE/WRGSBASE r, then MOV r, base; WRxSBASE r with the original
 * base (the host process's TLS base must come back at once). */
static void gen_wrbase(struct gen *g, const struct diff_tmpl *t, int ti)
{
	struct ins x;
	init_ins(g, &x, t);
	x.has_modrm = true;
	x.reg = (unsigned)t->ext;
	x.rm = pick_reg(g, &x, 0);
	if (x.rm >= 8)
		x.rex = true;
	if (rng_pct(g->r, 60))
		setup_reg(g, x.rm, rng_pct(g->r, 50) ? DIFF_DATA + rng_below(g->r, 0x1000) : 0x7fff00000000ull + 8 * rng_below(g->r, 0x100000));
	else
		/* Canonical for 48 bits, or for neither 48 nor 57: vtxsim's
		 * model has LA57, and WRFSBASE checks against the processor's
		 * linear-address width, not CR4.LA57 (SDM WRFSBASE). */
		setup_reg(g, x.rm, rng_pct(g->r, 50) ? (uint64_t)((int64_t)(rng_next(g->r) << 16) >> 16)
						    : (interesting(g->r) & 0x00ffffffffffffffull) | 0x4000000000000000ull);
	finish(g, &x, ti, 0);
	g->s->it[g->s->nit - 1].cut_ok = false;
	uint64_t base = t->arg ? g->o->gs_base : g->o->fs_base;
	setup_reg(g, x.rm, base);
	g->s->it[g->s->nit - 1].cut_ok = false;
	uint8_t b[5] = { 0xf3, (uint8_t)(0x48 | (x.rm >> 3)), 0x0f, 0xae, (uint8_t)(0xc0 | (unsigned)t->ext << 3 | (x.rm & 7)) };
	emit(g, b, 5, ITEM_SETUP, -1, 0);
}

static void gen_one(struct gen *g, int ti)
{
	const struct diff_tmpl *t = &diff_tmpls[ti];
	g->reserved = 0;
	switch (t->kind) {
	case DK_SHIFT: gen_shift(g, t, ti); break;
	case DK_SHXD: gen_shxd(g, t, ti); break;
	case DK_DIV: gen_div(g, t, ti); break;
	case DK_BITOFF: gen_bitoff(g, t, ti); break;
	case DK_BSF: gen_bsf(g, t, ti); break;
	case DK_MOFFS: gen_moffs(g, t, ti); break;
	case DK_MOVFROMSEG: gen_movseg(g, t, ti, false); break;
	case DK_MOVTOSEG: gen_movseg(g, t, ti, true); break;
	case DK_CX8: gen_cx8(g, t, ti); break;
	case DK_XLAT: gen_xlat(g, t, ti); break;
	case DK_POPF: gen_popf(g, t, ti); break;
	case DK_POPGS: gen_popgs(g, t, ti); break;
	case DK_PUSHSEG: gen_pushseg(g, t, ti); break;
	case DK_ENTER: case DK_LEAVE: gen_frame(g, t, ti); break;
	case DK_JCC: case DK_LOOP: gen_jump(g, t, ti); break;
	case DK_CALLRET: gen_callret(g, t, ti); break;
	case DK_CALLIND: case DK_JMPIND: gen_indirect(g, t, ti); break;
	case DK_STRING: gen_string(g, t, ti); break;
	case DK_INTN: gen_intn(g, t, ti); break;
	case DK_CRREG: gen_crreg(g, t, ti); break;
	case DK_SSE: case DK_SSEGPR: gen_sse(g, t, ti); break;
	case DK_X87: gen_x87(g, t, ti); break;
	case DK_XSAVE: gen_xsave(g, t, ti); break;
	case DK_XGETBV: gen_xgetbv(g, t, ti); break;
	case DK_PKRU: gen_pkru(g, t, ti); break;
	case DK_LAR: gen_lar(g, t, ti); break;
	case DK_WRBASE: gen_wrbase(g, t, ti); break;
	default: gen_plain(g, t, ti, t->undef); break;
	}
}

static void random_state(struct gen *g)
{
	struct seq *s = g->s;
	for (int k = 0; k < 16; k++)
		s->in.gpr[k] = interesting(g->r);
	s->in.gpr[RSP] = DIFF_STACK + 0x1000 - 8 * rng_below(g->r, 16);
	uint64_t fl = 0x202 | (rng_next(g->r) & (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF));
	if (rng_pct(g->r, 20))
		fl |= FL_DF;
	if (g->o->alignment_checks && rng_pct(g->r, 5))
		fl |= FL_AC;
	s->in.rflags = fl;
	for (unsigned k = 0; k < DIFF_RW_SIZE; k += 8) {
		uint64_t v = rng_pct(g->r, 10) ? interesting(g->r) : rng_next(g->r);
		memcpy(s->data + k, &v, 8);
	}
}

void seq_build(struct seq *s, struct rng *r, const struct seq_opts *o, const uint8_t *ro_page)
{
	struct gen g = { .s = s, .r = r, .o = o };
	s->len = 0;
	s->nit = 0;
	random_state(&g);
	memcpy(s->data + DIFF_RW_SIZE, ro_page, 0x1000);
	unsigned n = 1 + rng_below(r, o->max_tests);
	for (unsigned k = 0; k < n; k++) {
		int ti;
		do
			ti = (int)rng_below(r, diff_ntmpls);
		while (!o->active[ti]);
		gen_one(&g, ti);
	}
}

unsigned seq_sample(const struct diff_tmpl *t, bool reg_form, uint8_t *buf)
{
	struct ins x;
	memset(&x, 0, sizeof(x));
	x.t = t;
	x.fixed_modrm = t->ext >= 0x100 ? t->ext & 0xff : -1;
	x.op = t->lo;
	x.osz = t->sizes & SZ_D ? SZ_D : t->sizes & SZ_Q ? SZ_Q : t->sizes & SZ_W ? SZ_W : t->sizes & SZ_B ? SZ_B : SZ_X;
	x.rexw = x.osz == SZ_Q && !t->vex;
	x.has_modrm = t->rm != RM_NONE;
	/* ModRM.reg 1 names CS and CR1, which MOV Sw,Ew and MOV CR refuse. */
	x.reg = t->ext >= 0 && t->ext < 0x100 ? (unsigned)t->ext : t->kind == DK_MOVTOSEG ? 3 : t->kind == DK_CRREG ? 0 : 1;
	x.mem = t->rm == RM_MEM || (t->rm == RM_ANY && !reg_form);
	x.rm = 2;
	x.vvvv = (t->vex >> 6 & 1) ? 3 : 0;     /* else VEX.vvvv must be 1111b */
	x.form = MF_BASE;
	x.base = 3;
	struct gen g;
	struct rng r = { 1 };
	memset(&g, 0, sizeof(g));
	g.r = &r;
	pick_imm(&g, &x);
	if (t->kind == DK_MOFFS)
		x.immsz = 8;
	if (t->kind == DK_INTN)
		x.imm = 0x21;
	encode(&x);
	memcpy(buf, x.b, x.n);
	return x.n;
}
