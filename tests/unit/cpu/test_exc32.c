/* Exceptions in 32-bit protected mode: vector, error code and the whole
 * pushed frame for every exception a program can raise (SDM vol. 3A 6.12.1
 * Figure 6-4 "Stack Usage on Transfers to Interrupt and Exception-Handling
 * Routines", 6.13 "Error Code", 6.15 "Exception and Interrupt Reference").
 * Faults save the EIP of the faulting instruction and RF = 1, traps the
 * EIP of the next one and RF as it was (vol. 3B 17.3.1.1). Every handler
 * is "jmp $" at KERNEL_CODE + 16 * vector, so where the CPU spins names
 * the vector it delivered. */
#include <CUnit/CUnit.h>

#include "mem/paging.h"
#include "tests/unit/cpu/sysenv.h"

#define H(v) (KERNEL_CODE + 16u * (v))
#define CONF_CS 0x38            /* conforming DPL-0 code: handler at CPL 3 */
#define SEL_A 0x40              /* free GDT rows for the tests */
#define SEL_B 0x48

/* A 32-bit interrupt (0EH) or trap (0FH) gate (Figure 6-2). */
static uint64_t gate32(uint32_t off, uint16_t sel, unsigned type, unsigned dpl)
{
	return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)(0x80 | dpl << 5 | type) << 40) |
	       ((uint64_t)(off >> 16) << 48);
}

/* sysenv_prot32 with an interrupt gate to a spinning handler for vectors
 * 0-31 and the GDT limit covering SEL_A and SEL_B. */
static struct harness *env32(void)
{
	static const uint8_t spin[] = { 0xeb, 0xfe };
	struct harness *h = sysenv_prot32();
	for (unsigned v = 0; v < 32; v++) {
		put64(h, IDT_BASE + 8 * v, gate32(H(v), K_CS, SYS_INT_GATE, 0));
		put_code(h, H(v), spin, sizeof(spin));
	}
	gdt_put(h, CONF_CS, 0x00cf9e000000ffffull);
	h->cpu.gdtr.limit = 0x4f;
	h->cpu.gpr[R_SP] = STACK_TOP;
	return h;
}

/* The vector whose handler the CPU is in, or -1. */
static int vector_at(const struct harness *h)
{
	uint64_t r = h->cpu.rip;
	if (r < H(0) || r >= H(32) || (r - H(0)) % 16)
		return -1;
	return (int)((r - H(0)) / 16);
}

/* Run until a handler spins: the vector it serves, or -1. */
static int spin_vector(struct harness *h)
{
	run_more(h, 5000);
	return vector_at(h);
}

static int run_code(struct harness *h, const uint8_t *code, size_t len)
{
	put_code(h, CODE_BASE, code, len);
	h->cpu.rip = CODE_BASE;
	return spin_vector(h);
}

/* The frame at ESP: [error code] EIP CS EFLAGS [ESP SS]. */
struct frame32 {
	uint32_t err, eip, cs, eflags, esp, ss;
};

static struct frame32 frame_at(struct harness *h, bool has_err)
{
	uint32_t sp = (uint32_t)h->cpu.gpr[R_SP], k = has_err ? 4 : 0;
	return (struct frame32){ has_err ? get32(h, sp) : 0, get32(h, sp + k), get32(h, sp + k + 4),
				 get32(h, sp + k + 8), get32(h, sp + k + 12), get32(h, sp + k + 16) };
}

/* A CPL-0 exception: the vector, the frame on the current stack (12 or 16
 * bytes below STACK_TOP), CS 08H and the saved EIP and RF. */
static void expect_cpl0(struct harness *h, int vec, bool has_err, uint32_t err, uint32_t eip, bool rf)
{
	struct frame32 f = frame_at(h, has_err);
	CU_ASSERT_EQUAL(vector_at(h), vec);
	CU_ASSERT_EQUAL(h->cpu.gpr[R_SP], STACK_TOP - (has_err ? 16 : 12));
	CU_ASSERT_EQUAL(f.err, err);
	CU_ASSERT_EQUAL(f.eip, eip);
	CU_ASSERT_EQUAL(f.cs, K_CS);
	CU_ASSERT_EQUAL((f.eflags & FL_RF) != 0, rf);
	CU_ASSERT_FALSE(h->cpu.rflags & FL_RF);
}

