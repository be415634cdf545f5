/* VM exits (SDM vol. 3C chapter 27): record the exit information (27.2),
 * save guest state (27.3) and MSRs (27.4), load host state (27.5) and MSRs
 * (27.6); a failure on the way is a VMX abort (27.7). The VM-entry
 * failures of 26.7 come through here too: they record only the exit
 * reason and qualification and load host state without saving the guest. */
#include "vmx/exit.h"

#include "cpu/debug.h"
#include "cpu/model.h"
#include "cpu/msr.h"
#include "cpu/probe.h"
#include "cpu/seg.h"
#include "vmx/caps.h"
#include "vmx/ept.h"
#include "vmx/misuse.h"
#include "vmx/trace.h"
#include "vmx/vmcs.h"
#include "vmx/vpid.h"

/* Rows of one segment register are consecutive in every field group of
 * vmx/vmcs_fields.def, in the order ES, CS, SS, DS, FS, GS (= enum seg_reg). */
_Static_assert(VF_GUEST_GS_SELECTOR - VF_GUEST_ES_SELECTOR == SEG_GS, "guest selector rows");
_Static_assert(VF_GUEST_GS_LIMIT - VF_GUEST_ES_LIMIT == SEG_GS, "guest limit rows");
_Static_assert(VF_GUEST_GS_AR - VF_GUEST_ES_AR == SEG_GS, "guest AR rows");
_Static_assert(VF_GUEST_GS_BASE - VF_GUEST_ES_BASE == SEG_GS, "guest base rows");
_Static_assert(VF_HOST_GS_SELECTOR - VF_HOST_ES_SELECTOR == SEG_GS, "host selector rows");

/* ---- 27.2 exit information ---- */

