/* VM entries from a 32-bit host (lib/vmx_host32.h). Section numbers are
 * those of the SDM vol. 3C edition whose VM-entry chapter is 26.
 */
#include "vmx_host32.h"

#define HOST32_STACK 4096

struct vmx_host32 vmx_host32;
static uint8_t host32_stack[HOST32_STACK] __attribute__((aligned(16)));

extern void vmx_host32_run(void);

/* The 32-bit host's CR4: the kernel's (VMXE and the FIXED bits included)
 * with PAE and PCIDE off and PSE on, for 32-bit paging with 4-MByte pages
 * (vol. 3A 4.3; 26.2.4: PCIDE must be 0 with "host address-space size" 0). */
static uint64_t host32_cr4(void)
{
	return (read_cr4() & ~(CR4_PAE | CR4_PCIDE)) | CR4_PSE;
}

void vmx_host32_state(void)
{
	struct vmx_lib_layout l = vmx_lib_layout();

	vmwrite(VMCS_EXIT_CONTROLS, vmread(VMCS_EXIT_CONTROLS) & ~(uint64_t)EXIT_HOST_ADDR_SPACE);
	vmwrite(VMCS_HOST_CR3, l.guest32_pd);
	vmwrite(VMCS_HOST_CR4, host32_cr4());
	vmwrite(VMCS_HOST_CS_SELECTOR, l.code32_sel);
	vmwrite(VMCS_HOST_SS_SELECTOR, l.data_sel);
	vmwrite(VMCS_HOST_RSP, (uint64_t)(host32_stack + sizeof(host32_stack)));
	vmwrite(VMCS_HOST_RIP, (uint64_t)vmx_host32_entry);
	/* 26.2.2: with "load IA32_EFER", LMA and LME must equal "host
	 * address-space size"; the field exists where the control does. */
	if (vmx_allowed1(VMX_CTL_EXIT) & EXIT_LOAD_EFER)
		vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER) & ~(EFER_LME | EFER_LMA));
}

/* The outcome from what the 32-bit code recorded, read in 64-bit mode
 * after VMXON and VMPTRLD of the same VMCS (its fields were written back
 * by the 32-bit VMCLEAR). */
static struct vmx_outcome outcome(void)
{
	struct vmx_outcome o = { 0 };

	if (vmx_host32.exited) {
		o.res = VMX_OK;
		o.exit_reason = vmread(VMCS_EXIT_REASON);
		o.qual = vmread(VMCS_EXIT_QUALIFICATION);
		return o;
	}
	o.res = vmx_result_of(vmx_host32.launch_flags);
	if (o.res == VMX_FAIL_VALID)
		o.error = vmread(VMCS_VM_INSTRUCTION_ERROR);
	if (o.res == VMX_OK) {
		report(false, "32-bit host: VMLAUNCH fell through without VMfail");
		o.exit_reason = UINT32_MAX;
	}
	return o;
}

/* Back in 64-bit mode outside VMX operation: VMX on again with the same
 * VMCS current; the kernel's EFER, FS/GS selectors and bases. */
static bool reenter_vmx(uint64_t efer, uint64_t fs_base, uint64_t gs_base, uint16_t data_sel)
{
	asm volatile("mov %0, %%fs; mov %0, %%gs" : : "r"(data_sel));
	wrmsr(MSR_EFER, efer);
	wrmsr(MSR_FS_BASE, fs_base);
	wrmsr(MSR_GS_BASE, gs_base);
	if (vmxon(vmx_host32.vmxon_pa) != VMX_OK)
		return report(false, "32-bit host: VMXON back in 64-bit mode failed");
	if (vmptrld(vmx_host32.vmcs_pa) != VMX_OK)
		return report(false, "32-bit host: VMPTRLD back in 64-bit mode failed");
	return true;
}

/* Did each VMX instruction of the 32-bit code succeed? */
static bool host32_insns_ok(void)
{
	if (vmx_result_of(vmx_host32.vmxon_flags) != VMX_OK)
		return report(false, "32-bit host: VMXON failed (EFLAGS %#x)", vmx_host32.vmxon_flags);
	if (vmx_result_of(vmx_host32.vmptrld_flags) != VMX_OK)
		return report(false, "32-bit host: VMPTRLD failed (EFLAGS %#x)", vmx_host32.vmptrld_flags);
	if (vmx_result_of(vmx_host32.vmclear_flags) != VMX_OK || vmx_result_of(vmx_host32.vmxoff_flags) != VMX_OK)
		return report(false, "32-bit host: VMCLEAR/VMXOFF failed (EFLAGS %#x, %#x)", vmx_host32.vmclear_flags,
			      vmx_host32.vmxoff_flags);
	return true;
}

struct vmx_outcome vmx_try_launch_host32(void)
{
	struct vmx_lib_layout l = vmx_lib_layout();
	uint64_t efer = rdmsr(MSR_EFER), fs_base = rdmsr(MSR_FS_BASE), gs_base = rdmsr(MSR_GS_BASE);
	uint64_t vmcs = 0;
	struct vmx_outcome bad = { .res = VMX_FAIL_INVALID, .exit_reason = UINT32_MAX };

	vmptrst(&vmcs);
	vmx_host32 = (struct vmx_host32){
		.vmxon_pa = l.vmxon_pa, .vmcs_pa = vmcs, .cr3 = (uint32_t)l.guest32_pd,
		.cr4 = (uint32_t)host32_cr4(), .code32_sel = l.code32_sel, .code64_sel = l.code64_sel,
		.data_sel = l.data_sel,
	};
	if (vmclear(vmcs) != VMX_OK || vmxoff() != VMX_OK) {
		report(false, "32-bit host: VMCLEAR/VMXOFF in 64-bit mode failed");
		return bad;
	}
	vmx_host32_run();
	if (!reenter_vmx(efer, fs_base, gs_base, l.data_sel) || !host32_insns_ok())
		return bad;
	return outcome();
}
