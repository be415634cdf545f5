/* Instructions that 64-bit mode removed (#UD there; the decoder refuses
 * them through D_I64): the BCD adjustments DAA DAS AAA AAS AAM AAD, BOUND
 * and ARPL (SDM vol. 2, each instruction's page).
 *
 * Flags the SDM leaves undefined: SF, ZF and PF follow AL where the SDM
 * defines none of them (AAA, AAS), and the undefined OF, AF, CF are 0.
 */
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/seg.h"

static unsigned al(const struct cpu *c)
{
	return (uint8_t)c->gpr[R_AX];
}

static void set_al(struct cpu *c, unsigned v)
{
	reg_write(c, R_AX, SZ8, v);
}

/* ---- packed BCD ---- */

/* DAA: SDM vol. 2 DAA "Operation". */
enum exec_status op_daa(struct cpu *c, const struct insn *i)
{
	uint64_t fl = cpu_get_rflags(c);
	unsigned old_al = al(c), a = old_al;
	bool old_cf = fl & FL_CF, cf = false, af = false;
	if ((a & 0xf) > 9 || (fl & FL_AF)) {
		cf = old_cf || a + 6 > 0xff;
		a = (a + 6) & 0xff;
		af = true;
	}
	if (old_al > 0x99 || old_cf) {
		a = (a + 0x60) & 0xff;
		cf = true;
	} else {
		cf = false;
	}
	set_al(c, a);
	lf_set_flags(c, flags_szp(a, SZ8) | (cf ? FL_CF : 0) | (af ? FL_AF : 0));
	return EXEC_OK;
}

/* DAS: as DAA, but the second step has no "else CF := 0" (SDM vol. 2 DAS). */
enum exec_status op_das(struct cpu *c, const struct insn *i)
{
	uint64_t fl = cpu_get_rflags(c);
	unsigned old_al = al(c), a = old_al;
	bool old_cf = fl & FL_CF, cf = false, af = false;
	if ((a & 0xf) > 9 || (fl & FL_AF)) {
		cf = old_cf || a < 6;
		a = (a - 6) & 0xff;
		af = true;
	}
	if (old_al > 0x99 || old_cf) {
		a = (a - 0x60) & 0xff;
		cf = true;
	}
	set_al(c, a);
	lf_set_flags(c, flags_szp(a, SZ8) | (cf ? FL_CF : 0) | (af ? FL_AF : 0));
	return EXEC_OK;
}

/* ---- unpacked BCD ---- */

/* AAA: AX += 106H when the low digit overflowed; AAS: AX -= 6 then AH -= 1
 * (so AH drops twice when AL < 6, as the current SDM pseudo-code reads);
 * AL keeps its low nibble either way. AF = CF = adjusted. */
static enum exec_status ascii_adjust(struct cpu *c, bool sub)
{
	uint64_t fl = cpu_get_rflags(c);
	unsigned ax = (uint16_t)c->gpr[R_AX];
	bool adjust = (ax & 0xf) > 9 || (fl & FL_AF);
	if (adjust && !sub)
		ax += 0x106;
	else if (adjust)
		ax = (ax - 6 - 0x100) & 0xffff;
	ax &= 0xff0f;
	reg_write(c, R_AX, SZ16, ax);
	lf_set_flags(c, flags_szp(ax & 0xff, SZ8) | (adjust ? FL_AF | FL_CF : 0));
	return EXEC_OK;
}

enum exec_status op_aaa(struct cpu *c, const struct insn *i) { return ascii_adjust(c, false); }
enum exec_status op_aas(struct cpu *c, const struct insn *i) { return ascii_adjust(c, true); }

/* AAM imm8: AH = AL / imm8, AL = AL mod imm8; #DE when imm8 = 0. SF ZF PF
 * by AL. */
enum exec_status op_aam_Ib(struct cpu *c, const struct insn *i)
{
	unsigned base = (uint8_t)i->imm, a = al(c);
	if (base == 0)
		return cpu_fault(c, VEC_DE, false, 0);
	reg_write(c, R_AX, SZ16, (a / base) << 8 | (a % base));
	lf_set_flags(c, flags_szp(a % base, SZ8));
	return EXEC_OK;
}

/* AAD imm8: AL = (AL + AH * imm8) & FFH, AH = 0. SF ZF PF by AL. */
enum exec_status op_aad_Ib(struct cpu *c, const struct insn *i)
{
	unsigned a = (al(c) + ((c->gpr[R_AX] >> 8) & 0xff) * (uint8_t)i->imm) & 0xff;
	reg_write(c, R_AX, SZ16, a);
	lf_set_flags(c, flags_szp(a, SZ8));
	return EXEC_OK;
}

/* ---- BOUND ---- */

/* BOUND r16/32, m16&16 / m32&32: #BR (a fault: the saved RIP is BOUND's)
 * when the signed index is below the first or above the second bound. */
enum exec_status op_bound_Gv_Ma(struct cpu *c, const struct insn *i)
{
	unsigned osz = i->osz, w = 1u << osz;
	uint64_t ea = insn_ea(c, i), lo, hi;
	if (!mem_read_seg(c, i->seg, ea, w, &lo) || !mem_read_seg(c, i->seg, (ea + w) & addr_mask(i->asz), w, &hi))
		return EXEC_FAULT;
	int64_t idx = osz == SZ16 ? (int16_t)reg_read(c, i->reg, osz) : (int32_t)reg_read(c, i->reg, osz);
	int64_t l = osz == SZ16 ? (int16_t)lo : (int32_t)lo, u = osz == SZ16 ? (int16_t)hi : (int32_t)hi;
	if (idx < l || idx > u)
		return cpu_fault(c, VEC_BR, false, 0);
	return EXEC_OK;
}

/* ---- ARPL ---- */

/* ARPL r/m16, r16: raise the destination selector's RPL to the source's,
 * ZF = 1 if it changed. Not recognized in real-address or virtual-8086
 * mode (#UD). A memory destination must be writable even when unchanged. */
enum exec_status op_arpl_Ew_Gw(struct cpu *c, const struct insn *i)
{
	uint64_t d, ea = 0;
	if (!cpu_prot(c))
		return cpu_ud(c);
	if (i->flags & IF_MOD3) {
		d = reg_read(c, i->rm, SZ16);
	} else {
		ea = insn_ea(c, i);
		if (!mem_read_seg(c, i->seg, ea, 2, &d) || !mem_probe_write(c, i->seg, ea, 2))
			return EXEC_FAULT;
	}
	unsigned src_rpl = reg_read(c, i->reg, SZ16) & 3;
	bool adjust = (d & 3) < src_rpl;
	if (adjust) {
		d = (d & ~3ull) | src_rpl;
		if (i->flags & IF_MOD3)
			reg_write(c, i->rm, SZ16, d);
		else
			mem_write_seg(c, i->seg, ea, 2, d);
	}
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)FL_ZF;
	lf_set_flags(c, fl | (adjust ? FL_ZF : 0));
	return EXEC_OK;
}
