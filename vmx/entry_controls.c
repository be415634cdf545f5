/* VM-entry checks on the VMX controls (SDM vol. 3C 26.2.1): the
 * VM-execution (26.2.1.1), VM-exit (26.2.1.2) and VM-entry (26.2.1.3)
 * control fields. A failure is VMfailValid(7). One function per row of
 * vmx/entry_checks.def, in the table's order; a check that depends on a
 * control holds when that control is 0. */
#include "vmx/entry_chk.h"

#include "cpu/cpu.h"

/* 26.2.1.1 VM-execution control fields */

bool chk_CTL_PIN_RSVD(struct entry_ctx *e)
{
	return chk_ctl_word(e, pin_ctls(e), VMX_CTL_PIN);
}

bool chk_CTL_PROC_RSVD(struct entry_ctx *e)
{
	return chk_ctl_word(e, proc_ctls(e), VMX_CTL_PROC);
}

bool chk_CTL_PROC2_RSVD(struct entry_ctx *e)
{
	if (!(proc_ctls(e) & PROC_SECONDARY_CTLS))
		return true;
	return chk_ctl_word(e, rd(e, VF_PROC2_CONTROLS), VMX_CTL_PROC2);
}

bool chk_CTL_PROC3_RSVD(struct entry_ctx *e)
{
	if (!(proc_ctls(e) & PROC_TERTIARY_CTLS))
		return true;
	return chk_ctl_word(e, rd(e, VF_TERTIARY_CONTROLS), VMX_CTL_PROC3);
}

bool chk_CTL_CR3_TARGET_COUNT(struct entry_ctx *e)
{
	uint64_t n = rd(e, VF_CR3_TARGET_COUNT), max = vmx_cr3_target_count(e->c);
	return verdict(e, n <= max, n, max);
}

/* An address field checked only while control bit `bit` of word `word`
 * is 1: bits align_mask must be 0; no bit beyond the physical-address
 * width. */
#define ADDR_CHECKS(ID, word, bit, field, align_mask)                           \
	bool chk_##ID##_ALIGN(struct entry_ctx *e)                              \
	{                                                                       \
		return !((word) & (bit)) || chk_addr_align(e, field, align_mask); \
	}                                                                       \
	bool chk_##ID##_WIDTH(struct entry_ctx *e)                              \
	{                                                                       \
		return !((word) & (bit)) || chk_addr_width(e, field);           \
	}

ADDR_CHECKS(CTL_IO_BITMAP_A, proc_ctls(e), PROC_IO_BITMAPS, VF_IO_BITMAP_A, 0xfff)
ADDR_CHECKS(CTL_IO_BITMAP_B, proc_ctls(e), PROC_IO_BITMAPS, VF_IO_BITMAP_B, 0xfff)
ADDR_CHECKS(CTL_MSR_BITMAP, proc_ctls(e), PROC_MSR_BITMAPS, VF_MSR_BITMAP, 0xfff)
ADDR_CHECKS(CTL_VAPIC, proc_ctls(e), PROC_TPR_SHADOW, VF_VIRTUAL_APIC_ADDR, 0xfff)

bool chk_CTL_TPR_THRESHOLD_RSVD(struct entry_ctx *e)
{
	if (!(proc_ctls(e) & PROC_TPR_SHADOW) || (proc2_ctls(e) & PROC2_VIRT_INTR_DELIVERY))
		return true;
	return chk_rsvd(e, rd(e, VF_TPR_THRESHOLD), 0xfffffff0u);
}

/* VTPR is byte 80H of the virtual-APIC page (29.1.1). */
bool chk_CTL_TPR_THRESHOLD_VTPR(struct entry_ctx *e)
{
	if (!(proc_ctls(e) & PROC_TPR_SHADOW) ||
	    (proc2_ctls(e) & (PROC2_VIRT_INTR_DELIVERY | PROC2_VIRT_APIC_ACCESS)))
		return true;
	uint64_t thr = rd(e, VF_TPR_THRESHOLD) & 0xf;
	uint64_t vtpr = rd_mem(e, rd(e, VF_VIRTUAL_APIC_ADDR) + 0x80, 1);
	return verdict(e, thr <= (vtpr >> 4), thr, vtpr >> 4);
}

static bool needs_tpr_shadow(struct entry_ctx *e, uint32_t bit)
{
	uint32_t p2 = proc2_ctls(e);
	return chk_implies(e, p2, (p2 & bit) != 0, proc_ctls(e) & PROC_TPR_SHADOW);
}

