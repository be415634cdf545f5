/* acpi: the firmware tables as an OS finds them (ACPI 6.x, chapter 5.2):
 * the RSDP on a 16-byte boundary in 0xE0000-0xFFFFF with both checksums,
 * the RSDT and XSDT listing the same tables, the FADT (PM blocks at
 * 0x600, PM timer at 0x608, SCI 9, century index, DSDT/FACS pointers),
 * the MADT (one enabled local APIC per CPU, expected count given as
 * cpus=N on the command line; the IOAPIC at 0xFEC00000 with GSI base 0;
 * ISA IRQ0 -> GSI 2; LINT1 NMI), and the PM timer counting at 3.579545 MHz
 * against the TSC.
 */
#include "guest.h"
#include "apic.h"
#include "pic.h"

#define RSDP_AREA_START 0xe0000ul
#define RSDP_AREA_END   0x100000ul
#define PM_TIMER_HZ     3579545ul
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
#define MAX_TABLES 16

struct sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision, creator_id, creator_revision;
} __attribute__((packed));

static uint64_t hz;
static const struct sdt_header *rsdt_tables[MAX_TABLES], *xsdt_tables[MAX_TABLES];
static unsigned n_rsdt, n_xsdt;

static uint8_t sum8(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *b++);
	return s;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* 5.2.5.3: "RSD PTR " on a 16-byte boundary; the first 20 bytes sum to
 * 0, and for revision 2 all `length` bytes too. */
static const uint8_t *find_rsdp(void)
{
	for (uint64_t a = RSDP_AREA_START; a < RSDP_AREA_END; a += 16) {
		const uint8_t *p = (const uint8_t *)a;
		if (!memcmp(p, "RSD PTR ", 8) && sum8(p, 20) == 0)
			return p;
	}
	return NULL;
}

static bool table_ok(const struct sdt_header *h, const char *sig)
{
	return h && !memcmp(h->signature, sig, 4) && h->length >= sizeof(*h) && h->length < 0x10000 &&
	       sum8(h, h->length) == 0;
}

/* 5.2.7 / 5.2.8: entries after the 36-byte header, 32 or 64 bits each. */
static unsigned walk(const struct sdt_header *h, unsigned width, const struct sdt_header **out)
{
	const uint8_t *p = (const uint8_t *)h + sizeof(*h);
	unsigned n = (h->length - (unsigned)sizeof(*h)) / width, kept = 0;
	bool ok = true;

	for (unsigned i = 0; i < n; i++) {
		uint64_t a = width == 8 ? rd64(p + 8 * i) : rd32(p + 4 * i);
		const struct sdt_header *t = (const struct sdt_header *)a;
		if (a >= 0x100000000ul || sum8(t, t->length) != 0) {
			ok = false;
			continue;
		}
		if (kept < MAX_TABLES)
			out[kept++] = t;
	}
	char sig[5] = { 0 };

	memcpy(sig, h->signature, 4);
	report(ok, "%s: %u entries, every table's checksum is valid", sig, n);
	return kept;
}

static const struct sdt_header *find(const struct sdt_header **list, unsigned n, const char *sig)
{
	for (unsigned i = 0; i < n; i++)
		if (!memcmp(list[i]->signature, sig, 4))
			return list[i];
	return NULL;
}

