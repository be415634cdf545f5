/* devices/lapic.c: registers, IPIs and destinations, priorities, EOI, the
 * timer in its three modes, x2APIC MSRs, IA32_APIC_BASE, ESR, INIT/SIPI and
 * the LINT pins. Four APICs on one bus with a fake CPU port each; xAPIC
 * registers are reached through guest-physical MMIO (each APIC's page at
 * its own address here, as the machine routes each vCPU to its own page). */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "devices/lapic.h"
#include "sim/clock.h"

#define HZ 2100000000ull        /* simulated cycles per second */
#define TIMER_HZ 24000000ull    /* APIC timer input: 87.5 cycles per tick */
#define NCPU 4
#define PAGE(i) (0xfee00000ull + 0x10000ull * (unsigned)(i))

static const uint32_t ids[NCPU] = { 0, 2, 5, 7 };

struct rig;

struct fake_cpu {
	struct rig *r;
	int intr, rises, nmi, smi, init, sipi;
	uint64_t rise_at;
	uint8_t sipi_vec;
	uint64_t tsc_off;
};

struct rig {
	struct clock ck;
	struct phys_map pm;
	struct apic_bus *bus;
	struct fake_cpu cpu[NCPU];
	int eoi_n;
	uint8_t eoi_vec[8];
	int pic_acks;
};

static void port_intr(void *ctx, bool level)
{
	struct fake_cpu *c = ctx;
	CU_ASSERT_NOT_EQUAL(c->intr, level);    /* only changes are signalled */
	c->intr = level;
	if (level) {
		c->rises++;
		c->rise_at = clock_now(&c->r->ck);
	}
}

static void port_nmi(void *ctx) { ((struct fake_cpu *)ctx)->nmi++; }
static void port_smi(void *ctx) { ((struct fake_cpu *)ctx)->smi++; }
static void port_init(void *ctx) { ((struct fake_cpu *)ctx)->init++; }

static void port_sipi(void *ctx, uint8_t v)
{
	struct fake_cpu *c = ctx;
	c->sipi++;
	c->sipi_vec = v;
}

static uint64_t port_tsc(void *ctx)
{
	struct fake_cpu *c = ctx;
	return clock_now(&c->r->ck) + c->tsc_off;
}

static void eoi_heard(void *opaque, uint8_t vector)
{
	struct rig *r = opaque;
	if (r->eoi_n < 8)
		r->eoi_vec[r->eoi_n] = vector;
	r->eoi_n++;
}

/* The 8259A's side of INTA: vector 0x28, and its INTR (LINT0) falls. */
static int pic_ack(void *opaque)
{
	struct rig *r = opaque;
	r->pic_acks++;
	lapic_set_lint(apic_bus_cpu(r->bus, 0), 0, 0);
	return 0x28;
}

static struct rig *rig_new(const struct lapic_features *f)
{
	struct rig *r = calloc(1, sizeof(*r));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL_FATAL(clock_init(&r->ck, HZ), 0);
	CU_ASSERT_EQUAL_FATAL(phys_init(&r->pm, 16 * PAGE_SIZE), 0);
	struct lapic_features def = { .x2apic = true, .tsc_deadline = true, .maxphyaddr = 39 };
	r->bus = apic_bus_create(&r->ck, TIMER_HZ, NCPU, f ? f : &def);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->bus);
	for (int i = 0; i < NCPU; i++) {
		r->cpu[i].r = r;
		struct lapic_cpu_port p = { port_intr, port_nmi, port_smi, port_init, port_sipi, port_tsc,
					    &r->cpu[i] };
		apic_bus_attach(r->bus, i, ids[i], i == 0, &p);
		CU_ASSERT_EQUAL_FATAL(phys_add_mmio(&r->pm, PAGE(i), PAGE_SIZE, &lapic_mmio_ops,
						    apic_bus_cpu(r->bus, i), "lapic"), 0);
	}
	struct eoi_listener el = { eoi_heard, r };
	CU_ASSERT_EQUAL(apic_bus_add_eoi_listener(r->bus, &el), 0);
	apic_bus_set_extint(r->bus, pic_ack, r);
	return r;
}

static void rig_free(struct rig *r)
{
	apic_bus_destroy(r->bus);
	phys_destroy(&r->pm);
	clock_destroy(&r->ck);
	free(r);
}

static struct lapic *L(struct rig *r, int i)
{
	return apic_bus_cpu(r->bus, i);
}

static uint32_t rd(struct rig *r, int i, unsigned off)
{
	return (uint32_t)phys_read(&r->pm, PAGE(i) + off, 4);
}

static void wr(struct rig *r, int i, unsigned off, uint32_t v)
{
	phys_write(&r->pm, PAGE(i) + off, v, 4);
}

static void sw_enable(struct rig *r, int i)
{
	wr(r, i, APIC_REG_SVR, 0x1ff);
}

static void ipi(struct rig *r, int from, uint32_t lo, uint32_t dest)
{
	wr(r, from, APIC_REG_ICR_HI, dest << 24);
	wr(r, from, APIC_REG_ICR_LO, lo);
}

static bool irr_has(struct rig *r, int i, unsigned v)
{
	return rd(r, i, APIC_REG_IRR + (v / 32) * 16) & (1u << (v % 32));
}

static bool isr_has(struct rig *r, int i, unsigned v)
{
	return rd(r, i, APIC_REG_ISR + (v / 32) * 16) & (1u << (v % 32));
}

/* ---- tests ---- */

