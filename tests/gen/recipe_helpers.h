/* Small helpers the recipes of tests/gen/entry_recipes.py call (plain C,
 * included by the generated tests/guests/vmx_entry_matrix.gen.c after
 * tests/guests/lib/vmx_insn.h, x86.h and vmx_vmcs.h). Each makes one
 * setting of the baseline VMCS that a rule needs; names start with rh_. */
#ifndef TESTS_GEN_RECIPE_HELPERS_H
#define TESTS_GEN_RECIPE_HELPERS_H

#include <stdint.h>

#include "vmx/caps_bits.h"
#include "vmx/controls.h"

/* Bits the guest library's x86.h may not name. */
#define RH_CR0_NE (1ul << 5)
#define RH_CR0_ET (1ul << 4)
#define RH_CR4_VMXE (1ul << 13)
#define RH_CR4_PCIDE (1ul << 17)
#define RH_RFLAGS_VM (1ul << 17)
#define RH_AR_S (1u << 4)
#define RH_AR_P (1u << 7)
#define RH_AR_L (1u << 13)
#define RH_AR_DB (1u << 14)
#define RH_AR_G (1u << 15)
#define RH_AR_UNUSABLE (1u << 16)

/* Capability MSRs the library has no wrapper for (Appendix A). */
#define RH_MSR_BASIC 0x480u
#define RH_MSR_MISC 0x485u
#define RH_MSR_CR0_FIXED0 0x486u
#define RH_MSR_CR0_FIXED1 0x487u
#define RH_MSR_CR4_FIXED0 0x488u
#define RH_MSR_CR4_FIXED1 0x489u
#define RH_MSR_EPT_VPID_CAP 0x48cu
#define RH_MSR_VMFUNC 0x491u
#define RH_MSR_PROC3 0x492u
#define RH_MSR_EXIT2 0x493u

/* An address no model's physical-address width reaches, yet 4-KByte
 * aligned; a non-canonical address for any linear-address width. */
#define RH_FAR (1ull << 60)
#define RH_NONCANON (1ull << 63)

static inline void rh_or(uint64_t field, uint64_t bits)
{
	vmwrite(field, vmread(field) | bits);
}

static inline void rh_and(uint64_t field, uint64_t mask)
{
	vmwrite(field, vmread(field) & mask);
}

/* The lowest bit that is 0 in allowed (a reserved bit), or 0 if none. */
static inline uint64_t rh_lowest_clear(uint64_t allowed)
{
	return ~allowed & (allowed + 1);
}

/* A bit of control word ctl the model does not allow to be 1. */
static inline uint64_t rh_reserved_bit(enum vmx_ctl_msr ctl)
{
	return rh_lowest_clear(vmx_allowed1(ctl) & 0xffffffffu) & 0xffffffffu;
}

static inline void rh_sec(uint32_t bits)
{
	rh_or(VMCS_PROC_CONTROLS, PROC_SECONDARY_CTLS);
	rh_or(VMCS_PROC2_CONTROLS, bits);
}

static inline void rh_ept(void)
{
	vmx_setup_ept();
	rh_sec(PROC2_EPT);
}

static inline void rh_unrestricted(void)
{
	rh_ept();
	rh_sec(PROC2_UNRESTRICTED);
}

static inline void rh_tpr_shadow(void)
{
	rh_or(VMCS_PROC_CONTROLS, PROC_TPR_SHADOW);
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, vmx_scratch_page(0));
}

static inline void rh_posted(int vid, int ack)
{
	rh_or(VMCS_PIN_CONTROLS, PIN_POSTED_INTR | PIN_EXT_INTR_EXITING);
	if (vid) {
		rh_tpr_shadow();
		rh_sec(PROC2_VIRT_INTR_DELIVERY);
	}
	if (ack)
		rh_or(VMCS_EXIT_CONTROLS, EXIT_ACK_INTR_ON_EXIT);
	vmwrite(VMCS_POSTED_INTR_DESC_ADDR, vmx_scratch_page(1));
}

