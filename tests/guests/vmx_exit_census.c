/* A demo hypervisor that counts VM exits by reason. Its 64-bit guest runs
 * a fixed mix of instructions that exit in VMX non-root operation (SDM vol.
 * 3C 25.1.2: CPUID, VMCALL and every VMX instruction exit unconditionally;
 * INVD; 25.1.3: RDTSC, INVLPG, MOV CR3, MOV DR, HLT, I/O, RDMSR/WRMSR, PAUSE
 * under their controls; 25.2: INT3
 * with bit 3 of the exception bitmap; an interrupt window), some several
 * times; every exit is counted under its basic reason (27.2.1),
 * stepped over by the VM-exit instruction length (27.2.5) and resumed. At
 * the end the host prints the table and asserts each count: the mix is
 * fixed, so the census is exact. The guest ends with a VMCALL with RAX =
 * VMX_GUEST_MAGIC.
 *
 * As more instructions and events exit (issue 6), add them to the guest
 * mix and to expected[].
 */
#include "guest.h"
#include "vmx_vmcs.h"

#define MAX_EXITS 1000
#define REASONS 65

extern char census_guest[];
uint64_t census_operand;        /* memory operand of the VMX instructions (never accessed: they exit first) */

asm(".text\n"
    ".code64\n"
    "census_guest:\n"
    "	.rept 5\n"
    "	xor %eax, %eax\n"
    "	cpuid\n"
    "	.endr\n"
    "	.rept 3\n"
    "	xor %eax, %eax\n"
    "	vmcall\n"
    "	.endr\n"
    "	.rept 3\n"
    "	rdtsc\n"                        /* "RDTSC exiting" */
    "	.endr\n"
    "	invlpg census_operand(%rip)\n"  /* "INVLPG exiting" */
    "	mov %cr3, %rax\n"               /* "CR3-store exiting" */
    "	mov %rax, %cr3\n"               /* "CR3-load exiting" (no CR3-target value) */
    "	mov %dr7, %rax\n"               /* "MOV-DR exiting" */
    "	hlt\n"                          /* "HLT exiting" */
    "	invd\n"                         /* unconditional (25.1.2) */
    "	out %al, $0x80\n"               /* "unconditional I/O exiting" */
    "	in $0x80, %al\n"
    "	mov $0x10, %ecx\n"
    "	rdmsr\n"                        /* no MSR bitmaps: every RDMSR/WRMSR exits */
    "	wrmsr\n"
    "	pause\n"                        /* "PAUSE exiting" */
    "	int3\n"                         /* exception bitmap bit 3 */
    "	int3\n"
    "	sti\n"
    "	nop\n"
    "	mov $1, %eax\n"                 /* the host turns on interrupt-window exiting */
    "	vmcall\n"
    "	cli\n"
    "	xor %edx, %edx\n"               /* a field encoding: unused, the instructions exit first */
    "	vmread %rdx, %rax\n"
    "	vmread %rdx, census_operand(%rip)\n"
    "	vmwrite %rax, %rdx\n"
    "	vmwrite census_operand(%rip), %rdx\n"
    "	vmptrst census_operand(%rip)\n"
    "	vmclear census_operand(%rip)\n"
    "	vmptrld census_operand(%rip)\n"
    "	vmlaunch\n"
    "	vmresume\n"
    "	vmresume\n"
    "	vmxoff\n"
    "	vmxon census_operand(%rip)\n"
    "	cpuid\n"
    "	mov $0x600dc0de, %eax\n"
    "	vmcall\n"
    "	jmp census_guest\n");

