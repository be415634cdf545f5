/* The machine's simulated clock and its event queue (the `struct clock` of
 * devices/device.h).
 *
 * Time is global simulated cycles. While a vCPU runs, "now" is that vCPU's
 * time (its cycle counter plus the scheduler's offset for it); between
 * slices it is the time of the timer being fired, or the end of the last
 * slice. Timers sit in a binary heap ordered by (when, arming order), so
 * the firing order depends only on simulated time.
 */
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdint.h>

#include "devices/device.h"

struct clock {
	uint64_t hz;
	uint64_t now;                   /* time while no vCPU runs */
	const uint64_t *run_cycles;     /* the running vCPU's cycle counter, or NULL */
	uint64_t run_offset;            /* its global time = *run_cycles + run_offset */
	uint64_t *run_deadline;         /* its deadline (own cycles), cut by early timers */
	uint64_t horizon;               /* end of the current round of slices */
	struct dev_timer **heap;
	int n, cap;
	uint64_t seq;
};

/* 0, or -1 when out of host memory. */
int clock_init(struct clock *ck, uint64_t hz);
void clock_destroy(struct clock *ck);

/* Due time of the earliest armed timer, or UINT64_MAX. */
uint64_t clock_next(const struct clock *ck);

/* Fire, in order, every timer due at or before `upto` (including those the
 * firing arms within the window), then leave now = upto. */
void clock_run_until(struct clock *ck, uint64_t upto);

/* The scheduler brackets each slice with these. */
void clock_enter_cpu(struct clock *ck, const uint64_t *cycles, uint64_t offset, uint64_t *deadline);
void clock_leave_cpu(struct clock *ck);

#endif
