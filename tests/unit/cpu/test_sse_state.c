/* x87/SSE state management: CR0/CR4 availability (#UD/#NM), alignment
 * #GP, unmasked SIMD exceptions (#XM/#UD, destination unchanged, the
 * pre/post-computation flag rules), LDMXCSR, FXSAVE/FXRSTOR layouts,
 * XSETBV/XGETBV rules, XSAVE/XSAVEC/XRSTOR layouts and header checks,
 * XSAVES/XRSTORS and IA32_XSS, CPUID leaf 0DH and the x87 control
 * instructions. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "cpu/cpuid.h"
#include "tests/unit/cpu/sysenv.h"

#define EXEC(c, code) exec_insn((c), (code), sizeof(code))
#define AREA 0x9000u

static struct harness *env(void)
{
	struct harness *h = sysenv_long();
	h->cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE;
	h->cpu.gpr[R_BX] = AREA;
	return h;
}

static void expect_fault(struct cpu *c, enum exec_status st, unsigned vec)
{
	CU_ASSERT_EQUAL(st, EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, vec);
}

static const uint8_t addps[] = { 0x0f, 0x58, 0xc1 }, divps[] = { 0x0f, 0x5e, 0xc1 };
static const uint8_t subss[] = { 0xf3, 0x0f, 0x5c, 0xc1 };

/* #UD with CR0.EM or CR4.OSFXSR = 0, then #NM with CR0.TS (Table 2-2). */
static void test_availability(void)
{
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	c->cr0 |= CR0_TS | CR0_EM;
	expect_fault(c, EXEC(c, addps), VEC_UD);
	c->cr0 &= ~CR0_EM;
	expect_fault(c, EXEC(c, addps), VEC_NM);
	c->cr0 &= ~CR0_TS;
	c->cr4 &= ~CR4_OSFXSR;
	expect_fault(c, EXEC(c, addps), VEC_UD);
	c->cr4 |= CR4_OSFXSR;
	CU_ASSERT_EQUAL(EXEC(c, addps), EXEC_OK);
	harness_destroy(h);
}

/* Aligned forms: #GP(0) on a misaligned 16-byte operand; unaligned and
 * scalar forms do not check. */
static void test_alignment(void)
{
	static const uint8_t movaps_ld[] = { 0x0f, 0x28, 0x03 }, movups_ld[] = { 0x0f, 0x10, 0x03 };
	static const uint8_t addps_m[] = { 0x0f, 0x58, 0x03 }, addss_m[] = { 0xf3, 0x0f, 0x58, 0x03 };
	static const uint8_t movdqa_st[] = { 0x66, 0x0f, 0x7f, 0x03 };
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	c->gpr[R_BX] = AREA + 8;
	expect_fault(c, EXEC(c, movaps_ld), VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
	expect_fault(c, EXEC(c, addps_m), VEC_GP);
	expect_fault(c, EXEC(c, movdqa_st), VEC_GP);
	CU_ASSERT_EQUAL(get64(h, AREA + 8), 0);
	CU_ASSERT_EQUAL(EXEC(c, movups_ld), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, addss_m), EXEC_OK);
	c->gpr[R_BX] = AREA;
	CU_ASSERT_EQUAL(EXEC(c, movaps_ld), EXEC_OK);
	harness_destroy(h);
}

static void set_ps(struct cpu *c, unsigned r, float a, float b, float d, float e)
{
	float v[4] = { a, b, d, e };
	memcpy(&c->fpu.xmm[r], v, 16);
}

/* Unmasked #Z: #XM with OSXMMEXCPT, #UD without; the destination is not
 * written and ZE is set (vol. 1 11.5.3.2). */
static void test_unmasked_exceptions(void)
{
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	set_ps(c, 0, 1, 2, 3, 4);
	set_ps(c, 1, 1, 0, 1, 1);
	union xmm_reg before = c->fpu.xmm[0];
	c->fpu.mxcsr = 0x1f80 & ~0x200u;
	expect_fault(c, EXEC(c, divps), VEC_XM);
	CU_ASSERT(!memcmp(&c->fpu.xmm[0], &before, 16));
	CU_ASSERT_EQUAL(c->fpu.mxcsr & 0x3f, 0x04);
	c->cr4 &= ~CR4_OSXMMEXCPT;
	c->fpu.mxcsr &= ~0x3fu;
	expect_fault(c, EXEC(c, divps), VEC_UD);
	CU_ASSERT_EQUAL(c->fpu.mxcsr & 0x3f, 0x04);
	/* Masked: the result is written, infinity in lane 1. */
	c->fpu.mxcsr = 0x1f80;
	CU_ASSERT_EQUAL(EXEC(c, divps), EXEC_OK);
	CU_ASSERT_EQUAL(c->fpu.xmm[0].d[1], 0x7f800000u);
	harness_destroy(h);
}

