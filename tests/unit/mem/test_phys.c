/* mem/phys.c: RAM, ROM, MMIO and unmapped accesses, code-page hook, copies. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "mem/phys.h"

#define RAM_SIZE (64 * PAGE_SIZE)

/* An MMIO device that records its last access and answers reads with a
 * value derived from the offset, so a test sees which offset arrived. */
struct rec_dev {
	uint64_t last_off, last_val;
	unsigned last_size;
	int reads, writes;
};

static uint64_t rec_read(void *opaque, uint64_t offset, unsigned size)
{
	struct rec_dev *d = opaque;
	d->reads++;
	d->last_off = offset;
	d->last_size = size;
	return 0xa0a0a0a0a0a0a000ull | offset;
}

static void rec_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct rec_dev *d = opaque;
	d->writes++;
	d->last_off = offset;
	d->last_val = value;
	d->last_size = size;
}

static const struct io_ops rec_ops = { .read = rec_read, .write = rec_write };

/* Records code-write hook calls; clears the mark as the real hook does. */
struct code_log {
	struct phys_map *pm;
	uint64_t pages[8];
	int n;
};

static void code_hook(void *opaque, uint64_t pn)
{
	struct code_log *log = opaque;
	if (log->n < 8)
		log->pages[log->n] = pn;
	log->n++;
	log->pm->code_page[pn] = 0;
}

static void test_init_rejects_bad_sizes(void)
{
	struct phys_map pm;
	CU_ASSERT_EQUAL(phys_init(&pm, 0), -1);
	CU_ASSERT_EQUAL(phys_init(&pm, PAGE_SIZE + 1), -1);
	CU_ASSERT_EQUAL(phys_init(&pm, 2 * PAGE_SIZE), 0);
	CU_ASSERT_EQUAL(pm.ram_size, 2 * PAGE_SIZE);
	CU_ASSERT_EQUAL(pm.ram[2 * PAGE_SIZE - 1], 0);
	phys_destroy(&pm);
}

static void test_ram_all_sizes_le(void)
{
	struct phys_map pm;
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	phys_write(&pm, 0x1000, 0x1122334455667788ull, 8);
	CU_ASSERT_EQUAL(pm.ram[0x1000], 0x88);
	CU_ASSERT_EQUAL(pm.ram[0x1007], 0x11);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x1000, 8), 0x1122334455667788ull);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x1000, 4), 0x55667788u);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x1002, 2), 0x5566u);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x1007, 1), 0x11u);
	phys_write(&pm, 0x1001, 0xabcd, 2);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x1000, 4), 0x55abcd88u);
	phys_write(&pm, 0x1004, 0xdeadbeef, 4);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x1000, 8), 0xdeadbeef55abcd88ull);
	phys_write(&pm, 0x1000, 0x1ff, 1);   /* only the low byte is stored */
	CU_ASSERT_EQUAL(phys_read(&pm, 0x1000, 2), 0xcdffu);
	phys_destroy(&pm);
}

static void test_ram_straddles_page(void)
{
	struct phys_map pm;
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	phys_write(&pm, 0x1ffd, 0x0102030405060708ull, 8);
	CU_ASSERT_EQUAL(pm.ram[0x1ffd], 0x08);
	CU_ASSERT_EQUAL(pm.ram[0x1fff], 0x06);
	CU_ASSERT_EQUAL(pm.ram[0x2000], 0x05);
	CU_ASSERT_EQUAL(pm.ram[0x2004], 0x01);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x1ffd, 8), 0x0102030405060708ull);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x1fff, 2), 0x0506u);
	phys_destroy(&pm);
}

static void test_rom_read_only(void)
{
	struct phys_map pm;
	const uint8_t img[8] = { 0xea, 0x5b, 0xe0, 0x00, 0xf0, 0x30, 0x31, 0x32 };
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	CU_ASSERT_EQUAL(phys_add_rom(&pm, 0xfffff000, PAGE_SIZE, NULL, "bios"), 0);
	CU_ASSERT_EQUAL(phys_copy_in(&pm, 0xfffffff0, img, sizeof(img)), 0);
	CU_ASSERT_EQUAL(phys_read(&pm, 0xfffffff0, 4), 0x00e05beau);
	phys_write(&pm, 0xfffffff0, 0x11111111, 4);
	phys_write(&pm, 0xfffffff4, 0x22, 1);
	CU_ASSERT_EQUAL(phys_read(&pm, 0xfffffff0, 8), 0x323130f000e05beaull);
	uint8_t out[8];
	CU_ASSERT_EQUAL(phys_copy_out(&pm, 0xfffffff0, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(memcmp(out, img, sizeof(img)), 0);
	phys_destroy(&pm);
}

static void test_rom_initial_contents(void)
{
	struct phys_map pm;
	uint8_t img[PAGE_SIZE];
	for (unsigned i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7);
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	CU_ASSERT_EQUAL(phys_add_rom(&pm, 0x10000, PAGE_SIZE, img, "opt"), 0);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x10003, 1), 21u);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x10ffe, 2), (uint64_t)img[0xffe] | (uint64_t)img[0xfff] << 8);
	phys_destroy(&pm);
}

