/* Scalar conversions between XMM and general-purpose registers
 * (CVTSI2SS/SD, CVT(T)SS2SI, CVT(T)SD2SI) and the ordered/unordered scalar
 * compares that set EFLAGS (COMISS/COMISD/UCOMISS/UCOMISD). Executed with
 * the host instruction under the guest's MXCSR (cpu/sse.h).
 */
#include "cpu/sse.h"

/* s->q[0] holds the integer source; the result goes to d like the
 * instruction's XMM destination. */
#define HOST_FROM_INT(name, mn, field)                                                      \
	static void name(union xmm_reg *d, const union xmm_reg *s)                          \
	{                                                                                   \
		__asm__ volatile("movdqu %0, %%xmm0\n\t" #mn " %1, %%xmm0\n\tmovdqu %%xmm0, %0" \
				 : "+m"(*d) : "m"(s->field) : "xmm0");                      \
	}

HOST_FROM_INT(host_cvtsi2ssl, cvtsi2ssl, d[0])
HOST_FROM_INT(host_cvtsi2ssq, cvtsi2ssq, q[0])
HOST_FROM_INT(host_cvtsi2sdl, cvtsi2sdl, d[0])
HOST_FROM_INT(host_cvtsi2sdq, cvtsi2sdq, q[0])

