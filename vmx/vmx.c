/* Per-processor VMX state: reset, and the CR0/CR4 rules of VMX operation. */
#include "vmx/vmx.h"

#include "cpu/cpu.h"
#include "vmx/caps.h"

void vmx_reset(struct cpu *c)
{
	c->vmx.on = false;
	c->vmx.nonroot = false;
	c->vmx.vmxon_ptr = 0;
	c->vmx.vmcs_ptr = VMCS_PTR_NONE;
	c->vmx.nactive = 0;
	c->vmx.verdict = (struct vmx_verdict){ .check = -1, .field = UINT32_MAX };
}

/* 23.8: in VMX operation, bits fixed by IA32_VMX_CR0_FIXED0/1 and
 * CR4_FIXED0/1 must keep their fixed values: CLTS, LMSW and MOV to CR0/CR4
 * that would break them are #GP(0) (cpu/system.c asks before any side
 * effect). CR4_FIXED0 holds VMXE, so clearing CR4.VMXE in VMX operation is
 * #GP(0) as well. Only VMX root operation is decided here: in non-root
 * operation the guest/host masks, the read shadows and "unrestricted guest"
 * (PE/PG) decide (25.3), which is VMX core II's (issue #6), so this hook
 * does not restrict a guest's writes yet. */
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

/* Index of the current VMCS in the active list, or -1. */
static int current_index(const struct cpu *c)
{
	for (unsigned k = 0; k < c->vmx.nactive && k < VMX_ACTIVE_MAX; k++)
		if (c->vmx.active[k].pa == c->vmx.vmcs_ptr)
			return (int)k;
	return -1;
}

bool vmx_current_launched(const struct cpu *c)
{
	int k = current_index(c);
	return k >= 0 && c->vmx.active[k].launched;
}

void vmx_set_current_launched(struct cpu *c, bool launched)
{
	int k = current_index(c);
	if (k < 0 && c->vmx.nactive < VMX_ACTIVE_MAX) {
		k = (int)c->vmx.nactive++;
		c->vmx.active[k].pa = c->vmx.vmcs_ptr;
	}
	if (k >= 0)
		c->vmx.active[k].launched = launched;
}
