/* ENTER by operand size and stack size (SDM vol. 2 ENTER, Operation), and
 * instructions gated on a feature no model reports (CRC32 needs SSE4.2). */
#include <CUnit/CUnit.h>

#include "cpu/cpuid.h"
#include "cpu/model.h"
#include "tests/unit/cpu/sysenv.h"

static uint16_t get16(struct harness *h, uint64_t pa)
{
	uint16_t v;
	phys_copy_out(&h->pm, pa, &v, 2);
	return v;
}

static void put16(struct harness *h, uint64_t pa, uint16_t v)
{
	phys_copy_in(&h->pm, pa, &v, 2);
}

/* 64-bit mode, 66 C8: word pushes, RSP by 64 bits, only BP takes FrameTemp
 * (RBP[63:16] stay, as on the host CPU). */
static void test_enter16_on_stack64(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	const uint8_t enter0[] = { 0x66, 0xc8, 0x10, 0x00, 0x00 };      /* enter 16, 0 (o16) */
	const uint8_t enter2[] = { 0x66, 0xc8, 0x04, 0x00, 0x02 };      /* enter 4, 2 (o16) */
	c->gpr[R_SP] = 0x8000;
	c->gpr[R_BP] = 0x1122334455660100ull;
	CU_ASSERT_EQUAL(exec_insn(c, enter0, sizeof(enter0)), EXEC_OK);
	CU_ASSERT_EQUAL(get16(h, 0x7ffe), 0x0100);
	CU_ASSERT_EQUAL(c->gpr[R_BP], 0x1122334455667ffeull);
	CU_ASSERT_EQUAL(c->gpr[R_SP], 0x7ffe - 0x10);
	/* level 2: one word copied from [RBP - 2], then FrameTemp */
	c->gpr[R_SP] = 0x8000;
	c->gpr[R_BP] = 0x18100;
	put16(h, 0x180fe, 0x4444);
	CU_ASSERT_EQUAL(exec_insn(c, enter2, sizeof(enter2)), EXEC_OK);
	CU_ASSERT_EQUAL(get16(h, 0x7ffe), 0x8100);
	CU_ASSERT_EQUAL(get16(h, 0x7ffc), 0x4444);
	CU_ASSERT_EQUAL(get16(h, 0x7ffa), 0x7ffe);
	CU_ASSERT_EQUAL(c->gpr[R_BP], 0x17ffe);
	CU_ASSERT_EQUAL(c->gpr[R_SP], 0x7ffa - 4);
	harness_destroy(h);
}

