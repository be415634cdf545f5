/* sim/suite_check.c: judging a case of `vtxsim test` from outputs built in
 * memory (a hand-filled run result, golden files in a mkdtemp directory):
 * every check in the header's order, the order itself, kvm-unit-tests and
 * TAP scanning, golden output / exit trace / exit counts, update texts. */
#include <CUnit/CUnit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/suite.h"

struct fx {
	struct suite_case c;
	struct suite_outputs o;
	struct run_result r;
	uint64_t lc[16];
	struct suite_expect ex[4];
	struct suite_verdict v;
	char dir[64];
};

/* A case with the default status (exit:0) that exited with status 1 at
 * cycle 1000; COM1 line k ended at cycle 100 * k. */
static struct fx *fx_new(const char *serial)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->c.name = "case";
	f->c.dir = f->dir;
	f->c.status[0] = 1;
	f->c.nstatus = 1;
	f->c.status_default = true;
	f->o.ended = SUITE_EXITED;
	f->o.status = 1;
	f->o.result = &f->r;
	f->o.serial = serial;
	f->o.serial_len = strlen(serial);
	f->o.err = "";
	f->r.status = 1;
	strcpy(f->r.end, "debug-exit");
	f->r.cycles = 1000;
	for (unsigned k = 0; k < 16; k++)
		f->lc[k] = 100 * (k + 1);
	f->r.line_cycles = f->lc;
	f->r.nlines = 16;
	strcpy(f->dir, "/tmp/suite_check.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(f->dir));
	return f;
}

static void fx_free(struct fx *f)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
	free(f);
}

static void put(struct fx *f, const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fputs(text, fp);
	fclose(fp);
}

static void expect(struct fx *f, enum suite_match kind, char *text)
{
	f->ex[f->c.nexpects].kind = kind;
	f->ex[f->c.nexpects++].text = text;
	f->c.expects = f->ex;
}

static const struct suite_verdict *judge(struct fx *f)
{
	suite_judge(&f->c, &f->o, &f->v);
	return &f->v;
}

/* ---- how the process ended, the status ---- */

static void test_pass(void)
{
	struct fx *f = fx_new("PASS: a\nSUMMARY: 1 tests\n");
	f->r.exits[30] = 3;
	f->r.entry_failure_exits[33] = 1;
	const struct suite_verdict *v = judge(f);
	CU_ASSERT_EQUAL(v->outcome, SUITE_PASS);
	CU_ASSERT_STRING_EQUAL(v->why, "");
	CU_ASSERT_EQUAL(v->counts.pass, 1);
	CU_ASSERT_TRUE(v->counts.summary);
	CU_ASSERT_EQUAL(v->counts.sum_tests, 1);
	CU_ASSERT_EQUAL(v->cycles, 1000);
	CU_ASSERT_EQUAL(v->exits, 4);
	CU_ASSERT_EQUAL(v->cycle, 1000);
	fx_free(f);
}

static void test_ended(void)
{
	struct fx *f = fx_new("FAIL: later checks\n");
	f->o.ended = SUITE_NOT_RUN;
	f->o.not_run = "posix_spawn: No such file or directory";
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "could not run vtxsim: posix_spawn: No such file or directory");
	CU_ASSERT_EQUAL(f->v.outcome, SUITE_FAIL);
	f->o.ended = SUITE_SIGNALED;
	f->o.signal = SIGSEGV;
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "vtxsim crashed: signal 11 (SIGSEGV)");
	f->o.signal = 200;
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "vtxsim crashed: signal 200");
	f->o.ended = SUITE_TIMED_OUT;
	f->o.timeout = 300;
	f->o.result = NULL;
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "timed out after 300 s (wall clock)");
	CU_ASSERT_EQUAL(f->v.cycle, UINT64_MAX);
	CU_ASSERT_EQUAL(f->v.cycles, 0);
	f->o.ended = SUITE_EXITED;
	f->o.status = 2;
	f->o.result_error = "r.txt: no such file";
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "no run result (r.txt: no such file); vtxsim exited with status 2 (usage error)");
	fx_free(f);
}

