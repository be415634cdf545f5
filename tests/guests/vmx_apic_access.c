/* The APIC-access page and virtualized x2APIC MSRs seen from a guest
 * hypervisor (SDM vol. 3C chapter 29, the edition whose VM-exit chapter is
 * 27): APIC-access VM exits (44) with the qualification of Table 27-6 for
 * reads, writes, fetches and accesses during event delivery (with the
 * IDT-vectoring information), VTPR reads and writes through the page,
 * TPR virtualization's trap-like TPR-below-threshold exit, register reads
 * under "APIC-register virtualization", APIC-write exits (56) and the
 * VICR_HI emulation, and RDMSR/WRMSR of 800H-8FFH under "virtualize x2APIC
 * mode" (29.5) with their #GP cases. Every expected value is the SDM's.
 */
#include "guest.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX, RDX, RBX };
#define VEC_GP_ 13
#define Q_READ (0ul << 12)
#define Q_WRITE (1ul << 12)
#define Q_FETCH (2ul << 12)
#define Q_EVENT (3ul << 12)
#define INTR_TYPE_SW_INTR_ (4u << 8)
#define VALID (1u << 31)

extern char g_rd[], g_rd_end[], g_rd16[], g_rd16_end[], g_rd64[], g_rd64_end[];
extern char g_wr[], g_wr_end[], g_wr8[], g_wr8_end[], g_jmp[], g_int[], g_int_end[];
extern char g_rdmsr[], g_rdmsr_end[], g_wrmsr[], g_wrmsr_end[];

asm(".text\n"
    ".code64\n"
    "g_rd:	mov (%rbx), %eax\n"
    "g_rd_end:	vmcall\n"
    "g_rd16:	movzwl (%rbx), %eax\n"
    "g_rd16_end:	vmcall\n"
    "g_rd64:	mov (%rbx), %rax\n"
    "g_rd64_end:	vmcall\n"
    "g_wr:	mov %ecx, (%rbx)\n"
    "g_wr_end:	vmcall\n"
    "g_wr8:	mov %cl, (%rbx)\n"
    "g_wr8_end:	vmcall\n"
    "g_jmp:	jmp *%rbx\n"
    "g_int:	int $0x21\n"
    "g_int_end:	vmcall\n"
    "g_rdmsr:	rdmsr\n"
    "g_rdmsr_end:	vmcall\n"
    "g_wrmsr:	wrmsr\n"
    "g_wrmsr_end:	vmcall\n");

static uint64_t vapic, aapic;

static bool has2(uint32_t bits)
{
	return (vmx_allowed1(VMX_CTL_PROC) & PROC_SECONDARY_CTLS) && (vmx_allowed1(VMX_CTL_PROC) & PROC_TPR_SHADOW) &&
	       (vmx_allowed1(VMX_CTL_PROC2) & bits) == bits;
}

static uint32_t *va32(unsigned off)
{
	return (uint32_t *)(vapic + off);
}

/* A 64-bit baseline entered at rip with the TPR shadow and the secondary
 * controls proc2 (the caller checked the model has them). */
static void fresh(char *rip, uint32_t proc2)
{
	vmx_baseline(64);
	vmx_stub_idt();
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
	vapic = vmx_scratch_page(4);
	aapic = vmx_scratch_page(5);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_TPR_SHADOW | PROC_SECONDARY_CTLS, true);
	vmx_set_ctl(VMCS_PROC2_CONTROLS, proc2, true);
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, vapic);
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	if (proc2 & PROC2_VIRT_APIC_ACCESS)
		vmwrite(VMCS_APIC_ACCESS_ADDR, aapic);
	if (proc2 & PROC2_VIRT_X2APIC) {      /* MSR bitmaps of zeros: nothing exits */
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

static bool ran_to(struct vmx_outcome o, char *rip, const char *what)
{
	if (!exit_is(o, EXIT_REASON_VMCALL, what))
		return false;
	return report(vmread(VMCS_GUEST_RIP) == (uint64_t)rip, "%s: no exit before the final VMCALL", what);
}

/* An APIC-access exit: fault-like, GUEST_RIP = the instruction (27.3.3),
 * qualification = offset | access type (Table 27-6). */
static void access_exit(char *rip, uint64_t qual, const char *what)
{
	struct vmx_outcome o = vmx_enter_guest(false);
	if (!exit_is(o, EXIT_REASON_APIC_ACCESS, what))
		return;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), qual, "%s: qualification (Table 27-6)", what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)rip, "%s: GUEST_RIP = the instruction (fault-like)", what);
}

