/* I/O APIC (Intel 82093AA datasheet; ICH/PCH I/O APIC version 20h).
 *
 * Delivery is instantaneous: a message is handed to the sink at the moment
 * the pin event happens, so Delivery Status (bit 12) always reads 0 (idle)
 * and Remote IRR of a level-triggered entry is set when the message is sent
 * (the datasheet sets it when a local APIC accepts it; ours always does).
 *
 * Guest accesses the datasheet leaves undefined do what QEMU does:
 *  - only address bits 7:0 are decoded, so the 256-byte register block
 *    repeats through the 4 KiB page;
 *  - IOREGSEL answers any access size at offset 00h (8 bits used, 31:8 read
 *    as 0); IOWIN answers only 32-bit accesses at offset 10h ("registers
 *    are accessed as dwords", 82093AA 3.0): narrower or wider accesses read
 *    0 and writes are dropped;
 *  - every other offset, including unaligned ones (01h, 11h...), reads 0
 *    and ignores writes;
 *  - indices with no register (03h-0Fh, 40h-FFh) read 0, ignore writes.
 */
#include "devices/ioapic.h"

#include <assert.h>
#include <stdlib.h>

/* The bits of a redirection entry software can write (82093AA 3.2.4: 55:17
 * reserved; 12 and 14 read-only). */
#define RTE_WRITABLE (IOAPIC_RTE_DEST | IOAPIC_RTE_MASK | IOAPIC_RTE_TRIGGER | IOAPIC_RTE_INTPOL | \
		      IOAPIC_RTE_DESTMOD | IOAPIC_RTE_DELMOD | IOAPIC_RTE_VECTOR)

struct ioapic {
	struct apic_msg_sink sink;
	uint64_t base;
	uint8_t reset_id;
	uint8_t id;                     /* 4 bits */
	uint8_t regsel;
	uint32_t pins;                  /* bit n: pin n asserted */
	uint64_t rte[IOAPIC_NPINS];
};

static unsigned rte_delmod(uint64_t e)
{
	return (unsigned)((e & IOAPIC_RTE_DELMOD) >> IOAPIC_RTE_DELMOD_SHIFT);
}

/* Level-triggered semantics (Remote IRR, re-send on EOI) apply to Fixed and
 * Lowest Priority only: SMI, NMI, INIT and ExtINT "require an edge trigger
 * mode" and are treated as edge even when programmed level (82093AA 3.2.4
 * Delivery Mode table; ICH2 datasheet: "NMI is treated as an edge triggered
 * interrupt even if it is programmed as level triggered ... does not set
 * the RIRR bit"). */
static bool rte_level(uint64_t e)
{
	unsigned dm = rte_delmod(e);
	return (e & IOAPIC_RTE_TRIGGER) && (dm == APIC_DM_FIXED || dm == APIC_DM_LOWEST);
}

static void send(struct ioapic *io, uint64_t e)
{
	struct apic_msg msg = {
		.dest = (uint32_t)(e >> IOAPIC_RTE_DEST_SHIFT),
		.vector = (uint8_t)(e & IOAPIC_RTE_VECTOR),
		.mode = (uint8_t)rte_delmod(e),
		.logical = (e & IOAPIC_RTE_DESTMOD) != 0,
		.level = rte_level(e),
		.assert = true,
		.shorthand = 0,
		.source = -1,
	};
	if (io->sink.deliver)
		io->sink.deliver(io->sink.opaque, &msg);
}

/* A level-triggered entry sends while its pin is asserted, it is unmasked
 * and Remote IRR is clear; sending sets Remote IRR (82093AA 3.2.4 bit 14). */
static void service_level(struct ioapic *io, int pin)
{
	uint64_t *e = &io->rte[pin];
	if (!(io->pins & (1u << pin)) || (*e & (IOAPIC_RTE_MASK | IOAPIC_RTE_REMOTE_IRR)))
		return;
	*e |= IOAPIC_RTE_REMOTE_IRR;
	send(io, *e);
}

void ioapic_set_irq(struct ioapic *io, int pin, int level)
{
	assert(pin >= 0 && pin < IOAPIC_NPINS);
	uint32_t bit = 1u << pin;
	bool was = (io->pins & bit) != 0;
	io->pins = level ? io->pins | bit : io->pins & ~bit;
	uint64_t e = io->rte[pin];
	if (rte_level(e)) {
		service_level(io, pin);
		return;
	}
	/* Edge: one message per rising edge; an edge on a masked pin is
	 * "ignored (not delivered or held pending)" (82093AA 3.2.4 bit 16). */
	if (level && !was && !(e & IOAPIC_RTE_MASK))
		send(io, e);
}

void ioapic_irq_handler(void *opaque, int line, int level)
{
	ioapic_set_irq(opaque, line, level);
}

void ioapic_eoi(void *opaque, uint8_t vector)
{
	struct ioapic *io = opaque;
	for (int pin = 0; pin < IOAPIC_NPINS; pin++) {
		uint64_t *e = &io->rte[pin];
		if (!(*e & IOAPIC_RTE_REMOTE_IRR) || (*e & IOAPIC_RTE_VECTOR) != vector)
			continue;
		*e &= ~IOAPIC_RTE_REMOTE_IRR;
		if (rte_level(*e))
			service_level(io, pin);
	}
}

/* ---- Registers ---- */

