/* The one interface between devices and the machine.
 *
 * A device is an opaque state plus read/write callbacks (struct io_ops) that
 * it registers on port or MMIO ranges. It never calls the CPU or another chip:
 * it raises an irq line, or asks the machine to stop through a sink. Host I/O
 * (terminal, file) goes through small backend structs so tests plug in buffers.
 */
#ifndef DEVICES_DEVICE_H
#define DEVICES_DEVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mem/phys.h"
#include "mem/pio.h"

/* An interrupt line: the device calls irq_set(line, level). The receiver
 * (PIC/IOAPIC in a later issue) installs the handler. */
typedef void (*irq_handler_fn)(void *opaque, int line, int level);

struct irq_line {
	irq_handler_fn handler;
	void *opaque;
	int line;
};

static inline void irq_set(const struct irq_line *irq, int level)
{
	if (irq && irq->handler)
		irq->handler(irq->opaque, irq->line, level);
}

/* How a device ends the run (debug-exit port, power-off, reset request). */
enum power_event { POWER_DEBUG_EXIT, POWER_OFF, POWER_RESET };

typedef void (*power_fn)(void *opaque, enum power_event ev, uint32_t value);

struct power_sink {
	power_fn fn;
	void *opaque;
};

/* A byte stream for a character device (UART). write_byte may be NULL (output
 * discarded); read_byte returns -1 when no byte is available. */
struct char_backend {
	void (*write_byte)(void *ctx, uint8_t byte);
	int (*read_byte)(void *ctx);
	void *ctx;
};

/* Dump helper for the debugger: devices print their state to a FILE. */
typedef void (*dev_dump_fn)(void *opaque, FILE *out);

#endif
