/* rtc: the MC146818A-compatible CMOS real-time clock (Motorola MC146818A
 * and Dallas DS12887 datasheets) on simulated time.
 *
 * The time at boot equals the start time (the default 2025-01-01T00:00:00
 * or `-rtc base=`, which guests.vts repeats as rtc=... in -append) in BCD,
 * binary and 12-hour formats; register D's VRT bit; the update-ended
 * interrupt (UIE) once per simulated second (the TSC rate in cycles) with
 * the seconds register advancing by one, UIP set ahead of the update;
 * periodic interrupts at rates 6 and 3; the alarm with don't-care hour and
 * minute; register C's flags and its clear-on-read. IRQ8 goes through the
 * slave 8259A and LINT0 (ExtINT). Long waits HLT with a local APIC timer
 * as a watchdog so the simulated clock skips ahead.
 */
#include "guest.h"
#include "apic.h"
#include "pic.h"

#define VEC_PIC     0x20
#define VEC_IRQ8    0x28
#define VEC_WATCHDOG 0xe0
#define VEC_SPURIOUS 0xff
#define JITTER      200
#define UIP_LEAD_US 244                 /* UIP rises 244 us before the update */
#define UPDATE_MAX_US 1984              /* MC146818A: the update cycle takes at most 1984 us */
#define MAX_LOG     16
#define DEFAULT_BASE "2025-01-01T00:00:00"

static uint64_t hz;
static struct {
	volatile unsigned n;
	volatile uint64_t tsc[MAX_LOG];
	volatile uint8_t c[MAX_LOG], c_again[MAX_LOG], sec[MAX_LOG];
} lg;

struct rtc_time {
	unsigned year, mon, mday, hour, min, sec;
};

/* Register C read clears it and lowers IRQ8 (datasheet "Register C"). */
static void irq8_handler(struct intr_frame *f)
{
	unsigned i = lg.n;
	uint64_t t = rdtsc();

	(void)f;
	if (i < MAX_LOG) {
		lg.tsc[i] = t;
		lg.c[i] = cmos_read(RTC_REG_C);
		lg.c_again[i] = cmos_read(RTC_REG_C);
		lg.sec[i] = cmos_read(RTC_SEC);
	} else {
		cmos_read(RTC_REG_C);
	}
	lg.n = i + 1;
	pic_eoi(8);
}

static void watchdog_handler(struct intr_frame *f)
{
	(void)f;
	apic_eoi();
}

/* HLTs with interrupts on until n IRQ8s were logged or `cycles` passed (a
 * one-shot local APIC timer at divide 128 wakes the CPU then). */
static void wait_irqs(unsigned n, uint64_t cycles)
{
	uint64_t end = rdtsc() + cycles;

	apic_write(APIC_TDCR, apic_tdcr_for(128));
	apic_write(APIC_LVTT, VEC_WATCHDOG);
	apic_write(APIC_TMICT, (uint32_t)(cycles / 128 + 1));
	while (lg.n < n && rdtsc() < end)
		asm volatile("sti; hlt; cli" ::: "memory");
	apic_write(APIC_TMICT, 0);
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 15);
}

static uint8_t bcd_inc(uint8_t v)
{
	unsigned s = (bcd(v) + 1) % 60;

	return (uint8_t)((s / 10) << 4 | s % 10);
}

static unsigned field(uint8_t v, bool binary)
{
	return binary ? v : bcd(v);
}

/* Reads the clock outside an update: waits for UIP clear (at most the
 * 244 us + 1984 us it can last), reads, and repeats until two reads
 * agree. */
static struct rtc_time read_time(bool binary)
{
	struct rtc_time a, b;

