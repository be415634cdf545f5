/* The CPU model table (cpu/models.def) and its lookups. */
#include "cpu/model.h"

#include <stddef.h>
#include <string.h>

#include "cpu/cpuid.h"
#include "vmx/vmx.h"

#define L1C(x) CPUID_BIT(CPUID_1_ECX, x)
#define L1D(x) CPUID_BIT(CPUID_1_EDX, x)
#define L7B(x) CPUID_BIT(CPUID_7_EBX, x)
#define L7C(x) CPUID_BIT(CPUID_7_ECX, x)
#define L7D(x) CPUID_BIT(CPUID_7_EDX, x)
#define E1C(x) CPUID_BIT(CPUID_81_ECX, x)
#define E1D(x) CPUID_BIT(CPUID_81_EDX, x)
#define XD1(x) CPUID_BIT(CPUID_D1_EAX, x)

/* Shorthands of the VMX columns (cpu/models.def). */
#define VMX_PROC_COMMON                                                                                   \
	(PROC_INTR_WINDOW | PROC_TSC_OFFSETTING | PROC_HLT_EXITING | PROC_INVLPG_EXITING |                \
	 PROC_MWAIT_EXITING | PROC_RDPMC_EXITING | PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING |           \
	 PROC_CR3_STORE_EXITING | PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING | PROC_TPR_SHADOW |      \
	 PROC_NMI_WINDOW | PROC_MOV_DR_EXITING | PROC_UNCOND_IO_EXITING | PROC_IO_BITMAPS |               \
	 PROC_MSR_BITMAPS | PROC_MONITOR_EXITING | PROC_PAUSE_EXITING)
#define VMX_EXIT_NEHALEM                                                                                  \
	(EXIT_HOST_ADDR_SPACE | EXIT_LOAD_PERF_GLOBAL | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_PAT |           \
	 EXIT_LOAD_PAT | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PREEMPT_TIMER)
#define VMX_ENTRY_NEHALEM                                                                                 \
	(ENTRY_IA32E_GUEST | ENTRY_TO_SMM | ENTRY_DEACT_DUAL_MONITOR | ENTRY_LOAD_PERF_GLOBAL |           \
	 ENTRY_LOAD_PAT | ENTRY_LOAD_EFER)
#define VMX_TRUE_CTLS                                                                                     \
	.true_ctls = true, .pin_true_must1 = VMX_PIN_DEFAULT1,                                            \
	.proc_true_must1 = VMX_PROC_DEFAULT1 & ~(PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING),         \
	.exit_true_must1 = VMX_EXIT_DEFAULT1 & ~EXIT_SAVE_DEBUG_CTLS,                                     \
	.entry_true_must1 = VMX_ENTRY_DEFAULT1 & ~ENTRY_LOAD_DEBUG_CTLS
#define VMX_MISC(rate, activity, flags) \
	((uint64_t)(rate) | (activity) | (flags) | (4ull << VMX_MISC_CR3_TARGETS_SHIFT))
#define VMX_VPID_ALL_TYPES \
	(VMX_VPID_INVVPID | VMX_VPID_INVVPID_ADDR | VMX_VPID_INVVPID_SINGLE | VMX_VPID_INVVPID_ALL | \
	 VMX_VPID_INVVPID_SINGLE_GLOBALS)

static const struct cpu_model models[] = {
#define MODEL(nm, desc, vend, brnd, sig, l1c, l1d, l7b, l7c, l7d, e1c, e1d, d1a, maxl, maxe, pbits, lbits, khz, ...) \
	{ .name = nm, .description = desc, .vendor = vend, .brand = brnd, .signature = sig,               \
	  .leaf1_ecx = l1c, .leaf1_edx = l1d, .leaf7_ebx = l7b, .leaf7_ecx = l7c, .leaf7_edx = l7d,      \
	  .ext1_ecx = e1c, .ext1_edx = e1d, .leafd1_eax = d1a, .max_leaf = maxl, .max_ext_leaf = maxe,                     \
	  .phys_addr_bits = pbits, .lin_addr_bits = lbits, .tsc_khz = khz, .vmx = { __VA_ARGS__ } },
#include "cpu/models.def"
#undef MODEL
};

#define NMODELS ((int)(sizeof(models) / sizeof(models[0])))

/* The vendor string is three CPUID registers; the brand string is three
 * leaves of four registers, NUL-padded (SDM vol. 2A CPUID, leaves 0 and
 * 80000002H-80000004H). */
#define MODEL(nm, desc, vend, brnd, ...)                                        \
	_Static_assert(sizeof(vend) == 13, nm ": vendor must be 12 characters"); \
	_Static_assert(sizeof(brnd) <= 48, nm ": brand must be at most 47 characters");
#include "cpu/models.def"
#undef MODEL

const struct cpu_model *cpu_model_find(const char *name)
{
	for (int i = 0; i < NMODELS; i++)
		if (strcmp(models[i].name, name) == 0)
			return &models[i];
	return NULL;
}

const struct cpu_model *cpu_model_default(void)
{
	return &models[0];
}

const struct cpu_model *cpu_model_at(int i)
{
	return i >= 0 && i < NMODELS ? &models[i] : NULL;
}
