/* The debugger's read-only walks (mem/walkview.c): every level of the
 * 32-bit, PAE, 4-level and 5-level walks (SDM vol. 3A 4.3-4.5) and of the
 * EPT walks under them (SDM vol. 3C 29.3.2) is recorded, failures name
 * their level and the fault a read would raise, and no byte of memory
 * changes (no accessed or dirty flag is set, 4.8 / 29.3.5). */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "mem/walkview.h"

#define RAM (4u << 20)

static struct phys_map pm;
static uint8_t *before;

static void w64(uint64_t pa, uint64_t v) { phys_copy_in(&pm, pa, &v, 8); }
static void w32(uint64_t pa, uint32_t v) { phys_copy_in(&pm, pa, &v, 4); }
static void snap(void) { memcpy(before, pm.ram, RAM); }
static bool unchanged(void) { return memcmp(before, pm.ram, RAM) == 0; }

#define TBL (PTE_P | PTE_W | PTE_U)
/* la: PML4 index 1, PDPT 2, PD 3, PT 4, offset abc. */
#define LA ((1ull << 39) | (2ull << 30) | (3ull << 21) | (4ull << 12) | 0xabc)

static struct xlate_ctx long_ctx(void)
{
	phys_fill(&pm, 0, 0, RAM);
	w64(0x10000 + 1 * 8, 0x11000 | TBL);
	w64(0x11000 + 2 * 8, 0x12000 | TBL);
	w64(0x12000 + 3 * 8, 0x13000 | TBL);
	w64(0x13000 + 4 * 8, 0x50000 | PTE_P | PTE_W | PTE_NX);
	return (struct xlate_ctx){ .cr0 = CR0_PE | CR0_PG, .cr3 = 0x10000, .cr4 = CR4_PAE,
				   .efer = EFER_LME | EFER_LMA | EFER_NXE, .maxphyaddr = 39,
				   .features = XF_PAGE1GB };
}

