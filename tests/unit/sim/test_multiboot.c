/* sim/multiboot.c: synthetic kernel images built in memory, loaded into a
 * real physical map, and the RAM read back. */
#include <CUnit/CUnit.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mem/phys.h"
#include "sim/multiboot.h"

#define RAM_SIZE (16ull << 20)
#define IMG_SIZE 0x3000u

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t ram32(struct phys_map *pm, uint64_t pa)
{
	uint32_t v = 0;
	CU_ASSERT_EQUAL_FATAL(phys_copy_out(pm, pa, &v, 4), 0);
	return v;
}

static uint64_t ram64(struct phys_map *pm, uint64_t pa)
{
	uint64_t v = 0;
	CU_ASSERT_EQUAL_FATAL(phys_copy_out(pm, pa, &v, 8), 0);
	return v;
}

static const char *ram_str(struct phys_map *pm, uint64_t pa, char *buf, size_t n)
{
	CU_ASSERT_EQUAL_FATAL(phys_copy_out(pm, pa, buf, n - 1), 0);
	buf[n - 1] = 0;
	return buf;
}

static bool ram_is(struct phys_map *pm, uint64_t pa, const void *want, size_t n)
{
	uint8_t *got = malloc(n);
	bool same = phys_copy_out(pm, pa, got, n) == 0 && memcmp(got, want, n) == 0;
	free(got);
	return same;
}

static bool ram_all(struct phys_map *pm, uint64_t pa, uint8_t byte, size_t n)
{
	uint8_t *want = malloc(n);
	memset(want, byte, n);
	bool same = ram_is(pm, pa, want, n);
	free(want);
	return same;
}

static void new_ram(struct phys_map *pm, uint64_t size)
{
	CU_ASSERT_EQUAL_FATAL(phys_init(pm, size), 0);
	/* Mark the first 4 MiB (where these images go) to see what the loader wrote. */
	CU_ASSERT_EQUAL_FATAL(phys_fill(pm, 0, 0xaa, 4u << 20), 0);
}

/* Multiboot header with a valid checksum at p. */
static void mb_hdr(uint8_t *p, uint32_t flags)
{
	put32(p, MB_HEADER_MAGIC);
	put32(p + 4, flags);
	put32(p + 8, 0u - MB_HEADER_MAGIC - flags);
}

static void aout_fields(uint8_t *p, uint32_t header_addr, uint32_t load, uint32_t load_end, uint32_t bss_end,
			uint32_t entry)
{
	put32(p + 12, header_addr);
	put32(p + 16, load);
	put32(p + 20, load_end);
	put32(p + 24, bss_end);
	put32(p + 28, entry);
}

/* A raw image: byte pattern, a.out kludge header at 0x40 loading file
 * [0, 0x2000) at 0x100000, bss to 0x104000, entry 0x100100. */
static uint8_t *aout_image(void)
{
	uint8_t *img = malloc(IMG_SIZE);
	for (unsigned i = 0; i < IMG_SIZE; i++)
		img[i] = (uint8_t)(i * 7 + 1);
	mb_hdr(img + 0x40, MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO | MB_HF_AOUT_KLUDGE);
	aout_fields(img + 0x40, 0x100040, 0x100000, 0x102000, 0x104000, 0x100100);
	return img;
}

static struct mb_request req(const char *name, const uint8_t *img, size_t size)
{
	return (struct mb_request){ .kernel_name = name, .kernel = img, .kernel_size = size, .append = "" };
}

/* ELF32: text at file 0x1000 (vaddr 0xc0100000 -> paddr 0x100000, RX),
 * data at file 0x2000 with bss (0x200000, 0x100 bytes of 0x3000), a PT_NOTE
 * that must be ignored, and the multiboot header at 0x100 (no kludge). */
