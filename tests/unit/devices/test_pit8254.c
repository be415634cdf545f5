/* 8254 PIT and port 0x61, driven through the ports with the simulated clock.
 *
 * Most tests run the CPU clock at 2.1 GHz, where one PIT tick (88/105 us)
 * is exactly 1760 cycles, so expected cycles are plain numbers; others use
 * 3 GHz (2514.28... cycles per tick) to check the rounding. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pit8254.h"
#include "sim/clock.h"

#define HZ_EXACT 2100000000ull
#define CPT 1760ull             /* cycles per tick at HZ_EXACT */

struct irq_log {
	struct clock *ck;
	int level;
	int rises, falls;
	uint64_t rise_at[64], fall_at[64];
	uint64_t last_rise;
};

static void irq_rec(void *opaque, int line, int level)
{
	struct irq_log *l = opaque;
	(void)line;
	if (level && !l->level) {
		if (l->rises < 64)
			l->rise_at[l->rises] = clock_now(l->ck);
		l->rises++;
		l->last_rise = clock_now(l->ck);
	} else if (!level && l->level) {
		if (l->falls < 64)
			l->fall_at[l->falls] = clock_now(l->ck);
		l->falls++;
	}
	l->level = level;
}

struct rig {
	struct pio_bus *bus;
	struct clock ck;
	struct irq_log log;
	struct pit *pit;
};