static void test_status(void)
{
	struct fx *f = fx_new("FAIL: the status comes first\n");
	f->o.status = 6;
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_FAIL);
	CU_ASSERT_STRING_EQUAL(f->v.why, "expected status 1 (isa-debug-exit 0), got 6 (cycle limit at cycle 1000)");
	CU_ASSERT_EQUAL(f->v.counts.fail, 1);   /* counts filled whatever the verdict */
	f->c.status[1] = 0;
	f->c.nstatus = 2;
	f->c.status_default = false;
	f->o.status = 125;
	CU_ASSERT_STRING_EQUAL(judge(f)->why,
			       "expected status 1 (isa-debug-exit 0) or 0 (power-off), got 125 (sanitizer report at cycle 1000)");
	f->o.status = 0;
	f->o.serial = "";
	f->o.serial_len = 0;
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);
	fx_free(f);
}

static void test_skip_status(void)
{
	struct fx *f = fx_new("");
	f->o.status = 155;
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_SKIP);
	CU_ASSERT_PTR_NOT_NULL(strstr(f->v.why, "77"));
	f->c.status_default = false;    /* status=exit:0 given: 77 is a failure */
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_FAIL);
	CU_ASSERT_STRING_EQUAL(f->v.why, "expected status 1 (isa-debug-exit 0), got 155 (isa-debug-exit 77 at cycle 1000)");
	fx_free(f);
}

/* ---- triple fault, VMX abort, entry failures ---- */

static void test_machine(void)
{
	struct fx *f = fx_new("FAIL: x\n");
	f->r.triple_faults = 1;
	strcpy(f->r.end, "triple-fault");
	judge(f);
	CU_ASSERT_STRING_EQUAL(f->v.why, "triple fault at cycle 1000 (allow it with status=triple-fault or allow-triple-fault)");
	CU_ASSERT_EQUAL(f->v.cycle, 1000);
	strcpy(f->r.end, "debug-exit");
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "1 triple fault(s), the machine reset (allow it with allow-triple-fault)");
	f->c.allow_triple_fault = true;
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "FAIL line: FAIL: x");
	f->c.allow_triple_fault = false;
	f->c.status[0] = 4;                     /* status=triple-fault implies allowing it */
	f->o.status = 4;
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "FAIL line: FAIL: x");

	f->r.vmx_aborts = 2;
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "2 VMX abort(s), the machine reset (allow it with allow-vmx-abort)");
	strcpy(f->r.end, "vmx-abort");
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "VMX abort at cycle 1000 (allow it with status=vmx-abort or allow-vmx-abort)");
	f->c.allow_vmx_abort = true;

	f->r.entry_failures = 3;
	f->r.checks[ENTRY_CHECK_GUEST_CS_AR_TYPE] = 2;
	f->r.checks[ENTRY_CHECK_HOST_CR0_FIXED] = 1;
	judge(f);
	CU_ASSERT_EQUAL(f->v.outcome, SUITE_FAIL);
	CU_ASSERT_STRING_EQUAL(f->v.why, "3 VM entries failed (checks: HOST_CR0_FIXED 1, GUEST_CS_AR_TYPE 2; "
			       "allow it with allow-entry-failure)");
	f->c.allow_entry_failure = true;
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "FAIL line: FAIL: x");
	fx_free(f);
}

/* ---- the guest's result lines ---- */

static void test_fail_line(void)
{
	struct fx *f = fx_new("PASS: a\r\nFAIL: b\r\nPASS: c\n");
	judge(f);
	CU_ASSERT_EQUAL(f->v.outcome, SUITE_FAIL);
	CU_ASSERT_STRING_EQUAL(f->v.why, "FAIL line: FAIL: b");
	CU_ASSERT_STRING_EQUAL(f->v.where, "COM1 output line 2");
	CU_ASSERT_STRING_EQUAL(f->v.got, "FAIL: b");
	CU_ASSERT_EQUAL(f->v.cycle, 200);
	CU_ASSERT_EQUAL(f->v.counts.pass, 2);
	fx_free(f);
}