static uint8_t *elf32_image(uint32_t entry, bool with_header)
{
	uint8_t *img = calloc(1, IMG_SIZE);
	Elf32_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT, .e_entry = entry,
			  .e_phoff = sizeof(Elf32_Ehdr), .e_ehsize = sizeof(Elf32_Ehdr),
			  .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = 3 };
	Elf32_Phdr ph[3] = {
		{ PT_LOAD, 0x1000, 0xc0100000, 0x100000, 0x800, 0x800, PF_R | PF_X, 0x1000 },
		{ PT_LOAD, 0x2000, 0xc0200000, 0x200000, 0x100, 0x3000, PF_R | PF_W, 0x1000 },
		{ PT_NOTE, 0x2800, 0, 0xfffff000, 0x10, 0x10000, PF_R, 4 },
	};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS32;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + eh.e_phoff, ph, sizeof(ph));
	for (unsigned i = 0x1000; i < 0x2100; i++)
		img[i] = (uint8_t)(i * 13 + 5);
	if (with_header)
		mb_hdr(img + 0x100, MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO);
	return img;
}

/* ELF64: one RX segment at file 0x1000, vaddr vaddr -> paddr 0x100000. */
static uint8_t *elf64_image(uint64_t entry, uint64_t vaddr)
{
	uint8_t *img = calloc(1, IMG_SIZE);
	Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT, .e_entry = entry,
			  .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
			  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1 };
	Elf64_Phdr ph = { .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0x1000, .p_vaddr = vaddr,
			  .p_paddr = 0x100000, .p_filesz = 0x400, .p_memsz = 0x1000, .p_align = 0x1000 };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(img, &eh, sizeof(eh));
	memcpy(img + eh.e_phoff, &ph, sizeof(ph));
	for (unsigned i = 0x1000; i < 0x1400; i++)
		img[i] = (uint8_t)(i ^ 0x5a);
	mb_hdr(img + 0x200, MB_HF_PAGE_ALIGN);
	return img;
}

/* ---- loading the kernel ---- */

static void test_aout_kludge(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256];
	uint8_t *img = aout_image();
	struct mb_request rq = req("k.bin", img, IMG_SIZE);

	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.entry, 0x100100);
	CU_ASSERT_EQUAL(r.kernel_start, 0x100000);
	CU_ASSERT_EQUAL(r.kernel_end, 0x104000);
	CU_ASSERT_TRUE(ram_is(&pm, 0x100000, img, 0x2000));     /* file [0, 0x2000) only */
	CU_ASSERT_TRUE(ram_all(&pm, 0x102000, 0, 0x2000));      /* bss zeroed */
	CU_ASSERT_TRUE(ram_all(&pm, 0x104000, 0xaa, 0x1000));   /* nothing past bss_end */
	CU_ASSERT_TRUE(ram_all(&pm, 0xff000, 0xaa, 0x1000));    /* nor before load_addr */
	phys_destroy(&pm);
	free(img);
}

/* load_end_addr 0: load to the end of the file; bss_end 0: no bss. The
 * header's file offset need not be where the image starts. */
static void test_aout_whole_file(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256];
	uint8_t *img = aout_image();
	struct mb_request rq = req("k.bin", img, IMG_SIZE);

	aout_fields(img + 0x40, 0x200030, 0x200000, 0, 0, 0x200000);   /* image starts at file 0x10 */
	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(ram_is(&pm, 0x200000, img + 0x10, IMG_SIZE - 0x10));
	CU_ASSERT_EQUAL(r.kernel_end, 0x200000 + IMG_SIZE - 0x10);
	CU_ASSERT_EQUAL(r.entry, 0x200000);
	phys_destroy(&pm);
	free(img);
}

static void test_elf32(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256];
	uint8_t *img = elf32_image(0xc0100010, true);
	struct mb_request rq = req("k.elf", img, IMG_SIZE);

	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(ram_is(&pm, 0x100000, img + 0x1000, 0x800));    /* at p_paddr, not p_vaddr */
	CU_ASSERT_TRUE(ram_is(&pm, 0x200000, img + 0x2000, 0x100));
	CU_ASSERT_TRUE(ram_all(&pm, 0x200100, 0, 0x2f00));             /* bss */
	CU_ASSERT_TRUE(ram_all(&pm, 0x203000, 0xaa, 0x100));
	CU_ASSERT_TRUE(ram_all(&pm, 0x100800, 0xaa, 0x100));
	CU_ASSERT_EQUAL(r.entry, 0x100010);     /* virtual entry moved to the physical copy */
	CU_ASSERT_EQUAL(r.kernel_start, 0x100000);
	CU_ASSERT_EQUAL(r.kernel_end, 0x203000);
	phys_destroy(&pm);
	free(img);
}

