/* EPT tables for the guest EPT tests (vmx_ept_*.c), built as a hypervisor
 * builds them (SDM vol. 3C 29.3.2): an identity map of guest-physical
 * 0-4 GiB with 2 MiB pages, except the GiB at EPT_ALIAS (3 GiB), whose
 * first 2 MiB go through a page table ept_pt the test controls:
 *   EPT_ALIAS + 0x0000 -> ept_target (entry ept_pt[0]), the page under test
 *   EPT_ALIAS + 0x1000 -> ept_gpd, a guest page directory (ept_pt[1])
 * The rest of that GiB is identity 2 MiB pages (ept_pd3). The guest reaches
 * EPT_ALIAS through the boot identity map (a supervisor-mode linear
 * address, EPT_LA_SUP) or, with vmx_ept_guest_cr3(), through its own tables
 * at EPT_LA_USER (a user-mode linear address, PML4 slot 1): ept_gpml4 ->
 * ept_gpdpt -> the PD at guest-physical EPT_ALIAS + 0x1000 (ept_gpd) ->
 * a 2 MiB leaf at EPT_ALIAS. */
#ifndef GUEST_VMX_EPT_H
#define GUEST_VMX_EPT_H

#include <stdbool.h>
#include <stdint.h>

#define EPT_R 1ull
#define EPT_W 2ull
#define EPT_X 4ull
#define EPT_RWX 7ull
#define EPT_WB (6ull << 3)              /* leaf memory type WB */
#define EPT_LARGE (1ull << 7)
#define EPT_A (1ull << 8)
#define EPT_D (1ull << 9)
#define EPT_UX (1ull << 10)
#define EPTP_AD (1ull << 6)

#define EPT_ALIAS 0xc0000000ull
#define EPT_GPD_GPA (EPT_ALIAS + 0x1000)
#define EPT_LA_SUP EPT_ALIAS
#define EPT_LA_USER (1ull << 39)

/* IA32_VMX_EPT_VPID_CAP bits (A.10). */
#define EPTCAP_EXEC_ONLY (1ull << 0)
#define EPTCAP_WALK5 (1ull << 7)
#define EPTCAP_2M (1ull << 16)
#define EPTCAP_1G (1ull << 17)
#define EPTCAP_AD (1ull << 21)
#define EPTCAP_ADV_INFO (1ull << 22)

/* Table 28-7. */
#define Q_READ 1ull
#define Q_WRITE 2ull
#define Q_FETCH 4ull
#define Q_PERM(p) (((uint64_t)(p) & 7) << 3)
#define Q_UX (1ull << 6)
#define Q_GLA_VALID (1ull << 7)
#define Q_GLA_FINAL (1ull << 8)
#define Q_ADV_USER (1ull << 9)
#define Q_ADV_RW (1ull << 10)
#define Q_ADV_XD (1ull << 11)

extern uint64_t ept_pml4[512], ept_pdpt[512], ept_pd[4][512], ept_pd3[512], ept_pt[512], ept_pdpt_hi[512];
extern uint8_t ept_target[4096], ept_target2[4096];
extern uint64_t ept_gpml4[512], ept_gpdpt[512], ept_gpd[512];

/* Can this model run the EPT tests? false with a SKIP line otherwise. */
bool vmx_ept_usable(void);
uint64_t vmx_ept_cap(void);
/* Build the tables above, every entry RWX (plus bit 10 when ux), A/D clear,
 * and write "enable EPT" (with "mode-based execute control" when mbec)
 * and the EPTP (4-level, WB, A/D flags when ad) into the current VMCS.
 * Returns the EPTP. */
uint64_t vmx_ept_build(bool ad, bool ux, bool mbec);
/* The guest's own 4-level tables (above) as GUEST_CR3, A/D clear. */
void vmx_ept_guest_cr3(void);
/* The exit-qualification bits 9-11 a final access to a linear address
 * with these paging attributes reports where the model offers advanced
 * information (0 otherwise). */
uint64_t vmx_ept_adv(bool user, bool rw, bool xd);

#endif
