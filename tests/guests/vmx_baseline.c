/* The guest VMX library itself (lib/vmx_vmcs.h): the baseline VMCS it
 * builds from the capability MSRs enters its guest in both forms (64-bit
 * and 32-bit protected mode with paging), the guest's VMCALL exits with
 * reason 18 and the VMCALL's own RIP (SDM vol. 3C 27.2.1, 27.3.3), VMRESUME
 * after skipping it runs the next instructions, and the guest state saved
 * by the exit reads back as the baseline wrote it (27.3).
 */
#include "guest.h"
#include "vmx_vmcs.h"

#define AR_UNUSABLE_BIT (1u << 16)

static const char *const ctl_names[] = { "pin-based", "primary processor-based", "secondary processor-based",
					 "VM-exit", "VM-entry" };

/* A.3-A.5: every must-be-1 bit is also an allowed-1 bit. */
static void test_caps(void)
{
	for (int c = VMX_CTL_PIN; c <= VMX_CTL_ENTRY; c++)
		report(!(vmx_must1(c) & ~vmx_allowed1(c)), "caps: %s must-be-1 bits are allowed-1", ctl_names[c]);
	report((vmx_allowed1(VMX_CTL_EXIT) & EXIT_HOST_ADDR_SPACE) &&
	       (vmx_allowed1(VMX_CTL_ENTRY) & ENTRY_IA32E_GUEST),
	       "caps: host address-space size and IA-32e mode guest may be 1");
	report(vmx_phys_bits() >= 36 && vmx_phys_bits() <= 52, "caps: MAXPHYADDR %u", vmx_phys_bits());
}

/* Fields the exit saves (27.3) compared with what the baseline wrote. */
static const uint32_t saved_fields[] = {
	VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4, VMCS_GUEST_RSP, VMCS_GUEST_RFLAGS,
	VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_AR,
	VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_AR, VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_AR,
	VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_AR,
	VMCS_GUEST_GDTR_BASE, VMCS_GUEST_GDTR_LIMIT, VMCS_GUEST_IDTR_BASE, VMCS_GUEST_IDTR_LIMIT,
	VMCS_GUEST_ACTIVITY_STATE, VMCS_GUEST_INTERRUPTIBILITY, VMCS_VMCS_LINK_PTR,
};

static void test_guest(int bits)
{
	uint64_t before[ARRAY_SIZE(saved_fields)];
	uint64_t rip0 = (uint64_t)(bits == 64 ? vmx_guest64_code : vmx_guest32_code);
	struct vmx_outcome o;

	vmx_baseline(bits);
	for (unsigned i = 0; i < ARRAY_SIZE(saved_fields); i++)
		before[i] = vmread(saved_fields[i]);
	o = vmx_try_launch();
	if (!report(o.res == VMX_OK, "%d-bit guest: VMLAUNCH of the baseline enters", bits))
		printf("      VMfail%s, VM-instruction error %u\n", o.res == VMX_FAIL_VALID ? "Valid" : "Invalid",
		       o.error);
	report_eq(o.exit_reason, EXIT_REASON_VMCALL, "%d-bit guest: exit reason 18 (VMCALL)", bits);
	report_eq(o.qual, 0, "%d-bit guest: exit qualification 0", bits);
	report_eq(vmread(VMCS_GUEST_RIP), rip0, "%d-bit guest: GUEST_RIP is the VMCALL itself", bits);
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), VMX_VMCALL_LEN, "%d-bit guest: exit instruction length", bits);
	for (unsigned i = 0; i < ARRAY_SIZE(saved_fields); i++)
		report_eq(vmread(saved_fields[i]), before[i], "%d-bit guest: field %#x saved as loaded", bits,
			  saved_fields[i]);
	report(vmread(VMCS_GUEST_LDTR_AR) & AR_UNUSABLE_BIT, "%d-bit guest: LDTR still unusable", bits);

	vmwrite(VMCS_GUEST_RIP, rip0 + vmread(VMCS_EXIT_INSTRUCTION_LEN));
	vmx_guest_regs[0] = 0;
	o = vmx_try_resume();
	report(o.res == VMX_OK, "%d-bit guest: VMRESUME enters", bits);
	report_eq(o.exit_reason, EXIT_REASON_VMCALL, "%d-bit guest: second exit reason 18", bits);
	report_eq(vmread(VMCS_GUEST_RIP), rip0 + VMX_GUEST_SECOND_VMCALL, "%d-bit guest: the second VMCALL", bits);
	report_eq((uint32_t)vmx_guest_regs[0], VMX_GUEST_MAGIC, "%d-bit guest: RAX written by the guest", bits);

	o = vmx_try_launch();
	report(o.res == VMX_FAIL_VALID && o.error == VMERR_VMLAUNCH_NOT_CLEAR,
	       "%d-bit guest: VMLAUNCH of the launched VMCS is VMfailValid(4) (got %d/%u)", bits, o.res, o.error);
}

/* vmx_enter_guest: the guest's registers go in from vmx_guest_regs[] and
 * come back there (the host's own values would be unrelated). */
static void test_enter_guest(void)
{
	const uint64_t rbx = 0x5a5a00001234abcdull, r15 = 0x0f0f0f0f0f0f0f0full;
	struct vmx_outcome o;

	vmx_baseline(64);
	for (unsigned r = 0; r < 16; r++)
		vmx_guest_regs[r] = 0;
	vmx_guest_regs[3] = rbx;
	vmx_guest_regs[15] = r15;
	o = vmx_enter_guest(false);
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL, "enter_guest: VMLAUNCH enters (%d/%u)", o.res,
	       o.exit_reason);
	report_eq(vmx_guest_regs[3], rbx, "enter_guest: RBX went in and came back");
	report_eq(vmx_guest_regs[15], r15, "enter_guest: R15 went in and came back");
	vmx_skip_insn();
	o = vmx_enter_guest(true);
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL, "enter_guest: VMRESUME enters");
	report_eq((uint32_t)vmx_guest_regs[0], VMX_GUEST_MAGIC, "enter_guest: RAX written by the guest");
	report_eq(vmx_guest_regs[3], rbx, "enter_guest: RBX kept across the second entry");
	o = vmx_enter_guest(false);
	report(o.res == VMX_FAIL_VALID && o.error == VMERR_VMLAUNCH_NOT_CLEAR,
	       "enter_guest: VMLAUNCH of the launched VMCS is VMfailValid(4) (got %d/%u)", o.res, o.error);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		test_caps();
		test_guest(64);
		test_guest(32);
		/* A second baseline after exits: the library resets everything. */
		test_guest(64);
		test_enter_guest();
	}
	report_summary();
}
