/* BCD adjustments, BOUND, ARPL, LAR and LSL.
 *
 * The BCD tests use decimal arithmetic as the oracle: ADD/SUB of every pair
 * of valid BCD operands followed by DAA/DAS/AAA/AAS must give the decimal
 * sum or difference and the decimal carry (SDM vol. 2 DAA, DAS, AAA, AAS). */
#include <CUnit/CUnit.h>

#include "cpu/flags.h"
#include "tests/unit/cpu/sysenv.h"

static void run1(struct cpu *c, const uint8_t *b, unsigned n)
{
	CU_ASSERT_EQUAL(exec_insn(c, b, n), EXEC_OK);
}

static unsigned bcd(unsigned v)
{
	return (v / 10) << 4 | (v % 10);
}

static void test_daa_das(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	const uint8_t add[] = { 0x00, 0xd8 }, sub[] = { 0x28, 0xd8 };    /* add/sub al, bl */
	const uint8_t daa[] = { 0x27 }, das[] = { 0x2f };
	unsigned bad = 0;
	for (unsigned a = 0; a < 100; a++)
		for (unsigned b = 0; b < 100; b++)
			for (int op = 0; op < 2; op++) {
				c->gpr[R_AX] = bcd(a);
				c->gpr[R_BX] = bcd(b);
				run1(c, op ? sub : add, 2);
				run1(c, op ? das : daa, 1);
				unsigned want = op ? (a + 100 - b) % 100 : (a + b) % 100;
				bool carry = op ? a < b : a + b >= 100;
				uint64_t fl = cpu_get_rflags(c);
				if ((c->gpr[R_AX] & 0xff) != bcd(want) || ((fl & FL_CF) != 0) != carry ||
				    ((fl & FL_ZF) != 0) != (want == 0) || ((fl & FL_SF) != 0) != (bcd(want) >= 0x80))
					bad++;
			}
	CU_ASSERT_EQUAL(bad, 0);
	/* The SDM's DAS example: AL=EEH with AF=CF=1 gives 88H, SZAPC = 10111. */
	c->gpr[R_AX] = 0xee;
	cpu_set_rflags(c, 0x2 | FL_AF | FL_CF | FL_ZF);
	run1(c, das, 1);
	CU_ASSERT_EQUAL(c->gpr[R_AX] & 0xff, 0x88);
	CU_ASSERT_EQUAL(cpu_get_rflags(c) & (FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF), FL_SF | FL_AF | FL_PF | FL_CF);
	harness_destroy(h);
}

static void test_aaa_aas(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	const uint8_t add[] = { 0x00, 0xd8 }, sub[] = { 0x28, 0xd8 }, aaa[] = { 0x37 }, aas[] = { 0x3f };
	unsigned bad = 0;
	for (unsigned a = 0; a < 10; a++)
		for (unsigned b = 0; b < 10; b++)
			for (int op = 0; op < 2; op++) {
				c->gpr[R_AX] = 0x0500 | a;
				c->gpr[R_BX] = b;
				run1(c, op ? sub : add, 2);
				run1(c, op ? aas : aaa, 1);
				unsigned v = op ? 50 + a - b : 50 + a + b;
				bool carry = op ? a < b : a + b >= 10;
				if ((c->gpr[R_AX] & 0xffff) != ((v / 10) << 8 | (v % 10)) ||
				    ((cpu_get_rflags(c) & FL_CF) != 0) != carry || ((cpu_get_rflags(c) & FL_AF) != 0) != carry)
					bad++;
			}
	CU_ASSERT_EQUAL(bad, 0);
	/* AAS with AL < 6 and AF = 1: AX - 6 borrows from AH, then AH - 1
	 * (SDM pseudo-code), so 0200H becomes 000AH. */
	c->gpr[R_AX] = 0x0200;
	cpu_set_rflags(c, 0x2 | FL_AF);
	run1(c, aas, 1);
	CU_ASSERT_EQUAL(c->gpr[R_AX] & 0xffff, 0x000a);
	/* AAA adds 106H to all of AX, so AL's carry reaches AH too:
	 * 00FAH + 0106H = 0200H. */
	c->gpr[R_AX] = 0x00fa;
	cpu_set_rflags(c, 0x2);
	run1(c, aaa, 1);
	CU_ASSERT_EQUAL(c->gpr[R_AX] & 0xffff, 0x0200);
	harness_destroy(h);
}

