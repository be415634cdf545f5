/* Execution control and breakpoints (docs/debugger.md, "The shell"):
 * continue, stepi, next, until, cpu; break, tbreak, watch, catch,
 * info breakpoints, delete, enable, disable; print, set; the stop report. */
#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "debugger/expr.h"
#include "debugger/disasm.h"
#include "debugger/shell.h"
#include "debugger/symbols.h"
#include "vmx/controls.h"
#include "vmx/entry.h"
#include "vmx/vmcs.h"

/* ---- names the architecture gives ---- */

static const struct {
	int vec;
	const char *mnemonic, *text;
} exceptions[] = {
#define X(v, m, t) { v, m, t },
#include "cpu/vectors.def"
#undef X
};

static const struct {
	int reason;
	const char *name, *text;
} exit_reasons[] = {
#define X(n, id, text) { n, #id, text },
	EXIT_REASON_TABLE(X)
#undef X
};


#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *exc_mnemonic(unsigned vec)
{
	for (size_t k = 0; k < NELEM(exceptions); k++)
		if ((unsigned)exceptions[k].vec == vec)
			return exceptions[k].mnemonic;
	return NULL;
}

static const char *exit_name(unsigned reason)
{
	const char *id = vmx_exit_reason_id(reason);
	return id ? id : "unknown";
}

static const char *vm_insn_error_text(uint64_t n)
{
	const char *t = n <= UINT32_MAX ? vmx_insn_error_text((uint32_t)n) : NULL;
	return t ? t : "no such VM-instruction error";
}

/* "ept-violation", "EPT_VIOLATION", "48": the basic exit reason, or -1. */
static int exit_reason_by_name(const char *s)
{
	char *end;
	long n = strtol(s, &end, 0);
	if (*s && !*end)
		return n >= 0 && n < 65536 ? (int)n : -1;
	for (size_t k = 0; k < NELEM(exit_reasons); k++) {
		const char *a = exit_reasons[k].name, *b = s;
		while (*a && *b && toupper((unsigned char)*a) == (*b == '-' ? '_' : toupper((unsigned char)*b)))
			a++, b++;
		if (!*a && !*b)
			return exit_reasons[k].reason;
	}
	return -1;
}

/* The interruption types of the exit-interruption and VM-entry
 * interruption-information fields (SDM vol. 3C 24.8.3, 24.9.2). */
static const char *intr_type_text(unsigned type)
{
	static const char *const t[8] = { "external interrupt", "reserved type 1", "NMI", "hardware exception",
					  "software interrupt", "privileged software exception",
					  "software exception", "other event" };
	return t[type & 7];
}

/* ---- addresses and the instruction at RIP ---- */

void shell_print_addr(struct shell *sh, uint64_t a)
{
	uint64_t off;
	const char *s = symtab_find(shell_symbols(sh), a, &off);
	fprintf(shell_out(sh), "0x%016llx", (unsigned long long)a);
	if (s && off)
		fprintf(shell_out(sh), " <%s+%llu>", s, (unsigned long long)off);
	else if (s)
		fprintf(shell_out(sh), " <%s>", s);
}

/* "=> 0x... <sym+off>: bytes" for vCPU cpu's next instruction. */
static void print_next_insn(struct shell *sh, int cpu)
{
	struct dbg *d = shell_dbg(sh);
	const struct cpu *c = dbg_cpu(d, cpu);
	uint8_t b[15];
	uint64_t la;
	FILE *o = shell_out(sh);
	if (!c || c->shutdown)
		return;
	if (c->halted || c->wait_sipi) {
		/* Its next fetch may be an interrupt handler's, not RIP's: reading
		 * RIP's bytes could set an accessed flag the run never sets. */
		fputs("=> ", o);
		shell_print_addr(sh, c->rip);
		fprintf(o, " (%s)\n", c->halted ? "halted" : "waiting for SIPI");
		return;
	}
	size_t n = dbg_code_at_rip(d, cpu, &la, b, sizeof(b));
	if (!n) {
		fputs("=> ", o);
		shell_print_addr(sh, la);
		fputs(": (not fetchable)\n", o);
		return;
	}
	disasm_one(sh, la, b, n, disasm_bits(c), true);
}

/* ---- events ---- */

static void describe_entry_fail(struct shell *sh, int cpu)
{
	FILE *o = shell_out(sh);
	struct dbg *d = shell_dbg(sh);
	const struct cpu *c = dbg_cpu(d, cpu);
	int id = c ? c->vmx.verdict.check : -1;
	if (id < 0 || id >= ENTRY_CHECK_COUNT) {
		fputs("VM-entry failure", o);
		return;
	}
	const struct entry_check *k = &entry_checks[id];
	fprintf(o, "VM-entry failure, check %s (SDM %s): %s; ", k->id, k->section, k->rule);
	uint64_t err = 0;
	switch (k->outcome.kind) {
	case OUTCOME_FAIL_VALID:
		dbg_vmcs_read(d, cpu, vmcs_fields[VF_VM_INSTRUCTION_ERROR].enc, &err);
		fprintf(o, "VMfailValid, VM-instruction error %llu (%s)", (unsigned long long)err,
			vm_insn_error_text(err));
		break;
	case OUTCOME_FAIL_INVALID:
		fputs("VMfailInvalid", o);
		break;
	case OUTCOME_FAIL_EXIT: {
		/* The exit the failure produced, as the VMCS now holds it (SDM vol.
		 * 3C 26.8: reason with bit 31 set; for reason 34 the
		 * qualification is the index of the failing MSR-load entry). */
		uint64_t reason = k->outcome.number, qual = k->outcome.qual;
		dbg_vmcs_read(d, cpu, vmcs_fields[VF_EXIT_REASON].enc, &reason);
		dbg_vmcs_read(d, cpu, vmcs_fields[VF_EXIT_QUALIFICATION].enc, &qual);
		fprintf(o, "VM exit 0x%llx (%s), qualification %llu", (unsigned long long)reason,
			exit_name(reason & 0xffff), (unsigned long long)qual);
		break;
	}
	case OUTCOME_FAULT:
		fprintf(o, "exception %u", k->outcome.number);
		break;
	}
}