static void test_reset_state(void)
{
	struct rig *r = rig_new(NULL);
	CU_ASSERT_EQUAL(lapic_get_base(L(r, 0)), 0xfee00900ull);
	CU_ASSERT_EQUAL(lapic_get_base(L(r, 1)), 0xfee00800ull);
	CU_ASSERT_EQUAL(lapic_mmio_page(L(r, 1)), 0xfee00000ull);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_ID), 2u << 24);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_VERSION), 0x01060014u);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_SVR), 0xffu);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_DFR), 0xffffffffu);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_LDR), 0);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_TPR), 0);
	for (unsigned off = APIC_REG_LVT_TIMER; off <= APIC_REG_LVT_ERROR; off += 16)
		CU_ASSERT_EQUAL(rd(r, 1, off), APIC_LVT_MASKED);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_LVT_CMCI), APIC_LVT_MASKED);
	/* Software-disabled: LVT mask bits cannot be cleared (10.4.7.2). */
	wr(r, 1, APIC_REG_LVT_LINT0, 0x700);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_LVT_LINT0), 0x10700u);
	sw_enable(r, 1);
	wr(r, 1, APIC_REG_LVT_LINT0, 0x700);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_LVT_LINT0), 0x700u);
	/* Clearing the enable bit masks every LVT again. */
	wr(r, 1, APIC_REG_SVR, 0xff);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_LVT_LINT0), 0x10700u);
	/* Writable xAPIC id; DFR low bits read as ones; LDR bits 31:24. */
	wr(r, 1, APIC_REG_ID, 9u << 24);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_ID), 9u << 24);
	wr(r, 1, APIC_REG_DFR, 0);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_DFR), 0x0fffffffu);
	wr(r, 1, APIC_REG_LDR, 0x12345678);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_LDR), 0x12000000u);
	lapic_reset(L(r, 1));
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_ID), 2u << 24);
	rig_free(r);
}

static void test_fixed_ipi_physical(void)
{
	struct rig *r = rig_new(NULL);
	for (int i = 0; i < NCPU; i++)
		sw_enable(r, i);
	ipi(r, 0, 0x4040, 5);           /* fixed, assert, vector 0x40 to id 5 */
	CU_ASSERT_TRUE(irr_has(r, 2, 0x40));
	CU_ASSERT_EQUAL(r->cpu[2].intr, 1);
	CU_ASSERT_EQUAL(r->cpu[1].intr + r->cpu[3].intr + r->cpu[0].intr, 0);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_ICR_LO) & 0x1000, 0);     /* delivery status idle */
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_ICR_LO), 0x4040u);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_ICR_HI), 5u << 24);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 2)), 0x40);
	CU_ASSERT_FALSE(irr_has(r, 2, 0x40));
	CU_ASSERT_TRUE(isr_has(r, 2, 0x40));
	CU_ASSERT_EQUAL(r->cpu[2].intr, 0);
	CU_ASSERT_EQUAL(rd(r, 2, APIC_REG_PPR), 0x40u);
	wr(r, 2, APIC_REG_EOI, 0);
	CU_ASSERT_FALSE(isr_has(r, 2, 0x40));
	CU_ASSERT_EQUAL(rd(r, 2, APIC_REG_PPR), 0);
	/* No id 3: nobody gets it. */
	ipi(r, 0, 0x4041, 3);
	for (int i = 0; i < NCPU; i++)
		CU_ASSERT_FALSE(irr_has(r, i, 0x41));
	rig_free(r);
}

static void test_logical_destinations(void)
{
	struct rig *r = rig_new(NULL);
	for (int i = 0; i < NCPU; i++) {
		sw_enable(r, i);
		wr(r, i, APIC_REG_LDR, (1u << i) << 24);        /* flat: one bit each */
	}
	ipi(r, 0, 0x4850, 0x06);        /* logical, MDA 0110B: cpus 1 and 2 */
	CU_ASSERT_FALSE(irr_has(r, 0, 0x50));
	CU_ASSERT_TRUE(irr_has(r, 1, 0x50));
	CU_ASSERT_TRUE(irr_has(r, 2, 0x50));
	CU_ASSERT_FALSE(irr_has(r, 3, 0x50));
	/* Cluster model: cluster in LDR[31:28], members in LDR[27:24]. */
	for (int i = 0; i < NCPU; i++) {
		wr(r, i, APIC_REG_DFR, 0x0fffffff);
		wr(r, i, APIC_REG_LDR, ((uint32_t)(1 + i / 2) << 28) | ((1u << (i % 2)) << 24));
	}
	ipi(r, 0, 0x4851, 0x23);        /* cluster 2, members 0 and 1: cpus 2, 3 */
	CU_ASSERT_FALSE(irr_has(r, 0, 0x51));
	CU_ASSERT_FALSE(irr_has(r, 1, 0x51));
	CU_ASSERT_TRUE(irr_has(r, 2, 0x51));
	CU_ASSERT_TRUE(irr_has(r, 3, 0x51));
	ipi(r, 0, 0x4852, 0xf2);        /* every cluster, member 1: cpus 1, 3 */
	CU_ASSERT_FALSE(irr_has(r, 0, 0x52));
	CU_ASSERT_TRUE(irr_has(r, 1, 0x52));
	CU_ASSERT_FALSE(irr_has(r, 2, 0x52));
	CU_ASSERT_TRUE(irr_has(r, 3, 0x52));
	rig_free(r);
}

static void test_shorthands_and_broadcast(void)
{
	struct rig *r = rig_new(NULL);
	for (int i = 0; i < NCPU; i++)
		sw_enable(r, i);
	ipi(r, 1, 0x44060, 0);          /* self */
	for (int i = 0; i < NCPU; i++)
		CU_ASSERT_EQUAL(irr_has(r, i, 0x60), i == 1);
	ipi(r, 1, 0x84061, 0);          /* all including self */
	for (int i = 0; i < NCPU; i++)
		CU_ASSERT_TRUE(irr_has(r, i, 0x61));
	ipi(r, 1, 0xc4062, 0);          /* all excluding self */
	for (int i = 0; i < NCPU; i++)
		CU_ASSERT_EQUAL(irr_has(r, i, 0x62), i != 1);
	ipi(r, 1, 0x4063, 0xff);        /* physical broadcast */
	for (int i = 0; i < NCPU; i++)
		CU_ASSERT_TRUE(irr_has(r, i, 0x63));
	/* An IOAPIC message through the sink, physical to id 7. */
	struct apic_msg_sink sink = apic_bus_sink(r->bus);
	struct apic_msg m = { .dest = 7, .vector = 0x64, .mode = APIC_DM_FIXED, .assert = true, .source = -1 };
	sink.deliver(sink.opaque, &m);
	for (int i = 0; i < NCPU; i++)
		CU_ASSERT_EQUAL(irr_has(r, i, 0x64), i == 3);
	rig_free(r);
}

