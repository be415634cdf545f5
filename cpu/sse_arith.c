/* SSE/SSE2 two-operand instructions "op xmm1, xmm2/m": floating-point
 * arithmetic, logic, conversions between packed formats, and the SSE2
 * integer operations (SDM vol. 2 instruction pages; vol. 1 10.4, 11.4).
 *
 * Each is executed with the host's own instruction on the same 128-bit
 * operands (cpu/sse.h sse_host_run), so results and MXCSR flags are the
 * hardware's bit for bit. The opcode byte and the mandatory prefix select a
 * table row: the decoder has already matched the prefix (cpu/opcodes.def),
 * so each prefix class has its own handler and table.
 */
#include "cpu/sse.h"

#include <assert.h>

/* Row flags. */
#define SO_SSE2 (1u << 0)       /* CPUID.SSE2 (else SSE) */
#define SO_FP (1u << 1)         /* floating point: MXCSR controls and flags */
#define SO_UF_PS (1u << 2)      /* may underflow; result lanes are packed single */
#define SO_UF_SS (1u << 3)      /*   scalar single */
#define SO_UF_PD (1u << 4)      /*   packed double */
#define SO_UF_SD (1u << 5)      /*   scalar double */
#define SO_UF (SO_UF_PS | SO_UF_SS | SO_UF_PD | SO_UF_SD)

struct sse_op {
	sse_host_fn fn;
	uint8_t msize;          /* memory operand bytes; 16 = aligned 128-bit */
	uint8_t flags;
};

/* host_<mnemonic>(d, s): d = d <op> s with the host instruction. */
#define HOST_OP(mn)                                                                              \
	static void host_##mn(union xmm_reg *d, const union xmm_reg *s)                          \
	{                                                                                        \
		__asm__ volatile("movdqu %0, %%xmm0\n\tmovdqu %1, %%xmm1\n\t" #mn " %%xmm1, %%xmm0\n\t" \
				 "movdqu %%xmm0, %0"                                             \
				 : "+m"(*d) : "m"(*s) : "xmm0", "xmm1");                         \
	}

#define FP_OPS(X)                                                                                 \
	X(addps) X(addpd) X(addss) X(addsd) X(subps) X(subpd) X(subss) X(subsd)                  \
	X(mulps) X(mulpd) X(mulss) X(mulsd) X(divps) X(divpd) X(divss) X(divsd)                  \
	X(minps) X(minpd) X(minss) X(minsd) X(maxps) X(maxpd) X(maxss) X(maxsd)                  \
	X(sqrtps) X(sqrtpd) X(sqrtss) X(sqrtsd)                                                   \
	X(cvtps2pd) X(cvtpd2ps) X(cvtss2sd) X(cvtsd2ss) X(cvtdq2ps) X(cvtps2dq) X(cvttps2dq)       \
	X(cvtdq2pd) X(cvtpd2dq) X(cvttpd2dq)
#define LOGIC_OPS(X)                                                                              \
	X(andps) X(andpd) X(andnps) X(andnpd) X(orps) X(orpd) X(xorps) X(xorpd)                   \
	X(unpcklps) X(unpcklpd) X(unpckhps) X(unpckhpd)
#define INT_OPS(X)                                                                                \
	X(punpcklbw) X(punpcklwd) X(punpckldq) X(packsswb) X(pcmpgtb) X(pcmpgtw) X(pcmpgtd)       \
	X(packuswb) X(punpckhbw) X(punpckhwd) X(punpckhdq) X(packssdw) X(punpcklqdq)              \
	X(punpckhqdq) X(pcmpeqb) X(pcmpeqw) X(pcmpeqd) X(psrlw) X(psrld) X(psrlq) X(paddq)        \
	X(pmullw) X(psubusb) X(psubusw) X(pminub) X(pand) X(paddusb) X(paddusw) X(pmaxub)         \
	X(pandn) X(pavgb) X(psraw) X(psrad) X(pavgw) X(pmulhuw) X(pmulhw) X(psubsb) X(psubsw)     \
	X(pminsw) X(por) X(paddsb) X(paddsw) X(pmaxsw) X(pxor) X(psllw) X(pslld) X(psllq)         \
	X(pmuludq) X(pmaddwd) X(psadbw) X(psubb) X(psubw) X(psubd) X(psubq) X(paddb) X(paddw)     \
	X(paddd)

FP_OPS(HOST_OP)
LOGIC_OPS(HOST_OP)
INT_OPS(HOST_OP)

