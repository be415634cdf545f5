/* Non-root events at instruction boundaries: external-interrupt exiting,
 * interrupt-window and NMI-window exiting, the VMX-preemption timer and the
 * monitor trap flag (SDM vol. 3C 25.2, 25.3, 25.5.1, 25.5.2; what happens
 * right after VM entry: 26.5.2, 26.6.4-26.6.6, 26.6.8; saving the timer:
 * 27.3.4), in the priority order of vol. 3A 6.9 (Table 6-2) with the VM
 * exits placed where 25.2 and 25.5 put them:
 *
 *   INIT (xev's code in cpu/exec.c)
 *   MTF VM exit                   25.5.2: after SMI/INIT, before debug traps
 *   debug traps of the previous instruction (delivered by cpu/debug.c)
 *   VMX-preemption timer expired  25.2: after debug traps, before NMI window
 *   NMI-window exiting            25.2: before NMIs
 *   NMI (cpu/exec.c, cpu/exception.c)
 *   interrupt-window exiting      25.2: after NMIs, before external interrupts
 *   external interrupt            25.2: exits with "external-interrupt exiting"
 *
 * The controls are cached at VM entry in c->vmx.bnd: in non-root operation
 * the VMCS changes only by VM exits (VMWRITE exits), so the cache holds
 * until the next exit.
 */
#include "cpu/model.h"
#include "vmx/exit.h"
#include "vmx/vmcs.h"

/* Single-instruction execution starts this many cycles before the timer's
 * deadline, so the exit happens on exactly the first instruction boundary
 * at which the timer is 0: more than a decoded block can cost (64
 * instructions of at most 255 cycles each, cpu/exec.c, cpu/decode.h). */
#define TIMER_STEP_WINDOW (64u * 256u)

static void boundary_exit(struct cpu *c, enum vmx_exit_reason reason)
{
	struct vmx_exit_info x = { .reason = reason };
	vmx_vmexit(c, &x);
}

/* ---- the VMX-preemption timer (25.5.1, 26.6.4, 27.3.4) ---- */

/* Times TSC bit X changed by incrementing since VM entry. */
static uint64_t timer_ticks(const struct cpu *c)
{
	const struct vmx_boundary *b = &c->vmx.bnd;
	return ((c->cycles + b->timer_tsc_off) >> b->timer_shift) - b->timer_tick0;
}

static uint32_t timer_now(const struct cpu *c)
{
	uint64_t t = timer_ticks(c);
	return t >= c->vmx.bnd.timer_value ? 0 : (uint32_t)(c->vmx.bnd.timer_value - t);
}

/* 26.6.4: VM entry starts the timer with the field's value; it counts down
 * by 1 each time bit X of the TSC changes (X = IA32_VMX_MISC[4:0]), so it
 * reaches 0 when TSC >> X has grown by the value. The TSC is cycles plus
 * the offset at entry: writes to the TSC later are not increments. */
static void timer_start(struct cpu *c)
{
	struct vmx_boundary *b = &c->vmx.bnd;
	b->timer_shift = (uint8_t)(c->model->vmx.misc & VMX_MISC_PREEMPT_RATE_MASK);
	b->timer_value = (uint32_t)vmcs_read(c, VF_PREEMPTION_TIMER_VALUE);
	b->timer_tsc_off = c->tsc_offset;
	b->timer_tick0 = (c->cycles + b->timer_tsc_off) >> b->timer_shift;
	b->timer_deadline = ((b->timer_tick0 + b->timer_value) << b->timer_shift) - b->timer_tsc_off;
}

/* ---- VM entry and exit ---- */

/* 25.5.2 / 26.5.2: an MTF VM exit is pending right after an entry that
 * injects a vectored event while "monitor trap flag" is 1, and after an
 * entry that injects "other event" (type 7, vector 0: pending MTF VM exit)
 * whatever the control says. The injected event is delivered first
 * (vmx/entry_load.c), so the exit reports the handler's address. */
static bool entry_pends_mtf(struct cpu *c)
{
	uint32_t info = (uint32_t)vmcs_read(c, VF_ENTRY_INTR_INFO);
	enum vmx_intr_type t = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	if (!(info & INTR_INFO_VALID))
		return false;
	return t == INTR_TYPE_OTHER || c->vmx.bnd.mtf;
}

void vmx_pending_entry(struct cpu *c)
{
	struct vmx_boundary *b = &c->vmx.bnd;
	*b = (struct vmx_boundary){
		.pin = (uint32_t)vmcs_read(c, VF_PIN_CONTROLS),
		.proc = (uint32_t)vmcs_read(c, VF_PROC_CONTROLS),
	};
	b->mtf = b->proc & PROC_MTF;
	b->step = b->mtf;
	b->timer = b->pin & PIN_PREEMPTION_TIMER;
	if (b->timer)
		timer_start(c);
	b->mtf_pending = entry_pends_mtf(c);
	b->watch = b->mtf || b->mtf_pending || b->timer || (b->proc & (PROC_INTR_WINDOW | PROC_NMI_WINDOW));
}

/* 27.3.4: with "save VMX-preemption-timer value" the exit stores the
 * value the timer has now (0 after a timer-induced exit); otherwise the
 * field keeps what the entry loaded, and the next entry starts over. */
void vmx_pending_exit(struct cpu *c, bool save)
{
	if (save && c->vmx.bnd.timer && (vmcs_read(c, VF_EXIT_CONTROLS) & EXIT_SAVE_PREEMPT_TIMER))
		vmcs_write(c, VF_PREEMPTION_TIMER_VALUE, timer_now(c));
	c->vmx.bnd = (struct vmx_boundary){ 0 };
}

/* ---- the boundary ---- */

