/* CPU models: one row per model in cpu/models.def. Everything a model offers
 * or withholds (CPUID leaves, feature bits, later the VMX capability MSRs) is
 * data here, never #ifdef. */
#ifndef CPU_MODEL_H
#define CPU_MODEL_H

#include <stdint.h>

#include "vmx/vmx.h"

struct cpu_model {
	const char *name;
	const char *description;
	const char *vendor;             /* 12 characters: "GenuineIntel" */
	const char *brand;              /* up to 48 characters */
	uint32_t signature;             /* CPUID.1:EAX: stepping, model, family */
	uint32_t leaf1_ecx, leaf1_edx;
	uint32_t leaf7_ebx, leaf7_ecx, leaf7_edx;
	uint32_t ext1_ecx, ext1_edx;    /* CPUID.80000001H */
	uint32_t leafd1_eax;            /* CPUID.(0DH,1):EAX: XSAVE extensions */
	uint32_t max_leaf, max_ext_leaf;
	uint8_t phys_addr_bits, lin_addr_bits;
	uint32_t tsc_khz;               /* simulated TSC rate reported to software */
	struct vmx_model vmx;           /* VMX capabilities (revision 0: no VMX) */
};

/* The model called name, or NULL. */
const struct cpu_model *cpu_model_find(const char *name);
/* The default model (the first row). */
const struct cpu_model *cpu_model_default(void);
/* Model i (0-based), or NULL past the end: for `-cpu help`. */
const struct cpu_model *cpu_model_at(int i);

#endif
