/* ioapic: the I/O APIC at 0xFEC00000 (Intel 82093AA datasheet; version
 * 0x20 adds the EOI register at offset 0x40 as ICH/PCH parts have it).
 *
 * ID/version registers, entries masked at reset, redirection entries read
 * back with their read-only bits, ISA IRQ0 (the PIT) on GSI 2 and the RTC
 * on GSI 8 as edge interrupts at chosen vectors (periods in TSC cycles),
 * masking, a destination nobody has, priority between two IOAPIC vectors,
 * and a level-triggered source: COM1's THRE interrupt on GSI 4 keeps the
 * line high until serviced, so remote IRR is set until EOI, the local APIC
 * records the vector in TMR, and an EOI with the line still high sends the
 * interrupt again; the directed EOI register with EOI broadcast suppressed.
 */
#include "guest.h"
#include "apic.h"
#include "pic.h"

#define VEC_PIT   0x42
#define VEC_UART  0x44
#define VEC_RTC   0x48
#define VEC_RTC_HI 0x68
#define VEC_SPURIOUS 0xff
#define GSI_PIT   2
#define GSI_UART  4
#define GSI_RTC   8
#define PIT_DIVISOR 1193
#define JITTER    200
#define MAX_LOG   16
#define COM1      0x3f8
#define UART_IER  1
#define UART_IIR  2
#define UART_MCR  4
#define UART_IER_ETBEI 0x02
#define UART_MCR_OUT2  0x08
#define SVR_SUPPRESS_EOI_BCAST (1u << 12)
#define LVR_SUPPRESS_EOI_BCAST (1u << 24)

static uint64_t hz;
static uint32_t apic_id;
static struct {
	volatile unsigned n;
	volatile uint8_t vec[MAX_LOG];
	volatile uint64_t tsc[MAX_LOG];
	volatile bool in_isr[MAX_LOG], in_tmr[MAX_LOG];
	volatile uint64_t entry[MAX_LOG];       /* the UART pin's entry, in its handler */
	volatile bool eoi, service_uart;
} lg;

static void log_irq(uint8_t vec)
{
	uint64_t t = rdtsc();
	unsigned i = lg.n;

	if (i < MAX_LOG) {
		lg.vec[i] = vec;
		lg.tsc[i] = t;
		lg.in_isr[i] = apic_vec_bit(APIC_ISR, vec);
		lg.in_tmr[i] = apic_vec_bit(APIC_TMR, vec);
		lg.entry[i] = vec == VEC_UART ? ioapic_get_redir(GSI_UART) : 0;
	}
	lg.n = i + 1;
}

static void handler(struct intr_frame *f)
{
	log_irq((uint8_t)f->vector);
	if (f->vector == VEC_RTC || f->vector == VEC_RTC_HI)
		cmos_read(RTC_REG_C);           /* lowers IRQ8 */
	if (f->vector == VEC_UART && lg.service_uart) {
		inb(COM1 + UART_IIR);           /* IIR read clears the THRE interrupt */
		outb(COM1 + UART_IER, 0);
	}
	if (lg.eoi)
		apic_eoi();
}

static void log_reset(bool eoi)
{
	lg.n = 0;
	lg.eoi = eoi;
	lg.service_uart = false;
}

static void wait_irqs(unsigned n, uint64_t cycles)
{
	uint64_t end = rdtsc() + cycles;

	sti();
	while (lg.n < n && rdtsc() < end)
		asm volatile("pause");
	cli();
}

static uint64_t edge_entry(uint8_t vector, uint32_t dest)
{
	return IOAPIC_DEST(dest) | vector;
}

static bool periods_ok(unsigned first, unsigned count, uint64_t period)
{
	bool ok = true;

	for (unsigned i = first + 1; i < first + count; i++) {
		uint64_t d = lg.tsc[i] - lg.tsc[i - 1];
		if (!near(d, period, JITTER)) {
			printf("      %u..%u: %lu cycles\n", i - 1, i, d);
			ok = false;
		}
	}
	return ok;
}

/* 82093AA 3.2.1-3.2.3: ID in bits 27:24 (read/write), version 7:0 and
 * maximum redirection entry 23:16 (23 for 24 pins); 3.2.4: every entry
 * is masked after reset. */
