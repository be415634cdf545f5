/* Lesson 07: the VMX-preemption timer.
 *
 * A hypervisor that shares a CPU between guests needs the CPU back after a
 * time slice even if the guest never exits by itself. The VMX-preemption
 * timer does that without any device: with the pin-based control
 * "activate VMX-preemption timer" (bit 6, 24.6.1), VM entry loads the timer
 * from the VMX-preemption timer-value field (26.6.4), the timer counts
 * down in non-root operation and when it reaches 0 the guest exits with
 * reason 52 (25.5.1).
 *
 * Its rate: it counts down by 1 every time bit X of the TSC changes, where
 * X = IA32_VMX_MISC[4:0] (25.5.1, A.6). So a value V gives the guest about
 * V << X TSC ticks.
 *
 * Re-arming: VM entry always loads the field; a VM exit writes the
 * remaining count back ONLY with the VM-exit control "save VMX-preemption
 * timer value" (bit 22, 27.3.4). Without it the field keeps what we wrote
 * and every entry gets the same slice; with it, after a timer exit the
 * field holds 0 and the host must write a new slice before resuming.
 *
 * The guest: read the TSC once, then loop reading it and counting. At each
 * exit the host compares the guest's own TSC readings with V << X. They
 * fall a little short: the timer starts at VM entry, before the guest's
 * first RDTSC, and entry latency counts against the slice (SDM chapter 31,
 * VMM programming considerations, on the VM quantum). Nor are all slices equal: the timer counts CHANGES of
 * TSC bit X, so its first tick comes 1 to 2^X TSC ticks after the entry,
 * depending on where the TSC stands - slices differ by up to 2^X ticks.
 *
 * Run:   build/vtxsim -kernel build/guests/examples/lessons/07-preemption.elf
 */
#include "lesson.h"

#define SLICE 1000ull           /* timer ticks per slice */

/* RSI = TSC at the start; then RBX counts iterations and EAX holds the
 * TSC's low half at the last one. (64-bit mode: EDX is ignored, the
 * slices are far shorter than 2^32 ticks.) */
void guest_code(void);
asm(".text\n"
    "guest_code:\n"
    "	rdtsc\n"
    "	mov %eax, %esi\n"
    "	xor %ebx, %ebx\n"
    "1:	rdtsc\n"
    "	inc %rbx\n"
    "	jmp 1b\n");

/* One slice from the guest's first instruction; returns the TSC ticks the
 * guest saw from its first to its last RDTSC. */
static uint64_t run_slice(struct lesson_regs *regs, bool launch, unsigned round)
{
	uint64_t seen;

	vmwrite(VMCS_GUEST_RIP, (uint64_t)guest_code);
	if (lesson_enter(regs, launch) != 0) {
		printf("host: VM entry failed, error %lu\n", vmread(VMCS_VM_INSTRUCTION_ERROR));
		report_summary();
	}
	seen = (uint32_t)(regs->rax - regs->rsi);
	printf("host: slice %u: exit %u (%s); the guest looped %lu times over %lu TSC ticks; "
	       "timer field now %lu\n", round, lesson_exit_reason(), lesson_exit_name(lesson_exit_reason()),
	       regs->rbx, seen, vmread(VMCS_PREEMPTION_TIMER_VALUE));
	report_eq(lesson_exit_reason(), EXIT_REASON_PREEMPTION_TIMER, "slice %u ends with exit 52", round);
	return seen;
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	struct lesson_regs regs = { 0 };
	uint64_t misc = rdmsr(MSR_IA32_VMX_MISC), pin_cap, rate, ticks, seen[3];

	(void)magic, (void)mbinfo;
	printf("lesson 07: the VMX-preemption timer\n");
	if (!report(lesson_vmx_on(), "in VMX operation (lesson 01)"))
		report_summary();
	pin_cap = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	if (!report(pin_cap >> 32 & PIN_PREEMPTION_TIMER, "the timer may be activated (pin-based bit 6 allowed-1)"))
		report_summary();
	rate = misc & 0x1f;
	ticks = SLICE << rate;
	printf("host: IA32_VMX_MISC = %#lx: the timer ticks when TSC bit %lu changes; "
	       "a slice of %llu = %lu TSC ticks\n", misc, rate, SLICE, ticks);

	lesson_vmcs_init(guest_code);
	vmwrite(VMCS_PIN_CONTROLS, lesson_ctl(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
					      PIN_PREEMPTION_TIMER));
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, SLICE);
	seen[0] = run_slice(&regs, true, 1);
	seen[1] = run_slice(&regs, false, 2);   /* the field still holds SLICE */

	/* Now with "save VMX-preemption timer value": the exit stores 0. */
	vmwrite(VMCS_EXIT_CONTROLS, lesson_ctl(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS,
					       EXIT_HOST_ADDR_SPACE | EXIT_SAVE_PREEMPT_TIMER));
	seen[2] = run_slice(&regs, false, 3);
	report_eq(vmread(VMCS_PREEMPTION_TIMER_VALUE), 0, "with the save control the exit stored 0 (27.3.4)");
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, SLICE);
	printf("host: re-armed: timer field %lu\n", vmread(VMCS_PREEMPTION_TIMER_VALUE));

	for (int i = 0; i < 3; i++)
		report(seen[i] <= ticks && seen[i] + ticks / 50 > ticks,
		       "slice %d: the guest saw at most %lu TSC ticks, less than 2%% short (%lu)", i + 1, ticks, seen[i]);
	for (int i = 1; i < 3; i++)
		report(seen[i] - seen[0] + (1ull << rate) <= 2 * (1ull << rate),
		       "slices 1 and %d differ by at most 2^%lu TSC ticks", i + 1, rate);
	report(lesson_vmx_off(), "VMCLEAR, VMXOFF");
	report_summary();
}
