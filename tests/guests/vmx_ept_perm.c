/* The EPT permission matrix, seen from a guest hypervisor (SDM vol. 3C
 * 29.3.3 "EPT-induced VM exits"; Table 28-7 "Exit qualification for EPT
 * violations"): every R/W/X setting of a 4 KiB EPT PTE against a data
 * read, a data write and an instruction fetch from a supervisor-mode and a
 * user-mode linear address (with and without mode-based execute control
 * where the model offers it); the misconfiguring settings (exit 49,
 * 29.3.3.1); the same for an EPT PDE that references the page table; and
 * guest paging-structure accesses (bits 7/8 = 1/0, the A-flag update as a
 * data write). Expected values are the SDM's: exit reason, qualification,
 * guest-physical address, guest-linear address, GUEST_RIP. */
#include "guest.h"
#include "vmx_ept.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX, RDX, RBX };
enum acc { A_READ, A_WRITE, A_FETCH };
static const char *const acc_name[] = { "read", "write", "fetch" };

extern char g_rd[], g_rd_end[], g_wr[], g_wr_end[], g_x[], g_x_end[], g_iret[], g_land[];
asm(".text\n.code64\n"
    "g_iret:	iretq\n"
    "g_land:	vmcall\n"
    "g_rd:	mov (%rbx), %rax\n"
    "g_rd_end:	vmcall\n"
    "g_wr:	movl $0x5a5a5a5a, (%rbx)\n"
    "g_wr_end:	vmcall\n"
    "g_x:	call *%rbx\n"
    "g_x_end:	vmcall\n");

static char *const start[] = { g_rd, g_wr, g_x };
static char *const end[] = { g_rd_end, g_wr_end, g_x_end };

static const uint64_t acc_q[] = { Q_READ, Q_WRITE, Q_FETCH };

/* A fresh 64-bit guest under the test EPT, its own CR3 (both linear
 * aliases work), about to run the snippet for acc on la. */
static void setup(enum acc a, uint64_t la, bool ux, bool mbec)
{
	vmx_baseline(64);
	vmx_stub_idt();
	vmx_ept_build(false, ux, mbec);
	vmx_ept_guest_cr3();
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RBX] = la;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)start[a]);
	ept_target[0] = 0xc3;   /* ret, for the fetch */
}

/* VMLAUNCH after INVEPT all-context: the EPT entries just changed, and
 * guest-physical mappings cached from the previous case would otherwise
 * still be used (29.4.3.1; vmx_ept_inv.c proves that they are). */
static struct vmx_outcome enter(void)
{
	invept(2, 0, 0);
	return vmx_enter_guest(false);
}

static bool entered(struct vmx_outcome o, const char *what)
{
	return report(o.res == VMX_OK, "%s: VM entry (VMfail %u, error %u)", what, o.res, o.error);
}

/* The access ran: the guest reached its final VMCALL. */
static void expect_ok(struct vmx_outcome o, enum acc a, const char *what)
{
	if (!entered(o, what))
		return;
	report_eq(o.exit_reason, EXIT_REASON_VMCALL, "%s: allowed, no EPT exit", what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)end[a], "%s: the guest reached its VMCALL", what);
}

/* An EPT violation with qualification q at guest-physical gpa, linear la
 * (GUEST_RIP: the accessing instruction; for a fetch, the fetched one). */
static void expect_violation(struct vmx_outcome o, enum acc a, uint64_t q, uint64_t gpa, uint64_t la,
			     const char *what)
{
	if (!entered(o, what))
		return;
	if (!report(o.exit_reason == EXIT_REASON_EPT_VIOLATION, "%s: EPT violation (exit 48; got %u)", what,
		    o.exit_reason))
		return;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), q, "%s: qualification (Table 28-7)", what);
	report_eq(vmread(VMCS_GUEST_PHYS_ADDR), gpa, "%s: guest-physical address", what);
	report_eq(vmread(VMCS_GUEST_LINEAR_ADDR), la, "%s: guest-linear address", what);
	report_eq(vmread(VMCS_GUEST_RIP), a == A_FETCH ? la : (uint64_t)start[a], "%s: GUEST_RIP", what);
	/* 27.3.3: not during event delivery, RF is saved as 1. */
	report_eq(vmread(VMCS_GUEST_RFLAGS) & (1ul << 16), 1ul << 16, "%s: saved RFLAGS.RF", what);
}

