/* Lesson 03: a VM entry that fails, and how to read why.
 *
 * VM entry checks the VMCS in three stages, in the SDM's order (26.1-26.3),
 * and the stage that finds the mistake decides how the failure looks:
 *
 *   controls and host state (26.2): VMLAUNCH itself fails with VMfailValid
 *     (RFLAGS.ZF = 1) and the VM-INSTRUCTION ERROR field says which stage:
 *     7 "VM entry with invalid control field(s)", 8 "... invalid host-state
 *     field(s)" (30.4). Nothing about the guest was loaded.
 *   guest state (26.3.1): the instruction "succeeds" but what comes back is
 *     a VM exit whose EXIT REASON has bit 31 set ("VM-entry failure") and
 *     basic reason 33, "VM-entry failure due to invalid guest state"; the
 *     exit qualification is 0 in most cases (26.7). The guest never ran a
 *     single instruction, and the launch state stays "clear" (30.3
 *     "VMLAUNCH": only a successful entry marks the VMCS launched).
 *
 * Neither says WHICH rule failed: that is the hard part of real hardware.
 * vtxsim names it: run this lesson with --debug, `catch vmentry-fail`,
 * `continue`, then `vmx explain` (docs/tutorial.md, lesson 03).
 *
 * The two mistakes below are the two most common first-hypervisor bugs:
 *   A. writing a control word without the must-be-1 bits its capability
 *      MSR reports (A.3.1: here PIN_CONTROLS = 0);
 *   B. a guest RFLAGS of 0 - bit 1 of RFLAGS is reserved and must be 1
 *      (26.3.1.4).
 *
 * Run:   build/vtxsim -kernel build/guests/examples/lessons/03-failed-entry.elf
 */
#include "lesson.h"

void guest_code(void);
asm(".text\n"
    "guest_code:\n"
    "	vmcall\n"
    "	ud2\n");

/* Mistake A: VMfailValid with a VM-instruction error. */
static void controls_mistake(void)
{
	struct lesson_regs regs = { 0 };
	uint64_t good = vmread(VMCS_PIN_CONTROLS), rflags;

	vmwrite(VMCS_PIN_CONTROLS, 0);          /* forgot the must-be-1 bits */
	rflags = lesson_enter(&regs, true);
	printf("A. PIN_CONTROLS = 0: VMLAUNCH -> RFLAGS %#lx (CF %lu, ZF %lu), VM-instruction error %lu\n",
	       rflags, rflags & 1, rflags >> 6 & 1, vmread(VMCS_VM_INSTRUCTION_ERROR));
	report(rflags & RFLAGS_ZF, "A: VMLAUNCH fails with VMfailValid (ZF = 1)");
	report_eq(vmread(VMCS_VM_INSTRUCTION_ERROR), 7, "A: error 7, invalid control field(s) (30.4)");
	vmwrite(VMCS_PIN_CONTROLS, good);       /* the fix: lesson_ctl() */
}

/* Mistake B: a VM exit with bit 31 set. */
static void guest_state_mistake(void)
{
	struct lesson_regs regs = { 0 };
	uint64_t rflags, reason;

	vmwrite(VMCS_GUEST_RFLAGS, 0);          /* forgot reserved bit 1 */
	rflags = lesson_enter(&regs, true);
	reason = vmread(VMCS_EXIT_REASON);
	printf("B. GUEST_RFLAGS = 0: VMLAUNCH -> %s; exit reason %#lx (bit 31 %lu, basic %lu: %s), qualification %lu\n",
	       rflags ? "VMfail" : "VM exit", reason, reason >> 31, reason & 0xffff,
	       lesson_exit_name(reason & 0xffff), vmread(VMCS_EXIT_QUALIFICATION));
	report(rflags == 0, "B: VMLAUNCH does not VMfail: the failure comes back as a VM exit");
	report_eq(reason, 0x80000000u | EXIT_REASON_INVALID_GUEST_STATE,
		  "B: exit reason 0x80000021: entry failure (bit 31), invalid guest state (33)");
	report_eq(vmread(VMCS_EXIT_QUALIFICATION), 0, "B: qualification 0 (26.7)");
	vmwrite(VMCS_GUEST_RFLAGS, 0x2);        /* the fix */
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	struct lesson_regs regs = { 0 };
	uint64_t rflags;

	(void)magic, (void)mbinfo;
	printf("lesson 03: VM entries that fail\n");
	if (!report(lesson_vmx_on(), "in VMX operation (lesson 01)"))
		report_summary();
	lesson_vmcs_init(guest_code);           /* a valid VMCS (lesson 02) */
	controls_mistake();
	guest_state_mistake();

	/* Both fixed: the launch state is still clear, so VMLAUNCH again. */
	rflags = lesson_enter(&regs, true);
	printf("fixed: VMLAUNCH -> exit reason %u (%s)\n", lesson_exit_reason(),
	       lesson_exit_name(lesson_exit_reason()));
	report(rflags == 0 && vmread(VMCS_EXIT_REASON) == EXIT_REASON_VMCALL,
	       "fixed: VMLAUNCH enters the guest, which exits with VMCALL");
	report(lesson_vmx_off(), "VMCLEAR, VMXOFF");
	report_summary();
}
