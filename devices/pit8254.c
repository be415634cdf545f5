/* Intel 8254 PIT and port 0x61; see devices/pit8254.h for the model.
 * Rules cite the Intel 8254 datasheet ("Modes", "Read-Back Command",
 * "Counter Latch Command", "Write Operations") and the PIIX4 datasheet
 * 4.2.4.1 (NMISC, port 0x61). */
#include "devices/pit8254.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

/* Control word (port 0x43). */
#define CW_SC(v) (((v) >> 6) & 3)       /* counter select; 3 = read-back */
#define CW_RW(v) (((v) >> 4) & 3)       /* 0 latch, 1 LSB, 2 MSB, 3 LSB then MSB */
#define CW_MODE(v) (((v) >> 1) & 7)
#define CW_BCD 0x01
/* Read-back command: bits 5 and 4 are active low. */
#define RB_NO_COUNT 0x20
#define RB_NO_STATUS 0x10
/* Status byte. */
#define ST_OUT 0x80
#define ST_NULL 0x40
/* Port 0x61. */
#define PB_GATE2 0x01
#define PB_STORED 0x0F
#define PB_REFRESH 0x10
#define PB_OUT2 0x20

#define RW_LSB 1
#define RW_MSB 2
#define RW_WORD 3
#define NEVER INT64_MAX

/* IDLE: no count since the control word (modes 1/5: no trigger yet).
 * HALF: mode 0 between the two bytes of a count (counting disabled).
 * RUN: counting from origin o. GATED: GATE low stopped counting. */
enum ctr_state { CTR_IDLE, CTR_HALF, CTR_RUN, CTR_GATED };

struct pit_counter {
	uint8_t ctrl;           /* control word bits 5:0, for the status byte */
	uint8_t mode;           /* 0-5 (6 and 7 alias 2 and 3) */
	uint8_t rw;
	bool bcd;
	bool gate;
	bool write_msb;         /* next count byte written is the MSB */
	bool read_msb;          /* next count byte read is the MSB */
	uint8_t lsb;            /* first byte of a two-byte count */
	uint16_t cr;            /* count register, as written */
	bool have_count;        /* a count has been written since the control word */
	int latch_left;         /* bytes of `latch` still to read */
	uint16_t latch;
	bool status_latched;
	uint8_t status;
	enum ctr_state state;
	int64_t o;              /* RUN: the tick at which the element holds n */
	uint32_t n;             /* RUN: the count loaded, 1..modulus */
	bool tc;                /* modes 0/4: terminal count already reached */
	bool out_pre;           /* OUT before o, and when not RUN */
	uint32_t frozen;        /* element value before o, and when not RUN */
	bool pending;           /* modes 2/3: a new count waits for a boundary */
	bool pend_low;          /* mode 3: it starts a low half */
	int64_t pend_at;
	int64_t null_until;     /* status NULL COUNT is 1 before this tick */
};

struct pit {
	struct clock *ck;
	struct irq_line irq0;
	struct pit_counter c[3];
	uint8_t port_b;         /* the stored bits of port 0x61 */
	bool irq0_level;        /* last level sent on irq0 */
	int64_t done_tick;      /* OUT0 transitions up to this tick are delivered */
	struct dev_timer timer;
};

/* ---- time ---- */

static int64_t pit_tick_at(const struct pit *p, uint64_t cycle)
{
	return (int64_t)((unsigned __int128)cycle * PIT_CLK_NUM / (PIT_CLK_DEN * clock_hz(p->ck)));
}

static int64_t pit_tick(const struct pit *p)
{
	return pit_tick_at(p, clock_now(p->ck));
}

/* First cycle of tick k. */
static uint64_t pit_cycle_of(const struct pit *p, int64_t k)
{
	unsigned __int128 num = (unsigned __int128)k * PIT_CLK_DEN * clock_hz(p->ck);
	return (uint64_t)((num + PIT_CLK_NUM - 1) / PIT_CLK_NUM);
}

/* ---- counting arithmetic ---- */

static uint32_t ctr_modulus(const struct pit_counter *c)
{
	return c->bcd ? 10000 : 65536;
}

