/* The debug API's VMX views (sim/debug_api.h, "VMX views"): what needs the
 * vCPU writable although it changes nothing. */
#include "sim/debug_api.h"
#include "sim/machine.h"
#include "vmx/lint.h"

int dbg_vmx_lint(struct dbg *d, int cpu, struct vmx_lint_item *out, int max)
{
	if (cpu < 0 || cpu >= dbg_ncpus(d))
		return -1;
	/* The checks read the VMCS through the vCPU's host-address cache
	 * (vmcs_host), which is why the vCPU is not const here; lint writes
	 * nothing the guest can see. */
	return vmx_lint(&dbg_machine(d)->cpus[cpu], out, max);
}
