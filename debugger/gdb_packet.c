/* The GDB remote protocol's packet layer (debugger/gdbstub.h): framing,
 * checksums, '}' escapes and hex (gdb manual, "Remote Protocol",
 * "Overview": a packet is $payload#cs, cs the two hex digits of the sum
 * of the payload bytes modulo 256; '}' escapes the next byte XOR 0x20;
 * '*' starts run-length encoding, which only gdb's replies use, never
 * its requests). */
#include <string.h>

#include "debugger/gdbstub.h"

int gdb_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

void gdb_tohex(const void *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *b = bytes;
	for (size_t k = 0; k < n; k++) {
		out[2 * k] = digits[b[k] >> 4];
		out[2 * k + 1] = digits[b[k] & 15];
	}
}

bool gdb_fromhex(const char *hex, void *bytes, size_t n)
{
	uint8_t *b = bytes;
	for (size_t k = 0; k < n; k++) {
		int hi = gdb_hexval(hex[2 * k]);
		int lo = hi < 0 ? -1 : gdb_hexval(hex[2 * k + 1]);
		if (lo < 0)
			return false;
		b[k] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool gdb_hexnum(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int d;
	while ((d = gdb_hexval(*s)) >= 0) {
		if (x >> 60)
			return false;
		x = x << 4 | (uint64_t)d;
		s++;
	}
	if (s == *p)
		return false;
	*v = x;
	*p = s;
	return true;
}

void gdb_rx_init(struct gdb_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

static void rx_put(struct gdb_rx *rx, uint8_t b)
{
	if (rx->len < GDB_PACKET_MAX)
		rx->buf[rx->len++] = (char)b;
	else
		rx->overflow = true;
}

enum gdb_rx_result gdb_rx_byte(struct gdb_rx *rx, uint8_t b)
{
	switch (rx->state) {
	case RX_IDLE:
		if (b == '$') {
			rx->state = RX_DATA;
			rx->len = 0;
			rx->sum = 0;
			rx->overflow = false;
			return GDB_RX_MORE;
		}
		return b == '+' ? GDB_RX_ACK : b == '-' ? GDB_RX_NAK : b == 0x03 ? GDB_RX_INTERRUPT : GDB_RX_MORE;
	case RX_DATA:
		if (b == '#') {
			rx->state = RX_SUM1;
			return GDB_RX_MORE;
		}
		if (b == '$') {         /* a new packet inside one: gdb gave up on the first */
			rx->len = 0;
			rx->sum = 0;
			rx->overflow = false;
			return GDB_RX_MORE;
		}
		rx->sum += b;
		if (b == '}')
			rx->state = RX_ESCAPE;
		else
			rx_put(rx, b);
		return GDB_RX_MORE;
	case RX_ESCAPE:
		rx->sum += b;
		rx_put(rx, b ^ 0x20);
		rx->state = RX_DATA;
		return GDB_RX_MORE;
	case RX_SUM1:
		if (gdb_hexval((char)b) < 0) {
			rx->state = RX_IDLE;
			return GDB_RX_BAD;
		}
		rx->got_sum = (uint8_t)(gdb_hexval((char)b) << 4);
		rx->state = RX_SUM2;
		return GDB_RX_MORE;
	case RX_SUM2:
		rx->state = RX_IDLE;
		if (gdb_hexval((char)b) < 0)
			return GDB_RX_BAD;
		rx->got_sum |= (uint8_t)gdb_hexval((char)b);
		if (rx->got_sum != rx->sum || rx->overflow)
			return GDB_RX_BAD;
		rx->buf[rx->len] = 0;
		return GDB_RX_PACKET;
	}
	rx->state = RX_IDLE;
	return GDB_RX_MORE;
}

size_t gdb_frame(const void *payload, size_t n, char *out, size_t outsz)
{
	const uint8_t *p = payload;
	size_t o = 0;
	uint8_t sum = 0;
	if (outsz < 4)
		return 0;
	out[o++] = '$';
	for (size_t k = 0; k < n; k++) {
		uint8_t b = p[k];
		bool esc = b == '$' || b == '#' || b == '}' || b == '*';
		if (o + (esc ? 2 : 1) + 3 > outsz)
			return 0;
		if (esc) {
			out[o++] = '}';
			sum += '}';
			b ^= 0x20;
		}
		out[o++] = (char)b;
		sum += b;
	}
	out[o++] = '#';
	gdb_tohex(&sum, 1, out + o);
	return o + 2;
}
