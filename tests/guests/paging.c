/* paging: 4-level paging built by the test (SDM Vol. 3A, chapter 5
 * "Paging", 5.5 "4-Level Paging"): translations at a high address, accessed
 * and dirty flags (5.8), page-fault error codes and CR2 (5.7), write
 * protection with CR0.WP, execute-disable, reserved bits, large pages, and
 * INVLPG / CR3 loads invalidating the TLB (5.10.4). */
#include "guest.h"

#define PTE_P   (1ul << 0)
#define PTE_W   (1ul << 1)
#define PTE_A   (1ul << 5)
#define PTE_D   (1ul << 6)
#define PTE_PS  (1ul << 7)
#define PTE_XD  (1ul << 63)
#define PT_TABLE (PTE_P | PTE_W)

#define PF_P    (1ul << 0)
#define PF_W    (1ul << 1)
#define PF_RSVD (1ul << 3)
#define PF_ID   (1ul << 4)

/* The test's region: PML4 index 0x1a5 (upper half), PDPT 0xc3, PD 0x55. */
#define L4 0x1a5ul
#define L3 0x0c3ul
#define L2 0x055ul

enum { SLOT_RW, SLOT_RO, SLOT_ABSENT, SLOT_SWAP, SLOT_CODE, SLOT_RSVD };

#define PAGE __attribute__((aligned(4096)))
static uint64_t pml4[512] PAGE, pdpt[512] PAGE, pd[512] PAGE, pt[512] PAGE, pt_ro_dir[512] PAGE;
static uint8_t page_a[4096] PAGE, page_b[4096] PAGE, page_ro[4096] PAGE, page_code[4096] PAGE;
static volatile uint64_t sink;


static uint64_t canonical(uint64_t va)
{
	return va & (1ul << 47) ? va | 0xffff000000000000ul : va;
}

static volatile uint64_t *va_of(unsigned l2, unsigned slot)
{
	return (volatile uint64_t *)canonical(L4 << 39 | L3 << 30 | (uint64_t)l2 << 21 |
					      (uint64_t)slot << 12);
}

static void build_tables(void)
{
	pml4[0] = boot_pml4[0];                 /* keep the identity map */
	pml4[L4] = (uint64_t)pdpt | PT_TABLE;
	pdpt[L3] = (uint64_t)pd | PT_TABLE;
	pd[L2] = (uint64_t)pt | PT_TABLE;
	pd[L2 + 1] = (uint64_t)pt_ro_dir | PTE_P;       /* read-only directory */
	pt[SLOT_RW] = (uint64_t)page_a | PTE_P | PTE_W;
	pt[SLOT_RO] = (uint64_t)page_ro | PTE_P;
	pt[SLOT_SWAP] = (uint64_t)page_b | PTE_P | PTE_W;
	pt[SLOT_CODE] = (uint64_t)page_code | PTE_P | PTE_XD;
	pt_ro_dir[0] = (uint64_t)page_a | PTE_P | PTE_W;
	/* mov $42, %eax; ret */
	memcpy(page_code, "\xb8\x2a\x00\x00\x00\xc3", 6);
	write_cr3((uint64_t)pml4);
}

static void read_at(void *va)
{
	sink = *(volatile uint64_t *)va;
}

static void write_at(void *va)
{
	*(volatile uint64_t *)va = 0x5a5a5a5a5a5a5a5a;
}

static void call_at(void *va)
{
	sink = ((uint64_t (*)(void))va)();
}

static void expect_pf(fault_body_fn fn, volatile void *va, uint64_t error, const char *what)
{
	struct fault f;
	bool raised = catch_fault(fn, (void *)va, &f);
	bool ok = raised && f.vector == VEC_PF && f.error_code == error && f.cr2 == (uint64_t)va;

	report(ok, "%s: #PF error %#lx, CR2 = address", what, error);
	if (!ok)
		printf("      got %s vector %u error %#lx CR2 %#lx\n", raised ? "" : "no exception,",
		       f.vector, f.error_code, f.cr2);
}

static void check_translation(void)
{
	volatile uint64_t *va = va_of(L2, SLOT_RW);

	*(volatile uint64_t *)page_a = 0x1122334455667788;
	report_eq(va[0], 0x1122334455667788, "read through the high mapping sees the page");
	va[1] = 0xfeedfacecafebeef;
	report_eq(((volatile uint64_t *)page_a)[1], 0xfeedfacecafebeef,
		  "write through the high mapping lands in the page");
}

/* Fresh entries have A = D = 0; a read sets A along the walk, a write
 * then sets D in the leaf (5.8). */
static void check_accessed_dirty(void)
{
	volatile uint64_t *va = va_of(L2, SLOT_SWAP);

	sink = *va;
	report((pt[SLOT_SWAP] & (PTE_A | PTE_D)) == PTE_A, "a read sets the PTE's A flag, not D");
	report((pd[L2] & PTE_A) && (pdpt[L3] & PTE_A) && (pml4[L4] & PTE_A),
	       "a read sets A in the PDE, PDPTE and PML4E");
	*va = 1;
	report(pt[SLOT_SWAP] & PTE_D, "a write then sets the PTE's D flag");
}

