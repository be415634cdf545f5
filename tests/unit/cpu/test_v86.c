/* Virtual-8086 mode (SDM vol. 3A chapter 20): entering by IRET, the
 * IOPL-sensitive instructions with and without CR4.VME (VIF/VIP), the
 * interrupt redirection bitmap (Table 20-2), leaving through an interrupt
 * gate (GS/FS/DS/ES pushed and nulled), I/O through the bitmap whatever
 * IOPL, and CR4.PVI at CPL 3. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/sysenv.h"

#define IOMAP 0x88u             /* redirection bitmap at TSS+0x68, I/O bitmap at TSS+0x88 */
#define V86_CS 0x2000u
#define V86_SS 0x3000u
#define V86_SP 0x100u

/* sysenv_prot32 with a TSS that has both bitmaps (all zero: every port
 * allowed, every INT n redirected), then virtual-8086 mode at CS:0. */
static struct harness *v86_env(unsigned iopl, bool vme)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	gdt_put(h, TSS32_SEL, sys_desc(TSS_BASE, IOMAP + 0x2000, SYS_TSS_BUSY));
	seg_from_desc(&c->tr, TSS32_SEL, gdt_get(h, TSS32_SEL));
	put32(h, TSS_BASE + 0x64, IOMAP << 16);
	c->cr4 |= vme ? CR4_VME : 0;
	cpu_set_rflags(c, FL_FIXED1 | FL_VM | FL_IF | (uint64_t)iopl << 12);
	seg_load_v86(c, SEG_CS, V86_CS);
	seg_load_v86(c, SEG_SS, V86_SS);
	for (unsigned s = SEG_DS; s <= SEG_GS; s++)
		seg_load_v86(c, s, 0x1000 + s);
	seg_load_v86(c, SEG_ES, 0x1000);
	c->gpr[R_SP] = V86_SP;
	c->rip = 0;
	cpu_mode_changed(c);
	return h;
}

static uint16_t get16(struct harness *h, uint64_t pa)
{
	uint16_t v = 0;
	phys_copy_out(&h->pm, pa, &v, 2);
	return v;
}

static void expect_gp0(struct cpu *c, const uint8_t *code, unsigned len)
{
	CU_ASSERT_EQUAL(exec_insn(c, code, len), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
}

/* IRETD at CPL 0 with VM = 1 pops EIP CS EFLAGS ESP SS ES DS FS GS. */
static void test_iret_enters_v86(void)
{
	const uint8_t iretd[] = { 0xcf };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	uint32_t frame[9] = { 0x10, V86_CS, FL_FIXED1 | FL_VM, V86_SP, V86_SS, 0x1111, 0x2222, 0x3333, 0x4444 };
	phys_copy_in(&h->pm, STACK_TOP - 36, frame, sizeof(frame));
	c->gpr[R_SP] = STACK_TOP - 36;
	CU_ASSERT_EQUAL(exec_insn(c, iretd, sizeof(iretd)), EXEC_OK);
	CU_ASSERT_EQUAL(c->cpl, 3);
	CU_ASSERT(cpu_v86(c));
	CU_ASSERT_EQUAL(c->next_rip, 0x10);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].base, V86_CS << 4);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].base, V86_SS << 4);
	CU_ASSERT_EQUAL(c->seg[SEG_ES].sel, 0x1111);
	CU_ASSERT_EQUAL(c->seg[SEG_GS].base, 0x44440);
	CU_ASSERT_EQUAL(c->gpr[R_SP], V86_SP);
	harness_destroy(h);
}

/* Without VME, IOPL < 3 makes CLI STI PUSHF POPF INT n IRET #GP(0). */
static void test_iopl_sensitive(void)
{
	const uint8_t cli[] = { 0xfa }, sti[] = { 0xfb }, pushf[] = { 0x9c }, popf[] = { 0x9d };
	const uint8_t int21[] = { 0xcd, 0x21 }, iret[] = { 0xcf };
	struct harness *h = v86_env(0, false);
	struct cpu *c = &h->cpu;
	expect_gp0(c, cli, 1);
	expect_gp0(c, sti, 1);
	expect_gp0(c, pushf, 1);
	expect_gp0(c, popf, 1);
	expect_gp0(c, int21, 2);
	expect_gp0(c, iret, 1);
	CU_ASSERT(c->rflags & FL_IF);
	cpu_set_rflags(c, c->rflags | FL_IOPL);                 /* IOPL 3: CLI acts on IF */
	CU_ASSERT_EQUAL(exec_insn(c, cli, 1), EXEC_OK);
	CU_ASSERT_FALSE(c->rflags & FL_IF);
	harness_destroy(h);
}

/* VME: CLI/STI on VIF; STI with VIP set is #GP(0); 16-bit PUSHF pushes
 * VIF as IF and IOPL 3; PUSHFD stays #GP(0); POPF moves IF to VIF and
 * refuses TF = 1. */
