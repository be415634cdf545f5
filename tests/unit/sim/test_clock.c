/* The simulated clock: timers fire in (when, arming order), see their own
 * due time as "now", and an early timer cuts the running slice. */
#include <CUnit/CUnit.h>

#include "sim/clock.h"

struct rec {
	struct clock *ck;
	int log[16];
	uint64_t at[16];
	int n;
	int rearm;              /* fire re-arms the timer this many more times */
	uint64_t period;
};

struct tmr {
	struct dev_timer t;
	struct rec *r;
	int id;
};

static void fire(void *opaque, struct dev_timer *t)
{
	struct tmr *m = opaque;
	struct rec *r = m->r;
	r->log[r->n] = m->id;
	r->at[r->n++] = clock_now(r->ck);
	if (r->rearm > 0 && m->id == 0) {
		r->rearm--;
		clock_arm(r->ck, t, t->when + r->period);
	}
}

static void test_order(void)
{
	struct clock ck;
	struct rec r = { .ck = &ck };
	struct tmr t[4];
	CU_ASSERT_EQUAL_FATAL(clock_init(&ck, 1000000), 0);
	for (int i = 0; i < 4; i++) {
		t[i].r = &r;
		t[i].id = i;
		dev_timer_init(&t[i].t, "t", fire, &t[i]);
	}
	clock_arm(&ck, &t[0].t, 300);
	clock_arm(&ck, &t[1].t, 100);
	clock_arm(&ck, &t[2].t, 300);   /* same time as t0, armed later: after it */
	clock_arm(&ck, &t[3].t, 50);
	clock_disarm(&ck, &t[3].t);
	CU_ASSERT_FALSE(dev_timer_armed(&t[3].t));
	CU_ASSERT_EQUAL(clock_next(&ck), 100);
	clock_run_until(&ck, 250);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT_EQUAL(r.log[0], 1);
	CU_ASSERT_EQUAL(r.at[0], 100);
	CU_ASSERT_EQUAL(clock_now(&ck), 250);
	clock_run_until(&ck, 1000);
	CU_ASSERT_EQUAL(r.n, 3);
	CU_ASSERT_EQUAL(r.log[1], 0);
	CU_ASSERT_EQUAL(r.log[2], 2);
	CU_ASSERT_EQUAL(clock_next(&ck), UINT64_MAX);
	clock_destroy(&ck);
}

/* A periodic timer re-armed from its due time fires at exact multiples,
 * several times inside one window. */
static void test_periodic(void)
{
	struct clock ck;
	struct rec r = { .ck = &ck, .rearm = 3, .period = 70 };
	struct tmr t = { .r = &r, .id = 0 };
	CU_ASSERT_EQUAL_FATAL(clock_init(&ck, 1000000), 0);
	dev_timer_init(&t.t, "p", fire, &t);
	clock_arm(&ck, &t.t, 10);
	clock_run_until(&ck, 1000);
	CU_ASSERT_EQUAL(r.n, 4);
	CU_ASSERT_EQUAL(r.at[0], 10);
	CU_ASSERT_EQUAL(r.at[3], 220);
	clock_destroy(&ck);
}

/* Many timers: the heap pops them sorted. */
static void test_many(void)
{
	struct clock ck;
	struct rec r = { .ck = &ck };
	struct tmr t[16];
	CU_ASSERT_EQUAL_FATAL(clock_init(&ck, 1000000), 0);
	for (int i = 0; i < 16; i++) {
		t[i].r = &r;
		t[i].id = i;
		dev_timer_init(&t[i].t, "m", fire, &t[i]);
		clock_arm(&ck, &t[i].t, (uint64_t)((i * 7) % 16) * 10);
	}
	clock_arm(&ck, &t[5].t, 1);     /* re-arm moves it */
	clock_run_until(&ck, 10000);
	CU_ASSERT_EQUAL_FATAL(r.n, 16);
	CU_ASSERT_EQUAL(r.log[0], 0);   /* when 0 */
	CU_ASSERT_EQUAL(r.log[1], 5);   /* when 1 */
	for (int i = 2; i < 16; i++)
		CU_ASSERT(r.at[i] >= r.at[i - 1]);
	clock_destroy(&ck);
}

/* While a vCPU runs, now is its time; a timer due before the horizon cuts
 * the round and the running vCPU's deadline. */
static void test_cut(void)
{
	struct clock ck;
	uint64_t cycles = 500, deadline = 10000;
	struct dev_timer t;
	CU_ASSERT_EQUAL_FATAL(clock_init(&ck, 1000000), 0);
	dev_timer_init(&t, "c", fire, NULL);
	ck.horizon = 11000;
	clock_enter_cpu(&ck, &cycles, 1000, &deadline);
	CU_ASSERT_EQUAL(clock_now(&ck), 1500);
	cycles = 700;
	CU_ASSERT_EQUAL(clock_now(&ck), 1700);
	clock_arm(&ck, &t, 5000);
	CU_ASSERT_EQUAL(ck.horizon, 5000);
	CU_ASSERT_EQUAL(deadline, 4000);
	clock_arm(&ck, &t, 20000);      /* later than the horizon: nothing cut */
	CU_ASSERT_EQUAL(ck.horizon, 5000);
	clock_leave_cpu(&ck);
	clock_disarm(&ck, &t);
	clock_destroy(&ck);
}

void suite_sim_clock(void)
{
	CU_pSuite s = CU_add_suite("sim_clock", NULL, NULL);
	CU_add_test(s, "order", test_order);
	CU_add_test(s, "periodic", test_periodic);
	CU_add_test(s, "many", test_many);
	CU_add_test(s, "cut", test_cut);
}
