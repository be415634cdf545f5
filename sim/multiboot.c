/* The multiboot 1 loader: Multiboot Specification 0.6.96, sections 3.1
 * (header), 3.2 (machine state) and 3.3 (boot information), with QEMU's
 * `-kernel` choices where the specification leaves room:
 *   - the a.out kludge (header flag 16) wins over ELF;
 *   - ELF PT_LOAD segments go to p_paddr; an entry point inside an executable
 *     segment whose p_vaddr differs from p_paddr is moved by the same offset;
 *   - the kernel command line is "<kernel file name> <-append string>";
 *   - a module's string is its whole -initrd element, "<file> <args>";
 *   - boot_device is 0x8000ffff, mem_lower is 639 (what its BIOS reports),
 *     the loader name is set, the video bit is ignored.
 * Module and info-block addresses differ from QEMU's (see multiboot.h).
 */
#include "sim/multiboot.h"

#include <assert.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One piece of the kernel image: filesz bytes from src, then zeros to memsz. */
struct mb_segment {
	uint64_t paddr, filesz, memsz;
	const uint8_t *src;
};

struct mb_image {
	struct mb_segment *seg;
	int nseg;
	uint64_t entry;
	uint64_t lo, hi;                /* [lowest, highest) byte of all segments */
};

struct mb_header {
	uint32_t offset, flags;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* Busy guest-physical ranges, for placing modules and the info block. */
struct mb_range {
	uint64_t start, end;
};

struct mb_layout {
	struct mb_range *busy;
	int nbusy;
	uint64_t usable_top;            /* modules and info stay below */
	uint64_t *mod_addr;             /* one per module */
	uint64_t info_addr, info_size;
};

static int mb_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int mb_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int mb_read_file(const char *path, uint8_t **data, size_t *size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	if (!f)
		return mb_fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return mb_fail(err, errlen, "%s: not a regular file", path);
	}
	size_t n = (size_t)st.st_size;
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != n) {
		int e = ferror(f) ? errno : 0;
		free(buf);
		fclose(f);
		return mb_fail(err, errlen, "%s: cannot read: %s", path, e ? strerror(e) : "short read");
	}
	fclose(f);
	*data = buf;
	*size = n;
	return 0;
}

/* ---- memory map (what the firmware would report through E820) ---- */

static uint64_t mb_usable_top(uint64_t ram_size)
{
	uint64_t top = ram_size - MB_FIRMWARE_TABLES;
	return top > MB_BIOS_ROM_BASE ? MB_BIOS_ROM_BASE : top;
}

int mb_memory_map(uint64_t ram_size, struct mb_mmap_entry *map)
{
	uint64_t top = mb_usable_top(ram_size);
	int n = 0;

	map[n++] = (struct mb_mmap_entry){ 0, MB_LOW_RAM_END, MB_MMAP_AVAILABLE };
	map[n++] = (struct mb_mmap_entry){ MB_LOW_RAM_END, 0xa0000 - MB_LOW_RAM_END, MB_MMAP_RESERVED };
	/* BIOS area; the ACPI tables live in its first 64 KiB (devices/acpi_tables.c). */
	map[n++] = (struct mb_mmap_entry){ 0xe0000, 0x20000, MB_MMAP_RESERVED };
	map[n++] = (struct mb_mmap_entry){ MB_HIGH_RAM_START, top - MB_HIGH_RAM_START, MB_MMAP_AVAILABLE };
	if (top < ram_size && top < MB_BIOS_ROM_BASE)
		map[n++] = (struct mb_mmap_entry){ top, ram_size - top, MB_MMAP_RESERVED };
	map[n++] = (struct mb_mmap_entry){ MB_BIOS_ROM_BASE, (1ull << 32) - MB_BIOS_ROM_BASE,
					    MB_MMAP_RESERVED };
	return n;
}

/* KiB of usable RAM from 1 MiB up to the first hole (spec 3.3, mem_upper). */
uint32_t mb_mem_upper_kb(uint64_t ram_size)
{
	return (uint32_t)((mb_usable_top(ram_size) - MB_HIGH_RAM_START) / 1024);
}

/* ---- header (spec 3.1) ---- */

static bool mb_is_elf(const uint8_t *d, size_t n)
{
	return n >= SELFMAG && memcmp(d, ELFMAG, SELFMAG) == 0;
}

