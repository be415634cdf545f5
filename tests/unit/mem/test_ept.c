/* The EPT walk (mem/ept.c; SDM vol. 3C 29.3): translation through 4 KiB,
 * 2 MiB and 1 GiB leaves, the misconfiguration list (29.3.3.1), the
 * violation qualification (Table 28-7), A/D flags and the guest-physical
 * mappings cache (29.4). */
#include <CUnit/CUnit.h>

#include "mem/ept.h"
#include "mem/paging.h"

#define RAM (2u << 20)
#define PML4 0x1000ull
#define PDPT 0x2000ull
#define PD 0x3000ull
#define PT 0x4000ull
#define EPTP (PML4 | 3ull << 3 | 6)

static struct phys_map pm;
static struct ept_cache cache;

static void w64(uint64_t pa, uint64_t v) { phys_copy_in(&pm, pa, &v, 8); }
static uint64_t r64(uint64_t pa) { uint64_t v = 0; phys_copy_out(&pm, pa, &v, 8); return v; }

/* gpa 0x5000 -> hpa 0x80000 through PML4[0] PDPT[0] PD[0] PT[5]. */
static struct xlate_ctx build(uint64_t pte, uint8_t flags)
{
	phys_fill(&pm, 0, 0, RAM);
	ept_cache_flush_all(&cache);
	w64(PML4, PDPT | 7);
	w64(PDPT, PD | 7);
	w64(PD, PT | 7);
	w64(PT + 5 * 8, pte);
	return (struct xlate_ctx){ .eptp = EPTP, .ept_flags = flags, .ept = &cache, .maxphyaddr = 39 };
}

static bool xl(const struct xlate_ctx *c, uint64_t gpa, uint8_t type, struct ept_result *r, struct xlate_fault *f)
{
	struct ept_access a = { .type = type, .linear_valid = true, .final = true, .linear = 0x1234,
				.gla_bits = EPT_QUAL_GLA_USER };
	return ept_translate(&pm, c, gpa, &a, r, f);
}