/* The count register as a count: 0 is the modulus. Non-BCD nibbles in BCD
 * mode weigh as their value (the datasheet leaves them undefined). */
static uint32_t ctr_count(const struct pit_counter *c)
{
	uint32_t n = c->cr;
	if (c->bcd)
		n = ((n >> 12) & 15) * 1000 + ((n >> 8) & 15) * 100 + ((n >> 4) & 15) * 10 + (n & 15);
	n %= ctr_modulus(c);
	return n ? n : ctr_modulus(c);
}

static uint16_t ctr_encode(const struct pit_counter *c, uint32_t v)
{
	v %= ctr_modulus(c);
	if (!c->bcd)
		return (uint16_t)v;
	return (uint16_t)((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10));
}

/* Mode 3 high half: (N + 1) / 2 ticks; the low half is N / 2. */
static uint32_t sq_high(uint32_t n)
{
	return (n + 1) / 2;
}

/* Apply a mode 2/3 count waiting for its boundary, once t reaches it. */
static void ctr_settle(struct pit_counter *c, int64_t t)
{
	if (c->state != CTR_RUN || !c->pending || t < c->pend_at)
		return;
	c->n = ctr_count(c);
	c->o = c->pend_low ? c->pend_at - (int64_t)sq_high(c->n) : c->pend_at;
	c->pending = false;
}

/* OUT at tick t (counter settled for t). Modes: 8254 datasheet "Mode 0"
 * to "Mode 5" waveforms, see the header. */
static bool ctr_out(const struct pit_counter *c, int64_t t)
{
	if (c->state != CTR_RUN || t < c->o)
		return c->out_pre;
	int64_t d = t - c->o, n = c->n;
	switch (c->mode) {
	case 0:
		return c->tc || d >= n;
	case 1:
		return d >= n;
	case 2:
		return n == 1 || d % n != n - 1;
	case 3:
		return d % n < (int64_t)sq_high(c->n);
	default:        /* 4, 5: one low tick at terminal count */
		return c->tc || d != n;
	}
}

/* Mode 3 counts down by two (datasheet "Mode 3"): an even N reloads N each
 * half; an odd N loads N - 1 and, in the high half, holds 0 one extra CLK. */
static uint32_t sq_value(uint32_t n, int64_t d)
{
	int64_t r = d % n, k = r < (int64_t)sq_high(n) ? r : r - sq_high(n);
	return (uint32_t)((n & 1) ? n - 1 - 2 * k : n - 2 * k);
}

/* The counting element at tick t (counter settled for t), 0..modulus. */
static uint32_t ctr_value(const struct pit_counter *c, int64_t t)
{
	if (c->state != CTR_RUN || t < c->o)
		return c->frozen;
	int64_t d = t - c->o, m = ctr_modulus(c);
	switch (c->mode) {
	case 2:
		return (uint32_t)(c->n - d % c->n);
	case 3:
		return sq_value(c->n, d);
	default:        /* 0, 1, 4, 5 wrap around after terminal count */
		return (uint32_t)((((int64_t)c->n - d) % m + m) % m);
	}
}

/* The next tick after t at which OUT may change (a boundary where a waiting
 * count is loaded counts as one), or NEVER. */
static int64_t ctr_next_event(const struct pit_counter *c, int64_t t)
{
	if (c->state != CTR_RUN)
		return NEVER;
	int64_t next = NEVER, n = c->n;
	if (t < c->o) {
		next = c->o;
	} else if (c->mode == 2 && n > 1) {
		int64_t r = (t - c->o) % n;
		next = r < n - 1 ? t + (n - 1 - r) : t + 1;
	} else if (c->mode == 3 && n > 1) {
		int64_t r = (t - c->o) % n, h = sq_high(c->n);
		next = r < h ? t + (h - r) : t + (n - r);
	} else if ((c->mode == 0 || c->mode == 1) && !c->tc && t < c->o + n) {
		next = c->o + n;
	} else if ((c->mode == 4 || c->mode == 5) && !c->tc && t <= c->o + n) {
		next = t < c->o + n ? c->o + n : c->o + n + 1;
	}
	if (c->pending && c->pend_at > t && c->pend_at < next)
		next = c->pend_at;
	return next;
}

