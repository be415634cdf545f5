/* vmx/events.c: INIT and SIPI in VMX non-root operation (SDM vol. 3C 25.2,
 * 26.6.2), which a single-CPU guest test cannot send to itself (self-INIT
 * through the ICR is not allowed): a unit-test CPU with the vmx_entry
 * suite's baseline is signalled directly. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "tests/unit/vmx/vmx_env.h"

/* 25.2: INIT in non-root is a VM exit (reason 3) that does none of INIT's
 * own work; it is consumed. The guest had not run an instruction. */
static void test_init_exit(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	uint64_t cr0 = c->cr0;
	cpu_signal_init(c);             /* latched: VMX root operation blocks it (23.8) */
	run(v, vmlaunch);
	CU_ASSERT_FALSE(c->vmx.nonroot);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_INIT);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_QUALIFICATION), 0);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_INTR_INFO), 0);
	CU_ASSERT_EQUAL(rd(v, VF_IDT_VECTORING_INFO), 0);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_RIP), GUEST_CODE);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_CR0), cr0);      /* not the INIT state (Table 9-1) */
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_ACTIVITY_STATE), ACTIVITY_ACTIVE);
	CU_ASSERT_FALSE(c->init_pending);
	CU_ASSERT_EQUAL(c->rip, HOST_CODE + 1);
	env_destroy(v);
}

/* 26.6.2: the wait-for-SIPI state holds INIT; a SIPI then exits with
 * reason 4 and the vector as qualification, activity state saved as
 * wait-for-SIPI (27.1: the return to active follows the exit). */
static void test_sipi_exit(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	vmcs_write(c, VF_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
	cpu_signal_init(c);
	CU_ASSERT_EQUAL(run(v, vmlaunch), CPU_STOP_HALTED);
	CU_ASSERT_TRUE(c->vmx.nonroot);
	CU_ASSERT_TRUE(c->wait_sipi);
	CU_ASSERT_TRUE(c->init_pending);
	cpu_signal_sipi(c, 0x9a);
	cpu_run(c, c->cycles + 1000000);
	CU_ASSERT_FALSE(c->vmx.nonroot);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_REASON), EXIT_REASON_SIPI);
	CU_ASSERT_EQUAL(rd(v, VF_EXIT_QUALIFICATION), 0x9a);
	CU_ASSERT_EQUAL(rd(v, VF_GUEST_ACTIVITY_STATE), ACTIVITY_WAIT_SIPI);
	CU_ASSERT_EQUAL(c->sipi_vector, -1);
	CU_ASSERT_EQUAL(c->rip, HOST_CODE + 1);
	env_destroy(v);
}

/* 26.6.2: the HLT state discards a SIPI: no exit, the guest sleeps on. */
static void test_sipi_discarded(void)
{
	struct vmx_env *v = env_create();
	struct cpu *c = &v->h->cpu;
	vmcs_write(c, VF_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	CU_ASSERT_EQUAL(run(v, vmlaunch), CPU_STOP_HALTED);
	CU_ASSERT_TRUE(c->vmx.nonroot);
	cpu_signal_sipi(c, 0x9a);
	CU_ASSERT_EQUAL(cpu_run(c, c->cycles + 1000000), CPU_STOP_HALTED);
	CU_ASSERT_TRUE(c->vmx.nonroot);
	CU_ASSERT_TRUE(c->halted);
	CU_ASSERT_EQUAL(c->sipi_vector, -1);
	env_destroy(v);
}

void suite_vmx_events(void);
void suite_vmx_events(void)
{
	CU_pSuite s = CU_add_suite("vmx_events", NULL, NULL);
	CU_add_test(s, "INIT in non-root: exit 3", test_init_exit);
	CU_add_test(s, "wait-for-SIPI holds INIT, SIPI exits with reason 4", test_sipi_exit);
	CU_add_test(s, "SIPI outside wait-for-SIPI: no exit", test_sipi_discarded);
}
