/* CMOS real-time clock and RAM: Motorola MC146818A / Dallas DS12887
 * datasheets, as wired in the PC (OSDev "CMOS", "RTC").
 *
 * Port 0x70 is the index register (bits 6:0 select one of 128 bytes, bit 7
 * is the chipset's NMI-disable latch), port 0x71 the data register. Bytes
 * 00h-09h are the time, calendar and alarm, 0Ah-0Dh registers A-D, 32h the
 * century (IBM convention, kept by the RTC as QEMU does), the rest
 * battery-backed RAM. Time comes only from the simulated clock: at the
 * cycle the RTC is created it reads base_unix_time (UTC) and it counts one
 * second per clock_hz() cycles; its 32.768 kHz divider chain is derived
 * from simulated cycles without drift. Interrupts go out on IRQ8: the line
 * goes to 1 when IRQF becomes set and back to 0 when register C is read.
 */
#ifndef DEVICES_RTC_H
#define DEVICES_RTC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

#define RTC_PORT_INDEX 0x70
#define RTC_PORT_DATA 0x71
#define RTC_IRQ 8
#define RTC_CMOS_SIZE 128

/* 2025-01-01T00:00:00Z: the start time when no -rtc base= is given. */
#define RTC_DEFAULT_BASE 1735689600ll

/* Byte indices (MC146818A "Address Map"; 32h IBM PC/AT century). */
enum {
	RTC_SECONDS = 0x00, RTC_SECONDS_ALARM = 0x01,
	RTC_MINUTES = 0x02, RTC_MINUTES_ALARM = 0x03,
	RTC_HOURS = 0x04, RTC_HOURS_ALARM = 0x05,
	RTC_DAY_OF_WEEK = 0x06, RTC_DAY_OF_MONTH = 0x07,
	RTC_MONTH = 0x08, RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c, RTC_REG_D = 0x0d,
	RTC_CENTURY = 0x32,
};

#define RTC_NMI_DISABLE 0x80            /* port 0x70 bit 7 */

#define RTC_A_UIP 0x80                  /* update in progress, read-only */
#define RTC_A_DV_MASK 0x70              /* divider: 010 = 32.768 kHz running */
#define RTC_A_DV_32K 0x20
#define RTC_A_DV_RESET 0x60             /* 11x: divider chain held in reset */
#define RTC_A_RS_MASK 0x0f              /* periodic rate select */

#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_SQWE 0x08
#define RTC_B_DM 0x04                   /* 1 = binary, 0 = BCD */
#define RTC_B_24H 0x02
#define RTC_B_DSE 0x01

#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10

#define RTC_D_VRT 0x80

#define RTC_ALARM_DONT_CARE 0xc0        /* 11xxxxxx: matches any value */

struct rtc;

/* Claims ports 0x70-0x71 on pio; IRQ8 on *irq8 (copied; may be NULL).
 * Power-on state: time = base_unix_time, A = 26h (32.768 kHz, 1024 Hz),
 * B = 02h (24-hour, BCD), C = 0, D = 80h, RAM zero. NULL on allocation
 * failure or when the ports are taken. */
struct rtc *rtc_create(struct pio_bus *pio, struct clock *ck, const struct irq_line *irq8,
		       int64_t base_unix_time);
/* Disarms the RTC's timer and frees it; the bus must not be used after. */
void rtc_destroy(struct rtc *r);
/* The RESET pin (MC146818A "RESET"): clears PIE, AIE, UIE and SQWE in B
 * and IRQF, PF, AF, UF in C, releasing IRQ8. Time, calendar, alarm, RAM,
 * register A and B's SET/DM/24H/DSE are kept; the time keeps running. The
 * index register and its NMI-disable bit are kept (as QEMU). */
void rtc_reset(struct rtc *r);
void rtc_dump(void *opaque, FILE *out);

/* Bit 7 of the last write to port 0x70 (NMI masked by the chipset). */
bool rtc_nmi_disabled(const struct rtc *r);

/* Store v at CMOS index (0..127) exactly as a guest write through port
 * 0x71 would, for the machine filling BIOS bytes. */
void rtc_cmos_set(struct rtc *r, unsigned index, uint8_t v);
/* The memory-size and CPU-count bytes QEMU's PC sets and SeaBIOS reads:
 * 15h/16h base memory KiB (640), 17h/18h and 30h/31h KiB above 1 MiB
 * (max 65535), 34h/35h 64 KiB blocks between 16 MiB and 4 GiB (max
 * 65535), 5Bh-5Dh 64 KiB blocks above 4 GiB, 5Fh CPUs - 1. vtxsim's RAM
 * is one block from address 0, so bytes below 4 GiB = min(ram, 4 GiB). */
void rtc_cmos_set_memory(struct rtc *r, uint64_t ram_bytes, int ncpus);

/* Parse the value of `-rtc base=`: "YYYY-MM-DDTHH:MM:SS" or "YYYY-MM-DD",
 * UTC, into seconds since 1970-01-01T00:00:00Z. 0, or -1 for anything
 * else, including "utc" and "localtime" (host time would break
 * determinism) and out-of-range fields. */
int rtc_parse_base(const char *s, int64_t *out);

#endif
