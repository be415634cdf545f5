/* The APIC-access page reached other than by the translation of a linear
 * address, and the instructions that touch it without reading it (SDM vol.
 * 3C chapter 29, the edition whose VM-exit chapter is 27; Table 27-6):
 *  - under EPT, a guest paging-structure read whose EPT translation is the
 *    APIC-access page: APIC-access exit, access type 15 (during instruction
 *    execution) or 10 (during event delivery, with the IDT-vectoring
 *    information), never virtualized, and below an EPT violation of the same
 *    access (29.4.6.1);
 *  - without EPT the same read is a "physical access" (29.4.6.2), which may
 *    or may not exit: vtxsim lets it operate on memory;
 *  - CLFLUSH and MONITOR with an operand on the APIC-access page exit as
 *    data reads (type 0) (27.2.1, 29.4.4);
 *  - a translation cached with the page as plain RAM (VPIDs keep it across
 *    VM entries) does not survive an entry that makes it the APIC-access
 *    page (29.4.1).
 * The guest's own tables come from lib/vmx_ept.c: the guest-physical page
 * EPT_GPD_GPA is its page directory for EPT_LA_USER, mapped by EPT onto the
 * host page ept_gpd, which the cases make the APIC-access page.
 */
#include "guest.h"
#include "vmx_ept.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX, RDX, RBX };
#define QT_READ (0ull << 12)            /* Table 27-6 access types, bits 15:12 */
#define QT_GPA_EVENT (10ull << 12)
#define QT_GPA_INSN (15ull << 12)
#define QT_MASK (0xfull << 12)
#define INTR_TYPE_SW_INTR_ (4u << 8)
#define VALID (1u << 31)
#define PD_SLOT 5                       /* the guest PDE the cases read: at EPT_GPD_GPA + 5 * 8 */
#define LA_SLOT (EPT_LA_USER + ((uint64_t)PD_SLOT << 21))
#define GPA_SLOT (EPT_GPD_GPA + PD_SLOT * 8)

extern char a_rd[], a_rd_end[], a_int[], a_int_end[], a_clflush[], a_monitor[], a_monitor_insn[];

asm(".text\n"
    ".code64\n"
    "a_rd:	mov (%rbx), %eax\n"
    "a_rd_end:	vmcall\n"
    "a_int:	int $0x21\n"
    "a_int_end:	vmcall\n"
    "a_clflush:	clflush (%rbx)\n"
    "a_clflush_end:	vmcall\n"
    "a_monitor:	mov %rbx, %rax\n"
    "	xor %ecx, %ecx\n"
    "	xor %edx, %edx\n"
    "a_monitor_insn:	monitor\n"
    "a_monitor_end:	vmcall\n");

static uint8_t plain_page[4096] __attribute__((aligned(4096)));

static bool has2(uint32_t bits)
{
	return (vmx_allowed1(VMX_CTL_PROC) & PROC_SECONDARY_CTLS) && (vmx_allowed1(VMX_CTL_PROC) & PROC_TPR_SHADOW) &&
	       (vmx_allowed1(VMX_CTL_PROC2) & bits) == bits;
}

/* A 64-bit baseline entered at rip with the TPR shadow and "virtualize
 * APIC accesses" on page aapic. */
static void fresh(char *rip, uint64_t aapic)
{
	vmx_baseline(64);
	vmx_stub_idt();
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_TPR_SHADOW | PROC_SECONDARY_CTLS, true);
	vmx_set_ctl(VMCS_PROC2_CONTROLS, PROC2_VIRT_APIC_ACCESS, true);
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, vmx_scratch_page(4));
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	vmwrite(VMCS_APIC_ACCESS_ADDR, aapic);
}

/* The same with the EPT of lib/vmx_ept.c and the guest's own CR3: the
 * APIC-access page is the host page under the guest's page directory. */
