/* EPT: guest-physical -> host-physical translation in VMX non-root
 * operation (SDM vol. 3C 29.3). mem/ never sees struct cpu or the VMCS. */
#ifndef MEM_EPT_H
#define MEM_EPT_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/paging.h"

/* Exit qualification for EPT violations (28.2.1, Table 28-7). mem/ builds
 * it in struct xlate_fault.qual; vmx/ adds bit 12 when it exits. */
#define EPT_QUAL_READ (1ull << 0)               /* the access was a data read */
#define EPT_QUAL_WRITE (1ull << 1)              /* a data write */
#define EPT_QUAL_FETCH (1ull << 2)              /* an instruction fetch */
#define EPT_QUAL_READABLE (1ull << 3)           /* the translation allowed reads (AND of bit 0 of every entry) */
#define EPT_QUAL_WRITABLE (1ull << 4)           /* ... writes (bit 1) */
#define EPT_QUAL_EXECUTABLE (1ull << 5)         /* ... execution (bit 2; supervisor-mode with MBEC) */
#define EPT_QUAL_USER_EXEC (1ull << 6)          /* ... user-mode execution (bit 10, MBEC only) */
#define EPT_QUAL_GLA_VALID (1ull << 7)          /* the guest-linear address field is valid */
#define EPT_QUAL_GLA_FINAL (1ull << 8)          /* the access was to the final translation, not a paging entry */
#define EPT_QUAL_GLA_USER (1ull << 9)           /* advanced information: user-mode linear address */
#define EPT_QUAL_GLA_RW (1ull << 10)            /* advanced information: read/write page */
#define EPT_QUAL_GLA_XD (1ull << 11)            /* advanced information: execute-disable page */
#define EPT_QUAL_NMI_UNBLOCKED (1ull << 12)     /* NMI unblocking due to IRET */
#define EPT_QUAL_SHADOW_STACK (1ull << 13)
#define EPT_QUAL_SSS (1ull << 14)               /* supervisor shadow-stack page */
#define EPT_QUAL_VERIFY (1ull << 15)            /* guest-paging verification */
#define EPT_QUAL_ASYNC (1ull << 16)             /* asynchronous to instruction execution */

/* EPT paging-structure entries (29.3.2, Tables 29-1 to 29-6 / 28-1 to 28-6
 * by edition: "EPT paging structures"). */
#define EPTE_R (1ull << 0)              /* read access */
#define EPTE_W (1ull << 1)              /* write access */
#define EPTE_X (1ull << 2)              /* execute (supervisor-mode linear addresses with MBEC) */
#define EPTE_MT_SHIFT 3                 /* leaf: EPT memory type, bits 5:3 */
#define EPTE_MT_MASK (7ull << 3)
#define EPTE_IPAT (1ull << 6)           /* leaf: ignore PAT memory type */
#define EPTE_LARGE (1ull << 7)          /* PDPTE/PDE: maps a 1 GiB / 2 MiB page */
#define EPTE_A (1ull << 8)              /* accessed (EPTP bit 6 = 1) */
#define EPTE_D (1ull << 9)              /* leaf: dirty (EPTP bit 6 = 1) */
#define EPTE_UX (1ull << 10)            /* execute for user-mode linear addresses (MBEC only) */
#define EPTE_SVE (1ull << 63)           /* suppress #VE: of a leaf or a not-present entry (25.5.6.1) */

/* The walk's permissions, as the AND over every entry used: bits 0-2 are
 * R/W/X (entry bits 2:0), EPT_PERM_UX is entry bit 10. Shifted left by 3
 * they are exit-qualification bits 6:3. */
#define EPT_PERM_UX (1u << 3)

/* What an access to a guest-physical address is, as bits 2:0 of the exit
 * qualification say (Table 28-7). A guest paging-structure access with
 * EPT A/D flags on is EPT_ACC_READ | EPT_ACC_WRITE (29.3.3.2: "treated as
 * writes"; both bits are set in the qualification). */
enum { EPT_ACC_READ = 1, EPT_ACC_WRITE = 2, EPT_ACC_FETCH = 4 };

/* One access through EPT and what an EPT violation reports about it. */
struct ept_access {
	uint8_t type;           /* EPT_ACC_* */
	bool user_addr;         /* MBEC: the linear address is a user-mode address (U/S AND over the guest walk) */
	bool linear_valid;      /* qualification bit 7: the access is part of translating `linear` */
	bool final;             /* bit 8: the guest-physical address is the translation of `linear` */
	uint16_t gla_bits;      /* bits 9-11 (EPT_QUAL_GLA_USER/RW/XD) for a final access, advanced info only */
	uint64_t linear;
};

/* A successful EPT translation. */
struct ept_result {
	uint64_t hpa;
	uint8_t perm;           /* R/W/X/UX: the AND over the walk */
	uint8_t page_shift;     /* 12, 21 or 30: size of the EPT page */
	uint8_t memtype;        /* leaf bits 5:3 (29.3.7 "EPT and memory typing") */
	bool ipat;              /* leaf bit 6 */
	bool dirty;             /* EPT A/D off, or the leaf's D flag is (now) set */
};

