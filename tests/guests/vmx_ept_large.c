/* Large EPT pages (SDM vol. 3C 29.3.2, Tables 28-2/28-4 "EPT PDPTE that
 * maps a 1-GByte page", "EPT PDE that maps a 2-MByte page"): translations
 * inside 2 MiB and 1 GiB EPT pages, the reserved address bits of large
 * leaves (29:12, 20:12) and bit 7 of an EPT PML4E as misconfigurations
 * (29.3.3.1, exit 49 with the guest-physical address). */
#include "guest.h"
#include "vmx_ept.h"
#include "vmx_vmcs.h"

enum { RAX = 0, RCX, RDX, RBX };
#define MAGIC 0x1a2b3c4d5e6f7788ull
#define LEAF (EPT_RWX | EPT_WB | EPT_LARGE)

extern char g_rd[], g_rd_end[];
asm(".text\n.code64\n"
    "g_rd:	mov (%rbx), %rax\n"
    "g_rd_end:	vmcall\n");

static struct vmx_outcome run(void (*change)(void), uint64_t la)
{
	vmx_baseline(64);
	vmx_ept_build(false, false, false);
	vmx_ept_guest_cr3();
	change();
	invept(2, 0, 0);
	*(uint64_t *)ept_target = MAGIC;
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
	vmx_guest_regs[RBX] = la;
	vmwrite(VMCS_GUEST_RIP, (uint64_t)g_rd);
	return vmx_enter_guest(false);
}

static void reads_magic(struct vmx_outcome o, const char *what)
{
	if (report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_VMCALL, "%s: no exit (%u)", what, o.exit_reason))
		report_eq(vmx_guest_regs[RAX], MAGIC, "%s: the value read through the large page", what);
}

static void misconfig(struct vmx_outcome o, uint64_t gpa, const char *what)
{
	if (report(o.res == VMX_OK && o.exit_reason == EXIT_REASON_EPT_MISCONFIG, "%s: exit 49 (got %u)", what,
		   o.exit_reason))
		report_eq(vmread(VMCS_GUEST_PHYS_ADDR), gpa, "%s: guest-physical address", what);
}

#define TGT ((uint64_t)ept_target)
static void pde_2m(void) { ept_pd3[1] = (TGT & ~0x1fffffull) | LEAF; }
static void pde_2m_bit12(void) { ept_pd3[1] = (TGT & ~0x1fffffull) | LEAF | 1ull << 12; }
static void pde_2m_bit20(void) { ept_pd3[1] = (TGT & ~0x1fffffull) | LEAF | 1ull << 20; }
static void pdpte_1g(void) { ept_pdpt[3] = LEAF; }
static void pdpte_1g_bit12(void) { ept_pdpt[3] = LEAF | 1ull << 12; }
static void pdpte_1g_bit29(void) { ept_pdpt[3] = LEAF | 1ull << 29; }
static void pdpte_1g_mt7(void) { ept_pdpt[3] = EPT_RWX | 7ull << 3 | EPT_LARGE; }
static void pml4e_bit7(void)
{
	ept_pml4[1] = (uint64_t)ept_pdpt_hi | EPT_RWX | EPT_LARGE;
	ept_gpd[1] = (1ull << 39) | 0x87;       /* LA_USER + 2 MiB -> guest-physical 2^39 (P, W, U, PS) */
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	if (vmx_start() && vmx_ept_usable()) {
		uint64_t cap = vmx_ept_cap(), off2m = TGT & 0x1fffffull;
		if (cap & EPTCAP_2M) {
			reads_magic(run(pde_2m, EPT_ALIAS + 0x200000 + off2m), "2 MiB EPT page");
			misconfig(run(pde_2m_bit12, EPT_ALIAS + 0x200000 + off2m), EPT_ALIAS + 0x200000 + off2m,
				  "2 MiB EPT page with bit 12 set");
			misconfig(run(pde_2m_bit20, EPT_ALIAS + 0x200000 + off2m), EPT_ALIAS + 0x200000 + off2m,
				  "2 MiB EPT page with bit 20 set");
		} else {
			report_skip("2 MiB EPT pages: not offered");
		}
		if (cap & EPTCAP_1G) {
			reads_magic(run(pdpte_1g, EPT_ALIAS + TGT), "1 GiB EPT page");
			misconfig(run(pdpte_1g_bit12, EPT_ALIAS + TGT), EPT_ALIAS + TGT, "1 GiB EPT page with bit 12 set");
			misconfig(run(pdpte_1g_bit29, EPT_ALIAS + TGT), EPT_ALIAS + TGT, "1 GiB EPT page with bit 29 set");
			misconfig(run(pdpte_1g_mt7, EPT_ALIAS + TGT), EPT_ALIAS + TGT, "1 GiB EPT page with memory type 7");
		} else {
			report_skip("1 GiB EPT pages: not offered");
		}
		if (vmx_phys_bits() > 39)
			misconfig(run(pml4e_bit7, EPT_LA_USER + 0x200000), 1ull << 39, "EPT PML4E with bit 7 set");
		else
			report_skip("EPT PML4E bit 7: MAXPHYADDR %u leaves no room for guest-physical 2^39",
				    vmx_phys_bits());
	}
	report_summary();
}
