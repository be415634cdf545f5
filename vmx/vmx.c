/* Per-processor VMX state: reset, and the CR0/CR4 rules of VMX operation. */
#include "vmx/vmx.h"

#include "cpu/cpu.h"
#include "vmx/caps.h"
#include "vmx/watch.h"

void vmx_reset(struct cpu *c)
{
	c->vmx.on = false;
	c->vmx.nonroot = false;
	c->vmx.vmxon_ptr = 0;
	c->vmx.vmcs_ptr = VMCS_PTR_NONE;
	c->vmx.nactive = 0;
	c->vmx.verdict = (struct vmx_verdict){ .check = -1, .field = UINT32_MAX };
	if (c->phys)
		vmx_unwatch_all(c);
}

/* 23.8: in VMX operation, bits fixed by IA32_VMX_CR0_FIXED0/1 must keep
 * their fixed values. */
bool vmx_cr0_write_ok(const struct cpu *c, uint64_t cr0)
{
	if (!c->vmx.on || c->vmx.nonroot)
		return true;
	return (cr0 & vmx_cr0_fixed0(c)) == vmx_cr0_fixed0(c) && (cr0 & ~vmx_cr0_fixed1(c)) == 0;
}

bool vmx_cr4_write_ok(const struct cpu *c, uint64_t cr4)
{
	if (!c->vmx.on || c->vmx.nonroot)
		return true;
	return (cr4 & vmx_cr4_fixed0(c)) == vmx_cr4_fixed0(c) && (cr4 & ~vmx_cr4_fixed1(c)) == 0;
}