static void test_xfail_xpass(void)
{
	struct fx *f = fx_new("XFAIL: known bug\nPASS: a\nSUMMARY: 2 tests, 1 expected failures\n");
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);
	CU_ASSERT_EQUAL(f->v.counts.xfail, 1);
	CU_ASSERT_EQUAL(f->v.counts.sum_expected, 1);
	f->o.serial = "PASS: a\nXPASS: fixed now\n";
	f->o.serial_len = strlen(f->o.serial);
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "XPASS (unexpected pass) line: XPASS: fixed now");
	CU_ASSERT_STRING_EQUAL(f->v.where, "COM1 output line 2");
	fx_free(f);
}

static void test_summary(void)
{
	struct suite_counts k;
	const char *t = "SUMMARY: 1 tests\nSUMMARY: 10 tests, 2 unexpected failures, 1 expected failures, 3 skipped\n";
	suite_scan_log(t, strlen(t), &k);
	CU_ASSERT_TRUE(k.summary);
	CU_ASSERT_EQUAL(k.sum_tests, 10);
	CU_ASSERT_EQUAL(k.sum_unexpected, 2);
	CU_ASSERT_EQUAL(k.sum_expected, 1);
	CU_ASSERT_EQUAL(k.sum_skipped, 3);
	t = "SUMMARY: 4 tests, 1 skipped";
	suite_scan_log(t, strlen(t), &k);
	CU_ASSERT_EQUAL(k.sum_tests, 4);
	CU_ASSERT_EQUAL(k.sum_unexpected, 0);
	CU_ASSERT_EQUAL(k.sum_skipped, 1);

	/* unexpected failures without a FAIL: line; the last SUMMARY counts */
	struct fx *f = fx_new("PASS: a\nSUMMARY: 3 tests, 1 unexpected failures\n");
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "SUMMARY: 1 unexpected failure(s) of 3 tests");
	CU_ASSERT_STRING_EQUAL(f->v.where, "COM1 output line 2");
	CU_ASSERT_EQUAL(f->v.cycle, 200);
	f->o.serial = "SUMMARY: 3 tests, 1 unexpected failures\nSUMMARY: 3 tests\n";
	f->o.serial_len = strlen(f->o.serial);
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);
	fx_free(f);
}

static void test_summary_flag(void)
{
	struct fx *f = fx_new("PASS: a\n");
	f->c.summary = true;
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "no SUMMARY: line in the COM1 output (the case requires one: summary)");
	f->o.serial = "PASS: a\nSUMMARY: 1 tests\n";
	f->o.serial_len = strlen(f->o.serial);
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);
	fx_free(f);
}

static void test_scan_prefixes(void)
{
	struct suite_counts k;
	const char *t = " PASS: indented\nlog: FAIL: inside\nPASSED\nXPASS: x\nSKIP: s\r\nFAIL:\n"
			"okay\n  ok 1 - subtest\nnot okay\nok\nnot ok\n1..2x\nBail out\n";
	suite_scan_log(t, strlen(t), &k);
	CU_ASSERT_EQUAL(k.pass, 0);
	CU_ASSERT_EQUAL(k.fail, 1);
	CU_ASSERT_EQUAL(k.xpass, 1);
	CU_ASSERT_EQUAL(k.skip, 1);
	CU_ASSERT_EQUAL(k.tap_ok, 1);
	CU_ASSERT_EQUAL(k.tap_not_ok, 1);
	CU_ASSERT_EQUAL(k.tap_plan, -1);
	CU_ASSERT_FALSE(k.tap_bail);
	CU_ASSERT_FALSE(k.summary);
	suite_scan_log("", 0, &k);
	CU_ASSERT_EQUAL(k.tap_plan, -1);
	suite_scan_log(NULL, 0, &k);
	CU_ASSERT_EQUAL(k.pass, 0);
}