/* Pre-computation before post-computation: IE masked in lane 0 (0/0) and PE
 * unmasked in lane 1 (1/3): #XM, IE and PE both set, no result. With IE
 * unmasked only IE is reported (post-computation never happens). */
static void test_pre_post_order(void)
{
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	set_ps(c, 0, 0, 1, 1, 1);
	set_ps(c, 1, 0, 3, 1, 1);
	c->fpu.mxcsr = 0x1f80 & ~0x1000u;         /* PM = 0 */
	expect_fault(c, EXEC(c, divps), VEC_XM);
	CU_ASSERT_EQUAL(c->fpu.mxcsr & 0x3f, 0x21u);
	c->fpu.mxcsr = 0x1f80 & ~0x1080u;         /* IM = PM = 0 */
	expect_fault(c, EXEC(c, divps), VEC_XM);
	CU_ASSERT_EQUAL(c->fpu.mxcsr & 0x3f, 0x01u);
	harness_destroy(h);
}

/* An exact tiny result: no UE when underflow is masked; #U when unmasked
 * (vol. 1 11.5.2.5). 1.5*2^-126 - 1.0*2^-126 = 2^-127, a denormal. */
static void test_tiny_exact(void)
{
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	c->fpu.xmm[0].d[0] = 0x00c00000;
	c->fpu.xmm[1].d[0] = 0x00800000;
	c->fpu.mxcsr = 0x1f80;
	CU_ASSERT_EQUAL(EXEC(c, subss), EXEC_OK);
	CU_ASSERT_EQUAL(c->fpu.xmm[0].d[0], 0x00400000);
	CU_ASSERT_EQUAL(c->fpu.mxcsr & 0x3f, 0);
	c->fpu.xmm[0].d[0] = 0x00c00000;
	c->fpu.mxcsr = 0x1f80 & ~0x800u;          /* UM = 0 */
	expect_fault(c, EXEC(c, subss), VEC_XM);
	CU_ASSERT_EQUAL(c->fpu.mxcsr & 0x3f, 0x10u);
	CU_ASSERT_EQUAL(c->fpu.xmm[0].d[0], 0x00c00000);
	harness_destroy(h);
}

/* LDMXCSR: reserved bits 31:16 are #GP(0); STMXCSR stores it back. */
static void test_ldmxcsr(void)
{
	static const uint8_t ldmxcsr[] = { 0x0f, 0xae, 0x13 }, stmxcsr[] = { 0x0f, 0xae, 0x1b };
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	put32(h, AREA, 0x10000 | 0x1f80);
	expect_fault(c, EXEC(c, ldmxcsr), VEC_GP);
	CU_ASSERT_EQUAL(c->fpu.mxcsr, 0x1f80);
	put32(h, AREA, 0xffc0);
	CU_ASSERT_EQUAL(EXEC(c, ldmxcsr), EXEC_OK);
	CU_ASSERT_EQUAL(c->fpu.mxcsr, 0xffc0);
	put32(h, AREA, 0);
	CU_ASSERT_EQUAL(EXEC(c, stmxcsr), EXEC_OK);
	CU_ASSERT_EQUAL(get32(h, AREA), 0xffc0);
	harness_destroy(h);
}

static void fill_state(struct cpu *c)
{
	for (unsigned r = 0; r < 16; r++) {
		c->fpu.xmm[r].q[0] = 0x1111111111111111ull * (r + 1);
		c->fpu.xmm[r].q[1] = ~c->fpu.xmm[r].q[0];
		c->fpu.ymmh[r].q[0] = 0xa0a0a0a0a0a0a0a0ull + r;
		c->fpu.ymmh[r].q[1] = 0x0505050505050505ull + r;
	}
	for (unsigned r = 0; r < 8; r++)
		for (unsigned b = 0; b < 10; b++)
			c->fpu.st[r][b] = (uint8_t)(r * 16 + b);
	c->fpu.fcw = 0x027f;
	c->fpu.fsw = 0x3800 | 0x20;     /* TOP = 7, PE */
	c->fpu.ftw = 0x81;
	c->fpu.fop = 0x5d9;
	c->fpu.fip = 0x123456789abcull;
	c->fpu.fdp = 0xfedcba98ull;
	c->fpu.fcs = 0x33;
	c->fpu.fds = 0x2b;
	c->fpu.mxcsr = 0x9fc0;
}

