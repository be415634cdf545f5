/* Paging modes and the TLB (SDM vol. 3A chapter 4): 32-bit paging with
 * PSE-36, PAE PDPTE registers, 5-level paging, reserved bits per level,
 * protection keys and SMAP error codes; TLB staleness, exact INVLPG of large
 * pages, PCID tagging, INVPCID-style flushes and PKRU changes. */
#include <CUnit/CUnit.h>

#include "mem/access.h"
#include "mem/paging.h"

#define RAM (2u << 20)

static struct phys_map pm;

static void w64(uint64_t pa, uint64_t v) { phys_copy_in(&pm, pa, &v, 8); }
static uint64_t r64(uint64_t pa) { uint64_t v = 0; phys_copy_out(&pm, pa, &v, 8); return v; }
static void w32(uint64_t pa, uint32_t v) { phys_copy_in(&pm, pa, &v, 4); }

#define TBL (PTE_P | PTE_W | PTE_U)
#define FAULTED 0xfa17fa17fa17fa17ull

static bool xl(const struct xlate_ctx *c, uint64_t la, unsigned acc, uint64_t *pa, uint32_t *err)
{
	struct xlate_result r;
	struct xlate_fault f = { 0 };
	bool ok = paging_translate(&pm, c, la, acc, &r, &f);
	*pa = ok ? r.pa : 0;
	*err = ok ? 0 : f.error_code;
	return ok;
}

/* 4.3: a 4 MiB PDE holds physical-address bits 39:32 in bits 20:13; bits
 * 21:(M-19) are reserved, M = MIN(MAXPHYADDR, 40). */
