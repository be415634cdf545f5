/* Library entry, exit paths and kvm-unit-tests style reports. */
#include "guest.h"

#define DEBUG_EXIT_PORT 0xf4
#define ACPI_PM1A_CNT   0x604           /* QEMU PIIX4 PM base 0x600 + 4 */
#define ACPI_SLP_EN     0x2000          /* SLP_TYP = 0 (S5 on QEMU's PC) | SLP_EN */
#define POWEROFF_SPIN   1000000
#define PIC1_DATA 0x21
#define PIC2_DATA 0xa1

static unsigned tests_run, tests_failed, tests_skipped;

NORETURN void guest_entry(uint32_t magic, uint32_t mbinfo)
{
	serial_init();
	outb(PIC1_DATA, 0xff);          /* OCW1: mask every 8259 input */
	outb(PIC2_DATA, 0xff);
	idt_init();
	kmain(magic, mbinfo);
	report(false, "kmain returned without calling report_summary()");
	report_summary();
}

NORETURN void guest_exit(uint8_t code)
{
	printf("EXIT: %u\n", code);
	outb(DEBUG_EXIT_PORT, code);
	halt_forever();
	__builtin_unreachable();
}

NORETURN void guest_poweroff(void)
{
	outw(ACPI_PM1A_CNT, ACPI_SLP_EN);
	/* QEMU acts on the request asynchronously: give it time before
	 * falling back to the debug-exit port. */
	for (unsigned i = 0; i < POWEROFF_SPIN; i++)
		asm volatile("pause");
	guest_exit(0);
}

static void vreport(const char *tag, const char *fmt, va_list ap)
{
	printf("%s: ", tag);
	vprintf(fmt, ap);
	serial_putc('\n');
}

bool report(bool ok, const char *fmt, ...)
{
	va_list ap;

	tests_run++;
	if (!ok)
		tests_failed++;
	va_start(ap, fmt);
	vreport(ok ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	return ok;
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	tests_skipped++;
	va_start(ap, fmt);
	vreport("SKIP", fmt, ap);
	va_end(ap);
}

void report_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("INFO", fmt, ap);
	va_end(ap);
}

NORETURN void report_summary(void)
{
	printf("SUMMARY: %u tests, %u unexpected failures", tests_run, tests_failed);
	if (tests_skipped)
		printf(", %u skipped", tests_skipped);
	serial_putc('\n');
	guest_exit(tests_failed ? 1 : 0);
}
