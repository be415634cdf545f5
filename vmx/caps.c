/* The VMX capability MSRs from the model row (SDM vol. 3C Appendix A).
 * The model row (struct vmx_model) says what the model allows; the
 * architectural parts (the default1 classes, the CR fixed bits, the
 * region size, which MSR exists when) are added here, so every model
 * reports a consistent set. */
#include "vmx/caps.h"

#include "cpu/model.h"
#include "cpu/msr.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"

bool vmx_supported(const struct cpu *c)
{
	return c->model->vmx.revision != 0;
}

/* Allowed-1 of the words that exist only through a bit of another word:
 * secondary controls (A.3.3: proc bit 31), tertiary (A.3.4: proc bit 17),
 * secondary exit controls (A.4.2: exit bit 31), VM functions (A.11: proc2
 * bit 13). A model row may list bits there; they count only when the
 * enabling control may be 1. */
static uint64_t gated(uint64_t enabler_allowed1, uint64_t enabler_bit, uint64_t allowed1)
{
	return (enabler_allowed1 & enabler_bit) ? allowed1 : 0;
}

uint64_t vmx_allowed1(const struct cpu *c, enum vmx_ctl ctl)
{
	const struct vmx_model *m = &c->model->vmx;

	if (!vmx_supported(c))
		return 0;
	switch (ctl) {
	case VMX_CTL_PIN: return m->pin_allowed1 | VMX_PIN_DEFAULT1;
	case VMX_CTL_PROC: return m->proc_allowed1 | VMX_PROC_DEFAULT1;
	case VMX_CTL_PROC2: return gated(vmx_allowed1(c, VMX_CTL_PROC), PROC_SECONDARY_CTLS, m->proc2_allowed1);
	case VMX_CTL_PROC3: return gated(vmx_allowed1(c, VMX_CTL_PROC), PROC_TERTIARY_CTLS, m->proc3_allowed1);
	case VMX_CTL_EXIT: return m->exit_allowed1 | VMX_EXIT_DEFAULT1;
	case VMX_CTL_EXIT2: return gated(vmx_allowed1(c, VMX_CTL_EXIT), EXIT_SECONDARY_CTLS, m->exit2_allowed1);
	case VMX_CTL_ENTRY: return m->entry_allowed1 | VMX_ENTRY_DEFAULT1;
	case VMX_CTL_VMFUNC: return gated(vmx_allowed1(c, VMX_CTL_PROC2), PROC2_VMFUNC, m->vmfunc);
	}
	return 0;
}

/* Without the TRUE MSRs every default1 bit must be 1; with them (BASIC[55])
 * VM entry checks the TRUE MSRs' allowed-0 settings instead (A.3.1, A.3.2,
 * A.4.1, A.5; 26.2.1.1-26.2.1.3). The secondary, tertiary, secondary-exit
 * and VM-function words have no must-be-1 bits (A.3.3, A.3.4, A.4.2, A.11). */
uint64_t vmx_must_be1(const struct cpu *c, enum vmx_ctl ctl)
{
	const struct vmx_model *m = &c->model->vmx;
	bool t = m->true_ctls;

	if (!vmx_supported(c))
		return 0;
	switch (ctl) {
	case VMX_CTL_PIN: return t ? m->pin_true_must1 : VMX_PIN_DEFAULT1;
	case VMX_CTL_PROC: return t ? m->proc_true_must1 : VMX_PROC_DEFAULT1;
	case VMX_CTL_EXIT: return t ? m->exit_true_must1 : VMX_EXIT_DEFAULT1;
	case VMX_CTL_ENTRY: return t ? m->entry_true_must1 : VMX_ENTRY_DEFAULT1;
	case VMX_CTL_PROC2:
	case VMX_CTL_PROC3:
	case VMX_CTL_EXIT2:
	case VMX_CTL_VMFUNC:
		return 0;
	}
	return 0;
}

/* A.1: revision, region size, memory type WB; bit 48 (32-bit addresses)
 * is 0 on Intel 64; bit 49 (dual-monitor SMM treatment) is 0: vtxsim has
 * no SMM. */
