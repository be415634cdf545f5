/* Round-robin vCPU scheduling in fixed quanta of simulated cycles. */
#include "sim/sched.h"

#include <assert.h>
#include <stdlib.h>

int sched_init(struct sched *s, struct cpu *cpus, int ncpus, uint64_t limit, struct clock *clock)
{
	assert(ncpus > 0 && clock);
	*s = (struct sched){ .cpus = cpus, .ncpus = ncpus, .limit = limit, .quantum = SCHED_QUANTUM,
			     .clock = clock };
	s->runnable = calloc((size_t)ncpus, sizeof(*s->runnable));
	s->offset = calloc((size_t)ncpus, sizeof(*s->offset));
	if (!s->runnable || !s->offset) {
		sched_destroy(s);
		return -1;
	}
	for (int i = 0; i < ncpus; i++)
		s->runnable[i] = true;
	return 0;
}

void sched_destroy(struct sched *s)
{
	free(s->runnable);
	free(s->offset);
	s->runnable = NULL;
	s->offset = NULL;
}

void sched_set_runnable(struct sched *s, int i, bool runnable)
{
	assert(i >= 0 && i < s->ncpus);
	s->runnable[i] = runnable;
}

void sched_request_stop(struct sched *s)
{
	s->stop = true;
	if (s->running)
		cpu_request_stop(s->running);
}

uint64_t sched_cpu_time(const struct sched *s, int i)
{
	return s->cpus[i].cycles + s->offset[i];
}

void sched_cpu_rebase(struct sched *s, int i, uint64_t t)
{
	s->offset[i] = t - s->cpus[i].cycles;
}

/* Run vCPU i until the round's end (its deadline in its own cycles; the
 * clock may pull the end in while it runs). A vCPU that sleeps has its
 * clock moved on to the end. */
static enum cpu_stop sched_slice(struct sched *s, int i)
{
	struct cpu *c = &s->cpus[i];
	struct clock *ck = s->clock;
	enum cpu_stop st;

	if (sched_cpu_time(s, i) >= ck->horizon)        /* overshot an earlier slice: sit this one out */
		return c->halted || c->wait_sipi ? CPU_STOP_HALTED : CPU_STOP_DEADLINE;
	s->running = c;
	clock_enter_cpu(ck, &c->cycles, s->offset[i], &c->run_deadline);
	st = cpu_run(c, ck->horizon - s->offset[i]);
	clock_leave_cpu(ck);
	s->running = NULL;
	if (st == CPU_STOP_HALTED && !s->stop && sched_cpu_time(s, i) < ck->horizon)
		c->cycles = ck->horizon - s->offset[i];
	return st;
}

/* A sleeping vCPU that has something to wake it at its next boundary. */
static bool cpu_wakeable(const struct cpu *c)
{
	if (c->init_pending || c->sipi_vector >= 0)
		return true;
	if (c->wait_sipi)
		return false;
	return c->pending_dbg || (c->nmi_pending && !c->nmi_blocked) || (c->intr_req && (c->rflags & FL_IF)) ||
	       vmx_halt_wakeable(c);
}

/* Where the next round ends: a quantum on, or the next timer when sooner
 * (at once when everyone sleeps), never past the cycle limit. */
static uint64_t sched_round_end(const struct sched *s, bool *forever)
{
	uint64_t next = clock_next(s->clock), end, vmx_wake = UINT64_MAX;
	bool idle = s->asleep, interruptible = false;

	for (int i = 0; idle && i < s->ncpus; i++) {
		const struct cpu *c = &s->cpus[i];
		uint64_t t = vmx_timer_deadline(&c->vmx);
		if (s->runnable[i] && cpu_wakeable(c))
			idle = false;
		if (s->runnable[i] && c->halted && ((c->rflags & FL_IF) || vmx_intr_exits(&c->vmx)))
			interruptible = true;
		/* A VMX-preemption timer wakes its halted guest (SDM vol. 3C 25.5.1). */
		if (s->runnable[i] && t != UINT64_MAX && t + s->offset[i] < vmx_wake)
			vmx_wake = t + s->offset[i];
	}
	/* Asleep for good: no timer is armed, or no sleeper takes interrupts
	 * (HLT with IF = 0, or waiting for a SIPI nobody awake can send).
	 * Only an NMI a timer sends through an LVT could still wake one;
	 * vtxsim ends the run there too. */
	*forever = idle && vmx_wake == UINT64_MAX && (next == UINT64_MAX || !interruptible);
	if (idle && vmx_wake < next)
		next = vmx_wake;
	end = idle ? next : s->now + s->quantum;
	if (next < end)
		end = next;
	if (end < s->now)
		end = s->now;
	if (s->limit && end > s->limit)
		end = s->limit;
	return end;
}

enum sched_status sched_run_round(struct sched *s, struct cpu **who)
{
	struct clock *ck = s->clock;
	struct cpu *first_halted = NULL;
	int nrun = 0, nhalted = 0;
	bool forever;

	*who = NULL;
	if (s->limit && s->now >= s->limit)
		return SCHED_LIMIT;
	clock_run_until(ck, s->now);    /* timers armed for the past */
	ck->horizon = sched_round_end(s, &forever);
	if (forever) {
		for (int i = 0; i < s->ncpus && !*who; i++)
			if (s->runnable[i])
				*who = &s->cpus[i];
		return SCHED_ALL_HALTED;
	}
	for (int i = 0; i < s->ncpus && !s->stop; i++) {
		if (!s->runnable[i])
			continue;
		enum cpu_stop st = sched_slice(s, i);
		nrun++;
		if (st == CPU_STOP_TRIPLE_FAULT || st == CPU_STOP_SHUTDOWN) {
			*who = &s->cpus[i];
			ck->horizon = UINT64_MAX;
			return SCHED_TRIPLE_FAULT;
		}
		if (st == CPU_STOP_HALTED && nhalted++ == 0)
			first_halted = &s->cpus[i];
		*who = &s->cpus[i];
	}
	if (s->stop) {
		s->stop = false;
		ck->horizon = UINT64_MAX;
		return SCHED_STOPPED;
	}
	*who = first_halted;
	if (ck->horizon > s->now)
		s->now = ck->horizon;
	ck->horizon = UINT64_MAX;
	clock_run_until(ck, s->now);
	s->asleep = nhalted == nrun;
	return s->limit && s->now >= s->limit ? SCHED_LIMIT : SCHED_RAN;
}
