/* cpu/system.c: control-register write rules and IA-32e activation, debug
 * register aliasing and DR7.GD, CLI/STI privilege and the STI shadow,
 * RDRAND determinism, RDTSC with CR4.TSD. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/sysenv.h"

static const uint8_t mov_cr0_eax[] = { 0x0f, 0x22, 0xc0 }, mov_eax_cr0[] = { 0x0f, 0x20, 0xc0 };
static const uint8_t mov_cr4_eax[] = { 0x0f, 0x22, 0xe0 }, mov_cr3_eax[] = { 0x0f, 0x22, 0xd8 };
static const uint8_t mov_eax_cr1[] = { 0x0f, 0x20, 0xc8 };

#define EXEC(c, code) exec_insn((c), (code), sizeof(code))

static void assert_exc(const struct cpu *c, unsigned vec)
{
	CU_ASSERT_EQUAL(c->exc.vector, vec);
}

/* PG without PE, NW without CD: #GP(0); CR1: #UD; CPL 3: #GP(0). */
static void test_cr0_invalid(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	uint64_t cr0 = c->cr0;
	c->gpr[R_AX] = (cr0 | CR0_PG) & ~CR0_PE;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr0_eax), EXEC_FAULT);
	assert_exc(c, VEC_GP);
	c->gpr[R_AX] = (cr0 | CR0_NW) & ~CR0_CD;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr0_eax), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->cr0, cr0);
	CU_ASSERT_EQUAL(EXEC(c, mov_eax_cr1), EXEC_FAULT);
	assert_exc(c, VEC_UD);
	/* Reserved low bits are ignored and ET stays 1. */
	c->gpr[R_AX] = (cr0 | 0x7c0) & ~CR0_ET;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr0_eax), EXEC_OK);
	CU_ASSERT_EQUAL(c->cr0, cr0 | CR0_ET);
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	CU_ASSERT_EQUAL(EXEC(c, mov_eax_cr0), EXEC_FAULT);
	assert_exc(c, VEC_GP);
	harness_destroy(h);
}

/* Turning paging on with EFER.LME activates IA-32e mode (compatibility
 * mode until a 64-bit CS is loaded); without CR4.PAE it is #GP(0). */
static void test_ia32e_activation(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	put64(h, 0x1000, 0x2000 | 3);
	put64(h, 0x2000, 0x83);
	c->gpr[R_AX] = 0x1000;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr3_eax), EXEC_OK);
	c->efer |= EFER_LME;
	c->gpr[R_AX] = c->cr0 | CR0_PG;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr0_eax), EXEC_FAULT);      /* no PAE */
	CU_ASSERT_FALSE(c->efer & EFER_LMA);
	c->gpr[R_AX] = c->cr4 | CR4_PAE;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr4_eax), EXEC_OK);
	c->gpr[R_AX] = c->cr0 | CR0_PG;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr0_eax), EXEC_OK);
	CU_ASSERT(c->efer & EFER_LMA);
	CU_ASSERT_FALSE(c->code64);
	/* PAE cannot be cleared while IA-32e mode is active. */
	c->gpr[R_AX] = c->cr4 & ~CR4_PAE;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr4_eax), EXEC_FAULT);
	/* Paging off again from compatibility mode leaves IA-32e mode. */
	c->gpr[R_AX] = c->cr0 & ~CR0_PG;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr0_eax), EXEC_OK);
	CU_ASSERT_FALSE(c->efer & EFER_LMA);
	harness_destroy(h);
}

/* 64-bit mode: clearing PG is #GP(0); CR8 takes 4 bits; CR3 bit 63 with
 * PCIDE is not stored; CR4 bits of absent features are reserved. */
static void test_cr_64bit(void)
{
	const uint8_t mov_cr0_rax[] = { 0x0f, 0x22, 0xc0 }, mov_cr8_rax[] = { 0x44, 0x0f, 0x22, 0xc0 };
	const uint8_t mov_cr3_rax[] = { 0x0f, 0x22, 0xd8 }, mov_cr4_rax[] = { 0x0f, 0x22, 0xe0 };
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	c->gpr[R_AX] = c->cr0 & ~CR0_PG;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr0_rax), EXEC_FAULT);
	c->gpr[R_AX] = 0x10;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr8_rax), EXEC_FAULT);
	c->gpr[R_AX] = 0xf;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr8_rax), EXEC_OK);
	CU_ASSERT_EQUAL(c->cr8, 0xf);
	c->gpr[R_AX] = c->cr4 | (1ull << 14);                   /* SMXE: no SMX in the model */
	CU_ASSERT_EQUAL(EXEC(c, mov_cr4_rax), EXEC_FAULT);
	c->gpr[R_AX] = c->cr4 | CR4_PCIDE;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr4_rax), EXEC_OK);
	c->gpr[R_AX] = (1ull << 63) | 0x1005;                   /* PCID 5, no flush */
	CU_ASSERT_EQUAL(EXEC(c, mov_cr3_rax), EXEC_OK);
	CU_ASSERT_EQUAL(c->cr3, 0x1005);
	c->gpr[R_AX] = 1ull << 50;                              /* above MAXPHYADDR */
	CU_ASSERT_EQUAL(EXEC(c, mov_cr3_rax), EXEC_FAULT);
	harness_destroy(h);
}

