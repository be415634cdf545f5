/* 8259A pair, 8254 PIT and CMOS access for the guest tests (lib/pic.h). */
#include "guest.h"
#include "pic.h"

#define ICW1_INIT 0x10
#define ICW1_IC4  0x01
#define ICW4_8086 0x01
#define ICW4_AEOI 0x02
#define PIT_INPUT_NUM 105000000ul       /* 1.193182 MHz = 105 MHz / 88 */
#define PIT_INPUT_DEN 88ul

void pic_init(uint8_t base1, uint8_t base2, bool aeoi)
{
	uint8_t icw4 = (uint8_t)(ICW4_8086 | (aeoi ? ICW4_AEOI : 0));

	outb(PIC1_CMD, ICW1_INIT | ICW1_IC4);   /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2_CMD, ICW1_INIT | ICW1_IC4);
	outb(PIC1_DATA, base1);                 /* ICW2: vector base */
	outb(PIC2_DATA, base2);
	outb(PIC1_DATA, 1u << 2);               /* ICW3 master: slave on IR2 */
	outb(PIC2_DATA, 2);                     /* ICW3 slave: its cascade id */
	outb(PIC1_DATA, icw4);
	outb(PIC2_DATA, icw4);
	pic_set_imr(0xffff);
}

void pic_set_imr(uint16_t mask)
{
	outb(PIC1_DATA, (uint8_t)mask);
	outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

uint16_t pic_get_imr(void)
{
	return (uint16_t)(inb(PIC1_DATA) | inb(PIC2_DATA) << 8);
}

void pic_unmask(unsigned irq)
{
	pic_set_imr((uint16_t)(pic_get_imr() & ~(1u << irq)));
}

void pic_mask(unsigned irq)
{
	pic_set_imr((uint16_t)(pic_get_imr() | 1u << irq));
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, OCW2_EOI);
	outb(PIC1_CMD, OCW2_EOI);
}

static uint16_t pic_read_ocw3(uint8_t ocw3)
{
	outb(PIC1_CMD, ocw3);
	outb(PIC2_CMD, ocw3);
	return (uint16_t)(inb(PIC1_CMD) | inb(PIC2_CMD) << 8);
}

uint16_t pic_read_irr(void)
{
	return pic_read_ocw3(OCW3_READ_IRR);
}

uint16_t pic_read_isr(void)
{
	uint16_t v = pic_read_ocw3(OCW3_READ_ISR);

	pic_read_ocw3(OCW3_READ_IRR);           /* leave IRR selected */
	return v;
}

void pit_control(unsigned ch, unsigned mode)
{
	outb(PIT_CMD, (uint8_t)(ch << 6 | 3u << 4 | (mode & 7) << 1));
}

void pit_write_count(unsigned ch, uint16_t divisor)
{
	outb((uint16_t)(PIT_CH0 + ch), (uint8_t)divisor);
	outb((uint16_t)(PIT_CH0 + ch), (uint8_t)(divisor >> 8));
}

void pit_start(unsigned ch, unsigned mode, uint16_t divisor)
{
	pit_control(ch, mode);
	pit_write_count(ch, divisor);
}

void pit_latch(unsigned ch)
{
	outb(PIT_CMD, (uint8_t)(ch << 6));      /* counter latch: RW = 00 */
}

uint16_t pit_read_latched(unsigned ch)
{
	uint8_t lo = inb((uint16_t)(PIT_CH0 + ch));

	return (uint16_t)(lo | inb((uint16_t)(PIT_CH0 + ch)) << 8);
}

uint16_t pit_latch_read(unsigned ch)
{
	pit_latch(ch);
	return pit_read_latched(ch);
}

uint8_t pit_read_status(unsigned ch)
{
	/* Read-back: 11, COUNT# = 1 (no count latch), STATUS# = 0, CNTn. */
	outb(PIT_CMD, (uint8_t)(0xc0 | 0x20 | 2u << ch));
	return inb((uint16_t)(PIT_CH0 + ch));
}

/* 64-bit arithmetic (no libgcc for 128-bit division): exact while
 * n * hz * 88 < 2^64, i.e. n < 10^8 PIT clocks at 2 GHz. */
uint64_t pit_ticks_to_cycles(uint64_t n, uint64_t hz)
{
	return n * hz * PIT_INPUT_DEN / PIT_INPUT_NUM;
}

uint8_t cmos_read(uint8_t index)
{
	outb(0x70, index & 0x7f);
	return inb(0x71);
}

void cmos_write(uint8_t index, uint8_t v)
{
	outb(0x70, index & 0x7f);
	outb(0x71, v);
}

uint64_t tsc_hz(void)
{
	if (cpuid(0, 0).a < 0x15)
		return 0;
	struct cpuid_regs r = cpuid(0x15, 0);
	if (!r.a || !r.b || !r.c)
		return 0;
	return (uint64_t)r.c * r.b / r.a;
}
