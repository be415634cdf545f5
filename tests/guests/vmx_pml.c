/* Page-modification logging (SDM vol. 3C 28.2.5 "Page-Modification
 * Logging"; 29.3.6 in later editions), seen from a guest hypervisor: with
 * "enable PML" and EPT A/D flags (EPTP bit 6), each EPT dirty flag the
 * processor sets (0 -> 1) logs the 4-KiB-aligned guest-physical address at
 * PML address + 8 * PML index and decrements the index (0 -> FFFFH). When
 * an accessed or dirty flag must be set and the index is not in 0-511, the
 * access causes a page-modification log-full event instead: VM exit 62,
 * fault-like (no flag set, the access does not happen, GUEST_RIP = the
 * instruction), qualification bit 12 only (27.2.1).
 *
 * Every EPT entry the guest's code, stack and paging structures use gets
 * A and D beforehand, so the only flags the guest sets are those of the
 * test pages (ept_pt[2..5] -> pml_page[0..3], guest-physical
 * EPT_ALIAS + 0x2000 ...) and the log says exactly which writes happened. */
#include "guest.h"
#include "vmx_ept.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX, RDX, RBX };

#define NPAGES 4
#define PAGE_GPA(k) (EPT_ALIAS + 0x2000 + 0x1000 * (uint64_t)(k))
#define PAGE_LA(k) (EPT_LA_SUP + 0x2000 + 0x1000 * (uint64_t)(k))
#define SENTINEL 0x5a5a5a5a5a5a5a5aull
#define PML_NMI_UNBLOCKED (1ull << 12)

static uint64_t pml_log[512] __attribute__((aligned(4096)));
static uint32_t pml_page[NPAGES][1024] __attribute__((aligned(4096)));

/* Four writes: page a, page b, page a again (already dirty), page c. */
extern char g_wr[], g_wr_4th[], g_wr_end[], g_rd[], g_rd_end[];
asm(".text\n.code64\n"
    "g_wr:	movl $0x11, 0x123(%rbx)\n"
    "	movl $0x22, (%rcx)\n"
    "	movl $0x33, 4(%rbx)\n"
    "g_wr_4th:	movl $0x44, 0xffc(%rdx)\n"
    "g_wr_end:	vmcall\n"
    "g_rd:	mov (%rbx), %eax\n"
    "g_rd_end:	vmcall\n");

static bool pml_usable(void)
{
	if (!vmx_ept_usable())
		return false;
	if (!(vmx_allowed1(VMX_CTL_PROC2) & PROC2_PML)) {
		report_skip("PML: the model has no \"enable PML\" control");
		return false;
	}
	if (!(vmx_ept_cap() & EPTCAP_AD)) {
		report_skip("PML: the model has no EPT A/D flags");
		return false;
	}
	return true;
}

/* A and D on every EPT entry except the test pages' PTEs (A only when
 * accessed: the walk then needs no flag for a read). */
static void prime(bool pages_accessed)
{
	ept_pml4[0] |= EPT_A;
	for (int g = 0; g < 4; g++) {
		ept_pdpt[g] |= EPT_A;
		for (int m = 0; m < 512; m++)
			(g == 3 ? ept_pd3 : ept_pd[g])[m] |= EPT_A | EPT_D;
	}
	ept_pd3[0] = (ept_pd3[0] & ~EPT_D) | EPT_A;
	for (int k = 0; k < 512; k++)
		ept_pt[k] |= EPT_A | EPT_D;
	for (int k = 0; k < NPAGES; k++)
		ept_pt[2 + k] = (uint64_t)pml_page[k] | EPT_RWX | EPT_WB | (pages_accessed ? EPT_A : 0);
}

static void setup(bool ad, uint16_t index, char *rip)
{
	vmx_baseline(64);
	vmx_ept_build(ad, false, false);
	prime(true);
	vmwrite(VMCS_PROC2_CONTROLS, vmread(VMCS_PROC2_CONTROLS) | PROC2_PML);
	vmwrite(VMCS_PML_ADDR, (uint64_t)pml_log);
	vmwrite(VMCS_PML_INDEX, index);
	for (int k = 0; k < 512; k++)
		pml_log[k] = SENTINEL;
	memset(pml_page, 0, sizeof(pml_page));
	invept(2, 0, 0);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RBX] = PAGE_LA(0);
	vmx_guest_regs[RCX] = PAGE_LA(1);
	vmx_guest_regs[RDX] = PAGE_LA(2);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
}

static bool exited(struct vmx_outcome o, uint32_t reason, const char *what)
{
	return report(o.res == VMX_OK && o.exit_reason == reason, "%s: exit %u (got res %d, exit %u)", what, reason,
		      o.res, o.exit_reason);
}

