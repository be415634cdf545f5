/* sim/debug.c (the debug API): steps, breakpoints of each kind that needs
 * no guest VMX, stops after events, cycle targets, and the promise that a
 * debugged run is the same run (instructions and cycles) as a plain one. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "cpu/probe.h"
#include "sim/debug_api.h"
#include "sim/machine.h"
#include "tests/unit/test_machine.h"

#define CODE 0x100000u

/* 0: mov eax, 1; 5: inc eax; 6: inc eax; 7: out 0x80, al; 9: inc eax;
 * 10: mov [0x2000], eax; 15: mov al, 0; 17: out 0xf4, al; 19: hlt */
static const uint8_t code[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0x40, 0x40, 0xe6, 0x80, 0x40,
				0xa3, 0x00, 0x20, 0x00, 0x00, 0xb0, 0x00, 0xe6, 0xf4, 0xf4 };

static struct machine *guest(void)
{
	return test_machine(CODE, code, sizeof(code));
}

static uint64_t reg(struct dbg *d, const char *name)
{
	uint64_t v = 0;
	CU_ASSERT_TRUE(dbg_reg_read(d, 0, name, &v));
	return v;
}

static void test_steps(void)
{
	struct machine *m = guest();
	struct dbg *d = dbg_create(m);
	struct dbg_stop st;
	dbg_resume(d, &(struct dbg_run){ .cpu = 0, .steps = 1 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_STEP);
	CU_ASSERT_EQUAL(reg(d, "rip"), CODE + 5);
	CU_ASSERT_EQUAL(reg(d, "rax"), 1);
	dbg_resume(d, &(struct dbg_run){ .cpu = 0, .steps = 2 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_STEP);
	CU_ASSERT_EQUAL(reg(d, "rip"), CODE + 7);
	CU_ASSERT_EQUAL(m->cpus[0].gpr[0], 3);
	CU_ASSERT_EQUAL(m->cpus[0].instret, 3);
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_END);
	CU_ASSERT_EQUAL(m->exit.result, MACHINE_DEBUG_EXIT);
	CU_ASSERT_TRUE(dbg_run_over(d));
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_END);
	dbg_destroy(d);
	machine_destroy(m);
}

static void test_breakpoints(void)
{
	struct machine *m = guest();
	struct dbg *d = dbg_create(m);
	struct dbg_stop st;
	int lin = dbg_bp_add(d, &(struct dbg_bp){ .kind = DBG_BP_LINEAR, .cpu = -1, .addr = CODE + 9, .enabled = true });
	int io = dbg_bp_add(d, &(struct dbg_bp){ .kind = DBG_BP_IO, .cpu = -1, .addr = 0x80, .enabled = true });
	int wr = dbg_bp_add(d, &(struct dbg_bp){ .kind = DBG_BP_WATCH, .cpu = -1, .addr = 0x2002, .len = 1,
						  .access = DBG_W_WRITE, .enabled = true });
	CU_ASSERT_TRUE(lin > 0 && io > 0 && wr > 0);
	/* The OUT stops after it ran; the next boundary is the breakpoint's. */
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_BREAK);
	CU_ASSERT_EQUAL(st.bp, io);
	CU_ASSERT_TRUE(st.has_event);
	CU_ASSERT_EQUAL(st.ev.kind, PROBE_IO);
	CU_ASSERT_EQUAL(st.ev.code, 0x80);
	CU_ASSERT_EQUAL(st.ev.value, 3);
	CU_ASSERT_TRUE(st.ev.write);
	CU_ASSERT_EQUAL(reg(d, "rip"), CODE + 9);
	CU_ASSERT_EQUAL(m->cpus[0].instret, 4);
	/* Continuing from where a stop left the CPU runs that instruction, as
	 * gdb steps over a breakpoint at the PC it stopped at. */
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_BREAK);
	CU_ASSERT_EQUAL(st.bp, wr);
	CU_ASSERT_EQUAL(st.ev.kind, PROBE_DATA);
	CU_ASSERT_EQUAL(st.ev.value, 0x2000);
	CU_ASSERT_EQUAL(reg(d, "rip"), CODE + 15);
	CU_ASSERT_EQUAL(dbg_bp_find(d, wr)->hits, 1);
	CU_ASSERT_EQUAL(dbg_bp_find(d, lin)->hits, 0);
	/* From the start again (a new session), the breakpoint stops before
	 * its instruction. */
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_END);
	dbg_destroy(d);
	machine_destroy(m);
	m = guest();
	d = dbg_create(m);
	lin = dbg_bp_add(d, &(struct dbg_bp){ .kind = DBG_BP_LINEAR, .cpu = -1, .addr = CODE + 9, .enabled = true });
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_BREAK);
	CU_ASSERT_EQUAL(st.bp, lin);
	CU_ASSERT_EQUAL(reg(d, "rip"), CODE + 9);
	CU_ASSERT_EQUAL(m->cpus[0].instret, 4);
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_END);
	dbg_destroy(d);
	machine_destroy(m);
}

