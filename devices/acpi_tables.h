/* ACPI tables for the PC machine: RSDP, RSDT, XSDT, FADT, FACS, MADT and a
 * DSDT holding \_S5, written into guest RAM so an OS finds its CPUs, the
 * IOAPIC, the PM registers and the reset register the standard way.
 *
 * Everything lives in [ACPI_TABLES_BASE, ACPI_TABLES_BASE + ACPI_TABLES_SIZE)
 * = 0xE0000-0xE0FFF, with the RSDP first (at 0xE0000, a 16-byte boundary
 * inside the 0xE0000-0xFFFFF range an OS scans for "RSD PTR "). The machine
 * must keep that range out of the RAM it reports as usable.
 *
 * Versions follow ACPI 6.0: RSDP revision 2, FADT revision 6 (minor 0,
 * 276 bytes), MADT revision 4, DSDT revision 2, FACS version 2.
 */
#ifndef DEVICES_ACPI_TABLES_H
#define DEVICES_ACPI_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/phys.h"

#define ACPI_TABLES_BASE 0xe0000u
#define ACPI_TABLES_SIZE 0x1000u
#define ACPI_MAX_CPUS 64
#define ACPI_MAX_ISOS 16

/* MPS INTI flags of MADT interrupt source overrides and NMI entries (ACPI
 * 6.0 Table 5-50): polarity bits 1:0, trigger mode bits 3:2. */
#define ACPI_INTI_CONFORMS 0x0
#define ACPI_INTI_ACTIVE_HIGH 0x1
#define ACPI_INTI_ACTIVE_LOW 0x3
#define ACPI_INTI_EDGE (0x1 << 2)
#define ACPI_INTI_LEVEL (0x3 << 2)

/* FADT Flags (ACPI 6.0 Table 5-35). */
#define ACPI_FADT_WBINVD (1u << 0)
#define ACPI_FADT_PROC_C1 (1u << 2)
#define ACPI_FADT_PWR_BUTTON (1u << 4)  /* 1: no fixed-feature power button */
#define ACPI_FADT_SLP_BUTTON (1u << 5)  /* 1: no fixed-feature sleep button */
#define ACPI_FADT_FIX_RTC (1u << 6)     /* 1: RTC wake status not in PM1 */
#define ACPI_FADT_TMR_VAL_EXT (1u << 8) /* 32-bit PM timer */
#define ACPI_FADT_RESET_REG_SUP (1u << 10)

/* FADT IAPC_BOOT_ARCH (ACPI 6.0 Table 5-36). */
#define ACPI_BOOT_LEGACY_DEVICES (1u << 0)
#define ACPI_BOOT_8042 (1u << 1)

/* An ISA IRQ that does not map 1:1 onto a GSI, or needs other flags. */
struct acpi_iso {
	uint8_t source;         /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;         /* ACPI_INTI_* */
};

struct acpi_config {
	unsigned ncpus;                         /* 1..ACPI_MAX_CPUS */
	uint8_t apic_id[ACPI_MAX_CPUS];         /* local APIC id of each CPU */
	uint32_t lapic_addr;
	uint8_t ioapic_id;
	uint32_t ioapic_addr;
	uint32_t ioapic_gsi_base;
	uint16_t pm_base;                       /* PM1a_EVT; PM1a_CNT +4; PM_TMR +8 */
	uint16_t sci_irq;
	struct acpi_iso iso[ACPI_MAX_ISOS];
	unsigned niso;
	uint8_t nmi_lint;                       /* LINT pin wired to NMI on every CPU */
	uint16_t nmi_flags;                     /* ACPI_INTI_* */
	uint32_t fadt_flags;                    /* ACPI_FADT_* */
	uint16_t boot_arch;                     /* ACPI_BOOT_* */
	uint8_t century;                        /* CMOS index of the century byte */
	uint16_t reset_port;                    /* FADT RESET_REG, system I/O, byte */
	uint8_t reset_value;
};

/* The PC machine's values, as QEMU's pc machine publishes them: APIC ids 0..
 * ncpus-1, local APIC at 0xFEE00000, IOAPIC id 0 (as QEMU) at 0xFEC00000 with GSI
 * base 0, PM block at 0x600, SCI on IRQ 9, overrides IRQ0 -> GSI2 (bus
 * conforming) and IRQ9 level/active-high, LINT1 = NMI on all CPUs, 32-bit PM
 * timer, reset register 0xCF9 value 6, century at CMOS 0x32, an 8042.
 * ncpus is clamped to 1..ACPI_MAX_CPUS. */
void acpi_config_pc(struct acpi_config *cfg, unsigned ncpus);

/* Builds the tables for cfg and copies them into guest memory at
 * ACPI_TABLES_BASE. Stores the RSDP's address in *rsdp_pa. Returns 0, or -1
 * when cfg is out of range (no CPUs, too many CPUs or overrides) or the
 * range is not RAM/ROM. */
int acpi_build_tables(struct phys_map *pm, const struct acpi_config *cfg, uint64_t *rsdp_pa);

#endif
