/* cpu/debug.c and the MOV DR handlers: DR6/DR7 read-back, MOV DR faults,
 * instruction/data/I-O breakpoints, RF, single-step (POPF, MOV SS, HLT,
 * INT n), one #DB for simultaneous traps, code breakpoint before a fetch
 * #PF, REP string breakpoints, and #AC (SDM vol. 3B 17.2-17.3, vol. 3A
 * 6.8.3, 6.9, 6.15). */
#include <CUnit/CUnit.h>

#include "cpu/debug.h"
#include "tests/unit/cpu/sysenv.h"

#define EXEC(c, code) exec_insn((c), (code), sizeof(code))
/* DR7 enable (L), R/W and LEN fields of breakpoint n. */
#define BP(n, rw, len) ((1ull << (2 * (n))) | ((uint64_t)(rw) << (16 + 4 * (n))) | ((uint64_t)(len) << (18 + 4 * (n))))
#define LEN1 0
#define LEN2 1
#define LEN8 2
#define LEN4 3

/* #DB handlers: r8 counts, r9 = pushed RIP, r10 = pushed RFLAGS, r11 = DR6. */
#define DB_RECORD 0x49, 0xff, 0xc0, 0x4c, 0x8b, 0x0c, 0x24, 0x4c, 0x8b, 0x54, 0x24, 0x10, 0x41, 0x0f, 0x21, 0xf3
static const uint8_t db_hlt[] = { DB_RECORD, 0xf4 };
static const uint8_t db_iret[] = { DB_RECORD, 0x48, 0xcf };
/* ... and TF cleared in the frame: single-stepping stops after one trap. */
static const uint8_t db_untf[] = { DB_RECORD, 0x48, 0x81, 0x64, 0x24, 0x10, 0xff, 0xfe, 0xff, 0xff, 0x48, 0xcf };
/* ... and RF set in the frame: resume past an instruction breakpoint. */
static const uint8_t db_rf[] = { DB_RECORD, 0x48, 0x81, 0x4c, 0x24, 0x10, 0x00, 0x00, 0x01, 0x00, 0x48, 0xcf };

#define SET_TF 0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, 0x9d      /* 10 bytes, 3 insns */
#define CLEAR_TF 0x9c, 0x48, 0x81, 0x24, 0x24, 0xff, 0xfe, 0xff, 0xff, 0x9d    /* 10 bytes, 3 insns */
#define STORE_9000 0x89, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00                    /* mov [0x9000], eax */
#define NOP 0x90
#define HLT 0xf4

static struct harness *dbg_env(const uint8_t *code, size_t len, const uint8_t *handler, size_t hlen)
{
	struct harness *h = sysenv_long();
	put_code(h, CODE_BASE, code, len);
	put_code(h, KERNEL_CODE, handler, hlen);
	idt_put64(h, VEC_DB, KERNEL_CODE, SYS_INT_GATE, 0, 0);
	h->cpu.rip = CODE_BASE;
	return h;
}

static void set_bp(struct cpu *c, unsigned n, uint64_t addr, uint64_t dr7)
{
	c->dr[n] = addr;
	c->dr[7] |= dr7;
	cpu_debug_update(c);
}

/* DR6 reads 1 in bits 4-11 and 16-31 and 0 in bit 12; DR7 reads 1 in bit
 * 10 and 0 in bits 11, 12, 14 and 15 (17.2.3, 17.2.4). */
static void test_dr_readback(void)
{
	const uint8_t w6[] = { 0x0f, 0x23, 0xf0 }, r6[] = { 0x0f, 0x21, 0xf0 };
	const uint8_t w7[] = { 0x0f, 0x23, 0xf8 }, r7[] = { 0x0f, 0x21, 0xf8 };
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(c->dr[6], 0xffff0ff0u);         /* reset values */
	CU_ASSERT_EQUAL(c->dr[7], 0x400u);
	c->gpr[R_AX] = 0;
	CU_ASSERT_EQUAL(EXEC(c, w6), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, r6), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xffff0ff0u);
	c->gpr[R_AX] = 0xffffffffu;
	CU_ASSERT_EQUAL(EXEC(c, w6), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, r6), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xffffefffu);
	c->gpr[R_AX] = 0xffffdfffu;                     /* everything but GD */
	CU_ASSERT_EQUAL(EXEC(c, w7), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, r7), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xffff07ffu);
	c->gpr[R_AX] = 0;
	CU_ASSERT_EQUAL(EXEC(c, w7), EXEC_OK);
	CU_ASSERT_EQUAL(c->dr[7], 0x400u);
	harness_destroy(h);
}

