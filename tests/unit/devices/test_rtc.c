/* devices/rtc.c: time and calendar from simulated cycles, BCD/binary and
 * 12/24-hour formats, SET, the divider, UIP, periodic/alarm/update-ended
 * interrupts on IRQ8 at exact cycles, register C, CMOS bytes, -rtc base=. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "devices/rtc.h"
#include "sim/clock.h"

/* 32.768 MHz: one divider tick is exactly 1000 cycles, one second 32768000. */
#define HZ 32768000ull
#define SEC HZ
#define TICK (HZ / 32768)

struct rig {
	struct clock ck;
	struct pio_bus *bus;
	struct rtc *r;
	int level;
	int rises;
	uint64_t rise_at[8];
};

static void on_irq(void *opaque, int line, int level)
{
	struct rig *g = opaque;
	CU_ASSERT_EQUAL(line, RTC_IRQ);
	CU_ASSERT_NOT_EQUAL(level, g->level);           /* only changes */
	g->level = level;
	if (level) {
		if (g->rises < 8)
			g->rise_at[g->rises] = clock_now(&g->ck);
		g->rises++;
	}
}

static void rig_init_hz(struct rig *g, int64_t base, uint64_t hz)
{
	memset(g, 0, sizeof(*g));
	CU_ASSERT_EQUAL_FATAL(clock_init(&g->ck, hz), 0);
	g->bus = malloc(sizeof(*g->bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->bus);
	pio_init(g->bus);
	struct irq_line irq = { on_irq, g, RTC_IRQ };
	g->r = rtc_create(g->bus, &g->ck, &irq, base);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g->r);
}

static void rig_init(struct rig *g, int64_t base)
{
	rig_init_hz(g, base, HZ);
}

static void rig_fini(struct rig *g)
{
	rtc_destroy(g->r);
	free(g->bus);
	clock_destroy(&g->ck);
}

static uint8_t cmos_rd(struct rig *g, uint8_t i)
{
	pio_write(g->bus, RTC_PORT_INDEX, i, 1);
	return (uint8_t)pio_read(g->bus, RTC_PORT_DATA, 1);
}

static void cmos_wr(struct rig *g, uint8_t i, uint8_t v)
{
	pio_write(g->bus, RTC_PORT_INDEX, i, 1);
	pio_write(g->bus, RTC_PORT_DATA, v, 1);
}

static int64_t base_of(const char *s)
{
	int64_t t = 0;
	CU_ASSERT_EQUAL(rtc_parse_base(s, &t), 0);
	return t;
}

/* Expect the ten time/calendar bytes sec min hour dow dom mon year and the
 * century, as read through the ports. */
static void expect_time(struct rig *g, uint8_t sec, uint8_t min, uint8_t hour, uint8_t dow,
			uint8_t dom, uint8_t mon, uint8_t year, uint8_t century)
{
	CU_ASSERT_EQUAL(cmos_rd(g, RTC_SECONDS), sec);
	CU_ASSERT_EQUAL(cmos_rd(g, RTC_MINUTES), min);
	CU_ASSERT_EQUAL(cmos_rd(g, RTC_HOURS), hour);
	CU_ASSERT_EQUAL(cmos_rd(g, RTC_DAY_OF_WEEK), dow);
	CU_ASSERT_EQUAL(cmos_rd(g, RTC_DAY_OF_MONTH), dom);
	CU_ASSERT_EQUAL(cmos_rd(g, RTC_MONTH), mon);
	CU_ASSERT_EQUAL(cmos_rd(g, RTC_YEAR), year);
	CU_ASSERT_EQUAL(cmos_rd(g, RTC_CENTURY), century);
}

