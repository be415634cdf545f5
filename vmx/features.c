/* The VMX feature flags (vmx/features.def) applied to a machine's copy of a
 * model row. Offering brings what a feature needs, withholding takes away
 * what needs it, so the copy stays one a real processor could report
 * (SDM vol. 3C 26.2.1.1: e.g. "enable PML" needs "enable EPT" at VM entry;
 * Appendix A: words that exist only through another word's bit). */
#include "vmx/features.h"

#include <string.h>

#include "cpu/cpuid.h"

const struct vmx_feature vmx_features[VMX_FEAT_COUNT] = {
#define VMX_FEATURE(id, nm, w, b, beh, nd, br, desc, warn)                                     \
	[VMX_FEAT_##id] = { .name = nm, .word = w, .bits = b, .behaviour = beh, .needs = nd, .brings = br, \
			    .description = desc, .warning = warn },
#include "vmx/features.def"
#undef VMX_FEATURE
};

/* A feature with behaviour other than "modelled" says what is missing. */
#define VMX_FEATURE(id, nm, w, b, beh, nd, br, desc, warn) \
	_Static_assert((beh == VMXF_MODELLED) == (sizeof(warn) == 1), nm ": a warning exactly when not modelled");
#include "vmx/features.def"
#undef VMX_FEATURE

enum vmx_feature_id vmx_feature_find(const char *name)
{
	for (int f = 0; f < VMX_FEAT_COUNT; f++)
		if (strcmp(vmx_features[f].name, name) == 0)
			return (enum vmx_feature_id)f;
	return VMX_FEAT_NONE;
}

/* FW_BASIC: IA32_VMX_BASIC[54] and [56] as struct vmx_model keeps them. */
static uint64_t basic_bits(const struct vmx_model *v)
{
	return (v->ins_outs_info ? VMX_BASIC_INS_OUTS : 0) | (v->no_errcode_check ? VMX_BASIC_NO_ERRCODE_CHECK : 0);
}

static uint64_t word_get(const struct cpu_model *m, enum vmx_feature_word w)
{
	const struct vmx_model *v = &m->vmx;

	switch (w) {
	case FW_PIN: return v->pin_allowed1;
	case FW_PROC: return v->proc_allowed1;
	case FW_PROC2: return v->proc2_allowed1;
	case FW_PROC3: return v->proc3_allowed1;
	case FW_EXIT: return v->exit_allowed1;
	case FW_EXIT2: return v->exit2_allowed1;
	case FW_ENTRY: return v->entry_allowed1;
	case FW_BASIC: return basic_bits(v);
	case FW_MISC: return v->misc;
	case FW_EPT_VPID: return v->ept_vpid_cap;
	case FW_VMFUNC: return v->vmfunc;
	case FW_CPUID_7_EBX: return m->leaf7_ebx;
	}
	return 0;
}

static void word_set(struct cpu_model *m, enum vmx_feature_word w, uint64_t x)
{
	struct vmx_model *v = &m->vmx;

	switch (w) {
	case FW_PIN: v->pin_allowed1 = (uint32_t)x; return;
	case FW_PROC: v->proc_allowed1 = (uint32_t)x; return;
	case FW_PROC2: v->proc2_allowed1 = (uint32_t)x; return;
	case FW_PROC3: v->proc3_allowed1 = x; return;
	case FW_EXIT: v->exit_allowed1 = (uint32_t)x; return;
	case FW_EXIT2: v->exit2_allowed1 = x; return;
	case FW_ENTRY: v->entry_allowed1 = (uint32_t)x; return;
	case FW_BASIC:
		v->ins_outs_info = x & VMX_BASIC_INS_OUTS;
		v->no_errcode_check = x & VMX_BASIC_NO_ERRCODE_CHECK;
		return;
	case FW_MISC: v->misc = x; return;
	case FW_EPT_VPID: v->ept_vpid_cap = x; return;
	case FW_VMFUNC: v->vmfunc = x; return;
	case FW_CPUID_7_EBX: m->leaf7_ebx = (uint32_t)x; return;
	}
}

bool vmx_feature_present(const struct cpu_model *m, enum vmx_feature_id f)
{
	const struct vmx_feature *x = &vmx_features[f];

	return (word_get(m, x->word) & x->bits) == x->bits;
}

/* The bits go in before the needs are brought, so features that bring
 * each other end the recursion. */
static void offer(struct cpu_model *m, enum vmx_feature_id f)
{
	const struct vmx_feature *x = &vmx_features[f];
	uint64_t more = x->needs | x->brings;

	if (vmx_feature_present(m, f))
		return;
	word_set(m, x->word, word_get(m, x->word) | x->bits);
	for (int g = 0; g < VMX_FEAT_COUNT; g++)
		if (more & (1ull << g))
			offer(m, (enum vmx_feature_id)g);
}

bool vmx_feature_offer(struct cpu_model *m, enum vmx_feature_id f)
{
	if (m->vmx.revision == 0)
		return false;
	offer(m, f);
	return true;
}

/* A feature counts as withheld once any of its bits is gone; the cascade
 * runs only when f was (partly) there, which ends the recursion. */
void vmx_feature_withhold(struct cpu_model *m, enum vmx_feature_id f)
{
	const struct vmx_feature *x = &vmx_features[f];
	uint64_t w = word_get(m, x->word);

	if (!(w & x->bits))
		return;
	word_set(m, x->word, w & ~x->bits);
	for (int g = 0; g < VMX_FEAT_COUNT; g++)
		if (vmx_features[g].needs & (1ull << f))
			vmx_feature_withhold(m, (enum vmx_feature_id)g);
}
