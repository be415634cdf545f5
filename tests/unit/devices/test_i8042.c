/* devices/i8042.c: controller commands, output port (A20, reset), the
 * keyboard's command responses, set 2 -> set 1 translation, interface
 * disable bits, the mouse, and the IRQ1/IRQ12 lines. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "devices/i8042.h"

struct line {
	int level, rises, changes;
};

struct host {
	struct line irq1, irq12, a20;
	int resets;
	uint32_t reset_value;
};

static void host_line(void *opaque, int line, int level)
{
	struct line *l = opaque;
	CU_ASSERT_NOT_EQUAL(level, l->level);   /* only changes are signalled */
	if (level)
		l->rises++;
	l->level = level;
	l->changes++;
}

static void host_power(void *opaque, enum power_event ev, uint32_t value)
{
	struct host *h = opaque;
	CU_ASSERT_EQUAL(ev, POWER_RESET);
	h->resets++;
	h->reset_value = value;
}

struct rig {
	struct pio_bus *bus;
	struct i8042 *k;
	struct host h;
};

static void rig_init(struct rig *g)
{
	memset(g, 0, sizeof(*g));
	g->h.a20.level = -1;
	g->bus = malloc(sizeof(*g->bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->bus);
	pio_init(g->bus);
	struct irq_line irq1 = { host_line, &g->h.irq1, 1 };
	struct irq_line irq12 = { host_line, &g->h.irq12, 12 };
	struct irq_line a20 = { host_line, &g->h.a20, 0 };
	struct power_sink ps = { host_power, &g->h };
	g->k = i8042_create(g->bus, &irq1, &irq12, &a20, &ps);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->k);
}

static void rig_fini(struct rig *g)
{
	i8042_destroy(g->k);
	free(g->bus);
}

static uint8_t st(struct rig *g)
{
	return (uint8_t)pio_read(g->bus, 0x64, 1);
}

static uint8_t data(struct rig *g)
{
	return (uint8_t)pio_read(g->bus, 0x60, 1);
}

static void cmd(struct rig *g, uint8_t c)
{
	pio_write(g->bus, 0x64, c, 1);
}

static void put(struct rig *g, uint8_t b)
{
	pio_write(g->bus, 0x60, b, 1);
}

/* Reads n bytes, each of which must be announced by OBF, and expects the
 * buffer empty afterwards. */
static void expect(struct rig *g, const uint8_t *bytes, int n)
{
	for (int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(st(g) & I8042_STR_OBF, I8042_STR_OBF);
		CU_ASSERT_EQUAL(data(g), bytes[i]);
	}
	CU_ASSERT_EQUAL(st(g) & I8042_STR_OBF, 0);
}

#define EXPECT(g, ...) do { \
	const uint8_t want_[] = { __VA_ARGS__ }; \
	expect(g, want_, (int)sizeof(want_)); \
} while (0)

static void test_power_on(void)
{
	struct rig g;
	rig_init(&g);
	CU_ASSERT_EQUAL(st(&g), 0x14);                  /* SYS, not inhibited */
	CU_ASSERT_EQUAL(g.h.a20.level, 1);
	CU_ASSERT_EQUAL(g.h.irq1.level, 0);
	cmd(&g, 0x20);
	CU_ASSERT_EQUAL(st(&g), 0x14 | I8042_STR_A2 | I8042_STR_OBF);
	EXPECT(&g, 0x65);
	rig_fini(&g);
}

/* 0xAA answers 0x55 through the output buffer, raising IRQ1 (command byte
 * bit 0) until port 0x60 is read. */
static void test_self_test_irq(void)
{
	struct rig g;
	rig_init(&g);
	cmd(&g, 0xaa);
	CU_ASSERT_EQUAL(g.h.irq1.level, 1);
	CU_ASSERT_EQUAL(data(&g), 0x55);
	CU_ASSERT_EQUAL(g.h.irq1.level, 0);
	CU_ASSERT_EQUAL(g.h.irq1.rises, 1);
	CU_ASSERT_EQUAL(data(&g), 0x55);                /* register keeps its value */
	CU_ASSERT_EQUAL(g.h.irq1.rises, 1);
	cmd(&g, 0xab);
	EXPECT(&g, 0x00);
	cmd(&g, 0xa9);
	EXPECT(&g, 0x00);
	cmd(&g, 0xc0);
	EXPECT(&g, 0xa0);
	CU_ASSERT_EQUAL(g.h.irq12.rises, 0);
	rig_fini(&g);
}

