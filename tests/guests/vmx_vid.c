/* Virtual-interrupt delivery seen from a guest hypervisor (SDM vol. 3C
 * chapter 29, the edition whose VM-entry chapter is 26): evaluation of
 * pending virtual interrupts at VM entry (26.3.2.5, 29.2.1) and their
 * delivery through the guest IDT with the VISR/VIRR/SVI/RVI/VPPR updates
 * of 29.2.2, blocking by RFLAGS.IF and VPPR, interrupt-window exiting
 * first, self-IPI virtualization (x2APIC SELF IPI and the xAPIC ICR
 * through the APIC-access page), EOI virtualization with and without the
 * EOI-exit bitmap (exit 45, 29.1.4) and TPR virtualization by MOV to CR8.
 * Every expected value is the SDM's.
 */
#include "guest.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX, RDX, RBX };
#define RFLAGS_IF_ (1ul << 9)

extern char g_nop[], g_nop_end[], g_wrmsr[], g_wrmsr_end[], g_wr[], g_wr_end[], g_cr8[], g_cr8_end[];

asm(".text\n"
    ".code64\n"
    "g_nop:	nop\n"
    "g_nop_end:	vmcall\n"
    "g_wrmsr:	wrmsr\n"
    "g_wrmsr_end:	vmcall\n"
    "g_wr:	mov %ecx, (%rbx)\n"
    "g_wr_end:	vmcall\n"
    "g_cr8:	mov %rbx, %cr8\n"
    "g_cr8_end:	vmcall\n");

static uint64_t vapic, aapic;

static bool has_vid(uint32_t proc2)
{
	return (vmx_allowed1(VMX_CTL_PROC) & PROC_SECONDARY_CTLS) && (vmx_allowed1(VMX_CTL_PIN) & PIN_EXT_INTR_EXITING) &&
	       (vmx_allowed1(VMX_CTL_PROC2) & (proc2 | PROC2_VIRT_INTR_DELIVERY)) == (proc2 | PROC2_VIRT_INTR_DELIVERY);
}

static uint32_t *va32(unsigned off)
{
	return (uint32_t *)(vapic + off);
}

static bool vbit(unsigned base, unsigned v)
{
	return (*va32(base + (v / 32) * 16) >> (v % 32)) & 1;
}

static void vset(unsigned base, unsigned v)
{
	*va32(base + (v / 32) * 16) |= 1u << (v % 32);
}

/* A 64-bit guest with RFLAGS.IF = 1 at rip: TPR shadow, external-interrupt
 * exiting (26.2.1.1 requires it) and "virtual-interrupt delivery", plus
 * proc2 ("virtualize x2APIC mode" with empty MSR bitmaps, or "virtualize
 * APIC accesses"); guest interrupt status = status. */
static void fresh(char *rip, uint32_t proc2, uint16_t status)
{
	vmx_baseline(64);
	vmx_stub_idt();
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
	vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) | RFLAGS_IF_);
	vapic = vmx_scratch_page(4);
	aapic = vmx_scratch_page(5);
	vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING, true);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_TPR_SHADOW | PROC_SECONDARY_CTLS, true);
	vmx_set_ctl(VMCS_PROC2_CONTROLS, proc2 | PROC2_VIRT_INTR_DELIVERY, true);
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, vapic);
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	vmwrite(VMCS_GUEST_INTR_STATUS, status);
	for (int k = 0; k < 4; k++)
		vmwrite(VMCS_EOI_EXIT_BITMAP0 + 2 * k, 0);
	if (proc2 & PROC2_VIRT_APIC_ACCESS)
		vmwrite(VMCS_APIC_ACCESS_ADDR, aapic);
	if (proc2 & PROC2_VIRT_X2APIC) {
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MSR_BITMAPS, true);
		vmwrite(VMCS_MSR_BITMAP, vmx_scratch_page(6));
	}
}

static bool exit_is(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK) {
		report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
		       o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
		return false;
	}
	return report(o.exit_reason == reason, "%s: exit reason %u (got %u)", what, reason, o.exit_reason);
}

