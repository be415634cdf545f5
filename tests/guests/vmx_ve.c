/* EPT-violation #VE (SDM vol. 3C 25.5.6 "Virtualization Exceptions", in
 * the edition whose VM-exit chapter is 27), seen from a guest hypervisor:
 * with the "EPT-violation #VE" control, an EPT violation is convertible
 * when bit 63 ("suppress #VE") of the EPT entry that decided it is 0 (the
 * leaf that maps the page, or the not-present entry); it becomes a #VE
 * (vector 20, a fault without error code) when CR0.PE = 1, no event is
 * being delivered through the IDT and the 32 bits at offset 4 of the
 * virtualization-exception information area are 0. Delivery first writes
 * the area (Table 25-1: exit reason 48, FFFFFFFFH at offset 4, exit
 * qualification, guest-linear address, guest-physical address, EPTP
 * index), then treats the #VE like any exception: exception-bitmap bit 20
 * makes it a VM exit (exit 0). */
#include "guest.h"
#include "vmx_ept.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX, RDX, RBX };

#define EPT_SVE (1ull << 63)
#define VEC_VE 20
#define EPTP_INDEX 5
#define SENTINEL 0x5a5a5a5a5a5a5a5aull
#define RFLAGS_RF (1ull << 16)
#define HW_EXC(v) (INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT | (v))

/* Table 25-1. */
struct ve_info {
	uint32_t reason, marker;
	uint64_t qual, linear, phys;
	uint16_t eptp_index;
	uint8_t rest[4096 - 34];
} __attribute__((packed));
static struct ve_info ve_area __attribute__((aligned(4096)));

extern char g_ve[], g_ve_end[], g_ud[];
asm(".text\n.code64\n"
    "g_ve:	movl $0x77, 0x10(%rbx)\n"
    "g_ve_end:	vmcall\n"
    "g_ud:	ud2\n"
    "	vmcall\n");

static bool ve_usable(void)
{
	if (!vmx_ept_usable())
		return false;
	if (!(vmx_allowed1(VMX_CTL_PROC2) & PROC2_EPT_VE)) {
		report_skip("#VE: the model has no \"EPT-violation #VE\" control");
		return false;
	}
	return true;
}

/* The information area as software leaves it: marker as given, every
 * other byte SENTINEL. */
static void area(uint32_t marker)
{
	memset(&ve_area, 0x5a, sizeof(ve_area));
	ve_area.marker = marker;
}

/* The test page (EPT_ALIAS, ept_pt[0]) with EPT entry pte; the guest
 * writes it at EPT_LA_SUP + 0x10. */
static void setup(uint64_t pte, uint32_t marker)
{
	vmx_baseline(64);
	vmx_ept_build(false, false, false);
	ept_pt[0] = pte;
	vmx_stub_idt();
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_EPT_VE);
	vmwrite(VMCS_VE_INFO_ADDR, (uint64_t)&ve_area);
	vmwrite(VMCS_EPTP_INDEX, EPTP_INDEX);
	area(marker);
	memset(ept_target, 0, 64);
	invept(2, 0, 0);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RBX] = EPT_LA_SUP;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_ve);
}

static bool exited(struct vmx_outcome o, uint32_t reason, const char *what)
{
	return report(o.res == VMX_OK && o.exit_reason == reason, "%s: exit %u (got res %d, exit %u)", what, reason,
		      o.res, o.exit_reason);
}

static uint64_t write_qual(uint64_t perm)
{
	return Q_WRITE | Q_PERM(perm) | Q_GLA_VALID | Q_GLA_FINAL | vmx_ept_adv(false, true, false);
}

/* A #VE reached the guest's handler: vector 20's stub ran its VMCALL
 * with a fault frame (no error code) for the write. */
static void delivered(const char *what)
{
	report_eq(vmx_guest_regs[RAX], VEC_VE, "%s: the guest's vector-20 handler ran", what);
	const uint64_t *frame = (const uint64_t *)vmread(VMCS_GUEST_RSP);
	report_eq(frame[0], (uint64_t)g_ve, "%s: the frame's RIP is the faulting write (a fault)", what);
	report_eq(frame[1], vmread(VMCS_GUEST_CS_SELECTOR), "%s: no error code pushed (CS follows RIP)", what);
	report_eq(frame[2] & RFLAGS_RF, RFLAGS_RF, "%s: RF set in the frame (fault, SDM vol. 3A 17.3.1.1)", what);
	report_eq(ept_target[0x10], 0, "%s: the write did not happen", what);
}

static void filled(uint64_t qual, uint64_t linear, uint64_t phys, const char *what)
{
	report_eq(ve_area.reason, EXIT_REASON_EPT_VIOLATION, "%s: area offset 0 = exit reason 48", what);
	report_eq(ve_area.marker, 0xffffffffu, "%s: area offset 4 = FFFFFFFFH", what);
	report_eq(ve_area.qual, qual, "%s: area offset 8 = the exit qualification", what);
	report_eq(ve_area.linear, linear, "%s: area offset 16 = the guest-linear address", what);
	report_eq(ve_area.phys, phys, "%s: area offset 24 = the guest-physical address", what);
	report_eq(ve_area.eptp_index, EPTP_INDEX, "%s: area offset 32 = the EPTP index", what);
	report_eq(ve_area.rest[0], 0x5a, "%s: nothing written past offset 33", what);
}

