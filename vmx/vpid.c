/* VPID- and EPTP-tagged translations across VM entries and VM exits (SDM
 * vol. 3C 28.3.1 "Information That May Be Cached", 28.3.3.1 "Operations
 * that Invalidate Cached Mappings").
 *
 * Linear mappings are associated with the current VPID and PCID; combined
 * mappings (EPT in use) also with the current EP4TA. Root operation is VPID
 * 0000H without EPT. With "enable VPID" = 1 neither a VM entry nor a VM
 * exit invalidates anything; with "enable VPID" = 0 the guest runs as VPID
 * 0000H and every VM entry and VM exit invalidates the linear and combined
 * mappings of VPID 0000H (every PCID, every EP4TA).
 *
 * Combined mappings are cached per EP4TA (the TLB context is the pair VPID,
 * EP4TA), so those of one EPTP are never used under another; a change of
 * EPTP does not flush. */
#include "vmx/vpid.h"

#include "cpu/cpu.h"
#include "mem/ept.h"
#include "vmx/vmcs.h"

/* 26.2.1.1: with "activate secondary controls" = 0 the processor acts as if
 * every secondary control were 0. */
static uint32_t proc2_of(struct cpu *c, const uint8_t *h)
{
	if (!(vmcs_get(c, h, VF_PROC_CONTROLS) & PROC_SECONDARY_CTLS))
		return 0;
	return (uint32_t)vmcs_get(c, h, VF_PROC2_CONTROLS);
}

void vmx_tlb_enter(struct cpu *c, const uint8_t *h)
{
	uint32_t proc2 = proc2_of(c, h);
	uint16_t vpid = (proc2 & PROC2_VPID) ? (uint16_t)vmcs_get(c, h, VF_VPID) : 0;
	uint64_t ept = (proc2 & PROC2_EPT) ? ept_ep4ta(vmcs_get(c, h, VF_EPT_POINTER)) | TLB_EPT : 0;
	if (!vpid)
		tlb_flush_vpid(&c->tlb, 0);
	cpu_mode_switched(c, vpid, ept);
}

void vmx_tlb_exit(struct cpu *c, const uint8_t *h)
{
	if (!(proc2_of(c, h) & PROC2_VPID))
		tlb_flush_vpid(&c->tlb, 0);
	cpu_mode_switched(c, 0, 0);
}
