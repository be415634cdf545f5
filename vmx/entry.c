/* VMLAUNCH and VMRESUME (SDM vol. 3C 30.3, chapter 26). A first cut: the
 * VM-entry work replaces this with the checks, guest-state loading, MSR
 * loading and event injection. Until then both are #UD, as on a CPU
 * without VMX. */
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "vmx/entry.h"

enum exec_status op_vmlaunch(struct cpu *c, const struct insn *i)
{
	(void)i;
	return cpu_ud(c);
}

enum exec_status op_vmresume(struct cpu *c, const struct insn *i)
{
	(void)i;
	return cpu_ud(c);
}
