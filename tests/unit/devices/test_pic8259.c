/* 8259A pair: driven through its ports as a guest would, with the INTR
 * output recorded. Vector bases 0x20 (master) and 0x28 (slave). */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "devices/pic8259.h"

struct intr_log {
	int level;
	int rises;
};

static void intr_rec(void *opaque, int line, int level)
{
	struct intr_log *l = opaque;
	(void)line;
	if (level && !l->level)
		l->rises++;
	l->level = level;
}

struct rig {
	struct pio_bus *bus;
	struct intr_log log;
	struct pic *pic;
};

static void rig_open(struct rig *r)
{
	*r = (struct rig){ .bus = calloc(1, sizeof(*r->bus)) };
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->bus);
	pio_init(r->bus);
	struct irq_line intr = { intr_rec, &r->log, 0 };
	r->pic = pic_create(r->bus, &intr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->pic);
}

static void rig_close(struct rig *r)
{
	pic_destroy(r->pic);
	free(r->bus);
}

static void out8(struct rig *r, uint16_t port, uint8_t v)
{
	pio_write(r->bus, port, v, 1);
}

static uint8_t in8(struct rig *r, uint16_t port)
{
	return (uint8_t)pio_read(r->bus, port, 1);
}

/* The usual PC sequence: ICW1 (edge, cascade, IC4), ICW2, ICW3, ICW4. */
static void init_pair(struct rig *r, uint8_t icw4)
{
	out8(r, 0x20, 0x11);
	out8(r, 0xA0, 0x11);
	out8(r, 0x21, 0x20);
	out8(r, 0xA1, 0x28);
	out8(r, 0x21, 0x04);
	out8(r, 0xA1, 0x02);
	out8(r, 0x21, icw4);
	out8(r, 0xA1, icw4);
	out8(r, 0x21, 0x00);    /* OCW1: all unmasked */
	out8(r, 0xA1, 0x00);
}

static uint8_t read_irr(struct rig *r, uint16_t base)
{
	out8(r, base, 0x0A);    /* OCW3 RR=1 RIS=0 */
	return in8(r, base);
}

static uint8_t read_isr(struct rig *r, uint16_t base)
{
	out8(r, base, 0x0B);    /* OCW3 RR=1 RIS=1 */
	return in8(r, base);
}

static void pulse(struct rig *r, int irq)
{
	pic_set_irq(r->pic, irq, 1);
	pic_set_irq(r->pic, irq, 0);
}

static void test_icw_ack(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	pulse(&r, 3);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(r.log.level, 1);
	CU_ASSERT_EQUAL(read_irr(&r, 0x20), 0x08);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x00);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x23);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(r.log.level, 0);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x08);
	CU_ASSERT_EQUAL(in8(&r, 0x20), 0x08);   /* OCW3 selection is remembered */
	CU_ASSERT_EQUAL(read_irr(&r, 0x20), 0x00);
	out8(&r, 0x20, 0x20);                   /* non-specific EOI */
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x00);
	/* ICW2's low three bits are ignored. */
	out8(&r, 0x20, 0x11);
	out8(&r, 0x21, 0x47);
	out8(&r, 0x21, 0x04);
	out8(&r, 0x21, 0x01);
	pulse(&r, 1);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x41);
	rig_close(&r);
}

/* IRQ 0 highest, 7 lowest; a lower request waits while a higher one is in
 * service, a higher one nests. */
static void test_priority(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	pulse(&r, 5);
	pulse(&r, 1);
	pulse(&r, 3);
	CU_ASSERT_EQUAL(read_irr(&r, 0x20), 0x2A);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x21);
	CU_ASSERT_FALSE(pic_intr(r.pic));       /* 3 and 5 wait behind 1 */
	out8(&r, 0x20, 0x20);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x23);
	pulse(&r, 0);                           /* nests over 3 */
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x20);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x09);
	out8(&r, 0x20, 0x20);
	out8(&r, 0x20, 0x20);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x25);
	rig_close(&r);
}