/* An entry outside every executable segment stays as e_entry. */
static void test_elf32_entry_untranslated(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256];
	uint8_t *img = elf32_image(0x100004, true);
	struct mb_request rq = req("k.elf", img, IMG_SIZE);

	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.entry, 0x100004);
	phys_destroy(&pm);
	free(img);
}

static void test_elf64(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256];
	uint8_t *img = elf64_image(0xffffffff80000020ull, 0xffffffff80000000ull);
	struct mb_request rq = req("k64.elf", img, IMG_SIZE);

	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(ram_is(&pm, 0x100000, img + 0x1000, 0x400));
	CU_ASSERT_TRUE(ram_all(&pm, 0x100400, 0, 0xc00));
	CU_ASSERT_EQUAL(r.entry, 0x100020);
	CU_ASSERT_EQUAL(r.kernel_end, 0x101000);
	phys_destroy(&pm);
	free(img);
}

static void test_elf64_entry_above_4g(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256] = "";
	uint8_t *img = elf64_image(0x100000020ull, 0x100000);
	struct mb_request rq = req("k64.elf", img, IMG_SIZE);

	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL(mb_load(&pm, &rq, &r, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "k64.elf"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "4 GiB"));
	phys_destroy(&pm);
	free(img);
}

/* Flag 16 wins over ELF: the file is loaded raw where the header says. */
static void test_kludge_beats_elf(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256];
	uint8_t *img = elf32_image(0xc0100010, false);
	struct mb_request rq = req("k.elf", img, IMG_SIZE);

	mb_hdr(img + 0x100, MB_HF_AOUT_KLUDGE);
	aout_fields(img + 0x100, 0x300100, 0x300000, 0, 0, 0x300200);
	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(ram_is(&pm, 0x300000, img, IMG_SIZE));          /* ELF header and all */
	CU_ASSERT_TRUE(ram_all(&pm, 0x100000, 0xaa, 0x800));           /* p_paddr untouched */
	CU_ASSERT_EQUAL(r.entry, 0x300200);
	phys_destroy(&pm);
	free(img);
}

/* ---- refusing images ---- */

/* Load and expect failure with a message holding each of the words. */
static void expect_error(const struct mb_request *rq, uint64_t ram, const char *w1, const char *w2)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256] = "";

	new_ram(&pm, ram);
	CU_ASSERT_EQUAL(mb_load(&pm, rq, &r, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, rq->kernel_name));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, w1));
	if (w2)
		CU_ASSERT_PTR_NOT_NULL(strstr(err, w2));
	CU_ASSERT_PTR_NULL(strchr(err, '\n'));
	phys_destroy(&pm);
}

static void test_bad_checksum(void)
{
	uint8_t *img = aout_image();
	struct mb_request rq = req("sum.bin", img, IMG_SIZE);

	put32(img + 0x48, 0x12345678);
	expect_error(&rq, RAM_SIZE, "bad checksum", "0x40");
	free(img);
}

static void test_no_header(void)
{
	uint8_t *raw = calloc(1, IMG_SIZE), *elf = elf32_image(0xc0100010, false);
	struct mb_request r1 = req("raw.bin", raw, IMG_SIZE), r2 = req("nohdr.elf", elf, IMG_SIZE);

	expect_error(&r1, RAM_SIZE, "not an ELF", "8192");
	expect_error(&r2, RAM_SIZE, "no multiboot header in the first 8192 bytes", NULL);
	free(raw);
	free(elf);
}

/* The header must lie wholly in the first 8192 bytes, 4-byte aligned. */
static void test_header_position(void)
{
	uint8_t *img = calloc(1, 0x4000);
	struct mb_request rq = req("far.bin", img, 0x4000);
	struct phys_map pm;
	struct mb_result r;
	char err[256];

	mb_hdr(img + 8192, MB_HF_AOUT_KLUDGE);
	aout_fields(img + 8192, 0x102000, 0x100000, 0, 0, 0x100000);
	expect_error(&rq, RAM_SIZE, "no multiboot header", "8192");
	memset(img, 0, 0x4000);
	mb_hdr(img + 8190, 0);                          /* misaligned */
	expect_error(&rq, RAM_SIZE, "no multiboot header", NULL);
	memset(img, 0, 0x4000);
	mb_hdr(img + 8192 - 32, MB_HF_AOUT_KLUDGE);     /* last position that fits */
	aout_fields(img + 8192 - 32, 0x100000 + 8192 - 32, 0x100000, 0, 0, 0x100000);
	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	phys_destroy(&pm);
	free(img);
}