/* What the guest above does, by basic exit reason. */
static const struct {
	uint32_t reason;
	uint32_t count;
} expected[] = {
	{ EXIT_REASON_EXCEPTION_NMI, 2 }, { EXIT_REASON_INTERRUPT_WINDOW, 1 }, { EXIT_REASON_INVLPG, 1 },
	{ EXIT_REASON_RDTSC, 3 },   { EXIT_REASON_CR_ACCESS, 2 }, { EXIT_REASON_DR_ACCESS, 1 },
	{ EXIT_REASON_HLT, 1 },     { EXIT_REASON_INVD, 1 },     { EXIT_REASON_IO_INSTRUCTION, 2 },
	{ EXIT_REASON_RDMSR, 1 },   { EXIT_REASON_WRMSR, 1 },    { EXIT_REASON_PAUSE, 1 },
	{ EXIT_REASON_CPUID, 6 },   { EXIT_REASON_VMCALL, 5 },  { EXIT_REASON_VMCLEAR, 1 },
	{ EXIT_REASON_VMLAUNCH, 1 }, { EXIT_REASON_VMPTRLD, 1 }, { EXIT_REASON_VMPTRST, 1 },
	{ EXIT_REASON_VMREAD, 2 },  { EXIT_REASON_VMRESUME, 2 }, { EXIT_REASON_VMWRITE, 2 },
	{ EXIT_REASON_VMXOFF, 1 },  { EXIT_REASON_VMXON, 1 },
};

static const char *reason_name(uint32_t r)
{
	switch (r) {
#define X(n, id, text) case n: return text;
	EXIT_REASON_TABLE(X)
#undef X
	}
	return "?";
}

void kmain(uint32_t magic, uint32_t info)
{
	uint32_t count[REASONS] = { 0 };
	uint32_t total = 0, other = 0;
	struct vmx_outcome o;

	(void)magic;
	(void)info;
	if (!vmx_start()) {
		report_summary();
		return;
	}
	vmx_baseline(64);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)census_guest);
	vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) | PROC_RDTSC_EXITING | PROC_INVLPG_EXITING |
					    PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING | PROC_MOV_DR_EXITING |
					    PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING | PROC_PAUSE_EXITING);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_EXCEPTION_BITMAP, 1u << VEC_BP);
	o = vmx_enter_guest(false);
	while (o.res == VMX_OK && total < MAX_EXITS) {
		uint32_t r = o.exit_reason & 0xffff;
		total++;
		if (o.exit_reason & EXIT_REASON_ENTRY_FAILURE || r >= REASONS)
			other++;
		else
			count[r]++;
		if (r == EXIT_REASON_VMCALL && (uint32_t)vmx_guest_regs[0] == VMX_GUEST_MAGIC)
			break;
		/* The marker VMCALL (RAX = 1): with RFLAGS.IF = 1 and no blocking,
		 * interrupt-window exiting exits before the next instruction
		 * (25.2). That exit has no instruction to step over. */
		if (r == EXIT_REASON_VMCALL && vmx_guest_regs[0] == 1)
			vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) | PROC_INTR_WINDOW);
		if (r == EXIT_REASON_INTERRUPT_WINDOW)
			vmwrite(VMCS_PROC_CONTROLS, vmread(VMCS_PROC_CONTROLS) & ~(uint64_t)PROC_INTR_WINDOW);
		else
			vmx_skip_insn();
		o = vmx_enter_guest(true);
	}
	report(o.res == VMX_OK, "every VM entry succeeded (last result %d, error %u)", o.res, o.error);

	printf("census: %u VM exits\n", total);
	printf("census: reason | name                           | count\n");
	for (uint32_t r = 0; r < REASONS; r++)
		if (count[r])
			printf("census: %6u | %-30s | %u\n", r, reason_name(r), count[r]);
	uint32_t want_total = 0;
	for (unsigned k = 0; k < ARRAY_SIZE(expected); k++) {
		report_eq(count[expected[k].reason], expected[k].count, "census: %s exits", reason_name(expected[k].reason));
		want_total += expected[k].count;
	}
	report_eq(total, want_total, "census: total VM exits");
	report_eq(other, 0, "census: no entry failure or unknown reason");
	report_summary();
}
