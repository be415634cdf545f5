/* devices/acpi_tables.c: build the tables into guest RAM, then find and
 * parse them as an OS would (RSDP scan, checksums, RSDT/XSDT pointers,
 * FADT fields, every MADT entry, DSDT \_S5). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "devices/acpi_tables.h"

#define RAM (2u << 20)

struct guest {
	struct phys_map pm;
};

static uint8_t rd8(struct guest *g, uint64_t pa)
{
	uint8_t v = 0;
	CU_ASSERT_EQUAL(phys_copy_out(&g->pm, pa, &v, 1), 0);
	return v;
}

static uint16_t rd16(struct guest *g, uint64_t pa)
{
	return (uint16_t)(rd8(g, pa) | rd8(g, pa + 1) << 8);
}

static uint32_t rd32(struct guest *g, uint64_t pa)
{
	return rd16(g, pa) | (uint32_t)rd16(g, pa + 2) << 16;
}

static uint64_t rd64(struct guest *g, uint64_t pa)
{
	return rd32(g, pa) | (uint64_t)rd32(g, pa + 4) << 32;
}

static bool sig_is(struct guest *g, uint64_t pa, const char *sig)
{
	char s[9] = { 0 };
	size_t n = strlen(sig);
	CU_ASSERT_EQUAL(phys_copy_out(&g->pm, pa, s, n), 0);
	return memcmp(s, sig, n) == 0;
}

static uint8_t sum(struct guest *g, uint64_t pa, uint32_t len)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + rd8(g, pa + i));
	return s;
}

/* A table inside our range with the signature, a zero checksum and the
 * revision; returns its length. */
static uint32_t check_table(struct guest *g, uint64_t pa, const char *sig, uint8_t rev)
{
	CU_ASSERT(pa >= ACPI_TABLES_BASE && pa < ACPI_TABLES_BASE + ACPI_TABLES_SIZE);
	CU_ASSERT_EQUAL(pa % 16, 0);
	CU_ASSERT(sig_is(g, pa, sig));
	uint32_t len = rd32(g, pa + 4);
	CU_ASSERT(len >= 36 && pa + len <= ACPI_TABLES_BASE + ACPI_TABLES_SIZE);
	CU_ASSERT_EQUAL(rd8(g, pa + 8), rev);
	CU_ASSERT_EQUAL(sum(g, pa, len), 0);
	CU_ASSERT(sig_is(g, pa + 10, "VTXSIM"));
	return len;
}

/* The OS's search: 16-byte boundaries of 0xE0000-0xFFFFF. */
static uint64_t scan_rsdp(struct guest *g)
{
	for (uint64_t pa = 0xe0000; pa < 0x100000; pa += 16) {
		if (sig_is(g, pa, "RSD PTR ") && sum(g, pa, 20) == 0)
			return pa;
	}
	return 0;
}

