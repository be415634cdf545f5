/* dbg_triple: triple faults in known ways, for the shutdown report
 * (sim/forensics.c, tests/guests/trace.sh checks the chain it prints).
 * The command line picks the way (SDM vol. 3A 6.15 "Interrupt 8", Table
 * 6-5; vol. 2 INT n "Operation", IA-32e mode):
 *   mode=np     an IDT of not-present interrupt gates (limit 0xfff), then
 *               ud2: #UD's gate is not present: #NP(6*8+2+1); #NP's too:
 *               #NP(11*8+3), contributory after contributory: #DF; #DF's
 *               too: #NP(8*8+3) while delivering #DF: shutdown.
 *   mode=stack  the library's IDT, RSP non-canonical, then ud2: pushing
 *               #UD's frame is #SS(EXT = 1); pushing #SS's frame too:
 *               #DF; pushing #DF's frame too: shutdown.
 * Reaching the end is a failure; vtxsim -no-reboot exits with status 4. */
#include "guest.h"

struct gate64 {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

static struct gate64 np_idt[256] __attribute__((aligned(16)));

static void not_present_gates(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = { sizeof(np_idt) - 1, (uint64_t)(uintptr_t)np_idt };
	for (int v = 0; v < 256; v++)
		np_idt[v] = (struct gate64){ .sel = 8, .type = GATE_INTERRUPT };   /* P = 0 */
	printf("dbg_triple: not-present gates, then ud2: expect a triple fault\n");
	asm volatile("lidt %0; ud2" : : "m"(ptr) : "memory");
}

static void noncanonical_stack(void)
{
	printf("dbg_triple: RSP non-canonical, then ud2: expect a triple fault\n");
	asm volatile("mov $0x8000000000001000, %%rsp; ud2" : : : "memory");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)mbinfo;
	char mode[16] = "";
	(void)magic;
	if (mbi->flags & MBI_CMDLINE)
		cmdline_get((const char *)(uintptr_t)mbi->cmdline, "mode", mode, sizeof(mode));
	if (!strcmp(mode, "np"))
		not_present_gates();
	else if (!strcmp(mode, "stack"))
		noncanonical_stack();
	else
		printf("dbg_triple: give mode=np or mode=stack\n");
	idt_load();
	report(false, "execution continued (mode '%s')", mode);
	report_summary();
}