/* #DE (fault): DIV by zero. */
static void test_de(void)
{
	static const uint8_t code[] = { 0x31, 0xc9, 0xf7, 0xf1 };     /* xor ecx, ecx ; div ecx */
	struct harness *h = env32();
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_DE);
	expect_cpl0(h, VEC_DE, false, 0, CODE_BASE + 2, true);
	harness_destroy(h);
}

/* #DB (trap) from single-step: EIP of the next instruction, TF saved,
 * cleared for the handler, DR6.BS. */
static void test_db_single_step(void)
{
	static const uint8_t code[] = { 0x90, 0x90 };
	struct harness *h = env32();
	cpu_set_rflags(&h->cpu, FL_FIXED1 | FL_TF);
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_DB);
	expect_cpl0(h, VEC_DB, false, 0, CODE_BASE + 1, false);
	CU_ASSERT(frame_at(h, false).eflags & FL_TF);
	CU_ASSERT_FALSE(h->cpu.rflags & FL_TF);
	CU_ASSERT(h->cpu.dr[6] & (1u << 14));
	harness_destroy(h);
}

/* #BP (trap): INT3 saves the EIP after it. */
static void test_bp(void)
{
	static const uint8_t code[] = { 0x90, 0xcc };
	struct harness *h = env32();
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_BP);
	expect_cpl0(h, VEC_BP, false, 0, CODE_BASE + 2, false);
	harness_destroy(h);
}

/* #OF (trap): INTO with OF = 1 saves the EIP after it; with OF = 0 it does
 * nothing (vol. 2 INTO). */
static void test_of(void)
{
	static const uint8_t code[] = { 0xb0, 0x7f, 0x04, 0x01, 0xce };        /* mov al, 7fh ; add al, 1 ; into */
	static const uint8_t no_of[] = { 0x30, 0xc0, 0xce, 0xf4 };             /* xor al, al ; into ; hlt */
	struct harness *h = env32();
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_OF);
	expect_cpl0(h, VEC_OF, false, 0, CODE_BASE + 5, false);
	CU_ASSERT(frame_at(h, false).eflags & FL_OF);
	h->cpu.gpr[R_SP] = STACK_TOP;
	put_code(h, CODE_BASE, no_of, sizeof(no_of));
	h->cpu.rip = CODE_BASE;
	CU_ASSERT_EQUAL(run_more(h, 100), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(h->cpu.rip, CODE_BASE + 4);
	harness_destroy(h);
}

/* #BR (fault): BOUND with the index above the upper bound. */
static void test_br(void)
{
	static const uint8_t code[] = { 0x62, 0x05, 0x00, 0x70, 0x00, 0x00 };  /* bound eax, [7000h] */
	struct harness *h = env32();
	put32(h, 0x7000, 0x100);
	put32(h, 0x7004, 0x200);
	h->cpu.gpr[R_AX] = 0x201;
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_BR);
	expect_cpl0(h, VEC_BR, false, 0, CODE_BASE, true);
	harness_destroy(h);
}

/* #UD (fault): UD2. */
static void test_ud(void)
{
	static const uint8_t code[] = { 0x90, 0x0f, 0x0b };
	struct harness *h = env32();
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_UD);
	expect_cpl0(h, VEC_UD, false, 0, CODE_BASE + 1, true);
	harness_destroy(h);
}

/* #NM (fault): an x87 instruction with CR0.TS = 1. */
static void test_nm(void)
{
	static const uint8_t code[] = { 0xdb, 0xe3 };                          /* fninit */
	struct harness *h = env32();
	h->cpu.cr0 |= CR0_TS;
	cpu_mode_changed(&h->cpu);
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_NM);
	expect_cpl0(h, VEC_NM, false, 0, CODE_BASE, true);
	harness_destroy(h);
}

/* #DF: #NP while delivering #GP (both contributory, Table 6-5) is a double
 * fault with error code 0 (6.15 interrupt 8). */
