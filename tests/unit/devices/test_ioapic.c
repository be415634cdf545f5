/* devices/ioapic.c: registers through IOREGSEL/IOWIN, edge and level pins,
 * masking, Remote IRR with broadcast and directed EOI, odd accesses. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ioapic.h"

#define BASE IOAPIC_DEFAULT_BASE

struct log {
	struct apic_msg msg[16];
	int n;
};

static void record(void *opaque, const struct apic_msg *m)
{
	struct log *l = opaque;
	if (l->n < 16)
		l->msg[l->n] = *m;
	l->n++;
}

struct rig {
	struct phys_map pm;
	struct ioapic *io;
	struct log log;
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	CU_ASSERT_EQUAL_FATAL(phys_init(&r->pm, 1 << 20), 0);
	struct apic_msg_sink sink = { record, &r->log };
	r->io = ioapic_create(&r->pm, BASE, 2, &sink);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->io);
}

static void rig_fini(struct rig *r)
{
	ioapic_destroy(r->io);
	phys_destroy(&r->pm);
}

static uint32_t rd(struct rig *r, unsigned index)
{
	phys_write(&r->pm, BASE + IOAPIC_IOREGSEL, index, 4);
	return (uint32_t)phys_read(&r->pm, BASE + IOAPIC_IOWIN, 4);
}

static void wr(struct rig *r, unsigned index, uint32_t v)
{
	phys_write(&r->pm, BASE + IOAPIC_IOREGSEL, index, 4);
	phys_write(&r->pm, BASE + IOAPIC_IOWIN, v, 4);
}

static void rte_set(struct rig *r, int pin, uint32_t lo, uint8_t dest)
{
	wr(r, IOAPIC_REG_REDTBL + 2 * pin + 1, (uint32_t)dest << 24);
	wr(r, IOAPIC_REG_REDTBL + 2 * pin, lo);
}

static void test_id_version_reset(void)
{
	struct rig r;
	rig_init(&r);
	CU_ASSERT_EQUAL(rd(&r, IOAPIC_REG_ID), 2u << 24);
	CU_ASSERT_EQUAL(rd(&r, IOAPIC_REG_VER), 0x00170020u);
	CU_ASSERT_EQUAL(rd(&r, IOAPIC_REG_ARB), 2u << 24);
	for (int pin = 0; pin < IOAPIC_NPINS; pin++) {
		CU_ASSERT_EQUAL(rd(&r, 0x10 + 2 * pin), 0x00010000u);
		CU_ASSERT_EQUAL(rd(&r, 0x11 + 2 * pin), 0);
	}
	wr(&r, IOAPIC_REG_ID, 0xffffffffu);          /* only bits 27:24 stick */
	CU_ASSERT_EQUAL(rd(&r, IOAPIC_REG_ID), 0x0f000000u);
	CU_ASSERT_EQUAL(rd(&r, IOAPIC_REG_ARB), 0x0f000000u);
	wr(&r, IOAPIC_REG_VER, 0);                   /* read-only */
	wr(&r, IOAPIC_REG_ARB, 0);
	CU_ASSERT_EQUAL(rd(&r, IOAPIC_REG_VER), 0x00170020u);
	CU_ASSERT_EQUAL(rd(&r, IOAPIC_REG_ARB), 0x0f000000u);
	CU_ASSERT_EQUAL(rd(&r, 0x03), 0);           /* no such register */
	CU_ASSERT_EQUAL(rd(&r, 0x40), 0);
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + IOAPIC_IOREGSEL, 4), 0x40);
	rte_set(&r, 5, 0x30, 1);
	ioapic_reset(r.io);
	CU_ASSERT_EQUAL(rd(&r, IOAPIC_REG_ID), 2u << 24);
	CU_ASSERT_EQUAL(rd(&r, 0x10 + 10), 0x00010000u);
	CU_ASSERT_EQUAL(rd(&r, 0x11 + 10), 0);
	rig_fini(&r);
}

static void test_rte_readonly_and_reserved_bits(void)
{
	struct rig r;
	rig_init(&r);
	wr(&r, 0x10, 0xffffffffu);
	/* 31:17 reserved, 14 Remote IRR and 12 Delivery Status read-only. */
	CU_ASSERT_EQUAL(rd(&r, 0x10), 0x0001afffu);
	wr(&r, 0x11, 0xffffffffu);                   /* 55:32 reserved */
	CU_ASSERT_EQUAL(rd(&r, 0x11), 0xff000000u);
	CU_ASSERT_EQUAL(r.log.n, 0);                 /* masked, pin idle */
	rig_fini(&r);
}

