/* The run result (sim/result.h): the collector (a tap on the debug API
 * and a clock on COM1's backend), the writer, and the strict reader. */
#include "sim/result.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/probe.h"
#include "devices/uart16550.h"
#include "sim/debug_api.h"
#include "sim/machine.h"
#include "vmx/vmx.h"

/* `end WORD`, by enum machine_result: written once for the writer and
 * the reader. */
static const char *const end_words[] = {
	[MACHINE_DEBUG_EXIT] = "debug-exit",     [MACHINE_POWER_OFF] = "power-off",
	[MACHINE_RESET] = "reset",               [MACHINE_TRIPLE_FAULT] = "triple-fault",
	[MACHINE_CYCLE_LIMIT] = "cycle-limit",   [MACHINE_HALTED_FOREVER] = "halted",
	[MACHINE_INTERNAL_ERROR] = "internal",   [MACHINE_VMX_ABORT] = "vmx-abort",
};
#define NEND_WORDS (sizeof(end_words) / sizeof(end_words[0]))

static const char *const outcome_words[RESULT_OUTCOMES] = {
	[RESULT_OK] = "ok", [RESULT_ENTERED] = "entered", [RESULT_FAIL_INVALID] = "fail-invalid",
	[RESULT_FAIL_VALID] = "fail-valid",
};

struct result_collector {
	struct dbg *d;
	struct machine *m;
	struct run_result r;
	size_t cap;                     /* of r.line_cycles */
	bool open_line;                 /* COM1 bytes since the last '\n' */
	bool lost_lines;                /* a line's cycle could not be kept (out of memory) */
	struct char_backend *be;        /* COM1's backend, wrapped while attached */
	struct char_backend orig;
};

/* ---- the collector ---- */

static void add_line(struct result_collector *rc, uint64_t cycle)
{
	struct run_result *r = &rc->r;
	if (r->nlines == rc->cap) {
		size_t cap = rc->cap ? rc->cap * 2 : 64;
		uint64_t *p = realloc(r->line_cycles, cap * sizeof(*p));
		if (!p) {
			rc->lost_lines = true;
			return;
		}
		r->line_cycles = p;
		rc->cap = cap;
	}
	r->line_cycles[r->nlines++] = cycle;
}

/* COM1 output: passed on, and each '\n' stamped with the global time of
 * the vCPU writing it (clock_now while it runs). */
static void line_write(void *ctx, uint8_t byte)
{
	struct result_collector *rc = ctx;
	if (rc->orig.write_byte)
		rc->orig.write_byte(rc->orig.ctx, byte);
	if (byte == '\n' && !rc->lost_lines)
		add_line(rc, clock_now(&rc->m->clock));
	rc->open_line = byte != '\n';
}

static int line_read(void *ctx)
{
	struct result_collector *rc = ctx;
	return rc->orig.read_byte(rc->orig.ctx);
}

static void count_exit(struct run_result *r, uint32_t reason)
{
	uint32_t basic = reason & 0xffff;
	if (basic >= RESULT_REASONS)
		return;
	if (reason & EXIT_REASON_ENTRY_FAILURE) {
		r->entry_failure_exits[basic]++;
		r->entry_failures++;
	} else {
		r->exits[basic]++;
	}
}

static void count_vmx_insn(struct run_result *r, const struct probe_event *e)
{
	if (e->code >= RESULT_REASONS)
		return;
	switch ((enum probe_vmx_outcome)e->aux) {
	case PROBE_VMX_SUCCEED:
		r->vmx_insns[e->code][RESULT_OK]++;
		return;
	case PROBE_VMX_FAIL_INVALID:
		r->vmx_insns[e->code][RESULT_FAIL_INVALID]++;
		break;
	case PROBE_VMX_FAIL_VALID:
		if (e->error >= RESULT_VMX_ERRORS)
			return; /* not in Appendix C's numbering; both counts stay equal */
		r->vmx_insns[e->code][RESULT_FAIL_VALID]++;
		r->vmx_errors[e->code][e->error]++;
		break;
	}
	/* VMLAUNCH/VMRESUME's VMfail: a VM entry that failed a check (26.1, 26.2). */
	if (e->code == EXIT_REASON_VMLAUNCH || e->code == EXIT_REASON_VMRESUME)
		r->entry_failures++;
}

/* Exception vectors 0-31 delivered through the IDT: faults, traps and
 * aborts (INT_EXCEPTION), INT3/INTO (INT_SOFT_EXCEPTION), INT1
 * (INT_PRIV_SOFTWARE) and NMIs (vector 2). INT n and external interrupts
 * with a vector below 32 are not exceptions and are not counted. */