static void rig_open(struct rig *r, uint64_t hz)
{
	memset(r, 0, sizeof(*r));
	r->bus = calloc(1, sizeof(*r->bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->bus);
	pio_init(r->bus);
	CU_ASSERT_EQUAL_FATAL(clock_init(&r->ck, hz), 0);
	r->log.ck = &r->ck;
	r->log.level = -1;
	struct irq_line irq0 = { irq_rec, &r->log, 0 };
	r->pit = pit_create(r->bus, &r->ck, &irq0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->pit);
}

static void rig_close(struct rig *r)
{
	pit_destroy(r->pit);
	clock_destroy(&r->ck);
	free(r->bus);
}

/* Forget what reset did to irq0. */
static void log_clear(struct rig *r)
{
	int level = r->log.level;
	memset(&r->log, 0, sizeof(r->log));
	r->log.ck = &r->ck;
	r->log.level = level;
}

static void at(struct rig *r, uint64_t cycle)
{
	clock_run_until(&r->ck, cycle);
}

static void out8(struct rig *r, uint16_t port, uint8_t v)
{
	pio_write(r->bus, port, v, 1);
}

static uint8_t in8(struct rig *r, uint16_t port)
{
	return (uint8_t)pio_read(r->bus, port, 1);
}

static void write_count(struct rig *r, int counter, uint16_t n)
{
	out8(r, (uint16_t)(0x40 + counter), (uint8_t)n);
	out8(r, (uint16_t)(0x40 + counter), (uint8_t)(n >> 8));
}

static uint16_t read_count(struct rig *r, int counter)
{
	uint16_t lo = in8(r, (uint16_t)(0x40 + counter));
	return (uint16_t)(lo | in8(r, (uint16_t)(0x40 + counter)) << 8);
}

/* Reference conversion for 3 GHz: first cycle of tick k. */
static uint64_t cycle_of_3g(uint64_t k)
{
	unsigned __int128 num = (unsigned __int128)k * 88 * 3000000000ull;
	return (uint64_t)((num + 104999999) / 105000000);
}

/* Mode 2, N = 1000, written at cycle 5000 (tick 2 at 2.1 GHz): loaded at
 * tick 3, rising edges at ticks 3 + 1000k, one-tick low pulses before. */
static void test_mode2_exact(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	at(&r, 5000);
	out8(&r, 0x43, 0x34);
	write_count(&r, 0, 1000);
	log_clear(&r);
	at(&r, 3 * CPT + 1000 * CPT * 3 + 1);
	CU_ASSERT_EQUAL(r.log.rises, 3);
	CU_ASSERT_EQUAL(r.log.falls, 3);
	CU_ASSERT_EQUAL(r.log.fall_at[0], (3 + 999) * CPT);
	CU_ASSERT_EQUAL(r.log.rise_at[0], (3 + 1000) * CPT);
	CU_ASSERT_EQUAL(r.log.rise_at[1], (3 + 2000) * CPT);
	CU_ASSERT_EQUAL(r.log.rise_at[2], (3 + 3000) * CPT);
	CU_ASSERT_EQUAL(r.log.level, 1);
	rig_close(&r);
}

/* At 3 GHz ticks are fractional: edges land on ceil(tick * 88 * hz / 105e6)
 * with no drift after many periods. */
static void test_mode2_no_drift(void)
{
	struct rig r;
	rig_open(&r, 3000000000ull);
	at(&r, 0);
	out8(&r, 0x43, 0x34);
	write_count(&r, 0, 1193);       /* loaded at tick 1 */
	log_clear(&r);
	at(&r, cycle_of_3g(1 + 1193 * 5000ull));
	CU_ASSERT_EQUAL(r.log.rises, 5000);
	CU_ASSERT_EQUAL(r.log.rise_at[0], cycle_of_3g(1 + 1193));
	CU_ASSERT_EQUAL(r.log.rise_at[1], cycle_of_3g(1 + 2 * 1193));
	CU_ASSERT_EQUAL(r.log.rise_at[0], 3002058u);    /* ceil(1194 * 17600 / 7) */
	CU_ASSERT_EQUAL(r.log.last_rise, cycle_of_3g(1 + 1193 * 5000ull));
	rig_close(&r);
}

/* Counter latch command and live reads against the formula. */
static void test_latch_read(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	out8(&r, 0x43, 0x74);                   /* counter 1, mode 2 */
	write_count(&r, 1, 1000);               /* at tick 0: loaded at tick 1 */
	at(&r, 101 * CPT + 5);                  /* tick 101: 100 CLKs after load */
	CU_ASSERT_EQUAL(read_count(&r, 1), 900);
	out8(&r, 0x43, 0x40);                   /* latch counter 1 */
	at(&r, 400 * CPT);
	out8(&r, 0x43, 0x40);                   /* ignored: latch still unread */
	CU_ASSERT_EQUAL(read_count(&r, 1), 900);
	CU_ASSERT_EQUAL(read_count(&r, 1), 601); /* live again: tick 400 */
	at(&r, 1001 * CPT);
	CU_ASSERT_EQUAL(read_count(&r, 1), 1000);    /* reloaded at tick 1001 */
	at(&r, 1000 * CPT + 1000 * CPT);
	CU_ASSERT_EQUAL(read_count(&r, 1), 1);       /* the low tick */
	/* LSB-only and MSB-only access. */
	out8(&r, 0x43, 0x54);                   /* counter 1, LSB, mode 2 */
	out8(&r, 0x41, 200);
	at(&r, 2000 * CPT + 11 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x41), 190);
	out8(&r, 0x43, 0x64);                   /* counter 1, MSB, mode 2: N = 0x200 */
	out8(&r, 0x41, 0x02);
	at(&r, 2011 * CPT + 257 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x41), 0x01);   /* 512 - 256 = 0x100 */
	CU_ASSERT_EQUAL(in8(&r, 0x43), 0);      /* control port is write-only */
	rig_close(&r);
}

/* Mode 0: OUT low from the control word, high N + 1 CLKs after the count
 * write, and high for good while the counter wraps. */