static void test_translate_4k(void)
{
	struct ept_result r;
	struct xlate_fault f;
	struct xlate_ctx c = build(0x80000 | 7 | 6 << 3, EPTF_EXEC_ONLY);
	CU_ASSERT_TRUE(xl(&c, 0x5abc, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.hpa, 0x80abc);
	CU_ASSERT_EQUAL(r.perm, 7);
	CU_ASSERT_EQUAL(r.memtype, 6);
	CU_ASSERT_EQUAL(r64(PML4) & EPTE_A, 0);         /* A/D off: untouched */
}

/* 5-level EPT (EPTP bits 5:3 = 4): a PML5 table above the PML4. */
static void test_5level(void)
{
	struct ept_result r;
	struct xlate_fault f;
	struct xlate_ctx c = build(0x80000 | 7 | 6 << 3, 0);
	w64(0x6000, PML4 | 7);
	c.eptp = 0x6000 | 4ull << 3 | 6;
	CU_ASSERT_TRUE(xl(&c, 0x5008, EPT_ACC_WRITE, &r, &f));
	CU_ASSERT_EQUAL(r.hpa, 0x80008);
	w64(0x6000, PML4 | 7 | 1ull << 7);      /* bit 7 of a PML5E is reserved */
	ept_cache_flush_all(&cache);
	CU_ASSERT_FALSE(xl(&c, 0x5008, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(f.kind, XLATE_EPT_MISCONFIG);
}

static void test_misconfig_list(void)
{
	static const struct { uint64_t pte; uint8_t flags; bool bad; } rows[] = {
		{ 0x80000 | 2 | 6 << 3, EPTF_EXEC_ONLY, true },        /* W without R */
		{ 0x80000 | 6 | 6 << 3, EPTF_EXEC_ONLY, true },        /* WX without R */
		{ 0x80000 | 4 | 6 << 3, 0, true },                     /* X-only, no capability */
		{ 0x80000 | 4 | 6 << 3, EPTF_EXEC_ONLY, false },       /* X-only with it */
		{ 0x80000 | 1 | 2 << 3, 0, true },                     /* memory type 2 */
		{ 0x80000 | 1 | 3 << 3, 0, true },                     /* 3 */
		{ 0x80000 | 1 | 7 << 3, 0, true },                     /* 7 */
		{ 0x80000 | 1 | 1ull << 39, 0, true },                 /* bit 39 >= MAXPHYADDR */
		{ 0x80000 | 1 | 1ull << 7 | 1ull << 62, 0, false },    /* bit 7 and 63:52 ignored in a PTE */
		{ 0x80000 | EPTE_UX, EPTF_MBEC, true },                /* UX-only with MBEC: present, no R, no exec-only */
	};
	for (unsigned k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		struct ept_result r;
		struct xlate_fault f = { 0 };
		struct xlate_ctx c = build(rows[k].pte, rows[k].flags);
		bool ok = xl(&c, 0x5000, EPT_ACC_FETCH, &r, &f);
		CU_ASSERT_EQUAL(!ok && f.kind == XLATE_EPT_MISCONFIG, rows[k].bad);
		if (rows[k].bad)
			CU_ASSERT_EQUAL(f.gpa, 0x5000);
	}
	/* Bit 7 in a PML4E; bit 3 in a non-leaf PDE. */
	struct ept_result r;
	struct xlate_fault f;
	struct xlate_ctx c = build(0x80000 | 7, 0);
	w64(PML4, PDPT | 7 | 1ull << 7);
	CU_ASSERT_FALSE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(f.kind, XLATE_EPT_MISCONFIG);
	c = build(0x80000 | 7, 0);
	w64(PD, PT | 7 | 1ull << 3);
	CU_ASSERT_FALSE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(f.kind, XLATE_EPT_MISCONFIG);
	/* A 2 MiB leaf without the capability: bit 7 is reserved. */
	c = build(0x80000 | 7, 0);
	w64(PD, 0x200000 | 7 | 6 << 3 | EPTE_LARGE);
	CU_ASSERT_FALSE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(f.kind, XLATE_EPT_MISCONFIG);
	c.ept_flags = EPTF_2M;
	CU_ASSERT_TRUE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.hpa, 0x205000);
}

static void test_violation_qual(void)
{
	struct ept_result r;
	struct xlate_fault f;
	struct xlate_ctx c = build(0x80000 | 1 | 6 << 3, EPTF_ADV_INFO);
	w64(PD, PT | 5);        /* R-X non-leaf: the AND keeps R */
	CU_ASSERT_FALSE(xl(&c, 0x5010, EPT_ACC_WRITE, &r, &f));
	CU_ASSERT_EQUAL(f.kind, XLATE_EPT_VIOLATION);
	CU_ASSERT_EQUAL(f.qual, EPT_QUAL_WRITE | EPT_QUAL_READABLE | EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_FINAL |
				EPT_QUAL_GLA_USER);
	CU_ASSERT_EQUAL(f.gpa, 0x5010);
	CU_ASSERT_EQUAL(f.linear, 0x1234);
	c.ept_flags = 0;        /* no advanced information: bits 9-11 clear */
	CU_ASSERT_FALSE(xl(&c, 0x5010, EPT_ACC_FETCH, &r, &f));
	CU_ASSERT_EQUAL(f.qual, EPT_QUAL_FETCH | EPT_QUAL_READABLE | EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_FINAL);
	/* Not present: permissions 0. */
	c = build(0, 0);
	CU_ASSERT_FALSE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(f.qual, EPT_QUAL_READ | EPT_QUAL_GLA_VALID | EPT_QUAL_GLA_FINAL);
}

static void test_ad_and_cache(void)
{
	struct ept_result r;
	struct xlate_fault f;
	struct xlate_ctx c = build(0x80000 | 7 | 6 << 3, 0);
	c.eptp |= 1ull << 6;
	CU_ASSERT_TRUE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r64(PML4) & EPTE_A, EPTE_A);
	CU_ASSERT_EQUAL(r64(PT + 5 * 8) & (EPTE_A | EPTE_D), EPTE_A);
	CU_ASSERT_TRUE(xl(&c, 0x5000, EPT_ACC_WRITE, &r, &f));      /* a cached clean mapping walks for D */
	CU_ASSERT_EQUAL(r64(PT + 5 * 8) & EPTE_D, EPTE_D);
	/* The cache: a remap is not seen until the EP4TA is flushed. */
	w64(PT + 5 * 8, 0x90000 | 7 | 6 << 3);
	CU_ASSERT_TRUE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.hpa, 0x80000);
	ept_cache_flush_ep4ta(&cache, 0x7000);
	CU_ASSERT_TRUE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.hpa, 0x80000);
	ept_cache_flush_ep4ta(&cache, ept_ep4ta(c.eptp));
	CU_ASSERT_TRUE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.hpa, 0x90000);
	/* A violation is never cached; a mapping that does not allow the
	 * access is walked again. */
	w64(PT + 5 * 8, 0);
	ept_cache_flush_all(&cache);
	CU_ASSERT_FALSE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	w64(PT + 5 * 8, 0x90000 | 7 | 6 << 3);
	CU_ASSERT_TRUE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
}

/* Page-modification logging (28.2.5): with EPTF_PML and EPT A/D, each D
 * flag set logs the 4-KiB gpa at PML address + 8 * index and decrements
 * the index; an index outside 0-511 when any A/D flag must be set is a
 * log-full event (nothing set, nothing logged). */
