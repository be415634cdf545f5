/* VM entry after the checks (SDM vol. 3C 26.3.2-26.6): loading guest state,
 * the VM-entry MSR-load area, non-register state, event injection. */
#ifndef VMX_ENTRY_LOAD_H
#define VMX_ENTRY_LOAD_H

#include <stdbool.h>

#include "vmx/entry.h"
#include "vmx/exit.h"

/* 26.3.2.1-26.3.2.4: control and debug registers, MSRs of the guest-state
 * area, segments, descriptor tables, RIP/RSP/RFLAGS, PDPTEs. False with
 * *fail set (reason 33, qualification 2) when the PDPTEs cannot be
 * loaded (26.3.1.6). */
bool entry_load_guest(struct cpu *c, struct vmx_exit_info *fail);

/* 26.4: the VM-entry MSR-load area, each entry checked with the MSR_LOAD
 * rows and written as WRMSR would. False with *fail set (reason 34, the
 * 1-based entry as qualification; or 41 for an absurd count) and the
 * verdict recorded. */
bool entry_load_msrs(struct entry_ctx *e, struct vmx_exit_info *fail);

/* 26.3.2.5 non-register state (interruptibility, pending debug exceptions,
 * activity state) and 26.5 event injection, the last steps of an entry
 * that succeeded. */
void entry_load_nonregister(struct cpu *c);
void entry_inject_event(struct cpu *c);

#endif
