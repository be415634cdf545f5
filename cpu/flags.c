/* Lazy arithmetic flags: derivation of each flag from the recorded operation
 * (SDM vol. 1 3.4.3.1; vol. 2 "Flags Affected" of ADD, ADC, SUB, SBB, AND,
 * INC, DEC, NEG, SAL/SHL, SHR, SAR). */
#include "cpu/flags.h"

static uint64_t msb(uint64_t v, unsigned osz)
{
	return (v >> (osz_bits(osz) - 1)) & 1;
}

bool lf_cf_slow(const struct cpu *c)
{
	const struct lazy_flags *l = &c->lf;
	unsigned osz = LF_OSZ(l->op);
	unsigned n = (unsigned)l->src;

	switch (LF_KIND(l->op)) {
	case LF_NONE:
		return c->rflags & FL_CF;
	case LF_INC:
	case LF_DEC:
		return (l->op & LF_CARRY_IN) != 0;      /* CF kept from before */
	case LF_ADD:
		return l->res < l->dst;
	case LF_ADC:
		return (l->op & LF_CARRY_IN) ? l->res <= l->dst : l->res < l->dst;
	case LF_SUB:
		return l->dst < l->src;
	case LF_SBB:
		return (l->op & LF_CARRY_IN) ? l->dst <= l->src : l->dst < l->src;
	case LF_LOGIC:
		return false;
	case LF_NEG:
		return l->src != 0;
	case LF_SHL:  /* last bit shifted out; counts past the width give 0 */
		return n <= osz_bits(osz) && ((l->dst >> (osz_bits(osz) - n)) & 1);
	case LF_SHR:
		return n <= osz_bits(osz) && ((l->dst >> (n - 1)) & 1);
	case LF_SAR: {
		unsigned bits = osz_bits(osz);
		int64_t s = (int64_t)(l->dst << (64 - bits)) >> (64 - bits);
		return (s >> (n - 1 < bits ? n - 1 : bits - 1)) & 1;
	}
	}
	return false;
}

bool lf_of(const struct cpu *c)
{
	const struct lazy_flags *l = &c->lf;
	unsigned osz = LF_OSZ(l->op);

	switch (LF_KIND(l->op)) {
	case LF_NONE:
		return c->rflags & FL_OF;
	case LF_ADD:
	case LF_ADC:
		return msb((l->dst ^ l->res) & (l->src ^ l->res), osz);
	case LF_SUB:
	case LF_SBB:
		return msb((l->dst ^ l->src) & (l->dst ^ l->res), osz);
	case LF_LOGIC:
		return false;
	case LF_INC:
		return l->res == osz_sign(osz);
	case LF_DEC:
		return l->res == osz_sign(osz) - 1;
	case LF_NEG:
		return l->src == osz_sign(osz);
	case LF_SHL:  /* defined for 1-bit shifts: MSB(result) XOR CF */
		return msb(l->res, osz) ^ lf_cf(c);
	case LF_SHR:  /* MSB of the original operand */
		return msb(l->dst, osz);
	case LF_SAR:
		return false;
	}
	return false;
}

static bool lf_af(const struct cpu *c)
{
	const struct lazy_flags *l = &c->lf;

	switch (LF_KIND(l->op)) {
	case LF_NONE:
		return c->rflags & FL_AF;
	case LF_ADD:
	case LF_ADC:
	case LF_SUB:
	case LF_SBB:
	case LF_NEG:
		return ((l->res ^ l->dst ^ l->src) >> 4) & 1;
	case LF_INC:
		return (l->res & 0xf) == 0;
	case LF_DEC:
		return (l->res & 0xf) == 0xf;
	default:
		return false;   /* logic ops and shifts: AF undefined, reads 0 */
	}
}

void lf_materialize(struct cpu *c)
{
	if (c->lf.op == LF_NONE)
		return;
	uint64_t f = 0;
	if (lf_cf(c))
		f |= FL_CF;
	if (lf_pf(c))
		f |= FL_PF;
	if (lf_af(c))
		f |= FL_AF;
	if (lf_zf(c))
		f |= FL_ZF;
	if (lf_sf(c))
		f |= FL_SF;
	if (lf_of(c))
		f |= FL_OF;
	c->rflags = (c->rflags & ~(uint64_t)FL_ARITH) | f;
	c->lf.op = LF_NONE;
}

/* Signed comparison straight from a recorded SUB (CMP), the common case. */
static bool cmp_less(const struct lazy_flags *l)
{
	unsigned sh = 64 - osz_bits(LF_OSZ(l->op));
	return (int64_t)(l->dst << sh) < (int64_t)(l->src << sh);
}

bool cpu_cond_slow(const struct cpu *c, unsigned cc)
{
	bool r;
	bool sub = LF_KIND(c->lf.op) == LF_SUB;

	switch (cc >> 1) {
	case 0: r = lf_of(c); break;                                    /* O */
	case 1: r = lf_cf(c); break;                                    /* B/C */
	case 2: r = lf_zf(c); break;                                    /* Z */
	case 3: r = sub ? c->lf.dst <= c->lf.src : lf_cf(c) || lf_zf(c); break;   /* BE */
	case 4: r = lf_sf(c); break;                                    /* S */
	case 5: r = lf_pf(c); break;                                    /* P */
	case 6: r = sub ? cmp_less(&c->lf) : lf_sf(c) != lf_of(c); break;         /* L */
	default: r = sub ? cmp_less(&c->lf) || c->lf.res == 0
			 : lf_zf(c) || lf_sf(c) != lf_of(c); break;            /* LE */
	}
	return r ^ (cc & 1);
}

uint64_t cpu_get_rflags(struct cpu *c)
{
	lf_materialize(c);
	return c->rflags | FL_FIXED1;
}
