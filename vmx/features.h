/* The VMX feature flags of `-cpu MODEL,+FLAG,-FLAG` (vmx/features.def):
 * offering or withholding one capability on a machine's own copy of a model
 * row. The rows of cpu/models.def stay const; sim/cpu_spec.c parses the
 * option and calls these. */
#ifndef VMX_FEATURES_H
#define VMX_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/model.h"

/* Which word of struct cpu_model a feature's bits live in. */
enum vmx_feature_word {
	FW_PIN, FW_PROC, FW_PROC2, FW_PROC3, FW_EXIT, FW_EXIT2, FW_ENTRY,       /* allowed-1 settings */
	FW_BASIC,               /* IA32_VMX_BASIC: the bits struct vmx_model keeps as bools */
	FW_MISC, FW_EPT_VPID, FW_VMFUNC,
	FW_CPUID_7_EBX,         /* CPUID.(EAX=07H,ECX=0):EBX */
};

enum vmx_feature_behaviour {
	VMXF_MODELLED,          /* as on the models that offer it natively */
	VMXF_CHECKS_ONLY,       /* VM-entry checks only */
	VMXF_PARTIAL,           /* what the row's warning says */
};

enum vmx_feature_id {
	VMX_FEAT_NONE = -1,
#define VMX_FEATURE(id, name, word, bits, beh, needs, brings, desc, warn) VMX_FEAT_##id,
#include "vmx/features.def"
#undef VMX_FEATURE
	VMX_FEAT_COUNT
};

/* A set of features, for the needs and brings columns. */
#define NEED(id) (1ull << VMX_FEAT_##id)
_Static_assert(VMX_FEAT_COUNT <= 64, "the needs and brings masks are 64 bits");

struct vmx_feature {
	const char *name;
	enum vmx_feature_word word;
	uint64_t bits;
	enum vmx_feature_behaviour behaviour;
	uint64_t needs;         /* NEED() mask: withholding one withholds this */
	uint64_t brings;        /* NEED() mask: offered with this */
	const char *description;
	const char *warning;    /* "" for VMXF_MODELLED */
};

extern const struct vmx_feature vmx_features[VMX_FEAT_COUNT];

/* The feature called name, or VMX_FEAT_NONE. */
enum vmx_feature_id vmx_feature_find(const char *name);

/* Whether model m has every bit of feature f. */
bool vmx_feature_present(const struct cpu_model *m, enum vmx_feature_id f);

/* Offer f on m, with every feature it needs or brings (recursively); withhold f
 * from m, with every feature that needs it (recursively). A model without
 * VMX (revision 0) takes no VMX feature: vmx_feature_offer returns false
 * and changes nothing. */
bool vmx_feature_offer(struct cpu_model *m, enum vmx_feature_id f);
void vmx_feature_withhold(struct cpu_model *m, enum vmx_feature_id f);

#endif
