/* The VMCS field table and raw access to VMCS regions (vmx/vmcs.h). */
#include "vmx/vmcs.h"

#include "cpu/model.h"
#include "vmx/caps.h"

const struct vmcs_field_info vmcs_fields[VF_COUNT] = {
#define VMCS_FIELD(e, nm, t, d, b) [VF_##nm] = { .enc = (e), .name = #nm, .title = (t), .dep = (d), .bit = (b) },
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

int vmcs_field_lookup(uint32_t enc, bool *high)
{
	*high = false;
	if (vmcs_enc_width(enc) == VMCS_W64 && (enc & 1)) {
		*high = true;
		enc &= ~1u;
	}
	switch (enc) {
#define VMCS_FIELD(e, nm, t, d, b) case (e): return VF_##nm;
#include "vmx/vmcs_fields.def"
#undef VMCS_FIELD
	}
	*high = false;
	return -1;
}

bool vmcs_field_exists(const struct cpu *c, enum vmcs_field f)
{
	const struct vmcs_field_info *fi = &vmcs_fields[f];
	const struct vmx_model *m = &c->model->vmx;
	uint64_t bit = 1ull << fi->bit;

	switch (fi->dep) {
	case DEP_ALWAYS: return true;
	case DEP_PIN: return vmx_allowed1(c, VMX_CTL_PIN) & bit;
	case DEP_PROC: return vmx_allowed1(c, VMX_CTL_PROC) & bit;
	case DEP_PROC2: return vmx_allowed1(c, VMX_CTL_PROC2) & bit;
	case DEP_PROC3: return vmx_allowed1(c, VMX_CTL_PROC3) & bit;
	case DEP_EXIT: return vmx_allowed1(c, VMX_CTL_EXIT) & bit;
	case DEP_EXIT2: return vmx_allowed1(c, VMX_CTL_EXIT2) & bit;
	case DEP_ENTRY: return vmx_allowed1(c, VMX_CTL_ENTRY) & bit;
	case DEP_VMFUNC: return vmx_allowed1(c, VMX_CTL_VMFUNC) & bit;
	case DEP_MISC: return m->misc & bit;
	case DEP_EPT_VPID: return m->ept_vpid_cap & bit;
	}
	return false;
}

const char *vmcs_group_name(uint32_t enc)
{
	static const char *const names[4][4] = {
		[VMCS_W16] = { "16-bit control", "16-bit read-only data", "16-bit guest-state", "16-bit host-state" },
		[VMCS_W64] = { "64-bit control", "64-bit read-only data", "64-bit guest-state", "64-bit host-state" },
		[VMCS_W32] = { "32-bit control", "32-bit read-only data", "32-bit guest-state", "32-bit host-state" },
		[VMCS_WNAT] = { "natural-width control", "natural-width read-only data", "natural-width guest-state",
				"natural-width host-state" },
	};
	return names[vmcs_enc_width(enc)][vmcs_enc_type(enc)];
}

static unsigned width_bytes(enum vmcs_width w)
{
	static const unsigned bytes[4] = { [VMCS_W16] = 2, [VMCS_W64] = 8, [VMCS_W32] = 4, [VMCS_WNAT] = 8 };
	return bytes[w];
}

uint64_t vmcs_region_read(struct cpu *c, uint64_t pa, enum vmcs_field f)
{
	return phys_read(c->phys, pa + vmcs_field_offset(f), width_bytes(vmcs_enc_width(vmcs_fields[f].enc)));
}

void vmcs_region_write(struct cpu *c, uint64_t pa, enum vmcs_field f, uint64_t v)
{
	phys_write(c->phys, pa + vmcs_field_offset(f), v, width_bytes(vmcs_enc_width(vmcs_fields[f].enc)));
}
