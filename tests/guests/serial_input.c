/* serial_input: COM1 receive, for the record/replay test
 * (tests/guests/determinism.sh) and a replayed case in guests.vts.
 *
 * Reads one line from COM1 and echoes every byte with the TSC at which the
 * guest saw it ("RX 0x68 'h' tsc=N"), then the line ("LINE: ..."). How it
 * waits for a byte (-append "mode=..."):
 *   poll    spin on LSR.DR (PC16550D 8.4)
 *   pic     IRQ4 through the master 8259 (vector 24H) and the BSP's LINT0
 *           in ExtINT mode, HLT while waiting
 *   ioapic  IRQ4 = GSI 4 through IOAPIC pin 4 (vector 34H, edge, fixed, to
 *           the BSP), HLT while waiting
 * Optional checks:
 *   expect=TEXT     the line read (without the newline) is TEXT
 *   at=FIRST:STEP   byte k was delivered at cycle FIRST + k * STEP (the
 *                   replay file says so): the guest must see it no earlier,
 *                   and at most tol=N cycles later (default 2000)
 */
#include "guest.h"

#define COM1            0x3f8
#define UART_RBR        0
#define UART_IER        1
#define UART_IIR        2
#define UART_MCR        4
#define UART_LSR        5
#define IER_ERBFI       0x01            /* received data available interrupt */
#define MCR_OUT2        0x08            /* gates the IRQ line on a PC */
#define LSR_DR          0x01
#define COM1_IRQ        4

#define PIC1_CMD        0x20
#define PIC1_DATA       0x21
#define PIC2_CMD        0xa0
#define PIC2_DATA       0xa1
#define PIC_EOI         0x20
#define PIC1_VECTOR     0x20
#define PIC2_VECTOR     0x28

#define XAPIC_BASE      0xfee00000ul
#define XAPIC_EOI       0x0b0
#define XAPIC_SVR       0x0f0
#define XAPIC_LVT_LINT0 0x350
#define LVT_EXTINT      (7u << 8)
#define IOAPIC_BASE     0xfec00000ul
#define IOAPIC_VECTOR   0x34

#define MAX_LINE        128
#define DEFAULT_TOL     2000

enum mode { MODE_POLL, MODE_PIC, MODE_IOAPIC };

struct rx {
	uint8_t byte;
	uint64_t tsc;
};

static volatile struct rx ring[MAX_LINE];
static volatile unsigned ring_head, ring_tail;
static volatile unsigned irqs;

static void xapic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(XAPIC_BASE + reg) = v;
}

/* 82093AA datasheet 3.0: IOREGSEL at +0, IOWIN at +10H; redirection
 * entry n is registers 10H + 2n (low) and 11H + 2n (high). */
static void ioapic_write(uint8_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

/* Moves every byte in the receive FIFO into the ring, stamped with the
 * TSC now. */
static void drain_uart(void)
{
	while (inb(COM1 + UART_LSR) & LSR_DR) {
		uint8_t b = inb(COM1 + UART_RBR);
		if (ring_head - ring_tail < MAX_LINE)
			ring[ring_head++ % MAX_LINE] = (struct rx){ b, rdtsc() };
	}
}

static void on_com1_pic(struct intr_frame *f)
{
	(void)f;
	irqs++;
	drain_uart();
	outb(PIC1_CMD, PIC_EOI);                /* non-specific EOI (8259A OCW2) */
}

static void on_com1_ioapic(struct intr_frame *f)
{
	(void)f;
	irqs++;
	drain_uart();
	xapic_write(XAPIC_EOI, 0);
}

/* 8259A ICW1-ICW4: edge, cascade, vectors 20H/28H, slave on IR2, 8086
 * mode; then only IR4 unmasked (OCW1). */
static void setup_pic(void)
{
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, PIC1_VECTOR);
	outb(PIC2_DATA, PIC2_VECTOR);
	outb(PIC1_DATA, 1u << 2);
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_DATA, 0x01);
	outb(PIC2_DATA, 0xff);
	/* SDM vol. 3A 10.5.1: LINT0 as ExtINT hands the 8259's INTR to the
	 * core (what the firmware leaves; set here so the test does not
	 * depend on it). */
	xapic_write(XAPIC_SVR, 0x1ff);
	xapic_write(XAPIC_LVT_LINT0, LVT_EXTINT);
	idt_set_handler(PIC1_VECTOR + COM1_IRQ, on_com1_pic, GATE_INTERRUPT, 0);
	outb(PIC1_DATA, (uint8_t)~(1u << COM1_IRQ));
}

