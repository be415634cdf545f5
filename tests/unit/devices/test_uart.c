/* devices/uart16550.c: transmit, divisor latch, loopback, receive FIFO,
 * interrupt identification and the interrupt line. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "devices/uart16550.h"

#define COM1 0x3f8

/* Host side: bytes the UART sent, bytes waiting to be received, and the
 * interrupt line's history. */
struct host {
	uint8_t out[64];
	int nout;
	const uint8_t *in;
	int nin, in_pos;
	int level, edges;
};

static void host_write(void *ctx, uint8_t byte)
{
	struct host *h = ctx;
	if (h->nout < (int)sizeof(h->out))
		h->out[h->nout] = byte;
	h->nout++;
}

static int host_read(void *ctx)
{
	struct host *h = ctx;
	return h->in_pos < h->nin ? h->in[h->in_pos++] : -1;
}

static void host_irq(void *opaque, int line, int level)
{
	struct host *h = opaque;
	CU_ASSERT_EQUAL(line, 4);
	CU_ASSERT_NOT_EQUAL(level, h->level);   /* only changes are signalled */
	h->level = level;
	h->edges++;
}

struct rig {
	struct pio_bus *bus;
	struct uart16550 *u;
	struct host h;
};

static void rig_init(struct rig *r)
{
	memset(r, 0, sizeof(*r));
	r->bus = malloc(sizeof(*r->bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->bus);
	pio_init(r->bus);
	struct irq_line irq = { .handler = host_irq, .opaque = &r->h, .line = 4 };
	struct char_backend be = { .write_byte = host_write, .read_byte = host_read, .ctx = &r->h };
	r->u = uart_create(r->bus, COM1, &irq, &be);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->u);
}

static void rig_fini(struct rig *r)
{
	uart_destroy(r->u);
	free(r->bus);
}

static uint8_t in8(struct rig *r, unsigned reg)
{
	return (uint8_t)pio_read(r->bus, (uint16_t)(COM1 + reg), 1);
}

static void out8(struct rig *r, unsigned reg, uint8_t v)
{
	pio_write(r->bus, (uint16_t)(COM1 + reg), v, 1);
}

