/* cpu/seg.c and cpu/dtable.c: segment-register loads and their faults,
 * accessed bits, MOV SS shadow, LTR busy bit, VERR/VERW, LGDT/SGDT sizes. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/sysenv.h"

static void assert_fault(const struct cpu *c, unsigned vec, uint32_t err)
{
	CU_ASSERT_EQUAL(c->exc.vector, vec);
	CU_ASSERT(c->exc.has_error);
	CU_ASSERT_EQUAL(c->exc.error, err);
}

/* MOV DS at CPL 3 with a DPL-0 data selector is #GP(selector); the register
 * keeps its old value. */
static void test_data_privilege(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	uint16_t before = c->seg[SEG_DS].sel;
	CU_ASSERT_FALSE(seg_load(c, SEG_DS, K_DS));
	assert_fault(c, VEC_GP, K_DS);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].sel, before);
	CU_ASSERT(seg_load(c, SEG_DS, U_DS));
	CU_ASSERT_EQUAL(c->seg[SEG_DS].sel, U_DS);
	/* A null selector is fine for DS and makes it unusable. */
	CU_ASSERT(seg_load(c, SEG_DS, 0));
	CU_ASSERT(c->seg[SEG_DS].ar & AR_UNUSABLE);
	harness_destroy(h);
}

/* SS: null is #GP(0) outside 64-bit mode; RPL/DPL must equal CPL; a
 * not-present SS is #SS(selector), a not-present DS #NP(selector). */
static void test_ss_rules(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	CU_ASSERT_FALSE(seg_load(c, SEG_SS, 0));
	assert_fault(c, VEC_GP, 0);
	CU_ASSERT_FALSE(seg_load(c, SEG_SS, U_DS));            /* RPL 3 at CPL 0 */
	assert_fault(c, VEC_GP, U_DS & ~3u);
	CU_ASSERT_FALSE(seg_load(c, SEG_SS, K_CS));            /* code */
	assert_fault(c, VEC_GP, K_CS);
	gdt_put(h, 0x38, 0x00cf13000000ffffull);               /* data, not present */
	c->gdtr.limit = 0x3f;
	CU_ASSERT_FALSE(seg_load(c, SEG_SS, 0x38));
	assert_fault(c, VEC_SS, 0x38);
	CU_ASSERT_FALSE(seg_load(c, SEG_DS, 0x38));
	assert_fault(c, VEC_NP, 0x38);
	CU_ASSERT_FALSE(seg_load(c, SEG_DS, 0x40));            /* past the GDT limit */
	assert_fault(c, VEC_GP, 0x40);
	CU_ASSERT_FALSE(seg_load(c, SEG_DS, 0x0c));            /* LDT, none loaded */
	assert_fault(c, VEC_GP, 0x0c);
	harness_destroy(h);
}

/* 64-bit mode allows a null SS at CPL < 3 when RPL = CPL. */
static void test_null_ss_64(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	CU_ASSERT(seg_load(c, SEG_SS, 0));
	CU_ASSERT(c->seg[SEG_SS].ar & AR_UNUSABLE);
	CU_ASSERT_FALSE(seg_load(c, SEG_SS, 3));
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	CU_ASSERT_FALSE(seg_load(c, SEG_SS, 3));
	assert_fault(c, VEC_GP, 0);
	harness_destroy(h);
}

/* Loading a descriptor sets its accessed bit in the GDT. */
static void test_accessed_bit(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	gdt_put(h, 0x10, 0x00cf92000000ffffull);
	CU_ASSERT(seg_load(c, SEG_ES, K_DS));
	CU_ASSERT((gdt_get(h, 0x10) & (1ull << 40)) != 0);
	CU_ASSERT(c->seg[SEG_ES].ar & AR_TYPE_ACCESSED);
	CU_ASSERT_EQUAL(c->seg[SEG_ES].limit, 0xffffffffu);
	harness_destroy(h);
}

/* Real mode: base = selector << 4. */
static void test_real_mode_load(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	c->cr0 &= ~CR0_PE;
	cpu_mode_changed(c);
	CU_ASSERT(seg_load(c, SEG_DS, 0x1234));
	CU_ASSERT_EQUAL(c->seg[SEG_DS].base, 0x12340);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].sel, 0x1234);
	harness_destroy(h);
}

/* MOV SS and POP SS set the interrupt shadow (32-bit mode: POP SS does not
 * exist in 64-bit mode). */
static void test_mov_ss_shadow(void)
{
	const uint8_t mov_ss_ax[] = { 0x8e, 0xd0 }, pop_ss[] = { 0x17 };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	c->gpr[R_AX] = K_DS;
	CU_ASSERT_EQUAL(exec_insn(c, mov_ss_ax, sizeof(mov_ss_ax)), EXEC_OK);
	CU_ASSERT(c->mov_ss_shadow);
	c->mov_ss_shadow = false;
	put32(h, STACK_TOP - 4, K_DS);
	c->gpr[R_SP] = STACK_TOP - 4;
	CU_ASSERT_EQUAL(exec_insn(c, pop_ss, sizeof(pop_ss)), EXEC_OK);
	CU_ASSERT(c->mov_ss_shadow);
	CU_ASSERT_EQUAL(c->gpr[R_SP], STACK_TOP);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, K_DS);
	harness_destroy(h);
}

