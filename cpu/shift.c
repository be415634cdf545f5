/* Group 2 shifts and rotates (ROL ROR RCL RCR SHL SHR SAL SAR), SHLD, SHRD
 * (SDM vol. 2 "RCL/RCR/ROL/ROR", "SAL/SAR/SHL/SHR", "SHLD", "SHRD").
 * The count is masked to 5 bits (6 with a 64-bit operand); a masked count
 * of 0 changes no flags. Undefined flags: OF for counts > 1 follows the
 * 1-bit formula, AF is cleared. */
#include "cpu/handlers.h"
#include "cpu/operand.h"

static uint64_t rotate(struct cpu *c, unsigned op, uint64_t d, unsigned n, unsigned osz)
{
	unsigned bits = osz_bits(osz);
	uint64_t m = osz_mask(osz), r = d;
	bool cf = lf_cf(c), of;
	switch (op) {
	case 0:     /* ROL */
		n %= bits;
		r = n ? ((d << n) | (d >> (bits - n))) & m : d;
		cf = r & 1;
		of = ((r >> (bits - 1)) & 1) ^ cf;
		break;
	case 1:     /* ROR */
		n %= bits;
		r = n ? ((d >> n) | (d << (bits - n))) & m : d;
		cf = (r >> (bits - 1)) & 1;
		of = cf ^ ((r >> (bits - 2)) & 1);
		break;
	case 2:     /* RCL: rotate through CF, a (bits+1)-wide rotation */
		n %= bits + 1;
		for (unsigned k = 0; k < n; k++) {
			bool out = (r >> (bits - 1)) & 1;
			r = ((r << 1) | cf) & m;
			cf = out;
		}
		of = ((r >> (bits - 1)) & 1) ^ cf;
		break;
	default:    /* RCR */
		n %= bits + 1;
		of = ((r >> (bits - 1)) & 1) ^ cf;
		for (unsigned k = 0; k < n; k++) {
			bool out = r & 1;
			r = (r >> 1) | ((uint64_t)cf << (bits - 1));
			cf = out;
		}
		break;
	}
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)(FL_CF | FL_OF);
	lf_set_flags(c, fl | (cf ? FL_CF : 0) | (of ? FL_OF : 0));
	return r;
}

static inline __attribute__((always_inline)) uint64_t shift(struct cpu *c, unsigned op, uint64_t d, unsigned n, unsigned osz)
{
	uint64_t m = osz_mask(osz), r;
	if (op < 4)
		return rotate(c, op, d, n, osz);
	switch (op) {
	case 5:  /* SHR */
		r = n >= 64 ? 0 : d >> n;
		lf_set(c, LF_OP(LF_SHR, osz), d, n, r & m);
		break;
	case 7: { /* SAR */
		unsigned sh = 64 - osz_bits(osz);
		int64_t s = (int64_t)(d << sh) >> sh;
		r = (uint64_t)(s >> (n > 63 ? 63 : n)) & m;
		lf_set(c, LF_OP(LF_SAR, osz), d, n, r);
		break;
	}
	default: /* 4 SHL, 6 SAL */
		r = n >= 64 ? 0 : (d << n) & m;
		lf_set(c, LF_OP(LF_SHL, osz), d, n, r);
		break;
	}
	return r;
}

/* A masked count of 0 changes no flags, but a 32-bit register destination
 * is still written, which clears bits 63:32 (as on hardware). */
static enum exec_status count_zero(struct cpu *c, const struct insn *i, uint64_t d)
{
	if ((i->flags & IF_MOD3) && i->osz == SZ32)
		reg_write(c, i->rm, SZ32, d);
	return EXEC_OK;
}