	do {
		uint64_t end = rdtsc() + hz / 400;
		while ((cmos_read(RTC_REG_A) & RTC_A_UIP) && rdtsc() < end)
			;
		a = (struct rtc_time){
			field(cmos_read(RTC_CENTURY), binary) * 100 + field(cmos_read(RTC_YEAR), binary),
			field(cmos_read(RTC_MON), binary), field(cmos_read(RTC_MDAY), binary),
			field(cmos_read(RTC_HOUR), binary), field(cmos_read(RTC_MIN), binary),
			field(cmos_read(RTC_SEC), binary),
		};
		b = (struct rtc_time){
			field(cmos_read(RTC_CENTURY), binary) * 100 + field(cmos_read(RTC_YEAR), binary),
			field(cmos_read(RTC_MON), binary), field(cmos_read(RTC_MDAY), binary),
			field(cmos_read(RTC_HOUR), binary), field(cmos_read(RTC_MIN), binary),
			field(cmos_read(RTC_SEC), binary),
		};
	} while (memcmp(&a, &b, sizeof(a)));
	return a;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int64_t to_unix(const struct rtc_time *t)
{
	return days_from_civil(t->year, t->mon, t->mday) * 86400 + t->hour * 3600 + t->min * 60 + t->sec;
}

static bool parse_num(const char *s, unsigned len, unsigned *out)
{
	*out = 0;
	for (unsigned i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (unsigned)(s[i] - '0');
	}
	return true;
}

/* "YYYY-MM-DDTHH:MM:SS" */
static bool parse_base(const char *s, struct rtc_time *t)
{
	return strlen(s) == 19 && parse_num(s, 4, &t->year) && parse_num(s + 5, 2, &t->mon) &&
	       parse_num(s + 8, 2, &t->mday) && parse_num(s + 11, 2, &t->hour) &&
	       parse_num(s + 14, 2, &t->min) && parse_num(s + 17, 2, &t->sec);
}

static void print_time(const char *what, const struct rtc_time *t)
{
	report_info("%s %04u-%02u-%02uT%02u:%02u:%02u", what, t->year, t->mon, t->mday, t->hour, t->min, t->sec);
}

/* The start time in BCD (24-hour), binary and 12-hour formats (datasheet
 * register B: DM bit 2, 24/12 bit 1; 12-hour: PM in hour bit 7). The chip
 * itself keeps the registers in the format they were set in; like QEMU's,
 * this RTC derives them from the clock at each read, so switching formats
 * needs no re-set of the time. */
static void check_start_time(uint32_t mbinfo)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbinfo;
	char arg[32] = DEFAULT_BASE;
	struct rtc_time want;

	if (mbi->flags & MBI_CMDLINE)
		cmdline_get((const char *)(uintptr_t)mbi->cmdline, "rtc", arg, sizeof(arg));
	if (!report(parse_base(arg, &want), "expected start time %s parses", arg))
		return;

	report(cmos_read(RTC_REG_D) & 0x80, "register D: VRT (valid RAM and time) set");
	cmos_write(RTC_REG_B, RTC_B_24H);
	struct rtc_time t1 = read_time(false);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_DM);
	struct rtc_time t2 = read_time(true);
	cmos_write(RTC_REG_B, RTC_B_24H);
	struct rtc_time t3 = read_time(false);
	int64_t d = to_unix(&t1) - to_unix(&want);

	print_time("RTC reads", &t1);
	report(d >= 0 && d <= 1, "BCD time equals the start time %s (+%ld s)", arg, d);
	report(!memcmp(&t1, &t2, sizeof(t1)) || !memcmp(&t2, &t3, sizeof(t2)),
	       "binary mode reads the same time as BCD");
	report_eq(cmos_read(RTC_CENTURY), (want.year / 1000) << 4 | (want.year / 100 % 10),
		  "century byte (0x32) in BCD");

	cmos_write(RTC_REG_B, 0);               /* 12-hour, BCD */
	uint8_t h12 = cmos_read(RTC_HOUR);
	cmos_write(RTC_REG_B, RTC_B_24H);
	unsigned want_h = t3.hour % 12 ? t3.hour % 12 : 12;
	uint8_t want12 = (uint8_t)((want_h / 10) << 4 | want_h % 10 | (t3.hour >= 12 ? 0x80 : 0));
	report_eq(h12, want12, "12-hour mode: hour %u reads %#x (PM in bit 7)", t3.hour, want12);
}

/* Update-ended interrupt: once per second at the update; UF and IRQF in
 * register C, and a second read returns 0. UIP rises 244 us before the
 * update (DS12887 "Register A": UIP). */
static void check_update_interrupt(void)
{
	uint64_t t_uip = 0;

	lg.n = 0;
	cmos_read(RTC_REG_C);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	wait_irqs(1, 2 * hz);
	if (!report(lg.n == 1, "update-ended interrupt arrives (%u)", lg.n))
		goto out;
	/* Sleep to 400 us before the next update, then watch UIP rise. */
	wait_irqs(2, hz - hz / 2500);
	for (uint64_t end = rdtsc() + hz / 1000; !t_uip && rdtsc() < end;)
		if (cmos_read(RTC_REG_A) & RTC_A_UIP)
			t_uip = rdtsc();
	wait_irqs(3, 2 * hz);
	if (!report(lg.n == 3, "three update-ended interrupts (%u)", lg.n))
		goto out;
	report(near(lg.tsc[1] - lg.tsc[0], hz, JITTER) && near(lg.tsc[2] - lg.tsc[1], hz, JITTER),
	       "UIE every second: %lu, %lu cycles (want %lu +-%u)", lg.tsc[1] - lg.tsc[0], lg.tsc[2] - lg.tsc[1],
	       hz, JITTER);
	/* PF is set at the rate of register A whatever PIE says; only IRQF
	 * and UF matter here. */
	report((lg.c[0] & 0x90) == 0x90 && (lg.c[1] & 0x90) == 0x90, "register C: IRQF and UF set (%#x)",
	       lg.c[0]);
	report(lg.c_again[0] == 0 && lg.c_again[1] == 0, "register C reads 0 right after a read");
	report(lg.sec[1] == bcd_inc(lg.sec[0]) && lg.sec[2] == bcd_inc(lg.sec[1]),
	       "seconds advance by one per update (%#x %#x %#x)", lg.sec[0], lg.sec[1], lg.sec[2]);
	uint64_t lead = hz / 1000000 * UIP_LEAD_US, lead_max = hz / 1000000 * (UIP_LEAD_US + UPDATE_MAX_US);
	/* t_uip was seen before the second update (lg.tsc[1]). */
	report(t_uip && t_uip < lg.tsc[1] && lg.tsc[1] - t_uip + 1000 >= lead && lg.tsc[1] - t_uip <= lead_max,
	       "UIP rose %lu cycles before the update interrupt (244 us = %lu)", t_uip ? lg.tsc[1] - t_uip : 0,
	       lead);
out:
	cmos_write(RTC_REG_B, RTC_B_24H);
	cmos_read(RTC_REG_C);
}

