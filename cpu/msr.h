/* Model-specific registers: RDMSR/WRMSR semantics for every MSR in
 * cpu/msrs.def, for the instructions, VMX MSR-load/store areas and the
 * debugger. */
#ifndef CPU_MSR_H
#define CPU_MSR_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* MSR_IA32_TSC, MSR_IA32_EFER, ... (values above INT_MAX are a GNU C
 * extension the project's -std=gnu11 accepts). */
enum msr_index {
#define MSR_FIELD(idx, nm, feat, field, reset, check) MSR_##nm = idx,
#define MSR_FN(idx, nm, feat, rd, wr) MSR_##nm = idx,
#define MSR_VMX_CAP(idx, nm) MSR_##nm = idx,
#include "cpu/msrs.def"
#undef MSR_FIELD
#undef MSR_FN
#undef MSR_VMX_CAP
};

/* IA32_APIC_BASE bits (SDM vol. 3A 10.4.4). */
#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_DEFAULT 0xfee00000ull

/* IA32_FEATURE_CONTROL bits (SDM vol. 3C 23.7). */
#define FEATURE_CONTROL_LOCK (1ull << 0)
#define FEATURE_CONTROL_VMX_SMX (1ull << 1)
#define FEATURE_CONTROL_VMX (1ull << 2)

/* IA32_DEBUGCTL bits (SDM vol. 3B 17.4.1; vol. 4 Table 2-2). */
#define DEBUGCTL_LBR (1ull << 0)
#define DEBUGCTL_BTF (1ull << 1)

/* The bits of IA32_DEBUGCTL and IA32_PERF_GLOBAL_CTRL the model does not
 * reserve: what WRMSR accepts and what the VM-entry checks on the guest-
 * and host-state fields require (SDM vol. 3C 26.2.2, 26.3.1.1). The one
 * definition of each. */
uint64_t cpu_debugctl_valid(const struct cpu *c);
uint64_t cpu_perf_global_valid(const struct cpu *c);

/* Read or write an MSR as RDMSR/WRMSR would, without the CPL check.
 * false means the instruction raises #GP(0) (unknown MSR, a feature the
 * model lacks, a reserved bit or an invalid value); nothing changes then. */
bool cpu_msr_read(struct cpu *c, uint32_t msr, uint64_t *v);
bool cpu_msr_write(struct cpu *c, uint32_t msr, uint64_t v);

/* Power-on values (SDM vol. 3A 9.1.1, Table 9-1): c->msr, c->efer and the
 * TSC (0 at this point). Uses c->id and c->model. */
void cpu_msr_reset(struct cpu *c);

/* "IA32_EFER" for 0xc0000080, or NULL for an MSR vtxsim does not know. */
const char *cpu_msr_name(uint32_t msr);

#endif