static void test_pse36(void)
{
	struct xlate_ctx c = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x4000, .cr4 = CR4_PSE, .maxphyaddr = 36,
			       .features = XF_PSE36 };
	uint64_t pa;
	uint32_t err;
	phys_fill(&pm, 0, 0, RAM);
	w32(0x4000 + 4 * 3, 0x00c00000u | (0x5u << 13) | PTE_P | PTE_PS);
	CU_ASSERT_TRUE(xl(&c, 0x00c12345, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(pa, 0x500c12345ull);
	w32(0x4000 + 4 * 3, 0x00c00000u | (1u << 17) | PTE_P | PTE_PS);  /* PA bit 36 >= MAXPHYADDR */
	CU_ASSERT_FALSE(xl(&c, 0x00c12345, ACC_WRITE, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_W | PFEC_RSVD);
	c.maxphyaddr = 46;                                               /* M = 40: bit 17 is address */
	CU_ASSERT_TRUE(xl(&c, 0x00c12345, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(pa, 0x1000c12345ull);
	w32(0x4000 + 4 * 3, 0x00c00000u | (1u << 21) | PTE_P | PTE_PS);  /* bit 21 always reserved */
	CU_ASSERT_FALSE(xl(&c, 0x00c12345, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_RSVD);
	c.cr4 = 0;                                                        /* no PSE: PS ignored, PDE -> PT */
	w32(0x4000 + 4 * 3, 0x5000u | PTE_P | PTE_PS);
	w32(0x5000 + 4 * 0x12, 0x9000u | PTE_P);
	CU_ASSERT_TRUE(xl(&c, 0x00c12345, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(pa, 0x9345);
}

/* 4.4.1: the PDPTE registers are loaded (and checked) once; walks use the
 * registers, not memory. Reserved: 63:MAXPHYADDR, 8:5, 2:1. */
static void test_pae_pdptes(void)
{
	struct xlate_ctx c = { .cr0 = CR0_PE | CR0_PG, .cr3 = 0x7020, .cr4 = CR4_PAE, .maxphyaddr = 36 };
	uint64_t pa;
	uint32_t err;
	phys_fill(&pm, 0, 0, RAM);
	w64(0x7020 + 8, 0x6000 | PTE_P);                /* PDPTE[1] */
	w64(0x7020 + 16, 0xdead0000ull | (1ull << 63)); /* not present: any bits */
	w64(0x6000, 0x200000 | PTE_P | PTE_W | PTE_PS);
	CU_ASSERT_TRUE(paging_load_pdptes(&pm, c.cr3, c.maxphyaddr, c.pdpte));
	CU_ASSERT_TRUE(xl(&c, 0x40001234, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(pa, 0x201234);
	w64(0x7020 + 8, 0);                             /* memory changes, the register does not */
	CU_ASSERT_TRUE(xl(&c, 0x40001234, ACC_READ, &pa, &err));
	CU_ASSERT_FALSE(xl(&c, 0x1234, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(err, 0);                        /* PDPTE[0] not present */
	static const uint64_t bad[] = { 1ull << 1, 1ull << 5, 1ull << 8, 1ull << 36, 1ull << 63 };
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		uint64_t regs[4] = { 7, 7, 7, 7 };
		w64(0x7020 + 24, 0x6000 | PTE_P | bad[k]);
		CU_ASSERT_FALSE(paging_load_pdptes(&pm, c.cr3, c.maxphyaddr, regs));
		CU_ASSERT_EQUAL(regs[0], 7);            /* nothing loaded */
	}
}

static struct xlate_ctx ctx57(void)
{
	return (struct xlate_ctx){ .cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = 0x1000, .cr4 = CR4_PAE | CR4_LA57,
				   .efer = EFER_LME | EFER_LMA | EFER_NXE, .maxphyaddr = 46,
				   .features = XF_PAGE1GB | XF_PSE36 };
}

/* A 57-bit address: PML5 index 0xab, PD index 1, PT index 4. */
static const uint64_t LA57 = (0xabull << 48) | (0x4ull << 12) | (1ull << 21);

/* 5-level paging (4.5): PML5 at 0x1000, PML4 0x2000, PDPT 0x3000, PD
 * 0x4000, PT 0x5000, page 0x60000. */
static void build_5level(void)
{
	phys_fill(&pm, 0, 0, RAM);
	w64(0x1000 + 0xab * 8, 0x2000 | TBL);
	w64(0x2000, 0x3000 | TBL);
	w64(0x3000, 0x4000 | TBL);
	w64(0x4000 + 8, 0x5000 | TBL);
	w64(0x5000 + 4 * 8, 0x60000 | PTE_P | PTE_W | PTE_U);
}

static void test_5level(void)
{
	struct xlate_ctx c = ctx57();
	uint64_t pa;
	uint32_t err;
	build_5level();
	CU_ASSERT_TRUE(xl(&c, LA57 + 0x10, ACC_WRITE, &pa, &err));
	CU_ASSERT_EQUAL(pa, 0x60010);
	CU_ASSERT(r64(0x1000 + 0xab * 8) & PTE_A);       /* the PML5E gets A */
	CU_ASSERT(r64(0x5000 + 32) & PTE_D);
	w64(0x1000 + 0xab * 8, 0x2000 | TBL | PTE_PS);   /* PS reserved in a PML5E */
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_RSVD);
	w64(0x1000 + 0xab * 8, 0);
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_EXEC, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_I);
	/* The same tables under 4-level paging: CR3 is the PML4. */
	c.cr4 &= ~CR4_LA57;
	c.cr3 = 0x2000;
	CU_ASSERT_TRUE(xl(&c, (1ull << 21) | (4ull << 12), ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(pa, 0x60000);
}

/* Reserved bits per level with MAXPHYADDR and the model's page sizes. */
static void test_reserved_levels(void)
{
	struct xlate_ctx c = ctx57();
	uint64_t pa;
	uint32_t err;
	build_5level();
	w64(0x2000, 0x3000 | TBL | PTE_PS);                              /* PML4E.PS */
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_RSVD);
	w64(0x2000, 0x3000 | TBL);
	w64(0x3000, 0x40000000ull | TBL | PTE_PS | (1ull << 13));       /* 1 GiB page, bit 13 */
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ | ACC_USER, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_U | PFEC_RSVD);
	w64(0x3000, 0x40000000ull | TBL | PTE_PS);
	CU_ASSERT_TRUE(xl(&c, LA57, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(pa, 0x40000000ull + (LA57 & 0x3fffffff));
	c.features = 0;                                                    /* no 1 GiB pages: PS reserved */
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_RSVD);
	c.features = XF_PAGE1GB;
	w64(0x3000, 0x4000 | TBL | (1ull << 46));                          /* address bit >= MAXPHYADDR */
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_RSVD);
	w64(0x3000, 0x4000 | TBL);
	w64(0x4000 + 8, 0x200000 | TBL | PTE_PS | (1ull << 20));          /* 2 MiB page, bit 20 */
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_RSVD);
	c.efer &= ~EFER_NXE;
	w64(0x4000 + 8, 0x5000 | TBL | PTE_NX);                            /* XD reserved without NXE */
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_RSVD);
}

/* Protection keys (4.6.2) and the PK error-code bit (4.7). */
static void test_pkeys(void)
{
	struct xlate_ctx c = ctx57();
	uint64_t pa;
	uint32_t err;
	build_5level();
	w64(0x5000 + 4 * 8, 0x60000 | PTE_P | PTE_W | PTE_U | (5ull << PTE_PKEY_SHIFT));
	c.pkru = 1u << 10;                                                  /* AD5 */
	CU_ASSERT_TRUE(xl(&c, LA57, ACC_READ, &pa, &err));                  /* CR4.PKE = 0: no keys */
	c.cr4 |= CR4_PKE;
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_PK);                             /* supervisor read too */
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ | ACC_USER, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_U | PFEC_PK);
	CU_ASSERT_TRUE(xl(&c, LA57, ACC_EXEC | ACC_USER, &pa, &err));       /* fetches unaffected */
	c.pkru = 2u << 10;                                                  /* WD5 */
	CU_ASSERT_TRUE(xl(&c, LA57, ACC_READ | ACC_USER, &pa, &err));
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_WRITE | ACC_USER, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_W | PFEC_U | PFEC_PK);
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_WRITE, &pa, &err));                /* supervisor, WP = 1 */
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_W | PFEC_PK);
	c.cr0 &= ~CR0_WP;
	CU_ASSERT_TRUE(xl(&c, LA57, ACC_WRITE, &pa, &err));                 /* supervisor, WP = 0 */
	c.pkru = 3u << 10;
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_WRITE, &pa, &err));                /* AD still stops it */
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_W | PFEC_PK);
	/* A supervisor-mode address has no key. */
	w64(0x5000 + 4 * 8, 0x60000 | PTE_P | PTE_W | (5ull << PTE_PKEY_SHIFT));
	CU_ASSERT_TRUE(xl(&c, LA57, ACC_WRITE, &pa, &err));
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ | ACC_USER, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_U);
}

