/* FXSAVE/FXRSTOR (SDM vol. 2 FXSAVE, Tables 3-43, 3-46, 3-47), the XSAVE
 * feature set: XSAVE, XSAVEOPT, XSAVEC, XRSTOR, XSAVES, XRSTORS (vol. 1
 * chapter 13) and XGETBV/XSETBV (vol. 2), for state components 0 (x87),
 * 1 (SSE) and 2 (AVX). No supervisor state component exists yet, so
 * IA32_XSS is always 0 and XSAVES/XRSTORS act on XCR0's components.
 */
#include <string.h>

#include "cpu/fpu.h"
#include "cpu/handlers.h"
#include "cpu/seg.h"
#include "cpu/sse.h"
#include "cpu/xsave.h"

/* Legacy region (vol. 1 13.4.1, FXSAVE layout). */
#define LEG_FTW 4
#define LEG_FOP 6
#define LEG_FIP 8
#define LEG_FDP 16
#define LEG_MXCSR 24
#define LEG_MXCSR_MASK 28
#define LEG_ST 32
#define LEG_XMM 160
#define LEGACY_SIZE 512
#define HDR 512                 /* XSAVE header: XSTATE_BV, XCOMP_BV, reserved */
#define AVX_OFF 576             /* CPUID.(0DH,2):EBX, also its compacted offset */
#define AVX_SIZE 256
#define XCOMP_COMPACT (1ull << 63)

uint64_t xsave_supported_xcr0(const struct cpu *c)
{
	return XFEATURE_X87 | XFEATURE_SSE | (cpu_has(c, FEAT_AVX) ? XFEATURE_AVX : 0);
}

/* IA32_XSS bits are supervisor components only: bits 0-7 and 9 name user
 * components and are never settable there (vol. 1 13.1, 13.3). vtxsim
 * implements no supervisor component (PT, CET, ...), hence none. */
uint64_t xsave_supported_xss(const struct cpu *c)
{
	(void)c;
	return 0;
}

/* With only components 0-2, whose offsets are fixed (13.4.3), the compacted
 * and the standard format have the same size. */
unsigned xsave_area_size(uint64_t features)
{
	return (features & XFEATURE_AVX) ? AVX_OFF + AVX_SIZE : AVX_OFF;
}

static unsigned xmm_count(const struct cpu *c)
{
	return c->code64 ? 16 : 8;      /* XMM8-15 only in 64-bit mode (13.4.1) */
}

/* ---- init tracking (vol. 1 13.6): a component is "in use" unless it is
 * in its initial configuration. Reporting 1 for an initial component is
 * allowed; reporting 0 for a modified one is not. */

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t k = 0; k < n; k++)
		if (b[k])
			return false;
	return true;
}

uint64_t xsave_xinuse(const struct cpu *c)
{
	const struct fpu_state *f = &c->fpu;
	uint64_t in = 0;
	if (f->fcw != FCW_INIT || f->fsw || f->ftw || f->fop || f->fip || f->fdp || f->fcs || f->fds ||
	    !all_zero(f->st, sizeof(f->st)))
		in |= XFEATURE_X87;
	if (f->mxcsr != MXCSR_RESET || !all_zero(f->xmm, sizeof(f->xmm)))
		in |= XFEATURE_SSE;
	if (!all_zero(f->ymmh, sizeof(f->ymmh)))
		in |= XFEATURE_AVX;
	return in;
}

static void init_component(struct cpu *c, unsigned comp)
{
	struct fpu_state *f = &c->fpu;
	if (comp == 0) {
		fpu_init_state(c);
		memset(f->st, 0, sizeof(f->st));
	} else if (comp == 1) {
		memset(f->xmm, 0, xmm_count(c) * sizeof(f->xmm[0]));
	} else {
		memset(f->ymmh, 0, xmm_count(c) * sizeof(f->ymmh[0]));
	}
}

/* ---- legacy region images ---- */

/* x87 part: bytes 0-23 and 32-159. REX.W selects 64-bit FIP/FDP (FXSAVE64);
 * otherwise 32-bit offsets with the FCS/FDS selectors. ST(i) in stack order. */
