/* Side-effect-free page walks (mem/walkview.h): the same rules as
 * mem/paging.c (SDM vol. 3A 4.3-4.5) and mem/ept.c (SDM vol. 3C 29.3.2),
 * reading entries with phys_copy_out (RAM and ROM only) and writing
 * nothing. */
#include "mem/walkview.h"

#include <string.h>

#define ADDR_MASK 0x000ffffffffff000ull         /* bits 51:12 of an entry or CR3 */
#define EPTP_AD (1ull << 6)                     /* EPTP bit 6: EPT accessed and dirty flags */

const char *wv_level_name(int level)
{
	static const char *const names[6] = { "?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };
	return level >= 1 && level <= 5 ? names[level] : "?";
}

const char *wv_ept_level_name(int level)
{
	static const char *const names[6] = { "EPT ?", "EPT PTE", "EPT PDE", "EPT PDPTE", "EPT PML4E", "EPT PML5E" };
	return level >= 1 && level <= 5 ? names[level] : "EPT ?";
}

const char *wv_mode_name(enum wv_mode m)
{
	switch (m) {
	case WV_MODE_NONE: return "no paging (CR0.PG = 0)";
	case WV_MODE_32BIT: return "32-bit paging";
	case WV_MODE_PAE: return "PAE paging";
	case WV_MODE_4LEVEL: return "4-level paging";
	case WV_MODE_5LEVEL: return "5-level paging";
	}
	return "?";
}

const char *wv_stop_name(enum wv_stop s)
{
	switch (s) {
	case WV_OK: return "ok";
	case WV_NOT_PRESENT: return "not present";
	case WV_RESERVED: return "reserved bit set";
	case WV_NOT_MEMORY: return "entry not in RAM or ROM";
	case WV_EPT_FAILED: return "EPT walk failed";
	}
	return "?";
}

/* One entry of 4 or 8 bytes at (host-)physical pa: false when any byte
 * is not RAM or ROM. */
static bool read_mem(const struct phys_map *pm, uint64_t pa, unsigned size, uint64_t *v)
{
	*v = 0;
	return phys_copy_out(pm, pa, v, size) == 0;
}

static bool ept_fail(struct wv_ept *e, enum wv_stop why)
{
	e->stop = why;
	return false;
}

bool wv_ept_walk(const struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t gpa, struct wv_ept *e)
{
	memset(e, 0, sizeof(*e));
	e->gpa = gpa;
	e->levels = (uint8_t)(((ctx->eptp >> 3) & 7) + 1);
	if (e->levels > 5)
		return ept_fail(e, WV_RESERVED);        /* a walk length VM entry refuses (26.2.1.1) */
	uint64_t table = ctx->eptp & ADDR_MASK & ~ept_phys_rsvd(ctx);
	uint8_t perm = EPTE_R | EPTE_W | EPTE_X | EPT_PERM_UX;
	for (int level = e->levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		struct wv_entry *en = &e->e[e->n++];
		en->level = (uint8_t)level;
		en->addr = table + ((gpa >> shift) & 511) * 8;
		if (!read_mem(pm, en->addr, 8, &en->value))
			return ept_fail(e, WV_NOT_MEMORY);
		if (!ept_entry_present(ctx, en->value))
			return ept_fail(e, WV_NOT_PRESENT);
		en->leaf = level == 1 || (level <= 3 && (en->value & EPTE_LARGE));
		if (ept_entry_misconfigured(ctx, level, en->value, en->leaf))
			return ept_fail(e, WV_RESERVED);
		perm &= (uint8_t)((en->value & 7) | ((en->value & EPTE_UX) ? EPT_PERM_UX : 0));
		if (en->leaf) {
			en->page_size = e->page_size = 1ull << shift;
			e->hpa = (en->value & ADDR_MASK & ~(e->page_size - 1)) | (gpa & (e->page_size - 1));
			e->perm = perm;
			e->memtype = (uint8_t)((en->value & EPTE_MT_MASK) >> EPTE_MT_SHIFT);
			e->ipat = (en->value & EPTE_IPAT) != 0;
			return true;
		}
		table = en->value & ADDR_MASK;
	}
	return ept_fail(e, WV_NOT_PRESENT);     /* not reached: level 1 is a leaf */
}

/* Read the guest entry of `level` at (guest-)physical pa into w->e[w->n];
 * under EPT through its EPT walk (w->ept_entry[w->n]). False with w->stop
 * set when it cannot be read. */
static bool read_guest(const struct phys_map *pm, const struct xlate_ctx *ctx, struct wv_walk *w, uint64_t pa,
		       unsigned size, int level, uint64_t *v)
{
	int k = w->n++;
	uint64_t hpa = pa;
	w->e[k] = (struct wv_entry){ .level = (uint8_t)level, .addr = pa };
	if (w->ept) {
		if (!wv_ept_walk(pm, ctx, pa, &w->ept_entry[k])) {
			w->stop = WV_EPT_FAILED;
			return false;
		}
		hpa = w->ept_entry[k].hpa;
	}
	if (!read_mem(pm, hpa, size, v)) {
		w->stop = WV_NOT_MEMORY;
		return false;
	}
	w->e[k].value = *v;
	return true;
}

/* Check the entry just read (4.3-4.5): present, no reserved bit; then
 * fold its R/W, U/S and XD into the walk. */
static bool use_entry(const struct xlate_ctx *ctx, struct wv_walk *w, uint64_t e, uint64_t rsvd)
{
	if (!(e & PTE_P)) {
		w->stop = WV_NOT_PRESENT;
		return false;
	}
	if (e & rsvd) {
		w->stop = WV_RESERVED;
		return false;
	}
	w->all_w &= (e & PTE_W) != 0;
	w->all_u &= (e & PTE_U) != 0;
	w->any_nx |= (e & PTE_NX) != 0 && (ctx->efer & EFER_NXE);
	return true;
}

static void set_leaf(struct wv_walk *w, uint64_t size)
{
	w->e[w->n - 1].leaf = true;
	w->e[w->n - 1].page_size = size;
	w->page_size = size;
}

/* 4-level and 5-level paging (4.5): the page frame, or false. */
static bool walk_long(const struct phys_map *pm, const struct xlate_ctx *ctx, struct wv_walk *w, uint64_t *base)
{
	uint64_t rsvd_phys = paging_rsvd_phys(ctx->maxphyaddr);
	uint64_t table = ctx->cr3 & ADDR_MASK & ~rsvd_phys, e;
	for (int level = w->mode == WV_MODE_5LEVEL ? 5 : 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		if (!read_guest(pm, ctx, w, table + ((w->la >> shift) & 511) * 8, 8, level, &e))
			return false;
		if (!use_entry(ctx, w, e, rsvd_phys | paging_nx_rsvd(ctx) | paging_large_rsvd(ctx, level, e)))
			return false;
		if (level == 1 || (level <= 3 && (e & PTE_PS))) {
			set_leaf(w, 1ull << shift);
			*base = e & ADDR_MASK & ~(w->page_size - 1);
			if ((ctx->cr4 & CR4_PKE) && w->all_u)
				w->pkey = (uint8_t)((e >> PTE_PKEY_SHIFT) & 15);        /* 4.6.2 */
			return true;
		}
		table = e & ADDR_MASK;
	}
	return false;
}

/* PAE paging (4.4): the PDPTE comes from its register (4.4.1). */
static bool walk_pae(const struct phys_map *pm, const struct xlate_ctx *ctx, struct wv_walk *w, uint64_t *base)
{
	unsigned idx = (unsigned)(w->la >> 30) & 3;
	uint64_t pdpte = ctx->pdpte[idx], e;
	uint64_t rsvd = paging_rsvd_phys(ctx->maxphyaddr) | paging_nx_rsvd(ctx);
	w->e[w->n++] = (struct wv_entry){ .level = 3, .from_register = true,
					  .addr = (ctx->cr3 & 0xffffffe0ull) + idx * 8, .value = pdpte };
	if (!(pdpte & PTE_P)) {
		w->stop = WV_NOT_PRESENT;
		return false;
	}
	uint64_t table = pdpte & ADDR_MASK;
	for (int level = 2; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		if (!read_guest(pm, ctx, w, table + ((w->la >> shift) & 511) * 8, 8, level, &e))
			return false;
		if (!use_entry(ctx, w, e, rsvd | paging_large_rsvd(ctx, level, e)))
			return false;
		if (level == 1 || (e & PTE_PS)) {
			set_leaf(w, 1ull << shift);
			*base = e & ADDR_MASK & ~(w->page_size - 1);
			return true;
		}
		table = e & ADDR_MASK;
	}
	return false;
}

/* 32-bit paging (4.3), 4 MiB pages with CR4.PSE (PSE-36 high bits). */
static bool walk_32bit(const struct phys_map *pm, const struct xlate_ctx *ctx, struct wv_walk *w, uint64_t *base)
{
	uint64_t pde, pte;
	if (!read_guest(pm, ctx, w, (ctx->cr3 & 0xfffff000ull) + ((w->la >> 22) & 1023) * 4, 4, 2, &pde))
		return false;
	if ((pde & PTE_PS) && (ctx->cr4 & CR4_PSE)) {
		if (!use_entry(ctx, w, pde, paging_pse_rsvd(ctx)))
			return false;
		set_leaf(w, 4ull << 20);
		*base = (pde & 0xffc00000ull) | ((pde & 0x1fe000ull) << 19);
		return true;
	}
	if (!use_entry(ctx, w, pde, 0))
		return false;
	if (!read_guest(pm, ctx, w, (pde & 0xfffff000ull) + ((w->la >> 12) & 1023) * 4, 4, 1, &pte))
		return false;
	if (!use_entry(ctx, w, pte, 0))
		return false;
	set_leaf(w, 4096);
	*base = pte & 0xfffff000ull;
	return true;
}

/* The EPT violation a data read would meet on the EPT walk e (Table
 * 28-7): a paging-structure read (treated as a write too with EPT A/D
 * flags, 29.3.3.2) or the final access, with the permissions of the
 * entries read (only bits 2:0 without MBEC) and, for the final access,
 * the advanced information where the processor offers it. */
static uint64_t ept_read_qual(const struct xlate_ctx *ctx, const struct wv_walk *w, const struct wv_ept *e,
			      bool final)
{
	uint64_t q = EPT_QUAL_READ | EPT_QUAL_GLA_VALID;
	if (!final && (ctx->eptp & EPTP_AD))
		q |= EPT_QUAL_WRITE;
	if (e->stop == WV_OK)
		q |= (uint64_t)((ctx->ept_flags & EPTF_MBEC) ? e->perm : (e->perm & 7)) << 3;
	if (final) {
		q |= EPT_QUAL_GLA_FINAL;
		if (ctx->ept_flags & EPTF_ADV_INFO)
			q |= (w->all_u ? EPT_QUAL_GLA_USER : 0) | (w->all_w ? EPT_QUAL_GLA_RW : 0) |
			     (w->any_nx ? EPT_QUAL_GLA_XD : 0);
	}
	return q;
}

/* What a data read at ctx->cpl would raise where the walk failed. */
static void describe_fault(const struct xlate_ctx *ctx, struct wv_walk *w, const struct wv_ept *failed, bool final)
{
	uint32_t user = ctx->cpl == 3 ? PFEC_U : 0;
	if (w->stop == WV_NOT_PRESENT) {
		w->pf = true;
		w->pf_error = user;
	} else if (w->stop == WV_RESERVED) {
		w->pf = true;
		w->pf_error = PFEC_P | PFEC_RSVD | user;
	} else if (w->stop == WV_EPT_FAILED && failed->stop == WV_NOT_PRESENT) {
		w->ept_violation = true;
		w->ept_qual = ept_read_qual(ctx, w, failed, final);
	}
}

bool wv_translate(const struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t la, struct wv_walk *w)
{
	memset(w, 0, sizeof(*w));
	*w = (struct wv_walk){ .la = la, .ept = ctx->eptp != 0, .all_w = true, .all_u = true, .pkey = 0xff };
	uint64_t base = 0;
	bool ok = true;
	if (!(ctx->cr0 & CR0_PG)) {
		w->mode = WV_MODE_NONE;
		base = la & ~0xfffull;
		w->page_size = PAGE_SIZE;
	} else if (ctx->efer & EFER_LMA) {
		w->mode = (ctx->cr4 & CR4_LA57) ? WV_MODE_5LEVEL : WV_MODE_4LEVEL;
		ok = walk_long(pm, ctx, w, &base);
	} else if (ctx->cr4 & CR4_PAE) {
		w->mode = WV_MODE_PAE;
		ok = walk_pae(pm, ctx, w, &base);
	} else {
		w->mode = WV_MODE_32BIT;
		ok = walk_32bit(pm, ctx, w, &base);
	}
	if (!ok) {
		describe_fault(ctx, w, w->n ? &w->ept_entry[w->n - 1] : NULL, false);
		return false;
	}
	w->gpa = base | (la & (w->page_size - 1));
	if (ctx->a20_masked)
		w->gpa &= ~(1ull << 20);        /* the PC's A20 gate */
	w->pa = w->gpa;
	if (w->ept) {
		if (!wv_ept_walk(pm, ctx, w->gpa, &w->ept_final)) {
			w->stop = WV_EPT_FAILED;
			describe_fault(ctx, w, &w->ept_final, true);
			return false;
		}
		w->pa = w->ept_final.hpa;
	}
	w->stop = WV_OK;
	return true;
}