static bool is_exception(uint32_t kind)
{
	return kind == INT_EXCEPTION || kind == INT_SOFT_EXCEPTION || kind == INT_PRIV_SOFTWARE || kind == INT_NMI;
}

static void on_event(void *ctx, struct cpu *c, uint64_t cycle, const struct probe_event *e)
{
	struct run_result *r = &((struct result_collector *)ctx)->r;
	(void)cycle;
	switch (e->kind) {
	case PROBE_VMEXIT:
		count_exit(r, e->code);
		break;
	case PROBE_VMENTRY:
		r->vmx_insns[e->launch ? EXIT_REASON_VMLAUNCH : EXIT_REASON_VMRESUME][RESULT_ENTERED]++;
		break;
	case PROBE_VMENTRY_FAIL:
		if (c->vmx.verdict.check >= 0 && c->vmx.verdict.check < ENTRY_CHECK_COUNT)
			r->checks[c->vmx.verdict.check]++;
		break;
	case PROBE_VMXINSN:
		count_vmx_insn(r, e);
		break;
	case PROBE_DELIVERY:
		if (e->code < RESULT_VECTORS && is_exception(e->aux))
			r->vectors[e->code]++;
		break;
	case PROBE_SHUTDOWN:    /* vmx/exit.c sets the abort indicator before it reports */
		if (c->vmx.abort)
			r->vmx_aborts++;
		else
			r->triple_faults++;
		break;
	default:
		break;
	}
}

struct result_collector *result_attach(struct dbg *d)
{
	struct result_collector *rc = calloc(1, sizeof(*rc));
	if (!rc)
		return NULL;
	rc->d = d;
	rc->m = dbg_machine(d);
	if (dbg_add_tap(d, on_event, rc, false)) {
		free(rc);
		return NULL;
	}
	if (rc->m->uart) {
		rc->be = uart_backend(rc->m->uart);
		rc->orig = *rc->be;
		*rc->be = (struct char_backend){ line_write, rc->orig.read_byte ? line_read : NULL, rc };
	}
	return rc;
}

void result_finish(struct result_collector *rc, int status, struct run_result *r)
{
	const struct machine *m = rc->m;
	struct run_result *out = &rc->r;
	out->status = status;
	snprintf(out->end, sizeof(out->end), "%s",
		 (size_t)m->exit.result < NEND_WORDS ? end_words[m->exit.result] : "internal");
	out->cycles = m->exit.cycle ? m->exit.cycle : m->sched.now;
	out->instructions = 0;
	for (int k = 0; k < m->ncpus; k++)
		out->instructions += m->cpus[k].instret;
	if (rc->open_line && !rc->lost_lines)
		add_line(rc, out->cycles);
	if (rc->lost_lines)
		fprintf(stderr, "vtxsim: --result: out of memory; COM1 lines after line %zu have no cycle\n",
			out->nlines);
	dbg_remove_tap(rc->d, on_event, rc);
	if (rc->be)
		*rc->be = rc->orig;
	*r = *out;
	free(rc);
}

/* ---- the writer ---- */

static const char *reason_name(uint32_t reason)
{
	const char *id = vmx_exit_reason_id(reason);
	return id ? id : "-";
}

static void write_insns(const struct run_result *r, FILE *f)
{
	for (uint32_t k = 0; k < RESULT_REASONS; k++) {
		for (int o = 0; o < RESULT_FAIL_VALID; o++)
			if (r->vmx_insns[k][o])
				fprintf(f, "vmx-insn %s %s %" PRIu64 "\n", reason_name(k), outcome_words[o],
					r->vmx_insns[k][o]);
		for (int e = 0; e < RESULT_VMX_ERRORS; e++)
			if (r->vmx_errors[k][e])
				fprintf(f, "vmx-insn %s fail-valid:%d %" PRIu64 "\n", reason_name(k), e,
					r->vmx_errors[k][e]);
	}
}

