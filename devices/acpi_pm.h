/* A minimal ACPI power-management register block, laid out as QEMU's PIIX4
 * PM I/O space (base 0x600): PM1a_EVT (PM1_STS, PM1_EN) at offset 0,
 * PM1a_CNT at offset 4 (`outw(0x604, 0x2000)` powers the machine off as it
 * does under QEMU) and the 32-bit PM timer at offset 8.
 */
#ifndef DEVICES_ACPI_PM_H
#define DEVICES_ACPI_PM_H

#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

#define ACPI_PM_DEFAULT_BASE 0x600
#define ACPI_PM1_EVT_OFFSET 0           /* 16-bit PM1_STS, then 16-bit PM1_EN */
#define ACPI_PM1_CNT_OFFSET 4           /* 16-bit PM1a_CNT */
#define ACPI_PM_TMR_OFFSET 8            /* 32-bit PM_TMR */
#define ACPI_PM_TMR_HZ 3579545          /* ACPI spec 4.8.2.1: 3.579545 MHz */

/* PM1 status / enable bits (ACPI spec 4.8.3.1.1-2). */
#define ACPI_PM1_STS_TMR 0x0001         /* PM timer MSB changed */
#define ACPI_PM1_STS_BM 0x0010
#define ACPI_PM1_STS_GBL 0x0020
#define ACPI_PM1_STS_PWRBTN 0x0100
#define ACPI_PM1_STS_SLPBTN 0x0200
#define ACPI_PM1_STS_RTC 0x0400
#define ACPI_PM1_STS_WAK 0x8000
#define ACPI_PM1_EN_TMR 0x0001
#define ACPI_PM1_EN_GBL 0x0020
#define ACPI_PM1_EN_PWRBTN 0x0100
#define ACPI_PM1_EN_SLPBTN 0x0200
#define ACPI_PM1_EN_RTC 0x0400

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
struct clock;

/* Claims PM1a_EVT at base (4 ports), PM1a_CNT at base+4 (2 ports) and PM_TMR
 * at base+8 (4 ports). A write that sets SLP_EN with SLP_TYP ==
 * ACPI_SLP_TYP_S5 calls sink with POWER_OFF; other sleep types are not
 * supported and are ignored. sink may be NULL; it is copied. NULL on
 * allocation failure or when the ports are taken. */
struct acpi_pm *acpi_pm_create(struct pio_bus *bus, uint16_t base, const struct power_sink *sink);
/* Gives the PM timer its time base: PM_TMR = clock_now() * 3579545 /
 * clock_hz() modulo 2^32 (a 32-bit timer: the FADT sets TMR_VAL_EXT).
 * Until a clock is attached PM_TMR reads 0. */
void acpi_pm_attach_clock(struct acpi_pm *pm, struct clock *ck);
/* Frees the device; the bus must not be used afterwards. */
void acpi_pm_destroy(struct acpi_pm *pm);
void acpi_pm_reset(struct acpi_pm *pm);
void acpi_pm_dump(void *opaque, FILE *out);

#endif
