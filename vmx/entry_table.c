/* The VM-entry check table and the runner (vmx/entry.h). */
#include "vmx/entry.h"

#define FAULT_GP { OUTCOME_FAULT, VEC_GP, 0 }
#define FAULT_UD { OUTCOME_FAULT, VEC_UD, 0 }
#define FAIL_INVALID { OUTCOME_FAIL_INVALID, 0, 0 }
#define FAIL_VALID(n) { OUTCOME_FAIL_VALID, (n), 0 }
#define FAIL_EXIT(r, q) { OUTCOME_FAIL_EXIT, (r), (q) }
#define VF_NONE (-1)

const struct entry_check entry_checks[ENTRY_CHECK_COUNT] = {
#define CHECK(i, ph, sec, out, fld, rl) [ENTRY_CHECK_##i] = { #i, sec, PHASE_##ph, out, VF_##fld, rl },
#include "vmx/entry_checks.def"
#undef CHECK
};

static bool (*const check_fn[ENTRY_CHECK_COUNT])(struct entry_ctx *) = {
#define CHECK(i, ph, sec, out, fld, rl) [ENTRY_CHECK_##i] = chk_##i,
#include "vmx/entry_checks.def"
#undef CHECK
};

int entry_run_phase(struct entry_ctx *e, enum entry_phase p)
{
	for (int i = 0; i < ENTRY_CHECK_COUNT; i++) {
		if (entry_checks[i].phase != p)
			continue;
		e->actual = e->expected = 0;
		e->field = -1;
		e->index = 0;
		if (check_fn[i](e))
			continue;
		int field = e->field >= 0 ? e->field : entry_checks[i].field;
		e->c->vmx.verdict = (struct vmx_verdict){
			.check = i,
			.field = field >= 0 ? vmcs_fields[field].enc : UINT32_MAX,
			.actual = e->actual,
			.expected = e->expected,
			.index = e->index,
		};
		return i;
	}
	return -1;
}
