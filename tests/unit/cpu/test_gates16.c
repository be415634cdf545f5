/* 16-bit gates in 32-bit protected mode: the gate's size, not the code
 * segment's, sets the width of every value pushed (SDM vol. 3A 5.8.5 "a
 * 16-bit call gate ... 16-bit values", 6.12.1 "the size of the gate (16 or
 * 32 bits) determines the stack width"; vol. 2 CALL "CALL-GATE-TO-INNER-
 * PRIVILEGE" CallGateSize = 16, INT n "INTER-PRIVILEGE-LEVEL-INTERRUPT"
 * 16-bit gate). In IA-32e mode 16-bit gate types are not allowed (6.14.1,
 * 5.8.3.1): the IDT entry is #GP(vector * 8 + 2 + EXT), the call gate
 * #GP(selector).
 *
 * The gates' offsets are 16 bits, so the handlers and the callers sit
 * below 64 KiB in the flat segments of sysenv.h; stacks too, so that the
 * 16-bit SP saved in the frame is the whole ESP. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/sysenv.h"

#define GATE16_SEL 0x38
#define LOW_USER_CODE 0x8000u
#define LOW_USER_STACK 0x9000u
#define H_CALL 0xa000u
#define H_INT 0xa100u
#define H_GP 0xa200u
#define LOW_KERNEL_CODE 0xb000u

static uint16_t get16(struct harness *h, uint64_t pa)
{
	uint16_t v = 0;
	phys_copy_out(&h->pm, pa, &v, 2);
	return v;
}

/* A 16-bit call gate (type 4) or IDT gate (type 6 interrupt, 7 trap) to
 * K_CS:off. */
static uint64_t gate16(uint16_t off, unsigned type, unsigned dpl, unsigned params)
{
	return off | ((uint64_t)K_CS << 16) | ((uint64_t)(params & 0x1f) << 32) |
	       ((uint64_t)(0x80 | dpl << 5 | type) << 40);
}

/* user: push word 1111h ; push word 2222h ; call 38h:0 ; mov ebx, 5678h ; jmp $
 * handler: hlt ; o16 retf 4 */
static void test_call_gate16_inner(void)
{
	static const uint8_t user[] = { 0x66, 0x68, 0x11, 0x11, 0x66, 0x68, 0x22, 0x22,
					0x9a, 0x00, 0x00, 0x00, 0x00, GATE16_SEL | 3, 0x00,
					0xbb, 0x78, 0x56, 0x00, 0x00, 0xeb, 0xfe };
	static const uint8_t handler[] = { 0xf4, 0x66, 0xca, 0x04, 0x00 };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	gdt_put(h, GATE16_SEL, gate16(H_CALL, SYS_CALL_GATE16, 3, 2));
	put_code(h, LOW_USER_CODE, user, sizeof(user));
	put_code(h, H_CALL, handler, sizeof(handler));
	enter_user(h, U_CS32, LOW_USER_CODE, LOW_USER_STACK);
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, K_CS);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, K_DS);
	/* SS, SP, the two parameter words in the caller's order, CS, IP: six
	 * words below ESP0 (the 32-bit code segment does not widen them). */
	CU_ASSERT_EQUAL(c->gpr[R_SP], RSP0 - 12);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 2), U_DS);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 4), LOW_USER_STACK - 4);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 6), 0x1111);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 8), 0x2222);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 10), U_CS32);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 12), LOW_USER_CODE + 15);
	CU_ASSERT_EQUAL(get32(h, RSP0 - 16), 0);        /* nothing below the frame */
	/* o16 RETF 4 pops 16-bit IP and CS, skips the parameters, pops SP:SS. */
	CU_ASSERT_EQUAL(run_more(h, 200), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->cpl, 3);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, U_CS32);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, U_DS);
	CU_ASSERT_EQUAL(c->gpr[R_SP], LOW_USER_STACK);
	CU_ASSERT_EQUAL(c->gpr[R_BX], 0x5678);
	harness_destroy(h);
}

/* Same level: a 16-bit call gate pushes CS:IP as two words. */
static void test_call_gate16_same_level(void)
{
	static const uint8_t code[] = { 0x9a, 0x00, 0x00, 0x00, 0x00, GATE16_SEL, 0x00 };
	static const uint8_t handler[] = { 0xf4 };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	gdt_put(h, GATE16_SEL, gate16(H_CALL, SYS_CALL_GATE16, 0, 0));
	put_code(h, LOW_KERNEL_CODE, code, sizeof(code));
	put_code(h, H_CALL, handler, sizeof(handler));
	c->rip = LOW_KERNEL_CODE;
	c->gpr[R_SP] = STACK_TOP;
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->rip, H_CALL + 1);
	CU_ASSERT_EQUAL(c->gpr[R_SP], STACK_TOP - 4);
	CU_ASSERT_EQUAL(get16(h, STACK_TOP - 2), K_CS);
	CU_ASSERT_EQUAL(get16(h, STACK_TOP - 4), LOW_KERNEL_CODE + sizeof(code));
	harness_destroy(h);
}

/* INT 40h from CPL 3 through a DPL-3 16-bit interrupt gate: SS SP FLAGS CS
 * IP as words on the ring-0 stack, IF cleared; o16 IRET returns to ring 3. */
