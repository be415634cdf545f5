/* VM exits at instruction boundaries, seen from a guest hypervisor (SDM
 * vol. 3C, the edition whose VM-entry chapter is 26): external-interrupt
 * exiting with and without "acknowledge interrupt on exit" (25.2, 27.2.2),
 * interrupt-window and NMI-window exiting (25.2, 26.6.5, 26.6.6), the
 * VMX-preemption timer (25.5.1, 26.6.4, 27.3.4) and the monitor trap flag
 * (25.5.2, 26.5.2, 26.6.8), and their priority among themselves and
 * against interrupts (25.2 and 25.5 place each in vol. 3A Table 6-2).
 * Every check names its section; controls a model lacks are SKIPs.
 */
#include "apic.h"
#include "guest.h"
#include "vmx_vmcs.h"
#include "vmx/caps_bits.h"

#define PENDING_DBG_BS (1ull << 14)
#define GUEST_SEL_CODE KERNEL_CS
#define STUB_SIZE 16
#define STUB_VMCALL_OFF 5       /* mov $imm32, %eax */

/* 64-bit guest snippets. */
extern char gw_nops[], gw_nops_1[], gw_nops_2[];
extern char gw_sti[], gw_sti_2[];
extern char gw_hlt[], gw_hlt_1[];
extern char gw_spin[], gw_spin_vmcall[];
extern char gw_tsc_loop[], gw_tsc_loop_end[];
extern char gw_ud[], gw_rep[], gw_rep_end[];
extern char gw_stubs[];
asm(".text\n"
    ".code64\n"
    /* Two NOPs, then VMCALL. */
    "gw_nops:\n"
    "	nop\n"
    "gw_nops_1:\n"
    "	nop\n"
    "gw_nops_2:\n"
    "	vmcall\n"
    "	jmp gw_nops\n"
    /* Entered with IF = 0: the window opens after the instruction
     * following STI (blocking by STI, vol. 2 STI). */
    "gw_sti:\n"
    "	nop\n"
    "	sti\n"
    "	nop\n"
    "gw_sti_2:\n"
    "	vmcall\n"
    "	jmp gw_sti\n"
    "gw_hlt:\n"
    "	hlt\n"
    "gw_hlt_1:\n"
    "	vmcall\n"
    "	jmp gw_hlt\n"
    /* R8 = TSC, RCX iterations, R9 = TSC, VMCALL. */
    "gw_spin:\n"
    "	rdtsc\n"
    "	shl $32, %rdx\n"
    "	or %rax, %rdx\n"
    "	mov %rdx, %r8\n"
    "1:	dec %rcx\n"
    "	jnz 1b\n"
    "	rdtsc\n"
    "	shl $32, %rdx\n"
    "	or %rax, %rdx\n"
    "	mov %rdx, %r9\n"
    "gw_spin_vmcall:\n"
    "	vmcall\n"
    "	jmp gw_spin\n"
    /* R8 = the first TSC read, R9 = the latest, forever. */
    "gw_tsc_loop:\n"
    "	rdtsc\n"
    "	shl $32, %rdx\n"
    "	or %rax, %rdx\n"
    "	mov %rdx, %r8\n"
    "2:\n"
    "	.rept 15\n"                  /* long straight-line runs: decoded blocks */
    "	rdtsc\n"
    "	shl $32, %rdx\n"
    "	or %rax, %rdx\n"
    "	mov %rdx, %r9\n"
    "	.endr\n"
    "	jmp 2b\n"
    "gw_tsc_loop_end:\n"
    "gw_ud:\n"
    "	ud2\n"
    "gw_rep:\n"
    "	rep stosb\n"
    "gw_rep_end:\n"
    "	vmcall\n"
    "	jmp gw_rep\n"
    /* The guest IDT sends vector v to stub v, which VMCALLs with RAX = v. */
    "	.balign 16\n"
    "gw_stubs:\n"
    "	.set v, 0\n"
    "	.rept 256\n"
    "	.balign 16\n"
    "	mov $v, %eax\n"
    "	vmcall\n"
    "	.set v, v + 1\n"
    "	.endr\n");

