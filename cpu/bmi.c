/* Bit-manipulation instructions on general-purpose registers: BMI1 (ANDN,
 * BEXTR, BLSI, BLSMSK, BLSR), BMI2 (BZHI, MULX, PDEP, PEXT, RORX, SARX,
 * SHLX, SHRX) and ADX (ADCX, ADOX). SDM vol. 2, each instruction's page.
 *
 * The BMI forms are VEX-encoded (VEX.LZ; the decoder rejects VEX.L = 1 and
 * a non-1111b vvvv where unused): #UD without the CPUID feature, and in real
 * or virtual-8086 mode. Operand size is 64 with VEX.W1 in 64-bit mode, else
 * 32. Flags the SDM leaves undefined are computed as for a logical
 * instruction on the result (PF from the result, AF = 0).
 */
#include "cpu/cpuid.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"

static bool bmi_ok(struct cpu *c, unsigned feat)
{
	if (cpu_has(c, feat) && vex_mode_ok(c))
		return true;
	cpu_ud(c);
	return false;
}

/* Set CF/OF/ZF/SF/PF (AF = 0) explicitly, keeping the other RFLAGS bits. */
static void bmi_flags(struct cpu *c, uint64_t res, unsigned osz, bool cf, bool zf_from_res, bool sf_from_res)
{
	uint64_t f = flags_szp(res, osz);
	if (!zf_from_res)
		f &= ~(uint64_t)FL_ZF;
	if (!sf_from_res)
		f &= ~(uint64_t)FL_SF;
	lf_set_flags(c, f | (cf ? FL_CF : 0));
}

/* ---- BMI1 ---- */

/* ANDN: DEST = ~SRC1 & SRC2 (vvvv, r/m). SF ZF by result, OF CF = 0. */
enum exec_status op_andn_Gy_By_Ey(struct cpu *c, const struct insn *i)
{
	uint64_t s2;
	if (!bmi_ok(c, FEAT_BMI1) || !rm_read(c, i, &s2))
		return EXEC_FAULT;
	uint64_t r = ~reg_read(c, i->vreg, i->osz) & s2 & osz_mask(i->osz);
	reg_write(c, i->reg, i->osz, r);
	lf_set(c, LF_OP(LF_LOGIC, i->osz), 0, 0, r);
	return EXEC_OK;
}

/* BEXTR: START = vvvv[7:0], LEN = vvvv[15:8]; the field of r/m from START,
 * LEN bits long, clipped at the operand size (bits past it read as 0). ZF
 * by result, CF OF = 0. */
enum exec_status op_bextr_Gy_Ey_By(struct cpu *c, const struct insn *i)
{
	uint64_t s;
	if (!bmi_ok(c, FEAT_BMI1) || !rm_read(c, i, &s))
		return EXEC_FAULT;
	uint64_t ctl = reg_read(c, i->vreg, i->osz);
	unsigned start = ctl & 0xff, len = (ctl >> 8) & 0xff, bits = osz_bits(i->osz);
	uint64_t r = start >= bits ? 0 : s >> start;
	if (len < 64)
		r &= (1ull << len) - 1;
	reg_write(c, i->reg, i->osz, r);
	lf_set(c, LF_OP(LF_LOGIC, i->osz), 0, 0, r);
	return EXEC_OK;
}

enum bls_kind { BLSR = 1, BLSMSK = 2, BLSI = 3 };

/* Group 17 (VEX.0F38 F3 /1 /2 /3): DEST = vvvv, SRC = r/m.
 * BLSR   SRC & (SRC - 1)  ZF SF by result, CF = (SRC == 0), OF = 0
 * BLSMSK SRC ^ (SRC - 1)  SF by result, CF = (SRC == 0), ZF OF = 0
 * BLSI   SRC & -SRC       ZF SF by result, CF = (SRC != 0), OF = 0 */
static enum exec_status bls(struct cpu *c, const struct insn *i, enum bls_kind k)
{
	uint64_t s;
	if (!bmi_ok(c, FEAT_BMI1) || !rm_read(c, i, &s))
		return EXEC_FAULT;
	uint64_t m = osz_mask(i->osz);
	uint64_t r = (k == BLSR ? s & (s - 1) : k == BLSMSK ? s ^ (s - 1) : s & -s) & m;
	reg_write(c, i->vreg, i->osz, r);
	bmi_flags(c, r, i->osz, k == BLSI ? s != 0 : s == 0, k != BLSMSK, true);
	return EXEC_OK;
}

enum exec_status op_blsr_By_Ey(struct cpu *c, const struct insn *i) { return bls(c, i, BLSR); }
enum exec_status op_blsmsk_By_Ey(struct cpu *c, const struct insn *i) { return bls(c, i, BLSMSK); }
enum exec_status op_blsi_By_Ey(struct cpu *c, const struct insn *i) { return bls(c, i, BLSI); }

/* ---- BMI2 ---- */

/* BZHI: N = vvvv[7:0]; clear r/m bits N and up when N < size. CF = (N >
 * size - 1); ZF SF by result; OF = 0. */
enum exec_status op_bzhi_Gy_Ey_By(struct cpu *c, const struct insn *i)
{
	uint64_t s;
	if (!bmi_ok(c, FEAT_BMI2) || !rm_read(c, i, &s))
		return EXEC_FAULT;
	unsigned n = reg_read(c, i->vreg, i->osz) & 0xff, bits = osz_bits(i->osz);
	uint64_t r = n < bits ? s & ((1ull << n) - 1) : s;
	reg_write(c, i->reg, i->osz, r);
	bmi_flags(c, r, i->osz, n > bits - 1, true, true);
	return EXEC_OK;
}

