/* `vmx lint`: every VM-entry check (vmx/entry_checks.def) against the
 * current VMCS without entering, every failing row listed, in table (SDM)
 * order. */
#ifndef VMX_LINT_H
#define VMX_LINT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* One failing row, with the values the check recorded (the layout of
 * struct vmx_verdict). */
struct vmx_lint_item {
	int check;              /* enum entry_check_id */
	uint32_t field;         /* VMCS encoding, or UINT32_MAX */
	uint64_t actual, expected;
	uint32_t index;         /* MSR-load entry (1-based) or segment, where it applies */
};

/* Run the basic, control, host-state and guest-state checks of the next
 * VM entry (VMLAUNCH when the current VMCS is clear, else VMRESUME), then
 * the VM-entry MSR-load checks of each area entry except the last row,
 * MSRLOAD_WRMSR_GP, which would write the MSR. Every failing row goes to
 * out (at most max); the number of failing rows is returned (it may exceed
 * max). Nothing changes: the checks only read (the one that writes is
 * skipped), and c->vmx.verdict is left as it was. */
int vmx_lint(struct cpu *c, struct vmx_lint_item *out, int max);

/* How to fix check id (vmx/entry_fixes.def): its own row, else the row
 * of its kind (the id's suffix), else NULL. In the text %f stands for the
 * field, %a / %e for the actual / expected values, %i for the index. */
const char *entry_check_fix(int id);

#endif
