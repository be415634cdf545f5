/* Real-address mode (SDM vol. 3A 20.1; vol. 2 INT n / IRET
 * "REAL-ADDRESS-MODE"): INT n and exceptions through the IVT (no error
 * code), IRET, the 0FFFFH segment-limit wrap (#GP / #SS), writes through
 * CS, "unreal" limits kept by a real-mode segment load, far CALL/RETF; and
 * NMI delivery and blocking (6.7.1), tested here through the IVT. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/sysenv.h"

#define RM_CS 0x1000u           /* CODE_BASE >> 4: code at offset 0 */
#define RM_SP 0x8000u
#define HANDLER 0x100u          /* offset of handlers in RM_CS */

/* Real mode, CS = RM_CS, data segments 0, SS:SP = 0:RM_SP, IVT at 0. */
static struct harness *real_env(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	c->cr0 &= ~CR0_PE;
	for (unsigned s = 0; s < 6; s++)
		c->seg[s] = (struct segment){ .sel = 0, .base = 0, .limit = 0xffff, .ar = AR_P | AR_S | 0x3 };
	c->seg[SEG_CS] = (struct segment){ .sel = RM_CS, .base = RM_CS << 4, .limit = 0xffff,
					   .ar = AR_P | AR_S | 0xb };
	c->idtr = (struct dtable){ 0, 0x3ff };
	c->gpr[R_SP] = RM_SP;
	c->rip = 0;
	cpu_set_rflags(c, FL_FIXED1 | FL_IF);
	cpu_mode_changed(c);
	return h;
}

static void ivt_put(struct harness *h, unsigned vec, uint16_t cs, uint16_t ip)
{
	put32(h, vec * 4, ip | (uint32_t)cs << 16);
}

static uint16_t get16(struct harness *h, uint64_t pa)
{
	uint16_t v = 0;
	phys_copy_out(&h->pm, pa, &v, 2);
	return v;
}

static enum cpu_stop run_real(struct harness *h, const uint8_t *code, size_t len, const uint8_t *hnd, size_t hlen)
{
	put_code(h, RM_CS << 4, code, len);
	if (hnd)
		put_code(h, (RM_CS << 4) + HANDLER, hnd, hlen);
	return run_more(h, 10000);
}

/* INT 21h: FLAGS CS IP pushed, IF and TF cleared; IRET restores them. */
static void test_int_iret(void)
{
	const uint8_t code[] = { 0xcd, 0x21, 0xf4 };
	const uint8_t hnd[] = { 0x9c, 0x5a, 0xbb, 0x55, 0x55, 0xcf };  /* pushf; pop dx; mov bx, 5555h; iret */
	struct harness *h = real_env();
	struct cpu *c = &h->cpu;
	ivt_put(h, 0x21, RM_CS, HANDLER);
	CU_ASSERT_EQUAL(run_real(h, code, sizeof(code), hnd, sizeof(hnd)), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_BX] & 0xffff, 0x5555);
	CU_ASSERT_FALSE(c->gpr[R_DX] & FL_IF);                  /* inside the handler */
	CU_ASSERT(c->rflags & FL_IF);                           /* restored by IRET */
	CU_ASSERT_EQUAL(c->gpr[R_SP], RM_SP);
	CU_ASSERT_EQUAL(get16(h, RM_SP - 6), 2);                /* return IP */
	CU_ASSERT_EQUAL(get16(h, RM_SP - 4), RM_CS);
	CU_ASSERT_EQUAL(c->rip, 3);
	harness_destroy(h);
}

/* #DE through the IVT: a fault (IP of the DIV), no error code. */
static void test_de_ivt(void)
{
	const uint8_t code[] = { 0x31, 0xc9, 0xf6, 0xf1, 0xf4 };        /* xor cx, cx; div cl */
	const uint8_t hnd[] = { 0xf4 };
	struct harness *h = real_env();
	struct cpu *c = &h->cpu;
	ivt_put(h, VEC_DE, RM_CS, HANDLER);
	CU_ASSERT_EQUAL(run_real(h, code, sizeof(code), hnd, 1), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->rip, HANDLER + 1);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RM_SP - 6);
	CU_ASSERT_EQUAL(get16(h, RM_SP - 6), 2);
	CU_ASSERT_EQUAL(get16(h, RM_SP - 4), RM_CS);
	CU_ASSERT(get16(h, RM_SP - 2) & FL_IF);
	harness_destroy(h);
}