static int mb_no_header(const struct mb_request *rq, long bad_sum_at, char *err, size_t errlen)
{
	const char *f = rq->kernel_name;

	if (bad_sum_at >= 0)
		return mb_fail(err, errlen, "%s: multiboot header at offset 0x%lx has a bad checksum "
			       "(magic + flags + checksum must be 0)", f, (unsigned long)bad_sum_at);
	if (mb_is_elf(rq->kernel, rq->kernel_size))
		return mb_fail(err, errlen, "%s: no multiboot header in the first %d bytes", f, MB_SEARCH_LEN);
	return mb_fail(err, errlen, "%s: not an ELF and no multiboot header in the first %d bytes", f,
		       MB_SEARCH_LEN);
}

/* The header: 4-byte aligned, wholly within the first 8192 bytes. */
static int mb_find_header(const struct mb_request *rq, struct mb_header *h, char *err, size_t errlen)
{
	size_t limit = rq->kernel_size < MB_SEARCH_LEN ? rq->kernel_size : MB_SEARCH_LEN;
	const uint8_t *d = rq->kernel;
	long bad_sum_at = -1;

	for (size_t i = 0; i + 12 <= limit; i += 4) {
		if (rd32(d + i) != MB_HEADER_MAGIC)
			continue;
		uint32_t flags = rd32(d + i + 4);
		if ((uint32_t)(MB_HEADER_MAGIC + flags + rd32(d + i + 8)) != 0) {
			if (bad_sum_at < 0)
				bad_sum_at = (long)i;
			continue;
		}
		*h = (struct mb_header){ .offset = (uint32_t)i, .flags = flags };
		if (!(flags & MB_HF_AOUT_KLUDGE))
			return 0;
		if (i + 32 > limit)
			return mb_fail(err, errlen, "%s: truncated multiboot header (a.out kludge fields past "
				       "byte %zu)", rq->kernel_name, limit);
		h->header_addr = rd32(d + i + 12);
		h->load_addr = rd32(d + i + 16);
		h->load_end_addr = rd32(d + i + 20);
		h->bss_end_addr = rd32(d + i + 24);
		h->entry_addr = rd32(d + i + 28);
		return 0;
	}
	return mb_no_header(rq, bad_sum_at, err, errlen);
}

/* Bits 0-15 are requirements: refuse what we do not provide (spec 3.1.2).
 * Bit 0 (page-aligned modules) and bit 1 (memory info) are always honoured;
 * bit 2 (video mode) is ignored, as QEMU does, since there is no framebuffer. */
static int mb_check_flags(const struct mb_request *rq, uint32_t flags, char *err, size_t errlen)
{
	uint32_t unknown = flags & 0xffffu & ~(MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO | MB_HF_VIDEO_MODE);

	if (unknown)
		return mb_fail(err, errlen, "%s: multiboot header requires unsupported features "
			       "(flag bits 0x%x)", rq->kernel_name, unknown);
	return 0;
}

/* ---- a.out kludge (spec 3.1.3, flag 16) ---- */

static int mb_parse_aout(const struct mb_request *rq, const struct mb_header *h, struct mb_image *img,
			 char *err, size_t errlen)
{
	const char *f = rq->kernel_name;
	uint64_t load = h->load_addr, size = rq->kernel_size, load_size, mem_size;

	if (h->header_addr < load || h->header_addr - load > h->offset)
		return mb_fail(err, errlen, "%s: a.out kludge: header_addr 0x%x and load_addr 0x%x put the "
			       "image start outside the file", f, h->header_addr, h->load_addr);
	uint64_t text_off = h->offset - (h->header_addr - load);
	if (h->load_end_addr == 0) {
		load_size = size - text_off;            /* load to the end of the file */
	} else if (h->load_end_addr < load) {
		return mb_fail(err, errlen, "%s: a.out kludge: load_end_addr 0x%x below load_addr 0x%x", f,
			       h->load_end_addr, h->load_addr);
	} else {
		load_size = h->load_end_addr - load;
	}
	if (text_off + load_size > size)
		return mb_fail(err, errlen, "%s: truncated file: the a.out kludge loads %llu bytes from "
			       "offset %llu but the file has %llu", f, (unsigned long long)load_size,
			       (unsigned long long)text_off, (unsigned long long)size);
	mem_size = load_size;
	if (h->bss_end_addr != 0) {
		if (h->bss_end_addr < load + load_size)
			return mb_fail(err, errlen, "%s: a.out kludge: bss_end_addr 0x%x below load_end 0x%llx",
				       f, h->bss_end_addr, (unsigned long long)(load + load_size));
		mem_size = h->bss_end_addr - load;
	}
	img->seg = calloc(1, sizeof(*img->seg));
	if (!img->seg)
		return mb_fail(err, errlen, "%s: out of host memory", f);
	img->seg[0] = (struct mb_segment){ load, load_size, mem_size, rq->kernel + text_off };
	img->nseg = 1;
	img->entry = h->entry_addr;
	return 0;
}

