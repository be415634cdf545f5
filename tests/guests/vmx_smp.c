/* vmx_smp: VMX structures shared between two CPUs, the misuse the SDM
 * forbids but hardware tolerates (vol. 3C 24.1, 24.11.1, 24.11.5): a VMCS
 * made active on the second CPU while active on the first, VMCLEAR of it
 * there, the first CPU's VMXON region used as a VMCS and as a VMXON region
 * by the second. The guest asserts what the SDM makes visible (RFLAGS, the
 * VM-instruction error, VMPTRST); guests.vts asserts (stderr=) that
 * vtxsim's stderr names each broken rule and both CPUs.
 *
 * Runs with -smp 2. The AP executes commands the BSP posts, one at a time.
 */
#include "smp.h"
#include "vmx_insn.h"
#include "vmx_setup.h"

enum ap_op { OP_ENABLE = 1, OP_VMXON, OP_VMXOFF, OP_VMCLEAR, OP_VMPTRLD };

static volatile unsigned cmd_seq, ack_seq;
static volatile enum ap_op cmd_op;
static volatile uint64_t cmd_pa;
static volatile int res;                /* enum vmx_result, or -1 (VMX could not be enabled) */
static volatile uint64_t res_err;       /* VM-instruction error after VMfailValid */
static volatile uint64_t res_ptr;       /* VMPTRST after the command */
static volatile bool stop;

static uint64_t fixed(uint64_t v, uint32_t msr0, uint32_t msr1)
{
	return (v | rdmsr(msr0)) & rdmsr(msr1);
}

/* vmx_enable() for the AP, on its own VMXON region (the library's is the BSP's). */
static enum vmx_result ap_enable(uint64_t region)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	write_cr0(fixed(read_cr0(), MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_CR0_FIXED1));
	write_cr4(fixed(read_cr4() | CR4_VMXE, MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1));
	return vmxon(region);
}

static enum vmx_result ap_do(enum ap_op op, uint64_t pa)
{
	switch (op) {
	case OP_ENABLE: return ap_enable(pa);
	case OP_VMXON: return vmxon(pa);
	case OP_VMXOFF: return vmxoff();
	case OP_VMCLEAR: return vmclear(pa);
	case OP_VMPTRLD: return vmptrld(pa);
	}
	return VMX_FAIL_INVALID;
}

void ap_main(int cpu_index)
{
	unsigned seen = 0;
	if (cpu_index != 1)
		return;
	while (!stop) {
		if (cmd_seq == seen) {
			cpu_relax();
			continue;
		}
		seen = cmd_seq;
		enum vmx_result r = ap_do(cmd_op, cmd_pa);
		uint64_t ptr = ~0ull;
		res_err = 0;
		if (r == VMX_FAIL_VALID)
			vmread_r(VMCS_VM_INSTRUCTION_ERROR, (uint64_t *)&res_err);
		if (cmd_op != OP_VMXOFF && (cmd_op != OP_ENABLE || r == VMX_OK))
			vmptrst(&ptr);
		res_ptr = ptr;
		res = r;
		asm volatile("" : : : "memory");
		ack_seq = seen;
	}
}

/* Post a command to the AP and wait (simulated time) for its result. */
static int on_ap(enum ap_op op, uint64_t pa)
{
	uint64_t start = rdtsc(), limit = smp_ns_to_tsc(100000000ull);
	cmd_op = op;
	cmd_pa = pa;
	asm volatile("" : : : "memory");
	unsigned seq = ++cmd_seq;
	while (ack_seq != seq && rdtsc() - start < limit)
		cpu_relax();
	return ack_seq == seq ? res : -1;
}

static uint64_t bsp_ptr(void)
{
	uint64_t p = 0;
	vmptrst(&p);
	return p;
}

