/* lapic: the BSP's local APIC (SDM vol. 3A chapter 10).
 *
 * Firmware state (LINT0 ExtINT, LINT1 NMI) and the PIC reaching the CPU
 * through LINT0; ID and version; the LVT mask held while the APIC is
 * software-disabled; the timer in one-shot and periodic mode with several
 * divide values (distances in TSC cycles), current-count reads, TSC-deadline
 * mode; self IPIs and priority: TPR/PPR, IRR held below the processor
 * priority class, nested delivery of a higher class, EOI clearing the
 * highest ISR bit, delivery order within a class; x2APIC mode (MSR
 * interface, ICR and SELF IPI, #GP on reserved and read-only registers, the
 * mode transitions of figure 10-27).
 */
#include "guest.h"
#include "apic.h"
#include "pic.h"

#define VEC_PIC_BASE 0x20
#define VEC_TIMER    0x40
#define VEC_SPURIOUS 0xff
#define JITTER       200
/* Cycles between the initial-count (or deadline) write and the handler's
 * RDTSC: the write itself, interrupt delivery and the stub. Only the
 * absolute checks use it; distances between two timings do not. */
#define OVERHEAD     500
#define MAX_LOG      16

static uint64_t hz, timer_hz;
static uint32_t xapic_id, xapic_version;
static struct {
	volatile unsigned n;
	volatile uint8_t vec[MAX_LOG];
	volatile uint64_t tsc[MAX_LOG];
	volatile uint32_t ppr[MAX_LOG];
	volatile bool in_isr[MAX_LOG], in_irr[MAX_LOG];
} lg;
static bool no_eoi[256];

static void log_irq(uint8_t vec)
{
	uint64_t t = rdtsc();
	unsigned i = lg.n;

	if (i < MAX_LOG) {
		lg.vec[i] = vec;
		lg.tsc[i] = t;
		lg.ppr[i] = apic_read(APIC_PPR);
		lg.in_isr[i] = apic_vec_bit(APIC_ISR, vec);
		lg.in_irr[i] = apic_vec_bit(APIC_IRR, vec);
	}
	lg.n = i + 1;
}

static void log_handler(struct intr_frame *f)
{
	log_irq((uint8_t)f->vector);
	if (!no_eoi[f->vector])
		apic_eoi();
}

/* Interrupts from the 8259A via LINT0 (ExtINT): EOI goes to the PIC. */
static void pic_handler(struct intr_frame *f)
{
	log_irq((uint8_t)f->vector);
	pic_eoi((unsigned)f->vector - VEC_PIC_BASE);
}

static void log_reset(void)
{
	lg.n = 0;
}

/* Spins with interrupts enabled until n interrupts were logged or the
 * time is up; returns with interrupts disabled. */
static void wait_irqs(unsigned n, uint64_t cycles)
{
	uint64_t end = rdtsc() + cycles;

	sti();
	while (lg.n < n && rdtsc() < end)
		asm volatile("pause");
	cli();
}

/* TSC cycles for n APIC timer input clocks (10.5.4: the core crystal when
 * CPUID 15H enumerates it). */
static uint64_t timer_cycles(uint64_t n)
{
	return n * hz / timer_hz;
}

/* SeaBIOS leaves LINT0 in ExtINT and LINT1 in NMI mode, unmasked, on the
 * BSP (the brief's firmware state); IA32_APIC_BASE = FEE00900H. */
static void check_firmware_state(void)
{
	uint32_t lvt0 = apic_read(APIC_LVT0), lvt1 = apic_read(APIC_LVT1);

	report_eq(rdmsr(MSR_IA32_APIC_BASE), APIC_MMIO_BASE | APIC_BASE_EN | APIC_BASE_BSP,
		  "IA32_APIC_BASE: enabled BSP at 0xFEE00000");
	report_eq(lvt0 & (APIC_LVT_MASKED | APIC_DM_MASK), APIC_DM_EXTINT, "LVT LINT0: ExtINT, unmasked");
	report_eq(lvt1 & (APIC_LVT_MASKED | APIC_DM_MASK), APIC_DM_NMI, "LVT LINT1: NMI, unmasked");
	report_info("firmware SVR %#x LVT0 %#x LVT1 %#x", apic_read(APIC_SVR), lvt0, lvt1);
}

