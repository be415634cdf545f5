/* National Semiconductor PC16550D UART. Section numbers below refer to the
 * PC16550D datasheet (June 1995): 8.4 LSR, 8.5 FCR, 8.6 IIR, 8.7 IER,
 * 8.8 MCR, 8.9 MSR, 8.10 FIFO interrupt mode, and the "UART Reset
 * Configuration" table.
 *
 * Modelling choices (no simulated character time yet):
 * - the transmitter sends a byte the moment THR is written, so THR and the
 *   shift register are always empty (THRE = TEMT = 1);
 * - in FIFO mode, data below the trigger level raises the character timeout
 *   indication (IIR 0x0c) at once, as if four character times had passed;
 * - the modem inputs read as a terminal that is present: CTS, DSR and DCD
 *   asserted, RI not;
 * - the PC gates INTR with the OUT2 pin (MCR bit 3); loopback forces OUT2
 *   inactive (8.8), so no interrupt leaves the chip in loopback mode.
 */
#include "devices/uart16550.h"

#include <assert.h>
#include <stdlib.h>

#define LSR_ERRORS (UART_LSR_OE | UART_LSR_PE | UART_LSR_FE | UART_LSR_BI)
#define MSR_DELTAS (UART_MSR_DCTS | UART_MSR_DDSR | UART_MSR_TERI | UART_MSR_DDCD)
#define MSR_HOST_LINES (UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD)

struct uart16550 {
	struct irq_line irq;
	struct char_backend be;
	uint8_t ier, lcr, mcr, msr, scr, dll, dlm;
	uint8_t fcr;            /* programmed bits: enable, DMA mode, trigger */
	uint8_t lsr_err;        /* LSR bits 1-4; DR, THRE, TEMT are derived */
	bool thr_int;           /* THRE interrupt condition latched (8.6) */
	int irq_level;
	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	bool rx_watched;        /* the guest has looked at its receiver (uart_can_receive) */
};

static bool fifo_on(const struct uart16550 *u)
{
	return u->fcr & UART_FCR_ENABLE;
}

/* Receiver capacity: the FIFO, or the single RBR in 16450 mode. */
static unsigned rx_capacity(const struct uart16550 *u)
{
	return fifo_on(u) ? UART_FIFO_SIZE : 1;
}

/* FCR bits 7:6 select the receiver trigger level (8.5). */
static unsigned rx_trigger(const struct uart16550 *u)
{
	static const unsigned level[4] = { 1, 4, 8, 14 };
	return level[u->fcr >> 6];
}

/* The highest-priority pending interrupt, as the IIR identifies it (8.6). */
static uint8_t uart_iir_id(const struct uart16550 *u)
{
	if ((u->ier & UART_IER_ELSI) && (u->lsr_err & LSR_ERRORS))
		return UART_IIR_RLSI;
	if ((u->ier & UART_IER_ERBFI) && u->rx_count) {
		if (!fifo_on(u) || u->rx_count >= rx_trigger(u))
			return UART_IIR_RDI;
		return UART_IIR_CTI;
	}
	if ((u->ier & UART_IER_ETBEI) && u->thr_int)
		return UART_IIR_THRI;
	if ((u->ier & UART_IER_EDSSI) && (u->msr & MSR_DELTAS))
		return UART_IIR_MSI;
	return UART_IIR_NO_INT;
}

static void uart_update_irq(struct uart16550 *u)
{
	bool gate = (u->mcr & UART_MCR_OUT2) && !(u->mcr & UART_MCR_LOOP);
	int level = gate && uart_iir_id(u) != UART_IIR_NO_INT;
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set(&u->irq, level);
	}
}