static void setup_ioapic(void)
{
	uint32_t bsp_id = *(volatile uint32_t *)(XAPIC_BASE + 0x20) >> 24;

	xapic_write(XAPIC_SVR, 0x1ff);
	idt_set_handler(IOAPIC_VECTOR, on_com1_ioapic, GATE_INTERRUPT, 0);
	/* Fixed, physical, active high, edge, unmasked (82093AA 3.2.4). */
	ioapic_write(0x11 + 2 * COM1_IRQ, bsp_id << 24);
	ioapic_write(0x10 + 2 * COM1_IRQ, IOAPIC_VECTOR);
}

static void enable_uart_irq(void)
{
	outb(COM1 + UART_MCR, inb(COM1 + UART_MCR) | MCR_OUT2);
	outb(COM1 + UART_IER, IER_ERBFI);
}

static struct rx next_byte(enum mode m)
{
	struct rx r;

	cli();
	while (ring_head == ring_tail) {
		if (m == MODE_POLL)
			drain_uart();
		else
			asm volatile("sti; hlt; cli" : : : "memory");
	}
	r = (struct rx){ ring[ring_tail % MAX_LINE].byte, ring[ring_tail % MAX_LINE].tsc };
	ring_tail++;
	sti();
	return r;
}

static const char *cmdline_of(uint32_t mbinfo)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbinfo;

	return (mbi->flags & MBI_CMDLINE) ? (const char *)(uintptr_t)mbi->cmdline : "";
}

static enum mode parse_mode(const char *cmd)
{
	char buf[16];

	if (!cmdline_get(cmd, "mode", buf, sizeof(buf)) || !strcmp(buf, "poll"))
		return MODE_POLL;
	if (!strcmp(buf, "pic"))
		return MODE_PIC;
	if (!strcmp(buf, "ioapic"))
		return MODE_IOAPIC;
	report(false, "unknown mode=%s (poll, pic, ioapic)", buf);
	report_summary();
}

/* "FIRST:STEP" */
static bool parse_at(const char *cmd, uint64_t *first, uint64_t *step)
{
	char buf[48], *colon;

	if (!cmdline_get(cmd, "at", buf, sizeof(buf)))
		return false;
	colon = buf;
	while (*colon && *colon != ':')
		colon++;
	if (*colon != ':')
		return false;
	*colon = 0;
	return parse_u64(buf, first) && parse_u64(colon + 1, step);
}

static void check_timing(const char *cmd, const struct rx *rx, unsigned n)
{
	uint64_t first, step, tol = DEFAULT_TOL;
	char buf[24];
	bool ok = true;

	for (unsigned k = 1; k < n; k++)
		ok &= rx[k].tsc >= rx[k - 1].tsc;
	report(ok, "arrival TSCs never go backwards");
	if (!parse_at(cmd, &first, &step))
		return;
	if (cmdline_get(cmd, "tol", buf, sizeof(buf)))
		parse_u64(buf, &tol);
	for (unsigned k = 0; k < n; k++) {
		uint64_t due = first + k * step;
		/* Input is delivered at its recorded cycle (sim/input.h): the
		 * guest cannot see it before, and sees it within tol after. */
		report(rx[k].tsc >= due && rx[k].tsc - due <= tol,
		       "byte %u due at cycle %lu seen at TSC %lu (+%ld)", k, due, rx[k].tsc,
		       (long)(rx[k].tsc - due));
	}
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	const char *cmd = cmdline_of(mbinfo);
	enum mode m = parse_mode(cmd);
	static struct rx rx[MAX_LINE];
	char line[MAX_LINE + 1], want[MAX_LINE + 1];
	unsigned n = 0;

	(void)magic;
	if (m == MODE_PIC)
		setup_pic();
	else if (m == MODE_IOAPIC)
		setup_ioapic();
	if (m != MODE_POLL)
		enable_uart_irq();
	printf("serial_input: mode %s, type a line\n", m == MODE_POLL ? "poll" : m == MODE_PIC ? "pic" : "ioapic");
	sti();
	while (n < MAX_LINE) {
		rx[n] = next_byte(m);
		printf("RX %#04x '%c' tsc=%lu\n", rx[n].byte,
		       rx[n].byte >= 0x20 && rx[n].byte < 0x7f ? rx[n].byte : '.', rx[n].tsc);
		if (rx[n++].byte == '\n')
			break;
	}
	cli();
	for (unsigned k = 0; k < n; k++)
		line[k] = (char)rx[k].byte;
	line[n && line[n - 1] == '\n' ? n - 1 : n] = 0;
	printf("LINE: %s\n", line);
	report(n && rx[n - 1].byte == '\n', "a whole line arrived (%u bytes)", n);
	if (m != MODE_POLL)
		report(irqs > 0 && irqs <= n, "IRQ4 delivered %u times for %u bytes", irqs, n);
	if (cmdline_get(cmd, "expect", want, sizeof(want)))
		report(!strcmp(line, want), "the line is \"%s\"", want);
	check_timing(cmd, rx, n);
	report_summary();
}
