/* boot: the multiboot 1 hand-over (Multiboot Specification 0.6.96, 3.2
 * "Machine state" and 3.3 "Boot information format") as the loader leaves
 * it for a kernel started with -kernel on a 256 MiB machine.
 * guests.vts passes append= with BOOT_CMDLINE below. */
#include "guest.h"

#define BOOT_CMDLINE "vtxsim-boot-test alpha=1 beta=two"
#define RAM_KIB (256u * 1024)
#define EFLAGS_VM (1u << 17)

static volatile uint64_t data_word = 0x0123456789abcdefull;
static const char rodata_text[] = "read-only data survives loading";

static const struct multiboot_info *mbi;

static void check_entry_state(uint32_t magic)
{
	report_eq(magic, MULTIBOOT_BOOTLOADER_MAGIC, "EAX at entry is the multiboot magic");
	report((boot_entry_cr0 & CR0_PE) && !(boot_entry_cr0 & CR0_PG),
	       "CR0 at entry: PE set, PG clear (%#x)", boot_entry_cr0);
	report(!(boot_entry_eflags & (RFLAGS_IF | EFLAGS_VM)),
	       "EFLAGS at entry: IF and VM clear (%#x)", boot_entry_eflags);
	report_eq(data_word, 0x0123456789abcdefull, ".data loaded");
	report(!strcmp(rodata_text, "read-only data survives loading"), ".rodata loaded");
	report((uint64_t)__image_start == 0x100000, "image linked and entered at 1 MiB");
}

static void check_info_placement(uint32_t info)
{
	uint64_t lo = (uint64_t)__image_start, hi = (uint64_t)__image_end;

	report(info != 0 && (info + sizeof(*mbi) <= lo || info >= hi),
	       "multiboot info at %#x lies outside the image [%#lx, %#lx)", info, lo, hi);
}

static void check_memory(void)
{
	if (!report(mbi->flags & MBI_MEMORY, "flags: mem_lower/mem_upper valid"))
		return;
	/* 639 KiB when the firmware keeps an EBDA below 640 KiB (QEMU). */
	report(mbi->mem_lower == 640 || mbi->mem_lower == 639,
	       "mem_lower is 640 KiB (or 639 with an EBDA): %u", mbi->mem_lower);
	/* Contiguous RAM from 1 MiB: at most RAM - 1 MiB, and the firmware
	 * may keep a little at the top (ACPI tables). */
	report(mbi->mem_upper <= RAM_KIB - 1024 && mbi->mem_upper >= RAM_KIB - 1024 - 8192,
	       "mem_upper fits 256 MiB of RAM: %u KiB", mbi->mem_upper);
}

static void check_cmdline(void)
{
	if (!report(mbi->flags & MBI_CMDLINE, "flags: cmdline valid"))
		return;
	const char *cmd = (const char *)(uintptr_t)mbi->cmdline;
	size_t n = strlen(cmd), want = strlen(BOOT_CMDLINE);
	bool exact = !strcmp(cmd, BOOT_CMDLINE);
	/* QEMU's -kernel passes "kernel-path args"; GRUB passes "args". */
	bool with_path = n > want && cmd[n - want - 1] == ' ' && !strcmp(cmd + n - want, BOOT_CMDLINE);

	report(exact || with_path, "cmdline is \"%s\" (%s)", cmd,
	       exact ? "exactly -append" : with_path ? "kernel path, then -append" : "unexpected");
}

/* The entry covering [0x100000, image end) must be available RAM, no
 * available range may cover the legacy hole 0xA0000-0xFFFFF, and the
 * available total stays within the machine's RAM. */
static void check_mmap(void)
{
	if (!report(mbi->flags & MBI_MMAP, "flags: memory map valid"))
		return;
	uint64_t image_end = (uint64_t)__image_end, total = 0;
	bool covers_kernel = false, hole_free = true, sizes_ok = true;
	uint32_t off = 0, n = 0;

	while (off + 4 <= mbi->mmap_length) {
		const struct multiboot_mmap_entry *e =
			(const void *)(uintptr_t)(mbi->mmap_addr + off);
		uint64_t end = e->addr + e->len;
		sizes_ok &= e->size >= 20;
		printf("      mmap[%u]: %#lx-%#lx type %u\n", n, e->addr, end, e->type);
		if (e->type == MULTIBOOT_MEMORY_AVAILABLE) {
			total += e->len;
			covers_kernel |= e->addr <= 0x100000 && end >= image_end;
			hole_free &= end <= 0xa0000 || e->addr >= 0x100000;
		}
		off += e->size + 4;
		n++;
	}
	report(n >= 2 && sizes_ok, "memory map has %u well-formed entries", n);
	report(covers_kernel, "an available entry covers 1 MiB up to the image end");
	report(hole_free, "no available entry overlaps 0xA0000-0xFFFFF");
	report(total <= (uint64_t)RAM_KIB * 1024 && total >= (uint64_t)(RAM_KIB - 8192) * 1024,
	       "available memory totals %lu KiB of 256 MiB", total / 1024);
}

static void check_loader_name(void)
{
	if (!report(mbi->flags & MBI_LOADER_NAME, "flags: boot_loader_name valid"))
		return;
	const char *name = (const char *)(uintptr_t)mbi->boot_loader_name;
	report(name[0] != 0, "boot loader name is \"%s\"", name);
}

void kmain(uint32_t magic, uint32_t info)
{
	mbi = (const struct multiboot_info *)(uintptr_t)info;
	check_entry_state(magic);
	check_info_placement(info);
	report_info("multiboot flags %#x", mbi->flags);
	check_memory();
	check_cmdline();
	check_mmap();
	check_loader_name();
	report(!(mbi->flags & MBI_MODS) || mbi->mods_count == 0,
	       "no modules without -initrd");
	report_summary();
}