/* ---- ELF32 / ELF64 (System V gABI; multiboot spec 3.1.3 for the rest) ---- */

struct mb_elf {
	bool is64;
	uint64_t entry, phoff;
	uint32_t phentsize, phnum;
};

static int mb_elf_header(const struct mb_request *rq, struct mb_elf *e, char *err, size_t errlen)
{
	const uint8_t *d = rq->kernel;
	size_t n = rq->kernel_size;
	const char *f = rq->kernel_name;

	if (n < EI_NIDENT || d[EI_DATA] != ELFDATA2LSB)
		return mb_fail(err, errlen, "%s: not a little-endian ELF image", f);
	if (d[EI_CLASS] == ELFCLASS32) {
		Elf32_Ehdr eh;
		if (n < sizeof(eh))
			return mb_fail(err, errlen, "%s: truncated file (ELF header)", f);
		memcpy(&eh, d, sizeof(eh));
		if (eh.e_machine != EM_386)
			return mb_fail(err, errlen, "%s: ELF32 machine %u is not i386", f, eh.e_machine);
		*e = (struct mb_elf){ false, eh.e_entry, eh.e_phoff, eh.e_phentsize, eh.e_phnum };
		if (e->phentsize < sizeof(Elf32_Phdr))
			return mb_fail(err, errlen, "%s: bad ELF program header size %u", f, e->phentsize);
	} else if (d[EI_CLASS] == ELFCLASS64) {
		Elf64_Ehdr eh;
		if (n < sizeof(eh))
			return mb_fail(err, errlen, "%s: truncated file (ELF header)", f);
		memcpy(&eh, d, sizeof(eh));
		if (eh.e_machine != EM_X86_64)
			return mb_fail(err, errlen, "%s: ELF64 machine %u is not x86-64", f, eh.e_machine);
		*e = (struct mb_elf){ true, eh.e_entry, eh.e_phoff, eh.e_phentsize, eh.e_phnum };
		if (e->phentsize < sizeof(Elf64_Phdr))
			return mb_fail(err, errlen, "%s: bad ELF program header size %u", f, e->phentsize);
	} else {
		return mb_fail(err, errlen, "%s: unknown ELF class %u", f, d[EI_CLASS]);
	}
	if (e->phoff > n || (uint64_t)e->phnum * e->phentsize > n - e->phoff)
		return mb_fail(err, errlen, "%s: truncated file (ELF program headers)", f);
	return 0;
}

/* Program header i, widened to the ELF64 layout. */
static Elf64_Phdr mb_elf_phdr(const struct mb_request *rq, const struct mb_elf *e, uint32_t i)
{
	const uint8_t *p = rq->kernel + e->phoff + (uint64_t)i * e->phentsize;
	Elf64_Phdr ph;

	if (e->is64) {
		memcpy(&ph, p, sizeof(ph));
		return ph;
	}
	Elf32_Phdr p32;
	memcpy(&p32, p, sizeof(p32));
	return (Elf64_Phdr){ .p_type = p32.p_type, .p_flags = p32.p_flags, .p_offset = p32.p_offset,
			     .p_vaddr = p32.p_vaddr, .p_paddr = p32.p_paddr, .p_filesz = p32.p_filesz,
			     .p_memsz = p32.p_memsz, .p_align = p32.p_align };
}

static int mb_elf_segment(const struct mb_request *rq, const Elf64_Phdr *ph, struct mb_image *img,
			  char *err, size_t errlen)
{
	const char *f = rq->kernel_name;

	if (ph->p_filesz > ph->p_memsz)
		return mb_fail(err, errlen, "%s: ELF segment at 0x%llx has p_filesz > p_memsz", f,
			       (unsigned long long)ph->p_paddr);
	if (ph->p_offset > rq->kernel_size || ph->p_filesz > rq->kernel_size - ph->p_offset)
		return mb_fail(err, errlen, "%s: truncated file: ELF segment at 0x%llx needs bytes up to "
			       "%llu, the file has %zu", f, (unsigned long long)ph->p_paddr,
			       (unsigned long long)(ph->p_offset + ph->p_filesz), rq->kernel_size);
	img->seg[img->nseg++] = (struct mb_segment){ ph->p_paddr, ph->p_filesz, ph->p_memsz,
						     rq->kernel + ph->p_offset };
	/* QEMU's ELF loader: e_entry is virtual; when it lies in an executable
	 * segment linked at p_vaddr != p_paddr, enter at the physical copy. */
	if (ph->p_vaddr != ph->p_paddr && (ph->p_flags & PF_X) && img->entry >= ph->p_vaddr &&
	    img->entry - ph->p_vaddr < ph->p_filesz)
		img->entry = img->entry - ph->p_vaddr + ph->p_paddr;
	return 0;
}

