/* I/O APIC: Intel 82093AA datasheet, with the version-0x20 additions of the
 * Intel ICH/PCH I/O APIC (the EOI register at offset 40h, e.g. ICH4
 * datasheet 9.5.5 "EOIR"), the model QEMU's PC machine presents.
 *
 * 24 interrupt input pins, each with a 64-bit redirection entry that turns
 * a pin event into an APIC bus message (struct apic_msg, devices/device.h)
 * sent through the apic_msg_sink given at creation.
 *
 * Memory-mapped at `base` (the PC uses 0xFEC00000), one 4 KiB page:
 *   00h IOREGSEL  (R/W, 8 bits used) register index
 *   10h IOWIN     (R/W, 32 bits)     the register IOREGSEL selects
 *   40h EOI       (WO,  8 bits used) directed EOI: clear Remote IRR of the
 *                                    entries whose vector matches
 */
#ifndef DEVICES_IOAPIC_H
#define DEVICES_IOAPIC_H

#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

#define IOAPIC_DEFAULT_BASE 0xFEC00000ull
#define IOAPIC_MMIO_SIZE 0x1000ull
#define IOAPIC_NPINS 24

/* MMIO offsets. */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_EOI 0x40

/* Indirect registers (82093AA 3.2; ICH "Index Offset"). */
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_ARB 0x02
#define IOAPIC_REG_REDTBL 0x10          /* entry n: 10h+2n low, 11h+2n high */

#define IOAPIC_ID_SHIFT 24              /* ID in bits 27:24 */
#define IOAPIC_ID_MASK 0x0f
/* Version register: maximum redirection entry 17h in bits 23:16, version
 * 20h in bits 7:0 (PCH I/O APIC with the EOI register). */
#define IOAPIC_VERSION 0x20
#define IOAPIC_VER_VALUE ((uint32_t)(IOAPIC_NPINS - 1) << 16 | IOAPIC_VERSION)

/* Redirection entry bits (82093AA 3.2.4). */
#define IOAPIC_RTE_VECTOR 0x000000ffull
#define IOAPIC_RTE_DELMOD_SHIFT 8
#define IOAPIC_RTE_DELMOD 0x00000700ull
#define IOAPIC_RTE_DESTMOD 0x00000800ull        /* 1 = logical */
#define IOAPIC_RTE_DELIVS 0x00001000ull         /* read-only */
#define IOAPIC_RTE_INTPOL 0x00002000ull         /* 1 = active low */
#define IOAPIC_RTE_REMOTE_IRR 0x00004000ull     /* read-only */
#define IOAPIC_RTE_TRIGGER 0x00008000ull        /* 1 = level */
#define IOAPIC_RTE_MASK 0x00010000ull
#define IOAPIC_RTE_DEST_SHIFT 56
#define IOAPIC_RTE_DEST 0xff00000000000000ull

struct ioapic;

/* Maps [base, base + IOAPIC_MMIO_SIZE) on pm; messages go to *sink
 * (copied). `id` is the I/O APIC ID the MADT publishes (reset value of the
 * ID register). All entries start masked. NULL on allocation failure or
 * when the range is taken. */
struct ioapic *ioapic_create(struct phys_map *pm, uint64_t base, uint8_t id,
			     const struct apic_msg_sink *sink);
/* Frees the device; the phys_map must not be used afterwards. */
void ioapic_destroy(struct ioapic *io);
/* Power-on/reset state: ID = the creation id, every entry masked with all
 * other bits 0, IOREGSEL 0. Pin levels are inputs and are kept. */
void ioapic_reset(struct ioapic *io);
void ioapic_dump(void *opaque, FILE *out);

/* Drive input pin `pin` (0..23) to `level`: 1 = asserted, 0 = deasserted.
 * The level is the LOGICAL one, after the pin's polarity: callers pass 1
 * when their interrupt is active, whatever the polarity bit says (ISA
 * lines, active high, pass their line level unchanged). The polarity bit is
 * stored and read back but does not invert the input, as in QEMU: a guest
 * that programs the "wrong" polarity still sees its interrupts. */
void ioapic_set_irq(struct ioapic *io, int pin, int level);
/* irq_handler_fn for struct irq_line: opaque = the ioapic, line = pin. */
void ioapic_irq_handler(void *opaque, int line, int level);
/* An EOI for `vector` broadcast by a local APIC (usable directly as struct
 * eoi_listener's callback, opaque = the ioapic): clears Remote IRR of each
 * level-triggered entry with that vector and re-sends the interrupt when
 * its pin is still asserted and unmasked. */
void ioapic_eoi(void *opaque, uint8_t vector);

#endif
