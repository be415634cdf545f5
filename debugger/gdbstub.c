/* The GDB stub's session (debugger/gdbstub.h): gdb's packets turned into
 * debug API calls (gdb manual, "Remote Protocol"). vCPU i is thread i + 1.
 * gdb's breakpoints and watchpoints are debugger breakpoints
 * (sim/debug_api.h), never int3 or debug registers: the guest does not see
 * them. The run goes on in slices of simulated time between which the
 * stub looks for gdb's Ctrl-C (a stop between slices does not change the
 * run: tests/unit/sim/test_debug.c, test_same_run). */
#include "debugger/gdbstub.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debugger/shell.h"

/* Simulated cycles run between two looks for Ctrl-C. */
#define GDB_SLICE 2000000u
#define GDB_MAX_BPS 64

enum gdb_bp_type { Z_SW, Z_HW, Z_WRITE, Z_READ, Z_ACCESS };

struct gdb_bp {
	enum gdb_bp_type type;
	uint64_t addr, kind;
	int id;                 /* the debugger breakpoint */
};

struct gdb_stub {
	struct dbg *d;
	struct gdb_io io;
	struct shell *sh;       /* for `monitor` */
	struct gdb_rx rx;
	bool noack;
	bool swbreak, hwbreak;  /* gdb understands these stop reasons (qSupported) */
	int gcpu, ccpu;         /* Hg (registers, memory), Hc (resume) */
	bool over;              /* W was sent */
	bool done;
	int status;             /* the process exit status once done */
	struct dbg_stop stop;   /* the last stop, for `?` */
	struct gdb_bp bps[GDB_MAX_BPS];
	int nbps;
	char *reply;            /* GDB_PACKET_MAX + 1 */
	char *frame;            /* the last packet sent, framed: resent on '-' */
	size_t frame_len;
};

/* ---- sending ---- */

static void send_raw(struct gdb_stub *s, const void *buf, size_t n)
{
	if (!s->io.send(s->io.ctx, buf, n))
		s->done = true;
}

static void send_packet(struct gdb_stub *s, const void *payload, size_t n)
{
	s->frame_len = gdb_frame(payload, n, s->frame, 2 * GDB_PACKET_MAX + 8);
	send_raw(s, s->frame, s->frame_len);
}

static void reply(struct gdb_stub *s, const char *str)
{
	send_packet(s, str, strlen(str));
}

static void replyf(struct gdb_stub *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void replyf(struct gdb_stub *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->reply, GDB_PACKET_MAX + 1, fmt, ap);
	va_end(ap);
	reply(s, s->reply);
}

/* E NN: the number is errno-like, gdb only shows it. */
static void reply_error(struct gdb_stub *s, int n)
{
	replyf(s, "E%02x", n & 0xff);
}

/* Console output for gdb (an O packet: only while the target runs, or
 * before the OK of a qRcmd). */
static void send_console(struct gdb_stub *s, const char *text, size_t n)
{
	while (n) {
		size_t chunk = n < (GDB_PACKET_MAX - 2) / 2 ? n : (GDB_PACKET_MAX - 2) / 2;
		s->reply[0] = 'O';
		gdb_tohex(text, chunk, s->reply + 1);
		send_packet(s, s->reply, 1 + 2 * chunk);
		text += chunk;
		n -= chunk;
	}
}

/* ---- threads ---- */

static int cpu_of_thread(const struct gdb_stub *s, uint64_t tid)
{
	if (tid == 0)
		return s->gcpu;
	return tid <= (uint64_t)dbg_ncpus(s->d) ? (int)tid - 1 : -1;
}

/* A thread id: "-1" (all), or hex. */
static bool parse_thread(const char **p, int64_t *tid)
{
	uint64_t v;
	if ((*p)[0] == '-' && (*p)[1] == '1') {
		*p += 2;
		*tid = -1;
		return true;
	}
	if (!gdb_hexnum(p, &v) || v > 0xffff)
		return false;
	*tid = (int64_t)v;
	return true;
}

/* ---- memory: linear addresses of the selected vCPU ---- */

/* Through the selected vCPU's page walk as it translates now (EPT too in
 * non-root operation), without side effects: no accessed/dirty flags, no
 * TLB fill, no MMIO (sim/debug_api.h, dbg_read_linear). */