static void fresh_ept(char *rip, bool ad)
{
	fresh(rip, (uint64_t)ept_gpd);
	vmx_ept_build(ad, false, false);
	vmx_ept_guest_cr3();
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

/* ---- guest-physical accesses under EPT (29.4.6.1) ---- */

static void test_gpa_insn(void)
{
	fresh_ept(a_rd, false);
	vmx_guest_regs[RBX] = LA_SLOT + 0x40;
	struct vmx_outcome o = vmx_enter_guest(false);
	const char *what = "guest PDE read on the APIC-access page (EPT)";
	if (!exit_is(o, EXIT_REASON_APIC_ACCESS, what))
		return;
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	report_eq(q & ~0xfffull, QT_GPA_INSN,
		  "%s: access type 15, guest-physical access during instruction execution; bits 63:16 0", what);
	report_eq(q & 0xfff, GPA_SLOT & 0xfff, "%s: bits 11:0 (undefined, Table 27-6): vtxsim's page offset of the GPA",
		  what);
	report_eq(vmread(VMCS_GUEST_PHYS_ADDR), GPA_SLOT, "%s: guest-physical address of the PDE", what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)a_rd, "%s: GUEST_RIP = the instruction (fault-like)", what);
	report_eq(vmread(VMCS_IDT_VECTORING_INFO) & VALID, 0, "%s: no IDT-vectoring information (27.2.3)", what);
	report_eq(*(volatile uint64_t *)&ept_gpd[PD_SLOT], 0, "%s: the page was not written", what);
}

static void test_gpa_event(void)
{
	fresh_ept(a_int, false);
	vmwrite(VMCS_GUEST_IDTR_BASE, LA_SLOT);         /* gate 21H at LA_SLOT + 210H: its PDE is the slot */
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xfff);
	struct vmx_outcome o = vmx_enter_guest(false);
	const char *what = "INT 21H through an IDT whose PDE is on the APIC-access page (EPT)";
	if (!exit_is(o, EXIT_REASON_APIC_ACCESS, what))
		return;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION) & ~0xfffull, QT_GPA_EVENT,
		  "%s: access type 10, guest-physical access during event delivery", what);
	report_eq(vmread(VMCS_GUEST_PHYS_ADDR), GPA_SLOT, "%s: guest-physical address of the PDE", what);
	report_eq(vmread(VMCS_IDT_VECTORING_INFO), VALID | INTR_TYPE_SW_INTR_ | 0x21,
		  "%s: IDT-vectoring information = the software interrupt (27.2.3)", what);
	report_eq(vmread(VMCS_EXIT_INSTRUCTION_LEN), a_int_end - a_int, "%s: instruction length of INT n (27.2.5)",
		  what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)a_int, "%s: GUEST_RIP = the INT instruction", what);
}

/* 29.4.6.1: "a guest-physical access does not cause an APIC-access VM exit
 * if it would cause an EPT violation". With EPT A/D flags the paging-
 * structure read is treated as a write (29.3.3.2); the EPT entry of the
 * page directory allows only reads. */
static void test_gpa_below_ept_violation(void)
{
	if (!(vmx_ept_cap() & EPTCAP_AD)) {
		report_skip("APIC-access exit below an EPT violation: the model has no EPT A/D flags");
		return;
	}
	fresh_ept(a_rd, true);
	ept_pt[1] = (ept_pt[1] & ~EPT_RWX) | EPT_R;
	invept(2, 0, 0);        /* all-context: earlier cases cached the RWX mapping (29.4.3) */
	vmx_guest_regs[RBX] = LA_SLOT;
	struct vmx_outcome o = vmx_enter_guest(false);
	const char *what = "guest PDE on the APIC-access page, EPT entry read-only, EPT A/D on";
	if (!exit_is(o, EXIT_REASON_EPT_VIOLATION, what))
		return;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), Q_READ | Q_WRITE | Q_PERM(EPT_R) | Q_GLA_VALID,
		  "%s: EPT-violation qualification of the paging-structure access (Table 27-7)", what);
	report_eq(vmread(VMCS_GUEST_PHYS_ADDR), GPA_SLOT, "%s: guest-physical address of the PDE", what);
}

/* 29.4.6.2: without EPT a paging-structure read of the APIC-access page
 * is a physical access; vtxsim lets it operate on memory. The guest's
 * PML4 is made the APIC-access page. */
