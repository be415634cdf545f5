/* vmx/caps.c and the VMX rules of cpu/: every capability MSR of every model
 * against the rules of SDM vol. 3C Appendix A, CPUID.1:ECX.VMX,
 * IA32_FEATURE_CONTROL (23.7), and the CR0/CR4 fixed bits in VMX operation
 * (23.8); a model without VMX (revision 0) and one with tertiary and
 * secondary VM-exit controls, built here. */
#include <CUnit/CUnit.h>

#include "cpu/cpuid.h"
#include "cpu/msr.h"
#include "tests/unit/cpu/sysenv.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"

#define EXEC(c, code) exec_insn((c), (code), sizeof(code))

static const uint8_t mov_cr0_rax[] = { 0x0f, 0x22, 0xc0 }, mov_cr4_rax[] = { 0x0f, 0x22, 0xe0 };
static const uint8_t clts[] = { 0x0f, 0x06 }, lmsw_ax[] = { 0x0f, 0x01, 0xf0 };

/* Bits no model offers: SGX, Intel PT, SPP, PCONFIG, HLAT and the other
 * tertiary controls, CET, MPX (models.def). */
#define PROC2_NEVER (PROC2_ENCLS_EXITING | PROC2_CONCEAL_FROM_PT | PROC2_SPP | PROC2_PT_USES_GPA | \
		     PROC2_ENCLV_EXITING | (1u << 27))
#define EXIT_NEVER (EXIT_CLEAR_BNDCFGS | EXIT_CONCEAL_FROM_PT | EXIT_CLEAR_RTIT_CTL | EXIT_LOAD_CET | EXIT_LOAD_PKRS)
#define ENTRY_NEVER (ENTRY_LOAD_BNDCFGS | ENTRY_CONCEAL_FROM_PT | ENTRY_LOAD_RTIT_CTL | ENTRY_LOAD_CET | \
		     ENTRY_LOAD_PKRS | (1u << 21) | (1u << 23))

/* RDMSR as the instruction would: false = #GP(0). */
static bool rd(struct cpu *c, uint32_t msr, uint64_t *v)
{
	*v = 0x5a5a5a5a5a5a5a5aull;
	return cpu_msr_read(c, msr, v);
}

static uint64_t must_rd(struct cpu *c, uint32_t msr)
{
	uint64_t v;
	CU_ASSERT_FATAL(rd(c, msr, &v));
	return v;
}

static uint32_t lo(uint64_t v) { return (uint32_t)v; }
static uint32_t hi(uint64_t v) { return (uint32_t)(v >> 32); }

/* A.1 */
static void check_basic(struct cpu *c)
{
	uint64_t b = must_rd(c, MSR_IA32_VMX_BASIC);
	CU_ASSERT_EQUAL(b & 0xffffffffull, c->model->vmx.revision);     /* bit 31 = 0 */
	CU_ASSERT_EQUAL((b >> 32) & 0x1fff, 4096);
	CU_ASSERT_FALSE(b & VMX_BASIC_PA32);
	CU_ASSERT_FALSE(b & VMX_BASIC_DUAL_MONITOR);
	CU_ASSERT_EQUAL((b >> 50) & 0xf, 6);
	CU_ASSERT_EQUAL(!!(b & VMX_BASIC_TRUE_CTLS), c->model->vmx.true_ctls);
	CU_ASSERT_EQUAL(!!(b & VMX_BASIC_INS_OUTS), c->model->vmx.ins_outs_info);
	CU_ASSERT_EQUAL(!!(b & VMX_BASIC_NO_ERRCODE_CHECK), c->model->vmx.no_errcode_check);
	CU_ASSERT_EQUAL(b & (0x7ull << 45 | ~0ull << 57), 0);                   /* reserved */
}

