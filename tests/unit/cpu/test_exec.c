/* The executor: retirement counts, cycle costs, self-modifying code, the
 * decoded-block cache and fault restartability. */
#include <CUnit/CUnit.h>

#include "tests/unit/cpu/harness.h"

/* mov ecx, 10; L: add eax, 2; dec ecx; jnz L; hlt */
static const uint8_t loop10[] = { 0xb9, 0x0a, 0x00, 0x00, 0x00, 0x83, 0xc0, 0x02, 0xff, 0xc9, 0x75, 0xf9, 0xf4 };

static void test_loop_counts(void)
{
	struct harness *h = harness_create(true);
	CU_ASSERT_EQUAL(harness_run(h, loop10, sizeof(loop10)), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(h->cpu.gpr[R_AX], 20);
	CU_ASSERT_EQUAL(h->cpu.instret, 1 + 10 * 3 + 1);
	/* Costs from cpu/opcodes.def: mov 1, add 1, dec 1, jnz 1, hlt 1. */
	CU_ASSERT_EQUAL(h->cpu.cycles, 32);
	CU_ASSERT_EQUAL(h->cpu.rip, CODE_BASE + sizeof(loop10));
	harness_destroy(h);
}

/* Two runs of the same code give the same cycle count (determinism). */
static void test_deterministic(void)
{
	uint64_t cycles[2];
	for (int k = 0; k < 2; k++) {
		struct harness *h = harness_create(true);
		harness_run(h, loop10, sizeof(loop10));
		cycles[k] = h->cpu.cycles;
		harness_destroy(h);
	}
	CU_ASSERT_EQUAL(cycles[0], cycles[1]);
}

/* The code patches the immediate of an instruction later in its own block:
 * the patched value must be used (the cached decode is invalidated). */
static void test_self_modifying(void)
{
	/* mov byte [rip+1], 0x07 ; (c6 05 01 00 00 00 07)
	 * mov al, 0x01           ; (b0 01) <- its immediate is patched to 7
	 * hlt */
	const uint8_t code[] = { 0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x07, 0xb0, 0x01, 0xf4 };
	struct harness *h = harness_create(true);
	CU_ASSERT_EQUAL(harness_run(h, code, sizeof(code)), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(h->cpu.gpr[R_AX] & 0xff, 7);
	/* Run again from the top: the first store now writes the same value. */
	h->cpu.rip = CODE_BASE;
	h->cpu.halted = false;
	cpu_run(&h->cpu, h->cpu.cycles + 1000);
	CU_ASSERT_EQUAL(h->cpu.gpr[R_AX] & 0xff, 7);
	harness_destroy(h);
}

/* A deadline stops at a block boundary and the CPU resumes exactly there. */
static void test_deadline_resume(void)
{
	struct harness *h = harness_create(true);
	phys_copy_in(&h->pm, CODE_BASE, loop10, sizeof(loop10));
	h->cpu.rip = CODE_BASE;
	CU_ASSERT_EQUAL(cpu_run(&h->cpu, 5), CPU_STOP_DEADLINE);
	CU_ASSERT(h->cpu.cycles >= 5);
	CU_ASSERT(h->cpu.cycles < 32);
	CU_ASSERT_EQUAL(cpu_run(&h->cpu, 1000), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(h->cpu.gpr[R_AX], 20);
	CU_ASSERT_EQUAL(h->cpu.cycles, 32);
	harness_destroy(h);
}

/* REP STOSB over 10000 bytes runs in chunks yet ends with the full count
 * and RCX = 0; every iteration costs one cycle. */
static void test_rep_stos(void)
{
	/* mov edi, 0x100000; mov ecx, 10000; mov al, 0xab; rep stosb; hlt */
	const uint8_t code[] = { 0xbf, 0x00, 0x00, 0x10, 0x00, 0xb9, 0x10, 0x27, 0x00, 0x00,
				 0xb0, 0xab, 0xf3, 0xaa, 0xf4 };
	struct harness *h = harness_create(true);
	CU_ASSERT_EQUAL(harness_run(h, code, sizeof(code)), CPU_STOP_HALTED);
	CU_ASSERT_EQUAL(h->cpu.gpr[R_CX], 0);
	CU_ASSERT_EQUAL(h->cpu.gpr[R_DI], 0x100000 + 10000);
	uint8_t b[2];
	phys_copy_out(&h->pm, 0x100000 + 9999, b, 2);
	CU_ASSERT_EQUAL(b[0], 0xab);
	CU_ASSERT_EQUAL(b[1], 0);
	harness_destroy(h);
}

void suite_cpu_exec(void)
{
	CU_pSuite s = CU_add_suite("cpu_exec", NULL, NULL);
	CU_add_test(s, "loop retires the right counts and cycles", test_loop_counts);
	CU_add_test(s, "same code, same cycles", test_deterministic);
	CU_add_test(s, "self-modifying code sees its own store", test_self_modifying);
	CU_add_test(s, "deadline stops and resumes exactly", test_deadline_resume);
	CU_add_test(s, "REP STOSB in chunks", test_rep_stos);
}
