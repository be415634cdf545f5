/* Judging one finished case of `vtxsim test` (sim/suite.h): how the
 * process ended, its exit status, the run result, the guest's own result
 * lines (kvm-unit-tests PASS:/FAIL:/SKIP:/XFAIL:/XPASS:/SUMMARY:, TAP),
 * the expectations and the golden files; and the golden texts
 * --update-golden writes.
 *
 * kvm-unit-tests semantics (lib/report.c): XPASS is a test marked as
 * expected to fail that passed, an unexpected failure; XFAIL is an expected
 * failure, not a failure. TAP: version 12/13 test lines, a plan before or
 * after them, "# SKIP" and "# TODO" directives, "Bail out!". */
#define _GNU_SOURCE     /* sigabbrev_np */
#include "sim/suite.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <regex.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli.h"
#include "vmx/entry.h"
#include "vmx/vmx.h"

/* ---- small helpers ---- */

static void failf(struct suite_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void failf(struct suite_verdict *v, const char *fmt, ...)
{
	va_list ap;
	v->outcome = SUITE_FAIL;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

static void copy_line(char *dst, size_t dstlen, const char *s, size_t n)
{
	snprintf(dst, dstlen, "%.*s", (int)(n < dstlen ? n : dstlen - 1), s);
}

/* Lines of a text: without their '\n' and a '\r' before it; a last line
 * without '\n' is a line too. */
struct lines {
	const char *p, *end;
	unsigned no;            /* of the line last returned, 1-based */
};

static void lines_init(struct lines *it, const char *text, size_t len)
{
	it->p = text ? text : "";
	it->end = it->p + (text ? len : 0);
	it->no = 0;
}

static bool lines_next(struct lines *it, const char **s, size_t *n)
{
	if (it->p >= it->end)
		return false;
	const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
	const char *e = nl ? nl : it->end;
	*s = it->p;
	*n = (size_t)(e - it->p);
	if (*n > 0 && (*s)[*n - 1] == '\r')
		(*n)--;
	it->p = nl ? nl + 1 : it->end;
	it->no++;
	return true;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(s, prefix, k) == 0;
}

/* The vtxsim exit statuses, as docs/user-guide.md names them. */
static void describe_status(int st, char *buf, size_t len)
{
	switch (st) {
	case CLI_EXIT_POWER_OFF: snprintf(buf, len, "power-off"); return;
	case CLI_EXIT_USAGE: snprintf(buf, len, "usage error"); return;
	case CLI_EXIT_TRIPLE_FAULT: snprintf(buf, len, "triple fault"); return;
	case CLI_EXIT_CYCLE_LIMIT: snprintf(buf, len, "cycle limit"); return;
	case CLI_EXIT_HALTED: snprintf(buf, len, "halted forever"); return;
	case CLI_EXIT_INTERNAL: snprintf(buf, len, "internal error"); return;
	case CLI_EXIT_VMX_ABORT: snprintf(buf, len, "VMX abort"); return;
	case 125: snprintf(buf, len, "sanitizer report"); return;
	}
	if (st & 1)
		snprintf(buf, len, "isa-debug-exit %d", st >> 1);
	else
		snprintf(buf, len, "unknown");
}

/* ---- scanning a COM1 log ---- */

enum line_kind {
	LINE_OTHER, LINE_PASS, LINE_FAIL, LINE_SKIP, LINE_XFAIL, LINE_XPASS, LINE_SUMMARY,
	LINE_TAP_PLAN, LINE_TAP_OK, LINE_TAP_NOT_OK, LINE_TAP_SKIP, LINE_TAP_TODO, LINE_TAP_BAIL,
};

/* A TAP test line's directive: after the first unescaped '#', "SKIP..." or
 * "TODO..." in any case (as prove reads them). */
static enum line_kind tap_directive(const char *s, size_t n, enum line_kind plain)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] != '#')
			continue;
		for (i++; i < n && (s[i] == ' ' || s[i] == '\t'); i++)
			;
		if (n - i >= 4 && strncasecmp(s + i, "skip", 4) == 0)
			return LINE_TAP_SKIP;
		if (n - i >= 4 && strncasecmp(s + i, "todo", 4) == 0)
			return plain == LINE_TAP_NOT_OK ? LINE_TAP_TODO : LINE_TAP_OK;
		return plain;
	}
	return plain;
}

/* "WORD" at the start followed by the end of the line or a blank. */
static bool starts_word(const char *s, size_t n, const char *word)
{
	size_t k = strlen(word);
	return starts(s, n, word) && (n == k || s[k] == ' ' || s[k] == '\t');
}