static bool check_root(void)
{
	const uint8_t *rsdp = find_rsdp();

	if (!report(rsdp != NULL, "RSDP found in 0xE0000-0xFFFFF (%p)", rsdp))
		return false;
	char oem[7] = { 0 };

	memcpy(oem, rsdp + 9, 6);
	report_info("RSDP OEM \"%s\", revision %u", oem, rsdp[15]);
	report(rsdp[15] >= 2, "RSDP revision 2 (ACPI 2.0+)");
	uint32_t len = rd32(rsdp + 20);
	report(len >= 36 && sum8(rsdp, len) == 0, "RSDP extended checksum over %u bytes", len);
	const struct sdt_header *rsdt = (const struct sdt_header *)(uint64_t)rd32(rsdp + 16);
	const struct sdt_header *xsdt = (const struct sdt_header *)rd64(rsdp + 24);
	if (!report(table_ok(rsdt, "RSDT"), "RSDT at %p: signature, length, checksum", rsdt))
		return false;
	if (!report(table_ok(xsdt, "XSDT"), "XSDT at %p: signature, length, checksum", xsdt))
		return false;
	n_rsdt = walk(rsdt, 4, rsdt_tables);
	n_xsdt = walk(xsdt, 8, xsdt_tables);
	bool same = n_rsdt == n_xsdt;
	for (unsigned i = 0; same && i < n_rsdt; i++)
		same = rsdt_tables[i] == xsdt_tables[i];
	report(same, "RSDT and XSDT list the same tables");
	return true;
}

/* 5.2.9 FADT field offsets (table "FADT Format"). */
static uint32_t check_fadt(void)
{
	const struct sdt_header *h = find(xsdt_tables, n_xsdt, "FACP");
	const uint8_t *f = (const uint8_t *)h;

	if (!report(table_ok(h, "FACP"), "FADT (FACP) listed and valid"))
		return 0;
	uint32_t flags = rd32(f + 112);
	report_eq(rd16(f + 46), 9, "FADT SCI_INT 9");
	report_eq(rd32(f + 56), 0x600, "FADT PM1a_EVT_BLK 0x600");
	report_eq(rd32(f + 64), 0x604, "FADT PM1a_CNT_BLK 0x604");
	report_eq(rd32(f + 76), 0x608, "FADT PM_TMR_BLK 0x608");
	report_eq(f[91], 4, "FADT PM_TMR_LEN 4");
	report_eq(f[108], 0x32, "FADT CENTURY: CMOS index 0x32");
	report(rd16(f + 109) & 2, "FADT IAPC_BOOT_ARCH: 8042 present");
	if (flags & FADT_RESET_REG_SUP)
		report(f[116] == 1 && rd64(f + 120) == 0xcf9 && f[128] == 6,
		       "FADT RESET_REG: I/O port 0xCF9, value 6");
	const struct sdt_header *dsdt = (const struct sdt_header *)(uint64_t)rd32(f + 40);
	if (h->length >= 148 && rd64(f + 140))
		dsdt = (const struct sdt_header *)rd64(f + 140);
	report(table_ok(dsdt, "DSDT"), "DSDT at %p: signature, checksum", dsdt);
	uint64_t facs = rd32(f + 36);
	if (h->length >= 140 && rd64(f + 132))
		facs = rd64(f + 132);
	if (facs)
		report(!memcmp((const void *)facs, "FACS", 4) && rd32((const uint8_t *)facs + 4) >= 64,
		       "FACS at %#lx: signature and length", facs);
	return flags;
}

/* 5.2.12 MADT: local APIC address, PCAT_COMPAT, then interrupt controller
 * structures (type, length, ...). */