static size_t mem_read(struct gdb_stub *s, uint64_t addr, void *buf, size_t n)
{
	return dbg_read_linear(s->d, s->gcpu, addr, buf, n, NULL);
}

static size_t mem_write(struct gdb_stub *s, uint64_t addr, const void *buf, size_t n)
{
	return dbg_write_linear(s->d, s->gcpu, addr, buf, n, NULL);
}

/* ---- stop replies ---- */

static const struct gdb_bp *find_bp_id(const struct gdb_stub *s, int id)
{
	for (int k = 0; k < s->nbps; k++)
		if (s->bps[k].id == id)
			return &s->bps[k];
	return NULL;
}

/* The reason part of a T reply for a stop at one of gdb's breakpoints. */
static void bp_reason(const struct gdb_stub *s, const struct dbg_stop *st, char *buf, size_t len)
{
	const struct gdb_bp *b = st->kind == DBG_STOP_BREAK ? find_bp_id(s, st->bp) : NULL;
	static const char *const watch[] = { [Z_WRITE] = "watch", [Z_READ] = "rwatch", [Z_ACCESS] = "awatch" };
	buf[0] = 0;
	if (!b)
		return;
	if (b->type == Z_SW && s->swbreak)
		snprintf(buf, len, "swbreak:;");
	else if (b->type == Z_HW && s->hwbreak)
		snprintf(buf, len, "hwbreak:;");
	else if (b->type >= Z_WRITE) {
		/* The first watched byte the access touched. */
		uint64_t a = st->has_event && st->ev.value > b->addr ? st->ev.value : b->addr;
		snprintf(buf, len, "%s:%llx;", watch[b->type], (unsigned long long)a);
	}
}

/* The triple-fault / VMX-abort report (sim/forensics.h), on stderr as a
 * run without gdb prints it, and to gdb's console while gdb is there. */
static void report_shutdown(struct gdb_stub *s, int cpu)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	dbg_forensics(s->d, cpu, f);
	fclose(f);
	fwrite(text, 1, len, stderr);
	if (!s->done)
		send_console(s, text, len);
	free(text);
}

