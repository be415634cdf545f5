/* VM-entry basic checks (SDM vol. 3C 26.1; the order is that of the
 * VMLAUNCH/VMRESUME pseudo-code, 30.3). The #UD rows apply everywhere; in
 * VMX non-root operation the instruction then causes a VM exit, so the
 * rows after them hold there (vmx/entry.c makes the exit). */
#include "vmx/entry.h"

#include "cpu/seg.h"

bool chk_BASIC_VMX_OPERATION(struct entry_ctx *e)
{
	return e->c->vmx.on;
}

bool chk_BASIC_CR0_PE(struct entry_ctx *e)
{
	e->actual = e->c->cr0 & CR0_PE;
	e->expected = CR0_PE;
	return e->actual == e->expected;
}

bool chk_BASIC_RFLAGS_VM(struct entry_ctx *e)
{
	e->actual = e->c->rflags & FL_VM;
	e->expected = 0;
	return e->actual == 0;
}

bool chk_BASIC_COMPAT_MODE(struct entry_ctx *e)
{
	e->actual = e->c->seg[SEG_CS].ar;
	return !cpu_lma(e->c) || (e->c->seg[SEG_CS].ar & AR_L);
}

bool chk_BASIC_CPL(struct entry_ctx *e)
{
	e->actual = e->c->cpl;
	e->expected = 0;
	return e->c->vmx.nonroot || e->c->cpl == 0;
}

bool chk_BASIC_CURRENT_VMCS(struct entry_ctx *e)
{
	e->actual = e->c->vmx.vmcs_ptr;
	return e->c->vmx.nonroot || e->c->vmx.vmcs_ptr != VMCS_PTR_NONE;
}

/* 26.1 step 4, 24.10: a shadow VMCS cannot be used for VM entry. The
 * indicator is read from the region (a store to it while the VMCS is
 * active draws the VMCS_MEMORY_WRITE warning, vmx/watch.c). */
bool chk_BASIC_CURRENT_SHADOW(struct entry_ctx *e)
{
	struct cpu *c = e->c;
	if (c->vmx.nonroot || c->vmx.vmcs_ptr == VMCS_PTR_NONE)
		return true;
	e->actual = phys_read(c->phys, c->vmx.vmcs_ptr + VMCS_OFF_REVISION, 4) & VMCS_SHADOW_INDICATOR;
	e->expected = 0;
	return e->actual == 0;
}

/* The processor's own MOV-SS blocking (the guest-state field is checked in
 * 26.3.1.5); e->actual is bit 1 of the interruptibility layout. */
bool chk_BASIC_MOV_SS_BLOCKING(struct entry_ctx *e)
{
	e->actual = e->c->mov_ss_shadow ? 2 : 0;
	e->expected = 0;
	return e->c->vmx.nonroot || !e->c->mov_ss_shadow;
}

bool chk_BASIC_LAUNCH_CLEAR(struct entry_ctx *e)
{
	if (e->c->vmx.nonroot || !e->launch)
		return true;
	e->actual = vmx_current_launched(e->c);
	e->expected = 0;
	return !e->actual;
}

bool chk_BASIC_RESUME_LAUNCHED(struct entry_ctx *e)
{
	if (e->c->vmx.nonroot || e->launch)
		return true;
	e->actual = vmx_current_launched(e->c);
	e->expected = 1;
	return e->actual;
}

/* Error 6 (30.4, Table 30-1): the VMCS was launched, then VMXOFF wrote it
 * back without VMCLEAR; after VMXON and VMPTRLD it is not resumable
 * (vmx/vmx.c keeps the mark in the region's launch word). */
bool chk_BASIC_RESUME_AFTER_VMXOFF(struct entry_ctx *e)
{
	if (e->c->vmx.nonroot || e->launch)
		return true;
	e->actual = vmx_current_after_vmxoff(e->c);
	e->expected = 0;
	return !e->actual;
}
