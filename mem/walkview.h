/* Side-effect-free page walks for the debugger: the paging walks of SDM
 * vol. 3A chapter 4 (CR0.PG = 0, 32-bit 4.3, PAE 4.4 with the PDPTE
 * registers, 4-level and 5-level 4.5) and the EPT walk of SDM vol. 3C
 * 29.3.2 "EPT Translation Mechanism", recorded level by level.
 *
 * Unlike mem/paging.c and mem/ept.c these walks set no accessed or dirty
 * flag, log nothing to the PML, fill no cache and never touch MMIO: an
 * entry is read only from RAM or ROM (phys_copy_out), and an entry that
 * lies elsewhere ends the walk (WV_NOT_MEMORY). The rules (which bits are
 * reserved, what is present, what is a leaf) are the ones the real walks
 * use, from the same helpers in mem/paging.h and mem/ept.h.
 */
#ifndef MEM_WALKVIEW_H
#define MEM_WALKVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/ept.h"
#include "mem/paging.h"
#include "mem/phys.h"

enum wv_mode { WV_MODE_NONE, WV_MODE_32BIT, WV_MODE_PAE, WV_MODE_4LEVEL, WV_MODE_5LEVEL };

/* Where a walk ended. */
enum wv_stop {
	WV_OK,
	WV_NOT_PRESENT,         /* P = 0 (EPT: bits 2:0 = 0, and bit 10 under MBEC) */
	WV_RESERVED,            /* a reserved bit is set (EPT: a misconfiguration, 29.3.3.1) */
	WV_NOT_MEMORY,          /* the entry is not in RAM or ROM: not read */
	WV_EPT_FAILED,          /* the EPT walk of this entry's guest-physical address failed */
};

/* One paging-structure entry. */
struct wv_entry {
	uint8_t level;          /* 5 = PML5E ... 1 = PTE (32-bit paging: 2 = PDE, 1 = PTE) */
	bool leaf;              /* maps a page (page_size) */
	bool from_register;     /* PAE PDPTE: read from the PDPTE register, not from memory */
	uint64_t addr;          /* (guest-)physical address of the entry */
	uint64_t value;
	uint64_t page_size;     /* leaf: the page it maps */
};

/* An EPT walk of one guest-physical address. */
struct wv_ept {
	uint64_t gpa;
	uint8_t levels;         /* EPTP bits 5:3 + 1 */
	uint8_t n;              /* entries read */
	struct wv_entry e[5];
	enum wv_stop stop;      /* at e[n - 1] (or before any read: WV_NOT_MEMORY with n = 0) */
	uint64_t hpa;           /* WV_OK: the host-physical address */
	uint8_t perm;           /* R/W/X (bits 2:0) | EPT_PERM_UX: the AND over the walk */
	uint8_t memtype;        /* leaf bits 5:3 */
	bool ipat;
	uint64_t page_size;
};

/* A paging walk of one linear address. */
struct wv_walk {
	uint64_t la;
	enum wv_mode mode;
	uint8_t n;              /* entries recorded */
	struct wv_entry e[5];
	bool ept;               /* ctx->eptp != 0: addresses are guest-physical */
	struct wv_ept ept_entry[5];     /* ept: the EPT walk of e[k].addr (not for PDPTE registers) */
	struct wv_ept ept_final;        /* ept, paging OK: the EPT walk of gpa */
	enum wv_stop stop;      /* of the guest walk at e[n - 1]; WV_EPT_FAILED: ept_entry[n - 1] or ept_final failed */
	uint64_t gpa;           /* paging OK: the guest-physical (= physical without EPT) address */
	uint64_t pa;            /* WV_OK: the (host-)physical address */
	uint64_t page_size;
	bool all_w, all_u, any_nx;      /* R/W and U/S ANDed, XD ORed (with EFER.NXE) over the walk */
	uint8_t pkey;           /* 4-level/5-level with CR4.PKE, user-mode address: its key; else 0xff */
	/* A failed walk as the processor would report it to a data read at
	 * ctx->cpl: the #PF error code (PFEC_*), or the EPT violation's exit
	 * qualification (Table 28-7; 0 for a misconfiguration). */
	bool pf;
	uint32_t pf_error;
	bool ept_violation;
	uint64_t ept_qual;
};

/* Walk la under ctx (the CPU's c->xc), reading pm only. True when it
 * reaches a physical address (w->pa). */
bool wv_translate(const struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t la, struct wv_walk *w);
/* The EPT walk of gpa under ctx->eptp (!= 0): true when it maps gpa. */
bool wv_ept_walk(const struct phys_map *pm, const struct xlate_ctx *ctx, uint64_t gpa, struct wv_ept *e);

/* Names of the entry at level 5..1: "PML5E" ... "PTE" (the same in every
 * paging mode), "EPT PML5E" ... "EPT PTE". */
const char *wv_level_name(int level);
const char *wv_ept_level_name(int level);
const char *wv_mode_name(enum wv_mode m);
const char *wv_stop_name(enum wv_stop s);

#endif