/* "1..N" (optionally "# reason" after it): N, else -1. */
static int tap_plan(const char *s, size_t n)
{
	if (!starts(s, n, "1..") || n == 3 || !isdigit((unsigned char)s[3]))
		return -1;
	long v = 0;
	size_t i = 3;
	for (; i < n && isdigit((unsigned char)s[i]); i++)
		if ((v = v * 10 + (s[i] - '0')) > 1000000000)
			return -1;
	if (i < n && s[i] != ' ' && s[i] != '\t')
		return -1;
	return (int)v;
}

static enum line_kind classify(const char *s, size_t n)
{
	static const struct { const char *prefix; enum line_kind kind; } kut[] = {
		{ "PASS:", LINE_PASS }, { "FAIL:", LINE_FAIL }, { "SKIP:", LINE_SKIP },
		{ "XFAIL:", LINE_XFAIL }, { "XPASS:", LINE_XPASS }, { "SUMMARY:", LINE_SUMMARY },
	};
	for (size_t i = 0; i < sizeof(kut) / sizeof(kut[0]); i++)
		if (starts(s, n, kut[i].prefix))
			return kut[i].kind;
	if (starts_word(s, n, "ok"))
		return tap_directive(s, n, LINE_TAP_OK);
	if (starts_word(s, n, "not ok"))
		return tap_directive(s, n, LINE_TAP_NOT_OK);
	if (starts(s, n, "Bail out!"))
		return LINE_TAP_BAIL;
	if (tap_plan(s, n) >= 0)
		return LINE_TAP_PLAN;
	return LINE_OTHER;
}

/* ", N WORD..." at *p: N, with *p past it and its words; false if absent. */
static bool summary_part(const char **p, const char *e, const char *word, unsigned *v)
{
	const char *q = *p;
	if (e - q < 2 || q[0] != ',' || q[1] != ' ')
		return false;
	q += 2;
	char *num_end;
	char buf[32];
	copy_line(buf, sizeof(buf), q, (size_t)(e - q));
	if (!isdigit((unsigned char)buf[0]))
		return false;
	unsigned long x = strtoul(buf, &num_end, 10);
	q += num_end - buf;
	size_t k = strlen(word);
	if (e - q < (ptrdiff_t)(k + 1) || q[0] != ' ' || memcmp(q + 1, word, k) != 0)
		return false;
	q += 1 + k;
	while (q < e && *q != ',')      /* "failures", "failure" */
		q++;
	*v = (unsigned)x;
	*p = q;
	return true;
}

/* "SUMMARY: N tests[, U unexpected failures][, E expected failures][, S skipped]" */
static bool parse_summary(const char *s, size_t n, struct suite_counts *k)
{
	const char *e = s + n;
	const char *p = s + strlen("SUMMARY:");
	unsigned tests = 0, un = 0, ex = 0, sk = 0;
	char buf[32];
	while (p < e && *p == ' ')
		p++;
	copy_line(buf, sizeof(buf), p, (size_t)(e - p));
	char *end;
	if (!isdigit((unsigned char)buf[0]))
		return false;
	tests = (unsigned)strtoul(buf, &end, 10);
	p += end - buf;
	if (!starts(p, (size_t)(e - p), " test"))
		return false;
	while (p < e && *p != ',')
		p++;
	summary_part(&p, e, "unexpected", &un);
	summary_part(&p, e, "expected", &ex);
	summary_part(&p, e, "skipped", &sk);
	k->summary = true;
	k->sum_tests = tests;
	k->sum_unexpected = un;
	k->sum_expected = ex;
	k->sum_skipped = sk;
	return true;
}

static void count_line(enum line_kind kind, const char *s, size_t n, struct suite_counts *k)
{
	switch (kind) {
	case LINE_PASS: k->pass++; break;
	case LINE_FAIL: k->fail++; break;
	case LINE_SKIP: k->skip++; break;
	case LINE_XFAIL: k->xfail++; break;
	case LINE_XPASS: k->xpass++; break;
	case LINE_SUMMARY: parse_summary(s, n, k); break;
	case LINE_TAP_PLAN: k->tap_plan = tap_plan(s, n); break;
	case LINE_TAP_OK: k->tap_ok++; break;
	case LINE_TAP_NOT_OK: k->tap_not_ok++; break;
	case LINE_TAP_SKIP: k->tap_skip++; break;
	case LINE_TAP_TODO: k->tap_todo++; break;
	case LINE_TAP_BAIL: k->tap_bail = true; break;
	case LINE_OTHER: break;
	}
}

void suite_scan_log(const char *text, size_t len, struct suite_counts *k)
{
	struct lines it;
	const char *s;
	size_t n;

	memset(k, 0, sizeof(*k));
	k->tap_plan = -1;
	lines_init(&it, text, len);
	while (lines_next(&it, &s, &n))
		count_line(classify(s, n), s, n, k);
}

static unsigned tap_total(const struct suite_counts *k)
{
	return k->tap_ok + k->tap_not_ok + k->tap_skip + k->tap_todo;
}

/* ---- the VM-exit trace (sim/trace.c's JSON lines, fixed key order) ---- */

