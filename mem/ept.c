/* The EPT walk: guest-physical -> host-physical in VMX non-root operation
 * (SDM vol. 3C 29.3 "The extended page table mechanism (EPT)"; chapter 28
 * in editions where VM exits are chapter 27): 4- and 5-level walks, 4 KiB,
 * 2 MiB and 1 GiB pages, EPT misconfigurations (29.3.3.1), EPT violations
 * with the Table 28-7 exit qualification (29.3.3.2), accessed and dirty
 * flags (29.3.5), and the guest-physical mappings cache (29.4).
 *
 * ept_violation() is the one place a violation is made: it records the
 * "suppress #VE" bit vmx/ needs to decide between a VM exit and a
 * virtualization exception (25.5.6.1). set_ad() is the one place the walk
 * sets EPT accessed and dirty flags: with "enable PML" it checks the PML
 * index first (log-full event) and logs each dirty flag it sets (28.2.5
 * "Page-Modification Logging"; 29.3.6 in later editions). */
#include "mem/ept.h"

#define EPT_ADDR_MASK 0x000ffffffffff000ull     /* bits 51:12 */
#define EPTP_AD_ON (1ull << 6)

static uint8_t entry_perm(uint64_t e)
{
	return (uint8_t)((e & 7) | ((e & EPTE_UX) ? EPT_PERM_UX : 0));
}

/* Does perm allow access a (29.3.3.2)? A fetch with mode-based execute
 * control needs bit 10 for a user-mode linear address, bit 2 otherwise. */
static bool allowed(const struct xlate_ctx *ctx, uint8_t perm, const struct ept_access *a)
{
	if ((a->type & EPT_ACC_READ) && !(perm & EPTE_R))
		return false;
	if ((a->type & EPT_ACC_WRITE) && !(perm & EPTE_W))
		return false;
	if (a->type & EPT_ACC_FETCH) {
		bool ux = (ctx->ept_flags & EPTF_MBEC) && a->user_addr;
		return (perm & (ux ? EPT_PERM_UX : EPTE_X)) != 0;
	}
	return true;
}

/* The EPT violation for access a (Table 28-7): bits 2:0 the access, 6:3
 * the permissions (bit 6 only with MBEC, else 0), 7/8 linear valid /
 * final translation, 9-11 the advanced information for a final
 * translation where the processor offers it. vmx/ adds bit 12. e is the
 * entry whose bit 63 decides convertibility (25.5.6.1): the not-present
 * one, or the one that maps the page; vmx/ decides whether it is a #VE
 * (vmx_xlate_exit). */
static bool ept_violation(const struct xlate_ctx *ctx, uint64_t gpa, const struct ept_access *a, uint8_t perm,
			  uint64_t e, struct xlate_fault *f)
{
	uint64_t q = a->type;
	uint8_t shown = (ctx->ept_flags & EPTF_MBEC) ? perm : (perm & 7);
	q |= (uint64_t)shown << 3;
	if (a->linear_valid) {
		q |= EPT_QUAL_GLA_VALID;
		if (a->final) {
			q |= EPT_QUAL_GLA_FINAL;
			if (ctx->ept_flags & EPTF_ADV_INFO)
				q |= a->gla_bits & (EPT_QUAL_GLA_USER | EPT_QUAL_GLA_RW | EPT_QUAL_GLA_XD);
		}
	}
	*f = (struct xlate_fault){ .kind = XLATE_EPT_VIOLATION, .qual = q, .gpa = gpa,
				   .linear = a->linear, .linear_valid = a->linear_valid,
				   .ve_suppress = (e & EPTE_SVE) != 0 };
	return false;
}

static bool ept_misconfig(uint64_t gpa, struct xlate_fault *f)
{
	*f = (struct xlate_fault){ .kind = XLATE_EPT_MISCONFIG, .gpa = gpa };
	return false;
}

/* 29.3.5: A in every entry used, D in the leaf for a write (a guest
 * paging-structure access counts as one with A/D on). With "enable PML"
 * (28.2.5): when a flag must be set, a PML index outside 0-511 is a
 * page-modification log-full event: no flag is set and the access does
 * not happen (false, *f = XLATE_PML_FULL). Otherwise the flags are set
 * and, when the leaf's D went from 0 to 1, the 4-KiB-aligned gpa is
 * written at PML address + 8 * index and the index is decremented (from
 * 0 it becomes FFFFH). */
static bool set_ad(struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t gpa, const uint64_t *entry_pa, int n,
		   bool write, struct xlate_fault *f)
{
	uint64_t old[5], upd[5];
	bool change = false;
	for (int k = 0; k < n; k++) {
		old[k] = phys_read(pm, entry_pa[k], 8);
		upd[k] = old[k] | EPTE_A | (k == n - 1 && write ? EPTE_D : 0);
		change |= upd[k] != old[k];
	}
	if (!change)
		return true;
	bool pml = (ctx->ept_flags & EPTF_PML) != 0;
	uint64_t index = pml ? phys_read(pm, ctx->pml_index_pa, 2) : 0;
	if (pml && index > 511) {
		*f = (struct xlate_fault){ .kind = XLATE_PML_FULL, .gpa = gpa };
		return false;
	}
	for (int k = 0; k < n; k++)
		if (upd[k] != old[k])
			phys_write(pm, entry_pa[k], upd[k], 8);
	if (pml && !(old[n - 1] & EPTE_D) && (upd[n - 1] & EPTE_D)) {
		phys_write(pm, ctx->pml_addr + 8 * index, gpa & ~0xfffull, 8);
		phys_write_unwatched(pm, ctx->pml_index_pa, (index - 1) & 0xffff, 2);
	}
	return true;
}