/* IRQ 10: slave IR2 -> master IR2 -> the slave's vector. */
static void test_cascade(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	pulse(&r, 10);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(read_irr(&r, 0x20), 0x04);
	CU_ASSERT_EQUAL(read_irr(&r, 0xA0), 0x04);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x2A);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x04);
	CU_ASSERT_EQUAL(read_isr(&r, 0xA0), 0x04);
	/* A second slave request waits for both EOIs (fully nested). */
	pulse(&r, 9);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	out8(&r, 0xA0, 0x20);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	out8(&r, 0x20, 0x20);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x29);
	out8(&r, 0xA0, 0x20);
	out8(&r, 0x20, 0x20);
	/* Master IRQ 1 outranks the slave; IRQ 3 ranks below it. */
	pulse(&r, 3);
	pulse(&r, 12);
	pulse(&r, 1);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x21);
	out8(&r, 0x20, 0x20);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x2C);
	out8(&r, 0xA0, 0x20);
	out8(&r, 0x20, 0x20);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x23);
	rig_close(&r);
}

static void test_eoi(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	pulse(&r, 6);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x26);
	pulse(&r, 4);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x24);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x50);
	out8(&r, 0x20, 0x66);                   /* specific EOI, level 6 */
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x10);
	pulse(&r, 6);
	CU_ASSERT_FALSE(pic_intr(r.pic));       /* 4, still in service, outranks 6 */
	out8(&r, 0x20, 0x64);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x00);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x26);
	rig_close(&r);
}

static void test_nonspecific_eoi_clears_highest(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	pulse(&r, 6);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x26);
	pulse(&r, 4);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x24);
	out8(&r, 0x20, 0x20);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x40);
	out8(&r, 0x20, 0x20);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x00);
	out8(&r, 0x20, 0x20);                   /* nothing in service: no effect */
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x00);
	rig_close(&r);
}

/* ICW4 AEOI: INTA leaves ISR clear, so the next request goes straight out. */
static void test_aeoi(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x03);
	pulse(&r, 4);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x24);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x00);
	pulse(&r, 5);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x25);
	/* Cascaded with both in AEOI: two slave requests back to back. */
	pulse(&r, 11);
	pulse(&r, 14);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x2B);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x2E);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x00);
	CU_ASSERT_EQUAL(read_isr(&r, 0xA0), 0x00);
	rig_close(&r);
}

static void test_mask(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	out8(&r, 0x21, 0x08);
	CU_ASSERT_EQUAL(in8(&r, 0x21), 0x08);
	pulse(&r, 3);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(read_irr(&r, 0x20), 0x08);      /* IRR is set regardless of IMR */
	out8(&r, 0xA1, 0xFF);
	pulse(&r, 8);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	out8(&r, 0x21, 0x00);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x23);
	out8(&r, 0x20, 0x20);
	out8(&r, 0xA1, 0xFE);                           /* unmask IRQ 8 only */
	CU_ASSERT_EQUAL(in8(&r, 0xA1), 0xFE);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x28);
	rig_close(&r);
}

/* OCW2 set priority, rotate on non-specific EOI, rotate in AEOI mode. */
static void test_rotation(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	out8(&r, 0x20, 0xC4);                   /* IR4 lowest: 5 6 7 0 1 2 3 4 */
	pulse(&r, 3);
	pulse(&r, 6);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x26);
	out8(&r, 0x20, 0xA0);                   /* rotate on non-specific EOI: 6 lowest */
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x00);
	pulse(&r, 7);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x27); /* 7 0 1 ... : 7 beats the pending 3 */
	out8(&r, 0x20, 0xE7);                   /* rotate on specific EOI 7: 7 lowest */
	pulse(&r, 7);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x23);
	out8(&r, 0x20, 0x63);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x27);
	out8(&r, 0x20, 0x67);
	/* Rotate in AEOI mode: each serviced level becomes the lowest. */
	out8(&r, 0x20, 0x11);
	out8(&r, 0x21, 0x20);
	out8(&r, 0x21, 0x04);
	out8(&r, 0x21, 0x03);
	out8(&r, 0x20, 0x80);
	pulse(&r, 1);
	pulse(&r, 5);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x21);
	pulse(&r, 0);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x25);  /* 0 now ranks below 5 */
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x20);
	out8(&r, 0x20, 0x00);                   /* clear rotate in AEOI */
	pulse(&r, 1);
	pulse(&r, 6);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x21);  /* lowest is still 0: 1 first */
	pulse(&r, 0);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x26);  /* no rotation: order 1..7,0 stays */
	rig_close(&r);
}

