/* Guest-physical address space: RAM from 0, ROM and MMIO regions on top.
 *
 * Lookups scan the region table linearly (at most PHYS_MAX_REGIONS entries):
 * this is the slow path; the software TLB caches host pointers for plain RAM.
 *
 * Code-page hook: a write to a RAM page marked in code_page[] stores the new
 * bytes first and then calls on_code_write(opaque, page_number) once per
 * marked page the write touched. The hook is responsible for clearing the
 * mark (it is left untouched here).
 *
 * Watch hook: a phys_write that overlaps a watched range stores the bytes
 * and then calls on_watch_write once per overlapping range. Only pages
 * marked PHYS_PAGE_WATCH are searched, so other writes pay one byte test.
 */
#include "mem/phys.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* Where a whole access lands. */
enum phys_span { SPAN_RAM, SPAN_REGION, SPAN_UNMAPPED, SPAN_SPLIT };

static bool valid_size(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t le_load(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void le_store(uint8_t *p, uint64_t v, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int phys_init(struct phys_map *pm, uint64_t ram_size)
{
	memset(pm, 0, sizeof(*pm));
	if (ram_size == 0 || ram_size % PAGE_SIZE != 0 || ram_size > SIZE_MAX)
		return -1;
	pm->ram = calloc((size_t)ram_size, 1);
	pm->code_page = calloc((size_t)(ram_size >> PAGE_SHIFT), 1);
	if (!pm->ram || !pm->code_page) {
		phys_destroy(pm);
		return -1;
	}
	pm->ram_size = ram_size;
	return 0;
}

void phys_destroy(struct phys_map *pm)
{
	for (int i = 0; i < pm->nregions; i++)
		free(pm->regions[i].host);
	free(pm->ram);
	free(pm->code_page);
	free(pm->watches);
	memset(pm, 0, sizeof(*pm));
}

/* Both ranges are non-empty and do not wrap past 2^64. */
static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a - b < blen || b - a < alen;
}

/* The region overlapping [pa, pa+len), or NULL. Regions never overlap each
 * other, so when one contains the whole range it is the only match. */
static const struct phys_region *first_overlap(const struct phys_map *pm, uint64_t pa, uint64_t len)
{
	for (int i = 0; i < pm->nregions; i++) {
		const struct phys_region *r = &pm->regions[i];
		if (ranges_overlap(pa, len, r->base, r->size))
			return r;
	}
	return NULL;
}

/* A new region must be non-empty, must not wrap past 2^64, must fit in the
 * table and must not overlap an existing region. */
static bool region_fits(const struct phys_map *pm, uint64_t base, uint64_t size)
{
	if (size == 0 || base + (size - 1) < base)
		return false;
	if (pm->nregions >= PHYS_MAX_REGIONS)
		return false;
	return first_overlap(pm, base, size) == NULL;
}

/* Mark the RAM pages a new region hides (partly), so accesses to every
 * other RAM page skip the region scan. */
static void region_append(struct phys_map *pm, const struct phys_region *r)
{
	pm->regions[pm->nregions++] = *r;
	pm->generation++;
	if (r->base >= pm->ram_size)
		return;
	uint64_t last = r->base + (r->size - 1);
	if (last >= pm->ram_size)
		last = pm->ram_size - 1;
	for (uint64_t pn = r->base >> PAGE_SHIFT; pn <= last >> PAGE_SHIFT; pn++)
		pm->code_page[pn] |= PHYS_PAGE_REGION;
}

/* [pa, last] lies in RAM pages no region touches (a span of at most two
 * pages: accesses are at most 8 bytes). */
static inline bool plain_ram(const struct phys_map *pm, uint64_t pa, uint64_t last)
{
	return last < pm->ram_size && last >= pa &&
	       !((pm->code_page[pa >> PAGE_SHIFT] | pm->code_page[last >> PAGE_SHIFT]) & PHYS_PAGE_REGION);
}

int phys_add_rom(struct phys_map *pm, uint64_t base, uint64_t size, const void *data, const char *name)
{
	if (!region_fits(pm, base, size) || size > SIZE_MAX)
		return -1;
	uint8_t *host = calloc((size_t)size, 1);
	if (!host)
		return -1;
	if (data)
		memcpy(host, data, (size_t)size);
	struct phys_region r = { .base = base, .size = size, .kind = PHYS_ROM, .host = host, .name = name };
	region_append(pm, &r);
	return 0;
}

int phys_add_mmio(struct phys_map *pm, uint64_t base, uint64_t size, const struct io_ops *ops,
		  void *opaque, const char *name)
{
	assert(ops && ops->read && ops->write);
	if (!region_fits(pm, base, size))
		return -1;
	struct phys_region r = {
		.base = base, .size = size, .kind = PHYS_MMIO, .ops = ops, .opaque = opaque, .name = name,
	};
	region_append(pm, &r);
	return 0;
}

const struct phys_region *phys_find_region(const struct phys_map *pm, uint64_t pa)
{
	return first_overlap(pm, pa, 1);
}

uint8_t *phys_ram_page(const struct phys_map *pm, uint64_t pa)
{
	uint64_t page = pa & PAGE_MASK;
	if (page >= pm->ram_size || (pm->code_page[page >> PAGE_SHIFT] & PHYS_PAGE_REGION))
		return NULL;
	return pm->ram + page;
}

/* Classify the access [pa, pa+size): entirely RAM, entirely inside one
 * region (*out), entirely unmapped, or mixed (split into bytes). */
static enum phys_span classify(const struct phys_map *pm, uint64_t pa, unsigned size,
			       const struct phys_region **out)
{
	uint64_t last = pa + (size - 1);
	if (plain_ram(pm, pa, last))
		return SPAN_RAM;
	if (last < pa)
		return SPAN_SPLIT;
	const struct phys_region *r = first_overlap(pm, pa, size);
	if (r) {
		*out = r;
		bool inside = pa >= r->base && last - r->base < r->size;
		return inside ? SPAN_REGION : SPAN_SPLIT;
	}
	if (last < pm->ram_size)
		return SPAN_RAM;
	return pa >= pm->ram_size ? SPAN_UNMAPPED : SPAN_SPLIT;
}

/* Call the code-write hook for every marked page in the RAM range
 * [pa, pa+len), len > 0. */
static void note_code_write(struct phys_map *pm, uint64_t pa, uint64_t len)
{
	if (!pm->on_code_write)
		return;
	uint64_t last = (pa + len - 1) >> PAGE_SHIFT;
	for (uint64_t pn = pa >> PAGE_SHIFT; pn <= last; pn++) {
		if (pm->code_page[pn] & PHYS_PAGE_CODE)
			pm->on_code_write(pm->code_write_opaque, pn);
	}
}

/* Call the watch hook for every watched range the RAM access
 * [pa, pa+size) overlaps. */
static void note_watch_write(struct phys_map *pm, uint64_t pa, unsigned size)
{
	if (!pm->on_watch_write ||
	    !((pm->code_page[pa >> PAGE_SHIFT] | pm->code_page[(pa + size - 1) >> PAGE_SHIFT]) & PHYS_PAGE_WATCH))
		return;
	for (int i = 0; i < pm->nwatches; i++) {
		const struct phys_watch *w = &pm->watches[i];
		if (ranges_overlap(pa, size, w->base, w->size))
			pm->on_watch_write(pm->watch_write_opaque, w, pa, size);
	}
}

static uint64_t region_read(const struct phys_region *r, uint64_t pa, unsigned size)
{
	uint64_t off = pa - r->base;
	if (r->kind == PHYS_ROM)
		return le_load(r->host + off, size);
	return r->ops->read(r->opaque, off, size) & size_mask(size);
}

uint64_t phys_read(struct phys_map *pm, uint64_t pa, unsigned size)
{
	assert(valid_size(size));
	const struct phys_region *r = NULL;
	uint64_t v = 0;
	switch (classify(pm, pa, size, &r)) {
	case SPAN_RAM:
		return le_load(pm->ram + pa, size);
	case SPAN_REGION:
		return region_read(r, pa, size);
	case SPAN_UNMAPPED:
		return size_mask(size);
	case SPAN_SPLIT:
		/* Bytes past the top of the address space are unmapped. */
		for (unsigned i = 0; i < size; i++)
			v |= (pa + i < pa ? 0xff : phys_read(pm, pa + i, 1)) << (8 * i);
		return v;
	}
	assert(!"unreachable span");
	return 0;
}

static void write_span(struct phys_map *pm, uint64_t pa, uint64_t value, unsigned size, bool watched)
{
	assert(valid_size(size));
	const struct phys_region *r = NULL;
	switch (classify(pm, pa, size, &r)) {
	case SPAN_RAM:
		le_store(pm->ram + pa, value, size);
		note_code_write(pm, pa, size);
		if (watched)
			note_watch_write(pm, pa, size);
		break;
	case SPAN_REGION:
		/* ROM ignores writes; MMIO gets the value truncated to size. */
		if (r->kind == PHYS_MMIO)
			r->ops->write(r->opaque, pa - r->base, value & size_mask(size), size);
		break;
	case SPAN_UNMAPPED:
		break;
	case SPAN_SPLIT:
		for (unsigned i = 0; i < size && pa + i >= pa; i++)
			write_span(pm, pa + i, (value >> (8 * i)) & 0xff, 1, watched);
		break;
	}
}

void phys_write(struct phys_map *pm, uint64_t pa, uint64_t value, unsigned size)
{
	write_span(pm, pa, value, size, true);
}

void phys_write_unwatched(struct phys_map *pm, uint64_t pa, uint64_t value, unsigned size)
{
	write_span(pm, pa, value, size, false);
}

/* ---- watched ranges ---- */

static void mark_watch_pages(struct phys_map *pm, uint64_t base, uint64_t size)
{
	for (uint64_t pn = base >> PAGE_SHIFT; pn <= (base + size - 1) >> PAGE_SHIFT; pn++)
		pm->code_page[pn] |= PHYS_PAGE_WATCH;
}

int phys_watch_add(struct phys_map *pm, uint64_t base, uint64_t size, void *tag, unsigned kind)
{
	if (size == 0 || base >= pm->ram_size || size > pm->ram_size - base || first_overlap(pm, base, size))
		return -1;
	if (pm->nwatches == pm->watch_cap) {
		int cap = pm->watch_cap ? 2 * pm->watch_cap : 8;
		struct phys_watch *w = realloc(pm->watches, (size_t)cap * sizeof(*w));
		if (!w)
			return -1;
		pm->watches = w;
		pm->watch_cap = cap;
	}
	pm->watches[pm->nwatches++] = (struct phys_watch){ .base = base, .size = size, .tag = tag, .kind = kind };
	mark_watch_pages(pm, base, size);
	return 0;
}

/* Drop entry i, then re-mark its pages that another range still covers. */
static void remove_watch(struct phys_map *pm, int i)
{
	struct phys_watch gone = pm->watches[i];
	uint64_t first = gone.base & PAGE_MASK, end = ((gone.base + gone.size - 1) | (PAGE_SIZE - 1)) + 1;

	pm->watches[i] = pm->watches[--pm->nwatches];
	for (uint64_t pn = first >> PAGE_SHIFT; pn < end >> PAGE_SHIFT; pn++)
		pm->code_page[pn] &= (uint8_t)~PHYS_PAGE_WATCH;
	for (int k = 0; k < pm->nwatches; k++)
		if (ranges_overlap(first, end - first, pm->watches[k].base, pm->watches[k].size))
			mark_watch_pages(pm, pm->watches[k].base, pm->watches[k].size);
}

void phys_unwatch(struct phys_map *pm, uint64_t base, void *tag)
{
	for (int i = pm->nwatches - 1; i >= 0; i--)
		if (pm->watches[i].base == base && pm->watches[i].tag == tag)
			remove_watch(pm, i);
}

void phys_unwatch_tag(struct phys_map *pm, void *tag)
{
	for (int i = pm->nwatches - 1; i >= 0; i--)
		if (pm->watches[i].tag == tag)
			remove_watch(pm, i);
}

/* Host bytes backing pa: a pointer and, in *avail, how many contiguous bytes
 * from pa are backed by the same RAM or ROM; NULL for MMIO or unmapped. */
static uint8_t *host_span(const struct phys_map *pm, uint64_t pa, uint64_t *avail, bool *is_ram)
{
	const struct phys_region *r = phys_find_region(pm, pa);
	if (r) {
		if (r->kind != PHYS_ROM)
			return NULL;
		*avail = r->size - (pa - r->base);
		*is_ram = false;
		return r->host + (pa - r->base);
	}
	if (pa >= pm->ram_size)
		return NULL;
	uint64_t end = pm->ram_size;
	for (int i = 0; i < pm->nregions; i++) {
		uint64_t b = pm->regions[i].base;
		if (b > pa && b < end)
			end = b;
	}
	*avail = end - pa;
	*is_ram = true;
	return pm->ram + pa;
}

/* True when every byte of [pa, pa+len) is RAM or ROM. */
static bool range_backed(const struct phys_map *pm, uint64_t pa, size_t len)
{
	if (len == 0)
		return true;
	if (len - 1 > UINT64_MAX - pa)
		return false;
	while (len) {
		uint64_t avail;
		bool is_ram;
		if (!host_span(pm, pa, &avail, &is_ram))
			return false;
		uint64_t n = avail < len ? avail : len;
		pa += n;
		len -= n;
	}
	return true;
}

int phys_copy_in(struct phys_map *pm, uint64_t pa, const void *src, size_t len)
{
	if (!range_backed(pm, pa, len))
		return -1;
	const uint8_t *s = src;
	while (len) {
		uint64_t avail;
		bool is_ram;
		uint8_t *h = host_span(pm, pa, &avail, &is_ram);
		size_t n = avail < len ? (size_t)avail : len;
		memcpy(h, s, n);
		if (is_ram)
			note_code_write(pm, pa, n);
		pa += n;
		s += n;
		len -= n;
	}
	return 0;
}

int phys_copy_out(const struct phys_map *pm, uint64_t pa, void *dst, size_t len)
{
	if (!range_backed(pm, pa, len))
		return -1;
	uint8_t *d = dst;
	while (len) {
		uint64_t avail;
		bool is_ram;
		const uint8_t *h = host_span(pm, pa, &avail, &is_ram);
		size_t n = avail < len ? (size_t)avail : len;
		memcpy(d, h, n);
		pa += n;
		d += n;
		len -= n;
	}
	return 0;
}

int phys_fill(struct phys_map *pm, uint64_t pa, uint8_t byte, size_t len)
{
	if (!range_backed(pm, pa, len))
		return -1;
	while (len) {
		uint64_t avail;
		bool is_ram;
		uint8_t *h = host_span(pm, pa, &avail, &is_ram);
		size_t n = avail < len ? (size_t)avail : len;
		memset(h, byte, n);
		if (is_ram)
			note_code_write(pm, pa, n);
		pa += n;
		len -= n;
	}
	return 0;
}
