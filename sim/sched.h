/* The scheduler: runs the machine's vCPUs round-robin in fixed quanta of
 * simulated cycles and fires the clock's timers between rounds.
 * Deterministic by construction: the order of the vCPUs and the length of
 * every slice depend only on simulated time, never on the host.
 *
 * Simulated time is one global clock. vCPU i's view of it is its own cycle
 * counter plus an offset, so a vCPU whose counter restarts (a reset) or that
 * overshoots a slice by part of an instruction does not drift.
 *
 * A round runs every vCPU in index order up to the round's end, which is
 * the next timer's due time when that comes before a full quantum (a timer
 * armed during the round pulls the end in: sim/clock.c). Then the due
 * timers fire. A vCPU asleep (HLT, wait-for-SIPI) has its clock moved on to
 * the end of the round: time passes while it sleeps. When every vCPU sleeps
 * and none can wake, the next round ends at the next timer at once, so an
 * idle guest costs no host time.
 */
#ifndef SIM_SCHED_H
#define SIM_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "sim/clock.h"

#define SCHED_QUANTUM 100000u           /* cycles per slice */

enum sched_status {
	SCHED_RAN,              /* a round of slices completed; call again */
	SCHED_STOPPED,          /* sched_request_stop() was called */
	SCHED_TRIPLE_FAULT,     /* *who triple-faulted (or was already in shutdown) */
	SCHED_ALL_HALTED,       /* every vCPU sleeps, none can wake and no timer is armed */
	SCHED_LIMIT,            /* the global clock reached the cycle limit */
};

struct sched {
	struct cpu *cpus;       /* array of ncpus, owned by the machine */
	int ncpus;
	bool *runnable;         /* parked vCPUs (APs before SMP) are not */
	uint64_t *offset;       /* global time = cpus[i].cycles + offset[i] */
	uint64_t now;           /* global simulated cycles at the end of the last round */
	uint64_t limit;         /* 0 = unlimited */
	uint64_t quantum;
	struct cpu *running;    /* the vCPU inside cpu_run, or NULL */
	struct clock *clock;
	bool stop;
	bool asleep;            /* every runnable vCPU slept through the last round */
};

/* 0, or -1 when out of host memory. Every vCPU starts runnable. */
int sched_init(struct sched *s, struct cpu *cpus, int ncpus, uint64_t limit, struct clock *clock);
void sched_destroy(struct sched *s);
void sched_set_runnable(struct sched *s, int i, bool runnable);

/* Run one round: a slice for every runnable vCPU, in index order. *who is the
 * vCPU the outcome concerns: the one that triple-faulted, the one running
 * when a stop was requested, or the first halted one (NULL when none). */
enum sched_status sched_run_round(struct sched *s, struct cpu **who);

/* Make the current round end at the next instruction boundary (from a
 * device callback running inside cpu_run, or from outside). */
void sched_request_stop(struct sched *s);

/* Global time as vCPU i sees it. */
uint64_t sched_cpu_time(const struct sched *s, int i);
/* After vCPU i's counter was changed behind the scheduler's back (reset):
 * keep its global time at t. */
void sched_cpu_rebase(struct sched *s, int i, uint64_t t);

#endif
