/* A PAE guest under EPT (SDM vol. 3C 26.3.2.4 "Loading page-directory-
 * pointer-table entries", 27.3.4 "Saving non-register state", 29.3.3.2):
 * VM entry loads PDPTE0-3 from the VMCS (the table in memory at guest CR3
 * is all zero, so a load from memory would leave nothing mapped); VM exit
 * saves them; a MOV to CR3 in the guest loads them from guest-physical
 * memory through EPT, and an EPT violation on that load is exit 48 with
 * bits 7/8 clear (no guest-linear address), the PDPTE's guest-physical
 * address, GUEST_RIP at the MOV and CR3 unchanged. */
#include "guest.h"
#include "vmx_ept.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX, RDX, RBX };
#define CR4_PAE (1ul << 5)

static uint64_t pae_pd[4][512] __attribute__((aligned(4096)));
static uint64_t pdpt_zero[4] __attribute__((aligned(32)));
static uint64_t pdpt_mem[4] __attribute__((aligned(32)));

extern char g32_cr3[], g32_cr3_end[];
asm(".text\n.code32\n"
    "g32_cr3:	mov %ebx, %cr3\n"
    "g32_cr3_end:	vmcall\n"
    ".code64\n");

static bool setup(void)
{
	vmx_baseline(32);
	if (vmx_must1(VMX_CTL_PROC) & PROC_CR3_LOAD_EXITING) {
		report_skip("PAE under EPT: CR3-load exiting must be 1 on this model");
		return false;
	}
	vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)PROC_CR3_LOAD_EXITING);
	vmx_ept_build(false, false, false);
	invept(2, 0, 0);
	for (uint64_t k = 0; k < 4; k++)
		for (uint64_t m = 0; m < 512; m++)
			pae_pd[k][m] = (k << 30 | m << 21) | 0x83;      /* P, W, PS */
	memset(pdpt_zero, 0, sizeof(pdpt_zero));
	vmwrite(VMCS_GUEST_CR4, vmread(VMCS_GUEST_CR4) | CR4_PAE);
	vmwrite(VMCS_GUEST_CR3, (uint64_t)pdpt_zero);
	for (int k = 0; k < 4; k++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * k, (uint64_t)pae_pd[k] | 1);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	return true;
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start() && vmx_ept_usable() && setup()) {
		struct vmx_outcome o = vmx_enter_guest(false);
		report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL,
		       "entry with the PDPTEs from the VMCS: the guest ran to VMCALL (exit %u)", o.exit_reason);
		report_eq(vmread(VMCS_GUEST_PDPTE0), (uint64_t)pae_pd[0] | 1, "exit saved PDPTE0");
		report_eq(vmread(VMCS_GUEST_PDPTE3), (uint64_t)pae_pd[3] | 1, "exit saved PDPTE3");

		/* MOV to CR3 loads the table from memory through EPT; bit 9 is ignored. */
		for (int k = 0; k < 4; k++)
			pdpt_mem[k] = (uint64_t)pae_pd[k] | 1 | 1ull << 9;
		setup();
		vmx_guest_regs[RBX] = (uint64_t)pdpt_mem;
		vmwrite(VMCS_GUEST_RIP, (uint64_t)g32_cr3);
		o = vmx_enter_guest(false);
		report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL, "MOV to CR3: no exit (%u)", o.exit_reason);
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g32_cr3_end, "MOV to CR3 executed");
		report_eq(vmread(VMCS_GUEST_PDPTE0), pdpt_mem[0], "exit saved PDPTE0 loaded by MOV to CR3");
		report_eq(vmread(VMCS_GUEST_PDPTE2), pdpt_mem[2], "exit saved PDPTE2 loaded by MOV to CR3");

		/* The table at a guest-physical address EPT does not map. */
		setup();
		ept_pt[0] = 0;
		vmx_guest_regs[RBX] = EPT_ALIAS + 0x20;
		vmwrite(VMCS_GUEST_RIP, (uint64_t)g32_cr3);
		o = vmx_enter_guest(false);
		if (report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_EPT_VIOLATION,
			   "MOV to CR3, PDPT not mapped by EPT: exit 48 (got %u)", o.exit_reason)) {
			report_eq(vmread(VMCS_EXIT_QUALIFICATION), Q_READ, "qualification: data read, no linear address");
			report_eq(vmread(VMCS_GUEST_PHYS_ADDR), EPT_ALIAS + 0x20, "guest-physical address: the PDPTE");
			report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g32_cr3, "GUEST_RIP: the MOV to CR3");
			report_eq(vmread(VMCS_GUEST_CR3), (uint64_t)pdpt_zero, "CR3 unchanged");
		}
	}
	report_summary();
}
