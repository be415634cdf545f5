/* Lesson 01: entering and leaving VMX operation.
 *
 * Before a hypervisor can build a virtual machine it must switch the
 * processor into "VMX root operation" with VMXON. That takes five steps,
 * each of which the SDM spells out, and each of which makes VMXON fail
 * (with #UD, #GP or VMfailInvalid) when skipped:
 *
 *   1. CPUID.1:ECX.VMX[bit 5] = 1: the processor has VMX (SDM 23.6).
 *   2. IA32_FEATURE_CONTROL (MSR 0x3a): the firmware's lock. VMXON outside
 *      SMX needs bit 2 set and bit 0 (lock) set; if the lock is clear we
 *      may set both ourselves (23.7). Here the BIOS left it clear.
 *   3. CR0 and CR4 must hold the values IA32_VMX_CR0/CR4_FIXED0 (bits that
 *      must be 1) and FIXED1 (bits that may be 1) allow, in VMX operation
 *      (23.8, A.7, A.8). CR4.VMXE (bit 13) must be 1 before VMXON.
 *   4. The VMXON region: a 4-KiB-aligned page whose first 31 bits hold the
 *      VMCS revision identifier from IA32_VMX_BASIC[30:0] (24.11.5, A.1).
 *   5. VMXON with the region's physical address (30.3 "VMXON").
 *
 * VMXOFF leaves VMX operation again (30.3 "VMXOFF"). The results of VMX
 * instructions come back in RFLAGS: CF=1 VMfailInvalid, ZF=1 VMfailValid,
 * both 0 VMsucceed (30.2).
 *
 * Run:   build/vtxsim -kernel build/guests/examples/lessons/01-vmxon.elf
 */
#include "lesson.h"

#define CR0_NE (1ul << 5)

/* The VMXON region (step 4). The boot code identity-maps memory, so the
 * array's address is also its physical address. */
static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));

/* Step 1. */
static bool has_vmx(void)
{
	return cpuid(1, 0).c & CPUID_1_ECX_VMX;
}

/* Step 2: lock IA32_FEATURE_CONTROL with "VMXON outside SMX" if nobody has. */
static bool feature_control_allows_vmxon(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	printf("IA32_FEATURE_CONTROL = %#lx (%s)\n", fc, fc & FEATURE_CONTROL_LOCK ? "locked" : "unlocked");
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		fc |= FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
		printf("IA32_FEATURE_CONTROL = %#lx (locked by us, VMXON outside SMX allowed)\n", fc);
	}
	return fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX;
}

/* Step 3: a bit set in FIXED0 must be 1, a bit clear in FIXED1 must be 0. */
static void apply_fixed_bits(void)
{
	uint64_t f0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0), f1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	uint64_t g0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0), g1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	uint64_t cr0 = read_cr0(), cr4 = read_cr4();

	printf("CR0_FIXED0 = %#lx  CR0_FIXED1 = %#lx  CR0 = %#lx\n", f0, f1, cr0);
	printf("CR4_FIXED0 = %#lx  CR4_FIXED1 = %#lx  CR4 = %#lx\n", g0, g1, cr4);
	cr0 = (cr0 | CR0_NE | f0) & f1;         /* NE: FIXED0 requires it (A.7) */
	cr4 = (cr4 | CR4_VMXE | g0) & g1;
	write_cr0(cr0);
	write_cr4(cr4);
	printf("now CR0 = %#lx  CR4 = %#lx (CR4.VMXE set)\n", read_cr0(), read_cr4());
}

static const char *result_text(enum vmx_result r)
{
	return r == VMX_OK ? "VMsucceed" : r == VMX_FAIL_INVALID ? "VMfailInvalid (CF=1)" : "VMfailValid (ZF=1)";
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	uint64_t basic;
	enum vmx_result r;

	(void)magic, (void)mbinfo;
	printf("lesson 01: VMXON and VMXOFF\n");
	if (!report(has_vmx(), "CPUID.1:ECX.VMX[5] = 1: this CPU has VMX"))
		report_summary();
	basic = rdmsr(MSR_IA32_VMX_BASIC);
	/* A.1: bits 30:0 revision id, 44:32 region size, 53:50 memory type (6 = WB),
	 * 55 the TRUE_*_CTLS MSRs exist. */
	printf("IA32_VMX_BASIC = %#lx: revision id %#lx, VMCS region %lu bytes, memory type %lu, TRUE controls %s\n",
	       basic, basic & 0x7fffffff, (basic >> 32) & 0x1fff, (basic >> 50) & 0xf,
	       basic >> 55 & 1 ? "yes" : "no");
	if (!report(feature_control_allows_vmxon(), "IA32_FEATURE_CONTROL allows VMXON outside SMX"))
		report_summary();
	apply_fixed_bits();

	*(uint32_t *)vmxon_region = (uint32_t)basic & 0x7fffffff;
	r = vmxon((uint64_t)vmxon_region);
	printf("VMXON %#lx: %s\n", (uint64_t)vmxon_region, result_text(r));
	report(r == VMX_OK, "VMXON succeeds: the CPU is in VMX root operation");

	/* A second VMXON in VMX root operation fails with VMfailValid: the
	 * VM-instruction error would be 15, "VMXON executed in VMX root
	 * operation" (30.4) - but there is no current VMCS to hold that
	 * error, so it is VMfailInvalid (30.2: VMfailValid needs a current VMCS). */
	r = vmxon((uint64_t)vmxon_region);
	printf("VMXON again: %s\n", result_text(r));
	report(r == VMX_FAIL_INVALID, "a second VMXON fails (no current VMCS: VMfailInvalid)");

	r = vmxoff();
	printf("VMXOFF: %s\n", result_text(r));
	report(r == VMX_OK, "VMXOFF leaves VMX operation");
	report_summary();
}
