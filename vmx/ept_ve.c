/* EPT-violation #VE: virtualization exceptions (SDM vol. 3C 25.5.6 in the
 * edition whose VM-exit chapter is 27: 25.5.6.1 "Convertible EPT
 * Violations", 25.5.6.2 "Virtualization-Exception Information", 25.5.6.3
 * "Delivery of Virtualization Exceptions"; vol. 3A "Interrupt 20").
 *
 * mem/ept.c reports in struct xlate_fault.ve_suppress the bit 63 of the
 * EPT entry that decides convertibility; vmx_xlate_exit (vmx/events.c)
 * asks here before it exits; cpu/exception.c delivers the #VE. */
#include "vmx/ept_ve.h"

#include "cpu/cpu.h"
#include "mem/paging.h"
#include "vmx/trace.h"
#include "vmx/vmcs.h"

static bool ve_enabled(struct cpu *c)
{
	return (vmcs_read(c, VF_PROC_CONTROLS) & PROC_SECONDARY_CTLS) &&
	       (vmcs_read(c, VF_PROC2_CONTROLS) & PROC2_EPT_VE);
}

/* 25.5.6.1: a convertible EPT violation (suppress #VE = 0 in the entry
 * that decided it) is a #VE when CR0.PE = 1, no event is being delivered
 * through the IDT, and the 32 bits at offset 4 of the information area
 * are 0. */
static bool convertible(struct cpu *c, const struct xlate_fault *f, const struct vmx_vectoring *prev, uint64_t area)
{
	if (f->ve_suppress || !(c->cr0 & CR0_PE) || prev->info)
		return false;
	return phys_read(c->phys, area + VE_INFO_MARKER, 4) == 0;
}

bool vmx_ept_ve(struct cpu *c, const struct xlate_fault *f, uint64_t qual, const struct vmx_vectoring *prev)
{
	if (!ve_enabled(c))
		return false;
	uint64_t area = vmcs_read(c, VF_VE_INFO_ADDR);
	if (!convertible(c, f, prev, area))
		return false;
	/* Table 25-1: what a VM exit would have saved; the guest-linear
	 * address only where bit 7 of the qualification says it is valid
	 * (0 otherwise, the field being undefined then). */
	phys_write(c->phys, area + VE_INFO_EXIT_REASON, EXIT_REASON_EPT_VIOLATION, 4);
	phys_write(c->phys, area + VE_INFO_MARKER, VE_INFO_MARKER_SET, 4);
	phys_write(c->phys, area + VE_INFO_QUAL, qual, 8);
	phys_write(c->phys, area + VE_INFO_LINEAR, f->linear_valid ? f->linear : 0, 8);
	phys_write(c->phys, area + VE_INFO_PHYS, f->gpa, 8);
	phys_write(c->phys, area + VE_INFO_EPTP_INDEX, vmcs_read(c, VF_EPTP_INDEX), 2);
	vmx_tracef(c, "EPT violation at GPA %#llx: virtualization exception (#VE), SDM 25.5.6",
		   (unsigned long long)f->gpa);
	return true;
}
