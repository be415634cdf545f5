/* initrd: the multiboot module list (Multiboot Specification 0.6.96, 3.3,
 * mods_*). guests.vts boots this kernel with its own ELF32 file as -initrd, so
 * the module must hold the bytes of the text segment this kernel runs from. */
#include "guest.h"

#define PT_LOAD 1

struct elf32_ehdr {
	uint8_t ident[16];
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __attribute__((packed));

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __attribute__((packed));

/* The module is an ELF32 file whose first PT_LOAD matches memory. */
static void check_module_is_me(const uint8_t *mod, uint32_t size)
{
	const struct elf32_ehdr *eh = (const void *)mod;

	if (!report(size >= sizeof(*eh) && !memcmp(eh->ident, "\x7f" "ELF\x01", 5),
		    "the module is an ELF32 file (%u bytes)", size))
		return;
	if (!report(eh->phoff + (uint32_t)eh->phnum * sizeof(struct elf32_phdr) <= size,
		    "its program headers lie inside the module"))
		return;
	const struct elf32_phdr *ph = (const void *)(mod + eh->phoff);
	for (unsigned i = 0; i < eh->phnum; i++, ph++) {
		if (ph->type != PT_LOAD)
			continue;
		bool inside = ph->offset + ph->filesz <= size;
		report(inside && !memcmp(mod + ph->offset, (const void *)(uintptr_t)ph->paddr, ph->filesz),
		       "the module's first PT_LOAD (%u bytes at %#x) equals the loaded image",
		       ph->filesz, ph->paddr);
		return;
	}
	report(false, "the module has a PT_LOAD segment");
}

void kmain(uint32_t magic, uint32_t info)
{
	const struct multiboot_info *mbi = (const void *)(uintptr_t)info;

	(void)magic;
	if (!report(mbi->flags & MBI_MODS, "flags: mods_count/mods_addr valid") ||
	    !report(mbi->mods_count == 1, "one module (%u)", mbi->mods_count))
		report_summary();
	const struct multiboot_module *m = (const void *)(uintptr_t)mbi->mods_addr;
	uint64_t lo = (uint64_t)__image_start, hi = (uint64_t)__image_end;

	report(m->mod_end > m->mod_start, "module range %#x-%#x is not empty", m->mod_start, m->mod_end);
	/* Header flag bit 0 asks for page-aligned modules (3.1.2). */
	report((m->mod_start & 0xfff) == 0, "the module starts on a page boundary");
	report(m->mod_end <= lo || m->mod_start >= hi, "the module does not overlap the kernel");
	report(m->mod_end <= 256u << 20, "the module lies in RAM");
	if (m->string)
		report_info("module string \"%s\"", (const char *)(uintptr_t)m->string);
	check_module_is_me((const uint8_t *)(uintptr_t)m->mod_start, m->mod_end - m->mod_start);
	report_summary();
}