static void check_registers(void)
{
	uint32_t id = ioapic_read(IOAPIC_ID), ver = ioapic_read(IOAPIC_VER);
	bool all_masked = true;

	report_eq(ver >> 16 & 0xff, 23, "IOAPIC version register: 24 redirection entries");
	report((ver & 0xff) == 0x11 || (ver & 0xff) == 0x20, "IOAPIC version %#x (0x11 or 0x20)", ver & 0xff);
	ioapic_write(IOAPIC_ID, 0x0a000000);
	report_eq(ioapic_read(IOAPIC_ID) & 0x0f000000, 0x0a000000, "IOAPIC ID bits 27:24 are writable");
	ioapic_write(IOAPIC_ID, id);
	for (unsigned pin = 0; pin < 24; pin++)
		all_masked &= (ioapic_get_redir(pin) & IOAPIC_MASKED) != 0;
	report(all_masked, "every redirection entry is masked at reset");

	/* Delivery status (bit 12) and remote IRR (bit 14) are read-only. */
	uint64_t e = IOAPIC_DEST(0x0f) | IOAPIC_MASKED | IOAPIC_LEVEL | IOAPIC_ACTIVE_LOW | IOAPIC_LOGICAL | 0x45;
	ioapic_set_redir(5, e | IOAPIC_REMOTE_IRR | IOAPIC_DELIV_PEND);
	report_eq(ioapic_get_redir(5), e, "entry 5 reads back, read-only bits 12 and 14 clear");
	ioapic_set_redir(5, IOAPIC_MASKED);
}

/* ISA IRQ0 is wired to GSI 2 (the MADT's interrupt source override). */
static void check_pit_gsi2(void)
{
	uint64_t period = pit_ticks_to_cycles(PIT_DIVISOR, hz);

	log_reset(true);
	ioapic_set_redir(GSI_PIT, edge_entry(VEC_PIT, apic_id));
	pit_start(0, 2, PIT_DIVISOR);
	wait_irqs(5, 7 * period);
	if (report(lg.n == 5 && lg.vec[0] == VEC_PIT, "PIT via GSI 2 arrives at vector 0x42 (%u)", lg.n)) {
		report(periods_ok(0, 5, period), "GSI 2 every %lu cycles (+-%u) = %u PIT clocks", period, JITTER,
		       PIT_DIVISOR);
		report(lg.in_isr[0] && !lg.in_tmr[0], "edge vector: ISR set, TMR clear in the handler");
	}

	/* Mask: nothing sent, nothing pending in the local APIC. */
	ioapic_set_redir(GSI_PIT, edge_entry(VEC_PIT, apic_id) | IOAPIC_MASKED);
	log_reset(true);
	wait_irqs(1, 3 * period);
	report(lg.n == 0 && !apic_vec_bit(APIC_IRR, VEC_PIT), "masked GSI 2: no interrupt in 3 periods");
	ioapic_set_redir(GSI_PIT, edge_entry(VEC_PIT, apic_id));
	uint64_t t = rdtsc();
	wait_irqs(1, 2 * period);
	report(lg.n == 1 && lg.tsc[0] - t <= period + JITTER, "unmasked GSI 2: the next edge is delivered");

	/* Physical destination with no such local APIC: nobody accepts it. */
	ioapic_set_redir(GSI_PIT, edge_entry(VEC_PIT, apic_id + 7));
	log_reset(true);
	wait_irqs(1, 3 * period);
	report_eq(lg.n, 0, "destination APIC id %u (absent): not delivered here", apic_id + 7);
	ioapic_set_redir(GSI_PIT, IOAPIC_MASKED);
	pit_control(0, 0);
}

/* RTC periodic interrupt at rate 6: 32768 Hz >> 5 = 1024 Hz, on GSI 8. */
static void check_rtc_gsi8(void)
{
	uint64_t period = hz / 1024;

	log_reset(true);
	cmos_read(RTC_REG_C);
	ioapic_set_redir(GSI_RTC, edge_entry(VEC_RTC, apic_id));
	cmos_write(RTC_REG_A, 0x26);
	cmos_write(RTC_REG_B, (uint8_t)(cmos_read(RTC_REG_B) | RTC_B_PIE));
	wait_irqs(5, 7 * period);
	cmos_write(RTC_REG_B, (uint8_t)(cmos_read(RTC_REG_B) & ~RTC_B_PIE));
	ioapic_set_redir(GSI_RTC, IOAPIC_MASKED);
	cmos_read(RTC_REG_C);
	if (report(lg.n == 5 && lg.vec[0] == VEC_RTC, "RTC via GSI 8 arrives at vector 0x48 (%u)", lg.n))
		report(periods_ok(0, 5, period), "GSI 8 (RTC rate 6) every %lu cycles (+-%u)", period, JITTER);
}