static void check_fadt(struct guest *g, uint64_t fadt)
{
	CU_ASSERT_EQUAL(check_table(g, fadt, "FACP", 6), 276);
	CU_ASSERT_EQUAL(rd8(g, fadt + 131), 0);                 /* minor version */
	uint32_t facs = rd32(g, fadt + 36), dsdt = rd32(g, fadt + 40);
	CU_ASSERT_EQUAL(rd64(g, fadt + 132), facs);
	CU_ASSERT_EQUAL(rd64(g, fadt + 140), dsdt);
	CU_ASSERT_EQUAL(facs % 64, 0);
	CU_ASSERT(sig_is(g, facs, "FACS"));
	CU_ASSERT_EQUAL(rd32(g, facs + 4), 64);
	CU_ASSERT_EQUAL(rd8(g, facs + 32), 2);
	CU_ASSERT_EQUAL(rd16(g, fadt + 46), 9);                 /* SCI_INT */
	CU_ASSERT_EQUAL(rd32(g, fadt + 48), 0);                 /* SMI_CMD: none */
	CU_ASSERT_EQUAL(rd32(g, fadt + 56), 0x600);
	CU_ASSERT_EQUAL(rd32(g, fadt + 64), 0x604);
	CU_ASSERT_EQUAL(rd32(g, fadt + 76), 0x608);
	CU_ASSERT_EQUAL(rd8(g, fadt + 88), 4);
	CU_ASSERT_EQUAL(rd8(g, fadt + 89), 2);
	CU_ASSERT_EQUAL(rd8(g, fadt + 91), 4);
	CU_ASSERT_EQUAL(rd8(g, fadt + 108), 0x32);              /* CENTURY */
	CU_ASSERT_EQUAL(rd16(g, fadt + 109), ACPI_BOOT_LEGACY_DEVICES | ACPI_BOOT_8042);
	uint32_t flags = rd32(g, fadt + 112);
	CU_ASSERT_EQUAL(flags & (ACPI_FADT_TMR_VAL_EXT | ACPI_FADT_RESET_REG_SUP),
			ACPI_FADT_TMR_VAL_EXT | ACPI_FADT_RESET_REG_SUP);
	CU_ASSERT_EQUAL(rd8(g, fadt + 116), 1);                 /* RESET_REG: system I/O */
	CU_ASSERT_EQUAL(rd8(g, fadt + 117), 8);
	CU_ASSERT_EQUAL(rd64(g, fadt + 120), 0xcf9);
	CU_ASSERT_EQUAL(rd8(g, fadt + 128), 6);
	CU_ASSERT_EQUAL(rd64(g, fadt + 148 + 4), 0x600);        /* X_PM1a_EVT_BLK */
	CU_ASSERT_EQUAL(rd8(g, fadt + 148 + 1), 32);
	CU_ASSERT_EQUAL(rd64(g, fadt + 172 + 4), 0x604);        /* X_PM1a_CNT_BLK */
	CU_ASSERT_EQUAL(rd8(g, fadt + 172 + 1), 16);
	CU_ASSERT_EQUAL(rd64(g, fadt + 208 + 4), 0x608);        /* X_PM_TMR_BLK */
	CU_ASSERT_EQUAL(rd8(g, fadt + 208 + 1), 32);
	/* DSDT: Name (_S5, Package (4) { 0, 0, 0, 0 }) */
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0 };
	uint8_t body[sizeof(s5)];
	CU_ASSERT_EQUAL(check_table(g, dsdt, "DSDT", 2), 36 + sizeof(s5));
	CU_ASSERT_EQUAL(phys_copy_out(&g->pm, dsdt + 36, body, sizeof(body)), 0);
	CU_ASSERT_EQUAL(memcmp(body, s5, sizeof(s5)), 0);
}

struct madt_count {
	unsigned cpus, ioapics, isos, nmis;
	bool iso0, iso9;
};

static void madt_entry(struct guest *g, uint64_t p, unsigned ncpus, struct madt_count *c)
{
	uint8_t type = rd8(g, p), len = rd8(g, p + 1);
	static const uint8_t want_len[] = { 8, 12, 10, 0, 6 };
	CU_ASSERT_FATAL(type <= 4 && type != 3);
	CU_ASSERT_EQUAL(len, want_len[type]);
	if (type == 0) {
		CU_ASSERT_EQUAL(rd8(g, p + 2), c->cpus);        /* processor UID */
		CU_ASSERT_EQUAL(rd8(g, p + 3), c->cpus);        /* APIC id */
		CU_ASSERT_EQUAL(rd32(g, p + 4), 1);             /* enabled */
		c->cpus++;
	} else if (type == 1) {
		CU_ASSERT_EQUAL(rd8(g, p + 2), 0);
		CU_ASSERT_EQUAL(rd32(g, p + 4), 0xfec00000u);
		CU_ASSERT_EQUAL(rd32(g, p + 8), 0);
		CU_ASSERT_EQUAL(c->cpus, ncpus);                /* after every CPU */
		c->ioapics++;
	} else if (type == 2) {
		CU_ASSERT_EQUAL(rd8(g, p + 2), 0);              /* ISA */
		uint8_t src = rd8(g, p + 3);
		uint32_t gsi = rd32(g, p + 4);
		uint16_t flags = rd16(g, p + 8);
		c->iso0 |= src == 0 && gsi == 2 && flags == 0;
		c->iso9 |= src == 9 && gsi == 9 && flags == 0x000d;
		c->isos++;
	} else {
		CU_ASSERT_EQUAL(rd8(g, p + 2), 0xff);           /* all processors */
		CU_ASSERT_EQUAL(rd8(g, p + 5), 1);              /* LINT1 */
		c->nmis++;
	}
}