static void test_mode0(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	at(&r, 10 * CPT);
	out8(&r, 0x43, 0x30);
	CU_ASSERT_EQUAL(r.log.level, 0);
	log_clear(&r);
	write_count(&r, 0, 100);                /* tick 10: loaded at 11 */
	at(&r, 110 * CPT);
	CU_ASSERT_EQUAL(r.log.level, 0);
	CU_ASSERT_EQUAL(read_count(&r, 0), 1);
	at(&r, 200000 * CPT);
	CU_ASSERT_EQUAL(r.log.rises, 1);
	CU_ASSERT_EQUAL(r.log.rise_at[0], 111 * CPT);
	CU_ASSERT_EQUAL(r.log.falls, 0);
	at(&r, 116 * CPT + 200000 * CPT);
	/* tick 200116: 200105 CLKs after load, wrapped twice past 0 */
	CU_ASSERT_EQUAL(read_count(&r, 0), (uint16_t)(100 - 200105));
	/* The first byte of a new count stops it and drives OUT low. */
	out8(&r, 0x40, 50);
	CU_ASSERT_EQUAL(r.log.level, 0);
	out8(&r, 0x40, 0);
	at(&r, 116 * CPT + 200000 * CPT + 51 * CPT);
	CU_ASSERT_EQUAL(r.log.rises, 2);
	CU_ASSERT_EQUAL(r.log.rise_at[1], (200116 + 51) * CPT);
	rig_close(&r);
}

/* Mode 4: one low tick at o + N. */
static void test_mode4(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	out8(&r, 0x43, 0x38);
	CU_ASSERT_EQUAL(r.log.level, 1);
	log_clear(&r);
	write_count(&r, 0, 20);                 /* tick 0, loaded at 1 */
	at(&r, 100000 * CPT);
	CU_ASSERT_EQUAL(r.log.falls, 1);
	CU_ASSERT_EQUAL(r.log.rises, 1);
	CU_ASSERT_EQUAL(r.log.fall_at[0], 21 * CPT);
	CU_ASSERT_EQUAL(r.log.rise_at[0], 22 * CPT);
	rig_close(&r);
}

/* Mode 3 on counter 2: the square wave seen at port 0x61 bit 5. */
static void test_mode3_port61(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	out8(&r, 0x43, 0xB6);                   /* counter 2, word, mode 3 */
	write_count(&r, 2, 10);
	at(&r, 5 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0x20);    /* gate low: OUT high, no count */
	out8(&r, 0x61, 0x03);                   /* gate on at tick 5: loaded at 6 */
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x0F, 0x03);
	static const struct { uint64_t tick; int out; uint16_t count; } even[] = {
		{ 6, 1, 10 }, { 7, 1, 8 }, { 10, 1, 2 }, { 11, 0, 10 }, { 15, 0, 2 },
		{ 16, 1, 10 }, { 21, 0, 10 }, { 26, 1, 10 },
	};
	for (unsigned i = 0; i < sizeof(even) / sizeof(even[0]); i++) {
		at(&r, even[i].tick * CPT);
		CU_ASSERT_EQUAL((in8(&r, 0x61) >> 5) & 1, even[i].out);
		out8(&r, 0x43, 0x80);
		CU_ASSERT_EQUAL(read_count(&r, 2), even[i].count);
	}
	/* Odd N = 7 (written at tick 26 = a period end: takes effect at the end
	 * of the current half, tick 31): high 4 ticks, low 3. */
	write_count(&r, 2, 7);
	static const struct { uint64_t tick; int out; uint16_t count; } odd[] = {
		{ 30, 1, 2 }, { 31, 0, 6 }, { 32, 0, 4 }, { 33, 0, 2 }, { 34, 1, 6 },
		{ 36, 1, 2 }, { 37, 1, 0 }, { 38, 0, 6 }, { 41, 1, 6 },
	};
	for (unsigned i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		at(&r, odd[i].tick * CPT);
		CU_ASSERT_EQUAL((in8(&r, 0x61) >> 5) & 1, odd[i].out);
		out8(&r, 0x43, 0x80);
		CU_ASSERT_EQUAL(read_count(&r, 2), odd[i].count);
	}
	/* Gate low forces OUT high at once and stops; gate high reloads. */
	at(&r, 45 * CPT);                      /* r = 4: low half */
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0);
	out8(&r, 0x61, 0x02);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x23, 0x22);
	at(&r, 100 * CPT);
	out8(&r, 0x61, 0x01);                   /* reload at tick 101 */
	at(&r, 101 * CPT + 4 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0);
	at(&r, 101 * CPT + 7 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0x20);
	rig_close(&r);
}