static uint64_t guest_idt[512] __attribute__((aligned(4096)));
static uint64_t preempt_shift;

static uint64_t stub(unsigned v)
{
	return (uint64_t)gw_stubs + STUB_SIZE * v;
}

static void build_guest_idt(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = stub(v);
		guest_idt[2 * v] = (a & 0xffff) | (uint64_t)GUEST_SEL_CODE << 16 | 0x8eull << 40 |
				   ((a >> 16) & 0xffff) << 48;
		guest_idt[2 * v + 1] = a >> 32;
	}
}

static bool allowed(enum vmx_ctl_msr ctl, uint64_t bit)
{
	return (vmx_allowed1(ctl) & bit) == bit;
}

/* A 64-bit guest at rip with its own IDT and stack. */
static void guest_at(char *rip, uint64_t rflags)
{
	vmx_baseline(64);
	vmwrite(VMCS_GUEST_IDTR_BASE, (uint64_t)guest_idt);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, sizeof(guest_idt) - 1);
	vmwrite(VMCS_GUEST_RSP, vmx_scratch_page(2) + 0x800);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)rip);
	vmwrite(VMCS_GUEST_RFLAGS, rflags);
	memset(vmx_guest_regs, 0, sizeof(vmx_guest_regs));
}

/* The exit reason, and for every boundary exit (not caused by an
 * instruction) what 27.2 says: qualification 0, no IDT-vectoring
 * information. */
static bool expect_exit(struct vmx_outcome o, uint32_t reason, const char *what)
{
	if (o.res != VMX_OK) {
		report(false, "%s: VM entry failed (VMfail%s, error %u)", what,
		       o.res == VMX_FAIL_VALID ? "Valid" : "Invalid", o.error);
		return false;
	}
	if (!report(o.exit_reason == reason, "%s: exit reason %u (expected %u)", what, o.exit_reason, reason))
		return false;
	if (reason != EXIT_REASON_VMCALL) {
		report_eq(o.qual, 0, "%s: 27.2.1 exit qualification 0", what);
		report_eq(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID, 0,
			  "%s: 27.2.4 not during event delivery", what);
	}
	return true;
}

static void expect_rip(uint64_t rip, const char *what)
{
	report_eq(vmread(VMCS_GUEST_RIP), rip, "%s: GUEST_RIP", what);
}

static void expect_activity(uint32_t act, const char *what)
{
	report_eq(vmread(VMCS_GUEST_ACTIVITY_STATE), act, "%s: 27.3.4 activity state %u", what, act);
}

static void expect_no_intr_info(const char *what)
{
	report_eq(vmread(VMCS_EXIT_INTR_INFO) & INTR_INFO_VALID, 0,
		  "%s: 27.2.2 VM-exit interruption information not valid", what);
}

/* ---- 25.2, 26.6.5: interrupt-window exiting ---- */

static void test_interrupt_window(void)
{
	struct vmx_outcome o;
	const char *w;

	if (!allowed(VMX_CTL_PROC, PROC_INTR_WINDOW)) {
		report_skip("interrupt-window exiting: not allowed by the model");
		return;
	}
	w = "25.2 interrupt window open at VM entry (IF = 1)";
	guest_at(gw_nops, 2 | RFLAGS_IF);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_INTERRUPT_WINDOW, w)) {
		expect_rip((uint64_t)gw_nops, w);
		expect_no_intr_info(w);
		expect_activity(ACTIVITY_ACTIVE, w);
		report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0, "%s: 27.3.4 no blocking saved", w);
	}
	w = "25.2 the exit repeats while the window is open";
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_INTERRUPT_WINDOW, w))
		expect_rip((uint64_t)gw_nops, w);
	w = "25.2 interrupt-window exiting 0: no exit";
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, false);
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_VMCALL, w))
		expect_rip((uint64_t)gw_nops_2, w);

	w = "25.2 interrupt window after STI + 1 instruction (blocking by STI)";
	guest_at(gw_sti, 2);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_INTERRUPT_WINDOW, w)) {
		expect_rip((uint64_t)gw_sti_2, w);
		report(vmread(VMCS_GUEST_RFLAGS) & RFLAGS_IF, "%s: RFLAGS.IF = 1 saved", w);
		report_eq(vmread(VMCS_GUEST_INTERRUPTIBILITY), 0, "%s: blocking by STI over at the exit", w);
	}

	w = "26.6.1 blocking by STI loaded: the window opens after one instruction";
	guest_at(gw_nops, 2 | RFLAGS_IF);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, INTR_BLOCK_STI);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_INTERRUPT_WINDOW, w))
		expect_rip((uint64_t)gw_nops_1, w);

	w = "26.6.1 blocking by MOV SS loaded: the window opens after one instruction";
	guest_at(gw_nops, 2 | RFLAGS_IF);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, INTR_BLOCK_MOV_SS);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_INTERRUPT_WINDOW, w))
		expect_rip((uint64_t)gw_nops_1, w);

	w = "26.6.5 the interrupt window wakes a guest entered in HLT";
	guest_at(gw_nops, 2 | RFLAGS_IF);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_INTERRUPT_WINDOW, w)) {
		expect_rip((uint64_t)gw_nops, w);
		expect_activity(ACTIVITY_HLT, w);
	}
}