/* The guest took virtual interrupt v at the instruction boundary before
 * `at`: its stub ran (RAX = v) with the frame's RIP = at, and 29.2.2's
 * updates are visible. */
static void delivered(struct vmx_outcome o, unsigned v, char *at, uint16_t status, const char *what)
{
	if (!exit_is(o, EXIT_REASON_VMCALL, what))
		return;
	report_eq(vmx_guest_regs[RAX], v, "%s: the guest IDT's vector %u ran", what, v);
	report_eq(*(uint64_t *)vmread(VMCS_GUEST_RSP), (uint64_t)at, "%s: pushed RIP", what);
	report(vbit(0x100, v) && !vbit(0x200, v), "%s: VISR[%u] = 1, VIRR[%u] = 0", what, v, v);
	report_eq(vmread(VMCS_GUEST_INTR_STATUS), status, "%s: guest interrupt status (SVI:RVI)", what);
	report_eq(*va32(0xa0), v & 0xf0, "%s: VPPR = vector & F0H", what);
}

static bool ran_to(struct vmx_outcome o, char *rip, const char *what)
{
	if (!exit_is(o, EXIT_REASON_VMCALL, what))
		return false;
	return report(vmread(VMCS_GUEST_RIP) == (uint64_t)rip, "%s: nothing delivered before the VMCALL", what);
}

static void test_entry(void)
{
	struct vmx_outcome o;
	if (!has_vid(0)) {
		report_skip("virtual-interrupt delivery: the model has no such control");
		return;
	}
	/* RVI 31H, VIRR[31H] and VIRR[22H]: delivered right after entry;
	 * RVI becomes the next highest VIRR bit (29.2.2). */
	fresh(g_nop, 0, 0x31);
	vset(0x200, 0x31);
	vset(0x200, 0x22);
	o = vmx_enter_guest(false);
	delivered(o, 0x31, g_nop, 0x3122, "RVI 31H at VM entry");

	fresh(g_nop, 0, 0x31);
	vset(0x200, 0x31);
	*va32(0x80) = 0x30;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_nop_end, "RVI[7:4] = VTPR[7:4]: not recognized (29.2.1)")) {
		report_eq(vmread(VMCS_GUEST_INTR_STATUS), 0x31, "status unchanged");
		report_eq(*va32(0xa0), 0x30, "VM entry's PPR virtualization: VPPR = VTPR (29.1.3)");
	}

	fresh(g_nop, 0, 0x31);
	vset(0x200, 0x31);
	vmwrite(VMCS_GUEST_RFLAGS, vmread(VMCS_GUEST_RFLAGS) & ~RFLAGS_IF_);
	o = vmx_enter_guest(false);
	ran_to(o, g_nop_end, "RFLAGS.IF = 0 blocks virtual-interrupt delivery (29.2.2)");

	fresh(g_nop, 0, 0x31);
	vset(0x200, 0x31);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_INTERRUPT_WINDOW, "interrupt-window exiting with RVI pending"))
		report_eq(vmread(VMCS_GUEST_INTR_STATUS), 0x31, "no virtual interrupt was delivered");

	/* MOV to CR8 lowers VTPR: TPR virtualization evaluates (29.1.2). */
	fresh(g_cr8, 0, 0x31);
	vset(0x200, 0x31);
	*va32(0x80) = 0x50;
	o = vmx_enter_guest(false);
	delivered(o, 0x31, g_cr8_end, 0x3100, "MOV to CR8 0 with RVI 31H pending");
}