static void untouched(uint32_t marker, const char *what)
{
	report_eq(ve_area.marker, marker, "%s: the marker is as software left it", what);
	report_eq(ve_area.qual, SENTINEL, "%s: the area was not written", what);
}

static void exit48(uint64_t qual, const char *what)
{
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), qual, "%s: exit qualification", what);
	report_eq(vmread(VMCS_GUEST_PHYS_ADDR), EPT_ALIAS + 0x10, "%s: guest-physical address", what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_ve, "%s: GUEST_RIP = the write", what);
}

static void test_convert(void)
{
	const char *what = "read/execute-only page, suppress #VE clear";
	setup((uint64_t)ept_target | EPT_R | EPT_X | EPT_WB, 0);
	if (!exited(vmx_enter_guest(false), EXIT_REASON_VMCALL, what))
		return;
	delivered(what);
	filled(write_qual(EPT_R | EPT_X), EPT_LA_SUP + 0x10, EPT_ALIAS + 0x10, what);

	/* The marker is FFFFFFFFH now: the next violation is a VM exit. */
	what = "second violation, marker still set";
	area(0xffffffffu);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_ve);
	if (exited(vmx_enter_guest(true), EXIT_REASON_EPT_VIOLATION, what)) {
		exit48(write_qual(EPT_R | EPT_X), what);
		untouched(0xffffffffu, what);
	}
}

static void test_not_present(void)
{
	const char *what = "not-present EPT PTE, suppress #VE clear";
	setup(0, 0);
	if (exited(vmx_enter_guest(false), EXIT_REASON_VMCALL, what)) {
		delivered(what);
		filled(write_qual(0), EPT_LA_SUP + 0x10, EPT_ALIAS + 0x10, what);
	}
	what = "not-present EPT PTE, suppress #VE set";
	setup(EPT_SVE, 0);
	if (exited(vmx_enter_guest(false), EXIT_REASON_EPT_VIOLATION, what)) {
		exit48(write_qual(0), what);
		untouched(0, what);
	}
}

static void test_no_convert(void)
{
	const char *what = "suppress #VE set in the leaf";
	setup((uint64_t)ept_target | EPT_R | EPT_WB | EPT_SVE, 0);
	if (exited(vmx_enter_guest(false), EXIT_REASON_EPT_VIOLATION, what)) {
		exit48(write_qual(EPT_R), what);
		untouched(0, what);
	}
	/* 25.5.6.1: the 32 bits at offset 4 must be all 0, not merely not FFFFFFFFH. */
	what = "marker 1";
	setup((uint64_t)ept_target | EPT_R | EPT_WB, 1);
	if (exited(vmx_enter_guest(false), EXIT_REASON_EPT_VIOLATION, what)) {
		exit48(write_qual(EPT_R), what);
		untouched(1, what);
	}
	what = "control off";
	setup((uint64_t)ept_target | EPT_R | EPT_WB, 0);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) & ~(uint64_t)PROC2_EPT_VE);
	if (exited(vmx_enter_guest(false), EXIT_REASON_EPT_VIOLATION, what)) {
		exit48(write_qual(EPT_R), what);
		untouched(0, what);
	}
}

/* 25.5.6.3: the #VE is an exception like others: bit 20 of the exception
 * bitmap makes it exit 0 (hardware exception 20, no error code), after
 * the information area was written. */
static void test_bitmap(void)
{
	const char *what = "exception-bitmap bit 20";
	setup((uint64_t)ept_target | EPT_R | EPT_WB, 0);
	vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_VE);
	if (!exited(vmx_enter_guest(false), EXIT_REASON_EXCEPTION_NMI, what))
		return;
	report_eq(vmread(VMCS_EXIT_INTR_INFO), HW_EXC(VEC_VE), "%s: interruption information: hardware exception 20, "
		  "no error code", what);
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), 0, "%s: exit qualification 0 (27.2.1)", what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_ve, "%s: GUEST_RIP = the write", what);
	report_eq(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID, 0, "%s: no IDT-vectoring information", what);
	filled(write_qual(EPT_R), EPT_LA_SUP + 0x10, EPT_ALIAS + 0x10, what);
}

/* 25.5.6.1: not while delivering an event through the IDT. The guest's
 * IDT lies on a page not present in EPT (suppress #VE clear): delivering
 * the #UD of UD2 reads its gate there, and the violation exits 48 with
 * the #UD as IDT-vectoring information. */
static void test_delivery(void)
{
	const char *what = "violation while delivering #UD";
	setup((uint64_t)ept_target | EPT_RWX | EPT_WB, 0);
	ept_pt[2] = 0;
	vmwrite(VMCS_GUEST_IDTR_BASE, EPT_LA_SUP + 0x2000);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_ud);
	if (!exited(vmx_enter_guest(false), EXIT_REASON_EPT_VIOLATION, what))
		return;
	report_eq(vmread(VMCS_IDT_VECTORING_INFO), HW_EXC(VEC_UD), "%s: IDT-vectoring information = the #UD", what);
	report_eq(vmread(VMCS_GUEST_PHYS_ADDR), EPT_ALIAS + 0x2000 + 16 * VEC_UD, "%s: guest-physical address = the gate",
		  what);
	untouched(0, what);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start() && ve_usable()) {
		test_convert();
		test_not_present();
		test_no_convert();
		test_bitmap();
		test_delivery();
	}
	report_summary();
}