static void test_df(void)
{
	static const uint8_t code[] = { 0x66, 0xb8, 0xf8, 0x01, 0x8e, 0xd8 }; /* mov ax, 1f8h ; mov ds, ax */
	struct harness *h = env32();
	put64(h, IDT_BASE + 8 * VEC_GP, gate32(H(VEC_GP), K_CS, SYS_INT_GATE, 0) & ~(1ull << 47));
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_DF);
	CU_ASSERT_EQUAL(h->cpu.gpr[R_SP], STACK_TOP - 16);
	CU_ASSERT_EQUAL(frame_at(h, true).err, 0);
	CU_ASSERT_EQUAL(frame_at(h, true).cs, K_CS);
	harness_destroy(h);
}

/* #TS: INT n from CPL 3 whose TSS SS0 names a DPL-3 segment is
 * #TS(SS0 selector), EXT = 0 for a software interrupt (vol. 2 INT n).
 * The #TS handler is in a conforming segment, so it runs at CPL 3 on the
 * user stack (no ring-0 stack is usable) with a frame without SS:ESP. */
static void test_ts(void)
{
	static const uint8_t user[] = { 0x90, 0xcd, 0x40 };
	struct harness *h = env32();
	struct cpu *c = &h->cpu;
	put64(h, IDT_BASE + 8 * 0x40, gate32(H(0), K_CS, SYS_INT_GATE, 3));
	put64(h, IDT_BASE + 8 * VEC_TS, gate32(H(VEC_TS), CONF_CS, SYS_INT_GATE, 0));
	put32(h, TSS_BASE + 8, U_DS & ~3u);
	put_code(h, USER_CODE, user, sizeof(user));
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	CU_ASSERT_EQUAL(spin_vector(h), VEC_TS);
	CU_ASSERT_EQUAL(c->cpl, 3);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, (CONF_CS | 3));     /* RPL = CPL */
	CU_ASSERT_EQUAL(c->gpr[R_SP], USER_STACK - 16);
	struct frame32 f = frame_at(h, true);
	CU_ASSERT_EQUAL(f.err, U_DS & ~3u);
	CU_ASSERT_EQUAL(f.eip, USER_CODE + 1);                  /* the INT instruction */
	CU_ASSERT_EQUAL(f.cs, U_CS32);
	CU_ASSERT(f.eflags & FL_RF);
	harness_destroy(h);
}

/* #NP: a not-present data segment into DS is #NP(selector); a
 * not-present gate for INT n is #NP(vector * 8 + 2); for an exception
 * (#UD) the EXT bit is set too: #NP(6 * 8 + 3). */
static void test_np(void)
{
	static const uint8_t load_ds[] = { 0x66, 0xb8, SEL_A, 0x00, 0x8e, 0xd8 };
	static const uint8_t int41[] = { 0xcd, 0x41 };
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	struct harness *h = env32();
	gdt_put(h, SEL_A, 0x00cf12000000ffffull);
	CU_ASSERT_EQUAL(run_code(h, load_ds, sizeof(load_ds)), VEC_NP);
	expect_cpl0(h, VEC_NP, true, SEL_A, CODE_BASE + 4, true);
	put64(h, IDT_BASE + 8 * 0x41, gate32(H(0), K_CS, SYS_INT_GATE, 0) & ~(1ull << 47));
	h->cpu.gpr[R_SP] = STACK_TOP;
	CU_ASSERT_EQUAL(run_code(h, int41, sizeof(int41)), VEC_NP);
	expect_cpl0(h, VEC_NP, true, 0x41 * 8 + 2, CODE_BASE, true);
	put64(h, IDT_BASE + 8 * VEC_UD, gate32(H(VEC_UD), K_CS, SYS_INT_GATE, 0) & ~(1ull << 47));
	h->cpu.gpr[R_SP] = STACK_TOP;
	CU_ASSERT_EQUAL(run_code(h, ud2, sizeof(ud2)), VEC_NP);
	expect_cpl0(h, VEC_NP, true, VEC_UD * 8 + 3, CODE_BASE, true);
	harness_destroy(h);
}

/* #SS: a push past the limit of an expand-up SS at CPL 3 is
 * #SS(0), delivered on the ring-0 stack with SS:ESP of the faulting code;
 * loading a not-present SS is #SS(selector). */