/* 25.2 "VMX-preemption timer": exits when the timer has counted down to 0,
 * also from HLT (the exit saves the HLT activity state, 27.1). Near the
 * deadline the executor goes one instruction at a time. */
static bool timer_expired(struct cpu *c)
{
	struct vmx_boundary *b = &c->vmx.bnd;
	if (c->cycles >= b->timer_deadline)
		return true;
	b->step = b->mtf || b->timer_deadline - c->cycles <= TIMER_STEP_WINDOW;
	return false;
}

/* 25.2 "NMI-window exiting" (requires "virtual NMIs", 26.2.1.1): exits
 * when there is no virtual-NMI blocking and no blocking by MOV SS. The SDM
 * lets a processor also hold it under blocking by STI; vtxsim does not, as
 * it does not hold NMIs there (cpu/exec.c). */
static bool nmi_window_open(const struct cpu *c)
{
	return (c->vmx.bnd.proc & PROC_NMI_WINDOW) && !c->vmx.vnmi_blocked && !c->mov_ss_shadow;
}

bool vmx_boundary_high(struct cpu *c)
{
	struct vmx_boundary *b = &c->vmx.bnd;
	if (!c->vmx.nonroot)
		return false;
	/* 25.5.2: SMIs, INIT and higher-priority events take priority over
	 * MTF VM exits; MTF VM exits over debug traps and everything lower.
	 * Not blocked in HLT (the exit saves the HLT state, 27.1). */
	if (b->mtf_pending) {
		boundary_exit(c, EXIT_REASON_MTF);
		return true;
	}
	/* Table 6-2: traps of the previous instruction (pending debug
	 * exceptions, held by blocking by MOV SS) come before the timer, the
	 * windows and NMIs; cpu/debug.c delivers them at this boundary. */
	if (c->pending_dbg && !c->mov_ss_shadow)
		return true;
	if (b->timer && timer_expired(c)) {
		boundary_exit(c, EXIT_REASON_PREEMPTION_TIMER);
		return true;
	}
	if (nmi_window_open(c)) {
		boundary_exit(c, EXIT_REASON_NMI_WINDOW);
		return true;
	}
	return false;
}

/* 25.2 "External interrupts", 27.2.2: with "acknowledge interrupt on exit"
 * the processor acknowledges the interrupt controller (the local APIC
 * moves the vector from IRR to ISR) and the VM-exit interruption
 * information holds the vector, type external interrupt; without it the
 * interrupt stays pending and the field's valid bit is 0. */
static bool external_interrupt_exit(struct cpu *c)
{
	struct vmx_exit_info x = { .reason = EXIT_REASON_EXTERNAL_INTERRUPT };
	if (vmcs_read(c, VF_EXIT_CONTROLS) & EXIT_ACK_INTR_ON_EXIT) {
		int v = c->apic ? c->apic->ack(c->apic_opaque) : -1;
		if (v < 0)
			return false;   /* the request went away: nothing arrived */
		x.has_intr = true;
		x.intr_info = INTR_INFO_VALID | (INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT) | (uint8_t)v;
	}
	vmx_vmexit(c, &x);
	return true;
}

bool vmx_boundary_low(struct cpu *c)
{
	const struct vmx_boundary *b = &c->vmx.bnd;
	bool shadow = c->sti_shadow || c->mov_ss_shadow;
	if (!c->vmx.nonroot || shadow)
		return false;
	/* 25.2 "Interrupt-window exiting": RFLAGS.IF = 1 and no blocking by
	 * STI or MOV SS; after NMIs, before external interrupts. */
	if ((b->proc & PROC_INTR_WINDOW) && (c->rflags & FL_IF)) {
		boundary_exit(c, EXIT_REASON_INTERRUPT_WINDOW);
		return true;
	}
	/* 29.2.2: virtual-interrupt delivery has the priority of
	 * interrupt-window exiting (which keeps virtual interrupts from being
	 * recognized), so it comes before external interrupts. */
	if (c->vmx.apicv.vintr && vmx_vintr_deliver(c)) {
		vmx_boundary_delivered(c);
		return true;
	}
	/* 25.3: with "external-interrupt exiting" RFLAGS.IF does not block
	 * external interrupts; whether STI and MOV SS blocking do is
	 * implementation specific: vtxsim holds them there, as it holds an
	 * interrupt delivered through the IDT. */
	if (c->intr_req && (b->pin & PIN_EXT_INTR_EXITING))
		return external_interrupt_exit(c);
	return false;
}

void vmx_boundary_delivered(struct cpu *c)
{
	if (c->vmx.nonroot && c->vmx.bnd.mtf)
		c->vmx.bnd.mtf_pending = true;
}

bool vmx_halted_timer(struct cpu *c, uint64_t until)
{
	const struct vmx_boundary *b = &c->vmx.bnd;
	if (!c->vmx.nonroot || !b->timer || !c->halted || c->wait_sipi || b->timer_deadline > until)
		return false;
	if (c->cycles < b->timer_deadline)
		c->cycles = b->timer_deadline;
	boundary_exit(c, EXIT_REASON_PREEMPTION_TIMER);
	return true;
}

bool vmx_halt_wakeable(const struct cpu *c)
{
	const struct vmx_boundary *b = &c->vmx.bnd;
	bool shadow = c->sti_shadow || c->mov_ss_shadow;
	if (!c->vmx.nonroot || c->wait_sipi)
		return false;
	return b->mtf_pending || nmi_window_open(c) ||
	       (!shadow && (b->proc & PROC_INTR_WINDOW) && (c->rflags & FL_IF)) ||
	       (!shadow && c->intr_req && (b->pin & PIN_EXT_INTR_EXITING)) || vmx_vintr_ready(c);
}
