/* Events in VMX non-root operation (SDM vol. 3C, the edition whose VM-exit
 * chapter is 27): exceptions and the exception bitmap, NMI exiting and
 * virtual NMIs, triple fault, INIT and SIPI (25.2), IRET and NMI blocking
 * (25.3), task switches (25.4.2), and what their VM exits record: the
 * VM-exit interruption information (27.2.2), IDT-vectoring information for
 * exits during event delivery (27.2.3), qualifications (27.2.1) and the
 * state 27.1 says is not updated.
 *
 * cpu/ decides where an event stands (cpu/exception.c delivers through the
 * IDT and keeps c->vmx.vectoring, the event being delivered; cpu/task.c
 * reaches the task-switch exit after its checks); this file decides
 * whether it exits and builds the exit information.
 */
#include "cpu/operand.h"
#include "mem/ept.h"
#include "vmx/ept_ve.h"
#include "vmx/apicv.h"
#include "vmx/exit.h"
#include "vmx/trace.h"
#include "vmx/vmcs.h"

/* Exit qualification of a task switch (Table 27-2): bits 31:30. */
#define TASK_QUAL_SOURCE_SHIFT 30
/* Exit qualification of a page-modification log-full event (27.2.1): bit
 * 12, NMI unblocking due to IRET; every other bit undefined (written 0). */
#define PML_QUAL_NMI_UNBLOCKED (1ull << 12)

static uint32_t pin_controls(struct cpu *c)
{
	return (uint32_t)vmcs_read(c, VF_PIN_CONTROLS);
}

/* 25.2: bit `vector` of the exception bitmap; for #PF the bit is followed
 * when PFEC & PFEC_MASK = PFEC_MATCH and reversed otherwise. */
static bool bitmap_intercepts(struct cpu *c, unsigned vector, uint32_t error)
{
	bool bit = (vmcs_read(c, VF_EXCEPTION_BITMAP) >> vector) & 1;
	if (vector != VEC_PF)
		return bit;
	uint32_t mask = (uint32_t)vmcs_read(c, VF_PF_ERROR_CODE_MASK);
	uint32_t match = (uint32_t)vmcs_read(c, VF_PF_ERROR_CODE_MATCH);
	return (error & mask) == match ? bit : !bit;
}

/* 27.2.2 bit 12, "NMI unblocking due to IRET": undefined (written 0 here)
 * with "NMI exiting" = 1 and "virtual NMIs" = 0, when the IDT-vectoring
 * information is valid, and for #DF; otherwise 1 exactly when the exit is
 * due to a fault on an IRET that found (virtual-)NMI blocking in effect. */
static uint32_t nmi_unblocked_bit(struct cpu *c, unsigned vector, const struct vmx_vectoring *prev,
				  bool iret_unblocked)
{
	uint32_t pin = pin_controls(c);
	if (!iret_unblocked || prev->info || vector == VEC_DF ||
	    ((pin & PIN_NMI_EXITING) && !(pin & PIN_VIRTUAL_NMIS)))
		return 0;
	return INTR_INFO_NMI_UNBLOCKED;
}

/* 27.2.1: #PF reports the linear address (bits 63:32 cleared outside
 * 64-bit mode), #DB the DR6 bits of Table 27-1 (B3-B0, BD, BS). */
static uint64_t exception_qual(const struct cpu *c, const struct pending_exc *e)
{
	if (e->vector == VEC_PF)
		return c->code64 ? e->cr2 : (uint32_t)e->cr2;
	if (e->vector == VEC_DB)
		return e->dbg;
	return 0;
}

static bool soft_type(uint32_t info)
{
	uint32_t t = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	return t == INTR_TYPE_SW_INTR || t == INTR_TYPE_SW_EXCEPTION || t == INTR_TYPE_PRIV_SW_EXCEPTION;
}

/* 27.2.3: the event being delivered becomes IDT-vectoring information;
 * for a software event the exit instruction length is its instruction's
 * (or the VM-entry instruction length of an injected one, 27.2.5), and
 * the RIP saved is that instruction's (27.3.3): c->next_rip is still the
 * return address the event would push. 27.1: an exit during delivery
 * finds no blocking by STI or MOV SS. */
