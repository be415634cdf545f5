/* vmx/apicv.h: the pure rules of APIC virtualization (SDM vol. 3C, the
 * edition whose VM-exit chapter is 27 and APIC virtualization chapter 29):
 * the APIC-access exit qualification (27.2.1, Table 27-6), which reads
 * and writes of the APIC-access page are virtualized (29.4.2, 29.4.3.1),
 * the VICR_LO test of self-IPI virtualization (29.4.3.2) and PPR
 * virtualization (29.1.3). Every expected value is written out as the SDM
 * gives it, not computed with the code under test. */
#include <CUnit/CUnit.h>

#include "vmx/apicv.h"
#include "vmx/controls.h"

/* Table 27-6: bits 11:0 the page offset of a linear access; bits 15:12
 * the access type (0 data read, 1 data write, 2 instruction fetch, 3
 * linear during event delivery, 10 guest-physical during event delivery,
 * 15 guest-physical for a fetch or during instruction execution); bits
 * 63:17 (and 16, "asynchronous", for synchronous accesses) 0. */
static void test_access_qual(void)
{
	CU_ASSERT_EQUAL(APIC_ACCESS_LINEAR_READ, 0);
	CU_ASSERT_EQUAL(APIC_ACCESS_LINEAR_WRITE, 1);
	CU_ASSERT_EQUAL(APIC_ACCESS_LINEAR_FETCH, 2);
	CU_ASSERT_EQUAL(APIC_ACCESS_LINEAR_EVENT, 3);
	CU_ASSERT_EQUAL(APIC_ACCESS_PHYS_EVENT, 10);
	CU_ASSERT_EQUAL(APIC_ACCESS_PHYS_INSN, 15);

	CU_ASSERT_EQUAL(vmx_apic_access_qual(0x080, APIC_ACCESS_LINEAR_READ), 0x0080);
	CU_ASSERT_EQUAL(vmx_apic_access_qual(0x000, APIC_ACCESS_LINEAR_READ), 0x0000);
	CU_ASSERT_EQUAL(vmx_apic_access_qual(0x300, APIC_ACCESS_LINEAR_WRITE), 0x1300);
	CU_ASSERT_EQUAL(vmx_apic_access_qual(0xfff, APIC_ACCESS_LINEAR_FETCH), 0x2fff);
	CU_ASSERT_EQUAL(vmx_apic_access_qual(0x3f0, APIC_ACCESS_LINEAR_EVENT), 0x33f0);
	CU_ASSERT_EQUAL(vmx_apic_access_qual(0x0b0, APIC_ACCESS_PHYS_EVENT), 0xa0b0);
	CU_ASSERT_EQUAL(vmx_apic_access_qual(0x123, APIC_ACCESS_PHYS_INSN), 0xf123);
	/* Only the offset within the 4-KByte page goes into bits 11:0. */
	CU_ASSERT_EQUAL(vmx_apic_access_qual(0x1080, APIC_ACCESS_LINEAR_READ), 0x0080);
	CU_ASSERT_EQUAL(vmx_apic_access_qual(0xfee00300u, APIC_ACCESS_LINEAR_READ), 0x0300);
}

/* 29.4.2 / 29.4.3.1: never virtualized when more than 32 bits, or not
 * entirely within the low 4 bytes of a naturally aligned 16-byte region
 * (bits 3:2 of the first and of the last byte's address 0). */
static void test_access_shape(void)
{
	const uint32_t all = PROC2_APIC_REG_VIRT | PROC2_VIRT_INTR_DELIVERY;
	CU_ASSERT_TRUE(vmx_apic_read_virtualized(all, 0x080, 4));
	CU_ASSERT_TRUE(vmx_apic_write_virtualized(all, 0x080, 4));
	CU_ASSERT_TRUE(vmx_apic_read_virtualized(all, 0x080, 1));
	CU_ASSERT_TRUE(vmx_apic_read_virtualized(all, 0x080, 2));
	CU_ASSERT_FALSE(vmx_apic_read_virtualized(all, 0x080, 8));     /* more than 32 bits */
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(all, 0x080, 8));
	CU_ASSERT_FALSE(vmx_apic_read_virtualized(all, 0x084, 4));     /* bytes 4-7 of the region */
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(all, 0x084, 1));
	CU_ASSERT_FALSE(vmx_apic_read_virtualized(all, 0x08c, 4));
	CU_ASSERT_FALSE(vmx_apic_read_virtualized(all, 0x082, 4));     /* last byte at 085H */
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(all, 0x083, 2));    /* last byte at 084H */
	CU_ASSERT_TRUE(vmx_apic_read_virtualized(all, 0x083, 1));      /* 083H: within 080H-083H */
}