/* A fault while copying frame pointers leaves RSP and RBP unchanged. */
static void test_enter_fault_restores(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	const uint8_t enter3[] = { 0xc8, 0x00, 0x00, 0x03 };
	c->gpr[R_SP] = 0x8000;
	c->gpr[R_BP] = 0x40000010ull;           /* [RBP - 8] is beyond RAM: #PF */
	c->exc.vector = 0xff;
	CU_ASSERT_EQUAL(exec_insn(c, enter3, sizeof(enter3)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_PF);
	CU_ASSERT_EQUAL(c->exc.cr2, 0x40000008ull);
	CU_ASSERT_EQUAL(c->gpr[R_SP], 0x8000);
	CU_ASSERT_EQUAL(c->gpr[R_BP], 0x40000010ull);
	harness_destroy(h);
}

/* 32-bit stack, 66 C8: only BP takes FrameTemp (EBP[31:16] stay, as on the
 * host CPU), ESP moves by 32 bits. */
static void test_enter16_on_stack32(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	const uint8_t enter0[] = { 0x66, 0xc8, 0x08, 0x00, 0x00 };
	c->gpr[R_SP] = 0x8000;
	c->gpr[R_BP] = 0x11220100;
	CU_ASSERT_EQUAL(exec_insn(c, enter0, sizeof(enter0)), EXEC_OK);
	CU_ASSERT_EQUAL(get16(h, 0x7ffe), 0x0100);
	CU_ASSERT_EQUAL(c->gpr[R_BP], 0x11227ffe);
	CU_ASSERT_EQUAL(c->gpr[R_SP], 0x7ffe - 8);
	harness_destroy(h);
}

/* 16-bit stack (SS.B = 0), 32-bit operand size: doubleword pushes at SP,
 * BP steps by 4 within 16 bits, FrameTemp is all of ESP, and only BP and SP
 * are written (StackSize = 16: "BP := FrameTemp; SP := SP - AllocSize"). */
static void test_enter32_on_stack16(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	gdt_put(h, 0x38, 0x008f93000000ffffull);       /* data, base 0, limit 4 GiB, B = 0 */
	load_seg(c, SEG_SS, 0x38, gdt_get(h, 0x38));
	cpu_mode_changed(c);
	const uint8_t enter2[] = { 0xc8, 0x20, 0x00, 0x02 };
	c->gpr[R_SP] = 0xabcd8010u;
	c->gpr[R_BP] = 0x55668100u;
	put32(h, 0x80fc, 0xdeadbeef);
	CU_ASSERT_EQUAL(exec_insn(c, enter2, sizeof(enter2)), EXEC_OK);
	CU_ASSERT_EQUAL(get32(h, 0x800c), 0x55668100u);
	CU_ASSERT_EQUAL(get32(h, 0x8008), 0xdeadbeefu);
	CU_ASSERT_EQUAL(get32(h, 0x8004), 0xabcd800cu);
	CU_ASSERT_EQUAL(c->gpr[R_BP], 0x5566800cu);
	CU_ASSERT_EQUAL(c->gpr[R_SP], 0xabcd7fe4u);
	harness_destroy(h);
}

/* CRC32 is SSE4.2, which no model reports: #UD on every model, registers
 * unchanged, and CPUID.01H:ECX.SSE4_2[bit 20] reads 0 (SDM vol. 2 CRC32,
 * "#UD If CPUID.01H:ECX.SSE4_2 [Bit 20] = 0"). */
static void test_crc32_gated(void)
{
	static const char *const models[] = { "icelake-server", "haswell", "core2" };
	static const uint8_t forms[][6] = {
		{ 0xf2, 0x0f, 0x38, 0xf0, 0xc1 },               /* crc32 eax, cl */
		{ 0xf2, 0x0f, 0x38, 0xf1, 0xc1 },               /* crc32 eax, ecx */
		{ 0x66, 0xf2, 0x0f, 0x38, 0xf1, 0xc1 },         /* crc32 eax, cx */
	};
	static const unsigned len[] = { 5, 5, 6 };
	for (size_t m = 0; m < sizeof(models) / sizeof(models[0]); m++) {
		struct harness *h = sysenv_long();
		struct cpu *c = &h->cpu;
		c->model = cpu_model_find(models[m]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c->model);
		uint32_t r[4];
		cpu_cpuid(c, 1, 0, r);
		CU_ASSERT_EQUAL(r[2] & (1u << (FEAT_SSE4_2 & 31)), 0);
		for (size_t k = 0; k < 3; k++) {
			c->gpr[R_AX] = 0x12345678;
			c->gpr[R_CX] = 0x9abc;
			c->exc.vector = 0xff;
			CU_ASSERT_EQUAL(exec_insn(c, forms[k], len[k]), EXEC_FAULT);
			CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
			CU_ASSERT_EQUAL(c->gpr[R_AX], 0x12345678);
		}
		harness_destroy(h);
	}
}

void suite_cpu_enter(void)
{
	CU_pSuite s = CU_add_suite("cpu_enter", NULL, NULL);
	CU_add_test(s, "ENTER o16 on a 64-bit stack", test_enter16_on_stack64);
	CU_add_test(s, "ENTER fault restores RSP/RBP", test_enter_fault_restores);
	CU_add_test(s, "ENTER o16 on a 32-bit stack", test_enter16_on_stack32);
	CU_add_test(s, "ENTER o32 on a 16-bit stack", test_enter32_on_stack16);
	CU_add_test(s, "CRC32 is #UD on every model (no SSE4.2)", test_crc32_gated);
}
