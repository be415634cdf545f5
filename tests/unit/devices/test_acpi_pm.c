/* ACPI PM1a_CNT: S5 with SLP_EN powers off; other writes do not. PM timer
 * values at known simulated times, wrap, TMR_STS; PM1_STS/PM1_EN. */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "devices/acpi_pm.h"
#include "sim/clock.h"

#define HZ 2400000000ull        /* a 2.4 GHz TSC */

struct sink_log {
	int calls;
	enum power_event ev;
};

static void record(void *opaque, enum power_event ev, uint32_t value)
{
	struct sink_log *log = opaque;
	(void)value;
	log->calls++;
	log->ev = ev;
}

static void test_s5_powers_off(void)
{
	struct pio_bus *bus = calloc(1, sizeof(*bus));
	struct sink_log log = { 0 };
	struct power_sink sink = { record, &log };
	pio_init(bus);
	struct acpi_pm *pm = acpi_pm_create(bus, ACPI_PM_DEFAULT_BASE, &sink);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pm);
	pio_write(bus, 0x604, ACPI_PM1_CNT_SCI_EN, 2);          /* no SLP_EN: nothing */
	CU_ASSERT_EQUAL(log.calls, 0);
	CU_ASSERT_EQUAL(pio_read(bus, 0x604, 2) & ACPI_PM1_CNT_SCI_EN, ACPI_PM1_CNT_SCI_EN);
	pio_write(bus, 0x604, ACPI_PM1_CNT_SLP_EN | (5u << 10), 2);  /* another sleep type */
	CU_ASSERT_EQUAL(log.calls, 0);
	pio_write(bus, 0x604, 0x2000, 2);                       /* what QEMU guests write */
	CU_ASSERT_EQUAL(log.calls, 1);
	CU_ASSERT_EQUAL(log.ev, POWER_OFF);
	CU_ASSERT_EQUAL(pio_read(bus, 0x604, 2) & ACPI_PM1_CNT_SLP_EN, 0);   /* write-only bit */
	acpi_pm_destroy(pm);
	free(bus);
}

struct rig {
	struct pio_bus *bus;
	struct clock ck;
	struct acpi_pm *pm;
};

static void rig_init(struct rig *r)
{
	r->bus = calloc(1, sizeof(*r->bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->bus);
	pio_init(r->bus);
	CU_ASSERT_EQUAL_FATAL(clock_init(&r->ck, HZ), 0);
	r->pm = acpi_pm_create(r->bus, ACPI_PM_DEFAULT_BASE, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->pm);
	CU_ASSERT_EQUAL(pio_read(r->bus, 0x608, 4), 0);         /* no clock yet */
	acpi_pm_attach_clock(r->pm, &r->ck);
}

static void rig_fini(struct rig *r)
{
	acpi_pm_destroy(r->pm);
	clock_destroy(&r->ck);
	free(r->bus);
}

/* PM_TMR = floor(now * 3579545 / hz) mod 2^32. */
static void test_pm_timer_values(void)
{
	struct rig r;
	rig_init(&r);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 4), 0);
	clock_run_until(&r.ck, 670);                            /* 0.9998 tick */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 4), 0);
	clock_run_until(&r.ck, 671);                            /* 671 * 3579545 / 2.4e9 = 1.0008 */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 4), 1);
	clock_run_until(&r.ck, HZ);                             /* one second */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 4), 3579545);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 1), 3579545 & 0xff);     /* byte lanes */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x60a, 2), 3579545 >> 16);
	clock_run_until(&r.ck, 1ull << 40);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 4), 1639896395u);
	pio_write(r.bus, 0x608, 0, 4);                          /* read-only */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 4), 1639896395u);
	rig_fini(&r);
}

/* 32 bits wrap after 2^32 ticks (about 1200 s); the product needs 128 bits
 * once now * 3579545 passes 2^64. TMR_STS follows bit 31 toggles. */
static void test_pm_timer_wrap_and_status(void)
{
	struct rig r;
	rig_init(&r);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x600, 2), 0);
	clock_run_until(&r.ck, 1439836838258ull - 1);           /* last cycle with bit 31 clear */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 4), 0x7fffffffu);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x600, 2) & ACPI_PM1_STS_TMR, 0);
	clock_run_until(&r.ck, 1439836838258ull);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 4), 0x80000000u);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x600, 2), ACPI_PM1_STS_TMR);
	pio_write(r.bus, 0x600, 0xfffe, 2);                     /* writing 0 leaves it */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x600, 2), ACPI_PM1_STS_TMR);
	pio_write(r.bus, 0x600, ACPI_PM1_STS_TMR, 2);           /* write 1 to clear */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x600, 2), 0);
	clock_run_until(&r.ck, HZ * 1200);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 4), 486704);     /* wrapped */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x600, 2), ACPI_PM1_STS_TMR);
	clock_run_until(&r.ck, 1ull << 50);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x608, 4), 4216663742u);
	rig_fini(&r);
}

static void test_pm1_enable_and_reset(void)
{
	struct rig r;
	rig_init(&r);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x604, 2), ACPI_PM1_CNT_SCI_EN);        /* ACPI mode */
	pio_write(r.bus, 0x602, 0xffff, 2);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x602, 2), 0x0721);     /* only defined enables */
	pio_write(r.bus, 0x603, 0x00, 1);                       /* byte lane: high half */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x600, 4), 0x00210000u);
	pio_write(r.bus, 0x600, 0x00000000, 4);                 /* dword: EN takes 0 */
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x602, 2), 0);
	pio_write(r.bus, 0x602, ACPI_PM1_EN_PWRBTN, 2);
	pio_write(r.bus, 0x604, 0, 2);
	acpi_pm_reset(r.pm);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x602, 2), 0);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x604, 2), ACPI_PM1_CNT_SCI_EN);
	CU_ASSERT_PTR_NULL(acpi_pm_create(r.bus, ACPI_PM_DEFAULT_BASE, NULL));  /* ports taken */
	rig_fini(&r);
}

void suite_dev_acpi_pm(void)
{
	CU_pSuite s = CU_add_suite("dev_acpi_pm", NULL, NULL);
	CU_add_test(s, "S5 with SLP_EN powers off, nothing else does", test_s5_powers_off);
	CU_add_test(s, "PM timer values at known clock times", test_pm_timer_values);
	CU_add_test(s, "PM timer wraps at 32 bits; TMR_STS on bit 31 toggles", test_pm_timer_wrap_and_status);
	CU_add_test(s, "PM1_EN read/write, SCI_EN after reset", test_pm1_enable_and_reset);
}