static void test_priority_and_ack_order(void)
{
	struct rig *r = rig_new(NULL);
	sw_enable(r, 0);
	ipi(r, 0, 0x44035, 0);
	ipi(r, 0, 0x44062, 0);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 1);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0x62);
	/* 0x35 (class 3) waits under PPR 0x60. */
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_PPR), 0x60u);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 0);
	CU_ASSERT_TRUE(irr_has(r, 0, 0x35));
	/* A higher class nests. */
	ipi(r, 0, 0x44071, 0);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 1);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0x71);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_PPR), 0x70u);
	wr(r, 0, APIC_REG_EOI, 0);      /* ends 0x71 */
	CU_ASSERT_TRUE(isr_has(r, 0, 0x62));
	CU_ASSERT_FALSE(isr_has(r, 0, 0x71));
	CU_ASSERT_EQUAL(r->cpu[0].intr, 0);
	wr(r, 0, APIC_REG_EOI, 0);      /* ends 0x62: 0x35 raises INTR again */
	CU_ASSERT_EQUAL(r->cpu[0].intr, 1);
	CU_ASSERT_EQUAL(r->cpu[0].rises, 3);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0x35);
	wr(r, 0, APIC_REG_EOI, 0);
	/* TPR masks a class at or below its own. */
	wr(r, 0, APIC_REG_TPR, 0x45);
	ipi(r, 0, 0x44048, 0);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 0);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_PPR), 0x45u);
	CU_ASSERT_EQUAL(lapic_get_cr8(L(r, 0)), 4u);
	lapic_set_cr8(L(r, 0), 3);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TPR), 0x30u);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 1);
	/* PPR = ISRV class when it is above TPR; sub-class clear. */
	CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0x48);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_PPR), 0x40u);
	rig_free(r);
}

static void test_spurious_on_tpr_race(void)
{
	struct rig *r = rig_new(NULL);
	wr(r, 0, APIC_REG_SVR, 0x1ef);
	ipi(r, 0, 0x44045, 0);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 1);
	/* The CPU saw INTR, then software raised TPR before INTA. */
	wr(r, 0, APIC_REG_TPR, 0x50);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0xef);
	CU_ASSERT_TRUE(irr_has(r, 0, 0x45));
	CU_ASSERT_FALSE(isr_has(r, 0, 0x45));
	CU_ASSERT_EQUAL(r->cpu[0].intr, 0);
	rig_free(r);
}

static void test_level_eoi_broadcast(void)
{
	struct rig *r = rig_new(NULL);
	sw_enable(r, 1);
	struct apic_msg_sink sink = apic_bus_sink(r->bus);
	struct apic_msg m = { .dest = 2, .vector = 0x50, .mode = APIC_DM_FIXED, .level = true,
			      .assert = true, .source = -1 };
	sink.deliver(sink.opaque, &m);
	CU_ASSERT_TRUE(rd(r, 1, APIC_REG_TMR + 0x20) & (1u << 16));     /* TMR bit 0x50 */
	CU_ASSERT_EQUAL(lapic_ack(L(r, 1)), 0x50);
	wr(r, 1, APIC_REG_EOI, 0);
	CU_ASSERT_EQUAL(r->eoi_n, 1);
	CU_ASSERT_EQUAL(r->eoi_vec[0], 0x50);
	/* Edge vectors send no EOI message. */
	ipi(r, 1, 0x44051, 0);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 1)), 0x51);
	wr(r, 1, APIC_REG_EOI, 0);
	CU_ASSERT_EQUAL(r->eoi_n, 1);
	/* SVR bit 12 suppresses the broadcast (directed EOI). */
	wr(r, 1, APIC_REG_SVR, 0x11ff);
	sink.deliver(sink.opaque, &m);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 1)), 0x50);
	wr(r, 1, APIC_REG_EOI, 0);
	CU_ASSERT_EQUAL(r->eoi_n, 1);
	CU_ASSERT_FALSE(isr_has(r, 1, 0x50));
	rig_free(r);
}

/* Arm a one-shot of `count` ticks at time t0 with divide code `dcr`. */
static void start_timer(struct rig *r, uint64_t t0, uint32_t lvt, uint32_t dcr, uint32_t count)
{
	clock_run_until(&r->ck, t0);
	wr(r, 0, APIC_REG_LVT_TIMER, lvt);
	wr(r, 0, APIC_REG_TIMER_DCR, dcr);
	wr(r, 0, APIC_REG_TIMER_ICR, count);
}

static void test_timer_oneshot_divides(void)
{
	static const struct { uint32_t dcr; unsigned div; } d[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 }, { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
	};
	for (unsigned k = 0; k < sizeof(d) / sizeof(d[0]); k++) {
		struct rig *r = rig_new(NULL);
		sw_enable(r, 0);
		uint64_t t0 = 1000 + k;
		start_timer(r, t0, 0xe0, d[k].dcr, 1001);
		CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_DCR), d[k].dcr);
		/* 1001 ticks * div * 87.5 cycles, rounded up to a whole cycle. */
		uint64_t due = t0 + (1001ull * d[k].div * 175 + 1) / 2;
		CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 1001u);
		clock_run_until(&r->ck, t0 + 875ull * d[k].div);        /* 10 ticks */
		CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 991u);
		clock_run_until(&r->ck, due - 1);
		CU_ASSERT_EQUAL(r->cpu[0].rises, 0);
		CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 1u);
		clock_run_until(&r->ck, due);
		CU_ASSERT_EQUAL(r->cpu[0].rises, 1);
		CU_ASSERT_EQUAL(r->cpu[0].rise_at, due);
		CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 0);
		CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0xe0);
		wr(r, 0, APIC_REG_EOI, 0);
		clock_run_until(&r->ck, due * 4);
		CU_ASSERT_EQUAL(r->cpu[0].rises, 1);    /* one-shot: once */
		CU_ASSERT_EQUAL(clock_next(&r->ck), UINT64_MAX);
		rig_free(r);
	}
}