static void write_result(const struct run_result *r, FILE *f)
{
	fprintf(f, "vtxsim-result 1\nstatus %d\nend %s\ncycles %" PRIu64 "\ninstructions %" PRIu64 "\n", r->status,
		r->end, r->cycles, r->instructions);
	fprintf(f, "triple-faults %" PRIu64 "\nvmx-aborts %" PRIu64 "\nentry-failures %" PRIu64 "\n", r->triple_faults,
		r->vmx_aborts, r->entry_failures);
	for (uint32_t k = 0; k < RESULT_REASONS; k++)
		if (r->exits[k])
			fprintf(f, "exit %u %s %" PRIu64 "\n", k, reason_name(k), r->exits[k]);
	for (uint32_t k = 0; k < RESULT_REASONS; k++)
		if (r->entry_failure_exits[k])
			fprintf(f, "entry-failure-exit %u %s %" PRIu64 "\n", k, reason_name(k),
				r->entry_failure_exits[k]);
	for (int k = 0; k < ENTRY_CHECK_COUNT; k++)
		if (r->checks[k])
			fprintf(f, "check %s %" PRIu64 "\n", entry_checks[k].id, r->checks[k]);
	write_insns(r, f);
	for (int k = 0; k < RESULT_VECTORS; k++)
		if (r->vectors[k])
			fprintf(f, "vector %d %" PRIu64 "\n", k, r->vectors[k]);
	for (size_t k = 0; k < r->nlines; k++)
		fprintf(f, "line %zu %" PRIu64 "\n", k + 1, r->line_cycles[k]);
}

int result_write(const struct run_result *r, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "--result %s: cannot open for writing: %s", path, strerror(errno));
		return -1;
	}
	write_result(r, f);
	bool bad = ferror(f) != 0;
	bad |= fclose(f) != 0;
	if (bad) {
		snprintf(err, errlen, "--result %s: writing the run result failed", path);
		return -1;
	}
	return 0;
}

/* ---- the reader ---- */

/* The records in file order: those up to REC_ENTRY_FAILURES once each,
 * then any number of each following kind, kinds in this order. */
enum rec_kind {
	REC_MAGIC, REC_STATUS, REC_END, REC_CYCLES, REC_INSTRUCTIONS, REC_TRIPLE_FAULTS, REC_VMX_ABORTS,
	REC_ENTRY_FAILURES, REC_EXIT, REC_ENTRY_FAILURE_EXIT, REC_CHECK, REC_VMX_INSN, REC_VECTOR, REC_LINE,
	REC_KINDS
};

static const struct {
	const char *word;
	int nargs;
	const char *usage;
} records[REC_KINDS] = {
	[REC_MAGIC] = { "vtxsim-result", 1, "vtxsim-result 1" },
	[REC_STATUS] = { "status", 1, "status S" },
	[REC_END] = { "end", 1, "end WORD" },
	[REC_CYCLES] = { "cycles", 1, "cycles N" },
	[REC_INSTRUCTIONS] = { "instructions", 1, "instructions N" },
	[REC_TRIPLE_FAULTS] = { "triple-faults", 1, "triple-faults N" },
	[REC_VMX_ABORTS] = { "vmx-aborts", 1, "vmx-aborts N" },
	[REC_ENTRY_FAILURES] = { "entry-failures", 1, "entry-failures N" },
	[REC_EXIT] = { "exit", 3, "exit R NAME N" },
	[REC_ENTRY_FAILURE_EXIT] = { "entry-failure-exit", 3, "entry-failure-exit R NAME N" },
	[REC_CHECK] = { "check", 2, "check ID N" },
	[REC_VMX_INSN] = { "vmx-insn", 3, "vmx-insn NAME OUTCOME N" },
	[REC_VECTOR] = { "vector", 2, "vector V N" },
	[REC_LINE] = { "line", 2, "line K CYCLE" },
};

#define MAX_FIELDS 4

struct reader {
	const char *path;
	unsigned lineno;
	char *err;
	size_t errlen;
	int at;                 /* the kind of the last record, -1 before the first */
	uint64_t last_key;      /* of the last record of kind at: keys ascend within a kind */
	size_t cap;
	struct run_result *r;
};

static int bad(struct reader *rd, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->errlen, "%s:%u: %s", rd->path, rd->lineno, msg);
	return -1;
}

/* A decimal number that fits 64 bits: digits only. */
static bool parse_u64(const char *s, uint64_t *v)
{
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	unsigned long long x = strtoull(s, NULL, 10);
	if (errno == ERANGE)
		return false;
	*v = x;
	return true;
}

static int number(struct reader *rd, const char *s, uint64_t max, uint64_t *v)
{
	if (!parse_u64(s, v))
		return bad(rd, "'%s' is not a decimal number", s);
	if (*v > max)
		return bad(rd, "%s is out of range (at most %" PRIu64 ")", s, max);
	return 0;
}