#define PS(mn, f) { host_##mn, 16, SO_FP | (f) }
#define PD(mn, f) { host_##mn, 16, SO_FP | SO_SSE2 | (f) }
#define SS(mn, f) { host_##mn, 4, SO_FP | (f) }
#define SD(mn, f) { host_##mn, 8, SO_FP | SO_SSE2 | (f) }
#define LG(mn, f) { host_##mn, 16, (f) }
#define IN(mn) { host_##mn, 16, SO_SSE2 }

/* No prefix: packed single (SSE), CVTPS2PD/CVTDQ2PS (SSE2). */
static const struct sse_op ops_np[256] = {
	[0x14] = LG(unpcklps, 0), [0x15] = LG(unpckhps, 0),
	[0x51] = PS(sqrtps, 0), [0x54] = LG(andps, 0), [0x55] = LG(andnps, 0),
	[0x56] = LG(orps, 0), [0x57] = LG(xorps, 0), [0x58] = PS(addps, SO_UF_PS),
	[0x59] = PS(mulps, SO_UF_PS), [0x5a] = { host_cvtps2pd, 8, SO_FP | SO_SSE2 },
	[0x5b] = PS(cvtdq2ps, SO_SSE2), [0x5c] = PS(subps, SO_UF_PS), [0x5d] = PS(minps, 0),
	[0x5e] = PS(divps, SO_UF_PS), [0x5f] = PS(maxps, 0),
};

/* 66: packed double and the SSE2 integer operations. */
static const struct sse_op ops_66[256] = {
	[0x14] = LG(unpcklpd, SO_SSE2), [0x15] = LG(unpckhpd, SO_SSE2),
	[0x51] = PD(sqrtpd, 0), [0x54] = LG(andpd, SO_SSE2), [0x55] = LG(andnpd, SO_SSE2),
	[0x56] = LG(orpd, SO_SSE2), [0x57] = LG(xorpd, SO_SSE2), [0x58] = PD(addpd, SO_UF_PD),
	[0x59] = PD(mulpd, SO_UF_PD), [0x5a] = PD(cvtpd2ps, SO_UF_PS), [0x5b] = PD(cvtps2dq, 0),
	[0x5c] = PD(subpd, SO_UF_PD), [0x5d] = PD(minpd, 0), [0x5e] = PD(divpd, SO_UF_PD),
	[0x5f] = PD(maxpd, 0),
	[0x60] = IN(punpcklbw), [0x61] = IN(punpcklwd), [0x62] = IN(punpckldq), [0x63] = IN(packsswb),
	[0x64] = IN(pcmpgtb), [0x65] = IN(pcmpgtw), [0x66] = IN(pcmpgtd), [0x67] = IN(packuswb),
	[0x68] = IN(punpckhbw), [0x69] = IN(punpckhwd), [0x6a] = IN(punpckhdq), [0x6b] = IN(packssdw),
	[0x6c] = IN(punpcklqdq), [0x6d] = IN(punpckhqdq),
	[0x74] = IN(pcmpeqb), [0x75] = IN(pcmpeqw), [0x76] = IN(pcmpeqd),
	[0xd1] = IN(psrlw), [0xd2] = IN(psrld), [0xd3] = IN(psrlq), [0xd4] = IN(paddq), [0xd5] = IN(pmullw),
	[0xd8] = IN(psubusb), [0xd9] = IN(psubusw), [0xda] = IN(pminub), [0xdb] = IN(pand),
	[0xdc] = IN(paddusb), [0xdd] = IN(paddusw), [0xde] = IN(pmaxub), [0xdf] = IN(pandn),
	[0xe0] = IN(pavgb), [0xe1] = IN(psraw), [0xe2] = IN(psrad), [0xe3] = IN(pavgw),
	[0xe4] = IN(pmulhuw), [0xe5] = IN(pmulhw), [0xe6] = PD(cvttpd2dq, 0),
	[0xe8] = IN(psubsb), [0xe9] = IN(psubsw), [0xea] = IN(pminsw), [0xeb] = IN(por),
	[0xec] = IN(paddsb), [0xed] = IN(paddsw), [0xee] = IN(pmaxsw), [0xef] = IN(pxor),
	[0xf1] = IN(psllw), [0xf2] = IN(pslld), [0xf3] = IN(psllq), [0xf4] = IN(pmuludq),
	[0xf5] = IN(pmaddwd), [0xf6] = IN(psadbw), [0xf8] = IN(psubb), [0xf9] = IN(psubw),
	[0xfa] = IN(psubd), [0xfb] = IN(psubq), [0xfc] = IN(paddb), [0xfd] = IN(paddw), [0xfe] = IN(paddd),
};