/* FXSAVE64 / FXSAVE layouts (vol. 2 FXSAVE, Tables 3-46 and 3-47). */
static void test_fxsave_layout(void)
{
	static const uint8_t fxsave[] = { 0x0f, 0xae, 0x03 }, fxsave64[] = { 0x48, 0x0f, 0xae, 0x03 };
	static const uint8_t fxrstor[] = { 0x0f, 0xae, 0x0b };
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	fill_state(c);
	put64(h, AREA + 464, 0x5a5a5a5a5a5a5a5aull);
	CU_ASSERT_EQUAL(EXEC(c, fxsave64), EXEC_OK);
	CU_ASSERT_EQUAL(get32(h, AREA) & 0xffff, 0x027f);
	CU_ASSERT_EQUAL(get32(h, AREA) >> 16, 0x3820);
	CU_ASSERT_EQUAL(get32(h, AREA + 4), 0x5d90081);         /* FTW 81, FOP 5D9 */
	CU_ASSERT_EQUAL(get64(h, AREA + 8), 0x123456789abcull);
	CU_ASSERT_EQUAL(get64(h, AREA + 16), 0xfedcba98ull);
	CU_ASSERT_EQUAL(get32(h, AREA + 24), 0x9fc0);
	CU_ASSERT_EQUAL(get32(h, AREA + 28), 0xffff);           /* MXCSR_MASK */
	CU_ASSERT_EQUAL(get64(h, AREA + 32), 0x7776757473727170ull);   /* ST(0) = R7 */
	CU_ASSERT_EQUAL(get64(h, AREA + 48), 0x0706050403020100ull);   /* ST(1) = R0 */
	CU_ASSERT_EQUAL(get64(h, AREA + 160), 0x1111111111111111ull);
	CU_ASSERT_EQUAL(get64(h, AREA + 160 + 15 * 16), 0x1111111111111111ull * 16);
	CU_ASSERT_EQUAL(get64(h, AREA + 464), 0x5a5a5a5a5a5a5a5aull);    /* not written */
	CU_ASSERT_EQUAL(EXEC(c, fxsave), EXEC_OK);
	CU_ASSERT_EQUAL(get32(h, AREA + 8), 0x56789abc);
	CU_ASSERT_EQUAL(get32(h, AREA + 12), 0x33);
	CU_ASSERT_EQUAL(get32(h, AREA + 20), 0x2b);
	/* FXRSTOR round trip, and #GP for a bad MXCSR or misalignment. */
	struct fpu_state saved = c->fpu;
	memset(&c->fpu, 0, sizeof(c->fpu));
	CU_ASSERT_EQUAL(EXEC(c, fxrstor), EXEC_OK);
	CU_ASSERT(!memcmp(c->fpu.xmm, saved.xmm, sizeof(saved.xmm)));
	CU_ASSERT(!memcmp(c->fpu.st, saved.st, sizeof(saved.st)));
	CU_ASSERT(c->fpu.fcw == saved.fcw && c->fpu.ftw == saved.ftw && c->fpu.mxcsr == saved.mxcsr);
	put32(h, AREA + 24, 0x20000 | 0x1f80);
	c->fpu.mxcsr = 0x1f80;
	expect_fault(c, EXEC(c, fxrstor), VEC_GP);
	CU_ASSERT_EQUAL(c->fpu.mxcsr, 0x1f80);
	c->gpr[R_BX] = AREA + 8;
	expect_fault(c, EXEC(c, fxsave), VEC_GP);
	c->cr0 |= CR0_TS;
	expect_fault(c, EXEC(c, fxsave), VEC_NM);
	harness_destroy(h);
}

static const uint8_t xsetbv[] = { 0x0f, 0x01, 0xd1 }, xgetbv[] = { 0x0f, 0x01, 0xd0 };

static void set_edx_eax(struct cpu *c, uint64_t v)
{
	c->gpr[R_AX] = (uint32_t)v;
	c->gpr[R_DX] = v >> 32;
}

/* A model like the default one that also reports AVX, so XCR0[2] exists. */
static struct cpu_model avx_model;

