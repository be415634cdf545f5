/* devices/fwcfg.c: signature, fixed items, reading past the end, and the
 * big-endian file directory. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "devices/fwcfg.h"

struct rig {
	struct pio_bus *bus;
	struct fwcfg *f;
};

static void rig_init(struct rig *r)
{
	r->bus = malloc(sizeof(*r->bus));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->bus);
	pio_init(r->bus);
	r->f = fwcfg_create(r->bus, 0x80000000ull + 0x1000, 2, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->f);
}

static void rig_fini(struct rig *r)
{
	fwcfg_destroy(r->f);
	free(r->bus);
}

static void select_item(struct rig *r, uint16_t key)
{
	pio_write(r->bus, FWCFG_PORT_SELECTOR, key, 2);
}

static void read_data(struct rig *r, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)pio_read(r->bus, FWCFG_PORT_DATA, 1);
}

static uint64_t read_le(struct rig *r, unsigned n)
{
	uint8_t b[8];
	read_data(r, b, n);
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_signature_and_id(void)
{
	struct rig r;
	rig_init(&r);
	char sig[5] = { 0 };
	select_item(&r, FW_CFG_SIGNATURE);
	read_data(&r, (uint8_t *)sig, 4);
	CU_ASSERT_STRING_EQUAL(sig, "QEMU");
	/* Reselecting resets the offset. */
	select_item(&r, FW_CFG_SIGNATURE);
	CU_ASSERT_EQUAL(pio_read(r.bus, FWCFG_PORT_DATA, 1), 'Q');
	select_item(&r, FW_CFG_ID);
	CU_ASSERT_EQUAL(read_le(&r, 4), FW_CFG_ID_TRADITIONAL);
	rig_fini(&r);
}

static void test_ram_size_and_cpus(void)
{
	struct rig r;
	rig_init(&r);
	select_item(&r, FW_CFG_RAM_SIZE);
	CU_ASSERT_EQUAL(read_le(&r, 8), 0x80001000ull);
	select_item(&r, FW_CFG_NB_CPUS);
	CU_ASSERT_EQUAL(read_le(&r, 2), 2);
	select_item(&r, FW_CFG_MAX_CPUS);
	CU_ASSERT_EQUAL(read_le(&r, 2), 8);
	rig_fini(&r);
}

static void test_past_end_and_unknown(void)
{
	struct rig r;
	rig_init(&r);
	select_item(&r, FW_CFG_NB_CPUS);
	CU_ASSERT_EQUAL(read_le(&r, 2), 2);
	CU_ASSERT_EQUAL(read_le(&r, 4), 0);        /* past the end: zeros */
	select_item(&r, 0x0123);                   /* no such item */
	CU_ASSERT_EQUAL(read_le(&r, 4), 0);
	/* Data writes are ignored; bit 14 (write mode) still reads the item. */
	pio_write(r.bus, FWCFG_PORT_DATA, 0x55, 1);
	select_item(&r, FW_CFG_WRITE_CHANNEL | FW_CFG_SIGNATURE);
	pio_write(r.bus, FWCFG_PORT_DATA, 'X', 1);
	CU_ASSERT_EQUAL(pio_read(r.bus, FWCFG_PORT_DATA, 1), 'Q');
	/* The selector itself is write-only, and a byte write does not select. */
	CU_ASSERT_EQUAL(pio_read(r.bus, FWCFG_PORT_SELECTOR, 1), 0xffu);
	pio_write(r.bus, FWCFG_PORT_SELECTOR, FW_CFG_NB_CPUS, 1);
	CU_ASSERT_EQUAL(pio_read(r.bus, FWCFG_PORT_DATA, 1), 'E');
	rig_fini(&r);
}

static void test_empty_file_dir(void)
{
	struct rig r;
	rig_init(&r);
	uint8_t b[8];
	select_item(&r, FW_CFG_FILE_DIR);
	read_data(&r, b, 8);
	CU_ASSERT_EQUAL(be32(b), 0);
	CU_ASSERT_EQUAL(be32(b + 4), 0);           /* nothing after the count */
	rig_fini(&r);
}

