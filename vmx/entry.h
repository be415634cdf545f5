/* VM entry: the check table (vmx/entry_checks.def) and the context the
 * checks read. */
#ifndef VMX_ENTRY_H
#define VMX_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "vmx/vmcs.h"

enum entry_phase { PHASE_BASIC, PHASE_CONTROLS, PHASE_HOST, PHASE_GUEST, PHASE_MSR_LOAD };

enum entry_outcome_kind {
	OUTCOME_FAULT,          /* an exception (basic checks of 26.1 only): vector */
	OUTCOME_FAIL_INVALID,   /* VMfailInvalid */
	OUTCOME_FAIL_VALID,     /* VMfailValid(number) */
	OUTCOME_FAIL_EXIT,      /* VM-entry failure: exit reason number | 1 << 31, qualification */
};

struct entry_outcome {
	enum entry_outcome_kind kind;
	uint32_t number;        /* vector, VM-instruction error or exit reason */
	uint32_t qual;
};

enum entry_check_id {
#define CHECK(id, phase, sec, out, field, rule) ENTRY_CHECK_##id,
#include "vmx/entry_checks.def"
#undef CHECK
	ENTRY_CHECK_COUNT
};

struct entry_check {
	const char *id;         /* "GUEST_CS_AR_DPL" */
	const char *section;    /* "26.3.1.2" */
	enum entry_phase phase;
	struct entry_outcome outcome;
	int field;              /* enum vmcs_field, or -1 */
	const char *rule;
};

extern const struct entry_check entry_checks[ENTRY_CHECK_COUNT];

/* What the checks read: the CPU (and through it the current VMCS), and
 * what a failing check records for the verdict. */
struct entry_ctx {
	struct cpu *c;
	bool launch;            /* VMLAUNCH (else VMRESUME) */
	uint64_t insn_rip;      /* the VMLAUNCH/VMRESUME's own RIP (c->rip is stale in a block,
				 * and the guest's once guest state is loaded) */
	uint64_t actual, expected;
	int field;              /* overrides the row's field when >= 0 */
	uint32_t index;         /* MSR-load entry / segment, where it applies */
	/* PHASE_MSR_LOAD runs once per entry of the VM-entry MSR-load area
	 * (26.4): the loader fills these, then runs the phase; its last row
	 * (MSRLOAD_WRMSR_GP) writes the MSR as WRMSR would, so a phase that
	 * returns -1 has loaded the entry. */
	uint32_t msr_n;         /* 1-based index of the entry (the exit qualification of reason 34) */
	uint64_t msr_lo;        /* bits 63:0 of the entry: MSR index (31:0), reserved (63:32) */
	uint64_t msr_data;      /* bits 127:64: the value to load */
	/* While a check runs under vmx/entry_memo.c: the VMCS field rows it
	 * reads are or-ed into deps (rd() in vmx/entry_chk.h), and impure is
	 * set when it reads anything else that can change (memory, the
	 * processor's EFER). NULL / false otherwise. */
	uint64_t *deps;
	bool impure;
};

#define CHECK(id, phase, sec, out, field, rule) bool chk_##id(struct entry_ctx *e);
#include "vmx/entry_checks.def"
#undef CHECK

/* Run every check of phase p in table order; the first failing check's id,
 * or -1 when all hold. A failing check's verdict goes to c->vmx.verdict. */
int entry_run_phase(struct entry_ctx *e, enum entry_phase p);

/* The same, skipping the rows vmx/entry_memo.c knows pass (memo != NULL). */
struct vmx_entry_memo;
int entry_run_phase_memo(struct entry_ctx *e, enum entry_phase p, struct vmx_entry_memo *memo);

#endif