/* Counter 0 in mode 3 from IRQ0's point of view, odd count. */
static void test_mode3_irq0(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	out8(&r, 0x43, 0x36);
	write_count(&r, 0, 5);                  /* loaded at tick 1 */
	log_clear(&r);
	at(&r, 11 * CPT);
	CU_ASSERT_EQUAL(r.log.falls, 2);
	CU_ASSERT_EQUAL(r.log.fall_at[0], 4 * CPT);     /* high 3 ticks */
	CU_ASSERT_EQUAL(r.log.rise_at[0], 6 * CPT);     /* low 2 */
	CU_ASSERT_EQUAL(r.log.fall_at[1], 9 * CPT);
	CU_ASSERT_EQUAL(r.log.rise_at[1], 11 * CPT);
	rig_close(&r);
}

/* Mode 2: a count written mid-period starts at the period's end. */
static void test_mode2_reprogram(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	out8(&r, 0x43, 0x34);
	write_count(&r, 0, 100);                /* loaded at 1; edges at 101, 201 */
	log_clear(&r);
	at(&r, 150 * CPT);
	write_count(&r, 0, 10);
	out8(&r, 0x43, 0xE2);                   /* read-back status of counter 0 */
	CU_ASSERT_EQUAL(in8(&r, 0x40), 0x80 | 0x40 | 0x34);  /* OUT, null count */
	at(&r, 230 * CPT);
	CU_ASSERT_EQUAL(r.log.rises, 4);
	CU_ASSERT_EQUAL(r.log.rise_at[1], 201 * CPT);
	CU_ASSERT_EQUAL(r.log.rise_at[2], 211 * CPT);
	CU_ASSERT_EQUAL(r.log.rise_at[3], 221 * CPT);
	CU_ASSERT_EQUAL(r.log.level, 0);                     /* tick 230: the low tick */
	at(&r, 232 * CPT);
	out8(&r, 0x43, 0xE2);
	CU_ASSERT_EQUAL(in8(&r, 0x40), 0x80 | 0x34);         /* loaded: null count clear */
	rig_close(&r);
}

/* Read-back: status byte layout, status before count, several counters. */
static void test_readback(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	out8(&r, 0x43, 0xB0);                   /* counter 2, word, mode 0, binary */
	out8(&r, 0x43, 0xE8);                   /* latch status of counter 2 */
	CU_ASSERT_EQUAL(in8(&r, 0x42), 0x40 | 0x30);  /* OUT low, null count */
	write_count(&r, 2, 0x1234);
	out8(&r, 0x43, 0xE8);
	CU_ASSERT_EQUAL(in8(&r, 0x42), 0x40 | 0x30);  /* same tick: not loaded yet */
	at(&r, 3 * CPT);
	out8(&r, 0x61, 0x01);                   /* gate: counting from tick 3 */
	at(&r, 10 * CPT);
	out8(&r, 0x43, 0x57 | 0x20);            /* counter 1: word mode 3 BCD: 0x77 */
	out8(&r, 0x43, 0xCE);                   /* status + count of counters 0, 1, 2 */
	out8(&r, 0x43, 0xC8);                   /* ignored for counter 2: still latched */
	CU_ASSERT_EQUAL(in8(&r, 0x42), 0x30);   /* OUT low, count loaded */
	CU_ASSERT_EQUAL(read_count(&r, 2), 0x1234 - 7);
	CU_ASSERT_EQUAL(in8(&r, 0x41), 0x80 | 0x40 | 0x37);
	CU_ASSERT_EQUAL(in8(&r, 0x40), 0x80 | 0x36);  /* reset state: mode 3, word, loaded */
	CU_ASSERT_EQUAL(read_count(&r, 0), (uint16_t)(65536 - 2 * 9));
	/* Count only. */
	at(&r, 20 * CPT);
	out8(&r, 0x43, 0xD8);                   /* count of counter 2 */
	at(&r, 30 * CPT);
	CU_ASSERT_EQUAL(read_count(&r, 2), 0x1234 - 17);
	rig_close(&r);
}

