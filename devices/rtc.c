/* CMOS RTC (Motorola MC146818A, Dallas DS12887) on simulated time.
 *
 * The model. The chip's 32.768 kHz divider chain is a tick counter derived
 * from simulated cycles: tick(c) = tick_base + floor((c - div_origin) *
 * 32768 / hz), exact integer arithmetic, so nothing drifts however long the
 * machine runs. The 1 Hz update happens when the tick count crosses a
 * multiple of 32768; the periodic flag when it crosses a multiple of the
 * selected tap's period. The chip's state (time fields, flags in C) is
 * brought up to date lazily, whenever the guest touches it ("catch up" to
 * the current tick), so an idle RTC costs no events. A dev_timer is armed
 * only while an enabled interrupt source could raise IRQ8 and IRQ8 is not
 * already up: at most one event per interrupt the guest acknowledges.
 *
 * Simplifications, each what QEMU does too:
 *  - the time and calendar are kept in binary, 24-hour form and converted on
 *    every read and write by the DM and 24/12 bits of register B; switching
 *    those bits therefore re-presents the current time in the new format
 *    (the chip would keep the old bytes);
 *  - only a 32.768 kHz time base exists: divider values other than 11x
 *    (chain in reset) all run the chain at 32.768 kHz;
 *  - DSE (daylight saving) is stored but never moves the clock; SQWE is
 *    stored (no SQW pin is modelled);
 *  - the century byte 32h counts along with the year.
 * Out-of-range time values the guest writes are kept as written until the
 * next update, which normalises them through calendar arithmetic (as
 * mktime would): e.g. 31 February becomes 3 or 4 March.
 */
#include "devices/rtc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define DIV_HZ 32768u                   /* divider chain input */
#define UPDATE_TICKS DIV_HZ             /* one update per second */
/* UIP rises 244 us before the update (MC146818A Table 6, tBUC = 244 us for
 * every time base): 8 periods of 32.768 kHz = 244.140625 us. */
#define UIP_TICKS 8u
/* "the first update cycle begins one-half second later" after the divider
 * leaves reset (MC146818A register A, DV2-DV0). */
#define RELEASE_TICK (DIV_HZ / 2)

struct rtc_time {
	int sec, min, hour;             /* hour 0-23 */
	int dow, dom, mon;              /* dow 1-7, Sunday = 1 */
	int year, century;              /* year 0-99 */
};

struct rtc {
	struct clock *ck;
	struct irq_line irq;
	uint64_t hz;
	uint8_t index;                  /* last write to port 0x70 */
	uint8_t ram[RTC_CMOS_SIZE];     /* RAM, alarm bytes, A (w/o UIP), B */
	struct rtc_time tm;             /* the time at update index eval_tick / 32768 */
	uint8_t flags;                  /* PF | AF | UF */
	bool irq_level;
	bool div_running;
	uint64_t div_origin;            /* cycle at which tick == tick_base */
	uint64_t tick_base;
	uint64_t eval_tick;             /* tm and flags are current up to this tick */
	struct dev_timer timer;
};

/* ---- Calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

/* The "days from civil" computation on 400-year eras with March-based
 * years (so the leap day ends the year). Any month and day are accepted:
 * months carry into years, days simply add. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y += floor_div(m - 1, 12);
	m = floor_mod(m - 1, 12) + 1;
	if (m <= 2)
		y--;
	int64_t era = floor_div(y, 400);
	int64_t yoe = y - era * 400;                            /* 0..399 */
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;                     /* 1970-03-01 base shift */
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = floor_div(z, 146097);
	int64_t doe = z - era * 146097;                         /* 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  /* 0..365, from 1 March */
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = era * 400 + yoe + (*m <= 2);
}

static int tm_tod(const struct rtc_time *t)
{
	return (int)floor_mod((int64_t)t->hour * 3600 + t->min * 60 + t->sec, 86400);
}

static void tm_from_days(struct rtc_time *t, int64_t days, int64_t tod)
{
	int64_t y;
	civil_from_days(days, &y, &t->mon, &t->dom);
	t->year = (int)floor_mod(y, 100);
	t->century = (int)floor_div(y, 100);
	t->hour = (int)(tod / 3600);
	t->min = (int)(tod / 60 % 60);
	t->sec = (int)(tod % 60);
}

static void tm_from_unix(struct rtc_time *t, int64_t secs)
{
	int64_t days = floor_div(secs, 86400);
	tm_from_days(t, days, floor_mod(secs, 86400));
	t->dow = (int)floor_mod(days + 4, 7) + 1;       /* 1970-01-01 was a Thursday (5) */
}

