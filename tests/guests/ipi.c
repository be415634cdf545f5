/* ipi: interprocessor interrupts through the xAPIC ICR (SDM vol. 3A 10.6
 * "Issuing Interprocessor Interrupts"): fixed IPIs to each AP and back,
 * physical and flat-logical destinations, the three shorthands, NMI,
 * lowest-priority delivery, waking a halted AP, and IPI bursts while the
 * APs' local APIC timers run.
 *
 * Every handler appends (cpu index, vector, ISR bit of the vector) to one
 * event log. vtxsim runs the vCPUs round-robin in index order in fixed
 * quanta, so an IPI sent to several CPUs is handled by the sender first (at
 * its next instruction boundary) and then by the others in index order:
 * the tests assert the exact sequence.
 *
 * guests.vts runs it with -smp 4.
 */
#include "smp.h"

#define VEC_KICK   0xe0         /* wakes an AP to read its mailbox (class 14: above every
				 * TPR the tests set, or a raised TPR would hold it); not logged */
#define VEC_PONG   0x40         /* + sender index: an AP answering a ping */
#define VEC_PING   0x50         /* the AP's handler answers VEC_PONG + index to the BSP */
#define VEC_LOG    0x58         /* logged only */
#define VEC_LOWPRI 0x60         /* class 6: above every TPR the test sets */
#define VEC_TIMER  0x70         /* the APs' local APIC timers */
#define MAX_EVENTS 32
#define WAIT_NS    10000000ull  /* 10 ms */
#define SETTLE_NS  2000000ull   /* 2 ms: twenty scheduler rounds for strays */
#define DFR_FLAT   0xffffffffu  /* 10.6.2.2: model 1111B */
#define NEED_CPUS  4
#define XAPIC_LVT_TIMER 0x320
#define XAPIC_TIMER_ICR 0x380
#define XAPIC_TIMER_DCR 0x3e0
#define LVT_MASKED      (1u << 16)
#define LVT_PERIODIC    (1u << 17)
#define DCR_DIV1        0xb     /* 10.5.4 Figure 10-10: divide by 1 */
#define TIMER_BASE      100000u /* AP i's period: i * TIMER_BASE cycles */
#define TIMER_STAMPS    8
#define TIMER_JITTER    200     /* cycles: interrupts land on block boundaries */
#define BURSTS          20

struct event {
	uint8_t cpu, vector;
	bool in_isr;                    /* the vector's ISR bit was set in the handler */
	bool if_clear;                  /* RFLAGS.IF was 0 where the interrupt struck */
};

enum cmd { CMD_NONE, CMD_SET_TPR, CMD_CLI_UNTIL_NMI, CMD_TIMER_START, CMD_TIMER_STOP };

struct mailbox {
	volatile unsigned cmd;
	volatile uint32_t arg;
	volatile bool busy;             /* running a command (CMD_CLI_UNTIL_NMI) */
};

static volatile struct event events[MAX_EVENTS];
static volatile unsigned nevents;
static struct mailbox mbox[SMP_MAX_CPUS];
static volatile unsigned idle_loops[SMP_MAX_CPUS];
static volatile bool nmi_seen[SMP_MAX_CPUS];
static volatile unsigned ready;
static volatile unsigned ticks[SMP_MAX_CPUS];
static volatile uint64_t tick_tsc[SMP_MAX_CPUS][TIMER_STAMPS];

static bool isr_has(uint8_t v)
{
	return xapic_read(XAPIC_ISR + 0x10 * (v / 32)) >> (v % 32) & 1;
}

static void log_event(uint8_t vector, const struct intr_frame *f)
{
	unsigned i = atomic_fetch_inc(&nevents);

	if (i < MAX_EVENTS)
		events[i] = (struct event){ (uint8_t)smp_cpu_index(), vector, isr_has(vector),
					    !(f->rflags & RFLAGS_IF) };
}

static void on_logged(struct intr_frame *f)
{
	log_event((uint8_t)f->vector, f);
	xapic_eoi();
}