struct exit_list {
	char *text;             /* the golden lines */
	size_t len, cap;
	uint64_t *cycles;       /* [k]: cycle of exit k+1 */
	int *cpus;
	size_t n, ncap;
	uint64_t exits[RESULT_REASONS], ef_exits[RESULT_REASONS];
};

static void exit_list_free(struct exit_list *x)
{
	free(x->text);
	free(x->cycles);
	free(x->cpus);
}

static bool lit(const char **p, const char *e, const char *s)
{
	size_t k = strlen(s);
	if ((size_t)(e - *p) < k || memcmp(*p, s, k) != 0)
		return false;
	*p += k;
	return true;
}

static bool num(const char **p, const char *e, uint64_t *v)
{
	const char *q = *p;
	uint64_t x = 0;
	for (; q < e && isdigit((unsigned char)*q); q++) {
		if (x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(*q - '0');
	}
	if (q == *p)
		return false;
	*v = x;
	*p = q;
	return true;
}

/* A JSON string of [chars]: its text without the quotes. */
static bool word(const char **p, const char *e, const char *chars, const char **s, size_t *n)
{
	const char *q = *p;
	if (q >= e || *q != '"')
		return false;
	const char *w = ++q;
	while (q < e && *q && strchr(chars, *q))
		q++;
	if (q >= e || *q != '"' || q == w)
		return false;
	*s = w;
	*n = (size_t)(q - w);
	*p = q + 1;
	return true;
}

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
#define HEX_CHARS "0123456789abcdefx"

static int exit_list_add(struct exit_list *x, uint64_t cycle, int cpu, const char *line)
{
	size_t n = strlen(line);
	if (x->len + n + 2 > x->cap) {
		size_t cap = (x->cap + n + 2) * 2;
		char *t = realloc(x->text, cap);
		if (!t)
			return -1;
		x->text = t;
		x->cap = cap;
	}
	memcpy(x->text + x->len, line, n);
	x->len += n;
	x->text[x->len++] = '\n';
	x->text[x->len] = 0;
	if (x->n == x->ncap) {
		size_t ncap = x->ncap ? x->ncap * 2 : 64;
		uint64_t *c = realloc(x->cycles, ncap * sizeof(*c));
		if (c)
			x->cycles = c;
		int *u = realloc(x->cpus, ncap * sizeof(*u));
		if (u)
			x->cpus = u;
		if (!c || !u)
			return -1;
		x->ncap = ncap;
	}
	x->cycles[x->n] = cycle;
	x->cpus[x->n++] = cpu;
	return 0;
}

/* One trace line into x (other events are left out): NULL, or what was expected where it failed. */
static const char *parse_trace_line(const char *s, size_t n, struct exit_list *x)
{
	const char *p = s, *e = s + n, *w, *rs, *q, *r;
	size_t wn, rsn, qn, rn;
	uint64_t cycle, cpu, reason;

	if (!lit(&p, e, "{\"cycle\":") || !num(&p, e, &cycle))
		return "{\"cycle\":N";
	if (!lit(&p, e, ",\"cpu\":") || !num(&p, e, &cpu) || cpu > 255)
		return "\"cpu\":N";
	if (!lit(&p, e, ",\"event\":") || !word(&p, e, NAME_CHARS, &w, &wn))
		return "\"event\":\"NAME\"";
	if (n == 0 || s[n - 1] != '}')
		return "'}' at the end of the line";
	if (wn != 6 || memcmp(w, "vmexit", 6) != 0)
		return NULL;
	if (!lit(&p, e, ",\"reason\":") || !num(&p, e, &reason) || reason >= RESULT_REASONS)
		return "\"reason\":N (below 128)";
	if (!lit(&p, e, ",\"name\":") || !word(&p, e, NAME_CHARS, &rs, &rsn))
		return "\"name\":\"NAME\"";
	bool ef = lit(&p, e, ",\"entry_failure\":true");
	if (!ef && !lit(&p, e, ",\"entry_failure\":false"))
		return "\"entry_failure\":true|false";
	if (!lit(&p, e, ",\"qual\":") || !word(&p, e, HEX_CHARS, &q, &qn) || !starts(q, qn, "0x"))
		return "\"qual\":\"0xHEX\"";
	if (!lit(&p, e, ",\"guest_rip\":") || !word(&p, e, HEX_CHARS, &r, &rn) || !starts(r, rn, "0x"))
		return "\"guest_rip\":\"0xHEX\"";
	if (p >= e || (*p != ',' && *p != '}'))
		return "',' or '}' after \"guest_rip\"";
	char line[256];
	snprintf(line, sizeof(line), "cpu%d %d%s %.*s qual=%.*s rip=%.*s", (int)cpu, (int)reason, ef ? "+ef" : "",
		 (int)(rsn > 64 ? 64 : rsn), rs, (int)(qn > 32 ? 32 : qn), q, (int)(rn > 32 ? 32 : rn), r);
	(ef ? x->ef_exits : x->exits)[reason]++;
	return exit_list_add(x, cycle, (int)cpu, line) ? "memory (out of memory)" : NULL;
}

static int parse_trace(const struct suite_outputs *o, struct exit_list *x, char *err, size_t errlen)
{
	struct lines it;
	const char *s;
	size_t n;

	memset(x, 0, sizeof(*x));
	if (!o->trace) {
		snprintf(err, errlen, "no VM-exit trace (the case ran without --trace exits)");
		return -1;
	}
	lines_init(&it, o->trace, o->trace_len);
	while (lines_next(&it, &s, &n)) {
		if (n == 0)
			continue;
		const char *what = parse_trace_line(s, n, x);
		if (what) {
			snprintf(err, errlen, "exit trace line %u: expected %s: %.*s", it.no, what,
				 (int)(n > 80 ? 80 : n), s);
			exit_list_free(x);
			memset(x, 0, sizeof(*x));
			return -1;
		}
	}
	return 0;
}

/* ---- golden texts ---- */

static const char *reason_name(unsigned r)
{
	const char *id = vmx_exit_reason_id(r);
	return id ? id : "UNKNOWN";
}

static int counts_text(const uint64_t *exits, const uint64_t *ef, char **text, size_t *len)
{
	size_t cap = 64, n = 0;
	char *t = malloc(cap);
	if (!t)
		return -1;
	t[0] = 0;
	for (unsigned pass = 0; pass < 2; pass++) {
		for (unsigned r = 0; r < RESULT_REASONS; r++) {
			uint64_t c = (pass ? ef : exits)[r];
			if (!c)
				continue;
			char line[128];
			int k = snprintf(line, sizeof(line), "%u%s %s %" PRIu64 "\n", r, pass ? "+ef" : "",
					 reason_name(r), c);
			if (n + (size_t)k + 1 > cap) {
				char *u = realloc(t, cap = (n + (size_t)k + 1) * 2);
				if (!u) {
					free(t);
					return -1;
				}
				t = u;
			}
			memcpy(t + n, line, (size_t)k + 1);
			n += (size_t)k;
		}
	}
	*text = t;
	*len = n;
	return 0;
}

static int golden_counts(const struct suite_outputs *o, char **text, size_t *len, char *err, size_t errlen)
{
	if (o->result)
		return counts_text(o->result->exits, o->result->entry_failure_exits, text, len);
	struct exit_list x;
	if (parse_trace(o, &x, err, errlen) < 0) {
		snprintf(err, errlen, "no run result and no VM-exit trace to count exits from");
		return -1;
	}
	int rc = counts_text(x.exits, x.ef_exits, text, len);
	exit_list_free(&x);
	return rc;
}

int suite_golden_text(enum suite_golden g, const struct suite_outputs *o, char **text, size_t *len, char *err,
		      size_t errlen)
{
	int rc = 0;
	*text = NULL;
	*len = 0;
	if (errlen)
		err[0] = 0;
	switch (g) {
	case SUITE_GOLDEN_OUTPUT:
		if (!o->serial) {
			snprintf(err, errlen, "no COM1 output");
			return -1;
		}
		if (!(*text = malloc(o->serial_len + 1)))
			break;
		memcpy(*text, o->serial, o->serial_len);
		(*text)[o->serial_len] = 0;
		*len = o->serial_len;
		return 0;
	case SUITE_GOLDEN_EXITS: {
		struct exit_list x;
		if (parse_trace(o, &x, err, errlen) < 0)
			return -1;
		*text = x.text ? x.text : strdup("");
		*len = x.len;
		x.text = NULL;
		exit_list_free(&x);
		if (!*text)
			break;
		return 0;
	}
	case SUITE_GOLDEN_EXIT_COUNTS:
		rc = golden_counts(o, text, len, err, errlen);
		if (rc == 0 || *err)
			return rc;
		break;
	}
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* ---- judging: the checks, in the header's order; each true when it failed ---- */

struct judge {
	const struct suite_case *c;
	const struct suite_outputs *o;
	struct suite_verdict *v;
};

static uint64_t line_cycle(const struct judge *j, unsigned k)
{
	const struct run_result *r = j->o->result;
	if (r && k >= 1 && k <= r->nlines)
		return r->line_cycles[k - 1];
	return r ? r->cycles : UINT64_MAX;
}

/* A failure at COM1 line k. */
static void at_line(const struct judge *j, unsigned k, const char *got, size_t gotn)
{
	snprintf(j->v->where, sizeof(j->v->where), "COM1 output line %u", k);
	copy_line(j->v->got, sizeof(j->v->got), got, gotn);
	j->v->cycle = line_cycle(j, k);
}


static bool check_ended(const struct judge *j)
{
	const struct suite_outputs *o = j->o;
	char d[64];
	switch (o->ended) {
	case SUITE_NOT_RUN:
		failf(j->v, "could not run vtxsim: %s", o->not_run ? o->not_run : "unknown reason");
		return true;
	case SUITE_SIGNALED: {
		const char *abbrev = sigabbrev_np(o->signal);
		if (abbrev)
			failf(j->v, "vtxsim crashed: signal %d (SIG%s)", o->signal, abbrev);
		else
			failf(j->v, "vtxsim crashed: signal %d", o->signal);
		return true;
	}
	case SUITE_TIMED_OUT:
		failf(j->v, "timed out after %u s (wall clock)", o->timeout);
		return true;
	case SUITE_EXITED:
		break;
	}
	if (!o->result) {
		describe_status(o->status, d, sizeof(d));
		failf(j->v, "no run result (%s); vtxsim exited with status %d (%s)",
		      o->result_error ? o->result_error : "no --result file", o->status, d);
		return true;
	}
	return false;
}

static bool status_accepted(const struct suite_case *c, int st)
{
	if (c->nstatus == 0)
		return st == 1;
	for (int i = 0; i < c->nstatus; i++)
		if (c->status[i] == st)
			return true;
	return false;
}

static bool check_status(const struct judge *j)
{
	const struct suite_case *c = j->c;
	int st = j->o->status;
	char want[200] = "", d[64];
	size_t n = 0;

	if (status_accepted(c, st))
		return false;
	if (c->status_default && st == ((77 << 1) | 1)) {     /* isa-debug-exit 77 */
		j->v->outcome = SUITE_SKIP;
		snprintf(j->v->why, sizeof(j->v->why), "the guest exited with isa-debug-exit 77 (kvm-unit-tests: skipped)");
		return true;
	}
	for (int i = 0; i < (c->nstatus ? c->nstatus : 1) && n < sizeof(want) - 1; i++) {
		int s = c->nstatus ? c->status[i] : 1;
		describe_status(s, d, sizeof(d));
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%s%d (%s)", i ? " or " : "", s, d);
	}
	describe_status(st, d, sizeof(d));
	failf(j->v, "expected status %s, got %d (%s at cycle %" PRIu64 ")", want, st, d, j->o->result->cycles);
	return true;
}

/* The failed entry checks by id, in table order ("GUEST_CS_AR_DPL 2, ..."),
 * whole items only: what does not fit is counted ("and 12 more"). */
static void failed_checks(const struct run_result *r, char *buf, size_t len)
{
	size_t n = 0;
	unsigned more = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < ENTRY_CHECK_COUNT; i++) {
		if (!r->checks[i])
			continue;
		char item[96];
		int k = snprintf(item, sizeof(item), "%s%s %" PRIu64, n ? ", " : "", entry_checks[i].id, r->checks[i]);
		if (more || n + (size_t)k + sizeof(" and 9999 more") > len)
			more++;
		else
			n += (size_t)snprintf(buf + n, len - n, "%s", item);
	}
	if (more)
		snprintf(buf + n, len - n, " and %u more", more);
	if (!buf[0])
		snprintf(buf, len, "none recorded");
}

static bool check_machine(const struct judge *j)
{
	const struct suite_case *c = j->c;
	const struct run_result *r = j->o->result;
	bool ended = false;

	if (r->triple_faults && !c->allow_triple_fault && !status_accepted(c, CLI_EXIT_TRIPLE_FAULT)) {
		ended = strcmp(r->end, "triple-fault") == 0;
		if (ended)
			failf(j->v, "triple fault at cycle %" PRIu64 " (allow it with status=triple-fault or allow-triple-fault)",
			      r->cycles);
		else
			failf(j->v, "%" PRIu64 " triple fault(s), the machine reset (allow it with allow-triple-fault)",
			      r->triple_faults);
		j->v->cycle = ended ? r->cycles : UINT64_MAX;
		return true;
	}
	if (r->vmx_aborts && !c->allow_vmx_abort && !status_accepted(c, CLI_EXIT_VMX_ABORT)) {
		ended = strcmp(r->end, "vmx-abort") == 0;
		if (ended)
			failf(j->v, "VMX abort at cycle %" PRIu64 " (allow it with status=vmx-abort or allow-vmx-abort)",
			      r->cycles);
		else
			failf(j->v, "%" PRIu64 " VMX abort(s), the machine reset (allow it with allow-vmx-abort)",
			      r->vmx_aborts);
		j->v->cycle = ended ? r->cycles : UINT64_MAX;
		return true;
	}
	if (r->entry_failures && !c->allow_entry_failure) {
		char checks[200];
		failed_checks(r, checks, sizeof(checks));
		failf(j->v, "%" PRIu64 " VM entr%s failed (checks: %s; allow it with allow-entry-failure)",
		      r->entry_failures, r->entry_failures == 1 ? "y" : "ies", checks);
		j->v->cycle = UINT64_MAX;
		return true;
	}
	return false;
}

/* The first COM1 line of one of the kinds in want (a bit mask), or 0. */
static unsigned first_line(const struct judge *j, unsigned want, const char **s, size_t *n)
{
	struct lines it;
	lines_init(&it, j->o->serial, j->o->serial_len);
	while (lines_next(&it, s, n))
		if (want & (1u << classify(*s, *n)))
			return it.no;
	return 0;
}

static bool check_results(const struct judge *j)
{
	const struct suite_counts *k = &j->v->counts;
	const char *s;
	size_t n;
	unsigned no;

	if ((no = first_line(j, 1u << LINE_FAIL | 1u << LINE_XPASS, &s, &n))) {
		failf(j->v, "%s line: %.*s", starts(s, n, "FAIL:") ? "FAIL" : "XPASS (unexpected pass)",
		      (int)(n > 200 ? 200 : n), s);
		at_line(j, no, s, n);
		return true;
	}
	if (k->summary && k->sum_unexpected) {
		no = first_line(j, 1u << LINE_SUMMARY, &s, &n);
		failf(j->v, "SUMMARY: %u unexpected failure(s) of %u tests", k->sum_unexpected, k->sum_tests);
		at_line(j, no, s, n);
		return true;
	}
	if ((no = first_line(j, 1u << LINE_TAP_NOT_OK | 1u << LINE_TAP_BAIL, &s, &n))) {
		failf(j->v, "TAP %s: %.*s", starts(s, n, "Bail") ? "bail-out" : "failure", (int)(n > 200 ? 200 : n), s);
		at_line(j, no, s, n);
		return true;
	}
	if (k->tap_plan >= 0 && tap_total(k) != (unsigned)k->tap_plan) {
		failf(j->v, "TAP plan 1..%d but %u test line(s)", k->tap_plan, tap_total(k));
		j->v->cycle = j->o->result->cycles;
		return true;
	}
	return false;
}

static bool check_summary_flag(const struct judge *j)
{
	if (!j->c->summary || j->v->counts.summary)
		return false;
	failf(j->v, "no SUMMARY: line in the COM1 output (the case requires one: summary)");
	snprintf(j->v->where, sizeof(j->v->where), "COM1 output");
	return true;
}

/* Does a line match expectation e? rx: compiled for the regex kinds. */
static bool line_matches(const struct suite_expect *e, const regex_t *rx, const char *s, size_t n)
{
	char *line = strndup(s, n);
	bool m = false;
	if (line) {
		if (e->kind == SUITE_REGEX || e->kind == SUITE_REJECT_REGEX)
			m = regexec(rx, line, 0, NULL, 0) == 0;
		else
			m = strstr(line, e->text) != NULL;
	}
	free(line);
	return m;
}

/* One expect/expect-re/reject/reject-re; true when it failed. */
static bool check_expect(const struct judge *j, const struct suite_expect *e)
{
	bool re = e->kind == SUITE_REGEX || e->kind == SUITE_REJECT_REGEX;
	bool reject = e->kind == SUITE_REJECT || e->kind == SUITE_REJECT_REGEX;
	regex_t rx;
	struct lines it;
	const char *s;
	size_t n;
	unsigned hit = 0;

	if (re && regcomp(&rx, e->text, REG_EXTENDED | REG_NOSUB) != 0) {
		failf(j->v, "bad regular expression \"%.200s\" (POSIX extended)", e->text);
		return true;
	}
	lines_init(&it, j->o->serial, j->o->serial_len);
	while (!hit && lines_next(&it, &s, &n))
		if (line_matches(e, &rx, s, n))
			hit = it.no;
	if (re)
		regfree(&rx);
	if (reject && hit) {
		failf(j->v, "a line %s \"%.200s\"", re ? "matches the rejected" : "contains the rejected", e->text);
		at_line(j, hit, s, n);
		return true;
	}
	if (!reject && !hit) {
		failf(j->v, "expected a line %s \"%.200s\"", re ? "matching" : "containing", e->text);
		snprintf(j->v->where, sizeof(j->v->where), "COM1 output");
		copy_line(j->v->want, sizeof(j->v->want), e->text, strlen(e->text));
		return true;
	}
	return false;
}

static bool check_expects(const struct judge *j)
{
	for (int i = 0; i < j->c->nexpects; i++)
		if (j->c->expects[i].kind != SUITE_STDERR && check_expect(j, &j->c->expects[i]))
			return true;
	for (int i = 0; i < j->c->nexpects; i++) {
		const char *t = j->c->expects[i].text;
		if (j->c->expects[i].kind != SUITE_STDERR)
			continue;
		if (!j->o->err || !memmem(j->o->err, j->o->err_len, t, strlen(t))) {
			failf(j->v, "vtxsim's stderr lacks \"%.200s\"", t);
			snprintf(j->v->where, sizeof(j->v->where), "vtxsim's stderr");
			copy_line(j->v->want, sizeof(j->v->want), t, strlen(t));
			return true;
		}
	}
	return false;
}

/* Read the golden file name (relative to the case's directory) into a
 * malloc'd buffer; false with the verdict set when it cannot. */
static bool read_golden(const struct judge *j, const char *name, char **text, size_t *len)
{
	char path[4096];
	const char *dir = j->c->dir;
	if (name[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0)
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT)
			failf(j->v, "golden file %s missing; run with --update-golden to create it", name);
		else
			failf(j->v, "cannot read golden file %s: %s", name, strerror(errno));
		return false;
	}
	size_t cap = 4096, n = 0, k;
	char *t = malloc(cap + 1);
	while (t && (k = fread(t + n, 1, cap - n, f)) > 0)
		if ((n += k) == cap) {
			char *u = realloc(t, (cap *= 2) + 1);
			if (!u)
				free(t);
			t = u;
		}
	bool bad = ferror(f) || !t;
	fclose(f);
	if (bad) {
		free(t);
		failf(j->v, "cannot read golden file %s", name);
		return false;
	}
	t[n] = 0;
	*text = t;
	*len = n;
	return true;
}

