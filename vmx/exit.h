/* VM exits (SDM vol. 3C chapter 27): what a cause reports, and the exit
 * itself (record exit information, save guest state, load host state). */
#ifndef VMX_EXIT_H
#define VMX_EXIT_H

#include <stdint.h>

#include "cpu/cpu.h"

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
	bool has_linear, has_phys, has_insn, has_insn_info, has_intr;
};

/* Perform a VM exit from non-root operation, or the VM-entry failure exit
 * (reason with bit 31) from inside VMLAUNCH/VMRESUME. Afterwards the CPU
 * runs the host at HOST_RIP, or is in shutdown after a VMX abort. The
 * caller must not touch guest state afterwards. */
void vmx_vmexit(struct cpu *c, const struct vmx_exit_info *x);

#endif