/* ---- 25.2, 26.6.6: NMI-window exiting ---- */

static bool nmi_window_allowed(void)
{
	return allowed(VMX_CTL_PROC, PROC_NMI_WINDOW) && allowed(VMX_CTL_PIN, PIN_VIRTUAL_NMIS | PIN_NMI_EXITING);
}

/* NMI-window exiting needs "virtual NMIs", which needs "NMI exiting"
 * (26.2.1.1). */
static void nmi_window_on(void)
{
	vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_VIRTUAL_NMIS | PIN_NMI_EXITING, true);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_NMI_WINDOW, true);
}

static void test_nmi_window(void)
{
	struct vmx_outcome o;
	const char *w;

	if (!nmi_window_allowed()) {
		report_skip("NMI-window exiting: not allowed by the model");
		return;
	}
	w = "25.2 NMI window open at VM entry";
	guest_at(gw_nops, 2);
	nmi_window_on();
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_NMI_WINDOW, w)) {
		expect_rip((uint64_t)gw_nops, w);
		expect_no_intr_info(w);
	}

	w = "25.2 blocking by MOV SS holds the NMI window for one instruction";
	guest_at(gw_nops, 2);
	nmi_window_on();
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, INTR_BLOCK_MOV_SS);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_NMI_WINDOW, w))
		expect_rip((uint64_t)gw_nops_1, w);

	w = "26.6.6 the NMI window wakes a guest entered in HLT";
	guest_at(gw_nops, 2);
	nmi_window_on();
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_NMI_WINDOW, w))
		expect_activity(ACTIVITY_HLT, w);

	if (allowed(VMX_CTL_PROC, PROC_INTR_WINDOW)) {
		w = "25.2 priority: NMI window before interrupt window";
		guest_at(gw_nops, 2 | RFLAGS_IF);
		nmi_window_on();
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
		o = vmx_enter_guest(false);
		expect_exit(o, EXIT_REASON_NMI_WINDOW, w);
		w = "25.2 priority: the interrupt window once the NMI window is off";
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_NMI_WINDOW, false);
		o = vmx_enter_guest(true);
		if (expect_exit(o, EXIT_REASON_INTERRUPT_WINDOW, w))
			expect_rip((uint64_t)gw_nops, w);
	}
}

/* ---- 25.2, 27.2.2: external interrupts ---- */

static void self_ipi(uint8_t v)
{
	apic_self_ipi(v);
	report(apic_vec_bit(APIC_IRR, v), "self-IPI %#x pending in IRR (host IF = 0)", v);
}

