/* cpu/task.c: task switches by JMP/CALL to a TSS or task gate, IRET with
 * NT = 1, task gates in the IDT (with an error code pushed on the new
 * stack), the busy/NT/link/TS effects of SDM Table 8-2, #TS with selector
 * error codes before and after the commit point, 16-bit TSS, T flag,
 * a virtual-8086 task, and #GP in IA-32e mode. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/sysenv.h"

#define NEW_TSS 0x6000u         /* 32-bit TSS of the second task */
#define TSS16_BASE 0x6800u
#define NEW_STACK 0x60000u
#define NEW_EIP 0x30000u        /* KERNEL_CODE */
#define NEW_SEL 0x38u           /* available 32-bit TSS */
#define GATE_SEL 0x40u          /* task gate -> NEW_SEL, DPL 3 */
#define TSS16_SEL 0x48u
#define SHORT_SEL 0x50u         /* 32-bit TSS with limit 0x66 */

static uint64_t task_gate(uint16_t tss, unsigned dpl)
{
	return ((uint64_t)tss << 16) | ((uint64_t)(0x80 | dpl << 5 | SYS_TASK_GATE) << 40);
}

/* sysenv_prot32 plus a second task at NEW_TSS: CS K_CS, SS/DS K_DS, EIP
 * NEW_EIP, ESP NEW_STACK, EAX 0xa1, EFLAGS 0x2. */
static struct harness *task_env(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	gdt_put(h, NEW_SEL, sys_desc(NEW_TSS, 0x67, SYS_TSS_AVAIL));
	gdt_put(h, GATE_SEL, task_gate(NEW_SEL, 3));
	gdt_put(h, TSS16_SEL, sys_desc(TSS16_BASE, 0x2b, SYS_TSS16_AVAIL));
	gdt_put(h, SHORT_SEL, sys_desc(NEW_TSS, 0x66, SYS_TSS_AVAIL));
	c->gdtr.limit = 0x7f;
	put32(h, NEW_TSS + 0x20, NEW_EIP);
	put32(h, NEW_TSS + 0x24, FL_FIXED1);
	put32(h, NEW_TSS + 0x28, 0xa1);
	put32(h, NEW_TSS + 0x38, NEW_STACK);
	put32(h, NEW_TSS + 0x4c, K_CS);
	put32(h, NEW_TSS + 0x50, K_DS);
	put32(h, NEW_TSS + 0x54, K_DS);
	c->rip = CODE_BASE;
	return h;
}

static unsigned gdt_type(struct harness *h, unsigned sel)
{
	return (gdt_get(h, sel) >> 40) & 0xf;
}

/* JMP to a TSS: old busy cleared, new busy set, no link, NT from the new
 * TSS, CR0.TS set, old state saved with EIP after the JMP. */
static void test_jmp_tss(void)
{
	const uint8_t jmp[] = { 0xea, 0, 0, 0, 0, NEW_SEL, 0 };
	struct harness *h = task_env();
	struct cpu *c = &h->cpu;
	c->gpr[R_AX] = 0x1234;
	c->gpr[R_SP] = 0x7777;
	c->rflags |= FL_NT;
	CU_ASSERT_EQUAL(exec_insn(c, jmp, sizeof(jmp)), EXEC_OK);
	CU_ASSERT_EQUAL(c->tr.sel, NEW_SEL);
	CU_ASSERT_EQUAL(c->next_rip, NEW_EIP);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xa1);
	CU_ASSERT_EQUAL(c->gpr[R_SP], NEW_STACK);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, K_DS);
	CU_ASSERT(c->seg[SEG_ES].ar & AR_UNUSABLE);
	CU_ASSERT_FALSE(c->rflags & FL_NT);
	CU_ASSERT(c->cr0 & CR0_TS);
	CU_ASSERT_EQUAL(gdt_type(h, TSS32_SEL), SYS_TSS_AVAIL);
	CU_ASSERT_EQUAL(gdt_type(h, NEW_SEL), SYS_TSS_BUSY);
	CU_ASSERT_EQUAL(get32(h, TSS_BASE + 0x20), CODE_BASE + sizeof(jmp));
	CU_ASSERT_EQUAL(get32(h, TSS_BASE + 0x24) & FL_NT, FL_NT);
	CU_ASSERT_EQUAL(get32(h, TSS_BASE + 0x28), 0x1234);
	CU_ASSERT_EQUAL(get32(h, TSS_BASE + 0x38), 0x7777);
	CU_ASSERT_EQUAL(get32(h, TSS_BASE + 0x4c), K_CS);
	CU_ASSERT_EQUAL(get32(h, NEW_TSS), 0);                  /* no back link */
	harness_destroy(h);
}

/* CALL through a task gate nests (link, NT, old busy kept); IRET returns,
 * clearing the inner task's busy bit and saving its EFLAGS with NT = 0. */
