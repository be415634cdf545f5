/* The debug API (sim/debug_api.h): breakpoints, run control and VMX
 * history on top of the CPU probes (cpu/probe.h). */
#include "sim/debug_api.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cpu/decode.h"
#include "vmx/insn.h"
#include "sim/debug_mem.h"
#include "sim/machine.h"
#include "vmx/controls.h"
#include "vmx/vmcs.h"

#define DBG_BP_MAX 256

struct dbg_cpu {
	/* Resumed unparked: its first boundary is where the last stop left it,
	 * which no step counts; reported (the stop was this vCPU's event), no
	 * breakpoint fires there either, as gdb steps over the one at its PC. */
	bool fresh, reported;
	bool shutdown_held;     /* its shutdown was reported; the next round acts on it */
	bool in_guest;
	uint64_t entry_cycle, exit_cycle;
	int last_reason;        /* basic reason of the last exit, -1: none */
	struct dbg_exit_rec ring[DBG_EXIT_RING];
	unsigned ring_head, ring_count;
	struct dbg_exit_stat stats[DBG_REASONS];
	bool have_snap;
	uint64_t snap_ptr;
	uint64_t snap[VF_COUNT];
};

struct dbg {
	struct machine *m;
	struct cpu_probe probe;
	struct dbg_bp bps[DBG_BP_MAX];
	int nbps, next_id;
	dbg_cond_fn cond;
	void *cond_ctx;
	volatile sig_atomic_t interrupt;
	struct dbg_run run;
	uint64_t steps_left;
	bool stopped, over;
	struct dbg_stop stop;
	struct probe_event last_ev;
	struct dbg_logged log[DBG_EVENT_LOG];
	int nlog;
	struct dbg_cpu *pc;
	struct {
		dbg_tap_fn fn;
		void *ctx;
		bool insns;
	} taps[DBG_TAP_MAX];
	int ntaps;
	bool tap_insns;         /* some tap wants instruction boundaries */
	bool snapshots;         /* keep the VMCS of each VM entry (dbg_keep_entry_vmcs) */
};

/* ---- the machine's time ---- */

struct machine *dbg_machine(struct dbg *d)
{
	return d->m;
}

int dbg_ncpus(const struct dbg *d)
{
	return d->m->ncpus;
}

const struct cpu *dbg_cpu(const struct dbg *d, int i)
{
	return i >= 0 && i < d->m->ncpus ? &d->m->cpus[i] : NULL;
}

uint64_t dbg_now(const struct dbg *d)
{
	return d->m->sched.now;
}

uint64_t dbg_cpu_time(const struct dbg *d, int i)
{
	return sched_cpu_time(&d->m->sched, i);
}

/* ---- stopping ---- */

/* Record a stop from inside a round and end the round. */
static void stop_here(struct dbg *d, struct cpu *c, enum dbg_stop_kind kind, int bp, const struct probe_event *e)
{
	if (d->stopped)
		return;         /* the first reason wins */
	d->stopped = true;
	d->stop = (struct dbg_stop){ .kind = kind, .cpu = c ? c->id : -1, .bp = bp, .has_event = e != NULL,
				     .cycle = c ? sched_cpu_time(&d->m->sched, c->id) : d->m->sched.now };
	if (e) {
		d->stop.ev = *e;
		d->last_ev = *e;
	}
	sched_request_stop(&d->m->sched);
	if (c)
		cpu_probe_break(c);
}

static bool cpu_matches(const struct dbg_bp *b, const struct cpu *c)
{
	return b->enabled && (b->cpu < 0 || b->cpu == c->id);
}

/* The breakpoint's condition holds (or it has none): count the hit. */
static bool cond_holds(struct dbg *d, struct dbg_bp *b, struct cpu *c, const struct probe_event *e)
{
	if (b->cond[0] && d->cond) {
		if (e)
			d->last_ev = *e;
		if (!d->cond(d->cond_ctx, d, c->id, b->cond))
			return false;
	}
	b->hits++;
	return true;
}

/* ---- events ---- */