static void store_x87(const struct cpu *c, uint8_t *img, bool rexw)
{
	const struct fpu_state *f = &c->fpu;
	uint16_t fsw = fpu_status_word(c), fop = f->fop & 0x7ff;
	uint32_t fip = (uint32_t)f->fip, fdp = (uint32_t)f->fdp;
	unsigned top = (f->fsw >> FSW_TOP_SHIFT) & 7;
	memcpy(img + 0, &f->fcw, 2);
	memcpy(img + 2, &fsw, 2);
	img[LEG_FTW] = f->ftw;
	img[LEG_FTW + 1] = 0;
	memcpy(img + LEG_FOP, &fop, 2);
	memset(img + LEG_FIP, 0, 16);
	if (rexw) {
		memcpy(img + LEG_FIP, &f->fip, 8);
		memcpy(img + LEG_FDP, &f->fdp, 8);
	} else {
		memcpy(img + LEG_FIP, &fip, 4);
		memcpy(img + LEG_FIP + 4, &f->fcs, 2);
		memcpy(img + LEG_FDP, &fdp, 4);
		memcpy(img + LEG_FDP + 4, &f->fds, 2);
	}
	for (unsigned k = 0; k < 8; k++) {
		memset(img + LEG_ST + 16 * k, 0, 16);
		memcpy(img + LEG_ST + 16 * k, f->st[(top + k) & 7], 10);
	}
}

static void load_x87(struct cpu *c, const uint8_t *img, bool rexw)
{
	struct fpu_state *f = &c->fpu;
	uint32_t v32;
	memcpy(&f->fcw, img + 0, 2);
	memcpy(&f->fsw, img + 2, 2);
	f->ftw = img[LEG_FTW];
	memcpy(&f->fop, img + LEG_FOP, 2);
	f->fop &= 0x7ff;
	if (rexw) {
		memcpy(&f->fip, img + LEG_FIP, 8);
		memcpy(&f->fdp, img + LEG_FDP, 8);
		f->fcs = f->fds = 0;
	} else {
		memcpy(&v32, img + LEG_FIP, 4);
		f->fip = v32;
		memcpy(&f->fcs, img + LEG_FIP + 4, 2);
		memcpy(&v32, img + LEG_FDP, 4);
		f->fdp = v32;
		memcpy(&f->fds, img + LEG_FDP + 4, 2);
	}
	unsigned top = (f->fsw >> FSW_TOP_SHIFT) & 7;
	for (unsigned k = 0; k < 8; k++)
		memcpy(f->st[(top + k) & 7], img + LEG_ST + 16 * k, 10);
}

static void store_mxcsr(const struct cpu *c, uint8_t *img)
{
	uint32_t mask = MXCSR_VALID;
	memcpy(img + LEG_MXCSR, &c->fpu.mxcsr, 4);
	memcpy(img + LEG_MXCSR_MASK, &mask, 4);
}

static uint32_t image_mxcsr(const uint8_t *img)
{
	uint32_t v;
	memcpy(&v, img + LEG_MXCSR, 4);
	return v;
}

static void store_xmm(const struct cpu *c, uint8_t *img)
{
	memcpy(img + LEG_XMM, c->fpu.xmm, 16 * xmm_count(c));
}

static void load_xmm(struct cpu *c, const uint8_t *img)
{
	memcpy(c->fpu.xmm, img + LEG_XMM, 16 * xmm_count(c));
}

/* ---- FXSAVE / FXRSTOR ---- */

/* #UD without FXSR, #NM with CR0.EM or CR0.TS (vol. 2 FXSAVE; Table 2-2),
 * #GP(0) unless 16-byte aligned. */
static bool fx_check(struct cpu *c, const struct insn *i, uint64_t *off)
{
	if (!cpu_has(c, FEAT_FXSR)) {
		cpu_ud(c);
		return false;
	}
	if (c->cr0 & (CR0_EM | CR0_TS)) {
		cpu_fault(c, VEC_NM, false, 0);
		return false;
	}
	*off = insn_ea(c, i);
	if (sse_linear(c, i->seg, *off) & 15) {
		cpu_gp0(c);
		return false;
	}
	return true;
}

/* Bytes 416-511 are not written (464-511 are available to software). The
 * XMM registers and MXCSR are saved whatever CR4.OSFXSR says (allowed:
 * "implementation dependent"). */
enum exec_status op_fxsave_M(struct cpu *c, const struct insn *i)
{
	uint8_t img[LEG_XMM + 256];
	uint64_t off;
	if (!fx_check(c, i, &off))
		return EXEC_FAULT;
	memset(img, 0, sizeof(img));
	store_x87(c, img, i->osz == SZ64);
	store_mxcsr(c, img);
	store_xmm(c, img);
	return sse_mem_write(c, i->seg, off, img, LEG_XMM + 16 * xmm_count(c)) ? EXEC_OK : EXEC_FAULT;
}