static uint32_t reg_read(const struct ioapic *io, unsigned index)
{
	switch (index) {
	case IOAPIC_REG_ID:
		return (uint32_t)io->id << IOAPIC_ID_SHIFT;
	case IOAPIC_REG_VER:
		return IOAPIC_VER_VALUE;
	case IOAPIC_REG_ARB:
		/* "loaded with the IOAPIC ID whenever the ID register is
		 * written" (82093AA 3.2.3). */
		return (uint32_t)io->id << IOAPIC_ID_SHIFT;
	}
	if (index < IOAPIC_REG_REDTBL || index >= IOAPIC_REG_REDTBL + 2 * IOAPIC_NPINS)
		return 0;
	uint64_t e = io->rte[(index - IOAPIC_REG_REDTBL) / 2];
	return (uint32_t)(index & 1 ? e >> 32 : e);
}

/* A write of the low dword. Switching an entry to edge clears a stale
 * Remote IRR (the datasheet calls it undefined for edge; QEMU and KVM clear
 * it so a later switch back to level cannot leave the pin stuck).
 * Unmasking an asserted level pin sends at once (82093AA 3.2.4 bit 16: a
 * level "on a pin that is not masked results in the delivery"). */
static void rte_write(struct ioapic *io, int pin, uint64_t value)
{
	uint64_t *e = &io->rte[pin];
	*e = (*e & ~RTE_WRITABLE) | (value & RTE_WRITABLE);
	if (!(*e & IOAPIC_RTE_TRIGGER))
		*e &= ~IOAPIC_RTE_REMOTE_IRR;
	if (rte_level(*e))
		service_level(io, pin);
}

static void reg_write(struct ioapic *io, unsigned index, uint32_t v)
{
	if (index == IOAPIC_REG_ID) {
		io->id = (uint8_t)((v >> IOAPIC_ID_SHIFT) & IOAPIC_ID_MASK);
		return;
	}
	if (index < IOAPIC_REG_REDTBL || index >= IOAPIC_REG_REDTBL + 2 * IOAPIC_NPINS)
		return;         /* version, arbitration: read-only; no register */
	int pin = (int)(index - IOAPIC_REG_REDTBL) / 2;
	uint64_t e = io->rte[pin];
	if (index & 1)
		e = (e & 0xffffffffull) | (uint64_t)v << 32;
	else
		e = (e & ~0xffffffffull) | v;
	rte_write(io, pin, e);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	const struct ioapic *io = opaque;
	switch (offset & 0xff) {
	case IOAPIC_IOREGSEL:
		return io->regsel;
	case IOAPIC_IOWIN:
		return size == 4 ? reg_read(io, io->regsel) : 0;
	default:
		return 0;       /* EOI is write-only; the rest is reserved */
	}
}

static void ioapic_mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct ioapic *io = opaque;
	switch (offset & 0xff) {
	case IOAPIC_IOREGSEL:
		io->regsel = (uint8_t)value;
		break;
	case IOAPIC_IOWIN:
		if (size == 4)
			reg_write(io, io->regsel, (uint32_t)value);
		break;
	case IOAPIC_EOI:
		/* "Only bits 7:0 are actually used" (ICH4 9.5.5). */
		ioapic_eoi(io, (uint8_t)value);
		break;
	default:
		break;
	}
}

static const struct io_ops ioapic_ops = { .read = ioapic_mmio_read, .write = ioapic_mmio_write };

struct ioapic *ioapic_create(struct phys_map *pm, uint64_t base, uint8_t id,
			     const struct apic_msg_sink *sink)
{
	struct ioapic *io = calloc(1, sizeof(*io));
	if (!io)
		return NULL;
	if (sink)
		io->sink = *sink;
	io->base = base;
	io->reset_id = id & IOAPIC_ID_MASK;
	ioapic_reset(io);
	if (phys_add_mmio(pm, base, IOAPIC_MMIO_SIZE, &ioapic_ops, io, "ioapic")) {
		free(io);
		return NULL;
	}
	return io;
}

void ioapic_destroy(struct ioapic *io)
{
	free(io);
}

void ioapic_reset(struct ioapic *io)
{
	io->id = io->reset_id;
	io->regsel = 0;
	/* 82093AA 3.2.4: default xxx1 xxxx xxxx xxxxh, i.e. masked. */
	for (int pin = 0; pin < IOAPIC_NPINS; pin++)
		io->rte[pin] = IOAPIC_RTE_MASK;
}

static const char *const delmod_name[8] = {
	"fixed", "lowest", "smi", "rsvd3", "nmi", "init", "rsvd6", "extint",
};

void ioapic_dump(void *opaque, FILE *out)
{
	const struct ioapic *io = opaque;
	fprintf(out, "ioapic: base %#llx id %u ioregsel 0x%02x pins asserted 0x%06x\n",
		(unsigned long long)io->base, io->id, io->regsel, io->pins);
	for (int pin = 0; pin < IOAPIC_NPINS; pin++) {
		uint64_t e = io->rte[pin];
		if (e == IOAPIC_RTE_MASK && !(io->pins & (1u << pin)))
			continue;       /* untouched, idle: not worth a line */
		fprintf(out, "  pin %2d: %016llx vec 0x%02x %-6s %s dest 0x%02x %s %s%s%s%s\n", pin,
			(unsigned long long)e, (unsigned)(e & IOAPIC_RTE_VECTOR), delmod_name[rte_delmod(e)],
			e & IOAPIC_RTE_DESTMOD ? "logical " : "physical",
			(unsigned)(e >> IOAPIC_RTE_DEST_SHIFT), e & IOAPIC_RTE_TRIGGER ? "level" : "edge ",
			e & IOAPIC_RTE_INTPOL ? "low " : "high",
			e & IOAPIC_RTE_MASK ? " masked" : "",
			e & IOAPIC_RTE_REMOTE_IRR ? " remote-irr" : "",
			io->pins & (1u << pin) ? " asserted" : "");
	}
}
