/* VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST and VMCALL, each in the order
 * of its Operation section (SDM vol. 3C 30.3). VMREAD/VMWRITE are in
 * vmx/insn_vmcs.c, INVEPT/INVVPID in vmx/insn_inv.c, VMLAUNCH/VMRESUME in
 * vmx/entry.c. */
#include "cpu/handlers.h"
#include "cpu/model.h"
#include "cpu/msr.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/insn_impl.h"
#include "vmx/misuse.h"
#include "vmx/vmcs.h"
#include "vmx/watch.h"

bool vmx_ptr_ok(const struct cpu *c, uint64_t pa)
{
	return (pa & 0xfff) == 0 && (pa >> c->model->phys_addr_bits) == 0;
}

/* VMXON outside VMX operation: "IF (CPL > 0) or (in A20M mode) or (the
 * values of CR0 and CR4 are not supported in VMX operation; 23.8) or
 * (IA32_FEATURE_CONTROL.lock = 0) or (IA32_FEATURE_CONTROL[2] = 0,
 * VMXON outside SMX) THEN #GP(0)". */
static bool vmxon_gp(const struct cpu *c)
{
	uint64_t fc = c->msr.feature_control;
	uint64_t cr0_0 = vmx_cr0_fixed0(c), cr4_0 = vmx_cr4_fixed0(c);
	return c->cpl > 0 || c->a20_masked || (c->cr0 & cr0_0) != cr0_0 || (c->cr0 & ~vmx_cr0_fixed1(c)) ||
	       (c->cr4 & cr4_0) != cr4_0 || (c->cr4 & ~vmx_cr4_fixed1(c)) || !(fc & FEATURE_CONTROL_LOCK) ||
	       !(fc & FEATURE_CONTROL_VMX);
}

/* Enter VMX root operation: no current VMCS, INIT blocked
 * (vmx_init_blocked), A20M disabled (cpu_mode_changed re-derives the
 * address mask). No address-range monitoring is kept to clear. */
static void vmxon_enter(struct cpu *c, const struct insn *i, uint64_t pa)
{
	c->vmx.on = true;
	c->vmx.nonroot = false;
	c->vmx.vmxon_ptr = pa;
	c->vmx.vmcs_ptr = VMCS_PTR_NONE;
	c->vmx.nactive = 0;
	vmx_watch_region(c, pa, VMCS_REGION_SIZE, VMX_WATCH_VMXON);   /* 24.11.5 */
	cpu_mode_changed(c);
	cpu_end_block(c);
	vmx_succeed(c, i);
}

static enum exec_status vmxon_outside(struct cpu *c, const struct insn *i)
{
	uint64_t pa;
	if (vmxon_gp(c))
		return cpu_gp0(c);
	if (!vmx_read_m64(c, i, &pa))
		return EXEC_FAULT;
	if (!vmx_ptr_ok(c, pa)) {
		vmx_fail_invalid(c, i);
		return EXEC_OK;
	}
	uint32_t rev = (uint32_t)phys_read(c->phys, pa, 4);
	if ((rev & ~VMCS_SHADOW_INDICATOR) != c->model->vmx.revision || (rev & VMCS_SHADOW_INDICATOR)) {
		vmx_fail_invalid(c, i);
		return EXEC_OK;
	}
	vmx_misuse_vmxon(c, pa);
	vmxon_enter(c, i, pa);
	return EXEC_OK;
}

enum exec_status op_vmxon_Mq(struct cpu *c, const struct insn *i)
{
	if (!vmx_supported(c) || !(c->cr4 & CR4_VMXE) || !(c->cr0 & CR0_PE) || (c->rflags & FL_VM) ||
	    (cpu_lma(c) && !c->code64))
		return cpu_ud(c);
	if (!c->vmx.on)
		return vmxon_outside(c, i);
	if (c->vmx.nonroot)
		return vmx_insn_exit(c, i, EXIT_REASON_VMXON, INFO_MEM);
	if (c->cpl > 0)
		return cpu_gp0(c);
	vmx_fail(c, i, VMERR_VMXON_IN_ROOT);
	return EXEC_OK;
}

/* VMXOFF. Error 23 (dual-monitor treatment active) cannot happen: vtxsim
 * does not implement the dual-monitor treatment of SMIs and SMM. */
enum exec_status op_vmxoff(struct cpu *c, const struct insn *i)
{
	if (vmx_insn_ud(c))
		return cpu_ud(c);
	if (c->vmx.nonroot)
		return vmx_insn_exit(c, i, EXIT_REASON_VMXOFF, INFO_NONE);
	if (c->cpl > 0)
		return cpu_gp0(c);
	vmx_active_flush_vmxoff(c);
	vmx_unwatch_region(c, c->vmx.vmxon_ptr);
	c->vmx.on = false;
	c->vmx.vmcs_ptr = VMCS_PTR_NONE;
	c->vmx.vmxon_ptr = 0;
	cpu_mode_changed(c);    /* A20M applies again; a latched INIT is taken at the next boundary */
	cpu_end_block(c);
	vmx_succeed(c, i);
	return EXEC_OK;
}

