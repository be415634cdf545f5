/* vmx/posted.c: posted-interrupt processing (SDM vol. 3C 29.6) on a CPU
 * set up as in non-root operation: which vectors it takes, and steps 3-7
 * on the descriptor, the local APIC (an EOI counter in place of
 * devices/lapic.c), VIRR, RVI and the evaluation of 29.2.1. Expected
 * values are the SDM's, written out. */
#include <CUnit/CUnit.h>

#include "tests/unit/vmx/vmx_env.h"
#include "vmx/apicv.h"
#include "vmx/posted.h"

#define VAPIC_PA 0x104000u
#define DESC_PA 0x105000u
#define NV 0xf2

static int no_ack(void *opaque)
{
	(void)opaque;
	return -1;
}

static void count_eoi(void *opaque)
{
	++*(int *)opaque;
}

static const struct cpu_apic_ops fake_apic = { .ack = no_ack, .eoi = count_eoi };

struct pi_env {
	struct vmx_env *v;
	struct cpu *c;
	int eois;
};

static void pi_setup(struct pi_env *e)
{
	e->v = env_create();
	e->c = &e->v->h->cpu;
	e->eois = 0;
	struct cpu *c = e->c;
	c->apic = &fake_apic;
	c->apic_opaque = &e->eois;
	c->vmx.nonroot = true;
	c->vmx.bnd.pin = PIN_EXT_INTR_EXITING | PIN_POSTED_INTR;
	c->vmx.apicv.proc2 = PROC2_VIRT_INTR_DELIVERY;
	c->vmx.apicv.tpr_shadow = true;
	c->vmx.apicv.vapic = VAPIC_PA;
	vmcs_write(c, VF_POSTED_INTR_NV, NV);
	vmcs_write(c, VF_POSTED_INTR_DESC_ADDR, DESC_PA);
	vmcs_write(c, VF_GUEST_INTR_STATUS, 0);
	/* ON = 1 and bits 263:257 and 511:504 set: software's. */
	phys_write(c->phys, DESC_PA + 32, 0xff, 1);
	phys_write(c->phys, DESC_PA + 63, 0xa5, 1);
}

static void pir_set(struct cpu *c, unsigned v)
{
	uint64_t a = DESC_PA + 8 * (v / 64);
	phys_write(c->phys, a, phys_read(c->phys, a, 8) | 1ull << (v % 64), 8);
}

static bool virr(struct cpu *c, unsigned v)
{
	return (phys_read(c->phys, VAPIC_PA + VAPIC_IRR + (v / 32) * 16, 4) >> (v % 32)) & 1;
}

/* Step 2: only the notification vector, and only with the control. */
static void test_which_vector(void)
{
	struct pi_env e;
	pi_setup(&e);
	pir_set(e.c, 0x45);
	CU_ASSERT_FALSE(vmx_posted_intr(e.c, NV - 1));
	CU_ASSERT_FALSE(vmx_posted_intr(e.c, 0x45));
	e.c->vmx.bnd.pin = PIN_EXT_INTR_EXITING;
	CU_ASSERT_FALSE(vmx_posted_intr(e.c, NV));
	/* Nothing happened: ON, PIR, VIRR, RVI, the local APIC. */
	CU_ASSERT_EQUAL(phys_read(e.c->phys, DESC_PA + 32, 1), 0xff);
	CU_ASSERT_EQUAL(phys_read(e.c->phys, DESC_PA + 8, 8), 1ull << (0x45 - 64));
	CU_ASSERT_FALSE(virr(e.c, 0x45));
	CU_ASSERT_EQUAL(vmcs_read(e.c, VF_GUEST_INTR_STATUS), 0);
	CU_ASSERT_EQUAL(e.eois, 0);
	/* Bits 15:8 of the field are not part of the vector (24.6.8: its low 8 bits). */
	e.c->vmx.bnd.pin = PIN_EXT_INTR_EXITING | PIN_POSTED_INTR;
	vmcs_write(e.c, VF_POSTED_INTR_NV, 0x100 | NV);
	CU_ASSERT_TRUE(vmx_posted_intr(e.c, NV));
	env_destroy(e.v);
}