static void test_reset_state_and_ports(void)
{
	struct rig r;
	rig_init(&r);
	CU_ASSERT_EQUAL(in8(&r, UART_IER), 0);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_NO_INT);
	CU_ASSERT_EQUAL(in8(&r, UART_LCR), 0);
	CU_ASSERT_EQUAL(in8(&r, UART_MCR), 0);
	CU_ASSERT_EQUAL(in8(&r, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	CU_ASSERT_EQUAL(in8(&r, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
	out8(&r, UART_SCR, 0x5a);
	CU_ASSERT_EQUAL(in8(&r, UART_SCR), 0x5a);
	/* Eight ports are claimed, and not a ninth. */
	CU_ASSERT_PTR_NULL(uart_create(r.bus, COM1 + 7, NULL, NULL));
	struct uart16550 *com2 = uart_create(r.bus, COM1 + 8, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL(com2);
	uart_destroy(com2);
	rig_fini(&r);
}

static void test_transmit(void)
{
	struct rig r;
	rig_init(&r);
	out8(&r, UART_THR, 'h');
	out8(&r, UART_THR, 'i');
	CU_ASSERT_EQUAL(r.h.nout, 2);
	CU_ASSERT_EQUAL(r.h.out[0], 'h');
	CU_ASSERT_EQUAL(r.h.out[1], 'i');
	uint8_t lsr = in8(&r, UART_LSR);
	CU_ASSERT(lsr & UART_LSR_THRE);
	CU_ASSERT(lsr & UART_LSR_TEMT);
	CU_ASSERT_FALSE(lsr & UART_LSR_DR);
	rig_fini(&r);
}

static void test_divisor_latch(void)
{
	struct rig r;
	rig_init(&r);
	out8(&r, UART_IER, 0x05);
	out8(&r, UART_LCR, UART_LCR_DLAB | 0x03);
	out8(&r, UART_DLL, 0x01);
	out8(&r, UART_DLM, 0x02);
	CU_ASSERT_EQUAL(r.h.nout, 0);            /* DLL write is not output */
	CU_ASSERT_EQUAL(in8(&r, UART_DLL), 0x01);
	CU_ASSERT_EQUAL(in8(&r, UART_DLM), 0x02);
	out8(&r, UART_LCR, 0x03);
	CU_ASSERT_EQUAL(in8(&r, UART_IER), 0x05); /* IER untouched by DLM */
	CU_ASSERT_EQUAL(in8(&r, UART_LCR), 0x03);
	out8(&r, UART_THR, 'x');
	CU_ASSERT_EQUAL(r.h.nout, 1);
	out8(&r, UART_LCR, UART_LCR_DLAB);
	CU_ASSERT_EQUAL(in8(&r, UART_DLL), 0x01); /* THR write did not hit DLL */
	rig_fini(&r);
}

static void test_loopback(void)
{
	struct rig r;
	rig_init(&r);
	static const uint8_t pending[] = { 'Z' };
	r.h.in = pending;
	r.h.nin = 1;
	out8(&r, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT1);
	uint8_t msr = in8(&r, UART_MSR);
	CU_ASSERT_EQUAL(msr & 0xf0, UART_MSR_CTS | UART_MSR_RI);
	out8(&r, UART_THR, 0xa5);
	CU_ASSERT_EQUAL(r.h.nout, 0);            /* nothing on the wire */
	CU_ASSERT(in8(&r, UART_LSR) & UART_LSR_DR);
	CU_ASSERT_EQUAL(in8(&r, UART_RBR), 0xa5);
	CU_ASSERT_FALSE(in8(&r, UART_LSR) & UART_LSR_DR);
	CU_ASSERT_EQUAL(r.h.in_pos, 0);          /* serial input disconnected */
	out8(&r, UART_MCR, UART_MCR_LOOP);       /* RI falls: trailing edge */
	CU_ASSERT(in8(&r, UART_MSR) & UART_MSR_TERI);
	CU_ASSERT_FALSE(in8(&r, UART_MSR) & UART_MSR_TERI);   /* cleared by read */
	rig_fini(&r);
}

static void test_receive_and_poll(void)
{
	struct rig r;
	rig_init(&r);
	CU_ASSERT_EQUAL(uart_receive(r.u, 'a'), 0);
	CU_ASSERT(in8(&r, UART_LSR) & UART_LSR_DR);
	CU_ASSERT_EQUAL(in8(&r, UART_RBR), 'a');
	CU_ASSERT_FALSE(in8(&r, UART_LSR) & UART_LSR_DR);
	/* Host input is taken when the guest polls LSR. */
	static const uint8_t typed[] = { 'o', 'k' };
	r.h.in = typed;
	r.h.nin = 2;
	CU_ASSERT(in8(&r, UART_LSR) & UART_LSR_DR);
	CU_ASSERT_EQUAL(in8(&r, UART_RBR), 'o');
	CU_ASSERT(in8(&r, UART_LSR) & UART_LSR_DR);
	CU_ASSERT_EQUAL(in8(&r, UART_RBR), 'k');
	CU_ASSERT_FALSE(in8(&r, UART_LSR) & UART_LSR_DR);
	rig_fini(&r);
}

static void test_fifo_and_overrun(void)
{
	struct rig r;
	rig_init(&r);
	/* 16450 mode: one holding register, a second byte overruns it. */
	CU_ASSERT_EQUAL(uart_receive(r.u, 1), 0);
	CU_ASSERT_EQUAL(uart_receive(r.u, 2), -1);
	uint8_t lsr = in8(&r, UART_LSR);
	CU_ASSERT(lsr & UART_LSR_OE);
	CU_ASSERT_FALSE(in8(&r, UART_LSR) & UART_LSR_OE);   /* cleared by read */
	CU_ASSERT_EQUAL(in8(&r, UART_RBR), 2);
	/* FIFO mode: sixteen bytes fit, the seventeenth is lost. */
	out8(&r, UART_FCR, UART_FCR_ENABLE);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR) & UART_IIR_FIFO_ON, UART_IIR_FIFO_ON);
	for (int i = 0; i < UART_FIFO_SIZE; i++)
		CU_ASSERT_EQUAL(uart_receive(r.u, (uint8_t)(0x30 + i)), 0);
	CU_ASSERT_FALSE(in8(&r, UART_LSR) & UART_LSR_OE);
	CU_ASSERT_EQUAL(uart_receive(r.u, 0x99), -1);
	lsr = in8(&r, UART_LSR);
	CU_ASSERT(lsr & UART_LSR_OE);
	CU_ASSERT(lsr & UART_LSR_DR);
	for (int i = 0; i < UART_FIFO_SIZE; i++)
		CU_ASSERT_EQUAL(in8(&r, UART_RBR), 0x30 + i);
	CU_ASSERT_FALSE(in8(&r, UART_LSR) & UART_LSR_DR);
	/* FCR RX reset empties the FIFO. */
	uart_receive(r.u, 7);
	out8(&r, UART_FCR, UART_FCR_ENABLE | UART_FCR_RX_RESET);
	CU_ASSERT_FALSE(in8(&r, UART_LSR) & UART_LSR_DR);
	rig_fini(&r);
}

static void test_iir_priorities_and_irq(void)
{
	struct rig r;
	rig_init(&r);
	out8(&r, UART_IER, UART_IER_ERBFI | UART_IER_ETBEI | UART_IER_ELSI | UART_IER_EDSSI);
	CU_ASSERT_EQUAL(r.h.level, 0);           /* OUT2 closes the gate */
	out8(&r, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR);
	CU_ASSERT_EQUAL(r.h.level, 1);           /* THRE pending from ETBEI */
	/* Line status > received data > THR empty > modem status. */
	uart_receive(r.u, 'a');
	uart_receive(r.u, 'b');                  /* overrun in 16450 mode */
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_RLSI);
	in8(&r, UART_LSR);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_RDI);
	in8(&r, UART_RBR);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_THRI);   /* reading clears it */
	CU_ASSERT_EQUAL(r.h.level, 0);           /* modem deltas are clear */
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_NO_INT);
	out8(&r, UART_THR, '!');                 /* sent at once: THR empty again */
	CU_ASSERT_EQUAL(r.h.level, 1);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_THRI);
	CU_ASSERT_EQUAL(r.h.level, 0);
	/* Leaving loopback changes the modem lines: a modem status interrupt. */
	out8(&r, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
	out8(&r, UART_MCR, UART_MCR_OUT2);
	CU_ASSERT_EQUAL(r.h.level, 1);
	out8(&r, UART_THR, '?');                 /* THR empty outranks modem status */
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_THRI);
	CU_ASSERT_EQUAL(r.h.level, 1);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_MSI);
	in8(&r, UART_MSR);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_NO_INT);
	CU_ASSERT_EQUAL(r.h.level, 0);
	/* Dropping OUT2 lowers the line without clearing the cause. */
	uart_receive(r.u, 'c');
	CU_ASSERT_EQUAL(r.h.level, 1);
	out8(&r, UART_MCR, 0);
	CU_ASSERT_EQUAL(r.h.level, 0);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_RDI);
	rig_fini(&r);
}

