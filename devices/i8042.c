/* Intel 8042 keyboard controller, its PS/2 keyboard and PS/2 mouse.
 *
 * Sources (section numbers are those of Andries Brouwer's "Keyboard
 * scancodes"): 9.3 set 2 -> set 1 translation table, 10.1 status register,
 * 10.2 command byte, 10.3 controller commands, 10.4/10.5 input and output
 * ports, 11 keyboard commands, 12.4 mouse commands; HelpPC "8042 Keyboard
 * Controller" (ports 0x60/0x64); IBM 101/102-key keyboard technical
 * reference ("Overrun") and the OSDev "PS/2 Keyboard" page (overrun code
 * 0x00 in set 2, 0xff in set 1).
 *
 * Model:
 * - The controller has one output register. Its own replies (command byte,
 *   self test...) are written straight into it and overwrite what it held,
 *   as HelpPC warns ("data in the output register will be overwritten").
 *   Bytes from the keyboard and the mouse wait in each device's buffer and
 *   move into the output register when it is empty and that device's
 *   interface is enabled (command byte bits 4/5 clear); the keyboard first.
 *   Transfers take no simulated time.
 * - The input buffer is consumed at once, so IBF always reads 0, and no
 *   transmission ever times out or fails parity (bits 6, 7 read 0).
 * - IRQ1 is high while the output register holds keyboard or controller
 *   data and command byte bit 0 is set; IRQ12 likewise for mouse data and
 *   bit 1 (10.2). Reading port 0x60 empties the register, which lowers the
 *   line before the next byte (if any) raises it again.
 * - Unknown controller commands are ignored, as 10.3 reports of the
 *   controllers that do not implement a vendor command; unknown keyboard
 *   and mouse commands are answered with 0xfe (11, 12.4).
 */
#include "devices/i8042.h"

#include <stdbool.h>
#include <stdlib.h>

#define PS2_BUF 16              /* keyboard buffer size (11, command 0xf4) */
#define CTRL_RAM 32             /* controller RAM bytes; byte 0 = command byte */

#define PS2_ACK 0xfa
#define PS2_RESEND 0xfe
#define PS2_BAT_OK 0xaa
#define KBD_ECHO 0xee
#define KBD_SET2_BREAK 0xf0

/* Power-on state as a BIOS leaves it (see i8042.h). Output port: keyboard
 * and mouse clock/data lines idle high, A20 on, reset line inactive. */
#define CCB_BOOT (I8042_CCB_XLATE | I8042_CCB_AUX_DISABLE | I8042_CCB_SYS | I8042_CCB_KBD_INT)
#define OUTPORT_BOOT 0xcf
/* Input port (10.4): bit 7 keyboard not locked, bit 5 no manufacturing
 * jumper; the other bits are unused on this board. */
#define INPORT_VALUE 0xa0
#define TYPEMATIC_DEFAULT 0x2b  /* 500 ms delay, 10.9 characters/s (11, 0xf3) */

/* Controller commands (10.3). */
enum {
	CMD_READ_RAM = 0x20,            /* 0x20-0x3f */
	CMD_WRITE_RAM = 0x60,           /* 0x60-0x7f */
	CMD_AUX_DISABLE = 0xa7,
	CMD_AUX_ENABLE = 0xa8,
	CMD_AUX_TEST = 0xa9,
	CMD_SELF_TEST = 0xaa,
	CMD_KBD_TEST = 0xab,
	CMD_KBD_DISABLE = 0xad,
	CMD_KBD_ENABLE = 0xae,
	CMD_READ_INPORT = 0xc0,
	CMD_READ_OUTPORT = 0xd0,
	CMD_WRITE_OUTPORT = 0xd1,
	CMD_WRITE_KBD_OBUF = 0xd2,
	CMD_WRITE_AUX_OBUF = 0xd3,
	CMD_WRITE_AUX = 0xd4,
	CMD_A20_OFF = 0xdd,
	CMD_A20_ON = 0xdf,
	CMD_READ_TEST = 0xe0,
	CMD_PULSE = 0xf0,               /* 0xf0-0xff: pulse P2 bits 3-0 low */
};

struct ps2_buf {
	uint8_t b[PS2_BUF];
	unsigned head, count;
};