/* 10.4.6: ID in bits 31:24 equals CPUID.1:EBX[31:24]; 10.4.8: version
 * 1xH for an integrated APIC, max LVT entry in bits 23:16 (at least 5:
 * timer, thermal, perf, LINT0, LINT1, error). */
static void check_id_version(void)
{
	xapic_id = apic_read(APIC_ID) >> 24;
	xapic_version = apic_read(APIC_LVR);
	report_eq(xapic_id, cpuid(1, 0).b >> 24, "APIC ID equals CPUID.1:EBX[31:24]");
	report((xapic_version & 0xf0) == 0x10, "version %#x: integrated APIC (1xH)", xapic_version & 0xff);
	report((xapic_version >> 16 & 0xff) >= 5, "max LVT entry %u >= 5", xapic_version >> 16 & 0xff);
}

/* 10.4.7.2: while software-disabled, LVT mask bits stay set. */
static void check_sw_disable(void)
{
	apic_write(APIC_SVR, VEC_SPURIOUS);
	apic_write(APIC_LVTT, VEC_TIMER);
	report(apic_read(APIC_LVTT) & APIC_LVT_MASKED, "software-disabled APIC: LVT timer mask stays set");
	apic_sw_enable(VEC_SPURIOUS);
	report_eq(apic_read(APIC_SVR), APIC_SVR_ENABLE | VEC_SPURIOUS, "SVR reads back enabled, vector 0xff");
	apic_write(APIC_LVTT, VEC_TIMER);
	report_eq(apic_read(APIC_LVTT), VEC_TIMER, "enabled APIC: LVT timer unmasks");
	apic_write(APIC_LVTT, APIC_LVT_MASKED | VEC_TIMER);
}

/* The 8259A reaches the CPU through LINT0 in ExtINT mode (10.5.1): the
 * PIC supplies the vector, and the local APIC's ISR is not involved. A
 * masked LINT0 stops it. */
static void check_lint0_extint(void)
{
	uint64_t period = pit_ticks_to_cycles(1193, hz);

	pic_init(VEC_PIC_BASE, VEC_PIC_BASE + 8, false);
	log_reset();
	pit_start(0, 2, 1193);
	pic_unmask(0);
	wait_irqs(2, 3 * period);
	report(lg.n == 2 && lg.vec[0] == VEC_PIC_BASE, "PIC IRQ0 arrives via LINT0 ExtINT at vector 0x20 (%u)",
	       lg.n);
	if (lg.n)
		report(!lg.in_isr[0], "ExtINT sets no local APIC ISR bit");

	apic_write(APIC_LVT0, APIC_LVT_MASKED | APIC_DM_EXTINT);
	log_reset();
	wait_irqs(1, 3 * period);
	report_eq(lg.n, 0, "LVT LINT0 masked: no PIC interrupt in 3 PIT periods");
	apic_write(APIC_LVT0, APIC_DM_EXTINT);
	wait_irqs(1, 2 * period);
	report_eq(lg.n, 1, "LVT LINT0 unmasked: PIC interrupts resume");
	pic_mask(0);
	pit_control(0, 0);
}

/* Starts a one-shot timer of count clocks at the given divide value and
 * returns the cycles from the initial-count write to the interrupt, 0 if
 * none came. */
static uint64_t time_oneshot(uint32_t count, unsigned div)
{
	log_reset();
	apic_write(APIC_TDCR, apic_tdcr_for(div));
	apic_write(APIC_LVTT, APIC_TIMER_ONESHOT | VEC_TIMER);
	uint64_t t0 = rdtsc();
	apic_write(APIC_TMICT, count);
	wait_irqs(2, timer_cycles((uint64_t)count * div) * 2 + 100000);
	apic_write(APIC_LVTT, APIC_LVT_MASKED | VEC_TIMER);
	return lg.n == 1 ? lg.tsc[0] - t0 : 0;
}

/* 10.5.4: the count decrements at the input clock / divide value; one
 * interrupt when it reaches 0. Two counts at the same divide value cancel
 * the fixed overhead: their difference must be exact. */