/* The update cycle, n times: seconds carry into minutes, hours, days,
 * months and years with month lengths and leap years (MC146818A
 * "automatic end of month recognition", "leap year compensation"); the day
 * of week counts 1-7 on its own. */
static void tm_advance(struct rtc_time *t, uint64_t n)
{
	int64_t days = days_from_civil((int64_t)t->century * 100 + t->year, t->mon, t->dom);
	int64_t s = (int64_t)t->hour * 3600 + t->min * 60 + t->sec + (int64_t)(n % 86400);
	int64_t nd = days + (int64_t)(n / 86400) + floor_div(s, 86400);
	tm_from_days(t, nd, floor_mod(s, 86400));
	t->dow = (int)floor_mod(t->dow - 1 + floor_mod(nd - days, 7), 7) + 1;
}

/* ---- Register formats (register B: DM and 24/12) ---- */

static uint8_t enc(const struct rtc *r, int v)
{
	if (r->ram[RTC_REG_B] & RTC_B_DM)
		return (uint8_t)v;
	int b = (int)floor_mod(v, 100);
	return (uint8_t)(b / 10 << 4 | b % 10);
}

static int dec(const struct rtc *r, uint8_t v)
{
	return r->ram[RTC_REG_B] & RTC_B_DM ? v : (v >> 4) * 10 + (v & 0x0f);
}

/* 12-hour mode: 1-12 with bit 7 = PM (MC146818A Table 3). */
static uint8_t enc_hour(const struct rtc *r, int h)
{
	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return enc(r, h);
	int h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(enc(r, h12) | (h % 24 >= 12 ? 0x80 : 0));
}