static void send_stop(struct gdb_stub *s)
{
	const struct dbg_stop *st = &s->stop;
	char why[64];
	if (st->kind == DBG_STOP_END) {
		int status = dbg_exit_status(s->d);
		dbg_exit_message(s->d, s->reply, GDB_PACKET_MAX);
		if (s->reply[0]) {
			char line[300];
			int n = snprintf(line, sizeof(line), "vtxsim: %s\n", s->reply);
			send_console(s, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
			fputs(line, stderr);    /* as a run without gdb says it */
		}
		s->over = true;
		s->status = status;
		replyf(s, "W%02x", status & 0xff);
		return;
	}
	if (st->cpu >= 0)
		s->gcpu = s->ccpu = st->cpu;
	if (st->kind == DBG_STOP_SHUTDOWN) {
		char line[160];
		int n = snprintf(line, sizeof(line), "vtxsim: cpu%d shut down (%s); continuing resets or ends the run\n",
				 st->cpu, st->ev.code ? "VMX abort" : "triple fault");
		send_console(s, line, (size_t)n);
		report_shutdown(s, st->cpu);
	}
	bp_reason(s, st, why, sizeof(why));
	replyf(s, "T%02x%sthread:%x;", st->kind == DBG_STOP_INTERRUPT ? 2 : 5, why, s->gcpu + 1);
}

/* ---- running ---- */

/* Bytes from gdb while the guest runs: 0x03 stops it. False when the
 * connection is gone. */
static bool poll_interrupt(struct gdb_stub *s, bool *interrupted)
{
	uint8_t b;
	int r;
	while ((r = s->io.recv(s->io.ctx, &b, false)) > 0)
		if (b == 0x03)
			*interrupted = true;
	return r == 0;
}

/* Run until a stop: one instruction of vCPU step_cpu, or (step_cpu < 0)
 * until a breakpoint, Ctrl-C or the end. False when gdb went away. */
static bool run(struct gdb_stub *s, int step_cpu)
{
	struct dbg_stop st;
	if (step_cpu >= 0) {
		dbg_resume(s->d, &(struct dbg_run){ .cpu = step_cpu, .steps = 1 }, &st);
		s->stop = st;
		return true;
	}
	for (;;) {
		struct dbg_run r = { .until_cycle = dbg_now(s->d) + GDB_SLICE, .every_boundary = true };
		dbg_resume(s->d, &r, &st);
		if (st.kind != DBG_STOP_CYCLE) {
			s->stop = st;
			return true;
		}
		bool interrupted = false;
		if (!poll_interrupt(s, &interrupted))
			return false;
		if (interrupted) {
			s->stop = (struct dbg_stop){ .kind = DBG_STOP_INTERRUPT, .cpu = s->ccpu, .cycle = st.cycle };
			return true;
		}
	}
}

/* gdb is gone or detached: the run goes on to its end without it. */
static void finish_run(struct gdb_stub *s)
{
	int n;
	const struct dbg_bp *list = dbg_bp_list(s->d, &n);
	while (n > 0) {
		dbg_bp_delete(s->d, list[0].id);
		list = dbg_bp_list(s->d, &n);
	}
	s->nbps = 0;
	struct dbg_stop st;
	s->done = true;                 /* gdb is gone: nothing more to it */
	for (;;) {
		dbg_resume(s->d, &(struct dbg_run){ 0 }, &st);
		if (st.kind == DBG_STOP_END)
			break;
		if (st.kind == DBG_STOP_SHUTDOWN)
			report_shutdown(s, st.cpu);
	}
	s->status = dbg_exit_status(s->d);
	char msg[300];
	dbg_exit_message(s->d, msg, sizeof(msg));
	if (msg[0])
		fprintf(stderr, "vtxsim: %s\n", msg);
}

static void resume(struct gdb_stub *s, int step_cpu)
{
	if (s->over) {
		send_stop(s);
		return;
	}
	if (!run(s, step_cpu)) {
		finish_run(s);
		return;
	}
	send_stop(s);
}

/* ---- packets ---- */

static void pkt_qsupported(struct gdb_stub *s, const char *p)
{
	s->swbreak = strstr(p, "swbreak+") != NULL;
	s->hwbreak = strstr(p, "hwbreak+") != NULL;
	replyf(s, "PacketSize=%x;qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+",
	       GDB_PACKET_MAX);
}

static void pkt_noack(struct gdb_stub *s, const char *p)
{
	(void)p;
	reply(s, "OK");
	s->noack = true;
}

/* qXfer:features:read:ANNEX:OFFSET,LENGTH ("qXfer read", "Target Descriptions"). */
static void pkt_qxfer_features(struct gdb_stub *s, const char *p)
{
	static const char annex[] = "target.xml:";
	uint64_t off, len;
	p += strlen("qXfer:features:read:");
	if (strncmp(p, annex, strlen(annex))) {
		reply_error(s, 0);
		return;
	}
	p += strlen(annex);
	if (!gdb_hexnum(&p, &off) || *p++ != ',' || !gdb_hexnum(&p, &len) || *p) {
		reply_error(s, 1);
		return;
	}
	const char *xml = gdb_target_xml();
	size_t total = strlen(xml);
	if (off > total) {
		reply_error(s, 1);
		return;
	}
	size_t n = total - off < len ? total - off : len;
	if (n > GDB_PACKET_MAX - 1)
		n = GDB_PACKET_MAX - 1;
	s->reply[0] = off + n < total ? 'm' : 'l';
	memcpy(s->reply + 1, xml + off, n);
	send_packet(s, s->reply, n + 1);
}

static void pkt_qfthreadinfo(struct gdb_stub *s, const char *p)
{
	(void)p;
	size_t o = 0;
	s->reply[o++] = 'm';
	for (int i = 0; i < dbg_ncpus(s->d) && o < GDB_PACKET_MAX - 8; i++)
		o += (size_t)snprintf(s->reply + o, 8, "%s%x", i ? "," : "", i + 1);
	s->reply[o] = 0;
	reply(s, s->reply);
}

static void pkt_qsthreadinfo(struct gdb_stub *s, const char *p)
{
	(void)p;
	reply(s, "l");
}

/* What `info threads` shows beside each vCPU. */
static void pkt_qthreadextrainfo(struct gdb_stub *s, const char *p)
{
	int64_t tid;
	p += strlen("qThreadExtraInfo,");
	int cpu = parse_thread(&p, &tid) && tid > 0 ? cpu_of_thread(s, (uint64_t)tid) : -1;
	if (cpu < 0) {
		reply_error(s, 2);
		return;
	}
	const struct cpu *c = dbg_cpu(s->d, cpu);
	char text[64];
	int n = snprintf(text, sizeof(text), "vCPU %d%s", cpu, !c->vmx.on ? "" : c->vmx.nonroot ? ", VMX non-root" :
			 ", VMX root");
	gdb_tohex(text, (size_t)n, s->reply);
	s->reply[2 * n] = 0;
	reply(s, s->reply);
}

static void pkt_qattached(struct gdb_stub *s, const char *p)
{
	(void)p;
	reply(s, "1");
}

static void pkt_qc(struct gdb_stub *s, const char *p)
{
	if (p[2]) {
		reply(s, "");
		return;
	}
	replyf(s, "QC%x", s->gcpu + 1);
}

/* qRcmd,HEX: `monitor CMD` runs the shell command CMD; its output goes
 * back as O packets, then OK. */
static void pkt_qrcmd(struct gdb_stub *s, const char *p)
{
	p += strlen("qRcmd,");
	size_t n = strlen(p) / 2;
	char *cmd = malloc(n + 1);
	if (!cmd || strlen(p) % 2 || !gdb_fromhex(p, cmd, n) || memchr(cmd, 0, n)) {
		free(cmd);
		reply_error(s, 1);
		return;
	}
	cmd[n] = 0;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f) {
		free(cmd);
		reply_error(s, 12);
		return;
	}
	shell_set_out(s->sh, f);
	shell_set_cpu(s->sh, s->gcpu);
	shell_exec(s->sh, cmd);
	fclose(f);
	shell_set_out(s->sh, stdout);
	free(cmd);
	send_console(s, text, len);
	free(text);
	reply(s, "OK");
	if (shell_quit_requested(s->sh))
		s->done = true;
}

