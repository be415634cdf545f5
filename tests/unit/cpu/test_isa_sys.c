/* FSGSBASE, MONITOR/MWAIT, CLFLUSHOPT/CLWB, ENDBR and hint NOPs, ENTER
 * with a nesting level. */
#include <CUnit/CUnit.h>

#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/model.h"
#include "cpu/msr.h"
#include "tests/unit/cpu/sysenv.h"

static void expect_fault(struct cpu *c, const uint8_t *b, unsigned n, unsigned vec)
{
	c->exc.vector = 0xff;
	CU_ASSERT_EQUAL(exec_insn(c, b, n), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, vec);
	if (vec == VEC_GP)
		CU_ASSERT_EQUAL(c->exc.error, 0);
}

static void test_fsgsbase(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	const uint8_t wrfs[] = { 0xf3, 0x48, 0x0f, 0xae, 0xd0 };        /* wrfsbase rax */
	const uint8_t rdgs32[] = { 0xf3, 0x0f, 0xae, 0xc9 };            /* rdgsbase ecx */
	const uint8_t wrgs32[] = { 0xf3, 0x0f, 0xae, 0xd8 };            /* wrgsbase eax */
	const uint8_t rdfs[] = { 0xf3, 0x48, 0x0f, 0xae, 0xc1 };        /* rdfsbase rcx */
	c->gpr[R_AX] = 0x00007fff12345000ull;
	expect_fault(c, wrfs, sizeof(wrfs), VEC_UD);     /* CR4.FSGSBASE = 0 */
	/* MOV CR4 accepts the bit because the model reports FSGSBASE */
	const uint8_t mov_cr4[] = { 0x0f, 0x22, 0xe0 };                 /* mov cr4, rax */
	c->gpr[R_AX] = c->cr4 | CR4_FSGSBASE;
	CU_ASSERT_EQUAL(exec_insn(c, mov_cr4, sizeof(mov_cr4)), EXEC_OK);
	CU_ASSERT(c->cr4 & CR4_FSGSBASE);
	c->gpr[R_AX] = 0x00007fff12345000ull;
	CU_ASSERT_EQUAL(exec_insn(c, wrfs, sizeof(wrfs)), EXEC_OK);
	CU_ASSERT_EQUAL(c->seg[SEG_FS].base, 0x00007fff12345000ull);
	CU_ASSERT_EQUAL(exec_insn(c, rdfs, sizeof(rdfs)), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_CX], 0x00007fff12345000ull);
	/* 32-bit forms zero-extend */
	c->gpr[R_AX] = 0xffffffff87654321ull;
	CU_ASSERT_EQUAL(exec_insn(c, wrgs32, sizeof(wrgs32)), EXEC_OK);
	CU_ASSERT_EQUAL(c->seg[SEG_GS].base, 0x87654321ull);
	c->gpr[R_CX] = ~0ull;
	CU_ASSERT_EQUAL(exec_insn(c, rdgs32, sizeof(rdgs32)), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_CX], 0x87654321ull);
	/* non-canonical: #GP(0), base unchanged */
	c->gpr[R_AX] = 0x0100000000000000ull;   /* not canonical even for 57 bits (Ice Lake has LA57) */
	expect_fault(c, wrfs, sizeof(wrfs), VEC_GP);
	CU_ASSERT_EQUAL(c->seg[SEG_FS].base, 0x00007fff12345000ull);
	/* the new base is used by FS: accesses: mov rax, fs:[0] */
	put64(h, 0x9000, 0x1122334455667788ull);
	c->gpr[R_AX] = 0x9000;
	CU_ASSERT_EQUAL(exec_insn(c, wrfs, sizeof(wrfs)), EXEC_OK);
	const uint8_t load[] = { 0x64, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00 };
	CU_ASSERT_EQUAL(exec_insn(c, load, sizeof(load)), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x1122334455667788ull);
	/* memory operand and outside 64-bit mode: #UD */
	const uint8_t mem[] = { 0xf3, 0x0f, 0xae, 0x00 };
	expect_fault(c, mem, sizeof(mem), VEC_UD);
	harness_destroy(h);
	h = sysenv_prot32();
	h->cpu.cr4 |= CR4_FSGSBASE;
	expect_fault(&h->cpu, rdgs32, sizeof(rdgs32), VEC_UD);
	harness_destroy(h);
}

