/* What the GDB stub needs from the machine beyond the rest of the debug
 * API (sim/debug_api.h, "the GDB stub"): the run's exit status for its W
 * reply, and writing the x87/SSE registers. */
#include <string.h>

#include "sim/cli.h"
#include "sim/debug_api.h"
#include "sim/machine.h"

int dbg_exit_status(const struct dbg *d)
{
	return cli_exit_status(&dbg_machine((struct dbg *)d)->exit);
}

void dbg_exit_message(const struct dbg *d, char *buf, size_t len)
{
	const struct machine *m = dbg_machine((struct dbg *)d);
	cli_exit_message(&m->exit, &m->cfg, buf, len);
}

bool dbg_fpu_write(struct dbg *d, int cpu, const struct fpu_state *f)
{
	if (cpu < 0 || cpu >= dbg_ncpus(d))
		return false;
	struct cpu *c = &dbg_machine(d)->cpus[cpu];
	memcpy(&c->fpu, f, sizeof(c->fpu));
	return true;
}