static void test_logging(void)
{
	const char *what = "writes to three clean pages";
	setup(true, 511, g_wr);
	if (!exited(vmx_enter_guest(false), EXIT_REASON_VMCALL, what))
		return;
	report_eq(pml_log[511], PAGE_GPA(0), "first log entry (index 511): the first page's GPA, 4-KiB aligned");
	report_eq(pml_log[510], PAGE_GPA(1), "index 510: the second page");
	report_eq(pml_log[509], PAGE_GPA(2), "index 509: the third page (the repeated write logged nothing)");
	report_eq(pml_log[508], SENTINEL, "index 508: untouched");
	report_eq(vmread(VMCS_PML_INDEX), 508, "PML index decremented once per log entry");
	report_eq(ept_pt[2] & (EPT_A | EPT_D), EPT_A | EPT_D, "the EPT PTE got its dirty flag");
	report_eq(pml_page[2][1023], 0x44, "the writes happened");

	/* The same writes again: every page is dirty now, nothing logs. */
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_wr);
	if (!exited(vmx_enter_guest(true), EXIT_REASON_VMCALL, "writes to dirty pages"))
		return;
	report_eq(vmread(VMCS_PML_INDEX), 508, "dirty pages: the index stays");
	report_eq(pml_log[508], SENTINEL, "dirty pages: nothing logged");
}

static void test_full(void)
{
	const char *what = "PML index 1";
	setup(true, 1, g_wr);
	struct vmx_outcome o = vmx_enter_guest(false);
	if (!exited(o, EXIT_REASON_PML_FULL, what))
		return;
	report_eq(pml_log[1], PAGE_GPA(0), "index 1 logged the first page");
	report_eq(pml_log[0], PAGE_GPA(1), "index 0 logged the second page");
	report_eq(vmread(VMCS_PML_INDEX), 0xffff, "index 0 wrapped to FFFFH");
	report_eq(o.qual & PML_NMI_UNBLOCKED, 0, "qualification bit 12 (NMI unblocking due to IRET) = 0");
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_wr_4th,
		  "exit 62 is fault-like: GUEST_RIP = the write to the third clean page (the dirty-page write ran)");
	report_eq(pml_page[0][1], 0x33, "the write to the already dirty page happened while the log was full");
	report_eq(pml_page[2][1023], 0, "the third page's write did not happen");
	report_eq(ept_pt[4] & EPT_D, 0, "its EPT dirty flag was not set");
	report_eq(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID, 0, "not during event delivery");

	/* The hypervisor empties the log and resumes: the write completes and logs. */
	vmwrite(VMCS_PML_INDEX, 511);
	if (!exited(vmx_enter_guest(true), EXIT_REASON_VMCALL, "resumed after emptying the log"))
		return;
	report_eq(pml_log[511], PAGE_GPA(2), "the retried write logged the third page at index 511");
	report_eq(pml_page[2][1023], 0x44, "and happened");
	report_eq(vmread(VMCS_PML_INDEX), 510, "index 510");
}

/* 28.2.5: the index is examined whenever an accessed or dirty flag must be
 * set: a read that needs a clear EPT A flag is a log-full event too, and
 * sets A without logging when the index is in range. */
static void test_accessed(void)
{
	setup(true, 0xffff, g_rd);
	prime(false);
	invept(2, 0, 0);
	struct vmx_outcome o = vmx_enter_guest(false);
	if (exited(o, EXIT_REASON_PML_FULL, "read needing an EPT A flag, index FFFFH")) {
		report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)g_rd, "GUEST_RIP = the read");
		report_eq(ept_pt[2] & EPT_A, 0, "the A flag was not set");
	}
	vmwrite(VMCS_PML_INDEX, 511);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_rd);
	if (!exited(vmx_enter_guest(true), EXIT_REASON_VMCALL, "the same read, index 511"))
		return;
	report_eq(ept_pt[2] & (EPT_A | EPT_D), EPT_A, "A set, D clear");
	report_eq(vmread(VMCS_PML_INDEX), 511, "setting an A flag logs nothing");
	report_eq(pml_log[511], SENTINEL, "log untouched");
}

/* With EPT A/D flags, guest paging-structure accesses are writes (28.2.4):
 * reading through the guest's own tables dirties, and logs, the page that
 * holds the guest PDE. */
static void test_guest_paging(void)
{
	setup(true, 511, g_rd);
	vmx_ept_guest_cr3();
	ept_pt[1] &= ~EPT_D;
	vmx_guest_regs[RBX] = EPT_LA_USER;
	invept(2, 0, 0);
	if (!exited(vmx_enter_guest(false), EXIT_REASON_VMCALL, "read through the guest's own page directory"))
		return;
	report_eq(pml_log[511], EPT_GPD_GPA, "logged: the guest-physical page of the guest PD");
	report_eq(vmread(VMCS_PML_INDEX), 510, "one entry (the data page was only read)");
}

/* Without EPT A/D flags no flag is set and nothing is logged. */
static void test_no_ad(void)
{
	setup(false, 511, g_wr);
	if (!exited(vmx_enter_guest(false), EXIT_REASON_VMCALL, "EPT A/D off"))
		return;
	report_eq(vmread(VMCS_PML_INDEX), 511, "A/D off: the index stays 511");
	report_eq(pml_log[511], SENTINEL, "A/D off: nothing logged");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start() && pml_usable()) {
		test_logging();
		test_full();
		test_accessed();
		test_guest_paging();
		test_no_ad();
	}
	report_summary();
}
