/* tlb: the TLB keeps exactly the staleness SDM vol. 3A 4.10 allows.
 * A translation cached before a PTE change stays in use until INVLPG
 * (4.10.4.3); a page fault drops the faulting page's entry (4.10.4.1);
 * global translations survive MOV to CR3 but not a CR4.PGE change; with
 * CR4.PCIDE, translations are kept per PCID across MOV to CR3 with bit 63
 * set, INVLPG reaches only the current PCID (and global entries), and
 * INVPCID types 0-3 drop what they name (vol. 2 INVPCID). */
#include "guest.h"

#define PTE_P   (1ul << 0)
#define PTE_W   (1ul << 1)
#define PTE_G   (1ul << 8)
#define PT_TABLE (PTE_P | PTE_W)
#define CR4_PCIDE (1ul << 17)
#define CR3_NOFLUSH (1ul << 63)

/* The test's region: PML4 index 0x1b3 (upper half), PDPT 0x17, PD 0x21:
 * TLB slots (bits 21:12 of the address) 512 + slot, apart from the
 * kernel's pages at 1 MiB. */
#define L4 0x1b3ul
#define L3 0x017ul
#define L2 0x021ul

enum { SLOT_STALE, SLOT_PF, SLOT_GLOBAL, SLOT_LOCAL, SLOT_PCID, SLOT_PCID2, NSLOTS };

#define PAGE __attribute__((aligned(4096)))
static uint64_t pml4[512] PAGE, pdpt[512] PAGE, pd[512] PAGE, pt[512] PAGE;
static uint8_t page_a[4096] PAGE, page_b[4096] PAGE;
static volatile uint64_t sink;


static volatile uint64_t *va_of(unsigned slot)
{
	return (volatile uint64_t *)(0xffff000000000000ul | L4 << 39 | L3 << 30 | L2 << 21 |
				     (uint64_t)slot << 12);
}

static void map(unsigned slot, void *page, uint64_t flags)
{
	pt[slot] = (uint64_t)page | PTE_P | PTE_W | flags;
}

static void build_tables(void)
{
	pml4[0] = boot_pml4[0];                 /* keep the identity map */
	pml4[L4] = (uint64_t)pdpt | PT_TABLE;
	pdpt[L3] = (uint64_t)pd | PT_TABLE;
	pd[L2] = (uint64_t)pt | PT_TABLE;
	*(volatile uint64_t *)page_a = 0xaaaa;
	*(volatile uint64_t *)page_b = 0xbbbb;
	write_cr3((uint64_t)pml4);
}

static void read_at(void *va)
{
	sink = *(volatile uint64_t *)va;
}

static void write_at(void *va)
{
	*(volatile uint64_t *)va = 0x5a5a;
}

/* A changed PTE is not used until INVLPG: the old translation was cached. */
static void check_stale_until_invlpg(void)
{
	volatile uint64_t *va = va_of(SLOT_STALE);

	map(SLOT_STALE, page_a, 0);
	invlpg(va);
	report_eq(*va, 0xaaaa, "slot maps page A");
	map(SLOT_STALE, page_b, 0);
	report_eq(*va, 0xaaaa, "PTE changed to page B without INVLPG: the stale translation still reads A");
	invlpg(va);
	report_eq(*va, 0xbbbb, "after INVLPG the slot reads B");
	pt[SLOT_STALE] = 0;
	report_eq(*va, 0xbbbb, "PTE cleared without INVLPG: the cached translation still works");
	invlpg(va);
	struct fault f;
	bool raised = catch_fault(read_at, (void *)va, &f);
	report(raised && f.vector == VEC_PF && f.error_code == 0 && f.cr2 == (uint64_t)va,
	       "after INVLPG the cleared PTE faults (#PF, error 0)");
}

/* A #PF invalidates the TLB entries for the faulting page (4.10.4.1), so
 * the retry after a PTE fix sees the fix without INVLPG. */
static void check_fault_invalidates(void)
{
	volatile uint64_t *va = va_of(SLOT_PF);
	struct fault f;

	map(SLOT_PF, page_a, 0);
	invlpg(va);
	report_eq(*va, 0xaaaa, "#PF slot maps page A (now cached)");
	pt[SLOT_PF] = (uint64_t)page_a | PTE_P;   /* read-only: a write walks and faults */
	bool raised = catch_fault(write_at, (void *)va, &f);
	report(raised && f.vector == VEC_PF && f.error_code == 3 && f.cr2 == (uint64_t)va,
	       "write to the now read-only PTE faults with P|W");
	map(SLOT_PF, page_b, 0);
	report_eq(*va, 0xbbbb, "the #PF dropped the cached translation: the new PTE (B) is used without INVLPG");
}

