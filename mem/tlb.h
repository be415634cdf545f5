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

enum { TLB_SUPERVISOR = 0, TLB_USER = 1, TLB_SUPERVISOR_AC = 2 };

struct tlb_entry {
	uint64_t tag_r, tag_w, tag_x;   /* linear page address, | TLB_DORMANT, or TLB_INVALID */
	uintptr_t host;                 /* host address of the page start */
	uint64_t pa;                    /* guest-physical page address */
	uint16_t pcid;                  /* PCID the translation was cached for */
	uint8_t global;                 /* global translation (G = 1 with CR4.PGE = 1) */
	uint8_t size_shift;             /* 12, 21, 22 or 30: size of the page it is a piece of */
	uint8_t pkey;                   /* protection key of a user-mode address, or TLB_NO_PKEY */
};

struct tlb {
	/* [0, TLB_CLASSES): the arrays the hit path uses, by class;
	 * [TLB_CLASSES, 2 * TLB_CLASSES): their spill arrays (dormant only). */
	struct tlb_entry e[2 * TLB_CLASSES][TLB_SIZE];
	uint16_t pcid;                  /* current PCID: its entries are live */
	bool has_large;                 /* a piece of a large page may be cached */
	bool spill_used;                /* the spill arrays may hold entries */
	/* Bit k set: cache no read/write translations in class k, so every data
	 * access of that class takes the slow path (the CPU sets it while data
	 * breakpoints or alignment checking are armed; cpu/debug.c). */
	uint8_t data_nofill;
	/* Slots (class * TLB_SIZE + index) of the hit-path arrays filled since
	 * the last tlb_flush_all, while they fit: that flush then clears only
	 * these (VM entries and exits without VPIDs flush everything, SDM vol.
	 * 3C 28.3.3.1, twice per round trip). fill_logged is false when
	 * the log does not cover every slot that may be in use (at creation,
	 * after an overflow): the next flush clears every slot. */
	uint16_t filled[TLB_FILL_LOG];
	unsigned nfilled;
	bool fill_logged;
};

/* Record that slot idx of class cls is about to hold a translation. */
static inline void tlb_note_fill(struct tlb *t, unsigned cls, unsigned idx)
{
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

/* Everything, global entries and every PCID included. Also used when an
 * input of the cached permission decisions changes (CR0.WP, CR4.SMAP,
 * EFER.NXE...): dropping entries is always allowed (4.10.4.1, "the
 * processor is always free to invalidate additional entries"). */
void tlb_flush_all(struct tlb *t);
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
