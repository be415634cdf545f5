/* The host-state fields of a VMCS for unit tests whose CPU runs the
 * long-mode system environment of tests/unit/cpu/sysenv.h: the CPU's own
 * control registers, sysenv's selectors, TSS, GDT and IDT (what a VM exit
 * loads back, 27.5). */
#ifndef TESTS_UNIT_VMX_HOST_STATE_H
#define TESTS_UNIT_VMX_HOST_STATE_H

#include "tests/unit/cpu/sysenv.h"
#include "vmx/vmcs.h"

static inline void vmx_test_host_state(struct cpu *c, uint64_t rip, uint64_t rsp)
{
	vmcs_write(c, VF_HOST_CR0, c->cr0);
	vmcs_write(c, VF_HOST_CR3, c->cr3);
	vmcs_write(c, VF_HOST_CR4, c->cr4);
	vmcs_write(c, VF_HOST_CS_SELECTOR, K_CS);
	vmcs_write(c, VF_HOST_SS_SELECTOR, K_DS);
	vmcs_write(c, VF_HOST_DS_SELECTOR, K_DS);
	vmcs_write(c, VF_HOST_ES_SELECTOR, K_DS);
	vmcs_write(c, VF_HOST_TR_SELECTOR, TSS_SEL);
	vmcs_write(c, VF_HOST_TR_BASE, TSS_BASE);
	vmcs_write(c, VF_HOST_GDTR_BASE, GDT_BASE);
	vmcs_write(c, VF_HOST_IDTR_BASE, IDT_BASE);
	vmcs_write(c, VF_HOST_RSP, rsp);
	vmcs_write(c, VF_HOST_RIP, rip);
}

#endif