static void pkt_stop_reason(struct gdb_stub *s, const char *p)
{
	(void)p;
	send_stop(s);
}

/* Hg / Hc THREAD. */
static void pkt_thread_select(struct gdb_stub *s, const char *p)
{
	char op = p[1];
	int64_t tid;
	p += 2;
	if ((op != 'g' && op != 'c') || !parse_thread(&p, &tid) || *p) {
		reply_error(s, 1);
		return;
	}
	int cpu = tid < 0 ? (op == 'g' ? s->gcpu : s->ccpu) : cpu_of_thread(s, (uint64_t)tid);
	if (cpu < 0) {
		reply_error(s, 2);
		return;
	}
	if (op == 'g')
		s->gcpu = cpu;
	else
		s->ccpu = cpu;
	reply(s, "OK");
}

static void pkt_thread_alive(struct gdb_stub *s, const char *p)
{
	int64_t tid;
	p++;
	if (!parse_thread(&p, &tid) || *p || tid <= 0 || cpu_of_thread(s, (uint64_t)tid) < 0)
		reply_error(s, 2);
	else
		reply(s, "OK");
}

static void pkt_read_regs(struct gdb_stub *s, const char *p)
{
	(void)p;
	uint8_t buf[16];
	size_t o = 0;
	for (int r = 0; r < gdb_reg_count(); r++) {
		size_t n = (size_t)gdb_reg_size(r);
		if (gdb_reg_get(s->d, s->gcpu, r, buf))
			gdb_tohex(buf, n, s->reply + o);
		else
			memset(s->reply + o, 'x', 2 * n);
		o += 2 * n;
	}
	send_packet(s, s->reply, o);
}

