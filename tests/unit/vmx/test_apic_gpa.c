/* The APIC-access page reached by guest-physical accesses and through
 * stale TLB entries (SDM vol. 3C, the edition whose VM-exit chapter is 27
 * and APIC virtualization chapter 29): the qualification of an exit from
 * a guest-physical access (Table 27-6, 29.4.6.1), the walk's check of
 * paging-structure reads and PDPTE loads under EPT (mem/paging.c), and
 * tlb_drop_page_pa (29.4.1). Expected values are the SDM's. */
#include <CUnit/CUnit.h>

#include "mem/access.h"
#include "mem/ept.h"
#include "mem/paging.h"
#include "vmx/apicv.h"

#define RAM (2u << 20)
#define EPT_PML4 0x10000u
#define LA 0x7f8000003000ull    /* PML4[255] at 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000 -> 0x50000 */

static struct phys_map pm;
static struct phys_trap trap = { .page = UINT64_MAX };

static void w64(uint64_t pa, uint64_t v) { phys_copy_in(&pm, pa, &v, 8); }

/* Guest tables for LA, and an EPT mapping the first 2 MiB identically. */
static struct xlate_ctx build(bool ept)
{
	phys_fill(&pm, 0, 0, RAM);
	w64(0x1000 + 255 * 8, 0x2000 | PTE_P | PTE_W);
	w64(0x2000, 0x3000 | PTE_P | PTE_W);
	w64(0x3000, 0x4000 | PTE_P | PTE_W);
	w64(0x4000 + 3 * 8, 0x50000 | PTE_P | PTE_W);
	w64(EPT_PML4, (EPT_PML4 + 0x1000) | 7);
	w64(EPT_PML4 + 0x1000, (EPT_PML4 + 0x2000) | 7);
	w64(EPT_PML4 + 0x2000, 0 | 7 | 6u << 3 | EPTE_LARGE);
	return (struct xlate_ctx){ .cr0 = CR0_PE | CR0_PG, .cr3 = 0x1000, .cr4 = CR4_PAE,
				   .efer = EFER_LME | EFER_LMA, .maxphyaddr = 39,
				   .eptp = ept ? EPT_PML4 | 3u << 3 | 6 : 0, .ept_flags = EPTF_2M, .gpa_trap = &trap };
}

/* Table 27-6: type 10 during event delivery, 15 otherwise; bits 11:0 are
 * undefined for these, vtxsim stores the page offset of the address. */
static void test_gpa_qual(void)
{
	CU_ASSERT_EQUAL(vmx_apic_gpa_qual(0xc0001028ull, false), 0xf028);
	CU_ASSERT_EQUAL(vmx_apic_gpa_qual(0xc0001028ull, true), 0xa028);
	CU_ASSERT_EQUAL(vmx_apic_gpa_qual(0x3000, false) >> 16, 0);
}

/* 29.4.6.1: a guest paging-structure read whose EPT translation is the
 * APIC-access page fails; without EPT (29.4.6.2, physical access) and for
 * the final translation (a linear access, mem/access.c decides) it does
 * not. */
static void test_walk(void)
{
	struct xlate_result r;
	struct xlate_fault f;
	phys_init(&pm, RAM);
	struct xlate_ctx c = build(true);
	trap.page = 0x3000;                     /* the page directory */
	CU_ASSERT_FALSE(paging_translate(&pm, &c, LA + 0x18, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(f.kind, XLATE_APIC_ACCESS_GPA);
	CU_ASSERT_EQUAL(f.gpa, 0x3000);         /* PDE 0 of the PD */
	CU_ASSERT_FALSE(f.linear_valid);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x2000, 8) & PTE_A, 0);  /* the walk stopped there: no A flags */
	trap.page = 0x50000;                    /* the final page: a linear access */
	CU_ASSERT_TRUE(paging_translate(&pm, &c, LA + 0x18, ACC_READ, &r, &f));
	CU_ASSERT_EQUAL(r.pa, 0x50018);
	c = build(false);
	trap.page = 0x3000;
	CU_ASSERT_TRUE(paging_translate(&pm, &c, LA, ACC_READ, &r, &f));
	/* PDPTE load by MOV to CR (PAE) through EPT: the 32-byte table. */
	c = build(true);
	uint64_t pdpte[4];
	trap.page = 0x7000;
	CU_ASSERT_EQUAL(paging_load_pdptes_ctx(&pm, &c, 0x7020, pdpte, &f), PDPTE_EPT_FAULT);
	CU_ASSERT_EQUAL(f.kind, XLATE_APIC_ACCESS_GPA);
	CU_ASSERT_EQUAL(f.gpa, 0x7020);
	trap.page = UINT64_MAX;
	CU_ASSERT_EQUAL(paging_load_pdptes_ctx(&pm, &c, 0x7020, pdpte, &f), PDPTE_OK);
	phys_destroy(&pm);
}

/* 29.4.1: an entry cached for the page goes, one for another page stays. */
static void test_tlb_drop(void)
{
	struct tlb t = { 0 };
	struct xlate_fault f;
	uint64_t pa;
	phys_init(&pm, RAM);
	struct xlate_ctx c = build(false);
	w64(0x4000 + 4 * 8, 0x51000 | PTE_P | PTE_W);
	tlb_flush_all(&t);
	struct mem_view v = { &t, &pm, &c, 0, NULL, NULL };
	CU_ASSERT_TRUE(mem_translate(&v, LA, ACC_READ, &pa, &f));
	CU_ASSERT_TRUE(mem_translate(&v, LA + 0x1000, ACC_READ, &pa, &f));
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, LA)->tag_r, LA);
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, LA + 0x1000)->tag_r, LA + 0x1000);
	tlb_drop_page_pa(&t, 0x50abc);
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, LA)->tag_r, TLB_INVALID);
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, LA)->tag_x, TLB_INVALID);
	CU_ASSERT_EQUAL(mem_tlb_entry(&v, LA + 0x1000)->tag_r, LA + 0x1000);
	phys_destroy(&pm);
}

void suite_vmx_apic_gpa(void);
void suite_vmx_apic_gpa(void)
{
	CU_pSuite s = CU_add_suite("vmx_apic_gpa", NULL, NULL);
	CU_add_test(s, "guest-physical APIC-access qualification (Table 27-6)", test_gpa_qual);
	CU_add_test(s, "paging-structure reads and PDPTE loads on the APIC-access page (29.4.6)", test_walk);
	CU_add_test(s, "TLB entries of the APIC-access page dropped (29.4.1)", test_tlb_drop);
}