static void test_power_on_state(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);
	expect_time(&g, 0x00, 0x00, 0x00, 4, 0x01, 0x01, 0x25, 0x20);  /* Wednesday */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_A), 0x26);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_B), 0x02);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), 0x00);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_D), 0x80);
	CU_ASSERT_EQUAL(cmos_rd(&g, 0x40), 0x00);
	CU_ASSERT_EQUAL(clock_next(&g.ck), UINT64_MAX);  /* idle: no events */
	CU_ASSERT_EQUAL(pio_read(g.bus, RTC_PORT_INDEX, 1), 0xff);
	/* 16-bit access: 70h gets the low byte, 71h the high one. */
	pio_write(g.bus, RTC_PORT_INDEX, 0x4409, 2);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_YEAR), 0x44);
	CU_ASSERT_EQUAL(pio_read(g.bus, RTC_PORT_INDEX, 2), 0x44ff);
	rig_fini(&g);
}

static void test_counts_seconds_bcd_binary(void)
{
	struct rig g;
	rig_init(&g, base_of("2025-06-15T13:59:58"));
	expect_time(&g, 0x58, 0x59, 0x13, 1, 0x15, 0x06, 0x25, 0x20);  /* Sunday */
	clock_run_until(&g.ck, SEC - 1);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_SECONDS), 0x58);
	clock_run_until(&g.ck, SEC);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_SECONDS), 0x59);
	clock_run_until(&g.ck, 2 * SEC + SEC / 2);
	expect_time(&g, 0x00, 0x00, 0x14, 1, 0x15, 0x06, 0x25, 0x20);
	/* 3723 s later: 15:02:03. Binary mode presents the same time. */
	clock_run_until(&g.ck, (2 + 3723) * SEC);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_DM);
	expect_time(&g, 3, 2, 15, 1, 15, 6, 25, 20);
	/* 12-hour mode: 3 PM = 03h | 80h; BCD 12-hour likewise. */
	cmos_wr(&g, RTC_REG_B, RTC_B_DM);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_HOURS), 0x83);
	cmos_wr(&g, RTC_REG_B, 0);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_HOURS), 0x83);
	rig_fini(&g);
}

static void test_12_hour_edges(void)
{
	struct rig g;
	rig_init(&g, base_of("2025-01-01T23:00:00"));
	cmos_wr(&g, RTC_REG_B, RTC_B_SET);              /* 12-hour BCD, halted */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_HOURS), 0x91);  /* 11 PM */
	cmos_wr(&g, RTC_HOURS, 0x12);                   /* 12 AM = 00 */
	cmos_wr(&g, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_HOURS), 0x00);
	cmos_wr(&g, RTC_REG_B, RTC_B_SET);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_HOURS), 0x12);
	cmos_wr(&g, RTC_HOURS, 0x92);                   /* 12 PM = 12 */
	cmos_wr(&g, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_HOURS), 0x12);
	cmos_wr(&g, RTC_REG_B, RTC_B_SET | RTC_B_DM);   /* binary 12-hour */
	cmos_wr(&g, RTC_HOURS, 0x8b);                   /* 11 PM */
	cmos_wr(&g, RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_DM);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_HOURS), 23);
	rig_fini(&g);
}

static void test_calendar_rollovers(void)
{
	struct rig g;
	rig_init(&g, base_of("2024-02-28T23:59:59"));   /* leap year */
	clock_run_until(&g.ck, SEC);
	expect_time(&g, 0x00, 0x00, 0x00, 5, 0x29, 0x02, 0x24, 0x20);  /* Thu 29 Feb */
	clock_run_until(&g.ck, SEC + 86400 * SEC);
	expect_time(&g, 0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20);  /* Fri 1 Mar */
	rig_fini(&g);

	rig_init(&g, base_of("2025-04-30T23:59:59"));
	clock_run_until(&g.ck, SEC);
	expect_time(&g, 0x00, 0x00, 0x00, 5, 0x01, 0x05, 0x25, 0x20);  /* Thu 1 May */
	rig_fini(&g);

	rig_init(&g, base_of("2025-02-28T23:59:59"));   /* not a leap year */
	clock_run_until(&g.ck, SEC);
	expect_time(&g, 0x00, 0x00, 0x00, 7, 0x01, 0x03, 0x25, 0x20);  /* Sat 1 Mar */
	rig_fini(&g);

	rig_init(&g, base_of("2099-12-31T23:59:59"));
	clock_run_until(&g.ck, SEC);
	expect_time(&g, 0x00, 0x00, 0x00, 6, 0x01, 0x01, 0x00, 0x21);  /* Fri 1 Jan 2100 */
	clock_run_until(&g.ck, SEC + 58 * 86400 * SEC); /* 2100 is not a leap year */
	expect_time(&g, 0x00, 0x00, 0x00, 1, 0x28, 0x02, 0x00, 0x21);  /* Sunday */
	clock_run_until(&g.ck, SEC + 59 * 86400 * SEC);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_DAY_OF_MONTH), 0x01);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_MONTH), 0x03);
	rig_fini(&g);
}