static void test_timer_periodic_exact(void)
{
	struct rig *r = rig_new(NULL);
	sw_enable(r, 0);
	start_timer(r, 500, 0x200e1, 0xb, 1001);        /* periodic, divide by 1 */
	/* Expiry k at 500 + ceil(k * 1001 * 87.5): never the sum of rounded
	 * periods (87588 * 2 would be 175176). */
	static const uint64_t due[] = { 500 + 87588, 500 + 175175, 500 + 262763, 500 + 350350 };
	for (int k = 0; k < 4; k++) {
		clock_run_until(&r->ck, due[k] - 1);
		CU_ASSERT_EQUAL(r->cpu[0].rises, k);
		clock_run_until(&r->ck, due[k]);
		CU_ASSERT_EQUAL(r->cpu[0].rises, k + 1);
		CU_ASSERT_EQUAL(r->cpu[0].rise_at, due[k]);
		CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 1001u);   /* reloaded */
		CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0xe1);
		wr(r, 0, APIC_REG_EOI, 0);
	}
	clock_run_until(&r->ck, due[3] + 875);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 991u);
	/* Masked: no interrupts and no clock events, but the count runs. */
	wr(r, 0, APIC_REG_LVT_TIMER, 0x300e1);
	CU_ASSERT_EQUAL(clock_next(&r->ck), UINT64_MAX);
	clock_run_until(&r->ck, 500 + 1001ull * 175 * 10 / 2 + 875);   /* 10 periods + 10 ticks */
	CU_ASSERT_EQUAL(r->cpu[0].rises, 4);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 991u);
	/* Unmasked again: the next expiry on the same grid. */
	wr(r, 0, APIC_REG_LVT_TIMER, 0x200e1);
	CU_ASSERT_EQUAL(clock_next(&r->ck), 500 + (11ull * 1001 * 175 + 1) / 2);
	/* Periodic -> one-shot keeps counting, then stops at 0; back to
	 * periodic stays at 0 (kvm-unit-tests apic "change mode"). */
	wr(r, 0, APIC_REG_LVT_TIMER, 0xe1);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 991u);
	clock_run_until(&r->ck, 500 + (11ull * 1001 * 175 + 1) / 2);
	CU_ASSERT_EQUAL(r->cpu[0].rises, 5);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 0);
	wr(r, 0, APIC_REG_LVT_TIMER, 0x200e1);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 0);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_ICR), 1001u);
	/* Writing 0 to the initial count stops the timer. */
	wr(r, 0, APIC_REG_TIMER_ICR, 50);
	CU_ASSERT(clock_next(&r->ck) != UINT64_MAX);
	wr(r, 0, APIC_REG_TIMER_ICR, 0);
	CU_ASSERT_EQUAL(clock_next(&r->ck), UINT64_MAX);
	rig_free(r);
}

static void test_tsc_deadline(void)
{
	struct rig *r = rig_new(NULL);
	sw_enable(r, 0);
	r->cpu[0].tsc_off = 1000000;
	clock_run_until(&r->ck, 100);
	/* Not in TSC-deadline mode: the MSR reads 0 and ignores writes. */
	lapic_tsc_deadline_write(L(r, 0), 2000000);
	CU_ASSERT_EQUAL(lapic_tsc_deadline_read(L(r, 0)), 0);
	wr(r, 0, APIC_REG_LVT_TIMER, 0x400ef);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_LVT_TIMER), 0x400efu);
	lapic_tsc_deadline_write(L(r, 0), 1000100 + 5000);
	CU_ASSERT_EQUAL(lapic_tsc_deadline_read(L(r, 0)), 1005100u);
	wr(r, 0, APIC_REG_TIMER_ICR, 10);       /* ignored in this mode */
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_ICR), 0);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 0);
	clock_run_until(&r->ck, 5099);
	CU_ASSERT_EQUAL(r->cpu[0].rises, 0);
	clock_run_until(&r->ck, 5100);
	CU_ASSERT_EQUAL(r->cpu[0].rises, 1);
	CU_ASSERT_EQUAL(r->cpu[0].rise_at, 5100u);
	CU_ASSERT_EQUAL(lapic_tsc_deadline_read(L(r, 0)), 0);  /* cleared on expiry */
	CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0xef);
	wr(r, 0, APIC_REG_EOI, 0);
	/* Writing 0 disarms. */
	lapic_tsc_deadline_write(L(r, 0), 1005100 + 100);
	lapic_tsc_deadline_write(L(r, 0), 0);
	clock_run_until(&r->ck, 100000);
	CU_ASSERT_EQUAL(r->cpu[0].rises, 1);
	/* A deadline already passed fires at once. */
	lapic_tsc_deadline_write(L(r, 0), 5);
	CU_ASSERT_EQUAL(r->cpu[0].rises, 2);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0xef);
	wr(r, 0, APIC_REG_EOI, 0);
	/* Leaving TSC-deadline mode disarms it. */
	lapic_tsc_deadline_write(L(r, 0), 1100000 + 100);
	wr(r, 0, APIC_REG_LVT_TIMER, 0xef);
	clock_run_until(&r->ck, 200000);
	CU_ASSERT_EQUAL(r->cpu[0].rises, 2);
	rig_free(r);

	/* Without the feature, bit 18 is reserved: the mode stays one-shot. */
	struct lapic_features nf = { .x2apic = true };
	r = rig_new(&nf);
	sw_enable(r, 0);
	wr(r, 0, APIC_REG_LVT_TIMER, 0x400ef);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_LVT_TIMER), 0xefu);
	rig_free(r);
}

static void to_x2apic(struct rig *r, int i)
{
	CU_ASSERT_TRUE(lapic_set_base(L(r, i), lapic_get_base(L(r, i)) | APIC_BASE_EXTD));
}

