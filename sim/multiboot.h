/* The multiboot 1 loader (Multiboot Specification 0.6.96), behaving like
 * QEMU's `-kernel` so test kernels written for QEMU boot unmodified.
 *
 * The loader works on buffers: mb_read_file() reads a file, mb_load() places
 * a kernel image and its modules in guest-physical RAM and builds the
 * multiboot information structure. Errors come back as one line naming the
 * file; nothing here prints. The entry state itself (EAX = MB_BOOT_MAGIC,
 * EBX = info) is the CPU's business: cpu_set_multiboot_state().
 *
 * Memory layout the loader produces (docs/user-guide.md has the user's view):
 *   kernel         where its header (a.out kludge) or its PT_LOAD p_paddr say
 *   modules        page-aligned, from the page after the kernel's last byte
 *   info block     at MB_INFO_ADDR (low memory, like a real boot loader), or
 *                  after the modules when the kernel occupies that area
 */
#ifndef SIM_MULTIBOOT_H
#define SIM_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "mem/phys.h"

#define MB_HEADER_MAGIC 0x1BADB002u     /* spec 3.1.2 */
#define MB_BOOT_MAGIC 0x2BADB002u       /* EAX at entry, spec 3.2 */
#define MB_SEARCH_LEN 8192              /* header lies within the first 8192 bytes */

/* Header flags (spec 3.1.2). Bits 0-15 are requirements, 16-31 optional. */
#define MB_HF_PAGE_ALIGN (1u << 0)
#define MB_HF_MEMORY_INFO (1u << 1)
#define MB_HF_VIDEO_MODE (1u << 2)
#define MB_HF_AOUT_KLUDGE (1u << 16)

/* Information-structure flags (spec 3.3). */
#define MB_IF_MEMORY (1u << 0)
#define MB_IF_BOOT_DEVICE (1u << 1)
#define MB_IF_CMDLINE (1u << 2)
#define MB_IF_MODS (1u << 3)
#define MB_IF_MMAP (1u << 6)
#define MB_IF_BOOT_LOADER_NAME (1u << 9)

/* Information-structure field offsets (spec 3.3). */
enum {
	MBI_FLAGS = 0, MBI_MEM_LOWER = 4, MBI_MEM_UPPER = 8, MBI_BOOT_DEVICE = 12,
	MBI_CMDLINE = 16, MBI_MODS_COUNT = 20, MBI_MODS_ADDR = 24, MBI_MMAP_LENGTH = 44,
	MBI_MMAP_ADDR = 48, MBI_BOOT_LOADER_NAME = 64, MBI_SIZE = 88,
};
#define MB_MOD_ENTRY_SIZE 16            /* mod_start, mod_end, string, reserved */
#define MB_MMAP_ENTRY_SIZE 24           /* size (= 20), base_addr, length, type */
#define MB_MMAP_AVAILABLE 1
#define MB_MMAP_RESERVED 2

#define MB_INFO_ADDR 0x9000u
#define MB_BOOT_DEVICE_NONE 0x8000ffffu /* BIOS drive 0x80, no partition (as QEMU) */
#define MB_BOOT_LOADER_NAME "vtxsim"

/* The PC memory map the info structure describes (and the E820 the firmware
 * would report). ram_size is the -m size. */
#define MB_LOW_RAM_END 0x9fc00ull       /* 639 KiB: the EBDA starts here */
#define MB_HIGH_RAM_START 0x100000ull
#define MB_FIRMWARE_TABLES 0x20000ull   /* reserved at the top of RAM */
#define MB_BIOS_ROM_BASE 0xfffc0000ull  /* reserved up to 4 GiB */
#define MB_MMAP_MAX 6

/* One module: what the kernel sees in the module list. */
struct mb_module {
	const char *path;               /* the file, for error messages */
	const char *string;             /* "<path> <args>", the module's string */
	const uint8_t *data;
	size_t size;
};

struct mb_request {
	const char *kernel_name;        /* as given with -kernel: file messages and cmdline */
	const uint8_t *kernel;
	size_t kernel_size;
	const char *append;             /* -append, "" when absent */
	const struct mb_module *modules;
	int nmodules;
};

struct mb_result {
	uint32_t entry;                 /* EIP */
	uint32_t info;                  /* EBX: guest-physical address of the info structure */
	uint64_t kernel_start, kernel_end;      /* [lowest, highest) loaded byte, bss included */
};

/* Read a whole file into a malloc'd buffer. 0, or -1 with "<path>: <why>". */
int mb_read_file(const char *path, uint8_t **data, size_t *size, char *err, size_t errlen);

/* Load the kernel and modules into pm's RAM and build the info structure.
 * 0, or -1 with a one-line message naming the file (RAM may be partly
 * written then). */
int mb_load(struct phys_map *pm, const struct mb_request *rq, struct mb_result *out, char *err,
	    size_t errlen);

/* The memory map for a machine with ram_size bytes of RAM: fills up to
 * MB_MMAP_MAX entries and returns how many. mem_upper derives from it. */
struct mb_mmap_entry {
	uint64_t base, len;
	uint32_t type;
};
int mb_memory_map(uint64_t ram_size, struct mb_mmap_entry *map);
uint32_t mb_mem_upper_kb(uint64_t ram_size);

#endif
