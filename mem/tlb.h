/* The software TLB: linear page -> host pointer for plain-RAM pages, tagged
 * the way the architecture tags translations (SDM vol. 3A 4.10.1, 4.10.2).
 *
 * Direct-mapped, one array per access class so that a change of CPL or of
 * EFLAGS.AC needs no flush: [0] supervisor, [1] user, [2] supervisor with
 * CR4.SMAP = EFLAGS.AC = 1 (the one case where a supervisor data access to
 * a user-mode address is allowed, 4.6.1). An entry caches read, write and
 * fetch permission separately: a tag equals the linear page number only when
 * that access may go straight to host memory in the current context. Write
 * tags are installed only when the walk already set the D bit and the page
 * holds no cached code, so the first write to a clean or code page takes the
 * slow path. MMIO, ROM writes and unmapped pages are never cached.
 *
 * PCIDs (4.10.1): every entry remembers the PCID it was cached for and
 * whether it is global. Entries of the current PCID and global entries are
 * "live" (tags are plain page numbers, the hit path compares nothing else);
 * entries of other PCIDs are "dormant": TLB_DORMANT is or-ed into their tags
 * so they never match, and tlb_switch_pcid() wakes them when their PCID
 * becomes current again. The hit path therefore costs what it always did.
 * A dormant entry displaced by the current PCID's translation of the same
 * slot moves to a second, "spill" array (never looked at by the hit path)
 * and comes back when its PCID does, so two address spaces that use the
 * same linear page both keep their translation.
 *
 * VPIDs and EPTPs (SDM vol. 3C 28.3.1, 28.3.3): every entry also remembers
 * the translation context it was cached in, a slot of ctxs[] naming a VPID
 * and, when EPT was in use, an EP4TA (linear mappings have none, combined
 * mappings one). Entries of other contexts are dormant the same way, global
 * ones included; tlb_switch() (VM entry, VM exit) changes the context
 * without flushing. Root operation is VPID 0000H without EPT. The cached
 * permission decisions depend on CR0/CR4/EFER bits the VMCS switches along
 * (tlb_perm_key): a context whose entries were cached under other bits is
 * flushed when it becomes current (the processor may always invalidate
 * more, 28.3.3.1). Contexts are few (TLB_CONTEXTS); the least recently
 * used one is flushed to make room for a new one.
 *
 * A translation of a page larger than 4 KiB is cached as 4 KiB pieces; each
 * piece remembers the page size, so INVLPG of any address in the large page
 * drops exactly the pieces of that page (4.10.2.3, 4.10.4.1).
 */
#ifndef MEM_TLB_H
#define MEM_TLB_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/paging.h"
#include "mem/phys.h"

#define TLB_BITS 10
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_CLASSES 3
#define TLB_FILL_LOG 256
#define TLB_INVALID (~0ull)
#define TLB_DORMANT 1ull        /* or-ed into the tags of another PCID's entries */
#define TLB_NO_PKEY 0xff        /* the page is not subject to protection keys */
#define TLB_CONTEXTS 16         /* (VPID, EP4TA) pairs cached at once */
#define TLB_EPT 1ull            /* or-ed into struct tlb_context.ept: EPT in use, EP4TA in bits 63:12 */

enum { TLB_SUPERVISOR = 0, TLB_USER = 1, TLB_SUPERVISOR_AC = 2 };

struct tlb_entry {
	uint64_t tag_r, tag_w, tag_x;   /* linear page address, | TLB_DORMANT, or TLB_INVALID */
	uintptr_t host;                 /* host address of the page start */
	uint64_t pa;                    /* guest-physical page address */
	uint16_t pcid;                  /* PCID the translation was cached for */
	uint8_t ctx;                    /* slot of struct tlb.ctxs it was cached in */
	uint8_t global;                 /* global translation (G = 1 with CR4.PGE = 1) */
	uint8_t size_shift;             /* 12, 21, 22 or 30: size of the page it is a piece of */
	uint8_t pkey;                   /* protection key of a user-mode address, or TLB_NO_PKEY */
};

/* A translation context (28.3.1): linear mappings are tagged by VPID (and
 * PCID), combined mappings also by EP4TA. */
struct tlb_context {
	uint64_t ept;                   /* EP4TA | TLB_EPT, or 0: EPT not in use */
	uint32_t perm;                  /* tlb_perm_key its entries were cached under */
	uint32_t stamp;                 /* when it was last made current (eviction order) */
	uint16_t vpid;
};