static void expect_misconfig(struct vmx_outcome o, uint64_t gpa, const char *what)
{
	if (!entered(o, what))
		return;
	if (!report(o.exit_reason == EXIT_REASON_EPT_MISCONFIG, "%s: EPT misconfiguration (exit 49; got %u)", what,
		    o.exit_reason))
		return;
	report_eq(vmread(VMCS_GUEST_PHYS_ADDR), gpa, "%s: guest-physical address", what);
	report_eq(vmread(VMCS_GUEST_RFLAGS) & (1ul << 16), 1ul << 16, "%s: saved RFLAGS.RF (27.3.3)", what);
}

/* 29.3.3.1: write without read; execute-only without the capability. */
static bool misconfigures(uint64_t p)
{
	if ((p & EPT_W) && !(p & EPT_R))
		return true;
	return !(p & EPT_R) && (p & (EPT_X | EPT_UX)) && !(vmx_ept_cap() & EPTCAP_EXEC_ONLY);
}

/* Does EPT permission p allow access a to a linear address (user-mode
 * when user) (29.3.3.2)? */
static bool allows(uint64_t p, enum acc a, bool user, bool mbec)
{
	if (a == A_READ)
		return p & EPT_R;
	if (a == A_WRITE)
		return p & EPT_W;
	return (mbec && user) ? (p & EPT_UX) != 0 : (p & EPT_X) != 0;
}

static void leaf_case(uint64_t p, enum acc a, bool user, bool mbec)
{
	char what[96];
	uint64_t la = user ? EPT_LA_USER : EPT_LA_SUP;
	snprintf(what, sizeof(what), "PTE %c%c%c%s, %s %s%s", (p & EPT_R) ? 'R' : '-', (p & EPT_W) ? 'W' : '-',
		 (p & EPT_X) ? 'X' : '-', (p & EPT_UX) ? "+UX" : "", user ? "user" : "supervisor", acc_name[a],
		 mbec ? " (MBEC)" : "");
	setup(a, la, true, mbec);
	ept_pt[0] = (uint64_t)ept_target | p | EPT_WB;
	struct vmx_outcome o = enter();
	if (misconfigures(p)) {
		expect_misconfig(o, EPT_ALIAS, what);
		return;
	}
	if (allows(p, a, user, mbec)) {
		expect_ok(o, a, what);
		return;
	}
	/* Bits 6:3: the AND of bits 0-2 (and 10 with MBEC) over the walk;
	 * every other entry is RWX+UX. */
	uint64_t q = acc_q[a] | Q_PERM(p) | (mbec && (p & EPT_UX) ? Q_UX : 0) | Q_GLA_VALID | Q_GLA_FINAL |
		     vmx_ept_adv(user, true, false);
	expect_violation(o, a, q, EPT_ALIAS, la, what);
}

static void test_leaf_matrix(void)
{
	for (uint64_t p = 0; p < 8; p++)
		for (int a = A_READ; a <= A_FETCH; a++) {
			leaf_case(p, (enum acc)a, false, false);
			leaf_case(p, (enum acc)a, true, false);
		}
}

/* Mode-based execute control (24.6.2 bit 22): bit 2 governs fetches from
 * supervisor-mode linear addresses, bit 10 from user-mode ones. */
static void test_mbec(void)
{
	if (!(vmx_allowed1(VMX_CTL_PROC2) & PROC2_MBEC)) {
		report_skip("mode-based execute control: not offered by the model");
		return;
	}
	if (read_cr4() & (1ul << 20)) {
		report_skip("mode-based execute control: CR4.SMEP is on, a supervisor fetch from a user page faults");
		return;
	}
	static const uint64_t ps[] = { EPT_R, EPT_R | EPT_X, EPT_R | EPT_UX, EPT_R | EPT_X | EPT_UX, EPT_UX,
				       EPT_RWX | EPT_UX };
	for (unsigned k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		leaf_case(ps[k], A_FETCH, false, true);
		leaf_case(ps[k], A_FETCH, true, true);
		leaf_case(ps[k], A_READ, true, true);
	}
}

/* Other misconfigurations of the leaf: memory type 2, 3, 7; a reserved
 * address bit (51:MAXPHYADDR). */