/* Steps 3-7 with PIR bits in every 64-bit word. */
static void test_steps(void)
{
	struct pi_env e;
	pi_setup(&e);
	struct cpu *c = e.c;
	static const unsigned bits[] = { 0x21, 0x45, 0x80, 0xbf, 0xfe };
	for (unsigned k = 0; k < 5; k++)
		pir_set(c, bits[k]);
	phys_write(c->phys, VAPIC_PA + VAPIC_IRR + (0x30 / 32) * 16, 1u << (0x30 % 32), 4);     /* VIRR[30H] before */
	vmcs_write(c, VF_GUEST_INTR_STATUS, 0x3330);                                           /* SVI 33H, RVI 30H */
	CU_ASSERT_TRUE(vmx_posted_intr(c, NV));
	CU_ASSERT_EQUAL(phys_read(c->phys, DESC_PA + 32, 1), 0xfe);     /* ON cleared, 263:257 kept */
	CU_ASSERT_EQUAL(phys_read(c->phys, DESC_PA + 63, 1), 0xa5);
	for (unsigned w = 0; w < 4; w++)
		CU_ASSERT_EQUAL(phys_read(c->phys, DESC_PA + 8 * w, 8), 0);
	for (unsigned k = 0; k < 5; k++)
		CU_ASSERT_TRUE(virr(c, bits[k]));
	CU_ASSERT_TRUE(virr(c, 0x30));          /* ORed, not replaced */
	CU_ASSERT_FALSE(virr(c, 0x44));
	CU_ASSERT_EQUAL(e.eois, 1);             /* step 4: one EOI */
	CU_ASSERT_EQUAL(vmcs_read(c, VF_GUEST_INTR_STATUS), 0x33fe);   /* RVI = max(30H, FEH), SVI kept */
	/* Step 7: VPPR 0 (the page is zero), RVI[7:4] = FH > 0: recognized. */
	CU_ASSERT_TRUE(c->vmx.apicv.vintr);
	env_destroy(e.v);
}

/* Step 6: RVI stays when it is above every PIR bit or PIR is empty;
 * step 7 does not recognize RVI[7:4] <= VPPR[7:4]. */
static void test_rvi_and_evaluation(void)
{
	struct pi_env e;
	pi_setup(&e);
	pir_set(e.c, 0x45);
	vmcs_write(e.c, VF_GUEST_INTR_STATUS, 0x0060);
	phys_write(e.c->phys, VAPIC_PA + VAPIC_PPR, 0x60, 4);
	CU_ASSERT_TRUE(vmx_posted_intr(e.c, NV));
	CU_ASSERT_EQUAL(vmcs_read(e.c, VF_GUEST_INTR_STATUS), 0x0060);
	CU_ASSERT_TRUE(virr(e.c, 0x45));
	CU_ASSERT_FALSE(e.c->vmx.apicv.vintr);  /* 6H > 6H is false */
	env_destroy(e.v);

	pi_setup(&e);
	vmcs_write(e.c, VF_GUEST_INTR_STATUS, 0x0051);
	phys_write(e.c->phys, DESC_PA + 32, 0xfe, 1);   /* ON already 0, PIR empty */
	CU_ASSERT_TRUE(vmx_posted_intr(e.c, NV));
	CU_ASSERT_EQUAL(vmcs_read(e.c, VF_GUEST_INTR_STATUS), 0x0051);
	CU_ASSERT_EQUAL(phys_read(e.c->phys, DESC_PA + 32, 1), 0xfe);
	CU_ASSERT_EQUAL(e.eois, 1);
	CU_ASSERT_TRUE(e.c->vmx.apicv.vintr);   /* still evaluated: RVI 51H > VPPR 0 */
	env_destroy(e.v);

	/* "interrupt-window exiting" 1: nothing is recognized (29.2.1). */
	pi_setup(&e);
	e.c->vmx.bnd.proc = PROC_INTR_WINDOW;
	pir_set(e.c, 0x45);
	CU_ASSERT_TRUE(vmx_posted_intr(e.c, NV));
	CU_ASSERT_EQUAL(vmcs_read(e.c, VF_GUEST_INTR_STATUS), 0x0045);
	CU_ASSERT_FALSE(e.c->vmx.apicv.vintr);
	env_destroy(e.v);
}

void suite_vmx_posted(void);
void suite_vmx_posted(void)
{
	CU_pSuite s = CU_add_suite("vmx_posted", NULL, NULL);
	CU_add_test(s, "only the notification vector, only with the control (29.6 step 2)", test_which_vector);
	CU_add_test(s, "ON, EOI, PIR into VIRR, RVI, evaluation (29.6 steps 3-7)", test_steps);
	CU_add_test(s, "RVI kept, empty PIR, evaluation outcomes (29.6 steps 6-7)", test_rvi_and_evaluation);
}
