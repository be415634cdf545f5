/* Accessed and dirty flags for EPT (SDM vol. 3C 29.3.5 "Accessed and dirty
 * flags for EPT"), seen from a guest hypervisor: with EPTP bit 6 = 1 the
 * processor sets A (bit 8) in every EPT entry a translation uses and D
 * (bit 9) in the leaf for a write; guest paging-structure accesses count
 * as writes (D set on the page holding the guest's PDE; an EPT violation
 * for a read-only one reports bits 0 and 1, Table 28-7). With bit 6 = 0
 * nothing is set. */
#include "guest.h"
#include "vmx_ept.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX, RDX, RBX };

extern char g_rd[], g_rd_end[], g_wr[], g_wr_end[];
asm(".text\n.code64\n"
    "g_rd:	mov (%rbx), %rax\n"
    "g_rd_end:	vmcall\n"
    "g_wr:	movl $1, (%rbx)\n"
    "g_wr_end:	vmcall\n");

static struct vmx_outcome run(bool ad, char *rip, uint64_t la)
{
	vmx_baseline(64);
	vmx_ept_build(ad, false, false);
	vmx_ept_guest_cr3();
	invept(2, 0, 0);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RBX] = la;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
	return vmx_enter_guest(false);
}

static void ran(struct vmx_outcome o, const char *what)
{
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL, "%s: the guest ran (exit %u)", what,
	       o.exit_reason);
}

static void test_ad_on(void)
{
	ran(run(true, g_rd, EPT_LA_SUP), "A/D on, read");
	report_eq(ept_pml4[0] & EPT_A, EPT_A, "read: A in the PML4E");
	report_eq(ept_pdpt[3] & EPT_A, EPT_A, "read: A in the PDPTE");
	report_eq(ept_pd3[0] & EPT_A, EPT_A, "read: A in the PDE");
	report_eq(ept_pt[0] & (EPT_A | EPT_D), EPT_A, "read: A, not D, in the PTE");
	report_eq(ept_pt[2] & (EPT_A | EPT_D), 0, "an unused PTE: untouched");

	ran(run(true, g_wr, EPT_LA_SUP), "A/D on, write");
	report_eq(ept_pt[0] & (EPT_A | EPT_D), EPT_A | EPT_D, "write: A and D in the PTE");
	report_eq(ept_pd3[0] & EPT_D, 0, "write: no D in a non-leaf entry (bit 9 ignored there)");

	/* A read through the guest's own tables: the guest PD (EPT_GPD_GPA)
	 * is accessed as a write for EPT purposes. */
	ran(run(true, g_rd, EPT_LA_USER), "A/D on, read through the guest's PD");
	report_eq(ept_pt[1] & (EPT_A | EPT_D), EPT_A | EPT_D, "the page holding the guest PDE: A and D");
	report_eq(ept_pt[0] & (EPT_A | EPT_D), EPT_A, "the data page read: A only");

	/* The guest PD read-only in EPT: the walk's access is a write. */
	vmx_baseline(64);
	vmx_ept_build(true, false, false);
	vmx_ept_guest_cr3();
	ept_pt[1] = (uint64_t)ept_gpd | EPT_R | EPT_WB;
	ept_gpd[0] |= 0x20;     /* guest A already set: only EPT makes it a write */
	invept(2, 0, 0);
	vmx_guest_regs[RBX] = EPT_LA_USER;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_rd);
	struct vmx_outcome o = vmx_enter_guest(false);
	report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_EPT_VIOLATION,
	       "A/D on, guest PD read-only in EPT: EPT violation (exit %u)", o.exit_reason);
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), Q_READ | Q_WRITE | Q_PERM(EPT_R) | Q_GLA_VALID,
		  "qualification: bits 0 and 1 (treated as a write), R, linear valid, not final");
	report_eq(vmread(VMCS_GUEST_PHYS_ADDR), EPT_GPD_GPA, "guest-physical address: the guest PDE");
	report_eq(vmread(VMCS_GUEST_LINEAR_ADDR), EPT_LA_USER, "guest-linear address");
	report_eq(ept_pt[1] & (EPT_A | EPT_D), 0, "the violating entry: no A/D set");
}

static void test_ad_off(void)
{
	ran(run(false, g_wr, EPT_LA_USER), "A/D off, write through the guest's PD");
	report_eq(ept_pml4[0] & (EPT_A | EPT_D), 0, "A/D off: PML4E untouched");
	report_eq(ept_pt[0] & (EPT_A | EPT_D), 0, "A/D off: data PTE untouched");
	report_eq(ept_pt[1] & (EPT_A | EPT_D), 0, "A/D off: guest PD's PTE untouched");
	report_eq(ept_gpd[0] & 0x60, 0x60, "the guest's own A and D flags are set as usual (4.8)");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start() && vmx_ept_usable()) {
		if (vmx_ept_cap() & EPTCAP_AD)
			test_ad_on();
		else
			report_skip("EPT A/D flags: not offered by the model");
		test_ad_off();
	}
	report_summary();
}