struct ps2_kbd {
	struct ps2_buf q;
	uint8_t arg_for;        /* command awaiting its argument byte, 0 = none */
	uint8_t last;           /* last byte sent, for 0xfe resend */
	bool scanning;
	bool set1_break;        /* in set 1: an 0xf0 from the matrix is pending */
	uint8_t set;            /* scan-code set, 1 or 2 */
	uint8_t leds, typematic;
};

struct ps2_mouse {
	struct ps2_buf q;
	uint8_t arg_for;
	uint8_t last;
	bool reporting, remote, wrap, scale21;
	uint8_t resolution, rate;
};

struct i8042 {
	struct irq_line irq1, irq12, a20;
	struct power_sink power;
	uint8_t ram[CTRL_RAM];
	uint8_t outport;        /* P2 as written; bits 4/5 read back the IRQ lines */
	uint8_t obuf;           /* output register (keeps its value once read) */
	bool obf, obuf_aux;
	bool last_was_cmd;      /* status A2 */
	uint8_t pending;        /* controller command awaiting a data byte */
	bool xlate_break;       /* translation: an 0xf0 is pending (9.3) */
	int irq1_level, irq12_level, a20_level;
	struct ps2_kbd kbd;
	struct ps2_mouse aux;
};

/* ---- Set 2 -> set 1 translation (9.3) ---- */