static void test_4level(void)
{
	struct xlate_ctx c = long_ctx();
	struct wv_walk w;
	snap();
	CU_ASSERT_TRUE(wv_translate(&pm, &c, LA, &w));
	CU_ASSERT_TRUE(unchanged());
	CU_ASSERT_EQUAL(w.mode, WV_MODE_4LEVEL);
	CU_ASSERT_EQUAL(w.n, 4);
	static const uint64_t addr[4] = { 0x10008, 0x11010, 0x12018, 0x13020 };
	for (int k = 0; k < 4; k++) {
		CU_ASSERT_EQUAL(w.e[k].level, 4 - k);
		CU_ASSERT_EQUAL(w.e[k].addr, addr[k]);
		CU_ASSERT_EQUAL(w.e[k].leaf, k == 3);
	}
	CU_ASSERT_EQUAL(w.e[3].value, 0x50000 | PTE_P | PTE_W | PTE_NX);
	CU_ASSERT_EQUAL(w.pa, 0x50abc);
	CU_ASSERT_EQUAL(w.page_size, 4096);
	CU_ASSERT_FALSE(w.all_u);
	CU_ASSERT_TRUE(w.all_w);
	CU_ASSERT_TRUE(w.any_nx);
	CU_ASSERT_STRING_EQUAL(wv_level_name(w.e[0].level), "PML4E");
	/* The real walk agrees, and sets the A flags the view did not. */
	struct xlate_result r;
	struct xlate_fault f;
	CU_ASSERT_TRUE(paging_translate(&pm, &c, LA, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.pa, w.pa);
	CU_ASSERT_FALSE(unchanged());
}

static void test_failures(void)
{
	struct xlate_ctx c = long_ctx();
	struct wv_walk w;
	snap();
	CU_ASSERT_FALSE(wv_translate(&pm, &c, LA + 0x1000, &w));       /* PT[5] = 0 */
	CU_ASSERT_EQUAL(w.stop, WV_NOT_PRESENT);
	CU_ASSERT_EQUAL(w.n, 4);
	CU_ASSERT_TRUE(w.pf);
	CU_ASSERT_EQUAL(w.pf_error, 0);
	c.cpl = 3;
	CU_ASSERT_FALSE(wv_translate(&pm, &c, LA + 0x1000, &w));
	CU_ASSERT_EQUAL(w.pf_error, PFEC_U);
	c.cpl = 0;
	w64(0x12000 + 3 * 8, 0x200000 | PTE_PS | (1ull << 13) | TBL);   /* bit 13 of a 2 MiB PDE */
	snap();
	CU_ASSERT_FALSE(wv_translate(&pm, &c, LA, &w));
	CU_ASSERT_EQUAL(w.stop, WV_RESERVED);
	CU_ASSERT_EQUAL(w.n, 3);
	CU_ASSERT_EQUAL(w.e[2].level, 2);
	CU_ASSERT_EQUAL(w.pf_error, PFEC_P | PFEC_RSVD);
	w64(0x12000 + 3 * 8, 0x200000 | PTE_PS | TBL);                  /* a 2 MiB page */
	snap();
	CU_ASSERT_TRUE(wv_translate(&pm, &c, LA, &w));
	CU_ASSERT_EQUAL(w.n, 3);
	CU_ASSERT_TRUE(w.e[2].leaf);
	CU_ASSERT_EQUAL(w.page_size, 2u << 20);
	CU_ASSERT_EQUAL(w.pa, 0x200000 | (LA & 0x1fffff));
	c.cr3 = 0xfee00000;                                             /* the tables are not memory */
	CU_ASSERT_FALSE(wv_translate(&pm, &c, LA, &w));
	CU_ASSERT_EQUAL(w.stop, WV_NOT_MEMORY);
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_TRUE(unchanged());
}

static void test_5level(void)
{
	struct xlate_ctx c = long_ctx();
	struct wv_walk w;
	w64(0x14000, 0x10000 | TBL);
	c.cr3 = 0x14000;
	c.cr4 |= CR4_LA57;
	snap();
	CU_ASSERT_TRUE(wv_translate(&pm, &c, LA, &w));
	CU_ASSERT_TRUE(unchanged());
	CU_ASSERT_EQUAL(w.mode, WV_MODE_5LEVEL);
	CU_ASSERT_EQUAL(w.n, 5);
	CU_ASSERT_EQUAL(w.e[0].level, 5);
	CU_ASSERT_EQUAL(w.e[0].addr, 0x14000);
	CU_ASSERT_EQUAL(w.pa, 0x50abc);
}

static void test_32bit_and_pae(void)
{
	struct wv_walk w;
	phys_fill(&pm, 0, 0, RAM);
	w32(0x20000 + 1 * 4, 0x21000 | PTE_P | PTE_W);
	w32(0x21000 + 2 * 4, 0x60000 | PTE_P);
	w32(0x20000 + 2 * 4, 0x00800000 | PTE_P | PTE_PS);
	struct xlate_ctx c = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x20000, .cr4 = CR4_PSE, .maxphyaddr = 36 };
	snap();
	CU_ASSERT_TRUE(wv_translate(&pm, &c, (1u << 22) | (2u << 12) | 0x123, &w));
	CU_ASSERT_EQUAL(w.mode, WV_MODE_32BIT);
	CU_ASSERT_EQUAL(w.n, 2);
	CU_ASSERT_EQUAL(w.e[0].addr, 0x20004);
	CU_ASSERT_EQUAL(w.e[1].addr, 0x21008);
	CU_ASSERT_EQUAL(w.e[1].value, 0x60000 | PTE_P);
	CU_ASSERT_EQUAL(w.pa, 0x60123);
	CU_ASSERT_TRUE(wv_translate(&pm, &c, (2u << 22) | 0x54321, &w)); /* 4 MiB page */
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_EQUAL(w.page_size, 4u << 20);
	CU_ASSERT_EQUAL(w.pa, 0x854321);
	/* PAE: the PDPTE comes from its register, then PDE (2 MiB). */
	w64(0x22000, 0x400000 | PTE_PS | PTE_P | PTE_W);
	c = (struct xlate_ctx){ .cr0 = CR0_PE | CR0_PG, .cr3 = 0x23000, .cr4 = CR4_PAE, .maxphyaddr = 36,
				.pdpte = { 0, 0x22000 | PTE_P } };
	snap();
	CU_ASSERT_TRUE(wv_translate(&pm, &c, (1u << 30) | 0x1234, &w));
	CU_ASSERT_EQUAL(w.mode, WV_MODE_PAE);
	CU_ASSERT_EQUAL(w.n, 2);
	CU_ASSERT_TRUE(w.e[0].from_register);
	CU_ASSERT_EQUAL(w.e[0].addr, 0x23008);
	CU_ASSERT_EQUAL(w.pa, 0x401234);
	CU_ASSERT_FALSE(wv_translate(&pm, &c, 0x1234, &w));             /* PDPTE register 0 not present */
	CU_ASSERT_EQUAL(w.stop, WV_NOT_PRESENT);
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_TRUE(unchanged());
}