static void test_aam_aad(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	const uint8_t aam[] = { 0xd4, 0x0a }, aad[] = { 0xd5, 0x0a }, aam16[] = { 0xd4, 0x10 }, aam0[] = { 0xd4, 0x00 };
	for (unsigned v = 0; v < 256; v++) {
		c->gpr[R_AX] = 0xab00 | v;
		run1(c, aam, 2);
		CU_ASSERT_EQUAL(c->gpr[R_AX] & 0xffff, (v / 10) << 8 | (v % 10));
		CU_ASSERT_EQUAL((cpu_get_rflags(c) & FL_ZF) != 0, v % 10 == 0);
		run1(c, aad, 2);
		CU_ASSERT_EQUAL(c->gpr[R_AX] & 0xffff, v);
	}
	c->gpr[R_AX] = 0xff;
	run1(c, aam16, 2);
	CU_ASSERT_EQUAL(c->gpr[R_AX] & 0xffff, 0x0f0f);
	/* AAD with AH*imm8 overflowing a byte keeps the low 8 bits */
	c->gpr[R_AX] = 0x3005;
	run1(c, aad, 2);
	CU_ASSERT_EQUAL(c->gpr[R_AX] & 0xffff, (0x30 * 10 + 5) & 0xff);
	/* AAM 0: #DE, AX unchanged */
	c->gpr[R_AX] = 0x1234;
	CU_ASSERT_EQUAL(exec_insn(c, aam0, 2), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_DE);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x1234);
	harness_destroy(h);
}

/* All of them are #UD in 64-bit mode (62 would be EVEX, 63 is MOVSXD). */
static void test_invalid_in_64(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	static const uint8_t ops[][3] = { { 0x27 }, { 0x2f }, { 0x37 }, { 0x3f }, { 0xd4, 0x0a }, { 0xd5, 0x0a },
					  { 0x62, 0x00 } };
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		c->exc.vector = 0xff;
		CU_ASSERT_EQUAL(exec_insn(c, ops[k], 3), EXEC_FAULT);
		CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	}
	harness_destroy(h);
}