static void test_set_halts_and_resumes(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_SET);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_B), RTC_B_24H | RTC_B_SET);  /* SET clears UIE */
	cmos_wr(&g, RTC_SECONDS, 0x30);
	cmos_wr(&g, RTC_MINUTES, 0x59);
	cmos_wr(&g, RTC_HOURS, 0x23);
	cmos_wr(&g, RTC_DAY_OF_WEEK, 0x07);
	cmos_wr(&g, RTC_DAY_OF_MONTH, 0x31);            /* day before month: no */
	cmos_wr(&g, RTC_MONTH, 0x12);                   /* normalisation in between */
	cmos_wr(&g, RTC_YEAR, 0x30);
	clock_run_until(&g.ck, 5 * SEC + SEC / 2);
	expect_time(&g, 0x30, 0x59, 0x23, 7, 0x31, 0x12, 0x30, 0x20);  /* halted */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), RTC_C_PF);  /* divider runs; no UF */
	cmos_wr(&g, RTC_REG_B, RTC_B_24H);              /* resume at 5.5 s */
	clock_run_until(&g.ck, 6 * SEC - 1);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_SECONDS), 0x30);
	clock_run_until(&g.ck, 6 * SEC);                /* the divider's next update */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_SECONDS), 0x31);
	clock_run_until(&g.ck, 35 * SEC);               /* 2030-12-31 23:59:59 + 1 */
	/* The day of week counts on from the written 7 (the chip never
	 * derives it from the date). */
	expect_time(&g, 0x00, 0x00, 0x00, 1, 0x01, 0x01, 0x31, 0x20);
	rig_fini(&g);
}

static void test_uip_window(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);
	clock_run_until(&g.ck, 32759 * TICK + TICK - 1);    /* 244.1 us before: clear */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_A), 0x26);
	clock_run_until(&g.ck, 32760 * TICK);               /* UIP rises */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_A), 0xa6);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_SECONDS), 0x00);
	clock_run_until(&g.ck, SEC - 1);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_A), 0xa6);
	clock_run_until(&g.ck, SEC);                        /* update done */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_A), 0x26);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_SECONDS), 0x01);
	clock_run_until(&g.ck, 2 * SEC - 10 * TICK);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_A) & RTC_A_UIP, 0);
	clock_run_until(&g.ck, 2 * SEC - 5 * TICK);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_SET);      /* SET clears UIP */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_A) & RTC_A_UIP, 0);
	cmos_wr(&g, RTC_REG_A, 0xa6);                       /* UIP is read-only */
	cmos_wr(&g, RTC_REG_B, RTC_B_24H);
	clock_run_until(&g.ck, 3 * SEC - 100 * TICK);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_A), 0x26);
	rig_fini(&g);
}