/* SMAP (4.6.1): supervisor data accesses to user-mode addresses need
 * EFLAGS.AC = 1, and implicit ones are refused whatever AC. */
static void test_smap(void)
{
	struct xlate_ctx c = ctx57();
	uint64_t pa;
	uint32_t err;
	build_5level();
	c.cr4 |= CR4_SMAP;
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P);
	c.rflags_ac = 1u << 18;
	CU_ASSERT_TRUE(xl(&c, LA57, ACC_WRITE, &pa, &err));
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_READ | ACC_IMPLICIT, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P);
	c.cr4 |= CR4_SMEP;
	CU_ASSERT_FALSE(xl(&c, LA57, ACC_EXEC, &pa, &err));
	CU_ASSERT_EQUAL(err, PFEC_P | PFEC_I);
}

/* ---- TLB ---- */

static struct tlb tlb;

static struct mem_view view(const struct xlate_ctx *c, bool user)
{
	return (struct mem_view){ &tlb, &pm, c, user, NULL, NULL };
}

static uint64_t rd(const struct xlate_ctx *c, uint64_t la)
{
	struct mem_view v = view(c, false);
	struct xlate_fault f;
	uint64_t x = ~0ull;
	if (!mem_read(&v, la, 8, &x, &f))
		return FAULTED;
	return x;
}

static void test_tlb_stale_and_invlpg(void)
{
	struct xlate_ctx c = ctx57();
	build_5level();
	tlb_flush_all(&tlb);
	w64(0x60000, 0xaaaa);
	w64(0x70000, 0xbbbb);
	w64(0x4000 + 16, 0x0 | PTE_P | PTE_W | PTE_PS);           /* 2 MiB page: la 4 MiB -> pa 0 */
	uint64_t big = (0xabull << 48) | (2ull << 21);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xaaaa);
	rd(&c, big);
	rd(&c, big + 0x5000);
	w64(0x5000 + 4 * 8, 0x70000 | PTE_P | PTE_W | PTE_U);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xaaaa);                      /* stale until INVLPG */
	CU_ASSERT(tlb.has_large);
	tlb_flush_page(&tlb, big + 0x1ff000);                       /* any address in the 2 MiB page */
	struct mem_view v = view(&c, false);
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, big)->tag_r, TLB_INVALID);
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, big + 0x5000)->tag_r, TLB_INVALID);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xaaaa);                      /* the 4 KiB page in the region survives */
	tlb_flush_page(&tlb, LA57 + 0x123);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xbbbb);
}