static void test_command_byte(void)
{
	struct rig g;
	rig_init(&g);
	cmd(&g, 0x60);
	put(&g, 0x00);                                  /* no interrupts, no SYS, no xlate */
	CU_ASSERT_EQUAL(st(&g) & (I8042_STR_A2 | I8042_STR_SYS), 0);
	cmd(&g, 0x20);
	CU_ASSERT_EQUAL(g.h.irq1.level, 0);             /* bit 0 clear: polled only */
	EXPECT(&g, 0x00);
	cmd(&g, 0x60);
	put(&g, 0x47);
	cmd(&g, 0x20);
	EXPECT(&g, 0x47);
	CU_ASSERT_EQUAL(st(&g) & I8042_STR_SYS, I8042_STR_SYS);
	cmd(&g, 0x65);                                  /* other RAM bytes */
	put(&g, 0x5a);
	cmd(&g, 0x25);
	EXPECT(&g, 0x5a);
	cmd(&g, 0x60);                                  /* a new command replaces a pending one */
	cmd(&g, 0x20);
	EXPECT(&g, 0x47);
	rig_fini(&g);
}

static void test_output_port_a20(void)
{
	struct rig g;
	rig_init(&g);
	cmd(&g, 0xd0);
	EXPECT(&g, 0xcf);
	cmd(&g, 0xd1);
	put(&g, 0xcd);                                  /* A20 off, reset line kept high */
	CU_ASSERT_EQUAL(g.h.a20.level, 0);
	CU_ASSERT_EQUAL(g.h.resets, 0);
	cmd(&g, 0xd0);
	EXPECT(&g, 0xcd);
	cmd(&g, 0xdf);
	CU_ASSERT_EQUAL(g.h.a20.level, 1);
	cmd(&g, 0xdd);
	CU_ASSERT_EQUAL(g.h.a20.level, 0);
	CU_ASSERT_EQUAL(g.h.a20.changes, 4);
	i8042_reset(g.k);
	CU_ASSERT_EQUAL(g.h.a20.level, 1);
	/* IRQ bits of the output port follow the lines */
	cmd(&g, 0x60);
	put(&g, 0x03);
	cmd(&g, 0xd2);
	put(&g, 0x99);
	cmd(&g, 0xd0);                                  /* overwrites 0x99; IRQ1 was up */
	EXPECT(&g, 0xdf);
	rig_fini(&g);
}

static void test_reset_requests(void)
{
	struct rig g;
	rig_init(&g);
	cmd(&g, 0xff);                                  /* pulse nothing */
	cmd(&g, 0xfd);                                  /* pulse A20 only */
	CU_ASSERT_EQUAL(g.h.resets, 0);
	cmd(&g, 0xfe);
	CU_ASSERT_EQUAL(g.h.resets, 1);
	cmd(&g, 0xd1);
	put(&g, 0xce);                                  /* bit 0 low: reset */
	CU_ASSERT_EQUAL(g.h.resets, 2);
	CU_ASSERT_EQUAL(g.h.reset_value, 0xce);
	cmd(&g, 0x12);                                  /* unknown command: ignored */
	CU_ASSERT_EQUAL(st(&g) & I8042_STR_OBF, 0);
	rig_fini(&g);
}

/* Keyboard responses come in order, each with OBF and its own IRQ1 rise. */
static void test_keyboard_commands(void)
{
	struct rig g;
	rig_init(&g);
	put(&g, 0xff);
	CU_ASSERT_EQUAL(st(&g) & (I8042_STR_OBF | I8042_STR_A2), I8042_STR_OBF);
	EXPECT(&g, 0xfa, 0xaa);
	CU_ASSERT_EQUAL(g.h.irq1.rises, 2);
	CU_ASSERT_EQUAL(g.h.irq1.level, 0);
	put(&g, 0xee);
	EXPECT(&g, 0xee);
	put(&g, 0xf2);                                  /* translated: 0x83 -> 0x41 */
	EXPECT(&g, 0xfa, 0xab, 0x41);
	cmd(&g, 0x60);
	put(&g, 0x25);                                  /* translation off */
	put(&g, 0xf2);
	EXPECT(&g, 0xfa, 0xab, 0x83);
	put(&g, 0xed);
	put(&g, 0x07);
	EXPECT(&g, 0xfa, 0xfa);
	put(&g, 0xed);
	put(&g, 0x55);                                  /* not an LED byte */
	EXPECT(&g, 0xfa, 0xfe);
	put(&g, 0xed);
	put(&g, 0xee);                                  /* a command instead: done */
	EXPECT(&g, 0xfa, 0xee);
	put(&g, 0xf3);
	put(&g, 0x20);
	EXPECT(&g, 0xfa, 0xfa);
	put(&g, 0xf0);
	put(&g, 0x00);
	EXPECT(&g, 0xfa, 0xfa, 0x02);
	put(&g, 0xf0);
	put(&g, 0x03);                                  /* set 3 refused */
	EXPECT(&g, 0xfa, 0xfe);
	put(&g, 0xf6);
	EXPECT(&g, 0xfa);
	put(&g, 0xfe);                                  /* resend the last byte */
	EXPECT(&g, 0xfa);
	put(&g, 0x42);                                  /* unknown */
	EXPECT(&g, 0xfe);
	CU_ASSERT_EQUAL(g.h.irq1.rises, 25);
	rig_fini(&g);
}