static int mb_parse_elf(const struct mb_request *rq, struct mb_image *img, char *err, size_t errlen)
{
	const char *f = rq->kernel_name;
	uint64_t e_entry;
	struct mb_elf e = { 0 };

	if (mb_elf_header(rq, &e, err, errlen))
		return -1;
	img->seg = calloc(e.phnum ? e.phnum : 1, sizeof(*img->seg));
	if (!img->seg)
		return mb_fail(err, errlen, "%s: out of host memory", f);
	img->entry = e_entry = e.entry;
	for (uint32_t i = 0; i < e.phnum; i++) {
		Elf64_Phdr ph = mb_elf_phdr(rq, &e, i);
		if (ph.p_type == PT_LOAD && ph.p_memsz != 0 && mb_elf_segment(rq, &ph, img, err, errlen))
			return -1;
	}
	if (img->nseg == 0)
		return mb_fail(err, errlen, "%s: ELF image has no loadable (PT_LOAD) segment", f);
	/* Multiboot enters in 32-bit protected mode (spec 3.2). */
	if (img->entry > UINT32_MAX)
		return mb_fail(err, errlen, "%s: ELF64 entry point 0x%llx is above 4 GiB; multiboot "
			       "starts the kernel in 32-bit mode", f, (unsigned long long)e_entry);
	return 0;
}

static int mb_parse_image(const struct mb_request *rq, const struct mb_header *h, struct mb_image *img,
			  char *err, size_t errlen)
{
	if (h->flags & MB_HF_AOUT_KLUDGE)
		return mb_parse_aout(rq, h, img, err, errlen);
	if (mb_is_elf(rq->kernel, rq->kernel_size))
		return mb_parse_elf(rq, img, err, errlen);
	return mb_fail(err, errlen, "%s: multiboot header without load addresses (flag 16) and the file "
		       "is not an ELF", rq->kernel_name);
}

/* Every byte of the image must land in RAM. */
static int mb_check_ram(const struct phys_map *pm, const struct mb_request *rq, struct mb_image *img,
			char *err, size_t errlen)
{
	img->lo = UINT64_MAX;
	img->hi = 0;
	for (int i = 0; i < img->nseg; i++) {
		const struct mb_segment *s = &img->seg[i];
		if (s->paddr > pm->ram_size || s->memsz > pm->ram_size - s->paddr)
			return mb_fail(err, errlen, "%s: image segment [0x%llx,0x%llx) outside RAM "
				       "(0..%llu MiB); use -m", rq->kernel_name, (unsigned long long)s->paddr,
				       (unsigned long long)(s->paddr + s->memsz),
				       (unsigned long long)(pm->ram_size >> 20));
		if (s->paddr < img->lo)
			img->lo = s->paddr;
		if (s->paddr + s->memsz > img->hi)
			img->hi = s->paddr + s->memsz;
	}
	return 0;
}

/* ---- placing modules and the info block ---- */

static void mb_busy(struct mb_layout *lay, uint64_t start, uint64_t end)
{
	lay->busy[lay->nbusy++] = (struct mb_range){ start, end };
}

/* Lowest page-aligned address >= from where [a, a+size) stays below limit
 * and clear of every busy range. */
static int mb_place(const struct mb_layout *lay, uint64_t size, uint64_t from, uint64_t limit,
		    uint64_t *at)
{
	uint64_t a = align_up(from, PAGE_SIZE);
	bool moved = true;

	while (moved) {
		moved = false;
		if (size > limit || a > limit - size)
			return -1;
		for (int i = 0; i < lay->nbusy; i++) {
			const struct mb_range *r = &lay->busy[i];
			if (a < r->end && r->start < a + size) {
				a = align_up(r->end, PAGE_SIZE);
				moved = true;
			}
		}
	}
	*at = a;
	return 0;
}