static const uint8_t xlate_low[128] = {
	0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
	0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
	0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
	0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
	0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
	0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
	0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
	0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

/* The upper half is the identity except 0x83 (F7) and 0x84 (9.3). The
 * caller handles 0xf0, which the table leaves out. */
static uint8_t xlate_byte(uint8_t b)
{
	if (b < 0x80)
		return xlate_low[b];
	if (b == 0x83)
		return 0x41;
	if (b == 0x84)
		return 0x54;
	return b;
}

/* ---- Device buffers ---- */

static void buf_clear(struct ps2_buf *q)
{
	q->head = q->count = 0;
}

static void buf_push(struct ps2_buf *q, uint8_t b)
{
	if (q->count < PS2_BUF)
		q->b[(q->head + q->count++) % PS2_BUF] = b;
}

static uint8_t buf_pop(struct ps2_buf *q)
{
	uint8_t b = q->b[q->head];
	q->head = (q->head + 1) % PS2_BUF;
	q->count--;
	return b;
}

/* ---- Controller output ---- */

static uint8_t ccb(const struct i8042 *k)
{
	return k->ram[0];
}

static void set_line(const struct irq_line *line, int *cur, int level)
{
	if (*cur != level) {
		*cur = level;
		irq_set(line, level);
	}
}

static void update_irqs(struct i8042 *k)
{
	set_line(&k->irq1, &k->irq1_level, k->obf && !k->obuf_aux && (ccb(k) & I8042_CCB_KBD_INT));
	set_line(&k->irq12, &k->irq12_level, k->obf && k->obuf_aux && (ccb(k) & I8042_CCB_AUX_INT));
}

static void load_obuf(struct i8042 *k, uint8_t b, bool aux)
{
	k->obuf = b;
	k->obf = true;
	k->obuf_aux = aux;
	update_irqs(k);
}

/* One keyboard byte through the translator: false when it was an 0xf0
 * prefix, which becomes bit 7 of the next byte instead (9.3). */
static bool translate(struct i8042 *k, uint8_t *b)
{
	if (!(ccb(k) & I8042_CCB_XLATE))
		return true;
	if (*b == KBD_SET2_BREAK) {
		k->xlate_break = true;
		return false;
	}
	*b = xlate_byte(*b) | (k->xlate_break ? 0x80 : 0);
	k->xlate_break = false;
	return true;
}

/* Move device data into an empty output register. */
static void pump(struct i8042 *k)
{
	while (!k->obf) {
		if (!(ccb(k) & I8042_CCB_KBD_DISABLE) && k->kbd.q.count) {
			uint8_t b = buf_pop(&k->kbd.q);
			if (translate(k, &b))
				load_obuf(k, b, false);
		} else if (!(ccb(k) & I8042_CCB_AUX_DISABLE) && k->aux.q.count) {
			load_obuf(k, buf_pop(&k->aux.q), true);
		} else {
			break;
		}
	}
	update_irqs(k);
}

/* ---- Output port ---- */

static uint8_t outport_read(const struct i8042 *k)
{
	uint8_t v = k->outport & (uint8_t)~(I8042_OUT_IRQ1 | I8042_OUT_IRQ12);
	return v | (k->irq1_level ? I8042_OUT_IRQ1 : 0) | (k->irq12_level ? I8042_OUT_IRQ12 : 0);
}

static void request_reset(struct i8042 *k, uint32_t value)
{
	if (k->power.fn)
		k->power.fn(k->power.opaque, POWER_RESET, value);
}

/* Bit 1 gates A20; bit 0 low holds the CPU in reset (10.5, command 0xd1:
 * "writing a 0 in bit 0 will cause a hardware reset"). */
static void outport_write(struct i8042 *k, uint8_t v)
{
	k->outport = v;
	set_line(&k->a20, &k->a20_level, !!(v & I8042_OUT_A20));
	if (!(v & I8042_OUT_RESET))
		request_reset(k, v);
}

/* ---- PS/2 keyboard (11) ---- */

static void kbd_send(struct ps2_kbd *d, uint8_t b)
{
	d->last = b;
	buf_push(&d->q, b);
}

static void kbd_defaults(struct ps2_kbd *d)
{
	buf_clear(&d->q);
	d->arg_for = 0;
	d->set = 2;
	d->set1_break = false;
	d->leds = 0;
	d->typematic = TYPEMATIC_DEFAULT;
}

/* The bytes that end an argument list and start a new command (11, 0xfb). */
static bool kbd_is_command(uint8_t b)
{
	return b == 0xed || b == 0xee || b == 0xf0 || b >= 0xf2;
}

/* The argument byte of 0xed, 0xf0 or 0xf3. Returns false when the byte is a
 * command instead, which the keyboard then runs (11, 0xed: "If the second
 * byte is recognized as a command, that command is ACKed and done"). */
static bool kbd_argument(struct ps2_kbd *d, uint8_t cmd, uint8_t b)
{
	if (kbd_is_command(b))
		return false;
	if (cmd == 0xed && b < 8) {
		d->leds = b;
	} else if (cmd == 0xf3 && b < 0x80) {
		d->typematic = b;
	} else if (cmd == 0xf0 && b == 0) {
		kbd_send(d, PS2_ACK);
		kbd_send(d, d->set);
		return true;
	} else if (cmd == 0xf0 && (b == 1 || b == 2)) {
		/* Set 3 is not offered: like many keyboards (9.1), this one
		 * refuses it. */
		d->set = b;
		d->set1_break = false;
	} else {
		kbd_send(d, PS2_RESEND);
		return true;
	}
	kbd_send(d, PS2_ACK);
	return true;
}

static void kbd_command(struct ps2_kbd *d, uint8_t b)
{
	switch (b) {
	case 0xed: case 0xf0: case 0xf3:
		d->arg_for = b;
		kbd_send(d, PS2_ACK);
		break;
	case 0xee:
		kbd_send(d, KBD_ECHO);
		break;
	case 0xf2:              /* MF2 keyboard ID (9.3 "Keyboard IDs") */
		kbd_send(d, PS2_ACK);
		kbd_send(d, 0xab);
		kbd_send(d, 0x83);
		break;
	case 0xf4:
		buf_clear(&d->q);
		d->scanning = true;
		kbd_send(d, PS2_ACK);
		break;
	case 0xf5: case 0xf6:   /* defaults, then scanning off / on */
		kbd_defaults(d);
		d->scanning = b == 0xf6;
		kbd_send(d, PS2_ACK);
		break;
	case 0xf7: case 0xf8: case 0xf9: case 0xfa:
		kbd_send(d, PS2_ACK);  /* set 3 key attributes: no effect in sets 1/2 */
		break;
	case 0xfe:
		kbd_send(d, d->last);
		break;
	case 0xff:
		kbd_defaults(d);
		d->scanning = true;
		kbd_send(d, PS2_ACK);
		kbd_send(d, PS2_BAT_OK);
		break;
	default:
		kbd_send(d, PS2_RESEND);
		break;
	}
}

static void kbd_write(struct ps2_kbd *d, uint8_t b)
{
	uint8_t cmd = d->arg_for;
	d->arg_for = 0;
	if (cmd && kbd_argument(d, cmd, b))
		return;
	kbd_command(d, b);
}

/* A key event from the matrix. In set 1 the keyboard itself sends what the
 * controller's translator would make of set 2 (9.4: "Set 1 equals
 * translated Set 2"). A full buffer has its last byte replaced by the
 * overrun code (0x00 in set 2, 0xff in set 1). */
static void kbd_key(struct ps2_kbd *d, uint8_t b)
{
	if (!d->scanning)
		return;
	if (d->set == 1) {
		if (b == KBD_SET2_BREAK) {
			d->set1_break = true;
			return;
		}
		b = xlate_byte(b) | (d->set1_break ? 0x80 : 0);
		d->set1_break = false;
	}
	if (d->q.count == PS2_BUF) {
		d->q.b[(d->q.head + PS2_BUF - 1) % PS2_BUF] = d->set == 1 ? 0xff : 0x00;
		return;
	}
	buf_push(&d->q, b);
}

/* ---- PS/2 mouse (12.4) ---- */

static void aux_send(struct ps2_mouse *m, uint8_t b)
{
	m->last = b;
	buf_push(&m->q, b);
}

/* Set defaults (0xf6): 100 samples/s, 4 counts/mm, stream mode, reporting
 * off, scaling 1:1. */
static void aux_defaults(struct ps2_mouse *m)
{
	m->arg_for = 0;
	m->reporting = m->remote = m->wrap = m->scale21 = false;
	m->resolution = 2;
	m->rate = 100;
}

static bool valid_rate(uint8_t r)
{
	return r == 10 || r == 20 || r == 40 || r == 60 || r == 80 || r == 100 || r == 200;
}

static void aux_argument(struct ps2_mouse *m, uint8_t cmd, uint8_t b)
{
	bool ok = cmd == 0xe8 ? b <= 3 : valid_rate(b);
	if (ok && cmd == 0xe8)
		m->resolution = b;
	else if (ok)
		m->rate = b;
	aux_send(m, ok ? PS2_ACK : PS2_RESEND);
}

/* Status request 0xe9: status byte (bit 6 remote, 5 enabled, 4 scaling
 * 2:1, buttons released), resolution, sample rate. */
static void aux_status(struct ps2_mouse *m)
{
	aux_send(m, PS2_ACK);
	aux_send(m, (uint8_t)(m->remote << 6 | m->reporting << 5 | m->scale21 << 4));
	aux_send(m, m->resolution);
	aux_send(m, m->rate);
}

static void aux_command(struct ps2_mouse *m, uint8_t b)
{
	switch (b) {
	case 0xe6: m->scale21 = false; break;
	case 0xe7: m->scale21 = true; break;
	case 0xe8: case 0xf3: m->arg_for = b; break;
	case 0xe9: aux_status(m); return;
	case 0xea: m->remote = false; break;
	case 0xeb:              /* read data: a packet with no motion, no buttons */
		aux_send(m, PS2_ACK);
		aux_send(m, 0x08);
		aux_send(m, 0);
		aux_send(m, 0);
		return;
	case 0xec: break;       /* clear echo mode: not in it */
	case 0xee: m->wrap = true; break;
	case 0xf0: m->remote = true; break;
	case 0xf2: aux_send(m, PS2_ACK); aux_send(m, 0x00); return;
	case 0xf4: m->reporting = true; break;
	case 0xf5: m->reporting = false; break;
	case 0xf6: aux_defaults(m); break;
	case 0xfe: aux_send(m, m->last); return;
	case 0xff:
		buf_clear(&m->q);
		aux_defaults(m);
		aux_send(m, PS2_ACK);
		aux_send(m, PS2_BAT_OK);
		aux_send(m, 0x00);  /* mouse ID follows the self-test result */
		return;
	default: aux_send(m, PS2_RESEND); return;
	}
	aux_send(m, PS2_ACK);
}

/* In echo ("wrap") mode every byte comes back except 0xec and 0xff (12.1). */
static void aux_write(struct ps2_mouse *m, uint8_t b)
{
	uint8_t cmd = m->arg_for;
	m->arg_for = 0;
	if (m->wrap && b != 0xec && b != 0xff) {
		aux_send(m, b);
	} else if (m->wrap && b == 0xec) {
		m->wrap = false;
		aux_send(m, PS2_ACK);
	} else if (cmd) {
		aux_argument(m, cmd, b);
	} else {
		aux_command(m, b);
	}
}

/* ---- Controller commands (10.3) ---- */

/* Test inputs T0 (keyboard clock) and T1 (mouse clock): idle high unless
 * the interface is disabled, which holds the clock low (10.2). */
static uint8_t test_inputs(const struct i8042 *k)
{
	uint8_t t0 = ccb(k) & I8042_CCB_KBD_DISABLE ? 0 : 1;
	uint8_t t1 = ccb(k) & I8042_CCB_AUX_DISABLE ? 0 : 2;
	return t0 | t1;
}

static void set_ccb_bits(struct i8042 *k, uint8_t set, uint8_t clear)
{
	k->ram[0] = (uint8_t)((k->ram[0] | set) & ~clear);
	pump(k);
}

/* Commands that answer at once; false when cmd is not one of them. */
static bool ctrl_reply_command(struct i8042 *k, uint8_t cmd)
{
	uint8_t v;
	if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + CTRL_RAM)
		v = k->ram[cmd - CMD_READ_RAM];
	else if (cmd == CMD_AUX_TEST || cmd == CMD_KBD_TEST)
		v = 0x00;               /* interface OK */
	else if (cmd == CMD_SELF_TEST)
		v = 0x55;
	else if (cmd == CMD_READ_INPORT)
		v = INPORT_VALUE;
	else if (cmd == CMD_READ_OUTPORT)
		v = outport_read(k);
	else if (cmd == CMD_READ_TEST)
		v = test_inputs(k);
	else
		return false;
	if (cmd == CMD_SELF_TEST)       /* a passed self test sets the system flag */
		k->ram[0] |= I8042_CCB_SYS;
	load_obuf(k, v, false);
	return true;
}