/* ---- OUT0 -> irq0 ---- */

static void pit_set_irq0(struct pit *p, bool level)
{
	if (level != p->irq0_level) {
		p->irq0_level = level;
		irq_set(&p->irq0, level);
	}
}

/* Deliver every OUT0 transition up to tick t, in order. */
static void pit_catch_up(struct pit *p, int64_t t)
{
	struct pit_counter *c = &p->c[0];
	for (int64_t e = ctr_next_event(c, p->done_tick); e <= t; e = ctr_next_event(c, e)) {
		ctr_settle(c, e);
		pit_set_irq0(p, ctr_out(c, e));
		p->done_tick = e;
	}
	p->done_tick = t > p->done_tick ? t : p->done_tick;
}

static void pit_arm(struct pit *p)
{
	int64_t e = ctr_next_event(&p->c[0], p->done_tick);
	if (e == NEVER)
		clock_disarm(p->ck, &p->timer);
	else
		clock_arm(p->ck, &p->timer, pit_cycle_of(p, e));
	/* The timer must find its tick started, or it would re-arm forever. */
	assert(e == NEVER || pit_tick_at(p, pit_cycle_of(p, e)) >= e);
}

static void pit_timer_fire(void *opaque, struct dev_timer *t)
{
	struct pit *p = opaque;
	(void)t;
	pit_catch_up(p, pit_tick(p));
	pit_arm(p);
}

/* Bring every counter to tick t before a port access. */
static int64_t pit_advance(struct pit *p)
{
	int64_t t = pit_tick(p);
	pit_catch_up(p, t);
	for (int i = 0; i < 3; i++)
		ctr_settle(&p->c[i], t);
	return t;
}

/* After a port access changed counter state at tick t. */
static void pit_changed(struct pit *p, int64_t t)
{
	pit_set_irq0(p, ctr_out(&p->c[0], t));
	p->done_tick = t;
	pit_arm(p);
}

/* ---- loading counts and the GATE ---- */

static void ctr_run(struct pit_counter *c, int64_t t, int64_t o, uint32_t n)
{
	c->out_pre = ctr_out(c, t);
	c->frozen = ctr_value(c, t);
	c->state = CTR_RUN;
	c->o = o;
	c->n = n;
	c->tc = false;
	c->pending = false;
	c->null_until = o;
}

/* Stop counting at tick t, keeping the element value (GATE low). */
static void ctr_stop(struct pit_counter *c, int64_t t, bool out)
{
	bool loaded = c->state == CTR_RUN && t >= c->o;
	c->tc = c->tc || (loaded && t - c->o >= c->n);
	/* A count written this tick is still loaded on the next CLK. */
	c->frozen = c->state == CTR_RUN && !loaded ? c->n : ctr_value(c, t);
	c->out_pre = out;
	c->state = CTR_GATED;
	c->pending = false;
}

/* Modes 2/3, a count written while counting: loaded at the end of the
 * period (mode 2) or of the half-cycle (mode 3). */
static void ctr_defer(struct pit_counter *c, int64_t t)
{
	if (t < c->o) {
		c->n = ctr_count(c);    /* not loaded yet: replace the count */
		return;
	}
	int64_t n = c->n, r = (t - c->o) % n, h = sq_high(c->n);
	c->pending = true;
	if (c->mode == 3 && r < h) {
		c->pend_at = t - r + h;
		c->pend_low = true;
	} else {
		c->pend_at = t - r + n;
		c->pend_low = false;
	}
	c->null_until = c->pend_at;
}

/* A complete count was written at tick t ("Write Operations" and each
 * mode's description). */
static void ctr_loaded(struct pit_counter *c, int64_t t)
{
	c->have_count = true;
	switch (c->mode) {
	case 0:
	case 4:
		ctr_run(c, t, t + 1, ctr_count(c));
		c->out_pre = c->mode == 4;      /* mode 0: OUT low from the write */
		if (!c->gate) {
			c->state = CTR_GATED;   /* loaded, but not counting until GATE rises */
			c->frozen = ctr_count(c);
		}
		break;
	case 1:
	case 5:
		c->null_until = NEVER;  /* transferred at the next trigger */
		break;
	default:
		if (c->state == CTR_RUN)
			ctr_defer(c, t);
		else if (c->gate)
			ctr_run(c, t, t + 1, ctr_count(c));
		else
			c->null_until = NEVER;
		break;
	}
}

