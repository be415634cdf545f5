/* sim/debug_inspect.c: the debug API's inspection. Linear memory through
 * the read-only walk (here CR0.PG = 0: the identity; mem_walkview tests
 * the walks), stopping at the first byte that is not memory; writes that
 * land in RAM; device dumps by name; no EPT walk without an EPTP. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "sim/debug_api.h"
#include "sim/machine.h"
#include "tests/unit/test_machine.h"

static struct machine *guest(void)
{
	return test_machine(0x100000, NULL, 0);
}

static void test_linear(void)
{
	struct machine *m = guest();
	struct dbg *d = dbg_create(m);
	struct wv_walk w;
	uint8_t buf[16] = { 0 };
	static const uint8_t pat[4] = { 1, 2, 3, 4 };
	CU_ASSERT_TRUE(dbg_translate(d, 0, 0x1234, &w));
	CU_ASSERT_EQUAL(w.mode, WV_MODE_NONE);
	CU_ASSERT_EQUAL(w.pa, 0x1234);
	CU_ASSERT_EQUAL(dbg_write_linear(d, 0, 0x2000, pat, 4, NULL), 4);
	CU_ASSERT_EQUAL(dbg_read_linear(d, 0, 0x2000, buf, 4, NULL), 4);
	CU_ASSERT_EQUAL(memcmp(buf, pat, 4), 0);
	/* The last 4 bytes of RAM, then nothing: 4 copied, the walk of the
	 * first byte beyond says where. */
	uint64_t end = m->phys.ram_size;
	CU_ASSERT_EQUAL(dbg_read_linear(d, 0, end - 4, buf, 8, &w), 4);
	CU_ASSERT_EQUAL(w.stop, WV_NOT_MEMORY);
	CU_ASSERT_EQUAL(w.pa, end);
	CU_ASSERT_EQUAL(dbg_read_linear(d, 0, 0xfee00000, buf, 4, NULL), 0);   /* the xAPIC page: not read */
	CU_ASSERT_FALSE(dbg_translate(d, 7, 0, &w));                           /* no such vCPU */
	dbg_destroy(d);
	machine_destroy(m);
}

static void test_devices_and_ept(void)
{
	struct machine *m = guest();
	struct dbg *d = dbg_create(m);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_TRUE(dbg_dump_devices(d, f, "pic"));
	CU_ASSERT_FALSE(dbg_dump_devices(d, f, "nosuch"));
	CU_ASSERT_TRUE(dbg_dump_lapic(d, 0, f));
	CU_ASSERT_FALSE(dbg_dump_lapic(d, 5, f));
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "pic"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "lapic 0"));
	free(text);
	CU_ASSERT_STRING_EQUAL(dbg_device_name(0), "uart");
	CU_ASSERT_PTR_NULL(dbg_device_name(1000));
	struct wv_ept e;
	uint64_t used = 1;
	CU_ASSERT_FALSE(dbg_ept_walk(d, 0, 0x1000, 0, &e, &used));            /* root, no VMCS */
	CU_ASSERT_EQUAL(used, 0);
	dbg_destroy(d);
	machine_destroy(m);
}

void suite_sim_debug_inspect(void)
{
	CU_pSuite s = CU_add_suite("sim_debug_inspect", NULL, NULL);
	CU_add_test(s, "linear memory through the read-only walk", test_linear);
	CU_add_test(s, "device dumps by name; EPT walk needs an EPTP", test_devices_and_ept);
}