static void test_call_gate_iret(void)
{
	const uint8_t call[] = { 0x9a, 0, 0, 0, 0, GATE_SEL, 0 }, iret[] = { 0xcf };
	struct harness *h = task_env();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(exec_insn(c, call, sizeof(call)), EXEC_OK);
	CU_ASSERT_EQUAL(c->tr.sel, NEW_SEL);
	CU_ASSERT(c->rflags & FL_NT);
	CU_ASSERT_EQUAL(get32(h, NEW_TSS) & 0xffff, TSS32_SEL);
	CU_ASSERT_EQUAL(gdt_type(h, TSS32_SEL), SYS_TSS_BUSY);
	CU_ASSERT_EQUAL(gdt_type(h, NEW_SEL), SYS_TSS_BUSY);
	c->rip = c->next_rip;
	c->gpr[R_BX] = 0xbb;
	CU_ASSERT_EQUAL(exec_insn(c, iret, sizeof(iret)), EXEC_OK);
	CU_ASSERT_EQUAL(c->tr.sel, TSS32_SEL);
	CU_ASSERT_EQUAL(c->next_rip, CODE_BASE + sizeof(call));
	CU_ASSERT_FALSE(c->rflags & FL_NT);
	CU_ASSERT_EQUAL(gdt_type(h, NEW_SEL), SYS_TSS_AVAIL);
	CU_ASSERT_EQUAL(gdt_type(h, TSS32_SEL), SYS_TSS_BUSY);
	CU_ASSERT_EQUAL(get32(h, NEW_TSS + 0x24) & FL_NT, 0);
	CU_ASSERT_EQUAL(get32(h, NEW_TSS + 0x20), NEW_EIP + 1);
	CU_ASSERT_EQUAL(get32(h, NEW_TSS + 0x34), 0xbb);
	harness_destroy(h);
}

/* Checks before the commit point fault in the old task and change nothing. */
static void test_precommit_faults(void)
{
	const uint8_t jmp_busy[] = { 0xea, 0, 0, 0, 0, TSS32_SEL, 0 };
	const uint8_t jmp_short[] = { 0xea, 0, 0, 0, 0, SHORT_SEL, 0 };
	const uint8_t call_gate[] = { 0x9a, 0, 0, 0, 0, GATE_SEL, 0 };
	struct harness *h = task_env();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(exec_insn(c, jmp_busy, sizeof(jmp_busy)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, TSS32_SEL);
	CU_ASSERT_EQUAL(exec_insn(c, jmp_short, sizeof(jmp_short)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_TS);
	CU_ASSERT_EQUAL(c->exc.error, SHORT_SEL);
	CU_ASSERT_FALSE(c->exc.new_task);
	gdt_put(h, GATE_SEL, task_gate(NEW_SEL, 0));            /* gate DPL 0 < CPL 3 */
	enter_user(h, U_CS32, CODE_BASE, USER_STACK);
	CU_ASSERT_EQUAL(exec_insn(c, call_gate, sizeof(call_gate)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, GATE_SEL);
	CU_ASSERT_EQUAL(c->tr.sel, TSS32_SEL);
	CU_ASSERT_EQUAL(gdt_type(h, NEW_SEL), SYS_TSS_AVAIL);
	CU_ASSERT_FALSE(c->cr0 & CR0_TS);
	harness_destroy(h);
}

/* A bad DS in the new task: #TS(DS selector) after the commit point,
 * delivered in the new task (saved EIP = its first instruction) on its
 * stack, through an interrupt gate. */
static void test_ts_after_commit(void)
{
	const uint8_t jmp[] = { 0xea, 0, 0, 0, 0, NEW_SEL, 0 }, hlt[] = { 0xf4 };
	struct harness *h = task_env();
	struct cpu *c = &h->cpu;
	uint64_t gate = (0x31000 & 0xffff) | ((uint64_t)K_CS << 16) | (0x8eull << 40) | ((0x31000ull >> 16) << 48);
	put64(h, IDT_BASE + 8 * VEC_TS, gate);
	put_code(h, 0x31000, hlt, 1);
	put_code(h, CODE_BASE, jmp, sizeof(jmp));
	put32(h, NEW_TSS + 0x54, 0x1f8);                        /* DS past the GDT limit */
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->tr.sel, NEW_SEL);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].sel, 0x1f8);
	CU_ASSERT(c->seg[SEG_DS].ar & AR_UNUSABLE);
	CU_ASSERT_EQUAL(c->gpr[R_SP], NEW_STACK - 16);
	CU_ASSERT_EQUAL(get32(h, NEW_STACK - 16), 0x1f8);       /* error code: the selector */
	CU_ASSERT_EQUAL(get32(h, NEW_STACK - 12), NEW_EIP);
	CU_ASSERT_EQUAL(get32(h, NEW_STACK - 8), K_CS);
	harness_destroy(h);
}