bool chk_CTL_X2APIC_NEEDS_TPR_SHADOW(struct entry_ctx *e)
{
	return needs_tpr_shadow(e, PROC2_VIRT_X2APIC);
}

bool chk_CTL_APIC_REG_VIRT_NEEDS_TPR_SHADOW(struct entry_ctx *e)
{
	return needs_tpr_shadow(e, PROC2_APIC_REG_VIRT);
}

bool chk_CTL_VID_NEEDS_TPR_SHADOW(struct entry_ctx *e)
{
	return needs_tpr_shadow(e, PROC2_VIRT_INTR_DELIVERY);
}

bool chk_CTL_VNMI_NEEDS_NMI_EXITING(struct entry_ctx *e)
{
	uint32_t pin = pin_ctls(e);
	return chk_implies(e, pin, pin & PIN_VIRTUAL_NMIS, pin & PIN_NMI_EXITING);
}

bool chk_CTL_NMI_WINDOW_NEEDS_VNMI(struct entry_ctx *e)
{
	uint32_t proc = proc_ctls(e);
	return chk_implies(e, proc, proc & PROC_NMI_WINDOW, pin_ctls(e) & PIN_VIRTUAL_NMIS);
}

ADDR_CHECKS(CTL_APIC_ACCESS, proc2_ctls(e), PROC2_VIRT_APIC_ACCESS, VF_APIC_ACCESS_ADDR, 0xfff)

bool chk_CTL_X2APIC_AND_APIC_ACCESS(struct entry_ctx *e)
{
	uint32_t p2 = proc2_ctls(e);
	return chk_implies(e, p2, p2 & PROC2_VIRT_X2APIC, !(p2 & PROC2_VIRT_APIC_ACCESS));
}

bool chk_CTL_VID_NEEDS_EXT_INTR_EXITING(struct entry_ctx *e)
{
	uint32_t pin = pin_ctls(e);
	return chk_implies(e, pin, proc2_ctls(e) & PROC2_VIRT_INTR_DELIVERY, pin & PIN_EXT_INTR_EXITING);
}

static bool posted(struct entry_ctx *e)
{
	return pin_ctls(e) & PIN_POSTED_INTR;
}

bool chk_CTL_PI_NEEDS_VID(struct entry_ctx *e)
{
	return chk_implies(e, proc2_ctls(e), posted(e), proc2_ctls(e) & PROC2_VIRT_INTR_DELIVERY);
}

bool chk_CTL_PI_NEEDS_ACK_ON_EXIT(struct entry_ctx *e)
{
	return chk_implies(e, exit_ctls(e), posted(e), exit_ctls(e) & EXIT_ACK_INTR_ON_EXIT);
}

bool chk_CTL_PI_VECTOR(struct entry_ctx *e)
{
	return !posted(e) || chk_rsvd(e, rd(e, VF_POSTED_INTR_NV), 0xff00);
}

ADDR_CHECKS(CTL_PI_DESC, pin_ctls(e), PIN_POSTED_INTR, VF_POSTED_INTR_DESC_ADDR, 0x3f)

bool chk_CTL_VPID_ZERO(struct entry_ctx *e)
{
	if (!(proc2_ctls(e) & PROC2_VPID))
		return true;
	uint64_t vpid = rd(e, VF_VPID);
	return verdict(e, vpid != 0, vpid, 1);
}

static bool ept(struct entry_ctx *e)
{
	return proc2_ctls(e) & PROC2_EPT;
}

bool chk_CTL_EPTP_MEMTYPE(struct entry_ctx *e)
{
	if (!ept(e))
		return true;
	uint64_t mt = rd(e, VF_EPT_POINTER) & EPTP_MEMTYPE_MASK, cap = vmx_mdl(e)->ept_vpid_cap;
	bool ok = (mt == 0 && (cap & VMX_EPT_MEMTYPE_UC)) || (mt == 6 && (cap & VMX_EPT_MEMTYPE_WB));
	return verdict(e, ok, mt, (cap & VMX_EPT_MEMTYPE_WB) ? 6 : 0);
}

