/* The demo kernel `make run` boots: a multiboot kernel that greets from
 * 64-bit long mode, names the CPU it runs on (CPUID vendor and brand
 * string), echoes its command line and powers the machine off. */
#include "guest.h"

static void cpu_vendor(char out[13])
{
	struct cpuid_regs r = cpuid(0, 0);

	/* CPUID.0: the vendor string is EBX, EDX, ECX (SDM Vol. 2A, CPUID). */
	memcpy(out, &r.b, 4);
	memcpy(out + 4, &r.d, 4);
	memcpy(out + 8, &r.c, 4);
	out[12] = 0;
}

/* The brand string: CPUID.80000002H-80000004H, 16 bytes each. */
static void cpu_brand(char out[49])
{
	out[0] = 0;
	if (cpuid(0x80000000u, 0).a < 0x80000004u)
		return;
	for (uint32_t i = 0; i < 3; i++) {
		struct cpuid_regs r = cpuid(0x80000002u + i, 0);
		memcpy(out + 16 * i, &r, 16);
	}
	out[48] = 0;
}

static const char *skip_spaces(const char *s)
{
	while (*s == ' ')
		s++;
	return s;
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbinfo;
	char vendor[13], brand[49];
	const char *cmdline = "";

	(void)magic;
	cpu_vendor(vendor);
	cpu_brand(brand);
	if (mbi->flags & MBI_CMDLINE)
		cmdline = (const char *)(uintptr_t)mbi->cmdline;
	printf("vtxsim demo: hello from 64-bit long mode\n");
	printf("  cpu vendor: %s\n", vendor);
	printf("  cpu brand:  %s\n", *brand ? skip_spaces(brand) : "(none)");
	printf("  cmdline:    \"%s\"\n", cmdline);
	if (mbi->flags & MBI_MEMORY)
		printf("  memory:     %u KiB low, %u KiB above 1 MiB\n", mbi->mem_lower, mbi->mem_upper);
	printf("vtxsim demo: powering off\n");
	guest_poweroff();
}
