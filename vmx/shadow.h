/* VMCS shadowing (SDM vol. 3C 24.6.15, 24.10, 25.1.3; VMREAD and VMWRITE
 * in 30.3): in VMX non-root operation with the "VMCS shadowing" control,
 * VMREAD and VMWRITE of a field whose bit in the VMREAD/VMWRITE bitmap is
 * 0 do not exit: they access the shadow VMCS, the region the VMCS link
 * pointer of the current VMCS references (vmx/insn_vmcs.c does the
 * access; vmx/shadow.c decides). Internal to vmx/. */
#ifndef VMX_SHADOW_H
#define VMX_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* In VMX non-root operation: does VMREAD (write false) or VMWRITE (write
 * true) of the field encoding enc (the whole register operand) cause a VM
 * exit? Yes when "VMCS shadowing" is 0 (or "activate secondary controls"
 * is 0, 24.6.2), when enc sets any bit in 63:15, or when the bitmap bit
 * enc[14:0] is 1 (25.1.3, 24.6.15). */
bool vmx_shadow_rw_exits(struct cpu *c, uint64_t enc, bool write);

/* VM entry with "VMCS shadowing" 1 after the checks passed: warn
 * (VMX_MISUSE_SHADOW_VMCS_ACTIVE) when the shadow VMCS is active on this
 * or another logical processor. vtxsim keeps no VMCS data outside the
 * region, so the shadow accesses and VMREAD/VMWRITE after VMPTRLD of the
 * shadow see the same fields; a real processor may not. */
void vmx_shadow_entry_misuse(struct cpu *c);

#endif