static void test_external_interrupt(void)
{
	struct vmx_outcome o;
	const char *w;
	bool ack = allowed(VMX_CTL_EXIT, EXIT_ACK_INTR_ON_EXIT);

	apic_sw_enable(0xff);
	if (ack) {
		w = "25.2 external interrupt with acknowledge-on-exit (guest IF = 0)";
		self_ipi(0x61);
		guest_at(gw_nops, 2);
		vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING, true);
		vmx_set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK_INTR_ON_EXIT, true);
		o = vmx_enter_guest(false);
		if (expect_exit(o, EXIT_REASON_EXTERNAL_INTERRUPT, w)) {
			expect_rip((uint64_t)gw_nops, w);
			report_eq(vmread(VMCS_EXIT_INTR_INFO), INTR_INFO_VALID | INTR_TYPE_EXT_INTR << 8 | 0x61,
				  "%s: 27.2.2 interruption information: valid, external interrupt, vector", w);
			report(apic_vec_bit(APIC_ISR, 0x61) && !apic_vec_bit(APIC_IRR, 0x61),
			       "%s: 27.1 the local APIC was acknowledged (ISR set, IRR clear)", w);
		}
		apic_eoi();
	} else {
		report_skip("acknowledge interrupt on exit: not allowed by the model");
	}

	w = "25.2 external interrupt without acknowledge-on-exit";
	self_ipi(0x62);
	guest_at(gw_nops, 2);
	vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING, true);
	vmx_set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK_INTR_ON_EXIT, false);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_EXTERNAL_INTERRUPT, w)) {
		expect_rip((uint64_t)gw_nops, w);
		expect_no_intr_info(w);
		report(apic_vec_bit(APIC_IRR, 0x62) && !apic_vec_bit(APIC_ISR, 0x62),
		       "%s: 27.1 the interrupt stays pending (IRR set, ISR clear)", w);
	}

	w = "25.2 external-interrupt exiting 0: delivered through the guest IDT";
	vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING, false);
	vmwrite(VMCS_GUEST_RFLAGS, 2 | RFLAGS_IF);
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_VMCALL, w)) {
		report_eq(vmx_guest_regs[0], 0x62, "%s: the guest's handler for the vector ran", w);
		expect_rip(stub(0x62) + STUB_VMCALL_OFF, w);
		report(apic_vec_bit(APIC_ISR, 0x62), "%s: acknowledged by the guest's delivery (ISR set)", w);
	}
	apic_eoi();

	if (allowed(VMX_CTL_PROC, PROC_INTR_WINDOW)) {
		w = "25.2 priority: interrupt window before an external interrupt";
		self_ipi(0x64);
		guest_at(gw_nops, 2 | RFLAGS_IF);
		vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING, true);
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
		o = vmx_enter_guest(false);
		expect_exit(o, EXIT_REASON_INTERRUPT_WINDOW, w);
		w = "25.2 priority: the external interrupt once the window is off";
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, false);
		o = vmx_enter_guest(true);
		if (expect_exit(o, EXIT_REASON_EXTERNAL_INTERRUPT, w))
			expect_rip((uint64_t)gw_nops, w);
		/* Take it in the guest so the IRR is clean again. */
		vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING, false);
		o = vmx_enter_guest(true);
		report(o.res == VMX_OK && vmx_guest_regs[0] == 0x64, "25.2 vector 64H then delivered in the guest");
		apic_eoi();
	}
	if (nmi_window_allowed()) {
		w = "25.2 priority: NMI window before an external interrupt";
		self_ipi(0x65);
		guest_at(gw_nops, 2 | RFLAGS_IF);
		vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING, true);
		nmi_window_on();
		o = vmx_enter_guest(false);
		expect_exit(o, EXIT_REASON_NMI_WINDOW, w);
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_NMI_WINDOW, false);
		vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING, false);
		o = vmx_enter_guest(true);
		report(o.res == VMX_OK && vmx_guest_regs[0] == 0x65, "25.2 vector 65H then delivered in the guest");
		apic_eoi();
	}

	w = "25.2 the local APIC timer's interrupt ends HLT by a VM exit (guest IF = 0)";
	guest_at(gw_hlt, 2);
	vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING, true);
	vmx_set_ctl(VMCS_EXIT_CONTROLS, EXIT_ACK_INTR_ON_EXIT, ack);
	apic_write(APIC_TDCR, apic_tdcr_for(1));
	apic_write(APIC_LVTT, 0x63 | APIC_TIMER_ONESHOT);
	apic_write(APIC_TMICT, 20000);
	o = vmx_enter_guest(false);
	apic_write(APIC_LVTT, APIC_LVT_MASKED);
	if (expect_exit(o, EXIT_REASON_EXTERNAL_INTERRUPT, w)) {
		expect_rip((uint64_t)gw_hlt_1, w);
		expect_activity(ACTIVITY_HLT, w);
		if (ack)
			report_eq(vmread(VMCS_EXIT_INTR_INFO), INTR_INFO_VALID | 0x63, "%s: vector 63H", w);
	}
	if (!ack) {     /* still pending: take it in the guest */
		vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_EXT_INTR_EXITING, false);
		vmwrite(VMCS_GUEST_RFLAGS, 2 | RFLAGS_IF);
		o = vmx_enter_guest(true);
		report(o.res == VMX_OK && vmx_guest_regs[0] == 0x63, "25.2 vector 63H then delivered in the guest");
	}
	apic_eoi();
}