static void rx_clear(struct uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* A character completes in the receiver. On overrun (8.4, LSR bit 1) the
 * FIFO keeps its contents and the new character is lost; in 16450 mode the
 * new character overwrites the one in RBR. */
static int rx_push(struct uart16550 *u, uint8_t byte)
{
	if (u->rx_count < rx_capacity(u)) {
		u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
		u->rx_count++;
		return 0;
	}
	u->lsr_err |= UART_LSR_OE;
	if (!fifo_on(u))
		u->rx[u->rx_head] = byte;
	return -1;
}

/* Take one byte from the host when the receiver has room. In loopback the
 * serial input is disconnected (8.8). */
static void rx_poll(struct uart16550 *u)
{
	if (!u->be.read_byte || (u->mcr & UART_MCR_LOOP) || u->rx_count >= rx_capacity(u))
		return;
	int c = u->be.read_byte(u->be.ctx);
	if (c >= 0)
		rx_push(u, (uint8_t)c);
}

static uint8_t read_rbr(struct uart16550 *u)
{
	rx_poll(u);
	if (u->rx_count == 0)
		return 0;
	uint8_t byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	return byte;
}

/* Reading LSR clears the error bits 1-4 (8.4). */
static uint8_t read_lsr(struct uart16550 *u)
{
	rx_poll(u);
	uint8_t v = u->lsr_err | UART_LSR_THRE | UART_LSR_TEMT;
	if (u->rx_count)
		v |= UART_LSR_DR;
	u->lsr_err = 0;
	return v;
}

/* Reading IIR clears a THRE interrupt when it is the one reported (8.6). */
static uint8_t read_iir(struct uart16550 *u)
{
	uint8_t id = uart_iir_id(u);
	if (id == UART_IIR_THRI)
		u->thr_int = false;
	return id | (fifo_on(u) ? UART_IIR_FIFO_ON : 0);
}

/* Reading MSR clears the delta bits 0-3 (8.9). */
static uint8_t read_msr(struct uart16550 *u)
{
	uint8_t v = u->msr;
	u->msr &= (uint8_t)~MSR_DELTAS;
	return v;
}

static uint8_t uart_read_reg(struct uart16550 *u, unsigned reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (reg) {
	case UART_RBR:
		if (dlab)
			return u->dll;
		u->rx_watched = true;
		return read_rbr(u);
	case UART_IER: return dlab ? u->dlm : u->ier;
	case UART_IIR: return read_iir(u);
	case UART_LCR: return u->lcr;
	case UART_MCR: return u->mcr;
	case UART_LSR: u->rx_watched = true; return read_lsr(u);
	case UART_MSR: return read_msr(u);
	case UART_SCR: return u->scr;
	}
	assert(!"uart register out of range");
	return 0xff;
}

/* The modem input lines: in loopback they are the MCR outputs (8.8: CTS=RTS,
 * DSR=DTR, RI=OUT1, DCD=OUT2), otherwise the host terminal's lines. */
static uint8_t modem_lines(const struct uart16550 *u)
{
	if (!(u->mcr & UART_MCR_LOOP))
		return MSR_HOST_LINES;
	uint8_t m = u->mcr, v = 0;
	v |= (m & UART_MCR_RTS) ? UART_MSR_CTS : 0;
	v |= (m & UART_MCR_DTR) ? UART_MSR_DSR : 0;
	v |= (m & UART_MCR_OUT1) ? UART_MSR_RI : 0;
	v |= (m & UART_MCR_OUT2) ? UART_MSR_DCD : 0;
	return v;
}

/* Latch new line states into MSR with their delta bits (8.9); TERI is set on
 * the trailing edge of RI only. */
static void msr_update(struct uart16550 *u)
{
	uint8_t old = u->msr, now = modem_lines(u), changed = old ^ now;
	uint8_t d = u->msr & MSR_DELTAS;
	d |= (changed & UART_MSR_CTS) ? UART_MSR_DCTS : 0;
	d |= (changed & UART_MSR_DSR) ? UART_MSR_DDSR : 0;
	d |= (changed & UART_MSR_DCD) ? UART_MSR_DDCD : 0;
	d |= ((old & UART_MSR_RI) && !(now & UART_MSR_RI)) ? UART_MSR_TERI : 0;
	u->msr = d | now;
}

/* The byte goes out at once (to the receiver in loopback, 8.8), so THR is
 * empty again and the THRE interrupt condition is set anew. */
static void write_thr(struct uart16550 *u, uint8_t v)
{
	if (u->mcr & UART_MCR_LOOP)
		rx_push(u, v);
	else if (u->be.write_byte)
		u->be.write_byte(u->be.ctx, v);
	u->thr_int = true;
}

/* Setting ETBEI while THR is empty raises the THRE interrupt, as every
 * 16550-compatible part does (drivers rely on it to start transmission). */
static void write_ier(struct uart16550 *u, uint8_t v)
{
	uint8_t old = u->ier;
	u->ier = v & 0x0f;
	if (!(old & UART_IER_ETBEI) && (u->ier & UART_IER_ETBEI))
		u->thr_int = true;
}

/* 8.5: changing FCR0 clears the FIFOs; with FCR0 = 0 the other bits are not
 * programmed; bits 1 and 2 reset the FIFOs and clear themselves. The
 * transmitter FIFO is always empty here, so TX reset has nothing to do. */
static void write_fcr(struct uart16550 *u, uint8_t v)
{
	bool enable = v & UART_FCR_ENABLE;
	if (enable != fifo_on(u))
		rx_clear(u);
	if (!enable) {
		u->fcr = 0;
		return;
	}
	if (v & UART_FCR_RX_RESET)
		rx_clear(u);
	u->fcr = v & (UART_FCR_ENABLE | UART_FCR_DMA | UART_FCR_TRIGGER);
}

static void write_mcr(struct uart16550 *u, uint8_t v)
{
	u->mcr = v & 0x1f;
	msr_update(u);
}

/* LSR and MSR writes are factory-test operations (8.4); they are ignored. */
static void uart_write_reg(struct uart16550 *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	switch (reg) {
	case UART_THR:
		if (dlab)
			u->dll = v;
		else
			write_thr(u, v);
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = v;
		} else {
			write_ier(u, v);
			if (v & UART_IER_ERBFI)
				u->rx_watched = true;
		}
		break;
	case UART_FCR: write_fcr(u, v); break;
	case UART_LCR: u->lcr = v; break;
	case UART_MCR: write_mcr(u, v); break;
	case UART_SCR: u->scr = v; break;
	default: break;
	}
}

