/* Multiboot 1 boot information as handed over by the loader
 * (Multiboot Specification 0.6.96, section 3.3 "Boot information format"). */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002u

/* flags bits: which fields of struct multiboot_info are valid */
#define MBI_MEMORY       (1u << 0)
#define MBI_BOOTDEV      (1u << 1)
#define MBI_CMDLINE      (1u << 2)
#define MBI_MODS         (1u << 3)
#define MBI_MMAP         (1u << 6)
#define MBI_LOADER_NAME  (1u << 9)

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;  /* KiB below 640K / above 1M */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
} __attribute__((packed));

struct multiboot_module {
	uint32_t mod_start, mod_end;
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));

/* One memory map entry; 'size' does not count itself, so the next entry is
 * at (char *)entry + entry->size + 4. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;                  /* 1 = available RAM */
} __attribute__((packed));

#define MULTIBOOT_MEMORY_AVAILABLE 1

#endif
