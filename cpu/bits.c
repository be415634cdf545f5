/* Bit instructions: BT BTS BTR BTC, BSF BSR, POPCNT LZCNT TZCNT, BSWAP,
 * MOVBE, CRC32, and the exchanges XADD CMPXCHG CMPXCHG8B/16B (SDM vol. 2). */
#include "cpu/cpuid.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"

enum bt_op { BT_TEST, BT_SET, BT_RESET, BT_COMPLEMENT };

/* CF = the selected bit; other arithmetic flags are undefined and kept. */
static void bt_flags(struct cpu *c, bool bit)
{
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)FL_CF;
	lf_set_flags(c, fl | (bit ? FL_CF : 0));
}

static uint64_t bt_apply(enum bt_op op, uint64_t v, unsigned n)
{
	switch (op) {
	case BT_SET: return v | (1ull << n);
	case BT_RESET: return v & ~(1ull << n);
	case BT_COMPLEMENT: return v ^ (1ull << n);
	default: return v;
	}
}

/* With a register bit offset and a memory operand the offset is a signed
 * bit string index reaching outside the operand (SDM vol. 2 BT, "bit base"). */
static enum exec_status bt_common(struct cpu *c, const struct insn *i, int64_t off, bool from_reg, enum bt_op op)
{
	unsigned osz = i->osz, bits = osz_bits(osz);
	uint64_t v;
	if (i->flags & IF_MOD3) {
		unsigned n = (unsigned)off & (bits - 1);
		v = reg_read(c, i->rm, osz);
		bt_flags(c, (v >> n) & 1);
		if (op != BT_TEST)
			reg_write(c, i->rm, osz, bt_apply(op, v, n));
		return EXEC_OK;
	}
	uint64_t ea = insn_ea(c, i);
	unsigned n = (unsigned)off & (bits - 1);
	if (from_reg) {
		int64_t s = off;
		if (osz != SZ64) {
			unsigned sh = 64 - bits;
			s = (int64_t)((uint64_t)off << sh) >> sh;
		}
		ea = (ea + (uint64_t)((s >> (3 + osz)) * (int64_t)(1u << osz))) & addr_mask(i->asz);
	}
	if (!(op == BT_TEST ? mem_read_seg : mem_read_rmw)(c, i->seg, ea, 1u << osz, &v))
		return EXEC_FAULT;
	if (op != BT_TEST && !mem_write_seg(c, i->seg, ea, 1u << osz, bt_apply(op, v, n)))
		return EXEC_FAULT;
	bt_flags(c, (v >> n) & 1);
	return EXEC_OK;
}

enum exec_status op_bt_Ev_Gv(struct cpu *c, const struct insn *i) { return bt_common(c, i, (int64_t)reg_read(c, i->reg, i->osz), true, BT_TEST); }
enum exec_status op_bts_Ev_Gv(struct cpu *c, const struct insn *i) { return bt_common(c, i, (int64_t)reg_read(c, i->reg, i->osz), true, BT_SET); }
enum exec_status op_btr_Ev_Gv(struct cpu *c, const struct insn *i) { return bt_common(c, i, (int64_t)reg_read(c, i->reg, i->osz), true, BT_RESET); }
enum exec_status op_btc_Ev_Gv(struct cpu *c, const struct insn *i) { return bt_common(c, i, (int64_t)reg_read(c, i->reg, i->osz), true, BT_COMPLEMENT); }
enum exec_status op_bt_Ev_Ib(struct cpu *c, const struct insn *i) { return bt_common(c, i, (uint8_t)i->imm, false, BT_TEST); }
enum exec_status op_bts_Ev_Ib(struct cpu *c, const struct insn *i) { return bt_common(c, i, (uint8_t)i->imm, false, BT_SET); }
enum exec_status op_btr_Ev_Ib(struct cpu *c, const struct insn *i) { return bt_common(c, i, (uint8_t)i->imm, false, BT_RESET); }
enum exec_status op_btc_Ev_Ib(struct cpu *c, const struct insn *i) { return bt_common(c, i, (uint8_t)i->imm, false, BT_COMPLEMENT); }

/* BSF/BSR: ZF=1 and the destination unchanged when the source is 0 (the
 * SDM leaves it undefined; Intel processors keep it). */
static enum exec_status bit_scan(struct cpu *c, const struct insn *i, bool reverse)
{
	uint64_t s;
	if (!rm_read(c, i, &s))
		return EXEC_FAULT;
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)FL_ARITH;
	if (s == 0) {
		lf_set_flags(c, fl | FL_ZF);
		return EXEC_OK;
	}
	unsigned n = reverse ? 63 - (unsigned)__builtin_clzll(s) : (unsigned)__builtin_ctzll(s);
	reg_write(c, i->reg, i->osz, n);
	lf_set_flags(c, fl | (flags_szp(n, i->osz) & ~(uint64_t)FL_ZF));
	return EXEC_OK;
}