static void test_vme_flags(void)
{
	const uint8_t cli[] = { 0xfa }, sti[] = { 0xfb }, pushf[] = { 0x9c }, pushfd[] = { 0x66, 0x9c };
	const uint8_t popf[] = { 0x9d };
	struct harness *h = v86_env(0, true);
	struct cpu *c = &h->cpu;
	uint32_t ss = V86_SS << 4;
	CU_ASSERT_EQUAL(exec_insn(c, cli, 1), EXEC_OK);
	CU_ASSERT(c->rflags & FL_IF);
	CU_ASSERT_FALSE(c->rflags & FL_VIF);
	CU_ASSERT_EQUAL(exec_insn(c, pushf, 1), EXEC_OK);
	CU_ASSERT_EQUAL(get16(h, ss + V86_SP - 2), FL_FIXED1 | FL_IOPL);       /* IF = VIF = 0 */
	CU_ASSERT_EQUAL(exec_insn(c, sti, 1), EXEC_OK);
	CU_ASSERT(c->rflags & FL_VIF);
	c->gpr[R_SP] = V86_SP;
	CU_ASSERT_EQUAL(exec_insn(c, pushf, 1), EXEC_OK);
	CU_ASSERT_EQUAL(get16(h, ss + V86_SP - 2), FL_FIXED1 | FL_IOPL | FL_IF);
	expect_gp0(c, pushfd, 2);
	/* POPF: IF = 0 popped -> VIF = 0, IF unchanged, IOPL unchanged. */
	put32(h, ss + V86_SP - 2, FL_FIXED1 | FL_CF | FL_IOPL);
	c->gpr[R_SP] = V86_SP - 2;
	CU_ASSERT_EQUAL(exec_insn(c, popf, 1), EXEC_OK);
	CU_ASSERT_FALSE(c->rflags & FL_VIF);
	CU_ASSERT(c->rflags & FL_IF);
	CU_ASSERT_EQUAL(c->rflags & FL_IOPL, 0);
	CU_ASSERT(cpu_get_rflags(c) & FL_CF);
	CU_ASSERT_EQUAL(c->gpr[R_SP], V86_SP);
	put32(h, ss + V86_SP - 2, FL_FIXED1 | FL_TF);
	c->gpr[R_SP] = V86_SP - 2;
	expect_gp0(c, popf, 1);
	CU_ASSERT_EQUAL(c->gpr[R_SP], V86_SP - 2);
	c->rflags |= FL_VIP;                                    /* pending virtual interrupt */
	expect_gp0(c, sti, 1);
	put32(h, ss + V86_SP - 2, FL_FIXED1 | FL_IF);
	expect_gp0(c, popf, 1);
	harness_destroy(h);
}

/* VME, IOPL 0, redirection bit clear: INT n goes to the 8086 handler from
 * the IVT, FLAGS (IF = VIF, IOPL 3) CS IP on the virtual-8086 stack, VIF
 * cleared. With the bit set it is #GP(0). */
static void test_int_redirected(void)
{
	const uint8_t int21[] = { 0xcd, 0x21 };
	struct harness *h = v86_env(0, true);
	struct cpu *c = &h->cpu;
	uint32_t ss = V86_SS << 4;
	put32(h, 0x21 * 4, 0x40 | 0x2500u << 16);
	c->rflags |= FL_VIF;
	c->rip = 0x30;
	CU_ASSERT_EQUAL(exec_insn(c, int21, 2), EXEC_OK);
	CU_ASSERT_EQUAL(c->next_rip, 0x40);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].base, 0x25000);
	CU_ASSERT_FALSE(c->rflags & FL_VIF);
	CU_ASSERT(c->rflags & FL_IF);
	CU_ASSERT(c->rflags & FL_VM);
	CU_ASSERT_EQUAL(c->gpr[R_SP], V86_SP - 6);
	CU_ASSERT_EQUAL(get16(h, ss + V86_SP - 6), 0x32);                       /* IP after INT */
	CU_ASSERT_EQUAL(get16(h, ss + V86_SP - 4), V86_CS);
	CU_ASSERT_EQUAL(get16(h, ss + V86_SP - 2), FL_FIXED1 | FL_IOPL | FL_IF);
	put32(h, TSS_BASE + 0x68 + 0x21 / 8, 1u << (0x21 & 7));              /* bit set */
	c->gpr[R_SP] = V86_SP;
	expect_gp0(c, int21, 2);
	harness_destroy(h);
}

/* IOPL 3, no VME: INT n through a DPL-3 interrupt gate to ring 0. The frame
 * on the ring-0 stack holds GS FS DS ES SS ESP EFLAGS CS EIP; DS..GS become
 * null, VM is cleared. */