static void check_timer_oneshot(unsigned div)
{
	const uint32_t c1 = 10000, c2 = 30000;
	uint64_t d1 = time_oneshot(c1, div), d2 = time_oneshot(c2, div);
	uint64_t w1 = timer_cycles((uint64_t)c1 * div), w2 = timer_cycles((uint64_t)c2 * div);

	if (!report(d1 && d2, "%s one-shot, divide by %u: one interrupt each", apic_is_x2apic() ? "x2APIC" : "xAPIC",
		    div))
		return;
	report(d1 >= w1 && d1 < w1 + OVERHEAD, "one-shot %u at /%u fires after %lu cycles (>= %lu)", c1, div, d1,
	       w1);
	report(near(d2 - d1, w2 - w1, JITTER), "one-shot %u vs %u at /%u: %lu cycles apart (want %lu +-%u)", c2,
	       c1, div, d2 - d1, w2 - w1, JITTER);
}

/* 10.5.4: current count counts down from the initial count; a one-shot
 * stays at 0 after expiry; a masked LVT still counts. */
static void check_current_count(void)
{
	const uint32_t count = 1000000;

	apic_write(APIC_TDCR, apic_tdcr_for(1));
	apic_write(APIC_LVTT, APIC_LVT_MASKED | APIC_TIMER_ONESHOT | VEC_TIMER);
	apic_write(APIC_TMICT, count);
	uint64_t t1 = rdtsc();
	uint32_t c1 = apic_read(APIC_TMCCT);
	spin_cycles(20000);
	uint64_t t2 = rdtsc();
	uint32_t c2 = apic_read(APIC_TMCCT);
	uint64_t want = (t2 - t1) * timer_hz / hz;

	report(c1 <= count && c1 > count - 1000, "current count %u just below the initial count", c1);
	report(c2 < c1 && near(c1 - c2, want, JITTER), "current count fell by %u in %lu cycles (want %lu +-%u)",
	       c1 - c2, t2 - t1, want, JITTER);
	spin_cycles(timer_cycles(count));
	report_eq(apic_read(APIC_TMCCT), 0, "one-shot: current count stays 0 after expiry");
	report_eq(apic_read(APIC_TMICT), count, "initial count reads back");
	apic_write(APIC_TMICT, 0);
}

/* Periodic mode reloads the initial count: interrupts every count * div
 * clocks, from the exact previous expiry. */
static void check_timer_periodic(unsigned div, uint32_t count)
{
	uint64_t period = timer_cycles((uint64_t)count * div);
	bool ok = true;

	log_reset();
	apic_write(APIC_TDCR, apic_tdcr_for(div));
	apic_write(APIC_LVTT, APIC_TIMER_PERIODIC | VEC_TIMER);
	apic_write(APIC_TMICT, count);
	wait_irqs(6, 8 * period);
	uint32_t cur = apic_read(APIC_TMCCT);
	apic_write(APIC_TMICT, 0);
	apic_write(APIC_LVTT, APIC_LVT_MASKED | VEC_TIMER);
	if (!report(lg.n == 6, "periodic %u at /%u: 6 interrupts (%u)", count, div, lg.n))
		return;
	for (unsigned i = 1; i < 6; i++) {
		uint64_t d = lg.tsc[i] - lg.tsc[i - 1];
		if (!near(d, period, JITTER)) {
			printf("      timer %u..%u: %lu cycles\n", i - 1, i, d);
			ok = false;
		}
	}
	report(ok, "periodic %u at /%u: every %lu cycles (+-%u)", count, div, period, JITTER);
	report(cur > 0 && cur <= count, "periodic: current count reloaded (%u)", cur);
}

/* 10.5.4.1: TSC-deadline mode fires when the TSC reaches IA32_TSC_DEADLINE,
 * then clears the MSR; writing 0 disarms; initial-count writes are
 * ignored and the current count reads 0. */
