/* Linear -> guest-physical translation: the paging walks of SDM vol. 3A
 * chapter 4 (32-bit, PAE, 4-level, 5-level). mem/ never sees struct cpu:
 * callers pass the small translation context below. */
#ifndef MEM_PAGING_H
#define MEM_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/phys.h"

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_VME (1ull << 0)
#define CR4_PVI (1ull << 1)
#define CR4_TSD (1ull << 2)
#define CR4_DE (1ull << 3)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_MCE (1ull << 6)
#define CR4_PGE (1ull << 7)
#define CR4_PCE (1ull << 8)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP (1ull << 11)
#define CR4_LA57 (1ull << 12)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_PCIDE (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE (1ull << 22)

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Page-table entry bits (all paging modes). */
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_PKEY_SHIFT 59       /* protection key: bits 62:59 of the leaf (4.6.2) */

/* #PF error-code bits (SDM 4.7). */
#define PFEC_P (1u << 0)
#define PFEC_W (1u << 1)
#define PFEC_U (1u << 2)
#define PFEC_RSVD (1u << 3)
#define PFEC_I (1u << 4)
#define PFEC_PK (1u << 5)

/* What the access is. ACC_USER marks a user-mode access (CPL 3 and not an
 * implicit supervisor access such as a GDT/IDT/TSS read). */
enum {
	ACC_READ = 0,
	ACC_WRITE = 1 << 0,
	ACC_EXEC = 1 << 1,
	ACC_USER = 1 << 2,
	ACC_IMPLICIT = 1 << 3,  /* implicit supervisor access (descriptor tables) */
};

/* Paging features of the CPU model that change what a walk accepts. */
enum {
	XF_PAGE1GB = 1 << 0,    /* PS in a PDPTE maps a 1 GiB page (else reserved) */
	XF_PSE36 = 1 << 1,      /* 4 MiB pages of 32-bit paging reach above 4 GiB */
};

/* What EPT in VMX non-root operation offers (SDM vol. 3C 29.3; the
 * "mode-based execute control" secondary control and IA32_VMX_EPT_VPID_CAP
 * bits, Appendix A.10). */
enum {
	EPTF_MBEC = 1 << 0,             /* mode-based execute control for EPT is 1 */
	EPTF_EXEC_ONLY = 1 << 1,        /* execute-only translations (cap bit 0) */
	EPTF_2M = 1 << 2,               /* bit 7 of an EPT PDE may be 1 (cap bit 16) */
	EPTF_1G = 1 << 3,               /* bit 7 of an EPT PDPTE may be 1 (cap bit 17) */
	EPTF_ADV_INFO = 1 << 4,         /* advanced VM-exit information for EPT violations (cap bit 22) */
	EPTF_PML = 1 << 5,              /* "enable PML": xlate_ctx.pml_addr/pml_index_pa are valid (28.2.5) */
};

struct ept_cache;

struct xlate_ctx {
	uint64_t cr0, cr3, cr4, efer;
	/* EPT (mem/ept.h): the EPTP in VMX non-root operation with "enable
	 * EPT" = 1, else 0; then CR3 and every paging-structure address are
	 * guest-physical. Walk length is EPTP bits 5:3 + 1, A/D flags bit 6. */
	uint64_t eptp;
	uint8_t ept_flags;      /* EPTF_* */
	struct ept_cache *ept;  /* the processor's guest-physical mappings cache */
	/* Page-modification logging (EPTF_PML, SDM vol. 3C 28.2.5, "Page-Modification Logging"): the
	 * physical address of the 4-KiB log (PML address field) and of the
	 * 16-bit PML index (its slot in the current VMCS region, which is
	 * memory: mem/ept.c reads, checks and decrements it there). */
	uint64_t pml_addr, pml_index_pa;
	/* Under EPT: the page (the VMX APIC-access page, ->page UINT64_MAX:
	 * none) that a guest-physical access which is not the translation of
	 * a linear address may not touch: a guest paging-structure read or a
	 * PDPTE load whose EPT translation lands on it fails with
	 * XLATE_APIC_ACCESS_GPA (SDM vol. 3C 29.4.6.1). NULL: no such page. */
	const struct phys_trap *gpa_trap;
	uint64_t rflags_ac;     /* EFLAGS.AC, for SMAP */
	uint64_t pdpte[4];      /* PAE paging: the PDPTE registers (4.4.1) */
	uint32_t pkru;          /* protection-key rights (4.6.2) */
	uint8_t cpl;
	uint8_t maxphyaddr;     /* physical-address width: bits above it are reserved */
	uint8_t features;       /* XF_* */
	bool a20_masked;        /* the A20 gate is off: physical address bit 20 reads as 0 */
};

/* Reserved bits of paging-structure entries, shared by the walk
 * (mem/paging.c) and the debugger's read-only walk (mem/walkview.c). */

/* Bits 51:MAXPHYADDR of an entry's address field (4.3-4.5). */
static inline uint64_t paging_rsvd_phys(unsigned maxphyaddr)
{
	return maxphyaddr < 52 ? (((1ull << 52) - 1) & ~((1ull << maxphyaddr) - 1)) : 0;
}

/* XD (bit 63) is reserved while EFER.NXE = 0 (4.4.2, 4.5.4). */
static inline uint64_t paging_nx_rsvd(const struct xlate_ctx *ctx)
{
	return (ctx->efer & EFER_NXE) ? 0 : PTE_NX;
}

/* Bits an entry at `level` reserves because of its PS flag: PS itself in a
 * PML5E/PML4E (and in a PDPTE without 1 GiB pages); the low address bits
 * of a 1 GiB or 2 MiB page frame (4.5, Tables 4-15 to 4-20). */