/* #GP through a task gate in the IDT: the old task saves the faulting EIP,
 * the error code goes on the new task's stack, NT and link are set. */
static void test_idt_task_gate_error_code(void)
{
	const uint8_t bad[] = { 0x66, 0xb8, 0xf8, 0x01, 0x8e, 0xd8 };  /* mov ax, 0x1f8; mov ds, ax */
	const uint8_t hlt[] = { 0xf4 };
	struct harness *h = task_env();
	struct cpu *c = &h->cpu;
	put64(h, IDT_BASE + 8 * VEC_GP, task_gate(NEW_SEL, 0));
	put_code(h, CODE_BASE, bad, sizeof(bad));
	put_code(h, NEW_EIP, hlt, 1);
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->tr.sel, NEW_SEL);
	CU_ASSERT_EQUAL(c->rip, NEW_EIP + 1);
	CU_ASSERT_EQUAL(c->gpr[R_SP], NEW_STACK - 4);
	CU_ASSERT_EQUAL(get32(h, NEW_STACK - 4), 0x1f8);
	CU_ASSERT_EQUAL(get32(h, TSS_BASE + 0x20), CODE_BASE + 4);     /* the faulting MOV */
	CU_ASSERT(get32(h, TSS_BASE + 0x24) & FL_RF);                  /* fault: RF in the image */
	CU_ASSERT(c->rflags & FL_NT);
	CU_ASSERT_EQUAL(get32(h, NEW_TSS) & 0xffff, TSS32_SEL);
	harness_destroy(h);
}

/* IRET with NT = 1 whose link names an available TSS: #TS(link). */
static void test_iret_bad_link(void)
{
	const uint8_t iret[] = { 0xcf };
	struct harness *h = task_env();
	struct cpu *c = &h->cpu;
	put32(h, TSS_BASE, NEW_SEL);
	c->rflags |= FL_NT;
	CU_ASSERT_EQUAL(exec_insn(c, iret, sizeof(iret)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_TS);
	CU_ASSERT_EQUAL(c->exc.error, NEW_SEL);
	CU_ASSERT_EQUAL(c->tr.sel, TSS32_SEL);
	harness_destroy(h);
}

/* 16-bit TSS: IP, FLAGS and word registers; the upper halves become ones. */
static void test_tss16(void)
{
	const uint8_t jmp[] = { 0xea, 0, 0, 0, 0, TSS16_SEL, 0 };
	struct harness *h = task_env();
	struct cpu *c = &h->cpu;
	uint16_t img[0x16] = { 0 };
	img[0x0e / 2] = 0x1234;                                 /* IP */
	img[0x10 / 2] = FL_FIXED1 | FL_CF;
	img[0x12 / 2] = 0x5a5a;                                 /* AX */
	img[0x1a / 2] = 0xfff0;                                 /* SP */
	img[0x24 / 2] = K_CS;
	img[0x26 / 2] = K_DS;
	img[0x28 / 2] = K_DS;
	phys_copy_in(&h->pm, TSS16_BASE, img, sizeof(img));
	CU_ASSERT_EQUAL(exec_insn(c, jmp, sizeof(jmp)), EXEC_OK);
	CU_ASSERT_EQUAL(c->next_rip, 0x1234);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xffff5a5a);
	CU_ASSERT(cpu_get_rflags(c) & FL_CF);
	CU_ASSERT_EQUAL(gdt_type(h, TSS16_SEL), SYS_TSS16_BUSY);
	harness_destroy(h);
}

/* T flag: #DB trap in the new task with DR6.BT, before its first instruction. */
static void test_trap_flag(void)
{
	const uint8_t jmp[] = { 0xea, 0, 0, 0, 0, NEW_SEL, 0 };
	struct harness *h = task_env();
	struct cpu *c = &h->cpu;
	put32(h, NEW_TSS + 0x64, 1);
	CU_ASSERT_EQUAL(exec_insn(c, jmp, sizeof(jmp)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_DB);
	CU_ASSERT(c->exc.new_task);
	CU_ASSERT_EQUAL(c->exc.rip, NEW_EIP);
	CU_ASSERT(c->dr[6] & DR6_BT);
	CU_ASSERT_EQUAL(c->tr.sel, NEW_SEL);
	harness_destroy(h);
}

/* EFLAGS.VM in the new TSS starts a virtual-8086 task at CPL 3. */
static void test_v86_task(void)
{
	const uint8_t jmp[] = { 0xea, 0, 0, 0, 0, NEW_SEL, 0 };
	struct harness *h = task_env();
	struct cpu *c = &h->cpu;
	put32(h, NEW_TSS + 0x20, 0x0010);
	put32(h, NEW_TSS + 0x24, FL_FIXED1 | FL_VM);
	put32(h, NEW_TSS + 0x4c, 0x2000);
	put32(h, NEW_TSS + 0x50, 0x3000);
	CU_ASSERT_EQUAL(exec_insn(c, jmp, sizeof(jmp)), EXEC_OK);
	CU_ASSERT(c->rflags & FL_VM);
	CU_ASSERT_EQUAL(c->cpl, 3);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].base, 0x20000);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].base, 0x30000);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].limit, 0xffff);
	harness_destroy(h);
}

