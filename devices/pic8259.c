/* Intel 8259A pair with PIIX/ICH ELCR; see devices/pic8259.h for the model.
 * Register and command layouts: Intel 8259A datasheet ("Programming the
 * 8259A": ICW1-ICW4, OCW1-OCW3), ICH7 datasheet 10.4 (same registers as the
 * south bridge presents them). */
#include "devices/pic8259.h"

#include <stdint.h>
#include <stdlib.h>

/* ICW1 (written to A0 = 0 with D4 = 1). */
#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW1_SELECT 0x10
/* ICW4. */
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
/* OCW3 (A0 = 0, D4 = 0, D3 = 1). */
#define OCW3_SELECT 0x08
#define OCW3_RIS 0x01
#define OCW3_RR 0x02
#define OCW3_P 0x04
#define OCW3_SMM 0x20
#define OCW3_ESMM 0x40
/* OCW2 R/SL/EOI field (bits 7:5) and level (bits 2:0). */
#define OCW2_CMD(v) (((v) >> 5) & 7)
#define OCW2_LEVEL(v) ((v) & 7)
enum ocw2_cmd {
	OCW2_ROTATE_AEOI_CLEAR = 0, OCW2_NONSPECIFIC_EOI = 1, OCW2_NOP = 2, OCW2_SPECIFIC_EOI = 3,
	OCW2_ROTATE_AEOI_SET = 4, OCW2_ROTATE_NONSPECIFIC = 5, OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC = 7,
};

/* Where the next write to A0 = 1 goes. */
enum init_step { INIT_DONE, INIT_ICW2, INIT_ICW3, INIT_ICW4 };

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t lines;          /* input levels, for edge detection and level mode */
	uint8_t elcr, elcr_mask;
	uint8_t icw1, icw3, icw4;
	uint8_t vbase;          /* ICW2[7:3] */
	uint8_t lowest;         /* level with the lowest priority (rotation) */
	enum init_step step;
	bool rotate_aeoi;
	bool special_mask;
	bool read_isr;          /* OCW3 RIS: A0 = 0 reads ISR, else IRR */
	bool poll;              /* OCW3 P: next A0 = 0 read is a poll */
	struct pic *owner;      /* the pair, for the port callbacks */
};

struct pic {
	struct pic_chip chip[2];        /* 0 master, 1 slave */
	struct irq_line intr;
	bool intr_level;
};

static bool chip_level_mode(const struct pic_chip *c, int i)
{
	return (c->icw1 & ICW1_LTIM) || (c->elcr & (1u << i));
}

/* Re-derive IRR of level inputs from their lines (8259A datasheet, "Edge
 * and Level Triggered Modes": in level mode IRR follows the IR level). */
static void chip_sync_levels(struct pic_chip *c)
{
	for (int i = 0; i < 8; i++) {
		uint8_t m = (uint8_t)(1u << i);
		if (chip_level_mode(c, i))
			c->irr = (uint8_t)((c->irr & ~m) | (c->lines & m));
	}
}

static void chip_input(struct pic_chip *c, int i, bool level)
{
	uint8_t m = (uint8_t)(1u << i);
	bool was = c->lines & m;
	c->lines = level ? c->lines | m : c->lines & (uint8_t)~m;
	if (chip_level_mode(c, i))
		c->irr = level ? c->irr | m : c->irr & (uint8_t)~m;
	else if (level && !was)
		c->irr |= m;    /* rising edge; kept after the line falls, see header */
}

/* 0 = highest priority. */
static int chip_prio(const struct pic_chip *c, int level)
{
	return (level - c->lowest - 1) & 7;
}

/* Level of the highest-priority bit in `bits`, or -1. */
static int chip_highest(const struct pic_chip *c, uint8_t bits)
{
	for (int p = 0; p < 8; p++) {
		int level = (c->lowest + 1 + p) & 7;
		if (bits & (1u << level))
			return level;
	}
	return -1;
}

/* The request the priority resolver would present now, or -1. Fully nested
 * mode: only a request of higher priority than every in-service level.
 * Special mask mode (8259A datasheet, "Special Mask Mode"): in-service
 * levels are inhibited themselves but no longer block lower ones. */
static int chip_pending(const struct pic_chip *c)
{
	uint8_t req = c->irr & (uint8_t)~c->imr;
	if (c->special_mask)
		req &= (uint8_t)~c->isr;
	int r = chip_highest(c, req);
	if (r < 0 || c->special_mask)
		return r;
	int s = chip_highest(c, c->isr);
	return s >= 0 && chip_prio(c, s) <= chip_prio(c, r) ? -1 : r;
}

/* Feed the slave's INT into master IR2, then drive INTR if it changed. */
static void pic_update(struct pic *p)
{
	chip_input(&p->chip[0], PIC_CASCADE_IRQ, chip_pending(&p->chip[1]) >= 0);
	bool level = chip_pending(&p->chip[0]) >= 0;
	if (level != p->intr_level) {
		p->intr_level = level;
		irq_set(&p->intr, level);
	}
}