static void check_tsc_deadline(void)
{
	if (!(cpuid(1, 0).c & CPUID_1_ECX_TSCDL)) {
		report_skip("no TSC-deadline mode (CPUID.1:ECX[24])");
		return;
	}
	apic_write(APIC_LVTT, APIC_TIMER_TSCDL | VEC_TIMER);
	apic_write(APIC_TMICT, 1000);
	report_eq(apic_read(APIC_TMCCT), 0, "TSC-deadline mode: current count reads 0 after an initial-count write");

	log_reset();
	uint64_t deadline = rdtsc() + 50000;
	wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
	report_eq(rdmsr(MSR_IA32_TSC_DEADLINE), deadline, "IA32_TSC_DEADLINE reads back while armed");
	wait_irqs(2, 200000);
	if (report(lg.n == 1, "TSC deadline: one interrupt (%u)", lg.n))
		report(lg.tsc[0] >= deadline && lg.tsc[0] - deadline < OVERHEAD,
		       "TSC deadline: fired %ld cycles after the deadline (0..%u)",
		       (int64_t)(lg.tsc[0] - deadline), OVERHEAD);
	report_eq(rdmsr(MSR_IA32_TSC_DEADLINE), 0, "IA32_TSC_DEADLINE is 0 after it fired");

	log_reset();
	wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + 50000);
	wrmsr(MSR_IA32_TSC_DEADLINE, 0);
	wait_irqs(1, 200000);
	report_eq(lg.n, 0, "writing 0 disarms the TSC deadline");

	log_reset();
	uint64_t t0 = rdtsc();
	wrmsr(MSR_IA32_TSC_DEADLINE, 1);
	wait_irqs(1, 100000);
	report(lg.n == 1 && lg.tsc[0] - t0 < OVERHEAD, "a deadline in the past fires at once");

	/* The deadline is compared with the TSC, so moving the TSC past an
	 * armed deadline (WRMSR to IA32_TSC) fires it at once. */
	log_reset();
	t0 = rdtsc();
	wrmsr(MSR_IA32_TSC_DEADLINE, t0 + 10000000);
	wrmsr(MSR_IA32_TSC, t0 + 20000000);
	wait_irqs(1, 100000);
	report(lg.n == 1 && lg.tsc[0] - (t0 + 20000000) < OVERHEAD,
	       "TSC written past an armed deadline: it fires at once (%u)", lg.n);
	apic_write(APIC_LVTT, APIC_LVT_MASKED | VEC_TIMER);
}

/* 10.8.3.1: PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV[7:4] << 4; a
 * pending vector is delivered only if its class is above PPR's class. */
static void check_tpr(void)
{
	const uint8_t v = 0x55;
	const char *mode = apic_is_x2apic() ? "x2APIC" : "xAPIC";

	log_reset();
	apic_write(APIC_TPR, 0x60);
	apic_self_ipi(v);
	report(apic_vec_bit(APIC_IRR, v), "%s: self IPI 0x55 pending in IRR", mode);
	report_eq(apic_read(APIC_PPR), 0x60, "%s: PPR = TPR 0x60 with ISR empty", mode);
	wait_irqs(1, 5000);
	report_eq(lg.n, 0, "%s: TPR 0x60 holds vector 0x55 (class 5 < 6)", mode);
	apic_write(APIC_TPR, 0x50);
	wait_irqs(1, 5000);
	report_eq(lg.n, 0, "%s: TPR 0x50 still holds it (same class)", mode);
	apic_write(APIC_TPR, 0x4f);
	wait_irqs(1, 5000);
	if (report(lg.n == 1 && lg.vec[0] == v, "%s: TPR 0x4f lets 0x55 in (%u)", mode, lg.n)) {
		report(lg.in_isr[0] && !lg.in_irr[0], "%s: in the handler 0x55 moved from IRR to ISR", mode);
		report_eq(lg.ppr[0], 0x50, "%s: PPR in the handler = ISRV class 0x50", mode);
	}
	report(!apic_vec_bit(APIC_ISR, v), "%s: EOI cleared ISR bit 0x55", mode);
	report_eq(apic_read(APIC_PPR), 0x4f, "%s: PPR back to TPR 0x4f", mode);
	apic_write(APIC_TPR, 0);
}

static struct {
	volatile uint32_t ppr_nested, ppr_eoi1, ppr_eoi2;
	volatile bool isr55, isr75, irr52, isr75_after_eoi, isr55_after_eoi;
} nest;

/* Vector 0x56 handler: raises 0x75 (class 7) and 0x52 (class 5) and opens
 * interrupts: 0x75 nests (class above PPR 0x50), 0x52 waits. 0x75's
 * handler sends no EOI, so this handler's first EOI must clear the highest
 * ISR bit, 0x75 (10.8.5), and its second 0x56. */
static void nest_handler(struct intr_frame *f)
{
	log_irq((uint8_t)f->vector);
	apic_self_ipi(0x75);
	apic_self_ipi(0x52);
	sti();
	spin_cycles(5000);
	cli();
	nest.isr55 = apic_vec_bit(APIC_ISR, 0x56);
	nest.isr75 = apic_vec_bit(APIC_ISR, 0x75);
	nest.irr52 = apic_vec_bit(APIC_IRR, 0x52);
	nest.ppr_nested = apic_read(APIC_PPR);
	apic_eoi();
	nest.isr75_after_eoi = apic_vec_bit(APIC_ISR, 0x75);
	nest.isr55_after_eoi = apic_vec_bit(APIC_ISR, 0x56);
	nest.ppr_eoi1 = apic_read(APIC_PPR);
	apic_eoi();
	nest.ppr_eoi2 = apic_read(APIC_PPR);
}

