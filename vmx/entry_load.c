/* VM entry after the checks of 26.2/26.3.1 have passed (SDM vol. 3C 26.3.2
 * loading guest state, 26.4 MSR loading, 26.5 event injection, 26.6
 * special features: activity states). Check and load stay apart: every
 * rule was checked before anything here runs, except the PDPTEs and the
 * MSR-load entries, which the SDM checks while loading. */
#include "vmx/entry_load.h"

#include "cpu/debug.h"
#include "cpu/msr.h"
#include "cpu/probe.h"
#include "cpu/seg.h"
#include "vmx/caps.h"
#include "vmx/ept.h"
#include "vmx/trace.h"
#include "vmx/vpid.h"

/* 26.3.2.1: control registers, DR7 and IA32_DEBUGCTL ("load debug
 * controls"), the SYSENTER MSRs, IA32_PERF_GLOBAL_CTRL, IA32_PAT and
 * IA32_EFER under their "load" controls. */
static void load_guest_regs(struct cpu *c, const uint8_t *h, uint32_t entc)
{
	c->cr0 = vmx_cr0_merge(c->cr0, vmcs_get(c, h, VF_GUEST_CR0));
	c->cr3 = vmcs_get(c, h, VF_GUEST_CR3);
	c->cr4 = vmcs_get(c, h, VF_GUEST_CR4);
	/* DR7 bit 12 and bits 15:14 are loaded as 0, bit 10 as 1. */
	if (entc & ENTRY_LOAD_DEBUG_CTLS) {
		c->dr[7] = (vmcs_get(c, h, VF_GUEST_DR7) & ~0xd000ull) | DR7_FIXED1;
		c->msr.debugctl = vmcs_get(c, h, VF_GUEST_IA32_DEBUGCTL);
	}
	if (entc & ENTRY_LOAD_PERF_GLOBAL)
		c->msr.perf_global_ctrl = vmcs_get(c, h, VF_GUEST_IA32_PERF_GLOBAL_CTRL);
	c->msr.sysenter_cs = (uint32_t)vmcs_get(c, h, VF_GUEST_IA32_SYSENTER_CS);
	c->msr.sysenter_esp = vmcs_get(c, h, VF_GUEST_IA32_SYSENTER_ESP);
	c->msr.sysenter_eip = vmcs_get(c, h, VF_GUEST_IA32_SYSENTER_EIP);
	if (entc & ENTRY_LOAD_PAT)
		c->msr.pat = vmcs_get(c, h, VF_GUEST_IA32_PAT);
	if (entc & ENTRY_LOAD_BNDCFGS)  /* offered only with MPX: the MSR exists */
		c->msr.bndcfgs = vmcs_get(c, h, VF_GUEST_IA32_BNDCFGS);
	if (entc & ENTRY_LOAD_EFER)
		c->efer = vmcs_get(c, h, VF_GUEST_IA32_EFER);
	else    /* LMA and LME follow "IA-32e mode guest" */
		c->efer = (c->efer & ~(EFER_LMA | EFER_LME)) |
			  ((entc & ENTRY_IA32E_GUEST) ? EFER_LMA | EFER_LME : 0);
}

/* 26.3.2.2: everything is loaded from the fields, the unusable bit with
 * the rest; of an unusable segment the SDM leaves base, limit and the other
 * attributes undefined except SS.DPL and the FS/GS bases: vtxsim loads
 * the fields as they are, with bits 63:32 of the SS/DS/ES base cleared. */
static void load_segment(struct cpu *c, const uint8_t *h, unsigned k, struct segment *s)
{
	s->sel = (uint16_t)vmcs_get(c, h, VF_GUEST_ES_SELECTOR + k);
	s->base = vmcs_get(c, h, VF_GUEST_ES_BASE + k);
	s->limit = (uint32_t)vmcs_get(c, h, VF_GUEST_ES_LIMIT + k);
	s->ar = (uint32_t)vmcs_get(c, h, VF_GUEST_ES_AR + k) & 0x1f0ffu;
	if ((s->ar & AR_UNUSABLE) && (k == SEG_SS || k == SEG_DS || k == SEG_ES))
		s->base &= 0xffffffffull;
}