/* A.3.1, A.3.2, A.4.1, A.5: one pair of non-TRUE and TRUE MSRs. */
static void check_ctls_pair(struct cpu *c, uint32_t msr, uint32_t true_msr, uint32_t default1, enum vmx_ctl ctl)
{
	uint64_t v = must_rd(c, msr), t;
	bool has_true = c->model->vmx.true_ctls;

	CU_ASSERT_EQUAL(lo(v) & ~hi(v), 0);             /* allowed-0 (must be 1) within allowed-1 */
	CU_ASSERT_EQUAL(lo(v), default1);               /* the default1 class reads must-be-1 */
	CU_ASSERT_EQUAL(rd(c, true_msr, &t), has_true);
	if (has_true) {
		CU_ASSERT_EQUAL(lo(t) & ~lo(v), 0);     /* TRUE allowed-0 within the non-TRUE one */
		CU_ASSERT_EQUAL(lo(t) & ~hi(t), 0);
		CU_ASSERT_EQUAL(hi(t), hi(v));
		CU_ASSERT_EQUAL(vmx_must_be1(c, ctl), lo(t));
	} else {
		CU_ASSERT_EQUAL(vmx_must_be1(c, ctl), lo(v));
	}
	CU_ASSERT_EQUAL(vmx_allowed1(c, ctl), hi(v));
}

/* A.3.3, A.3.4, A.4.2, A.10, A.11: which of the gated MSRs exist. */
static void check_gated(struct cpu *c)
{
	uint32_t proc1 = hi(must_rd(c, MSR_IA32_VMX_PROCBASED_CTLS));
	uint32_t exit1 = hi(must_rd(c, MSR_IA32_VMX_EXIT_CTLS));
	uint64_t v, p2 = 0;

	CU_ASSERT_EQUAL(rd(c, MSR_IA32_VMX_PROCBASED_CTLS2, &p2), !!(proc1 & PROC_SECONDARY_CTLS));
	if (!(proc1 & PROC_SECONDARY_CTLS))
		p2 = 0;
	CU_ASSERT_EQUAL(lo(p2), 0);
	CU_ASSERT_EQUAL(vmx_allowed1(c, VMX_CTL_PROC2), hi(p2));
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_VMX_PROCBASED_CTLS3, &v), !!(proc1 & PROC_TERTIARY_CTLS));
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_VMX_EXIT_CTLS2, &v), !!(exit1 & EXIT_SECONDARY_CTLS));
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_VMX_VMFUNC, &v), !!(hi(p2) & PROC2_VMFUNC));
	bool ept = hi(p2) & PROC2_EPT, vpid = hi(p2) & PROC2_VPID;
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_VMX_EPT_VPID_CAP, &v), ept || vpid);
	if (ept || vpid) {
		CU_ASSERT(ept || (v & VMX_EPT_CAP_MASK) == 0);
		CU_ASSERT(vpid || (v & VMX_VPID_CAP_MASK) == 0);
		CU_ASSERT(!ept || ((v & VMX_EPT_PWL4) && (v & VMX_EPT_MEMTYPE_WB)));
		CU_ASSERT(!(hi(p2) & PROC2_PML) || (v & VMX_EPT_AD_FLAGS));
	}
}

/* A.7, A.8: fixed0 within fixed1; CR4.FIXED1 is what MOV to CR4 accepts. */
static void check_fixed(struct cpu *c)
{
	uint64_t f0 = must_rd(c, MSR_IA32_VMX_CR0_FIXED0), f1 = must_rd(c, MSR_IA32_VMX_CR0_FIXED1);
	CU_ASSERT_EQUAL(f0, CR0_PE | CR0_NE | CR0_PG);
	CU_ASSERT_EQUAL(f0 & ~f1, 0);
	CU_ASSERT_EQUAL(f1, 0xffffffffull);
	f0 = must_rd(c, MSR_IA32_VMX_CR4_FIXED0);
	f1 = must_rd(c, MSR_IA32_VMX_CR4_FIXED1);
	CU_ASSERT_EQUAL(f0, CR4_VMXE);
	CU_ASSERT_EQUAL(f0 & ~f1, 0);
	CU_ASSERT_EQUAL(f1, cpu_cr4_valid(c));
	CU_ASSERT_EQUAL(!!(f1 & CR4_LA57), cpu_has(c, FEAT_LA57));
	CU_ASSERT_EQUAL(!!(f1 & CR4_PKE), cpu_has(c, FEAT_PKU));
	CU_ASSERT_EQUAL(!!(f1 & CR4_PCIDE), cpu_has(c, FEAT_PCID));
}

