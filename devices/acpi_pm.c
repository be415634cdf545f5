/* ACPI fixed-hardware registers: PM1a_EVT, PM1a_CNT and the PM timer.
 *
 * PM1a_CNT: bit layout from the ACPI specification, "PM1 Control Registers
 * Fixed Hardware Feature Control Bits" table: SLP_EN and GBL_RLS are
 * write-only and read as 0; writing SLP_EN = 1 enters the sleep state named
 * by SLP_TYPx (bits 10-12). Only S5 with SLP_TYP = 0 is recognised: that is
 * the value QEMU's PIIX4 machine uses and the one our own DSDT publishes for
 * \_S5. Other sleep types are accepted as register writes and otherwise
 * ignored. SCI_EN reads 1 after reset: the FADT has no SMI_CMD port, so the
 * platform is always in ACPI mode and firmware would have set SCI_EN before
 * handing over (FADT SMI_CMD/ACPI_ENABLE, ACPI spec 5.2.9: "The last action
 * SMI does to relinquish ownership is to set the SCI_EN bit").
 *
 * PM1a_EVT (4.8.3.1): PM1_STS (16 bits, write 1 to clear) then PM1_EN (16
 * bits). The only status this platform produces is TMR_STS, set when the
 * timer's most significant bit (bit 31) changes (4.8.2.1). There is no SCI
 * line, so enable bits are stored and read back but raise nothing.
 *
 * PM_TMR (4.8.3.3): read-only, 32 bits (TMR_VAL_EXT), counting at 3.579545
 * MHz from simulated cycle 0: value = floor(now * 3579545 / hz) mod 2^32,
 * computed exactly in 128 bits so it never drifts. The spec makes the
 * starting value undefined; ours does not restart on a system reset.
 */
#include "devices/acpi_pm.h"

#include <stdlib.h>

#define PM1_CNT_WRITE_ONLY (ACPI_PM1_CNT_SLP_EN | ACPI_PM1_CNT_GBL_RLS)
#define PM1_EN_BITS (ACPI_PM1_EN_TMR | ACPI_PM1_EN_GBL | ACPI_PM1_EN_PWRBTN | \
		     ACPI_PM1_EN_SLPBTN | ACPI_PM1_EN_RTC)

struct acpi_pm {
	struct power_sink sink;
	struct clock *ck;
	uint16_t base;
	uint16_t cnt;           /* last written PM1a_CNT, write-only bits clear */
	uint16_t en;            /* PM1_EN */
	uint64_t tmr_epoch;     /* timer ticks >> 31 when TMR_STS was last cleared */
};

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* Timer ticks since cycle 0, not yet reduced to 32 bits. */
static uint64_t tmr_ticks(const struct acpi_pm *pm)
{
	if (!pm->ck)
		return 0;
	unsigned __int128 t = (unsigned __int128)clock_now(pm->ck) * ACPI_PM_TMR_HZ;
	return (uint64_t)(t / clock_hz(pm->ck));
}

static uint16_t pm1_sts(const struct acpi_pm *pm)
{
	return (tmr_ticks(pm) >> 31) != pm->tmr_epoch ? ACPI_PM1_STS_TMR : 0;
}

/* ---- PM1a_EVT: PM1_STS at offset 0, PM1_EN at offset 2 ---- */

static uint64_t evt_read(void *opaque, uint64_t offset, unsigned size)
{
	const struct acpi_pm *pm = opaque;
	uint32_t v = pm1_sts(pm) | (uint32_t)pm->en << 16;
	return (v >> (8 * offset)) & size_mask(size);
}

/* Each byte written lands in its register: status bits are cleared by
 * writing 1 (4.8.3.1.1), enable bits take the value. */
static void evt_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct acpi_pm *pm = opaque;
	uint32_t mask = (uint32_t)(size_mask(size) << (8 * offset));
	uint32_t v = (uint32_t)(value << (8 * offset)) & mask;
	if (v & mask & ACPI_PM1_STS_TMR)
		pm->tmr_epoch = tmr_ticks(pm) >> 31;
	if (mask >> 16) {
		uint16_t en_mask = (uint16_t)(mask >> 16);
		pm->en = (uint16_t)((pm->en & ~en_mask) | ((v >> 16) & en_mask & PM1_EN_BITS));
	}
}

