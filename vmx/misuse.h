/* Undefined behaviour made visible (issue #5): where the SDM says software
 * must not do something with VMX structures, vtxsim does what the CPU model
 * does and warns, naming the rule of vmx/misuse.def. The warnings are
 * host-side only (stderr through c->warn); the guest sees exactly what a
 * real Intel processor shows it.
 *
 * Each rule has its own budget per CPU (VMX_MISUSE_BUDGET lines, the last
 * one marked), counted in c->vmx.misuse[], independently of cpu_warn's
 * CPU_WARN_MAX: a guest that keeps writing VMCS memory cannot hide a later
 * VMCS active on two CPUs.
 *
 * Detection across CPUs goes through the physical map's watch table
 * (vmx/watch.h): VMXON and VMPTRLD watch their regions, so "which CPU
 * uses this region" is a question to the map, not to the other CPUs. */
#ifndef VMX_MISUSE_H
#define VMX_MISUSE_H

#include <stdint.h>

#include "cpu/cpu.h"

#define VMX_MISUSE_BUDGET 4

struct vmx_misuse_rule {
	const char *id;         /* "VMCS_ACTIVE_ON_TWO_CPUS" */
	const char *section;    /* "24.1, 24.11.1" */
	const char *rule;       /* one sentence */
};
extern const struct vmx_misuse_rule vmx_misuse_rules[VMX_MISUSE_COUNT];

/* Count rule m on c and, within its budget, warn:
 * "<what happened> (SDM <section>: <rule>) [vmx misuse <ID>]". */
void vmx_misuse(struct cpu *c, enum vmx_misuse m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Per-instruction detectors, called before the instruction's own effect;
 * they only warn. pa is the instruction's pointer operand. */
void vmx_misuse_vmxon(struct cpu *c, uint64_t pa);
void vmx_misuse_vmptrld(struct cpu *c, uint64_t pa);
/* VMCLEAR: true when another CPU uses the region (as an active VMCS or
 * its VMXON region): the caller writes the launch state with
 * phys_write_unwatched, since this warning already names the rule. */
bool vmx_misuse_vmclear(struct cpu *c, uint64_t pa);
/* VM entry after the checks passed: the structures the VMCS points to
 * that overlap a VMCS or VMXON region in use (24.11.4), and a shadow VMCS
 * still active (vmx/shadow.h). */
void vmx_misuse_entry(struct cpu *c);

#endif
