/* Lesson 06: event injection and interrupt-window exiting.
 *
 * A hypervisor delivers interrupts and exceptions to its guest by writing
 * the VM-entry interruption-information field before VMRESUME (24.8.3,
 * Table 24-16): the next VM entry then delivers the event through the
 * GUEST's IDT, exactly as if it had happened in the guest (26.5.1):
 *   bits 7:0   vector
 *   bits 10:8  type: 0 external interrupt, 2 NMI, 3 hardware exception,
 *              4 software interrupt, 6 software exception
 *   bit 11     deliver an error code (from ENTRY_EXCEPTION_ERROR_CODE)
 *   bit 31     valid
 * Every VM exit clears the valid bit (27.2.3), so each write injects one
 * event.
 *
 * An exception can be injected at any time. An external interrupt cannot:
 * the guest must be able to take it. VM entry REFUSES to inject an
 * external interrupt while the guest's RFLAGS.IF = 0 (26.3.1.4) or while
 * it is in an STI or MOV-SS shadow (26.3.1.5). So a hypervisor with an
 * interrupt for a guest that has interrupts disabled sets "interrupt-window
 * exiting" (24.6.2): the guest runs until it can take an interrupt
 * (IF = 1, no blocking), then exits with reason 7 before the next
 * instruction (25.2, 26.6.5); the host clears the control and injects.
 *
 * The guest: VMCALL 1; (we inject #GP with error code 0x18); VMCALL 2 with
 * IF = 0 (we want to deliver interrupt 0x30 and must wait); STI; NOP
 * (the STI shadow); the window opens: exit 7, we inject 0x30; VMCALL 3.
 *
 * Run:   build/vtxsim -kernel build/guests/examples/lessons/06-injection.elf
 * Debug: `catch inject` stops at each VM entry that injects.
 */
#include "lesson.h"

#define TIMER_VECTOR 0x30
/* The field's bits and types: vtxsim's INTR_INFO_* and INTR_TYPE_* (vmx/controls.h). */
#define EXTERNAL_INTERRUPT (INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT)
#define HARDWARE_EXCEPTION (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT)

/* What the guest's handlers saw. */
static volatile unsigned timer_ticks, gp_count;
static volatile uint64_t gp_error;

/* ---- the guest: its IDT handlers (the library's IDT, shared) and code ---- */
static void guest_timer(struct intr_frame *f)
{
	(void)f;
	timer_ticks++;
}

static void guest_gp(struct intr_frame *f)
{
	gp_count++;
	gp_error = f->error_code;
}

void guest_code(void);
extern char guest_after_sti[];
asm(".text\n"
    "guest_code:\n"
    "	vmcall\n"                   /* 1: "inject an exception" */
    "	vmcall\n"                   /* 2: "I have interrupts off" */
    "	sti\n"
    "guest_after_sti:\n"
    "	nop\n"                      /* blocked by STI until this one is done */
    "	vmcall\n"                   /* 3: done (the window exit comes first) */
    "	ud2\n");

/* ---- the host ---- */
static uint32_t run(struct lesson_regs *regs, bool launch)
{
	if (lesson_enter(regs, launch) != 0) {
		printf("host: VM entry failed, error %lu\n", vmread(VMCS_VM_INSTRUCTION_ERROR));
		report_summary();
	}
	printf("host: exit %u (%s) at RIP %#lx, RFLAGS.IF %lu\n", lesson_exit_reason(),
	       lesson_exit_name(lesson_exit_reason()), vmread(VMCS_GUEST_RIP),
	       vmread(VMCS_GUEST_RFLAGS) >> 9 & 1);
	return lesson_exit_reason();
}

static void set_window_exiting(bool on)
{
	uint32_t want = on ? PROC_INTR_WINDOW : 0;

	vmwrite(VMCS_PROC_CONTROLS, lesson_ctl(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS, want));
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	struct lesson_regs regs = { 0 };

	(void)magic, (void)mbinfo;
	printf("lesson 06: event injection, interrupt window\n");
	if (!report(lesson_vmx_on(), "in VMX operation (lesson 01)"))
		report_summary();
	idt_set_handler(TIMER_VECTOR, guest_timer, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_GP, guest_gp, GATE_INTERRUPT, 0);
	lesson_vmcs_init(guest_code);

	report(run(&regs, true) == EXIT_REASON_VMCALL, "VMCALL 1");
	lesson_skip_instruction();
	/* A hardware exception with an error code: #GP(0x18). */
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | HARDWARE_EXCEPTION | INTR_INFO_HAS_ERROR | VEC_GP);
	vmwrite(VMCS_ENTRY_EXCEPTION_ERROR_CODE, 0x18);
	printf("host: inject #GP(0x18): interruption information %#lx\n", vmread(VMCS_ENTRY_INTR_INFO));

	report(run(&regs, false) == EXIT_REASON_VMCALL, "VMCALL 2");
	report(gp_count == 1 && gp_error == 0x18, "the guest's #GP handler ran once with error code 0x18");
	lesson_skip_instruction();
	/* Interrupt 0x30 is due, but the guest has IF = 0: wait for the window. */
	report((vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF) == 0, "guest RFLAGS.IF = 0: cannot inject an interrupt now");
	set_window_exiting(true);

	report(run(&regs, false) == EXIT_REASON_INTERRUPT_WINDOW, "exit 7: interrupt window open");
	report_eq(vmread(VMCS_GUEST_RIP), (uint64_t)guest_after_sti + 1,
		  "the window opened after STI and the one instruction it shadows");
	set_window_exiting(false);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | EXTERNAL_INTERRUPT | TIMER_VECTOR);
	printf("host: inject interrupt %#x: interruption information %#lx\n", TIMER_VECTOR,
	       vmread(VMCS_ENTRY_INTR_INFO));

	report(run(&regs, false) == EXIT_REASON_VMCALL, "VMCALL 3");
	report_eq(timer_ticks, 1, "the guest's handler for vector 0x30 ran once");
	report(lesson_vmx_off(), "VMCLEAR, VMXOFF");
	report_summary();
}
