/* QEMU's pc-testdev, which kvm-unit-tests' x86 tests expect on the PC
 * (their run script adds -device pc-testdev): a byte written to port
 * 0x2000 + n drives interrupt line n (0 low, anything else high), so a test
 * can raise level- or edge-triggered IOAPIC/8259 inputs at will; ports
 * 0xe0-0xe3 are a 32-bit scratch register that reads back what was written.
 * The flush-page port and the MMIO scratch area of QEMU's device are not
 * modelled.
 */
#ifndef DEVICES_TESTDEV_H
#define DEVICES_TESTDEV_H

#include <stdio.h>

#include "devices/device.h"

#define TESTDEV_IRQ_PORT 0x2000
#define TESTDEV_IRQ_LINES 24
#define TESTDEV_SCRATCH_PORT 0xe0

struct testdev;

/* lines[n] is what port 0x2000 + n drives (NULL entries: nothing). */
struct testdev *testdev_create(struct pio_bus *bus, const struct irq_line *const lines[TESTDEV_IRQ_LINES]);
void testdev_destroy(struct testdev *t);
/* Lines low, scratch register 0. */
void testdev_reset(struct testdev *t);
void testdev_dump(void *opaque, FILE *out);

#endif