/* ---- "virtualize APIC accesses" without register virtualization ---- */

static void test_access_exits(void)
{
	const uint32_t ctl = PROC2_VIRT_APIC_ACCESS;
	if (!has2(ctl)) {
		report_skip("APIC-access exits: the model has no 'virtualize APIC accesses'");
		return;
	}
	fresh(g_rd, ctl);
	vmx_guest_regs[RBX] = aapic + 0x20;
	access_exit(g_rd, 0x020 | Q_READ, "read of the APIC ID (29.4.2)");

	fresh(g_wr, ctl);
	vmx_guest_regs[RBX] = aapic + 0x320;
	access_exit(g_wr, 0x320 | Q_WRITE, "write of LVT timer without APIC-register virtualization (29.4.3.1)");

	fresh(g_jmp, ctl);
	vmx_guest_regs[RBX] = aapic + 0x100;
	access_exit((char *)(aapic + 0x100), 0x100 | Q_FETCH, "instruction fetch from the APIC-access page (29.4.2)");

	fresh(g_rd64, ctl);
	vmx_guest_regs[RBX] = aapic + 0x80;
	access_exit(g_rd64, 0x080 | Q_READ, "64-bit read of VTPR (more than 32 bits, 29.4.2)");

	/* "use TPR shadow" 0: every access exits, VTPR included (29.4.2). */
	fresh(g_rd, ctl);
	if (vmx_must1(VMX_CTL_PROC) & PROC_TPR_SHADOW) {
		report_skip("APIC access without the TPR shadow: the control must be 1");
	} else {
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_TPR_SHADOW, false);
		vmx_guest_regs[RBX] = aapic + 0x80;
		access_exit(g_rd, 0x080 | Q_READ, "VTPR read with 'use TPR shadow' 0");
	}

	/* During event delivery: the guest IDT lies on the APIC-access page;
	 * reading gate 21H is a linear access during event delivery, and the
	 * exit reports INT 21H as IDT-vectoring information (27.2.3). */
	fresh(g_int, ctl);
	vmwrite(VMCS_GUEST_IDTR_BASE, aapic);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xfff);
	access_exit(g_int, 0x210 | Q_EVENT, "IDT gate read during INT 21H delivery");
	report_eq(vmread(VMCS_IDT_VECTORING_INFO), VALID | INTR_TYPE_SW_INTR_ | 0x21,
		  "event delivery: IDT-vectoring information = INT 21H (27.2.3)");
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), g_int_end - g_int, "event delivery: the INT instruction's length (27.2.5)");
}

/* ---- VTPR through the page; TPR virtualization (29.4.2, 29.4.3, 29.1.2) ---- */

static void test_vtpr(void)
{
	const uint32_t ctl = PROC2_VIRT_APIC_ACCESS;
	struct vmx_outcome o;
	if (!has2(ctl)) {
		report_skip("VTPR accesses: the model has no 'virtualize APIC accesses'");
		return;
	}
	fresh(g_rd, ctl);
	*va32(0x80) = 0x12345670;
	vmx_guest_regs[RBX] = aapic + 0x80;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_rd_end, "VTPR read through the APIC-access page"))
		report_eq(vmx_guest_regs[RAX] & 0xffffffff, 0x12345670, "the read returns the virtual-APIC page's 080H (29.4.2)");

	fresh(g_wr8, ctl);
	*va32(0x80) = 0x12345600;
	vmx_guest_regs[RBX] = aapic + 0x80;
	vmx_guest_regs[RCX] = 0x30;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_wr8_end, "byte write of VTPR (threshold 0)"))
		report_eq(*va32(0x80), 0x30, "APIC-write emulation clears VTPR bytes 3:1 (29.4.3.2)");
	report_eq(*(uint32_t *)(aapic + 0x80), 0, "the APIC-access page itself is not written");

	fresh(g_wr, ctl);
	vmwrite(VMCS_TPR_THRESHOLD, 3);
	*va32(0x80) = 0x50;
	vmx_guest_regs[RBX] = aapic + 0x80;
	vmx_guest_regs[RCX] = 0x20;
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_TPR_BELOW_THRESHOLD, "VTPR write below the TPR threshold")) {
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_wr_end, "TPR below threshold: trap-like (29.1.2)");
		report_eq(*va32(0x80), 0x20, "VTPR holds the value written");
	}
}

