/* vmx/shadow.c: which VMREAD/VMWRITE in VMX non-root operation exit under
 * VMCS shadowing (SDM vol. 3C 24.6.15, 25.1.3), the VM-entry check on a
 * shadow current VMCS (26.1 step 4), and the models' consistency between
 * the "VMCS shadowing" control and IA32_VMX_MISC[29]. */
#include <CUnit/CUnit.h>

#include "cpu/model.h"
#include "tests/unit/vmx/vmx_env.h"
#include "vmx/shadow.h"

#define VMREAD_BM 0x110000u
#define VMWRITE_BM 0x111000u

static void set_bit(struct cpu *c, uint64_t base, uint32_t enc)
{
	uint64_t a = base + (enc >> 3);
	phys_write(c->phys, a, phys_read(c->phys, a, 1) | 1u << (enc & 7), 1);
}

static void shadowing_on(struct cpu *c)
{
	vmcs_write(c, VF_PROC_CONTROLS, PROC_BASE | PROC_SECONDARY_CTLS);
	vmcs_write(c, VF_PROC2_CONTROLS, PROC2_VMCS_SHADOWING);
	vmcs_write(c, VF_VMREAD_BITMAP, VMREAD_BM);
	vmcs_write(c, VF_VMWRITE_BITMAP, VMWRITE_BM);
}

static void test_bitmaps(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	v->model.vmx.proc2_allowed1 = PROC2_VMCS_SHADOWING;
	/* "VMCS shadowing" 0, or 1 without "activate secondary controls": every access exits. */
	CU_ASSERT_TRUE(vmx_shadow_rw_exits(c, 0x681e, false));
	vmcs_write(c, VF_PROC2_CONTROLS, PROC2_VMCS_SHADOWING);
	CU_ASSERT_TRUE(vmx_shadow_rw_exits(c, 0x681e, true));
	shadowing_on(c);
	CU_ASSERT_FALSE(vmx_shadow_rw_exits(c, 0x681e, false));
	CU_ASSERT_FALSE(vmx_shadow_rw_exits(c, 0x7fff, true));
	set_bit(c, VMREAD_BM, 0x681e);
	set_bit(c, VMWRITE_BM, 0x7fff);
	set_bit(c, VMWRITE_BM, 0);
	CU_ASSERT_TRUE(vmx_shadow_rw_exits(c, 0x681e, false));
	CU_ASSERT_FALSE(vmx_shadow_rw_exits(c, 0x681e, true));      /* the other bitmap */
	CU_ASSERT_FALSE(vmx_shadow_rw_exits(c, 0x681c, false));     /* the neighbour bit */
	CU_ASSERT_FALSE(vmx_shadow_rw_exits(c, 0x681f, false));
	CU_ASSERT_TRUE(vmx_shadow_rw_exits(c, 0x7fff, true));       /* last bit: byte 0xfff, bit 7 */
	CU_ASSERT_TRUE(vmx_shadow_rw_exits(c, 0, true));
	/* Bits 63:15 set: always a VM exit, whatever bit 14:0 selects. */
	CU_ASSERT_TRUE(vmx_shadow_rw_exits(c, 0x8000 | 0x681c, false));
	CU_ASSERT_TRUE(vmx_shadow_rw_exits(c, 1ull << 32 | 0x681c, false));
	CU_ASSERT_TRUE(vmx_shadow_rw_exits(c, 1ull << 63 | 0x681c, true));
	env_destroy(v);
}

/* 26.1: VMLAUNCH with a shadow current VMCS: VMfailInvalid (CF only), no
 * error number written, blamed on BASIC_CURRENT_SHADOW. */
static void test_entry_shadow_current(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	v->model.vmx.proc2_allowed1 = PROC2_VMCS_SHADOWING;
	phys_write(c->phys, VMCS_PA + VMCS_OFF_REVISION, v->model.vmx.revision | VMCS_SHADOW_INDICATOR, 4);
	vmcs_write(c, VF_VM_INSTRUCTION_ERROR, 0);
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(cpu_get_rflags(c) & FL_ARITH, FL_CF);
	CU_ASSERT_EQUAL(c->vmx.verdict.check, ENTRY_CHECK_BASIC_CURRENT_SHADOW);
	CU_ASSERT_EQUAL(rd(v, VF_VM_INSTRUCTION_ERROR), 0);
	CU_ASSERT_FALSE(c->vmx.nonroot);
	phys_write(c->phys, VMCS_PA + VMCS_OFF_REVISION, v->model.vmx.revision, 4);
	run(v, vmlaunch);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_CPUID);
	env_destroy(v);
}

/* Every model that offers VMCS shadowing lets VMWRITE write the VM-exit
 * information fields (IA32_VMX_MISC[29]): the processors with VMCS
 * shadowing (Haswell and later) all do, and a nested hypervisor needs it
 * to report exits through the shadow VMCS. */
static void test_models_consistent(void)
{
	for (int k = 0; cpu_model_at(k); k++) {
		const struct vmx_model *m = &cpu_model_at(k)->vmx;
		if (m->proc2_allowed1 & PROC2_VMCS_SHADOWING)
			CU_ASSERT_TRUE(m->misc & VMX_MISC_VMWRITE_ANY);
		if (!(m->proc_allowed1 & PROC_SECONDARY_CTLS))
			CU_ASSERT_FALSE(m->proc2_allowed1 & PROC2_VMCS_SHADOWING);
	}
}

void suite_vmx_shadow(void);
void suite_vmx_shadow(void)
{
	CU_pSuite s = CU_add_suite("vmx_shadow", NULL, NULL);
	CU_add_test(s, "VMREAD/VMWRITE bitmaps, encodings above 15 bits", test_bitmaps);
	CU_add_test(s, "VM entry with a shadow current VMCS: VMfailInvalid", test_entry_shadow_current);
	CU_add_test(s, "models: VMCS shadowing with MISC[29]", test_models_consistent);
}