/* OCW3 special mask mode: an in-service level no longer blocks lower ones. */
static void test_special_mask(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	pulse(&r, 5);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x25);
	pulse(&r, 6);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	out8(&r, 0x20, 0x68);                   /* set SMM */
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x26);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x60);
	out8(&r, 0x21, 0x20);                   /* mask 5 and raise it: inhibited */
	pulse(&r, 5);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	out8(&r, 0x20, 0x48);                   /* reset SMM */
	out8(&r, 0x20, 0x66);
	out8(&r, 0x20, 0x65);
	CU_ASSERT_FALSE(pic_intr(r.pic));       /* 5 is masked */
	out8(&r, 0x21, 0x00);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x25);
	rig_close(&r);
}

/* A request that is gone by INTA yields IR7 of the master, or IR7 of the
 * slave with master ISR bit 2 set. */
static void test_spurious(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	out8(&r, 0x4D0, 0x20);                  /* IRQ 5 level */
	pic_set_irq(r.pic, 5, 1);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	pic_set_irq(r.pic, 5, 0);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x27);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x00);   /* spurious IR7 sets no ISR bit */
	/* Masked between INTR and INTA. */
	pulse(&r, 4);
	out8(&r, 0x21, 0x10);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x27);
	out8(&r, 0x21, 0x00);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x24);
	out8(&r, 0x20, 0x20);
	/* Slave level IRQ 11 withdrawn after the master latched its IR2. */
	out8(&r, 0x4D1, 0x08);
	pic_set_irq(r.pic, 11, 1);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	pic_set_irq(r.pic, 11, 0);
	CU_ASSERT_TRUE(pic_intr(r.pic));        /* master IR2 is an edge latch */
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x2F);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x04);
	CU_ASSERT_EQUAL(read_isr(&r, 0xA0), 0x00);
	out8(&r, 0x20, 0x20);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x00);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	rig_close(&r);
}

/* ELCR level mode: IRR follows the line, and stays set after INTA and EOI
 * while the line is high; edge mode latches once per rising edge. */
static void test_level_elcr(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	out8(&r, 0x4D0, 0xFF);
	out8(&r, 0x4D1, 0xFF);
	CU_ASSERT_EQUAL(in8(&r, 0x4D0), 0xF8);  /* IRQ 0-2 cannot be level */
	CU_ASSERT_EQUAL(in8(&r, 0x4D1), 0xDE);  /* nor IRQ 8 and 13 */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x4D0, 2), 0xDEF8);
	out8(&r, 0x4D1, 0x00);
	out8(&r, 0x4D0, 0x08);
	pic_set_irq(r.pic, 3, 1);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x23);
	CU_ASSERT_EQUAL(read_irr(&r, 0x20), 0x08);
	out8(&r, 0x20, 0x20);
	CU_ASSERT_TRUE(pic_intr(r.pic));        /* still high: requests again */
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x23);
	pic_set_irq(r.pic, 3, 0);
	CU_ASSERT_EQUAL(read_irr(&r, 0x20), 0x00);
	out8(&r, 0x20, 0x20);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	/* Edge: a line held high requests once. */
	pic_set_irq(r.pic, 4, 1);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x24);
	out8(&r, 0x20, 0x20);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(read_irr(&r, 0x20), 0x00);
	/* Switching the held-high line to level makes it request. */
	out8(&r, 0x4D0, 0x10);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	/* ICW1 LTIM: level for the whole chip. */
	out8(&r, 0x4D0, 0x00);
	pic_set_irq(r.pic, 4, 0);
	pic_set_irq(r.pic, 6, 1);
	out8(&r, 0x20, 0x19);
	out8(&r, 0x21, 0x20);
	out8(&r, 0x21, 0x04);
	out8(&r, 0x21, 0x01);
	CU_ASSERT_EQUAL(read_irr(&r, 0x20), 0x40);  /* level: no edge needed */
	pic_set_irq(r.pic, 6, 0);
	CU_ASSERT_EQUAL(read_irr(&r, 0x20), 0x00);
	rig_close(&r);
}

/* ICW1 resets the edge sense: a line high during init needs a new edge. */
static void test_init_resets_edge(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	pic_set_irq(r.pic, 1, 1);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	out8(&r, 0x21, 0xFF);
	init_pair(&r, 0x01);
	CU_ASSERT_EQUAL(in8(&r, 0x21), 0x00);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	pic_set_irq(r.pic, 1, 0);
	pic_set_irq(r.pic, 1, 1);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x21);
	rig_close(&r);
}

