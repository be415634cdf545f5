/* QEMU's firmware configuration device (fw_cfg), traditional I/O interface
 * only, as described in QEMU's docs/specs/fw_cfg.rst: a 16-bit selector
 * register at port 0x510 and an 8-bit data register at port 0x511. No DMA.
 */
#ifndef DEVICES_FWCFG_H
#define DEVICES_FWCFG_H

#include <stdint.h>
#include <stdio.h>

#include "devices/device.h"

#define FWCFG_PORT_SELECTOR 0x510
#define FWCFG_PORT_DATA 0x511

/* The well-known generic items (selector keys below FW_CFG_FILE_FIRST):
 * X(name, key, description). */
#define FWCFG_KNOWN_ITEMS(X) \
	X(FW_CFG_SIGNATURE, 0x0000, "signature") \
	X(FW_CFG_ID, 0x0001, "id/features") \
	X(FW_CFG_UUID, 0x0002, "uuid") \
	X(FW_CFG_RAM_SIZE, 0x0003, "ram size") \
	X(FW_CFG_NOGRAPHIC, 0x0004, "nographic") \
	X(FW_CFG_NB_CPUS, 0x0005, "nb cpus") \
	X(FW_CFG_MACHINE_ID, 0x0006, "machine id") \
	X(FW_CFG_KERNEL_ADDR, 0x0007, "kernel addr") \
	X(FW_CFG_KERNEL_SIZE, 0x0008, "kernel size") \
	X(FW_CFG_KERNEL_CMDLINE, 0x0009, "kernel cmdline") \
	X(FW_CFG_INITRD_ADDR, 0x000a, "initrd addr") \
	X(FW_CFG_INITRD_SIZE, 0x000b, "initrd size") \
	X(FW_CFG_BOOT_DEVICE, 0x000c, "boot device") \
	X(FW_CFG_NUMA, 0x000d, "numa") \
	X(FW_CFG_BOOT_MENU, 0x000e, "boot menu") \
	X(FW_CFG_MAX_CPUS, 0x000f, "max cpus") \
	X(FW_CFG_KERNEL_ENTRY, 0x0010, "kernel entry") \
	X(FW_CFG_KERNEL_DATA, 0x0011, "kernel data") \
	X(FW_CFG_INITRD_DATA, 0x0012, "initrd data") \
	X(FW_CFG_CMDLINE_ADDR, 0x0013, "cmdline addr") \
	X(FW_CFG_CMDLINE_SIZE, 0x0014, "cmdline size") \
	X(FW_CFG_CMDLINE_DATA, 0x0015, "cmdline data") \
	X(FW_CFG_SETUP_ADDR, 0x0016, "setup addr") \
	X(FW_CFG_SETUP_SIZE, 0x0017, "setup size") \
	X(FW_CFG_SETUP_DATA, 0x0018, "setup data") \
	X(FW_CFG_FILE_DIR, 0x0019, "file directory")

#define FWCFG_KEY_ENUM(name, key, desc) name = key,
enum fwcfg_key { FWCFG_KNOWN_ITEMS(FWCFG_KEY_ENUM) };
#undef FWCFG_KEY_ENUM

#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_WRITE_CHANNEL 0x4000     /* selector bit 14: write mode (ignored) */
#define FW_CFG_ARCH_LOCAL 0x8000        /* selector bit 15: architecture-specific */
#define FW_CFG_ID_TRADITIONAL 0x1       /* FW_CFG_ID bit 0 */
#define FWCFG_MAX_FILES 32
#define FWCFG_FILE_NAME_LEN 56          /* including the terminating NUL */
#define FWCFG_FILE_ENTRY_SIZE 64        /* be32 size, be16 select, be16 reserved, name */

struct fwcfg;

/* Claims ports 0x510-0x511 and installs the signature, ID, RAM size, CPU
 * counts and an empty file directory. NULL on allocation failure or when
 * the ports are taken. */
struct fwcfg *fwcfg_create(struct pio_bus *bus, uint64_t ram_size, uint16_t nb_cpus, uint16_t max_cpus);
/* Frees the device; the bus must not be used afterwards. */
void fwcfg_destroy(struct fwcfg *f);
void fwcfg_dump(void *opaque, FILE *out);

/* Install (or replace) a fixed item: a generic key below FW_CFG_FILE_FIRST
 * other than FW_CFG_FILE_DIR, or an architecture-specific key (bit 15 set).
 * The data is copied. Returns 0, or -1 for a bad key or no memory. */
int fwcfg_add_bytes(struct fwcfg *f, uint16_t key, const void *data, uint32_t len);

/* Add a named file: the data is copied, the next selector from
 * FW_CFG_FILE_FIRST up is assigned, and the file directory is rebuilt.
 * Returns the selector, or -1 when the name is empty, too long (55 chars at
 * most), already present, the table is full, or memory runs out. */
int fwcfg_add_file(struct fwcfg *f, const char *name, const void *data, uint32_t len);

#endif
