/* CPUID (SDM vol. 2A, CPUID instruction) and the feature predicates that
 * instruction handlers use to decide what the CPU model offers.
 *
 * A feature is named by the CPUID register word and bit that report it, so
 * "does the model have X" and "what does CPUID say about X" can never
 * disagree: both read the model row (cpu/models.def).
 */
#ifndef CPU_CPUID_H
#define CPU_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/model.h"

/* The feature words of struct cpu_model. */
enum cpuid_word {
	CPUID_1_ECX, CPUID_1_EDX,
	CPUID_7_EBX, CPUID_7_ECX, CPUID_7_EDX,
	CPUID_81_ECX, CPUID_81_EDX,
};

#define CPUID_FEATURE(word, bit) (((unsigned)(word) << 5) | (bit))

/* Bit positions: SDM vol. 2A CPUID, Tables 3-10 (leaf 1 ECX), 3-11 (leaf 1
 * EDX), 3-8 (leaf 7, leaf 80000001H). */
enum cpu_feature {
	FEAT_FPU = CPUID_FEATURE(CPUID_1_EDX, 0),
	FEAT_VME = CPUID_FEATURE(CPUID_1_EDX, 1),
	FEAT_DE = CPUID_FEATURE(CPUID_1_EDX, 2),
	FEAT_PSE = CPUID_FEATURE(CPUID_1_EDX, 3),
	FEAT_TSC = CPUID_FEATURE(CPUID_1_EDX, 4),
	FEAT_MSR = CPUID_FEATURE(CPUID_1_EDX, 5),
	FEAT_PAE = CPUID_FEATURE(CPUID_1_EDX, 6),
	FEAT_MCE = CPUID_FEATURE(CPUID_1_EDX, 7),
	FEAT_CX8 = CPUID_FEATURE(CPUID_1_EDX, 8),
	FEAT_APIC = CPUID_FEATURE(CPUID_1_EDX, 9),
	FEAT_SEP = CPUID_FEATURE(CPUID_1_EDX, 11),
	FEAT_MTRR = CPUID_FEATURE(CPUID_1_EDX, 12),
	FEAT_PGE = CPUID_FEATURE(CPUID_1_EDX, 13),
	FEAT_MCA = CPUID_FEATURE(CPUID_1_EDX, 14),
	FEAT_CMOV = CPUID_FEATURE(CPUID_1_EDX, 15),
	FEAT_PAT = CPUID_FEATURE(CPUID_1_EDX, 16),
	FEAT_PSE36 = CPUID_FEATURE(CPUID_1_EDX, 17),
	FEAT_CLFSH = CPUID_FEATURE(CPUID_1_EDX, 19),
	FEAT_MMX = CPUID_FEATURE(CPUID_1_EDX, 23),
	FEAT_FXSR = CPUID_FEATURE(CPUID_1_EDX, 24),
	FEAT_SSE = CPUID_FEATURE(CPUID_1_EDX, 25),
	FEAT_SSE2 = CPUID_FEATURE(CPUID_1_EDX, 26),
	FEAT_HTT = CPUID_FEATURE(CPUID_1_EDX, 28),

	FEAT_SSE3 = CPUID_FEATURE(CPUID_1_ECX, 0),
	FEAT_MONITOR = CPUID_FEATURE(CPUID_1_ECX, 3),
	FEAT_VMX = CPUID_FEATURE(CPUID_1_ECX, 5),
	FEAT_SSSE3 = CPUID_FEATURE(CPUID_1_ECX, 9),
	FEAT_CX16 = CPUID_FEATURE(CPUID_1_ECX, 13),
	FEAT_PCID = CPUID_FEATURE(CPUID_1_ECX, 17),
	FEAT_X2APIC = CPUID_FEATURE(CPUID_1_ECX, 21),
	FEAT_MOVBE = CPUID_FEATURE(CPUID_1_ECX, 22),
	FEAT_POPCNT = CPUID_FEATURE(CPUID_1_ECX, 23),
	FEAT_TSC_DEADLINE = CPUID_FEATURE(CPUID_1_ECX, 24),
	FEAT_XSAVE = CPUID_FEATURE(CPUID_1_ECX, 26),
	FEAT_OSXSAVE = CPUID_FEATURE(CPUID_1_ECX, 27),
	FEAT_RDRAND = CPUID_FEATURE(CPUID_1_ECX, 30),
	FEAT_HYPERVISOR = CPUID_FEATURE(CPUID_1_ECX, 31),