static void test_periodic_rate6_exact_cycles(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);
	/* Rate 6 = 1024 Hz = every 32 ticks = 32000 cycles here. */
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	CU_ASSERT_EQUAL(clock_next(&g.ck), 32000);
	clock_run_until(&g.ck, 31999);
	CU_ASSERT_EQUAL(g.level, 0);
	clock_run_until(&g.ck, 50000);
	CU_ASSERT_EQUAL(g.rises, 1);
	CU_ASSERT_EQUAL(g.rise_at[0], 32000);
	CU_ASSERT_EQUAL(g.level, 1);
	CU_ASSERT_EQUAL(clock_next(&g.ck), UINT64_MAX);  /* line up: nothing to arm */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
	CU_ASSERT_EQUAL(g.level, 0);                    /* reading C drops IRQ8 */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), 0);     /* and cleared the flags */
	clock_run_until(&g.ck, 64000);
	CU_ASSERT_EQUAL(g.rises, 2);
	CU_ASSERT_EQUAL(g.rise_at[1], 64000);
	/* Not acknowledged: one rise only, however many periods pass. */
	clock_run_until(&g.ck, 200000);
	CU_ASSERT_EQUAL(g.rises, 2);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
	clock_run_until(&g.ck, 230000);
	CU_ASSERT_EQUAL(g.rises, 3);
	CU_ASSERT_EQUAL(g.rise_at[2], 224000);          /* next tap edge, 7 * 32000 */
	/* Rate 15 (2 Hz) from here: next edge at a multiple of 16384 ticks. */
	cmos_rd(&g, RTC_REG_C);
	cmos_wr(&g, RTC_REG_A, 0x2f);
	clock_run_until(&g.ck, SEC);
	CU_ASSERT_EQUAL(g.rises, 4);
	CU_ASSERT_EQUAL(g.rise_at[3], SEC / 2);
	/* Rates 1 and 2 are 256 and 128 Hz (not 32768 / 16384 Hz). */
	cmos_rd(&g, RTC_REG_C);
	cmos_wr(&g, RTC_REG_A, 0x21);
	clock_run_until(&g.ck, 2 * SEC);
	CU_ASSERT_EQUAL(g.rise_at[4], SEC + 128 * TICK);
	cmos_rd(&g, RTC_REG_C);
	cmos_wr(&g, RTC_REG_A, 0x22);
	clock_run_until(&g.ck, 3 * SEC);
	CU_ASSERT_EQUAL(g.rise_at[5], 2 * SEC + 256 * TICK);
	/* PIE off: PF still sets (polled), IRQ8 stays low, no event armed. */
	cmos_rd(&g, RTC_REG_C);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H);
	CU_ASSERT_EQUAL(clock_next(&g.ck), UINT64_MAX);
	clock_run_until(&g.ck, 4 * SEC + SEC / 2);
	CU_ASSERT_EQUAL(g.rises, 6);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), RTC_C_PF | RTC_C_UF);
	rig_fini(&g);
}

/* A TSC rate that is no multiple of 1024: each due cycle is rounded up
 * from the exact time, and the 1024th interrupt lands on exactly 1 s. */
static void test_periodic_does_not_drift(void)
{
	struct rig g;
	rig_init_hz(&g, RTC_DEFAULT_BASE, 1000000000ull);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	uint64_t first = 0, last = 0;
	for (int n = 1; n <= 1024; n++) {
		clock_run_until(&g.ck, clock_next(&g.ck));
		CU_ASSERT_EQUAL_FATAL(g.level, 1);
		if (n == 1)
			first = clock_now(&g.ck);
		last = clock_now(&g.ck);
		/* (the last one coincides with the 1 s update: UF too) */
		CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C) & ~RTC_C_UF, RTC_C_IRQF | RTC_C_PF);
	}
	CU_ASSERT_EQUAL(g.rises, 1024);
	CU_ASSERT_EQUAL(first, 976563);                 /* ceil(976562.5) */
	CU_ASSERT_EQUAL(last, 1000000000);
	rig_fini(&g);
}

static void test_update_ended_once_per_second(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	for (int s = 1; s <= 3; s++) {
		clock_run_until(&g.ck, s * SEC + SEC / 2);
		CU_ASSERT_EQUAL(g.rises, s);
		CU_ASSERT_EQUAL(g.rise_at[s - 1], s * SEC);
		CU_ASSERT_EQUAL(cmos_rd(&g, RTC_SECONDS), s);
		/* PF runs too (rate 6) though PIE is off; IRQF from UF. */
		CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	}
	/* Unacknowledged: no further rises. */
	clock_run_until(&g.ck, 10 * SEC);
	CU_ASSERT_EQUAL(g.rises, 4);
	CU_ASSERT_EQUAL(g.level, 1);
	rig_fini(&g);
}

