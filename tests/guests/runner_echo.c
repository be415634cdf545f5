/* runner_echo: the guest of the test runner's own tests (tests/runner/).
 * It does what the words of its command line say, left to right (the
 * first word, the kernel path vtxsim puts before -append, is skipped):
 *
 *   say=TEXT   print TEXT as one COM1 line, '_' turned into ' '
 *              ("say=PASS:_one" prints "PASS: one")
 *   hang       spin forever with interrupts off (a cycle limit ends it)
 *   triple     load an empty IDT and INT3: a triple fault
 *   vmx=N      enter VMX with the library's baseline VMCS and run a
 *              64-bit guest that executes CPUID N times, then VMCALL; the
 *              host resumes after each CPUID exit (skipping it by the
 *              VM-exit instruction length): N exits 10, one exit 18
 *   badentry   one VMLAUNCH with guest CS DPL 3 and SS DPL 0: a VM-entry
 *              failure, exit reason 33 (SDM vol. 3C 26.3.1.2), reported
 *   exit=V     write V to the isa-debug-exit port 0xf4 (status V*2+1)
 *
 * Nothing else is printed (no PASS/SUMMARY lines unless said with say=),
 * so the runner's tests control every line. Running out of words halts
 * with interrupts off: vtxsim ends with status 8.
 */
#include "guest.h"
#include "vmx_vmcs.h"

#define AR_DPL_MASK (3u << 5)
#define WORD_MAX 256

extern char echo_guest[];

/* The VM's code: RSI CPUID instructions, then VMCALL. CPUID exits
 * unconditionally (SDM vol. 3C 25.1.2) and the host only skips it, so RSI
 * counts down undisturbed. It sits in .text.boot, which link.ld places
 * right after the multiboot header and before any compiled code (this
 * object is linked before the library's boot.S): its address, and so the
 * guest RIPs of the golden exit traces in tests/runner/, do not depend on
 * the compiler. */
asm(".pushsection .text.boot, \"ax\"\n"
    ".code64\n"
    "echo_guest:\n"
    "	test %rsi, %rsi\n"
    "	jz 2f\n"
    "1:	xor %eax, %eax\n"
    "	cpuid\n"
    "	dec %rsi\n"
    "	jnz 1b\n"
    "2:	vmcall\n"
    "	jmp echo_guest\n"
    ".popsection\n");

static void say(const char *text)
{
	for (const char *p = text; *p; p++)
		serial_putc(*p == '_' ? ' ' : *p);
	serial_putc('\n');
}

static NORETURN void hang(void)
{
	asm volatile("cli; 1: jmp 1b" ::: "memory");
	__builtin_unreachable();
}

static NORETURN void triple(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	asm volatile("lidt %0; int3" : : "m"(empty) : "memory");
	hang();
}

static void run_vm(uint64_t n)
{
	uint64_t cpuids = 0;
	struct vmx_outcome o;

	if (!vmx_start())
		return;
	vmx_baseline(64);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)echo_guest);
	for (unsigned r = 0; r < 16; r++)
		vmx_guest_regs[r] = 0;
	vmx_guest_regs[6] = n;          /* RSI */
	o = vmx_enter_guest(false);
	while (o.res == VMX_OK && o.exit_reason == EXIT_REASON_CPUID && cpuids < n) {
		cpuids++;
		vmx_skip_insn();
		o = vmx_enter_guest(true);
	}
	printf("vmx: %lu CPUID exits, then exit reason %u (result %d)\n", cpuids, o.exit_reason, o.res);
}

static void bad_entry(void)
{
	struct vmx_outcome o;

	if (!vmx_start())
		return;
	vmx_baseline(64);
	vmwrite(VMCS_GUEST_CS_AR, vmread(VMCS_GUEST_CS_AR) | AR_DPL_MASK);
	o = vmx_try_launch();
	printf("badentry: result %d, exit reason %#x, qualification %#lx\n", o.res, o.exit_reason, o.qual);
}

static void do_word(const char *w)
{
	uint64_t v;

	if (!strncmp(w, "say=", 4)) {
		say(w + 4);
	} else if (!strcmp(w, "hang")) {
		hang();
	} else if (!strcmp(w, "triple")) {
		triple();
	} else if (!strncmp(w, "vmx=", 4) && parse_u64(w + 4, &v)) {
		run_vm(v);
	} else if (!strcmp(w, "badentry")) {
		bad_entry();
	} else if (!strncmp(w, "exit=", 5) && parse_u64(w + 5, &v)) {
		outb(0xf4, (uint8_t)v);
		hang();
	} else {
		printf("runner_echo: unknown word \"%s\"\n", w);
	}
}

void kmain(uint32_t magic, uint32_t info)
{
	const struct multiboot_info *mbi = (const struct multiboot_info *)(uintptr_t)info;
	const char *p = (mbi->flags & MBI_CMDLINE) ? (const char *)(uintptr_t)mbi->cmdline : "";
	char word[WORD_MAX];
	bool first = true;

	(void)magic;
	while (*p) {
		size_t n = 0;
		while (*p == ' ')
			p++;
		while (*p && *p != ' ') {
			if (n < sizeof(word) - 1)
				word[n++] = *p;
			p++;
		}
		word[n] = 0;
		if (n && !first)
			do_word(word);
		if (n)
			first = false;
	}
	for (;;)
		asm volatile("cli; hlt" ::: "memory");
}