static void test_tap(void)
{
	const char *t = "TAP version 13\r\n1..5\r\nok 1 - a\r\nnot ok 2 - b # TODO later\r\nok 3 # skip no hw\r\n"
			"ok 4 - d # todo bonus\r\nnot ok 5 # SKIP: not here\r\n";
	struct suite_counts k;
	suite_scan_log(t, strlen(t), &k);
	CU_ASSERT_EQUAL(k.tap_plan, 5);
	CU_ASSERT_EQUAL(k.tap_ok, 2);
	CU_ASSERT_EQUAL(k.tap_not_ok, 0);
	CU_ASSERT_EQUAL(k.tap_skip, 2);
	CU_ASSERT_EQUAL(k.tap_todo, 1);
	struct fx *f = fx_new(t);
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);

	f->o.serial = "ok 1\nok 2 - escaped \\# TODO is text\nnot ok 3 - c \\# todo\n1..3\n";   /* plan at the end */
	f->o.serial_len = strlen(f->o.serial);
	judge(f);
	CU_ASSERT_EQUAL(f->v.counts.tap_plan, 3);
	CU_ASSERT_EQUAL(f->v.counts.tap_ok, 2);
	CU_ASSERT_STRING_EQUAL(f->v.why, "TAP failure: not ok 3 - c \\# todo");
	CU_ASSERT_STRING_EQUAL(f->v.where, "COM1 output line 3");
	CU_ASSERT_EQUAL(f->v.cycle, 300);

	f->o.serial = "1..3\nok 1\nok 2\n";     /* plan short */
	f->o.serial_len = strlen(f->o.serial);
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "TAP plan 1..3 but 2 test line(s)");
	f->o.serial = "ok 1\nok 2\n1..2\n";
	f->o.serial_len = strlen(f->o.serial);
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);

	f->o.serial = "1..2\nok 1\nBail out! no VMX\n";
	f->o.serial_len = strlen(f->o.serial);
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "TAP bail-out: Bail out! no VMX");
	CU_ASSERT_TRUE(f->v.counts.tap_bail);
	CU_ASSERT_EQUAL(f->v.cycle, 300);

	f->o.serial = "1..0 # SKIP no VMX on this model\n";
	f->o.serial_len = strlen(f->o.serial);
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_SKIP);
	fx_free(f);
}

static void test_all_skipped(void)
{
	struct fx *f = fx_new("SKIP: a\nSKIP: b\nSUMMARY: 2 tests, 2 skipped\n");
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_SKIP);
	CU_ASSERT_NOT_EQUAL(f->v.why[0], 0);
	f->o.serial = "SKIP: a\nPASS: b\n";
	f->o.serial_len = strlen(f->o.serial);
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);
	f->o.serial = "ok 1 # SKIP\n";
	f->o.serial_len = strlen(f->o.serial);
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_SKIP);
	f->o.status = 4;                        /* skipped, but a status not accepted: a failure */
	f->r.triple_faults = 1;
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_FAIL);
	fx_free(f);
}

/* ---- expectations ---- */

static void test_expects(void)
{
	struct fx *f = fx_new("boot\nvmx: entered guest\nresult 42\n");
	expect(f, SUITE_CONTAINS, "entered guest");
	expect(f, SUITE_REGEX, "^result [0-9]+$");
	expect(f, SUITE_REJECT, "panic");
	expect(f, SUITE_STDERR, "cycle limit");
	f->o.err = "vtxsim: cycle limit 5 reached\n";
	f->o.err_len = strlen(f->o.err);
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);

	f->ex[0].text = "left guest";
	f->o.err = "";
	f->o.err_len = 0;
	judge(f);                               /* expect and stderr both fail: expect first */
	CU_ASSERT_STRING_EQUAL(f->v.why, "expected a line containing \"left guest\"");
	CU_ASSERT_STRING_EQUAL(f->v.want, "left guest");
	CU_ASSERT_EQUAL(f->v.cycle, 1000);
	f->ex[0].text = "boot";
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "vtxsim's stderr lacks \"cycle limit\"");
	f->ex[3].text = "";

	f->ex[1].text = "^result$";
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "expected a line matching \"^result$\"");
	f->ex[1].text = "(unclosed";
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_FAIL);
	CU_ASSERT_PTR_NOT_NULL(strstr(f->v.why, "bad regular expression"));
	f->ex[1].text = "result";

	f->ex[2].text = "vmx";
	judge(f);
	CU_ASSERT_STRING_EQUAL(f->v.why, "a line contains the rejected \"vmx\"");
	CU_ASSERT_STRING_EQUAL(f->v.where, "COM1 output line 2");
	CU_ASSERT_STRING_EQUAL(f->v.got, "vmx: entered guest");
	CU_ASSERT_EQUAL(f->v.cycle, 200);
	f->ex[2].kind = SUITE_REJECT_REGEX;
	f->ex[2].text = "[0-9]{2}";
	judge(f);
	CU_ASSERT_STRING_EQUAL(f->v.why, "a line matches the rejected \"[0-9]{2}\"");
	CU_ASSERT_STRING_EQUAL(f->v.where, "COM1 output line 3");

	f->o.serial = "FAIL: x\nvmx: entered guest\n";   /* FAIL lines before expectations */
	f->o.serial_len = strlen(f->o.serial);
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "FAIL line: FAIL: x");
	fx_free(f);
}

