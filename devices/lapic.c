/* Local APIC (xAPIC and x2APIC) and the APIC bus, after Intel SDM vol. 3A
 * chapter 10. Section numbers below are that chapter's.
 *
 * Choices where the SDM leaves room (each also said where it applies):
 * - Lowest-priority delivery goes to the target with the lowest arbitration
 *   priority (APR, 10.6.2.4); ties go to the lowest bus index. Focus
 *   processor checking is not modelled (reserved on Pentium 4 and later).
 * - Software-disabled APICs drop fixed/lowest-priority messages and keep
 *   INTR low for what is held in IRR (as QEMU and KVM); INIT, NMI, SMI and
 *   SIPI still work (10.4.7.2).
 * - Changing the LVT timer between one-shot and periodic keeps the count
 *   running; entering or leaving TSC-deadline mode disarms the timer and
 *   clears the initial count (what hardware and kvm-unit-tests' apic test
 *   show; 10.5.4.1 only says "disarms").
 * - xAPIC ID is writable (bits 31:24) as on QEMU/KVM; x2APIC mode and a
 *   power-on reset bring back the initial id.
 */
#include "devices/lapic.h"

#include <stdlib.h>
#include <string.h>

enum lvt_index { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_CMCI, LVT_N };

#define MAX_EOI_LISTENERS 8

struct lapic {
	struct apic_bus *bus;
	int index;
	struct lapic_cpu_port port;
	uint32_t initial_id;    /* hardware id given at attach */
	bool bsp;

	uint64_t base;          /* IA32_APIC_BASE */
	uint32_t id;            /* xAPIC: 8-bit id; x2APIC: 32-bit id */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t esr;           /* visible ESR */
	uint32_t esr_pending;   /* errors since the last ESR write (10.5.3) */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_N];
	uint32_t dcr, initial_count;

	/* Timer (10.5.4): never ticks. Tick n (since origin) is reached at
	 * cycle origin + ceil(n * hz * div / timer_hz); `target` is the tick
	 * at which the count next reaches zero. */
	uint64_t t_origin, t_target;
	unsigned t_div;
	bool t_running;
	uint64_t tsc_deadline;
	struct dev_timer timer;

	bool lint[2];           /* LINT0/LINT1 input levels */
	bool extint_msg;        /* ExtINT message from the bus awaiting INTA */
	bool intr;              /* INTR output level */
};

struct apic_bus {
	struct clock *ck;
	uint64_t timer_hz;
	struct lapic_features f;
	int n;
	struct lapic *cpu;
	struct eoi_listener eoi[MAX_EOI_LISTENERS];
	int neoi;
	int (*extint_ack)(void *opaque);
	void *extint_opaque;
};

/* ---- small helpers ---- */

static bool is_enabled(const struct lapic *l)
{
	return l->base & APIC_BASE_EN;
}