static void test_alarm(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);                 /* 00:00:00 */
	cmos_wr(&g, RTC_SECONDS_ALARM, 0x05);
	cmos_wr(&g, RTC_MINUTES_ALARM, 0x00);
	cmos_wr(&g, RTC_HOURS_ALARM, 0x00);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	CU_ASSERT_EQUAL(clock_next(&g.ck), 5 * SEC);    /* one event, not one per second */
	clock_run_until(&g.ck, 5 * SEC - 1);
	CU_ASSERT_EQUAL(g.rises, 0);
	clock_run_until(&g.ck, 5 * SEC);
	CU_ASSERT_EQUAL(g.rises, 1);
	CU_ASSERT_EQUAL(g.rise_at[0], 5 * SEC);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_AF | RTC_C_UF);
	/* Next match is tomorrow; seconds "don't care" + minute 1: every
	 * second of 00:01. */
	CU_ASSERT_EQUAL(clock_next(&g.ck), (86400 + 5) * SEC);
	cmos_wr(&g, RTC_SECONDS_ALARM, 0xc0);
	cmos_wr(&g, RTC_MINUTES_ALARM, 0x01);
	cmos_wr(&g, RTC_HOURS_ALARM, 0xff);
	clock_run_until(&g.ck, 61 * SEC - 1);
	CU_ASSERT_EQUAL(g.rises, 2);
	CU_ASSERT_EQUAL(g.rise_at[1], 60 * SEC);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C) & RTC_C_AF, RTC_C_AF);
	clock_run_until(&g.ck, 61 * SEC);
	CU_ASSERT_EQUAL(g.rise_at[2], 61 * SEC);
	/* Polled (AIE off): AF is set by a match that happened between reads. */
	cmos_wr(&g, RTC_REG_B, RTC_B_24H);
	cmos_rd(&g, RTC_REG_C);
	cmos_wr(&g, RTC_SECONDS_ALARM, 0x30);
	cmos_wr(&g, RTC_MINUTES_ALARM, 0x02);
	clock_run_until(&g.ck, 150 * SEC + SEC / 2);    /* 00:02:30 at 150 s */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), RTC_C_PF | RTC_C_AF | RTC_C_UF);
	clock_run_until(&g.ck, 152 * SEC);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), RTC_C_PF | RTC_C_UF);
	/* An alarm byte that can never match (BCD 60) arms nothing. */
	cmos_wr(&g, RTC_SECONDS_ALARM, 0x60);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	CU_ASSERT_EQUAL(clock_next(&g.ck), UINT64_MAX);
	rig_fini(&g);
}

static void test_divider_reset(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);
	clock_run_until(&g.ck, SEC / 5);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), RTC_C_PF);
	cmos_wr(&g, RTC_REG_A, 0x76);                   /* DV = 111: chain held */
	clock_run_until(&g.ck, 3 * SEC);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_SECONDS), 0x00);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), 0);     /* no PF, no UF */
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	CU_ASSERT_EQUAL(clock_next(&g.ck), UINT64_MAX);
	cmos_wr(&g, RTC_REG_A, 0x26);                   /* release at 3 s */
	CU_ASSERT_EQUAL(clock_next(&g.ck), 3 * SEC + SEC / 2);  /* first update 0.5 s on */
	clock_run_until(&g.ck, 4 * SEC);
	CU_ASSERT_EQUAL(g.rises, 1);
	CU_ASSERT_EQUAL(g.rise_at[0], 3 * SEC + SEC / 2);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_SECONDS), 0x01);
	rig_fini(&g);
}

static void test_read_only_bits_and_reset(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);
	cmos_wr(&g, RTC_REG_C, 0xff);
	cmos_wr(&g, RTC_REG_D, 0x00);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), 0x00);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_D), 0x80);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_DM | RTC_B_DSE | RTC_B_SQWE | RTC_B_PIE | RTC_B_AIE);
	clock_run_until(&g.ck, SEC / 100);
	CU_ASSERT_EQUAL(g.level, 1);
	rtc_reset(g.r);
	CU_ASSERT_EQUAL(g.level, 0);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_B), RTC_B_24H | RTC_B_DM | RTC_B_DSE);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), 0);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_A), 0x26);
	CU_ASSERT_EQUAL(clock_next(&g.ck), UINT64_MAX);
	clock_run_until(&g.ck, 2 * SEC);                /* time keeps running */
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_SECONDS), 2);
	rig_fini(&g);
}