static void pkt_write_regs(struct gdb_stub *s, const char *p)
{
	uint8_t buf[16];
	p++;
	for (int r = 0; r < gdb_reg_count() && *p; r++) {
		size_t n = (size_t)gdb_reg_size(r);
		if (strlen(p) < 2 * n) {
			reply_error(s, 22);
			return;
		}
		/* "xx": gdb does not know it; leave the register as it is. */
		if (p[0] != 'x' && (!gdb_fromhex(p, buf, n) || !gdb_reg_set(s->d, s->gcpu, r, buf))) {
			reply_error(s, 22);
			return;
		}
		p += 2 * n;
	}
	reply(s, "OK");
}

static void pkt_read_reg(struct gdb_stub *s, const char *p)
{
	uint64_t r;
	uint8_t buf[16];
	p++;
	if (!gdb_hexnum(&p, &r) || *p || r >= (uint64_t)gdb_reg_count() || !gdb_reg_get(s->d, s->gcpu, (int)r, buf)) {
		reply_error(s, 22);
		return;
	}
	gdb_tohex(buf, (size_t)gdb_reg_size((int)r), s->reply);
	send_packet(s, s->reply, 2 * (size_t)gdb_reg_size((int)r));
}

/* P REG=VALUE. */
static void pkt_write_reg(struct gdb_stub *s, const char *p)
{
	uint64_t r;
	uint8_t buf[16];
	p++;
	if (!gdb_hexnum(&p, &r) || *p++ != '=' || r >= (uint64_t)gdb_reg_count() ||
	    strlen(p) != 2 * (size_t)gdb_reg_size((int)r) || !gdb_fromhex(p, buf, (size_t)gdb_reg_size((int)r)) ||
	    !gdb_reg_set(s->d, s->gcpu, (int)r, buf)) {
		reply_error(s, 22);
		return;
	}
	reply(s, "OK");
}

/* "ADDR,LENGTH" then the rest at *p. */
static bool addr_len(const char **p, uint64_t *addr, uint64_t *len)
{
	return gdb_hexnum(p, addr) && *(*p)++ == ',' && gdb_hexnum(p, len);
}

static void pkt_read_mem(struct gdb_stub *s, const char *p)
{
	uint64_t addr, len;
	uint8_t buf[GDB_PACKET_MAX / 2];
	p++;
	if (!addr_len(&p, &addr, &len) || *p) {
		reply_error(s, 22);
		return;
	}
	if (len > sizeof(buf))
		len = sizeof(buf);      /* gdb asks again for the rest */
	size_t got = mem_read(s, addr, buf, (size_t)len);
	if (!got && len) {
		reply_error(s, 14);
		return;
	}
	gdb_tohex(buf, got, s->reply);
	send_packet(s, s->reply, 2 * got);
}

static void write_mem_reply(struct gdb_stub *s, uint64_t addr, const uint8_t *buf, size_t n)
{
	if (mem_write(s, addr, buf, n) != n)
		reply_error(s, 14);
	else
		reply(s, "OK");
}

/* M ADDR,LENGTH:HEX. */
static void pkt_write_mem(struct gdb_stub *s, const char *p)
{
	uint64_t addr, len;
	uint8_t buf[GDB_PACKET_MAX / 2];
	p++;
	if (!addr_len(&p, &addr, &len) || *p++ != ':' || len > sizeof(buf) || strlen(p) != 2 * len ||
	    !gdb_fromhex(p, buf, (size_t)len)) {
		reply_error(s, 22);
		return;
	}
	write_mem_reply(s, addr, buf, (size_t)len);
}

/* X ADDR,LENGTH:BINARY (already unescaped by the packet layer). */
static void pkt_write_mem_bin(struct gdb_stub *s, const char *p, size_t n)
{
	uint64_t addr, len;
	const char *start = p++;
	if (!addr_len(&p, &addr, &len) || *p++ != ':' || (size_t)(p - start) + len != n) {
		reply_error(s, 22);
		return;
	}
	write_mem_reply(s, addr, (const uint8_t *)p, (size_t)len);
}

/* Z/z TYPE,ADDR,KIND. */
static bool parse_z(const char *p, unsigned *type, uint64_t *addr, uint64_t *kind)
{
	uint64_t t;
	p++;
	if (!gdb_hexnum(&p, &t) || t > Z_ACCESS || *p++ != ',' || !addr_len(&p, addr, kind))
		return false;
	*type = (unsigned)t;
	return *p == 0 || *p == ';';    /* ";cond..." lists: gdb evaluates conditions itself */
}

