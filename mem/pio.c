/* The port-I/O bus. owner[] maps each port to the range that claims it.
 *
 * An access whose bytes all belong to one range reaches that range's
 * callbacks once, with the access size. Otherwise it is split into byte
 * accesses, each to its own owner, as the PC's bus does when a wide access
 * spans 8-bit devices; unclaimed bytes read 0xff and drop writes. Ports past
 * 0xffff (a wide access at the top of the space) count as unclaimed.
 */
#include "mem/pio.h"

#include <assert.h>
#include <string.h>

#define PIO_PORTS 0x10000u

void pio_init(struct pio_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int pio_register(struct pio_bus *bus, uint16_t base, uint16_t len, const struct io_ops *ops,
		 void *opaque, const char *name)
{
	assert(ops && ops->read && ops->write);
	if (len == 0 || (uint32_t)base + len > PIO_PORTS || bus->nranges >= PIO_MAX_RANGES)
		return -1;
	for (uint32_t p = base; p < (uint32_t)base + len; p++) {
		if (bus->owner[p])
			return -1;
	}
	bus->ranges[bus->nranges] = (struct pio_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque, .name = name,
	};
	bus->nranges++;
	for (uint32_t p = base; p < (uint32_t)base + len; p++)
		bus->owner[p] = (uint8_t)bus->nranges;
	return 0;
}

static const struct pio_range *range_of(const struct pio_bus *bus, uint32_t port)
{
	if (port >= PIO_PORTS || bus->owner[port] == 0)
		return NULL;
	return &bus->ranges[bus->owner[port] - 1];
}

/* The range claiming every byte of [port, port+size), or NULL. */
static const struct pio_range *sole_owner(const struct pio_bus *bus, uint32_t port, unsigned size)
{
	const struct pio_range *r = range_of(bus, port);
	for (unsigned i = 1; r && i < size; i++) {
		if (range_of(bus, port + i) != r)
			return NULL;
	}
	return r;
}

static uint32_t size_mask(unsigned size)
{
	return size >= 4 ? ~0u : (1u << (8 * size)) - 1;
}

uint32_t pio_read(struct pio_bus *bus, uint16_t port, unsigned size)
{
	assert(size == 1 || size == 2 || size == 4);
	const struct pio_range *r = sole_owner(bus, port, size);
	if (r)
		return (uint32_t)r->ops->read(r->opaque, port - r->base, size) & size_mask(size);
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		uint32_t p = (uint32_t)port + i;
		const struct pio_range *b = range_of(bus, p);
		uint32_t byte = b ? (uint32_t)b->ops->read(b->opaque, p - b->base, 1) & 0xff : 0xff;
		v |= byte << (8 * i);
	}
	return v;
}

void pio_write(struct pio_bus *bus, uint16_t port, uint32_t value, unsigned size)
{
	assert(size == 1 || size == 2 || size == 4);
	const struct pio_range *r = sole_owner(bus, port, size);
	if (r) {
		r->ops->write(r->opaque, port - r->base, value & size_mask(size), size);
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		uint32_t p = (uint32_t)port + i;
		const struct pio_range *b = range_of(bus, p);
		if (b)
			b->ops->write(b->opaque, p - b->base, (value >> (8 * i)) & 0xff, 1);
	}
}