/* Both pending in the local APIC's IRR: the higher vector (class 6, the
 * RTC) goes first although the PIT's came first (10.8.3.1). */
static void check_priority(void)
{
	uint64_t end;

	log_reset(true);
	ioapic_set_redir(GSI_PIT, edge_entry(VEC_PIT, apic_id));
	ioapic_set_redir(GSI_RTC, edge_entry(VEC_RTC_HI, apic_id));
	pit_start(0, 0, 50);                    /* one rising edge after 50 clocks */
	end = rdtsc() + hz / 1000;
	while (!apic_vec_bit(APIC_IRR, VEC_PIT) && rdtsc() < end)
		;
	cmos_read(RTC_REG_C);
	cmos_write(RTC_REG_B, (uint8_t)(cmos_read(RTC_REG_B) | RTC_B_PIE));
	end = rdtsc() + hz / 256;
	while (!apic_vec_bit(APIC_IRR, VEC_RTC_HI) && rdtsc() < end)
		;
	cmos_write(RTC_REG_B, (uint8_t)(cmos_read(RTC_REG_B) & ~RTC_B_PIE));
	report(apic_vec_bit(APIC_IRR, VEC_PIT) && apic_vec_bit(APIC_IRR, VEC_RTC_HI),
	       "0x42 (PIT) then 0x68 (RTC) pending in the local APIC IRR");
	wait_irqs(2, 20000);
	report(lg.n == 2 && lg.vec[0] == VEC_RTC_HI && lg.vec[1] == VEC_PIT,
	       "delivered 0x68 before 0x42 (%u)", lg.n);
	ioapic_set_redir(GSI_PIT, IOAPIC_MASKED);
	ioapic_set_redir(GSI_RTC, IOAPIC_MASKED);
	pit_control(0, 0);
	cmos_read(RTC_REG_C);
}

static uint64_t level_entry(void)
{
	return IOAPIC_DEST(apic_id) | IOAPIC_LEVEL | VEC_UART;
}

/* COM1's THRE interrupt (ETBEI with THR empty; the PC gates it with MCR
 * OUT2) holds IRQ4 high until the IIR is read. No printing while it is
 * enabled: every THR write raises it again. */
static void uart_thre_irq(bool on)
{
	outb(COM1 + UART_MCR, on ? 0x03 | UART_MCR_OUT2 : 0x03);
	outb(COM1 + UART_IER, on ? UART_IER_ETBEI : 0);
}

/* 82093AA 3.2.4: a level interrupt sets remote IRR when the local APIC
 * accepts it and clears it at the EOI for its vector; while set, no new
 * message is sent for that pin; at the EOI with the line still asserted
 * the interrupt is sent again. A masked pin sends nothing. The local APIC
 * sets TMR for a level-triggered vector (10.8.4). */