/* The UART is an 8-bit device: a wider access is a run of byte accesses to
 * consecutive registers, lowest first. */
static uint64_t uart_io_read(void *opaque, uint64_t offset, unsigned size)
{
	struct uart16550 *u = opaque;
	assert(offset + size <= UART_NPORTS);
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)uart_read_reg(u, (unsigned)offset + i) << (8 * i);
	uart_update_irq(u);
	return v;
}

static void uart_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct uart16550 *u = opaque;
	assert(offset + size <= UART_NPORTS);
	for (unsigned i = 0; i < size; i++)
		uart_write_reg(u, (unsigned)offset + i, (uint8_t)(value >> (8 * i)));
	uart_update_irq(u);
}

static const struct io_ops uart_ops = { .read = uart_io_read, .write = uart_io_write };

void uart_reset(struct uart16550 *u)
{
	u->rx_watched = false;
	u->ier = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->fcr = 0;
	u->lsr_err = 0;
	u->thr_int = false;
	rx_clear(u);
	u->msr = modem_lines(u);
	uart_update_irq(u);
}

struct uart16550 *uart_create(struct pio_bus *bus, uint16_t base, const struct irq_line *irq,
			      const struct char_backend *be)
{
	struct uart16550 *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	if (irq)
		u->irq = *irq;
	if (be)
		u->be = *be;
	uart_reset(u);
	if (pio_register(bus, base, UART_NPORTS, &uart_ops, u, "uart16550") != 0) {
		free(u);
		return NULL;
	}
	return u;
}

void uart_destroy(struct uart16550 *u)
{
	free(u);
}

struct char_backend *uart_backend(struct uart16550 *u)
{
	return &u->be;
}

bool uart_can_receive(const struct uart16550 *u)
{
	return u->rx_watched && !(u->mcr & UART_MCR_LOOP) && u->rx_count < rx_capacity(u);
}

int uart_receive(struct uart16550 *u, uint8_t byte)
{
	int r = rx_push(u, byte);
	uart_update_irq(u);
	return r;
}

void uart_dump(void *opaque, FILE *out)
{
	const struct uart16550 *u = opaque;
	fprintf(out, "uart16550: IER=%02x IIR=%02x LCR=%02x MCR=%02x LSR-err=%02x MSR=%02x SCR=%02x\n",
		u->ier, uart_iir_id(u) | (fifo_on(u) ? UART_IIR_FIFO_ON : 0), u->lcr, u->mcr,
		u->lsr_err, u->msr, u->scr);
	fprintf(out, "  divisor=%u FCR=%02x rx=%u/%u trigger=%u thre-int=%d irq=%d\n",
		(unsigned)(u->dlm << 8 | u->dll), u->fcr, u->rx_count, rx_capacity(u), rx_trigger(u),
		u->thr_int, u->irq_level);
}
