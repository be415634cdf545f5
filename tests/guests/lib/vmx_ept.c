/* EPT tables for the guest EPT tests (vmx_ept.h). */
#include "vmx_ept.h"

#include "guest.h"
#include "vmx_vmcs.h"

#define ALIGNED __attribute__((aligned(4096)))

uint64_t ept_pml4[512] ALIGNED, ept_pdpt[512] ALIGNED, ept_pd[4][512] ALIGNED, ept_pd3[512] ALIGNED;
uint64_t ept_pt[512] ALIGNED, ept_pdpt_hi[512] ALIGNED;
uint8_t ept_target[4096] ALIGNED, ept_target2[4096] ALIGNED;
uint64_t ept_gpml4[512] ALIGNED, ept_gpdpt[512] ALIGNED, ept_gpd[512] ALIGNED;

#define PTE_P 1ull
#define PTE_W 2ull
#define PTE_U 4ull
#define PTE_PS 0x80ull

uint64_t vmx_ept_cap(void)
{
	return vmx_msr(MSR_IA32_VMX_EPT_VPID_CAP);
}

bool vmx_ept_usable(void)
{
	if (!(vmx_allowed1(VMX_CTL_PROC) & PROC_SECONDARY_CTLS) || !(vmx_allowed1(VMX_CTL_PROC2) & PROC2_EPT)) {
		report_skip("EPT: the model has no \"enable EPT\" control");
		return false;
	}
	return true;
}

uint64_t vmx_ept_build(bool ad, bool ux, bool mbec)
{
	uint64_t u = ux ? EPT_UX : 0, leaf = EPT_RWX | u | EPT_WB | EPT_LARGE;
	memset(ept_pml4, 0, 4096);
	memset(ept_pdpt_hi, 0, 4096);
	ept_pml4[0] = (uint64_t)ept_pdpt | EPT_RWX | u;
	for (uint64_t g = 0; g < 4; g++) {
		ept_pdpt[g] = (uint64_t)(g == 3 ? ept_pd3 : ept_pd[g]) | EPT_RWX | u;
		for (uint64_t m = 0; m < 512; m++)
			(g == 3 ? ept_pd3 : ept_pd[g])[m] = (g << 30 | m << 21) | leaf;
	}
	ept_pd3[0] = (uint64_t)ept_pt | EPT_RWX | u;
	for (uint64_t k = 0; k < 512; k++)
		ept_pt[k] = (EPT_ALIAS + (k << 12)) | EPT_RWX | u | EPT_WB;
	ept_pt[0] = (uint64_t)ept_target | EPT_RWX | u | EPT_WB;
	ept_pt[1] = (uint64_t)ept_gpd | EPT_RWX | u | EPT_WB;
	uint64_t v = vmread(VMCS_PROC_CONTROLS);
	vmwrite(VMCS_PROC_CONTROLS, v | PROC_SECONDARY_CTLS);
	v = vmread(VMCS_PROC2_CONTROLS) | PROC2_EPT;
	vmwrite(VMCS_PROC2_CONTROLS, mbec ? v | PROC2_MBEC : v & ~(uint64_t)PROC2_MBEC);
	uint64_t eptp = (uint64_t)ept_pml4 | (3ull << 3) | 6 | (ad ? EPTP_AD : 0);
	vmwrite(VMCS_EPT_POINTER, eptp);
	return eptp;
}

void vmx_ept_guest_cr3(void)
{
	memset(ept_gpml4, 0, 4096);
	memset(ept_gpdpt, 0, 4096);
	memset(ept_gpd, 0, 4096);
	ept_gpml4[0] = boot_pml4[0];
	ept_gpml4[1] = (uint64_t)ept_gpdpt | PTE_P | PTE_W | PTE_U;
	ept_gpdpt[0] = EPT_GPD_GPA | PTE_P | PTE_W | PTE_U;
	ept_gpd[0] = EPT_ALIAS | PTE_P | PTE_W | PTE_U | PTE_PS;
	vmwrite(VMCS_GUEST_CR3, (uint64_t)ept_gpml4);
}

uint64_t vmx_ept_adv(bool user, bool rw, bool xd)
{
	if (!(vmx_ept_cap() & EPTCAP_ADV_INFO))
		return 0;
	return (user ? Q_ADV_USER : 0) | (rw ? Q_ADV_RW : 0) | (xd ? Q_ADV_XD : 0);
}