/* F3: scalar single; CVTTPS2DQ and CVTDQ2PD (SSE2). */
static const struct sse_op ops_f3[256] = {
	[0x51] = SS(sqrtss, 0), [0x58] = SS(addss, SO_UF_SS), [0x59] = SS(mulss, SO_UF_SS),
	[0x5a] = { host_cvtss2sd, 4, SO_FP | SO_SSE2 }, [0x5b] = PD(cvttps2dq, 0),
	[0x5c] = SS(subss, SO_UF_SS), [0x5d] = SS(minss, 0), [0x5e] = SS(divss, SO_UF_SS),
	[0x5f] = SS(maxss, 0), [0xe6] = { host_cvtdq2pd, 8, SO_FP | SO_SSE2 },
};

/* F2: scalar double, CVTPD2DQ. */
static const struct sse_op ops_f2[256] = {
	[0x51] = SD(sqrtsd, 0), [0x58] = SD(addsd, SO_UF_SD), [0x59] = SD(mulsd, SO_UF_SD),
	[0x5a] = SD(cvtsd2ss, SO_UF_SS), [0x5c] = SD(subsd, SO_UF_SD), [0x5d] = SD(minsd, 0),
	[0x5e] = SD(divsd, SO_UF_SD), [0x5f] = SD(maxsd, 0), [0xe6] = PD(cvtpd2dq, 0),
};

static bool f32_denormal(uint32_t v)
{
	return (v & 0x7f800000u) == 0 && (v & 0x007fffffu) != 0;
}

static bool f64_denormal(uint64_t v)
{
	return (v & 0x7ff0000000000000ull) == 0 && (v & 0x000fffffffffffffull) != 0;
}

/* With underflow unmasked, a tiny result raises #U even when exact (SDM
 * vol. 1 11.5.2.5); the masked host run reports UE only with PE. Rerun
 * without FTZ and look for a denormal result lane. */
static bool tiny_exact(const struct sse_op *o, const union xmm_reg *d0, const union xmm_reg *s, uint32_t mxcsr)
{
	union xmm_reg d = *d0;
	sse_host_run(o->fn, &d, s, mxcsr & ~MXCSR_FTZ);
	unsigned lanes = (o->flags & SO_UF_PS) ? 4 : (o->flags & SO_UF_PD) ? 2 : 1;
	for (unsigned k = 0; k < lanes; k++)
		if ((o->flags & (SO_UF_PS | SO_UF_SS)) ? f32_denormal(d.d[k]) : f64_denormal(d.q[k]))
			return true;
	return false;
}

/* Execute row o: xmm[reg] = xmm[reg] <op> xmm[rm]/m. */
static enum exec_status run_op(struct cpu *c, const struct insn *i, const struct sse_op *o)
{
	union xmm_reg s, d;
	assert(o->fn);
	if (sse_avail(c, (o->flags & SO_SSE2) ? FEAT_SSE2 : FEAT_SSE) != EXEC_OK)
		return EXEC_FAULT;
	if (!sse_read_rm(c, i, o->msize, o->msize == 16, &s))
		return EXEC_FAULT;
	d = c->fpu.xmm[i->reg];
	if (!(o->flags & SO_FP)) {
		o->fn(&d, &s);
	} else {
		union xmm_reg d0 = d;
		uint32_t f = sse_host_run(o->fn, &d, &s, c->fpu.mxcsr);
		if ((o->flags & SO_UF) && !(c->fpu.mxcsr & (MXCSR_UE << MXCSR_MASK_SHIFT)) && !(f & MXCSR_UE) &&
		    tiny_exact(o, &d0, &s, c->fpu.mxcsr))
			f |= MXCSR_UE;
		if (!sse_commit_flags(c, f))
			return EXEC_FAULT;
	}
	c->fpu.xmm[i->reg] = d;
	return EXEC_OK;
}

enum exec_status op_sse_np_Vx_Wx(struct cpu *c, const struct insn *i)
{
	return run_op(c, i, &ops_np[i->opcode & 0xff]);
}

enum exec_status op_sse_66_Vx_Wx(struct cpu *c, const struct insn *i)
{
	return run_op(c, i, &ops_66[i->opcode & 0xff]);
}

enum exec_status op_sse_f3_Vx_Wx(struct cpu *c, const struct insn *i)
{
	return run_op(c, i, &ops_f3[i->opcode & 0xff]);
}

enum exec_status op_sse_f2_Vx_Wx(struct cpu *c, const struct insn *i)
{
	return run_op(c, i, &ops_f2[i->opcode & 0xff]);
}