static size_t mb_info_size(const struct mb_request *rq, int nmap)
{
	size_t n = MBI_SIZE + (size_t)rq->nmodules * MB_MOD_ENTRY_SIZE + (size_t)nmap * MB_MMAP_ENTRY_SIZE;

	n += strlen(rq->kernel_name) + 1 + strlen(rq->append ? rq->append : "") + 1;
	for (int i = 0; i < rq->nmodules; i++)
		n += strlen(rq->modules[i].string) + 1;
	return n + sizeof(MB_BOOT_LOADER_NAME);
}

static int mb_plan(const struct phys_map *pm, const struct mb_request *rq, const struct mb_image *img,
		   struct mb_layout *lay, char *err, size_t errlen)
{
	struct mb_mmap_entry map[MB_MMAP_MAX];

	lay->busy = calloc((size_t)img->nseg + rq->nmodules + 2, sizeof(*lay->busy));
	lay->mod_addr = calloc(rq->nmodules ? rq->nmodules : 1, sizeof(*lay->mod_addr));
	if (!lay->busy || !lay->mod_addr)
		return mb_fail(err, errlen, "%s: out of host memory", rq->kernel_name);
	lay->usable_top = mb_usable_top(pm->ram_size);
	for (int i = 0; i < img->nseg; i++)
		mb_busy(lay, img->seg[i].paddr, img->seg[i].paddr + img->seg[i].memsz);
	mb_busy(lay, MB_LOW_RAM_END, MB_HIGH_RAM_START);        /* EBDA, VGA, BIOS */
	for (int i = 0; i < rq->nmodules; i++) {
		const struct mb_module *m = &rq->modules[i];
		if (mb_place(lay, m->size, img->hi, lay->usable_top, &lay->mod_addr[i]))
			return mb_fail(err, errlen, "%s: module of %zu bytes does not fit in RAM after the "
				       "kernel (%llu MiB); use -m", m->path, m->size,
				       (unsigned long long)(pm->ram_size >> 20));
		mb_busy(lay, lay->mod_addr[i], lay->mod_addr[i] + m->size);
	}
	lay->info_size = mb_info_size(rq, mb_memory_map(pm->ram_size, map));
	if (mb_place(lay, lay->info_size, MB_INFO_ADDR, MB_LOW_RAM_END, &lay->info_addr) &&
	    mb_place(lay, lay->info_size, img->hi, lay->usable_top, &lay->info_addr))
		return mb_fail(err, errlen, "%s: no room in RAM for the multiboot information (%zu bytes)",
			       rq->kernel_name, (size_t)lay->info_size);
	return 0;
}

/* ---- the information structure (spec 3.3) ---- */

struct mb_writer {
	uint8_t *buf;
	uint64_t base;                  /* guest-physical address of buf[0] */
	size_t off;
};

/* Append "a" or "a b" with its NUL; return its guest address. */
static uint32_t mb_put_string(struct mb_writer *w, const char *a, const char *b)
{
	uint32_t addr = (uint32_t)(w->base + w->off);
	size_t la = strlen(a);

	memcpy(w->buf + w->off, a, la);
	w->off += la;
	if (b) {
		size_t lb = strlen(b);
		w->buf[w->off++] = ' ';
		memcpy(w->buf + w->off, b, lb);
		w->off += lb;
	}
	w->buf[w->off++] = 0;
	return addr;
}

static void mb_put_mmap(uint8_t *p, uint64_t ram_size)
{
	struct mb_mmap_entry map[MB_MMAP_MAX];
	int n = mb_memory_map(ram_size, map);

	for (int i = 0; i < n; i++, p += MB_MMAP_ENTRY_SIZE) {
		wr32(p, MB_MMAP_ENTRY_SIZE - 4);        /* size excludes the size field itself */
		wr64(p + 4, map[i].base);
		wr64(p + 12, map[i].len);
		wr32(p + 20, map[i].type);
	}
}

