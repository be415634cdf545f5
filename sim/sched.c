/* Round-robin vCPU scheduling in fixed quanta of simulated cycles. */
#include "sim/sched.h"

#include <assert.h>
#include <stdlib.h>

int sched_init(struct sched *s, struct cpu *cpus, int ncpus, uint64_t limit)
{
	assert(ncpus > 0);
	*s = (struct sched){ .cpus = cpus, .ncpus = ncpus, .limit = limit, .quantum = SCHED_QUANTUM };
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

/* Run vCPU i until global time target (its deadline in its own cycles). */
static enum cpu_stop sched_slice(struct sched *s, int i, uint64_t target)
{
	struct cpu *c = &s->cpus[i];
	enum cpu_stop st;

	if (sched_cpu_time(s, i) >= target)     /* overshot an earlier slice: sit this one out */
		return c->halted ? CPU_STOP_HALTED : CPU_STOP_DEADLINE;
	s->running = c;
	st = cpu_run(c, target - s->offset[i]);
	s->running = NULL;
	return st;
}

enum sched_status sched_run_round(struct sched *s, struct cpu **who)
{
	uint64_t target = s->now + s->quantum;
	struct cpu *first_halted = NULL;
	int nrun = 0, nhalted = 0;

	*who = NULL;
	if (s->limit && s->now >= s->limit)
		return SCHED_LIMIT;
	if (s->limit && target > s->limit)
		target = s->limit;
	for (int i = 0; i < s->ncpus && !s->stop; i++) {
		if (!s->runnable[i])
			continue;
		enum cpu_stop st = sched_slice(s, i, target);
		nrun++;
		if (st == CPU_STOP_TRIPLE_FAULT || st == CPU_STOP_SHUTDOWN) {
			*who = &s->cpus[i];
			return SCHED_TRIPLE_FAULT;
		}
		if (st == CPU_STOP_HALTED && nhalted++ == 0)
			first_halted = &s->cpus[i];
		*who = &s->cpus[i];
	}
	if (s->stop) {
		s->stop = false;
		return SCHED_STOPPED;
	}
	*who = first_halted;
	s->now = target;
	if (nhalted == nrun)
		return SCHED_ALL_HALTED;
	return s->limit && s->now >= s->limit ? SCHED_LIMIT : SCHED_RAN;
}