/* ---- 25.5.1, 26.6.4, 27.3.4: the VMX-preemption timer ---- */

static bool timer_allowed(void)
{
	return allowed(VMX_CTL_PIN, PIN_PREEMPTION_TIMER) && allowed(VMX_CTL_EXIT, EXIT_SAVE_PREEMPT_TIMER);
}

static void timer_on(uint32_t value, bool save)
{
	vmx_set_ctl(VMCS_PIN_CONTROLS, PIN_PREEMPTION_TIMER, true);
	vmx_set_ctl(VMCS_EXIT_CONTROLS, EXIT_SAVE_PREEMPT_TIMER, save);
	vmwrite(VMCS_PREEMPTION_TIMER_VALUE, value);
}

static uint64_t ticks(uint64_t from, uint64_t to)
{
	return (to >> preempt_shift) - (from >> preempt_shift);
}

static void test_timer_counts(void)
{
	const uint32_t v = 1000000;
	const char *w = "25.5.1 the timer counts down at TSC bit X";
	struct vmx_outcome o;
	uint64_t t0, t1, saved, lo, hi;

	guest_at(gw_spin, 2);
	timer_on(v, true);
	vmx_guest_regs[1] = 2000;
	t0 = rdtsc();
	o = vmx_enter_guest(false);
	t1 = rdtsc();
	if (!expect_exit(o, EXIT_REASON_VMCALL, w))
		return;
	saved = vmread(VMCS_PREEMPTION_TIMER_VALUE);
	/* Entry <= the guest's first RDTSC (R8); its last (R9) <= the exit;
	 * and both lie between the host's reads around the entry. */
	lo = ticks(vmx_guest_regs[8], vmx_guest_regs[9]);
	hi = ticks(t0, t1);
	report(lo > 0 && saved <= v - lo && saved >= v - hi,
	       "%s: 27.3.4 saved value %llu within [%llu, %llu] (ticks of TSC >> %llu)", w,
	       (unsigned long long)saved, (unsigned long long)(v - hi), (unsigned long long)(v - lo),
	       (unsigned long long)preempt_shift);

	w = "27.3.4 save VMX-preemption timer value 0: the field keeps the value loaded";
	guest_at(gw_spin, 2);
	timer_on(v, false);
	vmx_guest_regs[1] = 100;
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_VMCALL, w))
		report_eq(vmread(VMCS_PREEMPTION_TIMER_VALUE), v, "%s", w);
}

