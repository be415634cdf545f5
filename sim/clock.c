/* Simulated time and the timer heap. */
#include "sim/clock.h"

#include <stdio.h>
#include <stdlib.h>

int clock_init(struct clock *ck, uint64_t hz)
{
	*ck = (struct clock){ .hz = hz, .horizon = UINT64_MAX, .cap = 16 };
	ck->heap = calloc((size_t)ck->cap, sizeof(*ck->heap));
	return ck->heap ? 0 : -1;
}

void clock_destroy(struct clock *ck)
{
	for (int i = 0; i < ck->n; i++)
		ck->heap[i]->slot = 0;
	free(ck->heap);
	ck->heap = NULL;
	ck->n = ck->cap = 0;
}

uint64_t clock_now(const struct clock *ck)
{
	return ck->run_cycles ? *ck->run_cycles + ck->run_offset : ck->now;
}

uint64_t clock_hz(const struct clock *ck)
{
	return ck->hz;
}

uint64_t clock_next(const struct clock *ck)
{
	return ck->n ? ck->heap[0]->when : UINT64_MAX;
}

static bool before(const struct dev_timer *a, const struct dev_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void put(struct clock *ck, int i, struct dev_timer *t)
{
	ck->heap[i] = t;
	t->slot = i + 1;
}

static void sift_up(struct clock *ck, int i)
{
	struct dev_timer *t = ck->heap[i];
	while (i > 0 && before(t, ck->heap[(i - 1) / 2])) {
		put(ck, i, ck->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	put(ck, i, t);
}

static void sift_down(struct clock *ck, int i)
{
	struct dev_timer *t = ck->heap[i];
	for (;;) {
		int k = 2 * i + 1;
		if (k >= ck->n)
			break;
		if (k + 1 < ck->n && before(ck->heap[k + 1], ck->heap[k]))
			k++;
		if (!before(ck->heap[k], t))
			break;
		put(ck, i, ck->heap[k]);
		i = k;
	}
	put(ck, i, t);
}

void clock_disarm(struct clock *ck, struct dev_timer *t)
{
	if (!t->slot)
		return;
	int i = t->slot - 1;
	t->slot = 0;
	if (--ck->n == i)
		return;
	put(ck, i, ck->heap[ck->n]);
	sift_down(ck, i);
	sift_up(ck, ck->heap[i]->slot - 1);
}

void clock_arm(struct clock *ck, struct dev_timer *t, uint64_t when)
{
	clock_disarm(ck, t);
	if (ck->n == ck->cap) {
		struct dev_timer **h = realloc(ck->heap, (size_t)ck->cap * 2 * sizeof(*h));
		if (!h) {
			fprintf(stderr, "vtxsim: out of host memory for timers\n");
			abort();
		}
		ck->heap = h;
		ck->cap *= 2;
	}
	t->when = when;
	t->seq = ck->seq++;
	put(ck, ck->n, t);
	sift_up(ck, ck->n++);
	/* Due before the round ends: end the round (and the running slice) then. */
	if (when < ck->horizon) {
		uint64_t now = clock_now(ck);
		ck->horizon = when > now ? when : now;
		if (ck->run_cycles && ck->run_deadline)
			*ck->run_deadline = ck->horizon - ck->run_offset;
	}
}

void clock_run_until(struct clock *ck, uint64_t upto)
{
	while (ck->n && ck->heap[0]->when <= upto) {
		struct dev_timer *t = ck->heap[0];
		if (t->when > ck->now)
			ck->now = t->when;
		clock_disarm(ck, t);
		t->fire(t->opaque, t);
	}
	if (upto > ck->now)
		ck->now = upto;
}

void clock_enter_cpu(struct clock *ck, const uint64_t *cycles, uint64_t offset, uint64_t *deadline)
{
	ck->run_cycles = cycles;
	ck->run_offset = offset;
	ck->run_deadline = deadline;
}

void clock_leave_cpu(struct clock *ck)
{
	ck->run_cycles = NULL;
	ck->run_deadline = NULL;
}