static void on_ping(struct intr_frame *f)
{
	int me = smp_cpu_index();

	log_event(VEC_PING, f);
	xapic_eoi();
	xapic_send_ipi(smp_cpus[0].apic_id, ICR_FIXED | (VEC_PONG + (uint32_t)me));
}

static void on_timer(struct intr_frame *f)
{
	int me = smp_cpu_index();
	unsigned k = ticks[me]++;

	(void)f;
	if (k < TIMER_STAMPS)
		tick_tsc[me][k] = rdtsc();
	xapic_eoi();
}

static void on_kick(struct intr_frame *f)
{
	(void)f;
	xapic_eoi();
}

/* NMIs do not use the ISR and take no EOI (10.8.1, 6.7.1). */
static void on_nmi(struct intr_frame *f)
{
	log_event(VEC_NMI, f);
	nmi_seen[smp_cpu_index()] = true;
}

static void run_cmd(int me, unsigned cmd, uint32_t arg)
{
	switch (cmd) {
	case CMD_SET_TPR:
		xapic_write(XAPIC_TPR, arg);
		break;
	case CMD_CLI_UNTIL_NMI:
		mbox[me].busy = true;
		while (!nmi_seen[me])
			cpu_relax();
		mbox[me].busy = false;
		break;
	case CMD_TIMER_START:   /* periodic, divide by 1 (10.5.4) */
		xapic_write(XAPIC_TIMER_DCR, DCR_DIV1);
		xapic_write(XAPIC_LVT_TIMER, LVT_PERIODIC | VEC_TIMER);
		xapic_write(XAPIC_TIMER_ICR, arg);
		break;
	case CMD_TIMER_STOP:
		xapic_write(XAPIC_LVT_TIMER, LVT_MASKED | VEC_TIMER);
		xapic_write(XAPIC_TIMER_ICR, 0);
		break;
	}
}

/* Flat logical model: DFR model 1111B, logical id = bit `index` of
 * LDR[31:24] (10.6.2.2). */
static void set_flat_logical(int me)
{
	xapic_write(XAPIC_DFR, DFR_FLAT);
	xapic_write(XAPIC_LDR, (1u << me) << 24);
}

void ap_main(int me)
{
	set_flat_logical(me);
	atomic_fetch_inc(&ready);
	for (;;) {
		cli();
		/* STI's shadow makes "sti; hlt" wake only through an interrupt
		 * that arrives in HLT (vol. 2 STI). */
		while (!mbox[me].cmd) {
			idle_loops[me]++;
			asm volatile("sti; hlt; cli" : : : "memory");
		}
		run_cmd(me, mbox[me].cmd, mbox[me].arg);
		mbox[me].cmd = CMD_NONE;
	}
}

/* ---- BSP side ---- */

static void reset_log(void)
{
	nevents = 0;
	for (unsigned i = 0; i < MAX_EVENTS; i++)
		events[i] = (struct event){ 0 };
}

static void wait_ns(uint64_t ns, volatile unsigned *counter, unsigned until)
{
	uint64_t start = rdtsc(), len = smp_ns_to_tsc(ns);

	while ((!counter || *counter < until) && rdtsc() - start < len)
		cpu_relax();
}

/* Waits for `n` events and a settling time, then compares the log with
 * want[] (cpu, vector; in_isr must be set for fixed vectors). */
static void expect_events(const char *what, const struct event *want, unsigned n)
{
	bool ok;

	wait_ns(WAIT_NS, &nevents, n);
	wait_ns(SETTLE_NS, NULL, 0);
	ok = nevents == n;
	for (unsigned i = 0; ok && i < n; i++)
		ok = events[i].cpu == want[i].cpu && events[i].vector == want[i].vector &&
		     events[i].in_isr == want[i].in_isr && events[i].if_clear == want[i].if_clear;
	if (report(ok, "%s", what))
		return;
	printf("      got %u events:", nevents);
	for (unsigned i = 0; i < nevents && i < MAX_EVENTS; i++)
		printf(" (cpu %u, %#x%s%s)", events[i].cpu, events[i].vector,
		       events[i].in_isr ? ", ISR" : "", events[i].if_clear ? ", IF=0" : "");
	printf("\n      expected:");
	for (unsigned i = 0; i < n; i++)
		printf(" (cpu %u, %#x%s%s)", want[i].cpu, want[i].vector, want[i].in_isr ? ", ISR" : "",
		       want[i].if_clear ? ", IF=0" : "");
	printf("\n");
}