static void test_mmio_dispatch(void)
{
	struct phys_map pm;
	struct rec_dev d = { 0 };
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0xfee00000, PAGE_SIZE, &rec_ops, &d, "lapic"), 0);
	CU_ASSERT_EQUAL(phys_read(&pm, 0xfee00020, 4), 0xa0a0a020u);   /* truncated to 4 bytes */
	CU_ASSERT_EQUAL(d.last_off, 0x20);
	CU_ASSERT_EQUAL(d.last_size, 4);
	CU_ASSERT_EQUAL(phys_read(&pm, 0xfee00300, 8), 0xa0a0a0a0a0a0a300ull);
	CU_ASSERT_EQUAL(d.last_size, 8);
	phys_write(&pm, 0xfee000b0, 0x1234, 2);
	CU_ASSERT_EQUAL(d.writes, 1);
	CU_ASSERT_EQUAL(d.last_off, 0xb0);
	CU_ASSERT_EQUAL(d.last_val, 0x1234);
	CU_ASSERT_EQUAL(d.last_size, 2);
	/* MMIO over RAM hides the RAM beneath. */
	struct rec_dev d2 = { 0 };
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x3000, PAGE_SIZE, &rec_ops, &d2, "low"), 0);
	pm.ram[0x3010] = 0x55;
	CU_ASSERT_EQUAL(phys_read(&pm, 0x3010, 1), 0x10u);
	phys_write(&pm, 0x3010, 0x77, 1);
	CU_ASSERT_EQUAL(pm.ram[0x3010], 0x55);
	CU_ASSERT_EQUAL(d2.last_val, 0x77);
	phys_destroy(&pm);
}

static void test_mmio_straddling_region_end_splits(void)
{
	struct phys_map pm;
	struct rec_dev d = { 0 };
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x8000, 0x10, &rec_ops, &d, "dev"), 0);
	pm.ram[0x8010] = 0x99;
	pm.ram[0x8011] = 0x88;
	/* Bytes 0xe, 0xf from the device (offset in the low byte of the
	 * answer), then two RAM bytes. */
	CU_ASSERT_EQUAL(phys_read(&pm, 0x800e, 4), 0x88990f0eu);
	CU_ASSERT_EQUAL(d.reads, 2);
	CU_ASSERT_EQUAL(d.last_size, 1);
	phys_write(&pm, 0x800f, 0x44332211, 4);
	CU_ASSERT_EQUAL(d.writes, 1);
	CU_ASSERT_EQUAL(d.last_off, 0xf);
	CU_ASSERT_EQUAL(d.last_val, 0x11);
	CU_ASSERT_EQUAL(pm.ram[0x8010], 0x22);
	CU_ASSERT_EQUAL(pm.ram[0x8012], 0x44);
	phys_destroy(&pm);
}

static void test_unmapped_and_beyond_ram(void)
{
	struct phys_map pm;
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	CU_ASSERT_EQUAL(phys_read(&pm, RAM_SIZE, 1), 0xffu);
	CU_ASSERT_EQUAL(phys_read(&pm, RAM_SIZE + 0x100, 2), 0xffffu);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x123456789000ull, 4), 0xffffffffu);
	CU_ASSERT_EQUAL(phys_read(&pm, 0x123456789000ull, 8), ~0ull);
	phys_write(&pm, RAM_SIZE, 0x12, 1);   /* dropped, must not crash */
	CU_ASSERT_EQUAL(phys_read(&pm, RAM_SIZE, 1), 0xffu);
	/* Straddling the end of RAM: low bytes from RAM, the rest all-ones;
	 * the in-RAM bytes of a write land, the rest are dropped. */
	phys_write(&pm, RAM_SIZE - 2, 0x66554433, 4);
	CU_ASSERT_EQUAL(pm.ram[RAM_SIZE - 2], 0x33);
	CU_ASSERT_EQUAL(pm.ram[RAM_SIZE - 1], 0x44);
	CU_ASSERT_EQUAL(phys_read(&pm, RAM_SIZE - 2, 4), 0xffff4433u);
	/* The top of the address space does not wrap to RAM at 0. */
	pm.ram[0] = 0x12;
	CU_ASSERT_EQUAL(phys_read(&pm, ~0ull - 1, 4), 0xffffffffu);
	phys_write(&pm, ~0ull, 0x3456, 2);
	CU_ASSERT_EQUAL(pm.ram[0], 0x12);
	phys_destroy(&pm);
}

