/* cpu/syscall.c: SYSRET/SYSCALL round trip in 64-bit mode and
 * SYSENTER/SYSEXIT in 32-bit protected mode, with their #UD/#GP cases. */
#include <CUnit/CUnit.h>

#include "cpu/msr.h"
#include "tests/unit/cpu/sysenv.h"

static void test_sysret_syscall(void)
{
	const uint8_t sysretq[] = { 0x48, 0x0f, 0x07 }, syscall[] = { 0x0f, 0x05 }, hlt[] = { 0xf4 };
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_EFER, c->efer | EFER_SCE));
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_STAR, (0x18ull << 48) | ((uint64_t)K_CS << 32)));
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_LSTAR, KERNEL_CODE));
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_FMASK, FL_IF));
	put_code(h, CODE_BASE, sysretq, sizeof(sysretq));
	put_code(h, USER_CODE, syscall, sizeof(syscall));
	put_code(h, KERNEL_CODE, hlt, sizeof(hlt));
	c->gpr[R_CX] = USER_CODE;
	c->gpr[R_R11] = FL_FIXED1 | FL_IF;
	c->rip = CODE_BASE;
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	/* SYSCALL from ring 3 (entered by SYSRET) landed at LSTAR. */
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, K_CS);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, K_DS);
	CU_ASSERT(c->code64);
	CU_ASSERT_EQUAL(c->gpr[R_CX], USER_CODE + 2);
	CU_ASSERT(c->gpr[R_R11] & FL_IF);       /* RFLAGS of ring 3 */
	CU_ASSERT_FALSE(c->rflags & FL_IF);     /* masked by IA32_FMASK */
	harness_destroy(h);
}

/* SYSRET without REX.W goes to compatibility mode with CS = STAR[63:48]. */
static void test_sysret_compat(void)
{
	const uint8_t sysret[] = { 0x0f, 0x07 };
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(exec_insn(c, sysret, sizeof(sysret)), EXEC_FAULT);     /* SCE clear */
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	c->efer |= EFER_SCE;
	c->msr.star = 0x18ull << 48;
	c->gpr[R_CX] = 0x123456789abcull;
	CU_ASSERT_EQUAL(exec_insn(c, sysret, sizeof(sysret)), EXEC_OK);
	CU_ASSERT_EQUAL(c->next_rip, 0x56789abcu);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, U_CS32);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, U_DS);
	CU_ASSERT_FALSE(c->code64);
	CU_ASSERT_EQUAL(c->cpl, 3);
	CU_ASSERT_EQUAL(exec_insn(c, sysret, sizeof(sysret)), EXEC_FAULT);     /* not 64-bit mode */
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	harness_destroy(h);
}

/* SYSCALL forces CS.RPL to 0 but takes SS as STAR[47:32] + 8 unmasked
 * (SDM vol. 2B SYSCALL, Operation: "CS.Selector := IA32_STAR[47:32] AND
 * FFFCH", "SS.Selector := IA32_STAR[47:32] + 8"). */
static void test_syscall_star_rpl(void)
{
	const uint8_t syscall[] = { 0x0f, 0x05 };
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	c->efer |= EFER_SCE;
	c->msr.star = (uint64_t)(K_CS | 3) << 32;
	c->msr.lstar = KERNEL_CODE;
	CU_ASSERT_EQUAL(exec_insn(c, syscall, sizeof(syscall)), EXEC_OK);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, K_CS);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, K_DS | 3);
	CU_ASSERT_EQUAL(c->cpl, 0);
	harness_destroy(h);
}

static void test_sysenter_sysexit(void)
{
	const uint8_t sysenter[] = { 0x0f, 0x34 }, kernel[] = { 0xf4, 0x0f, 0x35 }, spin[] = { 0xeb, 0xfe };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	put_code(h, USER_CODE, sysenter, sizeof(sysenter));
	put_code(h, USER_CODE + 2, spin, sizeof(spin));
	put_code(h, KERNEL_CODE, kernel, sizeof(kernel));
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	/* IA32_SYSENTER_CS = 0: #GP(0), which the empty IDT turns into a triple fault. */
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_TRIPLE_FAULT);
	CU_ASSERT(c->shutdown);
	harness_destroy(h);

	h = sysenv_prot32();
	c = &h->cpu;
	put_code(h, USER_CODE, sysenter, sizeof(sysenter));
	put_code(h, USER_CODE + 2, spin, sizeof(spin));
	put_code(h, KERNEL_CODE, kernel, sizeof(kernel));
	c->msr.sysenter_cs = K_CS;
	c->msr.sysenter_esp = RSP0;
	c->msr.sysenter_eip = KERNEL_CODE;
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	c->rflags |= FL_IF;
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RSP0);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, K_DS);
	CU_ASSERT_FALSE(c->rflags & FL_IF);
	c->gpr[R_DX] = USER_CODE + 2;
	c->gpr[R_CX] = USER_STACK - 16;
	CU_ASSERT_EQUAL(run_more(h, 200), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->cpl, 3);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, U_CS32);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, U_DS);
	CU_ASSERT_EQUAL(c->gpr[R_SP], USER_STACK - 16);
	CU_ASSERT_EQUAL(c->rip, USER_CODE + 2);
	harness_destroy(h);
}

void suite_cpu_syscall(void)
{
	CU_pSuite s = CU_add_suite("cpu_syscall", NULL, NULL);
	CU_add_test(s, "SYSRET/SYSCALL round trip", test_sysret_syscall);
	CU_add_test(s, "SYSRET to compatibility mode, #UD cases", test_sysret_compat);
	CU_add_test(s, "SYSCALL: SS = STAR[47:32] + 8 keeps its RPL bits", test_syscall_star_rpl);
	CU_add_test(s, "SYSENTER/SYSEXIT", test_sysenter_sysexit);
}