static uint64_t basic(const struct cpu *c)
{
	const struct vmx_model *m = &c->model->vmx;

	return (m->revision & VMX_BASIC_REVISION_MASK) |
	       ((uint64_t)VMCS_REGION_SIZE << VMX_BASIC_REGION_SIZE_SHIFT) |
	       (VMX_BASIC_MEMTYPE_WB << VMX_BASIC_MEMTYPE_SHIFT) |
	       (m->ins_outs_info ? VMX_BASIC_INS_OUTS : 0) |
	       (m->true_ctls ? VMX_BASIC_TRUE_CTLS : 0) |
	       (m->no_errcode_check ? VMX_BASIC_NO_ERRCODE_CHECK : 0);
}

/* A control-capability MSR: allowed-0 settings (the must-be-1 bits) in
 * 31:0, allowed-1 settings in 63:32 (A.3-A.5). */
static uint64_t ctls(uint64_t must1, uint64_t allowed1)
{
	return must1 | (allowed1 << 32);
}

/* The non-TRUE MSRs report every default1 bit as must-be-1, whatever the
 * model allows (A.3.1, A.3.2, A.4.1, A.5). */
static uint64_t ctls_default1(const struct cpu *c, enum vmx_ctl ctl, uint32_t default1)
{
	return ctls(default1, vmx_allowed1(c, ctl));
}

/* The TRUE MSRs report the model's real allowed-0 settings. */
static uint64_t ctls_true(const struct cpu *c, enum vmx_ctl ctl)
{
	return ctls(vmx_must_be1(c, ctl), vmx_allowed1(c, ctl));
}

/* A.9: bits 9:1 = the highest index (encoding bits 9:1) of any field the
 * model supports, from the field table. */
static uint64_t vmcs_enum(const struct cpu *c)
{
	uint64_t top = 0;

	for (int f = 0; f < VF_COUNT; f++) {
		uint64_t index = (vmcs_fields[f].enc >> 1) & VMX_VMCS_ENUM_INDEX_MASK;
		if (index > top && vmcs_field_exists(c, (enum vmcs_field)f))
			top = index;
	}
	return top << VMX_VMCS_ENUM_INDEX_SHIFT;
}

/* Which capability MSRs exist (Appendix A): none without VMX; CTLS2 with
 * the 1-setting of "activate secondary controls" (A.3.3); EPT_VPID_CAP with
 * that of "enable EPT" or "enable VPID" (A.10); the TRUE MSRs with
 * BASIC[55] (A.3.1); VMFUNC with "enable VM functions" (A.11); CTLS3 with
 * "activate tertiary controls" (A.3.4); EXIT_CTLS2 with "activate secondary
 * VM-exit controls" (A.4.2). */
static bool cap_present(const struct cpu *c, uint32_t msr)
{
	if (!vmx_supported(c))
		return false;
	switch (msr) {
	case MSR_IA32_VMX_PROCBASED_CTLS2: return vmx_allowed1(c, VMX_CTL_PROC) & PROC_SECONDARY_CTLS;
	case MSR_IA32_VMX_EPT_VPID_CAP: return vmx_allowed1(c, VMX_CTL_PROC2) & (PROC2_EPT | PROC2_VPID);
	case MSR_IA32_VMX_TRUE_PINBASED_CTLS:
	case MSR_IA32_VMX_TRUE_PROCBASED_CTLS:
	case MSR_IA32_VMX_TRUE_EXIT_CTLS:
	case MSR_IA32_VMX_TRUE_ENTRY_CTLS: return c->model->vmx.true_ctls;
	case MSR_IA32_VMX_VMFUNC: return vmx_allowed1(c, VMX_CTL_PROC2) & PROC2_VMFUNC;
	case MSR_IA32_VMX_PROCBASED_CTLS3: return vmx_allowed1(c, VMX_CTL_PROC) & PROC_TERTIARY_CTLS;
	case MSR_IA32_VMX_EXIT_CTLS2: return vmx_allowed1(c, VMX_CTL_EXIT) & EXIT_SECONDARY_CTLS;
	default: return msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_VMCS_ENUM;
	}
}