bool chk_CTL_EPTP_WALK_LENGTH(struct entry_ctx *e)
{
	if (!ept(e))
		return true;
	uint64_t w = (rd(e, VF_EPT_POINTER) & EPTP_WALK_MASK) >> EPTP_WALK_SHIFT, cap = vmx_mdl(e)->ept_vpid_cap;
	bool ok = (w == 3 && (cap & VMX_EPT_PWL4)) || (w == 4 && (cap & VMX_EPT_PWL5));
	return verdict(e, ok, w, 3);
}

bool chk_CTL_EPTP_AD(struct entry_ctx *e)
{
	if (!ept(e) || (vmx_mdl(e)->ept_vpid_cap & VMX_EPT_AD_FLAGS))
		return true;
	return chk_rsvd(e, rd(e, VF_EPT_POINTER), EPTP_AD);
}

bool chk_CTL_EPTP_RSVD(struct entry_ctx *e)
{
	return !ept(e) || chk_rsvd(e, rd(e, VF_EPT_POINTER), 0xf80 | phys_beyond(e));
}

/* "If control `bit` of the secondary controls is 1, enable EPT must be 1." */
static bool needs_ept(struct entry_ctx *e, uint32_t bit)
{
	uint32_t p2 = proc2_ctls(e);
	return chk_implies(e, p2, p2 & bit, p2 & PROC2_EPT);
}

bool chk_CTL_PML_NEEDS_EPT(struct entry_ctx *e)
{
	return needs_ept(e, PROC2_PML);
}

ADDR_CHECKS(CTL_PML, proc2_ctls(e), PROC2_PML, VF_PML_ADDR, 0xfff)

bool chk_CTL_UNRESTRICTED_NEEDS_EPT(struct entry_ctx *e)
{
	return needs_ept(e, PROC2_UNRESTRICTED);
}

bool chk_CTL_MBEC_NEEDS_EPT(struct entry_ctx *e)
{
	return needs_ept(e, PROC2_MBEC);
}

bool chk_CTL_SPP_NEEDS_EPT(struct entry_ctx *e)
{
	return needs_ept(e, PROC2_SPP);
}

ADDR_CHECKS(CTL_SPPTP, proc2_ctls(e), PROC2_SPP, VF_SPP_TABLE_PTR, 0xfff)

bool chk_CTL_PT_GPA_NEEDS_EPT(struct entry_ctx *e)
{
	return needs_ept(e, PROC2_PT_USES_GPA);
}

bool chk_CTL_PT_GPA_NEEDS_LOAD_RTIT(struct entry_ctx *e)
{
	uint32_t en = entry_ctls(e);
	return chk_implies(e, en, proc2_ctls(e) & PROC2_PT_USES_GPA, en & ENTRY_LOAD_RTIT_CTL);
}

bool chk_CTL_PT_GPA_NEEDS_CLEAR_RTIT(struct entry_ctx *e)
{
	uint32_t ex = exit_ctls(e);
	return chk_implies(e, ex, proc2_ctls(e) & PROC2_PT_USES_GPA, ex & EXIT_CLEAR_RTIT_CTL);
}

static uint64_t vmfunc_ctls(struct entry_ctx *e)
{
	return (proc2_ctls(e) & PROC2_VMFUNC) ? rd(e, VF_VMFUNC_CONTROLS) : 0;
}

bool chk_CTL_VMFUNC_RSVD(struct entry_ctx *e)
{
	if (!(proc2_ctls(e) & PROC2_VMFUNC))
		return true;
	return chk_rsvd(e, rd(e, VF_VMFUNC_CONTROLS), ~vmx_allowed1(e->c, VMX_CTL_VMFUNC));
}

bool chk_CTL_EPTP_SWITCH_NEEDS_EPT(struct entry_ctx *e)
{
	uint64_t f = vmfunc_ctls(e);
	return chk_implies(e, f, f & VMX_VMFUNC_EPTP_SWITCHING, ept(e));
}

ADDR_CHECKS(CTL_EPTP_LIST, vmfunc_ctls(e), VMX_VMFUNC_EPTP_SWITCHING, VF_EPTP_LIST_ADDR, 0xfff)
ADDR_CHECKS(CTL_VMREAD_BITMAP, proc2_ctls(e), PROC2_VMCS_SHADOWING, VF_VMREAD_BITMAP, 0xfff)
ADDR_CHECKS(CTL_VMWRITE_BITMAP, proc2_ctls(e), PROC2_VMCS_SHADOWING, VF_VMWRITE_BITMAP, 0xfff)
ADDR_CHECKS(CTL_VE_INFO, proc2_ctls(e), PROC2_EPT_VE, VF_VE_INFO_ADDR, 0xfff)