static void test_physical_access(void)
{
	volatile uint32_t *v = (volatile uint32_t *)plain_page;
	fresh(a_rd, 0);
	vmwrite(VMCS_APIC_ACCESS_ADDR, vmread(VMCS_GUEST_CR3) & ~0xfffull);
	*v = 0x5eed1234u;
	vmx_guest_regs[RBX] = (uint64_t)plain_page;
	struct vmx_outcome o = vmx_enter_guest(false);
	const char *what = "no EPT, guest PML4 on the APIC-access page (physical access)";
	if (!exit_is(o, EXIT_REASON_VMCALL, what))
		return;
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)a_rd_end, "%s: the read completed (vtxsim: operates on memory)",
		  what);
	report_eq((uint32_t)vmx_guest_regs[RAX], 0x5eed1234u, "%s: the value read", what);
}

/* ---- CLFLUSH, MONITOR (29.4.4, 27.2.1) ---- */

static void probe_case(char *rip, char *insn, const char *what)
{
	uint64_t aapic = vmx_scratch_page(5);
	fresh(rip, aapic);
	vmx_guest_regs[RBX] = aapic + 0x310;
	struct vmx_outcome o = vmx_enter_guest(false);
	if (!exit_is(o, EXIT_REASON_APIC_ACCESS, what))
		return;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), QT_READ | 0x310,
		  "%s: offset 310H, data read during instruction execution (Table 27-6)", what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)insn, "%s: GUEST_RIP = the instruction", what);
}

static void test_probes(void)
{
	if (cpuid(1, 0).d & (1u << 19))
		probe_case(a_clflush, a_clflush, "CLFLUSH of the APIC-access page");
	else
		report_skip("CLFLUSH: CPUID.01H:EDX.CLFSH = 0");
	if (cpuid(1, 0).c & (1u << 3))
		probe_case(a_monitor, a_monitor_insn, "MONITOR on the APIC-access page");
	else
		report_skip("MONITOR: CPUID.01H:ECX.MONITOR = 0");
}

/* ---- a translation cached before the page became the APIC-access page ---- */

static void test_stale_tlb(void)
{
	const char *what = "VPID: linear L read as RAM, then L's page made the APIC-access page, VMRESUME";
	if (!has2(PROC2_VPID)) {
		report_skip("stale TLB entry of the APIC-access page: the model has no VPID");
		return;
	}
	fresh(a_rd, vmx_scratch_page(5));
	vmx_set_ctl(VMCS_PROC2_CONTROLS, PROC2_VIRT_APIC_ACCESS, false);
	vmx_set_ctl(VMCS_PROC2_CONTROLS, PROC2_VPID, true);
	vmwrite(VMCS_VPID, 1);
	volatile uint32_t *v = (volatile uint32_t *)(plain_page + 0x10);
	*v = 0xcafe0001u;
	vmx_guest_regs[RBX] = (uint64_t)plain_page + 0x10;
	struct vmx_outcome o = vmx_enter_guest(false);
	if (!exit_is(o, EXIT_REASON_VMCALL, "VPID: the first read of L (plain RAM)"))
		return;
	report_eq((uint32_t)vmx_guest_regs[RAX], 0xcafe0001u, "VPID: the first read of L returns the RAM");
	vmx_set_ctl(VMCS_PROC2_CONTROLS, PROC2_VIRT_APIC_ACCESS, true);
	vmwrite(VMCS_APIC_ACCESS_ADDR, (uint64_t)plain_page);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)a_rd);
	vmx_guest_regs[RAX] = 0;
	o = vmx_enter_guest(true);
	if (!exit_is(o, EXIT_REASON_APIC_ACCESS, what))
		return;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), QT_READ | 0x10, "%s: offset 010H, data read (29.4.1)", what);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start()) {
		if (!has2(PROC2_VIRT_APIC_ACCESS)) {
			report_skip("the model has no 'virtualize APIC accesses'");
		} else {
			if (has2(PROC2_EPT)) {
				test_gpa_insn();
				test_gpa_event();
				test_gpa_below_ept_violation();
			} else {
				report_skip("guest-physical APIC accesses: the model has no EPT");
			}
			test_physical_access();
			test_probes();
			test_stale_tlb();
		}
	}
	report_summary();
}
