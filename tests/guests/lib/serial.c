/* COM1 console: a 16550 UART at 0x3f8 (PC16550D datasheet, register map). */
#include "guest.h"

#define COM1 0x3f8
#define UART_THR 0      /* transmit holding (DLAB = 0) */
#define UART_DLL 0      /* divisor latch low (DLAB = 1) */
#define UART_IER 1
#define UART_DLM 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_8N1  0x03
#define LCR_DLAB 0x80
#define LSR_THRE 0x20

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);            /* no interrupts */
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, 0x01);            /* divisor 1: 115200 baud */
	outb(COM1 + UART_DLM, 0x00);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0x07);            /* enable and clear FIFOs */
	outb(COM1 + UART_MCR, 0x03);            /* DTR, RTS */
}

void serial_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THRE))
		;
	outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}
