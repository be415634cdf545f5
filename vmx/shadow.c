/* VMCS shadowing (vmx/shadow.h): the VMREAD/VMWRITE bitmaps and the
 * coherence warning of VM entry. */
#include "vmx/shadow.h"

#include "vmx/controls.h"
#include "vmx/insn.h"
#include "vmx/misuse.h"
#include "vmx/vmcs.h"
#include "vmx/watch.h"

/* The bitmaps cover encodings 0-7FFFH: one bit each, 4 KBytes (24.6.15). */
#define SHADOW_ENC_BITS 15

static bool shadowing(struct cpu *c)
{
	return (vmcs_read(c, VF_PROC_CONTROLS) & PROC_SECONDARY_CTLS) &&
	       (vmcs_read(c, VF_PROC2_CONTROLS) & PROC2_VMCS_SHADOWING);
}

/* 25.1.3 "VMREAD, VMWRITE"; the bitmap addresses are physical addresses
 * (24.6.15): no guest paging, no EPT. */
bool vmx_shadow_rw_exits(struct cpu *c, uint64_t enc, bool write)
{
	if (!shadowing(c) || enc >> SHADOW_ENC_BITS)
		return true;
	uint64_t bitmap = vmcs_read(c, write ? VF_VMWRITE_BITMAP : VF_VMREAD_BITMAP);
	return (phys_read(c->phys, bitmap + (enc >> 3), 1) >> (enc & 7)) & 1;
}

void vmx_shadow_entry_misuse(struct cpu *c)
{
	if (!shadowing(c))
		return;
	uint64_t link = vmcs_read(c, VF_VMCS_LINK_PTR);
	if (link == VMCS_PTR_NONE)
		return;
	if (vmx_active_find(c, link)) {
		vmx_misuse(c, VMX_MISUSE_SHADOW_VMCS_ACTIVE,
			   "VM entry on cpu%d with the shadow VMCS at 0x%llx still active on cpu%d (no VMCLEAR after VMPTRLD)",
			   c->id, (unsigned long long)link, c->id);
		return;
	}
	const struct phys_watch *w = vmx_watch_other(c, link, VMX_WATCH_VMCS);
	if (w)
		vmx_misuse(c, VMX_MISUSE_SHADOW_VMCS_ACTIVE,
			   "VM entry on cpu%d with the shadow VMCS at 0x%llx, which is active on cpu%d", c->id,
			   (unsigned long long)link, vmx_watch_owner(w));
}