static inline void rh_inject(unsigned type, unsigned vector, int errcode)
{
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | (type << INTR_INFO_TYPE_SHIFT) | vector |
					      (errcode ? INTR_INFO_HAS_ERROR : 0));
}

/* Virtual-8086 mode for the guest: base = selector << 4, limit FFFFH,
 * access rights F3H (26.3.1.2). */
static inline void rh_v86(void)
{
	static const uint64_t sel[6] = { VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_SS_SELECTOR,
					 VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_FS_SELECTOR, VMCS_GUEST_GS_SELECTOR };
	static const uint64_t base[6] = { VMCS_GUEST_ES_BASE, VMCS_GUEST_CS_BASE, VMCS_GUEST_SS_BASE,
					  VMCS_GUEST_DS_BASE, VMCS_GUEST_FS_BASE, VMCS_GUEST_GS_BASE };
	static const uint64_t lim[6] = { VMCS_GUEST_ES_LIMIT, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_SS_LIMIT,
					 VMCS_GUEST_DS_LIMIT, VMCS_GUEST_FS_LIMIT, VMCS_GUEST_GS_LIMIT };
	static const uint64_t ar[6] = { VMCS_GUEST_ES_AR, VMCS_GUEST_CS_AR, VMCS_GUEST_SS_AR,
					VMCS_GUEST_DS_AR, VMCS_GUEST_FS_AR, VMCS_GUEST_GS_AR };
	rh_or(VMCS_GUEST_RFLAGS, RH_RFLAGS_VM);
	for (int i = 0; i < 6; i++) {
		vmwrite(base[i], vmread(sel[i]) << 4);
		vmwrite(lim[i], 0xffff);
		vmwrite(ar[i], 0xf3);
	}
}

static inline void rh_ldtr_usable(void)
{
	vmwrite(VMCS_GUEST_LDTR_SELECTOR, 0);
	vmwrite(VMCS_GUEST_LDTR_BASE, 0);
	vmwrite(VMCS_GUEST_LDTR_LIMIT, 0xffff);
	vmwrite(VMCS_GUEST_LDTR_AR, 0x82);
}

static inline void rh_set_type(uint64_t ar_field, unsigned type)
{
	vmwrite(ar_field, (vmread(ar_field) & ~0xfull) | type);
}

static inline void rh_set_dpl(uint64_t ar_field, unsigned dpl)
{
	vmwrite(ar_field, (vmread(ar_field) & ~0x60ull) | (dpl << 5));
}

static inline void rh_msr_area(uint64_t count_field, uint64_t addr_field, uint64_t pa, uint32_t n)
{
	vmwrite(count_field, n);
	vmwrite(addr_field, pa);
}

static inline uint64_t rh_past_width(void)
{
	return 1ull << vmx_phys_bits();
}

/* A VM-entry MSR-load area of one entry (26.4). */
static inline void rh_msr_load(uint64_t lo, uint64_t data)
{
	volatile uint64_t *area = (volatile uint64_t *)(uintptr_t)vmx_scratch_page(4);
	area[0] = lo;
	area[1] = data;
	rh_msr_area(VMCS_ENTRY_MSR_LOAD_COUNT, VMCS_ENTRY_MSR_LOAD_ADDR, vmx_scratch_page(4), 1);
}

static inline void rh_put32(uint64_t pa, uint32_t v)
{
	*(volatile uint32_t *)(uintptr_t)pa = v;
}

static inline void rh_put64(uint64_t pa, uint64_t v)
{
	*(volatile uint64_t *)(uintptr_t)pa = v;
}

static inline uint64_t rh_current_vmcs(void)
{
	uint64_t pa = 0;
	vmptrst(&pa);
	return pa;
}

/* A PAE guest whose page-directory-pointer table is the zeroed scratch
 * page 2 (26.3.1.6); the caller writes the PDPTE to break. */
static inline void rh_pae_guest(void)
{
	rh_or(VMCS_GUEST_CR4, CR4_PAE);
	vmwrite(VMCS_GUEST_CR3, vmx_scratch_page(2));
}

#endif
