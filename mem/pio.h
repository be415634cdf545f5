/* The port-I/O bus: 64 Ki byte-addressed ports, each range owned by at most
 * one device. Reads of unclaimed ports return all-ones, writes are dropped. */
#ifndef MEM_PIO_H
#define MEM_PIO_H

#include <stdint.h>

#include "mem/phys.h"

#define PIO_MAX_RANGES 64

struct pio_range {
	uint16_t base, len;
	const struct io_ops *ops;
	void *opaque;
	const char *name;
};

struct pio_bus {
	struct pio_range ranges[PIO_MAX_RANGES];
	int nranges;
	/* Port -> index+1 into ranges (0 = unclaimed). */
	uint8_t owner[65536];
};

void pio_init(struct pio_bus *bus);

/* Claim [base, base+len). Returns 0, or -1 on overlap or a full table. */
int pio_register(struct pio_bus *bus, uint16_t base, uint16_t len, const struct io_ops *ops,
		 void *opaque, const char *name);

/* size is 1, 2 or 4. An access wider than the owning range is split into
 * byte accesses, as the PC's bus does for 8-bit devices. */
uint32_t pio_read(struct pio_bus *bus, uint16_t port, unsigned size);
void pio_write(struct pio_bus *bus, uint16_t port, uint32_t value, unsigned size);

#endif
