/* EPT as VMX operation sees it (vmx/ept.c): VM entry and exit switch the
 * walk of mem/ept.c on and off through c->vmx.eptp/ept_flags, INVEPT
 * invalidates cached mappings. Internal to vmx/. */
#ifndef VMX_EPT_H
#define VMX_EPT_H

#include <stdint.h>

#include "vmx/vmx.h"

/* VM entry, before the guest's paging state is committed (26.3.2.4): EPT
 * on or off for the guest, from "enable EPT", the EPTP, "mode-based
 * execute control for EPT" and IA32_VMX_EPT_VPID_CAP; h = vmcs_burst(c). */
void vmx_ept_enter(struct cpu *c, const uint8_t *h);

/* The EPTF_* flags (mem/paging.h) from the model's IA32_VMX_EPT_VPID_CAP
 * (A.10) and "mode-based execute control for EPT" in proc2 (24.6.2);
 * also what the debugger walks an EPTP of the VMCS with. */
uint8_t vmx_ept_flags(const struct cpu *c, uint32_t proc2);

/* VM exit, VMX abort, reset: the processor translates without EPT. */
static inline void vmx_ept_leave(struct vmx_state *v)
{
	v->eptp = 0;
	v->ept_flags = 0;
}

/* INVEPT type 1 (single-context, the descriptor's EPTP) or 2 (all-context):
 * guest-physical mappings of mem/ept.c and combined mappings in the TLB
 * (29.4.3.1). */
void vmx_ept_invalidate(struct cpu *c, unsigned type, uint64_t eptp);

#endif