static void mb_build_info(const struct mb_request *rq, const struct mb_layout *lay, uint64_t ram_size,
			  uint8_t *buf)
{
	struct mb_mmap_entry map[MB_MMAP_MAX];
	int nmap = mb_memory_map(ram_size, map);
	size_t mods = MBI_SIZE, mmap = mods + (size_t)rq->nmodules * MB_MOD_ENTRY_SIZE;
	struct mb_writer w = { buf, lay->info_addr, mmap + (size_t)nmap * MB_MMAP_ENTRY_SIZE };
	uint32_t base = (uint32_t)lay->info_addr;

	wr32(buf + MBI_FLAGS, MB_IF_MEMORY | MB_IF_BOOT_DEVICE | MB_IF_CMDLINE | MB_IF_MODS | MB_IF_MMAP |
	     MB_IF_BOOT_LOADER_NAME);
	wr32(buf + MBI_MEM_LOWER, MB_LOW_RAM_END / 1024);     /* 639, as QEMU's BIOS reports */
	wr32(buf + MBI_MEM_UPPER, mb_mem_upper_kb(ram_size));
	wr32(buf + MBI_BOOT_DEVICE, MB_BOOT_DEVICE_NONE);
	wr32(buf + MBI_CMDLINE, mb_put_string(&w, rq->kernel_name, rq->append ? rq->append : ""));
	wr32(buf + MBI_MODS_COUNT, (uint32_t)rq->nmodules);
	wr32(buf + MBI_MODS_ADDR, base + (uint32_t)mods);
	for (int i = 0; i < rq->nmodules; i++) {
		uint8_t *e = buf + mods + (size_t)i * MB_MOD_ENTRY_SIZE;
		wr32(e, (uint32_t)lay->mod_addr[i]);
		wr32(e + 4, (uint32_t)(lay->mod_addr[i] + rq->modules[i].size));
		wr32(e + 8, mb_put_string(&w, rq->modules[i].string, NULL));
	}
	wr32(buf + MBI_MMAP_LENGTH, (uint32_t)(nmap * MB_MMAP_ENTRY_SIZE));
	wr32(buf + MBI_MMAP_ADDR, base + (uint32_t)mmap);
	mb_put_mmap(buf + mmap, ram_size);
	wr32(buf + MBI_BOOT_LOADER_NAME, mb_put_string(&w, MB_BOOT_LOADER_NAME, NULL));
	assert(w.off == lay->info_size);
}

static int mb_write(struct phys_map *pm, const struct mb_request *rq, const struct mb_image *img,
		    const struct mb_layout *lay, char *err, size_t errlen)
{
	for (int i = 0; i < img->nseg; i++) {
		const struct mb_segment *s = &img->seg[i];
		if (phys_copy_in(pm, s->paddr, s->src, s->filesz) ||
		    phys_fill(pm, s->paddr + s->filesz, 0, s->memsz - s->filesz))
			return mb_fail(err, errlen, "%s: image segment [0x%llx,0x%llx) overlaps device memory",
				       rq->kernel_name, (unsigned long long)s->paddr,
				       (unsigned long long)(s->paddr + s->memsz));
	}
	for (int i = 0; i < rq->nmodules; i++)
		if (phys_copy_in(pm, lay->mod_addr[i], rq->modules[i].data, rq->modules[i].size))
			return mb_fail(err, errlen, "%s: module placed over device memory", rq->modules[i].path);
	uint8_t *buf = calloc(1, lay->info_size);
	if (!buf)
		return mb_fail(err, errlen, "%s: out of host memory", rq->kernel_name);
	mb_build_info(rq, lay, pm->ram_size, buf);
	int rc = phys_copy_in(pm, lay->info_addr, buf, lay->info_size);
	free(buf);
	if (rc)
		return mb_fail(err, errlen, "%s: multiboot information placed over device memory",
			       rq->kernel_name);
	return 0;
}

int mb_load(struct phys_map *pm, const struct mb_request *rq, struct mb_result *out, char *err,
	    size_t errlen)
{
	struct mb_image img = { 0 };
	struct mb_layout lay = { 0 };
	struct mb_header h = { 0 };
	int rc = -1;

	/* Multiboot needs low memory and 1 MiB of high memory; sim/ enforces -m >= 2. */
	assert(pm->ram_size >= 2 * MB_HIGH_RAM_START && pm->ram_size <= (1ull << 32));
	if (rq->kernel_size == 0)
		return mb_fail(err, errlen, "%s: empty file", rq->kernel_name);
	if (mb_find_header(rq, &h, err, errlen) || mb_check_flags(rq, h.flags, err, errlen))
		return -1;
	if (!mb_parse_image(rq, &h, &img, err, errlen) && !mb_check_ram(pm, rq, &img, err, errlen) &&
	    !mb_plan(pm, rq, &img, &lay, err, errlen) && !mb_write(pm, rq, &img, &lay, err, errlen)) {
		*out = (struct mb_result){ (uint32_t)img.entry, (uint32_t)lay.info_addr, img.lo, img.hi };
		rc = 0;
	}
	free(img.seg);
	free(lay.busy);
	free(lay.mod_addr);
	return rc;
}