static void test_flags(void)
{
	uint8_t *img = aout_image();
	struct mb_request rq = req("flags.bin", img, IMG_SIZE);
	struct phys_map pm;
	struct mb_result r;
	char err[256];

	mb_hdr(img + 0x40, MB_HF_AOUT_KLUDGE | (1u << 3));     /* unknown required bit */
	expect_error(&rq, RAM_SIZE, "unsupported", "0x8");
	mb_hdr(img + 0x40, MB_HF_AOUT_KLUDGE | MB_HF_VIDEO_MODE | (1u << 20));   /* ignored */
	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	phys_destroy(&pm);
	mb_hdr(img + 0x40, 0);          /* not ELF and no load addresses */
	expect_error(&rq, RAM_SIZE, "not an ELF", NULL);
	free(img);
}

static void test_outside_ram(void)
{
	uint8_t *img = aout_image(), *elf = elf32_image(0xc0100010, true);
	struct mb_request rq = req("big.bin", img, IMG_SIZE), re = req("big.elf", elf, IMG_SIZE);
	Elf32_Phdr ph;

	aout_fields(img + 0x40, 0xf00040, 0xf00000, 0xf02000, 0x1100000, 0xf00000);
	expect_error(&rq, RAM_SIZE, "[0xf00000,0x1100000) outside RAM (0..16 MiB)", "use -m");
	memcpy(&ph, elf + sizeof(Elf32_Ehdr), sizeof(ph));
	ph.p_paddr = 0x4000000;         /* 64 MiB */
	memcpy(elf + sizeof(Elf32_Ehdr), &ph, sizeof(ph));
	expect_error(&re, RAM_SIZE, "outside RAM", "use -m");
	free(img);
	free(elf);
}

static void test_truncated(void)
{
	uint8_t *img = aout_image(), *elf = elf32_image(0xc0100010, true);
	struct mb_request rq = req("short.bin", img, IMG_SIZE), re = req("short.elf", elf, 0x1800);
	struct mb_request rh = req("tiny.elf", elf, 40);

	aout_fields(img + 0x40, 0x100040, 0x100000, 0x100000 + IMG_SIZE + 1, 0, 0x100000);
	expect_error(&rq, RAM_SIZE, "truncated", NULL);
	expect_error(&re, RAM_SIZE, "truncated", NULL);         /* data segment past the end */
	expect_error(&rh, RAM_SIZE, "no multiboot header", NULL);
	free(img);
	free(elf);
}

static void test_empty_file(void)
{
	uint8_t b = 0;
	struct mb_request rq = req("empty.bin", &b, 0);

	expect_error(&rq, RAM_SIZE, "empty", NULL);
}

/* ---- modules and the information structure ---- */

static void test_modules(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256], s[64];
	uint8_t *img = aout_image(), m0[100], m1[0x1800], m2[5];
	struct mb_module mods[3] = {
		{ "a.mod", "a.mod arg1 arg2", m0, sizeof(m0) },
		{ "b.mod", "b.mod", m1, sizeof(m1) },
		{ "c.mod", "c.mod x", m2, sizeof(m2) },
	};
	struct mb_request rq = req("k.bin", img, IMG_SIZE);
	const uint32_t start[3] = { 0x104000, 0x105000, 0x107000 };

	aout_fields(img + 0x40, 0x100040, 0x100000, 0x102000, 0x103001, 0x100100);  /* ends mid-page */
	memset(m0, 0x11, sizeof(m0));
	memset(m1, 0x22, sizeof(m1));
	memset(m2, 0x33, sizeof(m2));
	rq.modules = mods;
	rq.nmodules = 3;
	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(ram32(&pm, r.info + MBI_FLAGS) & MB_IF_MODS);
	CU_ASSERT_EQUAL(ram32(&pm, r.info + MBI_MODS_COUNT), 3);
	uint32_t list = ram32(&pm, r.info + MBI_MODS_ADDR);
	for (int i = 0; i < 3; i++) {
		uint32_t e = list + 16 * (uint32_t)i;
		CU_ASSERT_EQUAL(ram32(&pm, e), start[i]);       /* page-aligned, after the kernel */
		CU_ASSERT_EQUAL(ram32(&pm, e + 4), start[i] + mods[i].size);
		CU_ASSERT_TRUE(ram_is(&pm, start[i], mods[i].data, mods[i].size));
		CU_ASSERT_STRING_EQUAL(ram_str(&pm, ram32(&pm, e + 8), s, strlen(mods[i].string) + 2),
				       mods[i].string);
	}
	phys_destroy(&pm);
	free(img);
}

