/* A broken hypervisor to debug (docs/debugger.md, "A worked session: a VM
 * entry that fails"; tests/debugger/vmx_*.dbg). Each case builds the
 * library's baseline VMCS (lib/vmx_vmcs.h), breaks it on purpose, checks
 * that VMLAUNCH fails as the SDM says, repairs the VMCS and launches again:
 *
 *   1. guest CS DPL 3 with SS DPL 0: VM-entry failure, exit reason 33
 *      (26.3.1.2, check GUEST_CS_AR_DPL_NONCONF). The repair is skipped
 *      when someone (the debugger's `vmcs set`) already fixed the field.
 *   2. three faults at once: a reserved pin-based control bit (26.2.1.1),
 *      host CR4 without VMXE (26.2.2), guest RFLAGS bit 1 clear (26.3.1.4):
 *      VMfailValid(7), the control check coming first (26.2); `vmx lint`
 *      lists all three.
 *   3. an x2APIC MSR in the VM-entry MSR-load area: VM-entry failure, exit
 *      reason 34, qualification 1 (26.4).
 * Then the repaired guest runs and exits with VMCALL a few times.
 */
#include "guest.h"
#include "vmx_vmcs.h"

#define AR_DPL_MASK (3u << 5)
#define PIN_RESERVED_BIT (1u << 8)      /* no model allows pin-based bit 8 (24.6.1) */
#define MSR_X2APIC_TPR 0x808u
#define GUEST_CALLS 4

static bool entry_failed(struct vmx_outcome o, uint32_t reason)
{
	return o.res == VMX_OK && o.exit_reason == (reason | EXIT_REASON_ENTRY_FAILURE);
}

static void case_cs_dpl(void)
{
	vmx_baseline(64);
	uint64_t ar = vmread(VMCS_GUEST_CS_AR);
	vmwrite(VMCS_GUEST_CS_AR, ar | AR_DPL_MASK);
	struct vmx_outcome o = vmx_try_launch();
	report(entry_failed(o, EXIT_REASON_INVALID_GUEST_STATE) && o.qual == 0,
	       "CS DPL 3, SS DPL 0: VM-entry failure, exit reason 33, qualification 0 (got %d/%#x)", o.res,
	       o.exit_reason);
	if (vmread(VMCS_GUEST_CS_AR) & AR_DPL_MASK)
		vmwrite(VMCS_GUEST_CS_AR, ar);
	else
		printf("note: GUEST_CS_AR was repaired from outside (the debugger)\n");
	o = vmx_try_launch();
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL,
	       "CS DPL repaired: VMLAUNCH enters, the guest exits with VMCALL (got %d/%#x)", o.res, o.exit_reason);
}

static void case_three(void)
{
	vmx_baseline(64);
	uint64_t pin = vmread(VMCS_PIN_CONTROLS), cr4 = vmread(VMCS_HOST_CR4), rflags = vmread(VMCS_GUEST_RFLAGS);
	vmwrite(VMCS_PIN_CONTROLS, pin | PIN_RESERVED_BIT);
	vmwrite(VMCS_HOST_CR4, cr4 & ~CR4_VMXE);
	vmwrite(VMCS_GUEST_RFLAGS, 0);
	struct vmx_outcome o = vmx_try_launch();
	report(o.res == VMX_FAIL_VALID && o.error == VMERR_ENTRY_INVALID_CONTROL,
	       "three faults: VMfailValid(7), the controls are checked first (got %d/%u)", o.res, o.error);
	vmwrite(VMCS_PIN_CONTROLS, pin);
	vmwrite(VMCS_HOST_CR4, cr4);
	vmwrite(VMCS_GUEST_RFLAGS, rflags);
	o = vmx_try_launch();
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL, "three faults repaired: VMLAUNCH enters");
}

static void case_msr_load(void)
{
	vmx_baseline(64);
	uint64_t *area = (uint64_t *)vmx_scratch_page(0);
	area[0] = MSR_X2APIC_TPR;
	area[1] = 0;
	vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, (uint64_t)area);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 1);
	struct vmx_outcome o = vmx_try_launch();
	report(entry_failed(o, EXIT_REASON_MSR_LOADING) && o.qual == 1,
	       "x2APIC MSR in the MSR-load area: exit reason 34, qualification 1 (got %d/%#x/%lu)", o.res,
	       o.exit_reason, (unsigned long)o.qual);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	o = vmx_try_launch();
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL, "MSR-load area emptied: VMLAUNCH enters");
}

/* The repaired guest: VMCALL, skip it, resume (the baseline guest's second
 * VMCALL), rewind, again. */
static void run_guest(void)
{
	uint64_t rip0 = vmread(VMCS_GUEST_RIP);
	bool ok = true;
	for (int i = 0; i < GUEST_CALLS; i++) {
		vmwrite(VMCS_GUEST_RIP, rip0);
		struct vmx_outcome o = vmx_try_resume();
		ok = ok && o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL;
	}
	report(ok, "the repaired guest exits with VMCALL %d times", GUEST_CALLS);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		case_cs_dpl();
		case_three();
		case_msr_load();
		run_guest();
	}
	report_summary();
}