static inline __attribute__((always_inline)) enum exec_status shift_E(struct cpu *c, const struct insn *i, unsigned count)
{
	uint64_t d, ea = 0;
	unsigned n = count & (i->osz == SZ64 ? 63 : 31);
	if (i->flags & IF_MOD3) {
		d = reg_read(c, i->rm, i->osz);
	} else {
		ea = insn_ea(c, i);
		if (!mem_read_rmw(c, i->seg, ea, 1u << i->osz, &d))
			return EXEC_FAULT;
	}
	if (n == 0)
		return count_zero(c, i, d);
	uint64_t r = shift(c, i->opx, d, n, i->osz);
	if (i->flags & IF_MOD3) {
		reg_write(c, i->rm, i->osz, r);
		return EXEC_OK;
	}
	return mem_write_seg(c, i->seg, ea, 1u << i->osz, r) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_shift_Eb_Ib(struct cpu *c, const struct insn *i) { return shift_E(c, i, (unsigned)i->imm); }
enum exec_status op_shift_Ev_Ib(struct cpu *c, const struct insn *i) { return shift_E(c, i, (unsigned)i->imm); }
enum exec_status op_shift_Eb_1(struct cpu *c, const struct insn *i) { return shift_E(c, i, 1); }
enum exec_status op_shift_Ev_1(struct cpu *c, const struct insn *i) { return shift_E(c, i, 1); }
enum exec_status op_shift_Eb_CL(struct cpu *c, const struct insn *i) { return shift_E(c, i, (uint8_t)c->gpr[R_CX]); }
enum exec_status op_shift_Ev_CL(struct cpu *c, const struct insn *i) { return shift_E(c, i, (uint8_t)c->gpr[R_CX]); }

/* Fixed-size register forms (cpu/specialize.def). */
#define SHIFT_SPEC(form, count, sz, bits)                                                        \
	enum exec_status op_shift_Ev_##form##_r##bits(struct cpu *c, const struct insn *i)      \
	{                                                                                        \
		unsigned n = (unsigned)(count) & (sz == SZ64 ? 63 : 31);                         \
		uint64_t d = reg_read(c, i->rm, sz);                                             \
		reg_write(c, i->rm, sz, n ? shift(c, i->opx, d, n, sz) : d);                     \
		return EXEC_OK;                                                                  \
	}
SHIFT_SPEC(1, 1, SZ64, 64)
SHIFT_SPEC(1, 1, SZ32, 32)
SHIFT_SPEC(Ib, i->imm, SZ64, 64)
SHIFT_SPEC(Ib, i->imm, SZ32, 32)
SHIFT_SPEC(CL, c->gpr[R_CX], SZ64, 64)
SHIFT_SPEC(CL, c->gpr[R_CX], SZ32, 32)

/* SHLD/SHRD: shift E, filling from G. A count larger than a 16-bit operand
 * gives an undefined result; vtxsim shifts through the 32-bit pattern G:E. */
static enum exec_status double_shift(struct cpu *c, const struct insn *i, unsigned count, bool left)
{
	unsigned osz = i->osz, bits = osz_bits(osz);
	unsigned n = count & (osz == SZ64 ? 63 : 31);
	uint64_t d, ea = 0, s = reg_read(c, i->reg, osz), m = osz_mask(osz), r;
	if (i->flags & IF_MOD3) {
		d = reg_read(c, i->rm, osz);
	} else {
		ea = insn_ea(c, i);
		if (!mem_read_rmw(c, i->seg, ea, 1u << osz, &d))
			return EXEC_FAULT;
	}
	if (n == 0)
		return count_zero(c, i, d);
	unsigned __int128 wide;
	bool cf;
	if (left) {
		wide = ((unsigned __int128)d << bits) | s;
		r = (uint64_t)((wide << n) >> bits) & m;
		cf = (uint64_t)(wide >> (2 * bits - n)) & 1;
	} else {
		wide = ((unsigned __int128)s << bits) | d;
		r = (uint64_t)(wide >> n) & m;
		cf = (uint64_t)(wide >> (n - 1)) & 1;
	}
	bool of = ((r ^ d) >> (bits - 1)) & 1;  /* sign change, defined for 1-bit shifts */
	lf_set_flags(c, flags_szp(r, osz) | (cf ? FL_CF : 0) | (of ? FL_OF : 0));
	if (i->flags & IF_MOD3) {
		reg_write(c, i->rm, osz, r);
		return EXEC_OK;
	}
	return mem_write_seg(c, i->seg, ea, 1u << osz, r) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_shld_Ev_Gv_Ib(struct cpu *c, const struct insn *i) { return double_shift(c, i, (unsigned)i->imm, true); }
enum exec_status op_shld_Ev_Gv_CL(struct cpu *c, const struct insn *i) { return double_shift(c, i, (uint8_t)c->gpr[R_CX], true); }
enum exec_status op_shrd_Ev_Gv_Ib(struct cpu *c, const struct insn *i) { return double_shift(c, i, (unsigned)i->imm, false); }
enum exec_status op_shrd_Ev_Gv_CL(struct cpu *c, const struct insn *i) { return double_shift(c, i, (uint8_t)c->gpr[R_CX], false); }
