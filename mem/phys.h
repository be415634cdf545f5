/* Guest-physical address space: RAM, ROM and MMIO regions.
 *
 * RAM is one host allocation starting at guest-physical 0. ROM and MMIO are
 * regions registered on top; a region hides the RAM beneath it. Every access
 * is bounds-checked: reads of unmapped addresses return all-ones and writes to
 * them are dropped, as on a PC.
 *
 * Pages that hold decoded (cached) instructions are marked in code_page[];
 * the CPU's decode cache registers an invalidate hook that the write path
 * calls when such a page is written (ARCHITECTURE: "Fast path first-class").
 * The same byte map marks watched pages (PHYS_PAGE_WATCH): ranges whose
 * ordinary writes a subsystem wants to hear about (VMX: an active VMCS or
 * the VMXON region, which software must not write, SDM vol. 3C 24.11.1).
 * A marked page never gets a direct-write TLB entry, so accesses to
 * unmarked pages keep the fast path.
 */
#ifndef MEM_PHYS_H
#define MEM_PHYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE  4096ull
#define PAGE_MASK  (~(PAGE_SIZE - 1))

/* Callbacks a device registers on an address range (MMIO or port I/O).
 * offset is relative to the start of the range; size is 1, 2, 4 or 8. */
typedef uint64_t (*io_read_fn)(void *opaque, uint64_t offset, unsigned size);
typedef void (*io_write_fn)(void *opaque, uint64_t offset, uint64_t value, unsigned size);

struct io_ops {
	io_read_fn read;
	io_write_fn write;
};

enum phys_kind { PHYS_UNMAPPED, PHYS_RAM, PHYS_ROM, PHYS_MMIO };

struct phys_region {
	uint64_t base, size;
	enum phys_kind kind;
	uint8_t *host;          /* ROM contents */
	const struct io_ops *ops;
	void *opaque;
	const char *name;
};

#define PHYS_MAX_REGIONS 32

/* Called when a write lands on a page marked in code_page[]. */
typedef void (*code_write_fn)(void *opaque, uint64_t page_number);

/* Bits of the per-page byte map code_page[]. */
#define PHYS_PAGE_CODE  0x01    /* holds cached decoded instructions (cpu/icache.c) */
#define PHYS_PAGE_WATCH 0x02    /* lies in a watched range (phys_watch_add) */
#define PHYS_PAGE_REGION 0x04   /* a ROM or MMIO region covers part of this RAM page */

/* A watched range: tag and kind belong to whoever added it. */
struct phys_watch {
	uint64_t base, size;
	void *tag;
	unsigned kind;
};

/* Called by phys_write for each watched range an access overlaps, after
 * the bytes are stored. */
typedef void (*watch_write_fn)(void *opaque, const struct phys_watch *w, uint64_t pa, unsigned size);

struct phys_map {
	uint8_t *ram;
	uint64_t ram_size;              /* bytes, multiple of PAGE_SIZE */
	uint8_t *code_page;             /* one byte per RAM page: PHYS_PAGE_* bits */
	struct phys_region regions[PHYS_MAX_REGIONS];
	int nregions;
	code_write_fn on_code_write;
	void *code_write_opaque;
	struct phys_watch *watches;     /* watched ranges (heap), nwatches of them */
	int nwatches, watch_cap;
	watch_write_fn on_watch_write;
	void *watch_write_opaque;
	/* Bumped whenever the region layout changes, so TLBs can drop host pointers. */
	uint64_t generation;
};

/* A page one processor decodes for itself (its xAPIC registers, SDM vol. 3A
 * 10.4.1): it hides whatever lies beneath for that processor only, and is
 * never cached in its TLB. page = UINT64_MAX: none. */
struct phys_local {
	uint64_t page;
	const struct io_ops *ops;
	void *opaque;
};