static void test_timer_fires(void)
{
	const uint32_t v = 300;
	const char *w = "25.2 the timer reaching 0 causes exit 52";
	struct vmx_outcome o;
	uint64_t t0, t1;

	guest_at(gw_tsc_loop, 2);
	timer_on(v, true);
	t0 = rdtsc();
	o = vmx_enter_guest(false);
	t1 = rdtsc();
	if (expect_exit(o, EXIT_REASON_PREEMPTION_TIMER, w)) {
		uint64_t rip = vmread(VMCS_GUEST_RIP);
		report(rip >= (uint64_t)gw_tsc_loop && rip < (uint64_t)gw_tsc_loop_end, "%s: GUEST_RIP in the loop", w);
		report_eq(vmread(VMCS_PREEMPTION_TIMER_VALUE), 0, "%s: 27.3.4 saved value 0", w);
		expect_no_intr_info(w);
		expect_activity(ACTIVITY_ACTIVE, w);
		/* The timer reached 0 only after TSC >> X grew by v. */
		report(ticks(t0, t1) >= v, "%s: not before %u ticks (%llu)", w, v,
		       (unsigned long long)ticks(t0, t1));
		/* ... and at the first boundary: the last RDTSC ran before it. */
		report(ticks(vmx_guest_regs[8], vmx_guest_regs[9]) < v, "%s: the last guest RDTSC saw it unexpired", w);
	}

	w = "25.5.1 the timer wakes a halted guest (IF = 0)";
	guest_at(gw_hlt, 2);
	timer_on(v, true);
	t0 = rdtsc();
	o = vmx_enter_guest(false);
	t1 = rdtsc();
	if (expect_exit(o, EXIT_REASON_PREEMPTION_TIMER, w)) {
		expect_rip((uint64_t)gw_hlt_1, w);
		expect_activity(ACTIVITY_HLT, w);
		report_eq(vmread(VMCS_PREEMPTION_TIMER_VALUE), 0, "%s: saved value 0", w);
		report(ticks(t0, t1) >= v, "%s: after %u ticks (%llu)", w, v, (unsigned long long)ticks(t0, t1));
	}

	w = "26.6.4 value 0: exit before the first guest instruction";
	guest_at(gw_nops, 2);
	timer_on(0, true);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_PREEMPTION_TIMER, w)) {
		expect_rip((uint64_t)gw_nops, w);
		report_eq(vmread(VMCS_PREEMPTION_TIMER_VALUE), 0, "%s: saved value 0", w);
	}

	w = "26.6.4 value 0 with an entry to HLT: exit from the HLT state";
	guest_at(gw_nops, 2);
	timer_on(0, false);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_PREEMPTION_TIMER, w)) {
		expect_rip((uint64_t)gw_nops, w);
		expect_activity(ACTIVITY_HLT, w);
	}

	if (nmi_window_allowed()) {
		w = "25.2 priority: the timer before the NMI window";
		guest_at(gw_nops, 2);
		timer_on(0, false);
		nmi_window_on();
		o = vmx_enter_guest(false);
		expect_exit(o, EXIT_REASON_PREEMPTION_TIMER, w);
	}
}

static void test_preemption_timer(void)
{
	if (!timer_allowed()) {
		report_skip("VMX-preemption timer: not allowed by the model");
		return;
	}
	preempt_shift = vmx_msr(MSR_IA32_VMX_MISC) & VMX_MISC_PREEMPT_RATE_MASK;
	test_timer_counts();
	test_timer_fires();
}

/* ---- 25.5.2, 26.5.2, 26.6.8: the monitor trap flag ---- */

static void test_mtf_basic(void)
{
	struct vmx_outcome o;
	const char *w = "25.5.2 MTF VM exit after one instruction";

	guest_at(gw_nops, 2);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MTF, true);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_MTF, w)) {
		expect_rip((uint64_t)gw_nops_1, w);
		expect_no_intr_info(w);
	}
	w = "25.5.2 MTF VM exit after the next instruction";
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_MTF, w))
		expect_rip((uint64_t)gw_nops_2, w);
	w = "25.5.2 an instruction that exits: no MTF VM exit";
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_VMCALL, w))
		expect_rip((uint64_t)gw_nops_2, w);

	w = "25.5.2 MTF after HLT: the exit is from the HLT state";
	guest_at(gw_hlt, 2);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MTF, true);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_MTF, w)) {
		expect_rip((uint64_t)gw_hlt_1, w);
		expect_activity(ACTIVITY_HLT, w);
	}

	w = "25.5.2 MTF after a fault delivered in the guest: at the handler";
	guest_at(gw_ud, 2);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MTF, true);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_MTF, w))
		expect_rip(stub(VEC_UD), w);

	w = "25.5.2 MTF after one iteration of REP STOSB";
	guest_at(gw_rep, 2);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MTF, true);
	vmx_guest_regs[1] = 3;
	vmx_guest_regs[7] = vmx_scratch_page(4);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_MTF, w)) {
		expect_rip((uint64_t)gw_rep, w);
		report_eq(vmx_guest_regs[1], 2, "%s: RCX counted one iteration", w);
		report_eq(vmx_guest_regs[7], vmx_scratch_page(4) + 1, "%s: RDI advanced by one", w);
	}
}