/* Global translations survive MOV to CR3, not a CR4.PGE toggle, not
 * INVLPG (4.10.2.4, 4.10.4.1). */
static void check_global(void)
{
	volatile uint64_t *g = va_of(SLOT_GLOBAL), *l = va_of(SLOT_LOCAL);
	uint64_t cr4 = read_cr4();

	write_cr4(cr4 | CR4_PGE);
	map(SLOT_GLOBAL, page_a, PTE_G);
	map(SLOT_LOCAL, page_a, 0);
	invlpg(g);
	invlpg(l);
	report(*g == 0xaaaa && *l == 0xaaaa, "global and non-global slots map page A");
	map(SLOT_GLOBAL, page_b, PTE_G);
	map(SLOT_LOCAL, page_b, 0);
	write_cr3(read_cr3());
	report_eq(*l, 0xbbbb, "MOV to CR3 drops the non-global translation");
	report_eq(*g, 0xaaaa, "MOV to CR3 keeps the global translation (still reads A)");
	write_cr4(cr4 & ~CR4_PGE);
	write_cr4(cr4 | CR4_PGE);
	report_eq(*g, 0xbbbb, "toggling CR4.PGE drops the global translation");
	map(SLOT_GLOBAL, page_a, PTE_G);
	report_eq(*g, 0xbbbb, "global translation cached again (stale B)");
	invlpg(g);
	report_eq(*g, 0xaaaa, "INVLPG drops a global translation");
	write_cr4(cr4);
}

static bool pcid_supported(void)
{
	return (cpuid(1, 0).c >> 17) & 1;
}

/* Translations are kept per PCID (4.10.1): MOV to CR3 with bit 63 set
 * keeps them, INVLPG reaches only the current PCID. */
static void check_pcid(void)
{
	volatile uint64_t *va = va_of(SLOT_PCID);
	uint64_t cr3 = (uint64_t)pml4;

	write_cr4(read_cr4() | CR4_PCIDE);
	write_cr3(cr3 | 1);
	map(SLOT_PCID, page_a, 0);
	report_eq(*va, 0xaaaa, "PCID 1: slot reads A (cached for PCID 1)");
	map(SLOT_PCID, page_b, 0);
	write_cr3(cr3 | 2 | CR3_NOFLUSH);
	report_eq(*va, 0xbbbb, "PCID 2: a fresh walk reads B");
	write_cr3(cr3 | 1 | CR3_NOFLUSH);
	report_eq(*va, 0xaaaa, "back to PCID 1 with bit 63 set: the retained translation reads A");
	write_cr3(cr3 | 2 | CR3_NOFLUSH);
	invlpg(va);
	write_cr3(cr3 | 1 | CR3_NOFLUSH);
	report_eq(*va, 0xaaaa, "INVLPG under PCID 2 leaves PCID 1's translation (A)");
	write_cr3(cr3 | 1);
	report_eq(*va, 0xbbbb, "MOV to CR3 without bit 63 drops PCID 1's translations (B)");
	report_eq(read_cr3(), cr3 | 1, "CR3 reads back without bit 63");
}

struct invpcid_desc {
	uint64_t pcid;
	uint64_t la;
};

static void invpcid(uint64_t type, uint64_t pcid, const volatile void *la)
{
	struct invpcid_desc d = { pcid, (uint64_t)la };
	asm volatile("invpcid %0, %1" : : "m"(d), "r"(type) : "memory");
}

/* Cache A for `slot` under PCID 1 and 3, global A for SLOT_GLOBAL, then
 * point all PTEs at B and return to PCID 2 (nothing cached). */
static void prime(void)
{
	uint64_t cr3 = (uint64_t)pml4;
	map(SLOT_PCID, page_a, 0);
	map(SLOT_PCID2, page_a, 0);
	map(SLOT_GLOBAL, page_a, PTE_G);
	invlpg(va_of(SLOT_GLOBAL));
	for (uint64_t p = 1; p <= 3; p += 2) {
		write_cr3(cr3 | p);
		sink = *va_of(SLOT_PCID) + *va_of(SLOT_PCID2) + *va_of(SLOT_GLOBAL);
	}
	map(SLOT_PCID, page_b, 0);
	map(SLOT_PCID2, page_b, 0);
	map(SLOT_GLOBAL, page_b, PTE_G);
	write_cr3(cr3 | 2);
}