/* 26.2.1.2 VM-exit control fields */

bool chk_EXIT_RSVD(struct entry_ctx *e)
{
	return chk_ctl_word(e, exit_ctls(e), VMX_CTL_EXIT);
}

bool chk_EXIT2_RSVD(struct entry_ctx *e)
{
	if (!(exit_ctls(e) & EXIT_SECONDARY_CTLS))
		return true;
	return chk_rsvd(e, rd(e, VF_EXIT_CONTROLS2), ~vmx_allowed1(e->c, VMX_CTL_EXIT2));
}

bool chk_EXIT_SAVE_PREEMPT_NEEDS_TIMER(struct entry_ctx *e)
{
	uint32_t ex = exit_ctls(e);
	return chk_implies(e, ex, ex & EXIT_SAVE_PREEMPT_TIMER, pin_ctls(e) & PIN_PREEMPTION_TIMER);
}

/* An MSR area of `count` 16-byte entries at the address in field f
 * (26.2.1.2, 26.2.1.3): 16-byte aligned, and both ends within the
 * physical-address width (the end computed with more bits than that). */
static bool area_align(struct entry_ctx *e, enum vmcs_field count, enum vmcs_field f)
{
	return rd(e, count) == 0 || chk_addr_align(e, f, 0xf);
}

static bool area_width(struct entry_ctx *e, enum vmcs_field count, enum vmcs_field f)
{
	return rd(e, count) == 0 || chk_addr_width(e, f);
}

static bool area_end_width(struct entry_ctx *e, enum vmcs_field count, enum vmcs_field f)
{
	uint64_t n = rd(e, count);
	if (n == 0)
		return true;
	unsigned __int128 last = (unsigned __int128)rd(e, f) + n * 16 - 1;
	bool ok = (last >> e->c->model->phys_addr_bits) == 0;
	return verdict(e, ok, (uint64_t)last, ~phys_beyond(e));
}

#define AREA_CHECKS(ID, count, field)                        \
	bool chk_##ID##_ALIGN(struct entry_ctx *e)           \
	{                                                    \
		return area_align(e, count, field);          \
	}                                                    \
	bool chk_##ID##_WIDTH(struct entry_ctx *e)           \
	{                                                    \
		return area_width(e, count, field);          \
	}                                                    \
	bool chk_##ID##_END_WIDTH(struct entry_ctx *e)       \
	{                                                    \
		return area_end_width(e, count, field);      \
	}

AREA_CHECKS(EXIT_MSR_STORE, VF_EXIT_MSR_STORE_COUNT, VF_EXIT_MSR_STORE_ADDR)
AREA_CHECKS(EXIT_MSR_LOAD, VF_EXIT_MSR_LOAD_COUNT, VF_EXIT_MSR_LOAD_ADDR)

/* 26.2.1.3 VM-entry control fields */

bool chk_ENTRY_RSVD(struct entry_ctx *e)
{
	return chk_ctl_word(e, entry_ctls(e), VMX_CTL_ENTRY);
}

/* The checks on an injected event apply while the valid bit is 1. */
static bool event(struct entry_ctx *e, uint32_t *info)
{
	*info = intr_info(e);
	return *info & INTR_INFO_VALID;
}

bool chk_ENTRY_INTR_TYPE_RSVD(struct entry_ctx *e)
{
	uint32_t info;
	if (!event(e, &info))
		return true;
	unsigned t = intr_type(info);
	bool ok = t != 1 && (t != INTR_TYPE_OTHER || (vmx_allowed1(e->c, VMX_CTL_PROC) & PROC_MTF));
	return verdict(e, ok, t, INTR_TYPE_EXT_INTR);
}

static bool vector_for(struct entry_ctx *e, unsigned type, bool (*ok)(unsigned), unsigned expect)
{
	uint32_t info;
	if (!event(e, &info) || intr_type(info) != type)
		return true;
	unsigned v = info & INTR_INFO_VECTOR_MASK;
	return verdict(e, ok(v), v, expect);
}

static bool is_nmi_vector(unsigned v)
{
	return v == VEC_NMI;
}

static bool is_exception_vector(unsigned v)
{
	return v <= 31;
}

static bool is_zero(unsigned v)
{
	return v == 0;
}

bool chk_ENTRY_INTR_NMI_VECTOR(struct entry_ctx *e)
{
	return vector_for(e, INTR_TYPE_NMI, is_nmi_vector, VEC_NMI);
}