static void log_event(struct dbg *d, struct cpu *c, const struct probe_event *e)
{
	if (d->nlog == DBG_EVENT_LOG) {
		memmove(d->log, d->log + 1, sizeof(d->log[0]) * (DBG_EVENT_LOG - 1));
		d->nlog--;
	}
	d->log[d->nlog++] = (struct dbg_logged){ .cpu = c->id, .cycle = sched_cpu_time(&d->m->sched, c->id),
						 .ev = *e };
}

static void history_entry(struct dbg *d, struct cpu *c)
{
	struct dbg_cpu *p = &d->pc[c->id];
	if (p->last_reason >= 0 && p->last_reason < DBG_REASONS && p->exit_cycle <= c->cycles)
		p->stats[p->last_reason].host_cycles += c->cycles - p->exit_cycle;
	p->last_reason = -1;
	p->in_guest = true;
	p->entry_cycle = c->cycles;
	if (!d->snapshots)
		return;
	p->snap_ptr = c->vmx.vmcs_ptr;
	p->have_snap = true;
	for (int f = 0; f < VF_COUNT; f++)
		p->snap[f] = vmcs_read(c, (enum vmcs_field)f);
}

static void history_exit(struct dbg *d, struct cpu *c, const struct probe_event *e)
{
	struct dbg_cpu *p = &d->pc[c->id];
	unsigned basic = e->code & 0xffff;
	uint64_t in_guest = p->in_guest && p->entry_cycle <= c->cycles ? c->cycles - p->entry_cycle : 0;
	struct dbg_exit_rec *r = &p->ring[p->ring_head];
	*r = (struct dbg_exit_rec){ .reason = e->code, .qual = e->value, .intr_info = e->aux, .guest_rip = e->rip,
				    .cycle = c->cycles, .guest_cycles = in_guest };
	p->ring_head = (p->ring_head + 1) % DBG_EXIT_RING;
	if (p->ring_count < DBG_EXIT_RING)
		p->ring_count++;
	if (basic < DBG_REASONS) {
		p->stats[basic].count++;
		p->stats[basic].guest_cycles += in_guest;
	}
	p->in_guest = false;
	p->exit_cycle = c->cycles;
	p->last_reason = (int)basic;
}

static bool range_hit(uint64_t addr, uint64_t len, uint64_t a, uint64_t n)
{
	if (!len)
		len = 1;
	if (!n)
		n = 1;
	return a < addr + len && addr < a + n;
}

static bool access_ok(unsigned want, bool write)
{
	return !want || (want & (write ? DBG_W_WRITE : DBG_W_READ));
}