static void check_madt(struct guest *g, uint64_t madt, unsigned ncpus)
{
	uint32_t len = check_table(g, madt, "APIC", 4);
	CU_ASSERT_EQUAL(len, 36 + 8 + 8 * ncpus + 12 + 2 * 10 + 6);
	CU_ASSERT_EQUAL(rd32(g, madt + 36), 0xfee00000u);
	CU_ASSERT_EQUAL(rd32(g, madt + 40), 1);                 /* PCAT_COMPAT */
	struct madt_count c = { 0 };
	uint64_t p = madt + 44;
	while (p < madt + len) {
		madt_entry(g, p, ncpus, &c);
		p += rd8(g, p + 1);
	}
	CU_ASSERT_EQUAL(p, madt + len);                         /* entries fill it exactly */
	CU_ASSERT_EQUAL(c.cpus, ncpus);
	CU_ASSERT_EQUAL(c.ioapics, 1);
	CU_ASSERT_EQUAL(c.isos, 2);
	CU_ASSERT(c.iso0 && c.iso9);
	CU_ASSERT_EQUAL(c.nmis, 1);
}

static void check_machine(unsigned ncpus)
{
	struct guest g;
	struct acpi_config cfg;
	uint64_t rsdp_pa = 0;
	CU_ASSERT_EQUAL_FATAL(phys_init(&g.pm, RAM), 0);
	acpi_config_pc(&cfg, ncpus);
	CU_ASSERT_EQUAL_FATAL(acpi_build_tables(&g.pm, &cfg, &rsdp_pa), 0);
	uint64_t rsdp = scan_rsdp(&g);
	CU_ASSERT_EQUAL_FATAL(rsdp, rsdp_pa);
	CU_ASSERT_EQUAL(rd8(&g, rsdp + 15), 2);                 /* revision */
	CU_ASSERT_EQUAL(rd32(&g, rsdp + 20), 36);
	CU_ASSERT_EQUAL(sum(&g, rsdp, 36), 0);                  /* extended checksum */
	uint64_t rsdt = rd32(&g, rsdp + 16), xsdt = rd64(&g, rsdp + 24);
	CU_ASSERT_EQUAL(check_table(&g, rsdt, "RSDT", 1), 36 + 2 * 4);
	CU_ASSERT_EQUAL(check_table(&g, xsdt, "XSDT", 1), 36 + 2 * 8);
	for (unsigned i = 0; i < 2; i++)
		CU_ASSERT_EQUAL(rd64(&g, xsdt + 36 + 8 * i), rd32(&g, rsdt + 36 + 4 * i));
	uint64_t fadt = rd64(&g, xsdt + 36), madt = rd64(&g, xsdt + 44);
	check_fadt(&g, fadt);
	check_madt(&g, madt, ncpus);
	phys_destroy(&g.pm);
}

static void test_one_cpu(void)
{
	check_machine(1);
}

static void test_eight_cpus(void)
{
	check_machine(8);
}

static void test_max_cpus(void)
{
	check_machine(ACPI_MAX_CPUS);
}

static void test_bad_config(void)
{
	struct guest g;
	struct acpi_config cfg;
	uint64_t rsdp_pa = 0x1234;
	CU_ASSERT_EQUAL_FATAL(phys_init(&g.pm, RAM), 0);
	acpi_config_pc(&cfg, 4);
	cfg.ncpus = 0;
	CU_ASSERT_EQUAL(acpi_build_tables(&g.pm, &cfg, &rsdp_pa), -1);
	cfg.ncpus = ACPI_MAX_CPUS + 1;
	CU_ASSERT_EQUAL(acpi_build_tables(&g.pm, &cfg, &rsdp_pa), -1);
	acpi_config_pc(&cfg, 1000);                             /* clamped */
	CU_ASSERT_EQUAL(cfg.ncpus, ACPI_MAX_CPUS);
	CU_ASSERT_EQUAL(rsdp_pa, 0x1234);
	CU_ASSERT_EQUAL(scan_rsdp(&g), 0);                      /* nothing written */
	phys_destroy(&g.pm);
	CU_ASSERT_EQUAL_FATAL(phys_init(&g.pm, 512u << 10), 0); /* no RAM at 0xE0000 */
	CU_ASSERT_EQUAL(acpi_build_tables(&g.pm, &cfg, &rsdp_pa), -1);
	phys_destroy(&g.pm);
}

void suite_dev_acpi_tables(void)
{
	CU_pSuite s = CU_add_suite("dev_acpi_tables", NULL, NULL);
	CU_add_test(s, "tables for 1 CPU parse back", test_one_cpu);
	CU_add_test(s, "tables for 8 CPUs parse back", test_eight_cpus);
	CU_add_test(s, "tables for the most CPUs fit their range", test_max_cpus);
	CU_add_test(s, "bad configurations and missing RAM fail", test_bad_config);
}
