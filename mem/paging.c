/* Paging walks: 32-bit, PAE and 4-level (SDM vol. 3A 4.3, 4.4, 4.5), access
 * rights (4.6), #PF error codes (4.7) and accessed/dirty flags (4.8). */
#include "mem/paging.h"

#include "mem/ept.h"

struct walk {
	const struct xlate_ctx *ctx;
	uint64_t rsvd_phys;     /* reserved physical-address bits of an entry */
	bool all_w, all_u, any_nx;
	uint64_t entry_pa[5];   /* entries used, for the A bits (host-physical under EPT) */
	uint64_t entry_gpa[5];  /* the same, guest-physical (= entry_pa without EPT) */
	int nentries;
	uint32_t err;           /* PFEC_RSVD when a reserved bit was set */
	/* Under EPT: the linear address being translated, and where an EPT
	 * violation or misconfiguration of a paging-structure access goes. */
	uint64_t la;
	struct xlate_fault *fault;
	bool ept_failed;
};

/* A guest-physical access that is not the translation of a linear address
 * (a guest paging-structure read, a PDPTE load) whose EPT translation hpa
 * lies on the trap page (the APIC-access page) causes an APIC-access VM
 * exit, never virtualized, below any EPT violation of the same access
 * (SDM vol. 3C 29.4.6.1): true with *f filled. The accessed/dirty updates
 * of the walk need no check: they write entries the walk has just read. */
static bool gpa_trapped(const struct xlate_ctx *ctx, uint64_t gpa, uint64_t hpa, struct xlate_fault *f)
{
	if (!ctx->gpa_trap || (hpa & PAGE_MASK) != ctx->gpa_trap->page)
		return false;
	*f = (struct xlate_fault){ .kind = XLATE_APIC_ACCESS_GPA, .gpa = gpa };
	return true;
}

/* A guest paging-structure access through EPT (SDM vol. 3C 29.3.3.2): a
 * data read, or with EPT A/D flags a write ("treated as writes"), for
 * translating w->la (qualification bits 7/8 = 1/0). */
static __attribute__((noinline, cold)) bool ept_entry_addr(struct phys_map *pm, struct walk *w, uint64_t *pa)
{
	struct ept_access a = { .type = (w->ctx->eptp & (1ull << 6)) ? EPT_ACC_READ | EPT_ACC_WRITE : EPT_ACC_READ,
				.linear_valid = true, .linear = w->la };
	struct ept_result r;
	if (!ept_translate(pm, w->ctx, *pa, &a, &r, w->fault) || gpa_trapped(w->ctx, *pa, r.hpa, w->fault)) {
		w->ept_failed = true;
		return false;
	}
	*pa = r.hpa;
	return true;
}

/* Read the paging-structure entry at guest-physical *pa; under EPT *pa
 * becomes its host-physical address, and an EPT failure reads as a
 * not-present entry with w->ept_failed set. */