/* LTR marks the TSS busy; a second LTR of a busy TSS is #GP(selector). */
static void test_ltr_busy(void)
{
	const uint8_t ltr_ax[] = { 0x0f, 0x00, 0xd8 }, str_bx[] = { 0x0f, 0x00, 0xcb };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	gdt_put(h, 0x38, sys_desc(0x6000, 0x67, SYS_TSS_AVAIL));
	c->gpr[R_AX] = 0x38;
	CU_ASSERT_EQUAL(exec_insn(c, ltr_ax, sizeof(ltr_ax)), EXEC_OK);
	CU_ASSERT_EQUAL(c->tr.sel, 0x38);
	CU_ASSERT_EQUAL(c->tr.base, 0x6000);
	CU_ASSERT_EQUAL(c->tr.ar & AR_TYPE_MASK, SYS_TSS_BUSY);
	CU_ASSERT_EQUAL((gdt_get(h, 0x38) >> 40) & 0xf, SYS_TSS_BUSY);
	CU_ASSERT_EQUAL(exec_insn(c, ltr_ax, sizeof(ltr_ax)), EXEC_FAULT);
	assert_fault(c, VEC_GP, 0x38);
	c->gpr[R_BX] = ~0ull;
	CU_ASSERT_EQUAL(exec_insn(c, str_bx, sizeof(str_bx)), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_BX] & 0xffffffffu, 0x38);     /* zero-extended r32 */
	harness_destroy(h);
}

/* VERR/VERW set ZF without faulting. */
static void test_verr_verw(void)
{
	const uint8_t verr_ax[] = { 0x0f, 0x00, 0xe0 }, verw_ax[] = { 0x0f, 0x00, 0xe8 };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	struct { uint16_t sel; bool r, w; } cases[] = {
		{ U_DS, true, true }, { K_DS, false, false }, { U_CS32, true, false },
		{ 0, false, false }, { 0x1f8, false, false },
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		c->gpr[R_AX] = cases[k].sel;
		CU_ASSERT_EQUAL(exec_insn(c, verr_ax, sizeof(verr_ax)), EXEC_OK);
		CU_ASSERT_EQUAL((cpu_get_rflags(c) & FL_ZF) != 0, cases[k].r);
		CU_ASSERT_EQUAL(exec_insn(c, verw_ax, sizeof(verw_ax)), EXEC_OK);
		CU_ASSERT_EQUAL((cpu_get_rflags(c) & FL_ZF) != 0, cases[k].w);
	}
	harness_destroy(h);
}

/* LGDT with a 16-bit operand keeps 24 base bits; SGDT in 64-bit mode
 * stores 10 bytes. */
static void test_gdtr_sizes(void)
{
	const uint8_t o16_lgdt[] = { 0x66, 0x0f, 0x01, 0x15, 0x00, 0x80, 0x00, 0x00 }; /* lgdt [0x8000] */
	const uint8_t sgdt64[] = { 0x0f, 0x01, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00 };   /* sgdt [0x9000] */
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	uint8_t ptr[6] = { 0x7f, 0x00, 0x00, 0x30, 0x00, 0xab };
	phys_copy_in(&h->pm, 0x8000, ptr, 6);
	CU_ASSERT_EQUAL(exec_insn(c, o16_lgdt, sizeof(o16_lgdt)), EXEC_OK);
	CU_ASSERT_EQUAL(c->gdtr.base, 0x3000);
	CU_ASSERT_EQUAL(c->gdtr.limit, 0x7f);
	harness_destroy(h);

	h = sysenv_long();
	c = &h->cpu;
	c->gdtr.base = 0xffff800000003000ull;
	CU_ASSERT_EQUAL(exec_insn(c, sgdt64, sizeof(sgdt64)), EXEC_OK);
	CU_ASSERT_EQUAL(get64(h, 0x9002), 0xffff800000003000ull);
	harness_destroy(h);
}

void suite_cpu_seg(void)
{
	CU_pSuite s = CU_add_suite("cpu_seg", NULL, NULL);
	CU_add_test(s, "data segment privilege", test_data_privilege);
	CU_add_test(s, "SS load rules", test_ss_rules);
	CU_add_test(s, "null SS in 64-bit mode", test_null_ss_64);
	CU_add_test(s, "accessed bit", test_accessed_bit);
	CU_add_test(s, "real-mode load", test_real_mode_load);
	CU_add_test(s, "MOV SS / POP SS shadow", test_mov_ss_shadow);
	CU_add_test(s, "LTR busy bit", test_ltr_busy);
	CU_add_test(s, "VERR/VERW", test_verr_verw);
	CU_add_test(s, "LGDT/SGDT operand sizes", test_gdtr_sizes);
}