static void test_self_ipi(void)
{
	struct vmx_outcome o;
	if (has_vid(PROC2_VIRT_X2APIC)) {
		fresh(g_wrmsr, PROC2_VIRT_X2APIC, 0);
		vmx_guest_regs[RCX] = 0x83f;
		vmx_guest_regs[RAX] = 0x45;
		o = vmx_enter_guest(false);
		delivered(o, 0x45, g_wrmsr_end, 0x4500, "x2APIC SELF IPI 45H (29.1.5)");
	} else {
		report_skip("x2APIC self-IPI virtualization: the model lacks the controls");
	}
	if (!has_vid(PROC2_VIRT_APIC_ACCESS)) {
		report_skip("xAPIC self-IPI virtualization: the model lacks the controls");
		return;
	}
	fresh(g_wr, PROC2_VIRT_APIC_ACCESS, 0);
	vmx_guest_regs[RBX] = aapic + 0x300;
	vmx_guest_regs[RCX] = (1u << 18) | 0x52;      /* shorthand self, fixed, edge */
	o = vmx_enter_guest(false);
	delivered(o, 0x52, g_wr_end, 0x5200, "ICR write: self IPI 52H (29.4.3.2)");

	fresh(g_wr, PROC2_VIRT_APIC_ACCESS, 0);
	vmx_guest_regs[RBX] = aapic + 0x300;
	vmx_guest_regs[RCX] = (1u << 18) | (1u << 15) | 0x52;   /* level: not a virtualizable self IPI */
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_APIC_WRITE, "level-triggered self IPI")) {
		report_eq(vmread(VMCS_EXIT_QUALIFICATION), 0x300, "APIC write: qualification 300H");
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_wr_end, "APIC write: trap-like");
	}
}

static void test_eoi(void)
{
	struct vmx_outcome o;
	if (!has_vid(PROC2_VIRT_X2APIC)) {
		report_skip("EOI virtualization: the model lacks the controls");
		return;
	}
	/* SVI 45H, VISR {45H, 21H}: EOI clears 45H, SVI = 21H, VPPR = 20H;
	 * no EOI-exit bit: evaluation, nothing pending (29.1.4). */
	fresh(g_wrmsr, PROC2_VIRT_X2APIC, 0x4500);
	vset(0x100, 0x45);
	vset(0x100, 0x21);
	vmx_guest_regs[RCX] = 0x80b;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_wrmsr_end, "virtualized EOI without the EOI-exit bit")) {
		report(!vbit(0x100, 0x45) && vbit(0x100, 0x21), "VISR[45H] cleared, VISR[21H] kept");
		report_eq(vmread(VMCS_GUEST_INTR_STATUS), 0x2100, "SVI = 21H");
		report_eq(*va32(0xa0), 0x20, "VPPR = SVI & F0H (29.1.3)");
	}

	fresh(g_wrmsr, PROC2_VIRT_X2APIC, 0x4500);
	vset(0x100, 0x45);
	vmwrite(VMCS_EOI_EXIT_BITMAP1, 1ull << (0x45 - 64));
	vmx_guest_regs[RCX] = 0x80b;
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_VIRTUALIZED_EOI, "virtualized EOI with EOI-exit bit 45H")) {
		report_eq(vmread(VMCS_EXIT_QUALIFICATION), 0x45, "EOI exit: qualification = the vector (27.2.1)");
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_wrmsr_end, "EOI exit: trap-like (29.1.4)");
		report_eq(vmread(VMCS_GUEST_INTR_STATUS), 0, "EOI exit: SVI = 0 after the EOI");
		report(!vbit(0x100, 0x45), "EOI exit: VISR[45H] cleared first");
	}

	/* The EOI lowers VPPR, and the pending 31H is delivered (29.2.1). */
	fresh(g_wrmsr, PROC2_VIRT_X2APIC, 0x4531);
	vset(0x100, 0x45);
	vset(0x200, 0x31);
	vmx_guest_regs[RCX] = 0x80b;
	o = vmx_enter_guest(false);
	delivered(o, 0x31, g_wrmsr_end, 0x3100, "EOI of 45H unmasks RVI 31H");

	fresh(g_wrmsr, PROC2_VIRT_X2APIC, 0x4500);
	vset(0x100, 0x45);
	vmx_guest_regs[RCX] = 0x80b;
	vmx_guest_regs[RAX] = 1;
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_VMCALL, "WRMSR 80BH with EAX = 1"))
		report_eq(vmx_guest_regs[RAX], 13, "WRMSR 80BH of a non-zero value: #GP (29.5)");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		test_entry();
		test_self_ipi();
		test_eoi();
	}
	report_summary();
}