static void test_int_gate16_inner(void)
{
	static const uint8_t user[] = { 0xcd, 0x40, 0xbb, 0x34, 0x12, 0x00, 0x00, 0xeb, 0xfe };
	static const uint8_t handler[] = { 0xf4, 0x66, 0xcf };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	put64(h, IDT_BASE + 8 * 0x40, gate16(H_INT, SYS_INT_GATE16, 3, 0));
	put_code(h, LOW_USER_CODE, user, sizeof(user));
	put_code(h, H_INT, handler, sizeof(handler));
	enter_user(h, U_CS32, LOW_USER_CODE, LOW_USER_STACK);
	cpu_set_rflags(c, FL_FIXED1 | FL_IF | FL_CF | FL_AC);
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->cpl, 0);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RSP0 - 10);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 2), U_DS);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 4), LOW_USER_STACK);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 6), FL_FIXED1 | FL_IF | FL_CF);   /* FLAGS: the low 16 bits */
	CU_ASSERT_EQUAL(get16(h, RSP0 - 8), U_CS32);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 10), LOW_USER_CODE + 2);
	CU_ASSERT_EQUAL(get16(h, RSP0 - 12), 0);
	CU_ASSERT_FALSE(c->rflags & FL_IF);
	CU_ASSERT(c->rflags & FL_AC);           /* only real-mode delivery clears AC (vol. 2 INT n) */
	CU_ASSERT_EQUAL(run_more(h, 200), CPU_STOP_DEADLINE);
	CU_ASSERT_EQUAL(c->cpl, 3);
	CU_ASSERT_EQUAL(c->gpr[R_SP], LOW_USER_STACK);
	CU_ASSERT_EQUAL(c->seg[SEG_SS].sel, U_DS);
	CU_ASSERT(c->rflags & FL_IF);
	CU_ASSERT_EQUAL(c->gpr[R_BX], 0x1234);
	harness_destroy(h);
}

/* #GP(selector) at CPL 0 through a 16-bit trap gate: FLAGS CS IP and the
 * error code as words on the current stack; IF stays set. */
static void test_trap_gate16_error_code(void)
{
	static const uint8_t code[] = { 0x66, 0xb8, 0xf8, 0x01, 0x8e, 0xd8 };    /* mov ax, 1f8h ; mov ds, ax */
	static const uint8_t handler[] = { 0xf4 };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	put64(h, IDT_BASE + 8 * VEC_GP, gate16(H_GP, SYS_TRAP_GATE16, 0, 0));
	put_code(h, LOW_KERNEL_CODE, code, sizeof(code));
	put_code(h, H_GP, handler, sizeof(handler));
	c->rip = LOW_KERNEL_CODE;
	c->gpr[R_SP] = STACK_TOP;
	cpu_set_rflags(c, FL_FIXED1 | FL_IF);
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->rip, H_GP + 1);
	CU_ASSERT_EQUAL(c->gpr[R_SP], STACK_TOP - 8);
	CU_ASSERT_EQUAL(get16(h, STACK_TOP - 2), FL_FIXED1 | FL_IF);
	CU_ASSERT_EQUAL(get16(h, STACK_TOP - 4), K_CS);
	CU_ASSERT_EQUAL(get16(h, STACK_TOP - 6), LOW_KERNEL_CODE + 4);     /* the faulting MOV */
	CU_ASSERT_EQUAL(get16(h, STACK_TOP - 8), 0x1f8);
	CU_ASSERT(c->rflags & FL_IF);
	harness_destroy(h);
}

/* IA-32e mode: a 16-bit interrupt gate is an invalid IDT entry,
 * #GP(vector * 8 + 2) for INT n (EXT = 0); a 16-bit call gate is
 * #GP(selector). */
static void test_gates16_in_ia32e(void)
{
	static const uint8_t int40[] = { 0xcd, 0x40 };
	static const uint8_t callf[] = { 0xff, 0x18 };     /* call far [rax] */
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	uint64_t g[2] = { gate16(H_INT, SYS_INT_GATE16, 0, 0), 0 };
	phys_copy_in(&h->pm, IDT_BASE + 16 * 0x40, g, 16);
	CU_ASSERT_EQUAL(exec_insn(c, int40, sizeof(int40)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0x40 * 8 + 2);
	gdt_put(h, 0x40, gate16(H_CALL, SYS_CALL_GATE16, 0, 0));
	put64(h, 0x7000, 0x40ull << 32);                /* m16:32 far pointer 0040:00000000 */
	h->cpu.gdtr.limit = 0x4f;
	c->gpr[R_AX] = 0x7000;
	CU_ASSERT_EQUAL(exec_insn(c, callf, sizeof(callf)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0x40);
	harness_destroy(h);
}

void suite_cpu_gates16(void)
{
	CU_pSuite s = CU_add_suite("cpu_gates16", NULL, NULL);
	CU_add_test(s, "16-bit call gate to an inner level", test_call_gate16_inner);
	CU_add_test(s, "16-bit call gate, same level", test_call_gate16_same_level);
	CU_add_test(s, "16-bit interrupt gate from ring 3, o16 IRET", test_int_gate16_inner);
	CU_add_test(s, "16-bit trap gate: #GP error code as a word", test_trap_gate16_error_code);
	CU_add_test(s, "16-bit gates are invalid in IA-32e mode", test_gates16_in_ia32e);
}