static void test_x2apic_msrs(void)
{
	struct rig *r = rig_new(NULL);
	uint64_t v;
	struct lapic *a = L(r, 0), *b = L(r, 3);
	CU_ASSERT_FALSE(lapic_msr_read(a, 0x802, &v));          /* xAPIC mode: #GP */
	to_x2apic(r, 0);
	to_x2apic(r, 3);
	CU_ASSERT_EQUAL(lapic_mmio_page(a), UINT64_MAX);
	CU_ASSERT_TRUE(lapic_msr_read(b, 0x802, &v));
	CU_ASSERT_EQUAL(v, 7u);
	CU_ASSERT_TRUE(lapic_msr_read(b, 0x80d, &v));           /* LDR derived */
	CU_ASSERT_EQUAL(v, 1u << 7);
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x80d, 0));          /* read-only */
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x802, 0));
	CU_ASSERT_TRUE(lapic_msr_read(b, 0x803, &v));
	CU_ASSERT_EQUAL(v, 0x01060014u);
	CU_ASSERT_FALSE(lapic_msr_read(b, 0x80b, &v));          /* EOI write-only */
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x80b, 1));          /* non-zero EOI */
	CU_ASSERT_TRUE(lapic_msr_write(b, 0x80b, 0));
	CU_ASSERT_FALSE(lapic_msr_read(b, 0x80e, &v));          /* no DFR */
	CU_ASSERT_FALSE(lapic_msr_read(b, 0x809, &v));          /* no APR */
	CU_ASSERT_FALSE(lapic_msr_read(b, 0x831, &v));          /* no ICR high */
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x808, 0x100));      /* TPR reserved bits */
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x808, 1ull << 32));
	CU_ASSERT_TRUE(lapic_msr_write(b, 0x808, 0x20));
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x828, 1));          /* ESR: only 0 */
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x80f, 0x4ff));      /* SVR reserved bit 10 */
	CU_ASSERT_TRUE(lapic_msr_write(b, 0x80f, 0x1ff));
	CU_ASSERT_TRUE(lapic_msr_write(a, 0x80f, 0x1ff));
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x83e, 0x4));        /* DCR bit 2 reserved */
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x839, 0));          /* current count read-only */
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x835, 0x40000));    /* LINT0 bit 18 reserved */
	/* ICR is one 64-bit MSR: destination in bits 63:32. */
	CU_ASSERT_FALSE(lapic_msr_write(a, 0x830, (7ull << 32) | 0x100000 | 0x4070));
	CU_ASSERT_TRUE(lapic_msr_write(a, 0x830, (7ull << 32) | 0x4070));
	CU_ASSERT_EQUAL(r->cpu[3].intr, 1);
	CU_ASSERT_TRUE(lapic_msr_read(a, 0x830, &v));
	CU_ASSERT_EQUAL(v, (7ull << 32) | 0x4070);
	CU_ASSERT_TRUE(lapic_msr_read(b, 0x823, &v));           /* IRR 0x60..0x7f */
	CU_ASSERT_EQUAL(v, 1u << 16);
	CU_ASSERT_EQUAL(lapic_ack(b), 0x70);
	CU_ASSERT_TRUE(lapic_msr_write(b, 0x80b, 0));
	/* Logical x2APIC: cluster 0, bit 7 is id 7. */
	CU_ASSERT_TRUE(lapic_msr_write(a, 0x830, ((uint64_t)(1u << 7) << 32) | 0x4871));
	CU_ASSERT_EQUAL(lapic_ack(b), 0x71);
	CU_ASSERT_TRUE(lapic_msr_write(b, 0x80b, 0));
	/* SELF IPI: write-only, vector in bits 7:0. */
	CU_ASSERT_FALSE(lapic_msr_read(b, 0x83f, &v));
	CU_ASSERT_FALSE(lapic_msr_write(b, 0x83f, 0x100));
	CU_ASSERT_TRUE(lapic_msr_write(b, 0x83f, 0x72));
	CU_ASSERT_EQUAL(lapic_ack(b), 0x72);
	/* Unknown MSRs in the range fault. */
	CU_ASSERT_FALSE(lapic_msr_read(b, 0x800, &v));
	CU_ASSERT_FALSE(lapic_msr_read(b, 0x8ff, &v));
	rig_free(r);
}

static void test_apic_base_transitions(void)
{
	struct rig *r = rig_new(NULL);
	struct lapic *a = L(r, 0);
	uint64_t base = lapic_get_base(a);
	CU_ASSERT_FALSE(lapic_set_base(a, base | 1));                       /* reserved low bit */
	CU_ASSERT_FALSE(lapic_set_base(a, base | (1ull << 39)));            /* above MAXPHYADDR */
	CU_ASSERT_FALSE(lapic_set_base(a, (base & ~APIC_BASE_EN) | APIC_BASE_EXTD));  /* invalid */
	sw_enable(r, 0);
	wr(r, 0, APIC_REG_TPR, 0x30);
	/* Relocation; the BSP bit is read-only. */
	CU_ASSERT_TRUE(lapic_set_base(a, 0xfed40000ull | APIC_BASE_EN));
	CU_ASSERT_EQUAL(lapic_get_base(a), 0xfed40900ull);
	CU_ASSERT_EQUAL(lapic_mmio_page(a), 0xfed40000ull);
	CU_ASSERT_EQUAL(lapic_mmio_ops.read(a, APIC_REG_TPR, 4), 0x30u);
	/* xAPIC -> x2APIC -> xAPIC is invalid; -> disabled is fine. */
	CU_ASSERT_TRUE(lapic_set_base(a, 0xfed40000ull | APIC_BASE_EN | APIC_BASE_EXTD));
	CU_ASSERT_FALSE(lapic_set_base(a, 0xfed40000ull | APIC_BASE_EN));
	CU_ASSERT_FALSE(lapic_set_base(a, 0xfed40000ull | APIC_BASE_EXTD));
	CU_ASSERT_TRUE(lapic_set_base(a, 0xfed40000ull));
	CU_ASSERT_EQUAL(lapic_mmio_page(a), UINT64_MAX);
	/* Disabled -> x2APIC is invalid; -> xAPIC fine, state lost. */
	CU_ASSERT_FALSE(lapic_set_base(a, 0xfee00000ull | APIC_BASE_EN | APIC_BASE_EXTD));
	CU_ASSERT_TRUE(lapic_set_base(a, 0xfee00000ull | APIC_BASE_EN));
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TPR), 0);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_SVR), 0xffu);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_ID), 0u);
	/* Without x2APIC support EXTD is reserved. */
	rig_free(r);
	struct lapic_features nf = { .tsc_deadline = true };
	r = rig_new(&nf);
	CU_ASSERT_FALSE(lapic_set_base(L(r, 1), lapic_get_base(L(r, 1)) | APIC_BASE_EXTD));
	/* maxphyaddr 0 means 52. */
	CU_ASSERT_TRUE(lapic_set_base(L(r, 1), (1ull << 51) | APIC_BASE_EN));
	CU_ASSERT_FALSE(lapic_set_base(L(r, 1), (1ull << 52) | APIC_BASE_EN));
	rig_free(r);
}

