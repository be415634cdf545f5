/* Decoded-block storage: a bump arena, a hash on (pa, mode), and per-page
 * lists for invalidation when a page holding cached code is written. */
#include "cpu/icache.h"

#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"

#define ICACHE_HASH_BITS 16
#define ICACHE_ARENA_BYTES (32u << 20)
#define ICACHE_MAX_CPUS 64

struct icache {
	struct phys_map *pm;
	struct block *hash[1u << ICACHE_HASH_BITS];
	struct block **page_head;       /* per RAM page */
	uint8_t *arena;
	size_t used;
	struct cpu *cpus[ICACHE_MAX_CPUS];
	int ncpus;
};

static void on_code_write(void *opaque, uint64_t pn)
{
	icache_invalidate_page(opaque, pn);
}

struct icache *icache_create(struct phys_map *pm)
{
	struct icache *ic = calloc(1, sizeof(*ic));
	if (!ic)
		return NULL;
	ic->pm = pm;
	ic->page_head = calloc(pm->ram_size / PAGE_SIZE + 1, sizeof(*ic->page_head));
	ic->arena = malloc(ICACHE_ARENA_BYTES);
	if (!ic->page_head || !ic->arena) {
		icache_destroy(ic);
		return NULL;
	}
	pm->on_code_write = on_code_write;
	pm->code_write_opaque = ic;
	return ic;
}

void icache_destroy(struct icache *ic)
{
	if (!ic)
		return;
	if (ic->pm->code_write_opaque == ic)
		ic->pm->on_code_write = NULL;
	free(ic->page_head);
	free(ic->arena);
	free(ic);
}

int icache_attach_cpu(struct icache *ic, struct cpu *c)
{
	if (ic->ncpus == ICACHE_MAX_CPUS)
		return -1;
	ic->cpus[ic->ncpus++] = c;
	return 0;
}

static unsigned hash_of(uint64_t pa, uint8_t mode)
{
	uint64_t h = (pa ^ ((uint64_t)mode << 40)) * 0x9e3779b97f4a7c15ull;
	return (unsigned)(h >> (64 - ICACHE_HASH_BITS));
}

struct block *icache_lookup(struct icache *ic, uint64_t pa, uint8_t mode)
{
	for (struct block *b = ic->hash[hash_of(pa, mode)]; b; b = b->hash_next)
		if (b->pa == pa && b->mode == mode)
			return b;
	return NULL;
}

struct block *icache_alloc(struct icache *ic, unsigned n)
{
	size_t need = sizeof(struct block) + n * sizeof(struct insn);
	if (ic->used + need > ICACHE_ARENA_BYTES)
		return NULL;
	struct block *b = (struct block *)(ic->arena + ic->used);
	memset(b, 0, sizeof(*b));
	return b;
}

void icache_insert(struct icache *ic, struct block *b)
{
	size_t size = sizeof(struct block) + b->n * sizeof(struct insn);
	ic->used += (size + 15) & ~(size_t)15;
	unsigned h = hash_of(b->pa, b->mode);
	b->hash_next = ic->hash[h];
	ic->hash[h] = b;
	uint64_t pn = b->pa >> PAGE_SHIFT;
	if (b->pa >= ic->pm->ram_size)
		return;     /* ROM: never written, never invalidated */
	b->page_next = ic->page_head[pn];
	ic->page_head[pn] = b;
	if (!(ic->pm->code_page[pn] & PHYS_PAGE_CODE)) {
		ic->pm->code_page[pn] |= PHYS_PAGE_CODE;
		for (int k = 0; k < ic->ncpus; k++)
			tlb_drop_writes_to(&ic->cpus[k]->tlb, b->pa);
	}
}

static void unhash(struct icache *ic, struct block *b)
{
	struct block **pp = &ic->hash[hash_of(b->pa, b->mode)];
	while (*pp && *pp != b)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = b->hash_next;
}

void icache_invalidate_page(struct icache *ic, uint64_t pn)
{
	if (pn >= ic->pm->ram_size / PAGE_SIZE)
		return;
	for (struct block *b = ic->page_head[pn]; b; b = b->page_next)
		unhash(ic, b);
	ic->page_head[pn] = NULL;
	ic->pm->code_page[pn] &= (uint8_t)~PHYS_PAGE_CODE;
	for (int k = 0; k < ic->ncpus; k++) {
		cpu_end_block(ic->cpus[k]);
		memset(ic->cpus[k]->jc, 0, sizeof(ic->cpus[k]->jc));
	}
}

void icache_drop_writes(struct icache *ic, uint64_t pa)
{
	for (int k = 0; k < ic->ncpus; k++)
		tlb_drop_writes_to(&ic->cpus[k]->tlb, pa);
}

void icache_flush(struct icache *ic)
{
	memset(ic->hash, 0, sizeof(ic->hash));
	memset(ic->page_head, 0, (ic->pm->ram_size / PAGE_SIZE + 1) * sizeof(*ic->page_head));
	for (uint64_t pn = 0; pn < ic->pm->ram_size / PAGE_SIZE; pn++)
		ic->pm->code_page[pn] &= (uint8_t)~PHYS_PAGE_CODE;     /* watch marks stay */
	ic->used = 0;
	for (int k = 0; k < ic->ncpus; k++) {
		cpu_end_block(ic->cpus[k]);
		memset(ic->cpus[k]->jc, 0, sizeof(ic->cpus[k]->jc));
	}
}