static void use_avx_model(struct cpu *c)
{
	avx_model = *cpu_model_default();
	avx_model.leaf1_ecx |= 1u << 28;
	c->model = &avx_model;
}

static void test_xsetbv(void)
{
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	c->gpr[R_CX] = 0;
	set_edx_eax(c, 7);                      /* AVX: not supported by the default model */
	expect_fault(c, EXEC(c, xsetbv), VEC_GP);
	set_edx_eax(c, 2);                      /* x87 bit clear */
	expect_fault(c, EXEC(c, xsetbv), VEC_GP);
	set_edx_eax(c, 3);
	c->gpr[R_CX] = 1;
	expect_fault(c, EXEC(c, xsetbv), VEC_GP);
	c->gpr[R_CX] = 0;
	CU_ASSERT_EQUAL(EXEC(c, xsetbv), EXEC_OK);
	CU_ASSERT_EQUAL(c->xcr0, 3);
	c->gpr[R_AX] = c->gpr[R_DX] = 0;
	CU_ASSERT_EQUAL(EXEC(c, xgetbv), EXEC_OK);
	CU_ASSERT(c->gpr[R_AX] == 3 && c->gpr[R_DX] == 0);
	c->gpr[R_CX] = 2;
	expect_fault(c, EXEC(c, xgetbv), VEC_GP);
	use_avx_model(c);
	c->gpr[R_CX] = 0;
	set_edx_eax(c, 5);                      /* AVX without SSE */
	expect_fault(c, EXEC(c, xsetbv), VEC_GP);
	set_edx_eax(c, 7);
	CU_ASSERT_EQUAL(EXEC(c, xsetbv), EXEC_OK);
	CU_ASSERT_EQUAL(c->xcr0, 7);
	c->cr4 &= ~CR4_OSXSAVE;
	expect_fault(c, EXEC(c, xgetbv), VEC_UD);
	c->cr4 |= CR4_OSXSAVE;
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	expect_fault(c, EXEC(c, xsetbv), VEC_GP);
	harness_destroy(h);
}

static void clear_area(struct harness *h)
{
	uint8_t z[1024] = { 0 };
	phys_copy_in(&h->pm, AREA, z, sizeof(z));
}

/* XSAVE (standard): XSTATE_BV = RFBM & XINUSE, AVX state at 576; XSAVEC:
 * XCOMP_BV = RFBM | bit 63, components in their initial configuration not
 * written; XRSTOR of both forms restores; header checks #GP. */