static void test_code_page_hook(void)
{
	struct phys_map pm;
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	struct code_log log = { .pm = &pm };
	pm.on_code_write = code_hook;
	pm.code_write_opaque = &log;
	pm.code_page[5] = 1;
	phys_write(&pm, 0x4ff0, 1, 4);         /* page 4: not code */
	CU_ASSERT_EQUAL(log.n, 0);
	phys_write(&pm, 0x5123, 0xc3, 1);
	CU_ASSERT_EQUAL(log.n, 1);
	CU_ASSERT_EQUAL(log.pages[0], 5);
	CU_ASSERT_EQUAL(pm.ram[0x5123], 0xc3);
	CU_ASSERT_FALSE(phys_is_code_page(&pm, 0x5000));
	/* An access straddling into a marked page reports that page. */
	pm.code_page[7] = 1;
	phys_write(&pm, 0x6ffe, 0x90909090, 4);
	CU_ASSERT_EQUAL(log.n, 2);
	CU_ASSERT_EQUAL(log.pages[1], 7);
	/* Loader copies and fills also invalidate. */
	pm.code_page[9] = 1;
	uint8_t buf[16] = { 0 };
	CU_ASSERT_EQUAL(phys_copy_in(&pm, 0x8ff8, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(log.n, 3);
	CU_ASSERT_EQUAL(log.pages[2], 9);
	pm.code_page[10] = 1;
	CU_ASSERT_EQUAL(phys_fill(&pm, 0xa000, 0xcc, 1), 0);
	CU_ASSERT_EQUAL(log.n, 4);
	CU_ASSERT_EQUAL(log.pages[3], 10);
	phys_destroy(&pm);
}

static void test_copy_bounds(void)
{
	struct phys_map pm;
	struct rec_dev d = { 0 };
	uint8_t buf[32];
	memset(buf, 0x5a, sizeof(buf));
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	CU_ASSERT_EQUAL(phys_copy_in(&pm, RAM_SIZE - 16, buf, 32), -1);
	CU_ASSERT_EQUAL(pm.ram[RAM_SIZE - 16], 0);   /* nothing written on failure */
	CU_ASSERT_EQUAL(phys_copy_in(&pm, RAM_SIZE - 32, buf, 32), 0);
	CU_ASSERT_EQUAL(pm.ram[RAM_SIZE - 1], 0x5a);
	CU_ASSERT_EQUAL(phys_copy_out(&pm, RAM_SIZE - 8, buf, 16), -1);
	CU_ASSERT_EQUAL(phys_fill(&pm, RAM_SIZE, 0, 1), -1);
	CU_ASSERT_EQUAL(phys_copy_in(&pm, ~0ull - 3, buf, 8), -1);
	CU_ASSERT_EQUAL(phys_copy_in(&pm, 0, buf, 0), 0);
	/* A copy running off the top of the address space does not wrap into
	 * RAM at 0, even from a ROM that ends exactly at 2^64. */
	CU_ASSERT_EQUAL(phys_add_rom(&pm, ~0ull - 0xfff, PAGE_SIZE, NULL, "top"), 0);
	CU_ASSERT_EQUAL(phys_copy_in(&pm, ~0ull - 3, buf, 8), -1);
	CU_ASSERT_EQUAL(phys_copy_in(&pm, ~0ull - 3, buf, 4), 0);
	CU_ASSERT_EQUAL(pm.ram[0], 0);
	/* MMIO in the middle of RAM is not copyable and sees no access. */
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x2000, PAGE_SIZE, &rec_ops, &d, "hole"), 0);
	CU_ASSERT_EQUAL(phys_copy_in(&pm, 0x1ff0, buf, 32), -1);
	CU_ASSERT_EQUAL(phys_copy_out(&pm, 0x2ff0, buf, 32), -1);
	CU_ASSERT_EQUAL(phys_fill(&pm, 0x1000, 0xee, 0x1000), 0);
	CU_ASSERT_EQUAL(pm.ram[0x1fff], 0xee);
	CU_ASSERT_EQUAL(d.reads + d.writes, 0);
	phys_destroy(&pm);
}

