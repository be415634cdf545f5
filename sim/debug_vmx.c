/* The debug API's VMX views (sim/debug_api.h, "VMX views"): what needs the
 * vCPU writable although it changes nothing. */
#include <inttypes.h>

#include "sim/debug_api.h"
#include "sim/machine.h"
#include "vmx/lint.h"
#include "vmx/vmx.h"

int dbg_vmx_lint(struct dbg *d, int cpu, struct vmx_lint_item *out, int max)
{
	if (cpu < 0 || cpu >= dbg_ncpus(d))
		return -1;
	/* The checks read the VMCS through the vCPU's host-address cache
	 * (vmcs_host), which is why the vCPU is not const here; lint writes
	 * nothing the guest can see. */
	return vmx_lint(&dbg_machine(d)->cpus[cpu], out, max);
}

/* The table of `vmx stats` (debugger/vmx_cmds.c) and `--exit-summary`
 * (sim/explain.c): one formatter for both. */
void dbg_print_exit_stats(FILE *o, const char *title, const struct dbg_exit_stat *s)
{
	struct dbg_exit_stat tot = { 0 };
	for (int r = 0; r < DBG_REASONS; r++) {
		tot.count += s[r].count;
		tot.guest_cycles += s[r].guest_cycles;
		tot.host_cycles += s[r].host_cycles;
	}
	fprintf(o, "%s:\n", title);
	fprintf(o, "  %10s %6s %14s %6s %14s %6s  %s\n", "count", "%", "guest cycles", "%", "host cycles", "%",
		"reason");
	for (int r = 0; r < DBG_REASONS; r++) {
		if (!s[r].count)
			continue;
		const char *name = vmx_exit_reason_text((uint32_t)r);
		fprintf(o, "  %10" PRIu64 " %6.2f %14" PRIu64 " %6.2f %14" PRIu64 " %6.2f  %d %s\n", s[r].count,
			100.0 * (double)s[r].count / (double)tot.count, s[r].guest_cycles,
			tot.guest_cycles ? 100.0 * (double)s[r].guest_cycles / (double)tot.guest_cycles : 0.0,
			s[r].host_cycles, tot.host_cycles ? 100.0 * (double)s[r].host_cycles / (double)tot.host_cycles : 0.0,
			r, name ? name : "reserved");
	}
	fprintf(o, "  %10" PRIu64 " %6s %14" PRIu64 " %6s %14" PRIu64 " %6s  total\n", tot.count, "", tot.guest_cycles, "",
		tot.host_cycles, "");
}
