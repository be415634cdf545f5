/* Slow path of linear accesses: TLB refill through the paging walk, accesses
 * that straddle pages, MMIO/ROM/unmapped pages and writes to pages that
 * hold cached code. */
#include "mem/access.h"

static uint8_t size_shift(uint64_t page_size)
{
	return (uint8_t)__builtin_ctzll(page_size);
}

/* Fill the TLB entry for la from a successful walk for access acc. */
static void tlb_install(const struct mem_view *v, uint64_t la, unsigned acc, const struct xlate_result *r,
			uint8_t *host)
{
	unsigned cls = mem_tlb_class((acc & ACC_USER) != 0, v->ctx);
	if (!(acc & ACC_EXEC) && (v->tlb->data_nofill >> cls & 1))
		return;         /* data accesses of this class stay on the slow path */
	tlb_make_room(v->tlb, cls, tlb_index(la));
	tlb_note_fill(v->tlb, cls, tlb_index(la));
	struct tlb_entry *e = &v->tlb->e[cls][tlb_index(la)];
	uint64_t page = la & PAGE_MASK;
	bool global = r->global && (v->ctx->cr4 & CR4_PGE);
	if (e->pa != (r->pa & PAGE_MASK) || (e->tag_r != page && e->tag_x != page) || e->global != global ||
	    e->pkey != r->pkey)
		e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
	e->pa = r->pa & PAGE_MASK;
	e->host = (uintptr_t)host;
	e->pcid = v->tlb->pcid;
	e->ctx = v->tlb->ctx;
	e->global = global;
	e->size_shift = size_shift(r->page_size);
	e->pkey = r->pkey;
	if (e->size_shift > PAGE_SHIFT)
		v->tlb->has_large = true;
	if (acc & ACC_EXEC) {
		e->tag_x = page;
		return;
	}
	/* A data walk decides the data permissions; writes go direct only when
	 * D is already set and the page holds no cached code and is not watched. */
	e->tag_r = page;
	e->tag_w = r->writable && r->dirty && !phys_write_hooked(v->pm, r->pa) ? page : TLB_INVALID;
	if (r->exec_ok)
		e->tag_x = page;
}

/* Walk and, where the page is plain RAM, cache the translation. The TLB
 * caches 4 KiB pieces of larger pages. A page fault invalidates the TLB
 * entries for the faulting page (SDM vol. 3A 4.10.4.1), so a retry after
 * fixing the paging structures does not fault again on a stale entry. */
bool mem_translate(const struct mem_view *v, uint64_t la, unsigned acc, uint64_t *pa, struct xlate_fault *f)
{
	struct xlate_result r;
	if (!paging_translate(v->pm, v->ctx, la, acc, &r, f)) {
		tlb_flush_page(v->tlb, la);
		return false;
	}
	*pa = r.pa;
	if (v->trap && (r.pa & PAGE_MASK) == v->trap->page) {
		if (!(acc & ACC_EXEC))
			return true;    /* never cached: access_in_page hands it to the hook */
		v->trap->refuse(v->trap->opaque, r.pa, acc, f);
		return false;
	}
	if (acc & ACC_IMPLICIT)
		return true;
	if (v->local && (r.pa & PAGE_MASK) == v->local->page)
		return true;    /* the processor's own MMIO page is never cached */
	uint8_t *host = phys_ram_page(v->pm, r.pa);
	if (host)
		tlb_install(v, la, acc, &r, host);
	return true;
}

bool mem_translate_probe(const struct mem_view *v, uint64_t la, unsigned acc, uint64_t *pa, struct xlate_fault *f)
{
	if (!mem_translate(v, la, acc, pa, f))
		return false;
	if (v->trap && (*pa & PAGE_MASK) == v->trap->page) {
		v->trap->refuse(v->trap->opaque, *pa, acc, f);
		return false;
	}
	return true;
}

/* A physical access as this processor makes it: its local page first. */
static uint64_t view_read(const struct mem_view *v, uint64_t pa, unsigned size)
{
	if (v->local && (pa & PAGE_MASK) == v->local->page)
		return v->local->ops->read(v->local->opaque, pa & (PAGE_SIZE - 1), size);
	return phys_read(v->pm, pa, size);
}

static void view_write(const struct mem_view *v, uint64_t pa, uint64_t val, unsigned size)
{
	if (v->local && (pa & PAGE_MASK) == v->local->page)
		v->local->ops->write(v->local->opaque, pa & (PAGE_SIZE - 1), val, size);
	else
		phys_write(v->pm, pa, val, size);
}

static bool access_in_page(const struct mem_view *v, uint64_t la, unsigned size, unsigned acc, uint64_t *val,
			   struct xlate_fault *f)
{
	uint64_t pa;
	if (!mem_translate(v, la, acc, &pa, f))
		return false;
	if (v->trap && (pa & PAGE_MASK) == v->trap->page)
		return v->trap->access(v->trap->opaque, pa, size, acc, val, f);
	if (acc & ACC_WRITE)
		view_write(v, pa, *val, size);
	else
		*val = view_read(v, pa, size);
	return true;
}

bool mem_access_slow(const struct mem_view *v, uint64_t la, unsigned size, unsigned acc, uint64_t *val,
		     struct xlate_fault *f)
{
	if (mem_in_page(la, size))
		return access_in_page(v, la, size, acc, val, f);
	/* Straddles two pages: check both translations before touching either
	 * (an access that faults on the second page has no effect). */
	unsigned first = (unsigned)(PAGE_SIZE - (la & (PAGE_SIZE - 1)));
	uint64_t pa0, pa1;
	uint64_t la1 = la + first;
	if (!mem_translate(v, la, acc, &pa0, f) || !mem_translate(v, la1, acc, &pa1, f))
		return false;
	if (v->trap && ((pa0 & PAGE_MASK) == v->trap->page || (pa1 & PAGE_MASK) == v->trap->page)) {
		v->trap->refuse(v->trap->opaque, (pa0 & PAGE_MASK) == v->trap->page ? pa0 : pa1, acc, f);
		return false;
	}
	if (acc & ACC_WRITE) {
		for (unsigned k = 0; k < size; k++)
			view_write(v, k < first ? pa0 + k : pa1 + (k - first), *val >> (8 * k), 1);
		return true;
	}
	uint64_t r = 0;
	for (unsigned k = 0; k < size; k++)
		r |= view_read(v, k < first ? pa0 + k : pa1 + (k - first), 1) << (8 * k);
	*val = r;
	return true;
}
