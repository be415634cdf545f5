/* testdev: QEMU's pc-testdev as kvm-unit-tests drives it. A byte written
 * to port 0x2000 + n sets interrupt line n; ports 0xe0-0xe3 are a scratch
 * register. Through the lines: a level-triggered IOAPIC input stays
 * asserted until the handler lowers it (remote IRR set while in service,
 * the interrupt sent again on EOI while the line is still high: 82093AA
 * datasheet, redirection table; SDM vol. 3A 10.8.5 EOI), an edge-triggered
 * input fires once per rising edge, and pins 16-23 (no ISA IRQ) work too.
 */
#include "guest.h"
#include "apic.h"

#define VEC_LEVEL 0x85
#define VEC_EDGE  0x86
#define VEC_HIGH  0x87
#define VEC_SPURIOUS 0xff
#define PIN_LEVEL 14
#define PIN_EDGE  15
#define PIN_HIGH  20
#define SCRATCH   0xe0

static uint32_t apic_id;
static struct {
	volatile unsigned level, edge, high;
	volatile bool remote_irr_in_isr;
	volatile unsigned lower_after;  /* the level handler lowers the line on this call */
} st;

static void set_irq_line(unsigned line, int v)
{
	outb(0x2000 + line, (uint8_t)v);
}

static void handler(struct intr_frame *f)
{
	switch (f->vector) {
	case VEC_LEVEL:
		st.level++;
		st.remote_irr_in_isr = ioapic_get_redir(PIN_LEVEL) & IOAPIC_REMOTE_IRR;
		if (st.level >= st.lower_after)
			set_irq_line(PIN_LEVEL, 0);
		break;
	case VEC_EDGE:
		st.edge++;
		break;
	case VEC_HIGH:
		st.high++;
		break;
	}
	apic_eoi();
}

static void settle(void)
{
	sti();
	for (int i = 0; i < 1000; i++)
		asm volatile("pause");
	cli();
}

static void check_scratch(void)
{
	outl(SCRATCH, 0x12345678);
	report_eq(inl(SCRATCH), 0x12345678, "scratch register reads back a dword");
	outb(SCRATCH + 2, 0xab);
	report_eq(inl(SCRATCH), 0x12ab5678, "a byte write changes only its byte");
	report_eq(inw(SCRATCH + 2), 0x12ab, "a word read at offset 2");
}

static void check_level(void)
{
	ioapic_set_redir(PIN_LEVEL, IOAPIC_DEST(apic_id) | IOAPIC_LEVEL | VEC_LEVEL);
	st.lower_after = 1;
	set_irq_line(PIN_LEVEL, 1);
	settle();
	report_eq(st.level, 1, "level line raised: one interrupt, the handler lowers the line");
	report(st.remote_irr_in_isr, "remote IRR is set while the interrupt is in service");
	report(!(ioapic_get_redir(PIN_LEVEL) & IOAPIC_REMOTE_IRR), "remote IRR clear after the EOI");

	st.level = 0;
	st.lower_after = 2;
	set_irq_line(PIN_LEVEL, 1);
	settle();
	report_eq(st.level, 2, "line still high at EOI: the interrupt is sent again, then lowered");
	ioapic_set_redir(PIN_LEVEL, IOAPIC_MASKED | VEC_LEVEL);
}

static void check_edge(unsigned pin, uint8_t vec, volatile unsigned *count, const char *what)
{
	ioapic_set_redir(pin, IOAPIC_DEST(apic_id) | vec);
	set_irq_line(pin, 1);
	settle();
	report(*count == 1, "%s: a rising edge gives one interrupt (%u)", what, *count);
	set_irq_line(pin, 1);
	settle();
	report(*count == 1, "%s: writing 1 again is no edge (%u)", what, *count);
	set_irq_line(pin, 0);
	set_irq_line(pin, 1);
	settle();
	report(*count == 2, "%s: low then high is a second edge (%u)", what, *count);
	set_irq_line(pin, 0);
	ioapic_set_redir(pin, IOAPIC_MASKED | vec);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic, (void)mbinfo;
	apic_id = apic_read(APIC_ID) >> 24;
	apic_sw_enable(VEC_SPURIOUS);
	idt_set_handler(VEC_LEVEL, handler, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_EDGE, handler, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_HIGH, handler, GATE_INTERRUPT, 0);

	check_scratch();
	check_level();
	check_edge(PIN_EDGE, VEC_EDGE, &st.edge, "ISA line 15");
	check_edge(PIN_HIGH, VEC_HIGH, &st.high, "IOAPIC pin 20");
	report_summary();
}
