/* `vtxsim test` reports (sim/suite.h): the per-case lines, the summary
 * table, JUnit XML, TAP and the coverage report. Everything here is a
 * function of the verdicts and the run results, so two runs of a suite
 * write the same bytes whatever -j was. */
#include "sim/suite.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmx/controls.h"
#include "vmx/entry.h"
#include "vmx/vmx.h"

/* ---- coverage ---- */

void suite_coverage_add(struct suite_coverage *cov, const struct run_result *r)
{
	struct run_result *s = &cov->sum;
	cov->cases++;
	s->cycles += r->cycles;
	s->instructions += r->instructions;
	s->triple_faults += r->triple_faults;
	s->vmx_aborts += r->vmx_aborts;
	s->entry_failures += r->entry_failures;
	for (int k = 0; k < RESULT_REASONS; k++) {
		s->exits[k] += r->exits[k];
		s->entry_failure_exits[k] += r->entry_failure_exits[k];
		if (r->exits[k] || r->entry_failure_exits[k])
			cov->exit_cases[k]++;
		for (int o = 0; o < RESULT_OUTCOMES; o++)
			s->vmx_insns[k][o] += r->vmx_insns[k][o];
		for (int e = 0; e < RESULT_VMX_ERRORS; e++)
			s->vmx_errors[k][e] += r->vmx_errors[k][e];
	}
	for (int k = 0; k < ENTRY_CHECK_COUNT; k++)
		s->checks[k] += r->checks[k];
	for (int k = 0; k < RESULT_VECTORS; k++)
		s->vectors[k] += r->vectors[k];
}

static void count_or_never(FILE *f, uint64_t n)
{
	if (n)
		fprintf(f, "%" PRIu64, n);
	else
		fputs("never", f);
}

static void coverage_exits(const struct suite_coverage *cov, FILE *f)
{
	const struct run_result *s = &cov->sum;
	unsigned total = 0, seen = 0;
	fprintf(f, "\nVM-exit reasons (exits; cases):\n");
	for (unsigned r = 0; r < RESULT_REASONS; r++) {
		const char *id = vmx_exit_reason_id(r);
		if (!id)
			continue;
		total++;
		fprintf(f, "  %-3u %-28s ", r, id);
		if (!cov->exit_cases[r]) {
			fputs("never\n", f);
			continue;
		}
		seen++;
		fprintf(f, "%" PRIu64, s->exits[r]);
		if (s->entry_failure_exits[r])
			fprintf(f, " + %" PRIu64 " entry failures", s->entry_failure_exits[r]);
		fprintf(f, "; %u case%s\n", cov->exit_cases[r], cov->exit_cases[r] == 1 ? "" : "s");
	}
	fprintf(f, "exit reasons: %u of %u exercised\n", seen, total);
}

static void coverage_checks(const struct suite_coverage *cov, FILE *f)
{
	unsigned seen = 0;
	fprintf(f, "\nVM-entry checks (times failed):\n");
	for (int k = 0; k < ENTRY_CHECK_COUNT; k++) {
		fprintf(f, "  %-40s %-10s ", entry_checks[k].id, entry_checks[k].section);
		count_or_never(f, cov->sum.checks[k]);
		fputc('\n', f);
		seen += cov->sum.checks[k] != 0;
	}
	fprintf(f, "entry checks: %u of %d exercised (made to fail)\n", seen, (int)ENTRY_CHECK_COUNT);
}

static void coverage_insns(const struct suite_coverage *cov, FILE *f)
{
	unsigned seen = 0, insns = 0, outcomes = 0, outcomes_seen = 0;
	fprintf(f, "\nVMX instructions in VMX root operation (executions by outcome):\n");
	for (unsigned r = 0; r < RESULT_REASONS; r++) {
		if (!vmx_exit_reason_is_insn(r))
			continue;
		insns++;
		const uint64_t *n = cov->sum.vmx_insns[r];
		bool enters = r == EXIT_REASON_VMLAUNCH || r == EXIT_REASON_VMRESUME;
		bool any = false;
		fprintf(f, "  %-9s", vmx_exit_reason_id(r));
		for (int o = 0; o < RESULT_OUTCOMES; o++) {
			if (o == (enters ? RESULT_OK : RESULT_ENTERED))
				continue;
			fprintf(f, " %s ", result_outcome_name(o));
			count_or_never(f, n[o]);
			outcomes++;
			outcomes_seen += n[o] != 0;
			any |= n[o] != 0;
		}
		fputc('\n', f);
		seen += any;
	}
	fprintf(f, "VMX instructions: %u of %u executed; %u of %u outcomes seen\n", seen, insns,
		outcomes_seen, outcomes);
}