/* Split line into the record word and its fields, separated by single spaces. */
static int split(struct reader *rd, char *line, char **f, int *n)
{
	*n = 0;
	for (char *p = line;;) {
		char *sp = strchr(p, ' ');
		if (sp == p || !*p)
			return bad(rd, "empty field (fields are separated by one space, no space at the ends)");
		if (*n == MAX_FIELDS)
			return bad(rd, "too many fields");
		f[(*n)++] = p;
		if (!sp)
			return 0;
		*sp = 0;
		p = sp + 1;
	}
}

static int find_kind(struct reader *rd, const char *word, int nargs)
{
	for (int k = 0; k < REC_KINDS; k++) {
		if (strcmp(records[k].word, word))
			continue;
		if (nargs != records[k].nargs) {
			bad(rd, "'%s' takes %d field%s: %s", word, records[k].nargs, records[k].nargs > 1 ? "s" : "",
			    records[k].usage);
			return -1;
		}
		return k;
	}
	bad(rd, "unknown record '%s'", word);
	return -1;
}

/* Records in the documented order; keys ascending within a kind. */
static int check_order(struct reader *rd, int k, uint64_t key)
{
	if (rd->at < REC_ENTRY_FAILURES) {
		if (k != rd->at + 1)
			return bad(rd, "'%s' where the '%s' record belongs (records come in the order of sim/result.h)",
				   records[k].word, records[rd->at + 1].word);
	} else if (k <= REC_ENTRY_FAILURES || k < rd->at) {
		return bad(rd, "'%s' after '%s' records (records come in the order of sim/result.h)", records[k].word,
			   records[rd->at].word);
	} else if (k == rd->at && key <= rd->last_key) {
		return bad(rd, "'%s' record repeated or out of order", records[k].word);
	}
	rd->at = k;
	rd->last_key = key;
	return 0;
}

static int exit_reason(struct reader *rd, const char *num, const char *name, uint32_t *reason)
{
	uint64_t v;
	if (number(rd, num, RESULT_REASONS - 1, &v))
		return -1;
	if (strcmp(name, reason_name((uint32_t)v)))
		return bad(rd, "exit reason %s is %s, not '%s'", num, reason_name((uint32_t)v), name);
	*reason = (uint32_t)v;
	return 0;
}

static int reason_by_name(struct reader *rd, const char *name, uint32_t *reason)
{
	for (uint32_t k = 0; k < RESULT_REASONS; k++) {
		const char *id = vmx_exit_reason_id(k);
		if (id && !strcmp(id, name)) {
			*reason = k;
			return 0;
		}
	}
	return bad(rd, "'%s' is not an exit-reason name (VMXON, VMREAD, ...)", name);
}

/* OUTCOME of a vmx-insn record; *err_no is the error of fail-valid:E. */
static int outcome(struct reader *rd, const char *s, int *o, uint64_t *err_no)
{
	for (int k = 0; k < RESULT_FAIL_VALID; k++) {
		if (!strcmp(s, outcome_words[k])) {
			*o = k;
			return 0;
		}
	}
	const char *pre = "fail-valid:";
	if (strncmp(s, pre, strlen(pre)))
		return bad(rd, "unknown outcome '%s'; one of ok, entered, fail-invalid, fail-valid:E", s);
	*o = RESULT_FAIL_VALID;
	return number(rd, s + strlen(pre), RESULT_VMX_ERRORS - 1, err_no);
}

static int rec_header(struct reader *rd, int k, char **f)
{
	struct run_result *r = rd->r;
	uint64_t v;
	uint64_t *dst[] = { [REC_CYCLES] = &r->cycles, [REC_INSTRUCTIONS] = &r->instructions,
			    [REC_TRIPLE_FAULTS] = &r->triple_faults, [REC_VMX_ABORTS] = &r->vmx_aborts,
			    [REC_ENTRY_FAILURES] = &r->entry_failures };
	switch (k) {
	case REC_MAGIC:
		if (strcmp(f[1], "1"))
			return bad(rd, "version %s of the result format; this vtxsim reads version 1", f[1]);
		return 0;
	case REC_STATUS:
		if (number(rd, f[1], 255, &v))
			return -1;
		r->status = (int)v;
		return 0;
	case REC_END:
		for (size_t w = 0; w < NEND_WORDS; w++) {
			if (!strcmp(f[1], end_words[w])) {
				snprintf(r->end, sizeof(r->end), "%s", f[1]);
				return 0;
			}
		}
		return bad(rd, "unknown end '%s'", f[1]);
	default:
		return number(rd, f[1], UINT64_MAX, dst[k]);
	}
}