static void test_translation(void)
{
	struct rig g;
	rig_init(&g);
	i8042_key(g.k, 0x1c);                           /* A make */
	CU_ASSERT_EQUAL(g.h.irq1.level, 1);
	EXPECT(&g, 0x1e);
	i8042_key(g.k, 0xf0);                           /* A break */
	CU_ASSERT_EQUAL(st(&g) & I8042_STR_OBF, 0);     /* the prefix is swallowed */
	i8042_key(g.k, 0x1c);
	EXPECT(&g, 0x9e);
	i8042_key(g.k, 0xe0);                           /* keypad Enter break: E0 F0 5A */
	i8042_key(g.k, 0xf0);
	i8042_key(g.k, 0x5a);
	EXPECT(&g, 0xe0, 0x9c);
	i8042_key(g.k, 0x76);                           /* Esc */
	i8042_key(g.k, 0x83);                           /* F7: one of the two upper-half entries */
	EXPECT(&g, 0x01, 0x41);
	cmd(&g, 0x60);
	put(&g, 0x25);                                  /* translation off: set 2 as sent */
	i8042_key(g.k, 0xf0);
	i8042_key(g.k, 0x1c);
	EXPECT(&g, 0xf0, 0x1c);
	put(&g, 0xf0);                                  /* keyboard itself in set 1 */
	put(&g, 0x01);
	EXPECT(&g, 0xfa, 0xfa);
	i8042_key(g.k, 0x1c);
	i8042_key(g.k, 0xf0);
	i8042_key(g.k, 0x1c);
	EXPECT(&g, 0x1e, 0x9e);
	rig_fini(&g);
}

static void test_disable_bits(void)
{
	struct rig g;
	rig_init(&g);
	cmd(&g, 0xad);                                  /* keyboard interface off */
	i8042_key(g.k, 0x1c);
	CU_ASSERT_EQUAL(st(&g) & I8042_STR_OBF, 0);     /* held in the keyboard */
	CU_ASSERT_EQUAL(g.h.irq1.level, 0);
	cmd(&g, 0x20);
	EXPECT(&g, 0x75);
	cmd(&g, 0xe0);                                  /* T0 (kbd clock) held low */
	EXPECT(&g, 0x00);
	cmd(&g, 0xae);
	CU_ASSERT_EQUAL(g.h.irq1.level, 1);
	EXPECT(&g, 0x1e);
	put(&g, 0xf5);                                  /* keyboard stops scanning */
	EXPECT(&g, 0xfa);
	i8042_key(g.k, 0x1c);
	CU_ASSERT_EQUAL(st(&g) & I8042_STR_OBF, 0);
	put(&g, 0xf4);
	EXPECT(&g, 0xfa);
	i8042_key(g.k, 0x1c);
	EXPECT(&g, 0x1e);
	cmd(&g, 0xad);                                  /* a byte for the keyboard re-enables */
	put(&g, 0xee);
	EXPECT(&g, 0xee);
	cmd(&g, 0x20);
	EXPECT(&g, 0x65);
	rig_fini(&g);
}