static const struct io_ops evt_ops = { .read = evt_read, .write = evt_write };

/* ---- PM1a_CNT ---- */

static uint64_t cnt_read(void *opaque, uint64_t offset, unsigned size)
{
	const struct acpi_pm *pm = opaque;
	return ((uint64_t)pm->cnt >> (8 * offset)) & size_mask(size);
}

/* Byte writes update their half of the register; the sleep request is taken
 * from the register value the write produces. */
static void cnt_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
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

static const struct io_ops cnt_ops = { .read = cnt_read, .write = cnt_write };

/* ---- PM_TMR ---- */

static uint64_t tmr_read(void *opaque, uint64_t offset, unsigned size)
{
	const struct acpi_pm *pm = opaque;
	uint32_t v = (uint32_t)tmr_ticks(pm);
	return (v >> (8 * offset)) & size_mask(size);
}

static void tmr_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	/* read-only (4.8.3.3): writes are ignored */
}

static const struct io_ops tmr_ops = { .read = tmr_read, .write = tmr_write };

/* ---- Life cycle ---- */

/* The bus has no unregister: check all three ranges (base+0..5 and
 * base+8..11; base+6..7 are not ours) before claiming any. */
static bool ports_free(const struct pio_bus *bus, uint16_t base)
{
	if (bus->nranges + 3 > PIO_MAX_RANGES)
		return false;
	for (unsigned i = 0; i < ACPI_PM_TMR_OFFSET + 4; i++) {
		bool ours = i < ACPI_PM1_CNT_OFFSET + 2 || i >= ACPI_PM_TMR_OFFSET;
		if (ours && bus->owner[base + i])
			return false;
	}
	return true;
}

struct acpi_pm *acpi_pm_create(struct pio_bus *bus, uint16_t base, const struct power_sink *sink)
{
	if ((uint32_t)base + ACPI_PM_TMR_OFFSET + 4 > 0x10000 || !ports_free(bus, base))
		return NULL;
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	if (!pm)
		return NULL;
	if (sink)
		pm->sink = *sink;
	pm->base = base;
	pio_register(bus, (uint16_t)(base + ACPI_PM1_EVT_OFFSET), 4, &evt_ops, pm, "acpi-pm1a-evt");
	pio_register(bus, (uint16_t)(base + ACPI_PM1_CNT_OFFSET), 2, &cnt_ops, pm, "acpi-pm1a-cnt");
	pio_register(bus, (uint16_t)(base + ACPI_PM_TMR_OFFSET), 4, &tmr_ops, pm, "acpi-pm-tmr");
	acpi_pm_reset(pm);
	return pm;
}

void acpi_pm_attach_clock(struct acpi_pm *pm, struct clock *ck)
{
	pm->ck = ck;
	pm->tmr_epoch = tmr_ticks(pm) >> 31;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	free(pm);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	pm->cnt = ACPI_PM1_CNT_SCI_EN;
	pm->en = 0;
	pm->tmr_epoch = tmr_ticks(pm) >> 31;
}

void acpi_pm_dump(void *opaque, FILE *out)
{
	const struct acpi_pm *pm = opaque;
	fprintf(out, "acpi-pm: base %#x PM1_STS=0x%04x PM1_EN=0x%04x PM1a_CNT=0x%04x (SCI_EN=%d "
		"SLP_TYP=%u) PM_TMR=0x%08x%s\n", pm->base, pm1_sts(pm), pm->en, pm->cnt,
		pm->cnt & ACPI_PM1_CNT_SCI_EN,
		(unsigned)(pm->cnt & ACPI_PM1_CNT_SLP_TYP_MASK) >> ACPI_PM1_CNT_SLP_TYP_SHIFT,
		(uint32_t)tmr_ticks(pm), pm->ck ? "" : " (no clock)");
}
