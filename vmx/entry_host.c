/* VM-entry checks on the host-state area (SDM vol. 3C 26.2.2 control
 * registers and MSRs, 26.2.3 segment and descriptor-table registers,
 * 26.2.4 address-space size). A failure is VMfailValid(8). One function
 * per row of vmx/entry_checks.def, in the table's order. */
#include "vmx/entry_chk.h"

#include "cpu/cpu.h"

/* 26.2.2 host control registers and MSRs */

/* A CR0/CR4 value against IA32_VMX_CRx_FIXED0/1 (23.8): bits 1 in FIXED0
 * must be 1, bits 0 in FIXED1 must be 0. */
static bool chk_fixed(struct entry_ctx *e, uint64_t v, uint64_t fixed0, uint64_t fixed1)
{
	uint64_t want = (v | fixed0) & fixed1;
	return verdict(e, v == want, v, want);
}

bool chk_HOST_CR0_FIXED(struct entry_ctx *e)
{
	return chk_fixed(e, rd(e, VF_HOST_CR0), vmx_cr0_fixed0(e->c), vmx_cr0_fixed1(e->c));
}

bool chk_HOST_CR4_FIXED(struct entry_ctx *e)
{
	return chk_fixed(e, rd(e, VF_HOST_CR4), vmx_cr4_fixed0(e->c), vmx_cr4_fixed1(e->c));
}

bool chk_HOST_CR3_WIDTH(struct entry_ctx *e)
{
	return chk_addr_width(e, VF_HOST_CR3);
}

bool chk_HOST_SYSENTER_ESP_CANONICAL(struct entry_ctx *e)
{
	return chk_canonical_field(e, VF_HOST_IA32_SYSENTER_ESP);
}

bool chk_HOST_SYSENTER_EIP_CANONICAL(struct entry_ctx *e)
{
	return chk_canonical_field(e, VF_HOST_IA32_SYSENTER_EIP);
}

bool chk_HOST_PERF_GLOBAL_RSVD(struct entry_ctx *e)
{
	if (!(exit_ctls(e) & EXIT_LOAD_PERF_GLOBAL))
		return true;
	return chk_rsvd(e, rd(e, VF_HOST_IA32_PERF_GLOBAL_CTRL), ~cpu_perf_global_valid(e->c));
}

bool chk_HOST_PAT(struct entry_ctx *e)
{
	if (!(exit_ctls(e) & EXIT_LOAD_PAT))
		return true;
	uint64_t pat = rd(e, VF_HOST_IA32_PAT);
	return verdict(e, pat_valid(pat), pat, 0x0007040600070406ull);
}

bool chk_HOST_EFER_RSVD(struct entry_ctx *e)
{
	if (!(exit_ctls(e) & EXIT_LOAD_EFER))
		return true;
	return chk_rsvd(e, rd(e, VF_HOST_IA32_EFER), ~EFER_DEFINED);
}

/* With "load IA32_EFER", EFER bit `bit` must equal the host address-space size. */
static bool host_efer_bit(struct entry_ctx *e, uint64_t bit)
{
	if (!(exit_ctls(e) & EXIT_LOAD_EFER))
		return true;
	uint64_t efer = rd(e, VF_HOST_IA32_EFER);
	uint64_t want = host_64(e) ? (efer | bit) : (efer & ~bit);
	return verdict(e, efer == want, efer, want);
}

bool chk_HOST_EFER_LMA(struct entry_ctx *e)
{
	return host_efer_bit(e, EFER_LMA);
}

bool chk_HOST_EFER_LME(struct entry_ctx *e)
{
	return host_efer_bit(e, EFER_LME);
}

/* 26.2.3 host segment and descriptor-table registers */

static bool sel_rpl_ti(struct entry_ctx *e, enum vmcs_field f)
{
	return chk_rsvd(e, rd(e, f), 7);
}

#define HOST_SEL_RPL_TI(S) \
	bool chk_HOST_##S##_SEL_RPL_TI(struct entry_ctx *e) { return sel_rpl_ti(e, VF_HOST_##S##_SELECTOR); }
HOST_SEL_RPL_TI(ES)
HOST_SEL_RPL_TI(CS)
HOST_SEL_RPL_TI(SS)
HOST_SEL_RPL_TI(DS)
HOST_SEL_RPL_TI(FS)
HOST_SEL_RPL_TI(GS)
HOST_SEL_RPL_TI(TR)

static bool sel_not_null(struct entry_ctx *e, enum vmcs_field f)
{
	uint64_t sel = rd(e, f);
	return verdict(e, sel != 0, sel, 8);
}

bool chk_HOST_CS_SEL_NULL(struct entry_ctx *e)
{
	return sel_not_null(e, VF_HOST_CS_SELECTOR);
}

bool chk_HOST_TR_SEL_NULL(struct entry_ctx *e)
{
	return sel_not_null(e, VF_HOST_TR_SELECTOR);
}

bool chk_HOST_SS_SEL_NULL(struct entry_ctx *e)
{
	return host_64(e) || sel_not_null(e, VF_HOST_SS_SELECTOR);
}

#define HOST_BASE_CANONICAL(S) \
	bool chk_HOST_##S##_BASE_CANONICAL(struct entry_ctx *e) { return chk_canonical_field(e, VF_HOST_##S##_BASE); }
HOST_BASE_CANONICAL(FS)
HOST_BASE_CANONICAL(GS)
HOST_BASE_CANONICAL(GDTR)
HOST_BASE_CANONICAL(IDTR)
HOST_BASE_CANONICAL(TR)

/* 26.2.4 address-space size: IA-32e mode is IA32_EFER.LMA of the
 * processor executing VMLAUNCH/VMRESUME. */
static bool in_ia32e(struct entry_ctx *e)
{
	e->impure = true;       /* processor state, not a VMCS field (vmx/entry_memo.c) */
	return e->c->efer & EFER_LMA;
}

bool chk_HOST_IA32E_GUEST_OUTSIDE_LM(struct entry_ctx *e)
{
	return in_ia32e(e) || chk_rsvd(e, entry_ctls(e), ENTRY_IA32E_GUEST);
}

bool chk_HOST_ADDR_SPACE_OUTSIDE_LM(struct entry_ctx *e)
{
	return in_ia32e(e) || chk_rsvd(e, exit_ctls(e), EXIT_HOST_ADDR_SPACE);
}

bool chk_HOST_ADDR_SPACE_IN_LM(struct entry_ctx *e)
{
	uint32_t ex = exit_ctls(e);
	return !in_ia32e(e) || verdict(e, ex & EXIT_HOST_ADDR_SPACE, ex, ex | EXIT_HOST_ADDR_SPACE);
}


bool chk_HOST_32_CR4_PCIDE(struct entry_ctx *e)
{
	return host_64(e) || chk_rsvd(e, rd(e, VF_HOST_CR4), CR4_PCIDE);
}

bool chk_HOST_32_RIP_HIGH(struct entry_ctx *e)
{
	return host_64(e) || chk_rsvd(e, rd(e, VF_HOST_RIP), ~0xffffffffull);
}

bool chk_HOST_64_CR4_PAE(struct entry_ctx *e)
{
	uint64_t cr4 = rd(e, VF_HOST_CR4);
	return !host_64(e) || verdict(e, cr4 & CR4_PAE, cr4, cr4 | CR4_PAE);
}

bool chk_HOST_64_RIP_CANONICAL(struct entry_ctx *e)
{
	return !host_64(e) || chk_canonical_field(e, VF_HOST_RIP);
}
