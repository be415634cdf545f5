/* Lesson 04: handling VM exits and resuming the guest.
 *
 * A hypervisor is a loop:  enter the guest -> it exits -> find out why ->
 * do what the guest wanted -> move its RIP past the instruction -> VMRESUME.
 *
 * The guest here asks "who is my hypervisor?" with CPUID leaf 0x40000000,
 * reads the UART's line status with IN, and prints the answer on COM1 with
 * OUT instructions. With "unconditional I/O exiting" (24.6.2, Table 24-6)
 * every IN and OUT exits (25.1.3); CPUID always exits (25.1.2). The host
 * handles three exit reasons (Appendix C) using three exit-information
 * fields (27.2.1, 27.2.4):
 *
 *   EXIT_REASON           10 CPUID, 30 I/O instruction, 18 VMCALL
 *   EXIT_QUALIFICATION    for I/O (Table 27-5): bits 2:0 size - 1, bit 3
 *                         direction (1 = IN), bit 4 string, bit 5 REP,
 *                         bit 6 operand (0 = DX, 1 = immediate), 31:16 port
 *   EXIT_INSTRUCTION_LEN  how far to advance GUEST_RIP (27.2.4)
 *
 * The guest's general registers are not in the VMCS: lesson_enter saves
 * them at each exit and loads them at each entry (struct lesson_regs), so
 * "emulating CPUID" is writing regs.rax..rdx, "emulating IN" writing AL.
 *
 * Run:   build/vtxsim -kernel build/guests/examples/lessons/04-exit-resume.elf
 *        (--explain narrates every exit and entry)
 */
#include "lesson.h"

#define HV_LEAF 0x40000000u     /* the range CPUID leaves hypervisors use */
#define COM1 0x3f8
#define COM1_LSR (COM1 + 5)
#define LSR_THR_EMPTY 0x60      /* transmitter empty, holding register empty */

/* ---- the guest (runs in VMX non-root operation) ---- */

static void guest_out(const char *s)
{
	for (; *s; s++)
		outb(COM1, *s);         /* each OUT exits */
}

static void guest_main(void)
{
	struct cpuid_regs r = cpuid(HV_LEAF, 0);         /* exits */
	char vendor[13];

	memcpy(vendor + 0, &r.b, 4);
	memcpy(vendor + 4, &r.c, 4);
	memcpy(vendor + 8, &r.d, 4);
	vendor[12] = 0;
	if (inb(COM1_LSR) & LSR_THR_EMPTY) {              /* exits */
		guest_out("guest: my hypervisor is ");
		guest_out(vendor);
		guest_out("\n");
	}
	asm volatile("vmcall");                          /* exits: done */
}

/* ---- the host ---- */

struct counts {
	unsigned cpuid, in, out, other;
};

/* CPUID (exit 10): answer the hypervisor leaf ourselves, pass the rest
 * through by running CPUID here in the host. */
static void handle_cpuid(struct lesson_regs *g, struct counts *n)
{
	uint32_t leaf = (uint32_t)g->rax;
	struct cpuid_regs r = cpuid(leaf, (uint32_t)g->rcx);

	if (leaf == HV_LEAF) {
		r.a = HV_LEAF;                          /* highest hypervisor leaf */
		memcpy(&r.b, "Vtxs", 4);
		memcpy(&r.c, "imLe", 4);
		memcpy(&r.d, "sson", 4);
	}
	printf("host: exit 10 CPUID leaf %#x at RIP %#lx, length %lu\n", leaf,
	       vmread(VMCS_GUEST_RIP), vmread(VMCS_EXIT_INSTRUCTION_LEN));
	g->rax = r.a, g->rbx = r.b, g->rcx = r.c, g->rdx = r.d;
	n->cpuid++;
}

/* I/O (exit 30): decode the qualification, forward COM1 output to the
 * real COM1, answer the line-status IN. */
static void handle_io(struct lesson_regs *g, struct counts *n)
{
	uint64_t q = vmread(VMCS_EXIT_QUALIFICATION);
	unsigned size = (q & 7) + 1, in = q >> 3 & 1, port = q >> 16 & 0xffff;

	if (in ? !n->in : !n->out)              /* the first of each kind */
		printf("host: exit 30 I/O, qualification %#lx: %s port %#x, %u byte(s), %s, length %lu\n",
		       q, in ? "IN from" : "OUT to", port, size, q >> 6 & 1 ? "immediate" : "port in DX",
		       vmread(VMCS_EXIT_INSTRUCTION_LEN));
	if (in) {
		g->rax = (g->rax & ~0xfful) | (port == COM1_LSR ? LSR_THR_EMPTY : 0xff);
		n->in++;
	} else {
		if (port == COM1)
			serial_putc((char)g->rax);      /* the guest's byte, on our COM1 */
		n->out++;
	}
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	struct lesson_regs regs = { 0 };
	struct counts n = { 0 };
	bool launch = true;
	uint32_t reason;

	(void)magic, (void)mbinfo;
	printf("lesson 04: exits, emulation, VMRESUME\n");
	if (!report(lesson_vmx_on(), "in VMX operation (lesson 01)"))
		report_summary();
	lesson_vmcs_init(guest_main);
	vmwrite(VMCS_PROC_CONTROLS, lesson_ctl(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
					       PROC_UNCOND_IO_EXITING));
	for (;;) {
		if (lesson_enter(&regs, launch) != 0) {
			printf("host: VM entry failed, VM-instruction error %lu\n",
			       vmread(VMCS_VM_INSTRUCTION_ERROR));
			break;
		}
		launch = false;                 /* launched: from now on VMRESUME (30.3) */
		reason = lesson_exit_reason();
		if (reason == EXIT_REASON_VMCALL)
			break;
		if (reason == EXIT_REASON_CPUID)
			handle_cpuid(&regs, &n);
		else if (reason == EXIT_REASON_IO_INSTRUCTION)
			handle_io(&regs, &n);
		else {
			printf("host: unexpected exit %u (%s)\n", reason, lesson_exit_name(reason));
			n.other++;
			break;
		}
		lesson_skip_instruction();      /* RIP += instruction length */
	}
	printf("host: exit 18 VMCALL: the guest is done after %u CPUID, %u IN and %u OUT exits\n",
	       n.cpuid, n.in, n.out);
	report(lesson_exit_reason() == EXIT_REASON_VMCALL && n.other == 0, "the guest ended with VMCALL");
	report_eq(n.cpuid, 1, "one CPUID exit");
	report_eq(n.in, 1, "one IN exit");
	report_eq(n.out, strlen("guest: my hypervisor is VtxsimLesson\n"), "one OUT exit per byte printed");
	report(lesson_vmx_off(), "VMCLEAR, VMXOFF");
	report_summary();
}
