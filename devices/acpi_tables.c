/* ACPI table builder. Section and table numbers refer to the ACPI 6.0
 * specification: 5.2.5.3 RSDP, 5.2.6 system description table header,
 * 5.2.7 RSDT, 5.2.8 XSDT, 5.2.9 FADT (Table 5-34), 5.2.10 FACS (Table 5-37),
 * 5.2.11.1 DSDT, 5.2.12 MADT (Tables 5-43 to 5-52), 5.2.3.2 Generic Address
 * Structure; 19.6 / 20.2 for the AML bytes of the DSDT.
 *
 * The tables are laid out in a host buffer (all fields little-endian, at
 * the spec's byte offsets), checksummed, then copied into guest memory in
 * one piece. Layout inside ACPI_TABLES_BASE (each table 16-byte aligned):
 *   +0x000 RSDP (36 bytes)    +0x040 FACS (64 bytes, 64-byte aligned)
 *   then RSDT, XSDT, FADT, MADT, DSDT.
 */
#include "devices/acpi_tables.h"

#include <stdlib.h>
#include <string.h>

#define HDR_LEN 36
#define RSDP_LEN 36
#define FACS_LEN 64
#define FADT_LEN 276
#define MADT_MAX_LEN (HDR_LEN + 8 + 8 * ACPI_MAX_CPUS + 12 + 10 * ACPI_MAX_ISOS + 6)
#define N_TABLES 2              /* listed in RSDT/XSDT: FADT, MADT */
#define OEM_ID "VTXSIM"
#define OEM_TABLE_ID "VTXSIMPC"
#define CREATOR_ID "VTXS"

/* Generic Address Structure address space ids and access sizes (5.2.3.2). */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

/* MADT structure types (Table 5-45). */
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_PCAT_COMPAT 1u     /* MADT flags: dual 8259s present */
#define MADT_LAPIC_ENABLED 1u
#define MADT_ALL_PROCESSORS 0xff

/* DSDT body: Name (_S5, Package (4) { 0, 0, 0, 0 }) at the root. NameOp
 * 0x08, NameString "_S5_", PackageOp 0x12, PkgLength 6 (itself, NumElements
 * and four ZeroOp bytes), NumElements 4, then ZeroOp (0x00) x4. Element 0 is
 * SLP_TYPa, the value devices/acpi_pm.c takes for S5 (ACPI_SLP_TYP_S5). */
static const uint8_t dsdt_aml[] = {
	0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
};

struct builder {
	uint8_t buf[ACPI_TABLES_SIZE];
	uint32_t used;
};

static void put8(struct builder *b, uint32_t off, uint8_t v)
{
	b->buf[off] = v;
}

static void put16(struct builder *b, uint32_t off, uint16_t v)
{
	put8(b, off, (uint8_t)v);
	put8(b, off + 1, (uint8_t)(v >> 8));
}

static void put32(struct builder *b, uint32_t off, uint32_t v)
{
	put16(b, off, (uint16_t)v);
	put16(b, off + 2, (uint16_t)(v >> 16));
}

static void put64(struct builder *b, uint32_t off, uint64_t v)
{
	put32(b, off, (uint32_t)v);
	put32(b, off + 4, (uint32_t)(v >> 32));
}

static void put_bytes(struct builder *b, uint32_t off, const void *src, size_t n)
{
	memcpy(b->buf + off, src, n);
}

/* Reserves len bytes at the given alignment; returns the buffer offset.
 * The caller sized the buffer: layout() checks the total first. */
static uint32_t alloc(struct builder *b, uint32_t len, uint32_t align)
{
	uint32_t off = (b->used + align - 1) & ~(align - 1);
	b->used = off + len;
	return off;
}

static uint32_t pa(uint32_t off)
{
	return ACPI_TABLES_BASE + off;
}

/* Byte that makes the sum of [off, off+len) zero. */
static uint8_t checksum(const struct builder *b, uint32_t off, uint32_t len)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b->buf[off + i]);
	return (uint8_t)-sum;
}

