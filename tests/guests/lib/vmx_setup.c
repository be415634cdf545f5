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