static void describe_delivery(FILE *o, const struct probe_event *e)
{
	static const char *const kinds[] = { "exception", "software interrupt", "software exception",
					     "privileged software exception", "external interrupt", "NMI" };
	const char *m = e->aux <= 3 ? exc_mnemonic(e->code) : NULL;
	fprintf(o, "%s %u", e->aux < NELEM(kinds) ? kinds[e->aux] : "event", e->code);
	if (m)
		fprintf(o, " (%s)", m);
	if (e->has_error)
		fprintf(o, ", error 0x%x", e->error);
	fprintf(o, " delivered through the IDT, return RIP 0x%llx", (unsigned long long)e->rip);
}

static void describe_exit(FILE *o, const struct probe_event *e)
{
	unsigned basic = e->code & 0xffff;
	fprintf(o, "%s %u (%s), qualification 0x%llx", e->code & EXIT_REASON_ENTRY_FAILURE ? "VM-entry failure exit"
											  : "VM exit",
		basic, exit_name(basic), (unsigned long long)e->value);
	if (e->aux & INTR_INFO_VALID) {
		unsigned vec = e->aux & INTR_INFO_VECTOR_MASK;
		fprintf(o, ", %s %u", intr_type_text((e->aux & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT), vec);
	}
	fprintf(o, ", guest RIP 0x%llx", (unsigned long long)e->rip);
}

/* One event in words (no newline). */
static void describe_event(struct shell *sh, int cpu, const struct probe_event *e)
{
	FILE *o = shell_out(sh);
	const struct cpu *c = dbg_cpu(shell_dbg(sh), cpu);
	switch (e->kind) {
	case PROBE_DELIVERY:
		describe_delivery(o, e);
		break;
	case PROBE_IO:
		fprintf(o, "I/O %s port 0x%x, size %u, value 0x%llx", e->write ? "out" : "in", e->code, e->aux,
			(unsigned long long)e->value);
		break;
	case PROBE_MSR:
		fprintf(o, "%s MSR 0x%x, value 0x%llx", e->write ? "WRMSR" : "RDMSR", e->code,
			(unsigned long long)e->value);
		break;
	case PROBE_VMENTRY:
		fprintf(o, "VM entry (%s), guest RIP 0x%llx", e->launch ? "VMLAUNCH" : "VMRESUME",
			(unsigned long long)e->rip);
		break;
	case PROBE_VMENTRY_FAIL:
		describe_entry_fail(sh, cpu);
		break;
	case PROBE_VMEXIT:
		describe_exit(o, e);
		break;
	case PROBE_INJECT:
		fprintf(o, "VM entry injects %s %u", intr_type_text((e->aux & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT),
			e->aux & INTR_INFO_VECTOR_MASK);
		break;
	case PROBE_SHUTDOWN:
		if (c && c->vmx.abort)
			fprintf(o, "VMX abort %u (%s)", c->vmx.abort, vmx_abort_text(c->vmx.abort));
		else
			fputs("triple fault", o);
		break;
	case PROBE_DATA:
		fprintf(o, "%s of %u bytes at 0x%llx", e->write ? "write" : "read", e->aux, (unsigned long long)e->value);
		break;
	case PROBE_VMXINSN:
		fprintf(o, "%s: %s", vmx_exit_reason_id(e->code),
			e->aux == PROBE_VMX_SUCCEED ? "VMsucceed" : e->aux == PROBE_VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
		if (e->has_error)
			fprintf(o, " (error %u)", e->error);
		break;
	}
}

/* What a VM entry loaded and a VM exit saved (for stepping across them). */
static void print_log(struct shell *sh)
{
	struct dbg *d = shell_dbg(sh);
	FILE *o = shell_out(sh);
	int n, last_entry = -1;
	const struct dbg_logged *log = dbg_event_log(d, &n);
	for (int k = 0; k < n; k++)
		if (log[k].ev.kind == PROBE_VMENTRY)
			last_entry = k;
	for (int k = 0; k < n; k++) {
		const struct dbg_logged *l = &log[k];
		fprintf(o, "  [cpu %d, cycle %llu] ", l->cpu, (unsigned long long)l->cycle);
		describe_event(sh, l->cpu, &l->ev);
		const struct cpu *c = dbg_cpu(d, l->cpu);
		uint64_t v[VF_COUNT], host_rip;
		/* The snapshot is of the last VM entry only (dbg_vmcs_at_entry). */
		if (k == last_entry && c && dbg_vmcs_at_entry(d, l->cpu, c->vmx.vmcs_ptr, v, VF_COUNT))
			fprintf(o, "; loaded RSP 0x%llx, CR0 0x%llx, CR3 0x%llx", (unsigned long long)v[VF_GUEST_RSP],
				(unsigned long long)v[VF_GUEST_CR0], (unsigned long long)v[VF_GUEST_CR3]);
		if (l->ev.kind == PROBE_VMEXIT &&
		    dbg_vmcs_read(d, l->cpu, vmcs_fields[VF_HOST_RIP].enc, &host_rip))
			fprintf(o, "; host RIP 0x%llx loaded", (unsigned long long)host_rip);
		fputc('\n', o);
	}
}

/* ---- the stop report ---- */

static void report_break(struct shell *sh, const struct dbg_stop *st, const struct dbg_bp *b)
{
	FILE *o = shell_out(sh);
	fprintf(o, "stopped: %sbreakpoint %d", b && b->temporary ? "temporary " : "", st->bp);
	if (st->has_event) {
		fputs(", ", o);
		describe_event(sh, st->cpu, &st->ev);
	} else {
		uint64_t la;
		uint8_t byte;
		if (b && b->kind == DBG_BP_VMX_INSN)
			fprintf(o, " before %s", b->code >= 0 ? exit_name((unsigned)b->code) : "a VMX instruction");
		if (dbg_code_at_rip(shell_dbg(sh), st->cpu, &la, &byte, 1) || true) {
			fputs(" at ", o);
			shell_print_addr(sh, la);
		}
	}
}

/* The stop line, with log: the events of the resume, then the next instruction. */
static void report(struct shell *sh, const struct dbg_stop *st, bool log, int next_bp)
{
	struct dbg *d = shell_dbg(sh);
	FILE *o = shell_out(sh);
	char msg[300];
	const struct dbg_bp *b = st->kind == DBG_STOP_BREAK ? dbg_bp_find(d, st->bp) : NULL;
	switch (st->kind) {
	case DBG_STOP_STEP:
		fputs("stopped: step done", o);
		break;
	case DBG_STOP_BREAK:
		if (st->bp == next_bp)
			fputs("stopped: next done, after the call", o);
		else
			report_break(sh, st, b);
		break;
	case DBG_STOP_INTERRUPT:
		fputs("stopped: interrupted", o);
		break;
	case DBG_STOP_CYCLE:
		fputs("stopped: cycle target reached", o);
		break;
	case DBG_STOP_SHUTDOWN:
		fputs("stopped: ", o);
		describe_event(sh, st->cpu, &st->ev);
		fprintf(o, " on cpu %d; continuing resets or ends the run", st->cpu);
		break;
	case DBG_STOP_END:
		dbg_end_message(d, msg, sizeof(msg));
		fprintf(o, "run ended: %s (cycle %llu)\n", msg, (unsigned long long)st->cycle);
		return;
	}
	if (st->cpu >= 0)
		fprintf(o, " (cpu %d, cycle %llu)\n", st->cpu, (unsigned long long)st->cycle);
	else
		fprintf(o, " (cycle %llu)\n", (unsigned long long)st->cycle);
	if (b && b->temporary)
		dbg_bp_delete(d, b->id);
	if (log)
		print_log(sh);
	if (st->kind == DBG_STOP_SHUTDOWN)
		dbg_forensics(d, st->cpu, o);   /* the chain of faults, the mode, the VMCS (sim/forensics.c) */
	if (st->cpu >= 0 && st->cpu != shell_cpu(sh)) {
		shell_set_cpu(sh, st->cpu);
		fprintf(o, "(selected cpu %d)\n", st->cpu);
	}
	print_next_insn(sh, shell_cpu(sh));
}

void shell_report_stop(struct shell *sh, const struct dbg_stop *st)
{
	report(sh, st, false, 0);
}

/* ---- running ---- */

/* SIGINT during a run: the handler has no argument, so the dbg being run
 * is the one static here (set only around dbg_resume); dbg_interrupt is
 * signal-safe. */
static struct dbg *volatile sigint_target;

static void on_sigint(int sig)
{
	(void)sig;
	if (sigint_target)
		dbg_interrupt(sigint_target);
}

/* next_bp: the breakpoint `next` set after a CALL (0: none), reported as a step. */
static void run(struct shell *sh, const struct dbg_run *r, bool show_log, int next_bp)
{
	struct dbg *d = shell_dbg(sh);
	struct dbg_stop st;
	struct sigaction sa = { .sa_handler = on_sigint }, old;
	sigemptyset(&sa.sa_mask);
	sigint_target = d;
	sigaction(SIGINT, &sa, &old);
	dbg_resume(d, r, &st);
	sigaction(SIGINT, &old, NULL);
	sigint_target = NULL;
	report(sh, &st, show_log, next_bp);
}

static int cmd_continue(struct shell *sh, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return shell_error(sh, "continue takes no arguments (to run N instructions: stepi N)");
	run(sh, &(struct dbg_run){ .cpu = shell_cpu(sh) }, false, 0);
	return 0;
}

/* A number argument: an expression in one word (kmain+4, rsp+8, 0x10). */
static bool eval_arg(struct shell *sh, const char *what, const char *s, uint64_t *v)
{
	char err[200];
	if (shell_eval(sh, -1, s, v, err, sizeof(err))) {
		shell_error(sh, "bad %s '%s': %s", what, s, err);
		return false;
	}
	return true;
}

static bool count_arg(struct shell *sh, int argc, char **argv, uint64_t *n)
{
	*n = 1;
	if (argc > 2) {
		shell_error(sh, "%s takes at most one argument, a count: %s [N]", argv[0], argv[0]);
		return false;
	}
	if (argc == 2 && !eval_arg(sh, "count", argv[1], n))
		return false;
	if (*n == 0) {
		shell_error(sh, "%s: the count must be at least 1", argv[0]);
		return false;
	}
	return true;
}

static int cmd_stepi(struct shell *sh, int argc, char **argv)
{
	uint64_t n;
	if (!count_arg(sh, argc, argv, &n))
		return -1;
	run(sh, &(struct dbg_run){ .cpu = shell_cpu(sh), .steps = n }, true, 0);
	return 0;
}

/* Step over a CALL: a temporary breakpoint on this vCPU after it. Only the
 * address is compared: a recursive call that comes back to the same
 * address first stops there. */
static int cmd_next(struct shell *sh, int argc, char **argv)
{
	struct dbg *d = shell_dbg(sh);
	int cpu = shell_cpu(sh);
	uint64_t n;
	if (!count_arg(sh, argc, argv, &n))
		return -1;
	for (uint64_t k = 0; k < n; k++) {
		unsigned len = dbg_call_len_at_rip(d, cpu);
		uint8_t byte;
		uint64_t la;
		if (!len || !dbg_code_at_rip(d, cpu, &la, &byte, 1)) {
			run(sh, &(struct dbg_run){ .cpu = cpu, .steps = 1 }, true, 0);
			if (dbg_last_stop(d)->kind != DBG_STOP_STEP)
				break;
			continue;
		}
		struct dbg_bp b = { .kind = DBG_BP_LINEAR, .cpu = cpu, .addr = la + len, .enabled = true, .temporary = true };
		int id = dbg_bp_add(d, &b);
		if (id < 0)
			return shell_error(sh, "next: the breakpoint table is full; delete some");
		run(sh, &(struct dbg_run){ .cpu = cpu }, true, id);
		dbg_bp_delete(d, id);
		if (dbg_last_stop(d)->kind != DBG_STOP_BREAK || dbg_last_stop(d)->bp != id)
			break;
	}
	return 0;
}

static int cmd_until(struct shell *sh, int argc, char **argv)
{
	struct dbg *d = shell_dbg(sh);
	uint64_t c;
	if (argc != 2)
		return shell_error(sh, "until needs a cycle: until CYCLE (global simulated time) or until +N");
	bool rel = argv[1][0] == '+';
	if (!eval_arg(sh, "cycle", argv[1] + rel, &c))
		return -1;
	if (rel)
		c += dbg_now(d);
	if (c <= dbg_now(d))
		return shell_error(sh, "until: cycle %llu is not in the future (now %llu)", (unsigned long long)c,
				   (unsigned long long)dbg_now(d));
	run(sh, &(struct dbg_run){ .cpu = shell_cpu(sh), .until_cycle = c }, false, 0);
	return 0;
}

static const char *cpu_state(const struct cpu *c)
{
	if (c->shutdown)
		return "shutdown";
	if (c->wait_sipi)
		return "wait-for-SIPI";
	if (c->halted)
		return "halted";
	return "running";
}

static const char *cpu_mode(const struct cpu *c)
{
	if (!(c->cr0 & 1))
		return "real";
	if (c->rflags & FL_VM)
		return "v8086";
	if (c->efer & EFER_LMA)      /* SDM vol. 3A 2.2.1 */
		return c->code64 ? "long" : "compatibility";
	return "protected";
}

static int cmd_cpu(struct shell *sh, int argc, char **argv)
{
	struct dbg *d = shell_dbg(sh);
	FILE *o = shell_out(sh);
	if (argc > 2)
		return shell_error(sh, "cpu takes one vCPU number: cpu [N]");
	if (argc == 2) {
		uint64_t n;
		if (!shell_number(sh, argv[1], &n))
			return -1;
		if (n >= (uint64_t)dbg_ncpus(d))
			return shell_error(sh, "no cpu %llu: this machine has %d (0-%d)", (unsigned long long)n,
					   dbg_ncpus(d), dbg_ncpus(d) - 1);
		shell_set_cpu(sh, (int)n);
	}
	for (int i = 0; i < dbg_ncpus(d); i++) {
		const struct cpu *c = dbg_cpu(d, i);
		fprintf(o, "%c cpu %d: %-13s %-13s %-8s RIP ", i == shell_cpu(sh) ? '*' : ' ', i, cpu_state(c),
			cpu_mode(c), !c->vmx.on ? "" : c->vmx.nonroot ? "non-root" : "root");
		shell_print_addr(sh, c->rip);
		fprintf(o, ", %llu cycles\n", (unsigned long long)dbg_cpu_time(d, i));
	}
	return 0;
}

/* ---- breakpoints ---- */

/* The words after the positional ones: "-c N" or "cpu N" (one vCPU), then
 * "if EXPR...". *npos: how many positional words precede them. */
static bool parse_tail(struct shell *sh, int argc, char **argv, struct dbg_bp *b, int *npos)
{
	int k = 1, end = argc;
	b->cpu = -1;
	b->cond[0] = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "if")) {
			end = i;
			break;
		}
	if (end < argc) {
		size_t len = 0;
		for (int i = end + 1; i < argc; i++)
			len += (size_t)snprintf(b->cond + len, len < DBG_COND_MAX ? DBG_COND_MAX - len : 0, "%s%s",
						i > end + 1 ? " " : "", argv[i]);
		if (len >= DBG_COND_MAX) {
			shell_error(sh, "condition longer than %d characters", DBG_COND_MAX - 1);
			return false;
		}
		if (!b->cond[0]) {
			shell_error(sh, "'if' needs an expression: ... if $qual == 0x10");
			return false;
		}
		char err[200];
		uint64_t v;
		if (shell_eval(sh, -1, b->cond, &v, err, sizeof(err))) {
			shell_error(sh, "bad condition '%s': %s", b->cond, err);
			return false;
		}
	}
	if (end - k >= 2 && (!strcmp(argv[end - 2], "-c") || !strcmp(argv[end - 2], "cpu"))) {
		uint64_t n;
		if (!shell_number(sh, argv[end - 1], &n))
			return false;
		if (n >= (uint64_t)dbg_ncpus(shell_dbg(sh))) {
			shell_error(sh, "no cpu %llu: this machine has %d", (unsigned long long)n,
				    dbg_ncpus(shell_dbg(sh)));
			return false;
		}
		b->cpu = (int)n;
		end -= 2;
	}
	*npos = end - k;
	return true;
}

static int add_bp(struct shell *sh, struct dbg_bp *b)
{
	b->enabled = true;
	int id = dbg_bp_add(shell_dbg(sh), b);
	if (id < 0)
		return shell_error(sh, "the breakpoint table is full; delete some");
	fprintf(shell_out(sh), "breakpoint %d: ", id);
	return id;
}

static void print_bp_what(struct shell *sh, const struct dbg_bp *b);

static int finish_add(struct shell *sh, struct dbg_bp *b)
{
	int id = add_bp(sh, b);
	if (id < 0)
		return -1;
	print_bp_what(sh, dbg_bp_find(shell_dbg(sh), id));
	fputc('\n', shell_out(sh));
	return 0;
}

static int break_cmd(struct shell *sh, int argc, char **argv, bool temporary)
{
	struct dbg_bp b = { .kind = DBG_BP_LINEAR, .temporary = temporary };
	int npos;
	const char *usage = "break [-p|-g] ADDR [-c CPU] [if EXPR]";
	if (!parse_tail(sh, argc, argv, &b, &npos))
		return -1;
	char **pos = argv + 1;
	if (npos >= 1 && (!strcmp(pos[0], "-p") || !strcmp(pos[0], "-g"))) {
		b.kind = pos[0][1] == 'p' ? DBG_BP_PHYS : DBG_BP_GPA;
		pos++, npos--;
	}
	if (npos != 1)
		return shell_error(sh, "%s: %s", argv[0], usage);
	if (!eval_arg(sh, "address", pos[0], &b.addr))
		return -1;
	return finish_add(sh, &b);
}

static int cmd_break(struct shell *sh, int argc, char **argv)
{
	return break_cmd(sh, argc, argv, false);
}

static int cmd_tbreak(struct shell *sh, int argc, char **argv)
{
	return break_cmd(sh, argc, argv, true);
}

static int cmd_watch(struct shell *sh, int argc, char **argv)
{
	struct dbg_bp b = { .kind = DBG_BP_WATCH, .access = DBG_W_WRITE, .len = 1 };
	int npos;
	if (!parse_tail(sh, argc, argv, &b, &npos))
		return -1;
	char **pos = argv + 1;
	if (npos >= 1 && pos[0][0] == '-' && pos[0][1] && !pos[0][2] && strchr("rwa", pos[0][1])) {
		b.access = pos[0][1] == 'r' ? DBG_W_READ : pos[0][1] == 'w' ? DBG_W_WRITE : DBG_W_READ | DBG_W_WRITE;
		pos++, npos--;
	}
	if (npos < 1 || npos > 2)
		return shell_error(sh, "watch [-r|-w|-a] ADDR [LEN] [-c CPU] [if EXPR]");
	if (!eval_arg(sh, "address", pos[0], &b.addr) || (npos == 2 && !eval_arg(sh, "length", pos[1], &b.len)))
		return -1;
	if (b.len == 0 || b.len > 4096)
		return shell_error(sh, "watch: LEN must be 1 to 4096 bytes");
	return finish_add(sh, &b);
}

/* An exception vector: a number, or a mnemonic ("#PF", "pf", "PF"). */
static bool parse_vector(struct shell *sh, const char *s, int32_t *vec)
{
	const char *m = s[0] == '#' ? s + 1 : s;
	for (size_t k = 0; k < NELEM(exceptions); k++) {
		const char *x = exceptions[k].mnemonic;
		if (!strcasecmp(m, x[0] == '#' ? x + 1 : x)) {
			*vec = exceptions[k].vec;
			return true;
		}
	}
	char *end;
	unsigned long v = strtoul(s, &end, 0);
	if (!*s || *end || v > 255) {
		shell_error(sh, "'%s' is not a vector: 0-255 or a mnemonic such as #PF, gp, UD", s);
		return false;
	}
	*vec = (int32_t)v;
	return true;
}

static bool parse_msr(struct shell *sh, const char *s, uint64_t *msr)
{
	static const struct {
		uint32_t index;
		const char *name;
	} msrs[] = {
#define MSR_FIELD(i, name, feat, field, reset, check) { i, #name },
#define MSR_FN(i, name, feat, rd, wr) { i, #name },
#define MSR_VMX_CAP(i, name) { i, #name },
#include "cpu/msrs.def"
#undef MSR_FIELD
#undef MSR_FN
#undef MSR_VMX_CAP
	};
	for (size_t k = 0; k < NELEM(msrs); k++)
		if (!strcasecmp(s, msrs[k].name) || !strcasecmp(s, msrs[k].name + 5)) {
			*msr = msrs[k].index;
			return true;
		}
	char *end;
	*msr = strtoull(s, &end, 0);
	if (!*s || *end || *msr > 0xffffffffu) {
		shell_error(sh, "'%s' is not an MSR: a number (0xc0000080) or a name (IA32_EFER, efer)", s);
		return false;
	}
	return true;
}

static bool is_vmx_insn_reason(int r)
{
	return (r >= EXIT_REASON_VMCALL && r <= EXIT_REASON_VMXON) || r == EXIT_REASON_INVEPT ||
	       r == EXIT_REASON_INVVPID || r == EXIT_REASON_VMFUNC;
}

static const char catch_usage[] =
	"catch exception [VEC] | io PORT[-PORT] [in|out] | msr MSR [read|write] | vmexit [REASON] | "
	"vmentry | vmentry-fail | vmx-insn [NAME] | inject [VEC]";

static int catch_arg(struct shell *sh, struct dbg_bp *b, const char *what, int n, char **a)
{
	b->code = -1;
	if (!strcmp(what, "exception")) {
		b->kind = DBG_BP_EXCEPTION;
		return n > 1 ? -1 : n == 1 && !parse_vector(sh, a[0], &b->code) ? -2 : 0;
	}
	if (!strcmp(what, "inject")) {
		b->kind = DBG_BP_INJECT;
		return n > 1 ? -1 : n == 1 && !parse_vector(sh, a[0], &b->code) ? -2 : 0;
	}
	if (!strcmp(what, "vmentry") || !strcmp(what, "vmentry-fail")) {
		b->kind = what[7] ? DBG_BP_VMENTRY_FAIL : DBG_BP_VMENTRY;
		return n ? -1 : 0;
	}
	if (!strcmp(what, "vmexit") || !strcmp(what, "vmx-insn")) {
		b->kind = what[1] == 'm' && what[2] == 'e' ? DBG_BP_VMEXIT : DBG_BP_VMX_INSN;
		if (n > 1)
			return -1;
		if (n == 1 && (b->code = exit_reason_by_name(a[0])) < 0) {
			shell_error(sh, "'%s' is not an exit reason: a number or a name such as cpuid, ept-violation", a[0]);
			return -2;
		}
		if (n == 1 && b->kind == DBG_BP_VMX_INSN && !is_vmx_insn_reason(b->code)) {
			shell_error(sh, "'%s' is not a VMX instruction (vmlaunch, vmresume, vmread, vmwrite, ...)", a[0]);
			return -2;
		}
		return 0;
	}
	if (!strcmp(what, "msr")) {
		b->kind = DBG_BP_MSR;
		if (n < 1 || n > 2 || (n == 2 && strcmp(a[1], "read") && strcmp(a[1], "write")))
			return -1;
		b->access = n == 2 ? (a[1][0] == 'r' ? DBG_W_READ : DBG_W_WRITE) : 0;
		return parse_msr(sh, a[0], &b->addr) ? 0 : -2;
	}
	if (!strcmp(what, "io")) {
		b->kind = DBG_BP_IO;
		if (n < 1 || n > 2 || (n == 2 && strcmp(a[1], "in") && strcmp(a[1], "out")))
			return -1;
		b->access = n == 2 ? (a[1][0] == 'i' ? DBG_W_READ : DBG_W_WRITE) : 0;
		char *dash = strchr(a[0], '-'), *end;
		uint64_t lo = strtoull(a[0], &end, 0), hi = lo;
		if (end != (dash ? dash : a[0] + strlen(a[0])) || end == a[0])
			return -1;
		if (dash) {
			hi = strtoull(dash + 1, &end, 0);
			if (*end || end == dash + 1)
				return -1;
		}
		if (hi > 0xffff || hi < lo) {
			shell_error(sh, "catch io: ports are 0-0xffff, low-high");
			return -2;
		}
		b->addr = lo;
		b->len = hi - lo + 1;
		return 0;
	}
	return -1;
}

static int cmd_catch(struct shell *sh, int argc, char **argv)
{
	struct dbg_bp b = { 0 };
	int npos;
	if (!parse_tail(sh, argc, argv, &b, &npos))
		return -1;
	if (npos < 1)
		return shell_error(sh, "%s", catch_usage);
	int rc = catch_arg(sh, &b, argv[1], npos - 1, argv + 2);
	if (rc == -1)
		return shell_error(sh, "%s", catch_usage);
	if (rc < 0)
		return -1;
	return finish_add(sh, &b);
}

static const char *const kind_names[DBG_BP_KIND_COUNT] = {
	[DBG_BP_LINEAR] = "break",      [DBG_BP_PHYS] = "break-phys",  [DBG_BP_GPA] = "break-gpa",
	[DBG_BP_WATCH] = "watch",       [DBG_BP_EXCEPTION] = "exception", [DBG_BP_IO] = "io",
	[DBG_BP_MSR] = "msr",           [DBG_BP_VMEXIT] = "vmexit",    [DBG_BP_VMENTRY] = "vmentry",
	[DBG_BP_VMENTRY_FAIL] = "vmentry-fail", [DBG_BP_VMX_INSN] = "vmx-insn", [DBG_BP_INJECT] = "inject",
};

static const char *access_text(unsigned a, const char *r, const char *w)
{
	return a == DBG_W_READ ? r : a == DBG_W_WRITE ? w : "";
}

static void print_bp_what(struct shell *sh, const struct dbg_bp *b)
{
	FILE *o = shell_out(sh);
	const char *m;
	switch (b->kind) {
	case DBG_BP_LINEAR:
		shell_print_addr(sh, b->addr);
		break;
	case DBG_BP_PHYS:
	case DBG_BP_GPA:
		fprintf(o, "%s 0x%llx", b->kind == DBG_BP_PHYS ? "physical" : "guest-physical", (unsigned long long)b->addr);
		break;
	case DBG_BP_WATCH:
		fprintf(o, "%s 0x%llx, %llu bytes", b->access == DBG_W_READ ? "read" : b->access == DBG_W_WRITE ? "write" : "access",
			(unsigned long long)b->addr, (unsigned long long)b->len);
		break;
	case DBG_BP_EXCEPTION:
	case DBG_BP_INJECT:
		fputs(b->kind == DBG_BP_EXCEPTION ? "exception" : "injection of", o);
		if (b->code < 0)
			fputs(" (any vector)", o);
		else if ((m = exc_mnemonic((unsigned)b->code)) != NULL)
			fprintf(o, " %d (%s)", b->code, m);
		else
			fprintf(o, " %d", b->code);
		break;
	case DBG_BP_IO:
		fprintf(o, "I/O %s0x%llx", access_text(b->access, "in ", "out "), (unsigned long long)b->addr);
		if (b->len > 1)
			fprintf(o, "-0x%llx", (unsigned long long)(b->addr + b->len - 1));
		break;
	case DBG_BP_MSR:
		fprintf(o, "%sMSR 0x%llx", access_text(b->access, "RDMSR ", "WRMSR "), (unsigned long long)b->addr);
		break;
	case DBG_BP_VMEXIT:
	case DBG_BP_VMX_INSN:
		fputs(b->kind == DBG_BP_VMEXIT ? "VM exit" : "VMX instruction", o);
		if (b->code < 0)
			fputs(" (any)", o);
		else
			fprintf(o, " %d (%s)", b->code, exit_name((unsigned)b->code));
		break;
	case DBG_BP_VMENTRY:
		fputs("VM entry", o);
		break;
	case DBG_BP_VMENTRY_FAIL:
		fputs("VM-entry failure", o);
		break;
	default:
		break;
	}
	if (b->cpu >= 0)
		fprintf(o, " on cpu %d", b->cpu);
	if (b->cond[0])
		fprintf(o, " if %s", b->cond);
}

static int info_breakpoints(struct shell *sh)
{
	FILE *o = shell_out(sh);
	int n;
	const struct dbg_bp *bps = dbg_bp_list(shell_dbg(sh), &n);
	if (!n) {
		fputs("no breakpoints\n", o);
		return 0;
	}
	fputs("Num  Kind          Enb  Hits      What\n", o);
	for (int k = 0; k < n; k++) {
		const struct dbg_bp *b = &bps[k];
		fprintf(o, "%-4d %-13s %-4s %-9llu ", b->id, kind_names[b->kind], b->enabled ? "y" : "n",
			(unsigned long long)b->hits);
		if (b->temporary)
			fputs("(temporary) ", o);
		print_bp_what(sh, b);
		fputc('\n', o);
	}
	return 0;
}

/* delete / enable / disable N... */
static int for_ids(struct shell *sh, int argc, char **argv, int op)
{
	struct dbg *d = shell_dbg(sh);
	if (argc == 1 && op == 0) {
		int n;
		const struct dbg_bp *bps = dbg_bp_list(d, &n);
		while (n > 0) {
			dbg_bp_delete(d, bps[0].id);
			bps = dbg_bp_list(d, &n);
		}
		return 0;
	}
	if (argc == 1)
		return shell_error(sh, "%s needs breakpoint numbers: %s N...", argv[0], argv[0]);
	for (int k = 1; k < argc; k++) {
		char *end;
		long id = strtol(argv[k], &end, 10);
		struct dbg_bp *b = *end || end == argv[k] ? NULL : dbg_bp_find(d, (int)id);
		if (!b)
			return shell_error(sh, "no breakpoint '%s'; `info breakpoints` lists them", argv[k]);
		if (op == 0)
			dbg_bp_delete(d, b->id);
		else
			b->enabled = op > 0;
	}
	/* enable/disable: re-add nothing; the API reads b->enabled at each
	 * check, and dbg_resume re-evaluates which vCPUs need boundaries. */
	return 0;
}

static int cmd_delete(struct shell *sh, int argc, char **argv)
{
	return for_ids(sh, argc, argv, 0);
}

static int cmd_enable(struct shell *sh, int argc, char **argv)
{
	return for_ids(sh, argc, argv, 1);
}

static int cmd_disable(struct shell *sh, int argc, char **argv)
{
	return for_ids(sh, argc, argv, -1);
}

/* ---- conditions, print, set, info ---- */

bool shell_condition(void *ctx, struct dbg *d, int cpu, const char *cond)
{
	struct shell *sh = ctx;
	uint64_t v;
	char err[200];
	(void)d;
	if (shell_eval(sh, cpu, cond, &v, err, sizeof(err))) {
		/* Only an arithmetic error gets here (names were checked when
		 * the breakpoint was set): stop, so it is seen. */
		fprintf(shell_out(sh), "condition '%s': %s; stopping\n", cond, err);
		return true;
	}
	return v != 0;
}

/* The words from argv[1] on, joined by spaces. */
static bool join(struct shell *sh, int argc, char **argv, int from, char *buf, size_t n)
{
	size_t len = 0;
	buf[0] = 0;
	for (int k = from; k < argc; k++)
		len += (size_t)snprintf(buf + len, len < n ? n - len : 0, "%s%s", k > from ? " " : "", argv[k]);
	if (len >= n) {
		shell_error(sh, "expression longer than %zu characters", n - 1);
		return false;
	}
	return true;
}

static int cmd_print(struct shell *sh, int argc, char **argv)
{
	char expr[512], err[200];
	uint64_t v;
	if (argc < 2)
		return shell_error(sh, "print needs an expression: print rax + 8, print $qual & 7");
	if (!join(sh, argc, argv, 1, expr, sizeof(expr)))
		return -1;
	if (shell_eval(sh, -1, expr, &v, err, sizeof(err)))
		return shell_error(sh, "%s", err);
	fprintf(shell_out(sh), "0x%llx (%llu)\n", (unsigned long long)v, (unsigned long long)v);
	return 0;
}

static int cmd_set(struct shell *sh, int argc, char **argv)
{
	char expr[512], err[200];
	uint64_t v, old;
	if (argc < 3)
		return shell_error(sh, "set REG VALUE: set rax 0x10, set rip my_label");
	const char *reg = argv[1][0] == '$' ? argv[1] + 1 : argv[1];
	if (!dbg_reg_read(shell_dbg(sh), shell_cpu(sh), reg, &old))
		return shell_error(sh, "'%s' is not a register (rax..r15, rip, rflags, crN, efer, drN, ...)", argv[1]);
	int from = argc > 3 && !strcmp(argv[2], "=") ? 3 : 2;
	if (!join(sh, argc, argv, from, expr, sizeof(expr)))
		return -1;
	if (shell_eval(sh, -1, expr, &v, err, sizeof(err)))
		return shell_error(sh, "%s", err);
	if (!dbg_reg_write(shell_dbg(sh), shell_cpu(sh), reg, v))
		return shell_error(sh, "cannot write 0x%llx to %s", (unsigned long long)v, reg);
	return 0;
}

static int cmd_info(struct shell *sh, int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "breakpoints") || !strcmp(argv[1], "break") || !strcmp(argv[1], "b")))
		return argc == 2 ? info_breakpoints(sh) : shell_error(sh, "info breakpoints takes no arguments");
	if (argc >= 2 && (!strcmp(argv[1], "registers") || !strcmp(argv[1], "r"))) {
		char line[256];
		if (!join(sh, argc, argv, 2, line + 5, sizeof(line) - 5))
			return -1;
		memcpy(line, "regs ", 5);
		return shell_exec(sh, line);
	}
	if (argc == 2 && !strcmp(argv[1], "cpus"))
		return cmd_cpu(sh, 1, argv);
	return shell_error(sh, "info breakpoints | info registers [WHAT] | info cpus");
}

