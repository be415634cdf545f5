/* cpu/exception.c: IDT delivery in IA-32e mode with privilege change and
 * IST, software-interrupt DPL checks, #DF and triple fault, and real-mode
 * IVT delivery. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/sysenv.h"

/* user:    int 0x80 ; mov ebx, 0x5678 ; int 0x80
 * handler: hlt ; iretq */
static const uint8_t user_int[] = { 0xcd, 0x80, 0xbb, 0x78, 0x56, 0x00, 0x00, 0xcd, 0x80 };
static const uint8_t hlt_iretq[] = { 0xf4, 0x48, 0xcf };

/* From CPL 3 through a DPL-3 interrupt gate: RSP0 from the TSS, SS null
 * with RPL 0, the frame SS:RSP RFLAGS CS RIP, IF cleared; IRETQ returns. */
static void test_ring3_to_ring0(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	put_code(h, USER_CODE, user_int, sizeof(user_int));
	put_code(h, KERNEL_CODE, hlt_iretq, sizeof(hlt_iretq));
	idt_put64(h, 0x80, KERNEL_CODE, SYS_INT_GATE, 3, 0);
	enter_user(h, U_CS64, USER_CODE, USER_STACK - 8);
	c->rflags |= FL_IF;
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, K_CS);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, 0);
	CU_ASSERT(c->seg[SEG_SS].ar & AR_UNUSABLE);
	CU_ASSERT_FALSE(c->rflags & FL_IF);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RSP0 - 40);
	CU_ASSERT_EQUAL(get64(h, RSP0 - 40), USER_CODE + 2);            /* RIP after INT */
	CU_ASSERT_EQUAL(get64(h, RSP0 - 32), U_CS64);
	CU_ASSERT(get64(h, RSP0 - 24) & FL_IF);                         /* saved RFLAGS */
	CU_ASSERT_EQUAL(get64(h, RSP0 - 16), USER_STACK - 8);
	CU_ASSERT_EQUAL(get64(h, RSP0 - 8), U_DS);
	/* IRETQ back to ring 3, which runs the MOV and interrupts again. */
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_BX], 0x5678);
	CU_ASSERT_EQUAL(get64(h, RSP0 - 40), USER_CODE + 9);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RSP0 - 40);
	harness_destroy(h);
}

/* A gate with IST 1 switches to IST1 even without a privilege change; the
 * new RSP is aligned down to 16 bytes. */
static void test_ist_alignment(void)
{
	const uint8_t code[] = { 0xcd, 0x81 };  /* int 0x81 */
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	put_code(h, CODE_BASE, code, sizeof(code));
	put_code(h, KERNEL_CODE, hlt_iretq, sizeof(hlt_iretq));
	idt_put64(h, 0x81, KERNEL_CODE, SYS_TRAP_GATE, 0, 1);
	c->gpr[R_SP] = STACK_TOP - 8;
	c->rip = CODE_BASE;
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_SP], (IST1_TOP & ~15u) - 40);
	CU_ASSERT_EQUAL(get64(h, (IST1_TOP & ~15u) - 16), STACK_TOP - 8);
	CU_ASSERT_EQUAL(get64(h, (IST1_TOP & ~15u) - 8), K_DS);        /* same level: SS kept */
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, K_DS);
	harness_destroy(h);
}

/* INT n through a gate whose DPL < CPL is #GP(vector * 8 + 2), reported at
 * the INT instruction itself. */
static void test_int_gate_dpl(void)
{
	struct harness *h = sysenv_long();
	put_code(h, USER_CODE, user_int, sizeof(user_int));
	put_code(h, KERNEL_CODE, hlt_iretq, sizeof(hlt_iretq));
	idt_put64(h, 0x80, KERNEL_CODE + 0x100, SYS_INT_GATE, 0, 0);
	idt_put64(h, VEC_GP, KERNEL_CODE, SYS_INT_GATE, 0, 0);
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(get64(h, RSP0 - 48), 0x80 * 8 + 2);            /* error code */
	CU_ASSERT_EQUAL(get64(h, RSP0 - 40), USER_CODE);               /* the INT itself */
	CU_ASSERT_EQUAL(h->cpu.cpl, 0);
	harness_destroy(h);
}

/* #UD whose gate is not present gives #NP(6*8+2+EXT); #NP's gate is not
 * present either: contributory after contributory is #DF with error 0. */
