/* Software TLB maintenance: the invalidations of SDM vol. 3A 4.10.4.1, each
 * dropping exactly the entries the SDM names (and, where the SDM lets the
 * processor choose, no more), so that a guest can observe the staleness the
 * architecture allows. */
#include "mem/tlb.h"

#include <string.h>

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

/* Slots of ctxs that name a context: the current one always does. */
static uint32_t used_ctxs(const struct tlb *t)
{
	return t->used | 1u << t->ctx;
}

/* Slots naming a context of vpid. */
static uint32_t vpid_ctxs(const struct tlb *t, uint16_t vpid)
{
	uint32_t m = 0;
	for (uint32_t u = used_ctxs(t); u; u &= u - 1) {
		unsigned k = (unsigned)__builtin_ctz(u);
		if (t->ctxs[k].vpid == vpid)
			m |= 1u << k;
	}
	return m;
}

/* Live: usable by the hit path now (tags without TLB_DORMANT). */
static bool entry_live(const struct tlb *t, const struct tlb_entry *e)
{
	return e->ctx == t->ctx && (e->global || e->pcid == t->pcid);
}

void tlb_flush_all(struct tlb *t)
{
	if (t->fill_logged && !t->spill_used) {
		/* Only logged slots can hold a translation (tlb_note_fill). */
		for (unsigned k = 0; k < t->nfilled; k++) {
			entry_clear(&t->e[0][0] + t->filled[k]);
			t->occupied[t->filled[k] / 64] = 0;
		}
	} else {
		t->spill_used = true;
		FOR_EACH_ENTRY(t, e)
			entry_clear(e);
		memset(t->spilled, 0, sizeof(t->spilled));
		memset(t->occupied, 0, sizeof(t->occupied));
	}
	t->nfilled = 0;
	t->fill_logged = true;
	t->has_large = false;
	t->spill_used = false;
	t->used = 1u << t->ctx;
}

/* Which entries an invalidation drops: those cached in a context of ctxs
 * (a mask of slots) that are global when global is set, or non-global of
 * PCID pcid (any PCID when pcid < 0). */
struct tlb_filter {
	uint32_t ctxs;
	int pcid;
	bool global;
};

static bool filter_match(const struct tlb_filter *f, const struct tlb_entry *e)
{
	if (!(f->ctxs >> e->ctx & 1))
		return false;
	return e->global ? f->global : f->pcid < 0 || e->pcid == f->pcid;
}

/* Clear the entries f names among those of arr whose bit is set in map
 * (struct tlb.occupied or .spilled: every slot that holds an entry has its
 * bit set). */
static void clear_matching(const uint64_t *map, struct tlb_entry *arr, const struct tlb_filter *f)
{
	for (unsigned w = 0; w < TLB_CLASSES * TLB_SIZE / 64; w++)
		for (uint64_t bits = map[w]; bits; bits &= bits - 1) {
			struct tlb_entry *e = arr + w * 64 + (unsigned)__builtin_ctzll(bits);
			if (filter_match(f, e))
				entry_clear(e);
		}
}

/* Drop the entries f names. When f names every entry of its contexts,
 * those contexts end (the current one stays); when it names every entry
 * there is, tlb_flush_all does it with the fill log. */
static void flush_filter(struct tlb *t, const struct tlb_filter *f)
{
	if (!f->ctxs)
		return;
	bool whole = f->pcid < 0 && f->global;
	if (whole && (f->ctxs & used_ctxs(t)) == used_ctxs(t)) {
		tlb_flush_all(t);
		return;
	}
	clear_matching(t->occupied, &t->e[0][0], f);
	if (t->spill_used)
		clear_matching(t->spilled, &t->e[TLB_CLASSES][0], f);
	if (whole)
		t->used &= ~f->ctxs | 1u << t->ctx;
}

/* Entries for la's page that f names: only la's own slot in each class can
 * hold a 4 KiB translation; pieces of large pages may sit anywhere. */