/* A.9: the highest index of the fields this model supports. */
static void check_vmcs_enum(struct cpu *c)
{
	uint64_t e = must_rd(c, MSR_IA32_VMX_VMCS_ENUM);
	unsigned top = 0, hits = 0;
	for (int f = 0; f < VF_COUNT; f++)
		if (vmcs_field_exists(c, (enum vmcs_field)f) && ((vmcs_fields[f].enc >> 1) & 0x1ff) > top)
			top = (vmcs_fields[f].enc >> 1) & 0x1ff;
	for (int f = 0; f < VF_COUNT; f++)
		hits += vmcs_field_exists(c, (enum vmcs_field)f) && ((vmcs_fields[f].enc >> 1) & 0x1ff) == top;
	CU_ASSERT_EQUAL(e, (uint64_t)top << 1);
	CU_ASSERT(hits >= 1);
	CU_ASSERT(top >= 0x17 || !(vmx_allowed1(c, VMX_CTL_PIN) & PIN_PREEMPTION_TIMER));
	CU_ASSERT_EQUAL(e & ~0x3feull, 0);
}

/* A.6, and the control dependencies of 26.2.1.1/26.2.1.2 a model must be
 * able to satisfy. */
static void check_misc(struct cpu *c)
{
	uint64_t m = must_rd(c, MSR_IA32_VMX_MISC);
	uint32_t pin = vmx_allowed1(c, VMX_CTL_PIN), proc2 = vmx_allowed1(c, VMX_CTL_PROC2);
	uint32_t exit1 = vmx_allowed1(c, VMX_CTL_EXIT);
	CU_ASSERT_EQUAL(m & (0x1full << 9 | 1ull << 31), 0);                     /* reserved */
	CU_ASSERT(vmx_cr3_target_count(c) <= 256);
	CU_ASSERT_EQUAL(vmx_cr3_target_count(c), (m >> 16) & 0x1ff);
	CU_ASSERT(!(proc2 & PROC2_UNRESTRICTED) || (m & VMX_MISC_STORE_LMA));
	CU_ASSERT(!(exit1 & EXIT_SAVE_PREEMPT_TIMER) || (pin & PIN_PREEMPTION_TIMER));
	CU_ASSERT(vmx_activity_state_supported(c, 0));
	CU_ASSERT_EQUAL(vmx_activity_state_supported(c, 1), !!(m & VMX_MISC_ACT_HLT));
	CU_ASSERT_EQUAL(vmx_activity_state_supported(c, 3), !!(m & VMX_MISC_ACT_WAIT_SIPI));
	CU_ASSERT_FALSE(vmx_activity_state_supported(c, 4));
	CU_ASSERT(!(pin & PIN_POSTED_INTR) ||
		  ((proc2 & PROC2_VIRT_INTR_DELIVERY) && (exit1 & EXIT_ACK_INTR_ON_EXIT)));
	CU_ASSERT(!(proc2 & PROC2_UNRESTRICTED) || (proc2 & PROC2_EPT));
	CU_ASSERT(!(proc2 & PROC2_EPT_VE) || (proc2 & PROC2_EPT));
}

