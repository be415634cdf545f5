/* Software TLB maintenance: the invalidations of SDM vol. 3A 4.10.4.1, each
 * dropping exactly the entries the SDM names (and, where the SDM lets the
 * processor choose, no more), so that a guest can observe the staleness the
 * architecture allows. */
#include "mem/tlb.h"

/* Every entry, the spill arrays included when they may hold any. */
#define FOR_EACH_ENTRY(t, e)                                                              \
	for (struct tlb_entry *e = &(t)->e[0][0], *end_ = tlb_end(t); e < end_; e++)

static struct tlb_entry *tlb_end(struct tlb *t)
{
	return &t->e[0][0] + ((t->spill_used ? 2 : 1) * TLB_CLASSES) * TLB_SIZE;
}

static void entry_clear(struct tlb_entry *e)
{
	e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
}

/* The linear page an entry caches (tags without TLB_DORMANT), or
 * TLB_INVALID for an empty entry. */
static uint64_t entry_page(const struct tlb_entry *e)
{
	uint64_t tag = e->tag_r != TLB_INVALID ? e->tag_r : e->tag_x != TLB_INVALID ? e->tag_x : e->tag_w;
	return tag == TLB_INVALID ? tag : tag & PAGE_MASK;
}

/* True when the entry is a piece of the page that holds la. */
static bool entry_covers(const struct tlb_entry *e, uint64_t la)
{
	uint64_t page = entry_page(e);
	return page != TLB_INVALID && ((page ^ la) >> e->size_shift) == 0;
}

void tlb_flush_all(struct tlb *t)
{
	if (t->fill_logged && !t->spill_used) {
		/* Only logged slots can hold a translation (tlb_note_fill). */
		for (unsigned k = 0; k < t->nfilled; k++)
			entry_clear(&t->e[0][0] + t->filled[k]);
	} else {
		t->spill_used = true;
		FOR_EACH_ENTRY(t, e)
			entry_clear(e);
	}
	t->nfilled = 0;
	t->fill_logged = true;
	t->has_large = false;
	t->spill_used = false;
}

void tlb_flush_pcid(struct tlb *t, uint16_t pcid)
{
	FOR_EACH_ENTRY(t, e)
		if (!e->global && e->pcid == pcid)
			entry_clear(e);
}

void tlb_flush_nonglobal(struct tlb *t)
{
	FOR_EACH_ENTRY(t, e)
		if (!e->global)
			entry_clear(e);
}

/* Entries for la's page that match keep(): only la's own slot in each class
 * can hold a 4 KiB translation; pieces of large pages may sit anywhere. */
static void flush_page_if(struct tlb *t, uint64_t la, bool (*match)(const struct tlb_entry *, uint16_t),
			  uint16_t pcid)
{
	if (!t->has_large) {
		for (unsigned k = 0; k < (t->spill_used ? 2 : 1) * TLB_CLASSES; k++) {
			struct tlb_entry *e = &t->e[k][tlb_index(la)];
			if (entry_covers(e, la) && match(e, pcid))
				entry_clear(e);
		}
		return;
	}
	FOR_EACH_ENTRY(t, e)
		if (entry_covers(e, la) && match(e, pcid))
			entry_clear(e);
}

static bool current_or_global(const struct tlb_entry *e, uint16_t pcid)
{
	return e->global || e->pcid == pcid;
}

static bool nonglobal_of(const struct tlb_entry *e, uint16_t pcid)
{
	return !e->global && e->pcid == pcid;
}

void tlb_flush_page(struct tlb *t, uint64_t la)
{
	flush_page_if(t, la, current_or_global, t->pcid);
}

void tlb_flush_page_pcid(struct tlb *t, uint64_t la, uint16_t pcid)
{
	flush_page_if(t, la, nonglobal_of, pcid);
}

static void tags_or(struct tlb_entry *e, uint64_t bit)
{
	e->tag_r |= bit;
	e->tag_w |= bit;
	e->tag_x |= bit;
}

static void tags_wake(struct tlb_entry *e)
{
	if (e->tag_r != TLB_INVALID)
		e->tag_r &= ~TLB_DORMANT;
	if (e->tag_w != TLB_INVALID)
		e->tag_w &= ~TLB_DORMANT;
	if (e->tag_x != TLB_INVALID)
		e->tag_x &= ~TLB_DORMANT;
}

static bool entry_valid(const struct tlb_entry *e)
{
	return entry_page(e) != TLB_INVALID;
}

/* Bring the new PCID's spilled entries back where the slot is free or
 * holds another PCID's (dormant) entry, which takes the spill place. */
static void unspill(struct tlb *t, uint16_t pcid)
{
	for (unsigned k = 0; k < TLB_CLASSES; k++)
		for (unsigned n = 0; n < TLB_SIZE; n++) {
			struct tlb_entry *s = &t->e[TLB_CLASSES + k][n], *m = &t->e[k][n];
			if (!entry_valid(s) || s->pcid != pcid || (entry_valid(m) && (m->global || m->pcid == pcid)))
				continue;
			struct tlb_entry tmp = *m;
			*m = *s;
			*s = tmp;
			tags_wake(m);
		}
}

void tlb_switch_pcid(struct tlb *t, uint16_t pcid)
{
	if (pcid == t->pcid)
		return;
	for (struct tlb_entry *e = &t->e[0][0]; e < &t->e[TLB_CLASSES][0]; e++) {
		if (e->global)
			continue;
		if (e->pcid == t->pcid)
			tags_or(e, TLB_DORMANT);
		else if (e->pcid == pcid)
			tags_wake(e);
	}
	if (t->spill_used)
		unspill(t, pcid);
	t->pcid = pcid;
}

void tlb_make_room(struct tlb *t, unsigned cls, unsigned idx)
{
	struct tlb_entry *e = &t->e[cls][idx];
	if (!entry_valid(e) || e->global || e->pcid == t->pcid)
		return;
	t->e[TLB_CLASSES + cls][idx] = *e;
	t->spill_used = true;
	entry_clear(e);
}

/* PKRU holds AD (bit 2i) and WD (bit 2i + 1) for key i (4.6.2). */
void tlb_pkru_changed(struct tlb *t, uint32_t old_pkru, uint32_t new_pkru)
{
	uint32_t changed = old_pkru ^ new_pkru;
	if (!changed)
		return;
	FOR_EACH_ENTRY(t, e)
		if (e->pkey != TLB_NO_PKEY && ((changed >> (2 * e->pkey)) & 3))
			e->tag_r = e->tag_w = TLB_INVALID;
}

void tlb_drop_writes_to(struct tlb *t, uint64_t pa)
{
	uint64_t page = pa & PAGE_MASK;
	FOR_EACH_ENTRY(t, e)
		if (e->pa == page)
			e->tag_w = TLB_INVALID;
}

void tlb_drop_page_pa(struct tlb *t, uint64_t pa)
{
	uint64_t page = pa & PAGE_MASK;
	if (t->fill_logged && t->nfilled == 0 && !t->spill_used)
		return;         /* just flushed: nothing is cached */
	FOR_EACH_ENTRY(t, e)
		if (e->pa == page)
			entry_clear(e);
}
