/* Paging walks: 32-bit, PAE and 4-level (SDM vol. 3A 4.3, 4.4, 4.5), access
 * rights (4.6), #PF error codes (4.7) and accessed/dirty flags (4.8). */
#include "mem/paging.h"

struct walk {
	const struct xlate_ctx *ctx;
	uint64_t rsvd_phys;     /* reserved physical-address bits of an entry */
	bool all_w, all_u, any_nx;
	uint64_t entry_pa[5];   /* entries used, for the A bits */
	int nentries;
	uint32_t err;           /* PFEC_RSVD when a reserved bit was set */
};

static uint64_t read_entry(struct phys_map *pm, uint64_t pa, bool wide)
{
	return wide ? phys_read(pm, pa, 8) : phys_read(pm, pa, 4);
}

/* Record one entry on the walk; false when not present or reserved bits set. */
static bool use_entry(struct walk *w, uint64_t pa, uint64_t e, uint64_t rsvd)
{
	if (!(e & PTE_P))
		return false;
	if (e & rsvd) {
		w->err |= PFEC_RSVD;
		return false;
	}
	w->entry_pa[w->nentries++] = pa;
	w->all_w &= (e & PTE_W) != 0;
	w->all_u &= (e & PTE_U) != 0;
	w->any_nx |= (e & PTE_NX) != 0 && (w->ctx->efer & EFER_NXE);
	return true;
}

static uint64_t nx_rsvd(const struct xlate_ctx *ctx)
{
	return (ctx->efer & EFER_NXE) ? 0 : PTE_NX;
}

/* 4-level paging (4.5). Returns the leaf entry, or 0 on a fault. */
static uint64_t walk_4level(struct phys_map *pm, struct walk *w, uint64_t la, uint64_t *size)
{
	uint64_t table = w->ctx->cr3 & 0x000ffffffffff000ull & ~w->rsvd_phys;
	uint64_t rsvd = w->rsvd_phys | nx_rsvd(w->ctx);
	for (int level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t pa = table + ((la >> shift) & 511) * 8;
		uint64_t e = read_entry(pm, pa, true);
		uint64_t r = rsvd;
		if (level == 4)
			r |= PTE_PS;
		else if (level == 3 && (e & PTE_PS))
			r |= 0x3fffe000ull;             /* PDPTE 1 GiB: bits 29:13 */
		else if (level == 2 && (e & PTE_PS))
			r |= 0x1fe000ull;               /* PDE 2 MiB: bits 20:13 */
		if (!use_entry(w, pa, e, r))
			return 0;
		if (level == 1 || (level <= 3 && (e & PTE_PS))) {
			*size = 1ull << shift;
			return e;
		}
		table = e & 0x000ffffffffff000ull;
	}
	return 0;
}

/* PAE paging (4.4): the PDPTEs are read from memory at each walk. */
static uint64_t walk_pae(struct phys_map *pm, struct walk *w, uint64_t la, uint64_t *size)
{
	uint64_t pdpte_pa = (w->ctx->cr3 & 0xffffffe0ull) + ((la >> 30) & 3) * 8;
	uint64_t pdpte = read_entry(pm, pdpte_pa, true);
	uint64_t rsvd = w->rsvd_phys | nx_rsvd(w->ctx);
	if (!(pdpte & PTE_P))
		return 0;
	if (pdpte & (w->rsvd_phys | 0x1e6)) {   /* bits 2:1, 8:5 reserved in a PDPTE */
		w->err |= PFEC_RSVD;
		return 0;
	}
	uint64_t table = pdpte & 0x000ffffffffff000ull;
	for (int level = 2; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t pa = table + ((la >> shift) & 511) * 8;
		uint64_t e = read_entry(pm, pa, true);
		uint64_t r = rsvd | ((level == 2 && (e & PTE_PS)) ? 0x1fe000ull : 0);
		if (!use_entry(w, pa, e, r))
			return 0;
		if (level == 1 || (e & PTE_PS)) {
			*size = 1ull << shift;
			return e;
		}
		table = e & 0x000ffffffffff000ull;
	}
	return 0;
}

