/* Paging walks: 4-level, PAE and 32-bit translations, accessed/dirty bits,
 * and #PF error codes (SDM vol. 3A 4.5-4.8). */
#include <CUnit/CUnit.h>

#include "mem/access.h"
#include "mem/paging.h"

#define RAM (2u << 20)

static struct phys_map pm;

static void w64(uint64_t pa, uint64_t v) { phys_copy_in(&pm, pa, &v, 8); }
static uint64_t r64(uint64_t pa) { uint64_t v = 0; phys_copy_out(&pm, pa, &v, 8); return v; }
static void w32(uint64_t pa, uint32_t v) { phys_copy_in(&pm, pa, &v, 4); }
static uint32_t r32(uint64_t pa) { uint32_t v = 0; phys_copy_out(&pm, pa, &v, 4); return v; }

static struct xlate_ctx ctx64(void)
{
	return (struct xlate_ctx){ .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x1000, .cr4 = CR4_PAE,
				   .efer = EFER_LME | EFER_LMA | EFER_NXE, .maxphyaddr = 39,
				   .features = XF_PAGE1GB | XF_PSE36 };
}

/* la 0x7f80_0000_3000 -> pa 0x50000 through PML4[255] PDPT[0] PD[0] PT[3]. */
static void build_4level(uint64_t pte_flags)
{
	phys_fill(&pm, 0, 0, RAM);
	w64(0x1000 + 255 * 8, 0x2000 | PTE_P | PTE_W | PTE_U);
	w64(0x2000, 0x3000 | PTE_P | PTE_W | PTE_U);
	w64(0x3000, 0x4000 | PTE_P | PTE_W | PTE_U);
	w64(0x4000 + 3 * 8, 0x50000 | pte_flags);
}

static const uint64_t LA = 0x7f8000003000ull;