static void test_copy_across_ram_and_rom(void)
{
	struct phys_map pm;
	uint8_t in[32], out[32];
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(0x40 + i);
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	CU_ASSERT_EQUAL(phys_add_rom(&pm, 0x3000, PAGE_SIZE, NULL, "rom"), 0);
	CU_ASSERT_EQUAL(phys_copy_in(&pm, 0x2ff0, in, sizeof(in)), 0);
	CU_ASSERT_EQUAL(pm.ram[0x2fff], 0x4f);
	CU_ASSERT_EQUAL(pm.ram[0x3000], 0);          /* hidden RAM untouched */
	CU_ASSERT_EQUAL(phys_read(&pm, 0x3000, 1), 0x50u);
	CU_ASSERT_EQUAL(phys_copy_out(&pm, 0x2ff0, out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(memcmp(in, out, sizeof(in)), 0);
	phys_destroy(&pm);
}

static void test_region_overlap_and_generation(void)
{
	struct phys_map pm;
	struct rec_dev d = { 0 };
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	uint64_t g0 = pm.generation;
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x10000, 0x2000, &rec_ops, &d, "a"), 0);
	CU_ASSERT_EQUAL(pm.generation, g0 + 1);
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x11000, 0x1000, &rec_ops, &d, "inside"), -1);
	CU_ASSERT_EQUAL(phys_add_rom(&pm, 0xf000, 0x1001, NULL, "tail"), -1);
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x11fff, 0x10, &rec_ops, &d, "head"), -1);
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x8000, 0x20000, &rec_ops, &d, "around"), -1);
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x5000, 0, &rec_ops, &d, "empty"), -1);
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, ~0ull - 0xfff, 0x2000, &rec_ops, &d, "wrap"), -1);
	CU_ASSERT_EQUAL(pm.generation, g0 + 1);
	CU_ASSERT_EQUAL(phys_add_rom(&pm, 0xf000, 0x1000, NULL, "adjacent"), 0);
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x12000, 0x1000, &rec_ops, &d, "adjacent2"), 0);
	CU_ASSERT_EQUAL(pm.generation, g0 + 3);
	CU_ASSERT_EQUAL(pm.nregions, 3);
	const struct phys_region *r = phys_find_region(&pm, 0x11fff);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_STRING_EQUAL(r->name, "a");
	CU_ASSERT_PTR_NULL(phys_find_region(&pm, 0x13000));
	phys_destroy(&pm);
}

static void test_region_table_full(void)
{
	struct phys_map pm;
	struct rec_dev d = { 0 };
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	for (int i = 0; i < PHYS_MAX_REGIONS; i++)
		CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x100000 + i * 0x1000ull, 0x1000, &rec_ops, &d, "m"), 0);
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x900000, 0x1000, &rec_ops, &d, "one too many"), -1);
	phys_destroy(&pm);
}

static void test_ram_page(void)
{
	struct phys_map pm;
	struct rec_dev d = { 0 };
	CU_ASSERT_FATAL(phys_init(&pm, RAM_SIZE) == 0);
	CU_ASSERT_PTR_EQUAL(phys_ram_page(&pm, 0x1234), pm.ram + 0x1000);
	CU_ASSERT_PTR_EQUAL(phys_ram_page(&pm, RAM_SIZE - 1), pm.ram + RAM_SIZE - PAGE_SIZE);
	CU_ASSERT_PTR_NULL(phys_ram_page(&pm, RAM_SIZE));
	/* A small MMIO region anywhere in the page disqualifies the page. */
	CU_ASSERT_EQUAL(phys_add_mmio(&pm, 0x5ff0, 0x10, &rec_ops, &d, "small"), 0);
	CU_ASSERT_PTR_NULL(phys_ram_page(&pm, 0x5000));
	CU_ASSERT_PTR_EQUAL(phys_ram_page(&pm, 0x6000), pm.ram + 0x6000);
	CU_ASSERT_EQUAL(phys_add_rom(&pm, 0x7000, PAGE_SIZE, NULL, "rom"), 0);
	CU_ASSERT_PTR_NULL(phys_ram_page(&pm, 0x7800));
	phys_destroy(&pm);
}

void suite_mem_phys(void)
{
	CU_pSuite s = CU_add_suite("mem_phys", NULL, NULL);
	CU_add_test(s, "init rejects bad sizes", test_init_rejects_bad_sizes);
	CU_add_test(s, "RAM all sizes little-endian", test_ram_all_sizes_le);
	CU_add_test(s, "RAM access straddling a page", test_ram_straddles_page);
	CU_add_test(s, "ROM is read-only", test_rom_read_only);
	CU_add_test(s, "ROM initial contents", test_rom_initial_contents);
	CU_add_test(s, "MMIO dispatch with offsets and sizes", test_mmio_dispatch);
	CU_add_test(s, "MMIO straddling region end splits", test_mmio_straddling_region_end_splits);
	CU_add_test(s, "unmapped and beyond RAM", test_unmapped_and_beyond_ram);
	CU_add_test(s, "code-page hook", test_code_page_hook);
	CU_add_test(s, "copy bounds", test_copy_bounds);
	CU_add_test(s, "copy across RAM and ROM", test_copy_across_ram_and_rom);
	CU_add_test(s, "region overlap and generation", test_region_overlap_and_generation);
	CU_add_test(s, "region table full", test_region_table_full);
	CU_add_test(s, "phys_ram_page", test_ram_page);
}