/* MOV DR (vol. 2): #GP(0) at CPL > 0 and for bits 63:32 of DR6/DR7; DR0-3
 * take 64-bit addresses; DR4/DR5 alias DR6/DR7 with CR4.DE = 0 and are
 * #UD with DE = 1; DR8 is #UD; GD makes any access a #DB fault with BD,
 * GD cleared and RF = 1 for the frame. */
static void test_mov_dr_faults(void)
{
	const uint8_t w0[] = { 0x0f, 0x23, 0xc0 }, r0[] = { 0x0f, 0x21, 0xc0 };
	const uint8_t w5[] = { 0x0f, 0x23, 0xe8 }, r5[] = { 0x0f, 0x21, 0xe8 };
	const uint8_t w6[] = { 0x0f, 0x23, 0xf0 }, w7[] = { 0x0f, 0x23, 0xf8 };
	const uint8_t r8dr[] = { 0x44, 0x0f, 0x21, 0xc0 };     /* mov rax, dr8 */
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	c->gpr[R_AX] = 1ull << 32;
	CU_ASSERT_EQUAL(EXEC(c, w7), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(EXEC(c, w6), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(EXEC(c, w0), EXEC_OK);
	CU_ASSERT_EQUAL(c->dr[0], 1ull << 32);
	c->gpr[R_AX] = 0x2;
	CU_ASSERT_EQUAL(EXEC(c, w5), EXEC_OK);          /* DR5 is DR7 */
	CU_ASSERT_EQUAL(c->dr[7], 0x402u);
	CU_ASSERT_EQUAL(EXEC(c, r5), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x402u);
	c->cr4 |= CR4_DE;
	CU_ASSERT_EQUAL(EXEC(c, r5), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	CU_ASSERT_EQUAL(EXEC(c, r8dr), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	c->dr[6] = 0xffff0ff3u;
	c->dr[7] |= DR7_GD;
	CU_ASSERT_EQUAL(EXEC(c, r0), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_DB);
	CU_ASSERT_EQUAL(c->dr[6], 0xffff2ff0u);         /* BD set, B0-B3 rewritten */
	CU_ASSERT_FALSE(c->dr[7] & DR7_GD);
	CU_ASSERT(c->rflags & FL_RF);
	c->rflags &= ~(uint64_t)FL_RF;
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	CU_ASSERT_EQUAL(EXEC(c, r0), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	harness_destroy(h);
}

/* An instruction breakpoint is a fault before the instruction with RF = 0
 * in the frame; resuming with RF = 1 runs the instruction once. */
static void test_exec_breakpoint_rf(void)
{
	const uint8_t code[] = { NOP, NOP, 0xb8, 0x01, 0x00, 0x00, 0x00, HLT };
	struct harness *h = dbg_env(code, sizeof(code), db_rf, sizeof(db_rf));
	struct cpu *c = &h->cpu;
	set_bp(c, 0, CODE_BASE + 1, BP(0, DR7_RW_EXEC, LEN1));
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 1);
	CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE + 1);
	CU_ASSERT_FALSE(c->gpr[R_R10] & FL_RF);
	CU_ASSERT_EQUAL(c->gpr[R_R11], 0xffff0ff1u);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 1);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + sizeof(code));
	CU_ASSERT_FALSE(c->rflags & FL_RF);
	harness_destroy(h);
}

/* Without RF the breakpoint hits again at every return to it. */
static void test_exec_breakpoint_no_rf(void)
{
	const uint8_t code[] = { NOP, NOP, HLT };
	struct harness *h = dbg_env(code, sizeof(code), db_iret, sizeof(db_iret));
	struct cpu *c = &h->cpu;
	set_bp(c, 2, CODE_BASE + 1, BP(2, DR7_RW_EXEC, LEN1));
	CU_ASSERT_EQUAL(run_more(h, 2000), CPU_STOP_DEADLINE);
	CU_ASSERT(c->gpr[R_R8] >= 10);
	CU_ASSERT_EQUAL(c->gpr[R_R11], 0xffff0ff4u);
	harness_destroy(h);
}

/* Data breakpoints are traps after the access (RIP of the next
 * instruction); R/W = 01 ignores reads, 11 takes both; LEN masks the low
 * address bits and any overlapping byte hits (17.2.5). */
static void test_data_breakpoints(void)
{
	const uint8_t code[] = { STORE_9000, 0x8b, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00,        /* mov eax, [0x9000] */
				 0x8b, 0x04, 0x25, 0x08, 0x90, 0x00, 0x00, HLT };               /* mov eax, [0x9008] */
	struct harness *h = dbg_env(code, sizeof(code), db_iret, sizeof(db_iret));
	struct cpu *c = &h->cpu;
	set_bp(c, 1, 0x9003, BP(1, DR7_RW_WRITE, LEN2));     /* field 0x9002-0x9003 */
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 1);
	CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE + 7);
	CU_ASSERT_EQUAL(c->gpr[R_R11], 0xffff0ff2u);
	harness_destroy(h);

	h = dbg_env(code, sizeof(code), db_iret, sizeof(db_iret));
	c = &h->cpu;
	set_bp(c, 3, 0x9005, BP(3, DR7_RW_RW, LEN8));        /* field 0x9000-0x9007 */
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 2);                    /* the store and the first load */
	CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE + 14);
	CU_ASSERT_EQUAL(c->gpr[R_R11], 0xffff0ff8u);
	harness_destroy(h);
}