enum exec_status op_bsf_Gv_Ev(struct cpu *c, const struct insn *i) { return bit_scan(c, i, false); }
enum exec_status op_bsr_Gv_Ev(struct cpu *c, const struct insn *i) { return bit_scan(c, i, true); }

enum exec_status op_popcnt_Gv_Ev(struct cpu *c, const struct insn *i)
{
	uint64_t s;
	if (!rm_read(c, i, &s))
		return EXEC_FAULT;
	unsigned n = (unsigned)__builtin_popcountll(s);
	reg_write(c, i->reg, i->osz, n);
	lf_set_flags(c, s == 0 ? FL_ZF : 0);    /* OF SF AF CF PF cleared */
	return EXEC_OK;
}

/* LZCNT/TZCNT: CF = source is zero, ZF = result is zero (SDM vol. 2). */
static enum exec_status count_zeros(struct cpu *c, const struct insn *i, bool leading)
{
	uint64_t s;
	unsigned bits = osz_bits(i->osz);
	if (!rm_read(c, i, &s))
		return EXEC_FAULT;
	unsigned n = s == 0 ? bits
		   : leading ? (unsigned)__builtin_clzll(s) - (64 - bits) : (unsigned)__builtin_ctzll(s);
	reg_write(c, i->reg, i->osz, n);
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)(FL_CF | FL_ZF);
	lf_set_flags(c, fl | (s == 0 ? FL_CF : 0) | (n == 0 ? FL_ZF : 0));
	return EXEC_OK;
}

/* Without the feature the F3 prefix is ignored and the opcode is BSR / BSF
 * (SDM vol. 2 LZCNT: "on processors that do not support LZCNT, the
 * instruction byte encoding is executed as BSR"; TZCNT likewise as BSF). */
enum exec_status op_lzcnt_Gv_Ev(struct cpu *c, const struct insn *i)
{
	return cpu_has(c, FEAT_ABM) ? count_zeros(c, i, true) : bit_scan(c, i, true);
}

enum exec_status op_tzcnt_Gv_Ev(struct cpu *c, const struct insn *i)
{
	return cpu_has(c, FEAT_BMI1) ? count_zeros(c, i, false) : bit_scan(c, i, false);
}

/* BSWAP with a 16-bit operand is undefined; vtxsim clears the low word as
 * Intel processors do. */
enum exec_status op_bswap_Zv(struct cpu *c, const struct insn *i)
{
	if (i->osz == SZ64)
		c->gpr[i->reg] = __builtin_bswap64(c->gpr[i->reg]);
	else if (i->osz == SZ32)
		c->gpr[i->reg] = __builtin_bswap32((uint32_t)c->gpr[i->reg]);
	else
		reg_write(c, i->reg, SZ16, 0);
	return EXEC_OK;
}

static uint64_t byte_swap(uint64_t v, unsigned osz)
{
	switch (osz) {
	case SZ16: return __builtin_bswap16((uint16_t)v);
	case SZ32: return __builtin_bswap32((uint32_t)v);
	default: return __builtin_bswap64(v);
	}
}

/* MOVBE: a load or store with the bytes reversed; memory operand only (SDM
 * vol. 2 MOVBE). A 16-bit load keeps the rest of the register. */
enum exec_status op_movbe_Gv_Mv(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!cpu_has(c, FEAT_MOVBE))
		return cpu_ud(c);
	if (!rm_read(c, i, &v))
		return EXEC_FAULT;
	reg_write(c, i->reg, i->osz, byte_swap(v, i->osz));
	return EXEC_OK;
}

enum exec_status op_movbe_Mv_Gv(struct cpu *c, const struct insn *i)
{
	if (!cpu_has(c, FEAT_MOVBE))
		return cpu_ud(c);
	return rm_write(c, i, byte_swap(reg_read(c, i->reg, i->osz), i->osz)) ? EXEC_OK : EXEC_FAULT;
}

/* CRC32 accumulates the source, least significant byte first, into the
 * 32-bit CRC in the destination with the iSCSI polynomial 11EDC6F41H,
 * bit-reflected, without pre- or post-inversion (SDM vol. 2 CRC32). The
 * result is zero-extended into a 64-bit destination. No flags change. */
static enum exec_status crc32(struct cpu *c, const struct insn *i, unsigned src_osz)
{
	uint64_t s;
	if (!cpu_has(c, FEAT_SSE4_2))
		return cpu_ud(c);
	if (!rm_read_sz(c, i, src_osz, &s))
		return EXEC_FAULT;
	uint32_t crc = (uint32_t)c->gpr[i->reg];
	for (unsigned k = 0; k < osz_bits(src_osz); k++) {
		crc ^= (uint32_t)(s >> k) & 1;
		crc = (crc >> 1) ^ ((crc & 1) ? 0x82f63b78u : 0);
	}
	reg_write(c, i->reg, SZ32, crc);
	return EXEC_OK;
}