/* #GP(0) if the image's MXCSR sets a bit outside MXCSR_MASK. */
enum exec_status op_fxrstor_M(struct cpu *c, const struct insn *i)
{
	uint8_t img[LEG_XMM + 256];
	uint64_t off;
	if (!fx_check(c, i, &off) || !sse_mem_read(c, i->seg, off, img, LEG_XMM + 16 * xmm_count(c)))
		return EXEC_FAULT;
	if (image_mxcsr(img) & ~MXCSR_VALID)
		return cpu_gp0(c);
	load_x87(c, img, i->osz == SZ64);
	c->fpu.mxcsr = image_mxcsr(img);
	load_xmm(c, img);
	return EXEC_OK;
}

/* ---- the XSAVE feature set ---- */

/* #UD without XSAVE (or `feat`) or with CR4.OSXSAVE = 0, #NM with CR0.TS,
 * #GP(0) unless 64-byte aligned (vol. 2 XSAVE, "Protected Mode
 * Exceptions"); XSAVES/XRSTORS also #GP(0) if CPL > 0 (vol. 1 13.11,
 * 13.12: #UD, then #NM, then #GP). */
static bool xs_check(struct cpu *c, const struct insn *i, unsigned feat, uint64_t *off)
{
	if (!cpu_has(c, FEAT_XSAVE) || !cpu_has(c, feat) || !(c->cr4 & CR4_OSXSAVE)) {
		cpu_ud(c);
		return false;
	}
	if (c->cr0 & CR0_TS) {
		cpu_fault(c, VEC_NM, false, 0);
		return false;
	}
	*off = insn_ea(c, i);
	if ((sse_linear(c, i->seg, *off) & 63) || (feat == FEAT_XSAVES && c->cpl != 0)) {
		cpu_gp0(c);
		return false;
	}
	return true;
}

/* XCR0, or XCR0 | IA32_XSS for the supervisor forms XSAVES/XRSTORS: the
 * components RFBM may name (vol. 1 13.11, 13.12). */
static uint64_t enabled_components(const struct cpu *c, bool supervisor)
{
	return c->xcr0 | (supervisor ? c->msr.xss : 0);
}

static uint64_t edx_eax(const struct cpu *c)
{
	return (c->gpr[R_DX] << 32) | (uint32_t)c->gpr[R_AX];
}

/* Fill the standard-format image `img` for the components in `save`;
 * MXCSR goes with SSE or AVX (vol. 1 13.7). */
static void store_components(const struct cpu *c, const struct insn *i, uint8_t *img, uint64_t save,
			     uint64_t mxcsr_with)
{
	if (save & XFEATURE_X87)
		store_x87(c, img, i->osz == SZ64);
	if (mxcsr_with)
		store_mxcsr(c, img);
	if (save & XFEATURE_SSE)
		store_xmm(c, img);
	if (save & XFEATURE_AVX)
		memcpy(img + AVX_OFF, c->fpu.ymmh, 16 * xmm_count(c));
}

/* XSAVE (0F AE /4) and XSAVEOPT (/6): the standard format. Components in
 * RFBM are written (XSAVEOPT skips those in their initial configuration,
 * the init optimization); XSTATE_BV[i] for i in RFBM becomes XINUSE[i],
 * other header bytes are not written. The area is read, updated and
 * written back so bytes the instruction does not store keep their value. */