/* GATE of counter 2 changed at tick t (datasheet "Gate" table per mode). */
static void ctr_gate(struct pit_counter *c, bool gate, int64_t t)
{
	bool rise = gate && !c->gate;
	if (gate == c->gate)
		return;
	c->gate = gate;
	switch (c->mode) {
	case 0:
	case 4:
		if (!rise && c->state == CTR_RUN)
			ctr_stop(c, t, c->mode == 4 || ctr_out(c, t));
		else if (rise && c->state == CTR_GATED) {
			bool tc = c->tc || c->frozen == 0;
			uint32_t v = c->frozen ? c->frozen : ctr_modulus(c);
			ctr_run(c, t, t, v);    /* counting resumes on the next CLK */
			c->tc = tc;
		}
		break;
	case 1:
	case 5:
		if (rise && c->have_count)
			ctr_run(c, t, t + 1, ctr_count(c));    /* trigger */
		break;
	default:
		if (!rise && c->state == CTR_RUN)
			ctr_stop(c, t, true);   /* OUT high at once */
		else if (rise && c->have_count)
			ctr_run(c, t, t + 1, ctr_count(c));    /* reload on the next CLK */
		break;
	}
}

/* ---- ports ---- */

static void ctr_control(struct pit_counter *c, uint8_t v, int64_t t)
{
	c->frozen = ctr_value(c, t);    /* undefined by the datasheet; keep the last */
	c->ctrl = v & 0x3F;
	c->rw = CW_RW(v);
	c->mode = CW_MODE(v) >= 6 ? CW_MODE(v) - 4 : CW_MODE(v);
	c->bcd = v & CW_BCD;
	c->state = CTR_IDLE;
	c->out_pre = c->mode != 0;      /* mode 0: OUT low after the control word */
	c->have_count = c->pending = c->tc = false;
	c->write_msb = c->read_msb = false;
	c->null_until = NEVER;
}

static void ctr_latch_count(struct pit_counter *c, int64_t t)
{
	if (c->latch_left)
		return;         /* a second latch before the read is ignored */
	c->latch = ctr_encode(c, ctr_value(c, t));
	c->latch_left = c->rw == RW_WORD ? 2 : 1;
}

static void ctr_latch_status(struct pit_counter *c, int64_t t)
{
	if (c->status_latched)
		return;
	c->status = (uint8_t)((ctr_out(c, t) ? ST_OUT : 0) | (t < c->null_until ? ST_NULL : 0) | c->ctrl);
	c->status_latched = true;
}

static void pit_control(struct pit *p, uint8_t v, int64_t t)
{
	if (CW_SC(v) == 3) {
		for (int i = 0; i < 3; i++) {
			if (!(v & (2u << i)))
				continue;
			if (!(v & RB_NO_COUNT))
				ctr_latch_count(&p->c[i], t);
			if (!(v & RB_NO_STATUS))
				ctr_latch_status(&p->c[i], t);
		}
		return;
	}
	struct pit_counter *c = &p->c[CW_SC(v)];
	if (CW_RW(v) == 0)
		ctr_latch_count(c, t);
	else
		ctr_control(c, v, t);
}

static void ctr_write(struct pit_counter *c, uint8_t v, int64_t t)
{
	if (c->rw == RW_LSB) {
		c->cr = v;
	} else if (c->rw == RW_MSB) {
		c->cr = (uint16_t)(v << 8);
	} else if (!c->write_msb) {
		c->lsb = v;
		c->write_msb = true;
		if (c->mode == 0) {     /* first byte: counting disabled, OUT low */
			c->frozen = ctr_value(c, t);
			c->out_pre = false;
			c->state = CTR_HALF;
			c->pending = false;
		}
		return;
	} else {
		c->cr = (uint16_t)(c->lsb | v << 8);
		c->write_msb = false;
	}
	ctr_loaded(c, t);
}

/* A latched status goes first, then a latched count, else the live count
 * ("Read Operations"); LSB-then-MSB alternates bytes. */
