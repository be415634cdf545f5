/* The bit-name table (vmx/ctlbits.h) and the sub-field names. */
#include "vmx/ctlbits.h"

#include <stddef.h>

#include "vmx/caps.h"
#include "vmx/controls.h"

const struct ctl_bit ctl_bits[] = {
#define CTLBIT(word, mask, name) { CTLW_##word, (mask), (name) },
#include "vmx/ctlbits.def"
#undef CTLBIT
};
const unsigned ctl_bits_count = sizeof(ctl_bits) / sizeof(ctl_bits[0]);

/* Each row names one bit. */
#define CTLBIT(word, mask, name) _Static_assert((mask) != 0 && ((mask) & ((mask) - 1)) == 0, name ": one bit");
#include "vmx/ctlbits.def"
#undef CTLBIT

/* The register words: cpu/regbits.def. */
static const struct {
	enum ctl_word word;
	unsigned bit;
	const char *name;
} reg_bits[] = {
#define REGBIT(reg, bit, name) { CTLW_##reg, (bit), #name },
#include "cpu/regbits.def"
#undef REGBIT
};

const char *ctl_bit_name(enum ctl_word w, unsigned bit)
{
	if (bit > 63)
		return NULL;
	if (w >= CTLW_CR0) {
		for (size_t i = 0; i < sizeof(reg_bits) / sizeof(reg_bits[0]); i++)
			if (reg_bits[i].word == w && reg_bits[i].bit == bit)
				return reg_bits[i].name;
		return NULL;
	}
	for (unsigned i = 0; i < ctl_bits_count; i++)
		if (ctl_bits[i].word == w && ctl_bits[i].mask == 1ull << bit)
			return ctl_bits[i].name;
	return NULL;
}

enum ctl_word ctl_word_of_field(enum vmcs_field f)
{
	switch (f) {
	case VF_PIN_CONTROLS: return CTLW_PIN;
	case VF_PROC_CONTROLS: return CTLW_PROC;
	case VF_PROC2_CONTROLS: return CTLW_PROC2;
	case VF_TERTIARY_CONTROLS: return CTLW_PROC3;
	case VF_VMFUNC_CONTROLS: return CTLW_VMFUNC;
	case VF_EXIT_CONTROLS: return CTLW_EXIT;
	case VF_EXIT_CONTROLS2: return CTLW_EXIT2;
	case VF_ENTRY_CONTROLS: return CTLW_ENTRY;
	case VF_EXIT_REASON: return CTLW_EXIT_REASON;
	case VF_ENTRY_INTR_INFO: case VF_EXIT_INTR_INFO: case VF_IDT_VECTORING_INFO: return CTLW_INTR_INFO;
	case VF_GUEST_INTERRUPTIBILITY: return CTLW_INTERRUPTIBILITY;
	case VF_EPT_POINTER: return CTLW_EPTP;
	case VF_GUEST_CR0: case VF_HOST_CR0: case VF_CR0_GUEST_HOST_MASK: case VF_CR0_READ_SHADOW: return CTLW_CR0;
	case VF_GUEST_CR4: case VF_HOST_CR4: case VF_CR4_GUEST_HOST_MASK: case VF_CR4_READ_SHADOW: return CTLW_CR4;
	case VF_GUEST_IA32_EFER: case VF_HOST_IA32_EFER: return CTLW_EFER;
	case VF_GUEST_RFLAGS: return CTLW_RFLAGS;
	default: return CTLW_NONE;
	}
}

int ctl_word_vmx_ctl(enum ctl_word w)
{
	switch (w) {
	case CTLW_PIN: return VMX_CTL_PIN;
	case CTLW_PROC: return VMX_CTL_PROC;
	case CTLW_PROC2: return VMX_CTL_PROC2;
	case CTLW_PROC3: return VMX_CTL_PROC3;
	case CTLW_VMFUNC: return VMX_CTL_VMFUNC;
	case CTLW_EXIT: return VMX_CTL_EXIT;
	case CTLW_EXIT2: return VMX_CTL_EXIT2;
	case CTLW_ENTRY: return VMX_CTL_ENTRY;
	default: return -1;
	}
}

const char *ctl_intr_type_name(unsigned type)
{
	static const char *const names[8] = {
		[INTR_TYPE_EXT_INTR] = "external interrupt",
		[1] = "reserved",
		[INTR_TYPE_NMI] = "NMI",
		[INTR_TYPE_HW_EXCEPTION] = "hardware exception",
		[INTR_TYPE_SW_INTR] = "software interrupt",
		[INTR_TYPE_PRIV_SW_EXCEPTION] = "privileged software exception",
		[INTR_TYPE_SW_EXCEPTION] = "software exception",
		[INTR_TYPE_OTHER] = "other event",
	};
	return names[type & 7];
}

const char *ctl_ept_memtype_name(unsigned type)
{
	return type == 0 ? "UC" : type == 6 ? "WB" : "reserved";
}

const char *ctl_activity_name(uint64_t state)
{
	switch (state) {
	case ACTIVITY_ACTIVE: return "active";
	case ACTIVITY_HLT: return "HLT";
	case ACTIVITY_SHUTDOWN: return "shutdown";
	case ACTIVITY_WAIT_SIPI: return "wait-for-SIPI";
	default: return "reserved";
	}
}
