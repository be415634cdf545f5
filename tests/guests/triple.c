/* triple: with an empty IDT, int3 cannot be delivered (#GP), neither can
 * the #GP nor the resulting #DF: the CPU shuts down (SDM Vol. 3A, 7.15
 * "Interrupt 8 - Double Fault Exception", triple fault). guests.vts expects
 * exit status 4 from vtxsim -no-reboot; reaching the end is a failure. */
#include "guest.h"

void kmain(uint32_t magic, uint32_t mbinfo)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	(void)magic;
	(void)mbinfo;
	printf("triple: loading an empty IDT, then int3: expect a triple fault\n");
	asm volatile("lidt %0; int3" : : "m"(empty) : "memory");
	idt_load();
	report(false, "execution continued after int3 with an empty IDT");
	report_summary();
}
