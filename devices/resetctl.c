/* Port 0x92 (System Control Port A) and port 0xCF9 (Reset Control Register).
 *
 * Port 0x92, from the SMSC FDC37B78x / LPC47B27x datasheets ("Port 92 Fast
 * GateA20 and Keyboard Reset", default value 24h):
 * - bit 0 ALT_RST, read/write: writing 1 pulses the reset line; "before
 *   another pulse can be generated, this bit must be written back to 0", so
 *   only a 0->1 transition requests a reset; a system reset clears it;
 * - bit 1 ALT_A20, read/write, drives the alternate A20 gate (low at reset;
 *   the board ORs it with the 8042's A20 output);
 * - bits 7:2 reserved with fixed read values: 7:6 = 00, 5 = 1, 4 = 0,
 *   3 = 0, 2 = 1, i.e. 0x24; writes to them are ignored.
 *
 * Port 0xCF9, from the ICH10 datasheet 13.7.5 (same bits as the PIIX3/PIIX4
 * RC register): bit 1 SYS_RST (hard vs soft reset), bit 2 RST_CPU (a 0->1
 * transition starts the reset), bit 3 FULL_RST (power cycle); all three are
 * read/write, the rest reserved (read 0). The register is byte wide and
 * shares 0xCF8-0xCFB with the PCI CONFIG_ADDRESS register, which is decoded
 * only for dword accesses at 0xCF8. To tell the two apart this device owns
 * 0xCF8-0xCFB (the port bus would otherwise split a dword at 0xCF8 into byte
 * accesses and let its second byte hit RST_CNT): only a byte access at 0xCF9
 * reaches RST_CNT; every other access in the range acts as an unclaimed port
 * (reads all ones, writes dropped) because there is no PCI host bridge yet.
 */
#include "devices/resetctl.h"

#include <stdlib.h>

#define PORT92_FIXED 0x24       /* reserved bits' read value */
#define RST_CNT_RW (RST_CNT_SYS_RST | RST_CNT_RST_CPU | RST_CNT_FULL_RST)
#define PCI_CONF_BASE 0xcf8

struct resetctl {
	struct irq_line a20;
	struct power_sink power;
	uint8_t port92;         /* bits 1:0 as written */
	uint8_t rst_cnt;        /* bits 3:1 as written */
};

static void request_reset(struct resetctl *r, uint32_t value)
{
	if (r->power.fn)
		r->power.fn(r->power.opaque, POWER_RESET, value);
}

static uint64_t port92_read(void *opaque, uint64_t offset, unsigned size)
{
	const struct resetctl *r = opaque;
	return PORT92_FIXED | r->port92;
}

static void port92_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct resetctl *r = opaque;
	uint8_t old = r->port92;
	r->port92 = (uint8_t)value & (PORT92_ALT_RST | PORT92_ALT_A20);
	if ((old ^ r->port92) & PORT92_ALT_A20)
		irq_set(&r->a20, !!(r->port92 & PORT92_ALT_A20));
	if (!(old & PORT92_ALT_RST) && (r->port92 & PORT92_ALT_RST))
		request_reset(r, (uint8_t)value);
}

static const struct io_ops port92_ops = { .read = port92_read, .write = port92_write };

static bool is_rst_cnt(uint64_t offset, unsigned size)
{
	return size == 1 && offset == RESETCTL_RST_CNT - PCI_CONF_BASE;
}

static uint64_t cf8_read(void *opaque, uint64_t offset, unsigned size)
{
	const struct resetctl *r = opaque;
	if (is_rst_cnt(offset, size))
		return r->rst_cnt;
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

static void cf8_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct resetctl *r = opaque;
	if (!is_rst_cnt(offset, size))
		return;
	uint8_t old = r->rst_cnt;
	r->rst_cnt = (uint8_t)value & RST_CNT_RW;
	if (!(old & RST_CNT_RST_CPU) && (r->rst_cnt & RST_CNT_RST_CPU))
		request_reset(r, r->rst_cnt);
}

static const struct io_ops cf8_ops = { .read = cf8_read, .write = cf8_write };

/* The bus has no unregister: check every port first so a failure leaves
 * no range pointing at freed state. */
static bool ports_free(const struct pio_bus *pio)
{
	if (pio->nranges + 2 > PIO_MAX_RANGES || pio->owner[RESETCTL_PORT_A])
		return false;
	for (unsigned p = PCI_CONF_BASE; p < PCI_CONF_BASE + 4; p++) {
		if (pio->owner[p])
			return false;
	}
	return true;
}

struct resetctl *resetctl_create(struct pio_bus *pio, const struct irq_line *a20,
				 const struct power_sink *power)
{
	if (!ports_free(pio))
		return NULL;
	struct resetctl *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (a20)
		r->a20 = *a20;
	if (power)
		r->power = *power;
	if (pio_register(pio, RESETCTL_PORT_A, 1, &port92_ops, r, "port92") ||
	    pio_register(pio, PCI_CONF_BASE, 4, &cf8_ops, r, "rst_cnt")) {
		free(r);
		return NULL;
	}
	resetctl_reset(r);
	return r;
}

void resetctl_destroy(struct resetctl *r)
{
	free(r);
}

void resetctl_reset(struct resetctl *r)
{
	r->port92 = 0;
	r->rst_cnt = 0;
	irq_set(&r->a20, 0);
}

void resetctl_dump(void *opaque, FILE *out)
{
	const struct resetctl *r = opaque;
	fprintf(out, "resetctl: port 0x92=0x%02x (ALT_A20=%d) RST_CNT(0xcf9)=0x%02x\n",
		PORT92_FIXED | r->port92, !!(r->port92 & PORT92_ALT_A20), r->rst_cnt);
}
