/* Legacy ISA interrupt and timer chips as a PC guest programs them: the
 * 8259A pair (Intel 8259A datasheet: ICW1-4, OCW1-3), the 8254 PIT (Intel
 * 8254 datasheet: control word, counter latch, read-back) with port 0x61,
 * and CMOS/RTC register access through ports 0x70/0x71.
 *
 * lib/report.c masks both PICs at boot; nothing here unmasks an input
 * unless a test asks.
 */
#ifndef GUEST_PIC_H
#define GUEST_PIC_H

#include <stdbool.h>
#include <stdint.h>

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIC_ELCR1 0x4d0
#define PIC_ELCR2 0x4d1

#define OCW2_EOI       0x20             /* non-specific EOI */
#define OCW2_SPEC_EOI  0x60             /* specific EOI, level in bits 2:0 */
#define OCW3_READ_IRR  0x0a
#define OCW3_READ_ISR  0x0b

/* ICW1-ICW4: edge-triggered cascade, vector bases base1/base2 (multiples
 * of 8), slave on master IR2, 8086 mode, normal EOI unless aeoi. Ends
 * with every input masked and OCW3 selecting IRR. */
void pic_init(uint8_t base1, uint8_t base2, bool aeoi);
/* IMR of both chips as one 16-bit mask (bit n = IRQ n). */
void pic_set_imr(uint16_t mask);
uint16_t pic_get_imr(void);
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
/* Non-specific EOI to the slave (for IRQ 8-15) and the master. */
void pic_eoi(unsigned irq);
/* IRR / ISR of both chips through OCW3 (bit n = IRQ n). */
uint16_t pic_read_irr(void);
uint16_t pic_read_isr(void);

/* 8254: input clock 1.193182 MHz = 105/88 MHz exactly. */
#define PIT_CH0  0x40
#define PIT_CH2  0x42
#define PIT_CMD  0x43
#define PORT_B   0x61                   /* system control port B */
#define PORT_B_GATE2 0x01
#define PORT_B_SPKR  0x02
#define PORT_B_OUT2  0x20

/* Control word for counter ch (0-2): access LSB then MSB, binary, the
 * given mode; then the divisor (0 = 65536). */
void pit_start(unsigned ch, unsigned mode, uint16_t divisor);
/* Control word only (the counter waits for its count: null count). */
void pit_control(unsigned ch, unsigned mode);
void pit_write_count(unsigned ch, uint16_t divisor);
/* Counter latch command, then LSB and MSB of the latched count. */
uint16_t pit_latch_read(unsigned ch);
/* Read-back command latching only the status byte of counter ch. */
uint8_t pit_read_status(unsigned ch);
/* Reads the count latched earlier (LSB then MSB). */
uint16_t pit_read_latched(unsigned ch);
void pit_latch(unsigned ch);
/* CPU cycles for n PIT input clocks at tsc_hz cycles per second. */
uint64_t pit_ticks_to_cycles(uint64_t n, uint64_t tsc_hz);

/* CMOS/RTC (MC146818A): index at 0x70 with bit 7 = NMI disable (kept
 * clear), data at 0x71. */
#define RTC_SEC     0x00
#define RTC_SEC_ALM 0x01
#define RTC_MIN     0x02
#define RTC_MIN_ALM 0x03
#define RTC_HOUR    0x04
#define RTC_HOUR_ALM 0x05
#define RTC_WDAY    0x06
#define RTC_MDAY    0x07
#define RTC_MON     0x08
#define RTC_YEAR    0x09
#define RTC_REG_A   0x0a
#define RTC_REG_B   0x0b
#define RTC_REG_C   0x0c
#define RTC_REG_D   0x0d
#define RTC_CENTURY 0x32
#define RTC_A_UIP   0x80
#define RTC_B_SET   0x80
#define RTC_B_PIE   0x40
#define RTC_B_AIE   0x20
#define RTC_B_UIE   0x10
#define RTC_B_DM    0x04                /* binary (1) / BCD (0) */
#define RTC_B_24H   0x02
#define RTC_C_IRQF  0x80
#define RTC_C_PF    0x40
#define RTC_C_AF    0x20
#define RTC_C_UF    0x10

uint8_t cmos_read(uint8_t index);
void cmos_write(uint8_t index, uint8_t v);

/* TSC rate from CPUID leaf 15H (TSC = crystal * EBX / EAX), 0 if the
 * leaf does not give it. */
uint64_t tsc_hz(void);

#endif