/* DR4/DR5 alias DR6/DR7 unless CR4.DE; DR7 keeps bit 10 set; with DR7.GD
 * any access is #DB with DR6.BD, and GD is cleared. */
static void test_debug_registers(void)
{
	const uint8_t mov_dr4_eax[] = { 0x0f, 0x23, 0xe0 }, mov_eax_dr4[] = { 0x0f, 0x21, 0xe0 };
	const uint8_t mov_dr7_eax[] = { 0x0f, 0x23, 0xf8 }, mov_eax_dr7[] = { 0x0f, 0x21, 0xf8 };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	c->gpr[R_AX] = 0;
	CU_ASSERT_EQUAL(EXEC(c, mov_dr4_eax), EXEC_OK);         /* writes DR6 */
	CU_ASSERT_EQUAL(c->dr[6], 0xffff0ff0u);
	c->gpr[R_AX] = 0x3;
	CU_ASSERT_EQUAL(EXEC(c, mov_dr7_eax), EXEC_OK);
	CU_ASSERT_EQUAL(c->dr[7], 0x403u);
	CU_ASSERT_EQUAL(EXEC(c, mov_eax_dr7), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x403u);
	c->cr4 |= CR4_DE;
	CU_ASSERT_EQUAL(EXEC(c, mov_eax_dr4), EXEC_FAULT);
	assert_exc(c, VEC_UD);
	c->dr[7] |= 1u << 13;
	CU_ASSERT_EQUAL(EXEC(c, mov_eax_dr7), EXEC_FAULT);
	assert_exc(c, VEC_DB);
	CU_ASSERT(c->dr[6] & (1u << 13));
	CU_ASSERT_FALSE(c->dr[7] & (1u << 13));
	harness_destroy(h);
}

/* CLI/STI need CPL <= IOPL; STI shadows the next instruction only when it
 * sets IF. */
static void test_cli_sti(void)
{
	const uint8_t cli[] = { 0xfa }, sti[] = { 0xfb };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(EXEC(c, sti), EXEC_OK);
	CU_ASSERT(c->rflags & FL_IF);
	CU_ASSERT(c->sti_shadow);
	c->sti_shadow = false;
	CU_ASSERT_EQUAL(EXEC(c, sti), EXEC_OK);
	CU_ASSERT_FALSE(c->sti_shadow);                 /* IF was already 1 */
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	CU_ASSERT_EQUAL(EXEC(c, cli), EXEC_FAULT);
	assert_exc(c, VEC_GP);
	CU_ASSERT(c->rflags & FL_IF);
	c->rflags |= FL_IOPL;
	CU_ASSERT_EQUAL(EXEC(c, cli), EXEC_OK);
	CU_ASSERT_FALSE(c->rflags & FL_IF);
	harness_destroy(h);
}

/* RDRAND: CF = 1, the same sequence from the same seed; RDTSC at CPL 3
 * with CR4.TSD is #GP(0). */
static void test_rdrand_rdtsc(void)
{
	const uint8_t rdrand_eax[] = { 0x0f, 0xc7, 0xf0 }, rdtsc[] = { 0x0f, 0x31 };
	struct harness *a = sysenv_prot32(), *b = sysenv_prot32();
	CU_ASSERT_EQUAL(EXEC(&a->cpu, rdrand_eax), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(&b->cpu, rdrand_eax), EXEC_OK);
	CU_ASSERT_EQUAL(a->cpu.gpr[R_AX], b->cpu.gpr[R_AX]);
	CU_ASSERT(cpu_get_rflags(&a->cpu) & FL_CF);
	uint64_t first = a->cpu.gpr[R_AX];
	CU_ASSERT_EQUAL(EXEC(&a->cpu, rdrand_eax), EXEC_OK);
	CU_ASSERT_NOT_EQUAL(a->cpu.gpr[R_AX], first);
	a->cpu.cr4 |= CR4_TSD;
	CU_ASSERT_EQUAL(EXEC(&a->cpu, rdtsc), EXEC_OK);         /* CPL 0 */
	enter_user(a, U_CS32, USER_CODE, USER_STACK);
	CU_ASSERT_EQUAL(EXEC(&a->cpu, rdtsc), EXEC_FAULT);
	assert_exc(&a->cpu, VEC_GP);
	harness_destroy(a);
	harness_destroy(b);
}

void suite_cpu_system(void)
{
	CU_pSuite s = CU_add_suite("cpu_system", NULL, NULL);
	CU_add_test(s, "invalid CR0 writes, CR1, CPL 3", test_cr0_invalid);
	CU_add_test(s, "IA-32e activation through CR0.PG", test_ia32e_activation);
	CU_add_test(s, "CR0/CR3/CR4/CR8 in 64-bit mode", test_cr_64bit);
	CU_add_test(s, "debug registers", test_debug_registers);
	CU_add_test(s, "CLI/STI", test_cli_sti);
	CU_add_test(s, "RDRAND and RDTSC", test_rdrand_rdtsc);
}