static void test_leaf_misconfig(void)
{
	static const uint64_t mts[] = { 2, 3, 7 };
	for (unsigned k = 0; k < 3; k++) {
		char what[64];
		snprintf(what, sizeof(what), "PTE memory type %u", (unsigned)mts[k]);
		setup(A_READ, EPT_LA_SUP, false, false);
		ept_pt[0] = (uint64_t)ept_target | EPT_RWX | mts[k] << 3;
		expect_misconfig(enter(), EPT_ALIAS, what);
	}
	unsigned m = vmx_phys_bits();
	if (m < 52) {
		setup(A_READ, EPT_LA_SUP, false, false);
		ept_pt[0] = (uint64_t)ept_target | EPT_RWX | EPT_WB | 1ull << m;
		expect_misconfig(enter(), EPT_ALIAS, "PTE address bit MAXPHYADDR set");
	}
	/* Bit 7 of a PTE and bits 63:52 are ignored; bit 6 (ignore PAT) is a
	 * leaf attribute. */
	setup(A_READ, EPT_LA_SUP, false, false);
	ept_pt[0] = (uint64_t)ept_target | EPT_RWX | EPT_WB | 1ull << 6 | 1ull << 7 | 1ull << 60;
	expect_ok(enter(), A_READ, "PTE with IPAT, bit 7 and bit 60");
}

/* The EPT PDE that references the page table: its permissions enter the
 * AND (bits 6:3), its misconfigurations are the same. */
static void test_nonleaf(void)
{
	static const uint64_t ps[] = { 0, EPT_R, EPT_R | EPT_X, EPT_R | EPT_W, EPT_W, EPT_W | EPT_X };
	for (unsigned k = 0; k < sizeof(ps) / sizeof(ps[0]); k++)
		for (int a = A_READ; a <= A_FETCH; a++) {
			uint64_t p = ps[k];
			char what[64];
			snprintf(what, sizeof(what), "PDE %c%c%c, supervisor %s", (p & EPT_R) ? 'R' : '-',
				 (p & EPT_W) ? 'W' : '-', (p & EPT_X) ? 'X' : '-', acc_name[a]);
			setup((enum acc)a, EPT_LA_SUP, false, false);
			ept_pd3[0] = (uint64_t)ept_pt | p;
			struct vmx_outcome o = enter();
			if (misconfigures(p))
				expect_misconfig(o, EPT_ALIAS, what);
			else if (allows(p, (enum acc)a, false, false))
				expect_ok(o, (enum acc)a, what);
			else
				expect_violation(o, (enum acc)a,
						 acc_q[a] | Q_PERM(p) | Q_GLA_VALID | Q_GLA_FINAL |
							 vmx_ept_adv(false, true, false),
						 EPT_ALIAS, EPT_LA_SUP, what);
		}
	setup(A_READ, EPT_LA_SUP, false, false);
	ept_pd3[0] = (uint64_t)ept_pt | EPT_RWX | 1ull << 3;
	expect_misconfig(enter(), EPT_ALIAS, "PDE (table) with reserved bit 3");
}

/* Guest paging-structure accesses (29.3.3.2): reading the guest PDE at
 * EPT_GPD_GPA is a data read (bits 7/8 = 1/0, GLA = the address being
 * translated); setting its A flag is a data write. */
static void test_paging_structures(void)
{
	setup(A_READ, EPT_LA_USER, false, false);
	ept_pt[1] = 0;
	expect_violation(enter(), A_READ, Q_READ | Q_GLA_VALID, EPT_GPD_GPA, EPT_LA_USER,
			 "guest PD not present in EPT, read through it");
	setup(A_FETCH, EPT_LA_USER, false, false);
	ept_pt[1] = 0;
	expect_violation(enter(), A_FETCH, Q_READ | Q_GLA_VALID, EPT_GPD_GPA, EPT_LA_USER,
			 "guest PD not present in EPT, fetch through it (the walk's read is what fails)");
	setup(A_READ, EPT_LA_USER, false, false);
	ept_pt[1] = (uint64_t)ept_gpd | EPT_R | EPT_WB;
	expect_violation(enter(), A_READ, Q_WRITE | Q_PERM(EPT_R) | Q_GLA_VALID, EPT_GPD_GPA,
			 EPT_LA_USER, "guest PD read-only in EPT, its A flag clear: the A update is a write");
	setup(A_READ, EPT_LA_USER, false, false);
	ept_pt[1] = (uint64_t)ept_gpd | EPT_R | EPT_WB;
	ept_gpd[0] |= 0x20;     /* A already set: no write */
	expect_ok(enter(), A_READ, "guest PD read-only in EPT, its A flag set: a read is enough");
	report_eq(vmx_guest_regs[RAX], *(uint64_t *)ept_target, "the read returned the target page's content");
}