static void pkt_insert_bp(struct gdb_stub *s, const char *p)
{
	unsigned type;
	uint64_t addr, kind;
	if (!parse_z(p, &type, &addr, &kind)) {
		reply_error(s, 22);
		return;
	}
	for (int k = 0; k < s->nbps; k++)
		if (s->bps[k].type == type && s->bps[k].addr == addr && s->bps[k].kind == kind) {
			if (!dbg_bp_find(s->d, s->bps[k].id)) {         /* `monitor delete` took it */
				s->bps[k] = s->bps[--s->nbps];
				break;
			}
			reply(s, "OK");         /* already there: Z is idempotent */
			return;
		}
	struct dbg_bp b = { .kind = type <= Z_HW ? DBG_BP_LINEAR : DBG_BP_WATCH, .cpu = -1, .addr = addr,
			    .len = type <= Z_HW ? 0 : kind, .enabled = true,
			    .access = type == Z_WRITE ? DBG_W_WRITE : type == Z_READ ? DBG_W_READ : 0 };
	if (type > Z_HW && (kind == 0 || kind > 4096)) {
		reply_error(s, 22);
		return;
	}
	int id = s->nbps < GDB_MAX_BPS ? dbg_bp_add(s->d, &b) : -1;
	if (id < 0) {
		reply_error(s, 28);     /* ENOSPC */
		return;
	}
	s->bps[s->nbps++] = (struct gdb_bp){ .type = type, .addr = addr, .kind = kind, .id = id };
	reply(s, "OK");
}

static void pkt_remove_bp(struct gdb_stub *s, const char *p)
{
	unsigned type;
	uint64_t addr, kind;
	if (!parse_z(p, &type, &addr, &kind)) {
		reply_error(s, 22);
		return;
	}
	for (int k = 0; k < s->nbps; k++)
		if (s->bps[k].type == type && s->bps[k].addr == addr && s->bps[k].kind == kind) {
			dbg_bp_delete(s->d, s->bps[k].id);
			s->bps[k] = s->bps[--s->nbps];
			break;
		}
	reply(s, "OK");                 /* removing one that is not there is not an error */
}

/* c/C/s/S [SIG;][ADDR]: a new address is where to resume. */
static bool resume_addr(struct gdb_stub *s, const char *p)
{
	uint64_t addr, sig;
	bool with_sig = *p == 'C' || *p == 'S';
	p++;
	if (with_sig && (!gdb_hexnum(&p, &sig) || (*p && *p++ != ';')))
		return false;
	if (!*p)
		return true;
	return gdb_hexnum(&p, &addr) && !*p && dbg_reg_write(s->d, s->ccpu, "rip", addr);
}

static void pkt_continue(struct gdb_stub *s, const char *p)
{
	if (!resume_addr(s, p)) {
		reply_error(s, 22);
		return;
	}
	resume(s, -1);
}

static void pkt_step(struct gdb_stub *s, const char *p)
{
	if (!resume_addr(s, p)) {
		reply_error(s, 22);
		return;
	}
	resume(s, s->ccpu);
}

static void pkt_vcont_query(struct gdb_stub *s, const char *p)
{
	(void)p;
	reply(s, "vCont;c;C;s;S");
}

/* vCont;ACTION[:THREAD]...: the first action naming a thread or none
 * decides; a step steps its vCPU (the others run meanwhile, as the
 * scheduler runs them), anything else continues. */
static void pkt_vcont(struct gdb_stub *s, const char *p)
{
	int step_cpu = -1;
	bool any = false;
	p += strlen("vCont");
	while (*p == ';') {
		char act = p[1];
		int64_t tid = -1;
		uint64_t sig;
		p += 2;
		if (act != 'c' && act != 's' && act != 'C' && act != 'S') {
			reply_error(s, 22);
			return;
		}
		if ((act == 'C' || act == 'S') && !gdb_hexnum(&p, &sig)) {
			reply_error(s, 22);
			return;
		}
		if (*p == ':' && (++p, !parse_thread(&p, &tid))) {
			reply_error(s, 22);
			return;
		}
		int cpu = tid <= 0 ? s->ccpu : cpu_of_thread(s, (uint64_t)tid);
		if (cpu < 0) {
			reply_error(s, 2);
			return;
		}
		if ((act == 's' || act == 'S') && step_cpu < 0)
			step_cpu = cpu;
		any = true;
	}
	if (*p || !any) {
		reply_error(s, 22);
		return;
	}
	resume(s, step_cpu);
}