/* A full keyboard buffer replaces its last byte with the overrun code. */
static void test_overrun(void)
{
	struct rig g;
	rig_init(&g);
	cmd(&g, 0x60);
	put(&g, 0x24);                                  /* no IRQ, no translation */
	cmd(&g, 0xad);
	for (int i = 0; i < 20; i++)
		i8042_key(g.k, (uint8_t)(0x10 + i));
	cmd(&g, 0xae);
	for (int i = 0; i < 15; i++)
		CU_ASSERT_EQUAL(data(&g), 0x10 + i);
	EXPECT(&g, 0x00);
	CU_ASSERT_EQUAL(g.h.irq1.rises, 0);
	rig_fini(&g);
}

static void test_mouse(void)
{
	struct rig g;
	rig_init(&g);
	cmd(&g, 0xd4);
	put(&g, 0xff);                                  /* mouse port disabled: held */
	CU_ASSERT_EQUAL(st(&g) & I8042_STR_OBF, 0);
	cmd(&g, 0x60);
	put(&g, 0x47);                                  /* port on, IRQ12 on */
	CU_ASSERT_EQUAL(st(&g) & (I8042_STR_OBF | I8042_STR_AUXB), I8042_STR_OBF | I8042_STR_AUXB);
	CU_ASSERT_EQUAL(g.h.irq12.level, 1);
	CU_ASSERT_EQUAL(g.h.irq1.level, 0);
	EXPECT(&g, 0xfa, 0xaa, 0x00);
	CU_ASSERT_EQUAL(g.h.irq12.rises, 3);
	cmd(&g, 0xd4);
	put(&g, 0xf2);
	EXPECT(&g, 0xfa, 0x00);
	cmd(&g, 0xd4);
	put(&g, 0xf3);
	cmd(&g, 0xd4);
	put(&g, 200);
	cmd(&g, 0xd4);
	put(&g, 0xf4);
	cmd(&g, 0xd4);
	put(&g, 0xe9);
	EXPECT(&g, 0xfa, 0xfa, 0xfa, 0xfa, 0x20, 0x02, 200);
	cmd(&g, 0xd4);
	put(&g, 0xf3);
	cmd(&g, 0xd4);
	put(&g, 33);                                    /* not a valid rate */
	EXPECT(&g, 0xfa, 0xfe);
	cmd(&g, 0xd3);
	put(&g, 0x5c);                                  /* fake mouse byte */
	CU_ASSERT_EQUAL(st(&g) & I8042_STR_AUXB, I8042_STR_AUXB);
	EXPECT(&g, 0x5c);
	cmd(&g, 0xa7);
	cmd(&g, 0x20);
	EXPECT(&g, 0x67);
	rig_fini(&g);
}

static void test_reset_state(void)
{
	struct rig g;
	rig_init(&g);
	cmd(&g, 0x60);
	put(&g, 0x03);
	cmd(&g, 0xdd);
	cmd(&g, 0xd2);
	put(&g, 0x11);
	CU_ASSERT_EQUAL(g.h.irq1.level, 1);
	i8042_key(g.k, 0x1c);
	i8042_reset(g.k);
	CU_ASSERT_EQUAL(g.h.irq1.level, 0);
	CU_ASSERT_EQUAL(g.h.a20.level, 1);
	CU_ASSERT_EQUAL(st(&g), 0x14);
	cmd(&g, 0x20);
	EXPECT(&g, 0x65);
	FILE *null = fopen("/dev/null", "w");
	if (null) {
		i8042_dump(g.k, null);
		fclose(null);
	}
	CU_ASSERT_PTR_NULL(i8042_create(g.bus, NULL, NULL, NULL, NULL));
	rig_fini(&g);
}

void suite_dev_i8042(void)
{
	CU_pSuite s = CU_add_suite("dev_i8042", NULL, NULL);
	CU_add_test(s, "power-on status, command byte and A20", test_power_on);
	CU_add_test(s, "self test and interface tests answer with IRQ1", test_self_test_irq);
	CU_add_test(s, "command byte and RAM read/write", test_command_byte);
	CU_add_test(s, "output port drives A20; IRQ bits read back", test_output_port_a20);
	CU_add_test(s, "0xFE and output port bit 0 request a reset", test_reset_requests);
	CU_add_test(s, "keyboard command responses in order", test_keyboard_commands);
	CU_add_test(s, "set 2 -> set 1 translation of make and break", test_translation);
	CU_add_test(s, "interface and scanning disable", test_disable_bits);
	CU_add_test(s, "keyboard buffer overrun code", test_overrun);
	CU_add_test(s, "mouse commands, AUXB and IRQ12", test_mouse);
	CU_add_test(s, "reset restores the power-on state", test_reset_state);
}