/* ---- APIC-register virtualization, APIC-write exits (29.4.2, 29.4.3) ---- */

static void test_reg_virt(void)
{
	const uint32_t ctl = PROC2_VIRT_APIC_ACCESS | PROC2_APIC_REG_VIRT;
	struct vmx_outcome o;
	if (!has2(ctl)) {
		report_skip("APIC-register virtualization: the model has no such control");
		return;
	}
	fresh(g_rd, ctl);
	*va32(0x20) = 0x05000000;
	vmx_guest_regs[RBX] = aapic + 0x20;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_rd_end, "APIC ID read with register virtualization"))
		report_eq(vmx_guest_regs[RAX], 0x05000000, "read from the virtual-APIC page (29.4.2)");

	fresh(g_rd16, ctl);
	*va32(0x1a0) = 0xbeef1234;
	vmx_guest_regs[RBX] = aapic + 0x1a2;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_rd16_end, "16-bit read inside TMR register 1A0H"))
		report_eq(vmx_guest_regs[RAX], 0xbeef, "bytes 1A3H:1A2H of the virtual-APIC page");

	fresh(g_rd, ctl);
	vmx_guest_regs[RBX] = aapic + 0x24;
	access_exit(g_rd, 0x024 | Q_READ, "read outside the low 4 bytes of a 16-byte register");
	fresh(g_rd, ctl);
	vmx_guest_regs[RBX] = aapic + 0x390;
	access_exit(g_rd, 0x390 | Q_READ, "read of the current count (not virtualized)");
	fresh(g_wr, ctl);
	vmx_guest_regs[RBX] = aapic + 0x30;
	access_exit(g_wr, 0x030 | Q_WRITE, "write of the version register (not virtualized)");

	/* A virtualized write with no emulation: trap-like APIC-write exit,
	 * qualification = the page offset (29.4.3.3). */
	fresh(g_wr, ctl);
	vmx_guest_regs[RBX] = aapic + 0x320;
	vmx_guest_regs[RCX] = 0x100ef;
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_APIC_WRITE, "LVT timer write")) {
		report_eq(vmread(VMCS_EXIT_QUALIFICATION), 0x320, "APIC write: qualification = page offset 320H");
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_wr_end, "APIC write: trap-like, GUEST_RIP = next instruction");
		report_eq(*va32(0x320), 0x100ef, "the write reached the virtual-APIC page first");
	}

	/* ICR high: bytes 2:0 cleared, no exit (29.4.3.2). */
	fresh(g_wr, ctl);
	vmx_guest_regs[RBX] = aapic + 0x310;
	vmx_guest_regs[RCX] = 0xffffffff;
	o = vmx_enter_guest(false);
	if (ran_to(o, g_wr_end, "ICR high write"))
		report_eq(*va32(0x310), 0xff000000, "VICR_HI bytes 2:0 cleared by APIC-write emulation");

	/* Without "virtual-interrupt delivery" EOI has no emulation. */
	fresh(g_wr, ctl);
	vmx_guest_regs[RBX] = aapic + 0xb0;
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_APIC_WRITE, "EOI write without virtual-interrupt delivery"))
		report_eq(vmread(VMCS_EXIT_QUALIFICATION), 0xb0, "APIC write: qualification 0B0H");
}

