/* The run result (`--result FILE`, docs/testing-hypervisors.md): what a
 * run did, written at its end as plain text for `vtxsim test` (sim/suite.h)
 * to judge the case and sum coverage. One file owns the format: the
 * collector, the writer and the reader are all here.
 *
 * The collector is a tap on the debug API (sim/debug_api.h dbg_add_tap),
 * so a run with --result is the same run, at the same cycles, as one
 * without. It counts:
 * - VM exits by basic reason, separately for VM-entry failure exits
 *   (exit reason bit 31, SDM vol. 3C 26.8);
 * - VM-entry checks that failed, by id (vmx/entry_checks.def), from
 *   PROBE_VMENTRY_FAIL (VMfailValid and entry-failure exits alike);
 * - VMX instructions executed in VMX root operation, by instruction
 *   (named by the exit reason an execution in non-root would give) and
 *   outcome (VMsucceed, VMfailInvalid, VMfailValid per VM-instruction
 *   error number, SDM 31.2; a successful VMLAUNCH/VMRESUME is "entered");
 * - exception vectors 0-31 delivered through the IDT;
 * - triple faults, VMX aborts, failed VM entries;
 * - for each line of COM1 output, the cycle its '\n' was written.
 *
 * File format, one record per line, fields separated by one space, in this
 * order (the reader rejects anything else with the line number):
 *   vtxsim-result 1
 *   status S                  the process exit status vtxsim returns
 *   end WORD                  debug-exit, power-off, reset, triple-fault, cycle-limit,
 *                             halted, internal, vmx-abort (how the run ended)
 *   cycles N                  global simulated time at the end
 *   instructions N            summed over vCPUs
 *   triple-faults N
 *   vmx-aborts N
 *   entry-failures N          VM entries that failed a check (VMfail or entry-failure exit)
 *   exit R NAME N             per basic exit reason R with N > 0 (NAME from the table)
 *   entry-failure-exit R NAME N
 *   check ID N                per failing entry check id
 *   vmx-insn NAME OUTCOME N   OUTCOME: ok | entered | fail-invalid | fail-valid:E
 *   vector V N                V decimal, 0-31
 *   line K CYCLE              COM1 line K (1-based) ended at CYCLE; a last line
 *                             without '\n' gets the end cycle
 */
#ifndef SIM_RESULT_H
#define SIM_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmx/entry.h"

struct dbg;
struct result_collector;

#define RESULT_REASONS 128      /* basic exit reasons counted (0..127) */
#define RESULT_VMX_ERRORS 32    /* VM-instruction error numbers counted (0..31) */
#define RESULT_VECTORS 32

enum result_insn_outcome { RESULT_OK, RESULT_ENTERED, RESULT_FAIL_INVALID, RESULT_FAIL_VALID, RESULT_OUTCOMES };
/* "ok", "entered", "fail-invalid", "fail-valid": the file's words. */
const char *result_outcome_name(enum result_insn_outcome o);

struct run_result {
	int status;
	char end[16];
	uint64_t cycles, instructions;
	uint64_t triple_faults, vmx_aborts, entry_failures;
	uint64_t exits[RESULT_REASONS];
	uint64_t entry_failure_exits[RESULT_REASONS];
	uint64_t checks[ENTRY_CHECK_COUNT];
	/* [reason of the instruction][outcome]; fail-valid also by error number */
	uint64_t vmx_insns[RESULT_REASONS][RESULT_OUTCOMES];
	uint64_t vmx_errors[RESULT_REASONS][RESULT_VMX_ERRORS];
	uint64_t vectors[RESULT_VECTORS];
	uint64_t *line_cycles;          /* [k] = the cycle COM1 line k+1 ended */
	size_t nlines;
};

/* Start collecting on d's machine (a tap, plus the COM1 line clock).
 * NULL when out of memory. */
struct result_collector *result_attach(struct dbg *d);
/* At the end of the run: fill r from what was collected and how the
 * machine ended (status: the exit status vtxsim returns), detach, free. */
void result_finish(struct result_collector *rc, int status, struct run_result *r);

/* Write r to path: 0, or -1 with a one-line message. */
int result_write(const struct run_result *r, const char *path, char *err, size_t errlen);
/* Read path into r (zeroed first): 0, or -1 with a message naming the
 * file and line. Free with result_free. */
int result_read(struct run_result *r, const char *path, char *err, size_t errlen);
void result_free(struct run_result *r);

#endif