static void test_xsave_forms(void)
{
	static const uint8_t xsave64[] = { 0x48, 0x0f, 0xae, 0x23 }, xrstor64[] = { 0x48, 0x0f, 0xae, 0x2b };
	static const uint8_t xsavec[] = { 0x0f, 0xc7, 0x23 }, xrstor[] = { 0x0f, 0xae, 0x2b };
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	use_avx_model(c);
	c->xcr0 = 7;
	fill_state(c);
	clear_area(h);
	set_edx_eax(c, ~0ull);
	CU_ASSERT_EQUAL(EXEC(c, xsave64), EXEC_OK);
	CU_ASSERT_EQUAL(get64(h, AREA + 512), 7);               /* XSTATE_BV */
	CU_ASSERT_EQUAL(get64(h, AREA + 520), 0);               /* XCOMP_BV */
	CU_ASSERT_EQUAL(get64(h, AREA + 576), 0xa0a0a0a0a0a0a0a0ull);
	CU_ASSERT_EQUAL(get64(h, AREA + 576 + 15 * 16 + 8), 0x0505050505050505ull + 15);
	CU_ASSERT_EQUAL(get64(h, AREA + 160), 0x1111111111111111ull);
	CU_ASSERT_EQUAL(get32(h, AREA + 24), 0x9fc0);
	/* Round trip through XRSTOR64. */
	struct fpu_state saved = c->fpu;
	memset(&c->fpu, 0, sizeof(c->fpu));
	CU_ASSERT_EQUAL(EXEC(c, xrstor64), EXEC_OK);
	saved.fcs = saved.fds = 0;              /* the 64-bit format has no selectors */
	CU_ASSERT(!memcmp(&c->fpu, &saved, sizeof(saved)));
	/* XSTATE_BV[2] = 0: XRSTOR initializes AVX state. */
	put64(h, AREA + 512, 3);
	CU_ASSERT_EQUAL(EXEC(c, xrstor64), EXEC_OK);
	CU_ASSERT_EQUAL(c->fpu.ymmh[3].q[0], 0);
	/* Header checks: XSTATE_BV bit not in XCR0; reserved header bytes. */
	put64(h, AREA + 512, 8 | 3);
	expect_fault(c, EXEC(c, xrstor), VEC_GP);
	put64(h, AREA + 512, 3);
	put64(h, AREA + 528, 1);
	expect_fault(c, EXEC(c, xrstor), VEC_GP);
	/* XSAVEC with x87 in its initial state and AVX in use. */
	c->fpu = saved;
	c->fpu.fcw = 0x37f;
	c->fpu.fsw = c->fpu.ftw = c->fpu.fop = c->fpu.fcs = c->fpu.fds = 0;
	c->fpu.fip = c->fpu.fdp = 0;
	memset(c->fpu.st, 0, sizeof(c->fpu.st));
	clear_area(h);
	put64(h, AREA, 0xdeadbeefull);
	CU_ASSERT_EQUAL(EXEC(c, xsavec), EXEC_OK);
	CU_ASSERT_EQUAL(get64(h, AREA + 512), 6);
	CU_ASSERT_EQUAL(get64(h, AREA + 520), 0x8000000000000007ull);
	CU_ASSERT_EQUAL(get64(h, AREA), 0xdeadbeefull);         /* x87 not written */
	CU_ASSERT_EQUAL(get64(h, AREA + 576), 0xa0a0a0a0a0a0a0a0ull);
	/* Compacted XRSTOR: x87 initialized, XMM/YMM loaded. */
	struct fpu_state before = c->fpu;
	memset(c->fpu.xmm, 0, sizeof(c->fpu.xmm));
	memset(c->fpu.ymmh, 0, sizeof(c->fpu.ymmh));
	c->fpu.fcw = 0x40;
	CU_ASSERT_EQUAL(EXEC(c, xrstor), EXEC_OK);
	CU_ASSERT(!memcmp(&c->fpu, &before, sizeof(before)));
	/* Compacted: XSTATE_BV bit outside XCOMP_BV is #GP. */
	put64(h, AREA + 520, 0x8000000000000002ull);
	expect_fault(c, EXEC(c, xrstor), VEC_GP);
	/* Misaligned area. */
	c->gpr[R_BX] = AREA + 16;
	expect_fault(c, EXEC(c, xsavec), VEC_GP);
	harness_destroy(h);
}

/* CPUID leaf 0DH follows XCR0 and the model; CPUID.1:ECX.OSXSAVE follows
 * CR4.OSXSAVE. */
static void test_cpuid_leaf_d(void)
{
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	uint32_t r[4];
	cpu_cpuid(c, 0xd, 0, r);
	CU_ASSERT(r[0] == 3 && r[1] == 576 && r[2] == 576 && r[3] == 0);
	cpu_cpuid(c, 0xd, 1, r);
	CU_ASSERT_EQUAL(r[0], 0xf);             /* XSAVEOPT, XSAVEC, XGETBV ECX=1, XSAVES */
	cpu_cpuid(c, 0xd, 2, r);
	CU_ASSERT(r[0] == 0 && r[1] == 0);
	use_avx_model(c);
	c->xcr0 = 7;
	cpu_cpuid(c, 0xd, 0, r);
	CU_ASSERT(r[0] == 7 && r[1] == 832 && r[2] == 832);
	cpu_cpuid(c, 0xd, 2, r);
	CU_ASSERT(r[0] == 256 && r[1] == 576);
	cpu_cpuid(c, 1, 0, r);
	CU_ASSERT(r[2] & (1u << 27));
	c->cr4 &= ~CR4_OSXSAVE;
	cpu_cpuid(c, 1, 0, r);
	CU_ASSERT_FALSE(r[2] & (1u << 27));
	c->model = cpu_model_find("haswell");
	cpu_cpuid(c, 0xd, 1, r);
	CU_ASSERT_EQUAL(r[0], 1);               /* XSAVEOPT only */
	harness_destroy(h);
}

static const uint8_t xsaves64[] = { 0x48, 0x0f, 0xc7, 0x2b }, xrstors64[] = { 0x48, 0x0f, 0xc7, 0x1b };
static const uint8_t xsaves[] = { 0x0f, 0xc7, 0x2b }, xrstors[] = { 0x0f, 0xc7, 0x1b };

/* XSAVES/XRSTORS exceptions (vol. 1 13.11, 13.12; vol. 2 XSAVES, XRSTORS):
 * #UD without the feature, with CR4.OSXSAVE = 0, with a register operand
 * or a 66 prefix; #NM with CR0.TS before #GP(0) for CPL > 0; #GP(0) when
 * misaligned. */