/* The first line where two texts differ: its number (1-based), or 0 when
 * they are equal line by line. ws/wn, gs/gn: the two lines (n = SIZE_MAX:
 * absent, that text ended). */
static unsigned first_difference(const char *want, size_t wlen, const char *got, size_t glen, const char **ws,
				 size_t *wn, const char **gs, size_t *gn)
{
	struct lines a, b;
	lines_init(&a, want, wlen);
	lines_init(&b, got, glen);
	for (;;) {
		bool ha = lines_next(&a, ws, wn), hb = lines_next(&b, gs, gn);
		if (!ha && !hb)
			return 0;
		if (!ha)
			*wn = SIZE_MAX;
		if (!hb)
			*gn = SIZE_MAX;
		if (!ha || !hb || *wn != *gn || memcmp(*ws, *gs, *wn) != 0)
			return ha ? a.no : b.no;
	}
}

static void want_got(struct suite_verdict *v, const char *ws, size_t wn, const char *gs, size_t gn)
{
	if (wn != SIZE_MAX)
		copy_line(v->want, sizeof(v->want), ws, wn);
	if (gn != SIZE_MAX)
		copy_line(v->got, sizeof(v->got), gs, gn);
}

static bool check_output(const struct judge *j)
{
	const char *name = j->c->output, *ws, *gs;
	size_t wn, gn, len;
	char *want;

	if (!name)
		return false;
	if (!read_golden(j, name, &want, &len))
		return true;
	const char *got = j->o->serial ? j->o->serial : "";
	size_t glen = j->o->serial ? j->o->serial_len : 0;
	bool same = len == glen && memcmp(want, got, len) == 0;
	unsigned k = same ? 0 : first_difference(want, len, got, glen, &ws, &wn, &gs, &gn);
	if (same) {
		free(want);
		return false;
	}
	if (k == 0) {           /* the same lines; they differ in the end of a line */
		failf(j->v, "COM1 output differs from %s at its end (a newline or carriage return)", name);
	} else if (gn == SIZE_MAX) {
		failf(j->v, "COM1 output differs from %s: output ends at line %u; %s has more", name, k - 1, name);
	} else if (wn == SIZE_MAX) {
		failf(j->v, "COM1 output differs from %s at line %u: %s ends at line %u", name, k, name, k - 1);
	} else {
		failf(j->v, "COM1 output differs from %s at line %u", name, k);
	}
	if (k) {
		snprintf(j->v->where, sizeof(j->v->where), "COM1 output line %u", k);
		want_got(j->v, ws, wn, gs, gn);
		j->v->cycle = gn == SIZE_MAX ? j->o->result->cycles : line_cycle(j, k);
	}
	free(want);
	return true;
}

