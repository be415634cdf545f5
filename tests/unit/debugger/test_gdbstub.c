/* debugger/gdbstub.c, gdb_packet.c, gdb_regs.c: the packet layer
 * (checksums, escapes, hex, garbage), target.xml and register packing,
 * and a session fed packets through a buffer instead of a socket. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/gdbstub.h"
#include "sim/cli.h"
#include "sim/debug_api.h"
#include "sim/machine.h"
#include "tests/unit/test_machine.h"

/* ---- the packet layer ---- */

static void test_frame(void)
{
	char out[64];
	size_t n = gdb_frame("OK", 2, out, sizeof(out));
	CU_ASSERT_EQUAL(n, 6);
	CU_ASSERT_EQUAL(memcmp(out, "$OK#9a", 6), 0);     /* 'O' + 'K' = 0x4f + 0x4b = 0x9a */
	n = gdb_frame("", 0, out, sizeof(out));
	CU_ASSERT_EQUAL(memcmp(out, "$#00", 4), 0);
	/* '}' '#' '$' '*' go as '}' then the byte XOR 0x20; the sum is over what is sent. */
	n = gdb_frame("a}#", 3, out, sizeof(out));
	CU_ASSERT_EQUAL(n, 9);
	CU_ASSERT_EQUAL(memcmp(out, "$a}]}\x03#", 7), 0);
	unsigned sum = ('a' + '}' + ']' + '}' + 0x03) & 0xff;
	char want[3];
	snprintf(want, sizeof(want), "%02x", sum);
	CU_ASSERT_EQUAL(memcmp(out + 7, want, 2), 0);
	CU_ASSERT_EQUAL(gdb_frame("toolong", 7, out, 8), 0);
}

static enum gdb_rx_result feed(struct gdb_rx *rx, const char *s, size_t n)
{
	enum gdb_rx_result r = GDB_RX_MORE;
	for (size_t k = 0; k < n; k++)
		r = gdb_rx_byte(rx, (uint8_t)s[k]);
	return r;
}

static void test_rx(void)
{
	struct gdb_rx rx;
	gdb_rx_init(&rx);
	CU_ASSERT_EQUAL(feed(&rx, "$OK#9a", 6), GDB_RX_PACKET);
	CU_ASSERT_STRING_EQUAL(rx.buf, "OK");
	CU_ASSERT_EQUAL(feed(&rx, "$OK#9b", 6), GDB_RX_BAD);
	CU_ASSERT_EQUAL(feed(&rx, "$OK#z", 5), GDB_RX_BAD);
	CU_ASSERT_EQUAL(feed(&rx, "$OK#9z", 6), GDB_RX_BAD);
	CU_ASSERT_EQUAL(gdb_rx_byte(&rx, '+'), GDB_RX_ACK);
	CU_ASSERT_EQUAL(gdb_rx_byte(&rx, '-'), GDB_RX_NAK);
	CU_ASSERT_EQUAL(gdb_rx_byte(&rx, 0x03), GDB_RX_INTERRUPT);
	/* What gdb_frame escapes, the receiver restores. */
	char framed[32];
	size_t n = gdb_frame("X1,2:}$", 7, framed, sizeof(framed));
	CU_ASSERT_EQUAL(feed(&rx, framed, n), GDB_RX_PACKET);
	CU_ASSERT_EQUAL(rx.len, 7);
	CU_ASSERT_EQUAL(memcmp(rx.buf, "X1,2:}$", 7), 0);
	/* A '$' inside a packet starts over; noise before one is ignored. */
	CU_ASSERT_EQUAL(feed(&rx, "xx$abc$OK#9a", 12), GDB_RX_PACKET);
	CU_ASSERT_STRING_EQUAL(rx.buf, "OK");
	/* Too long: refused, and the next packet is fine. */
	char *big = malloc(GDB_PACKET_MAX + 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	big[0] = '$';
	memset(big + 1, 'a', GDB_PACKET_MAX + 8);
	memcpy(big + GDB_PACKET_MAX + 9, "#00", 3);
	CU_ASSERT_EQUAL(feed(&rx, big, GDB_PACKET_MAX + 12), GDB_RX_BAD);
	free(big);
	CU_ASSERT_EQUAL(feed(&rx, "$OK#9a", 6), GDB_RX_PACKET);
}

static void test_hex(void)
{
	uint8_t b[4] = { 0x00, 0x7f, 0xa5, 0xff }, back[4];
	char h[9] = { 0 };
	gdb_tohex(b, 4, h);
	CU_ASSERT_STRING_EQUAL(h, "007fa5ff");
	CU_ASSERT_TRUE(gdb_fromhex("007FA5ff", back, 4));
	CU_ASSERT_EQUAL(memcmp(b, back, 4), 0);
	CU_ASSERT_FALSE(gdb_fromhex("00g0", back, 2));
	CU_ASSERT_FALSE(gdb_fromhex("0", back, 1));      /* the NUL is not a digit */
	const char *p = "1f,rest";
	uint64_t v;
	CU_ASSERT_TRUE(gdb_hexnum(&p, &v));
	CU_ASSERT_EQUAL(v, 0x1f);
	CU_ASSERT_STRING_EQUAL(p, ",rest");
	p = "ffffffffffffffff";
	CU_ASSERT_TRUE(gdb_hexnum(&p, &v));
	CU_ASSERT_EQUAL(v, UINT64_MAX);
	p = "10000000000000000";                         /* 65 bits */
	CU_ASSERT_FALSE(gdb_hexnum(&p, &v));
	p = ",";
	CU_ASSERT_FALSE(gdb_hexnum(&p, &v));
}

/* ---- a session on a tiny machine ---- */

#define CODE 0x100000u

/* 0: mov eax, 1; 5: inc eax; 6: inc eax; 7: out 0x80, al; 9: inc eax;
 * 10: mov [0x2000], eax; 15: mov al, 0; 17: out 0xf4, al; 19: hlt */
static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0x40, 0x40, 0xe6, 0x80, 0x40,
				0xa3, 0x00, 0x20, 0x00, 0x00, 0xb0, 0x00, 0xe6, 0xf4, 0xf4 };