static void test_ss(void)
{
	static const uint8_t push[] = { 0x50 };
	static const uint8_t load_ss[] = { 0x66, 0xb8, SEL_B, 0x00, 0x8e, 0xd0 };
	struct harness *h = env32();
	struct cpu *c = &h->cpu;
	gdt_put(h, SEL_A, 0x0040f20000000fffull);      /* DPL 3 data, limit 0FFFH */
	put_code(h, USER_CODE, push, sizeof(push));
	enter_user(h, U_CS32, USER_CODE, 0x2000);
	load_seg(c, SEG_SS, SEL_A | 3, gdt_get(h, SEL_A));
	CU_ASSERT_EQUAL(spin_vector(h), VEC_SS);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RSP0 - 24);
	struct frame32 f = frame_at(h, true);
	CU_ASSERT_EQUAL(f.err, 0);
	CU_ASSERT_EQUAL(f.eip, USER_CODE);
	CU_ASSERT_EQUAL(f.cs, U_CS32);
	CU_ASSERT(f.eflags & FL_RF);
	CU_ASSERT_EQUAL(f.esp, 0x2000);
	CU_ASSERT_EQUAL(f.ss, SEL_A | 3);
	harness_destroy(h);

	h = env32();
	gdt_put(h, SEL_B, 0x00cf12000000ffffull);      /* not present */
	CU_ASSERT_EQUAL(run_code(h, load_ss, sizeof(load_ss)), VEC_SS);
	expect_cpl0(h, VEC_SS, true, SEL_B, CODE_BASE + 4, true);
	harness_destroy(h);
}

/* #GP: a selector past the GDT limit is #GP(selector); INT n past the IDT
 * limit #GP(vector * 8 + 2); a privileged instruction at CPL 3 #GP(0). */
static void test_gp(void)
{
	static const uint8_t load_ds[] = { 0x66, 0xb8, 0xf8, 0x01, 0x8e, 0xd8 };
	static const uint8_t int60[] = { 0xcd, 0x60 };
	static const uint8_t hlt[] = { 0xf4 };
	struct harness *h = env32();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(run_code(h, load_ds, sizeof(load_ds)), VEC_GP);
	expect_cpl0(h, VEC_GP, true, 0x1f8, CODE_BASE + 4, true);
	c->idtr.limit = 0x60 * 8 - 1;
	c->gpr[R_SP] = STACK_TOP;
	CU_ASSERT_EQUAL(run_code(h, int60, sizeof(int60)), VEC_GP);
	expect_cpl0(h, VEC_GP, true, 0x60 * 8 + 2, CODE_BASE, true);
	put_code(h, USER_CODE, hlt, sizeof(hlt));
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	CU_ASSERT_EQUAL(spin_vector(h), VEC_GP);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RSP0 - 24);
	struct frame32 f = frame_at(h, true);
	CU_ASSERT_EQUAL(f.err, 0);
	CU_ASSERT_EQUAL(f.eip, USER_CODE);
	CU_ASSERT_EQUAL(f.esp, USER_STACK);
	CU_ASSERT_EQUAL(f.ss, U_DS);
	harness_destroy(h);
}

/* #PF with 32-bit paging (4-MiB pages): CR2 = the address, error code
 * W/R = 1, P = 0 (6.15 interrupt 14, Figure 4-12). */
static void test_pf(void)
{
	static const uint8_t code[] = { 0xa3, 0x08, 0x00, 0x40, 0x00 };        /* mov [400008h], eax */
	struct harness *h = env32();
	struct cpu *c = &h->cpu;
	put32(h, 0x6000, 0x83);                 /* PDE 0: 4 MiB at 0, RW, present; PDE 1 absent */
	put32(h, 0x6004, 0);
	c->cr3 = 0x6000;
	c->cr4 |= CR4_PSE;
	c->cr0 |= CR0_PG;
	cpu_mode_changed(c);
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_PF);
	expect_cpl0(h, VEC_PF, true, 2, CODE_BASE, true);
	CU_ASSERT_EQUAL(c->cr2, 0x400008);
	harness_destroy(h);
}

/* #MF (fault): a waiting x87 instruction with an unmasked exception
 * pending and CR0.NE = 1. */