static uint8_t ctr_read(struct pit_counter *c, int64_t t)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t v = c->latch_left ? c->latch : ctr_encode(c, ctr_value(c, t));
	bool msb = c->rw == RW_MSB || (c->rw == RW_WORD && c->read_msb);
	if (c->rw == RW_WORD)
		c->read_msb = !c->read_msb;
	if (c->latch_left)
		c->latch_left--;
	return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

static uint64_t pit_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pit *p = opaque;
	int64_t t = pit_advance(p);
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		unsigned port = (unsigned)(offset + i);
		uint8_t b = port < 3 ? ctr_read(&p->c[port], t) : 0;
		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static void pit_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pit *p = opaque;
	int64_t t = pit_advance(p);
	for (unsigned i = 0; i < size; i++) {
		unsigned port = (unsigned)(offset + i);
		uint8_t b = (uint8_t)(value >> (8 * i));
		if (port < 3)
			ctr_write(&p->c[port], b, t);
		else
			pit_control(p, b, t);
	}
	pit_changed(p, t);
}

static uint64_t port_b_read(void *opaque, uint64_t offset, unsigned size)
{
	struct pit *p = opaque;
	int64_t t = pit_advance(p);
	uint8_t v = p->port_b;
	if ((t / PIT_REFRESH_TICKS) & 1)
		v |= PB_REFRESH;
	if (ctr_out(&p->c[2], t))
		v |= PB_OUT2;
	return v;
}

static void port_b_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct pit *p = opaque;
	int64_t t = pit_advance(p);
	p->port_b = (uint8_t)value & PB_STORED;
	ctr_gate(&p->c[2], value & PB_GATE2, t);
}

static const struct io_ops pit_ops = { .read = pit_read, .write = pit_write };
static const struct io_ops port_b_ops = { .read = port_b_read, .write = port_b_write };

/* ---- lifecycle ---- */

void pit_reset(struct pit *p)
{
	int64_t t = pit_tick(p);
	p->port_b = 0;
	for (int i = 0; i < 3; i++) {
		struct pit_counter *c = &p->c[i];
		*c = (struct pit_counter){ .gate = i != 2 };
		ctr_control(c, (uint8_t)(i << 6 | RW_WORD << 4 | 3 << 1), t);
		c->cr = 0;
		ctr_loaded(c, t);
	}
	p->irq0_level = ctr_out(&p->c[0], t);
	irq_set(&p->irq0, p->irq0_level);
	p->done_tick = t;
	pit_arm(p);
}

struct pit *pit_create(struct pio_bus *pio, struct clock *ck, const struct irq_line *irq0)
{
	struct pit *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ck = ck;
	if (irq0)
		p->irq0 = *irq0;
	dev_timer_init(&p->timer, "pit-out0", pit_timer_fire, p);
	if (pio_register(pio, PIT_BASE, 4, &pit_ops, p, "pit") ||
	    pio_register(pio, PIT_PORT_B, 1, &port_b_ops, p, "port-b")) {
		free(p);
		return NULL;
	}
	pit_reset(p);
	return p;
}

void pit_destroy(struct pit *p)
{
	clock_disarm(p->ck, &p->timer);
	free(p);
}

static const char *const state_names[] = { "idle", "half-written", "counting", "gated" };

void pit_dump(void *opaque, FILE *out)
{
	const struct pit *p = opaque;
	int64_t t = pit_tick(p);
	fprintf(out, "pit: tick %lld, port 0x61 stored=%#x, irq0=%d\n", (long long)t, p->port_b, p->irq0_level);
	for (int i = 0; i < 3; i++) {
		struct pit_counter copy = p->c[i], *c = &copy;
		ctr_settle(c, t);       /* on a copy: a dump changes nothing */
		fprintf(out, "  counter %d: mode %u rw %u %s cr=%#06x count=%u out=%d gate=%d %s%s\n", i,
			c->mode, c->rw, c->bcd ? "bcd" : "bin", c->cr,
			ctr_value(c, t) % ctr_modulus(c), ctr_out(c, t), c->gate, state_names[c->state],
			c->pending ? " (new count pending)" : "");
	}
}
