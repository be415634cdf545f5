/* Interrupt shadows (SDM vol. 3A 6.8.3 "Masking Exceptions and Interrupts
 * When Switching Stacks"; vol. 2 STI; vol. 3C 24.4.2 interruptibility
 * state): STI that sets IF blocks maskable interrupts, and MOV SS / POP SS
 * block interrupts (NMI too), debug exceptions and single-step traps, until
 * the instruction boundary after the NEXT instruction. The shadow state
 * must end there: it is what a VM exit saves as "blocking by STI / by MOV
 * SS". Each run_more(h, 1) below executes exactly one block; MOV SS and
 * STI end their blocks, and the shadowed instruction runs alone. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/sysenv.h"

#define NMI_HANDLER 0x30000u

/* STI with IF = 0: the shadow covers the next instruction only. */
static void test_sti_shadow(void)
{
	static const uint8_t code[] = { 0xfb, 0x90, 0x90, 0xf4 };      /* sti ; nop ; nop ; hlt */
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	put_code(h, CODE_BASE, code, sizeof(code));
	c->rip = CODE_BASE;
	cpu_set_rflags(c, FL_FIXED1);
	CU_ASSERT_EQUAL(run_more(h, 1), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + 1);
	CU_ASSERT(c->rflags & FL_IF);
	CU_ASSERT(c->sti_shadow);
	CU_ASSERT_EQUAL(run_more(h, 1), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + 2);
	CU_ASSERT_FALSE(c->sti_shadow);
	CU_ASSERT_EQUAL(run_more(h, 100), CPU_STOP_HALTED);
	CU_ASSERT_FALSE(c->sti_shadow);
	harness_destroy(h);
}

/* STI with IF already 1 opens no shadow (vol. 2 STI). */
static void test_sti_if_set(void)
{
	static const uint8_t code[] = { 0xfb, 0x90, 0xf4 };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	put_code(h, CODE_BASE, code, sizeof(code));
	c->rip = CODE_BASE;
	cpu_set_rflags(c, FL_FIXED1 | FL_IF);
	CU_ASSERT_EQUAL(run_more(h, 1), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + 1);
	CU_ASSERT_FALSE(c->sti_shadow);
	harness_destroy(h);
}

/* MOV SS and POP SS: the shadow ends after the next instruction. */
static void test_mov_ss_shadow_ends(void)
{
	/* mov ss, ax ; nop ; push ss ; pop ss ; nop ; hlt */
	static const uint8_t code[] = { 0x8e, 0xd0, 0x90, 0x16, 0x17, 0x90, 0xf4 };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	put_code(h, CODE_BASE, code, sizeof(code));
	c->rip = CODE_BASE;
	c->gpr[R_AX] = K_DS;
	c->gpr[R_SP] = STACK_TOP;
	CU_ASSERT_EQUAL(run_more(h, 1), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + 2);
	CU_ASSERT(c->mov_ss_shadow);
	CU_ASSERT_EQUAL(run_more(h, 1), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + 3);
	CU_ASSERT_FALSE(c->mov_ss_shadow);
	CU_ASSERT_EQUAL(run_more(h, 1), CPU_STOP_DEADLINE);    /* push ss ; pop ss */
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + 5);
	CU_ASSERT(c->mov_ss_shadow);
	CU_ASSERT_EQUAL(run_more(h, 1), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + 6);
	CU_ASSERT_FALSE(c->mov_ss_shadow);
	harness_destroy(h);
}

/* An NMI that arrives right after MOV SS waits until the MOV ESP that
 * follows it has completed: the frame goes to the new stack and saves the
 * EIP after MOV ESP (6.8.3; 6.7.1 NMI). */
static void test_nmi_held_by_mov_ss(void)
{
	/* mov ss, ax ; mov esp, 60000h ; hlt */
	static const uint8_t code[] = { 0x8e, 0xd0, 0xbc, 0x00, 0x00, 0x06, 0x00, 0xf4 };
	static const uint8_t handler[] = { 0xf4 };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	put64(h, IDT_BASE + 8 * VEC_NMI, (NMI_HANDLER & 0xffff) | ((uint64_t)K_CS << 16) |
					     ((uint64_t)(0x80 | SYS_INT_GATE) << 40) |
					     ((uint64_t)(NMI_HANDLER >> 16) << 48));
	put_code(h, CODE_BASE, code, sizeof(code));
	put_code(h, NMI_HANDLER, handler, sizeof(handler));
	c->rip = CODE_BASE;
	c->gpr[R_AX] = K_DS;
	c->gpr[R_SP] = STACK_TOP;
	CU_ASSERT_EQUAL(run_more(h, 1), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + 2);
	cpu_nmi(c);
	CU_ASSERT_EQUAL(run_more(h, 100), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->rip, NMI_HANDLER + 1);
	CU_ASSERT_EQUAL(c->gpr[R_SP], 0x60000 - 12);
	CU_ASSERT_EQUAL(get32(h, 0x60000 - 12), CODE_BASE + 7);        /* EIP of the HLT */
	CU_ASSERT(c->nmi_blocked);
	harness_destroy(h);
}

void suite_cpu_shadow(void)
{
	CU_pSuite s = CU_add_suite("cpu_shadow", NULL, NULL);
	CU_add_test(s, "STI shadow ends after the next instruction", test_sti_shadow);
	CU_add_test(s, "STI with IF = 1: no shadow", test_sti_if_set);
	CU_add_test(s, "MOV SS / POP SS shadow ends after the next instruction", test_mov_ss_shadow_ends);
	CU_add_test(s, "NMI held off by the MOV SS shadow", test_nmi_held_by_mov_ss);
}
