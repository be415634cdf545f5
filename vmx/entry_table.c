/* The VM-entry check table and the runner (vmx/entry.h). */
#include "vmx/entry.h"
#include "vmx/entry_memo.h"

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

/* The rows of each phase are consecutive and the phases in enum order
 * (checked below row by row): the runner visits only its phase's rows,
 * which every VM entry runs. */
#define CHECK(i, ph, sec, out, fld, rl) + (PHASE_##ph == CUR_PHASE)
enum {
#define CUR_PHASE PHASE_BASIC
	ROWS_BASIC = 0
#include "vmx/entry_checks.def"
	,
#undef CUR_PHASE
#define CUR_PHASE PHASE_CONTROLS
	ROWS_CONTROLS = 0
#include "vmx/entry_checks.def"
	,
#undef CUR_PHASE
#define CUR_PHASE PHASE_HOST
	ROWS_HOST = 0
#include "vmx/entry_checks.def"
	,
#undef CUR_PHASE
#define CUR_PHASE PHASE_GUEST
	ROWS_GUEST = 0
#include "vmx/entry_checks.def"
#undef CUR_PHASE
};
#undef CHECK

static const int phase_first[] = {
	[PHASE_BASIC] = 0,
	[PHASE_CONTROLS] = ROWS_BASIC,
	[PHASE_HOST] = ROWS_BASIC + ROWS_CONTROLS,
	[PHASE_GUEST] = ROWS_BASIC + ROWS_CONTROLS + ROWS_HOST,
	[PHASE_MSR_LOAD] = ROWS_BASIC + ROWS_CONTROLS + ROWS_HOST + ROWS_GUEST,
};
#define PHASE_FIRST(p) ((p) == PHASE_BASIC ? 0 : (p) == PHASE_CONTROLS ? ROWS_BASIC :                   \
			(p) == PHASE_HOST ? ROWS_BASIC + ROWS_CONTROLS :                                 \
			(p) == PHASE_GUEST ? ROWS_BASIC + ROWS_CONTROLS + ROWS_HOST :                    \
			ROWS_BASIC + ROWS_CONTROLS + ROWS_HOST + ROWS_GUEST)
#define PHASE_END(p) ((p) == PHASE_MSR_LOAD ? ENTRY_CHECK_COUNT : PHASE_FIRST((p) + 1))
#define CHECK(i, ph, sec, out, fld, rl)                                                              \
	_Static_assert(ENTRY_CHECK_##i >= PHASE_FIRST(PHASE_##ph) && ENTRY_CHECK_##i < PHASE_END(PHASE_##ph), \
		       #i ": the rows of a phase must be consecutive, phases in enum order");
#include "vmx/entry_checks.def"
#undef CHECK

/* Run check i; false when it fails (its verdict recorded). */
static bool run_check(struct entry_ctx *e, int i)
{
	e->actual = e->expected = 0;
	e->field = -1;
	e->index = 0;
	if (check_fn[i](e))
		return true;
	int field = e->field >= 0 ? e->field : entry_checks[i].field;
	e->c->vmx.verdict = (struct vmx_verdict){
		.check = i,
		.field = field >= 0 ? vmcs_fields[field].enc : UINT32_MAX,
		.actual = e->actual,
		.expected = e->expected,
		.index = e->index,
	};
	return false;
}

static int phase_end(enum entry_phase p)
{
	return p == PHASE_MSR_LOAD ? ENTRY_CHECK_COUNT : phase_first[p + 1];
}

int entry_run_phase(struct entry_ctx *e, enum entry_phase p)
{
	for (int i = phase_first[p]; i < phase_end(p); i++)
		if (!run_check(e, i))
			return i;
	return -1;
}

int entry_run_phase_memo(struct entry_ctx *e, enum entry_phase p, struct vmx_entry_memo *m)
{
	int first = phase_first[p], end = phase_end(p);
	for (int i = entry_memo_next(m, first, end); i < end; i = entry_memo_next(m, i + 1, end)) {
		e->deps = entry_memo_record(m, i);
		e->impure = false;
		bool ok = run_check(e, i);
		e->deps = NULL;
		entry_memo_recorded(m, i, e->impure);
		if (!ok)
			return i;
	}
	return -1;
}
