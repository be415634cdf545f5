/* The local APIC of each vCPU (xAPIC and x2APIC) and the APIC bus joining
 * them, after Intel SDM vol. 3A chapter 10 "Advanced Programmable Interrupt
 * Controller (APIC)".
 *
 * One struct apic_bus per machine holds one struct lapic per vCPU. The CPU
 * side talks to its lapic through the functions below (MSRs, CR8, INTA,
 * LINT pins) and hears back through a struct lapic_cpu_port; devices reach
 * the bus through apic_bus_sink() (IOAPIC, MSI) and hear EOIs of
 * level-triggered vectors through an eoi_listener. Every time comes from
 * the machine clock, so interrupts land on the same cycle on every run.
 */
#ifndef DEVICES_LAPIC_H
#define DEVICES_LAPIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

/* IA32_APIC_BASE (MSR 1BH) bits, SDM 10.4.4 Figure 10-5 and 10.12.1. */
#define APIC_BASE_BSP 0x100ull
#define APIC_BASE_EXTD 0x400ull         /* x2APIC mode */
#define APIC_BASE_EN 0x800ull           /* APIC global enable */
#define APIC_BASE_DEFAULT 0xfee00000ull

#define MSR_IA32_APIC_BASE 0x1b
#define MSR_IA32_TSC_DEADLINE 0x6e0
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8ff

/* xAPIC register offsets in the 4-KByte page (SDM Table 10-1); the x2APIC
 * MSR of a register is 0x800 + offset / 16 (SDM 10.12.1.2, Table 10-6). */
#define APIC_REG_ID 0x020
#define APIC_REG_VERSION 0x030
#define APIC_REG_TPR 0x080
#define APIC_REG_APR 0x090
#define APIC_REG_PPR 0x0a0
#define APIC_REG_EOI 0x0b0
#define APIC_REG_RRD 0x0c0
#define APIC_REG_LDR 0x0d0
#define APIC_REG_DFR 0x0e0
#define APIC_REG_SVR 0x0f0
#define APIC_REG_ISR 0x100              /* 8 registers, 0x100..0x170 */
#define APIC_REG_TMR 0x180
#define APIC_REG_IRR 0x200
#define APIC_REG_ESR 0x280
#define APIC_REG_LVT_CMCI 0x2f0
#define APIC_REG_ICR_LO 0x300
#define APIC_REG_ICR_HI 0x310
#define APIC_REG_LVT_TIMER 0x320
#define APIC_REG_LVT_THERMAL 0x330
#define APIC_REG_LVT_PERF 0x340
#define APIC_REG_LVT_LINT0 0x350
#define APIC_REG_LVT_LINT1 0x360
#define APIC_REG_LVT_ERROR 0x370
#define APIC_REG_TIMER_ICR 0x380        /* initial count */
#define APIC_REG_TIMER_CCR 0x390        /* current count */
#define APIC_REG_TIMER_DCR 0x3e0        /* divide configuration */
#define APIC_REG_SELF_IPI 0x3f0         /* x2APIC only */

/* The version register we report: an integrated APIC (version 14H), seven
 * LVT entries including CMCI (max LVT entry 6), and bit 24 "suppress EOI
 * broadcasts supported" (SDM 10.4.8 Figure 10-7). */
#define LAPIC_VERSION 0x01060014u

/* SVR (SDM 10.9 Figure 10-23). */
#define APIC_SVR_ENABLE 0x100u
#define APIC_SVR_FOCUS_DISABLE 0x200u
#define APIC_SVR_EOI_SUPPRESS 0x1000u

/* LVT fields (SDM 10.5.1 Figure 10-8). */
#define APIC_LVT_MASKED 0x10000u
#define APIC_LVT_LEVEL 0x8000u
#define APIC_LVT_REMOTE_IRR 0x4000u
#define APIC_LVT_TIMER_PERIODIC 0x20000u
#define APIC_LVT_TIMER_TSC_DEADLINE 0x40000u

/* ESR bits (SDM 10.5.3 Figure 10-9). */
#define APIC_ESR_REDIRECTABLE_IPI 0x10u
#define APIC_ESR_SEND_ILLEGAL_VECTOR 0x20u
#define APIC_ESR_RECV_ILLEGAL_VECTOR 0x40u
#define APIC_ESR_ILLEGAL_REGISTER 0x80u

struct lapic;
struct apic_bus;

/* What the CPU model offers. maxphyaddr bounds IA32_APIC_BASE's base field
 * (bits above it are reserved, #GP); 0 means 52. */
struct lapic_features {
	bool x2apic;            /* CPUID.01H:ECX[21] */
	bool tsc_deadline;      /* CPUID.01H:ECX[24] */
	unsigned maxphyaddr;
};