/* The slave's INT falls during its INTA (or poll) and rises again if a
 * request is still pending, so the master's edge-triggered IR2 latches each
 * further slave request instead of missing it. */
static void pic_slave_int_pulse(struct pic *p)
{
	p->chip[0].lines &= (uint8_t)~(1u << PIC_CASCADE_IRQ);
}

/* INTA on one chip: returns the acknowledged level, or -1 (spurious). */
static int chip_ack(struct pic_chip *c)
{
	int irq = chip_pending(c);
	if (irq < 0)
		return -1;
	uint8_t m = (uint8_t)(1u << irq);
	if (!chip_level_mode(c, irq))
		c->irr &= (uint8_t)~m;  /* edge latch consumed; a level input stays requested */
	if (c->icw4 & ICW4_AEOI) {
		if (c->rotate_aeoi)
			c->lowest = (uint8_t)irq;
	} else {
		c->isr |= m;
	}
	return irq;
}

int pic_ack(struct pic *p)
{
	struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
	int irq = chip_ack(m);
	int vector;
	if (irq < 0) {
		vector = m->vbase + 7;
	} else if (irq == PIC_CASCADE_IRQ) {
		int sirq = chip_ack(s);
		pic_slave_int_pulse(p);
		vector = s->vbase + (sirq < 0 ? 7 : sirq);
	} else {
		vector = m->vbase + irq;
	}
	pic_update(p);
	return vector;
}

/* OCW3 poll (8259A datasheet, "The Poll Command"): the read acts as INTA
 * on this chip alone and returns I (bit 7) and the level (bits 2:0); 0 when
 * nothing is requesting. */
static uint8_t chip_poll(struct pic_chip *c)
{
	int irq = chip_ack(c);
	return irq < 0 ? 0 : (uint8_t)(0x80 | irq);
}

static void chip_eoi(struct pic_chip *c, uint8_t v)
{
	int level = OCW2_LEVEL(v);
	switch (OCW2_CMD(v)) {
	case OCW2_ROTATE_AEOI_CLEAR:
		c->rotate_aeoi = false;
		break;
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_aeoi = true;
		break;
	case OCW2_NONSPECIFIC_EOI:
	case OCW2_ROTATE_NONSPECIFIC:
		level = chip_highest(c, c->isr);
		if (level < 0)
			break;
		c->isr &= (uint8_t)~(1u << level);
		if (OCW2_CMD(v) == OCW2_ROTATE_NONSPECIFIC)
			c->lowest = (uint8_t)level;
		break;
	case OCW2_SPECIFIC_EOI:
		c->isr &= (uint8_t)~(1u << level);
		break;
	case OCW2_ROTATE_SPECIFIC:
		c->isr &= (uint8_t)~(1u << level);
		c->lowest = (uint8_t)level;
		break;
	case OCW2_SET_PRIORITY:
		c->lowest = (uint8_t)level;
		break;
	case OCW2_NOP:
		break;
	}
}

static void chip_ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & OCW3_ESMM)
		c->special_mask = v & OCW3_SMM;
	if (v & OCW3_RR)
		c->read_isr = v & OCW3_RIS;
	c->poll = v & OCW3_P;
}

/* ICW1 starts initialisation (8259A datasheet, "Initialization Command
 * Words"): edge sense reset, IMR cleared, IR7 lowest priority, special mask
 * mode cleared, IRR selected for reading, ICW4 functions zero unless IC4.
 * ISR is cleared too, as QEMU does, so a re-init does not leave stale
 * in-service levels blocking everything. */
static void chip_icw1(struct pic_chip *c, uint8_t v)
{
	c->icw1 = v;
	c->irr = c->isr = c->imr = 0;
	c->lowest = 7;
	c->special_mask = c->read_isr = c->poll = c->rotate_aeoi = false;
	c->icw4 = 0;
	c->step = INIT_ICW2;
	chip_sync_levels(c);
}

static void chip_write_a0(struct pic_chip *c, uint8_t v)
{
	if (v & ICW1_SELECT)
		chip_icw1(c, v);
	else if (v & OCW3_SELECT)
		chip_ocw3(c, v);
	else
		chip_eoi(c, v);
}

static void chip_write_a1(struct pic_chip *c, uint8_t v)
{
	switch (c->step) {
	case INIT_ICW2:
		c->vbase = v & 0xF8;    /* T7-T3; A10-A8 unused in 8086 mode */
		c->step = !(c->icw1 & ICW1_SNGL) ? INIT_ICW3 : (c->icw1 & ICW1_IC4) ? INIT_ICW4 : INIT_DONE;
		break;
	case INIT_ICW3:
		c->icw3 = v;
		c->step = (c->icw1 & ICW1_IC4) ? INIT_ICW4 : INIT_DONE;
		break;
	case INIT_ICW4:
		c->icw4 = v;
		c->step = INIT_DONE;
		break;
	case INIT_DONE:
		c->imr = v;     /* OCW1 */
		break;
	}
}