/* Table 28-7 bit 12 (NMI unblocking due to IRET): an EPT violation on
 * the stack read of an IRET that removed blocking by NMI or virtual-NMI
 * blocking (25.3) sets it; without blocking it is 0. The frame lies on the
 * test page, not present in EPT. */
static void iret_case(const char *what, uint32_t pin, uint32_t block, uint64_t bit12)
{
	setup(A_READ, 0, false, false);
	ept_pt[0] = 0;
	vmwrite(VMCS_PIN_CONTROLS, (vmread(VMCS_PIN_CONTROLS) & ~(uint64_t)(PIN_NMI_EXITING | PIN_VIRTUAL_NMIS)) | pin);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, block);
	vmwrite(VMCS_GUEST_RSP, EPT_LA_SUP + 0x800);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_iret);
	struct vmx_outcome o = enter();
	if (!entered(o, what) || !report(o.exit_reason == EXIT_REASON_EPT_VIOLATION, "%s: exit 48 (got %u)", what,
					 o.exit_reason))
		return;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), Q_READ | Q_GLA_VALID | Q_GLA_FINAL | vmx_ept_adv(false, true, false) |
			  bit12, "%s: qualification, bit 12 = %u", what, bit12 ? 1 : 0);
	uint64_t gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	report(gpa >= EPT_ALIAS + 0x800 && gpa < EPT_ALIAS + 0x800 + 40, "%s: guest-physical address %#lx in the frame",
	       what, gpa);
	report_eq(vmread(VMCS_GUEST_LINEAR_ADDR), gpa - EPT_ALIAS + EPT_LA_SUP, "%s: guest-linear address", what);
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_iret, "%s: GUEST_RIP = the IRET", what);
	report_eq(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID, 0, "%s: not during event delivery", what);
}

/* An EPT violation while delivering an injected #UD (the frame is pushed
 * onto the test page): IDT-vectoring information = the #UD (27.2.3),
 * access = write, RF saved 1 (a fault's frame would hold it, 27.3.3). */
static void test_event_delivery(void)
{
	const char *what = "EPT violation delivering an injected #UD";
	setup(A_READ, 0, false, false);
	ept_pt[0] = (uint64_t)ept_target | EPT_R | EPT_WB;
	vmwrite(VMCS_GUEST_RSP, EPT_LA_SUP + 0x800);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT | 6);
	struct vmx_outcome o = enter();
	if (!entered(o, what) || !report(o.exit_reason == EXIT_REASON_EPT_VIOLATION, "%s: exit 48 (got %u)", what,
					 o.exit_reason))
		return;
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), Q_WRITE | Q_PERM(EPT_R) | Q_GLA_VALID | Q_GLA_FINAL |
			  vmx_ept_adv(false, true, false), "%s: qualification", what);
	uint64_t gpa = vmread(VMCS_GUEST_PHYS_ADDR);
	report(gpa >= EPT_ALIAS + 0x800 - 40 && gpa < EPT_ALIAS + 0x800, "%s: guest-physical address %#lx in the frame",
	       what, gpa);
	report_eq(vmread(VMCS_IDT_VECTORING_INFO), INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT | 6,
		  "%s: IDT-vectoring information", what);
	report_eq(vmread(VMCS_GUEST_RFLAGS) & (1ul << 16), 1ul << 16, "%s: saved RF", what);
}

static void test_iret_nmi_unblocking(void)
{
	iret_case("IRET with blocking by NMI", 0, INTR_BLOCK_NMI, 1ull << 12);
	iret_case("IRET without NMI blocking", 0, 0, 0);
	if (vmx_allowed1(VMX_CTL_PIN) & PIN_VIRTUAL_NMIS)
		iret_case("IRET with virtual-NMI blocking", PIN_NMI_EXITING | PIN_VIRTUAL_NMIS, INTR_BLOCK_NMI, 1ull << 12);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start() && vmx_ept_usable()) {
		test_leaf_matrix();
		test_mbec();
		test_leaf_misconfig();
		test_nonleaf();
		test_paging_structures();
		test_iret_nmi_unblocking();
		test_event_delivery();
	}
	report_summary();
}