/* System description table header (5.2.6, Table 5-29); the checksum at
 * offset 9 is filled in by finish(). */
static void header(struct builder *b, uint32_t off, const char *sig, uint32_t len, uint8_t rev)
{
	put_bytes(b, off, sig, 4);
	put32(b, off + 4, len);
	put8(b, off + 8, rev);
	put_bytes(b, off + 10, OEM_ID, 6);
	put_bytes(b, off + 16, OEM_TABLE_ID, 8);
	put32(b, off + 24, 1);                  /* OEM revision */
	put_bytes(b, off + 28, CREATOR_ID, 4);
	put32(b, off + 32, 1);                  /* creator revision */
}

static void finish(struct builder *b, uint32_t off, uint32_t len)
{
	put8(b, off + 9, checksum(b, off, len));
}

/* Generic Address Structure for an I/O port register block (5.2.3.2). */
static void gas_io(struct builder *b, uint32_t off, uint16_t port, uint8_t bits, uint8_t access)
{
	put8(b, off, GAS_SYSTEM_IO);
	put8(b, off + 1, bits);
	put8(b, off + 2, 0);
	put8(b, off + 3, access);
	put64(b, off + 4, port);
}

/* ---- FACS (5.2.10): no checksum; version 2; all wake fields zero ---- */

static void build_facs(struct builder *b, uint32_t off)
{
	put_bytes(b, off, "FACS", 4);
	put32(b, off + 4, FACS_LEN);
	put8(b, off + 32, 2);                   /* version */
}

/* ---- FADT (5.2.9, Table 5-34), revision 6 ---- */

static void fadt_pm_blocks(struct builder *b, uint32_t off, const struct acpi_config *cfg)
{
	uint16_t evt = cfg->pm_base, cnt = (uint16_t)(cfg->pm_base + 4);
	uint16_t tmr = (uint16_t)(cfg->pm_base + 8);
	put32(b, off + 56, evt);                /* PM1a_EVT_BLK */
	put32(b, off + 64, cnt);                /* PM1a_CNT_BLK */
	put32(b, off + 76, tmr);                /* PM_TMR_BLK */
	put8(b, off + 88, 4);                   /* PM1_EVT_LEN */
	put8(b, off + 89, 2);                   /* PM1_CNT_LEN */
	put8(b, off + 91, 4);                   /* PM_TMR_LEN */
	gas_io(b, off + 148, evt, 32, GAS_ACCESS_WORD);         /* X_PM1a_EVT_BLK */
	gas_io(b, off + 172, cnt, 16, GAS_ACCESS_WORD);         /* X_PM1a_CNT_BLK */
	gas_io(b, off + 208, tmr, 32, GAS_ACCESS_DWORD);        /* X_PM_TMR_BLK */
}

static void build_fadt(struct builder *b, uint32_t off, const struct acpi_config *cfg,
		       uint32_t facs, uint32_t dsdt)
{
	header(b, off, "FACP", FADT_LEN, 6);
	put32(b, off + 36, facs);               /* FIRMWARE_CTRL */
	put32(b, off + 40, dsdt);               /* DSDT */
	put16(b, off + 46, cfg->sci_irq);       /* SCI_INT; SMI_CMD (48) = 0: no SMM */
	fadt_pm_blocks(b, off, cfg);
	put16(b, off + 96, 101);                /* P_LVL2_LAT > 100: no C2 */
	put16(b, off + 98, 1001);               /* P_LVL3_LAT > 1000: no C3 */
	put8(b, off + 108, cfg->century);       /* CENTURY */
	put16(b, off + 109, cfg->boot_arch);    /* IAPC_BOOT_ARCH */
	put32(b, off + 112, cfg->fadt_flags);
	gas_io(b, off + 116, cfg->reset_port, 8, GAS_ACCESS_BYTE);     /* RESET_REG */
	put8(b, off + 128, cfg->reset_value);
	put8(b, off + 131, 0);                  /* FADT minor version: 6.0 */
	put64(b, off + 132, facs);              /* X_FIRMWARE_CTRL */
	put64(b, off + 140, dsdt);              /* X_DSDT */
	finish(b, off, FADT_LEN);
}