static void pkt_detach(struct gdb_stub *s, const char *p)
{
	(void)p;
	reply(s, "OK");
	if (s->over)
		s->done = true;
	else
		finish_run(s);
}

/* k / vKill: end the session now; the run ends unfinished, status 0 (as
 * QEMU's does). */
static void pkt_kill(struct gdb_stub *s, const char *p)
{
	if (p[0] == 'v')
		reply(s, "OK");
	if (!s->over)
		s->status = 0;
	s->done = true;
}

typedef void (*gdb_packet_fn)(struct gdb_stub *s, const char *p);

static const struct {
	const char *prefix;
	gdb_packet_fn fn;
} gdb_packets[] = {
#define GDB_PACKET(prefix, fn) { prefix, fn },
#include "debugger/gdb_packets.def"
#undef GDB_PACKET
};

/* A named query (q..., Q..., v...) matches its whole name only. */
static bool name_matches(const char *prefix, const char *pkt)
{
	size_t n = strlen(prefix);
	if (strncmp(pkt, prefix, n))
		return false;
	if (n == 1 || strchr(",:;?", prefix[n - 1]))
		return true;
	return pkt[n] == 0 || pkt[n] == ':' || pkt[n] == ',' || pkt[n] == ';';
}

bool gdb_stub_packet(struct gdb_stub *s, const char *pkt, size_t len)
{
	if (pkt[0] == 'X') {            /* binary data: may hold NULs */
		pkt_write_mem_bin(s, pkt, len);
		return !s->done;
	}
	if (strlen(pkt) != len) {
		reply(s, "");
		return !s->done;
	}
	for (size_t k = 0; k < sizeof(gdb_packets) / sizeof(gdb_packets[0]); k++)
		if (name_matches(gdb_packets[k].prefix, pkt)) {
			gdb_packets[k].fn(s, pkt);
			return !s->done;
		}
	reply(s, "");
	return !s->done;
}

/* ---- the session ---- */

struct gdb_stub *gdb_stub_create(struct dbg *d, const struct gdb_io *io, const char *kernel)
{
	struct gdb_stub *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->d = d;
	s->io = *io;
	s->reply = malloc(GDB_PACKET_MAX + 1);
	s->frame = malloc(2 * GDB_PACKET_MAX + 8);
	s->sh = shell_create(d, stdout, kernel);
	if (!s->reply || !s->frame || !s->sh) {
		gdb_stub_destroy(s);
		return NULL;
	}
	gdb_rx_init(&s->rx);
	/* Stopped before the first instruction, as if by SIGTRAP. */
	s->stop = (struct dbg_stop){ .kind = DBG_STOP_STEP, .cpu = 0 };
	return s;
}

void gdb_stub_destroy(struct gdb_stub *s)
{
	if (!s)
		return;
	shell_destroy(s->sh);
	free(s->reply);
	free(s->frame);
	free(s);
}

int gdb_stub_serve(struct gdb_stub *s)
{
	while (!s->done) {
		uint8_t b;
		int r = s->io.recv(s->io.ctx, &b, true);
		if (r < 0) {                    /* the connection dropped: as a detach */
			if (!s->over)
				finish_run(s);
			break;
		}
		switch (gdb_rx_byte(&s->rx, b)) {
		case GDB_RX_PACKET:
			if (!s->noack)
				send_raw(s, "+", 1);
			gdb_stub_packet(s, s->rx.buf, s->rx.len);
			break;
		case GDB_RX_BAD:
			if (!s->noack)
				send_raw(s, "-", 1);
			break;
		case GDB_RX_NAK:
			if (!s->noack && s->frame_len)
				send_raw(s, s->frame, s->frame_len);
			break;
		default:                        /* an ack, or Ctrl-C while stopped already */
			break;
		}
	}
	return s->status;
}
