/* vmx_exit_smp: INIT and SIPI in VMX non-root operation, sent by another
 * CPU through its local APIC (SDM vol. 3C, the edition whose VM-exit
 * chapter is 27): an INIT to a CPU running a guest is a VM exit, reason 3,
 * and none of INIT's own operations happen (25.2); a SIPI to a guest in
 * the active state is discarded, one to a guest in the wait-for-SIPI
 * activity state is a VM exit, reason 4, with the SIPI's vector as the
 * exit qualification (26.6.2; 27.2.1 Table 27-1: bits 7:0 the vector).
 *
 * Runs with -smp 2. Only CPU 1 uses VMX (the guest VMX library is its
 * alone); CPU 0 sends the IPIs when CPU 1 says it is ready. CPU 1 calls
 * report() while CPU 0 only polls memory, so the output is not mixed.
 */
#include "multiboot.h"
#include "smp.h"
#include "vmx_vmcs.h"
#include "vmx/caps_bits.h"

#define GUEST_MAGIC_RBX 0x5eed0123abcdull
#define STALE_SIPI_VECTOR 0x55          /* sent while the guest is active: discarded */
#define SIPI_VECTOR 0x9a
#define IPI_DELAY_NS 1000000ull         /* 1 ms: far longer than a VM entry */
#define WAIT_LIMIT_NS 200000000ull

/* Guest code: announce being in non-root operation, then spin on one
 * instruction (its RIP is the one the INIT exit saves). */
extern char gs_spin[], gs_loop[], gs_vmcall[];
extern volatile uint32_t gs_in_guest;
asm(".text\n"
    ".code64\n"
    "gs_spin:\n"
    "	movl $1, gs_in_guest(%rip)\n"
    "gs_loop:\n"
    "	jmp gs_loop\n"
    "gs_vmcall:\n"
    "	vmcall\n"
    "	jmp gs_vmcall\n"
    ".data\n"
    ".balign 4\n"
    "gs_in_guest: .long 0\n"
    ".text\n");

/* CPU 1 -> CPU 0: a phase is ready for its IPI; CPU 0 -> CPU 1: sent. */
enum phase { PH_NONE, PH_INIT, PH_SIPI, PH_DONE };
static volatile enum phase ap_phase;
static volatile bool ap_wait_sipi_ok;   /* the model offers the wait-for-SIPI activity state */

static bool expect_exit(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK) {
		report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
		       o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
		return false;
	}
	return report(o.exit_reason == reason, "%s: exit reason %u (expected %u, qualification %#lx)", what,
		      o.exit_reason, reason, o.qual);
}

/* What 27.2 says for an exit not caused by an instruction, an exception
 * or an interrupt. */
static void expect_boundary_info(const char *what)
{
	report_eq(vmread(VMCS_EXIT_INTR_INFO) & INTR_INFO_VALID, 0,
		  "%s: 27.2.2 VM-exit interruption information not valid", what);
	report_eq(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID, 0,
		  "%s: 27.2.3 IDT-vectoring information not valid", what);
}

static void ap_init_exit(void)
{
	const char *w = "INIT to a CPU in non-root operation";
	struct vmx_outcome o;
	uint64_t cr0, cs, rflags;

	vmx_baseline(64);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gs_spin);
	vmwrite(VMCS_GUEST_RSP, vmx_scratch_page(2) + 0x800);
	cr0 = vmread(VMCS_GUEST_CR0);
	cs = vmread(VMCS_GUEST_CS_SELECTOR);
	rflags = vmread(VMCS_GUEST_RFLAGS);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[3] = GUEST_MAGIC_RBX;
	gs_in_guest = 0;
	ap_phase = PH_INIT;
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_INIT, w))
		return;
	report_eq(o.qual, 0, "%s: 27.2.1 exit qualification 0", w);
	expect_boundary_info(w);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gs_loop, "%s: 27.3.3 RIP of the next instruction", w);
	report_eq(vmread(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_ACTIVE, "%s: 27.3.4 activity state active", w);
	/* 25.2: "INIT signals ... cause VM exits ... none of the INIT's
	 * operations occur": no reset of the guest's registers (vol. 3A
	 * 9.1.1 would load CR0 60000010H, CS F000H, RFLAGS 2, RBX 0). */
	report_eq(vmread(VMCS_GUEST_CR0), cr0, "%s: 25.2 guest CR0 not reset", w);
	report_eq(vmread(VMCS_GUEST_CS_SELECTOR), cs, "%s: 25.2 guest CS not reset", w);
	report_eq(vmread(VMCS_GUEST_RFLAGS), rflags, "%s: 25.2 guest RFLAGS not reset", w);
	report_eq(vmx_guest_regs[3], GUEST_MAGIC_RBX, "%s: 25.2 guest RBX not reset", w);
	/* The exit consumed the INIT: the guest runs on, and a stale SIPI sent
	 * while it was active did not stay pending (26.6.2). */
	w = "VM entry after the INIT exit";
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gs_vmcall);
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_VMCALL, w))
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gs_vmcall, "%s: the guest ran to its VMCALL", w);
}