static void add_vectoring(struct cpu *c, struct vmx_exit_info *x, const struct vmx_vectoring *prev)
{
	if (!prev->info)
		return;
	x->idt_info = prev->info;
	x->idt_error = prev->error;
	c->sti_shadow = c->mov_ss_shadow = false;
	if (soft_type(prev->info)) {
		x->has_insn = true;
		x->insn_len = prev->insn_len;
	}
}

bool vmx_exception_exit(struct cpu *c, const struct pending_exc *e, const struct vmx_vectoring *prev, bool set_rf,
			bool iret_unblocked)
{
	if (!bitmap_intercepts(c, e->vector, e->error))
		return false;
	/* 27.2.2: no error code in real-address mode (unrestricted guest). */
	bool err = e->has_error && (c->cr0 & CR0_PE);
	struct vmx_exit_info x = {
		.reason = EXIT_REASON_EXCEPTION_NMI,
		.qual = exception_qual(c, e),
		.intr_info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT | e->vector |
			     (err ? INTR_INFO_HAS_ERROR : 0) | nmi_unblocked_bit(c, e->vector, prev, iret_unblocked),
		.intr_error = e->error,
		.has_intr = true,
	};
	add_vectoring(c, &x, prev);
	/* 27.3.3: RFLAGS.RF as the frame of the exception would hold it. */
	if (set_rf)
		c->rflags |= FL_RF;
	vmx_vmexit(c, &x);
	return true;
}

/* The exit a failed translation causes (struct xlate_fault, kind !=
 * XLATE_PF): EPT violation (exit qualification Table 28-7, with bit 12
 * "NMI unblocking due to IRET" under the rule of 28.2.3 for exceptions),
 * EPT misconfiguration, APIC access, page-modification log-full event
 * (27.2.1: only bit 12 of the qualification, by the same rule; no
 * guest-physical address). 28.3.3 (saving RFLAGS): RF is saved as 1
 * unless the exit happened during event delivery, where it is what the
 * event's frame would have held (1 for a fault-class exception).
 * A convertible EPT violation with "EPT-violation #VE" becomes a
 * virtualization exception instead (25.5.6, vmx/ept_ve.c): false. */
