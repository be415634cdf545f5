/* vtxsim test reports (sim/suite_report.c): JUnit XML, TAP, the table, the
 * per-case lines and the coverage report, compared as exact text. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/suite.h"
#include "vmx/controls.h"
#include "vmx/vmx.h"

/* What a write function put on a FILE, as a malloc'd string. */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void cap_open(struct capture *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c->f);
}

static char *cap_close(struct capture *c)
{
	fclose(c->f);
	return c->text;
}

static struct suite_case cases[3] = {
	{ .name = "pass1", .manifest = "tests/vmx.suite", .dir = "tests" },
	{ .name = "fail1", .manifest = "tests/vmx.suite", .dir = "tests", .exits = "f.exits" },
	{ .name = "skip1", .manifest = "other/x.suite", .dir = "other" },
};

static void three_cases(struct suite_report_case rc[3])
{
	memset(rc, 0, 3 * sizeof(*rc));
	for (int i = 0; i < 3; i++) {
		rc[i].c = &cases[i];
		rc[i].v.cycle = UINT64_MAX;
		rc[i].v.counts.tap_plan = -1;
	}
	rc[0].v.outcome = SUITE_PASS;
	rc[0].v.cycles = 1234;
	rc[0].v.exits = 7;
	rc[0].serial = "hello <world>\n";
	rc[0].serial_len = strlen(rc[0].serial);
	rc[0].v.counts.pass = 3;
	strcpy(rc[0].status, "1");
	rc[1].v.outcome = SUITE_FAIL;
	strcpy(rc[1].v.why, "expected \"a\" & <b>\x01");
	strcpy(rc[1].v.where, "COM1 output line 2");
	strcpy(rc[1].v.want, "x");
	strcpy(rc[1].v.got, "y\x1b[0m");
	rc[1].v.cycle = 42;
	rc[1].v.cycles = 99;
	rc[1].replay = "cd tests && /bin/vtxsim -kernel 'a b.elf'";
	rc[1].debug = "cd tests && /bin/vtxsim -kernel 'a b.elf' --debug --debug-cmd 'until 42'";
	rc[1].serial = "FAIL: a\x07" "b \xff\xc3\xa9\n";
	rc[1].serial_len = strlen(rc[1].serial);
	strcpy(rc[1].status, "3");
	rc[2].v.outcome = SUITE_SKIP;
	strcpy(rc[2].v.why, "exit:77 (skipped)");
	strcpy(rc[2].status, "155");
}