/* Integer result into d->q[0]. */
#define HOST_TO_INT(name, mn, type)                                                         \
	static void name(union xmm_reg *d, const union xmm_reg *s)                          \
	{                                                                                   \
		type r;                                                                     \
		__asm__ volatile("movdqu %1, %%xmm1\n\t" #mn " %%xmm1, %0" : "=r"(r) : "m"(*s) : "xmm1"); \
		d->q[0] = (uint64_t)r;                                                      \
	}

HOST_TO_INT(host_cvtss2si32, cvtss2si, uint32_t)
HOST_TO_INT(host_cvtss2si64, cvtss2si, uint64_t)
HOST_TO_INT(host_cvttss2si32, cvttss2si, uint32_t)
HOST_TO_INT(host_cvttss2si64, cvttss2si, uint64_t)
HOST_TO_INT(host_cvtsd2si32, cvtsd2si, uint32_t)
HOST_TO_INT(host_cvtsd2si64, cvtsd2si, uint64_t)
HOST_TO_INT(host_cvttsd2si32, cvttsd2si, uint32_t)
HOST_TO_INT(host_cvttsd2si64, cvttsd2si, uint64_t)

/* CVTSI2SS/CVTSI2SD xmm, r/m32/64 (F3/F2 0F 2A): REX.W selects a 64-bit
 * source; the upper part of the destination is kept. */
static enum exec_status cvt_from_int(struct cpu *c, const struct insn *i, unsigned feat, sse_host_fn f32,
				     sse_host_fn f64)
{
	unsigned osz = i->osz == SZ64 ? SZ64 : SZ32;
	uint64_t v;
	if (sse_avail(c, feat) != EXEC_OK || !rm_read_sz(c, i, osz, &v))
		return EXEC_FAULT;
	union xmm_reg s = { .q = { v, 0 } }, d = c->fpu.xmm[i->reg];
	if (!sse_commit_flags(c, sse_host_run(osz == SZ64 ? f64 : f32, &d, &s, c->fpu.mxcsr)))
		return EXEC_FAULT;
	c->fpu.xmm[i->reg] = d;
	return EXEC_OK;
}

enum exec_status op_cvtsi2ss_Vss_Ey(struct cpu *c, const struct insn *i)
{
	return cvt_from_int(c, i, FEAT_SSE, host_cvtsi2ssl, host_cvtsi2ssq);
}

enum exec_status op_cvtsi2sd_Vsd_Ey(struct cpu *c, const struct insn *i)
{
	return cvt_from_int(c, i, FEAT_SSE2, host_cvtsi2sdl, host_cvtsi2sdq);
}

/* CVT(T)SS2SI / CVT(T)SD2SI r32/64, xmm/m32/64: an out-of-range or NaN
 * source gives the integer indefinite value with #I (vol. 2 CVTSS2SI). */
static enum exec_status cvt_to_int(struct cpu *c, const struct insn *i, unsigned feat, unsigned msize,
				   sse_host_fn f32, sse_host_fn f64)
{
	unsigned osz = i->osz == SZ64 ? SZ64 : SZ32;
	union xmm_reg s, d = { .q = { 0, 0 } };
	if (sse_avail(c, feat) != EXEC_OK || !sse_read_rm(c, i, msize, false, &s))
		return EXEC_FAULT;
	if (!sse_commit_flags(c, sse_host_run(osz == SZ64 ? f64 : f32, &d, &s, c->fpu.mxcsr)))
		return EXEC_FAULT;
	reg_write(c, i->reg, osz, d.q[0]);
	return EXEC_OK;
}

enum exec_status op_cvtss2si_Gy_Wss(struct cpu *c, const struct insn *i)
{
	return cvt_to_int(c, i, FEAT_SSE, 4, host_cvtss2si32, host_cvtss2si64);
}

enum exec_status op_cvttss2si_Gy_Wss(struct cpu *c, const struct insn *i)
{
	return cvt_to_int(c, i, FEAT_SSE, 4, host_cvttss2si32, host_cvttss2si64);
}

enum exec_status op_cvtsd2si_Gy_Wsd(struct cpu *c, const struct insn *i)
{
	return cvt_to_int(c, i, FEAT_SSE2, 8, host_cvtsd2si32, host_cvtsd2si64);
}

enum exec_status op_cvttsd2si_Gy_Wsd(struct cpu *c, const struct insn *i)
{
	return cvt_to_int(c, i, FEAT_SSE2, 8, host_cvttsd2si32, host_cvttsd2si64);
}

/* d->d[0] = ZF | PF << 2 | CF (EFLAGS bit positions) after the compare. */
#define HOST_COMI(mn)                                                                              \
	static void host_##mn(union xmm_reg *d, const union xmm_reg *s)                            \
	{                                                                                          \
		uint8_t zf, pf, cf;                                                                \
		__asm__ volatile("movdqu %3, %%xmm0\n\tmovdqu %4, %%xmm1\n\t" #mn " %%xmm1, %%xmm0\n\t" \
				 "setz %0\n\tsetp %1\n\tsetc %2"                                   \
				 : "=q"(zf), "=q"(pf), "=q"(cf) : "m"(*d), "m"(*s) : "xmm0", "xmm1", "cc"); \
		d->d[0] = (uint32_t)zf << 6 | (uint32_t)pf << 2 | cf;                              \
	}

HOST_COMI(comiss)
HOST_COMI(ucomiss)
HOST_COMI(comisd)
HOST_COMI(ucomisd)

/* ZF, PF, CF from the compare (unordered: all three set); OF, SF, AF
 * cleared (vol. 2 COMISS). COMIS* signal #I on any NaN, UCOMIS* on SNaN. */
static enum exec_status comis(struct cpu *c, const struct insn *i, unsigned feat, unsigned msize, sse_host_fn fn)
{
	union xmm_reg s, d;
	if (sse_avail(c, feat) != EXEC_OK || !sse_read_rm(c, i, msize, false, &s))
		return EXEC_FAULT;
	d = c->fpu.xmm[i->reg];
	if (!sse_commit_flags(c, sse_host_run(fn, &d, &s, c->fpu.mxcsr)))
		return EXEC_FAULT;
	lf_set_flags(c, d.d[0]);
	return EXEC_OK;
}

enum exec_status op_comiss_Vss_Wss(struct cpu *c, const struct insn *i) { return comis(c, i, FEAT_SSE, 4, host_comiss); }
enum exec_status op_ucomiss_Vss_Wss(struct cpu *c, const struct insn *i) { return comis(c, i, FEAT_SSE, 4, host_ucomiss); }
enum exec_status op_comisd_Vsd_Wsd(struct cpu *c, const struct insn *i) { return comis(c, i, FEAT_SSE2, 8, host_comisd); }
enum exec_status op_ucomisd_Vsd_Wsd(struct cpu *c, const struct insn *i) { return comis(c, i, FEAT_SSE2, 8, host_ucomisd); }
