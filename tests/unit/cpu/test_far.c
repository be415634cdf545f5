/* cpu/far.c: a far CALL through a call gate to an inner level (stack
 * switch, parameter copy) and RET imm16 back; IRET to an outer level
 * nulling data segments; far JMP checks. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/sysenv.h"

/* user:    push 0x11111111 ; push 0x22222222 ; call 0x33:0 ; mov ebx, 0x5678 ; jmp $
 * handler: hlt ; retf 8 */
static const uint8_t user_call[] = { 0x68, 0x11, 0x11, 0x11, 0x11, 0x68, 0x22, 0x22, 0x22, 0x22,
				     0x9a, 0x00, 0x00, 0x00, 0x00, 0x33, 0x00,
				     0xbb, 0x78, 0x56, 0x00, 0x00, 0xeb, 0xfe };
static const uint8_t gate_handler[] = { 0xf4, 0xca, 0x08, 0x00 };

static void test_call_gate_inner(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	put_code(h, USER_CODE, user_call, sizeof(user_call));
	put_code(h, KERNEL_CODE, gate_handler, sizeof(gate_handler));
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	load_seg(c, SEG_ES, U_DS, gdt_get(h, U_DS));    /* DS stays the DPL-0 flat segment */
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, K_CS);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, K_DS);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RSP0 - 24);
	CU_ASSERT_EQUAL(get32(h, RSP0 - 24), USER_CODE + 17);   /* return EIP */
	CU_ASSERT_EQUAL(get32(h, RSP0 - 20), U_CS32);
	CU_ASSERT_EQUAL(get32(h, RSP0 - 16), 0x22222222);       /* parameters, same order */
	CU_ASSERT_EQUAL(get32(h, RSP0 - 12), 0x11111111);
	CU_ASSERT_EQUAL(get32(h, RSP0 - 8), USER_STACK - 8);    /* caller's ESP */
	CU_ASSERT_EQUAL(get32(h, RSP0 - 4), U_DS);
	CU_ASSERT((gdt_get(h, K_CS) & (1ull << 40)) != 0);           /* CS descriptor accessed */
	/* RET 8 returns to ring 3 and releases the parameters from its stack. */
	CU_ASSERT_EQUAL(run_more(h, 200), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->cpl, 3);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, U_CS32);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, U_DS);
	CU_ASSERT_EQUAL(c->gpr[R_SP], USER_STACK);
	CU_ASSERT_EQUAL(c->gpr[R_BX], 0x5678);
	CU_ASSERT(c->seg[SEG_DS].ar & AR_UNUSABLE);             /* DPL 0 < CPL 3: nulled */
	CU_ASSERT_EQUAL(c->seg[SEG_ES].sel, U_DS);
	harness_destroy(h);
}

/* IRETD from CPL 0 to CPL 3 pops SS:ESP and restores IF (CPL <= IOPL). */
static void test_iret_outer(void)
{
	const uint8_t iretd[] = { 0xcf }, spin[] = { 0xeb, 0xfe };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	uint32_t frame[5] = { USER_CODE, U_CS32, FL_FIXED1 | FL_IF, USER_STACK, U_DS };
	phys_copy_in(&h->pm, STACK_TOP - 20, frame, sizeof(frame));
	put_code(h, CODE_BASE, iretd, sizeof(iretd));
	put_code(h, USER_CODE, spin, sizeof(spin));
	c->gpr[R_SP] = STACK_TOP - 20;
	c->rip = CODE_BASE;
	CU_ASSERT_EQUAL(run_more(h, 100), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->cpl, 3);
	CU_ASSERT_EQUAL(c->rip, USER_CODE);
	CU_ASSERT_EQUAL(c->gpr[R_SP], USER_STACK);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, U_DS);
	CU_ASSERT(c->rflags & FL_IF);
	CU_ASSERT(c->seg[SEG_DS].ar & AR_UNUSABLE);
	harness_destroy(h);
}

/* IRET cannot return to an inner level: CS.RPL < CPL is #GP(selector). */
static void test_iret_inner_refused(void)
{
	const uint8_t iretd[] = { 0xcf };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	uint32_t frame[5] = { KERNEL_CODE, K_CS, FL_FIXED1, USER_STACK, U_DS };
	enter_user(h, U_CS32, CODE_BASE, USER_STACK - 20);
	phys_copy_in(&h->pm, USER_STACK - 20, frame, sizeof(frame));
	CU_ASSERT_EQUAL(exec_insn(c, iretd, sizeof(iretd)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, K_CS);
	CU_ASSERT_EQUAL(c->cpl, 3);
	CU_ASSERT_EQUAL(c->gpr[R_SP], USER_STACK - 20);
	harness_destroy(h);
}

/* JMP far cannot change privilege: a non-conforming DPL-3 target from
 * CPL 0 is #GP(selector); a DPL-0 target jumps. */
static void test_jmp_far_checks(void)
{
	const uint8_t jmp_user[] = { 0xea, 0x00, 0x00, 0x02, 0x00, 0x1b, 0x00 };   /* jmp 0x1b:0x20000 */
	const uint8_t jmp_kern[] = { 0xea, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00 };   /* jmp 0x08:0x30000 */
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(exec_insn(c, jmp_user, sizeof(jmp_user)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, U_CS32 & ~3u);
	CU_ASSERT_EQUAL(exec_insn(c, jmp_kern, sizeof(jmp_kern)), EXEC_OK);
	CU_ASSERT_EQUAL(c->next_rip, KERNEL_CODE);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, K_CS);
	harness_destroy(h);
}

void suite_cpu_far(void)
{
	CU_pSuite s = CU_add_suite("cpu_far", NULL, NULL);
	CU_add_test(s, "call gate to an inner level and RET imm16", test_call_gate_inner);
	CU_add_test(s, "IRET to an outer level", test_iret_outer);
	CU_add_test(s, "IRET to an inner level is #GP", test_iret_inner_refused);
	CU_add_test(s, "far JMP privilege checks", test_jmp_far_checks);
}