struct buf_io {
	char out[65536];
	size_t len;
};

static int buf_recv(void *ctx, uint8_t *byte, bool wait)
{
	(void)ctx, (void)byte;
	return wait ? -1 : 0;
}

static bool buf_send(void *ctx, const void *data, size_t n)
{
	struct buf_io *b = ctx;
	if (b->len + n >= sizeof(b->out))
		b->len = 0;
	memcpy(b->out + b->len, data, n);
	b->len += n;
	b->out[b->len] = 0;
	return true;
}

struct session {
	struct machine *m;
	struct dbg *d;
	struct gdb_stub *s;
	struct buf_io io;
};

static void session_open(struct session *t)
{
	memset(t, 0, sizeof(*t));
	t->m = test_machine(CODE, code, sizeof(code));
	t->d = dbg_create(t->m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->d);
	struct gdb_io io = { .recv = buf_recv, .send = buf_send, .ctx = &t->io };
	t->s = gdb_stub_create(t->d, &io, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t->s);
}

static void session_close(struct session *t)
{
	gdb_stub_destroy(t->s);
	dbg_destroy(t->d);
	machine_destroy(t->m);
}

/* Send one packet; the reply's payload (the last packet sent, without
 * '$' and '#cs'). */
static const char *ask(struct session *t, const char *pkt)
{
	t->io.len = 0;
	t->io.out[0] = 0;
	gdb_stub_packet(t->s, pkt, strlen(pkt));
	char *last = strrchr(t->io.out, '$');
	if (!last)
		return "";
	char *end = strrchr(last, '#');
	if (end)
		*end = 0;
	return last + 1;
}

static uint64_t reg_le(const char *hex, size_t bytes)
{
	uint8_t b[8] = { 0 };
	CU_ASSERT_TRUE(gdb_fromhex(hex, b, bytes));
	uint64_t v = 0;
	for (size_t k = bytes; k-- > 0;)
		v = v << 8 | b[k];
	return v;
}