static void coverage_errors(const struct suite_coverage *cov, FILE *f)
{
	unsigned total = 0, seen = 0;
	fprintf(f, "\nVM-instruction errors (VMfailValid, by instruction):\n");
	for (unsigned e = 0; e < RESULT_VMX_ERRORS; e++) {
		const char *text = vmx_insn_error_text(e);
		if (!text)
			continue;
		total++;
		uint64_t sum = 0;
		for (unsigned r = 0; r < RESULT_REASONS; r++)
			sum += cov->sum.vmx_errors[r][e];
		fprintf(f, "  %-3u %-62s ", e, text);
		if (!sum) {
			fputs("never\n", f);
			continue;
		}
		seen++;
		fprintf(f, "%" PRIu64 " (", sum);
		const char *sep = "";
		for (unsigned r = 0; r < RESULT_REASONS; r++) {
			if (!cov->sum.vmx_errors[r][e])
				continue;
			const char *id = vmx_exit_reason_id(r);
			fprintf(f, "%s%s %" PRIu64, sep, id ? id : "?", cov->sum.vmx_errors[r][e]);
			sep = ", ";
		}
		fputs(")\n", f);
	}
	fprintf(f, "VM-instruction errors: %u of %u seen\n", seen, total);
}

static void coverage_vectors(const struct suite_coverage *cov, FILE *f)
{
	unsigned seen = 0;
	fprintf(f, "\nException vectors delivered through the IDT:\n");
	for (unsigned v = 0; v < RESULT_VECTORS; v++) {
		const char *mn = cpu_vector_mnemonic(v);
		fprintf(f, "  %-3u %-4s %-40s ", v, mn ? mn : "-", cpu_vector_text(v));
		count_or_never(f, cov->sum.vectors[v]);
		fputc('\n', f);
		seen += cov->sum.vectors[v] != 0;
	}
	fprintf(f, "exception vectors: %u of %d delivered\n", seen, RESULT_VECTORS);
}

void suite_coverage_write(const struct suite_coverage *cov, FILE *f)
{
	const struct run_result *s = &cov->sum;
	fprintf(f, "vtxsim test coverage: %u case%s with a run result\n", cov->cases, cov->cases == 1 ? "" : "s");
	fprintf(f, "cycles %" PRIu64 ", instructions %" PRIu64 ", triple faults %" PRIu64 ", VMX aborts %" PRIu64
		", failed VM entries %" PRIu64 "\n",
		s->cycles, s->instructions, s->triple_faults, s->vmx_aborts, s->entry_failures);
	coverage_exits(cov, f);
	coverage_checks(cov, f);
	coverage_insns(cov, f);
	coverage_errors(cov, f);
	coverage_vectors(cov, f);
}

/* ---- the per-case lines and the table ---- */

static const char *outcome_word(const struct suite_report_case *rc)
{
	switch (rc->v.outcome) {
	case SUITE_PASS:
		return rc->updated ? "updated" : "ok";
	case SUITE_SKIP:
		return "skip";
	case SUITE_FAIL:
		break;
	}
	return "FAIL";
}