static void ap_sipi_exit(void)
{
	const char *w = "SIPI to a guest in the wait-for-SIPI state";
	struct vmx_outcome o;

	vmx_baseline(64);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)gs_vmcall);
	vmwrite(VMCS_GUEST_RSP, vmx_scratch_page(2) + 0x800);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	ap_phase = PH_SIPI;
	o = vmx_enter_guest(false);
	if (!expect_exit(o, EXIT_REASON_SIPI, w))
		return;
	/* 27.2.1 Table 27-1: the SIPI vector in bits 7:0, the rest 0. */
	report_eq(o.qual, SIPI_VECTOR, "%s: 27.2.1 qualification = the SIPI vector", w);
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), SIPI_VECTOR, "%s: EXIT_QUALIFICATION field", w);
	expect_boundary_info(w);
	/* 27.3.4: the activity state before the exit; 27.1: the return to the
	 * active state happens only after the exit completes. */
	report_eq(vmread(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_WAIT_SIPI, "%s: 27.3.4 activity state wait-for-SIPI", w);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)gs_vmcall, "%s: 27.3.3 RIP as loaded (no instruction ran)", w);
}

void ap_main(int cpu_index)
{
	if (cpu_index != 1)
		return;
	if (report(vmx_start(), "cpu1: VMX operation")) {
		ap_init_exit();
		ap_wait_sipi_ok = vmx_msr(MSR_IA32_VMX_MISC) & VMX_MISC_ACT_WAIT_SIPI;
		if (ap_wait_sipi_ok)
			ap_sipi_exit();
		else
			report_skip("26.6.2 wait-for-SIPI activity state: IA32_VMX_MISC bit 8 is 0 on this model");
		uint64_t vmcs = ~0ull;
		vmptrst(&vmcs);
		report_eq(vmclear(vmcs), VMX_OK, "cpu1: VMCLEAR of the current VMCS");
		report_eq(vmxoff(), VMX_OK, "cpu1: VMXOFF");
	}
	/* Had the INIT exit left INIT pending, VMXOFF would unblock it and
	 * this CPU would be in wait-for-SIPI now, not here. */
	ap_phase = PH_DONE;
}

static bool wait_for(volatile enum phase *p, enum phase want, volatile uint32_t *flag)
{
	uint64_t start = rdtsc(), limit = smp_ns_to_tsc(WAIT_LIMIT_NS);
	while ((*p != want || (flag && !*flag)) && rdtsc() - start < limit)
		cpu_relax();
	return *p == want && (!flag || *flag);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	if (!smp_init(mbinfo))
		report_summary();
	/* vtxsim's core2 row has neither leaf 0BH nor CPUID.1:EDX.HTT, so its
	 * CPUID counts one logical processor whatever -smp says; guests.vts
	 * then gives the count as "cpus=N". */
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbinfo;
	char buf[8];
	if (smp_ncpus < 2 && (mbi->flags & MBI_CMDLINE) &&
	    cmdline_get((const char *)(uintptr_t)mbi->cmdline, "cpus", buf, sizeof(buf)) && buf[0] == '2')
		smp_ncpus = 2;
	if (!report(smp_ncpus >= 2, "at least two CPUs (-smp 2)"))
		report_summary();
	report_eq(smp_start_aps(), smp_ncpus - 1, "APs arrived");
	uint8_t ap = smp_cpus[1].apic_id;

	/* CPU 1 says it is in the guest; a SIPI there is discarded (26.6.2),
	 * then the INIT. */
	bool ok = wait_for(&ap_phase, PH_INIT, &gs_in_guest);
	if (ok) {
		xapic_send_ipi(ap, ICR_ASSERT | ICR_STARTUP | STALE_SIPI_VECTOR);
		smp_delay_ns(IPI_DELAY_NS);
		xapic_send_ipi(ap, ICR_ASSERT | ICR_INIT);
		/* wait-for-SIPI phase (or done when the model has none). */
		uint64_t start = rdtsc();
		while (ap_phase == PH_INIT && rdtsc() - start < smp_ns_to_tsc(WAIT_LIMIT_NS))
			cpu_relax();
		if (ap_phase == PH_SIPI) {
			smp_delay_ns(IPI_DELAY_NS);
			xapic_send_ipi(ap, ICR_ASSERT | ICR_STARTUP | SIPI_VECTOR);
		}
		ok = wait_for(&ap_phase, PH_DONE, NULL);
	}
	report(ok, "cpu1 reached every phase and finished in root operation (phase %u)", ap_phase);
	report_summary();
}