enum exec_status op_crc32_Gy_Eb(struct cpu *c, const struct insn *i) { return crc32(c, i, SZ8); }
enum exec_status op_crc32_Gy_Ev(struct cpu *c, const struct insn *i) { return crc32(c, i, i->osz); }

/* Read the r/m destination of a read-modify-write instruction, checking that
 * the later write cannot fault (so a fault changes nothing). */
static bool rmw_read(struct cpu *c, const struct insn *i, uint64_t *d, uint64_t *ea)
{
	if (i->flags & IF_MOD3) {
		*d = reg_read(c, i->rm, i->osz);
		return true;
	}
	*ea = insn_ea(c, i);
	return mem_read_rmw(c, i->seg, *ea, 1u << i->osz, d);
}

static enum exec_status xadd(struct cpu *c, const struct insn *i)
{
	unsigned osz = i->osz;
	uint64_t d, s = reg_read(c, i->reg, osz), ea = 0;
	if (!rmw_read(c, i, &d, &ea))
		return EXEC_FAULT;
	uint64_t r = (d + s) & osz_mask(osz);
	lf_set(c, LF_OP(LF_ADD, osz), d, s, r);
	reg_write(c, i->reg, osz, d);
	if (i->flags & IF_MOD3)
		reg_write(c, i->rm, osz, r);
	else
		mem_write_seg(c, i->seg, ea, 1u << osz, r);
	return EXEC_OK;
}

enum exec_status op_xadd_Eb_Gb(struct cpu *c, const struct insn *i) { return xadd(c, i); }
enum exec_status op_xadd_Ev_Gv(struct cpu *c, const struct insn *i) { return xadd(c, i); }

/* CMPXCHG: the destination is always written (with its old value when the
 * comparison fails) for memory operands (SDM vol. 2 CMPXCHG). */
static enum exec_status cmpxchg(struct cpu *c, const struct insn *i)
{
	unsigned osz = i->osz;
	uint64_t d, a = reg_read(c, R_AX, osz), ea = 0;
	if (!rmw_read(c, i, &d, &ea))
		return EXEC_FAULT;
	lf_set(c, LF_OP(LF_SUB, osz), a, d, (a - d) & osz_mask(osz));
	uint64_t nv = a == d ? reg_read(c, i->reg, osz) : d;
	if (a != d)
		reg_write(c, R_AX, osz, d);
	if (i->flags & IF_MOD3) {
		if (a == d)
			reg_write(c, i->rm, osz, nv);
	} else {
		mem_write_seg(c, i->seg, ea, 1u << osz, nv);
	}
	return EXEC_OK;
}

enum exec_status op_cmpxchg_Eb_Gb(struct cpu *c, const struct insn *i) { return cmpxchg(c, i); }
enum exec_status op_cmpxchg_Ev_Gv(struct cpu *c, const struct insn *i) { return cmpxchg(c, i); }

/* CMPXCHG8B m64; with REX.W CMPXCHG16B m128, which needs CPUID.CX16 (#UD
 * without it) and a 16-byte aligned operand (#GP(0) otherwise) (SDM vol. 2
 * CMPXCHG8B/CMPXCHG16B). */
enum exec_status op_cmpxchg8b_Mq(struct cpu *c, const struct insn *i)
{
	uint64_t ea = insn_ea(c, i), lo, hi = 0;
	bool wide = i->osz == SZ64;
	if (!cpu_has(c, wide ? FEAT_CX16 : FEAT_CX8))
		return cpu_ud(c);
	if (wide && ((ea + (i->seg >= SEG_FS ? c->seg[i->seg].base : 0)) & 15))
		return cpu_gp0(c);
	if (!mem_probe_write(c, i->seg, ea, wide ? 16 : 8) ||
	    !mem_read_seg(c, i->seg, ea, wide ? 8 : 4, &lo) ||
	    !mem_read_seg(c, i->seg, ea + (wide ? 8 : 4), wide ? 8 : 4, &hi))
		return EXEC_FAULT;
	unsigned sz = wide ? SZ64 : SZ32;
	bool eq = lo == reg_read(c, R_AX, sz) && hi == reg_read(c, R_DX, sz);
	uint64_t nlo = eq ? reg_read(c, R_BX, sz) : lo, nhi = eq ? reg_read(c, R_CX, sz) : hi;
	mem_write_seg(c, i->seg, ea, 1u << sz, nlo);
	mem_write_seg(c, i->seg, ea + (1u << sz), 1u << sz, nhi);
	if (!eq) {
		reg_write(c, R_AX, sz, lo);
		reg_write(c, R_DX, sz, hi);
	}
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)FL_ZF;
	lf_set_flags(c, fl | (eq ? FL_ZF : 0));
	return EXEC_OK;
}