static bool check_exits(const struct judge *j)
{
	const char *name = j->c->exits, *ws, *gs;
	size_t wn, gn, len;
	char *want, err[200];
	struct exit_list x;

	if (!name)
		return false;
	if (!read_golden(j, name, &want, &len))
		return true;
	if (parse_trace(j->o, &x, err, sizeof(err)) < 0) {
		failf(j->v, "%s", err);
		free(want);
		return true;
	}
	unsigned k = first_difference(want, len, x.text ? x.text : "", x.len, &ws, &wn, &gs, &gn);
	if (k) {
		if (gn == SIZE_MAX)
			failf(j->v, "VM-exit trace differs from %s: the trace ends at exit %u; %s has more", name, k - 1,
			      name);
		else if (wn == SIZE_MAX)
			failf(j->v, "VM-exit trace differs from %s at exit %u: %s ends at exit %u", name, k, name, k - 1);
		else
			failf(j->v, "VM-exit trace differs from %s at exit %u", name, k);
		if (gn == SIZE_MAX)
			snprintf(j->v->where, sizeof(j->v->where), "exit %u", k);
		else
			snprintf(j->v->where, sizeof(j->v->where), "exit %u (cpu%d)", k, x.cpus[k - 1]);
		want_got(j->v, ws, wn, gs, gn);
		j->v->cycle = gn == SIZE_MAX ? j->o->result->cycles : x.cycles[k - 1];
	}
	exit_list_free(&x);
	free(want);
	return k != 0;
}

