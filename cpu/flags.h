/* Lazily evaluated arithmetic flags.
 *
 * An ALU instruction records its operands and result (masked to the operand
 * size) instead of computing CF/PF/AF/ZF/SF/OF; a flag is derived only when
 * something reads it (Jcc, SETcc, PUSHF, an exception frame...). The
 * formulas follow the flag definitions of SDM vol. 1, 3.4.3.1 and the
 * per-instruction "Flags Affected" sections of vol. 2.
 *
 * lf.op == LF_NONE means the arithmetic flags live in c->rflags.
 */
#ifndef CPU_FLAGS_H
#define CPU_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

enum lf_kind {
	LF_NONE = 0,
	LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC, LF_NEG,
	LF_SHL, LF_SHR, LF_SAR,
};

/* osz: log2 of the operand size in bytes (0 = 8 bits .. 3 = 64 bits). */
#define LF_OP(kind, osz) ((uint32_t)(kind) | ((uint32_t)(osz) << 8))
#define LF_CARRY_IN (1u << 12)       /* ADC/SBB carry-in; INC/DEC: the CF they keep */
#define LF_KIND(op) ((op) & 0xff)
#define LF_OSZ(op) (((op) >> 8) & 3)

static inline uint64_t osz_mask(unsigned osz)
{
	return osz == 3 ? ~0ull : (1ull << (8u << osz)) - 1;
}

static inline unsigned osz_bits(unsigned osz)
{
	return 8u << osz;
}

static inline uint64_t osz_sign(unsigned osz)
{
	return 1ull << ((8u << osz) - 1);
}

static inline void lf_set(struct cpu *c, uint32_t op, uint64_t dst, uint64_t src, uint64_t res)
{
	c->lf.op = op;
	c->lf.dst = dst;
	c->lf.src = src;
	c->lf.res = res;
}

/* Fold the lazy state into c->rflags and set lf.op = LF_NONE. */
void lf_materialize(struct cpu *c);

bool lf_cf_slow(const struct cpu *c);
bool lf_of(const struct cpu *c);

static inline bool lf_cf(const struct cpu *c)
{
	const struct lazy_flags *l = &c->lf;
	switch (LF_KIND(l->op)) {
	case LF_NONE: return c->rflags & FL_CF;
	case LF_LOGIC: return false;
	case LF_SUB: return l->dst < l->src;
	case LF_ADD: return l->res < l->dst;
	case LF_INC: case LF_DEC: return (l->op & LF_CARRY_IN) != 0;
	default: return lf_cf_slow(c);
	}
}

static inline bool lf_zf(const struct cpu *c)
{
	if (c->lf.op == LF_NONE)
		return c->rflags & FL_ZF;
	return c->lf.res == 0;
}

static inline bool lf_sf(const struct cpu *c)
{
	if (c->lf.op == LF_NONE)
		return c->rflags & FL_SF;
	return (c->lf.res & osz_sign(LF_OSZ(c->lf.op))) != 0;
}

static inline bool lf_pf(const struct cpu *c)
{
	if (c->lf.op == LF_NONE)
		return c->rflags & FL_PF;
	return !__builtin_parity((uint8_t)c->lf.res);
}

/* Evaluate condition code cc (the low nibble of Jcc/SETcc/CMOVcc; SDM vol. 1
 * Appendix B, Table B-1). */
bool cpu_cond_slow(const struct cpu *c, unsigned cc);

static inline bool cpu_cond(const struct cpu *c, unsigned cc)
{
	if ((cc >> 1) == 2 && c->lf.op != LF_NONE)      /* E/Z, NE/NZ: the common case */
		return (c->lf.res == 0) ^ (cc & 1);
	return cpu_cond_slow(c, cc);
}

/* Set the arithmetic flags explicitly (multiply, rotates, BT, POPF...):
 * bits outside FL_ARITH in `flags` are ignored. */
static inline void lf_set_flags(struct cpu *c, uint64_t flags)
{
	c->rflags = (c->rflags & ~(uint64_t)FL_ARITH) | (flags & FL_ARITH);
	c->lf.op = LF_NONE;
}

/* ZF, SF and PF of a result, as bits, for handlers that set flags eagerly. */
static inline uint64_t flags_szp(uint64_t res, unsigned osz)
{
	uint64_t f = 0;
	res &= osz_mask(osz);
	if (res == 0)
		f |= FL_ZF;
	if (res & osz_sign(osz))
		f |= FL_SF;
	if (!__builtin_parity((uint8_t)res))
		f |= FL_PF;
	return f;
}

#endif