/* Only what vtxsim implements or plans, and nothing the CPUID row lacks. */
static void check_model_scope(struct cpu *c)
{
	uint32_t proc2 = vmx_allowed1(c, VMX_CTL_PROC2);
	CU_ASSERT_EQUAL(proc2 & PROC2_NEVER, 0);
	CU_ASSERT_EQUAL(vmx_allowed1(c, VMX_CTL_EXIT) & EXIT_NEVER, 0);
	CU_ASSERT_EQUAL(vmx_allowed1(c, VMX_CTL_ENTRY) & ENTRY_NEVER, 0);
	CU_ASSERT_EQUAL(vmx_allowed1(c, VMX_CTL_PROC3), 0);
	CU_ASSERT(!(proc2 & PROC2_RDTSCP) || cpu_has(c, FEAT_RDTSCP));
	CU_ASSERT(!(proc2 & PROC2_INVPCID) || cpu_has(c, FEAT_INVPCID));
	CU_ASSERT(!(proc2 & PROC2_RDRAND_EXITING) || cpu_has(c, FEAT_RDRAND));
	CU_ASSERT(!(proc2 & PROC2_RDSEED_EXITING) || cpu_has(c, FEAT_RDSEED));
	CU_ASSERT(!(proc2 & PROC2_XSAVES) || cpu_has(c, FEAT_XSAVES));
	CU_ASSERT(!(proc2 & PROC2_VIRT_X2APIC) || cpu_has(c, FEAT_X2APIC));
}

/* Capability MSRs are read-only: WRMSR is #GP(0) and changes nothing. */
static void check_read_only(struct cpu *c)
{
	for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_EXIT_CTLS2; msr++) {
		uint64_t before, after;
		bool present = rd(c, msr, &before);
		CU_ASSERT_FALSE(cpu_msr_write(c, msr, before));
		CU_ASSERT_FALSE(cpu_msr_write(c, msr, 0));
		CU_ASSERT_EQUAL(rd(c, msr, &after), present);
		CU_ASSERT(!present || after == before);
		CU_ASSERT_PTR_NOT_NULL(cpu_msr_name(msr));
	}
}

static void check_model(struct cpu *c)
{
	uint32_t r[4];
	cpu_cpuid(c, 1, 0, r);
	CU_ASSERT(r[2] & (1u << 5));
	CU_ASSERT(vmx_supported(c));
	check_basic(c);
	check_ctls_pair(c, MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x16, VMX_CTL_PIN);
	check_ctls_pair(c, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0x0401e172, VMX_CTL_PROC);
	check_ctls_pair(c, MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x00036dff, VMX_CTL_EXIT);
	check_ctls_pair(c, MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x000011ff, VMX_CTL_ENTRY);
	check_gated(c);
	check_fixed(c);
	check_vmcs_enum(c);
	check_misc(c);
	check_model_scope(c);
	check_read_only(c);
}

static void test_every_model(void)
{
	struct harness *h = harness_create(false);
	int n = 0;
	for (const struct cpu_model *m; (m = cpu_model_at(n)); n++) {
		h->cpu.model = m;
		check_model(&h->cpu);
	}
	CU_ASSERT_EQUAL(n, 3);
	harness_destroy(h);
}

/* The default model's values that hypervisors key on. */
static void test_icelake_values(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(must_rd(c, MSR_IA32_VMX_BASIC), 0x01d8100000000004ull);
	CU_ASSERT_EQUAL(lo(must_rd(c, MSR_IA32_VMX_TRUE_PROCBASED_CTLS)), 0x04006172);
	CU_ASSERT_EQUAL(lo(must_rd(c, MSR_IA32_VMX_TRUE_EXIT_CTLS)), 0x00036dfb);
	CU_ASSERT_EQUAL(lo(must_rd(c, MSR_IA32_VMX_TRUE_ENTRY_CTLS)), 0x000011fb);
	CU_ASSERT_EQUAL(lo(must_rd(c, MSR_IA32_VMX_TRUE_PINBASED_CTLS)), 0x16);
	CU_ASSERT(hi(must_rd(c, MSR_IA32_VMX_PINBASED_CTLS)) & PIN_POSTED_INTR);
	CU_ASSERT(must_rd(c, MSR_IA32_VMX_EPT_VPID_CAP) & VMX_EPT_PWL5);
	CU_ASSERT_EQUAL(must_rd(c, MSR_IA32_VMX_VMFUNC), VMX_VMFUNC_EPTP_SWITCHING);
	CU_ASSERT_EQUAL(must_rd(c, MSR_IA32_VMX_MISC) & 0x1f, 5);
	CU_ASSERT(must_rd(c, MSR_IA32_VMX_MISC) & VMX_MISC_VMWRITE_ANY);
	CU_ASSERT_EQUAL(vmx_cr3_target_count(c), 4);
	harness_destroy(h);
}