static void test_nmi_bit_and_ram(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);
	CU_ASSERT_FALSE(rtc_nmi_disabled(g.r));
	pio_write(g.bus, RTC_PORT_INDEX, 0x80 | 0x0f, 1);
	CU_ASSERT_TRUE(rtc_nmi_disabled(g.r));
	pio_write(g.bus, RTC_PORT_DATA, 0x5a, 1);
	pio_write(g.bus, RTC_PORT_INDEX, 0x0f, 1);
	CU_ASSERT_FALSE(rtc_nmi_disabled(g.r));
	CU_ASSERT_EQUAL(pio_read(g.bus, RTC_PORT_DATA, 1), 0x5a);
	for (unsigned i = 0x0e; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			cmos_wr(&g, (uint8_t)i, (uint8_t)(i ^ 0xa5));
	for (unsigned i = 0x0e; i < RTC_CMOS_SIZE; i++)
		if (i != RTC_CENTURY)
			CU_ASSERT_EQUAL(cmos_rd(&g, (uint8_t)i), (uint8_t)(i ^ 0xa5));
	rtc_cmos_set(g.r, 0x3d, 0x21);
	CU_ASSERT_EQUAL(cmos_rd(&g, 0x3d), 0x21);
	rig_fini(&g);
}

/* IRQF is PF&PIE | AF&AIE | UF&UIE: enabling a source whose flag is
 * already set raises IRQ8 at once; disabling it drops the line. */
static void test_enable_with_flag_pending(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);
	clock_run_until(&g.ck, 100000);                 /* PF set at 32000, polled */
	CU_ASSERT_EQUAL(g.rises, 0);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	CU_ASSERT_EQUAL(g.rises, 1);
	CU_ASSERT_EQUAL(g.rise_at[0], 100000);
	cmos_wr(&g, RTC_REG_B, RTC_B_24H);
	CU_ASSERT_EQUAL(g.level, 0);
	CU_ASSERT_EQUAL(cmos_rd(&g, RTC_REG_C), RTC_C_PF);
	rig_fini(&g);
}

static void test_dump(void)
{
	struct rig g;
	rig_init(&g, base_of("2025-03-04T05:06:07"));
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	rtc_dump(g.r, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "2025-03-04 05:06:07"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "A=26 B=02"));
	free(buf);
	rig_fini(&g);
}

static uint16_t rd16(struct rig *g, uint8_t lo)
{
	return (uint16_t)(cmos_rd(g, lo) | cmos_rd(g, (uint8_t)(lo + 1)) << 8);
}

static void test_memory_bytes(void)
{
	struct rig g;
	rig_init(&g, RTC_DEFAULT_BASE);
	rtc_cmos_set_memory(g.r, 8ull << 20, 1);
	CU_ASSERT_EQUAL(rd16(&g, 0x15), 640);
	CU_ASSERT_EQUAL(rd16(&g, 0x17), 7 * 1024);
	CU_ASSERT_EQUAL(rd16(&g, 0x30), 7 * 1024);
	CU_ASSERT_EQUAL(rd16(&g, 0x34), 0);
	CU_ASSERT_EQUAL(cmos_rd(&g, 0x5f), 0);
	rtc_cmos_set_memory(g.r, 256ull << 20, 4);
	CU_ASSERT_EQUAL(rd16(&g, 0x17), 0xffff);        /* capped */
	CU_ASSERT_EQUAL(rd16(&g, 0x30), 0xffff);
	CU_ASSERT_EQUAL(rd16(&g, 0x34), 240 * 16);      /* 64 KiB blocks over 16 MiB */
	CU_ASSERT_EQUAL(cmos_rd(&g, 0x5b), 0);
	CU_ASSERT_EQUAL(cmos_rd(&g, 0x5f), 3);
	rtc_cmos_set_memory(g.r, 6ull << 30, 8);
	CU_ASSERT_EQUAL(rd16(&g, 0x34), 0xff00);        /* 4 GiB - 16 MiB */
	CU_ASSERT_EQUAL(cmos_rd(&g, 0x5b), 0x00);       /* 2 GiB = 8000h blocks */
	CU_ASSERT_EQUAL(cmos_rd(&g, 0x5c), 0x80);
	CU_ASSERT_EQUAL(cmos_rd(&g, 0x5d), 0x00);
	CU_ASSERT_EQUAL(cmos_rd(&g, 0x5f), 7);
	rig_fini(&g);
}

