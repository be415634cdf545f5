/* Posted-interrupt processing (SDM vol. 3C 29.6, the edition whose
 * VM-entry chapter is 26): with "process posted interrupts" (pin-based bit
 * 7) an external interrupt whose vector is the posted-interrupt
 * notification vector makes the processor move the posted-interrupt
 * requests of the descriptor into VIRR instead of causing a VM exit.
 *
 * The steps run uninterruptibly (29.6): vtxsim's vCPUs never run at the
 * same time, so each read-modify-write of the descriptor is atomic with
 * respect to the other CPUs (the locked AND of step 3 and the
 * read-and-clear of PIR in step 5 that no agent may split). The
 * descriptor address is a physical address (24.6.8): it is not translated
 * through EPT.
 */
#include "vmx/posted.h"

#include <stdio.h>

#include "cpu/cpu.h"
#include "vmx/apicv.h"
#include "vmx/trace.h"
#include "vmx/vmcs.h"

/* Step 3: clear ON, leaving the rest of the descriptor unmodified. */
static void clear_on(struct cpu *c, uint64_t desc)
{
	uint64_t b = phys_read(c->phys, desc + PI_DESC_ON_OFF, 1);
	if (b & PI_DESC_ON)
		phys_write(c->phys, desc + PI_DESC_ON_OFF, b & ~(uint64_t)PI_DESC_ON, 1);
}

/* Steps 5 and 6: VIRR |= PIR, PIR = 0; the highest PIR bit set, or -1.
 * VIRR's 256 bits are eight 32-bit registers 16 bytes apart (29.1.1). */
static int pir_to_virr(struct cpu *c, uint64_t desc)
{
	uint64_t vapic = c->vmx.apicv.vapic;
	int highest = -1;
	for (unsigned k = 0; k < PI_DESC_PIR_WORDS; k++) {
		uint64_t pir = phys_read(c->phys, desc + 8 * k, 8);
		if (!pir)
			continue;
		phys_write(c->phys, desc + 8 * k, 0, 8);
		for (unsigned h = 0; h < 2; h++) {
			uint64_t reg = vapic + VAPIC_IRR + (2 * k + h) * 16;
			uint32_t bits = (uint32_t)(pir >> (32 * h));
			if (bits)
				phys_write(c->phys, reg, phys_read(c->phys, reg, 4) | bits, 4);
		}
		highest = (int)(64 * k + 63 - (unsigned)__builtin_clzll(pir));
	}
	return highest;
}

/* `--trace vmx`: one line per processed notification. */
static void trace_processed(struct cpu *c, int physical, uint64_t desc, int highest)
{
	char pir[16] = "none";
	if (!c->vmx.trace)
		return;
	if (highest >= 0)
		snprintf(pir, sizeof(pir), "0x%02x", (uint8_t)highest);
	vmx_tracef(c,
		   "posted-interrupt notification 0x%02x: descriptor 0x%llx, highest PIR bit %s, "
		   "guest interrupt status (SVI:RVI) 0x%04llx",
		   (unsigned)physical, (unsigned long long)desc, pir, (unsigned long long)vmcs_read(c, VF_GUEST_INTR_STATUS));
}

bool vmx_posted_intr(struct cpu *c, int physical)
{
	/* Step 2: any other vector is an ordinary external-interrupt exit. */
	if (!(c->vmx.bnd.pin & PIN_POSTED_INTR) || physical != (int)(vmcs_read(c, VF_POSTED_INTR_NV) & 0xff))
		return false;
	uint64_t desc = vmcs_read(c, VF_POSTED_INTR_DESC_ADDR);
	clear_on(c, desc);
	/* Step 4: write 0 to the EOI register, dismissing the notification
	 * from the local APIC (its ISR bit is the highest: the APIC just
	 * delivered it above the processor priority). */
	if (c->apic && c->apic->eoi)
		c->apic->eoi(c->apic_opaque);
	int highest = pir_to_virr(c, desc);
	/* Step 6: RVI = max(RVI, highest); VIRR[highest] is already set, so
	 * apicv's post only raises RVI. No PIR bit: RVI unchanged. */
	if (highest >= 0)
		vmx_vintr_post(c, (uint8_t)highest);
	trace_processed(c, physical, desc, highest);
	/* Step 7. */
	vmx_vintr_evaluate(c);
	return true;
}
