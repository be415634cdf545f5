/* ACPI PM1a_CNT: S5 with SLP_EN powers off; other writes do not. */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "devices/acpi_pm.h"

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

void suite_dev_acpi_pm(void)
{
	CU_pSuite s = CU_add_suite("dev_acpi_pm", NULL, NULL);
	CU_add_test(s, "S5 with SLP_EN powers off, nothing else does", test_s5_powers_off);
}