static void test_int_leaves_v86(void)
{
	const uint8_t int30[] = { 0xcd, 0x30 }, hlt[] = { 0xf4 };
	struct harness *h = v86_env(3, false);
	struct cpu *c = &h->cpu;
	uint64_t gate = (KERNEL_CODE & 0xffff) | ((uint64_t)K_CS << 16) | (0xeeull << 40) |
			((uint64_t)(KERNEL_CODE >> 16) << 48);
	put64(h, IDT_BASE + 8 * 0x30, gate);
	put_code(h, KERNEL_CODE, hlt, 1);
	put_code(h, V86_CS << 4, int30, 2);
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_FALSE(c->rflags & FL_VM);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RSP0 - 36);
	CU_ASSERT_EQUAL(get32(h, RSP0 - 36), 2);                /* EIP after INT */
	CU_ASSERT_EQUAL(get32(h, RSP0 - 32), V86_CS);
	CU_ASSERT(get32(h, RSP0 - 28) & FL_VM);
	CU_ASSERT_EQUAL(get32(h, RSP0 - 24), V86_SP);
	CU_ASSERT_EQUAL(get32(h, RSP0 - 20), V86_SS);
	CU_ASSERT_EQUAL(get32(h, RSP0 - 16), 0x1000);            /* ES */
	CU_ASSERT_EQUAL(get32(h, RSP0 - 12), 0x1000 + SEG_DS);
	CU_ASSERT_EQUAL(get32(h, RSP0 - 4), 0x1000 + SEG_GS);
	CU_ASSERT(c->seg[SEG_DS].ar & AR_UNUSABLE);
	CU_ASSERT_EQUAL(c->seg[SEG_GS].sel, 0);
	harness_destroy(h);
}

/* I/O in virtual-8086 mode always consults the bitmap, even at IOPL 3. */
static void test_io_bitmap(void)
{
	const uint8_t out80[] = { 0xe6, 0x80 };
	struct harness *h = v86_env(3, false);
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(exec_insn(c, out80, 2), EXEC_OK);
	put32(h, TSS_BASE + IOMAP + 0x80 / 8, 1);
	expect_gp0(c, out80, 2);
	harness_destroy(h);
}

/* CR4.PVI: CLI/STI at CPL 3 with IOPL < 3 act on VIF; without PVI #GP(0). */
static void test_pvi(void)
{
	const uint8_t cli[] = { 0xfa }, sti[] = { 0xfb };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	cpu_set_rflags(c, FL_FIXED1 | FL_IF | FL_VIF);
	expect_gp0(c, cli, 1);
	c->cr4 |= CR4_PVI;
	CU_ASSERT_EQUAL(exec_insn(c, cli, 1), EXEC_OK);
	CU_ASSERT_FALSE(c->rflags & FL_VIF);
	CU_ASSERT(c->rflags & FL_IF);
	CU_ASSERT_EQUAL(exec_insn(c, sti, 1), EXEC_OK);
	CU_ASSERT(c->rflags & FL_VIF);
	harness_destroy(h);
}

/* IRET under VME: the popped IF becomes VIF; IF = 1 with VIP = 1 is #GP(0). */
static void test_iret_vme(void)
{
	const uint8_t iret[] = { 0xcf };
	struct harness *h = v86_env(0, true);
	struct cpu *c = &h->cpu;
	uint16_t frame[3] = { 0x50, 0x2600, FL_FIXED1 | FL_IF };
	phys_copy_in(&h->pm, (V86_SS << 4) + V86_SP - 6, frame, sizeof(frame));
	c->gpr[R_SP] = V86_SP - 6;
	c->rflags &= ~(uint64_t)FL_IF;
	c->rflags |= FL_VIP;
	expect_gp0(c, iret, 1);
	c->rflags &= ~(uint64_t)FL_VIP;
	CU_ASSERT_EQUAL(exec_insn(c, iret, 1), EXEC_OK);
	CU_ASSERT_EQUAL(c->next_rip, 0x50);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].base, 0x26000);
	CU_ASSERT(c->rflags & FL_VIF);
	CU_ASSERT_FALSE(c->rflags & FL_IF);
	CU_ASSERT_EQUAL(c->rflags & FL_IOPL, 0);
	harness_destroy(h);
}

void suite_cpu_v86(void)
{
	CU_pSuite s = CU_add_suite("cpu_v86", NULL, NULL);
	CU_add_test(s, "IRETD enters virtual-8086 mode", test_iret_enters_v86);
	CU_add_test(s, "IOPL-sensitive instructions without VME", test_iopl_sensitive);
	CU_add_test(s, "VME: CLI STI PUSHF POPF on VIF", test_vme_flags);
	CU_add_test(s, "VME: INT n redirected through the IVT", test_int_redirected);
	CU_add_test(s, "INT n to a ring-0 handler pushes GS FS DS ES", test_int_leaves_v86);
	CU_add_test(s, "I/O bitmap applies at IOPL 3", test_io_bitmap);
	CU_add_test(s, "PVI at CPL 3", test_pvi);
	CU_add_test(s, "IRET under VME", test_iret_vme);
}