static void test_tlb_pcid(void)
{
	struct xlate_ctx c = ctx57();
	build_5level();
	tlb_flush_all(&tlb);
	tlb.pcid = 0;
	w64(0x60000, 0xaaaa);
	w64(0x70000, 0xbbbb);
	tlb_switch_pcid(&tlb, 1);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xaaaa);
	w64(0x5000 + 4 * 8, 0x70000 | PTE_P | PTE_W | PTE_U);
	tlb_switch_pcid(&tlb, 2);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xbbbb);                      /* PCID 2: own walk */
	tlb_switch_pcid(&tlb, 1);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xaaaa);                      /* PCID 1's entry came back */
	tlb_flush_page_pcid(&tlb, LA57, 2);                         /* INVPCID 0 of another PCID */
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xaaaa);
	tlb_flush_pcid(&tlb, 1);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xbbbb);
	/* Global entries are live in every PCID and survive non-global flushes. */
	w64(0x5000 + 4 * 8, 0x60000 | PTE_P | PTE_W | PTE_U | PTE_G);
	c.cr4 |= CR4_PGE;
	tlb_flush_all(&tlb);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xaaaa);
	w64(0x5000 + 4 * 8, 0x70000 | PTE_P | PTE_W | PTE_U);
	tlb_switch_pcid(&tlb, 3);
	tlb_flush_pcid(&tlb, 3);
	tlb_flush_nonglobal(&tlb);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xaaaa);
	tlb_flush_page_pcid(&tlb, LA57, 3);                         /* type 0 spares global entries */
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xaaaa);
	tlb_flush_page(&tlb, LA57);                                 /* INVLPG does not */
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xbbbb);
	tlb_switch_pcid(&tlb, 0);
}

/* A WRPKRU that changes a key's rights drops the cached data permissions
 * of that key's pages only. */
static void test_tlb_pkru(void)
{
	struct xlate_ctx c = ctx57();
	build_5level();
	tlb_flush_all(&tlb);
	c.cr4 |= CR4_PKE;
	w64(0x5000 + 4 * 8, 0x60000 | PTE_P | PTE_W | PTE_U | PTE_D | (5ull << PTE_PKEY_SHIFT));
	w64(0x60000, 0xaaaa);
	CU_ASSERT_EQUAL(rd(&c, LA57), 0xaaaa);
	struct mem_view v = view(&c, false);
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, LA57)->pkey, 5);
	tlb_pkru_changed(&tlb, 0, 1u << 2);                         /* key 1: no effect */
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, LA57)->tag_r, LA57);
	c.pkru = 1u << 10;
	tlb_pkru_changed(&tlb, 0, c.pkru);
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, LA57)->tag_r, TLB_INVALID);
	CU_ASSERT_EQUAL(rd(&c, LA57), FAULTED);                   /* now faults */
}

static int init(void) { return phys_init(&pm, RAM); }
static int fini(void) { phys_destroy(&pm); return 0; }

void suite_mem_walks(void)
{
	CU_pSuite s = CU_add_suite("mem_walks", init, fini);
	CU_add_test(s, "32-bit paging: PSE-36 and its reserved bits", test_pse36);
	CU_add_test(s, "PAE: PDPTE registers and their reserved bits", test_pae_pdptes);
	CU_add_test(s, "5-level paging walk", test_5level);
	CU_add_test(s, "reserved bits at each level", test_reserved_levels);
	CU_add_test(s, "protection keys and PFEC.PK", test_pkeys);
	CU_add_test(s, "SMAP and SMEP", test_smap);
	CU_add_test(s, "TLB: stale until INVLPG, exact large-page INVLPG", test_tlb_stale_and_invlpg);
	CU_add_test(s, "TLB: PCID tags, spill, global entries", test_tlb_pcid);
	CU_add_test(s, "TLB: PKRU changes", test_tlb_pkru);
}