static void ctrl_command(struct i8042 *k, uint8_t cmd)
{
	k->pending = 0;
	if (ctrl_reply_command(k, cmd))
		return;
	if ((cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + CTRL_RAM) ||
	    (cmd >= CMD_WRITE_OUTPORT && cmd <= CMD_WRITE_AUX)) {
		k->pending = cmd;
		return;
	}
	switch (cmd) {
	case CMD_AUX_DISABLE: set_ccb_bits(k, I8042_CCB_AUX_DISABLE, 0); break;
	case CMD_AUX_ENABLE: set_ccb_bits(k, 0, I8042_CCB_AUX_DISABLE); break;
	case CMD_KBD_DISABLE: set_ccb_bits(k, I8042_CCB_KBD_DISABLE, 0); break;
	case CMD_KBD_ENABLE: set_ccb_bits(k, 0, I8042_CCB_KBD_DISABLE); break;
	case CMD_A20_OFF: outport_write(k, k->outport & (uint8_t)~I8042_OUT_A20); break;
	case CMD_A20_ON: outport_write(k, k->outport | I8042_OUT_A20); break;
	default:
		/* 0xf0-0xff pulse the P2 bits whose command bit is 0 for ~6 us;
		 * only the reset line (bit 0) has a lasting effect. */
		if (cmd >= CMD_PULSE && !(cmd & I8042_OUT_RESET))
			request_reset(k, cmd);
		break;
	}
}

