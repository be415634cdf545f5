/* dbg_frames: a kernel for the debugger's memory tests (tests/debugger/
 * mem_*.dbg), not a guest test. It maps one page at a known upper-half
 * address through its own 4 KiB page tables (PML4 index 0x101, PDPT 1,
 * PD 2, PT 3) and reads it, so `walk` shows every level and `tlb` lists
 * it; it leaves a known word and string for `x`; and it calls
 * outer -> middle -> leaf with frame pointers, so `bt` at leaf shows the
 * chain. Then it exits with status 0 (isa-debug-exit: 1). */
#include "guest.h"

#define PTE_P (1ul << 0)
#define PTE_W (1ul << 1)
#define PAGE __attribute__((aligned(4096)))
#define FRAMES __attribute__((noinline, optimize("no-omit-frame-pointer")))

#define VA 0xffff808040403000ul        /* PML4 0x101, PDPT 1, PD 2, PT 3 */

static uint64_t pdpt[512] PAGE, pd[512] PAGE, pt[512] PAGE;
static uint64_t page[512] PAGE;
volatile uint64_t dbg_word = 0x1122334455667788ul;
const char dbg_text[] = "vtxsim";
volatile uint64_t dbg_sink;

static void map_page(void)
{
	uint64_t *pml4 = (uint64_t *)(read_cr3() & ~0xffful);
	page[0] = 0xfeedfacecafebeeful;
	pt[3] = (uint64_t)page | PTE_P | PTE_W;
	pd[2] = (uint64_t)pt | PTE_P | PTE_W;
	pdpt[1] = (uint64_t)pd | PTE_P | PTE_W;
	pml4[0x101] = (uint64_t)pdpt | PTE_P | PTE_W;
	write_cr3(read_cr3());
	dbg_sink = *(volatile uint64_t *)VA;
}

__attribute__((noinline)) void sink_add(uint64_t v)
{
	dbg_sink += v;
}

FRAMES void leaf(uint64_t v)
{
	sink_add(v + dbg_word);
	dbg_sink += 1;
}

FRAMES void middle(uint64_t v)
{
	leaf(v * 3);
	dbg_sink += 1;
}

FRAMES void outer(uint64_t v)
{
	middle(v + 2);
	dbg_sink += 1;
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic, (void)mbinfo;
	map_page();
	outer(5);
	guest_exit(0);
}