	FEAT_FSGSBASE = CPUID_FEATURE(CPUID_7_EBX, 0),
	FEAT_TSC_ADJUST = CPUID_FEATURE(CPUID_7_EBX, 1),
	FEAT_BMI1 = CPUID_FEATURE(CPUID_7_EBX, 3),
	FEAT_SMEP = CPUID_FEATURE(CPUID_7_EBX, 7),
	FEAT_BMI2 = CPUID_FEATURE(CPUID_7_EBX, 8),
	FEAT_ERMS = CPUID_FEATURE(CPUID_7_EBX, 9),
	FEAT_INVPCID = CPUID_FEATURE(CPUID_7_EBX, 10),
	FEAT_RDSEED = CPUID_FEATURE(CPUID_7_EBX, 18),
	FEAT_SMAP = CPUID_FEATURE(CPUID_7_EBX, 20),

	FEAT_UMIP = CPUID_FEATURE(CPUID_7_ECX, 2),
	FEAT_PKU = CPUID_FEATURE(CPUID_7_ECX, 3),
	FEAT_OSPKE = CPUID_FEATURE(CPUID_7_ECX, 4),      /* reads CR4.PKE; never in a model row */
	FEAT_LA57 = CPUID_FEATURE(CPUID_7_ECX, 16),
	FEAT_RDPID = CPUID_FEATURE(CPUID_7_ECX, 22),

	FEAT_IBRS = CPUID_FEATURE(CPUID_7_EDX, 26),
	FEAT_STIBP = CPUID_FEATURE(CPUID_7_EDX, 27),
	FEAT_SSBD = CPUID_FEATURE(CPUID_7_EDX, 31),

	FEAT_LAHF_LM = CPUID_FEATURE(CPUID_81_ECX, 0),
	FEAT_ABM = CPUID_FEATURE(CPUID_81_ECX, 5),
	FEAT_PREFETCHW = CPUID_FEATURE(CPUID_81_ECX, 8),

	FEAT_SYSCALL = CPUID_FEATURE(CPUID_81_EDX, 11),
	FEAT_NX = CPUID_FEATURE(CPUID_81_EDX, 20),
	FEAT_PAGE1GB = CPUID_FEATURE(CPUID_81_EDX, 26),
	FEAT_RDTSCP = CPUID_FEATURE(CPUID_81_EDX, 27),
	FEAT_LM = CPUID_FEATURE(CPUID_81_EDX, 29),
};

/* The mask of feature `name` in register word `word`, for model rows. A
 * feature written into the wrong word does not compile (division by zero in
 * a constant initializer). */
#define CPUID_BIT(word, name) \
	((FEAT_##name >> 5) == (word) ? 1u << (FEAT_##name & 31) : 1u / 0u)

/* Whether the model reports feature f (an enum cpu_feature). */
bool cpu_model_has(const struct cpu_model *m, unsigned f);

static inline bool cpu_has(const struct cpu *c, unsigned f)
{
	return cpu_model_has(c->model, f);
}

/* IA32_MISC_ENABLE[22]: limit CPUID maxval to 2 (SDM vol. 4, Table 2-2). */
#define MISC_ENABLE_LIMIT_CPUID (1ull << 22)

/* CPUID with EAX = leaf, ECX = subleaf: r = { EAX, EBX, ECX, EDX }. */
void cpu_cpuid(const struct cpu *c, uint32_t leaf, uint32_t subleaf, uint32_t r[4]);

#endif
