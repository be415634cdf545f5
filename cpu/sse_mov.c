/* SSE/SSE2 data movement, shuffles, mask extraction, conversions between
 * XMM and general-purpose registers, COMISS/UCOMISS, non-temporal stores
 * and MXCSR load/store (SDM vol. 2 instruction pages named by each handler).
 */
#include "cpu/sse.h"

#include <string.h>

static bool avail(struct cpu *c, unsigned feat)
{
	return sse_avail(c, feat) == EXEC_OK;
}

/* ---- full-register loads and stores ---- */

/* MOVUPS/MOVUPD/MOVDQU (unaligned) and MOVAPS/MOVAPD/MOVDQA (aligned). */
static enum exec_status load128(struct cpu *c, const struct insn *i, unsigned feat, bool align)
{
	union xmm_reg v;
	if (!avail(c, feat) || !sse_read_rm(c, i, 16, align, &v))
		return EXEC_FAULT;
	c->fpu.xmm[i->reg] = v;
	return EXEC_OK;
}

static enum exec_status store128(struct cpu *c, const struct insn *i, unsigned feat, bool align)
{
	if (!avail(c, feat))
		return EXEC_FAULT;
	if (i->flags & IF_MOD3) {
		c->fpu.xmm[i->rm] = c->fpu.xmm[i->reg];
		return EXEC_OK;
	}
	return sse_write_m(c, i, 16, align, &c->fpu.xmm[i->reg]) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_movups_Vps_Wps(struct cpu *c, const struct insn *i) { return load128(c, i, FEAT_SSE, false); }
enum exec_status op_movupd_Vpd_Wpd(struct cpu *c, const struct insn *i) { return load128(c, i, FEAT_SSE2, false); }
enum exec_status op_movdqu_Vx_Wx(struct cpu *c, const struct insn *i) { return load128(c, i, FEAT_SSE2, false); }
enum exec_status op_movaps_Vps_Wps(struct cpu *c, const struct insn *i) { return load128(c, i, FEAT_SSE, true); }
enum exec_status op_movapd_Vpd_Wpd(struct cpu *c, const struct insn *i) { return load128(c, i, FEAT_SSE2, true); }
enum exec_status op_movdqa_Vx_Wx(struct cpu *c, const struct insn *i) { return load128(c, i, FEAT_SSE2, true); }
enum exec_status op_movups_Wps_Vps(struct cpu *c, const struct insn *i) { return store128(c, i, FEAT_SSE, false); }
enum exec_status op_movupd_Wpd_Vpd(struct cpu *c, const struct insn *i) { return store128(c, i, FEAT_SSE2, false); }
enum exec_status op_movdqu_Wx_Vx(struct cpu *c, const struct insn *i) { return store128(c, i, FEAT_SSE2, false); }
enum exec_status op_movaps_Wps_Vps(struct cpu *c, const struct insn *i) { return store128(c, i, FEAT_SSE, true); }
enum exec_status op_movapd_Wpd_Vpd(struct cpu *c, const struct insn *i) { return store128(c, i, FEAT_SSE2, true); }
enum exec_status op_movdqa_Wx_Vx(struct cpu *c, const struct insn *i) { return store128(c, i, FEAT_SSE2, true); }
/* MOVNTPS/MOVNTPD/MOVNTDQ: memory only (the decoder rejects mod = 3), aligned. */
enum exec_status op_movntps_Mps_Vps(struct cpu *c, const struct insn *i) { return store128(c, i, FEAT_SSE, true); }
enum exec_status op_movntpd_Mpd_Vpd(struct cpu *c, const struct insn *i) { return store128(c, i, FEAT_SSE2, true); }
enum exec_status op_movntdq_Mx_Vx(struct cpu *c, const struct insn *i) { return store128(c, i, FEAT_SSE2, true); }

/* ---- scalar and half-register moves ---- */

/* MOVSS/MOVSD load: from a register only the low element moves; from
 * memory the rest of the destination is zeroed (vol. 2 MOVSS, MOVSD). */
static enum exec_status load_scalar(struct cpu *c, const struct insn *i, unsigned feat, unsigned size)
{
	union xmm_reg v;
	if (!avail(c, feat) || !sse_read_rm(c, i, size, false, &v))
		return EXEC_FAULT;
	if (i->flags & IF_MOD3)
		memcpy(&c->fpu.xmm[i->reg], &v, size);
	else
		c->fpu.xmm[i->reg] = v;
	return EXEC_OK;
}

/* Store the low `size` bytes; a register destination keeps its other bytes
 * (MOVSS/MOVSD xmm1, xmm2 forms 0F 11). */
static enum exec_status store_low(struct cpu *c, const struct insn *i, unsigned feat, unsigned size)
{
	if (!avail(c, feat))
		return EXEC_FAULT;
	if (i->flags & IF_MOD3) {
		memcpy(&c->fpu.xmm[i->rm], &c->fpu.xmm[i->reg], size);
		return EXEC_OK;
	}
	return sse_write_m(c, i, size, false, &c->fpu.xmm[i->reg]) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_movss_Vss_Wss(struct cpu *c, const struct insn *i) { return load_scalar(c, i, FEAT_SSE, 4); }
enum exec_status op_movsd_Vsd_Wsd(struct cpu *c, const struct insn *i) { return load_scalar(c, i, FEAT_SSE2, 8); }
enum exec_status op_movss_Wss_Vss(struct cpu *c, const struct insn *i) { return store_low(c, i, FEAT_SSE, 4); }
enum exec_status op_movsd_Wsd_Vsd(struct cpu *c, const struct insn *i) { return store_low(c, i, FEAT_SSE2, 8); }
/* MOVLPS/MOVLPD m64, xmm (0F 13, memory only). */
enum exec_status op_movlps_Mq_Vq(struct cpu *c, const struct insn *i) { return store_low(c, i, FEAT_SSE, 8); }
enum exec_status op_movlpd_Mq_Vq(struct cpu *c, const struct insn *i) { return store_low(c, i, FEAT_SSE2, 8); }

/* Load 8 bytes into quadword `half` of xmm[reg]; the other stays. With a
 * register source (MOVHLPS 0F 12, MOVLHPS 0F 16) the source is the other
 * quadword of xmm[rm]. */
static enum exec_status load_half(struct cpu *c, const struct insn *i, unsigned feat, unsigned half)
{
	union xmm_reg v;
	if (!avail(c, feat) || !sse_read_rm(c, i, 8, false, &v))
		return EXEC_FAULT;
	c->fpu.xmm[i->reg].q[half] = (i->flags & IF_MOD3) ? v.q[half ^ 1] : v.q[0];
	return EXEC_OK;
}

/* MOVLPS xmm, m64 / MOVHLPS xmm1, xmm2 (NP 0F 12); MOVLPD (66 0F 12, memory). */
enum exec_status op_movlps_Vq_Mq(struct cpu *c, const struct insn *i) { return load_half(c, i, FEAT_SSE, 0); }
enum exec_status op_movlpd_Vq_Mq(struct cpu *c, const struct insn *i) { return load_half(c, i, FEAT_SSE2, 0); }
/* MOVHPS xmm, m64 / MOVLHPS xmm1, xmm2 (NP 0F 16); MOVHPD (66 0F 16, memory). */
enum exec_status op_movhps_Vq_Mq(struct cpu *c, const struct insn *i) { return load_half(c, i, FEAT_SSE, 1); }
enum exec_status op_movhpd_Vq_Mq(struct cpu *c, const struct insn *i) { return load_half(c, i, FEAT_SSE2, 1); }

/* MOVHPS/MOVHPD m64, xmm (0F 17, memory only). */
static enum exec_status store_high(struct cpu *c, const struct insn *i, unsigned feat)
{
	union xmm_reg v = { .q = { c->fpu.xmm[i->reg].q[1], 0 } };
	if (!avail(c, feat))
		return EXEC_FAULT;
	return sse_write_m(c, i, 8, false, &v) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_movhps_Mq_Vq(struct cpu *c, const struct insn *i) { return store_high(c, i, FEAT_SSE); }
enum exec_status op_movhpd_Mq_Vq(struct cpu *c, const struct insn *i) { return store_high(c, i, FEAT_SSE2); }

/* MOVQ xmm1, xmm2/m64 (F3 0F 7E): the upper quadword is zeroed. */
enum exec_status op_movq_Vq_Wq(struct cpu *c, const struct insn *i)
{
	union xmm_reg v;
	if (!avail(c, FEAT_SSE2) || !sse_read_rm(c, i, 8, false, &v))
		return EXEC_FAULT;
	c->fpu.xmm[i->reg] = (union xmm_reg){ .q = { v.q[0], 0 } };
	return EXEC_OK;
}

/* MOVQ xmm2/m64, xmm1 (66 0F D6): a register destination's upper quadword
 * is zeroed. */
enum exec_status op_movq_Wq_Vq(struct cpu *c, const struct insn *i)
{
	if (!avail(c, FEAT_SSE2))
		return EXEC_FAULT;
	if (i->flags & IF_MOD3) {
		c->fpu.xmm[i->rm] = (union xmm_reg){ .q = { c->fpu.xmm[i->reg].q[0], 0 } };
		return EXEC_OK;
	}
	return sse_write_m(c, i, 8, false, &c->fpu.xmm[i->reg]) ? EXEC_OK : EXEC_FAULT;
}

/* MOVD/MOVQ xmm, r/m32/64 (66 0F 6E; REX.W selects 64 bits): zero-extended. */
enum exec_status op_movd_Vy_Ey(struct cpu *c, const struct insn *i)
{
	unsigned osz = i->osz == SZ64 ? SZ64 : SZ32;
	uint64_t v;
	if (!avail(c, FEAT_SSE2) || !rm_read_sz(c, i, osz, &v))
		return EXEC_FAULT;
	c->fpu.xmm[i->reg] = (union xmm_reg){ .q = { v, 0 } };
	return EXEC_OK;
}

/* MOVD/MOVQ r/m32/64, xmm (66 0F 7E). */
enum exec_status op_movd_Ey_Vy(struct cpu *c, const struct insn *i)
{
	unsigned osz = i->osz == SZ64 ? SZ64 : SZ32;
	uint64_t v = c->fpu.xmm[i->reg].q[0];
	if (!avail(c, FEAT_SSE2))
		return EXEC_FAULT;
	if (i->flags & IF_MOD3) {
		reg_write(c, i->rm, osz, v);
		return EXEC_OK;
	}
	return mem_write_seg(c, i->seg, insn_ea(c, i), 1u << osz, v) ? EXEC_OK : EXEC_FAULT;
}

/* MOVNTI m32/64, r32/64 (NP 0F C3, memory only). */
enum exec_status op_movnti_My_Gy(struct cpu *c, const struct insn *i)
{
	unsigned osz = i->osz == SZ64 ? SZ64 : SZ32;
	if (!cpu_has(c, FEAT_SSE2))
		return cpu_ud(c);
	return mem_write_seg(c, i->seg, insn_ea(c, i), 1u << osz, reg_read(c, i->reg, osz)) ? EXEC_OK : EXEC_FAULT;
}

/* MASKMOVDQU xmm1, xmm2 (66 0F F7): bytes of xmm1 whose mask byte in xmm2
 * has bit 7 set are stored at DS:rDI (segment overridable). The whole
 * 16 bytes are checked first so a fault leaves memory unchanged. */
enum exec_status op_maskmovdqu_Vx_Ux(struct cpu *c, const struct insn *i)
{
	const union xmm_reg *v = &c->fpu.xmm[i->reg], *m = &c->fpu.xmm[i->rm];
	uint64_t di = c->gpr[R_DI] & addr_mask(i->asz);
	if (!avail(c, FEAT_SSE2) || !mem_probe_write(c, i->seg, di, 16))
		return EXEC_FAULT;
	for (unsigned k = 0; k < 16; k++)
		if ((m->b[k] & 0x80) && !mem_write_seg(c, i->seg, (di + k) & addr_mask(i->asz), 1, v->b[k]))
			return EXEC_FAULT;
	return EXEC_OK;
}

/* ---- sign masks ---- */

/* MOVMSKPS/MOVMSKPD/PMOVMSKB r32/64, xmm: the sign bits of the elements,
 * zero-extended into the whole register (vol. 2 MOVMSKPS). */
static enum exec_status movmsk(struct cpu *c, const struct insn *i, unsigned feat, unsigned esize)
{
	const union xmm_reg *v = &c->fpu.xmm[i->rm];
	uint32_t mask = 0;
	if (!avail(c, feat))
		return EXEC_FAULT;
	for (unsigned k = 0; k < 16 / esize; k++)
		mask |= (uint32_t)(v->b[k * esize + esize - 1] >> 7) << k;
	c->gpr[i->reg] = mask;
	return EXEC_OK;
}

enum exec_status op_movmskps_Gd_Ups(struct cpu *c, const struct insn *i) { return movmsk(c, i, FEAT_SSE, 4); }
enum exec_status op_movmskpd_Gd_Upd(struct cpu *c, const struct insn *i) { return movmsk(c, i, FEAT_SSE2, 8); }
enum exec_status op_pmovmskb_Gd_Ux(struct cpu *c, const struct insn *i) { return movmsk(c, i, FEAT_SSE2, 1); }

/* ---- shuffles and word insert/extract ---- */

/* PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2) xmm1, xmm2/m128, imm8 (0F 70). */
static enum exec_status pshuf(struct cpu *c, const struct insn *i, unsigned form)
{
	union xmm_reg s, r;
	unsigned imm = (unsigned)i->imm;
	if (!avail(c, FEAT_SSE2) || !sse_read_rm(c, i, 16, true, &s))
		return EXEC_FAULT;
	r = s;
	for (unsigned k = 0; k < 4; k++) {
		unsigned sel = (imm >> (2 * k)) & 3;
		if (form == 0)
			r.d[k] = s.d[sel];
		else if (form == 1)
			r.w[4 + k] = s.w[4 + sel];
		else
			r.w[k] = s.w[sel];
	}
	c->fpu.xmm[i->reg] = r;
	return EXEC_OK;
}

enum exec_status op_pshufd_Vx_Wx_Ib(struct cpu *c, const struct insn *i) { return pshuf(c, i, 0); }
enum exec_status op_pshufhw_Vx_Wx_Ib(struct cpu *c, const struct insn *i) { return pshuf(c, i, 1); }
enum exec_status op_pshuflw_Vx_Wx_Ib(struct cpu *c, const struct insn *i) { return pshuf(c, i, 2); }

/* SHUFPS: the low two dwords from the destination, the high two from the
 * source, each picked by two imm8 bits. */
enum exec_status op_shufps_Vps_Wps_Ib(struct cpu *c, const struct insn *i)
{
	union xmm_reg s, r, *d = &c->fpu.xmm[i->reg];
	unsigned imm = (unsigned)i->imm;
	if (!avail(c, FEAT_SSE) || !sse_read_rm(c, i, 16, true, &s))
		return EXEC_FAULT;
	r.d[0] = d->d[imm & 3];
	r.d[1] = d->d[(imm >> 2) & 3];
	r.d[2] = s.d[(imm >> 4) & 3];
	r.d[3] = s.d[(imm >> 6) & 3];
	*d = r;
	return EXEC_OK;
}

/* SHUFPD: imm8 bit 0 picks the destination's quadword, bit 1 the source's. */
enum exec_status op_shufpd_Vpd_Wpd_Ib(struct cpu *c, const struct insn *i)
{
	union xmm_reg s, *d = &c->fpu.xmm[i->reg];
	if (!avail(c, FEAT_SSE2) || !sse_read_rm(c, i, 16, true, &s))
		return EXEC_FAULT;
	*d = (union xmm_reg){ .q = { d->q[i->imm & 1], s.q[(i->imm >> 1) & 1] } };
	return EXEC_OK;
}

/* PINSRW xmm, r32/m16, imm8 (66 0F C4): word imm8[2:0]. */
enum exec_status op_pinsrw_Vx_Ew_Ib(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!avail(c, FEAT_SSE2) || !rm_read_sz(c, i, SZ16, &v))
		return EXEC_FAULT;
	c->fpu.xmm[i->reg].w[i->imm & 7] = (uint16_t)v;
	return EXEC_OK;
}

/* PEXTRW r32/64, xmm, imm8 (66 0F C5): zero-extended into the register. */
enum exec_status op_pextrw_Gd_Ux_Ib(struct cpu *c, const struct insn *i)
{
	if (!avail(c, FEAT_SSE2))
		return EXEC_FAULT;
	c->gpr[i->reg] = c->fpu.xmm[i->rm].w[i->imm & 7];
	return EXEC_OK;
}

/* ---- MXCSR ---- */

/* LDMXCSR m32 (0F AE /2): reserved bits set is #GP(0) (vol. 2 LDMXCSR). */
enum exec_status op_ldmxcsr_Md(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!avail(c, FEAT_SSE) || !mem_read_seg(c, i->seg, insn_ea(c, i), 4, &v))
		return EXEC_FAULT;
	if (v & ~(uint64_t)MXCSR_VALID)
		return cpu_gp0(c);
	c->fpu.mxcsr = (uint32_t)v;
	return EXEC_OK;
}

/* STMXCSR m32 (0F AE /3). */
enum exec_status op_stmxcsr_Md(struct cpu *c, const struct insn *i)
{
	if (!avail(c, FEAT_SSE))
		return EXEC_FAULT;
	return mem_write_seg(c, i->seg, insn_ea(c, i), 4, c->fpu.mxcsr) ? EXEC_OK : EXEC_FAULT;
}