/* Single-step traps follow each instruction that starts with TF = 1: not
 * the POPF that sets TF, but the POPF that clears it (17.3.1.4). */
static void test_single_step_count(void)
{
	const uint8_t code[] = { SET_TF, NOP, NOP, NOP, CLEAR_TF, HLT };
	struct harness *h = dbg_env(code, sizeof(code), db_iret, sizeof(db_iret));
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 6);
	CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE + sizeof(code) - 1);
	CU_ASSERT(c->gpr[R_R11] & DR6_BS);
	CU_ASSERT_FALSE(c->gpr[R_R10] & FL_TF);         /* the last trap follows the POPF that cleared TF */
	CU_ASSERT_FALSE(c->rflags & FL_TF);
	harness_destroy(h);
}

/* MOV SS holds the single-step trap until after the next instruction:
 * one #DB for both, at the RIP after the second (vol. 3A 6.8.3). */
static void test_mov_ss_shadow(void)
{
	const uint8_t code[] = { SET_TF, 0x8e, 0xd0, NOP, NOP, HLT };        /* mov ss, ax */
	struct harness *h = dbg_env(code, sizeof(code), db_untf, sizeof(db_untf));
	struct cpu *c = &h->cpu;
	c->gpr[R_AX] = K_DS;
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 1);
	CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE + 13);
	CU_ASSERT(c->gpr[R_R11] & DR6_BS);
	CU_ASSERT_FALSE(c->mov_ss_shadow);
	harness_destroy(h);
}

/* HLT under TF: the trap is delivered with the RIP after HLT (a debug
 * exception resumes from the HLT state, vol. 2 HLT). */
static void test_hlt_single_step(void)
{
	const uint8_t code[] = { SET_TF, HLT, 0xb8, 0x05, 0x00, 0x00, 0x00, HLT };
	struct harness *h = dbg_env(code, sizeof(code), db_untf, sizeof(db_untf));
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 1);
	CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE + 11);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 5);
	CU_ASSERT_EQUAL(c->rip, CODE_BASE + sizeof(code));
	harness_destroy(h);
}

/* INT n clears TF for its handler and no trap follows it; the handler's
 * IRET restores TF and the instruction after INT n traps (17.3.1.4). */
static void test_int_n_clears_tf(void)
{
	const uint8_t code[] = { SET_TF, 0xcd, 0x81, NOP, HLT };
	const uint8_t iretq[] = { 0x48, 0xcf };
	struct harness *h = dbg_env(code, sizeof(code), db_untf, sizeof(db_untf));
	struct cpu *c = &h->cpu;
	put_code(h, KERNEL_CODE + 0x100, iretq, sizeof(iretq));
	idt_put64(h, 0x81, KERNEL_CODE + 0x100, SYS_INT_GATE, 0, 0);
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 1);
	CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE + 13);
	harness_destroy(h);
}