/* ---- golden files ---- */

static void test_golden_output(void)
{
	struct fx *f = fx_new("one\ntwo\nthree\n");
	f->c.output = "out.txt";
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "golden file out.txt missing; run with --update-golden to create it");
	put(f, "out.txt", "one\ntwo\nthree\n");
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);

	put(f, "out.txt", "one\nTWO\nthree\n");
	judge(f);
	CU_ASSERT_STRING_EQUAL(f->v.why, "COM1 output differs from out.txt at line 2");
	CU_ASSERT_STRING_EQUAL(f->v.where, "COM1 output line 2");
	CU_ASSERT_STRING_EQUAL(f->v.want, "TWO");
	CU_ASSERT_STRING_EQUAL(f->v.got, "two");
	CU_ASSERT_EQUAL(f->v.cycle, 200);

	put(f, "out.txt", "one\ntwo\nthree\nfour\n");
	judge(f);
	CU_ASSERT_STRING_EQUAL(f->v.why, "COM1 output differs from out.txt: output ends at line 3; out.txt has more");
	CU_ASSERT_STRING_EQUAL(f->v.where, "COM1 output line 4");
	CU_ASSERT_STRING_EQUAL(f->v.want, "four");
	CU_ASSERT_STRING_EQUAL(f->v.got, "");

	put(f, "out.txt", "one\ntwo\n");
	judge(f);
	CU_ASSERT_STRING_EQUAL(f->v.why, "COM1 output differs from out.txt at line 3: out.txt ends at line 2");
	CU_ASSERT_STRING_EQUAL(f->v.got, "three");
	CU_ASSERT_STRING_EQUAL(f->v.want, "");
	CU_ASSERT_EQUAL(f->v.cycle, 300);

	put(f, "out.txt", "one\ntwo\nthree");   /* only the last newline differs */
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_FAIL);

	char *text;
	size_t len;
	char err[128];
	CU_ASSERT_EQUAL(suite_golden_text(SUITE_GOLDEN_OUTPUT, &f->o, &text, &len, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(len, 14);
	CU_ASSERT_STRING_EQUAL(text, "one\ntwo\nthree\n");
	free(text);
	f->o.serial = NULL;
	CU_ASSERT_EQUAL(suite_golden_text(SUITE_GOLDEN_OUTPUT, &f->o, &text, &len, err, sizeof(err)), -1);
	fx_free(f);
}

static const char trace_json[] =
	"{\"cycle\":500,\"cpu\":0,\"event\":\"vmentry\",\"insn\":\"vmlaunch\",\"vmcs\":\"0x1000\",\"guest_rip\":\"0x2000\"}\n"
	"{\"cycle\":900,\"cpu\":0,\"event\":\"vmexit\",\"reason\":30,\"name\":\"IO_INSTRUCTION\",\"entry_failure\":false,"
	"\"qual\":\"0x710048\",\"guest_rip\":\"0x100110\",\"intr_info\":\"0x0\",\"insn_len\":2}\n"
	"{\"cycle\":950,\"cpu\":1,\"event\":\"vmexit\",\"reason\":33,\"name\":\"INVALID_GUEST_STATE\",\"entry_failure\":true,"
	"\"qual\":\"0x0\",\"guest_rip\":\"0x3000\"}\n"
	"{\"cycle\":990,\"cpu\":0,\"event\":\"vmexit\",\"reason\":10,\"name\":\"CPUID\",\"entry_failure\":false,"
	"\"qual\":\"0x0\",\"guest_rip\":\"0x100120\",\"intr_info\":\"0x0\",\"insn_len\":2}\n";

static const char trace_golden[] = "cpu0 30 IO_INSTRUCTION qual=0x710048 rip=0x100110\n"
				   "cpu1 33+ef INVALID_GUEST_STATE qual=0x0 rip=0x3000\n"
				   "cpu0 10 CPUID qual=0x0 rip=0x100120\n";

static void test_golden_exits(void)
{
	struct fx *f = fx_new("");
	char *text, err[200];
	size_t len;

	f->o.trace = trace_json;
	f->o.trace_len = strlen(trace_json);
	CU_ASSERT_EQUAL_FATAL(suite_golden_text(SUITE_GOLDEN_EXITS, &f->o, &text, &len, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(text, trace_golden);
	CU_ASSERT_EQUAL(len, strlen(trace_golden));
	free(text);

	f->c.exits = "exits.txt";
	put(f, "exits.txt", trace_golden);
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);

	put(f, "exits.txt", "cpu0 30 IO_INSTRUCTION qual=0x710048 rip=0x100110\n"
			    "cpu1 33+ef INVALID_GUEST_STATE qual=0x0 rip=0x3008\n");
	judge(f);
	CU_ASSERT_STRING_EQUAL(f->v.why, "VM-exit trace differs from exits.txt at exit 2");
	CU_ASSERT_STRING_EQUAL(f->v.where, "exit 2 (cpu1)");
	CU_ASSERT_STRING_EQUAL(f->v.want, "cpu1 33+ef INVALID_GUEST_STATE qual=0x0 rip=0x3008");
	CU_ASSERT_STRING_EQUAL(f->v.got, "cpu1 33+ef INVALID_GUEST_STATE qual=0x0 rip=0x3000");
	CU_ASSERT_EQUAL(f->v.cycle, 950);

	put(f, "exits.txt", "cpu0 30 IO_INSTRUCTION qual=0x710048 rip=0x100110\n"
			    "cpu1 33+ef INVALID_GUEST_STATE qual=0x0 rip=0x3000\n");
	judge(f);                               /* the trace is longer */
	CU_ASSERT_STRING_EQUAL(f->v.why, "VM-exit trace differs from exits.txt at exit 3: exits.txt ends at exit 2");
	CU_ASSERT_STRING_EQUAL(f->v.got, "cpu0 10 CPUID qual=0x0 rip=0x100120");
	CU_ASSERT_EQUAL(f->v.cycle, 990);

	char longer[512];
	snprintf(longer, sizeof(longer), "%scpu0 18 VMCALL qual=0x0 rip=0x5\n", trace_golden);
	put(f, "exits.txt", longer);
	judge(f);                               /* the trace is shorter */
	CU_ASSERT_STRING_EQUAL(f->v.why, "VM-exit trace differs from exits.txt: the trace ends at exit 3; exits.txt has more");
	CU_ASSERT_STRING_EQUAL(f->v.where, "exit 4");
	CU_ASSERT_STRING_EQUAL(f->v.want, "cpu0 18 VMCALL qual=0x0 rip=0x5");
	CU_ASSERT_EQUAL(f->v.cycle, 1000);

	f->o.trace = "{\"cycle\":1,\"cpu\":0,\"event\":\"vmexit\",\"reason\":30}\n";
	f->o.trace_len = strlen(f->o.trace);
	CU_ASSERT_EQUAL(suite_golden_text(SUITE_GOLDEN_EXITS, &f->o, &text, &len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "exit trace line 1: expected \"name\""));
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_FAIL);
	CU_ASSERT_PTR_NOT_NULL(strstr(f->v.why, "exit trace line 1"));
	f->o.trace = "\n{\"cycle\":x}\n";
	f->o.trace_len = strlen(f->o.trace);
	CU_ASSERT_EQUAL(suite_golden_text(SUITE_GOLDEN_EXITS, &f->o, &text, &len, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "exit trace line 2"));
	f->o.trace = NULL;
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_FAIL);
	CU_ASSERT_PTR_NOT_NULL(strstr(f->v.why, "no VM-exit trace"));
	fx_free(f);
}

