/* The VMX capability MSRs (SDM vol. 3C Appendix A), computed from the model
 * row (struct vmx_model). Everything in vmx/ that asks "may this control
 * be 1 / must it be 1" asks here. */
#ifndef VMX_CAPS_H
#define VMX_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "vmx/caps_bits.h"

/* The control words of the VMCS whose settings capability MSRs report. */
enum vmx_ctl {
	VMX_CTL_PIN,            /* pin-based VM-execution controls */
	VMX_CTL_PROC,           /* primary processor-based */
	VMX_CTL_PROC2,          /* secondary processor-based */
	VMX_CTL_PROC3,          /* tertiary processor-based (64 bits, allowed-1 only) */
	VMX_CTL_EXIT,           /* primary VM-exit controls */
	VMX_CTL_EXIT2,          /* secondary VM-exit controls (64 bits, allowed-1 only) */
	VMX_CTL_ENTRY,          /* VM-entry controls */
	VMX_CTL_VMFUNC,         /* VM-function controls (64 bits, allowed-1 only) */
};

/* Does the model have VMX at all. */
bool vmx_supported(const struct cpu *c);

/* The bits software may set to 1 in control word ctl (allowed-1 settings),
 * and the bits that must be 1 (allowed-0 settings cleared), as VM entry
 * checks them: through the TRUE_ MSRs when IA32_VMX_BASIC[55] is 1
 * (SDM vol. 3C A.3.1-A.5, 26.2.1.1). */
uint64_t vmx_allowed1(const struct cpu *c, enum vmx_ctl ctl);
uint64_t vmx_must_be1(const struct cpu *c, enum vmx_ctl ctl);

/* vmx_cap_msr(c, msr, &v), the RDMSR of a capability MSR, is declared in
 * vmx/vmx.h because cpu/msr.c calls it. */

/* Activity states the model supports (IA32_VMX_MISC[8:6]; state 0,
 * active, always), and its CR3-target count (IA32_VMX_MISC[24:16]). */
bool vmx_activity_state_supported(const struct cpu *c, unsigned state);
unsigned vmx_cr3_target_count(const struct cpu *c);

/* IA32_FEATURE_CONTROL lets VMXON run outside SMX operation: lock (bit 0)
 * and "enable VMX outside SMX" (bit 2) both 1 (SDM vol. 3C 23.7; VMXON is
 * #GP(0) otherwise). */
bool vmx_feature_control_allows_vmxon(const struct cpu *c);

/* IA32_VMX_CR0_FIXED0/1 and CR4_FIXED0/1 as the model reports them. */
uint64_t vmx_cr0_fixed0(const struct cpu *c);
uint64_t vmx_cr0_fixed1(const struct cpu *c);
uint64_t vmx_cr4_fixed0(const struct cpu *c);
uint64_t vmx_cr4_fixed1(const struct cpu *c);

#endif
