/* The CPU model table (cpu/models.def) and its lookups. */
#include "cpu/model.h"

#include <stddef.h>
#include <string.h>

#include "cpu/cpuid.h"

#define L1C(x) CPUID_BIT(CPUID_1_ECX, x)
#define L1D(x) CPUID_BIT(CPUID_1_EDX, x)
#define L7B(x) CPUID_BIT(CPUID_7_EBX, x)
#define L7C(x) CPUID_BIT(CPUID_7_ECX, x)
#define L7D(x) CPUID_BIT(CPUID_7_EDX, x)
#define E1C(x) CPUID_BIT(CPUID_81_ECX, x)
#define E1D(x) CPUID_BIT(CPUID_81_EDX, x)
#define XD1(x) CPUID_BIT(CPUID_D1_EAX, x)

static const struct cpu_model models[] = {
#define MODEL(nm, desc, vend, brnd, sig, l1c, l1d, l7b, l7c, l7d, e1c, e1d, d1a, maxl, maxe, pbits, lbits, khz) \
	{ .name = nm, .description = desc, .vendor = vend, .brand = brnd, .signature = sig,               \
	  .leaf1_ecx = l1c, .leaf1_edx = l1d, .leaf7_ebx = l7b, .leaf7_ecx = l7c, .leaf7_edx = l7d,      \
	  .ext1_ecx = e1c, .ext1_edx = e1d, .leafd1_eax = d1a, .max_leaf = maxl, .max_ext_leaf = maxe,                     \
	  .phys_addr_bits = pbits, .lin_addr_bits = lbits, .tsc_khz = khz },
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