static void test_double_fault(void)
{
	const uint8_t code[] = { 0x0f, 0x0b };  /* ud2 */
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	put_code(h, CODE_BASE, code, sizeof(code));
	put_code(h, KERNEL_CODE, hlt_iretq, sizeof(hlt_iretq));
	idt_put64(h, VEC_DF, KERNEL_CODE, SYS_INT_GATE, 0, 0);
	c->gpr[R_SP] = STACK_TOP;
	c->rip = CODE_BASE;
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(get64(h, STACK_TOP - 48), 0);                  /* #DF error code */
	CU_ASSERT_EQUAL(get64(h, STACK_TOP - 40), CODE_BASE);
	CU_ASSERT_FALSE(c->shutdown);
	harness_destroy(h);
}

/* No usable IDT at all: #UD -> #GP -> #DF -> shutdown. */
static void test_triple_fault(void)
{
	const uint8_t code[] = { 0x0f, 0x0b };
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	c->idtr.limit = 0;
	CU_ASSERT_EQUAL(harness_run(h, code, sizeof(code)), CPU_STOP_TRIPLE_FAULT);
	CU_ASSERT(c->shutdown);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE);
	harness_destroy(h);
}

/* A #PF records CR2 when delivered, and the saved RFLAGS has RF set (a
 * fault-class exception). */
static void test_page_fault_cr2(void)
{
	/* mov rax, [0x40000000]: past the 1 GiB identity map */
	const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40 };
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	put_code(h, CODE_BASE, code, sizeof(code));
	put_code(h, KERNEL_CODE, hlt_iretq, sizeof(hlt_iretq));
	idt_put64(h, VEC_PF, KERNEL_CODE, SYS_INT_GATE, 0, 0);
	c->gpr[R_SP] = STACK_TOP;
	c->rip = CODE_BASE;
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->cr2, 0x40000000u);
	CU_ASSERT_EQUAL(get64(h, STACK_TOP - 48), 0);                  /* not present, read, CPL 0 */
	CU_ASSERT(get64(h, STACK_TOP - 24) & FL_RF);
	CU_ASSERT_FALSE(c->rflags & FL_RF);
	harness_destroy(h);
}

/* Real mode: INT 10h through the IVT pushes FLAGS, CS, IP; IRET returns. */
static void test_real_mode_ivt(void)
{
	/* at 1000:0000: int 0x10 ; hlt    handler at 0000:0600: mov ax, 0x4242 ; iret */
	const uint8_t code[] = { 0xcd, 0x10, 0xf4 };
	const uint8_t handler[] = { 0xb8, 0x42, 0x42, 0xcf };
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	uint32_t ivt10 = 0x0600;                /* 0000:0600 */
	c->cr0 &= ~CR0_PE;
	for (unsigned s = SEG_ES; s <= SEG_GS; s++) {
		c->seg[s] = (struct segment){ 0, 0, 0xffff, AR_P | AR_S | 0x3 };
	}
	c->seg[SEG_CS] = (struct segment){ 0x1000, 0x10000, 0xffff, AR_P | AR_S | 0xb };
	c->idtr = (struct dtable){ 0, 0x3ff };
	cpu_mode_changed(c);
	put32(h, 0x10 * 4, ivt10);
	put_code(h, 0x10000, code, sizeof(code));
	put_code(h, 0x600, handler, sizeof(handler));
	c->rip = 0;
	c->gpr[R_SP] = 0x8000;
	c->rflags |= FL_IF;
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_AX] & 0xffff, 0x4242);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, 0x1000);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].base, 0x10000);
	CU_ASSERT_EQUAL(c->rip, 3);
	CU_ASSERT_EQUAL(c->gpr[R_SP], 0x8000);
	CU_ASSERT(c->rflags & FL_IF);           /* restored by IRET */
	CU_ASSERT_EQUAL(get32(h, 0x8000 - 6) & 0xffff, 2);  /* saved IP */
	harness_destroy(h);
}

void suite_cpu_exception(void)
{
	CU_pSuite s = CU_add_suite("cpu_exception", NULL, NULL);
	CU_add_test(s, "ring 3 -> ring 0 interrupt and IRETQ", test_ring3_to_ring0);
	CU_add_test(s, "IST stack, 16-byte alignment", test_ist_alignment);
	CU_add_test(s, "INT n gate DPL check", test_int_gate_dpl);
	CU_add_test(s, "double fault", test_double_fault);
	CU_add_test(s, "triple fault", test_triple_fault);
	CU_add_test(s, "page fault CR2 and RF", test_page_fault_cr2);
	CU_add_test(s, "real-mode IVT delivery", test_real_mode_ivt);
}