/* IA-32e mode has no task switching: a TSS selector is #GP(selector), IRET
 * with NT = 1 #GP(0). */
static void test_long_mode_refuses(void)
{
	const uint8_t jmp_mem[] = { 0xff, 0x2c, 0x25, 0x00, 0x08, 0x00, 0x00 };  /* jmp far [0x800] */
	const uint8_t iretq[] = { 0x48, 0xcf };
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	gdt_put(h, 0x40, sys_desc(NEW_TSS, 0x67, SYS_TSS_AVAIL));
	gdt_put(h, 0x48, 0);
	c->gdtr.limit = 0x4f;
	put32(h, 0x800, 0);
	put32(h, 0x804, 0x40);
	CU_ASSERT_EQUAL(exec_insn(c, jmp_mem, sizeof(jmp_mem)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0x40);
	c->rflags |= FL_NT;
	CU_ASSERT_EQUAL(exec_insn(c, iretq, sizeof(iretq)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
	harness_destroy(h);
}

/* PAE paging: a task switch that changes CR3 loads the PDPTE registers from
 * the new CR3 (SDM vol. 3A 4.4.1); a reserved bit in a present PDPTE is
 * #GP(0) in the new task, and the old PDPTE registers stay. */
static void pae_env(struct harness *h, uint32_t old_pdpt, uint32_t new_pdpt)
{
	struct cpu *c = &h->cpu;
	put64(h, 0x71000, 0x83);                        /* PD: 2 MiB identity page at 0 */
	for (unsigned k = 0; k < 4; k++) {
		put64(h, old_pdpt + 8 * k, k == 0 ? 0x71001 : 0);
		put64(h, new_pdpt + 8 * k, k == 0 ? 0x71001 : 0);
	}
	c->cr3 = old_pdpt;
	c->cr4 |= CR4_PAE;
	c->cr0 |= CR0_PG;
	CU_ASSERT(paging_load_pdptes(c->phys, c->cr3, 36, c->pdpte));
	cpu_mode_changed(c);
	put32(h, NEW_TSS + 0x1c, new_pdpt);
}

static void test_pae_pdptes(void)
{
	const uint8_t jmp[] = { 0xea, 0, 0, 0, 0, NEW_SEL, 0 };
	struct harness *h = task_env();
	struct cpu *c = &h->cpu;
	pae_env(h, 0x70000, 0x72000);
	put64(h, 0x72000 + 8, 0x74001);                 /* only the new table has PDPTE1 */
	CU_ASSERT_EQUAL(exec_insn(c, jmp, sizeof(jmp)), EXEC_OK);
	CU_ASSERT_EQUAL(c->cr3, 0x72000);
	CU_ASSERT_EQUAL(c->pdpte[1], 0x74001);
	harness_destroy(h);

	h = task_env();
	c = &h->cpu;
	pae_env(h, 0x70000, 0x72000);
	put64(h, 0x72000 + 16, 0x74021);                /* PDPTE2: P with reserved bit 5 */
	CU_ASSERT_EQUAL(exec_insn(c, jmp, sizeof(jmp)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
	CU_ASSERT(c->exc.new_task);
	CU_ASSERT_EQUAL(c->pdpte[2], 0);
	harness_destroy(h);
}

void suite_cpu_task(void)
{
	CU_pSuite s = CU_add_suite("cpu_task", NULL, NULL);
	CU_add_test(s, "JMP to a TSS", test_jmp_tss);
	CU_add_test(s, "CALL through a task gate, IRET back", test_call_gate_iret);
	CU_add_test(s, "faults before the commit point", test_precommit_faults);
	CU_add_test(s, "#TS after the commit point, in the new task", test_ts_after_commit);
	CU_add_test(s, "IDT task gate pushes the error code", test_idt_task_gate_error_code);
	CU_add_test(s, "IRET NT=1 with a bad link is #TS", test_iret_bad_link);
	CU_add_test(s, "16-bit TSS", test_tss16);
	CU_add_test(s, "T flag raises #DB in the new task", test_trap_flag);
	CU_add_test(s, "virtual-8086 task", test_v86_task);
	CU_add_test(s, "IA-32e mode refuses task switches", test_long_mode_refuses);
	CU_add_test(s, "PAE: a new CR3 loads the PDPTE registers", test_pae_pdptes);
}
