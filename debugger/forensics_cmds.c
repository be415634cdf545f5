/* `forensics [CPU]`: the triple-fault / VMX-abort report (sim/forensics.h)
 * of the selected vCPU, or of vCPU CPU: the chain of faults of the last
 * failed event delivery, the CPU mode and system registers, the VMX state.
 * What vtxsim prints on stderr when a run ends in shutdown; here it can be
 * asked for at any stop (before the shutdown, the chain is the last one
 * that started, if any). */
#include <stdio.h>

#include "debugger/shell.h"
#include "sim/debug_api.h"

static int cmd_forensics(struct shell *sh, int argc, char **argv)
{
	struct dbg *d = shell_dbg(sh);
	uint64_t cpu = (uint64_t)shell_cpu(sh);
	if (argc > 2)
		return shell_error(sh, "too many arguments; write forensics [CPU]");
	if (argc == 2 && !shell_number(sh, argv[1], &cpu))
		return -1;
	if (cpu >= (uint64_t)dbg_ncpus(d))
		return shell_error(sh, "no cpu %llu: the machine has %d (forensics 0..%d)", (unsigned long long)cpu,
				   dbg_ncpus(d), dbg_ncpus(d) - 1);
	dbg_forensics(d, (int)cpu, shell_out(sh));
	return 0;
}

const struct shell_cmd shell_cmds_forensics[] = {
	{ "forensics", "[CPU]", "the triple-fault / VMX-abort report: fault chain, CPU mode, VMX state",
	  "Prints what vtxsim prints on stderr when a vCPU triple-faults or VMX-aborts: the chain of faults\n"
	  "  of the last failed event delivery (each event, why its delivery failed, what that raised), the\n"
	  "  CPU mode (CR0, CR3, CR4, EFER, IDTR, GDTR, RSP) and, in VMX operation, root/non-root, the\n"
	  "  current VMCS, its last exit and its guest and host state. CPU: the vCPU (default: the selected one).",
	  cmd_forensics },
	{ NULL, NULL, NULL, NULL, NULL },
};