/* How the local APIC reaches its CPU. Any callback may be NULL (ignored;
 * tsc NULL reads clock_now()). ctx is passed to each. */
struct lapic_cpu_port {
	void (*intr)(void *ctx, bool level);    /* INTR: an interrupt awaits lapic_ack */
	void (*nmi)(void *ctx);
	void (*smi)(void *ctx);
	void (*init)(void *ctx);                /* the APIC itself was INIT-reset already */
	void (*sipi)(void *ctx, uint8_t vector);
	uint64_t (*tsc)(void *ctx);             /* the CPU's time-stamp counter now */
	void *ctx;
};

/* ncpus local APICs, all in their power-on state, ids = index until
 * attached. timer_hz is the APIC timer's input clock (before the divide
 * register). NULL on allocation failure or bad arguments. */
struct apic_bus *apic_bus_create(struct clock *ck, uint64_t timer_hz, int ncpus,
				 const struct lapic_features *f);
void apic_bus_destroy(struct apic_bus *bus);
int apic_bus_ncpus(const struct apic_bus *bus);
struct lapic *apic_bus_cpu(struct apic_bus *bus, int i);
/* Give CPU i its initial APIC id and BSP flag and connect its port (copied);
 * resets that APIC to its power-on state. */
void apic_bus_attach(struct apic_bus *bus, int i, uint32_t apic_id, bool bsp,
		     const struct lapic_cpu_port *port);
/* Hear EOIs of level-triggered vectors (IOAPIC remote IRR). 0, or -1 when
 * the table (8 entries) is full. */
int apic_bus_add_eoi_listener(struct apic_bus *bus, const struct eoi_listener *l);
/* The source of ExtINT vectors: the 8259A's INTA (returns the vector). */
void apic_bus_set_extint(struct apic_bus *bus, int (*ack)(void *opaque), void *opaque);
/* Where the IOAPIC (and MSIs) send interrupt messages. */
struct apic_msg_sink apic_bus_sink(struct apic_bus *bus);
/* Dumps for the debugger (dev_dump_fn): opaque = the bus / one lapic. */
void apic_bus_dump(void *opaque, FILE *out);

/* Power-on / RESET state (SDM 10.4.7.1): xAPIC mode, software-disabled,
 * LVTs masked, SVR 0FFH, DFR all ones, id = the attached initial id. */
void lapic_reset(struct lapic *l);
/* The state SeaBIOS leaves on the BSP before it boots a kernel: APIC
 * software-enabled (SVR |= 100H), LINT0 = ExtINT level unmasked (8700H),
 * LINT1 = NMI level unmasked (8400H). */
void lapic_firmware_setup(struct lapic *l);
void lapic_dump(void *opaque, FILE *out);

/* IA32_APIC_BASE. lapic_set_base returns false for a write that raises
 * #GP (reserved bits, invalid x2APIC transition, SDM 10.12.5). */
uint64_t lapic_get_base(const struct lapic *l);
bool lapic_set_base(struct lapic *l, uint64_t v);
/* The guest-physical page of the xAPIC registers, or UINT64_MAX when no
 * MMIO page is decoded (APIC globally disabled or in x2APIC mode). */
uint64_t lapic_mmio_page(const struct lapic *l);
/* Read/write callbacks of that page; opaque = the struct lapic. */
extern const struct io_ops lapic_mmio_ops;

/* x2APIC MSRs 800H-8FFH: false means #GP (not x2APIC mode, reserved MSR,
 * read of a write-only or write of a read-only register, reserved bits). */
bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *v);
bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t v);

/* IA32_TSC_DEADLINE (MSR 6E0H, SDM 10.5.4.1): reads 0 and ignores writes
 * unless the LVT timer is in TSC-deadline mode; 0 disarms. */
uint64_t lapic_tsc_deadline_read(const struct lapic *l);
void lapic_tsc_deadline_write(struct lapic *l, uint64_t v);

/* CR8 is TPR[7:4] (SDM 10.8.6.1). */
unsigned lapic_get_cr8(const struct lapic *l);
void lapic_set_cr8(struct lapic *l, unsigned cr8);

/* INTA: the vector the CPU takes while INTR is high (highest deliverable
 * IRR -> ISR; else an ExtINT vector from the extint source; else the SVR's
 * spurious vector). */
int lapic_ack(struct lapic *l);
/* A write of 0 to the EOI register (10.8.5): what the processor itself
 * does in posted-interrupt processing (SDM vol. 3C 29.6 step 4). */
void lapic_eoi(struct lapic *l);
/* Whether INTR is asserted (same as the last port->intr level). */
bool lapic_intr_pending(const struct lapic *l);
/* LINT0 (pin 0) / LINT1 (pin 1) input level. */
void lapic_set_lint(struct lapic *l, int pin, int level);

#endif
