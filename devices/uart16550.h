/* National Semiconductor PC16550D UART (the PC's COM ports).
 *
 * Eight byte-wide registers at base (COM1 = 0x3f8, IRQ 4). Transmission is
 * instantaneous: a THR write reaches the char backend at once, so THRE and
 * TEMT always read as 1. Input is polled from the backend when the guest
 * reads LSR or RBR and the receiver has room; uart_receive() injects bytes
 * directly (for tests and for a machine delivering recorded input).
 */
#ifndef DEVICES_UART16550_H
#define DEVICES_UART16550_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

/* Register offsets (datasheet Table II). With LCR.DLAB set, offsets 0 and 1
 * address the divisor latch (DLL, DLM) instead of RBR/THR and IER. */
enum {
	UART_RBR = 0, UART_THR = 0, UART_DLL = 0,
	UART_IER = 1, UART_DLM = 1,
	UART_IIR = 2, UART_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
	UART_NPORTS = 8,
};

#define UART_IER_ERBFI 0x01     /* received data available (and timeout) */
#define UART_IER_ETBEI 0x02     /* transmitter holding register empty */
#define UART_IER_ELSI 0x04      /* receiver line status */
#define UART_IER_EDSSI 0x08     /* modem status */

#define UART_IIR_NO_INT 0x01
#define UART_IIR_MSI 0x00       /* modem status (lowest priority) */
#define UART_IIR_THRI 0x02      /* THR empty */
#define UART_IIR_RDI 0x04       /* received data available */
#define UART_IIR_RLSI 0x06      /* receiver line status (highest) */
#define UART_IIR_CTI 0x0c       /* character timeout (FIFO mode) */
#define UART_IIR_ID_MASK 0x0f
#define UART_IIR_FIFO_ON 0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_RX_RESET 0x02
#define UART_FCR_TX_RESET 0x04
#define UART_FCR_DMA 0x08
#define UART_FCR_TRIGGER 0xc0

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_PE 0x04
#define UART_LSR_FE 0x08
#define UART_LSR_BI 0x10
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_LSR_FIFO_ERR 0x80

#define UART_MSR_DCTS 0x01
#define UART_MSR_DDSR 0x02
#define UART_MSR_TERI 0x04
#define UART_MSR_DDCD 0x08
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80

#define UART_FIFO_SIZE 16

struct uart16550;

/* Registers ports [base, base+8) on bus. irq and be may be NULL (no
 * interrupt line, no host I/O); both are copied. NULL on allocation failure
 * or when the ports are taken. */
struct uart16550 *uart_create(struct pio_bus *bus, uint16_t base, const struct irq_line *irq,
			      const struct char_backend *be);
/* Frees the device. The bus keeps pointing at it: destroy the bus (or stop
 * using it) together with its devices. */
void uart_destroy(struct uart16550 *u);
/* Master reset (datasheet "UART Reset Configuration"); the divisor latch
 * and SCR keep their values. */
void uart_reset(struct uart16550 *u);
void uart_dump(void *opaque, FILE *out);
/* Push a byte into the receiver as if it had arrived on the serial input.
 * Returns 0, or -1 when the receiver was full (a byte is lost and LSR.OE
 * is set). */
int uart_receive(struct uart16550 *u, uint8_t byte);
/* The line may deliver a byte now: the receiver has room, is not in
 * loopback, and the guest has looked at it since reset (read LSR or RBR, or
 * enabled the received-data interrupt). Live input waits for that, as a
 * user types after the prompt, so bytes are not lost to the guest's own
 * UART initialisation. */
bool uart_can_receive(const struct uart16550 *u);
/* The backend the UART writes to and polls (a copy of uart_create's):
 * a host-side observer may wrap it, e.g. sim/result.c's COM1 line clock. */
struct char_backend *uart_backend(struct uart16550 *u);

#endif