static void test_file_dir_big_endian(void)
{
	struct rig r;
	rig_init(&r);
	static const uint8_t blob[300] = { 7, 8, 9 };
	CU_ASSERT_EQUAL(fwcfg_add_file(r.f, "etc/first", "abc", 3), FW_CFG_FILE_FIRST);
	CU_ASSERT_EQUAL(fwcfg_add_file(r.f, "opt/org.example/blob", blob, sizeof(blob)), FW_CFG_FILE_FIRST + 1);
	CU_ASSERT_EQUAL(fwcfg_add_file(r.f, "etc/first", "x", 1), -1);   /* duplicate */
	char long_name[60];
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[59] = 0;
	CU_ASSERT_EQUAL(fwcfg_add_file(r.f, long_name, "x", 1), -1);
	CU_ASSERT_EQUAL(fwcfg_add_file(r.f, "", "x", 1), -1);

	uint8_t dir[4 + 2 * FWCFG_FILE_ENTRY_SIZE];
	select_item(&r, FW_CFG_FILE_DIR);
	read_data(&r, dir, sizeof(dir));
	CU_ASSERT_EQUAL(be32(dir), 2);
	const uint8_t *e0 = dir + 4, *e1 = dir + 4 + FWCFG_FILE_ENTRY_SIZE;
	CU_ASSERT_EQUAL(be32(e0), 3);
	CU_ASSERT_EQUAL(e0[4], 0x00);
	CU_ASSERT_EQUAL(e0[5], 0x20);
	CU_ASSERT_EQUAL(e0[6] | e0[7], 0);
	CU_ASSERT_STRING_EQUAL((const char *)e0 + 8, "etc/first");
	CU_ASSERT_EQUAL(e0[8 + 55], 0);
	CU_ASSERT_EQUAL(be32(e1), 300);
	CU_ASSERT_EQUAL(e1[4], 0x00);
	CU_ASSERT_EQUAL(e1[5], 0x21);
	CU_ASSERT_STRING_EQUAL((const char *)e1 + 8, "opt/org.example/blob");
	CU_ASSERT_EQUAL(pio_read(r.bus, FWCFG_PORT_DATA, 1), 0);   /* directory ends */

	select_item(&r, 0x21);
	CU_ASSERT_EQUAL(read_le(&r, 3), 0x090807);
	select_item(&r, 0x20);
	CU_ASSERT_EQUAL(read_le(&r, 4), 0x636261);
	rig_fini(&r);
}

static void test_add_bytes(void)
{
	struct rig r;
	rig_init(&r);
	CU_ASSERT_EQUAL(fwcfg_add_bytes(r.f, FW_CFG_NB_CPUS, "\x04\x00", 2), 0);   /* replace */
	select_item(&r, FW_CFG_NB_CPUS);
	CU_ASSERT_EQUAL(read_le(&r, 2), 4);
	CU_ASSERT_EQUAL(fwcfg_add_bytes(r.f, 0x8003, "e820", 4), 0);
	select_item(&r, 0x8003);
	CU_ASSERT_EQUAL(read_le(&r, 4), 0x30323865);
	CU_ASSERT_EQUAL(fwcfg_add_bytes(r.f, FW_CFG_FILE_DIR, "x", 1), -1);
	CU_ASSERT_EQUAL(fwcfg_add_bytes(r.f, FW_CFG_FILE_FIRST, "x", 1), -1);
	CU_ASSERT_EQUAL(fwcfg_add_bytes(r.f, FW_CFG_WRITE_CHANNEL | 1, "x", 1), -1);
	rig_fini(&r);
}

void suite_dev_fwcfg(void)
{
	CU_pSuite s = CU_add_suite("dev_fwcfg", NULL, NULL);
	CU_add_test(s, "signature and id", test_signature_and_id);
	CU_add_test(s, "RAM size and CPU counts", test_ram_size_and_cpus);
	CU_add_test(s, "past the end, unknown items, writes", test_past_end_and_unknown);
	CU_add_test(s, "empty file directory", test_empty_file_dir);
	CU_add_test(s, "file directory is big-endian", test_file_dir_big_endian);
	CU_add_test(s, "fixed items", test_add_bytes);
}