/* ---- MADT (5.2.12) ---- */

static uint32_t madt_len(const struct acpi_config *cfg)
{
	return HDR_LEN + 8 + 8 * cfg->ncpus + 12 + 10 * cfg->niso + 6;
}

/* Processor Local APIC (Table 5-46), one per CPU; ACPI processor UID = index. */
static uint32_t madt_cpus(struct builder *b, uint32_t p, const struct acpi_config *cfg)
{
	for (unsigned i = 0; i < cfg->ncpus; i++, p += 8) {
		put8(b, p, MADT_LAPIC);
		put8(b, p + 1, 8);
		put8(b, p + 2, (uint8_t)i);
		put8(b, p + 3, cfg->apic_id[i]);
		put32(b, p + 4, MADT_LAPIC_ENABLED);
	}
	return p;
}

/* I/O APIC (Table 5-48), interrupt source overrides (Table 5-49), local
 * APIC NMI for all processors (Table 5-52). */
static uint32_t madt_ioapic(struct builder *b, uint32_t p, const struct acpi_config *cfg)
{
	put8(b, p, MADT_IOAPIC);
	put8(b, p + 1, 12);
	put8(b, p + 2, cfg->ioapic_id);
	put32(b, p + 4, cfg->ioapic_addr);
	put32(b, p + 8, cfg->ioapic_gsi_base);
	p += 12;
	for (unsigned i = 0; i < cfg->niso; i++, p += 10) {
		put8(b, p, MADT_ISO);
		put8(b, p + 1, 10);
		put8(b, p + 2, 0);              /* bus: ISA */
		put8(b, p + 3, cfg->iso[i].source);
		put32(b, p + 4, cfg->iso[i].gsi);
		put16(b, p + 8, cfg->iso[i].flags);
	}
	put8(b, p, MADT_LAPIC_NMI);
	put8(b, p + 1, 6);
	put8(b, p + 2, MADT_ALL_PROCESSORS);
	put16(b, p + 3, cfg->nmi_flags);
	put8(b, p + 5, cfg->nmi_lint);
	return p + 6;
}

static void build_madt(struct builder *b, uint32_t off, const struct acpi_config *cfg)
{
	uint32_t len = madt_len(cfg);
	header(b, off, "APIC", len, 4);
	put32(b, off + 36, cfg->lapic_addr);
	put32(b, off + 40, MADT_PCAT_COMPAT);
	madt_ioapic(b, madt_cpus(b, off + 44, cfg), cfg);
	finish(b, off, len);
}

/* ---- DSDT, RSDT, XSDT, RSDP ---- */

static void build_dsdt(struct builder *b, uint32_t off)
{
	uint32_t len = HDR_LEN + (uint32_t)sizeof(dsdt_aml);
	header(b, off, "DSDT", len, 2);         /* revision 2: 64-bit integers */
	put_bytes(b, off + HDR_LEN, dsdt_aml, sizeof(dsdt_aml));
	finish(b, off, len);
}

static void build_rsdt_xsdt(struct builder *b, uint32_t rsdt, uint32_t xsdt,
			    const uint32_t *tables, unsigned n)
{
	header(b, rsdt, "RSDT", HDR_LEN + 4 * n, 1);
	header(b, xsdt, "XSDT", HDR_LEN + 8 * n, 1);
	for (unsigned i = 0; i < n; i++) {
		put32(b, rsdt + HDR_LEN + 4 * i, tables[i]);
		put64(b, xsdt + HDR_LEN + 8 * i, tables[i]);
	}
	finish(b, rsdt, HDR_LEN + 4 * n);
	finish(b, xsdt, HDR_LEN + 8 * n);
}

/* RSDP (5.2.5.3): checksum over the first 20 bytes (the ACPI 1.0 part),
 * extended checksum over all 36. */