static void test_target_xml(void)
{
	const char *x = gdb_target_xml();
	int regs = 0;
	for (const char *p = x; (p = strstr(p, "<reg ")); p++)
		regs++;
	CU_ASSERT_EQUAL(regs, gdb_reg_count());
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "<architecture>i386:x86-64</architecture>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "<feature name=\"org.gnu.gdb.i386.core\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "<feature name=\"org.gnu.gdb.i386.sse\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "<feature name=\"org.gnu.gdb.i386.segments\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(x, "<reg name=\"cr3\" bitsize=\"64\""));
	/* gdb's numbering: rip 16, eflags 17, st0 24, xmm0 40, mxcsr 56, fs_base 57. */
	CU_ASSERT_STRING_EQUAL(gdb_reg_name(16), "rip");
	CU_ASSERT_STRING_EQUAL(gdb_reg_name(17), "eflags");
	CU_ASSERT_STRING_EQUAL(gdb_reg_name(24), "st0");
	CU_ASSERT_STRING_EQUAL(gdb_reg_name(40), "xmm0");
	CU_ASSERT_STRING_EQUAL(gdb_reg_name(56), "mxcsr");
	CU_ASSERT_STRING_EQUAL(gdb_reg_name(57), "fs_base");
	CU_ASSERT_EQUAL(gdb_reg_size(24), 10);
	CU_ASSERT_EQUAL(gdb_reg_size(40), 16);
	CU_ASSERT_EQUAL(gdb_reg_size(gdb_reg_count()), 0);
}