/* The data byte of a pending controller command. */
static void ctrl_data(struct i8042 *k, uint8_t cmd, uint8_t v)
{
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + CTRL_RAM) {
		k->ram[cmd - CMD_WRITE_RAM] = v;
		pump(k);
	} else if (cmd == CMD_WRITE_OUTPORT) {
		outport_write(k, v);
	} else if (cmd == CMD_WRITE_KBD_OBUF || cmd == CMD_WRITE_AUX_OBUF) {
		load_obuf(k, v, cmd == CMD_WRITE_AUX_OBUF);
	} else {
		aux_write(&k->aux, v);
		pump(k);
	}
}

/* ---- Ports ---- */

static uint8_t status(const struct i8042 *k)
{
	uint8_t s = I8042_STR_INH;
	s |= k->obf ? I8042_STR_OBF : 0;
	s |= ccb(k) & I8042_CCB_SYS ? I8042_STR_SYS : 0;
	s |= k->last_was_cmd ? I8042_STR_A2 : 0;
	s |= k->obf && k->obuf_aux ? I8042_STR_AUXB : 0;
	return s;
}

/* Port 0x60 read: the output register, which keeps its last value once
 * read. */
static uint64_t data_read(void *opaque, uint64_t offset, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v = k->obuf;
	if (k->obf) {
		k->obf = false;
		update_irqs(k);
		pump(k);
	}
	return v;
}

