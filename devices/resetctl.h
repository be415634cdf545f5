/* The PC's two chipset reset registers.
 *
 * Port 0x92, "System Control Port A" (PS/2; also called port 92 fast
 * GateA20 / alternate reset): bit 0 requests a fast CPU reset on a 0->1
 * write, bit 1 drives the alternate A20 gate. Port 0xCF9, the PIIX3/PIIX4/
 * ICH Reset Control Register: a 0->1 write of RST_CPU (bit 2) resets the
 * system, hard or soft as SYS_RST (bit 1) says, with a full power cycle when
 * FULL_RST (bit 3) is set.
 *
 * Both reset requests reach the machine as POWER_RESET through the power
 * sink; `value` is the register byte written (0x92: bit 0 set; 0xCF9: the
 * RST_CNT byte, so bits 1 and 3 tell hard/full resets apart).
 *
 * Ports claimed: 0x92 (1 byte) and 0xCF8-0xCFB (4 bytes, see resetctl.c:
 * only a byte access at 0xCF9 reaches RST_CNT; the PCI CONFIG_ADDRESS
 * dword at 0xCF8 does not).
 */
#ifndef DEVICES_RESETCTL_H
#define DEVICES_RESETCTL_H

#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

#define RESETCTL_PORT_A 0x92
#define RESETCTL_RST_CNT 0xcf9

/* System Control Port A bits (SMSC FDC37B78x / LPC47B27x datasheets,
 * "Port 92 Register"). */
#define PORT92_ALT_RST 0x01
#define PORT92_ALT_A20 0x02

/* Reset Control Register bits (Intel ICH10 datasheet 13.7.5, PIIX4 RC). */
#define RST_CNT_SYS_RST 0x02
#define RST_CNT_RST_CPU 0x04
#define RST_CNT_FULL_RST 0x08

struct resetctl;

/* a20 (the ALT_A20 output, level 1 = gate open) and power may be NULL; both
 * are copied. The a20 line is driven to its reset level (0) at creation.
 * NULL on allocation failure or when a port is taken. */
struct resetctl *resetctl_create(struct pio_bus *pio, const struct irq_line *a20,
				 const struct power_sink *power);
/* Frees the device; the bus must not be used afterwards. */
void resetctl_destroy(struct resetctl *r);
/* System reset: both registers read 0 in their writable bits, ALT_A20 low. */
void resetctl_reset(struct resetctl *r);
void resetctl_dump(void *opaque, FILE *out);

#endif