static void write_indented(const char *text, FILE *f)
{
	while (*text) {
		size_t n = strcspn(text, "\n");
		fprintf(f, "    %.*s\n", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

void suite_case_write(const struct suite_report_case *rc, const char *outdir, FILE *f)
{
	const struct suite_case *c = rc->c;
	const struct suite_verdict *v = &rc->v;
	switch (v->outcome) {
	case SUITE_PASS:
		fprintf(f, "ok %s%s\n", c->name, rc->updated ? " (golden files updated)" : "");
		break;
	case SUITE_SKIP:
		fprintf(f, "skip %s: %s\n", c->name, v->why);
		break;
	case SUITE_FAIL:
		fprintf(f, "FAIL %s: %s\n", c->name, v->why);
		if (v->where[0]) {
			fprintf(f, "    where: %s", v->where);
			if (v->cycle != UINT64_MAX)
				fprintf(f, ", cycle %" PRIu64, v->cycle);
			fputc('\n', f);
		}
		if (v->want[0] || v->got[0]) {
			fprintf(f, "    want: %s\n", v->want[0] ? v->want : "(none)");
			fprintf(f, "    got: %s\n", v->got[0] ? v->got : "(none)");
		}
		if (rc->replay)
			fprintf(f, "    replay: %s\n", rc->replay);
		if (rc->debug)
			fprintf(f, "    debug:  %s\n", rc->debug);
		if (outdir) {
			fprintf(f, "    outputs: %s/%s.serial %s/%s.stderr %s/%s.result", outdir, c->name, outdir, c->name,
				outdir, c->name);
			if (c->exits || c->exit_counts)
				fprintf(f, " %s/%s.exits", outdir, c->name);
			fputc('\n', f);
		}
		break;
	}
	if (rc->update_note)
		write_indented(rc->update_note, f);
}

static void subresults(const struct suite_counts *k, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = 0;
	if (k->pass || k->fail || k->skip || k->xfail || k->xpass) {
		n += (size_t)snprintf(buf + n, len - n, "PASS %u FAIL %u SKIP %u", k->pass, k->fail, k->skip);
		if (k->xfail && n < len)
			n += (size_t)snprintf(buf + n, len - n, " XFAIL %u", k->xfail);
		if (k->xpass && n < len)
			n += (size_t)snprintf(buf + n, len - n, " XPASS %u", k->xpass);
	}
	if (k->summary && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%sSUMMARY %u tests, %u unexpected", n ? "; " : "",
				      k->sum_tests, k->sum_unexpected);
	if ((k->tap_plan >= 0 || k->tap_ok || k->tap_not_ok) && n < len) {
		n += (size_t)snprintf(buf + n, len - n, "%sTAP %u ok, %u not ok", n ? "; " : "", k->tap_ok,
				      k->tap_not_ok);
		if (k->tap_plan >= 0 && n < len)
			n += (size_t)snprintf(buf + n, len - n, " of %d", k->tap_plan);
	}
	if (!n)
		snprintf(buf, len, "-");
}

void suite_table_write(const struct suite_report_case *rc, int n, FILE *f)
{
	int w = (int)strlen("case");
	for (int i = 0; i < n; i++)
		if ((int)strlen(rc[i].c->name) > w)
			w = (int)strlen(rc[i].c->name);
	fprintf(f, "%-*s  %-7s  %-10s  %14s  %10s  %s\n", w, "case", "result", "status", "cycles", "exits",
		"sub-results");
	for (int i = 0; i < n; i++) {
		char sub[160];
		subresults(&rc[i].v.counts, sub, sizeof(sub));
		fprintf(f, "%-*s  %-7s  %-10s  %14" PRIu64 "  %10" PRIu64 "  %s\n", w, rc[i].c->name, outcome_word(&rc[i]),
			rc[i].status[0] ? rc[i].status : "-", rc[i].v.cycles, rc[i].v.exits, sub);
	}
}

/* ---- JUnit XML ---- */

/* The last this many bytes of a case's COM1 output go into <system-out>. */
#define JUNIT_OUTPUT_MAX (64 * 1024)

/* Length of the UTF-8 sequence at s (at most n bytes) when it is a
 * character XML 1.0 allows (2.2: #x9 | #xA | #xD | [#x20-#xD7FF] |
 * [#xE000-#xFFFD] | [#x10000-#x10FFFF]); 0 otherwise. */
static size_t xml_char_len(const unsigned char *s, size_t n)
{
	unsigned char b = s[0];
	if (b < 0x80)
		return b >= 0x20 || b == '\t' || b == '\n' || b == '\r';
	size_t len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
	if (!len || len > n)
		return 0;
	for (size_t k = 1; k < len; k++)
		if ((s[k] & 0xc0) != 0x80)
			return 0;
	if ((b == 0xe0 && s[1] < 0xa0) || (b == 0xed && s[1] > 0x9f) || (b == 0xf0 && s[1] < 0x90) ||
	    (b == 0xf4 && s[1] > 0x8f))
		return 0;       /* overlong, surrogate, beyond U+10FFFF */
	if (b == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))
		return 0;       /* U+FFFE, U+FFFF */
	return len;
}

/* s escaped for XML text or (attr) an attribute value in double quotes.
 * Bytes XML cannot carry (control characters, invalid UTF-8) become the
 * visible text \xNN. */
static void xml_write(FILE *f, const char *s, size_t n, bool attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k = 0;
	while (k < n) {
		size_t len = xml_char_len(p + k, n - k);
		unsigned char b = p[k];
		if (!len) {
			fprintf(f, "\\x%02x", b);
			k++;
			continue;
		}
		if (b == '&')
			fputs("&amp;", f);
		else if (b == '<')
			fputs("&lt;", f);
		else if (b == '>')
			fputs("&gt;", f);
		else if (b == '"' && attr)
			fputs("&quot;", f);
		else if (b == '\r' || (attr && (b == '\n' || b == '\t')))
			fprintf(f, "&#%u;", b);
		else
			fwrite(p + k, 1, len, f);
		k += len;
	}
}

static void xml_str(FILE *f, const char *s, bool attr)
{
	xml_write(f, s, strlen(s), attr);
}

/* classname: the manifest's file name without its directory and extension. */
static void junit_classname(FILE *f, const char *manifest)
{
	const char *base = strrchr(manifest, '/');
	base = base ? base + 1 : manifest;
	const char *dot = strrchr(base, '.');
	xml_write(f, base, dot && dot != base ? (size_t)(dot - base) : strlen(base), true);
}

static void junit_failure(const struct suite_report_case *rc, FILE *f)
{
	const struct suite_verdict *v = &rc->v;
	fputs("      <failure message=\"", f);
	xml_str(f, v->why, true);
	fputs("\" type=\"failure\">", f);
	xml_str(f, v->why, false);
	fputc('\n', f);
	if (v->where[0]) {
		fputs("where: ", f);
		xml_str(f, v->where, false);
		if (v->cycle != UINT64_MAX)
			fprintf(f, ", cycle %" PRIu64, v->cycle);
		fputc('\n', f);
	}
	if (v->want[0] || v->got[0]) {
		fputs("want: ", f);
		xml_str(f, v->want, false);
		fputs("\ngot: ", f);
		xml_str(f, v->got, false);
		fputc('\n', f);
	}
	if (rc->replay) {
		fputs("replay: ", f);
		xml_str(f, rc->replay, false);
		fputc('\n', f);
	}
	if (rc->debug) {
		fputs("debug:  ", f);
		xml_str(f, rc->debug, false);
		fputc('\n', f);
	}
	fputs("</failure>\n", f);
}

static void junit_output(const struct suite_report_case *rc, FILE *f)
{
	const char *s = rc->serial;
	size_t n = rc->serial_len;
	if (!s)
		return;
	fputs("      <system-out>", f);
	if (n > JUNIT_OUTPUT_MAX) {
		size_t skip = n - JUNIT_OUTPUT_MAX;
		while (skip < n && (s[skip] & 0xc0) == 0x80)
			skip++;         /* start on a character */
		fprintf(f, "[vtxsim test: the first %zu of %zu bytes of COM1 output are left out; the whole output is in %s.serial]\n",
			skip, n, rc->c->name);
		s += skip;
		n -= skip;
	}
	xml_write(f, s, n, false);
	fputs("</system-out>\n", f);
}

static void junit_case(const struct suite_report_case *rc, FILE *f)
{
	fputs("    <testcase name=\"", f);
	xml_str(f, rc->c->name, true);
	fputs("\" classname=\"", f);
	junit_classname(f, rc->c->manifest);
	fputs("\">\n", f);
	if (rc->v.outcome == SUITE_SKIP) {
		fputs("      <skipped message=\"", f);
		xml_str(f, rc->v.why, true);
		fputs("\"/>\n", f);
	} else if (rc->v.outcome == SUITE_FAIL) {
		junit_failure(rc, f);
	}
	junit_output(rc, f);
	fputs("    </testcase>\n", f);
}

static void count_outcomes(const struct suite_report_case *rc, int n, int *fail, int *skip)
{
	*fail = *skip = 0;
	for (int i = 0; i < n; i++) {
		*fail += rc[i].v.outcome == SUITE_FAIL;
		*skip += rc[i].v.outcome == SUITE_SKIP;
	}
}

/* One <testsuite> for the cases rc[0..n) of one manifest. Cycles and exit
 * counts go into its <properties> (the schema has none per testcase), as
 * NAME.cycles / NAME.exits; no time attributes: the report is the same
 * on every run. */
static void junit_suite(const struct suite_report_case *rc, int n, FILE *f)
{
	int fail, skip;
	count_outcomes(rc, n, &fail, &skip);
	fputs("  <testsuite name=\"", f);
	xml_str(f, rc[0].c->manifest, true);
	fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\">\n", n, fail, skip);
	fputs("    <properties>\n", f);
	for (int i = 0; i < n; i++) {
		fputs("      <property name=\"", f);
		xml_str(f, rc[i].c->name, true);
		fprintf(f, ".cycles\" value=\"%" PRIu64 "\"/>\n", rc[i].v.cycles);
		fputs("      <property name=\"", f);
		xml_str(f, rc[i].c->name, true);
		fprintf(f, ".exits\" value=\"%" PRIu64 "\"/>\n", rc[i].v.exits);
	}
	fputs("    </properties>\n", f);
	for (int i = 0; i < n; i++)
		junit_case(&rc[i], f);
	fputs("  </testsuite>\n", f);
}

int suite_junit_write(const struct suite_report_case *rc, int n, const char *suite_name, FILE *f)
{
	int fail, skip;
	count_outcomes(rc, n, &fail, &skip);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", f);
	xml_str(f, suite_name, true);
	fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\">\n", n, fail, skip);
	/* Cases come in manifest order: a run of one manifest's cases is its suite. */
	for (int i = 0; i < n;) {
		int j = i + 1;
		while (j < n && !strcmp(rc[j].c->manifest, rc[i].c->manifest))
			j++;
		junit_suite(rc + i, j - i, f);
		i = j;
	}
	fputs("</testsuites>\n", f);
	return fflush(f) || ferror(f) ? -1 : 0;
}

