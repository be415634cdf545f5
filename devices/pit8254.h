/* Intel 8254 programmable interval timer, as wired on the PC, plus system
 * control port B (0x61).
 *
 *   0x40-0x42  counters 0-2         0x43  control word (write-only, reads 0 as QEMU)
 *   0x61       port B: bit 0 counter 2 GATE (R/W), bit 1 speaker data (R/W,
 *              stored), bits 2-3 stored (PIIX4 NMISC parity / IOCHK enables),
 *              bit 4 refresh toggle (RO), bit 5 OUT2 (RO), bits 6-7 read 0
 *              (no NMI sources are modelled).
 *
 * Counter 0's OUT drives `irq0`; counter 1 (DRAM refresh) counts with its
 * output unconnected; counter 2's GATE is port 0x61 bit 0 and its OUT is
 * port 0x61 bit 5. The GATEs of counters 0 and 1 are tied high.
 *
 * Time: the CLK input runs at exactly 105/88 MHz (1.193181818... MHz). PIT
 * tick k starts at the first simulated cycle c with
 * c * 105000000 / (88 * clock_hz) >= k (128-bit integer arithmetic), the
 * grid anchored at cycle 0. Counts are derived from clock_now() and the
 * tick at which a count was loaded (its origin), never by ticking, so
 * periodic output does not drift.
 *
 * Loading follows the 8254 datasheet: a count written at tick w is loaded
 * into the counting element at the next CLK, tick o = w + 1 (the "origin").
 * For a count N (0 means 65536 binary / 10000 BCD), `irq0` sees, with the
 * level it has from the moment of each port write:
 *   mode 0  goes low at the control word and when a count is written; goes
 *           high at tick o + N (N + 1 CLKs after the write) and stays high.
 *   mode 1  stays high: GATE 0 is tied high, so the one-shot never triggers.
 *   mode 2  high; low for the single tick o + kN - 1, high again at o + kN
 *           (k >= 1): one rising edge every N ticks, at o + kN exactly.
 *           N = 1 is illegal (datasheet) and keeps OUT high.
 *   mode 3  square wave: high for (N + 1) / 2 ticks, low for N / 2 ticks,
 *           rising at o + kN, falling at o + kN + (N + 1) / 2.
 *   mode 4  high; low for the single tick o + N, then high for good.
 *   mode 5  stays high (hardware trigger on a tied-high GATE).
 * A new count written in mode 2 takes effect at the end of the current
 * period, in mode 3 at the end of the current half-cycle (datasheet). Each
 * transition is delivered as irq_set(irq0, level) at the first cycle of its
 * tick; when the CPU clock is slower than the PIT a one-tick pulse is still
 * delivered, as 0 then 1 at the same cycle.
 *
 * Reset state (the 8254 powers up undefined; this is QEMU's choice): every
 * counter in mode 3, LSB-then-MSB, binary, count 65536 loaded at the reset
 * tick; counter 2 gated off because port 0x61 resets to 0.
 */
#ifndef DEVICES_PIT8254_H
#define DEVICES_PIT8254_H

#include <stdio.h>

#include "devices/device.h"

#define PIT_BASE 0x40
#define PIT_PORT_B 0x61
/* The CLK input: 105/88 MHz (14.31818 MHz / 12). */
#define PIT_CLK_NUM 105000000ull
#define PIT_CLK_DEN 88ull
/* Port 0x61 bit 4 toggles on every DRAM refresh request, classically every
 * 18 PIT clocks (counter 1 with the BIOS's count of 18: 15.0857 us). The
 * PIIX/ICH derive it internally at that rate, so it does not follow
 * counter 1's programming here either. */
#define PIT_REFRESH_TICKS 18

struct pit;
struct clock;

/* Claims 0x40-0x43 and 0x61; `irq0` is copied and may be NULL. NULL on
 * allocation failure or taken ports. Starts in the reset state. */
struct pit *pit_create(struct pio_bus *pio, struct clock *ck, const struct irq_line *irq0);
/* Disarms the timer and frees the device. */
void pit_destroy(struct pit *p);
/* The reset state above, origins at the current tick; drives irq0 high. */
void pit_reset(struct pit *p);
void pit_dump(void *opaque, FILE *out);

#endif