const struct shell_cmd shell_cmds_run[] = {
	{ "continue", "", "run until a breakpoint, an event or the end (alias c)",
	  "Run all vCPUs until a breakpoint matches, Ctrl-C, a triple fault or VMX abort, or the run ends.", cmd_continue },
	{ "c", "", "alias of continue", NULL, cmd_continue },
	{ "stepi", "[N]", "run N instructions on the selected vCPU (aliases si, step)",
	  "Run N (default 1) instructions on the selected vCPU (others run alongside), then print the\n"
	  "  VM entries, exits, injections and IDT deliveries that happened on the way.", cmd_stepi },
	{ "si", "[N]", "alias of stepi", NULL, cmd_stepi },
	{ "step", "[N]", "alias of stepi", NULL, cmd_stepi },
	{ "next", "[N]", "like stepi, but run a CALL to its return (alias ni)",
	  "When the instruction at RIP is a CALL, run until RIP is the instruction after it on this vCPU\n"
	  "  (a temporary breakpoint; another breakpoint may stop first); else one stepi.", cmd_next },
	{ "ni", "[N]", "alias of next", NULL, cmd_next },
	{ "until", "CYCLE|+N", "run until global simulated cycle CYCLE, or N cycles more", NULL, cmd_until },
	{ "cpu", "[N]", "select vCPU N; list the vCPUs (state, mode, RIP)", NULL, cmd_cpu },
	{ "break", "[-p|-g] ADDR [-c CPU] [if EXPR]", "breakpoint on a linear (-p physical, -g guest-physical) address (alias b)",
	  "Stop before the instruction at ADDR (a number, register or symbol) runs. -p: its physical address\n"
	  "  (after EPT in non-root operation); -g: its guest-physical address (non-root with EPT).\n"
	  "  -c CPU (or `cpu CPU`): only on that vCPU. `if EXPR`: only when EXPR is not 0 (see print).", cmd_break },
	{ "b", "[-p|-g] ADDR [-c CPU] [if EXPR]", "alias of break", NULL, cmd_break },
	{ "tbreak", "[-p|-g] ADDR [-c CPU] [if EXPR]", "a breakpoint deleted when it stops the run", NULL, cmd_tbreak },
	{ "watch", "[-r|-w|-a] ADDR [LEN] [-c CPU] [if EXPR]", "stop after a read/write/any access to linear [ADDR, ADDR+LEN)",
	  "Stop after the instruction that reads (-r), writes (-w, the default) or accesses (-a) any byte of\n"
	  "  linear [ADDR, ADDR+LEN) (LEN default 1). $value in a condition is the address accessed.", cmd_watch },
	{ "catch", "KIND [ARGS] [-c CPU] [if EXPR]", "stop on an event: exception, io, msr, vmexit, vmentry, ...",
	  "catch exception [VEC|#PF|pf]   an exception delivered through the IDT, or sent to the host by the\n"
	  "                                exception bitmap (VM exit 0)\n"
	  "  catch io PORT[-PORT] [in|out]  IN/OUT/INS/OUTS on those ports ($port, $value)\n"
	  "  catch msr MSR [read|write]     RDMSR/WRMSR that completed ($msr, $value); MSR: number or IA32_ name\n"
	  "  catch vmexit [REASON]          a VM exit: number or name (cpuid, ept-violation, EPT_VIOLATION)\n"
	  "                                 ($reason $qual $vector $error $guest_rip)\n"
	  "  catch vmentry                  a successful VM entry ($guest_rip)\n"
	  "  catch vmentry-fail             a VM entry that failed a check (VMfail or exit 33/34)\n"
	  "  catch vmx-insn [NAME]          before a VMX instruction runs (vmlaunch, vmresume, vmread, ...)\n"
	  "  catch inject [VEC]             a VM entry that injects an event ($vector)\n"
	  "  Triple faults and VMX aborts always stop.", cmd_catch },
	{ "delete", "[N...]", "delete breakpoints (all without N)", NULL, cmd_delete },
	{ "disable", "N...", "disable breakpoints", NULL, cmd_disable },
	{ "enable", "N...", "enable breakpoints", NULL, cmd_enable },
	{ "info", "breakpoints|registers|cpus", "list breakpoints (id, kind, enabled, hits, what, condition); regs; cpus", NULL,
	  cmd_info },
	{ "print", "EXPR", "evaluate an expression (alias p)",
	  "C operators ( ) ! ~ - * / % + - << >> < <= > >= == != & ^ | && || over unsigned 64-bit numbers,\n"
	  "  registers (rax, eax, r8d, rip, rflags, cr0, efer, dr7...), symbols, and the event of the last stop\n"
	  "  (or of the breakpoint being tested): $reason (basic exit reason), $qual, $vector, $error,\n"
	  "  $guest_rip, $port, $msr, $value, and $cpu, $cycle. A value the event lacks is 0.", cmd_print },
	{ "p", "EXPR", "alias of print", NULL, cmd_print },
	{ "set", "REG [=] EXPR", "write a register of the selected vCPU", NULL, cmd_set },
	{ NULL, NULL, NULL, NULL, NULL },
};