/* 29.4.2: "APIC-register virtualization" 0: only a read at page offset
 * 080H (task priority) is virtualized, whatever "virtual-interrupt
 * delivery" says (the VID-only list of 29.4.3.1 is for writes). */
static void test_reads_without_regvirt(void)
{
	const uint32_t ctl[] = { 0, PROC2_VIRT_INTR_DELIVERY };
	for (unsigned k = 0; k < 2; k++) {
		CU_ASSERT_TRUE(vmx_apic_read_virtualized(ctl[k], 0x080, 4));
		CU_ASSERT_TRUE(vmx_apic_read_virtualized(ctl[k], 0x080, 1));
		CU_ASSERT_FALSE(vmx_apic_read_virtualized(ctl[k], 0x020, 4));  /* ID */
		CU_ASSERT_FALSE(vmx_apic_read_virtualized(ctl[k], 0x0a0, 4));  /* PPR */
		CU_ASSERT_FALSE(vmx_apic_read_virtualized(ctl[k], 0x0b0, 4));  /* EOI */
		CU_ASSERT_FALSE(vmx_apic_read_virtualized(ctl[k], 0x300, 4));  /* ICR low */
		CU_ASSERT_FALSE(vmx_apic_read_virtualized(ctl[k], 0x200, 4));  /* IRR */
		CU_ASSERT_FALSE(vmx_apic_read_virtualized(ctl[k], 0x000, 4));
		/* the page offset of the access is 081H, not 080H */
		CU_ASSERT_FALSE(vmx_apic_read_virtualized(ctl[k], 0x081, 1));
		CU_ASSERT_FALSE(vmx_apic_write_virtualized(ctl[k], 0x081, 1));
	}
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(PROC2_VIRT_INTR_DELIVERY, 0x0b2, 2));
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(PROC2_VIRT_INTR_DELIVERY, 0x301, 1));
}

/* 29.4.2 with "APIC-register virtualization" 1: the ranges 020H-023H,
 * 030H, 080H, 0B0H, 0D0H, 0E0H, 0F0H, ISR 100H-170H, TMR 180H-1F0H, IRR
 * 200H-270H, 280H, ICR 300H/310H, LVT 320H-370H, 380H, 3E0H; everything
 * else (000H, 010H, APR 090H, PPR 0A0H, RRD 0C0H, 290H-2F0H, current count
 * 390H, 3A0H-3D0H, 3F0H, above 3FFH) exits. */
static void test_reads_with_regvirt(void)
{
	static const unsigned yes[] = { 0x020, 0x030, 0x080, 0x0b0, 0x0d0, 0x0e0, 0x0f0, 0x100, 0x170, 0x180,
					0x1f0, 0x200, 0x270, 0x280, 0x300, 0x310, 0x320, 0x370, 0x380, 0x3e0 };
	static const unsigned no[] = { 0x000, 0x010, 0x040, 0x070, 0x090, 0x0a0, 0x0c0, 0x290, 0x2f0,
				       0x390, 0x3a0, 0x3d0, 0x3f0, 0x400, 0x800, 0xff0 };
	const uint32_t ctl = PROC2_APIC_REG_VIRT;
	for (unsigned k = 0; k < sizeof(yes) / sizeof(yes[0]); k++)
		CU_ASSERT_TRUE(vmx_apic_read_virtualized(ctl, yes[k], 4));
	for (unsigned k = 0; k < sizeof(no) / sizeof(no[0]); k++)
		CU_ASSERT_FALSE(vmx_apic_read_virtualized(ctl, no[k], 4));
}

/* 29.4.3.1: both 0: a write at 080H; "virtual-interrupt delivery" 1 and
 * "APIC-register virtualization" 0: 080H, 0B0H (EOI), 300H (ICR low);
 * "APIC-register virtualization" 1: 020H, 080H, 0B0H, 0D0H, 0E0H, 0F0H,
 * 280H, 300H, 310H, 320H-370H, 380H, 3E0H (no version, ISR, TMR, IRR,
 * PPR, current count). */