static uint64_t cap_value(const struct cpu *c, uint32_t msr)
{
	switch (msr) {
	case MSR_IA32_VMX_BASIC: return basic(c);
	case MSR_IA32_VMX_PINBASED_CTLS: return ctls_default1(c, VMX_CTL_PIN, VMX_PIN_DEFAULT1);
	case MSR_IA32_VMX_PROCBASED_CTLS: return ctls_default1(c, VMX_CTL_PROC, VMX_PROC_DEFAULT1);
	case MSR_IA32_VMX_EXIT_CTLS: return ctls_default1(c, VMX_CTL_EXIT, VMX_EXIT_DEFAULT1);
	case MSR_IA32_VMX_ENTRY_CTLS: return ctls_default1(c, VMX_CTL_ENTRY, VMX_ENTRY_DEFAULT1);
	case MSR_IA32_VMX_MISC: return c->model->vmx.misc;
	case MSR_IA32_VMX_CR0_FIXED0: return vmx_cr0_fixed0(c);
	case MSR_IA32_VMX_CR0_FIXED1: return vmx_cr0_fixed1(c);
	case MSR_IA32_VMX_CR4_FIXED0: return vmx_cr4_fixed0(c);
	case MSR_IA32_VMX_CR4_FIXED1: return vmx_cr4_fixed1(c);
	case MSR_IA32_VMX_VMCS_ENUM: return vmcs_enum(c);
	case MSR_IA32_VMX_PROCBASED_CTLS2: return ctls(0, vmx_allowed1(c, VMX_CTL_PROC2));
	case MSR_IA32_VMX_EPT_VPID_CAP: return c->model->vmx.ept_vpid_cap;
	case MSR_IA32_VMX_TRUE_PINBASED_CTLS: return ctls_true(c, VMX_CTL_PIN);
	case MSR_IA32_VMX_TRUE_PROCBASED_CTLS: return ctls_true(c, VMX_CTL_PROC);
	case MSR_IA32_VMX_TRUE_EXIT_CTLS: return ctls_true(c, VMX_CTL_EXIT);
	case MSR_IA32_VMX_TRUE_ENTRY_CTLS: return ctls_true(c, VMX_CTL_ENTRY);
	case MSR_IA32_VMX_VMFUNC: return vmx_allowed1(c, VMX_CTL_VMFUNC);
	case MSR_IA32_VMX_PROCBASED_CTLS3: return vmx_allowed1(c, VMX_CTL_PROC3);       /* 64 allowed-1 bits */
	case MSR_IA32_VMX_EXIT_CTLS2: return vmx_allowed1(c, VMX_CTL_EXIT2);            /* 64 allowed-1 bits */
	}
	return 0;
}

bool vmx_cap_msr(const struct cpu *c, uint32_t msr, uint64_t *v)
{
	if (!cap_present(c, msr))
		return false;
	*v = cap_value(c, msr);
	return true;
}

/* A.6: activity state 0 (active) always; 1 HLT, 2 shutdown, 3
 * wait-for-SIPI when IA32_VMX_MISC bits 6, 7, 8 say so. */
bool vmx_activity_state_supported(const struct cpu *c, unsigned state)
{
	if (state == 0)
		return true;
	return state <= 3 && (c->model->vmx.misc & (VMX_MISC_ACT_HLT << (state - 1)));
}

unsigned vmx_cr3_target_count(const struct cpu *c)
{
	return (unsigned)((c->model->vmx.misc >> VMX_MISC_CR3_TARGETS_SHIFT) & VMX_MISC_CR3_TARGETS_MASK);
}

bool vmx_feature_control_allows_vmxon(const struct cpu *c)
{
	uint64_t need = FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX;
	return (c->msr.feature_control & need) == need;
}

/* A.7: PE, NE and PG are fixed to 1 (with "unrestricted guest", VM entry
 * relaxes PE and PG for the guest, 26.3.1.1, but the MSR still reports them
 * fixed); bits 31:0 may otherwise be 1. */
uint64_t vmx_cr0_fixed0(const struct cpu *c)
{
	(void)c;
	return VMX_CR0_FIXED0;
}

uint64_t vmx_cr0_fixed1(const struct cpu *c)
{
	(void)c;
	return VMX_CR0_FIXED1;
}

/* A.8: VMXE is fixed to 1; a bit may be 1 exactly when the model's CPUID
 * features let MOV to CR4 set it (cpu/system.c). */
uint64_t vmx_cr4_fixed0(const struct cpu *c)
{
	(void)c;
	return VMX_CR4_FIXED0;
}

uint64_t vmx_cr4_fixed1(const struct cpu *c)
{
	return cpu_cr4_valid(c);
}