static void load_guest_segments(struct cpu *c, const uint8_t *h)
{
	for (unsigned k = SEG_ES; k <= SEG_GS; k++)
		load_segment(c, h, k, &c->seg[k]);
	load_segment(c, h, VF_GUEST_LDTR_SELECTOR - VF_GUEST_ES_SELECTOR, &c->ldtr);
	load_segment(c, h, VF_GUEST_TR_SELECTOR - VF_GUEST_ES_SELECTOR, &c->tr);
	c->gdtr = (struct dtable){ .base = vmcs_get(c, h, VF_GUEST_GDTR_BASE),
				   .limit = (uint16_t)vmcs_get(c, h, VF_GUEST_GDTR_LIMIT) };
	c->idtr = (struct dtable){ .base = vmcs_get(c, h, VF_GUEST_IDTR_BASE),
				   .limit = (uint16_t)vmcs_get(c, h, VF_GUEST_IDTR_LIMIT) };
	c->cpl = (uint8_t)ar_dpl(c->seg[SEG_SS].ar);      /* SS.DPL is the CPL */
}

/* 26.3.2.4: PAE paging outside IA-32e mode. With EPT the PDPTEs come from
 * the guest-state fields; otherwise from guest CR3, and a bad one fails
 * the entry (26.3.1.6, qualification 2). */
static bool load_guest_pdptes(struct cpu *c, const uint8_t *h)
{
	if (!(c->cr0 & CR0_PG) || !(c->cr4 & CR4_PAE) || (c->efer & EFER_LMA))
		return true;
	bool ept = (vmcs_get(c, h, VF_PROC_CONTROLS) & PROC_SECONDARY_CTLS) &&
		   (vmcs_get(c, h, VF_PROC2_CONTROLS) & PROC2_EPT);
	if (!ept)
		return paging_load_pdptes(c->phys, c->cr3, c->xc.maxphyaddr, c->pdpte);
	for (unsigned k = 0; k < 4; k++)
		c->pdpte[k] = vmcs_get(c, h, VF_GUEST_PDPTE0 + k);
	return true;
}

bool entry_load_guest(struct cpu *c, struct vmx_exit_info *fail)
{
	const uint8_t *h = vmcs_burst(c);
	load_guest_regs(c, h, (uint32_t)vmcs_get(c, h, VF_ENTRY_CONTROLS));
	load_guest_segments(c, h);
	c->monitor_armed = false;       /* 26.3.3: VM entries clear address-range monitoring */
	c->vmx.ple_valid = false;       /* 25.1.3: the first PAUSE after VM entry begins a loop */
	c->gpr[R_SP] = vmcs_get(c, h, VF_GUEST_RSP);
	c->rip = c->next_rip = vmcs_get(c, h, VF_GUEST_RIP);
	cpu_set_rflags(c, vmcs_get(c, h, VF_GUEST_RFLAGS));
	vmx_ept_enter(c, h);       /* guest CR3 and paging structures are guest-physical (vmx/ept.c) */
	if (!load_guest_pdptes(c, h)) {
		*fail = (struct vmx_exit_info){ .reason = EXIT_REASON_INVALID_GUEST_STATE | EXIT_REASON_ENTRY_FAILURE,
						.qual = 2 };
		vmx_tracef(c, "VM entry failed: the PDPTEs at guest CR3 %#llx cannot be loaded (26.3.1.6)",
			   (unsigned long long)c->cr3);
		return false;
	}
	vmx_tlb_enter(c, h);            /* 28.3.3.1: no VPID, every entry flushes VPID 0000H */
	return true;
}

/* ---- 26.4 the VM-entry MSR-load area ---- */