static void test_xsaves_faults(void)
{
	static const uint8_t xsaves_reg[] = { 0x0f, 0xc7, 0xe8 }, xsaves_66[] = { 0x66, 0x0f, 0xc7, 0x2b };
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	c->xcr0 = 3;
	set_edx_eax(c, ~0ull);
	expect_fault(c, EXEC(c, xsaves_reg), VEC_UD);
	expect_fault(c, EXEC(c, xsaves_66), VEC_UD);
	c->gpr[R_BX] = AREA + 32;
	expect_fault(c, EXEC(c, xsaves), VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
	expect_fault(c, EXEC(c, xrstors), VEC_GP);
	c->gpr[R_BX] = AREA;
	c->cr4 &= ~CR4_OSXSAVE;
	expect_fault(c, EXEC(c, xsaves), VEC_UD);
	expect_fault(c, EXEC(c, xrstors), VEC_UD);
	c->cr4 |= CR4_OSXSAVE;
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	c->cr0 |= CR0_TS;
	expect_fault(c, EXEC(c, xrstors), VEC_NM);
	c->cr0 &= ~CR0_TS;
	put64(h, AREA + 512, 0x5a);
	expect_fault(c, EXEC(c, xsaves), VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
	CU_ASSERT_EQUAL(get64(h, AREA + 512), 0x5a);            /* nothing written */
	expect_fault(c, EXEC(c, xrstors), VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
	c->model = cpu_model_find("haswell");                   /* no XSAVES */
	expect_fault(c, EXEC(c, xsaves), VEC_UD);
	harness_destroy(h);
}

/* XSAVES writes the compacted format with XCOMP_BV = RFBM | bit 63 and
 * XSTATE_BV = RFBM & XINUSE, exactly as XSAVEC while IA32_XSS = 0; XRSTORS
 * restores it, accepts an XSAVEC image and refuses a standard-format one
 * and the other bad headers with #GP(0), changing nothing (13.11, 13.12). */
static void test_xsaves_xrstors(void)
{
	static const uint8_t xsave64[] = { 0x48, 0x0f, 0xae, 0x23 }, xsavec64[] = { 0x48, 0x0f, 0xc7, 0x23 };
	static const uint8_t xrstor64[] = { 0x48, 0x0f, 0xae, 0x2b };
	uint8_t img_s[576], img_c[576];
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	c->xcr0 = 3;
	fill_state(c);
	clear_area(h);
	set_edx_eax(c, ~0ull);
	CU_ASSERT_EQUAL(EXEC(c, xsaves64), EXEC_OK);
	CU_ASSERT_EQUAL(get64(h, AREA + 512), 3);               /* XSTATE_BV */
	CU_ASSERT_EQUAL(get64(h, AREA + 520), 0x8000000000000003ull);   /* XCOMP_BV */
	CU_ASSERT_EQUAL(get64(h, AREA + 8), 0x123456789abcull); /* 64-bit FIP */
	CU_ASSERT_EQUAL(get32(h, AREA + 24), 0x9fc0);
	CU_ASSERT_EQUAL(get64(h, AREA + 160), 0x1111111111111111ull);
	phys_copy_out(&h->pm, AREA, img_s, sizeof(img_s));
	clear_area(h);
	CU_ASSERT_EQUAL(EXEC(c, xsavec64), EXEC_OK);
	phys_copy_out(&h->pm, AREA, img_c, sizeof(img_c));
	CU_ASSERT(!memcmp(img_s, img_c, sizeof(img_s)));
	/* EDX:EAX selects: SSE only. */
	clear_area(h);
	set_edx_eax(c, 2);
	CU_ASSERT_EQUAL(EXEC(c, xsaves64), EXEC_OK);
	CU_ASSERT_EQUAL(get64(h, AREA + 512), 2);
	CU_ASSERT_EQUAL(get64(h, AREA + 520), 0x8000000000000002ull);
	CU_ASSERT_EQUAL(get64(h, AREA + 8), 0);                 /* x87 not written */
	/* Round trip of the full image through XRSTORS64. */
	phys_copy_in(&h->pm, AREA, img_s, sizeof(img_s));
	set_edx_eax(c, ~0ull);
	struct fpu_state saved = c->fpu;
	memset(&c->fpu, 0, sizeof(c->fpu));
	CU_ASSERT_EQUAL(EXEC(c, xrstors64), EXEC_OK);
	saved.fcs = saved.fds = 0;
	memset(saved.ymmh, 0, sizeof(saved.ymmh));      /* AVX is not in XCR0 */
	CU_ASSERT(!memcmp(&c->fpu, &saved, sizeof(saved)));
	/* An XSAVEC image with x87 in its initial configuration: XRSTORS
	 * initializes x87 (XSTATE_BV[0] = 0) and loads SSE. */
	put64(h, AREA + 512, 2);
	CU_ASSERT_EQUAL(EXEC(c, xrstors64), EXEC_OK);
	CU_ASSERT(c->fpu.fcw == 0x37f && c->fpu.ftw == 0 && c->fpu.fip == 0);
	CU_ASSERT_EQUAL(c->fpu.xmm[0].q[0], 0x1111111111111111ull);
	/* Header #GP cases; the state stays as it is. */
	c->fpu.mxcsr = 0x1f80;
	static const struct { uint64_t bv, comp, rsvd; } bad[] = {
		{ 3, 3, 0 },                            /* XCOMP_BV[63] = 0: standard format */
		{ 3, 0, 0 },                            /* standard format, XCOMP_BV = 0 */
		{ 3, 0x8000000000000007ull, 0 },        /* AVX not in XCR0 | IA32_XSS */
		{ 3, 0x8000000000000103ull, 0 },        /* PT (8) not in IA32_XSS */
		{ 3, 0x8000000000000001ull, 0 },        /* XSTATE_BV[1] not in XCOMP_BV */
		{ 3, 0x8000000000000003ull, 1 },        /* header byte 63 nonzero */
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		put64(h, AREA + 512, bad[k].bv);
		put64(h, AREA + 520, bad[k].comp);
		put64(h, AREA + 568, bad[k].rsvd << 56);
		expect_fault(c, EXEC(c, xrstors64), VEC_GP);
		CU_ASSERT_EQUAL(c->fpu.mxcsr, 0x1f80);
	}
	/* XRSTOR takes the standard image XSAVE writes; XRSTORS does not. */
	clear_area(h);
	CU_ASSERT_EQUAL(EXEC(c, xsave64), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, xrstor64), EXEC_OK);
	expect_fault(c, EXEC(c, xrstors64), VEC_GP);
	/* A compacted image with an illegal MXCSR. */
	put64(h, AREA + 520, 0x8000000000000003ull);
	put32(h, AREA + 24, 0x10000);
	c->fpu.mxcsr = 0x9fc0;
	expect_fault(c, EXEC(c, xrstors64), VEC_GP);
	CU_ASSERT_EQUAL(c->fpu.mxcsr, 0x9fc0);
	harness_destroy(h);
}

/* IA32_XSS (DA0H) exists with XSAVES; only supervisor components reported
 * by CPUID.(0DH,1):EDX:ECX (none) may be set (vol. 1 13.3). CPUID.(0DH,1):
 * EBX is the compacted size for XCR0 | IA32_XSS. */
static void test_ia32_xss(void)
{
	static const uint8_t wrmsr[] = { 0x0f, 0x30 }, rdmsr[] = { 0x0f, 0x32 };
	static const uint64_t refused[] = { 1, 2, 1u << 8, 1u << 9, 1u << 11, 1u << 12, 1ull << 63 };
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	uint32_t r[4];
	c->gpr[R_CX] = 0xda0;
	set_edx_eax(c, 0);
	CU_ASSERT_EQUAL(EXEC(c, wrmsr), EXEC_OK);
	for (unsigned k = 0; k < sizeof(refused) / sizeof(refused[0]); k++) {
		set_edx_eax(c, refused[k]);
		expect_fault(c, EXEC(c, wrmsr), VEC_GP);
	}
	c->gpr[R_AX] = c->gpr[R_DX] = 0x55;
	CU_ASSERT_EQUAL(EXEC(c, rdmsr), EXEC_OK);
	CU_ASSERT(c->gpr[R_AX] == 0 && c->gpr[R_DX] == 0);
	c->xcr0 = 3;
	cpu_cpuid(c, 0xd, 1, r);
	CU_ASSERT(r[0] == 0xf && r[1] == 576 && r[2] == 0 && r[3] == 0);
	use_avx_model(c);
	c->xcr0 = 7;
	cpu_cpuid(c, 0xd, 1, r);
	CU_ASSERT_EQUAL(r[1], 832);
	c->model = cpu_model_find("haswell");
	cpu_cpuid(c, 0xd, 1, r);
	CU_ASSERT(r[0] == 1 && r[1] == 0);
	expect_fault(c, EXEC(c, rdmsr), VEC_GP);
	set_edx_eax(c, 0);
	expect_fault(c, EXEC(c, wrmsr), VEC_GP);
	harness_destroy(h);
}

/* FNINIT, FNSTSW, FNSTCW/FLDCW, FNSTENV, FWAIT #NM/#MF, unimplemented x87
 * arithmetic #UD (and #NM first with CR0.TS). */
static void test_x87_control(void)
{
	static const uint8_t fninit[] = { 0xdb, 0xe3 }, fnstsw_ax[] = { 0xdf, 0xe0 };
	static const uint8_t fnstcw[] = { 0xd9, 0x3b }, fldcw[] = { 0xd9, 0x2b }, fwait[] = { 0x9b };
	static const uint8_t fnstenv[] = { 0xd9, 0x33 }, fld1[] = { 0xd9, 0xe8 }, fnclex[] = { 0xdb, 0xe2 };
	struct harness *h = env();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(c->fpu.fcw, 0x40);      /* reset value */
	CU_ASSERT_EQUAL(EXEC(c, fninit), EXEC_OK);
	CU_ASSERT(c->fpu.fcw == 0x37f && c->fpu.ftw == 0);
	c->fpu.fsw = 0x3801;                    /* TOP 7, IE (masked) */
	c->gpr[R_AX] = 0xffff0000;
	CU_ASSERT_EQUAL(EXEC(c, fnstsw_ax), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xffff3801);
	CU_ASSERT_EQUAL(EXEC(c, fnstcw), EXEC_OK);
	CU_ASSERT_EQUAL(get32(h, AREA) & 0xffff, 0x37f);
	CU_ASSERT_EQUAL(EXEC(c, fnstenv), EXEC_OK);
	CU_ASSERT_EQUAL(get32(h, AREA + 8), 0xffffffff);        /* every tag empty */
	/* Unmask IE with IE pending: FWAIT raises #MF (CR0.NE = 1). */
	put32(h, AREA, 0x37e);
	CU_ASSERT_EQUAL(EXEC(c, fldcw), EXEC_OK);
	c->cr0 |= CR0_NE;
	expect_fault(c, EXEC(c, fwait), VEC_MF);
	CU_ASSERT_EQUAL(EXEC(c, fnstsw_ax), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX] & 0x8080, 0x8080);         /* B and ES */
	CU_ASSERT_EQUAL(EXEC(c, fnclex), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, fwait), EXEC_OK);
	c->cr0 |= CR0_MP | CR0_TS;
	expect_fault(c, EXEC(c, fwait), VEC_NM);
	expect_fault(c, EXEC(c, fld1), VEC_NM);
	c->cr0 &= ~CR0_TS;
	expect_fault(c, EXEC(c, fld1), VEC_UD);
	harness_destroy(h);
}