static void test_junit(void)
{
	struct suite_report_case rc[3];
	struct capture c;
	three_cases(rc);
	cap_open(&c);
	CU_ASSERT_EQUAL(suite_junit_write(rc, 3, "vtxsim test", c.f), 0);
	char *xml = cap_close(&c);
	static const char want[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"vtxsim test\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\">\n"
		"  <testsuite name=\"tests/vmx.suite\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\">\n"
		"    <properties>\n"
		"      <property name=\"pass1.cycles\" value=\"1234\"/>\n"
		"      <property name=\"pass1.exits\" value=\"7\"/>\n"
		"      <property name=\"fail1.cycles\" value=\"99\"/>\n"
		"      <property name=\"fail1.exits\" value=\"0\"/>\n"
		"    </properties>\n"
		"    <testcase name=\"pass1\" classname=\"vmx\">\n"
		"      <system-out>hello &lt;world&gt;\n</system-out>\n"
		"    </testcase>\n"
		"    <testcase name=\"fail1\" classname=\"vmx\">\n"
		"      <failure message=\"expected &quot;a&quot; &amp; &lt;b&gt;\\x01\" type=\"failure\">"
		"expected \"a\" &amp; &lt;b&gt;\\x01\n"
		"where: COM1 output line 2, cycle 42\n"
		"want: x\n"
		"got: y\\x1b[0m\n"
		"replay: cd tests &amp;&amp; /bin/vtxsim -kernel 'a b.elf'\n"
		"debug:  cd tests &amp;&amp; /bin/vtxsim -kernel 'a b.elf' --debug --debug-cmd 'until 42'\n"
		"</failure>\n"
		"      <system-out>FAIL: a\\x07b \\xff\xc3\xa9\n</system-out>\n"
		"    </testcase>\n"
		"  </testsuite>\n"
		"  <testsuite name=\"other/x.suite\" tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"1\">\n"
		"    <properties>\n"
		"      <property name=\"skip1.cycles\" value=\"0\"/>\n"
		"      <property name=\"skip1.exits\" value=\"0\"/>\n"
		"    </properties>\n"
		"    <testcase name=\"skip1\" classname=\"x\">\n"
		"      <skipped message=\"exit:77 (skipped)\"/>\n"
		"    </testcase>\n"
		"  </testsuite>\n"
		"</testsuites>\n";
	CU_ASSERT_STRING_EQUAL(xml, want);
	free(xml);
}

/* A long COM1 output keeps its last 64 KiB, starting on a character, and says so. */
static void test_junit_truncates(void)
{
	struct suite_report_case rc[3];
	struct capture c;
	size_t n = 70000;
	char *big = malloc(n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'a', n);
	/* a two-byte character straddling the cut: the cut moves past it */
	big[n - 65536 - 1] = (char)0xc3;
	big[n - 65536] = (char)0xa9;
	big[n] = 0;
	three_cases(rc);
	rc[0].serial = big;
	rc[0].serial_len = n;
	cap_open(&c);
	CU_ASSERT_EQUAL(suite_junit_write(rc, 1, "s", c.f), 0);
	char *xml = cap_close(&c);
	CU_ASSERT_PTR_NOT_NULL(strstr(xml, "<system-out>[vtxsim test: the first 4465 of 70000 bytes of COM1 output are "
					   "left out; the whole output is in pass1.serial]\naaaa"));
	const char *end = strstr(xml, "</system-out>");
	const char *start = strstr(xml, "pass1.serial]\n");
	CU_ASSERT_FATAL(end && start);
	CU_ASSERT_EQUAL((size_t)(end - (start + strlen("pass1.serial]\n"))), 65535u);
	free(xml);
	free(big);
}

static void test_tap(void)
{
	struct suite_report_case rc[3];
	struct capture c;
	three_cases(rc);
	rc[0].updated = true;
	cap_open(&c);
	suite_tap_write(rc, 3, c.f);
	char *tap = cap_close(&c);
	static const char want[] = "TAP version 13\n"
				   "1..3\n"
				   "ok 1 - pass1 (golden files updated)\n"
				   "not ok 2 - fail1\n"
				   "  ---\n"
				   "  message: \"expected \\\"a\\\" & <b>\\x01\"\n"
				   "  where: \"COM1 output line 2\"\n"
				   "  cycle: 42\n"
				   "  want: \"x\"\n"
				   "  got: \"y\\x1b[0m\"\n"
				   "  replay: \"cd tests && /bin/vtxsim -kernel 'a b.elf'\"\n"
				   "  debug: \"cd tests && /bin/vtxsim -kernel 'a b.elf' --debug --debug-cmd 'until 42'\"\n"
				   "  ...\n"
				   "ok 3 - skip1 # SKIP exit:77 (skipped)\n";
	CU_ASSERT_STRING_EQUAL(tap, want);
	free(tap);
}

static void test_case_lines_and_table(void)
{
	struct suite_report_case rc[3];
	struct capture c;
	three_cases(rc);
	rc[1].update_note = "updated tests/f.exits";
	cap_open(&c);
	for (int i = 0; i < 3; i++)
		suite_case_write(&rc[i], "/o", c.f);
	suite_table_write(rc, 3, c.f);
	char *text = cap_close(&c);
	static const char want[] =
		"ok pass1\n"
		"FAIL fail1: expected \"a\" & <b>\x01\n"
		"    where: COM1 output line 2, cycle 42\n"
		"    want: x\n"
		"    got: y\x1b[0m\n"
		"    replay: cd tests && /bin/vtxsim -kernel 'a b.elf'\n"
		"    debug:  cd tests && /bin/vtxsim -kernel 'a b.elf' --debug --debug-cmd 'until 42'\n"
		"    outputs: /o/fail1.serial /o/fail1.stderr /o/fail1.result /o/fail1.exits\n"
		"    updated tests/f.exits\n"
		"skip skip1: exit:77 (skipped)\n"
		"case   result   status              cycles       exits  sub-results\n"
		"pass1  ok       1                     1234           7  PASS 3 FAIL 0 SKIP 0\n"
		"fail1  FAIL     3                       99           0  -\n"
		"skip1  skip     155                      0           0  -\n";
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
}

static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* Two results summed: counts add up, reasons/checks/vectors no case reached
 * say "never", and each kind ends with its summary line. */
static void test_coverage(void)
{
	static struct run_result a, b;
	struct suite_coverage *cov = calloc(1, sizeof(*cov));
	CU_ASSERT_PTR_NOT_NULL_FATAL(cov);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.cycles = 100;
	b.cycles = 50;
	a.instructions = 10;
	b.instructions = 5;
	a.exits[EXIT_REASON_CPUID] = 3;
	b.exits[EXIT_REASON_CPUID] = 2;
	b.exits[EXIT_REASON_HLT] = 1;
	b.entry_failure_exits[EXIT_REASON_INVALID_GUEST_STATE] = 1;
	b.entry_failures = 2;
	a.checks[0] = 1;
	b.checks[0] = 1;
	a.vmx_insns[EXIT_REASON_VMXON][RESULT_OK] = 1;
	b.vmx_insns[EXIT_REASON_VMXON][RESULT_OK] = 1;
	b.vmx_insns[EXIT_REASON_VMLAUNCH][RESULT_FAIL_VALID] = 2;
	b.vmx_errors[EXIT_REASON_VMLAUNCH][7] = 2;
	a.vmx_insns[EXIT_REASON_VMLAUNCH][RESULT_ENTERED] = 4;
	a.vectors[14] = 2;
	b.vectors[14] = 1;
	suite_coverage_add(cov, &a);
	suite_coverage_add(cov, &b);
	struct capture c;
	cap_open(&c);
	suite_coverage_write(cov, c.f);
	char *t = cap_close(&c);
	unsigned reasons = 0, errors = 0;
	for (unsigned r = 0; r < RESULT_REASONS; r++)
		reasons += vmx_exit_reason_id(r) != NULL;
	for (unsigned e = 0; e < RESULT_VMX_ERRORS; e++)
		errors += vmx_insn_error_text(e) != NULL;
	char line[256];

	CU_ASSERT_PTR_NOT_NULL(strstr(t, "vtxsim test coverage: 2 cases with a run result\n"
					 "cycles 150, instructions 15, triple faults 0, VMX aborts 0, failed VM entries 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  10  CPUID                        5; 2 cases\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  12  HLT                          1; 1 case\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  33  INVALID_GUEST_STATE          0 + 1 entry failures; 1 case\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  0   EXCEPTION_NMI                never\n"));
	snprintf(line, sizeof(line), "\nexit reasons: 3 of %u exercised\n", reasons);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, line));

	snprintf(line, sizeof(line), "\n  %-40s %-10s 2\n", entry_checks[0].id, entry_checks[0].section);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, line));
	snprintf(line, sizeof(line), "\n  %-40s %-10s never\n", entry_checks[1].id, entry_checks[1].section);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, line));
	snprintf(line, sizeof(line), "\nentry checks: 1 of %d exercised (made to fail)\n", (int)ENTRY_CHECK_COUNT);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, line));

	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  VMXON     ok 2 fail-invalid never fail-valid never\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  VMLAUNCH  entered 4 fail-invalid never fail-valid 2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\nVMX instructions: 2 of 13 executed; 3 of 39 outcomes seen\n"));

	snprintf(line, sizeof(line), "\n  7   %-62s 2 (VMLAUNCH 2)\n", vmx_insn_error_text(7));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, line));
	snprintf(line, sizeof(line), "\nVM-instruction errors: 1 of %u seen\n", errors);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, line));

	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  14  #PF  page fault                               3\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  15  -    reserved                                 never\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\nexception vectors: 1 of 32 delivered\n"));
	/* every row is there: a "never" for each reason, check, instruction
	 * outcome, error and vector no case reached */
	CU_ASSERT_EQUAL(count_lines_with(t, "never"),
			(int)(reasons - 3) + (ENTRY_CHECK_COUNT - 1) + (39 - 3) + (int)(errors - 1) + (32 - 1));
	free(t);
	free(cov);
}

void suite_sim_suite_report(void)
{
	CU_pSuite s = CU_add_suite("sim_suite_report", NULL, NULL);
	CU_add_test(s, "junit: pass, failure with XML-special and control characters, skip", test_junit);
	CU_add_test(s, "junit: a long COM1 output keeps its last 64 KiB", test_junit_truncates);
	CU_add_test(s, "tap: plan, ok, not ok with YAML diagnostics, SKIP", test_tap);
	CU_add_test(s, "case lines and the summary table", test_case_lines_and_table);
	CU_add_test(s, "coverage of two summed results", test_coverage);
}
