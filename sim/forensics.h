/* Triple-fault and VMX-abort forensics: what a vCPU was doing when it shut
 * down, printed with or without the debugger (docs/user-guide.md "Triple
 * faults and VMX aborts"; the shell prints it through dbg_forensics).
 *
 * The report: the chain of faults that led to a triple fault (each event
 * whose delivery failed, why, and what that raised: struct fault_chain in
 * cpu/cpu.h), the CPU mode and its system registers, and in VMX operation
 * root/non-root, the current VMCS and its exit, guest and host state; for
 * a VMX abort the indicator and its meaning (SDM vol. 3C 27.7). */
#ifndef SIM_FORENSICS_H
#define SIM_FORENSICS_H

#include <stdbool.h>
#include <stdio.h>

#include "cpu/cpu.h"

struct machine;

/* The report for vCPU c of m (in shutdown, or any state: a look). */
void forensics_report(struct machine *m, struct cpu *c, FILE *out);

/* A machine shutdown_hook (sim/machine.h) for runs without the debugger:
 * the report on stderr, then the machine goes on (ends or resets);
 * ctx = the machine. */
bool forensics_on_shutdown(void *ctx, struct cpu *c);

/* The report's mode line in words, also what `--explain` says of a guest
 * (sim/explain.c): "real mode", "protected mode", "protected mode,
 * virtual-8086", "IA-32e mode, 64-bit" or "IA-32e mode, compatibility";
 * "paging off", "32-bit paging", "PAE paging", "4-level paging" or
 * "5-level paging". */
const char *forensics_mode_text(const struct cpu *c);
const char *forensics_paging_text(const struct cpu *c);

#endif