/* Does breakpoint b match event e? */
static bool event_matches(const struct dbg_bp *b, const struct probe_event *e)
{
	switch (b->kind) {
	case DBG_BP_EXCEPTION:
		if (e->kind == PROBE_DELIVERY)
			return (e->aux == INT_EXCEPTION || e->aux == INT_SOFT_EXCEPTION || e->aux == INT_PRIV_SOFTWARE) &&
			       (b->code < 0 || (uint32_t)b->code == e->code);
		/* An exception the exception bitmap sent to the host (reason 0). */
		return e->kind == PROBE_VMEXIT && (e->code & 0xffff) == EXIT_REASON_EXCEPTION_NMI &&
		       (e->aux & INTR_INFO_VALID) &&
		       ((e->aux & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) != INTR_TYPE_NMI &&
		       (b->code < 0 || (uint32_t)b->code == (e->aux & INTR_INFO_VECTOR_MASK));
	case DBG_BP_IO:
		return e->kind == PROBE_IO && range_hit(b->addr, b->len, e->code, e->aux) && access_ok(b->access, e->write);
	case DBG_BP_MSR:
		return e->kind == PROBE_MSR && b->addr == e->code && access_ok(b->access, e->write);
	case DBG_BP_VMEXIT:
		return e->kind == PROBE_VMEXIT && (b->code < 0 || (uint32_t)b->code == (e->code & 0xffff));
	case DBG_BP_VMENTRY:
		return e->kind == PROBE_VMENTRY;
	case DBG_BP_VMENTRY_FAIL:
		return e->kind == PROBE_VMENTRY_FAIL;
	case DBG_BP_INJECT:
		return e->kind == PROBE_INJECT && (b->code < 0 || (uint32_t)b->code == e->code);
	case DBG_BP_WATCH:
		return e->kind == PROBE_DATA && range_hit(b->addr, b->len, e->value, e->aux) &&
		       access_ok(b->access, e->write);
	default:
		return false;
	}
}

static void on_event(void *ctx, struct cpu *c, const struct probe_event *e)
{
	struct dbg *d = ctx;
	for (int k = 0; k < d->ntaps; k++)
		d->taps[k].fn(d->taps[k].ctx, c, sched_cpu_time(&d->m->sched, c->id), e);
	switch (e->kind) {
	case PROBE_VMENTRY:
		history_entry(d, c);
		break;
	case PROBE_VMEXIT:
		history_exit(d, c, e);
		break;
	default:
		break;
	}
	if (e->kind != PROBE_IO && e->kind != PROBE_MSR && e->kind != PROBE_DATA && e->kind != PROBE_VMXINSN)
		log_event(d, c, e);
	for (int k = 0; k < d->nbps; k++) {
		struct dbg_bp *b = &d->bps[k];
		if (cpu_matches(b, c) && event_matches(b, e) && cond_holds(d, b, c, e)) {
			stop_here(d, c, DBG_STOP_BREAK, b->id, e);
			return;
		}
	}
}

/* ---- instruction boundaries ---- */

/* The VMX instruction about to run at RIP, as its exit-reason number, or -1. */
static int vmx_insn_at(struct dbg *d, struct cpu *c, uint64_t la)
{
	uint8_t bytes[15];
	size_t n = dbg_read_code(d, c->id, la, bytes, sizeof(bytes));
	struct insn i;
	struct decode_mode mode = dbg_decode_mode(c);
	if (!n || cpu_decode(bytes, (unsigned)n, mode, &i) != DECODE_OK)
		return -1;
	return vmx_insn_reason(&i);
}

static bool on_boundary(void *ctx, struct cpu *c)
{
	struct dbg *d = ctx;
	struct dbg_cpu *p = &d->pc[c->id];
	/* Once per boundary: a parked vCPU resumes without asking again. */
	if (d->tap_insns)
		for (int k = 0; k < d->ntaps; k++)
			if (d->taps[k].insns)
				d->taps[k].fn(d->taps[k].ctx, c, sched_cpu_time(&d->m->sched, c->id), NULL);
	if (d->interrupt) {
		stop_here(d, c, DBG_STOP_INTERRUPT, 0, NULL);
		return true;
	}
	bool first = p->fresh;
	p->fresh = false;
	if (first && p->reported)
		return false;
	if (!first && d->run.steps && c->id == d->run.cpu && --d->steps_left == 0) {
		stop_here(d, c, DBG_STOP_STEP, 0, NULL);
		return true;
	}
	uint64_t la = dbg_rip_linear(c);
	struct dbg_addrs a;
	bool have_addrs = false;
	int insn = -2;
	for (int k = 0; k < d->nbps; k++) {
		struct dbg_bp *b = &d->bps[k];
		bool hit = false;
		if (!cpu_matches(b, c))
			continue;
		switch (b->kind) {
		case DBG_BP_LINEAR:
			hit = la == b->addr;
			break;
		case DBG_BP_PHYS:
		case DBG_BP_GPA:
			if (!have_addrs)
				have_addrs = dbg_code_addrs(d, c->id, la, &a) || true;
			hit = b->kind == DBG_BP_PHYS ? a.pa_ok && a.pa == b->addr
						     : a.gpa_ok && c->vmx.nonroot && a.gpa == b->addr;
			break;
		case DBG_BP_VMX_INSN:
			if (insn == -2)
				insn = vmx_insn_at(d, c, la);
			hit = insn >= 0 && (b->code < 0 || b->code == insn);
			break;
		default:
			break;
		}
		if (hit && cond_holds(d, b, c, NULL)) {
			stop_here(d, c, DBG_STOP_BREAK, b->id, NULL);
			return true;
		}
	}
	return false;
}

/* Which vCPUs need boundaries and data accesses reported. */
static void update_probes(struct dbg *d)
{
	bool data = false, step_all = d->tap_insns;
	for (int k = 0; k < d->nbps; k++) {
		const struct dbg_bp *b = &d->bps[k];
		if (!b->enabled)
			continue;
		if (b->kind == DBG_BP_WATCH)
			data = true;
		if (b->kind == DBG_BP_LINEAR || b->kind == DBG_BP_PHYS || b->kind == DBG_BP_GPA ||
		    b->kind == DBG_BP_VMX_INSN)
			step_all = true;
	}
	for (int i = 0; i < d->m->ncpus; i++) {
		struct cpu *c = &d->m->cpus[i];
		bool step = step_all || (d->run.steps && d->run.cpu == i);
		if (c->probe != &d->probe || c->probe_step != step || c->probe_data != data)
			cpu_probe_set(c, &d->probe, step, data);
	}
}

/* ---- shutdown ---- */

static bool on_shutdown(void *ctx, struct cpu *c)
{
	struct dbg *d = ctx;
	struct dbg_cpu *p = &d->pc[c->id];
	if (p->shutdown_held) {
		p->shutdown_held = false;
		return false;
	}
	p->shutdown_held = true;
	struct probe_event e = { .kind = PROBE_SHUTDOWN, .code = c->vmx.abort, .rip = c->rip };
	stop_here(d, c, DBG_STOP_SHUTDOWN, 0, &e);
	return true;
}

/* ---- the session ---- */

struct dbg *dbg_create(struct machine *m)
{
	struct dbg *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->pc = calloc((size_t)m->ncpus, sizeof(*d->pc));
	if (!d->pc) {
		free(d);
		return NULL;
	}
	d->m = m;
	d->next_id = 1;
	d->stop.cpu = -1;       /* no stop reported yet: a breakpoint at the first instruction stops */
	d->probe = (struct cpu_probe){ .event = on_event, .boundary = on_boundary, .ctx = d };
	for (int i = 0; i < m->ncpus; i++)
		d->pc[i].last_reason = -1;
	m->shutdown_hook = on_shutdown;
	m->shutdown_ctx = d;
	update_probes(d);
	return d;
}

void dbg_destroy(struct dbg *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->m->ncpus; i++)
		cpu_probe_set(&d->m->cpus[i], NULL, false, false);
	d->m->shutdown_hook = NULL;
	free(d->pc);
	free(d);
}