static void check_protection(void)
{
	uint64_t cr0 = read_cr0();
	volatile uint64_t *ro = va_of(L2, SLOT_RO);

	write_cr0(cr0 | CR0_WP);
	report_eq(*ro, 0, "a read-only page can be read");
	expect_pf(write_at, ro, PF_P | PF_W, "write to a read-only PTE with CR0.WP=1");
	expect_pf(write_at, va_of(L2 + 1, 0), PF_P | PF_W,
		  "write through a read-only PDE with CR0.WP=1");
	write_cr0(cr0 & ~CR0_WP);
	*ro = 77;
	report(*(volatile uint64_t *)page_ro == 77, "with CR0.WP=0 ring 0 writes a read-only page");
	write_cr0(cr0);

	expect_pf(read_at, va_of(L2, SLOT_ABSENT), 0, "read of a not-present page");
	expect_pf(write_at, va_of(L2, SLOT_ABSENT) + 3, PF_W, "write to a not-present page");
	expect_pf(read_at, va_of(L2 + 2, 0), 0, "read under a not-present PDE");
}

static void check_invlpg(void)
{
	volatile uint64_t *va = va_of(L2, SLOT_SWAP);

	*(volatile uint64_t *)page_a = 0xaaaa;
	*(volatile uint64_t *)page_b = 0xbbbb;
	report_eq(*va, 0xbbbb, "slot maps page B");
	pt[SLOT_SWAP] = (uint64_t)page_a | PTE_P | PTE_W;
	invlpg(va);
	report_eq(*va, 0xaaaa, "after changing the PTE to page A and INVLPG, the slot reads A");
	pt[SLOT_SWAP] = 0;
	invlpg(va);
	expect_pf(read_at, va, 0, "after clearing the PTE and INVLPG");
	pt[SLOT_SWAP] = (uint64_t)page_b | PTE_P | PTE_W;
	write_cr3(read_cr3());
	report_eq(*va, 0xbbbb, "after restoring the PTE and reloading CR3, the slot reads B");
}

static void check_execute_disable(void)
{
	uint64_t efer = rdmsr(MSR_EFER);
	volatile uint64_t *code = va_of(L2, SLOT_CODE);

	wrmsr(MSR_EFER, efer | EFER_NXE);
	expect_pf(call_at, code, PF_P | PF_ID, "fetch from an XD page with EFER.NXE=1");
	report_eq(*code & 0xff, 0xb8, "an XD page can still be read");
	wrmsr(MSR_EFER, efer & ~EFER_NXE);
	invlpg(code);
	/* Without NXE, bit 63 is reserved (5.5.4 table 5-20 footnotes). */
	expect_pf(read_at, code, PF_P | PF_RSVD, "bit 63 set with EFER.NXE=0 is reserved");
	pt[SLOT_CODE] &= ~PTE_XD;
	invlpg(code);
	sink = 0;
	call_at((void *)code);
	report_eq(sink, 42, "with XD clear the page executes (returns 42)");
	wrmsr(MSR_EFER, efer);
}

static void check_reserved_phys_bit(void)
{
	unsigned maxphys = cpuid(0x80000008u, 0).a & 0xff;
	volatile uint64_t *va = va_of(L2, SLOT_RSVD);

	if (maxphys >= 52) {
		report_skip("MAXPHYADDR is 52: no reserved address bits");
		return;
	}
	pt[SLOT_RSVD] = (uint64_t)page_a | PTE_P | PTE_W | 1ul << maxphys;
	invlpg(va);
	expect_pf(read_at, va, PF_P | PF_RSVD, "PTE bit MAXPHYADDR set is reserved");
	expect_pf(write_at, va, PF_P | PF_W | PF_RSVD, "write via it");
	pt[SLOT_RSVD] = 0;
}

/* A 2 MiB page at PD index L2 + 3 mapping physical 0 - 2 MiB, which holds
 * the kernel image (linked at 1 MiB). */
static void check_large_page(void)
{
	static volatile uint64_t marker = 0x600df00d;
	volatile uint64_t *big = (volatile uint64_t *)((uint64_t)va_of(L2 + 3, 0) + (uint64_t)&marker);

	pd[L2 + 3] = 0 | PTE_P | PTE_W | PTE_PS;
	report_eq(*big, 0x600df00d, "a 2 MiB page maps physical 0 - 2 MiB");
	*big = 0x12345;
	report_eq(marker, 0x12345, "a write through the 2 MiB page reaches memory");
	report((pd[L2 + 3] & (PTE_A | PTE_D)) == (PTE_A | PTE_D), "the 2 MiB PDE gets A and D");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	uint64_t cr3 = read_cr3();

	(void)magic;
	(void)mbinfo;
	build_tables();
	check_translation();
	check_accessed_dirty();
	check_protection();
	check_invlpg();
	check_execute_disable();
	check_reserved_phys_bit();
	check_large_page();
	write_cr3(cr3);
	report_summary();
}
