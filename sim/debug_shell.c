/* What the debugger shell needs beyond the core debug API
 * (sim/debug_api.h, "shell" block): the instruction at RIP for the stop
 * report and `next`, and how a finished run ended. */
#include <stdio.h>

#include "cpu/decode.h"
#include "cpu/handlers.h"
#include "sim/cli.h"
#include "sim/debug_api.h"
#include "sim/debug_mem.h"
#include "sim/machine.h"

size_t dbg_code_at_rip(struct dbg *d, int cpu, uint64_t *la, uint8_t *buf, size_t n)
{
	const struct cpu *c = dbg_cpu(d, cpu);
	if (!c)
		return 0;
	*la = dbg_rip_linear(c);
	/* The fetch of this instruction is the next thing the CPU does: its
	 * translation's side effects (accessed flags) are the fetch's own. */
	return dbg_read_code(d, cpu, *la, buf, n);
}

unsigned dbg_call_len_at_rip(struct dbg *d, int cpu)
{
	const struct cpu *c = dbg_cpu(d, cpu);
	uint8_t bytes[15];
	uint64_t la;
	struct insn i;
	if (!c)
		return 0;
	size_t n = dbg_code_at_rip(d, cpu, &la, bytes, sizeof(bytes));
	if (!n || cpu_decode(bytes, (unsigned)n, dbg_decode_mode(c), &i) != DECODE_OK)
		return 0;
	/* CALL rel, CALL r/m, CALL far (SDM vol. 2A CALL). */
	if (i.fn == op_call_Jz || i.fn == op_call_Ev || i.fn == op_call_Ap || i.fn == op_call_Mp)
		return i.len;
	return 0;
}

int dbg_end_status(const struct dbg *d)
{
	return cli_exit_status(&dbg_machine((struct dbg *)d)->exit);
}

void dbg_end_message(const struct dbg *d, char *buf, size_t n)
{
	const struct machine *m = dbg_machine((struct dbg *)d);
	cli_exit_message(&m->exit, &m->cfg, buf, n);
	if (!buf[0] && m->exit.result == MACHINE_DEBUG_EXIT)
		snprintf(buf, n, "debug exit, value 0x%x (exit status %d)", m->exit.value, cli_exit_status(&m->exit));
}
