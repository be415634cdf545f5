/* EPT as VMX operation sees it (SDM vol. 3C 29.3 "The extended page table
 * mechanism (EPT)", 29.4 "Caching translation information"): VM entry
 * turns EPT on for the guest from the VMCS, VM exit turns it off, INVEPT
 * invalidates cached mappings. The walk itself is mem/ept.c; cpu/ copies
 * c->vmx.eptp/ept_flags into the translation context (cpu_mode_changed). */
#include "cpu/cpu.h"
#include "cpu/model.h"
#include "mem/ept.h"
#include "vmx/ept.h"
#include "vmx/vmcs.h"

uint8_t vmx_ept_flags(const struct cpu *c, uint32_t proc2)
{
	uint64_t cap = c->model->vmx.ept_vpid_cap;
	return (uint8_t)(((proc2 & PROC2_MBEC) ? EPTF_MBEC : 0) | ((cap & VMX_EPT_EXEC_ONLY) ? EPTF_EXEC_ONLY : 0) |
			 ((cap & VMX_EPT_2MB_PAGES) ? EPTF_2M : 0) | ((cap & VMX_EPT_1GB_PAGES) ? EPTF_1G : 0) |
			 ((cap & VMX_EPT_ADVANCED_EXIT_INFO) ? EPTF_ADV_INFO : 0));
}

void vmx_ept_enter(struct cpu *c, const uint8_t *h)
{
	uint32_t proc = (uint32_t)vmcs_get(c, h, VF_PROC_CONTROLS);
	uint32_t proc2 = (proc & PROC_SECONDARY_CTLS) ? (uint32_t)vmcs_get(c, h, VF_PROC2_CONTROLS) : 0;
	if (!(proc2 & PROC2_EPT)) {
		vmx_ept_leave(&c->vmx);
		return;
	}
	/* The VM-entry checks (26.2.1.1) made the EPTP valid: walk length 4
	 * or 5, a supported memory type, A/D only where offered. */
	c->vmx.eptp = vmcs_get(c, h, VF_EPT_POINTER);
	c->vmx.ept_flags = vmx_ept_flags(c, proc2);
	/* "enable PML" (28.2.5): the walk logs into the PML address and keeps
	 * the PML index in its VMCS slot (entry checked the address, 26.2.1.1). */
	if (proc2 & PROC2_PML) {
		c->vmx.ept_flags |= EPTF_PML;
		c->vmx.pml_addr = vmcs_get(c, h, VF_PML_ADDR);
		c->vmx.pml_index_pa = c->vmx.vmcs_ptr + vmcs_field_offset(VF_PML_INDEX);
	}
}

void vmx_ept_invalidate(struct cpu *c, unsigned type, uint64_t eptp)
{
	if (type == 1)
		ept_cache_flush_ep4ta(&c->ept_cache, ept_ep4ta(eptp));
	else
		ept_cache_flush_all(&c->ept_cache);
	/* Combined mappings: the linear TLB tags them by EP4TA (mem/tlb.h),
	 * every VPID and PCID of that EP4TA, or of every EP4TA for type 2. */
	tlb_flush_ept(&c->tlb, type == 1 ? ept_ep4ta(eptp) | TLB_EPT : 0);
}