/* A word at offset 0FFFFH crosses the limit: #GP, or #SS through SS (20.1). */
static void test_limit_wrap(void)
{
	const uint8_t load[] = { 0x8b, 0x06, 0xff, 0xff };     /* mov ax, [0ffffh] */
	const uint8_t push[] = { 0x50 };                        /* push ax with SP = 1 */
	const uint8_t byte_ok[] = { 0x8a, 0x06, 0xff, 0xff };  /* mov al, [0ffffh] */
	struct harness *h = real_env();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(exec_insn(c, load, sizeof(load)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(exec_insn(c, byte_ok, sizeof(byte_ok)), EXEC_OK);
	c->gpr[R_SP] = 1;
	CU_ASSERT_EQUAL(exec_insn(c, push, sizeof(push)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_SS);
	CU_ASSERT_EQUAL(c->gpr[R_SP], 1);
	harness_destroy(h);
}

/* Real mode checks limits only: a write through CS works. */
static void test_cs_write(void)
{
	const uint8_t wr[] = { 0x2e, 0xc7, 0x06, 0x00, 0x02, 0x34, 0x12 };  /* mov word cs:[200h], 1234h */
	struct harness *h = real_env();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(exec_insn(c, wr, sizeof(wr)), EXEC_OK);
	CU_ASSERT_EQUAL(get16(h, (RM_CS << 4) + 0x200), 0x1234);
	harness_destroy(h);
}

/* "Unreal" mode: a real-mode load changes selector and base only, so a
 * 4 GiB limit left by protected mode stays usable with 32-bit offsets. */
static void test_unreal(void)
{
	const uint8_t code[] = { 0x31, 0xc0, 0x8e, 0xd8,               /* xor ax, ax; mov ds, ax */
				 0x67, 0x66, 0x8b, 0x06 };             /* mov eax, [esi] */
	struct harness *h = real_env();
	struct cpu *c = &h->cpu;
	c->seg[SEG_DS].limit = 0xffffffff;
	c->seg[SEG_DS].sel = 0x10;
	c->seg[SEG_DS].base = 0x100;
	put32(h, 0x200000, 0xcafef00d);
	c->gpr[R_SI] = 0x200000;
	CU_ASSERT_EQUAL(exec_insn(c, code, 2), EXEC_OK);
	CU_ASSERT_EQUAL(exec_insn(c, code + 2, 2), EXEC_OK);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].base, 0);
	CU_ASSERT_EQUAL(c->seg[SEG_DS].limit, 0xffffffff);
	CU_ASSERT_EQUAL(exec_insn(c, code + 4, 4), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xcafef00d);
	c->seg[SEG_DS].limit = 0xffff;                          /* a normal 64 KiB limit: #GP */
	CU_ASSERT_EQUAL(exec_insn(c, code + 4, 4), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	harness_destroy(h);
}

/* Far CALL pushes CS:IP; RETF returns; base = selector << 4. */
static void test_far_call_retf(void)
{
	const uint8_t code[] = { 0x9a, 0x00, 0x00, 0x10, 0x10, 0xf4 };  /* call 1010h:0000h; hlt */
	const uint8_t retf[] = { 0xbb, 0x77, 0x00, 0xcb };              /* mov bx, 77h; retf */
	struct harness *h = real_env();
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(run_real(h, code, sizeof(code), retf, sizeof(retf)), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->gpr[R_BX] & 0xffff, 0x77);
	CU_ASSERT_EQUAL(c->rip, 6);
	CU_ASSERT_EQUAL(c->seg[SEG_CS].sel, RM_CS);
	CU_ASSERT_EQUAL(c->gpr[R_SP], RM_SP);
	CU_ASSERT_EQUAL(get16(h, RM_SP - 2), RM_CS);
	CU_ASSERT_EQUAL(get16(h, RM_SP - 4), 5);
	harness_destroy(h);
}

/* NMI: delivered at the next boundary (waking HLT), blocked until IRET;
 * a second NMI waits and is delivered after the IRET. */
static void test_nmi_blocking(void)
{
	const uint8_t code[] = { 0xf4, 0xf4, 0xf4 };
	const uint8_t hnd[] = { 0x43, 0xf4, 0xcf };             /* inc bx; hlt; iret */
	struct harness *h = real_env();
	struct cpu *c = &h->cpu;
	ivt_put(h, VEC_NMI, RM_CS, HANDLER);
	c->gpr[R_BX] = 0;
	CU_ASSERT_EQUAL(run_real(h, code, sizeof(code), hnd, sizeof(hnd)), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(c->rip, 1);
	cpu_nmi(c);
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);    /* in the handler's HLT */
	CU_ASSERT_EQUAL(c->gpr[R_BX], 1);
	CU_ASSERT(c->nmi_blocked);
	CU_ASSERT_EQUAL(get16(h, RM_SP - 6), 1);                /* return IP: after the HLT */
	cpu_nmi(c);
	CU_ASSERT_EQUAL(cpu_run(c, c->cycles + 1000), CPU_STOP_HALTED);    /* blocked: still asleep */
	CU_ASSERT_EQUAL(c->gpr[R_BX], 1);
	CU_ASSERT(c->nmi_pending);
	CU_ASSERT_EQUAL(run_more(h, 1000), CPU_STOP_HALTED);    /* IRET, then the second NMI */
	CU_ASSERT_EQUAL(c->gpr[R_BX], 2);
	CU_ASSERT_FALSE(c->nmi_pending);
	CU_ASSERT(c->nmi_blocked);
	harness_destroy(h);
}

/* An IRET that faults still unblocks NMIs (6.7.1). */
static void test_nmi_unblocked_by_faulting_iret(void)
{
	const uint8_t iretd[] = { 0xcf };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	uint32_t frame[3] = { 0, 0, FL_FIXED1 };                /* CS null: #GP(0) */
	phys_copy_in(&h->pm, STACK_TOP - 12, frame, sizeof(frame));
	c->gpr[R_SP] = STACK_TOP - 12;
	c->nmi_blocked = true;
	CU_ASSERT_EQUAL(exec_insn(c, iretd, 1), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_FALSE(c->nmi_blocked);
	harness_destroy(h);
}

void suite_cpu_real(void)
{
	CU_pSuite s = CU_add_suite("cpu_real", NULL, NULL);
	CU_add_test(s, "INT n and IRET through the IVT", test_int_iret);
	CU_add_test(s, "#DE through the IVT", test_de_ivt);
	CU_add_test(s, "0FFFFH limit wrap: #GP and #SS", test_limit_wrap);
	CU_add_test(s, "write through CS", test_cs_write);
	CU_add_test(s, "unreal mode keeps the limit", test_unreal);
	CU_add_test(s, "far CALL and RETF", test_far_call_retf);
	CU_add_test(s, "NMI delivery and blocking", test_nmi_blocking);
	CU_add_test(s, "a faulting IRET unblocks NMIs", test_nmi_unblocked_by_faulting_iret);
}