static void flush_page_filter(struct tlb *t, uint64_t la, const struct tlb_filter *f)
{
	if (!f->ctxs)
		return;
	if (!t->has_large) {
		for (unsigned k = 0; k < (t->spill_used ? 2 : 1) * TLB_CLASSES; k++) {
			struct tlb_entry *e = &t->e[k][tlb_index(la)];
			if (entry_covers(e, la) && filter_match(f, e))
				entry_clear(e);
		}
		return;
	}
	FOR_EACH_ENTRY(t, e)
		if (entry_covers(e, la) && filter_match(f, e))
			entry_clear(e);
}

void tlb_flush_current(struct tlb *t)
{
	flush_filter(t, &(struct tlb_filter){ vpid_ctxs(t, tlb_vpid(t)), -1, true });
}

void tlb_flush_pcid(struct tlb *t, uint16_t pcid)
{
	flush_filter(t, &(struct tlb_filter){ vpid_ctxs(t, tlb_vpid(t)), pcid, false });
}

void tlb_flush_nonglobal(struct tlb *t)
{
	flush_filter(t, &(struct tlb_filter){ vpid_ctxs(t, tlb_vpid(t)), -1, false });
}

void tlb_flush_page(struct tlb *t, uint64_t la)
{
	flush_page_filter(t, la, &(struct tlb_filter){ vpid_ctxs(t, tlb_vpid(t)), t->pcid, true });
}

void tlb_flush_page_pcid(struct tlb *t, uint64_t la, uint16_t pcid)
{
	flush_page_filter(t, la, &(struct tlb_filter){ vpid_ctxs(t, tlb_vpid(t)), pcid, false });
}

void tlb_flush_vpid_slow(struct tlb *t, uint16_t vpid)
{
	flush_filter(t, &(struct tlb_filter){ vpid_ctxs(t, vpid), -1, true });
}

void tlb_flush_vpid_nonglobal(struct tlb *t, uint16_t vpid)
{
	flush_filter(t, &(struct tlb_filter){ vpid_ctxs(t, vpid), -1, false });
}

void tlb_flush_vpid_page(struct tlb *t, uint16_t vpid, uint64_t la)
{
	flush_page_filter(t, la, &(struct tlb_filter){ vpid_ctxs(t, vpid), -1, true });
}

void tlb_flush_all_vpids(struct tlb *t)
{
	flush_filter(t, &(struct tlb_filter){ used_ctxs(t) & ~vpid_ctxs(t, 0), -1, true });
}