struct tlb {
	/* [0, TLB_CLASSES): the arrays the hit path uses, by class;
	 * [TLB_CLASSES, 2 * TLB_CLASSES): their spill arrays (dormant only). */
	struct tlb_entry e[2 * TLB_CLASSES][TLB_SIZE];
	uint16_t pcid;                  /* current PCID: its entries are live */
	uint8_t ctx;                    /* current context: slot of ctxs */
	uint32_t perm;                  /* tlb_perm_key of the current paging controls */
	uint32_t stamp;                 /* counts context switches */
	uint32_t used;                  /* bit k: ctxs[k] names a context (the current one always does) */
	struct tlb_context ctxs[TLB_CONTEXTS];
	bool has_large;                 /* a piece of a large page may be cached */
	bool spill_used;                /* the spill arrays may hold entries */
	/* Bit (class * TLB_SIZE + index): that spill slot may hold an entry
	 * (set by tlb_make_room), so a context switch visits only those. */
	uint64_t spilled[TLB_CLASSES * TLB_SIZE / 64];
	/* Bit (class * TLB_SIZE + index): that hit-path slot may hold an entry
	 * (set by tlb_note_fill), so a context switch visits only those. */
	uint64_t occupied[TLB_CLASSES * TLB_SIZE / 64];
	/* Bit k set: cache no read/write translations in class k, so every data
	 * access of that class takes the slow path (the CPU sets it while data
	 * breakpoints or alignment checking are armed; cpu/debug.c). */
	uint8_t data_nofill;
	/* Slots (class * TLB_SIZE + index) of the hit-path arrays filled since
	 * the last tlb_flush_all, while they fit: that flush then clears only
	 * these (VM entries and exits without VPIDs flush VPID 0000H, SDM vol.
	 * 3C 28.3.3.1, twice per round trip: everything while no other VPID is
	 * cached). fill_logged is false when
	 * the log does not cover every slot that may be in use (at creation,
	 * after an overflow): the next flush clears every slot. */
	uint16_t filled[TLB_FILL_LOG];
	unsigned nfilled;
	bool fill_logged;
};

/* Record that slot idx of class cls is about to hold a translation. */
static inline void tlb_note_fill(struct tlb *t, unsigned cls, unsigned idx)
{
	t->occupied[(cls * TLB_SIZE + idx) / 64] |= 1ull << (idx % 64);
	if (t->nfilled < TLB_FILL_LOG)
		t->filled[t->nfilled++] = (uint16_t)(cls * TLB_SIZE + idx);
	else
		t->fill_logged = false;
}

/* The TLB class an access by user (CPL 3) or supervisor code uses. */
static inline unsigned mem_tlb_class(bool user, const struct xlate_ctx *ctx)
{
	if (user)
		return TLB_USER;
	return (ctx->cr4 & CR4_SMAP) && ctx->rflags_ac ? TLB_SUPERVISOR_AC : TLB_SUPERVISOR;
}

static inline unsigned tlb_index(uint64_t la)
{
	return (unsigned)(la >> PAGE_SHIFT) & (TLB_SIZE - 1);
}

/* The control bits the cached permission decisions depend on (4.6, 4.10.2.2):
 * CR0.PE/WP/PG, CR4.PSE/PAE/PGE/LA57/SMEP/SMAP/PKE, EFER.LMA/NXE. */
static inline uint32_t tlb_perm_key(const struct xlate_ctx *x)
{
	return (uint32_t)((x->cr0 & (CR0_PE | CR0_WP | CR0_PG)) |
			  (x->cr4 & (CR4_PSE | CR4_PAE | CR4_PGE | CR4_LA57 | CR4_SMEP | CR4_SMAP | CR4_PKE)) |
			  (x->efer & (EFER_LMA | EFER_NXE)));
}

/* Nothing is cached: no fill since the last tlb_flush_all. */
static inline bool tlb_empty(const struct tlb *t)
{
	return t->fill_logged && t->nfilled == 0;
}

/* The VPID of the current context (0000H in root operation). */
static inline uint16_t tlb_vpid(const struct tlb *t)
{
	return t->ctxs[t->ctx].vpid;
}