static void record_exit_info(struct cpu *c, const struct vmx_exit_info *x)
{
	vmcs_write(c, VF_EXIT_REASON, x->reason);
	vmcs_write(c, VF_EXIT_QUALIFICATION, x->qual);
	if (x->reason & EXIT_REASON_ENTRY_FAILURE)
		return;         /* 26.7 step 1: all other exit-information fields unmodified */
	if (x->has_linear)
		vmcs_write(c, VF_GUEST_LINEAR_ADDR, x->guest_linear);
	if (x->has_phys)
		vmcs_write(c, VF_GUEST_PHYS_ADDR, x->guest_phys);
	/* 27.2.2: the valid bit is 0 unless the exit is due to an event. */
	vmcs_write(c, VF_EXIT_INTR_INFO, x->has_intr ? x->intr_info : 0);
	if (x->has_intr && (x->intr_info & INTR_INFO_HAS_ERROR))
		vmcs_write(c, VF_EXIT_INTR_ERROR_CODE, x->intr_error);
	/* 27.2.3: valid only for an exit during event delivery (vmx/events.c). */
	vmcs_write(c, VF_IDT_VECTORING_INFO, x->idt_info);
	if (x->idt_info & INTR_INFO_HAS_ERROR)
		vmcs_write(c, VF_IDT_VECTORING_ERROR_CODE, x->idt_error);
	if (x->has_insn)
		vmcs_write(c, VF_EXIT_INSTRUCTION_LEN, x->insn_len);
	if (x->has_insn_info)
		vmcs_write(c, VF_EXIT_INSTRUCTION_INFO, x->insn_info);
	/* 27.2.3 (end): every VM exit clears the valid bit of the VM-entry
	 * interruption-information field. */
	vmcs_write(c, VF_ENTRY_INTR_INFO, vmcs_read(c, VF_ENTRY_INTR_INFO) & ~(uint64_t)INTR_INFO_VALID);
	/* 27.2 (end), A.6: with IA32_VMX_MISC[5] = 1 (every model with
	 * "unrestricted guest") the exit stores IA32_EFER.LMA into the
	 * "IA-32e mode guest" VM-entry control, so a guest that entered or
	 * left IA-32e mode by itself is resumed in the mode it is in. */
	if (c->model->vmx.misc & VMX_MISC_STORE_LMA) {
		uint64_t entc = vmcs_read(c, VF_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_GUEST;
		vmcs_write(c, VF_ENTRY_CONTROLS, entc | (cpu_lma(c) ? ENTRY_IA32E_GUEST : 0));
	}
}

/* ---- 27.3 saving guest state ---- */

static void save_segment(struct cpu *c, uint8_t *h, unsigned k, const struct segment *s)
{
	vmcs_put(c, h, VF_GUEST_ES_SELECTOR + k, s->sel);
	vmcs_put(c, h, VF_GUEST_ES_BASE + k, s->base);
	vmcs_put(c, h, VF_GUEST_ES_LIMIT + k, s->limit);
	vmcs_put(c, h, VF_GUEST_ES_AR + k, s->ar);
}

/* 27.3.4: with "virtual NMIs" bit 3 is virtual-NMI blocking. */
static uint32_t interruptibility(struct cpu *c)
{
	bool nmi = (vmcs_read(c, VF_PIN_CONTROLS) & PIN_VIRTUAL_NMIS) ? c->vmx.vnmi_blocked : c->nmi_blocked;
	return (c->sti_shadow ? INTR_BLOCK_STI : 0) | (c->mov_ss_shadow ? INTR_BLOCK_MOV_SS : 0) |
	       (nmi ? INTR_BLOCK_NMI : 0);
}

static enum vmx_activity activity(const struct cpu *c)
{
	if (c->shutdown)
		return ACTIVITY_SHUTDOWN;
	if (c->wait_sipi)
		return ACTIVITY_WAIT_SIPI;
	return c->halted ? ACTIVITY_HLT : ACTIVITY_ACTIVE;
}

/* 27.3.1 control registers, debug registers ("save debug controls": DR7
 * and IA32_DEBUGCTL), MSRs. */
static void save_guest_regs(struct cpu *c, uint8_t *h, uint32_t exitc)
{
	vmcs_put(c, h, VF_GUEST_CR0, c->cr0);
	vmcs_put(c, h, VF_GUEST_CR3, c->cr3);
	vmcs_put(c, h, VF_GUEST_CR4, c->cr4);
	if (exitc & EXIT_SAVE_DEBUG_CTLS) {
		vmcs_put(c, h, VF_GUEST_DR7, c->dr[7]);
		vmcs_put(c, h, VF_GUEST_IA32_DEBUGCTL, c->msr.debugctl);
	}
	vmcs_put(c, h, VF_GUEST_IA32_SYSENTER_CS, (uint32_t)c->msr.sysenter_cs);
	vmcs_put(c, h, VF_GUEST_IA32_SYSENTER_ESP, c->msr.sysenter_esp);
	vmcs_put(c, h, VF_GUEST_IA32_SYSENTER_EIP, c->msr.sysenter_eip);
	if (exitc & EXIT_SAVE_PAT)
		vmcs_put(c, h, VF_GUEST_IA32_PAT, c->msr.pat);
	if (exitc & EXIT_SAVE_EFER)
		vmcs_put(c, h, VF_GUEST_IA32_EFER, c->efer);
	/* Saved whenever the model supports "load IA32_BNDCFGS" or "clear
	 * IA32_BNDCFGS", whatever the controls say. */
	if (vmcs_field_exists(c, VF_GUEST_IA32_BNDCFGS))
		vmcs_put(c, h, VF_GUEST_IA32_BNDCFGS, c->msr.bndcfgs);
}

/* 27.3.4: the pending debug exceptions field is saved as clear for every
 * VM exit but those caused by INIT, a machine check or an SMI, those with
 * basic reason "TPR below threshold" or "monitor trap flag", and those not
 * caused by a debug exception that occur while MOV-SS blocking holds debug
 * exceptions back. For these the pending causes are saved: B3:B0, bit 12
 * (enabled breakpoint) and BS as they stand, the reserved bits cleared. */
static uint64_t saved_pending_dbg(const struct cpu *c, uint32_t reason, uint32_t intr_info)
{
	bool debug_exception = reason == EXIT_REASON_EXCEPTION_NMI && (intr_info & INTR_INFO_VALID) &&
			       (intr_info & INTR_INFO_VECTOR_MASK) == VEC_DB &&
			       ((intr_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) == INTR_TYPE_HW_EXCEPTION;
	bool machine_check = reason == EXIT_REASON_EXCEPTION_NMI && (intr_info & INTR_INFO_VALID) &&
			     (intr_info & INTR_INFO_VECTOR_MASK) == VEC_MC;
	bool keep = reason == EXIT_REASON_INIT || reason == EXIT_REASON_IO_SMI || reason == EXIT_REASON_OTHER_SMI ||
		    reason == EXIT_REASON_TPR_BELOW_THRESHOLD || reason == EXIT_REASON_MTF || machine_check ||
		    (c->mov_ss_shadow && !debug_exception);
	return keep ? c->pending_dbg & PENDING_DBG_DEFINED : 0;
}

/* 27.3.4 (end): with "enable EPT" and PAE paging in the guest the PDPTEs
 * are saved; otherwise the SDM leaves the four fields undefined and vtxsim
 * leaves them unchanged. */
static void save_guest_pdptes(struct cpu *c, uint8_t *h)
{
	if (!(c->cr0 & CR0_PG) || !(c->cr4 & CR4_PAE) || (c->efer & EFER_LMA) ||
	    !(vmcs_get(c, h, VF_PROC_CONTROLS) & PROC_SECONDARY_CTLS) || !(vmcs_get(c, h, VF_PROC2_CONTROLS) & PROC2_EPT))
		return;
	for (unsigned k = 0; k < 4; k++)
		vmcs_put(c, h, VF_GUEST_PDPTE0 + k, c->pdpte[k]);
}

/* 27.3.2 segments and descriptor tables (the CPU keeps the VMCS access-
 * rights layout, unusable bit included), 27.3.3 RIP/RSP/RFLAGS, 27.3.4
 * non-register state. */
static void save_guest_state(struct cpu *c, const struct vmx_exit_info *x, uint64_t rip)
{
	uint8_t *h = vmcs_burst(c);
	save_guest_regs(c, h, (uint32_t)vmcs_get(c, h, VF_EXIT_CONTROLS));
	for (unsigned k = SEG_ES; k <= SEG_GS; k++)
		save_segment(c, h, k, &c->seg[k]);
	save_segment(c, h, VF_GUEST_LDTR_SELECTOR - VF_GUEST_ES_SELECTOR, &c->ldtr);
	save_segment(c, h, VF_GUEST_TR_SELECTOR - VF_GUEST_ES_SELECTOR, &c->tr);
	vmcs_put(c, h, VF_GUEST_GDTR_BASE, c->gdtr.base);
	vmcs_put(c, h, VF_GUEST_GDTR_LIMIT, c->gdtr.limit);
	vmcs_put(c, h, VF_GUEST_IDTR_BASE, c->idtr.base);
	vmcs_put(c, h, VF_GUEST_IDTR_LIMIT, c->idtr.limit);
	vmcs_put(c, h, VF_GUEST_RIP, rip);
	vmcs_put(c, h, VF_GUEST_RSP, c->gpr[R_SP]);
	vmcs_put(c, h, VF_GUEST_RFLAGS, cpu_get_rflags(c));
	vmcs_put(c, h, VF_GUEST_INTERRUPTIBILITY, interruptibility(c));
	vmcs_put(c, h, VF_GUEST_PENDING_DBG_EXCEPTIONS,
		   saved_pending_dbg(c, x->reason & 0xffff, x->has_intr ? x->intr_info : 0));
	vmcs_put(c, h, VF_GUEST_ACTIVITY_STATE, activity(c));
	save_guest_pdptes(c, h);
}

/* ---- 27.4 the VM-exit MSR-store area ---- */

/* 27.4: an entry fails for IA32_SMBASE (9EH), the x2APIC range (bits 31:8
 * = 8), an MSR RDMSR cannot read, or bits 63:32 not 0. */
static bool store_guest_msrs(struct cpu *c)
{
	uint32_t count = (uint32_t)vmcs_read(c, VF_EXIT_MSR_STORE_COUNT);
	uint64_t pa = vmcs_read(c, VF_EXIT_MSR_STORE_ADDR), v;
	if (!vmx_msr_count_ok(c, count, "VM-exit MSR-store"))
		return false;
	for (uint32_t n = 0; n < count; n++, pa += 16) {
		uint32_t msr = (uint32_t)phys_read(c->phys, pa, 4);
		if (phys_read(c->phys, pa + 4, 4) != 0 || msr == 0x9e || (msr >> 8) == 8 ||
		    !cpu_msr_read(c, msr, &v))
			return false;
		phys_write_unwatched(c->phys, pa + 8, v, 8);     /* the processor's store, not the guest's */
	}
	return true;
}

/* ---- 27.5 loading host state ---- */

/* CR0 bits no VM entry or exit modifies: ET, reserved 15:6, 17, 28:19, NW
 * and CD (26.3.2.1, 27.5.1). */
#define CR0_KEEP (CR0_ET | 0xffc0ull | (1ull << 17) | 0x1ff80000ull | CR0_NW | CR0_CD)

uint64_t vmx_cr0_merge(uint64_t old, uint64_t field)
{
	return (old & CR0_KEEP) | (field & ~CR0_KEEP);
}

/* 27.5.1: CR0/CR3/CR4, DR7 = 400H, IA32_DEBUGCTL cleared, the SYSENTER
 * MSRs, and IA32_PERF_GLOBAL_CTRL / IA32_PAT / IA32_EFER under their
 * "load" controls (EFER.LMA/LME = "host address-space size" otherwise). */
static void load_host_regs(struct cpu *c, const uint8_t *h, uint32_t exitc, bool host64)
{
	c->cr0 = vmx_cr0_merge(c->cr0, vmcs_get(c, h, VF_HOST_CR0));
	c->cr3 = vmcs_get(c, h, VF_HOST_CR3);
	c->cr4 = vmcs_get(c, h, VF_HOST_CR4);
	if (host64)
		c->cr4 |= CR4_PAE;
	else
		c->cr4 &= ~CR4_PCIDE;
	c->dr[7] = DR7_FIXED1;
	c->msr.debugctl = 0;
	c->msr.sysenter_cs = (uint32_t)vmcs_get(c, h, VF_HOST_IA32_SYSENTER_CS);
	c->msr.sysenter_esp = vmcs_get(c, h, VF_HOST_IA32_SYSENTER_ESP);
	c->msr.sysenter_eip = vmcs_get(c, h, VF_HOST_IA32_SYSENTER_EIP);
	if (exitc & EXIT_LOAD_PERF_GLOBAL)
		c->msr.perf_global_ctrl = vmcs_get(c, h, VF_HOST_IA32_PERF_GLOBAL_CTRL);
	if (exitc & EXIT_LOAD_PAT)
		c->msr.pat = vmcs_get(c, h, VF_HOST_IA32_PAT);
	if (exitc & EXIT_LOAD_EFER)
		c->efer = vmcs_get(c, h, VF_HOST_IA32_EFER);
	else
		c->efer = (c->efer & ~(EFER_LMA | EFER_LME)) | (host64 ? EFER_LMA | EFER_LME : 0);
}

/* 27.5.2: fixed attributes; a zero selector makes a data segment unusable. */
static void load_host_segments(struct cpu *c, const uint8_t *h, bool host64)
{
	for (unsigned k = SEG_ES; k <= SEG_GS; k++) {
		struct segment *s = &c->seg[k];
		s->sel = (uint16_t)vmcs_get(c, h, VF_HOST_ES_SELECTOR + k);
		s->limit = 0xffffffffu;
		s->base = 0;
		if (k == SEG_CS) {
			s->ar = 11 | AR_S | AR_P | AR_G | (host64 ? AR_L : AR_DB);
			continue;
		}
		s->ar = 3 | AR_S | AR_P | AR_DB | AR_G | (s->sel == 0 ? AR_UNUSABLE : 0);
	}
	c->seg[SEG_FS].base = vmcs_get(c, h, VF_HOST_FS_BASE);
	c->seg[SEG_GS].base = vmcs_get(c, h, VF_HOST_GS_BASE);
	c->tr = (struct segment){ .sel = (uint16_t)vmcs_get(c, h, VF_HOST_TR_SELECTOR),
				  .base = vmcs_get(c, h, VF_HOST_TR_BASE), .limit = 0x67, .ar = SYS_TSS_BUSY | AR_P };
	c->ldtr = (struct segment){ .ar = AR_UNUSABLE };
	c->gdtr = (struct dtable){ .base = vmcs_get(c, h, VF_HOST_GDTR_BASE), .limit = 0xffff };
	c->idtr = (struct dtable){ .base = vmcs_get(c, h, VF_HOST_IDTR_BASE), .limit = 0xffff };
	c->cpl = 0;
}

/* 27.5.3-27.5.5; false when the host PDPTEs are bad (27.5.4: VMX abort 2). */
static bool load_host_state(struct cpu *c)
{
	const uint8_t *h = vmcs_burst(c);
	uint32_t exitc = (uint32_t)vmcs_get(c, h, VF_EXIT_CONTROLS);
	bool host64 = exitc & EXIT_HOST_ADDR_SPACE;
	load_host_regs(c, h, exitc, host64);
	load_host_segments(c, h, host64);
	c->gpr[R_SP] = vmcs_get(c, h, VF_HOST_RSP);
	c->rip = c->next_rip = vmcs_get(c, h, VF_HOST_RIP);
	cpu_set_rflags(c, FL_FIXED1);
	c->sti_shadow = c->mov_ss_shadow = false;
	c->halted = c->wait_sipi = false;
	c->pending_dbg = 0;
	if (!host64 && (c->cr0 & CR0_PG) && (c->cr4 & CR4_PAE) &&
	    !paging_load_pdptes(c->phys, c->cr3, c->xc.maxphyaddr, c->pdpte))
		return false;
	vmx_tlb_exit(c, h);             /* 28.3.3.1: no VPID, every exit flushes VPID 0000H */
	return true;
}

/* ---- 27.6 the VM-exit MSR-load area ---- */

static bool load_host_msrs(struct cpu *c)
{
	uint32_t count = (uint32_t)vmcs_read(c, VF_EXIT_MSR_LOAD_COUNT);
	uint64_t pa = vmcs_read(c, VF_EXIT_MSR_LOAD_ADDR);
	if (!vmx_msr_count_ok(c, count, "VM-exit MSR-load"))
		return false;
	for (uint32_t n = 0; n < count; n++, pa += 16) {
		uint32_t msr = (uint32_t)phys_read(c->phys, pa, 4);
		if (msr == MSR_IA32_FS_BASE || msr == MSR_IA32_GS_BASE || (msr >> 8) == 8 || msr == 0x9b ||
		    phys_read(c->phys, pa + 4, 4) != 0 || !cpu_msr_write(c, msr, phys_read(c->phys, pa + 8, 8)))
			return false;
	}
	if (count)
		cpu_mode_changed(c);
	return true;
}

/* The recommended maximum of 24.7.2/24.8.2: 512 * (IA32_VMX_MISC[27:25] + 1).
 * Beyond it the SDM says the processor may machine-check; vtxsim refuses
 * (so an absurd count never keeps the host busy) and warns. */
bool vmx_msr_count_ok(struct cpu *c, uint32_t count, const char *area)
{
	uint32_t max = 512u * ((uint32_t)((c->model->vmx.misc >> 25) & 7) + 1);
	if (count <= max)
		return true;
	vmx_misuse(c, VMX_MISUSE_MSR_COUNT_TOO_LARGE, "%s count %u exceeds %u on cpu%d: treated as a machine check",
		   area, count, max, c->id);
	return false;
}

/* ---- 27.7 VMX abort ---- */

const char *vmx_abort_text(uint32_t a)
{
	switch ((enum vmx_abort_indicator)a) {
#define X(n, id, text) case VMX_ABORT_##id: return text;
	VMX_ABORT_TABLE(X)
#undef X
	}
	return "?";
}

const char *vmx_exit_reason_id(uint32_t basic)
{
	switch (basic) {
#define X(n, id, text) case n: return #id;
	EXIT_REASON_TABLE(X)
#undef X
	}
	return NULL;
}

const char *vmx_exit_reason_text(uint32_t basic)
{
	switch (basic) {
#define X(n, id, text) case n: return text;
	EXIT_REASON_TABLE(X)
#undef X
	}
	return NULL;
}

const char *vmx_insn_error_text(uint32_t n)
{
	switch (n) {
#define X(num, id, text) case num: return text;
	VM_INSN_ERROR_TABLE(X)
#undef X
	}
	return NULL;
}

void vmx_abort(struct cpu *c, enum vmx_abort_indicator a)
{
	/* The processor's own write into the VMCS it watches (vmx/watch.h). */
	phys_write_unwatched(c->phys, c->vmx.vmcs_ptr + VMCS_OFF_ABORT, (uint32_t)a, 4);
	cpu_warn(c, "VMX abort %d (SDM 27.7): %s; VMCS at %#llx; the processor is in shutdown", (int)a,
		 vmx_abort_text(a), (unsigned long long)c->vmx.vmcs_ptr);
	vmx_tracef(c, "VMX abort %d: %s", (int)a, vmx_abort_text(a));
	c->vmx.nonroot = false;
	vmx_ept_leave(&c->vmx);
	c->vmx.abort = (uint32_t)a;
	c->shutdown = true;
	cpu_end_block(c);
	struct probe_event pe = { .kind = PROBE_SHUTDOWN, .code = VEC_NONE, .rip = c->rip };
	cpu_probe_emit(c, &pe);
}

void vmx_vmexit(struct cpu *c, const struct vmx_exit_info *x)
{
	bool failure = x->reason & EXIT_REASON_ENTRY_FAILURE;
	uint64_t guest_rip = x->has_insn ? c->next_rip - x->insn_len : c->rip;
	c->vmx.transitions++;
	cpu_end_block(c);
	/* An exit ends any event delivery in progress (vmx/events.c). */
	c->vmx.vectoring.info = 0;
	c->vmx.iret_unblocked_nmi = false;
	vmx_pending_exit(c, !failure);  /* 27.3.4 the preemption timer's value (vmx/pending.c) */
	vmx_apicv_exit(c);              /* the APIC-access page hook (vmx/apicv.c) */
	c->monitor_armed = false;       /* 27.5.6: VM exits clear address-range monitoring */
	record_exit_info(c, x);
	if (!failure) {
		/* 27.7 abort 6: IA-32e mode guest, 32-bit host. */
		if (cpu_lma(c) && !(vmcs_read(c, VF_EXIT_CONTROLS) & EXIT_HOST_ADDR_SPACE))
			return vmx_abort(c, VMX_ABORT_HOST_ADDR_SPACE);
		save_guest_state(c, x, guest_rip);
		if (!store_guest_msrs(c))
			return vmx_abort(c, VMX_ABORT_SAVE_GUEST_MSRS);
	}
	c->vmx.nonroot = false;
	vmx_ept_leave(&c->vmx);         /* the host translates without EPT (cpu_mode_changed in load_host_state) */
	if (!load_host_state(c))
		return vmx_abort(c, VMX_ABORT_HOST_PDPTE);
	if (!load_host_msrs(c))
		return vmx_abort(c, VMX_ABORT_LOAD_HOST_MSRS);
	vmx_trace_exit(c, x, guest_rip);
}

void vmx_exit_insn(struct cpu *c, enum vmx_exit_reason reason, unsigned insn_len)
{
	struct vmx_exit_info x = { .reason = reason, .insn_len = insn_len, .has_insn = true };
	vmx_vmexit(c, &x);
}