/* INT1 raises #DB as a trap and leaves DR6 alone. */
static void test_int1(void)
{
	const uint8_t code[] = { 0xf1, HLT };
	struct harness *h = dbg_env(code, sizeof(code), db_hlt, sizeof(db_hlt));
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE + 1);
	CU_ASSERT_EQUAL(c->gpr[R_R11], 0xffff0ff0u);
	harness_destroy(h);
}

/* A single-step trap and a data breakpoint of one instruction are one #DB
 * with BS and B0 (Table 6-2: both are traps of the previous instruction). */
static void test_step_and_data_one_db(void)
{
	const uint8_t code[] = { SET_TF, STORE_9000, HLT };
	struct harness *h = dbg_env(code, sizeof(code), db_untf, sizeof(db_untf));
	struct cpu *c = &h->cpu;
	set_bp(c, 0, 0x9000, BP(0, DR7_RW_WRITE, LEN4));
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 1);
	CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE + 17);
	CU_ASSERT_EQUAL(c->gpr[R_R11], 0xffff4ff1u);
	harness_destroy(h);
}

/* A code breakpoint on an unmapped address is reported before the fetch
 * #PF (Table 6-2, priorities 7 and 8). */
static void test_code_bp_before_fetch_fault(void)
{
	const uint8_t code[] = { 0x48, 0xb8, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0xff, 0xe0 };
	const uint8_t pf_handler[] = { 0x41, 0xbc, 0x01, 0x00, 0x00, 0x00, HLT };      /* mov r12d, 1 */
	struct harness *h = dbg_env(code, sizeof(code), db_hlt, sizeof(db_hlt));
	struct cpu *c = &h->cpu;
	put_code(h, KERNEL_CODE + 0x100, pf_handler, sizeof(pf_handler));
	idt_put64(h, VEC_PF, KERNEL_CODE + 0x100, SYS_INT_GATE, 0, 0);
	set_bp(c, 1, 0x40000000, BP(1, DR7_RW_EXEC, LEN1));
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 1);
	CU_ASSERT_EQUAL(c->gpr[R_R9], 0x40000000u);
	CU_ASSERT_EQUAL(c->gpr[R_R12], 0);
	harness_destroy(h);
}

/* I/O breakpoints need CR4.DE; with DE = 0, R/W = 10 matches nothing. */
static void test_io_breakpoint(void)
{
	const uint8_t code[] = { 0xe6, 0x80, NOP, HLT };        /* out 0x80, al */
	for (int de = 0; de < 2; de++) {
		struct harness *h = dbg_env(code, sizeof(code), db_iret, sizeof(db_iret));
		struct cpu *c = &h->cpu;
		if (de)
			c->cr4 |= CR4_DE;
		set_bp(c, 2, 0x80, BP(2, DR7_RW_IO, LEN1));
		CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
		CU_ASSERT_EQUAL(c->gpr[R_R8], (uint64_t)de);
		if (de) {
			CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE + 2);
			CU_ASSERT_EQUAL(c->gpr[R_R11], 0xffff0ff4u);
		}
		harness_destroy(h);
	}
}

/* REP STOSB with a write breakpoint on the 4th byte: the trap follows that
 * iteration, RIP is the REP instruction, RCX/RDI show 4 iterations done,
 * and RF = 1 in the frame (17.3.1.1); the IRET resumes the rest. */