bool entry_load_msrs(struct entry_ctx *e, struct vmx_exit_info *fail)
{
	struct cpu *c = e->c;
	uint32_t count = (uint32_t)vmcs_read(c, VF_ENTRY_MSR_LOAD_COUNT);
	uint64_t pa = vmcs_read(c, VF_ENTRY_MSR_LOAD_ADDR);
	if (!vmx_msr_count_ok(c, count, "VM-entry MSR-load")) {
		*fail = (struct vmx_exit_info){ .reason = EXIT_REASON_MACHINE_CHECK | EXIT_REASON_ENTRY_FAILURE };
		return false;
	}
	for (uint32_t n = 1; n <= count; n++, pa += 16) {
		/* The phase's last row writes the MSR (vmx/entry_msr.c). */
		e->msr_n = n;
		e->msr_lo = phys_read(c->phys, pa, 8);
		e->msr_data = phys_read(c->phys, pa + 8, 8);
		if (entry_run_phase(e, PHASE_MSR_LOAD) >= 0) {
			*fail = (struct vmx_exit_info){
				.reason = EXIT_REASON_MSR_LOADING | EXIT_REASON_ENTRY_FAILURE, .qual = n };
			vmx_trace_verdict(c, e->insn_rip);
			return false;
		}
	}
	if (count)
		cpu_mode_changed(c);    /* EFER, PAT, ... may have changed */
	return true;
}

/* ---- 26.3.2.5 non-register state, 26.6 activity states ---- */

/* 26.6.3: the pending debug exceptions field is ignored when the entry is
 * vectoring (26.6: it injects an event other than "other event"), except
 * a software interrupt or software exception with blocking by MOV SS, and
 * when it is not vectoring and enters the shutdown or wait-for-SIPI state.
 * Otherwise the exceptions are valid if BS or bit 12 is set: they are then
 * delivered as a #DB trap before the first guest instruction (cpu/debug.c
 * cpu_debug_boundary, with the priority of a trap on the previous
 * instruction), or held while MOV SS blocks them. */
static uint64_t entry_pending_dbg(struct cpu *c, uint32_t intr, enum vmx_activity act)
{
	uint32_t info = (uint32_t)vmcs_read(c, VF_ENTRY_INTR_INFO);
	enum vmx_intr_type type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	uint64_t v = vmcs_read(c, VF_GUEST_PENDING_DBG_EXCEPTIONS);
	if ((info & INTR_INFO_VALID) && type != INTR_TYPE_OTHER) {
		bool soft = type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION;
		if (!soft || !(intr & INTR_BLOCK_MOV_SS))
			return 0;
	} else if (act == ACTIVITY_SHUTDOWN || act == ACTIVITY_WAIT_SIPI) {
		return 0;
	}
	return (v & (PENDING_DBG_BS | PENDING_DBG_ENABLED_BP)) ? v & PENDING_DBG_DEFINED : 0;
}

void entry_load_nonregister(struct cpu *c)
{
	uint32_t intr = (uint32_t)vmcs_read(c, VF_GUEST_INTERRUPTIBILITY);
	c->sti_shadow = intr & INTR_BLOCK_STI;
	c->mov_ss_shadow = intr & INTR_BLOCK_MOV_SS;
	/* 26.6.1: with "virtual NMIs" bit 3 is virtual-NMI blocking and NMIs
	 * are not blocked in non-root operation; otherwise it is blocking by
	 * NMI (which IRET leaves alone while "NMI exiting" is 1, 25.3). */
	if (vmcs_read(c, VF_PIN_CONTROLS) & PIN_VIRTUAL_NMIS) {
		c->vmx.vnmi_blocked = intr & INTR_BLOCK_NMI;
		c->nmi_blocked = false;
	} else {
		c->nmi_blocked = intr & INTR_BLOCK_NMI;
	}
	enum vmx_activity act = (enum vmx_activity)vmcs_read(c, VF_GUEST_ACTIVITY_STATE);
	c->pending_dbg = entry_pending_dbg(c, intr, act);
	cpu_debug_update(c);
	c->halted = c->shutdown = c->wait_sipi = false;
	switch (act) {
	case ACTIVITY_ACTIVE:
		break;
	case ACTIVITY_HLT:
		c->halted = true;
		break;
	case ACTIVITY_SHUTDOWN:
		/* 26.6.2: only NMI/INIT/SMI leave it, as VM exits (issue 6). */
		cpu_warn(c, "VM entry to the shutdown activity state (SDM 26.6.2): the guest stops here");
		c->shutdown = true;
		break;
	case ACTIVITY_WAIT_SIPI:
		c->wait_sipi = true;
		c->sipi_vector = -1;
		break;
	}
}

