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

/* ---- Simulated time (sim/clock.c implements it) ----
 *
 * One clock per machine; time is global simulated cycles (the TSC rate of
 * the CPU model: clock_hz()). A device reads clock_now() when the guest
 * touches it and arms a dev_timer for the cycle something must happen. The
 * scheduler fires due timers between vCPU slices, in order of `when` (ties
 * in the order they were armed), with clock_now() == t->when inside fire(),
 * so a periodic device re-arms from its exact due time and never drifts. A
 * timer armed for a time earlier than the end of the current slice makes
 * the slice end at that time, so events land within one decoded block of
 * their cycle, the same on every run.
 */
struct clock;

struct dev_timer {
	uint64_t when;          /* due time, while armed */
	void (*fire)(void *opaque, struct dev_timer *t);
	void *opaque;
	const char *name;       /* for dumps */
	uint64_t seq;           /* owned by the clock: arming order, ties */
	int slot;               /* owned by the clock: heap index + 1, 0 when idle */
};

static inline void dev_timer_init(struct dev_timer *t, const char *name,
				  void (*fire)(void *opaque, struct dev_timer *t), void *opaque)
{
	*t = (struct dev_timer){ .fire = fire, .opaque = opaque, .name = name };
}

static inline bool dev_timer_armed(const struct dev_timer *t)
{
	return t->slot != 0;
}

/* Current simulated time: the running vCPU's time while one runs (the cycle
 * of the instruction touching the device), else the time being fired or
 * the end of the last slice. */
uint64_t clock_now(const struct clock *ck);
/* Simulated cycles per second (the model's TSC rate). */
uint64_t clock_hz(const struct clock *ck);
/* Arm (or re-arm) t for time `when`; a time in the past fires at the next
 * opportunity. */
void clock_arm(struct clock *ck, struct dev_timer *t, uint64_t when);
void clock_disarm(struct clock *ck, struct dev_timer *t);

/* ---- Local APIC bus messages ----
 *
 * What an IOAPIC (or an MSI) sends to the local APICs: the fields of an
 * IOAPIC redirection entry / the ICR low word (SDM vol. 3A 10.6.1, Figure
 * 10-12; 82093AA datasheet 3.2.4). devices/lapic.c routes them. */
enum apic_delivery {
	APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4, APIC_DM_INIT = 5,
	APIC_DM_SIPI = 6, APIC_DM_EXTINT = 7,
};

struct apic_msg {
	uint32_t dest;          /* APIC id (physical) or MDA (logical); 0xff / 0xffffffff broadcast */
	uint8_t vector;
	uint8_t mode;           /* enum apic_delivery */
	bool logical;           /* destination mode */
	bool level;             /* trigger mode: level (true) or edge */
	bool assert;            /* level: assert (true) / deassert */
	uint8_t shorthand;      /* ICR only: 0 none, 1 self, 2 all incl. self, 3 all excl. self */
	int source;             /* sending local APIC index (IPI), or -1 (IOAPIC, MSI) */
};

/* Where an interrupt message goes (the APIC bus), and who hears EOIs of
 * level-triggered vectors (an IOAPIC clearing its remote IRR). */
struct apic_msg_sink {
	void (*deliver)(void *opaque, const struct apic_msg *msg);
	void *opaque;
};

struct eoi_listener {
	void (*eoi)(void *opaque, uint8_t vector);
	void *opaque;
};

#endif
