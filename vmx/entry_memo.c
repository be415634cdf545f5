/* Remembering that the control and host-state checks passed (SDM vol. 3C
 * 26.2): a hypervisor re-enters the same VMCS after nearly every VM exit
 * with the same controls and host state, and those 112 checks are a pure
 * function of what vmx/entry_memo.h lists. Each VM entry still compares
 * every one of those inputs with the values they had when the checks last
 * passed; only when all are equal does it skip re-running the checks (the
 * outcome would be "pass" again). Any difference, however it came about
 * (VMWRITE, a VM exit clearing the VM-entry interruption-information valid
 * bit, a guest store into the VMCS, the guest changing its TPR), runs them
 * all in order as before. */
#include "vmx/entry_memo.h"

#include "vmx/controls.h"
#include "vmx/vmcs.h"

_Static_assert(VF_COUNT <= VMX_MEMO_FIELDS, "VMX_MEMO_FIELDS holds a value per field row");

/* The rows whose type (encoding bits 11:10, 24.11.2) is control or host. */
static const bool memo_field[VF_COUNT] = {
#define VMCS_FIELD(enc, nm, t, d, b) [VF_##nm] = ((enc) >> 10 & 3) == VMCS_T_CONTROL || ((enc) >> 10 & 3) == VMCS_T_HOST,
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* The inputs of the control and host phases that are not control or
 * host fields: GUEST_CR0.PE (26.2.1.3, error codes of real-mode guests),
 * the VTPR byte of the virtual-APIC page (26.2.1.1), IA32_EFER.LMA of the
 * processor (26.2.4), the current VMCS and the model (capability MSRs). */
static void memo_extras(struct cpu *c, uint64_t x[VMX_MEMO_EXTRAS])
{
	x[0] = c->vmx.vmcs_ptr;
	x[1] = (uint64_t)(uintptr_t)c->model;
	x[2] = c->efer & EFER_LMA;
	x[3] = vmcs_read(c, VF_GUEST_CR0);
	x[4] = (vmcs_read(c, VF_PROC_CONTROLS) & PROC_TPR_SHADOW) ?
		       phys_read(c->phys, vmcs_read(c, VF_VIRTUAL_APIC_ADDR) + 0x80, 1) : 0;
}

bool entry_memo_hit(struct cpu *c)
{
	struct vmx_entry_memo *m = &c->vmx.memo;
	uint64_t x[VMX_MEMO_EXTRAS];
	if (!m->valid)
		return false;
	memo_extras(c, x);
	for (unsigned k = 0; k < VMX_MEMO_EXTRAS; k++)
		if (x[k] != m->extras[k])
			return false;
	for (unsigned f = 0; f < VF_COUNT; f++)
		if (memo_field[f] && vmcs_read(c, (enum vmcs_field)f) != m->field[f])
			return false;
	return true;
}

void entry_memo_store(struct cpu *c)
{
	struct vmx_entry_memo *m = &c->vmx.memo;
	memo_extras(c, m->extras);
	for (unsigned f = 0; f < VF_COUNT; f++)
		m->field[f] = memo_field[f] ? vmcs_read(c, (enum vmcs_field)f) : 0;
	m->valid = true;
}
