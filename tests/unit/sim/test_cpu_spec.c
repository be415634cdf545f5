/* sim/cpu_spec.c and vmx/features.c: -cpu MODEL,+FLAG,-FLAG parsed into a
 * copy of the model row; what the flags offer reaches the capability MSRs
 * (SDM vol. 3C Appendix A); needs are brought and cascades withheld; the
 * model rows stay as they were; the machine's CPUs share the copy. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/msr.h"
#include "sim/cpu_spec.h"
#include "sim/machine.h"
#include "vmx/caps.h"
#include "vmx/features.h"

struct warnings {
	int n;
	char last[256];
};

static void collect(void *ctx, const char *line)
{
	struct warnings *w = ctx;
	w->n++;
	snprintf(w->last, sizeof(w->last), "%s", line);
}

static int spec(const char *s, struct cpu_model *m, struct warnings *w, char *err)
{
	if (w)
		*w = (struct warnings){ 0 };
	err[0] = 0;
	return cpu_spec_parse(s, m, w ? collect : NULL, w, err, 256);
}

static void test_plain_model(void)
{
	struct cpu_model m;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(spec("haswell", &m, NULL, err), 0);
	CU_ASSERT_EQUAL(memcmp(&m, cpu_model_find("haswell"), sizeof(m)), 0);
	CU_ASSERT_EQUAL(spec("core2,", &m, NULL, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty feature flag"));
	CU_ASSERT_EQUAL(spec("core2x", &m, NULL, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown CPU model 'core2x'"));
}

/* Each flag sets or clears exactly its bits; the rows stay const. */
static void test_offer_withhold(void)
{
	const struct cpu_model *row = cpu_model_find("icelake-server");
	struct cpu_model before = *row, m;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(spec("icelake-server,-vmx-ept-ad,+vmx-tertiary", &m, NULL, err), 0);
	CU_ASSERT_FALSE(m.vmx.ept_vpid_cap & VMX_EPT_AD_FLAGS);
	CU_ASSERT_EQUAL(m.vmx.ept_vpid_cap, row->vmx.ept_vpid_cap & ~VMX_EPT_AD_FLAGS);
	CU_ASSERT_EQUAL(m.vmx.proc_allowed1, row->vmx.proc_allowed1 | PROC_TERTIARY_CTLS);
	CU_ASSERT_EQUAL(m.vmx.proc2_allowed1, row->vmx.proc2_allowed1);
	CU_ASSERT_EQUAL(memcmp(row, &before, sizeof(before)), 0);
	/* last one wins for the same flag */
	CU_ASSERT_EQUAL_FATAL(spec("icelake-server,-vmx-ept-ad,+vmx-ept-ad", &m, NULL, err), 0);
	CU_ASSERT_EQUAL(memcmp(&m, row, sizeof(m)), 0);
	/* BASIC bits kept as bools */
	CU_ASSERT_EQUAL_FATAL(spec("icelake-server,-vmx-any-errcode,-vmx-ins-outs", &m, NULL, err), 0);
	CU_ASSERT_FALSE(m.vmx.no_errcode_check);
	CU_ASSERT_FALSE(m.vmx.ins_outs_info);
	CU_ASSERT_EQUAL_FATAL(spec("haswell,+vmx-any-errcode", &m, NULL, err), 0);
	CU_ASSERT_TRUE(m.vmx.no_errcode_check);
}

/* Offering brings what a feature needs (and what it brings); withholding
 * takes away what needs it. */