/* The walk itself (29.3.2 "EPT translation mechanism"). */
static bool walk(struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t gpa, const struct ept_access *a,
		 struct ept_result *r, struct xlate_fault *f)
{
	uint64_t table = ctx->eptp & EPT_ADDR_MASK & ~ept_phys_rsvd(ctx);
	uint64_t entry_pa[5];
	int levels = (int)((ctx->eptp >> 3) & 7) + 1, n = 0;
	uint8_t perm = EPTE_R | EPTE_W | EPTE_X | EPT_PERM_UX;
	for (int level = levels; level >= 1; level--) {
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint64_t pa = table + ((gpa >> shift) & 511) * 8;
		uint64_t e = phys_read(pm, pa, 8);
		if (!ept_entry_present(ctx, e))
			return ept_violation(ctx, gpa, a, 0, e, f);
		bool leaf = level == 1 || (level <= 3 && (e & EPTE_LARGE));
		if (ept_entry_misconfigured(ctx, level, e, leaf))
			return ept_misconfig(gpa, f);
		perm &= entry_perm(e);
		entry_pa[n++] = pa;
		if (leaf) {
			uint64_t size = 1ull << shift;
			*r = (struct ept_result){
				.hpa = ((e & EPT_ADDR_MASK) & ~(size - 1)) | (gpa & (size - 1)),
				.perm = perm, .page_shift = (uint8_t)shift,
				.memtype = (uint8_t)((e & EPTE_MT_MASK) >> EPTE_MT_SHIFT),
				.ipat = (e & EPTE_IPAT) != 0,
				.dirty = !(ctx->eptp & EPTP_AD_ON) || (e & EPTE_D) || (a->type & EPT_ACC_WRITE),
			};
			if (!allowed(ctx, perm, a))
				return ept_violation(ctx, gpa, a, perm, e, f);
			if (ctx->eptp & EPTP_AD_ON)
				return set_ad(pm, ctx, gpa, entry_pa, n, (a->type & EPT_ACC_WRITE) != 0, f);
			return true;
		}
		table = e & EPT_ADDR_MASK;
	}
	return ept_violation(ctx, gpa, a, 0, 0, f);     /* not reached: level 1 is a leaf */
}

static struct ept_cache_entry *slot(struct ept_cache *c, uint64_t gpa)
{
	return &c->e[(gpa >> 12) & (EPT_CACHE_SIZE - 1)];
}

/* A cached mapping serves an access it allows, except a write that would
 * have to set a clear D flag: that one walks (29.3.5). Anything else walks
 * again, and the walk decides; an EPT violation invalidates the mappings
 * for its guest-physical address (29.4.3.1), so nothing stale survives it. */
static bool cache_hit(const struct xlate_ctx *ctx, const struct ept_cache_entry *ce, uint64_t gpa,
		      const struct ept_access *a, struct ept_result *r)
{
	if (ce->ep4ta != ept_ep4ta(ctx->eptp) || ce->gpa_page != (gpa & ~0xfffull) || !allowed(ctx, ce->perm, a))
		return false;
	if ((a->type & EPT_ACC_WRITE) && !ce->dirty)
		return false;
	*r = (struct ept_result){ .hpa = ce->hpa_page | (gpa & 0xfff), .perm = ce->perm, .page_shift = ce->page_shift,
				  .memtype = ce->memtype, .ipat = ce->ipat, .dirty = ce->dirty };
	return true;
}

bool ept_translate(struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t gpa, const struct ept_access *a,
		   struct ept_result *r, struct xlate_fault *f)
{
	struct ept_cache_entry *ce = ctx->ept ? slot(ctx->ept, gpa) : NULL;
	if (ce && cache_hit(ctx, ce, gpa, a, r))
		return true;
	if (ce && ce->gpa_page == (gpa & ~0xfffull) && ce->ep4ta == ept_ep4ta(ctx->eptp))
		ce->ep4ta = 0;
	if (!walk(pm, ctx, gpa, a, r, f))
		return false;
	if (ce && ept_ep4ta(ctx->eptp))
		*ce = (struct ept_cache_entry){ .ep4ta = ept_ep4ta(ctx->eptp), .gpa_page = gpa & ~0xfffull,
						.hpa_page = r->hpa & ~0xfffull, .perm = r->perm,
						.page_shift = r->page_shift, .memtype = r->memtype, .ipat = r->ipat,
						.dirty = r->dirty };
	return true;
}

void ept_cache_flush_ep4ta(struct ept_cache *c, uint64_t ep4ta)
{
	for (unsigned k = 0; k < EPT_CACHE_SIZE; k++)
		if (c->e[k].ep4ta == ep4ta)
			c->e[k].ep4ta = 0;
}

void ept_cache_flush_all(struct ept_cache *c)
{
	for (unsigned k = 0; k < EPT_CACHE_SIZE; k++)
		c->e[k].ep4ta = 0;
}