/* A fixed interrupt taken in a handler: ISR bit set (10.8.4), IF clear
 * where it struck is never the case here (every waiting loop runs with
 * IF = 1). */
#define FIX(cpu, vec) { (uint8_t)(cpu), (uint8_t)(vec), true, false }

static void post_cmd(int cpu, enum cmd cmd, uint32_t arg)
{
	mbox[cpu].arg = arg;
	mbox[cpu].cmd = cmd;
	xapic_send_ipi(smp_cpus[cpu].apic_id, ICR_FIXED | VEC_KICK);
}

static bool wait_cmd_done(int cpu)
{
	uint64_t start = rdtsc();

	while (mbox[cpu].cmd && rdtsc() - start < smp_ns_to_tsc(WAIT_NS))
		cpu_relax();
	return !mbox[cpu].cmd;
}

/* Fixed, physical destination: the BSP pings each AP by APIC id, the AP's
 * handler answers with a vector naming itself (10.6.2.1). */
static void test_ping_pong(unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct event want[] = { FIX(i, VEC_PING), FIX(0, VEC_PONG + i) };
		reset_log();
		xapic_send_ipi(smp_cpus[i].apic_id, ICR_FIXED | VEC_PING);
		expect_events("fixed physical IPI BSP -> AP and its answer AP -> BSP", want, 2);
	}
}

/* Flat logical destinations: a CPU accepts when MDA & its logical id != 0
 * (10.6.2.2); 0xFF is a broadcast. */
static void test_logical(void)
{
	struct event want13[] = { FIX(1, VEC_LOG), FIX(3, VEC_LOG) };
	struct event want03[] = { FIX(0, VEC_LOG), FIX(3, VEC_LOG) };
	struct event want_all[] = { FIX(0, VEC_LOG), FIX(1, VEC_LOG), FIX(2, VEC_LOG), FIX(3, VEC_LOG) };

	reset_log();
	xapic_send_ipi(0x0a, ICR_FIXED | ICR_LOGICAL | VEC_LOG);
	expect_events("logical MDA 0AH reaches cpus 1 and 3", want13, 2);
	reset_log();
	xapic_send_ipi(0x09, ICR_FIXED | ICR_LOGICAL | VEC_LOG);
	expect_events("logical MDA 09H reaches the sender (cpu 0) first, then cpu 3", want03, 2);
	reset_log();
	xapic_send_ipi(0xff, ICR_FIXED | ICR_LOGICAL | VEC_LOG);
	expect_events("logical MDA FFH reaches every CPU, sender first", want_all, 4);
}

/* Destination shorthands (10.6.1, Figure 10-12 bits 19:18): the
 * destination field is ignored. */
static void test_shorthands(void)
{
	struct event self[] = { FIX(0, VEC_LOG) };
	struct event all[] = { FIX(0, VEC_LOG), FIX(1, VEC_LOG), FIX(2, VEC_LOG), FIX(3, VEC_LOG) };
	struct event others[] = { FIX(1, VEC_LOG), FIX(2, VEC_LOG), FIX(3, VEC_LOG) };

	reset_log();
	xapic_send_ipi(3, ICR_SELF | ICR_FIXED | VEC_LOG);
	expect_events("shorthand self: only the sender (destination field ignored)", self, 1);
	reset_log();
	xapic_send_ipi(3, ICR_ALL | ICR_FIXED | VEC_LOG);
	expect_events("shorthand all-including-self: cpus 0, 1, 2, 3 in order", all, 4);
	reset_log();
	xapic_send_ipi(0, ICR_OTHERS | ICR_FIXED | VEC_LOG);
	expect_events("shorthand all-excluding-self: cpus 1, 2, 3 in order", others, 3);
}

/* NMI delivery mode (10.6.1): the vector field is ignored, the target
 * takes vector 2 even with RFLAGS.IF = 0 (6.8.1), and nothing enters
 * the ISR. */