static void test_parse_base(void)
{
	int64_t t = -1;
	CU_ASSERT_EQUAL(rtc_parse_base("2025-01-01", &t), 0);
	CU_ASSERT_EQUAL(t, RTC_DEFAULT_BASE);
	CU_ASSERT_EQUAL(rtc_parse_base("2025-01-01T00:00:00", &t), 0);
	CU_ASSERT_EQUAL(t, RTC_DEFAULT_BASE);
	CU_ASSERT_EQUAL(rtc_parse_base("2000-02-29T12:34:56", &t), 0);
	CU_ASSERT_EQUAL(t, 951827696);
	CU_ASSERT_EQUAL(rtc_parse_base("1970-01-01T00:00:00", &t), 0);
	CU_ASSERT_EQUAL(t, 0);
	CU_ASSERT_EQUAL(rtc_parse_base("1969-12-31T23:59:59", &t), 0);
	CU_ASSERT_EQUAL(t, -1);
	static const char *const bad[] = {
		"utc", "localtime", "", "2025", "2025-13-01", "2025-00-10", "2025-02-29",
		"2024-02-30", "2025-04-31", "2025-01-00", "2025-01-01T24:00:00",
		"2025-01-01T00:60:00", "2025-01-01T00:00:60", "2025-01-01 00:00:00",
		"2025-1-01", "2025-01-01T00:00:00Z", "2025-01-01T00:00", "+025-01-01",
		"2025/01/01", "2025-01-01T0a:00:00",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = 42;
		CU_ASSERT_EQUAL(rtc_parse_base(bad[i], &t), -1);
		CU_ASSERT_EQUAL(t, 42);
	}
}

void suite_dev_rtc(void)
{
	CU_pSuite s = CU_add_suite("dev_rtc", NULL, NULL);
	CU_add_test(s, "power-on registers and time at t=0", test_power_on_state);
	CU_add_test(s, "counts seconds; BCD, binary, 12-hour PM", test_counts_seconds_bcd_binary);
	CU_add_test(s, "12-hour edges: 12 AM, 12 PM, writes", test_12_hour_edges);
	CU_add_test(s, "month, leap day, year and century rollover", test_calendar_rollovers);
	CU_add_test(s, "SET halts updates; counting resumes from written time", test_set_halts_and_resumes);
	CU_add_test(s, "UIP during the 244 us before each update", test_uip_window);
	CU_add_test(s, "periodic interrupt at rate 6 on exact cycles; C read acks", test_periodic_rate6_exact_cycles);
	CU_add_test(s, "periodic interrupt does not drift", test_periodic_does_not_drift);
	CU_add_test(s, "update-ended interrupt once per second", test_update_ended_once_per_second);
	CU_add_test(s, "alarm at a second, don't-care bytes, polled AF", test_alarm);
	CU_add_test(s, "divider reset holds time; first update 0.5 s after release", test_divider_reset);
	CU_add_test(s, "read-only registers; RESET pin state", test_read_only_bits_and_reset);
	CU_add_test(s, "NMI-disable bit, CMOS RAM", test_nmi_bit_and_ram);
	CU_add_test(s, "enabling a source with its flag set raises IRQ8", test_enable_with_flag_pending);
	CU_add_test(s, "dump shows time and registers", test_dump);
	CU_add_test(s, "memory-size and CPU-count bytes", test_memory_bytes);
	CU_add_test(s, "rtc_parse_base accepts the two forms, rejects the rest", test_parse_base);
}
