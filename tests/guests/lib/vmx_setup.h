/* Entering VMX operation from a guest test (SDM vol. 3C 23.7, 23.8,
 * 24.2): the capability MSRs read the way a hypervisor reads them, and
 * 4-KiB-aligned VMXON/VMCS regions from a small static pool. */
#ifndef GUEST_VMX_SETUP_H
#define GUEST_VMX_SETUP_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_IA32_FEATURE_CONTROL 0x0000003au
#define MSR_IA32_VMX_BASIC 0x00000480u
#define MSR_IA32_VMX_PINBASED_CTLS 0x00000481u
#define MSR_IA32_VMX_PROCBASED_CTLS 0x00000482u
#define MSR_IA32_VMX_EXIT_CTLS 0x00000483u
#define MSR_IA32_VMX_ENTRY_CTLS 0x00000484u
#define MSR_IA32_VMX_MISC 0x00000485u
#define MSR_IA32_VMX_CR0_FIXED0 0x00000486u
#define MSR_IA32_VMX_CR0_FIXED1 0x00000487u
#define MSR_IA32_VMX_CR4_FIXED0 0x00000488u
#define MSR_IA32_VMX_CR4_FIXED1 0x00000489u
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x0000048bu
#define MSR_IA32_VMX_VMCS_ENUM 0x0000048au
#define MSR_IA32_VMX_EPT_VPID_CAP 0x0000048cu
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x0000048du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x0000048eu
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x0000048fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x00000490u
#define MSR_IA32_VMX_VMFUNC 0x00000491u
#define MSR_IA32_VMX_PROCBASED_CTLS3 0x00000492u
#define MSR_IA32_VMX_EXIT_CTLS2 0x00000493u

#define FEATURE_CONTROL_LOCK (1ul << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ul << 2)
#define CR4_VMXE (1ul << 13)
#define CPUID_1_ECX_VMX (1u << 5)

/* CPUID.1:ECX.VMX. */
bool vmx_cpu_has_vmx(void);
/* IA32_VMX_BASIC[30:0]. */
uint32_t vmx_revision(void);
/* Set IA32_FEATURE_CONTROL (lock, VMXON outside SMX) if it is unlocked,
 * apply the CR0/CR4 FIXED0/FIXED1 bits, set CR4.VMXE and execute VMXON on
 * a fresh region. 0 on success; -1 without VMX, -2 when the locked
 * IA32_FEATURE_CONTROL forbids VMXON, -3 when VMXON did not succeed. */
int vmx_enable(void);
/* The VMXON region vmx_enable used. */
uint64_t vmx_vmxon_region(void);
/* A zeroed, 4-KiB-aligned page with the revision identifier at offset 0;
 * its physical address (= linear: the boot map is an identity map). 0 when
 * the pool is exhausted. */
uint64_t vmx_alloc_vmcs(void);
/* A zeroed 4-KiB-aligned page from the same pool (bitmaps, tables), or 0. */
uint64_t vmx_alloc_page(void);

#endif