static void build_rsdp(struct builder *b, uint32_t off, uint32_t rsdt, uint32_t xsdt)
{
	put_bytes(b, off, "RSD PTR ", 8);
	put_bytes(b, off + 9, OEM_ID, 6);
	put8(b, off + 15, 2);                   /* revision */
	put32(b, off + 16, rsdt);
	put32(b, off + 20, RSDP_LEN);
	put64(b, off + 24, xsdt);
	put8(b, off + 8, checksum(b, off, 20));
	put8(b, off + 32, checksum(b, off, RSDP_LEN));
}

/* ---- Entry points ---- */

/* Worst case: every table at its largest, plus alignment padding (63 bytes
 * before the FACS, at most 15 before each other table). */
_Static_assert(RSDP_LEN + 63 + FACS_LEN + 5 * 15 + HDR_LEN + 4 * N_TABLES + HDR_LEN + 8 * N_TABLES +
	       FADT_LEN + MADT_MAX_LEN + HDR_LEN + sizeof(dsdt_aml) <= ACPI_TABLES_SIZE,
	       "ACPI tables outgrow their range");

void acpi_config_pc(struct acpi_config *cfg, unsigned ncpus)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = ncpus < 1 ? 1 : ncpus > ACPI_MAX_CPUS ? ACPI_MAX_CPUS : ncpus;
	for (unsigned i = 0; i < cfg->ncpus; i++)
		cfg->apic_id[i] = (uint8_t)i;
	cfg->lapic_addr = 0xfee00000u;
	cfg->ioapic_addr = 0xfec00000u;
	cfg->pm_base = 0x600;
	cfg->sci_irq = 9;
	cfg->iso[0] = (struct acpi_iso){ .source = 0, .gsi = 2, .flags = ACPI_INTI_CONFORMS };
	cfg->iso[1] = (struct acpi_iso){ .source = 9, .gsi = 9,
					 .flags = ACPI_INTI_ACTIVE_HIGH | ACPI_INTI_LEVEL };
	cfg->niso = 2;
	cfg->nmi_lint = 1;
	cfg->nmi_flags = ACPI_INTI_CONFORMS;
	cfg->fadt_flags = ACPI_FADT_WBINVD | ACPI_FADT_PROC_C1 | ACPI_FADT_PWR_BUTTON |
			  ACPI_FADT_SLP_BUTTON | ACPI_FADT_FIX_RTC | ACPI_FADT_TMR_VAL_EXT |
			  ACPI_FADT_RESET_REG_SUP;
	cfg->boot_arch = ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_8042;
	cfg->century = 0x32;
	cfg->reset_port = 0xcf9;
	cfg->reset_value = 0x06;
}

int acpi_build_tables(struct phys_map *pm, const struct acpi_config *cfg, uint64_t *rsdp_pa)
{
	if (cfg->ncpus < 1 || cfg->ncpus > ACPI_MAX_CPUS || cfg->niso > ACPI_MAX_ISOS)
		return -1;
	struct builder *b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	uint32_t rsdp = alloc(b, RSDP_LEN, 16);
	uint32_t facs = alloc(b, FACS_LEN, 64);
	uint32_t rsdt = alloc(b, HDR_LEN + 4 * N_TABLES, 16);
	uint32_t xsdt = alloc(b, HDR_LEN + 8 * N_TABLES, 16);
	uint32_t fadt = alloc(b, FADT_LEN, 16);
	uint32_t madt = alloc(b, madt_len(cfg), 16);
	uint32_t dsdt = alloc(b, HDR_LEN + (uint32_t)sizeof(dsdt_aml), 16);
	build_facs(b, facs);
	build_fadt(b, fadt, cfg, pa(facs), pa(dsdt));
	build_madt(b, madt, cfg);
	build_dsdt(b, dsdt);
	const uint32_t tables[] = { pa(fadt), pa(madt) };
	build_rsdt_xsdt(b, rsdt, xsdt, tables, N_TABLES);
	build_rsdp(b, rsdp, pa(rsdt), pa(xsdt));
	int rc = phys_copy_in(pm, ACPI_TABLES_BASE, b->buf, b->used);
	free(b);
	if (rc)
		return -1;
	*rsdp_pa = pa(rsdp);
	return 0;
}