/* The first VMX processors: primary controls only, no TRUE MSRs. */
static void test_core2(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	uint64_t v;
	c->model = cpu_model_find("core2");
	CU_ASSERT_FALSE(hi(must_rd(c, MSR_IA32_VMX_PROCBASED_CTLS)) & PROC_SECONDARY_CTLS);
	CU_ASSERT_FALSE(rd(c, MSR_IA32_VMX_PROCBASED_CTLS2, &v));
	CU_ASSERT_FALSE(rd(c, MSR_IA32_VMX_EPT_VPID_CAP, &v));
	CU_ASSERT_FALSE(rd(c, MSR_IA32_VMX_VMFUNC, &v));
	for (uint32_t msr = MSR_IA32_VMX_TRUE_PINBASED_CTLS; msr <= MSR_IA32_VMX_TRUE_ENTRY_CTLS; msr++)
		CU_ASSERT_FALSE(rd(c, msr, &v));
	CU_ASSERT_FALSE(must_rd(c, MSR_IA32_VMX_BASIC) & VMX_BASIC_TRUE_CTLS);
	CU_ASSERT_FALSE(hi(must_rd(c, MSR_IA32_VMX_PINBASED_CTLS)) & PIN_PREEMPTION_TIMER);
	CU_ASSERT_EQUAL(vmx_must_be1(c, VMX_CTL_PROC), VMX_PROC_DEFAULT1);
	CU_ASSERT_EQUAL(vmx_allowed1(c, VMX_CTL_PROC2), 0);
	CU_ASSERT_FALSE(vmx_activity_state_supported(c, 3));
	harness_destroy(h);
}

/* A model without VMX: no CPUID bit, CR4.VMXE reserved, no capability MSRs,
 * IA32_FEATURE_CONTROL[2] reserved. */
static void test_no_vmx(void)
{
	struct cpu_model m = *cpu_model_default();
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	uint32_t r[4];
	uint64_t v;
	m.vmx = (struct vmx_model){ 0 };
	c->model = &m;
	CU_ASSERT_FALSE(vmx_supported(c));
	cpu_cpuid(c, 1, 0, r);
	CU_ASSERT_FALSE(r[2] & (1u << 5));
	for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_EXIT_CTLS2; msr++)
		CU_ASSERT_FALSE(rd(c, msr, &v));
	CU_ASSERT_EQUAL(vmx_allowed1(c, VMX_CTL_PROC), 0);
	uint64_t cr4 = c->cr4;
	c->gpr[R_AX] = cr4 | CR4_VMXE;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr4_rax), EXEC_FAULT);
	CU_ASSERT(c->exc.vector == VEC_GP && c->exc.error == 0);
	CU_ASSERT_EQUAL(c->cr4, cr4);
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_VMX | FEATURE_CONTROL_LOCK));
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_LOCK));
	CU_ASSERT_FALSE(vmx_feature_control_allows_vmxon(c));
	harness_destroy(h);
}

/* Tertiary and secondary VM-exit controls: present only through their
 * enabling bits (A.3.4, A.4.2), 64 allowed-1 bits each. */