bool chk_ENTRY_INTR_HW_VECTOR(struct entry_ctx *e)
{
	return vector_for(e, INTR_TYPE_HW_EXCEPTION, is_exception_vector, 31);
}

bool chk_ENTRY_INTR_OTHER_VECTOR(struct entry_ctx *e)
{
	return vector_for(e, INTR_TYPE_OTHER, is_zero, 0);
}

/* Exceptions that push an error code (SDM vol. 3A 6.15): #DF, #TS, #NP,
 * #SS, #GP, #PF, #AC. */
static bool pushes_error_code(unsigned v)
{
	return v == VEC_DF || (v >= VEC_TS && v <= VEC_PF) || v == VEC_AC;
}

/* "Unrestricted guest" 1 and CR0.PE 0: a real-mode guest, no error codes. */
static bool real_mode_guest(struct entry_ctx *e)
{
	return unrestricted(e) && !(rd(e, VF_GUEST_CR0) & CR0_PE);
}

bool chk_ENTRY_INTR_ERRCODE_REQUIRED(struct entry_ctx *e)
{
	uint32_t info;
	if (!event(e, &info) || intr_type(info) != INTR_TYPE_HW_EXCEPTION || real_mode_guest(e) ||
	    vmx_mdl(e)->no_errcode_check || !pushes_error_code(info & INTR_INFO_VECTOR_MASK))
		return true;
	bool dec = info & INTR_INFO_HAS_ERROR;
	return verdict(e, dec, info, info | INTR_INFO_HAS_ERROR);
}

bool chk_ENTRY_INTR_ERRCODE_FORBIDDEN(struct entry_ctx *e)
{
	uint32_t info;
	if (!event(e, &info) || !(info & INTR_INFO_HAS_ERROR))
		return true;
	bool bad = intr_type(info) != INTR_TYPE_HW_EXCEPTION || real_mode_guest(e) ||
		   (!vmx_mdl(e)->no_errcode_check && !pushes_error_code(info & INTR_INFO_VECTOR_MASK));
	return verdict(e, !bad, info, info & ~INTR_INFO_HAS_ERROR);
}

bool chk_ENTRY_INTR_RSVD(struct entry_ctx *e)
{
	uint32_t info;
	return !event(e, &info) || chk_rsvd(e, info, 0x7ffff000u);
}

bool chk_ENTRY_EXC_ERRCODE_RSVD(struct entry_ctx *e)
{
	uint32_t info;
	if (!event(e, &info) || !(info & INTR_INFO_HAS_ERROR))
		return true;
	return chk_rsvd(e, rd(e, VF_ENTRY_EXCEPTION_ERROR_CODE), 0xffff0000u);
}

static bool software_event(struct entry_ctx *e)
{
	uint32_t info;
	if (!event(e, &info))
		return false;
	unsigned t = intr_type(info);
	return t == INTR_TYPE_SW_INTR || t == INTR_TYPE_PRIV_SW_EXCEPTION || t == INTR_TYPE_SW_EXCEPTION;
}

bool chk_ENTRY_INSN_LEN_RANGE(struct entry_ctx *e)
{
	if (!software_event(e))
		return true;
	uint64_t len = rd(e, VF_ENTRY_INSTRUCTION_LEN);
	return verdict(e, len <= 15, len, 15);
}

bool chk_ENTRY_INSN_LEN_ZERO(struct entry_ctx *e)
{
	if (!software_event(e) || (vmx_mdl(e)->misc & VMX_MISC_INJECT_LEN0))
		return true;
	uint64_t len = rd(e, VF_ENTRY_INSTRUCTION_LEN);
	return verdict(e, len != 0, len, 1);
}

AREA_CHECKS(ENTRY_MSR_LOAD, VF_ENTRY_MSR_LOAD_COUNT, VF_ENTRY_MSR_LOAD_ADDR)

/* vtxsim has no SMM: every VM entry commences outside SMM. */
bool chk_ENTRY_TO_SMM_OUTSIDE_SMM(struct entry_ctx *e)
{
	return chk_rsvd(e, entry_ctls(e), ENTRY_TO_SMM);
}

bool chk_ENTRY_DEACT_DUAL_OUTSIDE_SMM(struct entry_ctx *e)
{
	return chk_rsvd(e, entry_ctls(e), ENTRY_DEACT_DUAL_MONITOR);
}