/* ---- TAP ---- */

/* s as a YAML double-quoted scalar. */
static void yaml_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void tap_diagnostics(const struct suite_report_case *rc, FILE *f)
{
	const struct suite_verdict *v = &rc->v;
	fputs("  ---\n  message: ", f);
	yaml_str(f, v->why);
	if (v->where[0]) {
		fputs("\n  where: ", f);
		yaml_str(f, v->where);
	}
	if (v->cycle != UINT64_MAX)
		fprintf(f, "\n  cycle: %" PRIu64, v->cycle);
	if (v->want[0] || v->got[0]) {
		fputs("\n  want: ", f);
		yaml_str(f, v->want);
		fputs("\n  got: ", f);
		yaml_str(f, v->got);
	}
	if (rc->replay) {
		fputs("\n  replay: ", f);
		yaml_str(f, rc->replay);
	}
	if (rc->debug) {
		fputs("\n  debug: ", f);
		yaml_str(f, rc->debug);
	}
	fputs("\n  ...\n", f);
}

void suite_tap_write(const struct suite_report_case *rc, int n, FILE *f)
{
	fprintf(f, "TAP version 13\n1..%d\n", n);
	for (int i = 0; i < n; i++) {
		const struct suite_report_case *r = &rc[i];
		switch (r->v.outcome) {
		case SUITE_PASS:
			fprintf(f, "ok %d - %s%s\n", i + 1, r->c->name, r->updated ? " (golden files updated)" : "");
			break;
		case SUITE_SKIP:
			fprintf(f, "ok %d - %s # SKIP %s\n", i + 1, r->c->name, r->v.why);
			break;
		case SUITE_FAIL:
			fprintf(f, "not ok %d - %s\n", i + 1, r->c->name);
			tap_diagnostics(r, f);
			break;
		}
	}
}
