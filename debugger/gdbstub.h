/* The GDB remote stub (docs/debugger.md, "The GDB stub"): `-s` /
 * `-gdb tcp::PORT` serve gdb's remote serial protocol (the "Remote
 * Protocol" appendix of the gdb manual) on 127.0.0.1, so gdb attaches to
 * vtxsim as to QEMU. A client of sim/debug_api.h, like the shell; `monitor
 * CMD` (qRcmd) runs shell commands.
 *
 * Three layers, testable one by one (tests/unit/debugger/test_gdbstub.c):
 * - the packet layer (debugger/gdb_packet.c): a byte-fed receiver that
 *   checks checksums and undoes '}' escapes, the framer, hex;
 * - the registers (debugger/gdb_regs.c, gdb_regs.def): target.xml and the
 *   packing of `g`/`G`/`p`/`P` from one table;
 * - the session (debugger/gdbstub.c): packets to debug API calls; its
 *   transport is a pair of callbacks, a socket in vtxsim, a buffer in the
 *   tests.
 */
#ifndef DEBUGGER_GDBSTUB_H
#define DEBUGGER_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/debug_api.h"

/* ---- the packet layer ---- */

/* The largest packet payload we accept and announce (qSupported
 * PacketSize, in hex there). */
#define GDB_PACKET_MAX 0x4000

enum gdb_rx_result {
	GDB_RX_MORE,            /* nothing complete yet */
	GDB_RX_PACKET,          /* a packet with a good checksum: rx->buf, rx->len (unescaped, NUL-ended) */
	GDB_RX_BAD,             /* a packet with a bad checksum or too long: answer '-' */
	GDB_RX_ACK,             /* '+' */
	GDB_RX_NAK,             /* '-': resend the last packet */
	GDB_RX_INTERRUPT,       /* 0x03 outside a packet: Ctrl-C */
};

struct gdb_rx {
	enum { RX_IDLE, RX_DATA, RX_ESCAPE, RX_SUM1, RX_SUM2 } state;
	bool overflow;
	uint8_t sum, got_sum;
	size_t len;
	char buf[GDB_PACKET_MAX + 1];
};

void gdb_rx_init(struct gdb_rx *rx);
enum gdb_rx_result gdb_rx_byte(struct gdb_rx *rx, uint8_t byte);

/* "$payload#cs" into out (payload bytes '$', '#', '}', '*' escaped as '}'
 * and byte ^ 0x20): the length, or 0 when out is too small. */
size_t gdb_frame(const void *payload, size_t n, char *out, size_t outsz);

/* Hex: a digit's value or -1; n bytes to 2n lowercase digits (no NUL);
 * 2n digits to n bytes (false on a non-digit). */
int gdb_hexval(char ch);
void gdb_tohex(const void *bytes, size_t n, char *out);
bool gdb_fromhex(const char *hex, void *bytes, size_t n);
/* A hex number at *p, advancing *p past it: false when there is none or
 * it does not fit in 64 bits. */
bool gdb_hexnum(const char **p, uint64_t *v);

/* ---- the registers ---- */

/* The register count and each register's size in bytes, in target.xml
 * order (gdb's numbers for p/P). */
int gdb_reg_count(void);
int gdb_reg_size(int regno);
const char *gdb_reg_name(int regno);
/* The target description, NUL-ended. */
const char *gdb_target_xml(void);
/* Register regno of vCPU cpu as gdb wants it (little-endian, size bytes). */
bool gdb_reg_get(struct dbg *d, int cpu, int regno, uint8_t *buf);
/* Set it; only a changed value reaches the vCPU (so gdb writing back what
 * it read never touches the CPU's caches). */
bool gdb_reg_set(struct dbg *d, int cpu, int regno, const uint8_t *buf);

/* ---- the session ---- */

struct gdb_stub;

/* How the session talks to gdb. recv: 1 byte, 0 when nothing is there
 * (only when !wait), -1 when the connection is gone. */
struct gdb_io {
	int (*recv)(void *ctx, uint8_t *byte, bool wait);
	bool (*send)(void *ctx, const void *buf, size_t n);
	void *ctx;
};

/* kernel: the ELF whose symbols `monitor` commands use (may be NULL). */
struct gdb_stub *gdb_stub_create(struct dbg *d, const struct gdb_io *io, const char *kernel);
void gdb_stub_destroy(struct gdb_stub *s);
/* Serve gdb until it detaches, kills or the run ends: the process exit
 * status (the run's, docs/debugger.md says which). */
int gdb_stub_serve(struct gdb_stub *s);
/* One packet's payload (NUL-ended): its reply is sent through io. False
 * when the session is over (k, D, or the run ended after W). Exposed for
 * the unit tests. */
bool gdb_stub_packet(struct gdb_stub *s, const char *pkt, size_t len);

/* vtxsim -gdb tcp::PORT: listen on 127.0.0.1:PORT (0: a free port),
 * print "vtxsim: gdb stub listening on port N" on stderr, wait for gdb,
 * serve it. The process exit status. */
int gdb_main(struct dbg *d, int port, const char *kernel);

#endif