/* BCD counting: counts read back in BCD, 0 means 10000. */
static void test_bcd(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	out8(&r, 0x43, 0x35);                   /* counter 0, word, mode 2, BCD */
	write_count(&r, 0, 0x1000);             /* 1000 decimal, loaded at tick 1 */
	log_clear(&r);
	at(&r, 2 * CPT);
	CU_ASSERT_EQUAL(read_count(&r, 0), 0x0999);
	at(&r, 1001 * CPT);
	CU_ASSERT_EQUAL(r.log.rises, 1);
	CU_ASSERT_EQUAL(r.log.rise_at[0], 1001 * CPT);
	out8(&r, 0x43, 0x31);                   /* mode 0 BCD, count 0 = 10000 */
	write_count(&r, 0, 0);
	at(&r, 1002 * CPT + 1);
	CU_ASSERT_EQUAL(read_count(&r, 0), 0x0000);  /* loaded 10000 reads as 0000 */
	at(&r, 1003 * CPT);
	CU_ASSERT_EQUAL(read_count(&r, 0), 0x9999);
	log_clear(&r);
	at(&r, 11002 * CPT);
	CU_ASSERT_EQUAL(r.log.rises, 1);
	CU_ASSERT_EQUAL(r.log.rise_at[0], 11002 * CPT);
	at(&r, 11012 * CPT);
	CU_ASSERT_EQUAL(read_count(&r, 0), 0x9990);   /* wraps in BCD */
	rig_close(&r);
}

/* Counter 2 gate in modes 0 (pause), 1 (trigger) and 2 (OUT high, reload). */
static void test_gate(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	out8(&r, 0x61, 0x01);
	out8(&r, 0x43, 0xB0);                   /* mode 0 */
	write_count(&r, 2, 100);                /* tick 0: loaded at 1 */
	at(&r, 21 * CPT);
	out8(&r, 0x61, 0x00);                   /* pause at 80 */
	at(&r, 500 * CPT);
	out8(&r, 0x43, 0x80);
	CU_ASSERT_EQUAL(read_count(&r, 2), 80);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0);
	out8(&r, 0x61, 0x01);                   /* resume at tick 500 */
	at(&r, 579 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0);
	at(&r, 580 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0x20);
	/* Mode 1: the count waits for a rising GATE; OUT low N ticks after. */
	out8(&r, 0x43, 0xB2);
	write_count(&r, 2, 30);
	at(&r, 600 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0x20);    /* gate already high: no trigger */
	out8(&r, 0x61, 0x00);
	out8(&r, 0x61, 0x01);                   /* trigger at 600: loaded at 601 */
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0x20);
	at(&r, 601 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0);
	at(&r, 620 * CPT);
	out8(&r, 0x61, 0x00);
	out8(&r, 0x61, 0x01);                   /* retrigger at 620: low until 651 */
	at(&r, 650 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0);
	at(&r, 651 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0x20);
	/* Mode 2: GATE low during the low tick drives OUT high. */
	out8(&r, 0x43, 0xB4);
	write_count(&r, 2, 10);                 /* tick 651: loaded at 652 */
	at(&r, 661 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0);
	out8(&r, 0x61, 0x00);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0x20);
	at(&r, 700 * CPT);
	out8(&r, 0x61, 0x01);                   /* reload at 701: low at 710 */
	at(&r, 709 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0x20);
	at(&r, 710 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x20, 0);
	/* Mode 0, GATE dropped in the tick of the count write: the count is
	 * still loaded and counting starts when GATE rises. */
	out8(&r, 0x43, 0xB0);
	write_count(&r, 2, 40);
	out8(&r, 0x61, 0x00);
	at(&r, 800 * CPT);
	out8(&r, 0x61, 0x01);
	at(&r, 810 * CPT);
	out8(&r, 0x43, 0x80);
	CU_ASSERT_EQUAL(read_count(&r, 2), 30);
	rig_close(&r);
}