static void test_dependencies(void)
{
	struct cpu_model m;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(spec("core2,+vmx-spp", &m, NULL, err), 0);
	CU_ASSERT_TRUE(m.vmx.proc_allowed1 & PROC_SECONDARY_CTLS);
	CU_ASSERT_EQUAL(m.vmx.proc2_allowed1, PROC2_SPP | PROC2_EPT);
	CU_ASSERT_EQUAL(m.vmx.ept_vpid_cap, VMX_EPT_PWL4 | VMX_EPT_MEMTYPE_WB | VMX_EPT_2MB_PAGES | VMX_EPT_INVEPT |
					    VMX_EPT_INVEPT_SINGLE | VMX_EPT_INVEPT_ALL);
	CU_ASSERT_EQUAL_FATAL(spec("haswell,+vmx-pt-gpa", &m, NULL, err), 0);
	CU_ASSERT_TRUE(m.vmx.entry_allowed1 & ENTRY_LOAD_RTIT_CTL);
	CU_ASSERT_TRUE(m.vmx.exit_allowed1 & EXIT_CLEAR_RTIT_CTL);
	CU_ASSERT_EQUAL_FATAL(spec("haswell,+vmx-entry-load-bndcfgs", &m, NULL, err), 0);
	CU_ASSERT_TRUE(cpu_model_has(&m, FEAT_MPX));
	/* -vmx-ept: everything that needs EPT goes, the rest stays */
	const struct cpu_model *ice = cpu_model_find("icelake-server");
	CU_ASSERT_EQUAL_FATAL(spec("icelake-server,-vmx-ept", &m, NULL, err), 0);
	CU_ASSERT_EQUAL(m.vmx.proc2_allowed1 & (PROC2_EPT | PROC2_UNRESTRICTED | PROC2_PML | PROC2_EPT_VE | PROC2_MBEC), 0);
	CU_ASSERT_FALSE(m.vmx.ept_vpid_cap & (VMX_EPT_AD_FLAGS | VMX_EPT_PWL4 | VMX_EPT_PWL5));
	CU_ASSERT_EQUAL(m.vmx.vmfunc, 0);
	CU_ASSERT_TRUE(m.vmx.proc2_allowed1 & PROC2_VPID);
	CU_ASSERT_EQUAL(m.vmx.ept_vpid_cap & VMX_VPID_CAP_MASK, ice->vmx.ept_vpid_cap & VMX_VPID_CAP_MASK);
	/* withholding what EPT brings leaves EPT */
	CU_ASSERT_EQUAL_FATAL(spec("icelake-server,-vmx-ept-2mb", &m, NULL, err), 0);
	CU_ASSERT_TRUE(m.vmx.proc2_allowed1 & PROC2_EPT);
	CU_ASSERT_EQUAL_FATAL(spec("icelake-server,-vmx-preemption-timer", &m, NULL, err), 0);
	CU_ASSERT_FALSE(m.vmx.exit_allowed1 & EXIT_SAVE_PREEMPT_TIMER);
	/* an offered flag undone later is an error, whichever flag undid it */
	CU_ASSERT_EQUAL(spec("haswell,+vmx-spp,-vmx-secondary", &m, NULL, err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'+vmx-spp' is undone"));
	CU_ASSERT_EQUAL(spec("haswell,+vmx-spp,-vmx-spp", &m, NULL, err), 0);
}

/* One warning line per offered feature vtxsim models only partly, none for
 * modelled ones or ones the model already has. */
static void test_warnings(void)
{
	struct cpu_model m;
	struct warnings w;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(spec("haswell,+vmx-spp", &m, &w, err), 0);
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_STRING_EQUAL(w.last, "vmx-spp: VM-entry checks only; sub-page write permissions are not modelled");
	CU_ASSERT_EQUAL_FATAL(spec("haswell,+vmx-pt-gpa", &m, &w, err), 0);
	CU_ASSERT_EQUAL(w.n, 3);        /* PT-GPA and the two RTIT controls it brings */
	CU_ASSERT_EQUAL_FATAL(spec("haswell,+vmx-posted-intr,-vmx-ept-ad,+vmx-tertiary", &m, &w, err), 0);
	CU_ASSERT_EQUAL(w.n, 0);
	CU_ASSERT_EQUAL_FATAL(spec("haswell,+vmx-entry-load-bndcfgs", &m, &w, err), 0);
	CU_ASSERT_EQUAL(w.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.last, "mpx: IA32_BNDCFGS only"));
}

/* What the copy offers is what the capability MSRs report. */
static void test_capability_msrs(void)
{
	struct cpu_model m;
	struct cpu c;
	uint64_t v;
	char err[256];

	CU_ASSERT_EQUAL_FATAL(spec("haswell,+vmx-tertiary,+vmx-exit-secondary,+vmx-entry-load-bndcfgs", &m, NULL, err), 0);
	memset(&c, 0, sizeof(c));
	c.model = &m;
	CU_ASSERT_TRUE(vmx_cap_msr(&c, MSR_IA32_VMX_PROCBASED_CTLS3, &v));
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_TRUE(vmx_cap_msr(&c, MSR_IA32_VMX_EXIT_CTLS2, &v));
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_TRUE(vmx_cap_msr(&c, MSR_IA32_VMX_TRUE_ENTRY_CTLS, &v));
	CU_ASSERT_TRUE((v >> 32) & ENTRY_LOAD_BNDCFGS);
	/* IA32_BNDCFGS exists with MPX: reserved bits 11:2 and a non-canonical base #GP */
	c.model = cpu_model_find("haswell");
	CU_ASSERT_FALSE(cpu_msr_read(&c, MSR_IA32_BNDCFGS, &v));
	c.model = &m;
	CU_ASSERT_TRUE(cpu_msr_write(&c, MSR_IA32_BNDCFGS, 0x7fff0003ull << 12 | 3));
	CU_ASSERT_TRUE(cpu_msr_read(&c, MSR_IA32_BNDCFGS, &v));
	CU_ASSERT_EQUAL(v, 0x7fff0003ull << 12 | 3);
	CU_ASSERT_FALSE(cpu_msr_write(&c, MSR_IA32_BNDCFGS, 4));
	CU_ASSERT_FALSE(cpu_msr_write(&c, MSR_IA32_BNDCFGS, 1ull << 47));
}

/* The machine keeps its own copy; every CPU points at it. */
static void test_machine_copy(void)
{
	struct machine_config cfg;
	char err[256];

	machine_config_init(&cfg);
	cfg.smp = 2;
	cfg.serial = SERIAL_NONE;
	cfg.cpu_model = "haswell,+vmx-tertiary";
	struct machine *a = machine_create(&cfg, err, sizeof(err));
	cfg.cpu_model = "haswell";
	struct machine *b = machine_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_EQUAL(a->model, &a->model_row);
	CU_ASSERT_PTR_EQUAL(a->cpus[0].model, a->model);
	CU_ASSERT_PTR_EQUAL(a->cpus[1].model, a->model);
	CU_ASSERT_TRUE(vmx_allowed1(&a->cpus[1], VMX_CTL_PROC) & PROC_TERTIARY_CTLS);
	CU_ASSERT_FALSE(vmx_allowed1(&b->cpus[0], VMX_CTL_PROC) & PROC_TERTIARY_CTLS);
	CU_ASSERT_FALSE(cpu_model_find("haswell")->vmx.proc_allowed1 & PROC_TERTIARY_CTLS);
	machine_destroy(a);
	machine_destroy(b);
	cfg.cpu_model = "haswell,+vmx-nope";
	CU_ASSERT_PTR_NULL(machine_create(&cfg, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown feature 'vmx-nope'"));
}

/* The table: names unique, needs and brings name real rows. */
static void test_table(void)
{
	for (int f = 0; f < VMX_FEAT_COUNT; f++) {
		CU_ASSERT_EQUAL(vmx_feature_find(vmx_features[f].name), f);
		CU_ASSERT_NOT_EQUAL(vmx_features[f].bits, 0);
		CU_ASSERT_EQUAL((vmx_features[f].needs | vmx_features[f].brings) >> VMX_FEAT_COUNT, 0);
	}
	CU_ASSERT_EQUAL(vmx_feature_find("vmx-nope"), VMX_FEAT_NONE);
}

void suite_sim_cpu_spec(void)
{
	CU_pSuite s = CU_add_suite("sim_cpu_spec", NULL, NULL);

	CU_add_test(s, "a model without flags", test_plain_model);
	CU_add_test(s, "offer and withhold", test_offer_withhold);
	CU_add_test(s, "needs, brings, cascades", test_dependencies);
	CU_add_test(s, "warnings for partly modelled features", test_warnings);
	CU_add_test(s, "capability MSRs and IA32_BNDCFGS", test_capability_msrs);
	CU_add_test(s, "the machine's copy", test_machine_copy);
	CU_add_test(s, "the feature table", test_table);
}