void tlb_flush_ept(struct tlb *t, uint64_t ept)
{
	uint32_t m = 0;
	for (uint32_t u = used_ctxs(t); u; u &= u - 1) {
		unsigned k = (unsigned)__builtin_ctz(u);
		if (ept ? t->ctxs[k].ept == ept : t->ctxs[k].ept != 0)
			m |= 1u << k;
	}
	flush_filter(t, &(struct tlb_filter){ m, -1, true });
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

static void remark_entry(const struct tlb *t, struct tlb_entry *e)
{
	if (!entry_valid(e))
		return;
	if (entry_live(t, e))
		tags_wake(e);
	else
		tags_or(e, TLB_DORMANT);
}

/* After the current context or PCID changed: wake the live entries of the
 * hit-path arrays, put the others to sleep. Only occupied slots are looked
 * at; those found empty are no longer marked. */
static void remark(struct tlb *t)
{
	for (unsigned w = 0; w < TLB_CLASSES * TLB_SIZE / 64; w++)
		for (uint64_t bits = t->occupied[w]; bits; bits &= bits - 1) {
			unsigned slot = w * 64 + (unsigned)__builtin_ctzll(bits);
			struct tlb_entry *e = &t->e[0][0] + slot;
			if (entry_valid(e))
				remark_entry(t, e);
			else
				t->occupied[w] &= ~(1ull << (slot % 64));
		}
}

/* Bring spilled entries that are live now back where the slot is free or
 * holds a dormant entry, which takes the spill place. */
static void unspill(struct tlb *t)
{
	for (unsigned w = 0; w < TLB_CLASSES * TLB_SIZE / 64; w++)
		for (uint64_t bits = t->spilled[w]; bits; bits &= bits - 1) {
			unsigned slot = w * 64 + (unsigned)__builtin_ctzll(bits);
			struct tlb_entry *m = &t->e[0][0] + slot, *s = m + TLB_CLASSES * TLB_SIZE;
			if (entry_valid(s) && entry_live(t, s) && !(entry_valid(m) && entry_live(t, m))) {
				struct tlb_entry tmp = *m;
				*m = *s;
				*s = tmp;
				tags_wake(m);
				t->occupied[w] |= 1ull << (slot % 64);
			}
			if (!entry_valid(s))
				t->spilled[w] &= ~(1ull << (slot % 64));
		}
}

void tlb_switch_pcid(struct tlb *t, uint16_t pcid)
{
	if (pcid == t->pcid)
		return;
	t->pcid = pcid;
	remark(t);
	if (t->spill_used)
		unspill(t);
}

/* The slot of context (vpid, ept): an existing one, a free one, or the
 * least recently current one, flushed (28.3.3.1 lets the processor
 * invalidate any cached mapping at any time). */
static unsigned ctx_slot(struct tlb *t, uint16_t vpid, uint64_t ept, uint32_t perm)
{
	uint32_t used = used_ctxs(t);
	unsigned victim = TLB_CONTEXTS;
	if (t->ctxs[t->ctx].vpid == vpid && t->ctxs[t->ctx].ept == ept)
		return t->ctx;
	for (uint32_t u = used; u; u &= u - 1) {
		unsigned k = (unsigned)__builtin_ctz(u);
		if (t->ctxs[k].vpid == vpid && t->ctxs[k].ept == ept)
			return k;
		if (k != t->ctx && (victim == TLB_CONTEXTS || t->ctxs[k].stamp < t->ctxs[victim].stamp))
			victim = k;
	}
	if (~used & ((1u << TLB_CONTEXTS) - 1))
		victim = (unsigned)__builtin_ctz(~used);
	else
		flush_filter(t, &(struct tlb_filter){ 1u << victim, -1, true });
	t->ctxs[victim] = (struct tlb_context){ .ept = ept, .perm = perm, .vpid = vpid };
	t->used |= 1u << victim;
	return victim;
}

void tlb_switch_slow(struct tlb *t, uint16_t vpid, uint64_t ept, uint16_t pcid, uint32_t perm)
{
	const struct tlb_context *cur = &t->ctxs[t->ctx];
	if (cur->vpid == vpid && cur->ept == ept) {
		if (t->perm != perm && !tlb_empty(t))
			flush_filter(t, &(struct tlb_filter){ 1u << t->ctx, -1, true });
		t->perm = perm;
		tlb_switch_pcid(t, pcid);
		return;
	}
	t->used |= 1u << t->ctx;
	t->ctxs[t->ctx].perm = t->perm;
	unsigned k = ctx_slot(t, vpid, ept, perm);
	bool same = k == t->ctx && pcid == t->pcid;
	t->ctx = (uint8_t)k;
	t->ctxs[k].stamp = ++t->stamp;
	t->perm = perm;
	if (t->ctxs[k].perm != perm) {
		t->ctxs[k].perm = perm;
		flush_filter(t, &(struct tlb_filter){ 1u << k, -1, true });
	}
	if (same)
		return;
	t->pcid = pcid;
	remark(t);
	if (t->spill_used)
		unspill(t);
}

void tlb_make_room(struct tlb *t, unsigned cls, unsigned idx)
{
	struct tlb_entry *e = &t->e[cls][idx];
	if (!entry_valid(e) || entry_live(t, e))
		return;
	t->e[TLB_CLASSES + cls][idx] = *e;
	t->spill_used = true;
	t->spilled[(cls * TLB_SIZE + idx) / 64] |= 1ull << (idx % 64);
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