static void test_registers(void)
{
	struct session t;
	session_open(&t);
	t.m->cpus[0].gpr[3] = 0x1122334455667788ull;            /* rbx: gdb's register 1 */
	t.m->cpus[0].fpu.xmm[1].q[0] = 0x0102030405060708ull;
	const char *g = ask(&t, "g");
	size_t total = 0;
	for (int r = 0; r < gdb_reg_count(); r++)
		total += 2 * (size_t)gdb_reg_size(r);
	CU_ASSERT_EQUAL(strlen(g), total);
	CU_ASSERT_EQUAL(reg_le(g, 8), 0x2badb002);              /* rax */
	CU_ASSERT_EQUAL(reg_le(g + 16, 8), 0x1122334455667788ull);
	CU_ASSERT_EQUAL(reg_le(g + 16 * 16, 8), CODE);           /* rip */
	CU_ASSERT_EQUAL(reg_le(ask(&t, "p10"), 8), CODE);
	CU_ASSERT_STRING_EQUAL(ask(&t, "p29"), "0807060504030201" "0000000000000000");      /* xmm1 */
	CU_ASSERT_EQUAL(reg_le(ask(&t, "p38"), 4), 0x1f80);     /* MXCSR at reset (SDM vol. 1 10.2.3) */
	/* Writing back what was read changes nothing; P changes one register. */
	char *G = malloc(total + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(G);
	G[0] = 'G';
	memcpy(G + 1, ask(&t, "g"), total + 1);
	CU_ASSERT_STRING_EQUAL(ask(&t, G), "OK");
	free(G);
	CU_ASSERT_EQUAL(t.m->cpus[0].gpr[3], 0x1122334455667788ull);
	CU_ASSERT_STRING_EQUAL(ask(&t, "P0=efbeadde00000000"), "OK");
	CU_ASSERT_EQUAL(t.m->cpus[0].gpr[0], 0xdeadbeef);
	CU_ASSERT_STRING_EQUAL(ask(&t, "P28=ffffffffffffffffffffffffffffffff"), "OK");
	CU_ASSERT_EQUAL(t.m->cpus[0].fpu.xmm[0].q[1], UINT64_MAX);
	/* Bad register numbers and values: errors, not crashes. */
	CU_ASSERT_EQUAL(ask(&t, "p999")[0], 'E');
	CU_ASSERT_EQUAL(ask(&t, "P0=12")[0], 'E');
	CU_ASSERT_EQUAL(ask(&t, "Pzz=00")[0], 'E');
	session_close(&t);
}

static void test_memory(void)
{
	struct session t;
	session_open(&t);
	CU_ASSERT_STRING_EQUAL(ask(&t, "m100000,5"), "b801000000");
	CU_ASSERT_STRING_EQUAL(ask(&t, "M2000,4:78563412"), "OK");
	CU_ASSERT_STRING_EQUAL(ask(&t, "m2000,4"), "78563412");
	/* X carries binary data, unescaped by the packet layer: here 0x7d 0x01. */
	CU_ASSERT_STRING_EQUAL(ask(&t, "X2004,2:}\x01"), "OK");
	CU_ASSERT_STRING_EQUAL(ask(&t, "m2004,2"), "7d01");
	CU_ASSERT_EQUAL(ask(&t, "X2004,3:}\x01")[0], 'E');        /* fewer bytes than it says */
	CU_ASSERT_EQUAL(ask(&t, "m2000")[0], 'E');
	CU_ASSERT_EQUAL(ask(&t, "M2000,2:1")[0], 'E');
	CU_ASSERT_EQUAL(ask(&t, "mfffffffff000,4")[0], 'E');       /* no memory there */
	session_close(&t);
}

/* Breakpoints, steps and watchpoints as gdb sends them, to the end of the run. */
static void test_run(void)
{
	struct session t;
	session_open(&t);
	CU_ASSERT_STRING_EQUAL(ask(&t, "?"), "T05thread:1;");
	ask(&t, "qSupported:multiprocess+;swbreak+;hwbreak+");
	CU_ASSERT_PTR_NOT_NULL(strstr(t.io.out, "qXfer:features:read+"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t.io.out, "PacketSize=4000"));
	CU_ASSERT_STRING_EQUAL(ask(&t, "qfThreadInfo"), "m1");
	CU_ASSERT_STRING_EQUAL(ask(&t, "qsThreadInfo"), "l");
	CU_ASSERT_STRING_EQUAL(ask(&t, "qC"), "QC1");
	CU_ASSERT_STRING_EQUAL(ask(&t, "Hg1"), "OK");
	CU_ASSERT_EQUAL(ask(&t, "Hg5")[0], 'E');                /* one vCPU: thread 5 is none */
	CU_ASSERT_STRING_EQUAL(ask(&t, "Z0,100009,1"), "OK");
	CU_ASSERT_STRING_EQUAL(ask(&t, "c"), "T05swbreak:;thread:1;");
	CU_ASSERT_EQUAL(t.m->cpus[0].rip, CODE + 9);
	CU_ASSERT_EQUAL(t.m->cpus[0].gpr[0], 3);
	CU_ASSERT_STRING_EQUAL(ask(&t, "z0,100009,1"), "OK");
	CU_ASSERT_STRING_EQUAL(ask(&t, "vCont;s:1;c"), "T05thread:1;");
	CU_ASSERT_EQUAL(t.m->cpus[0].rip, CODE + 10);
	CU_ASSERT_STRING_EQUAL(ask(&t, "Z2,2000,4"), "OK");
	CU_ASSERT_STRING_EQUAL(ask(&t, "vCont;c"), "T05watch:2000;thread:1;");
	CU_ASSERT_EQUAL(t.m->cpus[0].rip, CODE + 15);          /* after the write, as on hardware */
	CU_ASSERT_STRING_EQUAL(ask(&t, "z2,2000,4"), "OK");
	CU_ASSERT_STRING_EQUAL(ask(&t, "Z1,100011,1"), "OK");
	CU_ASSERT_STRING_EQUAL(ask(&t, "c"), "T05hwbreak:;thread:1;");
	/* The guest never saw the breakpoints: its code is unchanged. */
	CU_ASSERT_STRING_EQUAL(ask(&t, "m100009,1"), "40");
	/* out 0xf4 with al = 0: debug exit 0, status (0 << 1) | 1. */
	CU_ASSERT_STRING_EQUAL(ask(&t, "c"), "W01");
	CU_ASSERT_STRING_EQUAL(ask(&t, "c"), "W01");
	CU_ASSERT_FALSE(gdb_stub_packet(t.s, "k", 1));
	session_close(&t);
}

/* monitor CMD: the shell's output as O packets, then OK. */
static void test_monitor(void)
{
	struct session t;
	session_open(&t);
	char pkt[64] = "qRcmd,";
	gdb_tohex("help", 4, pkt + 6);
	CU_ASSERT_STRING_EQUAL(ask(&t, pkt), "OK");
	CU_ASSERT_PTR_NOT_NULL(strstr(t.io.out, "$O"));
	char hex[32] = { 0 };
	gdb_tohex("  help", 6, hex);
	CU_ASSERT_PTR_NOT_NULL(strstr(t.io.out, hex));
	/* A breakpoint deleted behind gdb's back comes back when gdb inserts it again. */
	CU_ASSERT_STRING_EQUAL(ask(&t, "Z0,100009,1"), "OK");
	int n;
	dbg_bp_list(t.d, &n);
	CU_ASSERT_EQUAL(n, 1);
	dbg_bp_delete(t.d, dbg_bp_list(t.d, &n)[0].id);
	CU_ASSERT_STRING_EQUAL(ask(&t, "Z0,100009,1"), "OK");
	dbg_bp_list(t.d, &n);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(ask(&t, "c"), "T05thread:1;");
	CU_ASSERT_EQUAL(t.m->cpus[0].rip, CODE + 9);
	CU_ASSERT_EQUAL(ask(&t, "qRcmd,6")[0], 'E');
	CU_ASSERT_EQUAL(ask(&t, "qRcmd,zz")[0], 'E');
	session_close(&t);
}

/* Garbage never crashes: random bytes into the receiver, and what comes
 * out of it (and raw garbage) into the session. */
static void test_fuzz(void)
{
	struct session t;
	session_open(&t);
	struct gdb_rx rx;
	gdb_rx_init(&rx);
	uint32_t x = 12345;
	static const char alphabet[] = "$#}*+-0123456789abcdefxXmMgGpPzZcsSqQvHT,:;=?\x03";
	char pkt[96];
	for (int round = 0; round < 20000; round++) {
		size_t n = 0, len;
		x = x * 1103515245u + 12345u;
		len = (x >> 16) % sizeof(pkt);
		for (; n < len; n++) {
			x = x * 1103515245u + 12345u;
			pkt[n] = round & 1 ? (char)(x >> 16) : alphabet[(x >> 16) % (sizeof(alphabet) - 1)];
			gdb_rx_byte(&rx, (uint8_t)pkt[n]);
		}
		pkt[n] = 0;
		/* Never resume the run here: a continue would run to the end. */
		if (pkt[0] == 'c' || pkt[0] == 'C' || pkt[0] == 's' || pkt[0] == 'S' || pkt[0] == 'v' ||
		    pkt[0] == 'k' || pkt[0] == 'D')
			continue;
		gdb_stub_packet(t.s, pkt, strlen(pkt));
	}
	CU_ASSERT_STRING_EQUAL(ask(&t, "?"), "T05thread:1;");
	session_close(&t);
}

/* A run resumed in slices stops at a breakpoint on the very instruction
 * where the last slice ended. 4096 NOPs, then out 0xf4. */
static void test_every_boundary(void)
{
	for (int every = 0; every < 2; every++) {
		struct session t;
		session_open(&t);
		uint8_t sled[4100];
		memset(sled, 0x90, 4096);
		memcpy(sled + 4096, "\xb0\x00\xe6\xf4", 4);
		CU_ASSERT_EQUAL_FATAL(phys_copy_in(&t.m->phys, CODE, sled, sizeof(sled)), 0);
		struct dbg_stop st;
		dbg_resume(t.d, &(struct dbg_run){ .until_cycle = 2000 }, &st);
		CU_ASSERT_EQUAL_FATAL(st.kind, DBG_STOP_CYCLE);
		uint64_t rip = t.m->cpus[0].rip;
		CU_ASSERT_TRUE(rip > CODE && rip < CODE + 4096);
		int id = dbg_bp_add(t.d, &(struct dbg_bp){ .kind = DBG_BP_LINEAR, .cpu = -1, .addr = rip, .enabled = true });
		dbg_resume(t.d, &(struct dbg_run){ .every_boundary = every }, &st);
		/* A cycle target reports no vCPU's position: the breakpoint
		 * applies with or without every_boundary. */
		CU_ASSERT_EQUAL(st.kind, DBG_STOP_BREAK);
		CU_ASSERT_EQUAL(st.bp, id);
		CU_ASSERT_EQUAL(t.m->cpus[0].rip, rip);
		session_close(&t);
	}
}

/* The stub's slices do not change the run: a loop of 3,000,000 iterations
 * ends at the same cycle with the same instruction count under gdb's
 * continue as run plainly. */
static void test_same_run(void)
{
	/* mov ecx, 3000000; 1: dec ecx; jnz 1b; mov al, 0; out 0xf4, al */
	static const uint8_t loop[] = { 0xb9, 0xc0, 0xc6, 0x2d, 0x00, 0xff, 0xc9, 0x75, 0xfc, 0xb0, 0x00, 0xe6, 0xf4 };
	struct session t;
	session_open(&t);
	CU_ASSERT_EQUAL_FATAL(phys_copy_in(&t.m->phys, CODE, loop, sizeof(loop)), 0);
	struct machine_config cfg = t.m->cfg;
	char err[256];
	struct machine *plain = machine_create(&cfg, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	CU_ASSERT_EQUAL_FATAL(phys_copy_in(&plain->phys, CODE, loop, sizeof(loop)), 0);
	cpu_set_multiboot_state(&plain->cpus[0], CODE, 0x2badb002, 0);
	machine_run(plain);
	CU_ASSERT_STRING_EQUAL(ask(&t, "Z0,10000b,1"), "OK");          /* the out: after many slices */
	CU_ASSERT_STRING_EQUAL(ask(&t, "c"), "T05thread:1;");
	CU_ASSERT_EQUAL(t.m->cpus[0].rip, CODE + 11);
	CU_ASSERT_TRUE(dbg_now(t.d) > 3000000);
	CU_ASSERT_STRING_EQUAL(ask(&t, "c"), "W01");
	CU_ASSERT_EQUAL(t.m->cpus[0].instret, plain->cpus[0].instret);
	CU_ASSERT_EQUAL(t.m->cpus[0].cycles, plain->cpus[0].cycles);
	CU_ASSERT_EQUAL(t.m->exit.cycle, plain->exit.cycle);
	machine_destroy(plain);
	session_close(&t);
}

/* -s, -gdb tcp::PORT (QEMU's spelling) and what is refused. */
static void test_cli(void)
{
	struct cli cl;
	char err[256];
	char *a1[] = { "vtxsim", "-s", "-kernel", "k", NULL };
	CU_ASSERT_EQUAL(cli_parse(&cl, 4, a1, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(cl.gdb);
	CU_ASSERT_EQUAL(cl.gdb_port, 1234);
	cli_free(&cl);
	char *a2[] = { "vtxsim", "-gdb", "tcp::0", "-S", "-kernel", "k", NULL };
	CU_ASSERT_EQUAL(cli_parse(&cl, 6, a2, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(cl.gdb && cl.debug);
	CU_ASSERT_EQUAL(cl.gdb_port, 0);
	cli_free(&cl);
	char *a3[] = { "vtxsim", "-gdb", "tcp:localhost:4321", "-kernel", "k", NULL };
	CU_ASSERT_EQUAL(cli_parse(&cl, 5, a3, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cl.gdb_port, 4321);
	cli_free(&cl);
	const char *bad[] = { "1234", "tcp::", "tcp::65536", "tcp::12x", "udp::1", "tcp:10.0.0.1:1" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char *a[] = { "vtxsim", "-gdb", (char *)bad[k], "-kernel", "k", NULL };
		CU_ASSERT_EQUAL(cli_parse(&cl, 5, a, err, sizeof(err)), -1);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "give tcp::PORT"));
		cli_free(&cl);
	}
	char *a4[] = { "vtxsim", "-s", "--debug-cmd", "help", "-kernel", "k", NULL };
	CU_ASSERT_EQUAL(cli_parse(&cl, 6, a4, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "monitor CMD"));
	cli_free(&cl);
}

void suite_debugger_gdbstub(void)
{
	CU_pSuite s = CU_add_suite("debugger_gdbstub", NULL, NULL);
	CU_add_test(s, "framing and checksums", test_frame);
	CU_add_test(s, "the receiver: acks, escapes, bad packets", test_rx);
	CU_add_test(s, "hex", test_hex);
	CU_add_test(s, "target.xml", test_target_xml);
	CU_add_test(s, "register packing, g/G/p/P", test_registers);
	CU_add_test(s, "memory, m/M/X", test_memory);
	CU_add_test(s, "breakpoints, steps, watchpoints, the end", test_run);
	CU_add_test(s, "monitor (qRcmd)", test_monitor);
	CU_add_test(s, "garbage", test_fuzz);
	CU_add_test(s, "sliced runs miss no breakpoint", test_every_boundary);
	CU_add_test(s, "the stub's slices do not change the run", test_same_run);
	CU_add_test(s, "-s, -gdb tcp::PORT", test_cli);
}
