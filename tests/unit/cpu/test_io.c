/* cpu/io.c: IN/OUT through the TSS I/O permission bitmap, and REP INS/OUTS
 * with the direction flag and the address size. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/sysenv.h"

#define EXEC(c, code) exec_insn((c), (code), sizeof(code))

/* A device on ports 0x80-0x83 that counts reads and records writes. */
struct port_dev {
	uint8_t next;
	uint64_t writes[8];
	unsigned nwrites;
};

static uint64_t dev_read(void *opaque, uint64_t offset, unsigned size)
{
	struct port_dev *d = opaque;
	(void)offset;
	(void)size;
	return d->next++;
}

static void dev_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct port_dev *d = opaque;
	(void)offset;
	(void)size;
	if (d->nwrites < 8)
		d->writes[d->nwrites++] = value;
}

static const struct io_ops dev_ops = { dev_read, dev_write };

/* The TSS of sysenv_prot32 grown by an I/O bitmap at offset 0x68 that
 * allows ports 0x80 and 0x81 only. */
static struct harness *io_env(struct port_dev *d)
{
	struct harness *h = sysenv_prot32();
	uint32_t limit = 0x68 + 0x2000;
	gdt_put(h, TSS32_SEL, sys_desc(TSS_BASE, limit, SYS_TSS_BUSY));
	seg_from_desc(&h->cpu.tr, TSS32_SEL, gdt_get(h, TSS32_SEL));
	phys_fill(&h->pm, TSS_BASE + 0x68, 0xff, 0x2001);
	phys_fill(&h->pm, TSS_BASE + 0x68 + 0x80 / 8, 0xfc, 1);
	uint16_t map = 0x68;
	phys_copy_in(&h->pm, TSS_BASE + 0x66, &map, 2);
	CU_ASSERT_EQUAL(pio_register(&h->pio, 0x80, 4, &dev_ops, d, "test"), 0);
	return h;
}

static void test_io_bitmap(void)
{
	const uint8_t in_al[] = { 0xe4, 0x80 }, in_ax[] = { 0x66, 0xe5, 0x80 }, in_eax[] = { 0xe5, 0x80 };
	const uint8_t out_90[] = { 0xe6, 0x90 };
	struct port_dev d = { .next = 0x41 };
	struct harness *h = io_env(&d);
	struct cpu *c = &h->cpu;
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	CU_ASSERT_EQUAL(EXEC(c, in_al), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX] & 0xff, 0x41);
	CU_ASSERT_EQUAL(EXEC(c, in_ax), EXEC_OK);               /* 0x80-0x81 allowed */
	CU_ASSERT_EQUAL(EXEC(c, in_eax), EXEC_FAULT);           /* 0x82-0x83 are not */
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
	CU_ASSERT_EQUAL(d.next, 0x43);                          /* the faulting IN read nothing */
	CU_ASSERT_EQUAL(EXEC(c, out_90), EXEC_FAULT);
	c->rflags |= FL_IOPL;                                   /* CPL <= IOPL: no bitmap */
	CU_ASSERT_EQUAL(EXEC(c, in_eax), EXEC_OK);
	harness_destroy(h);
}

/* Without a TSS large enough for the bitmap, CPL > IOPL is #GP(0). */
static void test_io_no_bitmap(void)
{
	const uint8_t in_dx[] = { 0xec };
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	enter_user(h, U_CS32, USER_CODE, USER_STACK);
	c->gpr[R_DX] = 0x3f8;
	CU_ASSERT_EQUAL(EXEC(c, in_dx), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	harness_destroy(h);
}

/* REP INSB stores ES:EDI upward; REP OUTSW with DF=1 walks ESI down. */
static void test_rep_ins_outs(void)
{
	const uint8_t rep_insb[] = { 0xf3, 0x6c }, rep_outsw[] = { 0xf3, 0x66, 0x6f };
	struct port_dev d = { .next = 1 };
	struct harness *h = io_env(&d);
	struct cpu *c = &h->cpu;
	c->gpr[R_DX] = 0x80;
	c->gpr[R_DI] = 0x9000;
	c->gpr[R_CX] = 4;
	CU_ASSERT_EQUAL(EXEC(c, rep_insb), EXEC_OK);
	CU_ASSERT_EQUAL(get32(h, 0x9000), 0x04030201u);
	CU_ASSERT_EQUAL(c->gpr[R_DI], 0x9004);
	CU_ASSERT_EQUAL(c->gpr[R_CX], 0);
	put32(h, 0xa000, 0xbbbbaaaau);
	c->gpr[R_SI] = 0xa002;
	c->gpr[R_CX] = 2;
	c->rflags |= FL_DF;
	CU_ASSERT_EQUAL(EXEC(c, rep_outsw), EXEC_OK);
	CU_ASSERT_EQUAL(d.nwrites, 2);
	CU_ASSERT_EQUAL(d.writes[0], 0xbbbb);
	CU_ASSERT_EQUAL(d.writes[1], 0xaaaa);
	CU_ASSERT_EQUAL(c->gpr[R_SI], 0x9ffe);
	harness_destroy(h);
}

void suite_cpu_io(void)
{
	CU_pSuite s = CU_add_suite("cpu_io", NULL, NULL);
	CU_add_test(s, "I/O permission bitmap", test_io_bitmap);
	CU_add_test(s, "CPL > IOPL without a bitmap", test_io_no_bitmap);
	CU_add_test(s, "REP INS / REP OUTS", test_rep_ins_outs);
}
