/* VMFUNC (0F 01 D4) and the VM functions (SDM vol. 3C 25.5.5 "VM
 * Functions" in the edition whose VM-exit chapter is 27; vol. 2
 * "VMFUNC—Invoke VM function"): VM function 0, EPTP switching
 * (25.5.5.3). Outside VMX non-root operation, or with "enable VM
 * functions" = 0, VMFUNC is #UD. A function that is not enabled, or a
 * failed EPTP switch, is a VM exit with reason 59 and the instruction
 * length; a successful switch loads the EPTP without a VM exit. */
#include "cpu/handlers.h"
#include "cpu/model.h"
#include "mem/ept.h"
#include "mem/tlb.h"
#include "vmx/insn_impl.h"
#include "vmx/trace.h"
#include "vmx/vmcs.h"

#define VMFUNC_EPTP_SWITCH 0u           /* EAX = 0: EPTP switching */
#define VMFUNC_MAX 63u                  /* VM-function controls are 64 bits */
#define EPTP_LIST_ENTRIES 512u          /* the EPTP list: one 4-KiB page of EPTPs */

static bool vmfunc_enabled(struct cpu *c)
{
	return (vmcs_read(c, VF_PROC_CONTROLS) & PROC_SECONDARY_CTLS) &&
	       (vmcs_read(c, VF_PROC2_CONTROLS) & PROC2_VMFUNC);
}

/* 25.5.5.3: ECX < 512 selects an entry of the EPTP list (EPTP-list
 * address, physical); an entry that would fail the VM-entry EPTP checks
 * (26.2.1.1) exits. Otherwise ECX[15:0] goes to the EPTP-index field when
 * the processor supports "EPT-violation #VE", and the entry becomes the
 * EPTP. Nothing is invalidated: guest-physical mappings (mem/ept.c) and
 * combined mappings (mem/tlb.c, context = VPID and EP4TA) are tagged by
 * EP4TA, so the TLB just makes (current VPID, new EP4TA) its context, as
 * a VM entry with that EPTP would (28.3.1). The PAE PDPTEs are not
 * reloaded (25.5.5.3). */
static enum exec_status eptp_switch(struct cpu *c, const struct insn *i)
{
	uint32_t index = (uint32_t)c->gpr[R_CX];
	if (index >= EPTP_LIST_ENTRIES)
		return vmx_insn_exit(c, i, EXIT_REASON_VMFUNC, INFO_NONE);
	uint64_t eptp = phys_read(c->phys, vmcs_read(c, VF_EPTP_LIST_ADDR) + 8ull * index, 8);
	if (!vmx_eptp_valid(c, eptp))
		return vmx_insn_exit(c, i, EXIT_REASON_VMFUNC, INFO_NONE);
	if (c->model->vmx.proc2_allowed1 & PROC2_EPT_VE)
		vmcs_write(c, VF_EPTP_INDEX, index & 0xffff);
	vmcs_write(c, VF_EPT_POINTER, eptp);
	vmx_tracef(c, "VMFUNC EPTP switching: entry %u, EPTP %#llx (SDM 25.5.5.3)", index, (unsigned long long)eptp);
	if (eptp != c->vmx.eptp) {
		c->vmx.eptp = eptp;
		cpu_mode_switched(c, tlb_vpid(&c->tlb), ept_ep4ta(eptp) | TLB_EPT);
	}
	return EXEC_OK;
}

enum exec_status op_vmfunc(struct cpu *c, const struct insn *i)
{
	if (!c->vmx.nonroot || !vmfunc_enabled(c))
		return cpu_ud(c);
	uint32_t fn = (uint32_t)c->gpr[R_AX];
	/* "IF EAX > 63 OR VM-function control[EAX] = 0 THEN VM exit". */
	if (fn > VMFUNC_MAX || !((vmcs_read(c, VF_VMFUNC_CONTROLS) >> fn) & 1))
		return vmx_insn_exit(c, i, EXIT_REASON_VMFUNC, INFO_NONE);
	if (fn == VMFUNC_EPTP_SWITCH)
		return eptp_switch(c, i);
	/* VM-entry checks allow only the functions IA32_VMX_VMFUNC offers
	 * (26.2.1.1), and the models offer only function 0. */
	return vmx_insn_exit(c, i, EXIT_REASON_VMFUNC, INFO_NONE);
}