/* Reads slot under PCID p (bit 63 set: nothing dropped). */
static uint64_t read_in(uint64_t p, unsigned slot)
{
	write_cr3((uint64_t)pml4 | p | CR3_NOFLUSH);
	uint64_t v = *va_of(slot);
	write_cr3((uint64_t)pml4 | 2 | CR3_NOFLUSH);
	return v;
}

struct invpcid_args {
	uint64_t type, pcid, la;
};

static void invpcid_body(void *arg)
{
	struct invpcid_args *a = arg;
	invpcid(a->type, a->pcid, (const void *)a->la);
}

static void expect_invpcid_gp(uint64_t type, uint64_t pcid, uint64_t la, const char *what)
{
	struct invpcid_args a = { type, pcid, la };
	struct fault f;
	bool raised = catch_fault(invpcid_body, &a, &f);
	report(raised && f.vector == VEC_GP && f.error_code == 0, "INVPCID %s: #GP(0)", what);
}

static void check_invpcid(void)
{
	uint64_t cr4 = read_cr4(), cr3 = (uint64_t)pml4;

	write_cr4(cr4 | CR4_PGE);
	prime();
	invpcid(0, 1, va_of(SLOT_PCID));
	report(read_in(1, SLOT_PCID) == 0xbbbb && read_in(1, SLOT_PCID2) == 0xaaaa &&
	       read_in(3, SLOT_PCID) == 0xaaaa && read_in(1, SLOT_GLOBAL) == 0xaaaa,
	       "INVPCID type 0 drops one page of one PCID only");
	prime();
	invpcid(1, 1, 0);
	report(read_in(1, SLOT_PCID) == 0xbbbb && read_in(1, SLOT_PCID2) == 0xbbbb &&
	       read_in(3, SLOT_PCID) == 0xaaaa && read_in(1, SLOT_GLOBAL) == 0xaaaa,
	       "INVPCID type 1 drops one PCID's non-global translations");
	prime();
	invpcid(3, 0, 0);
	report(read_in(1, SLOT_PCID) == 0xbbbb && read_in(3, SLOT_PCID2) == 0xbbbb &&
	       read_in(3, SLOT_GLOBAL) == 0xaaaa,
	       "INVPCID type 3 drops every non-global translation, keeps global ones");
	prime();
	invpcid(2, 0, 0);
	report(read_in(1, SLOT_PCID) == 0xbbbb && read_in(3, SLOT_GLOBAL) == 0xbbbb,
	       "INVPCID type 2 drops global translations too");

	expect_invpcid_gp(4, 0, 0, "type 4");
	expect_invpcid_gp(1, 1ul << 12, 0, "reserved descriptor bit 12");
	expect_invpcid_gp(0, 1, 0x0100000000000000ul, "type 0 with a non-canonical address");
	write_cr3(cr3);
	write_cr4(cr4 & ~CR4_PCIDE);
	expect_invpcid_gp(1, 1, 0, "type 1, PCID 1 with CR4.PCIDE = 0");
	invpcid(1, 0, 0);
	report(true, "INVPCID type 1, PCID 0 with CR4.PCIDE = 0 is allowed");
	write_cr4(cr4);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	uint64_t cr0 = read_cr0(), cr3 = read_cr3(), cr4 = read_cr4();

	(void)magic;
	(void)mbinfo;
	write_cr0(cr0 | CR0_WP);        /* ring-0 writes honour read-only PTEs */
	build_tables();
	check_stale_until_invlpg();
	check_fault_invalidates();
	check_global();
	if (pcid_supported()) {
		check_pcid();
		if ((cpuid(7, 0).b >> 10) & 1)
			check_invpcid();
		else
			report_skip("no INVPCID");
		write_cr3((uint64_t)pml4);
		write_cr4(read_cr4() & ~CR4_PCIDE);
	} else {
		report_skip("no PCID");
	}
	write_cr4(cr4);
	write_cr3(cr3);
	write_cr0(cr0);
	report_summary();
}
