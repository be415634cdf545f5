/* `--explain` and `--exit-summary` (docs/user-guide.md "Narrated mode
 * (--explain)" and "--exit-summary"): for people learning VMX.
 *
 * --explain: one plain-language line per VM entry, failed VM entry, event
 * injection, VM exit and VMX abort, with the SDM section, on out (stderr),
 * written from a tap on the debug API (sim/debug_api.h dbg_add_tap), so
 * the run is the same run as without it. Each line starts
 * "vtxsim: [cycle N cpuK] "; stdout (the guest's COM1) is flushed before
 * each line and out after it, so on a terminal both appear in the order
 * they happened.
 *
 * --exit-summary: the VM exits by basic reason with their guest and host
 * cycles, per vCPU when there are several, and the totals (the debug
 * API's dbg_exit_stats, printed by dbg_print_exit_stats). */
#ifndef SIM_EXPLAIN_H
#define SIM_EXPLAIN_H

#include <stdio.h>

struct dbg;
struct explain;

/* Start narrating d's machine on out: NULL with a one-line message in err
 * when out of memory or when the debug session has no room for a tap. */
struct explain *explain_attach(struct dbg *d, FILE *out, char *err, size_t errlen);
void explain_detach(struct explain *x);

/* The exit summary of d's machine so far, on out. */
void explain_exit_summary(struct dbg *d, FILE *out);

#endif