static void test_edge_delivery(void)
{
	struct rig r;
	rig_init(&r);
	/* Pin 4: vector 0x41, lowest priority, logical, active high, edge. */
	rte_set(&r, 4, 0x41 | 1u << 8 | 1u << 11, 0x03);
	ioapic_set_irq(r.io, 4, 1);
	CU_ASSERT_EQUAL_FATAL(r.log.n, 1);
	const struct apic_msg *m = &r.log.msg[0];
	CU_ASSERT_EQUAL(m->vector, 0x41);
	CU_ASSERT_EQUAL(m->dest, 0x03);
	CU_ASSERT_EQUAL(m->mode, APIC_DM_LOWEST);
	CU_ASSERT_TRUE(m->logical);
	CU_ASSERT_FALSE(m->level);
	CU_ASSERT_TRUE(m->assert);
	CU_ASSERT_EQUAL(m->shorthand, 0);
	CU_ASSERT_EQUAL(m->source, -1);
	ioapic_set_irq(r.io, 4, 1);                  /* still high: no edge */
	CU_ASSERT_EQUAL(r.log.n, 1);
	ioapic_set_irq(r.io, 4, 0);
	CU_ASSERT_EQUAL(r.log.n, 1);
	ioapic_set_irq(r.io, 4, 1);                  /* ISA-style pulse */
	ioapic_set_irq(r.io, 4, 0);
	CU_ASSERT_EQUAL(r.log.n, 2);
	CU_ASSERT_EQUAL(rd(&r, 0x10 + 8) & IOAPIC_RTE_REMOTE_IRR, 0);  /* edge: never set */
	/* The irq_line adapter reaches the same pin. */
	struct irq_line line = { ioapic_irq_handler, r.io, 4 };
	irq_set(&line, 1);
	irq_set(&line, 0);
	CU_ASSERT_EQUAL(r.log.n, 3);
	rig_fini(&r);
}

static void test_masked_pins_send_nothing(void)
{
	struct rig r;
	rig_init(&r);
	ioapic_set_irq(r.io, 1, 1);                  /* reset state: masked */
	ioapic_set_irq(r.io, 1, 0);
	CU_ASSERT_EQUAL(r.log.n, 0);
	rte_set(&r, 1, 0x31 | IOAPIC_RTE_MASK, 0);
	ioapic_set_irq(r.io, 1, 1);
	CU_ASSERT_EQUAL(r.log.n, 0);
	/* An edge seen while masked is not held pending: unmasking with the
	 * pin high sends nothing. */
	rte_set(&r, 1, 0x31, 0);
	CU_ASSERT_EQUAL(r.log.n, 0);
	ioapic_set_irq(r.io, 1, 0);
	ioapic_set_irq(r.io, 1, 1);
	CU_ASSERT_EQUAL(r.log.n, 1);
	/* Level pin asserted while masked: nothing until unmasked, then one. */
	rte_set(&r, 9, 0x39 | IOAPIC_RTE_TRIGGER | IOAPIC_RTE_MASK, 0);
	ioapic_set_irq(r.io, 9, 1);
	CU_ASSERT_EQUAL(r.log.n, 1);
	CU_ASSERT_EQUAL(rd(&r, 0x10 + 18) & IOAPIC_RTE_REMOTE_IRR, 0);
	rte_set(&r, 9, 0x39 | IOAPIC_RTE_TRIGGER, 0);
	CU_ASSERT_EQUAL_FATAL(r.log.n, 2);
	CU_ASSERT_EQUAL(r.log.msg[1].vector, 0x39);
	CU_ASSERT_TRUE(r.log.msg[1].level);
	CU_ASSERT_NOT_EQUAL(rd(&r, 0x10 + 18) & IOAPIC_RTE_REMOTE_IRR, 0);
	rig_fini(&r);
}