static void test_module_too_big(void)
{
	uint8_t *img = aout_image(), *big = calloc(1, 15u << 20);
	struct mb_module mod = { "dir/big.mod", "dir/big.mod", big, 15u << 20 };
	struct mb_request rq = req("k.bin", img, IMG_SIZE);
	struct phys_map pm;
	struct mb_result r;
	char err[256] = "";

	rq.modules = &mod;
	rq.nmodules = 1;
	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL(mb_load(&pm, &rq, &r, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "dir/big.mod"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not fit"));
	phys_destroy(&pm);
	free(img);
	free(big);
}

/* QEMU: "<kernel file> <append>", with the space even when -append is empty. */
static void test_cmdline(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256], s[64];
	uint8_t *img = aout_image();
	struct mb_request rq = req("build/k.bin", img, IMG_SIZE);

	rq.append = "console=ttyS0 quiet";
	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(ram32(&pm, r.info + MBI_FLAGS) & MB_IF_CMDLINE);
	CU_ASSERT_STRING_EQUAL(ram_str(&pm, ram32(&pm, r.info + MBI_CMDLINE), s, 33),
			       "build/k.bin console=ttyS0 quiet");
	rq.append = "";
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(ram_str(&pm, ram32(&pm, r.info + MBI_CMDLINE), s, 14), "build/k.bin ");
	phys_destroy(&pm);
	free(img);
}

static void test_info_fields(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256], s[16];
	uint8_t *img = aout_image();
	struct mb_request rq = req("k.bin", img, IMG_SIZE);

	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(r.info, MB_INFO_ADDR);
	CU_ASSERT_EQUAL(ram32(&pm, r.info + MBI_FLAGS), 0x24f);  /* MEM BOOTDEV CMDLINE MODS MMAP NAME */
	CU_ASSERT_EQUAL(ram32(&pm, r.info + MBI_MEM_LOWER), 639);      /* below the EBDA, as QEMU */
	CU_ASSERT_EQUAL(ram32(&pm, r.info + MBI_MEM_UPPER), 16384 - 128 - 1024);
	CU_ASSERT_EQUAL(ram32(&pm, r.info + MBI_BOOT_DEVICE), 0x8000ffff);
	CU_ASSERT_EQUAL(ram32(&pm, r.info + MBI_MODS_COUNT), 0);
	CU_ASSERT_STRING_EQUAL(ram_str(&pm, ram32(&pm, r.info + MBI_BOOT_LOADER_NAME), s, 8), "vtxsim");
	phys_destroy(&pm);
	free(img);
}

static void test_mmap(void)
{
	static const uint64_t want[6][3] = {
		{ 0, 0x9fc00, 1 }, { 0x9fc00, 0x400, 2 }, { 0xe0000, 0x20000, 2 },
		{ 0x100000, (16 << 20) - 0x20000 - 0x100000, 1 }, { (16 << 20) - 0x20000, 0x20000, 2 },
		{ 0xfffc0000, 0x40000, 2 },
	};
	struct phys_map pm;
	struct mb_result r;
	char err[256];
	uint8_t *img = aout_image();
	struct mb_request rq = req("k.bin", img, IMG_SIZE);

	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ram32(&pm, r.info + MBI_MMAP_LENGTH), 6 * 24);
	uint32_t e = ram32(&pm, r.info + MBI_MMAP_ADDR);
	for (int i = 0; i < 6; i++, e += 24) {
		CU_ASSERT_EQUAL(ram32(&pm, e), 20);
		CU_ASSERT_EQUAL(ram64(&pm, e + 4), want[i][0]);
		CU_ASSERT_EQUAL(ram64(&pm, e + 12), want[i][1]);
		CU_ASSERT_EQUAL(ram32(&pm, e + 20), want[i][2]);
	}
	phys_destroy(&pm);
	free(img);
}