static void test_esr(void)
{
	struct rig *r = rig_new(NULL);
	sw_enable(r, 0);
	ipi(r, 0, 0x4005, 2);           /* illegal vector 5 */
	CU_ASSERT_FALSE(irr_has(r, 1, 5));
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_ESR), 0);             /* not before a write */
	wr(r, 0, APIC_REG_ESR, 0);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_ESR), APIC_ESR_SEND_ILLEGAL_VECTOR);
	wr(r, 0, APIC_REG_ESR, 0);                              /* back-to-back clears */
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_ESR), 0);
	/* Illegal register address: reads 0, latches bit 7; an unmasked LVT
	 * error raises its vector. */
	wr(r, 0, APIC_REG_LVT_ERROR, 0xfe);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_SELF_IPI), 0);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 1);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0xfe);
	wr(r, 0, APIC_REG_EOI, 0);
	wr(r, 0, APIC_REG_ESR, 0);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_ESR), APIC_ESR_ILLEGAL_REGISTER);
	/* Receiving an illegal vector (IOAPIC message with vector 3). */
	struct apic_msg_sink sink = apic_bus_sink(r->bus);
	struct apic_msg m = { .dest = 0, .vector = 3, .mode = APIC_DM_FIXED, .assert = true, .source = -1 };
	sink.deliver(sink.opaque, &m);
	wr(r, 0, APIC_REG_ESR, 0);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_ESR), APIC_ESR_RECV_ILLEGAL_VECTOR);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0xfe);
	rig_free(r);
}

static void test_init_and_sipi(void)
{
	struct rig *r = rig_new(NULL);
	sw_enable(r, 0);
	sw_enable(r, 2);
	wr(r, 2, APIC_REG_TPR, 0x20);
	wr(r, 2, APIC_REG_LVT_LINT0, 0x700);
	wr(r, 2, APIC_REG_ID, 6u << 24);
	ipi(r, 2, 0x4039, 6);           /* pending vector on itself */
	ipi(r, 0, 0x8500, 6);           /* INIT level de-assert: nothing */
	CU_ASSERT_EQUAL(r->cpu[2].init, 0);
	ipi(r, 0, 0x4500, 6);           /* INIT assert to id 6 */
	CU_ASSERT_EQUAL(r->cpu[2].init, 1);
	CU_ASSERT_EQUAL(r->cpu[1].init + r->cpu[3].init + r->cpu[0].init, 0);
	CU_ASSERT_EQUAL(rd(r, 2, APIC_REG_ID), 6u << 24);      /* survives INIT */
	CU_ASSERT_EQUAL(rd(r, 2, APIC_REG_TPR), 0);
	CU_ASSERT_EQUAL(rd(r, 2, APIC_REG_SVR), 0xffu);
	CU_ASSERT_EQUAL(rd(r, 2, APIC_REG_LVT_LINT0), APIC_LVT_MASKED);
	CU_ASSERT_FALSE(irr_has(r, 2, 0x39));
	CU_ASSERT_EQUAL(r->cpu[2].intr, 0);
	CU_ASSERT_EQUAL(lapic_get_base(L(r, 2)), 0xfee00800ull);
	/* SIPI to all but self, as SeaBIOS does; software-disabled APs take it. */
	ipi(r, 0, 0xc4610, 0);
	CU_ASSERT_EQUAL(r->cpu[0].sipi, 0);
	for (int i = 1; i < NCPU; i++) {
		CU_ASSERT_EQUAL(r->cpu[i].sipi, 1);
		CU_ASSERT_EQUAL(r->cpu[i].sipi_vec, 0x10);
	}
	/* NMI and SMI to a software-disabled APIC; its fixed IPIs are dropped. */
	ipi(r, 0, 0x4400, 6);
	ipi(r, 0, 0x4200, 6);
	ipi(r, 0, 0x4066, 6);
	CU_ASSERT_EQUAL(r->cpu[2].nmi, 1);
	CU_ASSERT_EQUAL(r->cpu[2].smi, 1);
	CU_ASSERT_FALSE(irr_has(r, 2, 0x66));
	rig_free(r);
}

