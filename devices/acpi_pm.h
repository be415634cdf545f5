/* A minimal ACPI power-management register block, laid out as QEMU's PIIX4
 * PM I/O space (base 0x600): only PM1a_CNT at offset 4 is implemented, so
 * `outw(0x604, 0x2000)` powers the machine off as it does under QEMU.
 */
#ifndef DEVICES_ACPI_PM_H
#define DEVICES_ACPI_PM_H

#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

#define ACPI_PM_DEFAULT_BASE 0x600
#define ACPI_PM1_CNT_OFFSET 4           /* 16-bit PM1a_CNT */

/* PM1 control register bits (ACPI spec, "PM1 Control Registers Fixed
 * Hardware Feature Control Bits" table). */
#define ACPI_PM1_CNT_SCI_EN 0x0001
#define ACPI_PM1_CNT_BM_RLD 0x0002
#define ACPI_PM1_CNT_GBL_RLS 0x0004     /* write-only */
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK 0x1c00
#define ACPI_PM1_CNT_SLP_EN 0x2000      /* write-only */
/* The SLP_TYP value our FADT/DSDT will give \_S5 (as QEMU's PIIX4 does). */
#define ACPI_SLP_TYP_S5 0

struct acpi_pm;

/* Claims the two ports of PM1a_CNT at base+4. A write that sets SLP_EN with
 * SLP_TYP == ACPI_SLP_TYP_S5 calls sink with POWER_OFF; other sleep types
 * are not supported and are ignored. sink may be NULL; it is copied. NULL
 * on allocation failure or when the ports are taken. */
struct acpi_pm *acpi_pm_create(struct pio_bus *bus, uint16_t base, const struct power_sink *sink);
/* Frees the device; the bus must not be used afterwards. */
void acpi_pm_destroy(struct acpi_pm *pm);
void acpi_pm_reset(struct acpi_pm *pm);
void acpi_pm_dump(void *opaque, FILE *out);

#endif