/* ---- breakpoints ---- */

int dbg_bp_add(struct dbg *d, const struct dbg_bp *bp)
{
	if (d->nbps == DBG_BP_MAX || bp->kind < 0 || bp->kind >= DBG_BP_KIND_COUNT)
		return -1;
	struct dbg_bp *b = &d->bps[d->nbps++];
	*b = *bp;
	b->cond[DBG_COND_MAX - 1] = 0;
	b->id = d->next_id++;
	b->hits = 0;
	update_probes(d);
	return b->id;
}

bool dbg_bp_delete(struct dbg *d, int id)
{
	for (int k = 0; k < d->nbps; k++) {
		if (d->bps[k].id == id) {
			memmove(&d->bps[k], &d->bps[k + 1], sizeof(d->bps[0]) * (size_t)(d->nbps - k - 1));
			d->nbps--;
			update_probes(d);
			return true;
		}
	}
	return false;
}

struct dbg_bp *dbg_bp_find(struct dbg *d, int id)
{
	for (int k = 0; k < d->nbps; k++)
		if (d->bps[k].id == id)
			return &d->bps[k];
	return NULL;
}

const struct dbg_bp *dbg_bp_list(const struct dbg *d, int *n)
{
	*n = d->nbps;
	return d->bps;
}

int dbg_add_tap(struct dbg *d, dbg_tap_fn fn, void *ctx, bool insns)
{
	if (!fn || d->ntaps == DBG_TAP_MAX)
		return -1;
	d->taps[d->ntaps].fn = fn;
	d->taps[d->ntaps].ctx = ctx;
	d->taps[d->ntaps].insns = insns;
	d->ntaps++;
	d->tap_insns |= insns;
	update_probes(d);
	return 0;
}

void dbg_remove_tap(struct dbg *d, dbg_tap_fn fn, void *ctx)
{
	int n = 0;
	d->tap_insns = false;
	for (int k = 0; k < d->ntaps; k++) {
		if (d->taps[k].fn == fn && d->taps[k].ctx == ctx)
			continue;
		d->taps[n++] = d->taps[k];
		d->tap_insns |= d->taps[k].insns;
	}
	d->ntaps = n;
	update_probes(d);
}

