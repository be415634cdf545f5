/* debugger/expr.c: precedence and associativity as C has them, unsigned
 * arithmetic, names through the callback, and one error line for each
 * kind of bad expression (never a crash). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "debugger/expr.h"

/* rax = 5, $qual = 0x1f, fib = 0x100110; everything else is unknown. */
static bool names(void *ctx, const char *name, uint64_t *v)
{
	(void)ctx;
	if (!strcmp(name, "rax"))
		*v = 5;
	else if (!strcmp(name, "$qual"))
		*v = 0x1f;
	else if (!strcmp(name, "fib"))
		*v = 0x100110;
	else
		return false;
	return true;
}

static uint64_t ev(const char *s)
{
	uint64_t v = 0xdead;
	char err[128];
	CU_ASSERT_EQUAL(expr_eval(s, names, NULL, &v, err, sizeof(err)), 0);
	return v;
}

static void bad(const char *s, const char *want)
{
	uint64_t v;
	char err[128];
	CU_ASSERT_EQUAL(expr_eval(s, names, NULL, &v, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void test_precedence(void)
{
	CU_ASSERT_EQUAL(ev("1 + 2 * 3"), 7);
	CU_ASSERT_EQUAL(ev("(1 + 2) * 3"), 9);
	CU_ASSERT_EQUAL(ev("10 - 4 - 3"), 3);           /* left associative */
	CU_ASSERT_EQUAL(ev("100 / 10 / 5"), 2);
	CU_ASSERT_EQUAL(ev("17 % 5"), 2);
	CU_ASSERT_EQUAL(ev("1 << 4 + 1"), 32);          /* + binds tighter than << */
	CU_ASSERT_EQUAL(ev("0x100 >> 4"), 0x10);
	CU_ASSERT_EQUAL(ev("1 | 2 ^ 3 & 6"), 1 | (2 ^ (3 & 6)));
	CU_ASSERT_EQUAL(ev("3 < 4 == 1"), 1);           /* relational before equality */
	CU_ASSERT_EQUAL(ev("1 || 0 && 0"), 1);          /* && before || */
	CU_ASSERT_EQUAL(ev("4 <= 4"), 1);
	CU_ASSERT_EQUAL(ev("4 >= 5"), 0);
	CU_ASSERT_EQUAL(ev("4 != 5"), 1);
	CU_ASSERT_EQUAL(ev("1 << 64"), 0);              /* shifts past the width give 0 */
}

static void test_unary(void)
{
	CU_ASSERT_EQUAL(ev("!0"), 1);
	CU_ASSERT_EQUAL(ev("!7"), 0);
	CU_ASSERT_EQUAL(ev("~0"), UINT64_MAX);
	CU_ASSERT_EQUAL(ev("-1"), UINT64_MAX);          /* unsigned 64-bit */
	CU_ASSERT_EQUAL(ev("- -3"), 3);
	CU_ASSERT_EQUAL(ev("+3"), 3);
	CU_ASSERT_EQUAL(ev("-1 > 0"), 1);               /* comparisons are unsigned */
}

static void test_names(void)
{
	CU_ASSERT_EQUAL(ev("rax == 5 && $qual == 0x1f"), 1);
	CU_ASSERT_EQUAL(ev("fib + 4"), 0x100114);
	CU_ASSERT_EQUAL(ev("$qual & 7"), 7);
	CU_ASSERT_EQUAL(ev("0 && rax"), 0);
	CU_ASSERT_EQUAL(ev("  rax  "), 5);
}

static void test_errors(void)
{
	bad("", "ends too early");
	bad("1 +", "ends too early");
	bad("(1", "missing ')'");
	bad("1)", "unexpected ')'");
	bad("nosuch == 1", "unknown name 'nosuch'");
	bad("0 && nosuch", "unknown name");             /* both sides are checked */
	bad("1 / 0", "division by zero");
	bad("1 % 0", "division by zero");
	bad("1 = 2", "unexpected");
	bad("0x1g", "bad number");
	bad("@", "unexpected '@'");
	bad("1 2", "after the expression");
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	bad(longname, "unknown name");                  /* truncated safely */
	uint64_t v;
	CU_ASSERT_EQUAL(expr_eval("x", NULL, NULL, &v, NULL, 0), -1);   /* no names, no error buffer */
}

void suite_debugger_expr(void)
{
	CU_pSuite s = CU_add_suite("debugger_expr", NULL, NULL);
	CU_add_test(s, "precedence", test_precedence);
	CU_add_test(s, "unary", test_unary);
	CU_add_test(s, "names", test_names);
	CU_add_test(s, "errors", test_errors);
}