/* MULX: unsigned EDX/RDX * r/m; low half to vvvv, then high half to the
 * ModRM.reg register (so it wins when both name the same one). No flags. */
enum exec_status op_mulx_By_Gy_rDX_Ey(struct cpu *c, const struct insn *i)
{
	uint64_t s;
	if (!bmi_ok(c, FEAT_BMI2) || !rm_read(c, i, &s))
		return EXEC_FAULT;
	uint64_t lo, hi;
	if (i->osz == SZ64) {
		unsigned __int128 p = (unsigned __int128)c->gpr[R_DX] * s;
		lo = (uint64_t)p;
		hi = (uint64_t)(p >> 64);
	} else {
		uint64_t p = (uint64_t)(uint32_t)c->gpr[R_DX] * (uint32_t)s;
		lo = (uint32_t)p;
		hi = p >> 32;
	}
	reg_write(c, i->vreg, i->osz, lo);
	reg_write(c, i->reg, i->osz, hi);
	return EXEC_OK;
}

/* PDEP: deposit the low bits of SRC (vvvv) at the set bits of MASK (r/m). */
enum exec_status op_pdep_Gy_By_Ey(struct cpu *c, const struct insn *i)
{
	uint64_t mask;
	if (!bmi_ok(c, FEAT_BMI2) || !rm_read(c, i, &mask))
		return EXEC_FAULT;
	uint64_t s = reg_read(c, i->vreg, i->osz), r = 0;
	for (uint64_t k = 1; mask; k <<= 1, mask &= mask - 1)
		if (s & k)
			r |= mask & -mask;
	reg_write(c, i->reg, i->osz, r);
	return EXEC_OK;
}

/* PEXT: gather the bits of SRC (vvvv) at the set bits of MASK (r/m) into
 * the low bits of DEST. */
enum exec_status op_pext_Gy_By_Ey(struct cpu *c, const struct insn *i)
{
	uint64_t mask;
	if (!bmi_ok(c, FEAT_BMI2) || !rm_read(c, i, &mask))
		return EXEC_FAULT;
	uint64_t s = reg_read(c, i->vreg, i->osz), r = 0;
	for (uint64_t k = 1; mask; k <<= 1, mask &= mask - 1)
		if (s & mask & -mask)
			r |= k;
	reg_write(c, i->reg, i->osz, r);
	return EXEC_OK;
}

/* RORX: rotate r/m right by imm8 mod size. No flags. */
enum exec_status op_rorx_Gy_Ey_Ib(struct cpu *c, const struct insn *i)
{
	uint64_t s;
	if (!bmi_ok(c, FEAT_BMI2) || !rm_read(c, i, &s))
		return EXEC_FAULT;
	unsigned bits = osz_bits(i->osz), n = (unsigned)i->imm & (bits - 1);
	uint64_t r = n ? (s >> n | s << (bits - n)) & osz_mask(i->osz) : s;
	reg_write(c, i->reg, i->osz, r);
	return EXEC_OK;
}

/* SHLX/SARX/SHRX: shift r/m by vvvv masked to 5 (6 with 64-bit operands)
 * bits. No flags. */
enum shx_kind { SHX_L, SHX_AR, SHX_R };

static enum exec_status shift_x(struct cpu *c, const struct insn *i, enum shx_kind k)
{
	uint64_t s;
	if (!bmi_ok(c, FEAT_BMI2) || !rm_read(c, i, &s))
		return EXEC_FAULT;
	unsigned bits = osz_bits(i->osz), n = (unsigned)reg_read(c, i->vreg, i->osz) & (bits - 1);
	uint64_t r;
	if (k == SHX_L)
		r = s << n;
	else if (k == SHX_R)
		r = s >> n;
	else    /* sign-extend to 64 bits, then shift */
		r = (uint64_t)((int64_t)(s << (64 - bits)) >> (64 - bits) >> n);
	reg_write(c, i->reg, i->osz, r & osz_mask(i->osz));
	return EXEC_OK;
}

enum exec_status op_shlx_Gy_Ey_By(struct cpu *c, const struct insn *i) { return shift_x(c, i, SHX_L); }
enum exec_status op_sarx_Gy_Ey_By(struct cpu *c, const struct insn *i) { return shift_x(c, i, SHX_AR); }
enum exec_status op_shrx_Gy_Ey_By(struct cpu *c, const struct insn *i) { return shift_x(c, i, SHX_R); }

/* ---- ADX ---- */

/* ADCX adds with CF and writes only CF; ADOX uses OF as the carry in and
 * out and writes only OF. The other flags are unmodified. */
static enum exec_status add_carry_x(struct cpu *c, const struct insn *i, uint64_t carry_flag)
{
	uint64_t s;
	if (!cpu_has(c, FEAT_ADX))
		return cpu_ud(c);
	if (!rm_read(c, i, &s))
		return EXEC_FAULT;
	unsigned osz = i->osz;
	uint64_t fl = cpu_get_rflags(c), d = reg_read(c, i->reg, osz), cin = (fl & carry_flag) != 0;
	uint64_t r = (d + s + cin) & osz_mask(osz);
	bool cout = osz == SZ64 ? (r < d || (cin && r == d)) : ((d + s + cin) >> osz_bits(osz)) != 0;
	reg_write(c, i->reg, osz, r);
	lf_set_flags(c, (fl & ~carry_flag) | (cout ? carry_flag : 0));
	return EXEC_OK;
}

enum exec_status op_adcx_Gy_Ey(struct cpu *c, const struct insn *i) { return add_carry_x(c, i, FL_CF); }
enum exec_status op_adox_Gy_Ey(struct cpu *c, const struct insn *i) { return add_carry_x(c, i, FL_OF); }