static void check_level(void)
{
	bool masked_quiet, irr_after_unmask, remote_irr_held, no_resend, resent, cleared;

	log_reset(false);
	ioapic_set_redir(GSI_UART, level_entry() | IOAPIC_MASKED);
	uart_thre_irq(true);
	wait_irqs(1, 20000);
	masked_quiet = lg.n == 0 && !apic_vec_bit(APIC_IRR, VEC_UART);
	ioapic_set_redir(GSI_UART, level_entry());
	irr_after_unmask = apic_vec_bit(APIC_IRR, VEC_UART);
	wait_irqs(1, 20000);                    /* taken, no EOI, UART not serviced */
	remote_irr_held = ioapic_get_redir(GSI_UART) & IOAPIC_REMOTE_IRR;
	no_resend = !apic_vec_bit(APIC_IRR, VEC_UART);
	apic_eoi();
	resent = apic_vec_bit(APIC_IRR, VEC_UART);
	lg.service_uart = true;
	lg.eoi = true;
	wait_irqs(2, 20000);
	wait_irqs(3, 20000);
	cleared = !(ioapic_get_redir(GSI_UART) & IOAPIC_REMOTE_IRR);
	uart_thre_irq(false);
	ioapic_set_redir(GSI_UART, IOAPIC_MASKED);

	report(masked_quiet, "level GSI 4 masked: the asserted line sends nothing");
	report(irr_after_unmask, "unmasking the asserted level pin sends the interrupt");
	if (report(lg.n >= 1 && lg.vec[0] == VEC_UART, "COM1 THRE via GSI 4 arrives at vector 0x44 (%u)", lg.n)) {
		report(lg.in_isr[0] && lg.in_tmr[0], "level vector: ISR and TMR set in the handler");
		report(lg.entry[0] & IOAPIC_REMOTE_IRR, "remote IRR set while the interrupt is in service");
	}
	report(remote_irr_held && no_resend, "no EOI: remote IRR stays set and nothing is re-sent");
	report(resent, "EOI with the line still high: the interrupt is sent again");
	report_eq(lg.n, 2, "serviced on the second delivery: exactly two interrupts");
	report(cleared, "remote IRR clear after the last EOI");
}

/* Directed EOI (10.8.5, SVR bit 12): with EOI broadcast suppressed the
 * local APIC's EOI leaves remote IRR set; writing the vector to the
 * IOAPIC's EOI register (version 0x20) clears it. */
static void check_directed_eoi(void)
{
	if ((ioapic_read(IOAPIC_VER) & 0xff) < 0x20 || !(apic_read(APIC_LVR) & LVR_SUPPRESS_EOI_BCAST)) {
		report_skip("directed EOI needs IOAPIC version 0x20 and LVR bit 24");
		return;
	}
	bool held, cleared_by_reg, resent;

	apic_write(APIC_SVR, apic_read(APIC_SVR) | SVR_SUPPRESS_EOI_BCAST);
	log_reset(false);
	ioapic_set_redir(GSI_UART, level_entry());
	uart_thre_irq(true);
	wait_irqs(1, 20000);
	apic_eoi();
	held = (ioapic_get_redir(GSI_UART) & IOAPIC_REMOTE_IRR) && !apic_vec_bit(APIC_IRR, VEC_UART);
	*(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_EOI_REG) = VEC_UART;
	resent = apic_vec_bit(APIC_IRR, VEC_UART);
	lg.service_uart = true;
	wait_irqs(2, 20000);
	apic_eoi();
	*(volatile uint32_t *)(IOAPIC_BASE + IOAPIC_EOI_REG) = VEC_UART;
	cleared_by_reg = !(ioapic_get_redir(GSI_UART) & IOAPIC_REMOTE_IRR);
	uart_thre_irq(false);
	ioapic_set_redir(GSI_UART, IOAPIC_MASKED);
	apic_write(APIC_SVR, apic_read(APIC_SVR) & ~SVR_SUPPRESS_EOI_BCAST);

	report(lg.n >= 1, "directed EOI: level interrupt delivered (%u)", lg.n);
	report(held, "EOI broadcast suppressed: remote IRR stays set after the local EOI");
	report(resent, "IOAPIC EOI register clears remote IRR; the high line is sent again");
	report(lg.n == 2 && cleared_by_reg, "serviced, then the EOI register clears remote IRR");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic, (void)mbinfo;
	hz = tsc_hz();
	if (!report(hz != 0, "CPUID leaf 15H gives the TSC rate (%lu Hz)", hz))
		report_summary();
	apic_id = apic_read(APIC_ID) >> 24;
	apic_sw_enable(VEC_SPURIOUS);
	cmos_write(RTC_REG_A, 0x26);
	static const uint8_t vecs[] = { VEC_PIT, VEC_UART, VEC_RTC, VEC_RTC_HI };
	for (unsigned i = 0; i < ARRAY_SIZE(vecs); i++)
		idt_set_handler(vecs[i], handler, GATE_INTERRUPT, 0);

	check_registers();
	check_pit_gsi2();
	check_rtc_gsi8();
	check_priority();
	check_level();
	check_directed_eoi();
	report_summary();
}