static void test_nmi(void)
{
	struct event want[] = { { 2, VEC_NMI, false, true } };
	uint64_t start = rdtsc();

	reset_log();
	post_cmd(2, CMD_CLI_UNTIL_NMI, 0);
	while (!mbox[2].busy && rdtsc() - start < smp_ns_to_tsc(WAIT_NS))
		cpu_relax();
	if (!report(mbox[2].busy, "cpu 2 spins with interrupts disabled"))
		return;
	xapic_send_ipi(smp_cpus[2].apic_id, ICR_NMI | VEC_LOG);
	expect_events("NMI IPI to cpu 2 taken as vector 2 with IF = 0, no ISR bit", want, 1);
	report(wait_cmd_done(2) && nmi_seen[2] && !nmi_seen[1] && !nmi_seen[3] && !nmi_seen[0],
	       "only cpu 2 saw the NMI and it left its IF = 0 loop");
}

static bool set_tprs(const uint32_t *tpr, unsigned n)
{
	bool ok = true;

	for (unsigned i = 1; i < n; i++)
		post_cmd((int)i, CMD_SET_TPR, tpr[i]);
	for (unsigned i = 1; i < n; i++)
		ok &= wait_cmd_done((int)i);
	return ok;
}

/* Lowest priority (10.6.2.4): among the CPUs the logical destination
 * selects, the one with the lowest processor priority (here: distinct
 * TPRs, empty ISRs, so TPR alone decides) accepts. */
static void test_lowest_priority(void)
{
	static const uint32_t tpr_a[] = { 0, 0x20, 0x10, 0x30 };
	static const uint32_t tpr_b[] = { 0, 0x20, 0x40, 0x30 };
	static const uint32_t tpr_0[] = { 0, 0, 0, 0 };
	struct event want_a[] = { FIX(2, VEC_LOWPRI) };
	struct event want_b[] = { FIX(1, VEC_LOWPRI) };

	if (!report(set_tprs(tpr_a, NEED_CPUS), "TPRs of cpus 1-3 set to 20H, 10H, 30H"))
		return;
	reset_log();
	xapic_send_ipi(0x0e, ICR_LOWEST | ICR_LOGICAL | VEC_LOWPRI);
	expect_events("lowest priority to cpus 1-3: cpu 2 (TPR 10H) accepts", want_a, 1);
	if (!report(set_tprs(tpr_b, NEED_CPUS), "TPRs of cpus 1-3 set to 20H, 40H, 30H"))
		return;
	reset_log();
	xapic_send_ipi(0x0e, ICR_LOWEST | ICR_LOGICAL | VEC_LOWPRI);
	expect_events("lowest priority to cpus 1-3: now cpu 1 (TPR 20H) accepts", want_b, 1);
	report(set_tprs(tpr_0, NEED_CPUS), "TPRs back to 0");
}

/* HLT (vol. 2 HLT): the AP sleeps in "sti; hlt" and resumes after the
 * handler of the IPI that wakes it; its idle loop goes round exactly once. */
static void test_hlt_wakeup(void)
{
	struct event want[] = { FIX(3, VEC_LOG) };
	unsigned before;

	wait_ns(SETTLE_NS, NULL, 0);
	before = idle_loops[3];
	wait_ns(SETTLE_NS, NULL, 0);
	report_eq(idle_loops[3], before, "cpu 3 stays in HLT while nothing is sent");
	reset_log();
	xapic_send_ipi(smp_cpus[3].apic_id, ICR_FIXED | VEC_LOG);
	expect_events("a fixed IPI wakes cpu 3 from HLT", want, 1);
	report_eq(idle_loops[3], before + 1, "cpu 3 left HLT once, after the handler, and halted again");
}

/* The APs' timers (periodic, 1 timer tick per TSC tick at divide 1: the
 * APIC timer runs at the core crystal clock, which CPUID.15H gives as the
 * TSC rate) run while the BSP sends IPI bursts: each AP's ticks are its
 * period apart, and every burst reaches every AP. This is also the
 * timer + IPI workload determinism.sh runs twice. */
