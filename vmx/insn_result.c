/* VMsucceed / VMfailInvalid / VMfailValid (SDM vol. 3C 30.2). */
#include "vmx/insn.h"

#include "vmx/vmcs.h"

static void set_arith_flags(struct cpu *c, uint64_t set)
{
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)FL_ARITH;
	cpu_set_rflags(c, fl | set);
}

void vmx_succeed(struct cpu *c)
{
	set_arith_flags(c, 0);
}

void vmx_fail_invalid(struct cpu *c)
{
	set_arith_flags(c, FL_CF);
}

void vmx_fail_valid(struct cpu *c, unsigned err)
{
	set_arith_flags(c, FL_ZF);
	vmcs_write(c, VF_VM_INSTRUCTION_ERROR, err);
}

void vmx_fail(struct cpu *c, unsigned err)
{
	if (c->vmx.vmcs_ptr != VMCS_PTR_NONE)
		vmx_fail_valid(c, err);
	else
		vmx_fail_invalid(c);
}
