/* vmx/intercept_io.c: the I/O-bitmap and MSR-bitmap lookups (SDM vol. 3C
 * 24.6.4, 24.6.9, 25.1.3), read from guest-physical memory at the
 * addresses in the current VMCS. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/harness.h"
#include "vmx/intercept_io.h"
#include "vmx/vmcs.h"

#define VMCS_PA 0x20000u
#define IO_A 0x40000u
#define IO_B 0x42000u
#define MSR_BM 0x44000u

static struct harness *setup(void)
{
	struct harness *h = harness_create(true);
	h->cpu.vmx.on = true;
	h->cpu.vmx.vmcs_ptr = VMCS_PA;
	vmcs_write(&h->cpu, VF_IO_BITMAP_A, IO_A);
	vmcs_write(&h->cpu, VF_IO_BITMAP_B, IO_B);
	vmcs_write(&h->cpu, VF_MSR_BITMAP, MSR_BM);
	return h;
}

static void set_bit(struct harness *h, uint64_t base, uint32_t n)
{
	uint64_t pa = base + n / 8;
	phys_write(&h->pm, pa, phys_read(&h->pm, pa, 1) | 1u << (n & 7), 1);
}

/* All bits clear: nothing exits but an access that wraps past FFFFH. */
static void test_io_clear_and_wrap(void)
{
	struct harness *h = setup();
	struct cpu *c = &h->cpu;
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0, 4));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0x7fff, 1));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0x7ffe, 2));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0xffff, 1));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0xfffe, 2));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0xfffc, 4));
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0xffff, 2));     /* FFFFH and 0000H */
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0xfffd, 4));
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0xffff, 4));
	harness_destroy(h);
}

/* A multi-byte access exits if the bit of any port it touches is 1;
 * ports 0-7FFFH are in bitmap A, 8000H-FFFFH in B (bit n - 8000H). */
static void test_io_bits(void)
{
	struct harness *h = setup();
	struct cpu *c = &h->cpu;
	set_bit(h, IO_A, 0x3f9);
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0x3f8, 1));
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0x3f8, 2));
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0x3f9, 1));
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0x3f6, 4));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0x3f5, 4));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0x3fa, 4));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0x83f9, 1));    /* the same bit of B is clear */
	set_bit(h, IO_B, 0);                                    /* port 8000H */
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0x8000, 1));
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0x7fff, 2));     /* crosses from A into B */
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0x7ffd, 4));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0x7ffe, 2));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0, 1));          /* bit 0 of A is clear */
	set_bit(h, IO_B, 0x7fff);                               /* port FFFFH */
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0xffff, 1));
	CU_ASSERT_TRUE(vmx_io_bitmap_exits(c, 0xfffc, 4));
	CU_ASSERT_FALSE(vmx_io_bitmap_exits(c, 0x7fff, 1));
	harness_destroy(h);
}

/* The four 1-KByte bitmaps and the ranges outside them. */
static void test_msr_bitmap(void)
{
	struct harness *h = setup();
	struct cpu *c = &h->cpu;
	CU_ASSERT_FALSE(vmx_msr_bitmap_exits(c, 0x10, false));
	CU_ASSERT_FALSE(vmx_msr_bitmap_exits(c, 0x1fff, true));
	CU_ASSERT_FALSE(vmx_msr_bitmap_exits(c, 0xc0000080, false));
	CU_ASSERT_FALSE(vmx_msr_bitmap_exits(c, 0xc0001fff, true));
	CU_ASSERT_TRUE(vmx_msr_bitmap_exits(c, 0x2000, false));        /* outside both ranges */
	CU_ASSERT_TRUE(vmx_msr_bitmap_exits(c, 0x40000000, true));
	CU_ASSERT_TRUE(vmx_msr_bitmap_exits(c, 0xbfffffff, false));
	CU_ASSERT_TRUE(vmx_msr_bitmap_exits(c, 0xc0002000, false));
	CU_ASSERT_TRUE(vmx_msr_bitmap_exits(c, 0xffffffff, true));
	set_bit(h, MSR_BM, 0x1ff);                      /* read, low */
	set_bit(h, MSR_BM + 1024, 0x1fff);              /* read, high: C0001FFFH */
	set_bit(h, MSR_BM + 2048, 0x10);                /* write, low */
	set_bit(h, MSR_BM + 3072, 0x101);               /* write, high: C0000101H */
	CU_ASSERT_TRUE(vmx_msr_bitmap_exits(c, 0x1ff, false));
	CU_ASSERT_FALSE(vmx_msr_bitmap_exits(c, 0x1ff, true));
	CU_ASSERT_FALSE(vmx_msr_bitmap_exits(c, 0xc00001ff, false));
	CU_ASSERT_TRUE(vmx_msr_bitmap_exits(c, 0xc0001fff, false));
	CU_ASSERT_FALSE(vmx_msr_bitmap_exits(c, 0x1fff, false));
	CU_ASSERT_TRUE(vmx_msr_bitmap_exits(c, 0x10, true));
	CU_ASSERT_FALSE(vmx_msr_bitmap_exits(c, 0x10, false));
	CU_ASSERT_TRUE(vmx_msr_bitmap_exits(c, 0xc0000101, true));
	CU_ASSERT_FALSE(vmx_msr_bitmap_exits(c, 0xc0000101, false));
	CU_ASSERT_FALSE(vmx_msr_bitmap_exits(c, 0x101, true));
	harness_destroy(h);
}

void suite_vmx_intercept_io(void);
void suite_vmx_intercept_io(void)
{
	CU_pSuite s = CU_add_suite("vmx_intercept_io", NULL, NULL);
	CU_add_test(s, "I/O bitmaps clear; wrap past FFFFH exits", test_io_clear_and_wrap);
	CU_add_test(s, "I/O bitmaps A and B, multi-byte accesses", test_io_bits);
	CU_add_test(s, "MSR bitmaps: four ranges, outside always exits", test_msr_bitmap);
}