/* A golden exit-counts line "REASON[+ef] NAME COUNT" (NAME is for the
 * reader; the reason number is compared). */
static bool parse_count_line(const char *s, size_t n, unsigned *reason, bool *ef, uint64_t *count)
{
	const char *p = s, *e = s + n, *w;
	uint64_t r;
	if (!num(&p, e, &r) || r >= RESULT_REASONS)
		return false;
	*ef = lit(&p, e, "+ef");
	if (!lit(&p, e, " "))
		return false;
	w = p;
	while (p < e && *p != ' ')
		p++;
	if (p == w || !lit(&p, e, " ") || !num(&p, e, count) || p != e)
		return false;
	*reason = (unsigned)r;
	return true;
}

static bool check_counts(const struct judge *j)
{
	const char *name = j->c->exit_counts, *s;
	const struct run_result *r = j->o->result;
	size_t n, len;
	char *text;
	struct lines it;
	uint64_t want[2][RESULT_REASONS] = { { 0 } };

	if (!name)
		return false;
	if (!read_golden(j, name, &text, &len))
		return true;
	lines_init(&it, text, len);
	while (lines_next(&it, &s, &n)) {
		unsigned reason;
		bool ef;
		uint64_t count;
		if (n == 0)
			continue;
		if (!parse_count_line(s, n, &reason, &ef, &count)) {
			failf(j->v, "%s:%u: expected \"REASON[+ef] NAME COUNT\" (as --update-golden writes it)", name,
			      it.no);
			free(text);
			return true;
		}
		want[ef][reason] = count;
	}
	free(text);
	for (unsigned ef = 0; ef < 2; ef++)
		for (unsigned i = 0; i < RESULT_REASONS; i++) {
			uint64_t got = (ef ? r->entry_failure_exits : r->exits)[i];
			if (got == want[ef][i])
				continue;
			failf(j->v, "VM exit counts differ from %s: %s%s exits %" PRIu64 ", expected %" PRIu64, name,
			      reason_name(i), ef ? " entry-failure" : "", got, want[ef][i]);
			snprintf(j->v->where, sizeof(j->v->where), "exit reason %u%s (%s)", i, ef ? "+ef" : "",
				 reason_name(i));
			snprintf(j->v->want, sizeof(j->v->want), "%u%s %s %" PRIu64, i, ef ? "+ef" : "",
				 reason_name(i), want[ef][i]);
			snprintf(j->v->got, sizeof(j->v->got), "%u%s %s %" PRIu64, i, ef ? "+ef" : "", reason_name(i),
				 got);
			return true;
		}
	return false;
}