/* Everything, global entries and every PCID and context included. Also used when an
 * input of the cached permission decisions changes (CR0.WP, CR4.SMAP,
 * EFER.NXE...): dropping entries is always allowed (4.10.4.1, "the
 * processor is always free to invalidate additional entries"). */
void tlb_flush_all(struct tlb *t);
/* The invalidations of chapter 4 act on the current VPID only, for every
 * EP4TA (SDM vol. 3C 28.3.3.1, "Operations that architecturally invalidate
 * entries in the TLBs ... are required to do so only for the current
 * VPID"). */
/* Every entry of the current VPID: MOV to CR0/CR4 and INVPCID type 2. */
void tlb_flush_current(struct tlb *t);
/* Non-global entries of one PCID (MOV to CR3, INVPCID type 1). */
void tlb_flush_pcid(struct tlb *t, uint16_t pcid);
/* Non-global entries of every PCID (INVPCID type 3). */
void tlb_flush_nonglobal(struct tlb *t);
/* INVLPG: entries for la's page of the current PCID, and global ones. */
void tlb_flush_page(struct tlb *t, uint64_t la);
/* INVPCID type 0: non-global entries for la's page of one PCID. */
void tlb_flush_page_pcid(struct tlb *t, uint64_t la, uint16_t pcid);
/* Make pcid current: its entries become live, the old PCID's dormant. */
void tlb_switch_pcid(struct tlb *t, uint16_t pcid);

/* VPID- and EPTP-tagged invalidations (28.3.3.1, 30.3 INVVPID, INVEPT);
 * each acts on every PCID. */
/* Every entry of vpid, globals included (INVVPID type 1; with vpid 0, what
 * VM entries and exits do when "enable VPID" is 0). */
void tlb_flush_vpid_slow(struct tlb *t, uint16_t vpid);
static inline void tlb_flush_vpid(struct tlb *t, uint16_t vpid)
{
	if (t->used == 1u << t->ctx && tlb_vpid(t) == vpid)
		tlb_flush_all(t);       /* one context, of that VPID: VM entries and exits without VPIDs */
	else
		tlb_flush_vpid_slow(t, vpid);
}
/* Non-global entries of vpid (INVVPID type 3). */
void tlb_flush_vpid_nonglobal(struct tlb *t, uint16_t vpid);
/* Entries of vpid for la's page, globals included (INVVPID type 0). */
void tlb_flush_vpid_page(struct tlb *t, uint16_t vpid, uint64_t la);
/* Entries of every VPID except 0000H (INVVPID type 2). */
void tlb_flush_all_vpids(struct tlb *t);
/* Combined mappings of one EP4TA (ept: EP4TA | TLB_EPT), every VPID (INVEPT
 * type 1), or of every EP4TA (ept = 0: INVEPT type 2). */
void tlb_flush_ept(struct tlb *t, uint64_t ept);
/* Make (vpid, ept) the current context with PCID pcid under the paging
 * controls perm (tlb_perm_key): its entries become live, the others
 * dormant; nothing is invalidated unless the context's entries were cached
 * under other controls (VM entry and VM exit, 28.3.3.1). */
void tlb_switch_slow(struct tlb *t, uint16_t vpid, uint64_t ept, uint16_t pcid, uint32_t perm);
static inline void tlb_switch(struct tlb *t, uint16_t vpid, uint64_t ept, uint16_t pcid, uint32_t perm)
{
	const struct tlb_context *cur = &t->ctxs[t->ctx];
	if (cur->vpid != vpid || cur->ept != ept || t->pcid != pcid || t->perm != perm)
		tlb_switch_slow(t, vpid, ept, pcid, perm);
}
/* WRPKRU: drop data permissions of entries whose key's rights changed. */
void tlb_pkru_changed(struct tlb *t, uint32_t old_pkru, uint32_t new_pkru);
/* Before installing a translation of the current PCID in e[cls][idx]: move
 * a dormant entry there to the spill array. */
void tlb_make_room(struct tlb *t, unsigned cls, unsigned idx);
/* Drop write permission for every entry mapping guest-physical page pa. */
void tlb_drop_writes_to(struct tlb *t, uint64_t pa);
/* Drop every entry (any PCID, global or not, any tag) mapping the page of
 * physical address pa: VM entry makes the VMX APIC-access page a page no
 * cached translation may reach (SDM vol. 3C 29.4.1, vmx/apicv.c). */
void tlb_drop_page_pa(struct tlb *t, uint64_t pa);

#endif