static void test_monitor_mwait(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	const uint8_t monitor[] = { 0x0f, 0x01, 0xc8 }, mwait[] = { 0x0f, 0x01, 0xc9 };
	c->gpr[R_AX] = 0x9000;
	c->gpr[R_CX] = 0;
	c->gpr[R_DX] = 0;
	CU_ASSERT_EQUAL(exec_insn(c, monitor, 3), EXEC_OK);
	CU_ASSERT_EQUAL(exec_insn(c, mwait, 3), EXEC_OK);
	/* ECX extensions: MONITOR none; MWAIT bit 0 only (CPUID.05H:ECX[1] = 1) */
	c->gpr[R_CX] = 1;
	expect_fault(c, monitor, 3, VEC_GP);
	CU_ASSERT_EQUAL(exec_insn(c, mwait, 3), EXEC_OK);
	c->gpr[R_CX] = 2;
	expect_fault(c, mwait, 3, VEC_GP);
	c->gpr[R_CX] = 0;
	/* a 66 prefix: #UD (the SDM's "#UD If ... operand size override") */
	const uint8_t monitor66[] = { 0x66, 0x0f, 0x01, 0xc8 };
	expect_fault(c, monitor66, 4, VEC_UD);
	/* a non-canonical monitor address: #GP(0); an unmapped one: #PF */
	c->gpr[R_AX] = 0x8000000000000000ull;
	expect_fault(c, monitor, 3, VEC_GP);
	c->gpr[R_AX] = 0x40000000ull;   /* above the 1 GiB identity map */
	expect_fault(c, monitor, 3, VEC_PF);
	CU_ASSERT_EQUAL(c->exc.cr2, 0x40000000ull);
	/* IA32_MISC_ENABLE[18] = 0: CPUID.01H:ECX.MONITOR clear, both #UD */
	uint32_t r[4];
	c->gpr[R_AX] = 0x9000;
	CU_ASSERT(c->msr.misc_enable & MISC_ENABLE_MONITOR);
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_MISC_ENABLE, c->msr.misc_enable & ~MISC_ENABLE_MONITOR));
	cpu_cpuid(c, 1, 0, r);
	CU_ASSERT_EQUAL(r[2] & (1u << (FEAT_MONITOR & 31)), 0);
	expect_fault(c, monitor, 3, VEC_UD);
	expect_fault(c, mwait, 3, VEC_UD);
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_MISC_ENABLE, c->msr.misc_enable | MISC_ENABLE_MONITOR));
	cpu_cpuid(c, 1, 0, r);
	CU_ASSERT_NOT_EQUAL(r[2] & (1u << (FEAT_MONITOR & 31)), 0);
	CU_ASSERT_EQUAL(exec_insn(c, monitor, 3), EXEC_OK);
	/* CPL 3: #UD */
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	expect_fault(c, monitor, 3, VEC_UD);
	expect_fault(c, mwait, 3, VEC_UD);
	harness_destroy(h);
}

/* CPUID leaf 5 on a model with MONITOR; zero and MISC_ENABLE[18] clear and
 * read-only (a write that sets it is #GP) on one without (core2). */
static void test_monitor_leaf(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	uint32_t r[4];
	cpu_cpuid(c, 5, 0, r);
	CU_ASSERT_EQUAL(r[0], 64);
	CU_ASSERT_EQUAL(r[1], 64);
	CU_ASSERT_EQUAL(r[2], 3);
	CU_ASSERT_EQUAL(r[3], 0x10);
	c->model = cpu_model_find("core2");
	cpu_msr_reset(c);
	CU_ASSERT_EQUAL(c->msr.misc_enable & MISC_ENABLE_MONITOR, 0);
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_MISC_ENABLE, c->msr.misc_enable | MISC_ENABLE_MONITOR));
	cpu_cpuid(c, 5, 0, r);
	CU_ASSERT_EQUAL(r[0] | r[1] | r[2] | r[3], 0);
	cpu_cpuid(c, 1, 0, r);
	CU_ASSERT_EQUAL(r[2] & (1u << (FEAT_MONITOR & 31)), 0);
	const uint8_t monitor[] = { 0x0f, 0x01, 0xc8 };
	c->gpr[R_AX] = 0x9000;
	c->gpr[R_CX] = 0;
	expect_fault(c, monitor, 3, VEC_UD);
	harness_destroy(h);
}