void dbg_set_condition_fn(struct dbg *d, dbg_cond_fn fn, void *ctx)
{
	d->cond = fn;
	d->cond_ctx = ctx;
}

/* ---- running ---- */

void dbg_interrupt(struct dbg *d)
{
	d->interrupt = 1;
	sched_request_stop(&d->m->sched);
}

const struct dbg_stop *dbg_last_stop(const struct dbg *d)
{
	return &d->stop;
}

const struct probe_event *dbg_last_event(const struct dbg *d)
{
	return &d->last_ev;
}

bool dbg_run_over(const struct dbg *d)
{
	return d->over;
}

const struct dbg_logged *dbg_event_log(const struct dbg *d, int *n)
{
	*n = d->nlog;
	return d->log;
}

void dbg_resume(struct dbg *d, const struct dbg_run *r, struct dbg_stop *out)
{
	struct machine *m = d->m;
	uint64_t limit = m->sched.limit;
	d->nlog = 0;
	if (d->over) {
		d->stop = (struct dbg_stop){ .kind = DBG_STOP_END, .cpu = m->exit.cpu, .cycle = m->exit.cycle };
		*out = d->stop;
		return;
	}
	d->run = *r;
	d->steps_left = r->steps;
	d->stopped = false;
	for (int i = 0; i < m->ncpus; i++) {
		/* Only the vCPU whose position the last stop reported has seen
		 * its boundary; after a cycle target or Ctrl-C between rounds
		 * (cpu -1) every breakpoint still applies. */
		d->pc[i].fresh = !m->cpus[i].probe_parked;
		d->pc[i].reported = d->pc[i].fresh && !r->every_boundary && i == d->stop.cpu;
	}
	update_probes(d);
	if (r->until_cycle && (!limit || r->until_cycle < limit))
		m->sched.limit = r->until_cycle;
	for (;;) {
		if (d->interrupt) {
			d->interrupt = 0;
			stop_here(d, NULL, DBG_STOP_INTERRUPT, 0, NULL);
			break;
		}
		bool over = machine_step(m);
		if (over) {
			d->over = true;
			machine_end(m);
		}
		if (d->stopped)
			break;
		if (over) {
			d->stop = (struct dbg_stop){ .kind = DBG_STOP_END, .cpu = m->exit.cpu, .cycle = m->exit.cycle };
			d->stopped = true;
			break;
		}
		if (r->until_cycle && m->sched.now >= r->until_cycle) {
			stop_here(d, NULL, DBG_STOP_CYCLE, 0, NULL);
			break;
		}
	}
	m->sched.limit = limit;
	m->sched.stop = false;
	d->interrupt = 0;
	d->run = (struct dbg_run){ 0 };
	update_probes(d);
	*out = d->stop;
}

/* ---- VMX history ---- */

const struct dbg_exit_rec *dbg_exit_get(const struct dbg *d, int cpu, unsigned k)
{
	if (cpu < 0 || cpu >= d->m->ncpus)
		return NULL;
	const struct dbg_cpu *p = &d->pc[cpu];
	if (k >= p->ring_count)
		return NULL;
	return &p->ring[(p->ring_head + DBG_EXIT_RING - 1 - k) % DBG_EXIT_RING];
}

const struct dbg_exit_stat *dbg_exit_stats(const struct dbg *d, int cpu)
{
	return cpu >= 0 && cpu < d->m->ncpus ? d->pc[cpu].stats : NULL;
}

void dbg_keep_entry_vmcs(struct dbg *d, bool on)
{
	d->snapshots = on;
}

bool dbg_vmcs_at_entry(const struct dbg *d, int cpu, uint64_t vmcs_ptr, uint64_t *values, int nvalues)
{
	if (cpu < 0 || cpu >= d->m->ncpus)
		return false;
	const struct dbg_cpu *p = &d->pc[cpu];
	if (!p->have_snap || p->snap_ptr != vmcs_ptr)
		return false;
	for (int f = 0; f < nvalues && f < VF_COUNT; f++)
		values[f] = p->snap[f];
	return true;
}
