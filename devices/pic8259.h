/* The PC's pair of Intel 8259A programmable interrupt controllers, as a
 * PIIX/ICH south bridge presents them.
 *
 *   master  ports 0x20-0x21, IRQ 0-7, INTR output to the CPU side
 *   slave   ports 0xA0-0xA1, IRQ 8-15, its INT wired to master input 2
 *   ELCR    ports 0x4D0 (IRQ 0-7) / 0x4D1 (IRQ 8-15), edge/level control
 *
 * Behaviour (Intel 8259A datasheet; Intel ICH7 datasheet 5.9 "8259
 * Interrupt Controllers" and 10.4 for the ELCR):
 * - ICW1-ICW4 initialisation. ICW1 LTIM is honoured (all inputs of that chip
 *   level-triggered) as by the 8259A and QEMU; the ICH ignores LTIM, so a
 *   guest that relies on ELCR alone sees no difference. SNGL and ICW3 are
 *   stored but the cascade is wired (slave on master IR2, as on every PC).
 *   ICW4 8086 mode is assumed: vectors are ICW2[7:3] | level whatever bit 0
 *   says. Special fully nested mode (ICW4 SFNM) and buffered mode are
 *   stored and ignored.
 * - OCW1 (IMR), OCW2 (non-specific / specific EOI, rotate on (non-)specific
 *   EOI, rotate in AEOI mode, set priority), OCW3 (read IRR / ISR, poll,
 *   special mask mode).
 * - Edge inputs set IRR on a rising edge and keep it until INTA even when
 *   the line falls again: devices here signal an edge as a 1-then-0 pulse in
 *   zero time (devices/device.h), which the datasheet's "hold IR high until
 *   the first INTA" rule would lose. Level inputs (ELCR bit or LTIM): IRR
 *   follows the line. Master input 2 is the slave's INT, edge-triggered
 *   like the other master inputs (ELCR1 bit 2 is read-only 0); the slave's
 *   INT falls during its INTA, so each further slave request is a new edge.
 * - pic_ack is the INTA sequence: the highest-priority unmasked request
 *   moves IRR -> ISR (ISR untouched in AEOI mode) and its vector is
 *   returned; the cascade continues on the slave. When no request is left
 *   (a level line fell, the IRQ was masked after INTR rose), the spurious
 *   vector is returned: master base + 7, or slave base + 7 with master ISR
 *   bit 2 set (8259A datasheet, "Edge and Level Triggered Modes").
 */
#ifndef DEVICES_PIC8259_H
#define DEVICES_PIC8259_H

#include <stdbool.h>
#include <stdio.h>

#include "devices/device.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE 0xA0
#define PIC_ELCR_BASE 0x4D0
#define PIC_CASCADE_IRQ 2

/* The writable ELCR bits; the others read 0. ICH7 datasheet 5.9: IRQ0,
 * IRQ2, IRQ8# and IRQ13 cannot be level (Atom E6xx datasheet 11.3.2.9:
 * ELCR2 bit 5 "FERR# (IRQ13) cannot be programmed for level mode"). The
 * PIIX reserves ELCR1 bits 2:0, so IRQ1 (keyboard) is edge-only too, as in
 * QEMU's PIIX model: master 0xF8, slave 0xDE. */
#define PIC_ELCR1_MASK 0xF8
#define PIC_ELCR2_MASK 0xDE

struct pic;

/* Claims the three port ranges and drives `intr` (copied; may be NULL) with
 * the master's INTR level. NULL on allocation failure or taken ports. The
 * pair starts in its reset state (pic_reset). */
struct pic *pic_create(struct pio_bus *pio, const struct irq_line *intr);
void pic_destroy(struct pic *p);

/* Power-on state: both chips uninitialised (vector base 0, IMR 0, IRR/ISR
 * 0, IR7 lowest priority, read IRR selected), ELCR 0 (all edge). Input line
 * levels are remembered (they are wires), so a line already high needs a
 * new rising edge. INTR is driven low. */
void pic_reset(struct pic *p);

/* Input line irq (0-15) is now at `level`. IRQ 2 is the cascade input and
 * not reachable from outside (ISA IRQ2 is wired to IRQ9 on the PC): ignored,
 * as are numbers outside 0-15. */
void pic_set_irq(struct pic *p, int irq, int level);
/* irq_handler_fn form: opaque = the pic, line = irq number. */
void pic_irq_handler(void *opaque, int line, int level);

/* The INTA cycle: returns the vector to deliver (0-255), see above. */
int pic_ack(struct pic *p);

/* Current level of the master's INTR output. */
bool pic_intr(const struct pic *p);

void pic_dump(void *opaque, FILE *out);

#endif
