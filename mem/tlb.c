/* Software TLB maintenance. The architecture allows a TLB to drop entries at
 * any time (SDM vol. 3A 4.10.4), so flushing more than asked is always safe;
 * flushing less never is. */
#include "mem/tlb.h"

static void entry_clear(struct tlb_entry *e)
{
	e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
}

void tlb_flush_all(struct tlb *t)
{
	for (int u = 0; u < 2; u++)
		for (unsigned k = 0; k < TLB_SIZE; k++)
			entry_clear(&t->e[u][k]);
}

void tlb_flush_page(struct tlb *t, uint64_t la)
{
	/* Large pages are cached as 4 KiB pieces, so an INVLPG of any address in
	 * a large page must drop them all: flush every entry for the same 4 KiB
	 * page and, to be safe for large pages, any entry whose linear page lies
	 * in the same 1 GiB region. */
	uint64_t region = la >> 30;
	for (int u = 0; u < 2; u++)
		for (unsigned k = 0; k < TLB_SIZE; k++) {
			struct tlb_entry *e = &t->e[u][k];
			uint64_t tag = e->tag_r != TLB_INVALID ? e->tag_r : e->tag_x;
			if (tag != TLB_INVALID && (tag >> 30) == region)
				entry_clear(e);
			else if (e->tag_w != TLB_INVALID && (e->tag_w >> 30) == region)
				entry_clear(e);
		}
}

void tlb_drop_writes_to(struct tlb *t, uint64_t pa)
{
	uint64_t page = pa & PAGE_MASK;
	for (int u = 0; u < 2; u++)
		for (unsigned k = 0; k < TLB_SIZE; k++)
			if (t->e[u][k].pa == page)
				t->e[u][k].tag_w = TLB_INVALID;
}
