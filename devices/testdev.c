/* QEMU's pc-testdev: interrupt lines driven by port writes, and a scratch
 * register (devices/testdev.h). */
#include "devices/testdev.h"

#include <stdlib.h>

struct testdev {
	const struct irq_line *lines[TESTDEV_IRQ_LINES];
	uint32_t level;         /* bit n: line n is high */
	uint32_t scratch;
};

static uint64_t irq_read(void *opaque, uint64_t offset, unsigned size)
{
	(void)opaque;
	(void)offset;
	(void)size;
	return 0;
}

/* Each port is one line; a wider access drives the lines of each byte. */
static void irq_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct testdev *t = opaque;

	for (unsigned b = 0; b < size && offset + b < TESTDEV_IRQ_LINES; b++) {
		unsigned n = (unsigned)offset + b;
		bool high = (value >> (8 * b)) & 0xff;
		t->level = high ? t->level | 1u << n : t->level & ~(1u << n);
		irq_set(t->lines[n], high);
	}
}

static uint64_t scratch_read(void *opaque, uint64_t offset, unsigned size)
{
	struct testdev *t = opaque;
	uint64_t v = t->scratch >> (8 * offset);
	return size >= 4 ? v : v & ((1ull << (8 * size)) - 1);
}

static void scratch_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct testdev *t = opaque;
	uint32_t mask = size >= 4 ? UINT32_MAX : (uint32_t)((1ull << (8 * size)) - 1);

	mask <<= 8 * offset;
	t->scratch = (t->scratch & ~mask) | ((uint32_t)(value << (8 * offset)) & mask);
}

static const struct io_ops irq_ops = { .read = irq_read, .write = irq_write };
static const struct io_ops scratch_ops = { .read = scratch_read, .write = scratch_write };

struct testdev *testdev_create(struct pio_bus *bus, const struct irq_line *const lines[TESTDEV_IRQ_LINES])
{
	struct testdev *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	for (int i = 0; i < TESTDEV_IRQ_LINES; i++)
		t->lines[i] = lines[i];
	if (pio_register(bus, TESTDEV_IRQ_PORT, TESTDEV_IRQ_LINES, &irq_ops, t, "pc-testdev irq") != 0 ||
	    pio_register(bus, TESTDEV_SCRATCH_PORT, 4, &scratch_ops, t, "pc-testdev ioport") != 0) {
		free(t);
		return NULL;
	}
	return t;
}

void testdev_destroy(struct testdev *t)
{
	free(t);
}

void testdev_reset(struct testdev *t)
{
	for (int n = 0; n < TESTDEV_IRQ_LINES; n++)
		if (t->level & 1u << n)
			irq_set(t->lines[n], 0);
	t->level = 0;
	t->scratch = 0;
}

void testdev_dump(void *opaque, FILE *out)
{
	const struct testdev *t = opaque;
	fprintf(out, "pc-testdev: lines high %#x, scratch %#x\n", t->level, t->scratch);
}