static void test_fifo_trigger_and_timeout(void)
{
	struct rig r;
	rig_init(&r);
	out8(&r, UART_FCR, UART_FCR_ENABLE | 0x40);   /* trigger level 4 */
	out8(&r, UART_IER, UART_IER_ERBFI);
	out8(&r, UART_MCR, UART_MCR_OUT2);
	uart_receive(r.u, 1);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_CTI);
	CU_ASSERT_EQUAL(r.h.level, 1);
	for (int i = 0; i < 3; i++)
		uart_receive(r.u, 1);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_RDI);
	in8(&r, UART_RBR);                          /* below the trigger again */
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_CTI);
	for (int i = 0; i < 3; i++)
		in8(&r, UART_RBR);
	CU_ASSERT_EQUAL(in8(&r, UART_IIR), UART_IIR_FIFO_ON | UART_IIR_NO_INT);
	CU_ASSERT_EQUAL(r.h.level, 0);
	rig_fini(&r);
}

static void test_reset_lowers_irq(void)
{
	struct rig r;
	rig_init(&r);
	out8(&r, UART_IER, UART_IER_ERBFI);
	out8(&r, UART_MCR, UART_MCR_OUT2);
	uart_receive(r.u, 'q');
	CU_ASSERT_EQUAL(r.h.level, 1);
	uart_reset(r.u);
	CU_ASSERT_EQUAL(r.h.level, 0);
	CU_ASSERT_FALSE(in8(&r, UART_LSR) & UART_LSR_DR);
	CU_ASSERT_EQUAL(in8(&r, UART_IER), 0);
	rig_fini(&r);
}

void suite_dev_uart(void)
{
	CU_pSuite s = CU_add_suite("dev_uart", NULL, NULL);
	CU_add_test(s, "reset state and ports", test_reset_state_and_ports);
	CU_add_test(s, "THR to backend, THRE/TEMT", test_transmit);
	CU_add_test(s, "DLAB divisor latch", test_divisor_latch);
	CU_add_test(s, "loopback", test_loopback);
	CU_add_test(s, "receive and host polling", test_receive_and_poll);
	CU_add_test(s, "FIFO and overrun", test_fifo_and_overrun);
	CU_add_test(s, "IIR priorities and irq level", test_iir_priorities_and_irq);
	CU_add_test(s, "FIFO trigger level and timeout", test_fifo_trigger_and_timeout);
	CU_add_test(s, "reset lowers irq", test_reset_lowers_irq);
}
