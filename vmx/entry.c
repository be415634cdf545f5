/* VMLAUNCH and VMRESUME (SDM vol. 3C 30.3, chapter 26): the basic checks
 * (26.1), then the checks on controls (26.2.1, VMfailValid 7), host state
 * (26.2.2-26.2.4, VMfailValid 8) and guest state (26.3.1, VM-entry failure
 * with reason 33), then loading: guest state (26.3.2), MSRs (26.4, reason
 * 34 on failure), non-register state and event injection (26.5, 26.6). */
#include <assert.h>

#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "vmx/entry.h"
#include "vmx/entry_load.h"
#include "vmx/entry_memo.h"
#include "vmx/exit.h"
#include "vmx/insn.h"
#include "vmx/misuse.h"
#include "vmx/trace.h"

/* The outcome of a failed check of the basic, control or host phase. */
static enum exec_status fail_before_loading(struct cpu *c, const struct insn *i, int id)
{
	const struct entry_outcome *o = &entry_checks[id].outcome;
	vmx_trace_verdict(c, c->next_rip - i->len);
	switch (o->kind) {
	case OUTCOME_FAULT:
		return o->number == VEC_GP ? cpu_gp0(c) : cpu_ud(c);
	case OUTCOME_FAIL_INVALID:
		vmx_fail_invalid(c, i);
		return EXEC_OK;
	case OUTCOME_FAIL_VALID:
		vmx_fail_valid(c, i, o->number);
		return EXEC_OK;
	case OUTCOME_FAIL_EXIT:
		break;
	}
	assert(0 && "a VM-entry failure exit before guest-state checks");
	return EXEC_OK;
}

/* 26.7: the VM-entry failure exit after a guest-state check failed. */
static enum exec_status fail_guest_check(struct cpu *c, const struct entry_ctx *e, int id)
{
	const struct entry_outcome *o = &entry_checks[id].outcome;
	struct vmx_exit_info x = { .reason = o->number | EXIT_REASON_ENTRY_FAILURE, .qual = o->qual };
	vmx_trace_verdict(c, e->insn_rip);
	vmx_vmexit(c, &x);
	return EXEC_OK;
}

/* 26.1-26.3.1: false when the instruction ended here (*st says how). */
static bool entry_checks_pass(struct entry_ctx *e, const struct insn *i, enum exec_status *st)
{
	struct cpu *c = e->c;
	int id = entry_run_phase(e, PHASE_BASIC);
	*st = EXEC_OK;
	if (id >= 0 && entry_checks[id].outcome.kind == OUTCOME_FAULT && entry_checks[id].outcome.number == VEC_UD) {
		*st = fail_before_loading(c, i, id);
		return false;
	}
	if (c->vmx.nonroot) {   /* 25.1.2: VMLAUNCH/VMRESUME exit unconditionally */
		vmx_exit_insn(c, e->launch ? EXIT_REASON_VMLAUNCH : EXIT_REASON_VMRESUME, i->len);
		return false;
	}
	if (id >= 0) {
		*st = fail_before_loading(c, i, id);
		return false;
	}
	/* vmx/entry_memo.c: only the checks whose inputs changed run. */
	struct vmx_entry_memo *m = entry_memo_begin(c);
	id = entry_run_phase_memo(e, PHASE_CONTROLS, m);
	if (id < 0)
		id = entry_run_phase_memo(e, PHASE_HOST, m);
	if (id >= 0) {
		entry_memo_forget(c);
		*st = fail_before_loading(c, i, id);
		return false;
	}
	id = entry_run_phase_memo(e, PHASE_GUEST, m);
	if (id >= 0) {
		entry_memo_forget(c);
		*st = fail_guest_check(c, e, id);
		return false;
	}
	entry_memo_commit(c, m);
	return true;
}

static enum exec_status vm_entry(struct cpu *c, const struct insn *i, bool launch)
{
	struct entry_ctx e = { .c = c, .launch = launch, .insn_rip = c->next_rip - i->len };
	struct vmx_exit_info fail;
	enum exec_status st;
	c->vmx.verdict = (struct vmx_verdict){ .check = -1, .field = UINT32_MAX };
	if (!entry_checks_pass(&e, i, &st))
		return st;
	vmx_misuse_entry(c);    /* warnings only (24.11.4) */
	cpu_end_block(c);
	if (!entry_load_guest(c, &fail) || !entry_load_msrs(&e, &fail)) {
		vmx_vmexit(c, &fail);
		return EXEC_OK;
	}
	if (launch)
		vmx_set_current_launched(c, true);
	c->vmx.nonroot = true;
	c->vmx.transitions++;
	entry_load_nonregister(c);
	vmx_trace_entry(c, launch);
	vmx_pending_entry(c);   /* timer, MTF, windows (vmx/pending.c), before injection can exit */
	vmx_apicv_entry(c);     /* APIC-access page, virtual interrupts (vmx/apicv.c, 26.3.2.5) */
	entry_inject_event(c);
	vmx_tpr_check_after_entry(c);   /* 26.6.7 */
	return EXEC_OK;
}

enum exec_status op_vmlaunch(struct cpu *c, const struct insn *i)
{
	return vm_entry(c, i, true);
}

enum exec_status op_vmresume(struct cpu *c, const struct insn *i)
{
	return vm_entry(c, i, false);
}
