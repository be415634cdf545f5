/* Names of the bits of the VMX control words and of the VMCS fields the
 * debugger decodes (vmx/ctlbits.def), and the decoders of the multi-bit
 * sub-fields (interruption type, EPTP memory type and walk length). */
#ifndef VMX_CTLBITS_H
#define VMX_CTLBITS_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/vmcs.h"

enum ctl_word {
	CTLW_PIN, CTLW_PROC, CTLW_PROC2, CTLW_PROC3, CTLW_VMFUNC, CTLW_EXIT, CTLW_EXIT2, CTLW_ENTRY,
	CTLW_EXIT_REASON, CTLW_INTR_INFO, CTLW_INTERRUPTIBILITY, CTLW_EPTP,
	/* Registers: names from cpu/regbits.def. */
	CTLW_CR0, CTLW_CR4, CTLW_EFER, CTLW_RFLAGS, CTLW_XCR0,
	CTLW_COUNT,
	CTLW_NONE = -1
};

struct ctl_bit {
	enum ctl_word word;
	uint64_t mask;          /* one bit */
	const char *name;       /* the SDM's name: "NMI exiting" */
};

extern const struct ctl_bit ctl_bits[];
extern const unsigned ctl_bits_count;

/* The name of bit `bit` of word w, NULL when the table has none. */
const char *ctl_bit_name(enum ctl_word w, unsigned bit);

/* The word a VMCS field holds (its bits decode by name), or CTLW_NONE. */
enum ctl_word ctl_word_of_field(enum vmcs_field f);

/* The VMX capability (vmx/caps.h enum vmx_ctl) of a control word, or -1
 * for the words that are not VMX controls. */
int ctl_word_vmx_ctl(enum ctl_word w);

/* Interruption type (24.8.3, Table 24-16: bits 10:8). */
const char *ctl_intr_type_name(unsigned type);
/* EPT paging-structure memory type (24.6.11: 0 UC, 6 WB). */
const char *ctl_ept_memtype_name(unsigned type);
/* Activity state (24.4.2). */
const char *ctl_activity_name(uint64_t state);

#endif