static void test_lowest_priority(void)
{
	struct rig *r = rig_new(NULL);
	for (int i = 0; i < NCPU; i++) {
		sw_enable(r, i);
		wr(r, i, APIC_REG_LDR, 0x0f000000);     /* flat, all in group 0x0f */
	}
	wr(r, 0, APIC_REG_TPR, 0x40);
	wr(r, 1, APIC_REG_TPR, 0x20);
	wr(r, 2, APIC_REG_TPR, 0x10);
	wr(r, 3, APIC_REG_TPR, 0x30);
	ipi(r, 0, 0x4950, 0x0f);        /* lowest priority, logical */
	for (int i = 0; i < NCPU; i++)
		CU_ASSERT_EQUAL(irr_has(r, i, 0x50), i == 2);
	/* Equal priorities (cpus 1 and 3; cpu 2's APR is now its IRR class
	 * 50H): the lowest index wins. */
	wr(r, 2, APIC_REG_TPR, 0x20);
	wr(r, 3, APIC_REG_TPR, 0x20);
	struct apic_msg_sink sink = apic_bus_sink(r->bus);
	struct apic_msg m = { .dest = 0x0e, .vector = 0x51, .mode = APIC_DM_LOWEST, .logical = true,
			      .assert = true, .source = -1 };
	sink.deliver(sink.opaque, &m);
	for (int i = 0; i < NCPU; i++)
		CU_ASSERT_EQUAL(irr_has(r, i, 0x51), i == 1);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_APR), 0x50u);        /* IRRV class above TPR */
	CU_ASSERT_EQUAL(rd(r, 2, APIC_REG_APR), 0x50u);
	CU_ASSERT_EQUAL(rd(r, 3, APIC_REG_APR), 0x20u);
	rig_free(r);
}

static void test_lint_extint_and_nmi(void)
{
	struct rig *r = rig_new(NULL);
	struct lapic *a = L(r, 0);
	lapic_firmware_setup(a);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_SVR), 0x1ffu);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_LVT_LINT0), 0x8700u);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_LVT_LINT1), 0x8400u);
	lapic_set_lint(a, 0, 1);        /* the PIC raises INTR */
	CU_ASSERT_EQUAL(r->cpu[0].intr, 1);
	CU_ASSERT_EQUAL(lapic_ack(a), 0x28);
	CU_ASSERT_EQUAL(r->pic_acks, 1);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 0);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_ISR + 0x10), 0);     /* ExtINT bypasses ISR */
	lapic_set_lint(a, 1, 1);
	lapic_set_lint(a, 1, 1);        /* level held: one NMI */
	CU_ASSERT_EQUAL(r->cpu[0].nmi, 1);
	lapic_set_lint(a, 1, 0);
	lapic_set_lint(a, 1, 1);
	CU_ASSERT_EQUAL(r->cpu[0].nmi, 2);
	/* Masked LINT0: the PIC's INTR goes nowhere. */
	wr(r, 0, APIC_REG_LVT_LINT0, 0x18700);
	lapic_set_lint(a, 0, 1);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 0);
	/* Level-triggered fixed LINT0: remote IRR until EOI, then again. */
	wr(r, 0, APIC_REG_LVT_LINT0, 0x8041);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 1);
	CU_ASSERT_EQUAL(lapic_ack(a), 0x41);
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_LVT_LINT0), 0xc041u);
	CU_ASSERT_FALSE(irr_has(r, 0, 0x41));
	wr(r, 0, APIC_REG_EOI, 0);
	CU_ASSERT_EQUAL(r->eoi_n, 1);
	CU_ASSERT_TRUE(irr_has(r, 0, 0x41));                    /* still asserted */
	rig_free(r);
}

static void test_globally_disabled_passthrough(void)
{
	struct rig *r = rig_new(NULL);
	struct lapic *a = L(r, 0);
	CU_ASSERT_TRUE(lapic_set_base(a, APIC_BASE_DEFAULT));
	lapic_set_lint(a, 0, 1);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 1);
	CU_ASSERT_EQUAL(lapic_ack(a), 0x28);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 0);
	lapic_set_lint(a, 1, 1);
	CU_ASSERT_EQUAL(r->cpu[0].nmi, 1);
	/* It hears no bus messages. */
	ipi(r, 1, 0x4400, 0);
	CU_ASSERT_EQUAL(r->cpu[0].nmi, 1);
	/* Re-enabled: LINT0 goes through its (masked) LVT again. */
	CU_ASSERT_TRUE(lapic_set_base(a, APIC_BASE_DEFAULT | APIC_BASE_EN));
	lapic_set_lint(a, 0, 1);
	CU_ASSERT_EQUAL(r->cpu[0].intr, 0);
	rig_free(r);
}

static void test_mmio_widths(void)
{
	struct rig *r = rig_new(NULL);
	wr(r, 1, APIC_REG_TPR, 0x5a);
	/* Narrow reads see the register's bytes; bytes 4-15 read 0. */
	CU_ASSERT_EQUAL(phys_read(&r->pm, PAGE(1) + APIC_REG_ID + 3, 1), 2u);
	CU_ASSERT_EQUAL(phys_read(&r->pm, PAGE(1) + APIC_REG_VERSION + 2, 2), 0x0106u);
	CU_ASSERT_EQUAL(phys_read(&r->pm, PAGE(1) + APIC_REG_TPR + 4, 4), 0);
	CU_ASSERT_EQUAL(phys_read(&r->pm, PAGE(1) + APIC_REG_TPR, 8), 0x5au);
	/* Only aligned 32-bit (or wider) writes take effect. */
	phys_write(&r->pm, PAGE(1) + APIC_REG_TPR, 0x11, 1);
	phys_write(&r->pm, PAGE(1) + APIC_REG_TPR + 4, 0x22, 4);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_TPR), 0x5au);
	phys_write(&r->pm, PAGE(1) + APIC_REG_TPR, 0xffffffff00000033ull, 8);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_TPR), 0x33u);
	/* Read-only registers ignore writes without an error. */
	wr(r, 1, APIC_REG_VERSION, 0);
	wr(r, 1, APIC_REG_PPR, 0xff);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_VERSION), 0x01060014u);
	wr(r, 1, APIC_REG_ESR, 0);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_ESR), 0);
	/* Reserved offsets: write sets ESR bit 7 too. */
	wr(r, 1, 0x40, 1);
	wr(r, 1, APIC_REG_ESR, 0);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_ESR), APIC_ESR_ILLEGAL_REGISTER);
	/* In x2APIC mode the page is not decoded: all ones, writes dropped. */
	to_x2apic(r, 1);
	CU_ASSERT_EQUAL(rd(r, 1, APIC_REG_VERSION), 0xffffffffu);
	wr(r, 1, APIC_REG_TPR, 0x10);
	uint64_t v;
	CU_ASSERT_TRUE(lapic_msr_read(L(r, 1), 0x808, &v));
	CU_ASSERT_EQUAL(v, 0x33u);
	rig_free(r);
}

