/* PM1a_CNT of an ACPI fixed-hardware register block. Bit layout from the
 * ACPI specification, "PM1 Control Registers Fixed Hardware Feature Control
 * Bits" table: SLP_EN and GBL_RLS are write-only and read as 0; writing
 * SLP_EN = 1 enters the sleep state named by SLP_TYPx (bits 10-12).
 *
 * Only S5 with SLP_TYP = 0 is recognised: that is the value QEMU's PIIX4
 * machine uses and the one our own FADT/DSDT will publish for \_S5. Other
 * sleep types are accepted as register writes and otherwise ignored.
 */
#include "devices/acpi_pm.h"

#include <stdlib.h>

#define PM1_CNT_WRITE_ONLY (ACPI_PM1_CNT_SLP_EN | ACPI_PM1_CNT_GBL_RLS)

struct acpi_pm {
	struct power_sink sink;
	uint16_t base;
	uint16_t cnt;           /* last written PM1a_CNT, write-only bits clear */
};

static uint64_t acpi_pm_read(void *opaque, uint64_t offset, unsigned size)
{
	const struct acpi_pm *pm = opaque;
	uint64_t v = (uint64_t)pm->cnt >> (8 * offset);
	return size >= 2 ? v : v & 0xff;
}

/* Byte writes update their half of the register; the sleep request is taken
 * from the register value the write produces. */
static void acpi_pm_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint16_t v;
	if (size >= 2)
		v = (uint16_t)value;
	else if (offset == 0)
		v = (uint16_t)((pm->cnt & 0xff00) | (value & 0xff));
	else
		v = (uint16_t)((pm->cnt & 0x00ff) | (value & 0xff) << 8);
	pm->cnt = v & (uint16_t)~PM1_CNT_WRITE_ONLY;
	unsigned slp_typ = (v & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT;
	if ((v & ACPI_PM1_CNT_SLP_EN) && slp_typ == ACPI_SLP_TYP_S5 && pm->sink.fn)
		pm->sink.fn(pm->sink.opaque, POWER_OFF, 0);
}

static const struct io_ops acpi_pm_ops = { .read = acpi_pm_read, .write = acpi_pm_write };

struct acpi_pm *acpi_pm_create(struct pio_bus *bus, uint16_t base, const struct power_sink *sink)
{
	if ((uint32_t)base + ACPI_PM1_CNT_OFFSET + 2 > 0x10000)
		return NULL;
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return NULL;
	if (sink)
		pm->sink = *sink;
	pm->base = base;
	if (pio_register(bus, (uint16_t)(base + ACPI_PM1_CNT_OFFSET), 2, &acpi_pm_ops, pm, "acpi-pm1a-cnt")) {
		free(pm);
		return NULL;
	}
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	free(pm);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	pm->cnt = 0;
}

void acpi_pm_dump(void *opaque, FILE *out)
{
	const struct acpi_pm *pm = opaque;
	fprintf(out, "acpi-pm: base %#x PM1a_CNT=0x%04x (SCI_EN=%d SLP_TYP=%u)\n", pm->base, pm->cnt,
		pm->cnt & ACPI_PM1_CNT_SCI_EN,
		(unsigned)(pm->cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT);
}
