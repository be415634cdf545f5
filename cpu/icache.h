/* The decoded-instruction cache: basic blocks of decoded instructions keyed
 * by guest-physical address and code size, invalidated when their page is
 * written. One cache serves all vCPUs of a machine. */
#ifndef CPU_ICACHE_H
#define CPU_ICACHE_H

#include <stdint.h>

#include "cpu/decode.h"
#include "mem/phys.h"

struct icache;
struct cpu;

/* A run of decoded instructions from one guest-physical page, entered at
 * its first byte and executed in order. */
struct block {
	uint64_t pa;
	uint8_t mode;           /* decode mode key (code64, def32) */
	uint16_t n;
	uint32_t bytes;         /* length of the run in bytes */
	struct block *hash_next, *page_next;
	struct insn insns[];
};

struct icache *icache_create(struct phys_map *pm);
void icache_destroy(struct icache *ic);
/* Drop every block decoded from guest-physical page pn (called from the
 * physical map's code-write hook). */
void icache_invalidate_page(struct icache *ic, uint64_t pn);
void icache_flush(struct icache *ic);

/* CPUs whose TLBs must stop writing directly to pages that gain cached code,
 * and which must leave a block whose page was written. */
int icache_attach_cpu(struct icache *ic, struct cpu *c);
/* Make every attached CPU's TLB stop writing directly to the page holding
 * pa (a page just marked in the physical map, e.g. watched by VMX). */
void icache_drop_writes(struct icache *ic, uint64_t pa);

struct block *icache_lookup(struct icache *ic, uint64_t pa, uint8_t mode);
/* Storage for a block of up to n instructions; NULL when the arena is full
 * (call icache_flush and retry: never while a block is executing). */
struct block *icache_alloc(struct icache *ic, unsigned n);
/* Publish a block filled in after icache_alloc; shrinks it to b->n. */
void icache_insert(struct icache *ic, struct block *b);

#endif