/* ---- 26.5 event injection ---- */

static enum int_kind injected_kind(enum vmx_intr_type t)
{
	switch (t) {
	case INTR_TYPE_NMI: return INT_NMI;
	case INTR_TYPE_HW_EXCEPTION: return INT_EXCEPTION;
	case INTR_TYPE_SW_INTR: return INT_SOFTWARE;
	case INTR_TYPE_PRIV_SW_EXCEPTION: return INT_PRIV_SOFTWARE;
	case INTR_TYPE_SW_EXCEPTION: return INT_SOFT_EXCEPTION;
	default: return INT_EXTERNAL;
	}
}

/* 26.5.1: the event is delivered through the guest IDT as if it had
 * occurred right after the entry; software interrupts and exceptions push
 * RIP + VM-entry instruction length. A fault during delivery is handled
 * as 26.5.1.2 says: the double-fault rules against an injected hardware
 * exception, the exception bitmap, and a VM exit it causes reports the
 * injected event as IDT-vectoring information (cpu/exception.c with
 * vmx/events.c); an injected NMI blocks (virtual) NMIs first (26.5.1.1). */
void entry_inject_event(struct cpu *c)
{
	uint32_t info = (uint32_t)vmcs_read(c, VF_ENTRY_INTR_INFO);
	if (!(info & INTR_INFO_VALID))
		return;
	enum vmx_intr_type type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	if (type == INTR_TYPE_OTHER)
		return;         /* 26.5.2: a pending MTF VM exit, no delivery (vmx/pending.c) */
	enum int_kind kind = injected_kind(type);
	bool soft = kind == INT_SOFTWARE || kind == INT_SOFT_EXCEPTION || kind == INT_PRIV_SOFTWARE;
	c->next_rip = c->rip + (soft ? vmcs_read(c, VF_ENTRY_INSTRUCTION_LEN) : 0);
	c->sti_shadow = c->mov_ss_shadow = false;
	if (type == INTR_TYPE_NMI && (vmcs_read(c, VF_PIN_CONTROLS) & PIN_VIRTUAL_NMIS))
		c->vmx.vnmi_blocked = true;
	else if (type == INTR_TYPE_NMI)
		c->nmi_blocked = true;
	struct probe_event pe = { .kind = PROBE_INJECT, .aux = info, .code = info & INTR_INFO_VECTOR_MASK,
				  .has_error = info & INTR_INFO_HAS_ERROR,
				  .error = (uint32_t)vmcs_read(c, VF_ENTRY_EXCEPTION_ERROR_CODE), .rip = c->rip };
	cpu_probe_emit(c, &pe);
	vmx_tracef(c, "VM entry injects vector %u type %u%s", info & INTR_INFO_VECTOR_MASK, (unsigned)type,
		   (info & INTR_INFO_HAS_ERROR) ? " with error code" : "");
	c->delivering = 1;
	enum exec_status st = cpu_interrupt(c, info & INTR_INFO_VECTOR_MASK, kind, info & INTR_INFO_HAS_ERROR,
					    (uint32_t)vmcs_read(c, VF_ENTRY_EXCEPTION_ERROR_CODE),
					    soft ? (unsigned)vmcs_read(c, VF_ENTRY_INSTRUCTION_LEN) : 0);
	c->delivering = 0;
	if (st != EXEC_OK)
		cpu_deliver_exception(c);       /* in non-root the triple fault is a VM exit: never false */
	c->next_rip = c->rip;
}
