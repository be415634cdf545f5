/* mem/pio.c: dispatch, splitting of wide accesses, unclaimed ports. */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "mem/pio.h"

/* A port device that logs its accesses and answers reads with
 * id * 0x10 + offset in every byte position it is asked for. */
struct port_dev {
	uint8_t id;
	struct {
		uint64_t off, val;
		unsigned size;
		int write;
	} log[8];
	int n;
};

static void log_access(struct port_dev *d, uint64_t off, uint64_t val, unsigned size, int write)
{
	if (d->n < 8) {
		d->log[d->n].off = off;
		d->log[d->n].val = val;
		d->log[d->n].size = size;
		d->log[d->n].write = write;
	}
	d->n++;
}

static uint64_t dev_read(void *opaque, uint64_t offset, unsigned size)
{
	struct port_dev *d = opaque;
	log_access(d, offset, 0, size, 0);
	uint64_t b = (uint64_t)(d->id * 0x10 + offset) & 0xff, v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= b << (8 * i);
	return v | 0xdead00000000ull;   /* junk above the access size */
}

static void dev_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	log_access(opaque, offset, value, size, 1);
}

static const struct io_ops dev_ops = { .read = dev_read, .write = dev_write };

static struct pio_bus *new_bus(void)
{
	struct pio_bus *bus = malloc(sizeof(*bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(bus);
	pio_init(bus);
	return bus;
}

static void test_dispatch_whole_access(void)
{
	struct pio_bus *bus = new_bus();
	struct port_dev d = { .id = 1 };
	CU_ASSERT_EQUAL(pio_register(bus, 0x70, 4, &dev_ops, &d, "dev"), 0);
	CU_ASSERT_EQUAL(pio_read(bus, 0x71, 1), 0x11u);
	CU_ASSERT_EQUAL(d.log[0].off, 1);
	CU_ASSERT_EQUAL(d.log[0].size, 1);
	CU_ASSERT_EQUAL(pio_read(bus, 0x70, 4), 0x10101010u);
	CU_ASSERT_EQUAL(d.n, 2);
	CU_ASSERT_EQUAL(d.log[1].size, 4);
	pio_write(bus, 0x72, 0xbeef, 2);
	CU_ASSERT_EQUAL(d.n, 3);
	CU_ASSERT_EQUAL(d.log[2].write, 1);
	CU_ASSERT_EQUAL(d.log[2].off, 2);
	CU_ASSERT_EQUAL(d.log[2].val, 0xbeef);
	CU_ASSERT_EQUAL(d.log[2].size, 2);
	pio_write(bus, 0x70, 0x12345678, 1);   /* value truncated to the size */
	CU_ASSERT_EQUAL(d.log[3].val, 0x78);
	free(bus);
}

static void test_split_across_two_byte_devices(void)
{
	struct pio_bus *bus = new_bus();
	struct port_dev a = { .id = 2 }, b = { .id = 3 };
	CU_ASSERT_EQUAL(pio_register(bus, 0x60, 1, &dev_ops, &a, "a"), 0);
	CU_ASSERT_EQUAL(pio_register(bus, 0x61, 1, &dev_ops, &b, "b"), 0);
	CU_ASSERT_EQUAL(pio_read(bus, 0x60, 2), 0x3020u);
	CU_ASSERT_EQUAL(a.n, 1);
	CU_ASSERT_EQUAL(a.log[0].size, 1);
	CU_ASSERT_EQUAL(b.n, 1);
	CU_ASSERT_EQUAL(b.log[0].off, 0);
	CU_ASSERT_EQUAL(b.log[0].size, 1);
	pio_write(bus, 0x60, 0xcdab, 2);
	CU_ASSERT_EQUAL(a.log[1].val, 0xab);
	CU_ASSERT_EQUAL(a.log[1].size, 1);
	CU_ASSERT_EQUAL(b.log[1].val, 0xcd);
	CU_ASSERT_EQUAL(b.log[1].size, 1);
	free(bus);
}

static void test_unclaimed(void)
{
	struct pio_bus *bus = new_bus();
	struct port_dev a = { .id = 4 };
	CU_ASSERT_EQUAL(pio_read(bus, 0x80, 1), 0xffu);
	CU_ASSERT_EQUAL(pio_read(bus, 0x80, 2), 0xffffu);
	CU_ASSERT_EQUAL(pio_read(bus, 0x80, 4), 0xffffffffu);
	pio_write(bus, 0x80, 1, 4);
	/* A dword read covering one claimed byte: 0xff for the others. */
	CU_ASSERT_EQUAL(pio_register(bus, 0x92, 1, &dev_ops, &a, "a"), 0);
	CU_ASSERT_EQUAL(pio_read(bus, 0x90, 4), 0xff40ffffu);
	pio_write(bus, 0x91, 0x11223344, 4);
	CU_ASSERT_EQUAL(a.n, 2);
	CU_ASSERT_EQUAL(a.log[1].val, 0x33);
	/* The top of the port space does not wrap to port 0. */
	struct port_dev z = { .id = 5 };
	CU_ASSERT_EQUAL(pio_register(bus, 0, 1, &dev_ops, &z, "zero"), 0);
	CU_ASSERT_EQUAL(pio_read(bus, 0xffff, 2), 0xffffu);
	CU_ASSERT_EQUAL(z.n, 0);
	free(bus);
}

static void test_register_rejects(void)
{
	struct pio_bus *bus = new_bus();
	struct port_dev a = { .id = 6 };
	CU_ASSERT_EQUAL(pio_register(bus, 0x3f8, 8, &dev_ops, &a, "com1"), 0);
	CU_ASSERT_EQUAL(pio_register(bus, 0x3ff, 1, &dev_ops, &a, "overlap"), -1);
	CU_ASSERT_EQUAL(pio_register(bus, 0x3f0, 9, &dev_ops, &a, "overlap"), -1);
	CU_ASSERT_EQUAL(pio_register(bus, 0x400, 0, &dev_ops, &a, "empty"), -1);
	CU_ASSERT_EQUAL(pio_register(bus, 0xfffe, 4, &dev_ops, &a, "past end"), -1);
	CU_ASSERT_EQUAL(pio_register(bus, 0xfffc, 4, &dev_ops, &a, "at end"), 0);
	CU_ASSERT_EQUAL(pio_read(bus, 0x3ff, 1), 0x67u);   /* still the first owner */
	for (int i = bus->nranges; i < PIO_MAX_RANGES; i++)
		CU_ASSERT_EQUAL(pio_register(bus, (uint16_t)(0x1000 + i), 1, &dev_ops, &a, "fill"), 0);
	CU_ASSERT_EQUAL(pio_register(bus, 0x2000, 1, &dev_ops, &a, "full"), -1);
	CU_ASSERT_EQUAL(pio_read(bus, 0x2000, 1), 0xffu);
	free(bus);
}

void suite_mem_pio(void)
{
	CU_pSuite s = CU_add_suite("mem_pio", NULL, NULL);
	CU_add_test(s, "whole access dispatch", test_dispatch_whole_access);
	CU_add_test(s, "16-bit access split across two 8-bit devices", test_split_across_two_byte_devices);
	CU_add_test(s, "unclaimed ports", test_unclaimed);
	CU_add_test(s, "register rejects overlap, empty, past end, full", test_register_rejects);
}
