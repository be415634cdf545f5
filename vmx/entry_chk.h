/* What the VM-entry check functions share (vmx/entry_controls.c,
 * entry_host.c, entry_guest.c, entry_msr.c): reading the current VMCS,
 * the effective control words, and the address rules the SDM repeats.
 * Each helper that decides a rule records the values in the context
 * (e->actual, e->expected) so the verdict shows them. */
#ifndef VMX_ENTRY_CHK_H
#define VMX_ENTRY_CHK_H

#include "cpu/model.h"
#include "cpu/msr.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/entry.h"

static inline uint64_t rd(struct entry_ctx *e, enum vmcs_field f)
{
	if (e->deps)
		e->deps[f >> 6] |= 1ull << (f & 63);
	return vmcs_read(e->c, f);
}

/* A check's read of guest-physical memory (virtual-APIC page, VMCS link
 * pointer region, PDPTEs): it must be re-run at every entry. */
static inline uint64_t rd_mem(struct entry_ctx *e, uint64_t pa, unsigned size)
{
	e->impure = true;
	return phys_read(e->c->phys, pa, size);
}

static inline uint32_t pin_ctls(struct entry_ctx *e)
{
	return (uint32_t)rd(e, VF_PIN_CONTROLS);
}

static inline uint32_t proc_ctls(struct entry_ctx *e)
{
	return (uint32_t)rd(e, VF_PROC_CONTROLS);
}

/* 26.2.1.1: with "activate secondary controls" 0 the processor acts as if
 * every secondary control were 0. */
static inline uint32_t proc2_ctls(struct entry_ctx *e)
{
	return (proc_ctls(e) & PROC_SECONDARY_CTLS) ? (uint32_t)rd(e, VF_PROC2_CONTROLS) : 0;
}

static inline uint32_t exit_ctls(struct entry_ctx *e)
{
	return (uint32_t)rd(e, VF_EXIT_CONTROLS);
}

static inline uint32_t entry_ctls(struct entry_ctx *e)
{
	return (uint32_t)rd(e, VF_ENTRY_CONTROLS);
}

static inline const struct vmx_model *vmx_mdl(struct entry_ctx *e)
{
	return &e->c->model->vmx;
}

/* Record actual/expected and return the verdict. */
static inline bool verdict(struct entry_ctx *e, bool ok, uint64_t actual, uint64_t expected)
{
	e->actual = actual;
	e->expected = expected;
	return ok;
}

/* Bits a physical address may not set: those at or above the model's
 * physical-address width (CPUID.80000008H:EAX[7:0]). */
static inline uint64_t phys_beyond(struct entry_ctx *e)
{
	return ~0ull << e->c->model->phys_addr_bits;
}

/* "Canonical" for the processor's linear-address width (57 bits on a
 * model with 5-level paging, else 48). */
static inline bool canonical(struct entry_ctx *e, uint64_t v)
{
	unsigned sh = 64u - e->c->model->lin_addr_bits;
	return (uint64_t)((int64_t)(v << sh) >> sh) == v;
}

static inline bool chk_canonical_field(struct entry_ctx *e, enum vmcs_field f)
{
	uint64_t v = rd(e, f);
	uint64_t sh = 64u - e->c->model->lin_addr_bits;
	return verdict(e, canonical(e, v), v, (uint64_t)((int64_t)(v << sh) >> sh));
}

/* Address field f: the low bits in align_mask must be 0 / no bit beyond
 * the physical-address width. */
static inline bool chk_addr_align(struct entry_ctx *e, enum vmcs_field f, uint64_t align_mask)
{
	uint64_t a = rd(e, f);
	return verdict(e, (a & align_mask) == 0, a, a & ~align_mask);
}

static inline bool chk_addr_width(struct entry_ctx *e, enum vmcs_field f)
{
	uint64_t a = rd(e, f);
	return verdict(e, (a & phys_beyond(e)) == 0, a, a & ~phys_beyond(e));
}

/* Reserved bits: value & rsvd must be 0 (expected shows the value with
 * them cleared). */
static inline bool chk_rsvd(struct entry_ctx *e, uint64_t v, uint64_t rsvd)
{
	return verdict(e, (v & rsvd) == 0, v, v & ~rsvd);
}

/* A VMX control word against the capability MSRs (26.2.1, Appendix A). */
static inline bool chk_ctl_word(struct entry_ctx *e, uint64_t v, enum vmx_ctl ctl)
{
	uint64_t must1 = vmx_must_be1(e->c, ctl), may1 = vmx_allowed1(e->c, ctl);
	uint64_t fixed = (v | must1) & may1;
	return verdict(e, v == fixed, v, fixed);
}

/* A rule "if cond, then need must hold" on control word v. */
static inline bool chk_implies(struct entry_ctx *e, uint64_t v, bool cond, bool need)
{
	return verdict(e, !cond || need, v, v);
}

/* IA32_PAT: each of the eight bytes must be 0, 1, 4, 5, 6 or 7 (memory
 * types; SDM vol. 3A 11.12.2). */
static inline bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		unsigned t = (pat >> (8 * i)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/* IA32_EFER bits that are not reserved: SCE, LME, LMA, NXE. */
#define EFER_DEFINED (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)

/* Interruption information of the VM-entry event (26.2.1.3). */
static inline uint32_t intr_info(struct entry_ctx *e)
{
	return (uint32_t)rd(e, VF_ENTRY_INTR_INFO);
}

static inline unsigned intr_type(uint32_t info)
{
	return (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
}

static inline bool injecting(struct entry_ctx *e, unsigned type)
{
	uint32_t info = intr_info(e);
	return (info & INTR_INFO_VALID) && intr_type(info) == type;
}

static inline bool ia32e_guest(struct entry_ctx *e)
{
	return entry_ctls(e) & ENTRY_IA32E_GUEST;
}

static inline bool host_64(struct entry_ctx *e)
{
	return exit_ctls(e) & EXIT_HOST_ADDR_SPACE;
}

static inline bool unrestricted(struct entry_ctx *e)
{
	return proc2_ctls(e) & PROC2_UNRESTRICTED;
}

#endif
