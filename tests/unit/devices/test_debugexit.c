/* devices/debugexit.c: values and access sizes reach the power sink. */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "devices/debugexit.h"

struct sink_log {
	int calls;
	enum power_event ev;
	uint32_t value;
};

static void sink_fn(void *opaque, enum power_event ev, uint32_t value)
{
	struct sink_log *l = opaque;
	l->calls++;
	l->ev = ev;
	l->value = value;
}

struct rig {
	struct pio_bus *bus;
	struct debugexit *d;
	struct sink_log log;
};

static void rig_init(struct rig *r, uint16_t port)
{
	r->log = (struct sink_log){ 0 };
	r->bus = malloc(sizeof(*r->bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->bus);
	pio_init(r->bus);
	struct power_sink sink = { .fn = sink_fn, .opaque = &r->log };
	r->d = debugexit_create(r->bus, port, &sink);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->d);
}

static void rig_fini(struct rig *r)
{
	debugexit_destroy(r->d);
	free(r->bus);
}

static void test_byte_write(void)
{
	struct rig r;
	rig_init(&r, DEBUGEXIT_DEFAULT_PORT);
	pio_write(r.bus, 0xf4, 0x10, 1);
	CU_ASSERT_EQUAL(r.log.calls, 1);
	CU_ASSERT_EQUAL(r.log.ev, POWER_DEBUG_EXIT);
	CU_ASSERT_EQUAL(r.log.value, 0x10);
	rig_fini(&r);
}

static void test_wide_writes_keep_full_value(void)
{
	struct rig r;
	rig_init(&r, DEBUGEXIT_DEFAULT_PORT);
	pio_write(r.bus, 0xf4, 0x1234, 2);
	CU_ASSERT_EQUAL(r.log.calls, 1);
	CU_ASSERT_EQUAL(r.log.value, 0x1234);
	pio_write(r.bus, 0xf4, 0x89abcdef, 4);
	CU_ASSERT_EQUAL(r.log.calls, 2);
	CU_ASSERT_EQUAL(r.log.value, 0x89abcdef);
	rig_fini(&r);
}

static void test_other_port_and_reads(void)
{
	struct rig r;
	rig_init(&r, 0x501);
	pio_write(r.bus, 0xf4, 1, 1);               /* nothing there now */
	CU_ASSERT_EQUAL(r.log.calls, 0);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x501, 1), 0xffu);
	CU_ASSERT_EQUAL(pio_read(r.bus, 0x501, 4), 0xffffffffu);
	CU_ASSERT_EQUAL(r.log.calls, 0);            /* reads do not exit */
	pio_write(r.bus, 0x501, 3, 1);
	CU_ASSERT_EQUAL(r.log.calls, 1);
	CU_ASSERT_EQUAL(r.log.value, 3);
	CU_ASSERT_PTR_NULL(debugexit_create(r.bus, 0x4ff, NULL));   /* overlaps */
	rig_fini(&r);
}

void suite_dev_debugexit(void)
{
	CU_pSuite s = CU_add_suite("dev_debugexit", NULL, NULL);
	CU_add_test(s, "byte write reaches the sink", test_byte_write);
	CU_add_test(s, "16- and 32-bit writes keep the full value", test_wide_writes_keep_full_value);
	CU_add_test(s, "other port, reads", test_other_port_and_reads);
}