static void check_madt(unsigned want_cpus)
{
	const struct sdt_header *h = find(xsdt_tables, n_xsdt, "APIC");
	const uint8_t *m = (const uint8_t *)h;
	uint32_t ids[64];
	unsigned ncpu = 0, nioapic = 0;
	bool iso0 = false, nmi_lint1 = false, distinct = true, self = false;
	uint32_t my_id = apic_read(APIC_ID) >> 24;

	if (!report(table_ok(h, "APIC"), "MADT (APIC) listed and valid"))
		return;
	report_eq(rd32(m + 36), APIC_MMIO_BASE, "MADT local APIC address 0xFEE00000");
	report(rd32(m + 40) & 1, "MADT flags: PCAT_COMPAT (8259 pair present)");
	for (unsigned off = 44; off + 2 <= h->length && m[off + 1] >= 2; off += m[off + 1]) {
		const uint8_t *e = m + off;
		uint32_t id = 0;
		bool cpu = false;

		switch (e[0]) {
		case 0:         /* processor local APIC */
			cpu = rd32(e + 4) & 1;
			id = e[3];
			break;
		case 9:         /* processor local x2APIC */
			cpu = rd32(e + 8) & 1;
			id = rd32(e + 4);
			break;
		case 1:         /* I/O APIC */
			nioapic++;
			report(rd32(e + 4) == IOAPIC_BASE && rd32(e + 8) == 0,
			       "MADT IOAPIC id %u at %#x, GSI base %u", e[2], rd32(e + 4), rd32(e + 8));
			report_eq(e[2], ioapic_read(IOAPIC_ID) >> 24 & 0xf, "MADT IOAPIC id matches its ID register");
			break;
		case 2:         /* interrupt source override */
			if (e[2] == 0 && e[3] == 0)
				iso0 = rd32(e + 4) == 2;
			break;
		case 4:         /* local APIC NMI */
			nmi_lint1 |= e[5] == 1;
			break;
		}
		if (!cpu)
			continue;
		for (unsigned i = 0; i < ncpu && i < ARRAY_SIZE(ids); i++)
			distinct &= ids[i] != id;
		self |= id == my_id;
		if (ncpu < ARRAY_SIZE(ids))
			ids[ncpu] = id;
		ncpu++;
	}
	report_eq(ncpu, want_cpus, "MADT lists %u enabled processors", want_cpus);
	report(distinct && self, "processor APIC ids are distinct and include the BSP's (%u)", my_id);
	report_eq(nioapic, 1, "MADT lists one IOAPIC");
	report(iso0, "MADT interrupt source override: ISA IRQ0 -> GSI 2");
	report(nmi_lint1, "MADT local APIC NMI on LINT1");
}

/* ACPI 4.8.2.1 PM timer: 3.579545 MHz, 24 bits or 32 with TMR_VAL_EXT. */
static void check_pm_timer(uint32_t fadt_flags)
{
	uint32_t mask = fadt_flags & FADT_TMR_VAL_EXT ? 0xffffffffu : 0xffffffu;
	uint64_t t1 = rdtsc();
	uint32_t v1 = inl(0x608);
	uint32_t prev = v1;
	bool monotonic = true;

	for (unsigned i = 0; i < 200; i++) {
		uint32_t v = inl(0x608);
		monotonic &= ((v - prev) & mask) < mask / 2;
		prev = v;
	}
	while (rdtsc() < t1 + hz / 100)         /* 10 ms */
		;
	uint64_t t2 = rdtsc();
	uint32_t v2 = inl(0x608);
	uint64_t ticks = (v2 - v1) & mask, want = (t2 - t1) * PM_TIMER_HZ / hz;

	report(!(v1 & ~mask), "PM timer fits its %u-bit width (%#x)", mask == 0xffffffffu ? 32 : 24, v1);
	report(monotonic && v1 != prev, "PM timer only counts up");
	report(ticks + 2 >= want && ticks <= want + 2, "PM timer: %lu ticks in %lu cycles (want %lu +-2 at 3.579545 MHz)",
	       ticks, t2 - t1, want);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbinfo;
	char arg[16];
	uint64_t want_cpus = 1;

	(void)magic;
	hz = tsc_hz();
	if (!report(hz != 0, "CPUID leaf 15H gives the TSC rate (%lu Hz)", hz))
		report_summary();
	if ((mbi->flags & MBI_CMDLINE) && cmdline_get((const char *)(uintptr_t)mbi->cmdline, "cpus", arg, sizeof(arg)))
		parse_u64(arg, &want_cpus);
	if (check_root()) {
		uint32_t flags = check_fadt();
		check_madt((unsigned)want_cpus);
		check_pm_timer(flags);
	}
	report_summary();
}