static void test_level_remote_irr_and_eoi(void)
{
	struct rig r;
	rig_init(&r);
	/* Pin 10: vector 0x50, fixed, physical dest 1, active low, level. */
	rte_set(&r, 10, 0x50 | IOAPIC_RTE_INTPOL | IOAPIC_RTE_TRIGGER, 1);
	ioapic_set_irq(r.io, 10, 1);
	CU_ASSERT_EQUAL_FATAL(r.log.n, 1);
	CU_ASSERT_EQUAL(r.log.msg[0].vector, 0x50);
	CU_ASSERT_EQUAL(r.log.msg[0].dest, 1);
	CU_ASSERT_EQUAL(r.log.msg[0].mode, APIC_DM_FIXED);
	CU_ASSERT_FALSE(r.log.msg[0].logical);
	CU_ASSERT_TRUE(r.log.msg[0].level);
	CU_ASSERT_EQUAL(rd(&r, 0x10 + 20), 0x50 | IOAPIC_RTE_INTPOL | IOAPIC_RTE_TRIGGER |
			IOAPIC_RTE_REMOTE_IRR);
	/* Remote IRR survives a guest write of 0 to it (read-only). */
	wr(&r, 0x10 + 20, 0x50 | IOAPIC_RTE_INTPOL | IOAPIC_RTE_TRIGGER);
	CU_ASSERT_NOT_EQUAL(rd(&r, 0x10 + 20) & IOAPIC_RTE_REMOTE_IRR, 0);
	CU_ASSERT_EQUAL(r.log.n, 1);                 /* Remote IRR blocks */
	ioapic_eoi(r.io, 0x51);                      /* another vector: no effect */
	CU_ASSERT_EQUAL(r.log.n, 1);
	CU_ASSERT_NOT_EQUAL(rd(&r, 0x10 + 20) & IOAPIC_RTE_REMOTE_IRR, 0);
	/* Broadcast EOI with the line still asserted: cleared and re-sent. */
	ioapic_eoi(r.io, 0x50);
	CU_ASSERT_EQUAL(r.log.n, 2);
	CU_ASSERT_NOT_EQUAL(rd(&r, 0x10 + 20) & IOAPIC_RTE_REMOTE_IRR, 0);
	/* Line drops, then EOI: Remote IRR clears, nothing sent. */
	ioapic_set_irq(r.io, 10, 0);
	struct eoi_listener l = { ioapic_eoi, r.io };
	l.eoi(l.opaque, 0x50);
	CU_ASSERT_EQUAL(r.log.n, 2);
	CU_ASSERT_EQUAL(rd(&r, 0x10 + 20) & IOAPIC_RTE_REMOTE_IRR, 0);
	/* Directed EOI through the register at 40h does the same. */
	ioapic_set_irq(r.io, 10, 1);
	CU_ASSERT_EQUAL(r.log.n, 3);
	phys_write(&r.pm, BASE + IOAPIC_EOI, 0x50, 4);
	CU_ASSERT_EQUAL(r.log.n, 4);                 /* still asserted: re-sent */
	ioapic_set_irq(r.io, 10, 0);
	phys_write(&r.pm, BASE + IOAPIC_EOI, 0xffffff50u, 4);   /* bits 31:8 ignored */
	CU_ASSERT_EQUAL(r.log.n, 4);
	CU_ASSERT_EQUAL(rd(&r, 0x10 + 20) & IOAPIC_RTE_REMOTE_IRR, 0);
	rig_fini(&r);
}

static void test_eoi_clears_every_matching_entry(void)
{
	struct rig r;
	rig_init(&r);
	rte_set(&r, 16, 0x60 | IOAPIC_RTE_TRIGGER, 0);
	rte_set(&r, 17, 0x60 | IOAPIC_RTE_TRIGGER, 0);
	ioapic_set_irq(r.io, 16, 1);
	ioapic_set_irq(r.io, 17, 1);
	CU_ASSERT_EQUAL(r.log.n, 2);
	ioapic_set_irq(r.io, 16, 0);
	ioapic_eoi(r.io, 0x60);
	CU_ASSERT_EQUAL(rd(&r, 0x10 + 32) & IOAPIC_RTE_REMOTE_IRR, 0);
	CU_ASSERT_NOT_EQUAL(rd(&r, 0x10 + 34) & IOAPIC_RTE_REMOTE_IRR, 0);  /* re-sent */
	CU_ASSERT_EQUAL(r.log.n, 3);
	/* Switching the entry to edge clears its stale Remote IRR. */
	wr(&r, 0x10 + 34, 0x60);
	CU_ASSERT_EQUAL(rd(&r, 0x10 + 34) & IOAPIC_RTE_REMOTE_IRR, 0);
	rig_fini(&r);
}