static void test_4level_translate_and_ad(void)
{
	struct xlate_ctx c = ctx64();
	struct xlate_result r;
	struct xlate_fault f;
	build_4level(PTE_P | PTE_W);
	CU_ASSERT_TRUE(paging_translate(&pm, &c, LA + 0x123, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.pa, 0x50123);
	CU_ASSERT_EQUAL(r64(0x4000 + 24) & (PTE_A | PTE_D), PTE_A);     /* read: A, not D */
	CU_ASSERT(r64(0x1000 + 255 * 8) & PTE_A);
	CU_ASSERT_TRUE(paging_translate(&pm, &c, LA, ACC_WRITE, &r, &f));
	CU_ASSERT_EQUAL(r64(0x4000 + 24) & (PTE_A | PTE_D), PTE_A | PTE_D);
}

static void test_4level_faults(void)
{
	struct xlate_ctx c = ctx64();
	struct xlate_result r;
	struct xlate_fault f;
	build_4level(PTE_P);                                     /* read-only, supervisor */
	CU_ASSERT_FALSE(paging_translate(&pm, &c, LA, ACC_WRITE, &r, &f));
	CU_ASSERT_EQUAL(f.error_code, PFEC_P | PFEC_W);
	CU_ASSERT_EQUAL(f.linear, LA);
	c.cr0 &= ~CR0_WP;                                        /* supervisor may write with WP=0 */
	CU_ASSERT_TRUE(paging_translate(&pm, &c, LA, ACC_WRITE, &r, &f));
	CU_ASSERT_FALSE(paging_translate(&pm, &c, LA, ACC_READ | ACC_USER, &r, &f));
	CU_ASSERT_EQUAL(f.error_code, PFEC_P | PFEC_U);          /* user access to a supervisor page */
	CU_ASSERT_FALSE(paging_translate(&pm, &c, LA + 0x1000, ACC_WRITE, &r, &f));
	CU_ASSERT_EQUAL(f.error_code, PFEC_W);                   /* not present */
	build_4level(PTE_P | PTE_NX);
	CU_ASSERT_FALSE(paging_translate(&pm, &c, LA, ACC_EXEC, &r, &f));
	CU_ASSERT_EQUAL(f.error_code, PFEC_P | PFEC_I);
	build_4level(PTE_P | (1ull << 45));                       /* above MAXPHYADDR 39: reserved */
	CU_ASSERT_FALSE(paging_translate(&pm, &c, LA, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(f.error_code, PFEC_P | PFEC_RSVD);
}

static void test_large_pages(void)
{
	struct xlate_ctx c = ctx64();
	struct xlate_result r;
	struct xlate_fault f;
	phys_fill(&pm, 0, 0, RAM);
	w64(0x1000, 0x2000 | PTE_P | PTE_W);
	w64(0x2000 + 8, 0x40000000ull | PTE_P | PTE_W | PTE_PS);  /* 1 GiB page at 1 GiB */
	w64(0x2000, 0x3000 | PTE_P | PTE_W);
	w64(0x3000 + 8, 0x00000000ull | PTE_P | PTE_W | PTE_PS);  /* 2 MiB page */
	CU_ASSERT_TRUE(paging_translate(&pm, &c, 0x40123456, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.pa, 0x40123456);
	CU_ASSERT_EQUAL(r.page_size, 1ull << 30);
	CU_ASSERT_TRUE(paging_translate(&pm, &c, 0x2abcde, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.pa, 0xabcde);
	CU_ASSERT_EQUAL(r.page_size, 2ull << 20);
}

static void test_32bit_and_pae(void)
{
	struct xlate_result r;
	struct xlate_fault f;
	phys_fill(&pm, 0, 0, RAM);
	/* 32-bit: PDE[1] -> PT at 0x5000, PTE[2] -> 0x77000; PDE[2] 4 MiB page. */
	struct xlate_ctx c = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x4000, .cr4 = CR4_PSE, .maxphyaddr = 36 };
	w32(0x4000 + 4, 0x5000 | PTE_P | PTE_W);
	w32(0x5000 + 8, 0x77000 | PTE_P | PTE_W);
	w32(0x4000 + 8, 0x00c00000 | PTE_P | PTE_PS);
	CU_ASSERT_TRUE(paging_translate(&pm, &c, 0x00402abc, ACC_WRITE, &r, &f));
	CU_ASSERT_EQUAL(r.pa, 0x77abc);
	CU_ASSERT_EQUAL(r32(0x5000 + 8) & (PTE_A | PTE_D), PTE_A | PTE_D);
	CU_ASSERT_TRUE(paging_translate(&pm, &c, 0x00812345, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.pa, 0xc12345);
	/* PAE: PDPTE[0] -> PD 0x6000, PDE[0] 2 MiB page at 0x200000. */
	struct xlate_ctx p = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x7000, .cr4 = CR4_PAE, .maxphyaddr = 36 };
	w64(0x7000, 0x6000 | PTE_P);
	w64(0x6000, 0x200000 | PTE_P | PTE_W | PTE_PS);
	CU_ASSERT_TRUE(paging_load_pdptes(&pm, p.cr3, p.maxphyaddr, p.pdpte));
	CU_ASSERT_TRUE(paging_translate(&pm, &p, 0x1234, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.pa, 0x201234);
}

/* The TLB caches a write permission only once D is set. */
static void test_tlb_write_needs_dirty(void)
{
	struct xlate_ctx c = ctx64();
	struct tlb t = { 0 };      /* data_nofill too: tlb_flush_all clears only the entries */
	struct xlate_fault f;
	tlb_flush_all(&t);
	build_4level(PTE_P | PTE_W);
	struct mem_view v = { &t, &pm, &c, 0, NULL, NULL };
	uint64_t val;
	CU_ASSERT_TRUE(mem_read(&v, LA, 8, &val, &f));
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, LA)->tag_w, TLB_INVALID);
	CU_ASSERT_TRUE(mem_write(&v, LA, 8, 0x1122334455667788ull, &f));
	CU_ASSERT_EQUAL(r64(0x50000), 0x1122334455667788ull);
	CU_ASSERT(r64(0x4000 + 24) & PTE_D);
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, LA)->tag_w, LA);
	/* A write straddling into a non-present page faults and writes nothing. */
	CU_ASSERT_FALSE(mem_write(&v, LA + 0xffc, 8, ~0ull, &f));
	CU_ASSERT_EQUAL(f.linear, LA + 0x1000);
	CU_ASSERT_EQUAL(r32(0x50ffc), 0);
}

/* A20 gate off: physical bit 20 reads as 0, with and without paging; the
 * translation is cached as a 4 KiB piece. */
static void test_a20_mask(void)
{
	struct xlate_ctx c = { .cr0 = CR0_PE, .a20_masked = true, .maxphyaddr = 36 };
	struct xlate_result r;
	struct xlate_fault f;
	CU_ASSERT_TRUE(paging_translate(&pm, &c, 0x10fff0, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.pa, 0x0fff0);
	c.a20_masked = false;
	CU_ASSERT_TRUE(paging_translate(&pm, &c, 0x10fff0, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.pa, 0x10fff0);
	struct xlate_ctx p = ctx64();
	build_4level(PTE_P | PTE_W);
	p.a20_masked = true;
	CU_ASSERT_TRUE(paging_translate(&pm, &p, LA, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.pa, 0x50000);         /* bit 20 clear already: unchanged */
	CU_ASSERT_EQUAL(r.page_size, PAGE_SIZE);
}

static int init(void) { return phys_init(&pm, RAM); }
static int fini(void) { phys_destroy(&pm); return 0; }

void suite_mem_paging(void)
{
	CU_pSuite s = CU_add_suite("mem_paging", init, fini);
	CU_add_test(s, "4-level translation sets A then D", test_4level_translate_and_ad);
	CU_add_test(s, "#PF error codes: W, U, not present, NX, reserved", test_4level_faults);
	CU_add_test(s, "1 GiB and 2 MiB pages", test_large_pages);
	CU_add_test(s, "32-bit (PSE) and PAE paging", test_32bit_and_pae);
	CU_add_test(s, "TLB caches writes only for dirty pages; straddling faults", test_tlb_write_needs_dirty);
	CU_add_test(s, "the A20 gate masks bit 20", test_a20_mask);
}