static void check_nesting(void)
{
	log_reset();
	apic_self_ipi(0x56);
	wait_irqs(3, 20000);
	if (!report(lg.n == 3, "nesting: three interrupts (%u)", lg.n))
		return;
	report(lg.vec[0] == 0x56 && lg.vec[1] == 0x75 && lg.vec[2] == 0x52,
	       "order 0x56, nested 0x75, then 0x52 (%#x %#x %#x)", lg.vec[0], lg.vec[1], lg.vec[2]);
	report_eq(lg.ppr[1], 0x70, "PPR in the nested 0x75 handler is 0x70");
	report(nest.isr55 && nest.isr75 && nest.irr52, "after nesting: ISR holds 0x56 and 0x75, IRR holds 0x52");
	report_eq(nest.ppr_nested, 0x70, "PPR 0x70 with 0x75 in service");
	report(!nest.isr75_after_eoi && nest.isr55_after_eoi, "first EOI clears the highest ISR bit (0x75)");
	report_eq(nest.ppr_eoi1, 0x50, "PPR falls to 0x50 after the first EOI");
	report_eq(nest.ppr_eoi2, 0x00, "PPR 0 after the second EOI");
}

/* 10.8.3: among pending vectors the highest is delivered first. */
static void check_order(void)
{
	log_reset();
	apic_self_ipi(0x52);
	apic_self_ipi(0x61);
	apic_self_ipi(0x58);
	wait_irqs(3, 20000);
	report(lg.n == 3 && lg.vec[0] == 0x61 && lg.vec[1] == 0x58 && lg.vec[2] == 0x52,
	       "pending 0x52, 0x61, 0x58 are delivered 0x61, 0x58, 0x52 (%u)", lg.n);
}

static void rd_801(void *arg)
{
	(void)arg;
	rdmsr(0x801);
}

static void rd_self_ipi(void *arg)
{
	(void)arg;
	rdmsr(MSR_X2APIC(APIC_SELF_IPI));
}

static void wr_id(void *arg)
{
	(void)arg;
	wrmsr(MSR_X2APIC(APIC_ID), 5);
}

static void rd_dfr(void *arg)
{
	(void)arg;
	rdmsr(MSR_X2APIC(APIC_DFR));
}

static void rd_icr2(void *arg)
{
	(void)arg;
	rdmsr(MSR_X2APIC(APIC_ICR2));
}

static void wr_base(void *arg)
{
	wrmsr(MSR_IA32_APIC_BASE, *(uint64_t *)arg);
}

static bool raises_gp(fault_body_fn fn, void *arg)
{
	struct fault f;

	catch_fault(fn, arg, &f);
	return f.raised && f.vector == VEC_GP;
}

/* 10.12.5.1 figure 10-27: xAPIC -> x2APIC is allowed; x2APIC -> xAPIC
 * is not (#GP); x2APIC -> disabled -> xAPIC is, and the trip through
 * disabled resets the APIC. */
static void check_x2apic_transitions(uint64_t base)
{
	uint64_t to_xapic = base, off = base & ~(APIC_BASE_EN | APIC_BASE_EXTD);

	report(raises_gp(wr_base, &to_xapic), "x2APIC -> xAPIC directly raises #GP");
	report_eq(rdmsr(MSR_IA32_APIC_BASE), base | APIC_BASE_EXTD, "still in x2APIC mode after the #GP");
	wrmsr(MSR_IA32_APIC_BASE, off);
	apic_use_x2apic(false);
	report_eq(rdmsr(MSR_IA32_APIC_BASE), off, "x2APIC -> disabled");
	wrmsr(MSR_IA32_APIC_BASE, base);
	report_eq(rdmsr(MSR_IA32_APIC_BASE), base, "disabled -> xAPIC");
	report_eq(apic_read(APIC_SVR), VEC_SPURIOUS, "disable reset the APIC: SVR 0xff, software-disabled");
	report_eq(apic_read(APIC_ID) >> 24, xapic_id, "xAPIC MMIO works again: ID");
	apic_sw_enable(VEC_SPURIOUS);
}

