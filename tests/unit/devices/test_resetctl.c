/* devices/resetctl.c: port 0x92 fast reset and A20, port 0xCF9 reset
 * control, and which accesses reach RST_CNT. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "devices/resetctl.h"

struct host {
	int resets;
	uint32_t value;
	int a20, a20_changes;
};

static void host_power(void *opaque, enum power_event ev, uint32_t value)
{
	struct host *h = opaque;
	CU_ASSERT_EQUAL(ev, POWER_RESET);
	h->resets++;
	h->value = value;
}

static void host_a20(void *opaque, int line, int level)
{
	struct host *h = opaque;
	h->a20 = level;
	h->a20_changes++;
}

struct rig {
	struct pio_bus *bus;
	struct resetctl *r;
	struct host h;
};

static void rig_init(struct rig *g)
{
	memset(g, 0, sizeof(*g));
	g->h.a20 = -1;
	g->bus = malloc(sizeof(*g->bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->bus);
	pio_init(g->bus);
	struct irq_line a20 = { .handler = host_a20, .opaque = &g->h };
	struct power_sink ps = { host_power, &g->h };
	g->r = resetctl_create(g->bus, &a20, &ps);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->r);
}

static void rig_fini(struct rig *g)
{
	resetctl_destroy(g->r);
	free(g->bus);
}

static void test_port92(void)
{
	struct rig g;
	rig_init(&g);
	CU_ASSERT_EQUAL(g.h.a20, 0);                    /* driven low at creation */
	CU_ASSERT_EQUAL(pio_read(g.bus, 0x92, 1), 0x24);
	pio_write(g.bus, 0x92, 0x02, 1);                /* fast A20 on */
	CU_ASSERT_EQUAL(g.h.a20, 1);
	CU_ASSERT_EQUAL(g.h.resets, 0);
	CU_ASSERT_EQUAL(pio_read(g.bus, 0x92, 1), 0x26);
	pio_write(g.bus, 0x92, 0xff, 1);                /* reserved bits ignored; reset 0->1 */
	CU_ASSERT_EQUAL(g.h.resets, 1);
	CU_ASSERT_EQUAL(pio_read(g.bus, 0x92, 1), 0x27);
	pio_write(g.bus, 0x92, 0x03, 1);                /* bit 0 still 1: no new pulse */
	CU_ASSERT_EQUAL(g.h.resets, 1);
	pio_write(g.bus, 0x92, 0x02, 1);
	pio_write(g.bus, 0x92, 0x03, 1);                /* written back to 0, then 1 */
	CU_ASSERT_EQUAL(g.h.resets, 2);
	int changes = g.h.a20_changes;
	pio_write(g.bus, 0x92, 0x00, 1);
	CU_ASSERT_EQUAL(g.h.a20, 0);
	CU_ASSERT_EQUAL(g.h.a20_changes, changes + 1);
	resetctl_reset(g.r);
	CU_ASSERT_EQUAL(pio_read(g.bus, 0x92, 1), 0x24);
	rig_fini(&g);
}

static void test_cf9(void)
{
	struct rig g;
	rig_init(&g);
	CU_ASSERT_EQUAL(pio_read(g.bus, 0xcf9, 1), 0);
	pio_write(g.bus, 0xcf9, 0x02, 1);               /* Linux reboot=pci: SYS_RST first */
	CU_ASSERT_EQUAL(g.h.resets, 0);
	CU_ASSERT_EQUAL(pio_read(g.bus, 0xcf9, 1), 0x02);
	pio_write(g.bus, 0xcf9, 0x06, 1);               /* then RST_CPU 0->1: hard reset */
	CU_ASSERT_EQUAL(g.h.resets, 1);
	CU_ASSERT_EQUAL(g.h.value, 0x06);
	resetctl_reset(g.r);
	pio_write(g.bus, 0xcf9, 0xfe, 1);               /* full reset; reserved bits drop */
	CU_ASSERT_EQUAL(g.h.resets, 2);
	CU_ASSERT_EQUAL(g.h.value, 0x0e);
	CU_ASSERT_EQUAL(pio_read(g.bus, 0xcf9, 1), 0x0e);
	pio_write(g.bus, 0xcf9, 0x06, 1);               /* RST_CPU already 1: no transition */
	CU_ASSERT_EQUAL(g.h.resets, 2);
	rig_fini(&g);
}

/* The PCI CONFIG_ADDRESS dword at 0xCF8 and word accesses never touch
 * RST_CNT, even though their bytes cover 0xCF9. */
static void test_cf8_wide(void)
{
	struct rig g;
	rig_init(&g);
	pio_write(g.bus, 0xcf8, 0x80000604, 4);
	pio_write(g.bus, 0xcf8, 0x0606, 2);
	CU_ASSERT_EQUAL(g.h.resets, 0);
	CU_ASSERT_EQUAL(pio_read(g.bus, 0xcf9, 1), 0);
	CU_ASSERT_EQUAL(pio_read(g.bus, 0xcf8, 4), 0xffffffffu);
	CU_ASSERT_EQUAL(pio_read(g.bus, 0xcf8, 1), 0xff);
	pio_write(g.bus, 0xcf9, 0x04, 1);
	CU_ASSERT_EQUAL(g.h.resets, 1);
	rig_fini(&g);
}

static void test_ports_taken(void)
{
	struct pio_bus *bus = malloc(sizeof(*bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(bus);
	pio_init(bus);
	struct resetctl *r = resetctl_create(bus, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_PTR_NULL(resetctl_create(bus, NULL, NULL));
	pio_write(bus, 0xcf9, 0x06, 1);                 /* no sink: nothing to call */
	resetctl_destroy(r);
	free(bus);
}

void suite_dev_resetctl(void)
{
	CU_pSuite s = CU_add_suite("dev_resetctl", NULL, NULL);
	CU_add_test(s, "port 0x92: A20 line, reset on bit 0 rising, fixed bits", test_port92);
	CU_add_test(s, "port 0xCF9: RST_CPU rising edge resets, hard/full value", test_cf9);
	CU_add_test(s, "wide accesses at 0xCF8 do not reach RST_CNT", test_cf8_wide);
	CU_add_test(s, "second instance fails on taken ports", test_ports_taken);
}