/* Port 0x60 write: the data byte of a pending controller command, else a
 * byte for the keyboard, which re-enables the keyboard interface (10.3,
 * 0xad: "Any keyboard command enables the keyboard again"). */
static void data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct i8042 *k = opaque;
	uint8_t v = (uint8_t)value;
	uint8_t cmd = k->pending;
	k->last_was_cmd = false;
	k->pending = 0;
	if (cmd) {
		ctrl_data(k, cmd, v);
		return;
	}
	k->ram[0] &= (uint8_t)~I8042_CCB_KBD_DISABLE;
	kbd_write(&k->kbd, v);
	pump(k);
}

static uint64_t cmd_read(void *opaque, uint64_t offset, unsigned size)
{
	return status(opaque);
}

static void cmd_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct i8042 *k = opaque;
	k->last_was_cmd = true;
	ctrl_command(k, (uint8_t)value);
}

static const struct io_ops data_ops = { .read = data_read, .write = data_write };
static const struct io_ops cmd_ops = { .read = cmd_read, .write = cmd_write };

/* ---- Life cycle ---- */

struct i8042 *i8042_create(struct pio_bus *pio, const struct irq_line *irq1,
			   const struct irq_line *irq12, const struct irq_line *a20,
			   const struct power_sink *power)
{
	if (pio->nranges + 2 > PIO_MAX_RANGES || pio->owner[I8042_DATA_PORT] ||
	    pio->owner[I8042_CMD_PORT])
		return NULL;
	struct i8042 *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	if (irq1)
		k->irq1 = *irq1;
	if (irq12)
		k->irq12 = *irq12;
	if (a20)
		k->a20 = *a20;
	if (power)
		k->power = *power;
	k->a20_level = -1;              /* unknown: reset drives it */
	pio_register(pio, I8042_DATA_PORT, 1, &data_ops, k, "i8042-data");
	pio_register(pio, I8042_CMD_PORT, 1, &cmd_ops, k, "i8042-cmd");
	i8042_reset(k);
	return k;
}

void i8042_destroy(struct i8042 *k)
{
	free(k);
}

void i8042_reset(struct i8042 *k)
{
	for (unsigned i = 0; i < CTRL_RAM; i++)
		k->ram[i] = 0;
	k->ram[0] = CCB_BOOT;
	k->obuf = 0;
	k->obf = k->obuf_aux = k->last_was_cmd = k->xlate_break = false;
	k->pending = 0;
	kbd_defaults(&k->kbd);
	k->kbd.scanning = true;
	k->kbd.last = 0;
	buf_clear(&k->aux.q);
	aux_defaults(&k->aux);
	k->aux.last = 0;
	update_irqs(k);
	k->outport = OUTPORT_BOOT;
	set_line(&k->a20, &k->a20_level, 1);
}

void i8042_key(struct i8042 *k, uint8_t set2_byte)
{
	kbd_key(&k->kbd, set2_byte);
	pump(k);
}

void i8042_dump(void *opaque, FILE *out)
{
	const struct i8042 *k = opaque;
	fprintf(out, "i8042: status=0x%02x ccb=0x%02x outport=0x%02x obuf=0x%02x%s pending=0x%02x "
		"IRQ1=%d IRQ12=%d A20=%d\n", status(k), ccb(k), outport_read(k), k->obuf,
		k->obf ? (k->obuf_aux ? " (aux)" : " (kbd)") : " (empty)", k->pending,
		k->irq1_level, k->irq12_level, k->a20_level);
	fprintf(out, "  keyboard: %s set %u leds=%u typematic=0x%02x buffered=%u\n",
		k->kbd.scanning ? "scanning" : "disabled", k->kbd.set, k->kbd.leds,
		k->kbd.typematic, k->kbd.q.count);
	fprintf(out, "  mouse: %s %s%s rate=%u res=%u buffered=%u\n",
		k->aux.reporting ? "reporting" : "disabled", k->aux.remote ? "remote" : "stream",
		k->aux.wrap ? " wrap" : "", k->aux.rate, k->aux.resolution, k->aux.q.count);
}