/* 10.12: x2APIC registers are MSRs 800H + offset/16; ID is 32 bits and
 * read-only; LDR is derived from the ID (10.12.10.2); ICR is one 64-bit
 * MSR with the destination in bits 63:32; SELF IPI (83FH) is write-only;
 * reserved MSRs and DFR/ICR-high raise #GP (10.12.1.3). */
static void check_x2apic(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	if (!(cpuid(1, 0).c & CPUID_1_ECX_X2APIC)) {
		report_skip("no x2APIC (CPUID.1:ECX[21])");
		return;
	}
	wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EXTD);
	apic_use_x2apic(true);
	report_eq(rdmsr(MSR_IA32_APIC_BASE), base | APIC_BASE_EXTD, "xAPIC -> x2APIC: EXTD set");
	uint32_t id = (uint32_t)rdmsr(MSR_X2APIC(APIC_ID));
	report_eq(id, cpuid(0xb, 0).d, "x2APIC ID (MSR 802H) equals CPUID.0BH:EDX");
	report_eq(id, xapic_id, "x2APIC ID equals the xAPIC ID");
	report_eq(rdmsr(MSR_X2APIC(APIC_LVR)), xapic_version, "version (MSR 803H) as in xAPIC mode");
	report_eq(rdmsr(MSR_X2APIC(APIC_LDR)), (id >> 4) << 16 | 1u << (id & 15), "LDR derived from the ID");
	report_eq(rdmsr(MSR_X2APIC(APIC_SVR)), APIC_SVR_ENABLE | VEC_SPURIOUS, "SVR kept across the switch");

	log_reset();
	wrmsr(MSR_X2APIC(APIC_ICR), (uint64_t)id << 32 | APIC_ICR_ASSERT | 0x90);
	wait_irqs(1, 5000);
	report(lg.n == 1 && lg.vec[0] == 0x90, "ICR (MSR 830H) physical IPI to self: vector 0x90");
	log_reset();
	wrmsr(MSR_X2APIC(APIC_SELF_IPI), 0x91);
	wait_irqs(1, 5000);
	report(lg.n == 1 && lg.vec[0] == 0x91, "SELF IPI (MSR 83FH): vector 0x91");

	report(raises_gp(rd_801, NULL), "RDMSR 801H (reserved) raises #GP");
	report(raises_gp(rd_self_ipi, NULL), "RDMSR 83FH (SELF IPI, write-only) raises #GP");
	report(raises_gp(wr_id, NULL), "WRMSR 802H (ID, read-only) raises #GP");
	report(raises_gp(rd_dfr, NULL), "RDMSR 80EH (no DFR in x2APIC mode) raises #GP");
	report(raises_gp(rd_icr2, NULL), "RDMSR 831H (no ICR high half) raises #GP");

	check_tpr();
	check_timer_oneshot(2);
	check_x2apic_transitions(base);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic, (void)mbinfo;
	hz = tsc_hz();
	timer_hz = apic_timer_hz();
	if (!report(hz && timer_hz, "CPUID 15H: TSC %lu Hz, APIC timer (crystal) %lu Hz", hz, timer_hz))
		report_summary();
	for (unsigned v = 0x20; v < 0x28; v++)
		idt_set_handler((uint8_t)v, pic_handler, GATE_INTERRUPT, 0);
	static const uint8_t vecs[] = { VEC_TIMER, 0x52, 0x55, 0x58, 0x61, 0x75, 0x90, 0x91 };
	for (unsigned i = 0; i < ARRAY_SIZE(vecs); i++)
		idt_set_handler(vecs[i], log_handler, GATE_INTERRUPT, 0);
	idt_set_handler(0x56, nest_handler, GATE_INTERRUPT, 0);
	no_eoi[0x75] = true;

	check_firmware_state();
	check_id_version();
	apic_sw_enable(VEC_SPURIOUS);
	check_lint0_extint();
	check_sw_disable();
	check_timer_oneshot(1);
	check_timer_oneshot(2);
	check_timer_oneshot(16);
	check_timer_oneshot(128);
	check_current_count();
	check_timer_periodic(4, 20000);
	check_timer_periodic(1, 50000);
	check_tsc_deadline();
	check_tpr();
	check_nesting();
	check_order();
	check_x2apic();
	report_summary();
}
