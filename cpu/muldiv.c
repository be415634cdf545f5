/* MUL, IMUL (one-, two- and three-operand forms), DIV, IDIV (SDM vol. 2).
 * MUL/IMUL set CF = OF = "the upper half is significant"; SF/ZF/AF/PF are
 * undefined: vtxsim sets SF/ZF/PF from the low half and clears AF. #DE on
 * a zero divisor or a quotient that does not fit. */
#include "cpu/handlers.h"
#include "cpu/operand.h"

static void mul_flags(struct cpu *c, uint64_t lo, unsigned osz, bool upper)
{
	lf_set_flags(c, flags_szp(lo, osz) | (upper ? (FL_CF | FL_OF) : 0));
}

static int64_t sext(uint64_t v, unsigned osz)
{
	unsigned sh = 64 - osz_bits(osz);
	return (int64_t)(v << sh) >> sh;
}

/* Store a double-width result into AX or (r/e)DX:(r/e)AX. */
static void store_pair(struct cpu *c, unsigned osz, uint64_t lo, uint64_t hi)
{
	if (osz == SZ8) {
		reg_write(c, R_AX, SZ16, (lo & 0xff) | ((hi & 0xff) << 8));
		return;
	}
	reg_write(c, R_AX, osz, lo);
	reg_write(c, R_DX, osz, hi);
}

static enum exec_status do_mul(struct cpu *c, const struct insn *i, bool is_signed)
{
	uint64_t s, lo, hi;
	unsigned osz = i->osz;
	if (!rm_read(c, i, &s))
		return EXEC_FAULT;
	uint64_t a = reg_read(c, R_AX, osz);
	if (is_signed) {
		__int128 p = (__int128)sext(a, osz) * sext(s, osz);
		lo = (uint64_t)p & osz_mask(osz);
		hi = (uint64_t)(p >> osz_bits(osz)) & osz_mask(osz);
		mul_flags(c, lo, osz, p != (__int128)sext(lo, osz));
	} else {
		unsigned __int128 p = (unsigned __int128)a * s;
		lo = (uint64_t)p & osz_mask(osz);
		hi = (uint64_t)(p >> osz_bits(osz)) & osz_mask(osz);
		mul_flags(c, lo, osz, hi != 0);
	}
	store_pair(c, osz, lo, hi);
	return EXEC_OK;
}

enum exec_status op_mul_Eb(struct cpu *c, const struct insn *i) { return do_mul(c, i, false); }
enum exec_status op_mul_Ev(struct cpu *c, const struct insn *i) { return do_mul(c, i, false); }
enum exec_status op_imul_Eb(struct cpu *c, const struct insn *i) { return do_mul(c, i, true); }
enum exec_status op_imul_Ev(struct cpu *c, const struct insn *i) { return do_mul(c, i, true); }

static void imul_to_reg(struct cpu *c, const struct insn *i, uint64_t a, uint64_t b)
{
	unsigned osz = i->osz;
	__int128 p = (__int128)sext(a, osz) * sext(b, osz);
	uint64_t lo = (uint64_t)p & osz_mask(osz);
	mul_flags(c, lo, osz, p != (__int128)sext(lo, osz));
	reg_write(c, i->reg, osz, lo);
}

enum exec_status op_imul_Gv_Ev(struct cpu *c, const struct insn *i)
{
	uint64_t s;
	if (!rm_read(c, i, &s))
		return EXEC_FAULT;
	imul_to_reg(c, i, reg_read(c, i->reg, i->osz), s);
	return EXEC_OK;
}

enum exec_status op_imul_Gv_Ev_Iz(struct cpu *c, const struct insn *i)
{
	uint64_t s;
	if (!rm_read(c, i, &s))
		return EXEC_FAULT;
	imul_to_reg(c, i, s, i->imm & osz_mask(i->osz));
	return EXEC_OK;
}

static enum exec_status divide_error(struct cpu *c)
{
	return cpu_fault(c, VEC_DE, false, 0);
}

static enum exec_status do_div(struct cpu *c, const struct insn *i)
{
	uint64_t d;
	unsigned osz = i->osz;
	if (!rm_read(c, i, &d))
		return EXEC_FAULT;
	if (d == 0)
		return divide_error(c);
	unsigned __int128 n;
	if (osz == SZ8)
		n = reg_read(c, R_AX, SZ16);
	else
		n = ((unsigned __int128)reg_read(c, R_DX, osz) << osz_bits(osz)) | reg_read(c, R_AX, osz);
	unsigned __int128 q = n / d, r = n % d;
	if (q > osz_mask(osz))
		return divide_error(c);
	store_pair(c, osz, (uint64_t)q, (uint64_t)r);
	return EXEC_OK;
}

static enum exec_status do_idiv(struct cpu *c, const struct insn *i)
{
	uint64_t dv;
	unsigned osz = i->osz, bits = osz_bits(osz);
	if (!rm_read(c, i, &dv))
		return EXEC_FAULT;
	__int128 d = sext(dv, osz);
	if (d == 0)
		return divide_error(c);
	__int128 n;
	if (osz == SZ8)
		n = (int16_t)reg_read(c, R_AX, SZ16);
	else
		/* shift left as unsigned, then arithmetic right: sign-extend the pair */
		n = (__int128)((((unsigned __int128)reg_read(c, R_DX, osz) << bits) | reg_read(c, R_AX, osz))
			       << (128 - 2 * bits)) >> (128 - 2 * bits);
	__int128 lim = (__int128)1 << (bits - 1);
	if (d == -1) {      /* q = -n: check the range first, -n may not exist */
		if (n <= -lim || n > lim)
			return divide_error(c);
		store_pair(c, osz, (uint64_t)(-n) & osz_mask(osz), 0);
		return EXEC_OK;
	}
	__int128 q = n / d, r = n % d;
	if (q >= lim || q < -lim)
		return divide_error(c);
	store_pair(c, osz, (uint64_t)q & osz_mask(osz), (uint64_t)r & osz_mask(osz));
	return EXEC_OK;
}

enum exec_status op_div_Eb(struct cpu *c, const struct insn *i) { return do_div(c, i); }
enum exec_status op_div_Ev(struct cpu *c, const struct insn *i) { return do_div(c, i); }
enum exec_status op_idiv_Eb(struct cpu *c, const struct insn *i) { return do_idiv(c, i); }
enum exec_status op_idiv_Ev(struct cpu *c, const struct insn *i) { return do_idiv(c, i); }