static void test_nmi_is_edge(void)
{
	struct rig r;
	rig_init(&r);
	/* NMI programmed level: sent as edge, no Remote IRR (ICH2 note). */
	rte_set(&r, 2, (uint32_t)APIC_DM_NMI << 8 | IOAPIC_RTE_TRIGGER, 0xff);
	ioapic_set_irq(r.io, 2, 1);
	CU_ASSERT_EQUAL_FATAL(r.log.n, 1);
	CU_ASSERT_EQUAL(r.log.msg[0].mode, APIC_DM_NMI);
	CU_ASSERT_EQUAL(r.log.msg[0].dest, 0xff);
	CU_ASSERT_FALSE(r.log.msg[0].level);
	CU_ASSERT_EQUAL(rd(&r, 0x10 + 4) & IOAPIC_RTE_REMOTE_IRR, 0);
	ioapic_set_irq(r.io, 2, 1);
	CU_ASSERT_EQUAL(r.log.n, 1);
	rig_fini(&r);
}

static void test_odd_accesses(void)
{
	struct rig r;
	rig_init(&r);
	phys_write(&r.pm, BASE + IOAPIC_IOREGSEL, 0x01, 1);     /* byte write selects */
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + IOAPIC_IOWIN, 4), 0x00170020u);
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + IOAPIC_IOWIN, 1), 0);   /* not a dword */
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + IOAPIC_IOWIN, 2), 0);
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + IOAPIC_IOWIN + 2, 2), 0);
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + 0x11, 4), 0);           /* unaligned */
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + 0x20, 4), 0);
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + IOAPIC_EOI, 4), 0);     /* write-only */
	phys_write(&r.pm, BASE + IOAPIC_IOREGSEL, 0x10, 4);
	phys_write(&r.pm, BASE + IOAPIC_IOWIN, 0x22, 1);                /* dropped */
	phys_write(&r.pm, BASE + IOAPIC_IOWIN, 0x22, 8);                /* dropped */
	phys_write(&r.pm, BASE + 0x12, 0x22, 2);
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + IOAPIC_IOWIN, 4), 0x00010000u);
	/* Only address bits 7:0 decode: 100h aliases IOREGSEL. */
	phys_write(&r.pm, BASE + 0x100, 0x01, 4);
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + IOAPIC_IOWIN, 4), 0x00170020u);
	CU_ASSERT_EQUAL(phys_read(&r.pm, BASE + 0x110, 4), 0x00170020u);
	rig_fini(&r);
}

static void test_dump(void)
{
	struct rig r;
	rig_init(&r);
	rte_set(&r, 4, 0x41 | IOAPIC_RTE_TRIGGER, 0x03);
	ioapic_set_irq(r.io, 4, 1);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	ioapic_dump(r.io, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "id 2"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "pin  4:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "vec 0x41"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "remote-irr asserted"));
	CU_ASSERT_PTR_NULL(strstr(buf, "pin  5:"));     /* untouched entries omitted */
	free(buf);
	rig_fini(&r);
}

void suite_dev_ioapic(void)
{
	CU_pSuite s = CU_add_suite("dev_ioapic", NULL, NULL);
	CU_add_test(s, "ID, version, arbitration, reset state", test_id_version_reset);
	CU_add_test(s, "redirection entry read-only and reserved bits", test_rte_readonly_and_reserved_bits);
	CU_add_test(s, "edge pin: one message per rising edge, fields", test_edge_delivery);
	CU_add_test(s, "masked pins send nothing; unmasking asserted level sends", test_masked_pins_send_nothing);
	CU_add_test(s, "level: Remote IRR, broadcast and directed EOI, re-send", test_level_remote_irr_and_eoi);
	CU_add_test(s, "EOI clears all entries with the vector", test_eoi_clears_every_matching_entry);
	CU_add_test(s, "NMI delivery is edge even when programmed level", test_nmi_is_edge);
	CU_add_test(s, "odd offsets, sizes and aliasing", test_odd_accesses);
	CU_add_test(s, "dump lists programmed entries", test_dump);
}
