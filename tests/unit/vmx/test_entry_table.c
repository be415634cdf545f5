/* vmx/entry_checks.def: the shape of the VM-entry check table itself. The
 * runner relies on rows being grouped by phase in the order the SDM runs
 * them, and users rely on ids being unique and every row naming its
 * section, rule and outcome. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "vmx/controls.h"
#include "vmx/entry.h"

static void test_phases_in_order(void)
{
	for (int i = 1; i < ENTRY_CHECK_COUNT; i++)
		if (entry_checks[i].phase < entry_checks[i - 1].phase)
			CU_FAIL_FATAL("a row of an earlier phase follows a later phase");
	CU_PASS("phases ordered");
}

static void test_ids_unique_and_described(void)
{
	for (int i = 0; i < ENTRY_CHECK_COUNT; i++) {
		const struct entry_check *k = &entry_checks[i];
		CU_ASSERT_PTR_NOT_NULL_FATAL(k->id);
		CU_ASSERT(k->rule && strlen(k->rule) > 10);
		/* Sections of chapter 26 (VM entries) in the numbering vmx/controls.h names. */
		CU_ASSERT(k->section && strncmp(k->section, "26.", 3) == 0);
		CU_ASSERT(k->field >= -1 && k->field < VF_COUNT);
		for (int j = 0; j < i; j++)
			CU_ASSERT(strcmp(k->id, entry_checks[j].id) != 0);
	}
}

/* Each phase produces the outcome class the SDM gives it: controls
 * VMfailValid(7), host state VMfailValid(8), guest state a VM-entry failure
 * with reason 33, MSR loading reason 34 (26.2, 26.3, 26.4). */
static void test_outcomes_match_phase(void)
{
	for (int i = 0; i < ENTRY_CHECK_COUNT; i++) {
		const struct entry_check *k = &entry_checks[i];
		switch (k->phase) {
		case PHASE_BASIC:
			CU_ASSERT(k->outcome.kind != OUTCOME_FAIL_EXIT);
			break;
		case PHASE_CONTROLS:
			CU_ASSERT(k->outcome.kind == OUTCOME_FAIL_VALID &&
				  k->outcome.number == VMERR_ENTRY_INVALID_CONTROL);
			break;
		case PHASE_HOST:
			CU_ASSERT(k->outcome.kind == OUTCOME_FAIL_VALID &&
				  k->outcome.number == VMERR_ENTRY_INVALID_HOST);
			break;
		case PHASE_GUEST:
			CU_ASSERT(k->outcome.kind == OUTCOME_FAIL_EXIT &&
				  k->outcome.number == EXIT_REASON_INVALID_GUEST_STATE);
			break;
		case PHASE_MSR_LOAD:
			CU_ASSERT(k->outcome.kind == OUTCOME_FAIL_EXIT &&
				  k->outcome.number == EXIT_REASON_MSR_LOADING);
			break;
		}
	}
}

void suite_vmx_entry_table(void)
{
	CU_pSuite s = CU_add_suite("vmx_entry_table", NULL, NULL);
	CU_add_test(s, "rows grouped by phase in the SDM's order", test_phases_in_order);
	CU_add_test(s, "ids unique; section, rule and field given", test_ids_unique_and_described);
	CU_add_test(s, "outcome classes match the phase", test_outcomes_match_phase);
}