static uint8_t chip_read(struct pic_chip *c, unsigned a0)
{
	if (a0)
		return c->imr;
	if (c->poll) {
		c->poll = false;
		return chip_poll(c);
	}
	return c->read_isr ? c->isr : c->irr;
}

static uint64_t pic_port_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pic_chip *c = opaque;
	struct pic *p = c->owner;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		bool poll = c->poll && !((offset + i) & 1);
		v |= (uint64_t)chip_read(c, (offset + i) & 1) << (8 * i);
		if (poll && c == &p->chip[1])
			pic_slave_int_pulse(p);
	}
	pic_update(p);
	return v;
}

static void pic_port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pic_chip *c = opaque;
	struct pic *p = c->owner;
	for (unsigned i = 0; i < size; i++) {
		uint8_t v = (uint8_t)(value >> (8 * i));
		if ((offset + i) & 1)
			chip_write_a1(c, v);
		else
			chip_write_a0(c, v);
	}
	pic_update(p);
}

static uint64_t elcr_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pic *p = opaque;
	uint64_t v = 0;
	for (unsigned i = 0; i < size && offset + i < 2; i++)
		v |= (uint64_t)p->chip[offset + i].elcr << (8 * i);
	return v;
}

static void elcr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pic *p = opaque;
	for (unsigned i = 0; i < size && offset + i < 2; i++) {
		struct pic_chip *c = &p->chip[offset + i];
		c->elcr = (uint8_t)(value >> (8 * i)) & c->elcr_mask;
		chip_sync_levels(c);
	}
	pic_update(p);
}

static const struct io_ops pic_ops = { .read = pic_port_read, .write = pic_port_write };
static const struct io_ops elcr_ops = { .read = elcr_read, .write = elcr_write };

void pic_set_irq(struct pic *p, int irq, int level)
{
	if (irq < 0 || irq > 15 || irq == PIC_CASCADE_IRQ)
		return;
	chip_input(&p->chip[irq >> 3], irq & 7, level != 0);
	pic_update(p);
}

void pic_irq_handler(void *opaque, int line, int level)
{
	pic_set_irq(opaque, line, level);
}

bool pic_intr(const struct pic *p)
{
	return p->intr_level;
}

static void chip_reset(struct pic_chip *c, uint8_t elcr_mask)
{
	*c = (struct pic_chip){ .lines = c->lines, .owner = c->owner, .elcr_mask = elcr_mask, .lowest = 7 };
}

void pic_reset(struct pic *p)
{
	chip_reset(&p->chip[0], PIC_ELCR1_MASK);
	chip_reset(&p->chip[1], PIC_ELCR2_MASK);
	pic_slave_int_pulse(p);
	pic_update(p);
}

struct pic *pic_create(struct pio_bus *pio, const struct irq_line *intr)
{
	struct pic *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (intr)
		p->intr = *intr;
	p->chip[0].owner = p->chip[1].owner = p;
	pic_reset(p);
	if (pio_register(pio, PIC_MASTER_BASE, 2, &pic_ops, &p->chip[0], "pic-master") ||
	    pio_register(pio, PIC_SLAVE_BASE, 2, &pic_ops, &p->chip[1], "pic-slave") ||
	    pio_register(pio, PIC_ELCR_BASE, 2, &elcr_ops, p, "pic-elcr")) {
		free(p);
		return NULL;
	}
	return p;
}

void pic_destroy(struct pic *p)
{
	free(p);
}

static void chip_dump(const struct pic_chip *c, const char *name, FILE *out)
{
	fprintf(out, "  %s: IRR=%02x ISR=%02x IMR=%02x ELCR=%02x lines=%02x base=%#04x lowest=%u%s%s%s%s%s%s\n",
		name, c->irr, c->isr, c->imr, c->elcr, c->lines, c->vbase, c->lowest,
		c->step != INIT_DONE ? " (initialising)" : "",
		(c->icw1 & ICW1_LTIM) ? " LTIM" : "", (c->icw4 & ICW4_AEOI) ? " AEOI" : "",
		c->rotate_aeoi ? " rotate-AEOI" : "", c->special_mask ? " SMM" : "",
		(c->icw4 & ICW4_SFNM) ? " SFNM(ignored)" : "");
}

void pic_dump(void *opaque, FILE *out)
{
	const struct pic *p = opaque;
	fprintf(out, "pic: INTR=%d\n", p->intr_level);
	chip_dump(&p->chip[0], "master", out);
	chip_dump(&p->chip[1], "slave ", out);
}