/* Periodic interrupt: 32768 Hz >> (rate - 1) for rates 3-15 (datasheet
 * table "Periodic Interrupt Rate"). */
static void check_periodic(unsigned rate)
{
	uint64_t num = hz << (rate - 1);        /* period = hz * 2^(rate-1) / 32768 */
	bool ok = true;

	lg.n = 0;
	cmos_read(RTC_REG_C);
	cmos_write(RTC_REG_A, (uint8_t)(0x20 | rate));
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	wait_irqs(8, 10 * num / 32768);
	cmos_write(RTC_REG_B, RTC_B_24H);
	cmos_write(RTC_REG_A, 0x26);
	cmos_read(RTC_REG_C);
	if (!report(lg.n == 8, "periodic rate %u: 8 interrupts (%u)", rate, lg.n))
		return;
	for (unsigned i = 1; i < 8; i++) {
		/* Edge i is at origin + i * num / 32768 exactly: compare each
		 * distance against the exact quotient, rounding either way. */
		uint64_t d = lg.tsc[i] - lg.tsc[i - 1];
		uint64_t want = num / 32768;
		if (d + JITTER < want || d > want + 1 + JITTER) {
			printf("      %u..%u: %lu cycles\n", i - 1, i, d);
			ok = false;
		}
	}
	report(ok, "periodic rate %u: every %lu cycles (%u Hz, +-%u)", rate, num / 32768, 32768u >> (rate - 1),
	       JITTER);
	report((lg.c[0] & 0xc0) == 0xc0, "register C: IRQF and PF set (%#x)", lg.c[0]);
}

/* Alarm: fires at the update where the time matches the alarm bytes;
 * 0xC0-0xFF in an alarm byte matches any value (datasheet "Alarm"). */
static void check_alarm(void)
{
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_DM);
	struct rtc_time now = read_time(true);
	uint8_t alarm = (uint8_t)((now.sec + 2) % 60);

	cmos_write(RTC_SEC_ALM, alarm);
	cmos_write(RTC_MIN_ALM, 0xc0);
	cmos_write(RTC_HOUR_ALM, 0xc0);
	cmos_read(RTC_REG_C);
	lg.n = 0;
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_DM | RTC_B_AIE);
	wait_irqs(1, 4 * hz);
	cmos_write(RTC_REG_B, RTC_B_24H);
	cmos_read(RTC_REG_C);
	if (report(lg.n == 1, "alarm interrupt at second %u (%u)", alarm, lg.n)) {
		report((lg.c[0] & 0xa0) == 0xa0, "register C: IRQF and AF set (%#x)", lg.c[0]);
		report_eq(lg.sec[0], alarm, "the clock reads the alarm second when it fires");
	}
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	hz = tsc_hz();
	if (!report(hz != 0, "CPUID leaf 15H gives the TSC rate (%lu Hz)", hz))
		report_summary();
	apic_sw_enable(VEC_SPURIOUS);
	idt_set_handler(VEC_IRQ8, irq8_handler, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_WATCHDOG, watchdog_handler, GATE_INTERRUPT, 0);
	pic_init(VEC_PIC, VEC_IRQ8, false);
	pic_set_imr((uint16_t)~(1u << 2 | 1u << 8));
	cmos_write(RTC_REG_A, 0x26);            /* 32.768 kHz time base, rate 6 */
	cmos_write(RTC_REG_B, RTC_B_24H);
	cmos_read(RTC_REG_C);

	check_start_time(mbinfo);
	check_update_interrupt();
	check_periodic(6);
	check_periodic(3);
	check_alarm();
	report_summary();
}