/* 32-bit paging (4.3), with 4 MiB pages under CR4.PSE. */
static uint64_t walk_32bit(struct phys_map *pm, struct walk *w, uint64_t la, uint64_t *size, uint64_t *base)
{
	uint64_t pde_pa = (w->ctx->cr3 & 0xfffff000ull) + ((la >> 22) & 1023) * 4;
	uint64_t pde = read_entry(pm, pde_pa, false);
	if ((pde & PTE_PS) && (w->ctx->cr4 & CR4_PSE)) {
		if (!use_entry(w, pde_pa, pde, 1ull << 21))     /* bit 21 reserved */
			return 0;
		*size = 4ull << 20;
		/* PSE-36: bits 20:13 give physical-address bits 39:32. */
		*base = (pde & 0xffc00000ull) | ((pde & 0x1fe000ull) << 19);
		return pde;
	}
	if (!use_entry(w, pde_pa, pde, 0))
		return 0;
	uint64_t pte_pa = (pde & 0xfffff000ull) + ((la >> 12) & 1023) * 4;
	uint64_t pte = read_entry(pm, pte_pa, false);
	if (!use_entry(w, pte_pa, pte, 0))
		return 0;
	*size = 4096;
	*base = pte & 0xfffff000ull;
	return pte;
}

/* Access rights of the translation for the accessing privilege (4.6). */
static bool rights_ok(const struct walk *w, unsigned acc, struct xlate_result *res)
{
	const struct xlate_ctx *ctx = w->ctx;
	bool user = (acc & ACC_USER) && !(acc & ACC_IMPLICIT);
	bool wp = ctx->cr0 & CR0_WP;
	bool smap = (ctx->cr4 & CR4_SMAP) && w->all_u && !user && ((acc & ACC_IMPLICIT) || !ctx->rflags_ac);

	res->user_ok = w->all_u;
	res->exec_ok = !w->any_nx && !(user ? !w->all_u : ((ctx->cr4 & CR4_SMEP) && w->all_u));
	res->writable = user ? (w->all_u && w->all_w) : (w->all_w || !wp);
	if (user && !w->all_u)
		return false;
	if (acc & ACC_EXEC)
		return res->exec_ok;
	if (smap)
		return false;
	if (acc & ACC_WRITE)
		return res->writable;
	return true;
}

static uint32_t fault_code(const struct walk *w, unsigned acc, bool present)
{
	const struct xlate_ctx *ctx = w->ctx;
	uint32_t err = w->err | (present ? PFEC_P : 0);
	if (acc & ACC_WRITE)
		err |= PFEC_W;
	if ((acc & ACC_USER) && !(acc & ACC_IMPLICIT))
		err |= PFEC_U;
	if ((acc & ACC_EXEC) && (((ctx->cr4 & CR4_PAE) && (ctx->efer & EFER_NXE)) || (ctx->cr4 & CR4_SMEP)))
		err |= PFEC_I;
	return err;
}

static void set_accessed_dirty(struct phys_map *pm, const struct walk *w, bool wide, bool write)
{
	for (int k = 0; k < w->nentries; k++) {
		uint64_t e = read_entry(pm, w->entry_pa[k], wide);
		uint64_t ne = e | PTE_A;
		if (k == w->nentries - 1 && write)
			ne |= PTE_D;
		if (ne != e)
			phys_write(pm, w->entry_pa[k], ne, wide ? 8 : 4);
	}
}

bool paging_translate(struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t la, unsigned acc,
		      struct xlate_result *res, struct xlate_fault *fault)
{
	struct walk w = { .ctx = ctx, .all_w = true, .all_u = true };
	uint64_t size = 0, leaf, base = 0;
	bool wide = true;

	if (!(ctx->cr0 & CR0_PG)) {
		*res = (struct xlate_result){ .pa = la, .page_size = PAGE_SIZE, .writable = true,
					      .user_ok = true, .exec_ok = true, .dirty = true };
		return true;
	}
	w.rsvd_phys = ctx->maxphyaddr < 52 ? (((1ull << 52) - 1) & ~((1ull << ctx->maxphyaddr) - 1)) : 0;
	if (ctx->efer & EFER_LMA) {
		leaf = walk_4level(pm, &w, la, &size);
	} else if (ctx->cr4 & CR4_PAE) {
		leaf = walk_pae(pm, &w, la, &size);
	} else {
		wide = false;
		leaf = walk_32bit(pm, &w, la, &size, &base);
	}
	if (leaf && !rights_ok(&w, acc, res))
		goto protection;
	if (!leaf) {
		fault->error_code = fault_code(&w, acc, (w.err & PFEC_RSVD) != 0);
		fault->linear = la;
		return false;
	}
	if (wide)
		base = leaf & 0x000ffffffffff000ull & ~(size - 1);
	set_accessed_dirty(pm, &w, wide, (acc & ACC_WRITE) != 0);
	res->pa = (base & ~(size - 1)) | (la & (size - 1));
	res->page_size = size;
	res->dirty = (leaf & PTE_D) || (acc & ACC_WRITE);
	res->global = (leaf & PTE_G) != 0;
	return true;
protection:
	fault->error_code = fault_code(&w, acc, true);
	fault->linear = la;
	return false;
}
