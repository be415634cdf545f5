/* What a VM exit means, in words (vmx/explain.def): why it happened, the
 * SDM section that says when it happens, and what its exit qualification
 * holds, decoded. `--explain` (sim/explain.c) and the debugger's `exits`
 * (debugger/vmx_cmds.c) print through these; nothing else decodes a
 * qualification. */
#ifndef VMX_EXPLAIN_H
#define VMX_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

/* What the exit qualification holds (SDM vol. 3C 27.2.1). */
enum vmx_qual_kind {
	QK_NONE,                /* unused: cleared to 0 */
	QK_EXCEPTION,           /* #DB: B3-B0, BD, BS; #PF: the linear address; the exit-
				 * interruption information says which event (27.2.2) */
	QK_INTERRUPT,           /* unused; the interruption information holds the vector when
				 * "acknowledge interrupt on exit" is 1 */
	QK_SIPI,                /* the SIPI vector */
	QK_TASK_SWITCH,         /* Table 27-2: the new TSS selector and the source */
	QK_LINEAR,              /* INVLPG: the linear-address operand */
	QK_DISPLACEMENT,        /* the instruction's displacement (VMX instructions, INVPCID,
				 * descriptor tables, XSAVES/XRSTORS) */
	QK_CR,                  /* Table 27-3 */
	QK_DR,                  /* Table 27-4 */
	QK_IO,                  /* Table 27-5 */
	QK_MWAIT,               /* 1: address-range monitoring hardware armed */
	QK_APIC_ACCESS,         /* Table 27-6 */
	QK_EPT_VIOLATION,       /* Table 27-7 */
	QK_EOI_VECTOR,          /* the vector of the virtualized EOI */
	QK_APIC_OFFSET,         /* the offset of the APIC write on the virtual-APIC page */
	QK_ENTRY_GUEST,         /* 26.7: 0, or 2 PDPTE load, 3 NMI injection, 4 VMCS link pointer */
	QK_MSR_INDEX,           /* 26.7: the 1-based index of the failing MSR-load entry */
	QK_PML,                 /* bit 12: NMI unblocking due to IRET */
};

struct vmx_explain_row {
	const char *why;        /* "the guest ran CPUID, which always exits in ..." */
	const char *section;    /* SDM vol. 3C section, "25.1.2" */
	enum vmx_qual_kind qual;
};

/* The row of basic exit reason basic, NULL for a number that is no exit
 * reason (EXIT_REASON_TABLE). */
const struct vmx_explain_row *vmx_explain_row(uint32_t basic);

/* The exit qualification of an exit with this (full or basic) reason, in
 * words, into buf ("" when the qualification is unused): e.g. "OUT to
 * port 0x3f8, 1 byte, from AL, port in DX". intr_info is the exit-
 * interruption information (for exception and interrupt exits). */
void vmx_exit_qual_text(uint32_t reason, uint64_t qual, uint32_t intr_info, char *buf, size_t n);

#endif
