/* pku: protection keys and SMAP seen from ring 0 (SDM vol. 3A 4.6.1,
 * 4.6.2; vol. 2 RDPKRU, WRPKRU, STAC, CLAC). A user-mode address (U = 1 at
 * every level) with key 3: PKRU.AD3 stops supervisor reads (#PF with
 * P|PK), PKRU.WD3 stops supervisor writes only with CR0.WP = 1; CR4.SMAP
 * stops supervisor data accesses unless EFLAGS.AC = 1. */
#include "guest.h"

#define PTE_P   (1ul << 0)
#define PTE_W   (1ul << 1)
#define PTE_U   (1ul << 2)
#define PT_USER (PTE_P | PTE_W | PTE_U)
#define PKEY(k) ((uint64_t)(k) << 59)
#define CR4_SMAP (1ul << 21)
#define CR4_PKE  (1ul << 22)
#define PF_P  1ul
#define PF_W  2ul
#define PF_PK (1ul << 5)

#define L4 0x1c7ul
#define L3 0x00bul
#define L2 0x03dul

#define PAGE __attribute__((aligned(4096)))
static uint64_t pml4[512] PAGE, pdpt[512] PAGE, pd[512] PAGE, pt[512] PAGE;
static uint8_t page_u[4096] PAGE;
static volatile uint64_t sink;


static volatile uint64_t *const user_va =
	(volatile uint64_t *)(0xffff000000000000ul | L4 << 39 | L3 << 30 | L2 << 21);

static void build_tables(void)
{
	pml4[0] = boot_pml4[0];
	pml4[L4] = (uint64_t)pdpt | PT_USER;
	pdpt[L3] = (uint64_t)pd | PT_USER;
	pd[L2] = (uint64_t)pt | PT_USER;
	pt[0] = (uint64_t)page_u | PT_USER | PKEY(3);
	*(volatile uint64_t *)page_u = 0x600d;
	write_cr3((uint64_t)pml4);
}

static void wrpkru(uint32_t v)
{
	asm volatile("wrpkru" : : "a"(v), "c"(0), "d"(0) : "memory");
}

static uint32_t rdpkru(void)
{
	uint32_t a, d;
	asm volatile("rdpkru" : "=a"(a), "=d"(d) : "c"(0));
	return a;
}

static void read_at(void *va)
{
	sink = *(volatile uint64_t *)va;
}

static void write_at(void *va)
{
	*(volatile uint64_t *)va = 0x77;
}

static void rdpkru_body(void *arg)
{
	(void)arg;
	sink = rdpkru();
}

static void wrpkru_ecx_body(void *arg)
{
	(void)arg;
	asm volatile("wrpkru" : : "a"(0), "c"(1), "d"(0) : "memory");
}

static void expect(fault_body_fn fn, void *arg, unsigned vec, uint64_t err, const char *what)
{
	struct fault f;
	bool raised = catch_fault(fn, arg, &f);
	bool ok = raised && f.vector == vec && f.error_code == err && (vec != VEC_PF || f.cr2 == (uint64_t)arg);
	if (!report(ok, "%s: vector %u error %#lx", what, vec, err))
		printf("      got %s vector %u error %#lx CR2 %#lx\n", raised ? "" : "no exception,", f.vector,
		       f.error_code, f.cr2);
}

static void check_pkeys(void)
{
	uint64_t cr0 = read_cr0();

	expect(rdpkru_body, NULL, VEC_UD, 0, "RDPKRU with CR4.PKE = 0 is #UD");
	write_cr4(read_cr4() | CR4_PKE);
	report((cpuid(7, 0).c >> 4) & 1, "CPUID.7.ECX.OSPKE reflects CR4.PKE = 1");
	write_cr0(cr0 | CR0_WP);
	wrpkru(1u << 6);                        /* AD3 */
	report_eq(rdpkru(), 1u << 6, "RDPKRU reads back PKRU");
	expect(read_at, (void *)user_va, VEC_PF, PF_P | PF_PK, "AD3: supervisor read of a key-3 user page");
	wrpkru(2u << 6);                        /* WD3 */
	report_eq(*user_va, 0x600d, "WD3: reads are allowed");
	expect(write_at, (void *)user_va, VEC_PF, PF_P | PF_W | PF_PK, "WD3, CR0.WP = 1: supervisor write");
	write_cr0(cr0 & ~CR0_WP);
	write_at((void *)user_va);
	report_eq(*(volatile uint64_t *)page_u, 0x77, "WD3, CR0.WP = 0: the supervisor write lands");
	wrpkru(1u << 6);
	expect(write_at, (void *)user_va, VEC_PF, PF_P | PF_W | PF_PK, "AD3, CR0.WP = 0: write still faults");
	wrpkru(1u << 8);                        /* AD4: key 3 unaffected */
	report_eq(*user_va, 0x77, "AD4 leaves key 3 readable");
	expect(wrpkru_ecx_body, NULL, VEC_GP, 0, "WRPKRU with ECX != 0 is #GP(0)");
	wrpkru(0);
	write_cr0(cr0);
	write_cr4(read_cr4() & ~CR4_PKE);
	report_eq(*user_va, 0x77, "CR4.PKE = 0: keys are ignored");
}

static void check_smap(void)
{
	write_cr4(read_cr4() | CR4_SMAP);
	asm volatile("clac" : : : "memory");
	expect(read_at, (void *)user_va, VEC_PF, PF_P, "SMAP, AC = 0: supervisor read of a user page");
	asm volatile("stac" : : : "memory");
	report_eq(*user_va, 0x77, "SMAP, AC = 1 (STAC): the read is allowed");
	asm volatile("clac" : : : "memory");
	expect(write_at, (void *)user_va, VEC_PF, PF_P | PF_W, "after CLAC the write faults again");
	write_cr4(read_cr4() & ~CR4_SMAP);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	uint64_t cr3 = read_cr3(), cr4 = read_cr4();

	(void)magic;
	(void)mbinfo;
	build_tables();
	if ((cpuid(7, 0).c >> 3) & 1)
		check_pkeys();
	else
		report_skip("no PKU");
	if ((cpuid(7, 0).b >> 20) & 1)
		check_smap();
	else
		report_skip("no SMAP");
	write_cr4(cr4);
	write_cr3(cr3);
	report_summary();
}