static void test_gated_words(void)
{
	struct cpu_model m = *cpu_model_default();
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	uint64_t v;
	m.vmx.proc3_allowed1 = 1ull << 4;
	m.vmx.exit2_allowed1 = 1ull << 3;
	c->model = &m;
	CU_ASSERT_FALSE(rd(c, MSR_IA32_VMX_PROCBASED_CTLS3, &v));       /* listed but not enabled */
	CU_ASSERT_FALSE(rd(c, MSR_IA32_VMX_EXIT_CTLS2, &v));
	CU_ASSERT_EQUAL(vmx_allowed1(c, VMX_CTL_PROC3), 0);
	CU_ASSERT_EQUAL(vmx_allowed1(c, VMX_CTL_EXIT2), 0);
	m.vmx.proc_allowed1 |= PROC_TERTIARY_CTLS;
	m.vmx.exit_allowed1 |= EXIT_SECONDARY_CTLS;
	CU_ASSERT(rd(c, MSR_IA32_VMX_PROCBASED_CTLS3, &v) && v == 1ull << 4);
	CU_ASSERT(rd(c, MSR_IA32_VMX_EXIT_CTLS2, &v) && v == 1ull << 3);
	CU_ASSERT(vmcs_field_exists(c, VF_TERTIARY_CONTROLS));
	CU_ASSERT(vmcs_field_exists(c, VF_EXIT_CONTROLS2));
	m.vmx.proc_allowed1 &= ~PROC_SECONDARY_CTLS;                    /* VM functions need CTLS2 */
	CU_ASSERT_FALSE(rd(c, MSR_IA32_VMX_PROCBASED_CTLS2, &v));
	CU_ASSERT_FALSE(rd(c, MSR_IA32_VMX_VMFUNC, &v));
	CU_ASSERT_FALSE(rd(c, MSR_IA32_VMX_EPT_VPID_CAP, &v));
	CU_ASSERT_EQUAL(vmx_allowed1(c, VMX_CTL_VMFUNC), 0);
	harness_destroy(h);
}

/* 23.7: reset 0; VMXON needs lock and bit 2; bit 1 needs SMX (none);
 * locked means every WRMSR is #GP(0) until reset. */
static void test_feature_control(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	CU_ASSERT_EQUAL(must_rd(c, MSR_IA32_FEATURE_CONTROL), 0);
	CU_ASSERT_FALSE(vmx_feature_control_allows_vmxon(c));
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_VMX_SMX | FEATURE_CONTROL_LOCK));
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_VMX | (1ull << 20)));
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_VMX));
	CU_ASSERT_FALSE(vmx_feature_control_allows_vmxon(c));           /* not locked */
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_VMX | FEATURE_CONTROL_LOCK));
	CU_ASSERT(vmx_feature_control_allows_vmxon(c));
	CU_ASSERT_FALSE(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_LOCK));
	CU_ASSERT_EQUAL(must_rd(c, MSR_IA32_FEATURE_CONTROL), FEATURE_CONTROL_VMX | FEATURE_CONTROL_LOCK);
	cpu_reset(c);
	CU_ASSERT_FALSE(vmx_feature_control_allows_vmxon(c));
	CU_ASSERT(cpu_msr_write(c, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_LOCK));   /* locked, VMX off */
	CU_ASSERT_FALSE(vmx_feature_control_allows_vmxon(c));
	harness_destroy(h);
}