/* Under EPT (A/D flags on): every guest entry and the final address go
 * through an EPT walk; EPT PD[0] maps gpa 0-2 MiB to hpa 2-4 MiB. */
static void test_ept(void)
{
	struct xlate_ctx c = long_ctx();
	struct wv_walk w;
	/* The guest tables and page live at gpa X, stored at hpa X + 2 MiB. */
	memmove(pm.ram + (2u << 20), pm.ram, 2u << 20);
	phys_fill(&pm, 0, 0, 2u << 20);
	w64(0x30000, 0x31000 | 7);
	w64(0x31000, 0x32000 | 7);
	w64(0x32000, 0x200000 | EPTE_LARGE | 6 << 3 | 7);
	c.eptp = 0x30000 | 3 << 3 | 6 | (1ull << 6);
	c.ept_flags = EPTF_2M | EPTF_ADV_INFO;
	snap();
	CU_ASSERT_TRUE(wv_translate(&pm, &c, LA, &w));
	CU_ASSERT_TRUE(unchanged());
	CU_ASSERT_TRUE(w.ept);
	CU_ASSERT_EQUAL(w.n, 4);
	for (int k = 0; k < 4; k++) {
		CU_ASSERT_EQUAL(w.ept_entry[k].n, 3);
		CU_ASSERT_EQUAL(w.ept_entry[k].gpa, w.e[k].addr);
		CU_ASSERT_EQUAL(w.ept_entry[k].hpa, w.e[k].addr + (2u << 20));
	}
	CU_ASSERT_EQUAL(w.ept_entry[0].e[2].addr, 0x32000);
	CU_ASSERT_TRUE(w.ept_entry[0].e[2].leaf);
	CU_ASSERT_EQUAL(w.ept_final.memtype, 6);
	CU_ASSERT_EQUAL(w.ept_final.perm, 7);
	CU_ASSERT_EQUAL(w.gpa, 0x50abc);
	CU_ASSERT_EQUAL(w.pa, 0x250abc);
	/* The final gpa outside the EPT mapping: a violation, qualification
	 * read | GLA valid | final | R/W page (advanced information). */
	w64((2u << 20) + 0x13000 + 4 * 8, 0x250000 | PTE_P | PTE_W);
	snap();
	CU_ASSERT_FALSE(wv_translate(&pm, &c, LA, &w));
	CU_ASSERT_EQUAL(w.stop, WV_EPT_FAILED);
	CU_ASSERT_EQUAL(w.ept_final.stop, WV_NOT_PRESENT);
	CU_ASSERT_EQUAL(w.ept_final.n, 3);
	CU_ASSERT_TRUE(w.ept_violation);
	CU_ASSERT_EQUAL(w.ept_qual, EPT_QUAL_READ | EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_FINAL | EPT_QUAL_GLA_RW);
	/* A paging-structure entry outside it: read and write (EPT A/D on), not final. */
	c.cr3 = 0x300000;
	CU_ASSERT_FALSE(wv_translate(&pm, &c, LA, &w));
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_EQUAL(w.ept_qual, EPT_QUAL_READ | EPT_QUAL_WRITE | EPT_QUAL_GLA_VALID);
	/* A misconfigured EPT entry (write without read). */
	c.cr3 = 0x10000;
	w64(0x31000, 0x32000 | 2);
	snap();
	CU_ASSERT_FALSE(wv_translate(&pm, &c, LA, &w));
	CU_ASSERT_EQUAL(w.ept_entry[0].stop, WV_RESERVED);
	CU_ASSERT_FALSE(w.ept_violation);
	CU_ASSERT_TRUE(unchanged());
}

static int init(void)
{
	before = malloc(RAM);
	return before ? phys_init(&pm, RAM) : -1;
}

static int fini(void)
{
	phys_destroy(&pm);
	free(before);
	return 0;
}

void suite_mem_walkview(void)
{
	CU_pSuite s = CU_add_suite("mem_walkview", init, fini);
	CU_add_test(s, "4-level walk recorded, memory unchanged", test_4level);
	CU_add_test(s, "not present, reserved, large page, not memory", test_failures);
	CU_add_test(s, "5-level walk", test_5level);
	CU_add_test(s, "32-bit (4 MiB pages) and PAE (PDPTE registers)", test_32bit_and_pae);
	CU_add_test(s, "EPT walks of every entry and of the final address", test_ept);
}