static void test_golden_counts(void)
{
	struct fx *f = fx_new("");
	char *text, err[200];
	size_t len;
	static const char want[] = "10 CPUID 2\n30 IO_INSTRUCTION 5\n33+ef INVALID_GUEST_STATE 1\n";

	f->r.exits[30] = 5;
	f->r.exits[10] = 2;
	f->r.entry_failure_exits[33] = 1;
	CU_ASSERT_EQUAL_FATAL(suite_golden_text(SUITE_GOLDEN_EXIT_COUNTS, &f->o, &text, &len, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);

	f->o.result = NULL;                     /* from the trace when there is no result */
	f->o.trace = trace_json;
	f->o.trace_len = strlen(trace_json);
	f->r.exits[10] = 1;
	CU_ASSERT_EQUAL_FATAL(suite_golden_text(SUITE_GOLDEN_EXIT_COUNTS, &f->o, &text, &len, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(text, "10 CPUID 1\n30 IO_INSTRUCTION 1\n33+ef INVALID_GUEST_STATE 1\n");
	free(text);
	f->o.result = &f->r;
	f->r.exits[10] = 2;

	f->c.exit_counts = "counts.txt";
	put(f, "counts.txt", want);
	CU_ASSERT_EQUAL(judge(f)->outcome, SUITE_PASS);
	put(f, "counts.txt", "10 CPUID 2\n30 IO_INSTRUCTION 4\n33+ef INVALID_GUEST_STATE 1\n");
	judge(f);
	CU_ASSERT_STRING_EQUAL(f->v.why, "VM exit counts differ from counts.txt: IO_INSTRUCTION exits 5, expected 4");
	CU_ASSERT_STRING_EQUAL(f->v.where, "exit reason 30 (IO_INSTRUCTION)");
	CU_ASSERT_STRING_EQUAL(f->v.want, "30 IO_INSTRUCTION 4");
	CU_ASSERT_STRING_EQUAL(f->v.got, "30 IO_INSTRUCTION 5");
	put(f, "counts.txt", "10 CPUID 2\n30 IO_INSTRUCTION 5\n");
	judge(f);
	CU_ASSERT_STRING_EQUAL(f->v.where, "exit reason 33+ef (INVALID_GUEST_STATE)");
	put(f, "counts.txt", "10 CPUID 2\n30 IO_INSTRUCTION five\n");
	CU_ASSERT_STRING_EQUAL(judge(f)->why, "counts.txt:2: expected \"REASON[+ef] NAME COUNT\" (as --update-golden writes it)");

	/* output= is checked before exit-counts= */
	f->c.output = "missing.txt";
	CU_ASSERT_PTR_NOT_NULL(strstr(judge(f)->why, "missing.txt missing"));
	fx_free(f);
}

void suite_sim_suite_check(void)
{
	CU_pSuite s = CU_add_suite("sim_suite_check", NULL, NULL);
	CU_add_test(s, "pass", test_pass);
	CU_add_test(s, "ended", test_ended);
	CU_add_test(s, "status", test_status);
	CU_add_test(s, "skip_status", test_skip_status);
	CU_add_test(s, "machine", test_machine);
	CU_add_test(s, "fail_line", test_fail_line);
	CU_add_test(s, "xfail_xpass", test_xfail_xpass);
	CU_add_test(s, "summary", test_summary);
	CU_add_test(s, "summary_flag", test_summary_flag);
	CU_add_test(s, "scan_prefixes", test_scan_prefixes);
	CU_add_test(s, "tap", test_tap);
	CU_add_test(s, "all_skipped", test_all_skipped);
	CU_add_test(s, "expects", test_expects);
	CU_add_test(s, "golden_output", test_golden_output);
	CU_add_test(s, "golden_exits", test_golden_exits);
	CU_add_test(s, "golden_counts", test_golden_counts);
}