/* 4 GiB of RAM: the map stays sorted and non-overlapping up to 4 GiB. */
static void test_mmap_4g(void)
{
	struct mb_mmap_entry map[MB_MMAP_MAX];
	int n = mb_memory_map(4096ull << 20, map);

	CU_ASSERT_EQUAL(n, 5);
	for (int i = 1; i < n; i++)
		CU_ASSERT_TRUE(map[i].base >= map[i - 1].base + map[i - 1].len);
	CU_ASSERT_EQUAL(map[n - 1].base + map[n - 1].len, 1ull << 32);
	CU_ASSERT_EQUAL(mb_mem_upper_kb(4096ull << 20), (0xfffc0000u - 0x100000u) / 1024);
	CU_ASSERT_EQUAL(mb_mem_upper_kb(2ull << 20), 1024 - 128);
}

/* A kernel loaded over MB_INFO_ADDR pushes the info block elsewhere. */
static void test_info_avoids_kernel(void)
{
	struct phys_map pm;
	struct mb_result r;
	char err[256];
	uint8_t *img = aout_image();
	struct mb_request rq = req("low.bin", img, IMG_SIZE);

	aout_fields(img + 0x40, 0x8040, 0x8000, 0xa000, 0x12000, 0x8000);
	new_ram(&pm, RAM_SIZE);
	CU_ASSERT_EQUAL_FATAL(mb_load(&pm, &rq, &r, err, sizeof(err)), 0);
	CU_ASSERT_TRUE(r.info >= 0x12000 && r.info < 0x9fc00);
	CU_ASSERT_TRUE(ram_is(&pm, 0x8000, img, 0x2000));
	CU_ASSERT_TRUE(ram_all(&pm, 0xa000, 0, 0x8000));
	phys_destroy(&pm);
	free(img);
}

static void test_read_file(void)
{
	char path[] = "/tmp/vtxsim-mb-XXXXXX", err[256] = "";
	int fd = mkstemp(path);
	uint8_t *data = NULL;
	size_t size = 0;

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "abcde", 5), 5);
	close(fd);
	CU_ASSERT_EQUAL(mb_read_file(path, &data, &size, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(size, 5);
	CU_ASSERT_TRUE(data && memcmp(data, "abcde", 5) == 0);
	free(data);
	unlink(path);
	CU_ASSERT_EQUAL(mb_read_file(path, &data, &size, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open"));
	CU_ASSERT_EQUAL(mb_read_file("/tmp", &data, &size, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
}

void suite_sim_multiboot(void)
{
	CU_pSuite s = CU_add_suite("sim_multiboot", NULL, NULL);

	CU_add_test(s, "a.out kludge: load, bss, entry", test_aout_kludge);
	CU_add_test(s, "a.out kludge: load to end of file", test_aout_whole_file);
	CU_add_test(s, "ELF32 at p_paddr, bss, entry translated", test_elf32);
	CU_add_test(s, "ELF32 entry outside segments kept", test_elf32_entry_untranslated);
	CU_add_test(s, "ELF64", test_elf64);
	CU_add_test(s, "ELF64 entry above 4 GiB refused", test_elf64_entry_above_4g);
	CU_add_test(s, "a.out kludge takes precedence over ELF", test_kludge_beats_elf);
	CU_add_test(s, "bad checksum", test_bad_checksum);
	CU_add_test(s, "no header (raw, ELF)", test_no_header);
	CU_add_test(s, "header position within 8192 bytes", test_header_position);
	CU_add_test(s, "required flags refused, optional ignored", test_flags);
	CU_add_test(s, "segment outside RAM", test_outside_ram);
	CU_add_test(s, "truncated files", test_truncated);
	CU_add_test(s, "empty file", test_empty_file);
	CU_add_test(s, "modules: placement, contents, strings", test_modules);
	CU_add_test(s, "module that does not fit", test_module_too_big);
	CU_add_test(s, "cmdline is \"kernel append\"", test_cmdline);
	CU_add_test(s, "info fields", test_info_fields);
	CU_add_test(s, "memory map entries", test_mmap);
	CU_add_test(s, "memory map at 4 GiB", test_mmap_4g);
	CU_add_test(s, "info block avoids a low kernel", test_info_avoids_kernel);
	CU_add_test(s, "reading files", test_read_file);
}