static bool is_x2(const struct lapic *l)
{
	return (l->base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

static bool sw_enabled(const struct lapic *l)
{
	return l->svr & APIC_SVR_ENABLE;
}

static unsigned lvt_mode(uint32_t lvt)
{
	return (lvt >> 8) & 7;
}

static void bit_set(uint32_t *r, unsigned v)
{
	r[v >> 5] |= 1u << (v & 31);
}

static void bit_clear(uint32_t *r, unsigned v)
{
	r[v >> 5] &= ~(1u << (v & 31));
}

static bool bit_test(const uint32_t *r, unsigned v)
{
	return r[v >> 5] & (1u << (v & 31));
}

/* Highest set vector of a 256-bit register, or -1. */
static int highest(const uint32_t *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

/* Logical x2APIC ID derived from the x2APIC ID (10.12.10.2). */
static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

static uint64_t now(const struct lapic *l)
{
	return clock_now(l->bus->ck);
}

/* ---- priorities and the INTR output ---- */

/* PPR (10.8.3.1): TPR when TPR[7:4] >= ISRV[7:4], else ISRV[7:4]:0. */
static uint32_t ppr(const struct lapic *l)
{
	int isrv = highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (l->tpr & 0xf0) >= isr_class ? l->tpr : isr_class;
}

/* APR (10.6.2.4): TPR when TPR[7:4] >= IRRV[7:4] and TPR[7:4] > ISRV[7:4],
 * else max(TPR[7:4] AND ISRV[7:4], IRRV[7:4]) with bits 3:0 clear. */
static uint32_t apr(const struct lapic *l)
{
	int irrv = highest(l->irr), isrv = highest(l->isr);
	uint32_t irr_c = irrv < 0 ? 0 : (uint32_t)irrv >> 4;
	uint32_t isr_c = isrv < 0 ? 0 : (uint32_t)isrv >> 4;
	uint32_t tpr_c = l->tpr >> 4;
	if (tpr_c >= irr_c && tpr_c > isr_c)
		return l->tpr;
	uint32_t c = tpr_c & isr_c;
	return (c > irr_c ? c : irr_c) << 4;
}

/* The vector INTA would take from IRR, or -1: its priority class must be
 * above the processor priority class (10.8.3.1, 10.8.4). */
static int deliverable(const struct lapic *l)
{
	int v = highest(l->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
		return -1;
	return v;
}

/* An ExtINT request: an ExtINT message, or a LINT pin programmed ExtINT,
 * unmasked and high (ExtINT is level-sensitive, 10.5.1). */
static bool extint_pending(const struct lapic *l)
{
	if (l->extint_msg)
		return true;
	for (int pin = 0; pin < 2; pin++) {
		uint32_t lvt = l->lvt[LVT_LINT0 + pin];
		if (l->lint[pin] && !(lvt & APIC_LVT_MASKED) && lvt_mode(lvt) == APIC_DM_EXTINT)
			return true;
	}
	return false;
}

static bool intr_level(const struct lapic *l)
{
	/* Globally disabled: LINT0 is the INTR pin itself (10.4.3). */
	if (!is_enabled(l))
		return l->lint[0];
	if (extint_pending(l))
		return true;
	return sw_enabled(l) && deliverable(l) >= 0;
}

static void update_intr(struct lapic *l)
{
	bool level = intr_level(l);
	if (level == l->intr)
		return;
	l->intr = level;
	if (l->port.intr)
		l->port.intr(l->port.ctx, level);
}

/* ---- errors (10.5.3) ---- */

static void deliver_lvt(struct lapic *l, enum lvt_index i);

/* Latch an error; a newly set bit raises the LVT error interrupt. */
static void set_error(struct lapic *l, uint32_t bit)
{
	if (l->esr_pending & bit)
		return;
	l->esr_pending |= bit;
	deliver_lvt(l, LVT_ERROR);
}

/* ---- accepting interrupts ---- */

/* A fixed interrupt into IRR; TMR records the trigger mode (10.8.4).
 * Vectors 0-15 are illegal: ESR only, IRR untouched (10.5.2). */
static void accept_fixed(struct lapic *l, unsigned vector, bool level)
{
	if (vector < 16) {
		set_error(l, APIC_ESR_RECV_ILLEGAL_VECTOR);
		return;
	}
	bit_set(l->irr, vector);
	if (level)
		bit_set(l->tmr, vector);
	else
		bit_clear(l->tmr, vector);
	update_intr(l);
}

static void init_reset(struct lapic *l);

static void do_init(struct lapic *l)
{
	init_reset(l);
	if (l->port.init)
		l->port.init(l->port.ctx);
}

static void do_nmi(struct lapic *l)
{
	if (l->port.nmi)
		l->port.nmi(l->port.ctx);
}

static void do_smi(struct lapic *l)
{
	if (l->port.smi)
		l->port.smi(l->port.ctx);
}

/* A local interrupt through its LVT entry (10.5.1). Timer, error, thermal,
 * perf and CMCI are edge; LINT fixed may be level (remote IRR). ExtINT is
 * a level seen by intr_level(), not an event. */
static void deliver_lvt(struct lapic *l, enum lvt_index i)
{
	uint32_t lvt = l->lvt[i];
	if (!is_enabled(l) || (lvt & APIC_LVT_MASKED))
		return;
	bool level = (i == LVT_LINT0 || i == LVT_LINT1) && (lvt & APIC_LVT_LEVEL);
	switch (lvt_mode(lvt)) {
	case APIC_DM_FIXED:
		if (level && (unsigned)(lvt & 0xff) >= 16)
			l->lvt[i] |= APIC_LVT_REMOTE_IRR;
		accept_fixed(l, lvt & 0xff, level);
		break;
	case APIC_DM_SMI:
		do_smi(l);
		break;
	case APIC_DM_NMI:
		do_nmi(l);
		break;
	case APIC_DM_INIT:
		do_init(l);
		break;
	case APIC_DM_EXTINT:
		update_intr(l);
		break;
	default:                /* reserved delivery modes: nothing */
		break;
	}
}

/* A message that reached this APIC. Deassert messages (level-triggered,
 * assert clear) carry nothing on Pentium 4 and later: INIT level de-assert
 * is not supported (10.6.1) and fixed deasserts are not sent to CPUs. */
static void receive(struct lapic *l, const struct apic_msg *m)
{
	if (!is_enabled(l) || (m->level && !m->assert))
		return;
	switch (m->mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		if (sw_enabled(l))
			accept_fixed(l, m->vector, m->level);
		break;
	case APIC_DM_SMI:
		do_smi(l);
		break;
	case APIC_DM_NMI:
		do_nmi(l);
		break;
	case APIC_DM_INIT:
		do_init(l);
		break;
	case APIC_DM_SIPI:
		if (l->port.sipi)
			l->port.sipi(l->port.ctx, m->vector);
		break;
	case APIC_DM_EXTINT:
		if (sw_enabled(l)) {
			l->extint_msg = true;
			update_intr(l);
		}
		break;
	default:
		break;
	}
}

/* ---- the bus: destinations (10.6.2) ---- */

/* Logical destination match of an xAPIC receiver: flat model (DFR[31:28]
 * = 1111B) ANDs the MDA with LDR[31:24]; cluster model (0000B) compares
 * the cluster MDA[7:4] (15 = all clusters) and ANDs MDA[3:0] with
 * LDR[27:24] (10.6.2.2). */
static bool match_logical_xapic(const struct lapic *l, uint32_t mda)
{
	uint32_t lid = l->ldr >> 24;
	if ((l->dfr >> 28) == 0xf)
		return (mda & lid) != 0;
	uint32_t cluster = (mda >> 4) & 0xf;
	return (cluster == 0xf || cluster == lid >> 4) && (mda & lid & 0xf) != 0;
}

/* x2APIC logical: cluster MDA[31:16] equal, MDA[15:0] AND LDR[15:0]
 * (10.12.10.2). */
static bool match_logical_x2(const struct lapic *l, uint32_t mda)
{
	uint32_t ldr = x2apic_ldr(l->id);
	return (mda >> 16) == (ldr >> 16) && (mda & ldr & 0xffff) != 0;
}

/* Whether l is addressed. An IPI from an x2APIC carries a 32-bit
 * destination (broadcast FFFFFFFFH); every other message an 8-bit one
 * (broadcast FFH, 10.6.2.1). */
static bool match_dest(const struct apic_bus *bus, const struct lapic *l, const struct apic_msg *m)
{
	bool wide = m->source >= 0 && m->source < bus->n && is_x2(&bus->cpu[m->source]);
	if (m->dest == (wide ? 0xffffffffu : 0xffu))
		return true;
	if (!m->logical)
		return m->dest == l->id;
	return is_x2(l) ? match_logical_x2(l, m->dest) : match_logical_xapic(l, m->dest & 0xff);
}

static bool addressed(const struct apic_bus *bus, int i, const struct apic_msg *m)
{
	switch (m->shorthand & 3) {
	case 1:
		return i == m->source;
	case 2:
		return true;
	case 3:
		return i != m->source;
	default:
		return match_dest(bus, &bus->cpu[i], m);
	}
}

/* Lowest priority: among addressed, enabled APICs the lowest APR wins,
 * ties to the lowest bus index (deterministic; 10.6.2.4). */
static void route_lowest(struct apic_bus *bus, const struct apic_msg *m)
{
	int best = -1;
	uint32_t best_apr = 0;
	for (int i = 0; i < bus->n; i++) {
		struct lapic *l = &bus->cpu[i];
		if (!addressed(bus, i, m) || !is_enabled(l) || !sw_enabled(l))
			continue;
		uint32_t a = apr(l);
		if (best < 0 || a < best_apr) {
			best = i;
			best_apr = a;
		}
	}
	if (best >= 0)
		receive(&bus->cpu[best], m);
}

static void route(struct apic_bus *bus, const struct apic_msg *m)
{
	if (m->mode == APIC_DM_LOWEST) {
		route_lowest(bus, m);
		return;
	}
	for (int i = 0; i < bus->n; i++)
		if (addressed(bus, i, m))
			receive(&bus->cpu[i], m);
}

static void sink_deliver(void *opaque, const struct apic_msg *msg)
{
	route(opaque, msg);
}

/* Send the ICR's message (10.6.1). Delivery completes at once: the
 * delivery status bit always reads idle. */
static void send_ipi(struct lapic *l, uint32_t lo, uint32_t dest)
{
	struct apic_msg m = {
		.dest = dest,
		.vector = lo & 0xff,
		.mode = (lo >> 8) & 7,
		.logical = lo & (1u << 11),
		.level = lo & (1u << 15),
		.assert = lo & (1u << 14),
		.shorthand = (lo >> 18) & 3,
		.source = l->index,
	};
	/* INIT level de-assert: not supported on Pentium 4 and later. */
	if (m.mode == APIC_DM_INIT && m.level && !m.assert)
		return;
	/* The trigger mode is ignored for all other modes: IPIs are edge. */
	m.level = false;
	m.assert = true;
	if (m.mode == 3 || m.mode == APIC_DM_EXTINT)
		return;         /* reserved in the ICR */
	if ((m.mode == APIC_DM_FIXED || m.mode == APIC_DM_LOWEST) && m.vector < 16) {
		set_error(l, APIC_ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	route(l->bus, &m);
}

/* ---- EOI (10.8.5) ---- */

static void lint_level_check(struct lapic *l, int pin);

static void do_eoi(struct lapic *l)
{
	int v = highest(l->isr);
	if (v < 0)
		return;
	bit_clear(l->isr, (unsigned)v);
	if (bit_test(l->tmr, (unsigned)v)) {
		for (int pin = 0; pin < 2; pin++) {
			uint32_t *lvt = &l->lvt[LVT_LINT0 + pin];
			if ((*lvt & 0xff) == (uint32_t)v)
				*lvt &= ~APIC_LVT_REMOTE_IRR;
		}
		/* Level-triggered: EOI message to the IOAPICs unless
		 * SVR bit 12 suppresses it (10.8.5). */
		if (!(l->svr & APIC_SVR_EOI_SUPPRESS))
			for (int i = 0; i < l->bus->neoi; i++)
				l->bus->eoi[i].eoi(l->bus->eoi[i].opaque, (uint8_t)v);
	}
	update_intr(l);
	lint_level_check(l, 0);
	lint_level_check(l, 1);
}

void lapic_eoi(struct lapic *l)
{
	do_eoi(l);
}

/* ---- LINT pins ---- */

/* A level-triggered fixed LINT input still asserted once remote IRR is
 * clear is accepted again. */
static void lint_level_check(struct lapic *l, int pin)
{
	uint32_t lvt = l->lvt[LVT_LINT0 + pin];
	if (l->lint[pin] && lvt_mode(lvt) == APIC_DM_FIXED && (lvt & APIC_LVT_LEVEL) &&
	    !(lvt & (APIC_LVT_REMOTE_IRR | APIC_LVT_MASKED)))
		deliver_lvt(l, LVT_LINT0 + pin);
}

void lapic_set_lint(struct lapic *l, int pin, int level)
{
	if (pin < 0 || pin > 1)
		return;
	bool rising = level && !l->lint[pin];
	l->lint[pin] = level != 0;
	/* Globally disabled: LINT0 is INTR and LINT1 is NMI (10.4.3). */
	if (!is_enabled(l)) {
		if (pin == 0)
			update_intr(l);
		else if (rising)
			do_nmi(l);
		return;
	}
	uint32_t lvt = l->lvt[LVT_LINT0 + pin];
	switch (lvt_mode(lvt)) {
	case APIC_DM_FIXED:
		if (lvt & APIC_LVT_LEVEL)
			lint_level_check(l, pin);
		else if (rising)
			deliver_lvt(l, LVT_LINT0 + pin);
		break;
	case APIC_DM_EXTINT:
		update_intr(l);
		break;
	default:                /* NMI, SMI, INIT: always edge (10.5.1) */
		if (rising)
			deliver_lvt(l, LVT_LINT0 + pin);
		break;
	}
}

/* ---- timer (10.5.4) ---- */

enum timer_mode { TIMER_ONESHOT, TIMER_PERIODIC, TIMER_TSC_DEADLINE };

/* LVT timer bits 18:17; 11B is reserved and counts as one-shot (as KVM). */
static enum timer_mode timer_mode(const struct lapic *l)
{
	unsigned m = (l->lvt[LVT_TIMER] >> 17) & 3;
	if (m == 1)
		return TIMER_PERIODIC;
	if (m == 2 && l->bus->f.tsc_deadline)
		return TIMER_TSC_DEADLINE;
	return TIMER_ONESHOT;
}

/* Divide configuration bits 3,1,0 (Figure 10-10): 000B = 2 ... 110B =
 * 128, 111B = 1. */
static unsigned dcr_divisor(uint32_t dcr)
{
	unsigned v = (dcr & 3) | ((dcr >> 1) & 4);
	return v == 7 ? 1 : 2u << v;
}

/* Timer ticks elapsed from origin to t. */
static uint64_t ticks_at(const struct lapic *l, uint64_t t)
{
	if (t <= l->t_origin)
		return 0;
	unsigned __int128 num = (unsigned __int128)(t - l->t_origin) * l->bus->timer_hz;
	unsigned __int128 den = (unsigned __int128)clock_hz(l->bus->ck) * l->t_div;
	unsigned __int128 q = num / den;
	return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

/* The first cycle at which `ticks` ticks have elapsed. */
static uint64_t cycle_of(const struct lapic *l, uint64_t ticks)
{
	unsigned __int128 num = (unsigned __int128)ticks * clock_hz(l->bus->ck) * l->t_div;
	unsigned __int128 c = (num + l->bus->timer_hz - 1) / l->bus->timer_hz + l->t_origin;
	return c > UINT64_MAX ? UINT64_MAX : (uint64_t)c;
}

/* Bring target past `now` for periodic counting (expiries that passed
 * unarmed happened while masked), or stop a one-shot that reached 0. */
static void timer_normalize(struct lapic *l)
{
	if (!l->t_running)
		return;
	uint64_t e = ticks_at(l, now(l));
	if (e < l->t_target)
		return;
	if (timer_mode(l) == TIMER_PERIODIC)
		l->t_target += ((e - l->t_target) / l->initial_count + 1) * l->initial_count;
	else
		l->t_running = false;
}

static uint64_t tsc_now(const struct lapic *l)
{
	return l->port.tsc ? l->port.tsc(l->port.ctx) : now(l);
}

static void timer_fire(void *opaque, struct dev_timer *t);

/* Arm the clock for the next interrupt: counting modes only when the
 * interrupt can be delivered (else the count is computed when read);
 * TSC-deadline always, since expiry clears the MSR even when masked. */
static void timer_sync(struct lapic *l)
{
	struct clock *ck = l->bus->ck;
	clock_disarm(ck, &l->timer);
	if (!is_enabled(l))
		return;
	if (timer_mode(l) == TIMER_TSC_DEADLINE) {
		if (!l->tsc_deadline)
			return;
		uint64_t tsc = tsc_now(l);
		if (l->tsc_deadline <= tsc) {
			timer_fire(l, &l->timer);
			return;
		}
		clock_arm(ck, &l->timer, now(l) + (l->tsc_deadline - tsc));
		return;
	}
	timer_normalize(l);
	if (l->t_running && !(l->lvt[LVT_TIMER] & APIC_LVT_MASKED))
		clock_arm(ck, &l->timer, cycle_of(l, l->t_target));
}

static void timer_fire(void *opaque, struct dev_timer *t)
{
	struct lapic *l = opaque;
	(void)t;
	if (timer_mode(l) == TIMER_TSC_DEADLINE) {
		l->tsc_deadline = 0;    /* disarms itself (10.5.4.1) */
		deliver_lvt(l, LVT_TIMER);
		return;
	}
	if (!l->t_running)
		return;
	deliver_lvt(l, LVT_TIMER);
	if (timer_mode(l) == TIMER_PERIODIC)
		l->t_target += l->initial_count;        /* exact: from the origin */
	else
		l->t_running = false;
	timer_sync(l);
}

/* An expiry due at this very cycle but not yet fired goes first, so a
 * register write at that cycle never swallows it. */
static void timer_catch_up(struct lapic *l)
{
	if (dev_timer_armed(&l->timer) && l->timer.when <= now(l)) {
		clock_disarm(l->bus->ck, &l->timer);
		timer_fire(l, &l->timer);
	}
}

static uint32_t timer_current(const struct lapic *l)
{
	if (timer_mode(l) == TIMER_TSC_DEADLINE || !l->t_running)
		return 0;       /* CCR reads 0 in TSC-deadline mode (10.5.4.1) */
	uint64_t e = ticks_at(l, now(l));
	if (e < l->t_target)
		return (uint32_t)(l->t_target - e);
	if (timer_mode(l) == TIMER_PERIODIC)
		return (uint32_t)(l->initial_count - (e - l->t_target) % l->initial_count);
	return 0;
}

/* (Re)start counting `count` ticks from now. */
static void timer_start(struct lapic *l, uint32_t count)
{
	l->t_origin = now(l);
	l->t_target = count;
	l->t_div = dcr_divisor(l->dcr);
	l->t_running = count != 0;
	timer_sync(l);
}

static void write_initial_count(struct lapic *l, uint32_t v)
{
	timer_catch_up(l);
	if (timer_mode(l) == TIMER_TSC_DEADLINE)
		return;         /* ignored in TSC-deadline mode (10.5.4.1) */
	l->initial_count = v;
	timer_start(l, v);
}

/* A new divisor applies from now on: the count carries over. */
static void write_dcr(struct lapic *l, uint32_t v)
{
	timer_catch_up(l);
	timer_normalize(l);
	uint32_t cur = timer_current(l);
	bool running = l->t_running;
	l->dcr = v;
	if (running)
		timer_start(l, cur);
	else
		l->t_div = dcr_divisor(v);
}

static void write_lvt_timer(struct lapic *l, uint32_t v)
{
	timer_catch_up(l);
	timer_normalize(l);
	enum timer_mode old = timer_mode(l);
	l->lvt[LVT_TIMER] = v;
	enum timer_mode m = timer_mode(l);
	if (m != old && (m == TIMER_TSC_DEADLINE || old == TIMER_TSC_DEADLINE)) {
		l->t_running = false;
		l->initial_count = 0;
		l->tsc_deadline = 0;
	}
	timer_sync(l);
}

uint64_t lapic_tsc_deadline_read(const struct lapic *l)
{
	return is_enabled(l) && timer_mode(l) == TIMER_TSC_DEADLINE ? l->tsc_deadline : 0;
}

void lapic_tsc_deadline_write(struct lapic *l, uint64_t v)
{
	if (!is_enabled(l) || timer_mode(l) != TIMER_TSC_DEADLINE)
		return;         /* writes ignored in other modes (10.5.4.1) */
	l->tsc_deadline = v;
	timer_sync(l);
}

/* ---- reset and INIT (10.4.7) ---- */

/* Everything INIT resets: all but the id, the APIC base and the pins. */
static void clear_registers(struct lapic *l)
{
	l->tpr = l->ldr = 0;
	l->dfr = 0xffffffffu;
	l->svr = 0xff;
	memset(l->irr, 0, sizeof(l->irr));
	memset(l->isr, 0, sizeof(l->isr));
	memset(l->tmr, 0, sizeof(l->tmr));
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (int i = 0; i < LVT_N; i++)
		l->lvt[i] = APIC_LVT_MASKED;
	l->dcr = l->initial_count = 0;
	l->t_running = false;
	l->t_div = dcr_divisor(0);
	l->tsc_deadline = 0;
	l->extint_msg = false;
	clock_disarm(l->bus->ck, &l->timer);
}

static void init_reset(struct lapic *l)
{
	clear_registers(l);
	update_intr(l);
}

void lapic_reset(struct lapic *l)
{
	l->base = APIC_BASE_DEFAULT | APIC_BASE_EN | (l->bsp ? APIC_BASE_BSP : 0);
	l->id = l->initial_id & 0xff;
	clear_registers(l);
	update_intr(l);
}

void lapic_firmware_setup(struct lapic *l)
{
	l->svr |= APIC_SVR_ENABLE;
	l->lvt[LVT_LINT0] = 0x8700;     /* ExtINT, level, unmasked */
	l->lvt[LVT_LINT1] = 0x8400;     /* NMI, level, unmasked */
	update_intr(l);
}

/* ---- IA32_APIC_BASE (10.4.4, 10.12.5) ---- */

uint64_t lapic_get_base(const struct lapic *l)
{
	return l->base;
}

uint64_t lapic_mmio_page(const struct lapic *l)
{
	if ((l->base & (APIC_BASE_EN | APIC_BASE_EXTD)) != APIC_BASE_EN)
		return UINT64_MAX;
	return l->base & ~0xfffull;
}

/* Valid transitions (10.12.5.1, Figure 10-27): xAPIC -> x2APIC or
 * disabled; x2APIC -> disabled; disabled -> xAPIC; EN=0 EXTD=1 never. */
static bool base_transition_ok(uint64_t old, uint64_t v)
{
	bool en = v & APIC_BASE_EN, x = v & APIC_BASE_EXTD;
	bool old_en = old & APIC_BASE_EN, old_x = old & APIC_BASE_EXTD;
	if (x && !en)
		return false;
	if (old_en && old_x && en && !x)
		return false;
	if (!old_en && en && x)
		return false;
	return true;
}

bool lapic_set_base(struct lapic *l, uint64_t v)
{
	const struct lapic_features *f = &l->bus->f;
	unsigned pa = f->maxphyaddr ? f->maxphyaddr : 52;
	uint64_t rsvd = 0x2ffull | (pa < 64 ? ~0ull << pa : 0) | (f->x2apic ? 0 : APIC_BASE_EXTD);
	if ((v & rsvd) || !base_transition_ok(l->base, v))
		return false;
	uint64_t old = l->base;
	l->base = (v & ~APIC_BASE_BSP) | (old & APIC_BASE_BSP);     /* BSP is read-only */
	if ((old & APIC_BASE_EN) && !(v & APIC_BASE_EN)) {
		/* Global disable loses the programming (10.4.3). */
		l->id = l->initial_id & 0xff;
		clear_registers(l);
	} else if (!(old & APIC_BASE_EXTD) && (v & APIC_BASE_EXTD)) {
		l->id = l->initial_id;  /* x2APIC id; LDR derived from it */
	}
	update_intr(l);
	return true;
}

/* ---- CR8 (10.8.6.1) ---- */

unsigned lapic_get_cr8(const struct lapic *l)
{
	return (l->tpr >> 4) & 0xf;
}

void lapic_set_cr8(struct lapic *l, unsigned cr8)
{
	l->tpr = (cr8 & 0xf) << 4;
	update_intr(l);
}

/* ---- INTA ---- */

bool lapic_intr_pending(const struct lapic *l)
{
	return l->intr;
}

static int extint_vector(struct lapic *l)
{
	struct apic_bus *bus = l->bus;
	l->extint_msg = false;
	int v = bus->extint_ack ? bus->extint_ack(bus->extint_opaque) : (int)(l->svr & 0xff);
	update_intr(l);
	return v;
}

int lapic_ack(struct lapic *l)
{
	if (!is_enabled(l))
		return extint_vector(l);
	int v = sw_enabled(l) ? deliverable(l) : -1;
	if (v >= 0) {
		bit_clear(l->irr, (unsigned)v);
		bit_set(l->isr, (unsigned)v);
		update_intr(l);
		return v;
	}
	if (extint_pending(l))
		return extint_vector(l);
	/* Masked by TPR since INTR rose: the spurious vector, ISR untouched
	 * (10.9). */
	update_intr(l);
	return (int)(l->svr & 0xff);
}

/* ---- register file (Table 10-1, Table 10-6) ---- */

enum wr { WR_OK, WR_ABSENT, WR_GP };

static const uint32_t lvt_writable[LVT_N] = {
	[LVT_TIMER] = 0x700ff,  /* vector, mask, mode 18:17 (bit 18 checked below) */
	[LVT_THERMAL] = 0x107ff,
	[LVT_PERF] = 0x107ff,
	[LVT_LINT0] = 0x1a7ff,  /* + polarity 13, trigger 15 */
	[LVT_LINT1] = 0x1a7ff,
	[LVT_ERROR] = 0x100ff,
	[LVT_CMCI] = 0x107ff,
};

static int lvt_of(unsigned off)
{
	switch (off) {
	case APIC_REG_LVT_TIMER: return LVT_TIMER;
	case APIC_REG_LVT_THERMAL: return LVT_THERMAL;
	case APIC_REG_LVT_PERF: return LVT_PERF;
	case APIC_REG_LVT_LINT0: return LVT_LINT0;
	case APIC_REG_LVT_LINT1: return LVT_LINT1;
	case APIC_REG_LVT_ERROR: return LVT_ERROR;
	case APIC_REG_LVT_CMCI: return LVT_CMCI;
	default: return -1;
	}
}

/* Read a register; false when it does not exist in this mode (or is
 * write-only in x2APIC mode, which faults). */
static bool reg_read(struct lapic *l, unsigned off, bool x2, uint64_t *v)
{
	int lvt = lvt_of(off);
	if (lvt >= 0) {
		*v = l->lvt[lvt];
		return true;
	}
	if (off >= APIC_REG_ISR && off < APIC_REG_ESR) {
		unsigned i = (off - APIC_REG_ISR) >> 4;
		*v = i < 8 ? l->isr[i] : i < 16 ? l->tmr[i - 8] : l->irr[i - 16];
		return true;
	}
	switch (off) {
	case APIC_REG_ID: *v = x2 ? l->id : l->id << 24; return true;
	case APIC_REG_VERSION: *v = LAPIC_VERSION; return true;
	case APIC_REG_TPR: *v = l->tpr; return true;
	case APIC_REG_APR: *v = apr(l); return !x2;
	case APIC_REG_PPR: *v = ppr(l); return true;
	case APIC_REG_EOI: *v = 0; return !x2;             /* write-only */
	case APIC_REG_RRD: *v = 0; return !x2;             /* remote read unsupported */
	case APIC_REG_LDR: *v = x2 ? x2apic_ldr(l->id) : l->ldr; return true;
	case APIC_REG_DFR: *v = l->dfr; return !x2;
	case APIC_REG_SVR: *v = l->svr; return true;
	case APIC_REG_ESR: *v = l->esr; return true;
	case APIC_REG_ICR_LO: *v = x2 ? l->icr_lo | (uint64_t)l->icr_hi << 32 : l->icr_lo; return true;
	case APIC_REG_ICR_HI: *v = l->icr_hi; return !x2;
	case APIC_REG_TIMER_ICR: *v = l->initial_count; return true;
	case APIC_REG_TIMER_CCR: *v = timer_current(l); return true;
	case APIC_REG_TIMER_DCR: *v = l->dcr; return true;
	default: return false;  /* reserved, and SELF IPI (write-only) */
	}
}

/* Reserved bits: #GP in x2APIC mode (10.12.1.3); xAPIC masks them off. */
static bool rsvd(bool x2, uint64_t v, uint64_t ok)
{
	return x2 && (v & ~ok);
}

static enum wr write_lvt(struct lapic *l, int i, uint64_t v, bool x2)
{
	uint32_t ok = lvt_writable[i];
	if (i == LVT_TIMER && !l->bus->f.tsc_deadline)
		ok &= ~0x40000u;
	if (rsvd(x2, v, ok | 0x1000u | (i == LVT_LINT0 || i == LVT_LINT1 ? APIC_LVT_REMOTE_IRR : 0)))
		return WR_GP;
	uint32_t val = (uint32_t)v & ok;
	if (!sw_enabled(l))
		val |= APIC_LVT_MASKED; /* cannot unmask while disabled (10.4.7.2) */
	if (i == LVT_TIMER) {
		write_lvt_timer(l, val);
	} else {
		l->lvt[i] = val | (l->lvt[i] & APIC_LVT_REMOTE_IRR);
		if (i == LVT_LINT0 || i == LVT_LINT1)
			lint_level_check(l, i - LVT_LINT0);
	}
	update_intr(l);
	return WR_OK;
}

static enum wr write_svr(struct lapic *l, uint64_t v, bool x2)
{
	const uint32_t ok = 0xff | APIC_SVR_ENABLE | APIC_SVR_FOCUS_DISABLE | APIC_SVR_EOI_SUPPRESS;
	if (rsvd(x2, v, ok))
		return WR_GP;
	timer_catch_up(l);
	l->svr = (uint32_t)v & ok;
	if (!sw_enabled(l))
		for (int i = 0; i < LVT_N; i++)
			l->lvt[i] |= APIC_LVT_MASKED;
	timer_sync(l);
	update_intr(l);
	return WR_OK;
}

static enum wr write_icr(struct lapic *l, uint64_t v, bool x2)
{
	/* x2APIC ICR reserved: 13, 17:16, 31:20 (Figure 10-28); bit 12
	 * (delivery status) is ignored as KVM does. */
	if (x2 && (v & 0xfff32000ull))
		return WR_GP;
	l->icr_lo = (uint32_t)v & 0xccfffu;
	if (x2)
		l->icr_hi = (uint32_t)(v >> 32);
	send_ipi(l, l->icr_lo, x2 ? l->icr_hi : l->icr_hi >> 24);
	return WR_OK;
}

static enum wr reg_write(struct lapic *l, unsigned off, uint64_t v, bool x2)
{
	int lvt = lvt_of(off);
	if (lvt >= 0)
		return write_lvt(l, lvt, v, x2);
	if (off >= APIC_REG_ISR && off < APIC_REG_ESR)
		return x2 ? WR_GP : WR_OK;                 /* read-only */
	switch (off) {
	case APIC_REG_ID:
		if (x2)
			return WR_GP;
		l->id = (uint32_t)v >> 24;
		return WR_OK;
	case APIC_REG_VERSION:
	case APIC_REG_PPR:
	case APIC_REG_TIMER_CCR:
		return x2 ? WR_GP : WR_OK;
	case APIC_REG_APR:
	case APIC_REG_RRD:
	case APIC_REG_DFR:
	case APIC_REG_ICR_HI:
		if (x2)
			return WR_ABSENT;
		if (off == APIC_REG_DFR)
			l->dfr = (uint32_t)v | 0x0fffffffu;
		else if (off == APIC_REG_ICR_HI)
			l->icr_hi = (uint32_t)v & 0xff000000u;
		return WR_OK;
	case APIC_REG_TPR:
		if (rsvd(x2, v, 0xff))
			return WR_GP;
		l->tpr = (uint32_t)v & 0xff;
		update_intr(l);
		return WR_OK;
	case APIC_REG_EOI:
		if (x2 && v)
			return WR_GP;
		do_eoi(l);
		return WR_OK;
	case APIC_REG_LDR:
		if (x2)
			return WR_GP;
		l->ldr = (uint32_t)v & 0xff000000u;
		return WR_OK;
	case APIC_REG_SVR:
		return write_svr(l, v, x2);
	case APIC_REG_ESR:
		if (x2 && v)
			return WR_GP;
		l->esr = l->esr_pending;        /* write, then read (10.5.3) */
		l->esr_pending = 0;
		return WR_OK;
	case APIC_REG_ICR_LO:
		return write_icr(l, v, x2);
	case APIC_REG_TIMER_ICR:
		write_initial_count(l, (uint32_t)v);
		return WR_OK;
	case APIC_REG_TIMER_DCR:
		if (rsvd(x2, v, 0xb))
			return WR_GP;
		write_dcr(l, (uint32_t)v & 0xb);
		return WR_OK;
	case APIC_REG_SELF_IPI:
		if (!x2)
			return WR_ABSENT;
		if (v & ~0xffull)
			return WR_GP;
		send_ipi(l, (uint32_t)(v & 0xff) | (1u << 18), 0);   /* self, fixed, edge (10.12.11) */
		return WR_OK;
	default:
		return WR_ABSENT;
	}
}

/* ---- xAPIC MMIO (10.4.1) ----
 * Registers sit at 16-byte boundaries; only their first 4 bytes exist.
 * Reads of any width see those bytes (zeros past them); writes take effect
 * only as aligned 32-bit (or wider, low half) stores, as KVM does. An
 * access to a reserved register sets ESR "illegal register address" and
 * reads 0. */

static uint64_t mmio_read(void *opaque, uint64_t offset, unsigned size)
{
	struct lapic *l = opaque;
	if (lapic_mmio_page(l) == UINT64_MAX)
		return ~0ull;
	unsigned reg = (unsigned)offset & 0xff0, byte = (unsigned)offset & 0xf;
	uint64_t v = 0;
	if (!reg_read(l, reg, false, &v)) {
		set_error(l, APIC_ESR_ILLEGAL_REGISTER);
		v = 0;
	}
	if (byte >= 4)
		return 0;
	v = (v & 0xffffffffull) >> (8 * byte);
	return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static void mmio_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct lapic *l = opaque;
	if (lapic_mmio_page(l) == UINT64_MAX || (offset & 0xf) || size < 4)
		return;
	if (reg_write(l, (unsigned)offset & 0xff0, (uint32_t)value, false) == WR_ABSENT)
		set_error(l, APIC_ESR_ILLEGAL_REGISTER);
}

const struct io_ops lapic_mmio_ops = { .read = mmio_read, .write = mmio_write };

/* ---- x2APIC MSRs (10.12.1) ---- */

bool lapic_msr_read(struct lapic *l, uint32_t msr, uint64_t *v)
{
	if (!is_x2(l) || msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return false;
	return reg_read(l, (msr - MSR_X2APIC_FIRST) << 4, true, v);
}

bool lapic_msr_write(struct lapic *l, uint32_t msr, uint64_t v)
{
	if (!is_x2(l) || msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return false;
	unsigned off = (msr - MSR_X2APIC_FIRST) << 4;
	if (off != APIC_REG_ICR_LO && (v >> 32))
		return false;   /* upper halves reserved except the ICR */
	return reg_write(l, off, v, true) == WR_OK;
}

/* ---- the bus ---- */

struct apic_bus *apic_bus_create(struct clock *ck, uint64_t timer_hz, int ncpus,
				 const struct lapic_features *f)
{
	if (!ck || !timer_hz || ncpus < 1 || ncpus > 255)
		return NULL;
	struct apic_bus *bus = calloc(1, sizeof(*bus));
	if (!bus)
		return NULL;
	bus->cpu = calloc((size_t)ncpus, sizeof(*bus->cpu));
	if (!bus->cpu) {
		free(bus);
		return NULL;
	}
	bus->ck = ck;
	bus->timer_hz = timer_hz;
	bus->n = ncpus;
	if (f)
		bus->f = *f;
	for (int i = 0; i < ncpus; i++) {
		struct lapic *l = &bus->cpu[i];
		l->bus = bus;
		l->index = i;
		l->initial_id = (uint32_t)i;
		l->bsp = i == 0;
		dev_timer_init(&l->timer, "lapic-timer", timer_fire, l);
		lapic_reset(l);
	}
	return bus;
}

void apic_bus_destroy(struct apic_bus *bus)
{
	if (!bus)
		return;
	for (int i = 0; i < bus->n; i++)
		clock_disarm(bus->ck, &bus->cpu[i].timer);
	free(bus->cpu);
	free(bus);
}

int apic_bus_ncpus(const struct apic_bus *bus)
{
	return bus->n;
}

struct lapic *apic_bus_cpu(struct apic_bus *bus, int i)
{
	return i >= 0 && i < bus->n ? &bus->cpu[i] : NULL;
}

void apic_bus_attach(struct apic_bus *bus, int i, uint32_t apic_id, bool bsp,
		     const struct lapic_cpu_port *port)
{
	struct lapic *l = apic_bus_cpu(bus, i);
	if (!l)
		return;
	l->port = port ? *port : (struct lapic_cpu_port){ 0 };
	l->initial_id = apic_id;
	l->bsp = bsp;
	l->intr = false;
	lapic_reset(l);
}

int apic_bus_add_eoi_listener(struct apic_bus *bus, const struct eoi_listener *el)
{
	if (bus->neoi == MAX_EOI_LISTENERS || !el || !el->eoi)
		return -1;
	bus->eoi[bus->neoi++] = *el;
	return 0;
}

void apic_bus_set_extint(struct apic_bus *bus, int (*ack)(void *opaque), void *opaque)
{
	bus->extint_ack = ack;
	bus->extint_opaque = opaque;
}

struct apic_msg_sink apic_bus_sink(struct apic_bus *bus)
{
	return (struct apic_msg_sink){ .deliver = sink_deliver, .opaque = bus };
}

/* ---- dumps ---- */

static void dump_vectors(FILE *out, const char *name, const uint32_t *r)
{
	fprintf(out, "  %s:", name);
	for (int v = 255; v >= 0; v--)
		if (bit_test(r, (unsigned)v))
			fprintf(out, " %#x", v);
	fputc('\n', out);
}

void lapic_dump(void *opaque, FILE *out)
{
	const struct lapic *l = opaque;
	static const char *const lvt_names[LVT_N] = { "timer", "thermal", "perf", "lint0", "lint1",
						      "error", "cmci" };
	const char *mode = !is_enabled(l) ? "disabled" : is_x2(l) ? "x2apic" : "xapic";
	fprintf(out, "lapic %d: id %#x base %#llx (%s%s) svr %#x (%s)\n", l->index, l->id,
		(unsigned long long)l->base, mode, l->base & APIC_BASE_BSP ? ", bsp" : "", l->svr,
		sw_enabled(l) ? "enabled" : "sw-disabled");
	fprintf(out, "  tpr %#x ppr %#x apr %#x ldr %#x dfr %#x esr %#x (pending %#x) intr %d\n", l->tpr,
		ppr(l), apr(l), is_x2(l) ? x2apic_ldr(l->id) : l->ldr, l->dfr, l->esr, l->esr_pending,
		l->intr);
	dump_vectors(out, "irr", l->irr);
	dump_vectors(out, "isr", l->isr);
	dump_vectors(out, "tmr", l->tmr);
	for (int i = 0; i < LVT_N; i++)
		fprintf(out, "  lvt %-7s %#010x\n", lvt_names[i], l->lvt[i]);
	fprintf(out, "  icr %#x:%#x timer initial %u current %u divide %u deadline %#llx lint %d%d\n",
		l->icr_hi, l->icr_lo, l->initial_count, timer_current(l), dcr_divisor(l->dcr),
		(unsigned long long)l->tsc_deadline, l->lint[0], l->lint[1]);
}

void apic_bus_dump(void *opaque, FILE *out)
{
	struct apic_bus *bus = opaque;
	for (int i = 0; i < bus->n; i++)
		lapic_dump(&bus->cpu[i], out);
}
