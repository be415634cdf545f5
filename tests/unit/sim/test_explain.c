/* The exit-stats table of `vmx stats` and `--exit-summary`
 * (dbg_print_exit_stats, sim/debug_vmx.c; sim/explain.c prints it): one
 * row per reason with exits, shares of the totals, the totals. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/debug_api.h"
#include "vmx/controls.h"

static void test_exit_stats_table(void)
{
	struct dbg_exit_stat s[DBG_REASONS];
	memset(s, 0, sizeof(s));
	s[EXIT_REASON_CPUID] = (struct dbg_exit_stat){ .count = 3, .guest_cycles = 600, .host_cycles = 1500 };
	s[EXIT_REASON_IO_INSTRUCTION] = (struct dbg_exit_stat){ .count = 1, .guest_cycles = 200, .host_cycles = 500 };
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	dbg_print_exit_stats(f, "VM exits", s);
	fclose(f);
	const char *want =
		"VM exits:\n"
		"       count      %   guest cycles      %    host cycles      %  reason\n"
		"           3  75.00            600  75.00           1500  75.00  10 CPUID\n"
		"           1  25.00            200  25.00            500  25.00  30 I/O instruction\n"
		"           4                   800                  2000         total\n";
	CU_ASSERT_STRING_EQUAL(text, want);
	free(text);
}

void suite_sim_explain(void)
{
	CU_pSuite s = CU_add_suite("sim_explain", NULL, NULL);
	CU_add_test(s, "exit stats table", test_exit_stats_table);
}
