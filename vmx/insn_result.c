/* VMsucceed / VMfailInvalid / VMfailValid (SDM vol. 3C 30.2
 * "Conventions"), and PROBE_VMXINSN for an observer. */
#include "vmx/insn.h"

#include "cpu/handlers.h"
#include "cpu/probe.h"
#include "vmx/vmcs.h"

/* Each VMX instruction's handler and the exit reason naming it (25.1.2,
 * 25.1.3); sim/debug.c's VMX-instruction breakpoints read it too. */
static const struct {
	insn_fn fn;
	int reason;
} vmx_insn_reasons[] = {
	{ op_vmcall, EXIT_REASON_VMCALL },         { op_vmclear_Mq, EXIT_REASON_VMCLEAR },
	{ op_vmlaunch, EXIT_REASON_VMLAUNCH },     { op_vmptrld_Mq, EXIT_REASON_VMPTRLD },
	{ op_vmptrst_Mq, EXIT_REASON_VMPTRST },    { op_vmread_Ey_Gy, EXIT_REASON_VMREAD },
	{ op_vmresume, EXIT_REASON_VMRESUME },     { op_vmwrite_Gy_Ey, EXIT_REASON_VMWRITE },
	{ op_vmxoff, EXIT_REASON_VMXOFF },         { op_vmxon_Mq, EXIT_REASON_VMXON },
	{ op_invept_Gy_Mdq, EXIT_REASON_INVEPT },  { op_invvpid_Gy_Mdq, EXIT_REASON_INVVPID },
	{ op_vmfunc, EXIT_REASON_VMFUNC },
};

int vmx_insn_reason(const struct insn *i)
{
	for (size_t k = 0; k < sizeof(vmx_insn_reasons) / sizeof(vmx_insn_reasons[0]); k++)
		if (i->fn == vmx_insn_reasons[k].fn)
			return vmx_insn_reasons[k].reason;
	return -1;
}

/* The outcome for an observer; nothing to do when nobody observes. A
 * VMREAD/VMWRITE that VMCS shadowing lets through in non-root operation
 * is not a root-operation outcome and is not reported. */
static void report(struct cpu *c, const struct insn *i, enum probe_vmx_outcome o, unsigned err)
{
	if (__builtin_expect(c->probe == NULL, 1) || c->vmx.nonroot)
		return;
	int reason = vmx_insn_reason(i);
	if (reason < 0)
		return;
	struct probe_event pe = { .kind = PROBE_VMXINSN, .code = (uint32_t)reason, .aux = o,
				  .has_error = o == PROBE_VMX_FAIL_VALID, .error = err, .rip = c->next_rip - i->len };
	cpu_probe_emit(c, &pe);
}

static void set_arith_flags(struct cpu *c, uint64_t set)
{
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)FL_ARITH;
	cpu_set_rflags(c, fl | set);
}

void vmx_succeed(struct cpu *c, const struct insn *i)
{
	set_arith_flags(c, 0);
	report(c, i, PROBE_VMX_SUCCEED, 0);
}

void vmx_fail_invalid(struct cpu *c, const struct insn *i)
{
	set_arith_flags(c, FL_CF);
	report(c, i, PROBE_VMX_FAIL_INVALID, 0);
}

void vmx_fail_valid(struct cpu *c, const struct insn *i, unsigned err)
{
	set_arith_flags(c, FL_ZF);
	vmcs_write(c, VF_VM_INSTRUCTION_ERROR, err);
	report(c, i, PROBE_VMX_FAIL_VALID, err);
}

void vmx_fail(struct cpu *c, const struct insn *i, unsigned err)
{
	if (c->vmx.vmcs_ptr != VMCS_PTR_NONE)
		vmx_fail_valid(c, i, err);
	else
		vmx_fail_invalid(c, i);
}