static void assert_gp0(struct cpu *c, enum exec_status s)
{
	CU_ASSERT_EQUAL(s, EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
}

/* 23.8: CR4.VMXE set and cleared freely outside VMX operation; in VMX
 * operation (c->vmx.on, as VMXON leaves it) clearing VMXE or NE, or setting
 * a bit CR4_FIXED1 lacks, is #GP(0) and changes nothing; flexible bits
 * (CR0.TS through CLTS/LMSW, CR4.PGE) still change. */
static void test_cr_fixed_bits(void)
{
	struct harness *h = sysenv_long();
	struct cpu *c = &h->cpu;
	uint64_t cr4 = c->cr4;
	c->gpr[R_AX] = cr4 | CR4_VMXE;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr4_rax), EXEC_OK);
	CU_ASSERT(c->cr4 & CR4_VMXE);
	c->gpr[R_AX] = cr4;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr4_rax), EXEC_OK);
	CU_ASSERT_FALSE(c->cr4 & CR4_VMXE);
	c->gpr[R_AX] = c->cr0 | CR0_NE;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr0_rax), EXEC_OK);
	c->gpr[R_AX] = cr4 | CR4_VMXE;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr4_rax), EXEC_OK);

	c->vmx.on = true;
	uint64_t cr0 = c->cr0;
	cr4 = c->cr4;
	c->gpr[R_AX] = cr4 & ~CR4_VMXE;
	assert_gp0(c, EXEC(c, mov_cr4_rax));
	c->gpr[R_AX] = cr0 & ~CR0_NE;
	assert_gp0(c, EXEC(c, mov_cr0_rax));
	c->gpr[R_AX] = cr4 | (1ull << 14);              /* SMXE: not in CR4_FIXED1 */
	assert_gp0(c, EXEC(c, mov_cr4_rax));
	CU_ASSERT(c->cr0 == cr0 && c->cr4 == cr4);
	c->gpr[R_AX] = cr4 ^ CR4_PGE;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr4_rax), EXEC_OK);
	CU_ASSERT_EQUAL(c->cr4, cr4 ^ CR4_PGE);
	c->gpr[R_AX] = cr0 | CR0_TS;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr0_rax), EXEC_OK);
	CU_ASSERT_EQUAL(EXEC(c, clts), EXEC_OK);
	CU_ASSERT_FALSE(c->cr0 & CR0_TS);
	c->gpr[R_AX] = CR0_TS;                          /* LMSW cannot clear PE: allowed */
	CU_ASSERT_EQUAL(EXEC(c, lmsw_ax), EXEC_OK);
	CU_ASSERT_EQUAL(c->cr0, cr0 | CR0_TS);

	c->vmx.on = false;                              /* after VMXOFF */
	c->gpr[R_AX] = cr4 & ~CR4_VMXE;
	CU_ASSERT_EQUAL(EXEC(c, mov_cr4_rax), EXEC_OK);
	harness_destroy(h);
}

/* The hooks themselves: the fixed MSRs decide in root operation. */
static void test_write_ok_hooks(void)
{
	struct harness *h = harness_create(false);
	struct cpu *c = &h->cpu;
	uint64_t good0 = CR0_PE | CR0_NE | CR0_PG, good4 = CR4_VMXE | CR4_PAE;
	CU_ASSERT(vmx_cr0_write_ok(c, 0));              /* outside VMX operation: no rule */
	CU_ASSERT(vmx_cr4_write_ok(c, 0));
	c->vmx.on = true;
	CU_ASSERT(vmx_cr0_write_ok(c, good0));
	CU_ASSERT_FALSE(vmx_cr0_write_ok(c, good0 & ~CR0_PE));
	CU_ASSERT_FALSE(vmx_cr0_write_ok(c, good0 & ~CR0_PG));
	CU_ASSERT_FALSE(vmx_cr0_write_ok(c, good0 | 1ull << 32));
	CU_ASSERT(vmx_cr4_write_ok(c, good4));
	CU_ASSERT_FALSE(vmx_cr4_write_ok(c, CR4_PAE));
	CU_ASSERT_EQUAL(vmx_cr4_write_ok(c, good4 | CR4_LA57), true);  /* icelake-server has LA57 */
	c->model = cpu_model_find("haswell");
	CU_ASSERT_FALSE(vmx_cr4_write_ok(c, good4 | CR4_LA57));
	harness_destroy(h);
}

void suite_vmx_caps(void)
{
	CU_pSuite s = CU_add_suite("vmx_caps", NULL, NULL);
	CU_add_test(s, "every model against Appendix A", test_every_model);
	CU_add_test(s, "icelake-server values", test_icelake_values);
	CU_add_test(s, "core2: primary controls, no TRUE MSRs", test_core2);
	CU_add_test(s, "a model without VMX", test_no_vmx);
	CU_add_test(s, "tertiary and secondary exit controls gated", test_gated_words);
	CU_add_test(s, "IA32_FEATURE_CONTROL", test_feature_control);
	CU_add_test(s, "CR0/CR4 fixed bits through MOV CR, CLTS, LMSW", test_cr_fixed_bits);
	CU_add_test(s, "vmx_cr0/cr4_write_ok", test_write_ok_hooks);
}
