/* VM exits (SDM vol. 3C chapter 27). A first cut: the VM-entry work fills
 * in saving guest state and loading host state. */
#include "vmx/exit.h"

#include "cpu/cpu.h"

void vmx_vmexit(struct cpu *c, const struct vmx_exit_info *x)
{
	(void)x;
	cpu_warn(c, "VM exit not implemented yet");
}