static void test_writes(void)
{
	CU_ASSERT_TRUE(vmx_apic_write_virtualized(0, 0x080, 4));
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(0, 0x0b0, 4));
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(0, 0x300, 4));
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(0, 0x020, 4));

	const uint32_t vid = PROC2_VIRT_INTR_DELIVERY;
	CU_ASSERT_TRUE(vmx_apic_write_virtualized(vid, 0x080, 4));
	CU_ASSERT_TRUE(vmx_apic_write_virtualized(vid, 0x0b0, 4));
	CU_ASSERT_TRUE(vmx_apic_write_virtualized(vid, 0x300, 4));
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(vid, 0x310, 4));
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(vid, 0x020, 4));
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(vid, 0x0f0, 4));
	CU_ASSERT_FALSE(vmx_apic_write_virtualized(vid, 0x380, 4));

	static const unsigned yes[] = { 0x020, 0x080, 0x0b0, 0x0d0, 0x0e0, 0x0f0, 0x280, 0x300,
					0x310, 0x320, 0x330, 0x340, 0x350, 0x360, 0x370, 0x380, 0x3e0 };
	static const unsigned no[] = { 0x000, 0x030, 0x090, 0x0a0, 0x0c0, 0x100, 0x170, 0x180, 0x1f0,
				       0x200, 0x270, 0x390, 0x3f0, 0x400 };
	for (unsigned r = 0; r < 2; r++) {
		uint32_t ctl = PROC2_APIC_REG_VIRT | (r ? PROC2_VIRT_INTR_DELIVERY : 0);
		for (unsigned k = 0; k < sizeof(yes) / sizeof(yes[0]); k++)
			CU_ASSERT_TRUE(vmx_apic_write_virtualized(ctl, yes[k], 4));
		for (unsigned k = 0; k < sizeof(no) / sizeof(no[0]); k++)
			CU_ASSERT_FALSE(vmx_apic_write_virtualized(ctl, no[k], 4));
	}
}

/* 29.4.3.2, offset 300H: self-IPI virtualization when reserved bits 31:20,
 * 17:16, 13 and delivery status (12) are 0, shorthand (19:18) 01B self,
 * trigger mode (15) 0 edge, delivery mode (10:8) 000B fixed, vector 7:4
 * not 0000B. Bits 14 (level) and 11 (destination mode) are not examined. */
static void test_self_ipi_icr(void)
{
	CU_ASSERT_TRUE(vmx_self_ipi_icr(0x00040052));
	CU_ASSERT_TRUE(vmx_self_ipi_icr(0x00040010));                  /* lowest vector with 7:4 != 0 */
	CU_ASSERT_TRUE(vmx_self_ipi_icr(0x000400ff));
	CU_ASSERT_TRUE(vmx_self_ipi_icr(0x00044052));                  /* bit 14 (level assert) */
	CU_ASSERT_TRUE(vmx_self_ipi_icr(0x00040852));                  /* bit 11 (logical) */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x0004000f));                 /* vector 7:4 = 0 */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00040000));
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00000052));                 /* no shorthand */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00080052));                 /* all including self */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x000c0052));                 /* all excluding self */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00048052));                 /* level-triggered */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00040152));                 /* lowest priority */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00040452));                 /* NMI */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00041052));                 /* delivery status */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00042052));                 /* reserved bit 13 */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00050052));                 /* reserved bit 16 */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00060052));                 /* reserved bit 17 */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x00140052));                 /* reserved bit 20 */
	CU_ASSERT_FALSE(vmx_self_ipi_icr(0x80040052));                 /* reserved bit 31 */
}

/* 29.1.3: VPPR = VTPR & FFH when VTPR[7:4] >= SVI[7:4], else SVI & F0H. */
static void test_ppr(void)
{
	CU_ASSERT_EQUAL(vmx_ppr(0x00, 0x00), 0x00);
	CU_ASSERT_EQUAL(vmx_ppr(0x35, 0x21), 0x35);
	CU_ASSERT_EQUAL(vmx_ppr(0x35, 0x3f), 0x35);     /* equal classes: VTPR */
	CU_ASSERT_EQUAL(vmx_ppr(0x25, 0x31), 0x30);
	CU_ASSERT_EQUAL(vmx_ppr(0x0f, 0xff), 0xf0);
	CU_ASSERT_EQUAL(vmx_ppr(0xff, 0xfe), 0xff);
	CU_ASSERT_EQUAL(vmx_ppr(0x00, 0x45), 0x40);
}

void suite_vmx_apicv(void);
void suite_vmx_apicv(void)
{
	CU_pSuite s = CU_add_suite("vmx_apicv", NULL, NULL);
	CU_add_test(s, "APIC-access exit qualification (Table 27-6)", test_access_qual);
	CU_add_test(s, "virtualized accesses: size and alignment (29.4.2, 29.4.3.1)", test_access_shape);
	CU_add_test(s, "reads without APIC-register virtualization (29.4.2)", test_reads_without_regvirt);
	CU_add_test(s, "reads with APIC-register virtualization (29.4.2)", test_reads_with_regvirt);
	CU_add_test(s, "writes by control setting (29.4.3.1)", test_writes);
	CU_add_test(s, "VICR_LO self-IPI test (29.4.3.2)", test_self_ipi_icr);
	CU_add_test(s, "PPR virtualization (29.1.3)", test_ppr);
}