static inline __attribute__((always_inline)) uint64_t read_entry(struct phys_map *pm, struct walk *w, uint64_t *pa,
								  bool wide)
{
	if (__builtin_expect(w->ctx->eptp != 0, 0)) {
		w->entry_gpa[w->nentries] = *pa;
		if (!ept_entry_addr(pm, w, pa))
			return 0;
	}
	return wide ? phys_read(pm, *pa, 8) : phys_read(pm, *pa, 4);
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

/* 4-level and 5-level paging (4.5): CR4.LA57 adds the PML5 table. Returns
 * the leaf entry, or 0 on a fault. */
static uint64_t walk_long(struct phys_map *pm, struct walk *w, uint64_t la, uint64_t *size)
{
	uint64_t table = w->ctx->cr3 & 0x000ffffffffff000ull & ~w->rsvd_phys;
	uint64_t rsvd = w->rsvd_phys | paging_nx_rsvd(w->ctx);
	int top = (w->ctx->cr4 & CR4_LA57) ? 5 : 4;
	for (int level = top; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t pa = table + ((la >> shift) & 511) * 8;
		uint64_t e = read_entry(pm, w, &pa, true);
		if (!use_entry(w, pa, e, rsvd | paging_large_rsvd(w->ctx, level, e)))
			return 0;
		if (level == 1 || (level <= 3 && (e & PTE_PS))) {
			*size = 1ull << shift;
			return e;
		}
		table = e & 0x000ffffffffff000ull;
	}
	return 0;
}

/* The four PDPTEs of the 32-byte table at physical address table. */
static bool load_pdptes_at(struct phys_map *pm, uint64_t table, unsigned maxphyaddr, uint64_t out[4])
{
	uint64_t e[4];
	for (unsigned k = 0; k < 4; k++) {
		e[k] = phys_read(pm, table + 8 * k, 8);
		if ((e[k] & PTE_P) && (e[k] & paging_pdpte_rsvd(maxphyaddr)))
			return false;
	}
	for (unsigned k = 0; k < 4; k++)
		out[k] = e[k];
	return true;
}

bool paging_load_pdptes(struct phys_map *pm, uint64_t cr3, unsigned maxphyaddr, uint64_t out[4])
{
	return load_pdptes_at(pm, cr3 & 0xffffffe0ull, maxphyaddr, out);
}

/* PAE paging (4.4): the PDPTEs come from the PDPTE registers, loaded and
 * checked when CR3/CR0/CR4 were written, not from memory. */
static uint64_t walk_pae(struct phys_map *pm, struct walk *w, uint64_t la, uint64_t *size)
{
	uint64_t pdpte = w->ctx->pdpte[(la >> 30) & 3];
	uint64_t rsvd = w->rsvd_phys | paging_nx_rsvd(w->ctx);
	if (!(pdpte & PTE_P))
		return 0;
	uint64_t table = pdpte & 0x000ffffffffff000ull;
	for (int level = 2; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t pa = table + ((la >> shift) & 511) * 8;
		uint64_t e = read_entry(pm, w, &pa, true);
		if (!use_entry(w, pa, e, rsvd | paging_large_rsvd(w->ctx, level, e)))
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
	uint64_t pde = read_entry(pm, w, &pde_pa, false);
	if ((pde & PTE_PS) && (w->ctx->cr4 & CR4_PSE)) {
		if (!use_entry(w, pde_pa, pde, paging_pse_rsvd(w->ctx)))
			return 0;
		*size = 4ull << 20;
		/* PSE-36: bits 20:13 give physical-address bits 39:32. */
		*base = (pde & 0xffc00000ull) | ((pde & 0x1fe000ull) << 19);
		return pde;
	}
	if (!use_entry(w, pde_pa, pde, 0))
		return 0;
	uint64_t pte_pa = (pde & 0xfffff000ull) + ((la >> 12) & 1023) * 4;
	uint64_t pte = read_entry(pm, w, &pte_pa, false);
	if (!use_entry(w, pte_pa, pte, 0))
		return 0;
	*size = 4096;
	*base = pte & 0xfffff000ull;
	return pte;
}

/* The protection key of a user-mode address under IA-32e paging with
 * CR4.PKE, else TLB-style "none" (0xff): keys exist only there (4.6.2). */
static uint8_t leaf_pkey(const struct walk *w, uint64_t leaf)
{
	const struct xlate_ctx *ctx = w->ctx;
	if (!(ctx->efer & EFER_LMA) || !(ctx->cr4 & CR4_PKE) || !w->all_u)
		return 0xff;
	return (uint8_t)((leaf >> PTE_PKEY_SHIFT) & 15);
}

/* PKRU for key k: AD (bit 2k) forbids every data access; WD (bit 2k+1)
 * forbids writes by user-mode accesses, and by supervisor-mode accesses
 * when CR0.WP = 1 (4.6.1, 4.6.2). Instruction fetches are not checked. */
static bool pkey_denies(const struct xlate_ctx *ctx, uint8_t pkey, bool write, bool user)
{
	if (pkey == 0xff)
		return false;
	unsigned bits = (ctx->pkru >> (2 * pkey)) & 3;
	if (bits & 1)
		return true;
	return write && (bits & 2) && (user || (ctx->cr0 & CR0_WP));
}

/* Access rights of the translation for the accessing privilege (4.6). */
static bool rights_ok(const struct walk *w, unsigned acc, uint8_t pkey, struct xlate_result *res)
{
	const struct xlate_ctx *ctx = w->ctx;
	bool user = (acc & ACC_USER) && !(acc & ACC_IMPLICIT);
	bool wp = ctx->cr0 & CR0_WP;
	bool smap = (ctx->cr4 & CR4_SMAP) && w->all_u && !user && ((acc & ACC_IMPLICIT) || !ctx->rflags_ac);

	res->user_ok = w->all_u;
	res->exec_ok = !w->any_nx && !(user ? !w->all_u : ((ctx->cr4 & CR4_SMEP) && w->all_u));
	res->writable = (user ? (w->all_u && w->all_w) : (w->all_w || !wp)) && !pkey_denies(ctx, pkey, true, user);
	if (user && !w->all_u)
		return false;
	if (acc & ACC_EXEC)
		return res->exec_ok;
	if (smap || pkey_denies(ctx, pkey, false, user))
		return false;
	if (acc & ACC_WRITE)
		return res->writable;
	return true;
}

/* #PF error code (4.7). PK is set for a data access to a user-mode address
 * whose key forbids it, whatever else also failed. */
static uint32_t fault_code(const struct walk *w, unsigned acc, bool present, uint8_t pkey)
{
	const struct xlate_ctx *ctx = w->ctx;
	bool user = (acc & ACC_USER) && !(acc & ACC_IMPLICIT);
	uint32_t err = w->err | (present ? PFEC_P : 0);
	if (acc & ACC_WRITE)
		err |= PFEC_W;
	if (user)
		err |= PFEC_U;
	if ((acc & ACC_EXEC) && (((ctx->cr4 & CR4_PAE) && (ctx->efer & EFER_NXE)) || (ctx->cr4 & CR4_SMEP)))
		err |= PFEC_I;
	if (present && !(acc & ACC_EXEC) && pkey_denies(ctx, pkey, (acc & ACC_WRITE) != 0, user))
		err |= PFEC_PK;
	return err;
}

/* Set the A flags of the walk and the leaf's D flag for a write (4.8).
 * Under EPT without EPT A/D flags such an update is a data write to the
 * entry's guest-physical address and needs EPT write permission (SDM vol.
 * 3C 29.3.3.2); with them the walk's accesses already were writes. False:
 * *w->fault holds the EPT violation. */
static bool set_accessed_dirty(struct phys_map *pm, struct walk *w, bool wide, bool write)
{
	const struct xlate_ctx *ctx = w->ctx;
	for (int k = 0; k < w->nentries; k++) {
		uint64_t e = phys_read(pm, w->entry_pa[k], wide ? 8 : 4);
		uint64_t ne = e | PTE_A;
		if (k == w->nentries - 1 && write)
			ne |= PTE_D;
		if (ne == e)
			continue;
		if (__builtin_expect(ctx->eptp != 0, 0) && !(ctx->eptp & (1ull << 6))) {
			struct ept_access a = { .type = EPT_ACC_WRITE, .linear_valid = true, .linear = w->la };
			struct ept_result r;
			if (!ept_translate(pm, ctx, w->entry_gpa[k], &a, &r, w->fault))
				return false;
		}
		phys_write(pm, w->entry_pa[k], ne, wide ? 8 : 4);
	}
	return true;
}

/* The final access under EPT (29.3.3.2): the guest-physical address in
 * res->pa goes through EPT as a read, write or fetch of the translation of
 * la (qualification bits 7/8 = 1/1; bits 9-11 from gla_bits); res->pa
 * becomes host-physical and what the TLB may cache includes EPT's
 * permissions (and, with EPT A/D flags, its D flag). user_addr: la is a
 * user-mode address (U/S = 1 all along the walk; every address with
 * CR0.PG = 0), which selects bit 10 over bit 2 for fetches with MBEC. */
static __attribute__((noinline)) bool ept_final(struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t la, unsigned acc, bool user_addr,
		      uint16_t gla_bits, struct xlate_result *res, struct xlate_fault *f)
{
	struct ept_access a = {
		.type = (acc & ACC_EXEC) ? EPT_ACC_FETCH : (acc & ACC_WRITE) ? EPT_ACC_WRITE : EPT_ACC_READ,
		.user_addr = user_addr, .linear_valid = true, .final = true, .gla_bits = gla_bits, .linear = la,
	};
	struct ept_result r;
	if (!ept_translate(pm, ctx, res->pa, &a, &r, f))
		return false;
	bool ux = (ctx->ept_flags & EPTF_MBEC) && user_addr;
	res->gpa = res->pa;
	res->pa = r.hpa;
	res->writable = res->writable && (r.perm & EPTE_W);
	res->exec_ok = res->exec_ok && (r.perm & (ux ? EPT_PERM_UX : EPTE_X));
	res->dirty = res->dirty && r.dirty;
	return true;
}

/* Advanced information for an EPT violation on the final access (Table
 * 28-7 bits 9-11): user-mode address, read/write, execute-disable. */
static uint16_t gla_info(const struct walk *w)
{
	return (uint16_t)((w->all_u ? EPT_QUAL_GLA_USER : 0) | (w->all_w ? EPT_QUAL_GLA_RW : 0) |
			 (w->any_nx ? EPT_QUAL_GLA_XD : 0));
}

bool paging_translate(struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t la, unsigned acc,
		      struct xlate_result *res, struct xlate_fault *fault)
{
	struct walk w = { .ctx = ctx, .all_w = true, .all_u = true, .la = la, .fault = fault };
	uint64_t size = 0, leaf, base = 0;
	bool wide = true;

	if (!(ctx->cr0 & CR0_PG)) {
		*res = (struct xlate_result){ .pa = la, .gpa = la, .page_size = PAGE_SIZE, .writable = true,
					      .user_ok = true, .exec_ok = true, .dirty = true, .pkey = 0xff };
		if (ctx->a20_masked)
			res->pa &= ~(1ull << 20);       /* the PC's A20 gate (the i8042 or port 92H) */
		/* Without paging every linear address is a user-mode, read/write,
		 * executable one (Table 28-7 bits 9-11). */
		if (__builtin_expect(ctx->eptp != 0, 0))
			return ept_final(pm, ctx, la, acc, true, EPT_QUAL_GLA_USER | EPT_QUAL_GLA_RW, res, fault);
		return true;
	}
	w.rsvd_phys = paging_rsvd_phys(ctx->maxphyaddr);
	if (ctx->efer & EFER_LMA) {
		leaf = walk_long(pm, &w, la, &size);
	} else if (ctx->cr4 & CR4_PAE) {
		leaf = walk_pae(pm, &w, la, &size);
	} else {
		wide = false;
		leaf = walk_32bit(pm, &w, la, &size, &base);
	}
	if (!leaf) {
		if (w.ept_failed)
			return false;   /* an EPT violation or misconfiguration on a paging-structure access */
		fault->error_code = fault_code(&w, acc, (w.err & PFEC_RSVD) != 0, 0xff);
		fault->kind = XLATE_PF;
		fault->linear = la;
		return false;
	}
	uint8_t pkey = leaf_pkey(&w, leaf);
	if (!rights_ok(&w, acc, pkey, res)) {
		fault->error_code = fault_code(&w, acc, true, pkey);
		fault->kind = XLATE_PF;
		fault->linear = la;
		return false;
	}
	if (wide)
		base = leaf & 0x000ffffffffff000ull & ~(size - 1);
	res->pa = (base & ~(size - 1)) | (la & (size - 1));
	res->gpa = res->pa;
	res->page_size = size;
	if (ctx->a20_masked) {
		res->pa &= ~(1ull << 20);
		res->page_size = PAGE_SIZE;
	}
	res->dirty = (leaf & PTE_D) || (acc & ACC_WRITE);
	if (__builtin_expect(ctx->eptp != 0, 0) && !ept_final(pm, ctx, la, acc, w.all_u, gla_info(&w), res, fault))
		return false;
	if (!set_accessed_dirty(pm, &w, wide, (acc & ACC_WRITE) != 0))
		return false;
	res->global = (leaf & PTE_G) != 0;
	res->pkey = pkey;
	return true;
}

enum pdpte_load paging_load_pdptes_ctx(struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t cr3,
				       uint64_t out[4], struct xlate_fault *f)
{
	uint64_t table = cr3 & 0xffffffe0ull;
	if (ctx->eptp) {
		/* 29.3.3.2: treated as reads even with EPT A/D flags; no linear address. */
		struct ept_access a = { .type = EPT_ACC_READ };
		struct ept_result r;
		if (!ept_translate(pm, ctx, table, &a, &r, f) || gpa_trapped(ctx, table, r.hpa, f))
			return PDPTE_EPT_FAULT;
		table = r.hpa;
	}
	return load_pdptes_at(pm, table, ctx->maxphyaddr, out) ? PDPTE_OK : PDPTE_RESERVED;
}
