/* Entering VMX operation (lib/vmx_setup.h). */
#include "vmx_setup.h"

#include "guest.h"
#include "vmx_insn.h"

#define POOL_PAGES 48

static uint8_t pool[POOL_PAGES][4096] __attribute__((aligned(4096)));
static unsigned pool_used;
static uint64_t vmxon_region;

bool vmx_cpu_has_vmx(void)
{
	return (cpuid(1, 0).c & CPUID_1_ECX_VMX) != 0;
}

uint32_t vmx_revision(void)
{
	return (uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7fffffffu;
}

uint64_t vmx_alloc_page(void)
{
	if (pool_used == POOL_PAGES)
		return 0;
	uint8_t *p = pool[pool_used++];
	memset(p, 0, 4096);
	return (uint64_t)p;
}

uint64_t vmx_alloc_vmcs(void)
{
	uint64_t pa = vmx_alloc_page();
	if (pa)
		*(volatile uint32_t *)pa = vmx_revision();
	return pa;
}

uint64_t vmx_vmxon_region(void)
{
	return vmxon_region;
}

/* 23.8: bits set in FIXED0 must be 1, bits clear in FIXED1 must be 0. */
static uint64_t fixed(uint64_t v, uint32_t msr0, uint32_t msr1)
{
	return (v | rdmsr(msr0)) & rdmsr(msr1);
}

int vmx_enable(void)
{
	if (!vmx_cpu_has_vmx())
		return -1;
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		return -2;
	write_cr0(fixed(read_cr0(), MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1));
	write_cr4(fixed(read_cr4() | CR4_VMXE, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1));
	if (!vmxon_region)
		vmxon_region = vmx_alloc_vmcs();
	return vmxon_region && vmxon(vmxon_region) == VMX_OK ? 0 : -3;
}

/* Appendix A: the allowed-1 settings are the high halves of the *_CTLS
 * MSRs (the TRUE MSRs have the same allowed-1 halves); the secondary and
 * tertiary words exist only when their activating control may be 1. */
bool vmx_field_exists(const struct vmx_field_row *r)
{
	uint64_t proc = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS) >> 32;
	uint64_t exit = rdmsr(MSR_IA32_VMX_EXIT_CTLS) >> 32;
	uint64_t entry = rdmsr(MSR_IA32_VMX_ENTRY_CTLS) >> 32;
	uint64_t proc2 = proc & PROC_SECONDARY_CTLS ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32 : 0;
	uint64_t proc3 = proc & PROC_TERTIARY_CTLS ? rdmsr(MSR_IA32_VMX_PROCBASED_CTLS3) : 0;
	uint64_t exit2 = exit & EXIT_SECONDARY_CTLS ? rdmsr(MSR_IA32_VMX_EXIT_CTLS2) : 0;

	switch (r->dep) {
	case VMX_DEP_ALWAYS: return true;
	case VMX_DEP_PIN: return (rdmsr(MSR_IA32_VMX_PINBASED_CTLS) >> 32) & r->ctl;
	case VMX_DEP_PROC: return proc & r->ctl;
	case VMX_DEP_PROC2: return proc2 & r->ctl;
	case VMX_DEP_PROC3: return proc3 & r->ctl;
	case VMX_DEP_EXIT: return exit & r->ctl;
	case VMX_DEP_EXIT2: return exit2 & r->ctl;
	case VMX_DEP_ENTRY: return entry & r->ctl;
	case VMX_DEP_VMFUNC: return (proc2 & PROC2_VMFUNC) && (rdmsr(MSR_IA32_VMX_VMFUNC) & r->ctl);
	case VMX_DEP_ENTRY_OR_EXIT: return (entry & (uint32_t)r->ctl) || (exit & (r->ctl >> 32));
	case VMX_DEP_ENTRY_OR_EXIT2: return (entry & (uint32_t)r->ctl) || (exit2 & (r->ctl >> 32));
	}
	return false;
}