static void test_mtf_events(void)
{
	struct vmx_outcome o;
	const char *w = "25.5.2 MTF with an injected interrupt: exit before the handler's first instruction";

	guest_at(gw_nops, 2 | RFLAGS_IF);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MTF, true);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_EXT_INTR << 8 | 0x40);
	vmx_guest_regs[0] = 0x1234;
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_MTF, w)) {
		expect_rip(stub(0x40), w);
		report_eq(vmx_guest_regs[0], 0x1234, "%s: the handler has not run", w);
	}

	w = "26.5.2 injected pending MTF VM exit (type 7), control 0: exit before any instruction";
	guest_at(gw_nops, 2);
	vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_OTHER << 8);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_MTF, w))
		expect_rip((uint64_t)gw_nops, w);

	w = "25.5.2 single-step and MTF: the MTF VM exit first, BS saved pending";
	guest_at(gw_nops, 2 | RFLAGS_TF);
	vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MTF, true);
	o = vmx_enter_guest(false);
	if (expect_exit(o, EXIT_REASON_MTF, w)) {
		expect_rip((uint64_t)gw_nops_1, w);
		report_eq(vmread(VMCS_GUEST_PENDING_DBG_EXCEPTIONS) & PENDING_DBG_BS, PENDING_DBG_BS,
			  "%s: 27.3.4 pending debug exceptions BS", w);
	}
	w = "26.6.3 the pending #DB is delivered after VMRESUME, then the MTF VM exit";
	o = vmx_enter_guest(true);
	if (expect_exit(o, EXIT_REASON_MTF, w))
		expect_rip(stub(VEC_DB), w);

	if (allowed(VMX_CTL_PROC, PROC_INTR_WINDOW)) {
		w = "26.6.8 priority: a pending MTF VM exit before the interrupt window";
		guest_at(gw_nops, 2 | RFLAGS_IF);
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_INTR_WINDOW, true);
		vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_OTHER << 8);
		o = vmx_enter_guest(false);
		expect_exit(o, EXIT_REASON_MTF, w);
		w = "26.6.8 priority: then the interrupt window";
		o = vmx_enter_guest(true);
		expect_exit(o, EXIT_REASON_INTERRUPT_WINDOW, w);
	}
	if (timer_allowed()) {
		w = "25.5.2 priority: a pending MTF VM exit before the preemption timer";
		guest_at(gw_nops, 2);
		timer_on(0, true);
		vmwrite(VMCS_ENTRY_INTR_INFO, INTR_INFO_VALID | INTR_TYPE_OTHER << 8);
		o = vmx_enter_guest(false);
		if (expect_exit(o, EXIT_REASON_MTF, w))
			report_eq(vmread(VMCS_PREEMPTION_TIMER_VALUE), 0, "%s: 27.3.4 the timer saved at 0", w);
		w = "25.5.2 priority: the timer at 0 before MTF's first instruction";
		guest_at(gw_nops, 2);
		timer_on(0, false);
		vmx_set_ctl(VMCS_PROC_CONTROLS, PROC_MTF, true);
		o = vmx_enter_guest(false);
		if (expect_exit(o, EXIT_REASON_PREEMPTION_TIMER, w))
			expect_rip((uint64_t)gw_nops, w);
	}
}

static void test_mtf(void)
{
	if (!allowed(VMX_CTL_PROC, PROC_MTF)) {
		report_skip("monitor trap flag: not allowed by the model");
		return;
	}
	test_mtf_basic();
	test_mtf_events();
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	build_guest_idt();
	if (vmx_start()) {
		test_interrupt_window();
		test_nmi_window();
		test_external_interrupt();
		test_preemption_timer();
		test_mtf();
	}
	report_summary();
}