/* Port 0x61 bit 4 toggles every 18 PIT clocks; bits 6-7 read 0. */
static void test_refresh_toggle(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	out8(&r, 0x61, 0xFC);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0xDF, 0x0C);
	at(&r, 18 * CPT - 1);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x10, 0);
	at(&r, 18 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x10, 0x10);
	at(&r, 36 * CPT);
	CU_ASSERT_EQUAL(in8(&r, 0x61) & 0x10, 0);
	rig_close(&r);
}

/* Reset: counter 0 in mode 3 with 65536, IRQ0 rising every 65536 ticks. */
static void test_reset_state(void)
{
	struct rig r;
	rig_open(&r, HZ_EXACT);
	CU_ASSERT_EQUAL(r.log.level, 1);
	log_clear(&r);
	at(&r, 2 * 65536 * CPT + CPT);
	CU_ASSERT_EQUAL(r.log.falls, 2);
	CU_ASSERT_EQUAL(r.log.fall_at[0], (1 + 32768) * CPT);
	CU_ASSERT_EQUAL(r.log.rise_at[0], (1 + 65536) * CPT);
	CU_ASSERT_EQUAL(r.log.rise_at[1], (1 + 2 * 65536) * CPT);
	out8(&r, 0x43, 0x30);
	pit_reset(r.pit);
	CU_ASSERT_EQUAL(r.log.level, 1);
	FILE *f = tmpfile();
	if (f) {
		pit_dump(r.pit, f);
		CU_ASSERT(ftell(f) > 0);
		fclose(f);
	}
	rig_close(&r);
}

/* A CPU clock slower than the PIT: one-tick pulses are still delivered. */
static void test_slow_clock(void)
{
	struct rig r;
	rig_open(&r, 1000000);
	out8(&r, 0x43, 0x34);
	write_count(&r, 0, 2);
	log_clear(&r);
	at(&r, 1000);                           /* 1193 ticks */
	CU_ASSERT_EQUAL(r.log.rises, 596);     /* ticks 3, 5, ..., 1193 */
	CU_ASSERT_EQUAL(r.log.falls, 596);
	rig_close(&r);
}

void suite_dev_pit8254(void)
{
	CU_pSuite s = CU_add_suite("dev_pit8254", NULL, NULL);
	CU_add_test(s, "mode 2 rising edges at exact cycles", test_mode2_exact);
	CU_add_test(s, "mode 2 does not drift at a fractional tick rate", test_mode2_no_drift);
	CU_add_test(s, "latch command and live reads", test_latch_read);
	CU_add_test(s, "mode 0 one-shot", test_mode0);
	CU_add_test(s, "mode 4 strobe", test_mode4);
	CU_add_test(s, "mode 3 square wave at port 0x61 bit 5", test_mode3_port61);
	CU_add_test(s, "mode 3 odd count on IRQ0", test_mode3_irq0);
	CU_add_test(s, "mode 2 new count at the period end", test_mode2_reprogram);
	CU_add_test(s, "read-back command", test_readback);
	CU_add_test(s, "BCD counting", test_bcd);
	CU_add_test(s, "counter 2 gate", test_gate);
	CU_add_test(s, "port 0x61 refresh toggle", test_refresh_toggle);
	CU_add_test(s, "reset state", test_reset_state);
	CU_add_test(s, "CPU clock slower than the PIT", test_slow_clock);
}
