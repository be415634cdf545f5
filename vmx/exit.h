/* VM exits (SDM vol. 3C chapter 27): what a cause reports, and the exit
 * itself (record exit information, save guest state, load host state). */
#ifndef VMX_EXIT_H
#define VMX_EXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "vmx/controls.h"

/* The exit-information fields a cause provides (27.2). Fields a cause does
 * not use are left as they are, as the SDM says ("undefined" is written as
 * "unchanged" here, which is one of the allowed behaviours). */
struct vmx_exit_info {
	uint32_t reason;        /* basic reason | EXIT_REASON_ENTRY_FAILURE for 33/34/41 */
	uint64_t qual;
	uint64_t guest_linear;  /* written when has_linear */
	uint64_t guest_phys;    /* written when has_phys */
	uint32_t intr_info, intr_error;         /* VM-exit interruption information / error code */
	uint32_t insn_len;      /* written when has_insn */
	uint32_t insn_info;     /* VM-exit instruction information, when has_insn_info */
	uint32_t idt_info, idt_error;           /* IDT-vectoring information / error code (27.2.3); 0: not valid */
	bool has_linear, has_phys, has_insn, has_insn_info, has_intr;
};

/* Perform a VM exit from non-root operation, or the VM-entry failure exit
 * (reason with bit 31) from inside VMLAUNCH/VMRESUME. Afterwards the CPU
 * runs the host at HOST_RIP, or is in shutdown after a VMX abort. The
 * caller must not touch guest state afterwards. */
void vmx_vmexit(struct cpu *c, const struct vmx_exit_info *x);

/* The guest RIP a VM exit saves: for an exit caused by an instruction
 * (x->has_insn) the instruction's own address, c->next_rip - x->insn_len
 * (call from its handler before moving next_rip); otherwise c->rip (an
 * exit at an instruction boundary). Afterwards c->rip = c->next_rip =
 * HOST_RIP and the decoded block ends, so a handler returns EXEC_OK. */

/* VMX abort (27.7): write the indicator at offset 4 of the current VMCS
 * region, warn on the host, enter shutdown. */
void vmx_abort(struct cpu *c, enum vmx_abort_indicator a);

/* CR0 as VM entry/exit load it: the bits never modified (ET, NW, CD and
 * the reserved ones; 26.3.2.1, 27.5.1) kept from old. */
uint64_t vmx_cr0_merge(uint64_t old, uint64_t field);

/* Is count within the recommended maximum of an MSR area (24.7.2,
 * 24.8.2)? Warns naming the rule when not. */
bool vmx_msr_count_ok(struct cpu *c, uint32_t count, const char *area);

#endif