static void test_timer_divide_change(void)
{
	struct rig *r = rig_new(NULL);
	sw_enable(r, 0);
	start_timer(r, 0, 0xe2, 0xb, 1000);     /* divide by 1: 87.5 cycles/tick */
	clock_run_until(&r->ck, 87500 / 2);     /* 500 ticks */
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 500u);
	wr(r, 0, APIC_REG_TIMER_DCR, 0x0);      /* divide by 2 from here */
	CU_ASSERT_EQUAL(rd(r, 0, APIC_REG_TIMER_CCR), 500u);
	CU_ASSERT_EQUAL(clock_next(&r->ck), 43750u + 87500u);   /* 500 ticks of 175 */
	clock_run_until(&r->ck, 43750 + 87500);
	CU_ASSERT_EQUAL(r->cpu[0].rises, 1);
	CU_ASSERT_EQUAL(lapic_ack(L(r, 0)), 0xe2);
	rig_free(r);
}

static void test_x2apic_init_keeps_mode(void)
{
	struct rig *r = rig_new(NULL);
	to_x2apic(r, 0);
	to_x2apic(r, 3);
	CU_ASSERT_TRUE(lapic_msr_write(L(r, 3), 0x80f, 0x1ff));
	CU_ASSERT_TRUE(lapic_msr_write(L(r, 3), 0x808, 0x70));
	/* INIT to x2APIC id 7, then SIPI vector 9A. */
	CU_ASSERT_TRUE(lapic_msr_write(L(r, 0), 0x830, (7ull << 32) | 0x4500));
	CU_ASSERT_TRUE(lapic_msr_write(L(r, 0), 0x830, (7ull << 32) | 0x469a));
	CU_ASSERT_EQUAL(r->cpu[3].init, 1);
	CU_ASSERT_EQUAL(r->cpu[3].sipi_vec, 0x9a);
	uint64_t v;
	CU_ASSERT_EQUAL(lapic_get_base(L(r, 3)) & APIC_BASE_EXTD, APIC_BASE_EXTD);
	CU_ASSERT_TRUE(lapic_msr_read(L(r, 3), 0x802, &v));
	CU_ASSERT_EQUAL(v, 7u);
	CU_ASSERT_TRUE(lapic_msr_read(L(r, 3), 0x80d, &v));
	CU_ASSERT_EQUAL(v, 0x80u);
	CU_ASSERT_TRUE(lapic_msr_read(L(r, 3), 0x808, &v));
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_TRUE(lapic_msr_read(L(r, 3), 0x80f, &v));
	CU_ASSERT_EQUAL(v, 0xffu);
	/* x2APIC physical broadcast is FFFFFFFFH; FFH is just an id. */
	CU_ASSERT_TRUE(lapic_msr_write(L(r, 0), 0x80f, 0x1ff));
	CU_ASSERT_TRUE(lapic_msr_write(L(r, 0), 0x830, (0xffull << 32) | 0x4400));
	CU_ASSERT_EQUAL(r->cpu[0].nmi + r->cpu[3].nmi, 0);
	CU_ASSERT_TRUE(lapic_msr_write(L(r, 0), 0x830, (0xffffffffull << 32) | 0x4400));
	for (int i = 0; i < NCPU; i++)
		CU_ASSERT_EQUAL(r->cpu[i].nmi, 1);
	rig_free(r);
}

static void test_dump(void)
{
	struct rig *r = rig_new(NULL);
	sw_enable(r, 2);
	ipi(r, 0, 0x4055, 5);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	apic_bus_dump(r->bus, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "lapic 2: id 0x5"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "irr: 0x55"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "lapic 0: id 0 base 0xfee00900 (xapic, bsp)"));
	free(buf);
	rig_free(r);
}

void suite_dev_lapic(void)
{
	CU_pSuite s = CU_add_suite("dev_lapic", NULL, NULL);
	CU_add_test(s, "power-on state, writable registers", test_reset_state);
	CU_add_test(s, "fixed IPI, physical destination", test_fixed_ipi_physical);
	CU_add_test(s, "logical flat and cluster destinations", test_logical_destinations);
	CU_add_test(s, "shorthands, broadcast, IOAPIC message", test_shorthands_and_broadcast);
	CU_add_test(s, "priority classes, PPR, ack order, TPR and CR8", test_priority_and_ack_order);
	CU_add_test(s, "spurious vector on a TPR race", test_spurious_on_tpr_race);
	CU_add_test(s, "level EOI broadcast and its suppression", test_level_eoi_broadcast);
	CU_add_test(s, "one-shot timer: every divide value, exact cycle", test_timer_oneshot_divides);
	CU_add_test(s, "periodic timer without drift, masking, mode change", test_timer_periodic_exact);
	CU_add_test(s, "TSC-deadline timer", test_tsc_deadline);
	CU_add_test(s, "x2APIC MSR rules", test_x2apic_msrs);
	CU_add_test(s, "IA32_APIC_BASE transitions", test_apic_base_transitions);
	CU_add_test(s, "ESR write-then-read, error interrupt", test_esr);
	CU_add_test(s, "INIT, SIPI, NMI, SMI", test_init_and_sipi);
	CU_add_test(s, "lowest-priority arbitration", test_lowest_priority);
	CU_add_test(s, "LINT0 ExtINT, LINT1 NMI, level LINT", test_lint_extint_and_nmi);
	CU_add_test(s, "globally disabled: LINT pass-through", test_globally_disabled_passthrough);
	CU_add_test(s, "MMIO access widths, read-only and reserved", test_mmio_widths);
	CU_add_test(s, "divide change carries the count over", test_timer_divide_change);
	CU_add_test(s, "INIT in x2APIC mode, x2APIC broadcast", test_x2apic_init_keeps_mode);
	CU_add_test(s, "dump", test_dump);
}