/* A condition function that holds on its second call only. */
static bool second_time(void *ctx, struct dbg *d, int cpu, const char *cond)
{
	int *calls = ctx;
	(void)d, (void)cpu;
	CU_ASSERT_STRING_EQUAL(cond, "second");
	return ++*calls == 2;
}

static void test_condition(void)
{
	struct machine *m = guest();
	struct dbg *d = dbg_create(m);
	struct dbg_stop st;
	int calls = 0;
	struct dbg_bp b = { .kind = DBG_BP_IO, .cpu = -1, .addr = 0x80, .len = 0x80, .enabled = true };
	strcpy(b.cond, "second");
	dbg_set_condition_fn(d, second_time, &calls);
	int id = dbg_bp_add(d, &b);
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_BREAK);       /* port 0xf4 is in [0x80, 0x100) */
	CU_ASSERT_EQUAL(st.bp, id);
	CU_ASSERT_EQUAL(st.ev.code, 0xf4);
	CU_ASSERT_EQUAL(calls, 2);
	dbg_destroy(d);
	machine_destroy(m);
}

/* The debugged run retires the same instructions at the same cycles. */
static void test_same_run(void)
{
	struct machine *plain = guest(), *m = guest();
	machine_run(plain);
	struct dbg *d = dbg_create(m);
	struct dbg_stop st;
	dbg_bp_add(d, &(struct dbg_bp){ .kind = DBG_BP_LINEAR, .cpu = -1, .addr = CODE + 6, .enabled = true });
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_BREAK);
	dbg_resume(d, &(struct dbg_run){ .cpu = 0, .steps = 3 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_STEP);
	CU_ASSERT_EQUAL(reg(d, "rip"), CODE + 10);
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_END);
	CU_ASSERT_EQUAL(m->cpus[0].instret, plain->cpus[0].instret);
	CU_ASSERT_EQUAL(m->cpus[0].cycles, plain->cpus[0].cycles);
	CU_ASSERT_EQUAL(m->exit.cycle, plain->exit.cycle);
	dbg_destroy(d);
	machine_destroy(m);
	machine_destroy(plain);
}

/* A cycle target stops between rounds at that global time. */
static void test_until_cycle(void)
{
	static const uint8_t spin[] = { 0xeb, 0xfe };   /* jmp $ */
	struct machine *m = guest();
	CU_ASSERT_EQUAL(phys_copy_in(&m->phys, CODE, spin, sizeof(spin)), 0);
	struct dbg *d = dbg_create(m);
	struct dbg_stop st;
	dbg_resume(d, &(struct dbg_run){ .until_cycle = 1000000 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_CYCLE);
	CU_ASSERT_EQUAL(dbg_now(d), 1000000);
	CU_ASSERT_FALSE(dbg_run_over(d));
	dbg_resume(d, &(struct dbg_run){ .until_cycle = 1500000 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_CYCLE);
	CU_ASSERT_EQUAL(dbg_now(d), 1500000);
	dbg_destroy(d);
	machine_destroy(m);
}

/* A triple fault stops before -no-reboot ends the run; continuing ends it. */
static void test_shutdown(void)
{
	/* lidt [zero]; int3 with an empty IDT: #GP, #DF, shutdown. */
	static const uint8_t tf[] = { 0x0f, 0x01, 0x1d, 0x00, 0x30, 0x00, 0x00, 0xcc };
	struct machine *m = guest();
	CU_ASSERT_EQUAL(phys_copy_in(&m->phys, CODE, tf, sizeof(tf)), 0);
	struct dbg *d = dbg_create(m);
	struct dbg_stop st;
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_SHUTDOWN);
	CU_ASSERT_TRUE(m->cpus[0].shutdown);
	CU_ASSERT_FALSE(dbg_run_over(d));
	dbg_resume(d, &(struct dbg_run){ 0 }, &st);
	CU_ASSERT_EQUAL(st.kind, DBG_STOP_END);
	CU_ASSERT_EQUAL(m->exit.result, MACHINE_TRIPLE_FAULT);
	dbg_destroy(d);
	machine_destroy(m);
}

void suite_sim_debug(void)
{
	CU_pSuite s = CU_add_suite("sim_debug", NULL, NULL);
	CU_add_test(s, "steps", test_steps);
	CU_add_test(s, "breakpoints: linear, I/O, watch", test_breakpoints);
	CU_add_test(s, "conditions", test_condition);
	CU_add_test(s, "a debugged run is the same run", test_same_run);
	CU_add_test(s, "cycle targets", test_until_cycle);
	CU_add_test(s, "triple fault stops before the end", test_shutdown);
}