/* A page whose accesses one processor hands to a hook instead of memory:
 * the VMX APIC-access page while "virtualize APIC accesses" is 1 (SDM
 * vol. 3C 29.4). Compared with the final physical address of an access
 * (before the processor's own local page), never cached in its TLB.
 * access() performs a data access of size bytes at pa lying wholly inside
 * the page (true: *val read or stored) or fails it, filling *f; refuse()
 * fails an access the page cannot serve: an instruction fetch, or a data
 * access that crosses the page's edge (pa = its first byte on the page).
 * acc is the ACC_* set of mem/paging.h. page = UINT64_MAX: none. */
struct xlate_fault;
struct phys_trap {
	uint64_t page;
	bool (*access)(void *opaque, uint64_t pa, unsigned size, unsigned acc, uint64_t *val, struct xlate_fault *f);
	void (*refuse)(void *opaque, uint64_t pa, unsigned acc, struct xlate_fault *f);
	void *opaque;
};

int phys_init(struct phys_map *pm, uint64_t ram_size);
void phys_destroy(struct phys_map *pm);

/* Register a region over [base, base+size). Returns 0, or -1 when the table is
 * full or the region overlaps another region. */
int phys_add_rom(struct phys_map *pm, uint64_t base, uint64_t size, const void *data, const char *name);
int phys_add_mmio(struct phys_map *pm, uint64_t base, uint64_t size, const struct io_ops *ops,
		  void *opaque, const char *name);

/* The region covering pa, or NULL when pa is plain RAM or unmapped. */
const struct phys_region *phys_find_region(const struct phys_map *pm, uint64_t pa);

/* Host pointer for the page holding pa when that page is plain RAM with no
 * region over it (what a TLB may cache), else NULL. */
uint8_t *phys_ram_page(const struct phys_map *pm, uint64_t pa);

/* Slow-path accesses of 1, 2, 4 or 8 bytes that may straddle regions, RAM
 * end or page boundaries; they dispatch to MMIO and honour the code-page and
 * watch hooks. phys_write_unwatched is phys_write without the watch hook:
 * the owner's own writes to a range it watches (VMX writing a VMCS field). */
uint64_t phys_read(struct phys_map *pm, uint64_t pa, unsigned size);
void phys_write(struct phys_map *pm, uint64_t pa, uint64_t value, unsigned size);
void phys_write_unwatched(struct phys_map *pm, uint64_t pa, uint64_t value, unsigned size);

/* Watch [base, base+size) of RAM (size > 0): mark its pages and record
 * (tag, kind). 0, or -1 when the range is not all RAM or memory runs out.
 * The caller drops direct-write TLB entries to the pages (tlb_drop_writes_to
 * on every CPU). phys_unwatch removes the ranges with this base and tag and
 * unmarks pages no other range covers; phys_unwatch_tag removes all of tag's. */
int phys_watch_add(struct phys_map *pm, uint64_t base, uint64_t size, void *tag, unsigned kind);
void phys_unwatch(struct phys_map *pm, uint64_t base, void *tag);
void phys_unwatch_tag(struct phys_map *pm, void *tag);

/* Bulk copies for loaders and the debugger: RAM/ROM only, no MMIO side
 * effects. Return 0, or -1 when any byte is outside RAM/ROM. */
int phys_copy_in(struct phys_map *pm, uint64_t pa, const void *src, size_t len);
int phys_copy_out(const struct phys_map *pm, uint64_t pa, void *dst, size_t len);
int phys_fill(struct phys_map *pm, uint64_t pa, uint8_t byte, size_t len);

/* Does the RAM page holding pa hold cached decoded instructions. */
static inline bool phys_is_code_page(const struct phys_map *pm, uint64_t pa)
{
	uint64_t pn = pa >> PAGE_SHIFT;
	return pa < pm->ram_size && (pm->code_page[pn] & PHYS_PAGE_CODE);
}

/* Must writes to the page holding pa take the slow path (code or watched). */
static inline bool phys_write_hooked(const struct phys_map *pm, uint64_t pa)
{
	uint64_t pn = pa >> PAGE_SHIFT;
	return pa < pm->ram_size && pm->code_page[pn] != 0;
}

#endif