static void migrate_without_vmclear(uint64_t v, uint64_t w, uint64_t r1)
{
	report_eq(on_ap(OP_VMCLEAR, w), VMX_OK, "cpu1: VMCLEAR of its own VMCS");
	report_eq(on_ap(OP_VMPTRLD, w), VMX_OK, "cpu1: VMPTRLD of its own VMCS");
	/* 30.3 VMPTRLD: the processor's own VMXON pointer is error 10 ... */
	report_eq(on_ap(OP_VMPTRLD, r1), VMX_FAIL_VALID, "cpu1: VMPTRLD of its own VMXON region: VMfailValid");
	report_eq(res_err, VMERR_VMPTRLD_VMXON_PTR, "cpu1: ... with error 10");
	/* ... a VMCS active on cpu0 is not checked: it becomes current (24.11.1 broken) */
	report_eq(on_ap(OP_VMPTRLD, v), VMX_OK, "cpu1: VMPTRLD of the VMCS active on cpu0 succeeds");
	report_eq(res_ptr, v, "cpu1: VMPTRST gives that VMCS");
	report_eq(on_ap(OP_VMCLEAR, v), VMX_OK, "cpu1: VMCLEAR of it succeeds");
	report_eq(res_ptr, ~0ull, "cpu1: no current VMCS after its VMCLEAR");
	/* cpu0 still has it current and can use it. */
	report_eq(bsp_ptr(), v, "cpu0: VMPTRST still gives the VMCS");
	report_eq(vmwrite_r(VMCS_GUEST_RIP, 0x1234), VMX_OK, "cpu0: VMWRITE to it succeeds");
	uint64_t rip = 0;
	enum vmx_result r = vmread_r(VMCS_GUEST_RIP, &rip);
	report(r == VMX_OK && rip == 0x1234, "cpu0: VMREAD reads it back (%#lx)", rip);
}

static void borrow_vmxon_region(uint64_t v, uint64_t r0, uint64_t r1)
{
	/* cpu0's VMXON region is only "the VMXON pointer" for cpu0 (30.3). */
	report_eq(on_ap(OP_VMPTRLD, r0), VMX_OK, "cpu1: VMPTRLD of cpu0's VMXON region succeeds");
	report_eq(res_ptr, r0, "cpu1: it is cpu1's current VMCS");
	report_eq(on_ap(OP_VMCLEAR, r0), VMX_OK, "cpu1: VMCLEAR of cpu0's VMXON region succeeds");
	report_eq(vmclear(r0), VMX_FAIL_VALID, "cpu0: VMCLEAR of its own VMXON region: VMfailValid");
	report_eq(vmread(VMCS_VM_INSTRUCTION_ERROR), VMERR_VMCLEAR_VMXON_PTR, "cpu0: ... with error 3");
	/* VMXON does not check what else uses its region (30.3 VMXON). */
	report_eq(on_ap(OP_VMXOFF, 0), VMX_OK, "cpu1: VMXOFF");
	report_eq(on_ap(OP_VMXON, r0), VMX_OK, "cpu1: VMXON with cpu0's VMXON region succeeds");
	report_eq(on_ap(OP_VMXOFF, 0), VMX_OK, "cpu1: VMXOFF");
	report_eq(on_ap(OP_VMXON, v), VMX_OK, "cpu1: VMXON with the VMCS active on cpu0 succeeds");
	report_eq(on_ap(OP_VMXOFF, 0), VMX_OK, "cpu1: VMXOFF");
	report_eq(on_ap(OP_VMXON, r1), VMX_OK, "cpu1: VMXON with its own region");
	report_eq(on_ap(OP_VMXOFF, 0), VMX_OK, "cpu1: VMXOFF");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	if (!smp_init(mbinfo))
		report_summary();
	if (!report(smp_ncpus >= 2, "at least two CPUs (-smp 2)") ||
	    !report(vmx_enable() == 0, "cpu0: VMXON"))
		report_summary();
	uint64_t r0 = vmx_vmxon_region(), r1 = vmx_alloc_vmcs(), v = vmx_alloc_vmcs(), w = vmx_alloc_vmcs();
	report_eq(vmclear(v), VMX_OK, "cpu0: VMCLEAR");
	report_eq(vmptrld(v), VMX_OK, "cpu0: VMPTRLD");
	report_eq(smp_start_aps(), smp_ncpus - 1, "APs arrived");
	if (report(on_ap(OP_ENABLE, r1) == VMX_OK, "cpu1: VMXON on its own region")) {
		migrate_without_vmclear(v, w, r1);
		borrow_vmxon_region(v, r0, r1);
	}
	report_eq(vmclear(v), VMX_OK, "cpu0: VMCLEAR");
	report_eq(vmxoff(), VMX_OK, "cpu0: VMXOFF");
	stop = true;
	report_summary();
}
