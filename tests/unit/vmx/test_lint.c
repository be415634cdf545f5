/* vmx/lint.c (`vmx lint`) and vmx/ctlbits.def: a valid VMCS lints clean;
 * one with three broken rows (a reserved pin-based control, host CR4
 * without VMXE, guest RFLAGS bit 1 clear) lists exactly those three, in
 * table order, with their values, and changes nothing (the verdict of the
 * last entry stays); every control bit a model can set has a name. */
#include <CUnit/CUnit.h>
#include <stdio.h>

#include "cpu/model.h"
#include "tests/unit/vmx/vmx_env.h"
#include "vmx/caps.h"
#include "vmx/ctlbits.h"
#include "vmx/lint.h"

static void test_lint_clean(void)
{
	struct vmx_env *v = env_create();
	struct vmx_lint_item out[8];
	CU_ASSERT_EQUAL(vmx_lint(&v->h->cpu, out, 8), 0);
	env_destroy(v);
}

static void test_lint_three(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	struct vmx_lint_item out[8];
	vmcs_write(c, VF_PIN_CONTROLS, PIN_BASE | (1u << 8));           /* 26.2.1.1: not allowed-1 */
	vmcs_write(c, VF_HOST_CR4, vmcs_read(c, VF_HOST_CR4) & ~CR4_VMXE); /* 26.2.2: CR4_FIXED0 */
	vmcs_write(c, VF_GUEST_RFLAGS, 0);                              /* 26.3.1.4: bit 1 must be 1 */
	c->vmx.verdict = (struct vmx_verdict){ .check = -1, .field = UINT32_MAX };
	uint8_t before[4096];
	for (unsigned i = 0; i < sizeof(before); i++)
		before[i] = (uint8_t)phys_read(c->phys, VMCS_PA + i, 1);
	int n = vmx_lint(c, out, 8);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_EQUAL(out[0].check, ENTRY_CHECK_CTL_PIN_RSVD);
	CU_ASSERT_EQUAL(out[0].field, vmcs_fields[VF_PIN_CONTROLS].enc);
	CU_ASSERT_EQUAL(out[0].actual, PIN_BASE | (1u << 8));
	CU_ASSERT_EQUAL(out[0].expected, PIN_BASE);
	CU_ASSERT_EQUAL(out[1].check, ENTRY_CHECK_HOST_CR4_FIXED);
	CU_ASSERT_EQUAL(out[1].expected & CR4_VMXE, CR4_VMXE);
	CU_ASSERT_EQUAL(out[2].check, ENTRY_CHECK_GUEST_RFLAGS_BIT1);
	CU_ASSERT_EQUAL(out[2].actual, 0);
	/* No side effects: the verdict and the VMCS region are as before. */
	CU_ASSERT_EQUAL(c->vmx.verdict.check, -1);
	for (unsigned i = 0; i < sizeof(before); i++)
		if (before[i] != (uint8_t)phys_read(c->phys, VMCS_PA + i, 1)) {
			CU_FAIL("lint wrote the VMCS region");
			break;
		}
	/* A short out array still counts every failing row. */
	CU_ASSERT_EQUAL(vmx_lint(c, out, 1), 3);
	env_destroy(v);
}

/* Every bit a model of cpu/models.def may set in a control word is named
 * by vmx/ctlbits.def. */
static void test_ctlbits_named(void)
{
	const uint64_t default1[] = {
		[CTLW_PIN] = VMX_PIN_DEFAULT1, [CTLW_PROC] = VMX_PROC_DEFAULT1,
		[CTLW_EXIT] = VMX_EXIT_DEFAULT1, [CTLW_ENTRY] = VMX_ENTRY_DEFAULT1,
	};
	const struct cpu_model *m;
	for (int k = 0; (m = cpu_model_at(k)) != NULL; k++) {
		const uint64_t allowed[] = {
			[CTLW_PIN] = m->vmx.pin_allowed1, [CTLW_PROC] = m->vmx.proc_allowed1,
			[CTLW_PROC2] = m->vmx.proc2_allowed1, [CTLW_PROC3] = m->vmx.proc3_allowed1,
			[CTLW_VMFUNC] = m->vmx.vmfunc, [CTLW_EXIT] = m->vmx.exit_allowed1,
			[CTLW_EXIT2] = m->vmx.exit2_allowed1, [CTLW_ENTRY] = m->vmx.entry_allowed1,
		};
		for (int w = CTLW_PIN; w <= CTLW_ENTRY; w++)
			for (unsigned b = 0; b < 64; b++) {
				/* Default1 bits (Appendix A.3-A.5) have no name of their own. */
				if (!(allowed[w] >> b & 1) || (default1[w] >> b & 1) || ctl_bit_name((enum ctl_word)w, b))
					continue;
				char msg[128];
				snprintf(msg, sizeof(msg), "model %s: word %d bit %u has no name", m->name, w, b);
				CU_FAIL(msg);
			}
	}
}

void suite_vmx_lint(void)
{
	CU_pSuite s = CU_add_suite("vmx_lint", NULL, NULL);
	CU_add_test(s, "a valid VMCS lints clean", test_lint_clean);
	CU_add_test(s, "three broken rows, in order, no side effects", test_lint_three);
	CU_add_test(s, "every settable control bit is named", test_ctlbits_named);
}
