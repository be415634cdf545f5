/* Intel 8042 keyboard controller with a PS/2 keyboard and a PS/2 mouse.
 *
 * Ports 0x60 (data) and 0x64 (status read / command write). The keyboard
 * takes scan-code set 2 bytes from the host (i8042_key), the controller
 * translates them to set 1 when command-byte bit 6 is set, and raises IRQ1
 * (keyboard data) or IRQ12 (mouse data) as level lines while its output
 * buffer holds such data and the command byte enables the interrupt. The
 * output port drives the A20 gate (an irq_line, level 1 = A20 enabled) and
 * the CPU reset line (a POWER_RESET request through the power sink).
 *
 * The mouse is present: it answers the PS/2 mouse command set (reset, ID,
 * status, rates, modes) but never reports movement.
 *
 * Power-on/reset state is what a PC BIOS leaves before handing over to an
 * OS loader: command byte 0x65 (keyboard interrupt on, system flag set,
 * mouse port disabled, translation on), A20 enabled, keyboard scanning in
 * set 2, status 0x14.
 */
#ifndef DEVICES_I8042_H
#define DEVICES_I8042_H

#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64
#define I8042_IRQ_KBD 1
#define I8042_IRQ_AUX 12

/* Status register (port 0x64 read), Brouwer "Keyboard scancodes" 10.1. */
#define I8042_STR_OBF 0x01      /* output buffer full */
#define I8042_STR_IBF 0x02      /* input buffer full (always 0 here) */
#define I8042_STR_SYS 0x04      /* system flag = command byte bit 2 */
#define I8042_STR_A2 0x08       /* last write was a command (port 0x64) */
#define I8042_STR_INH 0x10      /* 1 = keyboard not inhibited (keylock) */
#define I8042_STR_AUXB 0x20     /* output buffer holds mouse data */
#define I8042_STR_TIMEOUT 0x40
#define I8042_STR_PARITY 0x80

/* Controller command byte (RAM byte 0), Brouwer 10.2. */
#define I8042_CCB_KBD_INT 0x01
#define I8042_CCB_AUX_INT 0x02
#define I8042_CCB_SYS 0x04
#define I8042_CCB_KBD_DISABLE 0x10
#define I8042_CCB_AUX_DISABLE 0x20
#define I8042_CCB_XLATE 0x40

/* Output port P2, Brouwer 10.5. */
#define I8042_OUT_RESET 0x01    /* 0 = CPU held in reset */
#define I8042_OUT_A20 0x02
#define I8042_OUT_IRQ1 0x10
#define I8042_OUT_IRQ12 0x20

struct i8042;

/* Claims ports 0x60 and 0x64. irq1, irq12, a20 and power may be NULL; all
 * are copied. At creation the a20 line is driven to 1. NULL on allocation
 * failure or when a port is taken. */
struct i8042 *i8042_create(struct pio_bus *pio, const struct irq_line *irq1,
			   const struct irq_line *irq12, const struct irq_line *a20,
			   const struct power_sink *power);
/* Frees the device; the bus must not be used afterwards. */
void i8042_destroy(struct i8042 *k);
/* Back to the power-on state above (a system reset); drives A20 to 1 and
 * lowers IRQ1/IRQ12 if they were raised. */
void i8042_reset(struct i8042 *k);
/* One byte from the keyboard's key matrix, in scan-code set 2 as a keyboard
 * sends it (make 0x1c, break 0xf0 0x1c, 0xe0 prefixes). Dropped while the
 * keyboard is not scanning; on a full keyboard buffer the last slot becomes
 * the overrun code. */
void i8042_key(struct i8042 *k, uint8_t set2_byte);
void i8042_dump(void *opaque, FILE *out);

#endif