/* BOUND out of range: #BR delivered with the BOUND's own EIP pushed. */
static void test_bound(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	uint64_t gate = (KERNEL_CODE & 0xffff) | ((uint64_t)K_CS << 16) | (0x8eull << 40) |
			((uint64_t)(KERNEL_CODE >> 16) << 48);
	put64(h, IDT_BASE + 8 * VEC_BR, gate);
	const uint8_t hlt = 0xf4;
	put_code(h, KERNEL_CODE, &hlt, 1);
	put32(h, 0x9000, (uint32_t)-5);         /* bounds [-5, 100] */
	put32(h, 0x9004, 100);
	/* bound eax, [0x9000]; bound ecx, [0x9000]; hlt */
	const uint8_t code[] = { 0x62, 0x05, 0x00, 0x90, 0x00, 0x00, 0x62, 0x0d, 0x00, 0x90, 0x00, 0x00, 0xf4 };
	c->gpr[R_AX] = (uint32_t)-5;
	c->gpr[R_CX] = 101;
	CU_ASSERT_EQUAL(harness_run(h, code, sizeof(code)), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->rip, KERNEL_CODE + 1);
	CU_ASSERT_EQUAL(get32(h, STACK_TOP - 12), CODE_BASE + 6);       /* EIP of the second BOUND */
	CU_ASSERT_EQUAL(get32(h, STACK_TOP - 8), K_CS);
	/* 16-bit form: bound ax, [0x9000] with words -5 (FFFBH) and 100 */
	put32(h, 0x9000, 0x0064fffb);
	const uint8_t b16[] = { 0x66, 0x62, 0x05, 0x00, 0x90, 0x00, 0x00 };
	c->gpr[R_AX] = 0x1234fffb;      /* AX = -5: in range */
	CU_ASSERT_EQUAL(exec_insn(c, b16, sizeof(b16)), EXEC_OK);
	c->gpr[R_AX] = 0xfffa;          /* -6 */
	CU_ASSERT_EQUAL(exec_insn(c, b16, sizeof(b16)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_BR);
	/* register operand: #UD */
	const uint8_t breg[] = { 0x62, 0xc1 };
	CU_ASSERT_EQUAL(exec_insn(c, breg, 2), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	harness_destroy(h);
}

static void test_arpl(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	const uint8_t arpl[] = { 0x63, 0xd8 };  /* arpl ax, bx */
	c->gpr[R_AX] = 0xffff0010;
	c->gpr[R_BX] = 0x0003;
	run1(c, arpl, 2);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xffff0013);
	CU_ASSERT(cpu_get_rflags(c) & FL_ZF);
	run1(c, arpl, 2);
	CU_ASSERT(!(cpu_get_rflags(c) & FL_ZF));
	c->gpr[R_BX] = 1;
	run1(c, arpl, 2);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xffff0013);
	CU_ASSERT(!(cpu_get_rflags(c) & FL_ZF));
	/* memory destination */
	const uint8_t arpl_m[] = { 0x63, 0x1d, 0x00, 0x90, 0x00, 0x00 };
	put32(h, 0x9000, 0xaaaa0020);
	c->gpr[R_BX] = 2;
	run1(c, arpl_m, sizeof(arpl_m));
	CU_ASSERT_EQUAL(get32(h, 0x9000), 0xaaaa0022);
	/* real mode: #UD */
	c->cr0 &= ~CR0_PE;
	cpu_mode_changed(c);
	CU_ASSERT_EQUAL(exec_insn(c, arpl, 2), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	harness_destroy(h);
}

/* lar/lsl eax, ecx (REX.W for rax); returns ZF. */
static bool lar_lsl(struct cpu *c, bool lsl, unsigned osz, uint16_t sel)
{
	uint8_t b[4];
	unsigned n = 0;
	if (osz == SZ16)
		b[n++] = 0x66;
	if (osz == SZ64)
		b[n++] = 0x48;
	b[n++] = 0x0f;
	b[n++] = lsl ? 0x03 : 0x02;
	b[n++] = 0xc1;
	c->gpr[R_CX] = sel;
	CU_ASSERT_EQUAL(exec_insn(c, b, n), EXEC_OK);
	return cpu_get_rflags(c) & FL_ZF;
}

static void test_lar_lsl_long(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	c->gdtr.limit = 0x5f;
	gdt_put(h, 0x40, sys_desc(0x8000, 0x1ff, SYS_LDT));
	gdt_put(h, 0x48, 0);
	gdt_put(h, 0x50, 0x00cf9f000000ffffull);        /* conforming code, DPL 0 */
	gdt_put(h, 0x58, 0x004f93000000ffffull);        /* data, G = 0, limit f_ffff */
	c->gpr[R_AX] = 0x1111111111111111ull;
	CU_ASSERT(lar_lsl(c, false, SZ32, K_CS));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x00a09b00);
	CU_ASSERT(lar_lsl(c, false, SZ16, K_DS));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x00a09300);     /* a 16-bit destination keeps bits 63:16 */
	CU_ASSERT(lar_lsl(c, true, SZ64, K_DS));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xffffffffull);
	CU_ASSERT(lar_lsl(c, true, SZ32, 0x58));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xfffff);
	/* 64-bit TSS: LAR and LSL both accept it */
	CU_ASSERT(lar_lsl(c, false, SZ32, TSS_SEL));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x8b00);
	CU_ASSERT(lar_lsl(c, true, SZ32, TSS_SEL));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x67);
	/* LDT: LSL yes, LAR no in IA-32e mode; a failure leaves RAX alone */
	CU_ASSERT(lar_lsl(c, true, SZ32, 0x40));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x1ff);
	CU_ASSERT(!lar_lsl(c, false, SZ32, 0x40));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x1ff);
	/* null, past the GDT limit, RPL above DPL: ZF = 0, no fault */
	CU_ASSERT(!lar_lsl(c, false, SZ32, 0));
	CU_ASSERT(!lar_lsl(c, true, SZ32, 0x60));
	CU_ASSERT(!lar_lsl(c, false, SZ32, K_DS | 3));
	/* conforming code skips the privilege check */
	CU_ASSERT(lar_lsl(c, false, SZ32, 0x50 | 3));
	/* at CPL 3 the DPL-0 data segment is invisible */
	enter_user(h, U_CS64, USER_CODE, USER_STACK);
	CU_ASSERT(!lar_lsl(c, true, SZ32, K_DS));
	CU_ASSERT(lar_lsl(c, true, SZ32, U_DS));
	harness_destroy(h);
}

static void test_lar_lsl_legacy(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	/* in legacy protected mode a call gate is valid for LAR, not for LSL */
	CU_ASSERT(lar_lsl(c, false, SZ32, 0x30));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xec00);
	CU_ASSERT(!lar_lsl(c, true, SZ32, 0x30));
	c->cr0 &= ~CR0_PE;
	cpu_mode_changed(c);
	const uint8_t lar[] = { 0x0f, 0x02, 0xc1 };
	CU_ASSERT_EQUAL(exec_insn(c, lar, 3), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	harness_destroy(h);
}

void suite_cpu_isa_legacy(void)
{
	CU_pSuite s = CU_add_suite("cpu_isa_legacy", NULL, NULL);
	CU_add_test(s, "DAA/DAS give decimal sums and differences", test_daa_das);
	CU_add_test(s, "AAA/AAS give unpacked decimal results", test_aaa_aas);
	CU_add_test(s, "AAM/AAD, AAM 0 is #DE", test_aam_aad);
	CU_add_test(s, "BCD, BOUND invalid in 64-bit mode", test_invalid_in_64);
	CU_add_test(s, "BOUND raises #BR at its own EIP", test_bound);
	CU_add_test(s, "ARPL", test_arpl);
	CU_add_test(s, "LAR/LSL in IA-32e mode", test_lar_lsl_long);
	CU_add_test(s, "LAR/LSL in legacy protected mode", test_lar_lsl_legacy);
}