static inline uint64_t paging_large_rsvd(const struct xlate_ctx *ctx, int level, uint64_t e)
{
	if (level >= 4)
		return PTE_PS;
	if (!(e & PTE_PS) || level == 1)
		return 0;
	if (level == 3)
		return (ctx->features & XF_PAGE1GB) ? 0x3fffe000ull : PTE_PS;     /* bits 29:13 */
	return 0x1fe000ull;                                                     /* bits 20:13 */
}

/* Reserved bits of a PAE PDPTE: 63:MAXPHYADDR, 8:5 and 2:1 (4.4.1, Table 4-8). */
static inline uint64_t paging_pdpte_rsvd(unsigned maxphyaddr)
{
	return ~((1ull << maxphyaddr) - 1) | 0x1e6ull;
}

/* A 4 MiB PDE keeps physical-address bits (M-1):32 in bits (M-19):13, with
 * M = MIN(MAXPHYADDR, 40) under PSE-36 (32 without it); bits 21:(M-19) are
 * reserved (4.3, Table 4-4). */
static inline uint64_t paging_pse_rsvd(const struct xlate_ctx *ctx)
{
	unsigned m = (ctx->features & XF_PSE36) ? (ctx->maxphyaddr < 40 ? ctx->maxphyaddr : 40) : 32;
	return (1ull << 22) - (1ull << (m - 19));
}

/* What a failed translation is. Only XLATE_PF is an exception; the others
 * happen in VMX non-root operation and are VM exits (or, for an EPT
 * violation, possibly a #VE), which vmx/ decides (vmx_xlate_exit). */
enum xlate_kind {
	XLATE_PF = 0,           /* page fault: error_code, linear (CR2) */
	XLATE_EPT_VIOLATION,    /* SDM vol. 3C 28.3.3.2: qual (Table 28-7), gpa, linear if linear_valid */
	XLATE_EPT_MISCONFIG,    /* 28.3.3.1: gpa */
	XLATE_APIC_ACCESS,      /* 30.4: qual (Table 28-6) */
	XLATE_PML_FULL,         /* 28.2.5: page-modification log-full event; gpa of the access (not reported) */
	XLATE_APIC_ACCESS_GPA,  /* 29.4.6.1: a guest-physical access to the APIC-access page: gpa (vmx/ makes the qual) */
};

/* Result of a walk that failed: what the caller turns into #PF or, in VMX
 * non-root operation, a VM exit. Producers set every field their kind
 * uses; kind must always be set. */
struct xlate_fault {
	uint32_t error_code;
	uint8_t kind;           /* enum xlate_kind */
	bool linear_valid;      /* EPT violation: the guest-linear address field is valid */
	bool ve_suppress;       /* EPT violation: bit 63 ("suppress #VE") of the entry that decided it (25.5.6.1) */
	uint64_t linear;
	uint64_t gpa;
	uint64_t qual;
};

/* A successful walk: the physical address and what the final translation
 * allows, so a TLB can cache it. */
struct xlate_result {
	uint64_t pa;            /* physical address (host-physical under EPT) */
	uint64_t gpa;           /* guest-physical address under EPT, else = pa */
	uint64_t page_size;     /* 4 KiB, 2/4 MiB or 1 GiB */
	bool writable;          /* for this access's privilege (U/S, WP folded in) */
	bool user_ok;           /* U/S allowed user accesses */
	bool exec_ok;
	bool dirty;             /* D set in the final entry */
	bool global;
	uint8_t pkey;           /* protection key of a user-mode address (IA-32e, CR4.PKE), else 0xff */
};

/* Walk the guest's page tables for one access, setting accessed/dirty bits as
 * the SDM requires (4.8). Returns true with *res filled, or false with *fault
 * filled. With CR0.PG clear the linear address is the physical address
 * (truncated to 32 bits outside long mode by the caller). */
bool paging_translate(struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t linear, unsigned acc,
		      struct xlate_result *res, struct xlate_fault *fault);

/* Load the four PDPTEs of PAE paging from the 32-byte table CR3 points to
 * (4.4.1): false, with out[] untouched, when a present PDPTE sets a
 * reserved bit (the MOV to CR that loads them is then #GP(0)). */
bool paging_load_pdptes(struct phys_map *pm, uint64_t cr3, unsigned maxphyaddr, uint64_t out[4]);

/* The same for a MOV to CR in VMX non-root operation with EPT (ctx->eptp
 * != 0): CR3 is guest-physical and the 32-byte table is read through EPT
 * as a data read with no guest-linear address (SDM vol. 3C 29.3.3.2,
 * Table 28-7 bit 7 = 0). PDPTE_EPT_FAULT: *f holds the EPT violation or
 * misconfiguration, or the APIC-access exit of a table on ctx->gpa_trap's
 * page (XLATE_APIC_ACCESS_GPA). Without EPT it is paging_load_pdptes. */
enum pdpte_load { PDPTE_OK, PDPTE_RESERVED, PDPTE_EPT_FAULT };
enum pdpte_load paging_load_pdptes_ctx(struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t cr3,
				       uint64_t out[4], struct xlate_fault *f);

/* True when linear is canonical for 4-level paging (bits 63:47 equal). */
static inline bool is_canonical48(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

/* Canonical for 5-level paging (bits 63:56 equal; 4.1.1, vol. 1 3.3.7.1). */
static inline bool is_canonical57(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 7) >> 7) == la;
}

/* Canonical for the paging mode: 57 bits with CR4.LA57, else 48. */
static inline bool is_canonical(uint64_t la, uint64_t cr4)
{
	return (cr4 & CR4_LA57) ? is_canonical57(la) : is_canonical48(la);
}

#endif
