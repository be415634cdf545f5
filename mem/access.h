/* The one linear-access path: linear address -> (software TLB | paging walk)
 * -> guest-physical -> RAM, ROM or MMIO. Segmentation is done by cpu/ before
 * calling here; a failed walk comes back as a struct xlate_fault that cpu/
 * turns into #PF.
 *
 * The inline functions are the fast path (TLB hit on a RAM page, access
 * inside one page); everything else goes to mem_access_slow().
 */
#ifndef MEM_ACCESS_H
#define MEM_ACCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "mem/paging.h"
#include "mem/phys.h"
#include "mem/tlb.h"

/* A CPU's view of memory: everything a linear access needs. */
struct mem_view {
	struct tlb *tlb;
	struct phys_map *pm;
	const struct xlate_ctx *ctx;
	uint8_t user;           /* CPL == 3: accesses are user-mode accesses */
	const struct phys_local *local; /* this processor's own MMIO page (xAPIC), or NULL */
	const struct phys_trap *trap;   /* a page whose accesses go to a hook (APIC-access page), or NULL */
};


/* size 1, 2, 4, 8 (and up to 16 for descriptor-table reads split by the
 * caller). acc is ACC_READ / ACC_WRITE / ACC_EXEC plus ACC_USER/IMPLICIT.
 * For reads *val receives the value; for writes *val is stored. */
bool mem_access_slow(const struct mem_view *v, uint64_t la, unsigned size, unsigned acc, uint64_t *val,
		     struct xlate_fault *f);

/* Translate only (no data access), installing a TLB entry when possible. */
bool mem_translate(const struct mem_view *v, uint64_t la, unsigned acc, uint64_t *pa, struct xlate_fault *f);

/* Translate for an instruction that faults like a data access but reads
 * nothing (CLFLUSH, CLFLUSHOPT, CLWB, MONITOR): as mem_translate, except
 * that the trap page refuses it (an APIC-access VM exit with the access
 * type of acc, SDM vol. 3C 29.4.4). */
bool mem_translate_probe(const struct mem_view *v, uint64_t la, unsigned acc, uint64_t *pa, struct xlate_fault *f);

static inline struct tlb_entry *mem_tlb_entry(const struct mem_view *v, uint64_t la)
{
	return &v->tlb->e[mem_tlb_class(v->user, v->ctx)][tlb_index(la)];
}

static inline bool mem_in_page(uint64_t la, unsigned size)
{
	return (la & (PAGE_SIZE - 1)) <= PAGE_SIZE - size;
}

static inline bool mem_read(const struct mem_view *v, uint64_t la, unsigned size, uint64_t *out,
			    struct xlate_fault *f)
{
	struct tlb_entry *e = mem_tlb_entry(v, la);
	if (__builtin_expect(e->tag_r == (la & PAGE_MASK) && mem_in_page(la, size), 1)) {
		const uint8_t *p = (const uint8_t *)(e->host + (la & (PAGE_SIZE - 1)));
		switch (size) {
		case 1: *out = *p; return true;
		case 2: { uint16_t x; memcpy(&x, p, 2); *out = x; return true; }
		case 4: { uint32_t x; memcpy(&x, p, 4); *out = x; return true; }
		default: { uint64_t x; memcpy(&x, p, 8); *out = x; return true; }
		}
	}
	return mem_access_slow(v, la, size, v->user ? ACC_USER : 0, out, f);
}

static inline bool mem_write(const struct mem_view *v, uint64_t la, unsigned size, uint64_t val,
			     struct xlate_fault *f)
{
	struct tlb_entry *e = mem_tlb_entry(v, la);
	if (__builtin_expect(e->tag_w == (la & PAGE_MASK) && mem_in_page(la, size), 1)) {
		uint8_t *p = (uint8_t *)(e->host + (la & (PAGE_SIZE - 1)));
		switch (size) {
		case 1: *p = (uint8_t)val; return true;
		case 2: { uint16_t x = (uint16_t)val; memcpy(p, &x, 2); return true; }
		case 4: { uint32_t x = (uint32_t)val; memcpy(p, &x, 4); return true; }
		default: memcpy(p, &val, 8); return true;
		}
	}
	return mem_access_slow(v, la, size, ACC_WRITE | (v->user ? ACC_USER : 0), &val, f);
}

#endif