enum exec_status op_vmclear_Mq(struct cpu *c, const struct insn *i)
{
	uint64_t pa;
	if (vmx_insn_ud(c))
		return cpu_ud(c);
	if (c->vmx.nonroot)
		return vmx_insn_exit(c, i, EXIT_REASON_VMCLEAR, INFO_MEM);
	if (c->cpl > 0)
		return cpu_gp0(c);
	if (!vmx_read_m64(c, i, &pa))
		return EXEC_FAULT;
	if (!vmx_ptr_ok(c, pa)) {
		vmx_fail(c, i, VMERR_VMCLEAR_INVALID_ADDR);
		return EXEC_OK;
	}
	if (pa == c->vmx.vmxon_ptr) {
		vmx_fail(c, i, VMERR_VMCLEAR_VMXON_PTR);
		return EXEC_OK;
	}
	/* The data already live in the region; what VMCLEAR adds is the
	 * launch state "clear" and the end of the VMCS being active. A region
	 * another CPU uses is rewritten all the same (24.11.1: that CPU keeps
	 * its own copy of the launch state); the misuse warning names it. */
	vmx_misuse_vmclear(c, pa);
	struct vmx_active *a = vmx_active_find(c, pa);
	if (a)
		vmx_active_clear(c, a);
	else    /* not active here (maybe elsewhere: warned above): memory only */
		phys_write_unwatched(c->phys, pa + VMCS_OFF_LAUNCH, VMCS_LAUNCH_CLEAR, 4);
	if (pa == c->vmx.vmcs_ptr)
		c->vmx.vmcs_ptr = VMCS_PTR_NONE;
	vmx_succeed(c, i);
	return EXEC_OK;
}

/* "rev[30:0] != VMCS revision identifier OR rev[31] = 1 AND processor does
 * not support 1-setting of VMCS shadowing" (30.3 VMPTRLD). */
static bool vmptrld_rev_ok(const struct cpu *c, uint32_t rev)
{
	if ((rev & ~VMCS_SHADOW_INDICATOR) != c->model->vmx.revision)
		return false;
	return !(rev & VMCS_SHADOW_INDICATOR) || (vmx_allowed1(c, VMX_CTL_PROC2) & PROC2_VMCS_SHADOWING);
}

enum exec_status op_vmptrld_Mq(struct cpu *c, const struct insn *i)
{
	uint64_t pa;
	if (vmx_insn_ud(c))
		return cpu_ud(c);
	if (c->vmx.nonroot)
		return vmx_insn_exit(c, i, EXIT_REASON_VMPTRLD, INFO_MEM);
	if (c->cpl > 0)
		return cpu_gp0(c);
	if (!vmx_read_m64(c, i, &pa))
		return EXEC_FAULT;
	if (!vmx_ptr_ok(c, pa)) {
		vmx_fail(c, i, VMERR_VMPTRLD_INVALID_ADDR);
		return EXEC_OK;
	}
	if (pa == c->vmx.vmxon_ptr) {
		vmx_fail(c, i, VMERR_VMPTRLD_VMXON_PTR);
		return EXEC_OK;
	}
	if (!vmptrld_rev_ok(c, (uint32_t)phys_read(c->phys, pa, 4))) {
		vmx_fail(c, i, VMERR_VMPTRLD_BAD_REVISION);
		return EXEC_OK;
	}
	if (!vmx_active_find(c, pa)) {
		vmx_misuse_vmptrld(c, pa);
		vmx_active_add(c, pa);
	}
	c->vmx.vmcs_ptr = pa;
	vmx_succeed(c, i);
	return EXEC_OK;
}

enum exec_status op_vmptrst_Mq(struct cpu *c, const struct insn *i)
{
	if (vmx_insn_ud(c))
		return cpu_ud(c);
	if (c->vmx.nonroot)
		return vmx_insn_exit(c, i, EXIT_REASON_VMPTRST, INFO_MEM);
	if (c->cpl > 0)
		return cpu_gp0(c);
	if (!mem_write_seg(c, i->seg, insn_ea(c, i), 8, c->vmx.vmcs_ptr))
		return EXEC_FAULT;
	vmx_succeed(c, i);
	return EXEC_OK;
}

/* VMCALL: in non-root operation a VM exit even from compatibility mode or
 * virtual-8086 mode, so its #UD test comes after that. In root operation
 * outside SMM it would activate the dual-monitor treatment when
 * IA32_SMM_MONITOR_CTL is valid; vtxsim has neither SMM nor that
 * treatment, so it always fails with error 1 (30.3 VMCALL). */
enum exec_status op_vmcall(struct cpu *c, const struct insn *i)
{
	if (!c->vmx.on)
		return cpu_ud(c);
	if (c->vmx.nonroot)
		return vmx_insn_exit(c, i, EXIT_REASON_VMCALL, INFO_NONE);
	if ((c->rflags & FL_VM) || (cpu_lma(c) && !c->code64))
		return cpu_ud(c);
	if (c->cpl > 0)
		return cpu_gp0(c);
	vmx_fail(c, i, VMERR_VMCALL_IN_ROOT);
	return EXEC_OK;
}