static void test_rep_data_breakpoint(void)
{
	const uint8_t code[] = { 0xf3, 0xaa, HLT };
	struct harness *h = dbg_env(code, sizeof(code), db_hlt, sizeof(db_hlt));
	struct cpu *c = &h->cpu;
	c->gpr[R_CX] = 8;
	c->gpr[R_DI] = 0x9000;
	set_bp(c, 0, 0x9003, BP(0, DR7_RW_WRITE, LEN1));
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R9], CODE_BASE);
	CU_ASSERT(c->gpr[R_R10] & FL_RF);
	CU_ASSERT_EQUAL(c->gpr[R_CX], 4);
	CU_ASSERT_EQUAL(c->gpr[R_DI], 0x9004);
	harness_destroy(h);

	h = dbg_env(code, sizeof(code), db_iret, sizeof(db_iret));
	c = &h->cpu;
	c->gpr[R_CX] = 8;
	c->gpr[R_DI] = 0x9000;
	set_bp(c, 0, 0x9003, BP(0, DR7_RW_WRITE, LEN1));
	CU_ASSERT_EQUAL(run_more(h, 10000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 1);
	CU_ASSERT_EQUAL(c->gpr[R_CX], 0);
	CU_ASSERT_EQUAL(c->gpr[R_DI], 0x9008);
	harness_destroy(h);
}

/* #AC(0) needs CR0.AM, RFLAGS.AC and CPL 3 and a misaligned word, dword or
 * qword (6.15 Interrupt 17, Table 6-7); bytes and CPL 0 never fault. */
static void test_alignment_check(void)
{
	const uint8_t load32[] = { 0x8b, 0x04, 0x25, 0x01, 0x90, 0x00, 0x00 };    /* mov eax, [0x9001] */
	const uint8_t load8[] = { 0x8a, 0x04, 0x25, 0x01, 0x90, 0x00, 0x00 };     /* mov al, [0x9001] */
	const uint8_t store16[] = { 0x66, 0x89, 0x04, 0x25, 0x02, 0x90, 0x00, 0x00 };  /* mov [0x9002], ax */
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	cpu_set_rflags(c, cpu_get_rflags(c) | FL_AC);
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	CU_ASSERT_EQUAL(EXEC(c, load32), EXEC_OK);      /* CR0.AM = 0 */
	c->cr0 |= CR0_AM;
	cpu_mode_changed(c);
	CU_ASSERT_EQUAL(EXEC(c, load32), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_AC);
	CU_ASSERT(c->exc.has_error);
	CU_ASSERT_EQUAL(c->exc.error, 0);
	CU_ASSERT_EQUAL(EXEC(c, load8), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, store16), EXEC_OK);
	cpu_set_rflags(c, cpu_get_rflags(c) & ~(uint64_t)FL_AC);
	CU_ASSERT_EQUAL(EXEC(c, load32), EXEC_OK);
	cpu_set_rflags(c, cpu_get_rflags(c) | FL_AC);
	CU_ASSERT_EQUAL(EXEC(c, load32), EXEC_FAULT);
	load_seg(c, SEG_CS, K_CS, gdt_get(h, K_CS));
	c->cpl = 0;
	cpu_mode_changed(c);
	CU_ASSERT_EQUAL(EXEC(c, load32), EXEC_OK);
	harness_destroy(h);
}

void suite_cpu_debug(void);
void suite_cpu_debug(void)
{
	CU_pSuite s = CU_add_suite("cpu_debug", NULL, NULL);
	CU_add_test(s, "DR6/DR7 read-back", test_dr_readback);
	CU_add_test(s, "MOV DR faults and GD", test_mov_dr_faults);
	CU_add_test(s, "instruction breakpoint, RF resume", test_exec_breakpoint_rf);
	CU_add_test(s, "instruction breakpoint without RF", test_exec_breakpoint_no_rf);
	CU_add_test(s, "data breakpoints", test_data_breakpoints);
	CU_add_test(s, "single-step count", test_single_step_count);
	CU_add_test(s, "MOV SS shadow delays single-step", test_mov_ss_shadow);
	CU_add_test(s, "HLT under single-step", test_hlt_single_step);
	CU_add_test(s, "INT n clears TF", test_int_n_clears_tf);
	CU_add_test(s, "INT1", test_int1);
	CU_add_test(s, "single-step and data breakpoint: one #DB", test_step_and_data_one_db);
	CU_add_test(s, "code breakpoint before fetch #PF", test_code_bp_before_fetch_fault);
	CU_add_test(s, "I/O breakpoint and CR4.DE", test_io_breakpoint);
	CU_add_test(s, "REP string data breakpoint", test_rep_data_breakpoint);
	CU_add_test(s, "alignment check", test_alignment_check);
}