static void test_timers_and_ipis(void)
{
	bool started = true, spaced = true;

	for (unsigned i = 1; i < NEED_CPUS; i++)
		post_cmd((int)i, CMD_TIMER_START, i * TIMER_BASE);
	for (unsigned i = 1; i < NEED_CPUS; i++)
		started &= wait_cmd_done((int)i);
	report(started, "cpus 1-3 started periodic timers of 100000, 200000, 300000 cycles");
	reset_log();
	for (unsigned b = 0; b < BURSTS; b++) {
		xapic_send_ipi(0, ICR_OTHERS | ICR_FIXED | VEC_LOG);
		wait_ns(250000, NULL, 0);
	}
	wait_ns(WAIT_NS, &nevents, BURSTS * (NEED_CPUS - 1));
	for (unsigned i = 1; i < NEED_CPUS; i++)
		post_cmd((int)i, CMD_TIMER_STOP, 0);
	for (unsigned i = 1; i < NEED_CPUS; i++)
		wait_cmd_done((int)i);
	report_eq(nevents, BURSTS * (NEED_CPUS - 1), "%u all-excluding-self bursts reached 3 APs each",
		  BURSTS);
	for (unsigned i = 1; i < NEED_CPUS; i++) {
		unsigned n = ticks[i] < TIMER_STAMPS ? ticks[i] : TIMER_STAMPS;
		for (unsigned k = 1; k < n; k++) {
			int64_t d = (int64_t)(tick_tsc[i][k] - tick_tsc[i][k - 1]) - (int64_t)(i * TIMER_BASE);
			if (d < -TIMER_JITTER || d > TIMER_JITTER) {
				spaced = false;
				printf("      cpu %u ticks %u-%u: %ld cycles off\n", i, k - 1, k, (long)d);
			}
		}
		/* ~5 ms of bursts: 10M cycles / (i * 100000) ticks at least. */
		report(ticks[i] >= 100 / i, "cpu %u: %u timer ticks in the bursts' 10M cycles", i, ticks[i]);
	}
	report(spaced, "every AP's timer ticks are its period apart (+-%u cycles)", TIMER_JITTER);
}

static void check_bsp_apic_idle(void)
{
	uint32_t isr = 0, irr = 0;

	for (unsigned r = 0; r < 8; r++) {
		isr |= xapic_read(XAPIC_ISR + 0x10 * r);
		irr |= xapic_read(XAPIC_IRR + 0x10 * r);
	}
	report(!isr && !irr, "BSP ends with ISR and IRR empty (every handler sent its EOI)");
	/* 10.5.3: a write to the ESR latches the errors since the last write. */
	xapic_write(XAPIC_ESR, 0);
	report_eq(xapic_read(XAPIC_ESR), 0, "BSP ESR reads 0 (no send or receive error)");
}

static void install_handlers(void)
{
	idt_set_handler(VEC_KICK, on_kick, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_PING, on_ping, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_LOG, on_logged, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_LOWPRI, on_logged, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_NMI, on_nmi, GATE_INTERRUPT, 0);
	idt_set_handler(VEC_TIMER, on_timer, GATE_INTERRUPT, 0);
	for (unsigned i = 0; i < SMP_MAX_CPUS; i++)
		idt_set_handler((uint8_t)(VEC_PONG + i), on_logged, GATE_INTERRUPT, 0);
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	unsigned n;

	(void)magic;
	install_handlers();
	if (!smp_init(mbinfo))
		report_summary();
	n = smp_ncpus;
	if (!report(n == NEED_CPUS, "%u CPUs (run with -smp 4): %u", NEED_CPUS, n))
		report_summary();
	set_flat_logical(0);
	if (!report(smp_start_aps() == n - 1, "all APs started"))
		report_summary();
	wait_ns(WAIT_NS, &ready, n - 1);
	report_eq(ready, n - 1, "every AP set its LDR/DFR and sleeps");
	xapic_write(XAPIC_ESR, 0);
	sti();
	test_ping_pong(n);
	test_logical();
	test_shorthands();
	test_nmi();
	test_lowest_priority();
	test_hlt_wakeup();
	test_timers_and_ipis();
	cli();
	check_bsp_apic_idle();
	report_summary();
}