static void test_mf(void)
{
	static const uint8_t code[] = { 0x90, 0x9b };                          /* nop ; fwait */
	struct harness *h = env32();
	struct cpu *c = &h->cpu;
	c->cr0 = (c->cr0 | CR0_NE) & ~(CR0_EM | CR0_TS);
	cpu_mode_changed(c);
	c->fpu.fcw = 0x037e;                    /* IM = 0 */
	c->fpu.fsw = 0x0081;                    /* IE, ES */
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_MF);
	expect_cpl0(h, VEC_MF, false, 0, CODE_BASE + 1, true);
	harness_destroy(h);
}

/* #AC(0) (fault) at CPL 3 with CR0.AM and EFLAGS.AC: error code 0 on the
 * ring-0 stack, AC kept in the saved EFLAGS. */
static void test_ac(void)
{
	static const uint8_t user[] = { 0xa1, 0x01, 0x70, 0x00, 0x00 };        /* mov eax, [7001h] */
	struct harness *h = env32();
	struct cpu *c = &h->cpu;
	c->cr0 |= CR0_AM;
	put_code(h, USER_CODE, user, sizeof(user));
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	load_seg(c, SEG_DS, U_DS, gdt_get(h, U_DS));
	cpu_set_rflags(c, FL_FIXED1 | FL_AC);
	cpu_mode_changed(c);
	CU_ASSERT_EQUAL(spin_vector(h), VEC_AC);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RSP0 - 24);
	struct frame32 f = frame_at(h, true);
	CU_ASSERT_EQUAL(f.err, 0);
	CU_ASSERT_EQUAL(f.eip, USER_CODE);
	CU_ASSERT_EQUAL(f.eflags & (FL_AC | FL_RF), FL_AC | FL_RF);
	harness_destroy(h);
}

/* #XM (fault): DIVSS by zero with MXCSR.ZM = 0 and CR4.OSXMMEXCPT = 1;
 * only ZE is flagged and the destination is unchanged (vol. 1 11.5.3.2). */
static void test_xm(void)
{
	static const uint8_t code[] = { 0xf3, 0x0f, 0x5e, 0xc1 };              /* divss xmm0, xmm1 */
	struct harness *h = env32();
	struct cpu *c = &h->cpu;
	c->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	cpu_mode_changed(c);
	c->fpu.mxcsr = 0x1f80 & ~(1u << 9);
	c->fpu.xmm[0].d[0] = 0x3f800000;        /* 1.0f */
	c->fpu.xmm[1].d[0] = 0;
	CU_ASSERT_EQUAL(run_code(h, code, sizeof(code)), VEC_XM);
	expect_cpl0(h, VEC_XM, false, 0, CODE_BASE, true);
	CU_ASSERT_EQUAL(c->fpu.mxcsr & 0x3f, 1u << 2);
	CU_ASSERT_EQUAL(c->fpu.xmm[0].d[0], 0x3f800000);
	harness_destroy(h);
}

void suite_cpu_exc32(void)
{
	CU_pSuite s = CU_add_suite("cpu_exc32", NULL, NULL);
	CU_add_test(s, "#DE frame", test_de);
	CU_add_test(s, "#DB single-step frame", test_db_single_step);
	CU_add_test(s, "#BP frame (INT3)", test_bp);
	CU_add_test(s, "#OF frame (INTO)", test_of);
	CU_add_test(s, "#BR frame (BOUND)", test_br);
	CU_add_test(s, "#UD frame", test_ud);
	CU_add_test(s, "#NM frame", test_nm);
	CU_add_test(s, "#DF error code 0", test_df);
	CU_add_test(s, "#TS(SS0) through a conforming handler", test_ts);
	CU_add_test(s, "#NP: selector, IDT and EXT bits", test_np);
	CU_add_test(s, "#SS(0) from CPL 3 and #SS(selector)", test_ss);
	CU_add_test(s, "#GP: selector, IDT bit, CPL 3 frame", test_gp);
	CU_add_test(s, "#PF with 32-bit paging", test_pf);
	CU_add_test(s, "#MF frame", test_mf);
	CU_add_test(s, "#AC(0) frame at CPL 3", test_ac);
	CU_add_test(s, "#XM frame", test_xm);
}