/* The guest-physical mappings cache (29.4.1 "Information that may be
 * cached"): gpa page -> hpa page with the walk's permissions, tagged by
 * EP4TA (EPTP bits 51:12). Direct-mapped by guest-physical page number
 * (EPT_CACHE_SIZE slots); a fill replaces what the slot held (capacity
 * eviction is always allowed: a processor may drop cached mappings at any
 * time, 29.4.3.2). Filled only by successful walks; VM entries and exits
 * do not touch it; INVEPT (ept_cache_flush*) and reset invalidate it. */
#define EPT_CACHE_BITS 9
#define EPT_CACHE_SIZE (1u << EPT_CACHE_BITS)
struct ept_cache_entry {
	uint64_t ep4ta;         /* EPTP bits 51:12 of the EPT that made it; 0 = empty */
	uint64_t gpa_page, hpa_page;
	uint8_t perm;
	uint8_t page_shift;
	uint8_t memtype;
	bool ipat;
	bool dirty;
};
struct ept_cache {
	struct ept_cache_entry e[EPT_CACHE_SIZE];
};

/* The EP4TA of an EPTP: bits 51:12 (29.4.1). */
static inline uint64_t ept_ep4ta(uint64_t eptp)
{
	return eptp & 0x000ffffffffff000ull;
}

/* The rules of an EPT entry, shared by the walk (mem/ept.c) and the
 * debugger's read-only walk (mem/walkview.c). */

/* Bits 51:MAXPHYADDR of an entry: reserved (29.3.2). */
static inline uint64_t ept_phys_rsvd(const struct xlate_ctx *ctx)
{
	return paging_rsvd_phys(ctx->maxphyaddr);
}

/* An entry is present when any of bits 2:0 is 1, or, with mode-based
 * execute control, bit 10 (29.3.2). */
static inline bool ept_entry_present(const struct xlate_ctx *ctx, uint64_t e)
{
	return (e & 7) || ((ctx->ept_flags & EPTF_MBEC) && (e & EPTE_UX));
}

/* Reserved bits of a present entry at `level` (5 = PML5E ... 1 = PTE)
 * that is a leaf or not (29.3.2, Tables 29-1 to 29-6): bits 7:3 of a
 * PML5E/PML4E and of an entry referencing a table (bit 7 of a PML5E/PML4E
 * is reserved); bit 7 of a PDPTE/PDE where the processor has no 1 GiB /
 * 2 MiB pages; the low address bits of a large page (29:12, 20:12). */
static inline uint64_t ept_level_rsvd(const struct xlate_ctx *ctx, int level, uint64_t e)
{
	if (level >= 4 || !(e & EPTE_LARGE) || level == 1)
		return level == 1 ? 0 : 0xf8ull;
	if (level == 3)
		return (ctx->ept_flags & EPTF_1G) ? 0x3ffff000ull : EPTE_LARGE;
	return (ctx->ept_flags & EPTF_2M) ? 0x1ff000ull : EPTE_LARGE;
}

/* 29.3.3.1: an EPT misconfiguration for a present entry: write without
 * read; not readable (execute-only) where the processor lacks
 * execute-only translations; a reserved bit; a leaf's memory type 2, 3
 * or 7. */
static inline bool ept_entry_misconfigured(const struct xlate_ctx *ctx, int level, uint64_t e, bool leaf)
{
	if ((e & EPTE_W) && !(e & EPTE_R))
		return true;
	if (!(e & EPTE_R) && !(ctx->ept_flags & EPTF_EXEC_ONLY))
		return true;
	if (e & (ept_phys_rsvd(ctx) | ept_level_rsvd(ctx, level, e)))
		return true;
	if (leaf) {
		unsigned mt = (unsigned)((e & EPTE_MT_MASK) >> EPTE_MT_SHIFT);
		if (mt == 2 || mt == 3 || mt == 7)
			return true;
	}
	return false;
}

/* Translate guest-physical address gpa for access a under ctx->eptp
 * (ctx->eptp != 0), consulting and filling ctx->ept. Returns true with *r
 * filled, or false with *f filled (XLATE_EPT_VIOLATION with the Table 28-7
 * qualification, gpa and linear; or XLATE_EPT_MISCONFIG). With EPTP bit 6
 * the walk sets A in every entry used and D in the leaf for a write; with
 * EPTF_PML it logs each D it sets, or fails with XLATE_PML_FULL when a
 * flag must be set and the PML index is outside 0-511 (28.2.5). */
bool ept_translate(struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t gpa, const struct ept_access *a,
		   struct ept_result *r, struct xlate_fault *f);

/* INVEPT single-context: every cached mapping made with EP4TA ep4ta. */
void ept_cache_flush_ep4ta(struct ept_cache *c, uint64_t ep4ta);
/* INVEPT all-context, reset. */
void ept_cache_flush_all(struct ept_cache *c);

#endif