/* ---- virtualize x2APIC mode (29.5) ---- */

static void msr_case(uint32_t msr, uint64_t val)
{
	vmx_guest_regs[RCX] = msr;
	vmx_guest_regs[RAX] = (uint32_t)val;
	vmx_guest_regs[RDX] = val >> 32;
}

static void gp_case(char *rip, const char *what)
{
	struct vmx_outcome o = vmx_enter_guest(false);
	if (!exit_is(o, EXIT_REASON_VMCALL, what))
		return;
	report_eq(vmx_guest_regs[RAX], VEC_GP_, "%s: #GP in the guest", what);
	report_eq(*(uint64_t *)(vmread(VMCS_GUEST_RSP) + 8), (uint64_t)rip, "%s: at the instruction", what);
}

static void test_x2apic(void)
{
	const uint32_t ctl = PROC2_VIRT_X2APIC;
	struct vmx_outcome o;
	if (!has2(ctl)) {
		report_skip("x2APIC virtualization: the model has no 'virtualize x2APIC mode'");
		return;
	}
	fresh(g_rdmsr, ctl);
	*va32(0x80) = 0x40;
	*va32(0x84) = 0x11;
	msr_case(0x808, 0);
	o = vmx_enter_guest(false);
	if (ran_to(o, g_rdmsr_end, "RDMSR 808H")) {
		report_eq(vmx_guest_regs[RAX], 0x40, "RDMSR 808H: EAX = bytes 83H:80H of the virtual-APIC page");
		report_eq(vmx_guest_regs[RDX], 0x11, "RDMSR 808H: EDX = bytes 87H:84H");
	}

	fresh(g_wrmsr, ctl);
	*va32(0x84) = 0x11;
	msr_case(0x808, 0x60);
	o = vmx_enter_guest(false);
	if (ran_to(o, g_wrmsr_end, "WRMSR 808H"))
		report(*va32(0x80) == 0x60 && *va32(0x84) == 0, "WRMSR 808H stores EDX:EAX at 087H:080H");

	fresh(g_wrmsr, ctl);
	msr_case(0x808, 0x160);
	gp_case(g_wrmsr, "WRMSR 808H with bit 8 set");
	fresh(g_wrmsr, ctl);
	msr_case(0x808, 1ull << 32);
	gp_case(g_wrmsr, "WRMSR 808H with EDX != 0");

	fresh(g_wrmsr, ctl);
	vmwrite(VMCS_TPR_THRESHOLD, 4);
	*va32(0x80) = 0x40;
	msr_case(0x808, 0x30);
	o = vmx_enter_guest(false);
	if (exit_is(o, EXIT_REASON_TPR_BELOW_THRESHOLD, "WRMSR 808H below the TPR threshold"))
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_wrmsr_end, "TPR below threshold after WRMSR: trap-like");

	/* Without register virtualization other x2APIC MSRs operate
	 * normally: the local APIC is in xAPIC mode, so #GP (vol. 3A 10.12). */
	fresh(g_rdmsr, ctl);
	msr_case(0x803, 0);
	gp_case(g_rdmsr, "RDMSR 803H without APIC-register virtualization");

	if (!has2(ctl | PROC2_APIC_REG_VIRT)) {
		report_skip("x2APIC register reads: the model has no APIC-register virtualization");
		return;
	}
	fresh(g_rdmsr, ctl | PROC2_APIC_REG_VIRT);
	*va32(0x30) = 0x50014;
	*va32(0x34) = 0x7;
	msr_case(0x803, 0);
	o = vmx_enter_guest(false);
	if (ran_to(o, g_rdmsr_end, "RDMSR 803H with APIC-register virtualization")) {
		report_eq(vmx_guest_regs[RAX], 0x50014, "RDMSR 803H: EAX = virtual-APIC bytes 033H:030H");
		report_eq(vmx_guest_regs[RDX], 0x7, "RDMSR 803H: EDX = bytes 037H:034H");
	}
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		test_access_exits();
		test_vtpr();
		test_reg_virt();
		test_x2apic();
	}
	report_summary();
}