static int dec_hour(const struct rtc *r, uint8_t v)
{
	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return dec(r, v);
	return dec(r, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

/* ---- Alarm (MC146818A "Alarm": a byte 11xxxxxx matches any value) ---- */

/* -1 any value, -2 no value of 0..n-1 (the alarm can never match), else
 * the value whose encoding equals the alarm byte. */
static int alarm_want(const struct rtc *r, uint8_t a, int n, bool hour)
{
	if ((a & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE)
		return -1;
	for (int v = 0; v < n; v++) {
		if ((hour ? enc_hour(r, v) : enc(r, v)) == a)
			return v;
	}
	return -2;
}

/* In how many updates (1..86400) the time of day after `tod` matches the
 * alarm, or 0 for never. Walks hours and minutes in order, skipping whole
 * minutes not after tod: at most 2 * 24 * 60 cheap steps. */
static int alarm_next(const struct rtc *r, int tod)
{
	int wh = alarm_want(r, r->ram[RTC_HOURS_ALARM], 24, true);
	int wm = alarm_want(r, r->ram[RTC_MINUTES_ALARM], 60, false);
	int ws = alarm_want(r, r->ram[RTC_SECONDS_ALARM], 60, false);
	if (wh == -2 || wm == -2 || ws == -2)
		return 0;
	for (int day = 0; day < 2; day++) {
		for (int h = wh < 0 ? 0 : wh; h < (wh < 0 ? 24 : wh + 1); h++) {
			for (int m = wm < 0 ? 0 : wm; m < (wm < 0 ? 60 : wm + 1); m++) {
				int minute = day * 86400 + h * 3600 + m * 60;
				if (minute + 59 <= tod)
					continue;
				int s = ws >= 0 ? ws : (tod >= minute ? tod - minute + 1 : 0);
				if (minute + s > tod && s < 60)
					return minute + s - tod;
			}
		}
	}
	return 0;
}

/* ---- Divider chain and lazy evaluation ---- */

static uint64_t tick_at(const struct rtc *r, uint64_t c)
{
	if (!r->div_running || c <= r->div_origin)
		return r->tick_base;
	return r->tick_base + (uint64_t)((unsigned __int128)(c - r->div_origin) * DIV_HZ / r->hz);
}

/* The first cycle at which tick_at() reaches t (> tick_base, running). */
static uint64_t cycle_of_tick(const struct rtc *r, uint64_t t)
{
	unsigned __int128 x = (unsigned __int128)(t - r->tick_base) * r->hz + DIV_HZ - 1;
	return r->div_origin + (uint64_t)(x / DIV_HZ);
}

/* Periodic interrupt period in divider ticks for rate select rs, 0 = none
 * (MC146818A Table 5, 32.768 kHz time base: rates 1 and 2 give 256 and
 * 128 Hz, rates 3-15 give 32768 >> (rs - 1) Hz). */
static uint64_t pf_period(unsigned rs)
{
	if (rs == 0)
		return 0;
	return rs <= 2 ? 1u << (rs + 6) : 1u << (rs - 1);
}

static uint64_t rtc_now(const struct rtc *r)
{
	return clock_now(r->ck);
}

/* Bring time and flags up to the current tick. PF is set "independent of
 * the state of the PIE bit", AF and UF by every update whatever AIE/UIE
 * say (DS12887 register C); SET inhibits updates (register B). */
static void catch_up(struct rtc *r)
{
	uint64_t t = tick_at(r, rtc_now(r));
	if (t <= r->eval_tick)
		return;
	uint64_t p = pf_period(r->ram[RTC_REG_A] & RTC_A_RS_MASK);
	if (p && t / p > r->eval_tick / p)
		r->flags |= RTC_C_PF;
	uint64_t k = t / UPDATE_TICKS - r->eval_tick / UPDATE_TICKS;
	if (k && !(r->ram[RTC_REG_B] & RTC_B_SET)) {
		int j = alarm_next(r, tm_tod(&r->tm));
		if (j && (uint64_t)j <= k)
			r->flags |= RTC_C_AF;
		tm_advance(&r->tm, k);
		r->flags |= RTC_C_UF;
	}
	r->eval_tick = t;
}

/* IRQF = PF&PIE | AF&AIE | UF&UIE (DS12887 register C bit 7); the IRQ pin
 * follows it. Flags and enables share bit positions 6:4. */
static void update_irq(struct rtc *r)
{
	bool irqf = (r->flags & r->ram[RTC_REG_B] & (RTC_C_PF | RTC_C_AF | RTC_C_UF)) != 0;
	if (irqf != r->irq_level) {
		r->irq_level = irqf;
		irq_set(&r->irq, irqf);
	}
}

static void refresh(struct rtc *r)
{
	catch_up(r);
	update_irq(r);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Arm the timer for the tick at which the next enabled source sets its
 * flag, unless IRQ8 is already up (nothing new can be signalled until C is
 * read) or nothing is enabled. Call after refresh(). */
static void rearm(struct rtc *r)
{
	uint8_t b = r->ram[RTC_REG_B];
	uint64_t t = r->eval_tick, next = UINT64_MAX;
	if (r->irq_level || !r->div_running) {
		clock_disarm(r->ck, &r->timer);
		return;
	}
	uint64_t p = pf_period(r->ram[RTC_REG_A] & RTC_A_RS_MASK);
	if ((b & RTC_B_PIE) && p)
		next = (t / p + 1) * p;
	if (!(b & RTC_B_SET) && (b & RTC_B_UIE))
		next = min_u64(next, (t / UPDATE_TICKS + 1) * UPDATE_TICKS);
	if (!(b & RTC_B_SET) && (b & RTC_B_AIE)) {
		int j = alarm_next(r, tm_tod(&r->tm));
		if (j)
			next = min_u64(next, (t / UPDATE_TICKS + (uint64_t)j) * UPDATE_TICKS);
	}
	if (next == UINT64_MAX)
		clock_disarm(r->ck, &r->timer);
	else
		clock_arm(r->ck, &r->timer, cycle_of_tick(r, next));
}

static void rtc_fire(void *opaque, struct dev_timer *t)
{
	struct rtc *r = opaque;
	(void)t;
	refresh(r);
	rearm(r);
}

/* ---- Register access ---- */

static bool uip(const struct rtc *r)
{
	if (!r->div_running || (r->ram[RTC_REG_B] & RTC_B_SET))
		return false;   /* "Writing the SET bit ... clears the UIP status bit" */
	return tick_at(r, rtc_now(r)) % UPDATE_TICKS >= UPDATE_TICKS - UIP_TICKS;
}

static uint8_t read_reg_c(struct rtc *r)
{
	uint8_t v = r->flags | (r->irq_level ? RTC_C_IRQF : 0);
	/* Reading C clears all its bits and releases IRQ (DS12887). */
	r->flags = 0;
	update_irq(r);
	rearm(r);
	return v;
}

static uint8_t read_reg(struct rtc *r, unsigned i)
{
	refresh(r);
	const struct rtc_time *t = &r->tm;
	switch (i) {
	case RTC_SECONDS: return enc(r, t->sec);
	case RTC_MINUTES: return enc(r, t->min);
	case RTC_HOURS: return enc_hour(r, t->hour);
	case RTC_DAY_OF_WEEK: return enc(r, t->dow);
	case RTC_DAY_OF_MONTH: return enc(r, t->dom);
	case RTC_MONTH: return enc(r, t->mon);
	case RTC_YEAR: return enc(r, t->year);
	case RTC_CENTURY: return enc(r, t->century);
	case RTC_REG_A: return (uint8_t)((r->ram[RTC_REG_A] & ~RTC_A_UIP) | (uip(r) ? RTC_A_UIP : 0));
	case RTC_REG_C: return read_reg_c(r);
	case RTC_REG_D: return RTC_D_VRT;       /* battery good; 6:0 read 0 */
	default: return r->ram[i];
	}
}

/* Divider control (register A DV2-DV0): 11x holds the chain in reset; any
 * other value runs it, the first update half a second after release. */
static void write_reg_a(struct rtc *r, uint8_t v)
{
	bool hold = (v & RTC_A_DV_RESET) == RTC_A_DV_RESET;
	r->ram[RTC_REG_A] = v & (uint8_t)~RTC_A_UIP;    /* UIP is read-only */
	if (hold && r->div_running) {
		r->div_running = false;
		r->tick_base = r->eval_tick = 0;
	} else if (!hold && !r->div_running) {
		r->div_running = true;
		r->div_origin = rtc_now(r);
		r->tick_base = r->eval_tick = RELEASE_TICK;
	}
}

static void write_time(struct rtc *r, unsigned i, uint8_t v)
{
	struct rtc_time *t = &r->tm;
	switch (i) {
	case RTC_SECONDS: t->sec = dec(r, v & 0x7f); break;     /* bit 7 read-only */
	case RTC_MINUTES: t->min = dec(r, v); break;
	case RTC_HOURS: t->hour = dec_hour(r, v); break;
	case RTC_DAY_OF_WEEK: t->dow = dec(r, v); break;
	case RTC_DAY_OF_MONTH: t->dom = dec(r, v); break;
	case RTC_MONTH: t->mon = dec(r, v); break;
	case RTC_YEAR: t->year = dec(r, v); break;
	case RTC_CENTURY: t->century = dec(r, v); break;
	}
}

static void write_reg(struct rtc *r, unsigned i, uint8_t v)
{
	refresh(r);
	switch (i) {
	case RTC_SECONDS: case RTC_MINUTES: case RTC_HOURS: case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH: case RTC_MONTH: case RTC_YEAR: case RTC_CENTURY:
		write_time(r, i, v);
		break;
	case RTC_REG_A:
		write_reg_a(r, v);
		break;
	case RTC_REG_B:
		/* SET = 1 clears UIE (DS12887 register B: "the SET bit going
		 * high clears the UIE bit"; QEMU clears it on every write with
		 * SET = 1). Enabling a source whose flag is already set raises
		 * IRQ8 at once (IRQF is PF&PIE | AF&AIE | UF&UIE). */
		r->ram[RTC_REG_B] = v & RTC_B_SET ? v & (uint8_t)~RTC_B_UIE : v;
		break;
	case RTC_REG_C: case RTC_REG_D:
		break;                                  /* read-only */
	default:
		r->ram[i] = v;                          /* alarm bytes and RAM */
		break;
	}
	update_irq(r);
	rearm(r);
}

static uint64_t rtc_pio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct rtc *r = opaque;
	uint64_t v = 0;
	for (unsigned k = 0; k < size; k++) {
		/* The index register is write-only on the PC; reads of 70h
		 * return FFh as QEMU's. */
		uint8_t b = offset + k == 0 ? 0xff : read_reg(r, r->index & 0x7f);
		v |= (uint64_t)b << (8 * k);
	}
	return v;
}

static void rtc_pio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct rtc *r = opaque;
	for (unsigned k = 0; k < size; k++) {
		uint8_t b = (uint8_t)(value >> (8 * k));
		if (offset + k == 0)
			r->index = b;
		else
			write_reg(r, r->index & 0x7f, b);
	}
}

static const struct io_ops rtc_ops = { .read = rtc_pio_read, .write = rtc_pio_write };

/* ---- Public API ---- */

struct rtc *rtc_create(struct pio_bus *pio, struct clock *ck, const struct irq_line *irq8,
		       int64_t base_unix_time)
{
	struct rtc *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->ck = ck;
	r->hz = clock_hz(ck);
	assert(r->hz > 0);
	if (irq8)
		r->irq = *irq8;
	dev_timer_init(&r->timer, "rtc", rtc_fire, r);
	tm_from_unix(&r->tm, base_unix_time);
	r->ram[RTC_REG_A] = RTC_A_DV_32K | 6;   /* 26h: what the PC BIOS programs */
	r->ram[RTC_REG_B] = RTC_B_24H;
	r->div_running = true;
	r->div_origin = clock_now(ck);
	if (pio_register(pio, RTC_PORT_INDEX, 2, &rtc_ops, r, "cmos-rtc")) {
		free(r);
		return NULL;
	}
	return r;
}

void rtc_destroy(struct rtc *r)
{
	clock_disarm(r->ck, &r->timer);
	free(r);
}

void rtc_reset(struct rtc *r)
{
	refresh(r);
	r->ram[RTC_REG_B] &= (uint8_t)~(RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE);
	r->flags = 0;
	update_irq(r);
	rearm(r);
}

bool rtc_nmi_disabled(const struct rtc *r)
{
	return (r->index & RTC_NMI_DISABLE) != 0;
}

void rtc_cmos_set(struct rtc *r, unsigned index, uint8_t v)
{
	assert(index < RTC_CMOS_SIZE);
	write_reg(r, index, v);
}

static void set16(struct rtc *r, unsigned lo, uint64_t v)
{
	rtc_cmos_set(r, lo, (uint8_t)v);
	rtc_cmos_set(r, lo + 1, (uint8_t)(v >> 8));
}

void rtc_cmos_set_memory(struct rtc *r, uint64_t ram_bytes, int ncpus)
{
	const uint64_t mib = 1ull << 20, gib4 = 1ull << 32;
	uint64_t below = ram_bytes < gib4 ? ram_bytes : gib4;
	uint64_t above = ram_bytes - below;
	uint64_t base_kib = below / 1024 < 640 ? below / 1024 : 640;
	uint64_t ext_kib = below > mib ? (below - mib) / 1024 : 0;
	uint64_t over16 = below > 16 * mib ? (below - 16 * mib) / 65536 : 0;
	uint64_t over4g = above / 65536;
	set16(r, 0x15, base_kib);
	set16(r, 0x17, ext_kib < 0xffff ? ext_kib : 0xffff);
	set16(r, 0x30, ext_kib < 0xffff ? ext_kib : 0xffff);
	set16(r, 0x34, over16 < 0xffff ? over16 : 0xffff);
	rtc_cmos_set(r, 0x5b, (uint8_t)over4g);
	rtc_cmos_set(r, 0x5c, (uint8_t)(over4g >> 8));
	rtc_cmos_set(r, 0x5d, (uint8_t)(over4g >> 16));
	rtc_cmos_set(r, 0x5f, (uint8_t)(ncpus > 0 ? ncpus - 1 : 0));
}

static int parse_num(const char *s, int n, int *out)
{
	int v = 0;
	for (int k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -1;
		v = v * 10 + (s[k] - '0');
	}
	*out = v;
	return 0;
}

int rtc_parse_base(const char *s, int64_t *out)
{
	size_t len = strlen(s);
	int y, mo, d, h = 0, mi = 0, sec = 0;
	if (len != 10 && len != 19)
		return -1;
	if (parse_num(s, 4, &y) || s[4] != '-' || parse_num(s + 5, 2, &mo) || s[7] != '-' ||
	    parse_num(s + 8, 2, &d))
		return -1;
	if (len == 19 && (s[10] != 'T' || parse_num(s + 11, 2, &h) || s[13] != ':' ||
			  parse_num(s + 14, 2, &mi) || s[16] != ':' || parse_num(s + 17, 2, &sec)))
		return -1;
	int64_t day = days_from_civil(y, mo, d);
	int64_t mlen = days_from_civil(y, mo + 1, 1) - days_from_civil(y, mo, 1);
	if (mo < 1 || mo > 12 || d < 1 || d > mlen || h > 23 || mi > 59 || sec > 59)
		return -1;
	*out = day * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

void rtc_dump(void *opaque, FILE *out)
{
	struct rtc *r = opaque;
	refresh(r);
	const struct rtc_time *t = &r->tm;
	fprintf(out, "rtc: %02d%02d-%02d-%02d %02d:%02d:%02d dow %d  A=%02x B=%02x C(flags)=%02x irq8=%d"
		" index=%02x nmi-%s\n", t->century, t->year, t->mon, t->dom, t->hour, t->min, t->sec,
		t->dow, read_reg(r, RTC_REG_A), r->ram[RTC_REG_B], r->flags, r->irq_level,
		r->index & 0x7f, rtc_nmi_disabled(r) ? "disabled" : "enabled");
	fprintf(out, "  alarm %02x:%02x:%02x  divider %s tick %llu", r->ram[RTC_HOURS_ALARM],
		r->ram[RTC_MINUTES_ALARM], r->ram[RTC_SECONDS_ALARM],
		r->div_running ? "running" : "in reset", (unsigned long long)r->eval_tick);
	if (dev_timer_armed(&r->timer))
		fprintf(out, "  next event at cycle %llu", (unsigned long long)r->timer.when);
	fprintf(out, "\n");
}