bool vmx_xlate_exit(struct cpu *c, const struct xlate_fault *f, const struct vmx_vectoring *prev, bool iret_unblocked)
{
	struct vmx_exit_info x = { .qual = f->qual };
	switch (f->kind) {
	case XLATE_EPT_VIOLATION:
		x.reason = EXIT_REASON_EPT_VIOLATION;
		if (nmi_unblocked_bit(c, VEC_NONE, prev, iret_unblocked))
			x.qual |= EPT_QUAL_NMI_UNBLOCKED;
		if (vmx_ept_ve(c, f, x.qual, prev))
			return false;
		x.guest_phys = f->gpa;
		x.has_phys = true;
		x.guest_linear = f->linear;
		x.has_linear = f->linear_valid;
		break;
	case XLATE_EPT_MISCONFIG:
		x.reason = EXIT_REASON_EPT_MISCONFIG;
		x.qual = 0;
		x.guest_phys = f->gpa;
		x.has_phys = true;
		break;
	case XLATE_PML_FULL:
		x.reason = EXIT_REASON_PML_FULL;
		x.qual = nmi_unblocked_bit(c, VEC_NONE, prev, iret_unblocked) ? PML_QUAL_NMI_UNBLOCKED : 0;
		break;
	case XLATE_APIC_ACCESS_GPA:
		/* 29.4.6.1: type 10 during event delivery, else 15; vtxsim
		 * also records the guest-physical address of the access. */
		x.reason = EXIT_REASON_APIC_ACCESS;
		x.qual = vmx_apic_gpa_qual(f->gpa, prev->info != 0);
		x.guest_phys = f->gpa;
		x.has_phys = true;
		break;
	default:
		x.reason = EXIT_REASON_APIC_ACCESS;
		break;
	}
	add_vectoring(c, &x, prev);
	unsigned vtype = (prev->info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	if (!prev->info || (vtype == INTR_TYPE_HW_EXCEPTION && cpu_fault_class(prev->info & INTR_INFO_VECTOR_MASK)))
		c->rflags |= FL_RF;
	vmx_vmexit(c, &x);
	return true;
}

bool vmx_soft_exception_exit(struct cpu *c, unsigned vector, enum vmx_intr_type type, unsigned insn_len)
{
	if (!bitmap_intercepts(c, vector, 0))
		return false;
	/* 27.2.2 bit 12: not a fault on IRET, so 0 wherever it is defined. */
	struct vmx_exit_info x = {
		.reason = EXIT_REASON_EXCEPTION_NMI,
		.intr_info = INTR_INFO_VALID | (uint32_t)type << INTR_INFO_TYPE_SHIFT | vector,
		.has_intr = true,
		.insn_len = insn_len,
		.has_insn = true,
	};
	vmx_vmexit(c, &x);
	return true;
}

void vmx_triple_fault_exit(struct cpu *c)
{
	struct vmx_exit_info x = { .reason = EXIT_REASON_TRIPLE_FAULT };
	vmx_tracef(c, "triple fault in VMX non-root operation: VM exit (SDM 25.2)");
	vmx_vmexit(c, &x);
}

/* 25.2: an NMI exits with "NMI exiting" = 1; it is blocked only after the
 * exit completes (27.1), and the exit leaves NMIs blocked (27.5.5). */
bool vmx_nmi_exit(struct cpu *c)
{
	if (!(pin_controls(c) & PIN_NMI_EXITING))
		return false;
	struct vmx_exit_info x = {
		.reason = EXIT_REASON_EXCEPTION_NMI,
		.intr_info = INTR_INFO_VALID | INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT | VEC_NMI,
		.has_intr = true,
	};
	c->nmi_pending = false;
	vmx_vmexit(c, &x);
	c->nmi_blocked = true;
	return true;
}

bool vmx_init_sipi(struct cpu *c)
{
	if (c->wait_sipi) {
		/* 26.6.2: the wait-for-SIPI state blocks INIT (it stays latched). */
		if (c->sipi_vector < 0)
			return true;
		struct vmx_exit_info x = { .reason = EXIT_REASON_SIPI, .qual = (uint8_t)c->sipi_vector };
		c->sipi_vector = -1;
		vmx_vmexit(c, &x);
		return true;
	}
	c->sipi_vector = -1;    /* 26.6.2: the active and HLT states discard SIPIs */
	if (!c->init_pending)
		return false;
	/* 25.2: none of INIT's own operations happen; the exit consumes it. */
	struct vmx_exit_info x = { .reason = EXIT_REASON_INIT };
	c->init_pending = false;
	vmx_vmexit(c, &x);
	return true;
}

void vmx_iret_unblock_nmi(struct cpu *c)
{
	uint32_t pin = pin_controls(c);
	if (pin & PIN_VIRTUAL_NMIS) {
		c->vmx.iret_unblocked_nmi = c->vmx.vnmi_blocked;
		c->vmx.vnmi_blocked = false;
	} else if (!(pin & PIN_NMI_EXITING)) {
		c->vmx.iret_unblocked_nmi = c->nmi_blocked;
		c->nmi_blocked = false;
	} else {
		c->vmx.iret_unblocked_nmi = false;
	}
}

/* 25.4.2, 27.2.1 Table 27-2. The exit comes before the task switch changes
 * anything: no TSS, TSS descriptor, TR, RFLAGS.NT or DR7 L0-L3 (27.1). For
 * a task gate in the IDT the event being delivered is the IDT-vectoring
 * information, and the RIP saved is the return address the old TSS would
 * have held, or the software interrupt's own (27.3.3). */
void vmx_task_switch_exit(struct cpu *c, uint16_t sel, enum vmx_task_source src, unsigned insn_len, bool set_rf)
{
	struct vmx_exit_info x = {
		.reason = EXIT_REASON_TASK_SWITCH,
		.qual = sel | (uint64_t)src << TASK_QUAL_SOURCE_SHIFT,
	};
	if (src == VMX_TASK_IDT) {
		struct vmx_vectoring prev = c->vmx.vectoring;
		c->vmx.vectoring.info = 0;
		add_vectoring(c, &x, &prev);
	} else {
		x.has_insn = true;
		x.insn_len = insn_len;
	}
	if (set_rf)
		c->rflags |= FL_RF;
	vmx_vmexit(c, &x);
}