static int rec_line(struct reader *rd, char **f)
{
	struct run_result *r = rd->r;
	uint64_t k, cycle;
	if (number(rd, f[1], UINT64_MAX, &k) || number(rd, f[2], UINT64_MAX, &cycle))
		return -1;
	if (k != r->nlines + 1)
		return bad(rd, "line %s where line %zu belongs", f[1], r->nlines + 1);
	if (r->nlines == rd->cap) {
		size_t cap = rd->cap ? rd->cap * 2 : 64;
		uint64_t *p = realloc(r->line_cycles, cap * sizeof(*p));
		if (!p)
			return bad(rd, "out of memory");
		r->line_cycles = p;
		rd->cap = cap;
	}
	r->line_cycles[r->nlines++] = cycle;
	return 0;
}

/* One record: f[0] the word, then its fields. */
static int record(struct reader *rd, char **f, int n)
{
	struct run_result *r = rd->r;
	int k = find_kind(rd, f[0], n - 1);
	uint64_t count, key = 0, v = 0;
	uint32_t reason = 0;
	int o = 0;
	if (k < 0)
		return -1;
	if (k <= REC_ENTRY_FAILURES)
		return check_order(rd, k, 0) || rec_header(rd, k, f) ? -1 : 0;
	if (k == REC_LINE)
		return check_order(rd, k, rd->r->nlines) || rec_line(rd, f) ? -1 : 0;
	if (number(rd, f[n - 1], UINT64_MAX, &count))
		return -1;
	switch (k) {
	case REC_EXIT:
	case REC_ENTRY_FAILURE_EXIT:
		if (exit_reason(rd, f[1], f[2], &reason) || check_order(rd, k, reason))
			return -1;
		(k == REC_EXIT ? r->exits : r->entry_failure_exits)[reason] = count;
		return 0;
	case REC_CHECK:
		for (key = 0; key < ENTRY_CHECK_COUNT && strcmp(entry_checks[key].id, f[1]); key++)
			;
		if (key == ENTRY_CHECK_COUNT)
			return bad(rd, "unknown VM-entry check '%s' (vmx/entry_checks.def)", f[1]);
		if (check_order(rd, k, key))
			return -1;
		r->checks[key] = count;
		return 0;
	case REC_VMX_INSN:
		if (reason_by_name(rd, f[1], &reason) || outcome(rd, f[2], &o, &v) ||
		    check_order(rd, k, ((uint64_t)reason * RESULT_OUTCOMES + (uint64_t)o) * RESULT_VMX_ERRORS + v))
			return -1;
		r->vmx_insns[reason][o] += count;
		if (o == RESULT_FAIL_VALID)
			r->vmx_errors[reason][v] = count;
		return 0;
	default:        /* REC_VECTOR */
		if (number(rd, f[1], RESULT_VECTORS - 1, &v) || check_order(rd, k, v))
			return -1;
		r->vectors[v] = count;
		return 0;
	}
}

static int read_lines(struct reader *rd, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while (!rc && (len = getline(&line, &cap, f)) >= 0) {
		rd->lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		char *fields[MAX_FIELDS];
		int n;
		if ((size_t)len != strlen(line))
			rc = bad(rd, "a NUL byte in the line");
		else
			rc = split(rd, line, fields, &n) || record(rd, fields, n) ? -1 : 0;
	}
	free(line);
	if (!rc && ferror(f))
		rc = bad(rd, "read error: %s", strerror(errno));
	if (!rc && rd->at < REC_ENTRY_FAILURES)
		rd->lineno++;   /* where the missing record belongs */
	if (!rc && rd->at < 0)
		rc = bad(rd, "empty: not a vtxsim run result ('vtxsim-result 1' comes first)");
	else if (!rc && rd->at < REC_ENTRY_FAILURES)
		rc = bad(rd, "the file ends where the '%s' record belongs", records[rd->at + 1].word);
	return rc;
}

int result_read(struct run_result *r, const char *path, char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open the run result: %s", path, strerror(errno));
		return -1;
	}
	struct reader rd = { .path = path, .err = err, .errlen = errlen, .at = -1, .r = r };
	int rc = read_lines(&rd, f);
	fclose(f);
	if (rc)
		result_free(r);
	return rc;
}

void result_free(struct run_result *r)
{
	free(r->line_cycles);
	r->line_cycles = NULL;
	r->nlines = 0;
}
