/* The CUnit runner: registers every suite listed in suites.def, runs them,
 * and ends with "unit: N passed, M failed" (counted in tests, not asserts). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#define SUITE(name) void suite_##name(void);
#include "tests/unit/suites.def"
#undef SUITE

int main(int argc, char **argv)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
#define SUITE(name) suite_##name();
#include "tests/unit/suites.def"
#undef SUITE
	CU_basic_set_mode(argc > 1 && strcmp(argv[1], "-v") == 0 ? CU_BRM_VERBOSE : CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned run = CU_get_number_of_tests_run();
	unsigned failed = CU_get_number_of_tests_failed();
	unsigned errors = CU_get_error() != CUE_SUCCESS;
	printf("\nunit: %u passed, %u failed\n", run - failed, failed + errors);
	CU_cleanup_registry();
	return failed || errors ? 1 : 0;
}