/* Every sub-result the guest reported was skipped. */
static bool all_skipped(const struct suite_counts *k)
{
	unsigned ran = k->pass + k->fail + k->xfail + k->xpass + k->tap_ok + k->tap_not_ok + k->tap_todo;
	unsigned skipped = k->skip + k->tap_skip + (k->summary ? k->sum_skipped : 0);
	return ran == 0 && (skipped > 0 || k->tap_plan == 0);
}

void suite_judge(const struct suite_case *c, const struct suite_outputs *o, struct suite_verdict *v)
{
	static bool (*const checks[])(const struct judge *) = {
		check_ended, check_status, check_machine, check_results, check_summary_flag,
		check_expects, check_output, check_exits, check_counts,
	};
	struct judge j = { c, o, v };

	memset(v, 0, sizeof(*v));
	v->outcome = SUITE_PASS;
	v->cycle = o->result ? o->result->cycles : UINT64_MAX;
	suite_scan_log(o->serial, o->serial ? o->serial_len : 0, &v->counts);
	if (o->result) {
		v->cycles = o->result->cycles;
		for (unsigned i = 0; i < RESULT_REASONS; i++)
			v->exits += o->result->exits[i] + o->result->entry_failure_exits[i];
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (checks[i](&j))
			return;
	if (all_skipped(&v->counts)) {
		v->outcome = SUITE_SKIP;
		snprintf(v->why, sizeof(v->why), "every sub-result the guest reported was skipped (%u)",
			 v->counts.skip + v->counts.tap_skip);
	}
}