/* OCW3 poll: the read acts as INTA and returns 0x80 | level. */
static void test_poll(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	out8(&r, 0x21, 0xFF);                   /* masked: poll returns nothing */
	pulse(&r, 6);
	out8(&r, 0x20, 0x0C);
	CU_ASSERT_EQUAL(in8(&r, 0x20), 0x00);
	out8(&r, 0x21, 0x00);
	pulse(&r, 3);
	out8(&r, 0x20, 0x0C);
	CU_ASSERT_EQUAL(in8(&r, 0x20), 0x83);
	CU_ASSERT_EQUAL(read_isr(&r, 0x20), 0x08);
	CU_ASSERT_EQUAL(in8(&r, 0x20), 0x08);   /* poll was one read only */
	out8(&r, 0x20, 0x20);
	out8(&r, 0x20, 0x0C);
	CU_ASSERT_EQUAL(in8(&r, 0x20), 0x86);
	out8(&r, 0x20, 0x20);
	/* Cascade by polling: master reports 2, then poll the slave. */
	pulse(&r, 13);
	out8(&r, 0x20, 0x0C);
	CU_ASSERT_EQUAL(in8(&r, 0x20), 0x82);
	out8(&r, 0xA0, 0x0C);
	CU_ASSERT_EQUAL(in8(&r, 0xA0), 0x85);
	CU_ASSERT_EQUAL(read_isr(&r, 0xA0), 0x20);
	rig_close(&r);
}

/* Reset: INTR low, uninitialised, vector base 0. */
static void test_reset(void)
{
	struct rig r;
	rig_open(&r);
	init_pair(&r, 0x01);
	out8(&r, 0x4D0, 0x80);
	pic_set_irq(r.pic, 7, 1);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	pic_reset(r.pic);
	CU_ASSERT_FALSE(pic_intr(r.pic));       /* edge again, and no new edge */
	CU_ASSERT_EQUAL(r.log.level, 0);
	CU_ASSERT_EQUAL(in8(&r, 0x4D0), 0x00);
	CU_ASSERT_EQUAL(in8(&r, 0x21), 0x00);
	pic_set_irq(r.pic, 7, 0);
	pulse(&r, 7);
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x07);
	/* Out-of-range and cascade inputs are ignored; the handler form works. */
	pic_set_irq(r.pic, 16, 1);
	pic_set_irq(r.pic, -1, 1);
	pic_set_irq(r.pic, 2, 1);
	CU_ASSERT_FALSE(pic_intr(r.pic));
	struct irq_line l = { pic_irq_handler, r.pic, 9 };
	irq_set(&l, 1);
	CU_ASSERT_TRUE(pic_intr(r.pic));
	CU_ASSERT_EQUAL(pic_ack(r.pic), 0x01);  /* slave base 0 after reset */
	FILE *f = tmpfile();
	if (f) {
		pic_dump(r.pic, f);
		CU_ASSERT(ftell(f) > 0);
		fclose(f);
	}
	rig_close(&r);
}

void suite_dev_pic8259(void)
{
	CU_pSuite s = CU_add_suite("dev_pic8259", NULL, NULL);
	CU_add_test(s, "ICW sequence, IRQ, INTR, ack vector, IRR/ISR via OCW3", test_icw_ack);
	CU_add_test(s, "priority order and nesting", test_priority);
	CU_add_test(s, "cascade through master IR2", test_cascade);
	CU_add_test(s, "specific EOI", test_eoi);
	CU_add_test(s, "non-specific EOI clears the highest ISR bit", test_nonspecific_eoi_clears_highest);
	CU_add_test(s, "automatic EOI", test_aeoi);
	CU_add_test(s, "IMR masks INTR but not IRR", test_mask);
	CU_add_test(s, "rotation: set priority, rotate on EOI, rotate in AEOI", test_rotation);
	CU_add_test(s, "special mask mode", test_special_mask);
	CU_add_test(s, "spurious IRQ7 and IRQ15", test_spurious);
	CU_add_test(s, "ELCR and LTIM level mode", test_level_elcr);
	CU_add_test(s, "ICW1 resets the edge sense", test_init_resets_edge);
	CU_add_test(s, "poll command", test_poll);
	CU_add_test(s, "reset state and handler form", test_reset);
}