static enum exec_status xsave_standard(struct cpu *c, const struct insn *i, unsigned feat, bool opt)
{
	uint8_t img[AVX_OFF + AVX_SIZE];
	uint64_t off, rfbm = c->xcr0 & edx_eax(c), inuse = xsave_xinuse(c), bv;
	if (!xs_check(c, i, feat, &off))
		return EXEC_FAULT;
	unsigned size = xsave_area_size(rfbm);
	if (!sse_mem_read(c, i->seg, off, img, size))
		return EXEC_FAULT;
	store_components(c, i, img, opt ? rfbm & inuse : rfbm, rfbm & (XFEATURE_SSE | XFEATURE_AVX));
	memcpy(&bv, img + HDR, 8);
	bv = (bv & ~rfbm) | (rfbm & inuse);
	memcpy(img + HDR, &bv, 8);
	return sse_mem_write(c, i->seg, off, img, size) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_xsave_M(struct cpu *c, const struct insn *i)
{
	return xsave_standard(c, i, FEAT_XSAVE, false);
}

enum exec_status op_xsaveopt_M(struct cpu *c, const struct insn *i)
{
	return xsave_standard(c, i, FEAT_XSAVEOPT, true);
}

/* XSAVEC (0F C7 /4) and XSAVES (0F C7 /5): the compacted format (vol. 1
 * 13.10, 13.11). Only components in RFBM and in use are written;
 * XSTATE_BV = RFBM & XINUSE, XCOMP_BV = RFBM with bit 63 set. With only
 * components 0-2, component 2 sits at 576 whenever RFBM[2] = 1. MXCSR is
 * written with SSE state only. XSAVES takes RFBM from XCR0 | IA32_XSS; it
 * "may" skip components unmodified since the matching XRSTORS (the
 * modified optimization, 13.6) and here never does, which is allowed. */
/* XSAVES/XRSTORS in VMX non-root operation: #UD with "enable
 * XSAVES/XRSTORS" 0 (SDM vol. 3C 25.3); else, after the other #UD causes
 * and the CPL #GP, the VM exit of 25.1.3 comes before #NM, alignment and
 * memory faults (25.1.1). True when the instruction ends here (*st). */
static bool xsaves_nonroot(struct cpu *c, const struct insn *i, bool restore, enum exec_status *st)
{
	if (!vmx_xsaves_enabled(c)) {
		*st = cpu_ud(c);
		return true;
	}
	if (!cpu_has(c, FEAT_XSAVE) || !cpu_has(c, FEAT_XSAVES) || !(c->cr4 & CR4_OSXSAVE) || c->cpl != 0)
		return false;   /* xs_check raises them */
	*st = EXEC_OK;
	return vmx_intercept_xsaves(c, i, restore);
}

static enum exec_status xsave_compacted(struct cpu *c, const struct insn *i, bool supervisor)
{
	uint8_t img[AVX_OFF + AVX_SIZE];
	uint64_t off, rfbm = enabled_components(c, supervisor) & edx_eax(c), save = rfbm & xsave_xinuse(c);
	uint64_t hdr[2] = { save, rfbm | XCOMP_COMPACT };
	enum exec_status st;
	if (supervisor && __builtin_expect(c->vmx.nonroot, 0) && xsaves_nonroot(c, i, false, &st))
		return st;
	if (!xs_check(c, i, supervisor ? FEAT_XSAVES : FEAT_XSAVEC, &off))
		return EXEC_FAULT;
	unsigned size = xsave_area_size(save);
	if (!sse_mem_read(c, i->seg, off, img, size))
		return EXEC_FAULT;
	store_components(c, i, img, save, save & XFEATURE_SSE);
	memcpy(img + HDR, hdr, 16);
	return sse_mem_write(c, i->seg, off, img, size) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_xsavec_M(struct cpu *c, const struct insn *i)
{
	return xsave_compacted(c, i, false);
}

enum exec_status op_xsaves_M(struct cpu *c, const struct insn *i)
{
	return xsave_compacted(c, i, true);
}

/* The header checks of XRSTOR and XRSTORS (vol. 2 XRSTOR, XRSTORS,
 * "Protected Mode Exceptions"; vol. 1 13.8.1, 13.8.2, 13.12). Standard
 * form (XCOMP_BV[63] = 0): XRSTOR only; XSTATE_BV within XCR0, XCOMP_BV
 * and bytes 23:16 zero. Compacted form: XCOMP_BV[62:0] within XCR0 (XCR0 |
 * IA32_XSS for XRSTORS), XSTATE_BV within XCOMP_BV, bytes 63:16 zero. */
static bool xrstor_header_ok(const struct cpu *c, const uint64_t hdr[8], bool supervisor)
{
	uint64_t bv = hdr[0], comp = hdr[1];
	if (!(comp & XCOMP_COMPACT))
		return !supervisor && !(bv & ~c->xcr0) && comp == 0 && hdr[2] == 0;
	if (!supervisor && !cpu_has(c, FEAT_XSAVEC))
		return false;
	if ((comp & ~XCOMP_COMPACT & ~enabled_components(c, supervisor)) || (bv & ~comp))
		return false;
	for (unsigned k = 2; k < 8; k++)
		if (hdr[k])
			return false;
	return true;
}

/* XRSTOR (0F AE /5) and XRSTORS (0F C7 /3): for i in RFBM, load component
 * i if XSTATE_BV[i] = 1, else initialize it. The standard form loads MXCSR
 * whenever RFBM[1] or RFBM[2] is set; the compacted form (always, for
 * XRSTORS) only with SSE state, else 1F80H (13.8.2, 13.12). An illegal
 * MXCSR is #GP(0) before anything changes. XRSTORS takes RFBM from XCR0 |
 * IA32_XSS; it accepts an XSAVEC image, whose XCOMP_BV names only XCR0
 * components. */
static enum exec_status xrstor_common(struct cpu *c, const struct insn *i, bool supervisor)
{
	uint8_t img[AVX_OFF + AVX_SIZE];
	uint64_t off, hdr[8], rfbm = enabled_components(c, supervisor) & edx_eax(c);
	enum exec_status st;
	if (supervisor && __builtin_expect(c->vmx.nonroot, 0) && xsaves_nonroot(c, i, true, &st))
		return st;
	if (!xs_check(c, i, supervisor ? FEAT_XSAVES : FEAT_XSAVE, &off) ||
	    !sse_mem_read(c, i->seg, off + HDR, hdr, sizeof(hdr)))
		return EXEC_FAULT;
	if (!xrstor_header_ok(c, hdr, supervisor))
		return cpu_gp0(c);
	bool compact = hdr[1] & XCOMP_COMPACT;
	uint64_t load = rfbm & hdr[0];
	bool mxcsr_from_image = compact ? (load & XFEATURE_SSE) != 0 : (rfbm & (XFEATURE_SSE | XFEATURE_AVX)) != 0;
	if (!sse_mem_read(c, i->seg, off, img, xsave_area_size(load)))
		return EXEC_FAULT;
	if (mxcsr_from_image && (image_mxcsr(img) & ~MXCSR_VALID))
		return cpu_gp0(c);
	for (unsigned k = 0; k < 3; k++)
		if ((rfbm >> k & 1) && !(load >> k & 1))
			init_component(c, k);
	if (load & XFEATURE_X87)
		load_x87(c, img, i->osz == SZ64);
	if (load & XFEATURE_SSE)
		load_xmm(c, img);
	if (load & XFEATURE_AVX)
		memcpy(c->fpu.ymmh, img + AVX_OFF, 16 * xmm_count(c));
	if (mxcsr_from_image)
		c->fpu.mxcsr = image_mxcsr(img);
	else if (compact && (rfbm & XFEATURE_SSE))
		c->fpu.mxcsr = MXCSR_RESET;
	return EXEC_OK;
}

enum exec_status op_xrstor_M(struct cpu *c, const struct insn *i)
{
	return xrstor_common(c, i, false);
}

enum exec_status op_xrstors_M(struct cpu *c, const struct insn *i)
{
	return xrstor_common(c, i, true);
}

/* ---- XCR0 ---- */

/* #UD without XSAVE support or with CR4.OSXSAVE = 0 (vol. 2 XGETBV). */
static bool xcr_avail(struct cpu *c)
{
	if (!cpu_has(c, FEAT_XSAVE) || !(c->cr4 & CR4_OSXSAVE)) {
		cpu_ud(c);
		return false;
	}
	return true;
}

/* XGETBV (0F 01 D0): ECX = 0 reads XCR0; ECX = 1 reads XCR0 & XINUSE
 * when CPUID.(0DH,1):EAX[2]; any other ECX is #GP(0). */
enum exec_status op_xgetbv(struct cpu *c, const struct insn *i)
{
	uint32_t n = (uint32_t)c->gpr[R_CX];
	uint64_t v;
	(void)i;
	if (!xcr_avail(c))
		return EXEC_FAULT;
	if (n == 0)
		v = c->xcr0;
	else if (n == 1 && cpu_has(c, FEAT_XGETBV_ECX1))
		v = c->xcr0 & xsave_xinuse(c);
	else
		return cpu_gp0(c);
	reg_write(c, R_AX, SZ32, (uint32_t)v);
	reg_write(c, R_DX, SZ32, v >> 32);
	return EXEC_OK;
}

/* XSETBV (0F 01 D1): CPL 0 only; ECX must be 0; the value must keep bit 0
 * (x87), set only supported bits, and not enable AVX without SSE
 * (vol. 2 XSETBV; vol. 1 13.3). In VMX non-root operation it exits
 * unconditionally after the #UD and the CPL #GP, before the operand #GP
 * (SDM vol. 3C 25.1.1, 25.1.2). */
enum exec_status op_xsetbv(struct cpu *c, const struct insn *i)
{
	uint64_t v = edx_eax(c);
	if (!xcr_avail(c))
		return EXEC_FAULT;
	if (c->cpl != 0)
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0)) {
		vmx_exit_insn(c, EXIT_REASON_XSETBV, i->len);
		return EXEC_OK;
	}
	if ((uint32_t)c->gpr[R_CX] != 0 || (v & ~xsave_supported_xcr0(c)) || !(v & XFEATURE_X87) ||
	    ((v & XFEATURE_AVX) && !(v & XFEATURE_SSE)))
		return cpu_gp0(c);
	c->xcr0 = v;
	return EXEC_OK;
}