void suite_cpu_sse_state(void)
{
	CU_pSuite s = CU_add_suite("cpu_sse_state", NULL, NULL);
	CU_add_test(s, "CR0.EM/TS and CR4.OSFXSR: #UD/#NM", test_availability);
	CU_add_test(s, "16-byte alignment #GP", test_alignment);
	CU_add_test(s, "unmasked exceptions: #XM/#UD, no write", test_unmasked_exceptions);
	CU_add_test(s, "pre- before post-computation exceptions", test_pre_post_order);
	CU_add_test(s, "exact tiny result and UM", test_tiny_exact);
	CU_add_test(s, "LDMXCSR/STMXCSR", test_ldmxcsr);
	CU_add_test(s, "FXSAVE/FXRSTOR layouts", test_fxsave_layout);
	CU_add_test(s, "XSETBV/XGETBV rules", test_xsetbv);
	CU_add_test(s, "XSAVE/XSAVEC/XRSTOR forms", test_xsave_forms);
	CU_add_test(s, "CPUID leaf 0DH and OSXSAVE", test_cpuid_leaf_d);
	CU_add_test(s, "XSAVES/XRSTORS exceptions", test_xsaves_faults);
	CU_add_test(s, "XSAVES/XRSTORS layout and header checks", test_xsaves_xrstors);
	CU_add_test(s, "IA32_XSS and CPUID.(0DH,1)", test_ia32_xss);
	CU_add_test(s, "x87 control instructions", test_x87_control);
}