static void test_cache_lines(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	const uint8_t clflushopt[] = { 0x66, 0x0f, 0xae, 0x38 }, clwb[] = { 0x66, 0x0f, 0xae, 0x30 };
	c->gpr[R_AX] = 0x9000;
	CU_ASSERT_EQUAL(exec_insn(c, clflushopt, 4), EXEC_OK);
	CU_ASSERT_EQUAL(exec_insn(c, clwb, 4), EXEC_OK);
	c->gpr[R_AX] = 0x40000000ull;
	expect_fault(c, clflushopt, 4, VEC_PF);
	expect_fault(c, clwb, 4, VEC_PF);
	/* register form of /6: not CLWB (TPAUSE, not offered) */
	const uint8_t reg[] = { 0x66, 0x0f, 0xae, 0xf0 | R_SI };
	expect_fault(c, reg, 4, VEC_UD);
	/* Haswell has neither */
	c->model = cpu_model_find("haswell");
	c->gpr[R_AX] = 0x9000;
	expect_fault(c, clflushopt, 4, VEC_UD);
	expect_fault(c, clwb, 4, VEC_UD);
	harness_destroy(h);
}

/* ENDBR64/ENDBR32 (F3 0F 1E FA/FB) and PREFETCHW are NOPs on these models. */
static void test_hint_nops(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	const uint8_t code[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0xf3, 0x0f, 0x1e, 0xfb, 0x0f, 0x0d, 0x08,
				 0x0f, 0x18, 0x08, 0xb8, 0x07, 0x00, 0x00, 0x00, 0xf4 };
	c->gpr[R_AX] = 0x40000000ull;   /* a prefetch of an unmapped address does not fault */
	struct insn i;
	struct decode_mode m = { 1, 0 };
	CU_ASSERT_EQUAL(cpu_decode(code, sizeof(code), m, &i), DECODE_OK);
	CU_ASSERT_EQUAL(i.len, 4);
	c->gpr[R_AX] = 0x40000000ull;
	CU_ASSERT_EQUAL(harness_run(h, code, sizeof(code)), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 7);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + sizeof(code));
	harness_destroy(h);
}

/* ENTER 16, 3 in 64-bit mode: push RBP, copy two frame pointers from the
 * old frame, push the new frame pointer, then RSP -= 16 (SDM vol. 2 ENTER). */
static void test_enter_nested(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	const uint8_t enter[] = { 0xc8, 0x10, 0x00, 0x03 };
	c->gpr[R_SP] = 0x8000;
	c->gpr[R_BP] = 0x8100;
	put64(h, 0x8100 - 8, 0xaaaa);
	put64(h, 0x8100 - 16, 0xbbbb);
	CU_ASSERT_EQUAL(exec_insn(c, enter, sizeof(enter)), EXEC_OK);
	CU_ASSERT_EQUAL(get64(h, 0x8000 - 8), 0x8100);     /* old RBP */
	CU_ASSERT_EQUAL(get64(h, 0x8000 - 16), 0xaaaa);
	CU_ASSERT_EQUAL(get64(h, 0x8000 - 24), 0xbbbb);
	CU_ASSERT_EQUAL(get64(h, 0x8000 - 32), 0x8000 - 8); /* FrameTemp */
	CU_ASSERT_EQUAL(c->gpr[R_BP], 0x8000 - 8);
	CU_ASSERT_EQUAL(c->gpr[R_SP], 0x8000 - 32 - 16);
	harness_destroy(h);
}

void suite_cpu_isa_sys(void)
{
	CU_pSuite s = CU_add_suite("cpu_isa_sys", NULL, NULL);
	CU_add_test(s, "RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE", test_fsgsbase);
	CU_add_test(s, "MONITOR/MWAIT", test_monitor_mwait);
	CU_add_test(s, "CPUID leaf 5 and MISC_ENABLE[18]", test_monitor_leaf);
	CU_add_test(s, "CLFLUSHOPT/CLWB", test_cache_lines);
	CU_add_test(s, "ENDBR and prefetch hints are NOPs", test_hint_nops);
	CU_add_test(s, "ENTER with nesting level 3", test_enter_nested);
}