#define PML_LOG 0x8000ull
#define PML_INDEX_PA 0x9010ull
static void test_pml(void)
{
	struct ept_result r;
	struct xlate_fault f;
	struct xlate_ctx c = build(0x80000 | 7 | 6 << 3, EPTF_PML);
	c.eptp |= 1ull << 6;
	c.pml_addr = PML_LOG;
	c.pml_index_pa = PML_INDEX_PA;
	w64(PML_INDEX_PA, 1);
	CU_ASSERT_TRUE(xl(&c, 0x5abc, EPT_ACC_READ, &r, &f));  /* A only: nothing logged */
	CU_ASSERT_EQUAL(r64(PML_INDEX_PA), 1);
	CU_ASSERT_TRUE(xl(&c, 0x5abc, EPT_ACC_WRITE, &r, &f));
	CU_ASSERT_EQUAL(r64(PML_LOG + 8), 0x5000);
	CU_ASSERT_EQUAL(r64(PML_INDEX_PA), 0);
	CU_ASSERT_TRUE(xl(&c, 0x5abc, EPT_ACC_WRITE, &r, &f));  /* already dirty */
	CU_ASSERT_EQUAL(r64(PML_INDEX_PA), 0);
	w64(PT + 6 * 8, 0x81000 | 7 | 6 << 3);
	CU_ASSERT_TRUE(xl(&c, 0x6008, EPT_ACC_WRITE, &r, &f));  /* a walk that sets A and D: one entry */
	CU_ASSERT_EQUAL(r64(PML_LOG), 0x6000);
	CU_ASSERT_EQUAL(r64(PML_INDEX_PA), 0xffff);             /* only the 16-bit field changes */
	w64(PT + 7 * 8, 0x82000 | 7 | 6 << 3);
	CU_ASSERT_FALSE(xl(&c, 0x7000, EPT_ACC_READ, &r, &f));  /* an A flag to set: log-full */
	CU_ASSERT_EQUAL(f.kind, XLATE_PML_FULL);
	CU_ASSERT_EQUAL(r64(PT + 7 * 8) & EPTE_A, 0);
	CU_ASSERT_TRUE(xl(&c, 0x5000, EPT_ACC_WRITE, &r, &f));  /* no flag to set: allowed while full */
	c.ept_flags = 0;
	CU_ASSERT_TRUE(xl(&c, 0x7000, EPT_ACC_WRITE, &r, &f));  /* PML off: no index check */
	CU_ASSERT_EQUAL(r64(PML_INDEX_PA), 0xffff);
}

/* 25.5.6.1: the suppress-#VE bit of the entry that decided the violation:
 * the not-present entry at any level, or the leaf. */
static void test_suppress_ve(void)
{
	struct ept_result r;
	struct xlate_fault f;
	struct xlate_ctx c = build(0x80000 | 1 | 6 << 3 | EPTE_SVE, 0);
	CU_ASSERT_FALSE(xl(&c, 0x5000, EPT_ACC_WRITE, &r, &f));
	CU_ASSERT_TRUE(f.ve_suppress);
	w64(PT + 5 * 8, 0x80000 | 1 | 6 << 3);
	CU_ASSERT_FALSE(xl(&c, 0x5000, EPT_ACC_WRITE, &r, &f));
	CU_ASSERT_FALSE(f.ve_suppress);
	w64(PD, EPTE_SVE);                      /* not present, bit 63 set, above the leaf */
	CU_ASSERT_FALSE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_TRUE(f.ve_suppress);
	w64(PD, PT | 7 | EPTE_SVE);             /* bit 63 of a non-leaf entry is not used */
	w64(PT + 5 * 8, 0);
	CU_ASSERT_FALSE(xl(&c, 0x5000, EPT_ACC_READ, &r, &f));
	CU_ASSERT_FALSE(f.ve_suppress);
}

static int init(void) { return phys_init(&pm, RAM); }
static int fini(void) { phys_destroy(&pm); return 0; }

void suite_mem_ept(void)
{
	CU_pSuite s = CU_add_suite("mem_ept", init, fini);
	CU_add_test(s, "4 KiB translation", test_translate_4k);
	CU_add_test(s, "5-level walk", test_5level);
	CU_add_test(s, "misconfiguration list (29.3.3.1)", test_misconfig_list);
	CU_add_test(s, "violation qualification (Table 28-7)", test_violation_qual);
	CU_add_test(s, "A/D flags and the guest-physical mappings cache", test_ad_and_cache);
	CU_add_test(s, "page-modification logging and log-full (28.2.5)", test_pml);
	CU_add_test(s, "suppress #VE of the deciding entry (25.5.6.1)", test_suppress_ve);
}