/* ---- CMPPS/CMPPD/CMPSS/CMPSD xmm1, xmm2/m, imm8 (0F C2): imm8[2:0] is the
 * predicate (vol. 2 CMPPS, Table 3-1; bits 7:3 are reserved without VEX). */

#define HOST_CMP(mn, p)                                                                            \
	static void host_##mn##p(union xmm_reg *d, const union xmm_reg *s)                         \
	{                                                                                          \
		__asm__ volatile("movdqu %0, %%xmm0\n\tmovdqu %1, %%xmm1\n\t" #mn " $" #p           \
				 ", %%xmm1, %%xmm0\n\tmovdqu %%xmm0, %0"                           \
				 : "+m"(*d) : "m"(*s) : "xmm0", "xmm1");                           \
	}
#define HOST_CMP8(mn) HOST_CMP(mn, 0) HOST_CMP(mn, 1) HOST_CMP(mn, 2) HOST_CMP(mn, 3) \
	HOST_CMP(mn, 4) HOST_CMP(mn, 5) HOST_CMP(mn, 6) HOST_CMP(mn, 7)
#define CMP_ROW(mn, size, f) { { host_##mn##0, size, f }, { host_##mn##1, size, f }, \
	{ host_##mn##2, size, f }, { host_##mn##3, size, f }, { host_##mn##4, size, f }, \
	{ host_##mn##5, size, f }, { host_##mn##6, size, f }, { host_##mn##7, size, f } }

HOST_CMP8(cmpps)
HOST_CMP8(cmppd)
HOST_CMP8(cmpss)
HOST_CMP8(cmpsd)

static const struct sse_op cmp_ops[4][8] = {
	CMP_ROW(cmpps, 16, SO_FP), CMP_ROW(cmppd, 16, SO_FP | SO_SSE2),
	CMP_ROW(cmpss, 4, SO_FP), CMP_ROW(cmpsd, 8, SO_FP | SO_SSE2),
};

enum exec_status op_cmpps_Vps_Wps_Ib(struct cpu *c, const struct insn *i)
{
	return run_op(c, i, &cmp_ops[0][i->imm & 7]);
}

enum exec_status op_cmppd_Vpd_Wpd_Ib(struct cpu *c, const struct insn *i)
{
	return run_op(c, i, &cmp_ops[1][i->imm & 7]);
}

enum exec_status op_cmpss_Vss_Wss_Ib(struct cpu *c, const struct insn *i)
{
	return run_op(c, i, &cmp_ops[2][i->imm & 7]);
}

enum exec_status op_cmpsd_Vsd_Wsd_Ib(struct cpu *c, const struct insn *i)
{
	return run_op(c, i, &cmp_ops[3][i->imm & 7]);
}

/* ---- shifts by an immediate (66 0F 71/72/73 groups 12-14): the same
 * operation as the shift by an XMM count, with the count imm8. */

static void host_psrldq(union xmm_reg *d, const union xmm_reg *s)
{
	unsigned n = s->q[0] > 16 ? 16 : (unsigned)s->q[0];
	union xmm_reg r = { .q = { 0, 0 } };
	for (unsigned k = 0; k + n < 16; k++)
		r.b[k] = d->b[k + n];
	*d = r;
}

static void host_pslldq(union xmm_reg *d, const union xmm_reg *s)
{
	unsigned n = s->q[0] > 16 ? 16 : (unsigned)s->q[0];
	union xmm_reg r = { .q = { 0, 0 } };
	for (unsigned k = n; k < 16; k++)
		r.b[k] = d->b[k - n];
	*d = r;
}

/* [opcode - 0x71][ModRM.reg]; PSRLDQ/PSLLDQ shift bytes (vol. 2 PSRLDQ). */
static const sse_host_fn shift_imm[3][8] = {
	{ [2] = host_psrlw, [4] = host_psraw, [6] = host_psllw },
	{ [2] = host_psrld, [4] = host_psrad, [6] = host_pslld },
	{ [2] = host_psrlq, [3] = host_psrldq, [6] = host_psllq, [7] = host_pslldq },
};

enum exec_status op_sse_shift_Ux_Ib(struct cpu *c, const struct insn *i)
{
	union xmm_reg count = { .q = { i->imm & 0xff, 0 } };
	sse_host_fn fn = shift_imm[(i->opcode & 0xff) - 0x71][i->opx];
	assert(fn);
	if (sse_avail(c, FEAT_SSE2) != EXEC_OK)
		return EXEC_FAULT;
	fn(&c->fpu.xmm[i->rm], &count);
	return EXEC_OK;
}
