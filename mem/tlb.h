/* The software TLB: linear page -> host pointer for plain-RAM pages.
 *
 * Direct-mapped, one array per privilege class (supervisor, user) so a CPL
 * change needs no flush. An entry caches read, write and fetch permission
 * separately: a tag equals the linear page number only when that access may
 * go straight to host memory. Write tags are installed only when the walk
 * already set the D bit and the page holds no cached code, so the first write
 * to a clean or code page takes the slow path. MMIO, ROM writes and
 * unmapped pages are never cached.
 */
#ifndef MEM_TLB_H
#define MEM_TLB_H

#include <stdint.h>

#include "mem/phys.h"

#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID (~0ull)

struct tlb_entry {
	uint64_t tag_r, tag_w, tag_x;   /* linear page address, or TLB_INVALID */
	uintptr_t host;                 /* host address of the page start */
	uint64_t pa;                    /* guest-physical page address */
};

struct tlb {
	struct tlb_entry e[2][TLB_SIZE];   /* [0] supervisor, [1] user */
	/* Bit u set: cache no read/write translations for class u, so every data
	 * access of that class takes the slow path (the CPU sets it while data
	 * breakpoints or alignment checking are armed; cpu/debug.c). */
	uint8_t data_nofill;
};

static inline unsigned tlb_index(uint64_t la)
{
	return (unsigned)(la >> PAGE_SHIFT) & (TLB_SIZE - 1);
}

void tlb_flush_all(struct tlb *t);
void tlb_flush_page(struct tlb *t, uint64_t la);
/* Drop write permission for every entry mapping guest-physical page pa. */
void tlb_drop_writes_to(struct tlb *t, uint64_t pa);

#endif
