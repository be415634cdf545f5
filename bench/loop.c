/* The benchmark guest: an integer loop in the style of an interpreter's
 * inner loop (shifts, xors, adds, a load and a store to a small array,
 * compare and branch), then the iteration count and a checksum on COM1.
 *
 * The iteration count comes from the command line, "iters=N" (default
 * 1000000). The loop is written in assembly so its length does not depend
 * on the compiler: LOOP_INSNS instructions per iteration, which bench/run.sh
 * uses when the simulator does not report an instruction count. */
#include "guest.h"

#define LOOP_INSNS 17
#define DEFAULT_ITERS 1000000ul
#define SEED 0x9e3779b97f4a7c15ul
#define CHECK_ITERS 1000

static uint64_t table[64];

/* 17 instructions per iteration, from "1:" to "jne 1b". */
static uint64_t run_loop(uint64_t iters, uint64_t *arr)
{
	uint64_t x = SEED, sum = 0, i = 0, t, idx;

	if (!iters)
		return 0;
	asm volatile("1:\n\t"
		     "mov %[x], %[t]\n\t"
		     "shl $13, %[t]\n\t"
		     "xor %[t], %[x]\n\t"
		     "mov %[x], %[t]\n\t"
		     "shr $7, %[t]\n\t"
		     "xor %[t], %[x]\n\t"
		     "mov %[x], %[t]\n\t"
		     "shl $17, %[t]\n\t"
		     "xor %[t], %[x]\n\t"
		     "mov %k[i], %k[idx]\n\t"
		     "and $63, %k[idx]\n\t"
		     "add (%[arr],%[idx],8), %[x]\n\t"
		     "mov %[x], (%[arr],%[idx],8)\n\t"
		     "add %[x], %[sum]\n\t"
		     "add $1, %[i]\n\t"
		     "cmp %[n], %[i]\n\t"
		     "jne 1b"
		     : [x] "+r"(x), [sum] "+r"(sum), [i] "+r"(i), [t] "=&r"(t), [idx] "=&r"(idx)
		     : [arr] "r"(arr), [n] "r"(iters)
		     : "cc", "memory");
	return sum ^ x;
}

/* The same computation in C, to check the simulator on a short run. */
static uint64_t reference_loop(uint64_t iters, uint64_t *arr)
{
	uint64_t x = SEED, sum = 0;

	for (uint64_t i = 0; i < iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		x += arr[i & 63];
		arr[i & 63] = x;
		sum += x;
	}
	return iters ? sum ^ x : 0;
}

static uint64_t iterations(const struct multiboot_info *mbi)
{
	char buf[24];
	uint64_t n;

	if (!(mbi->flags & MBI_CMDLINE))
		return DEFAULT_ITERS;
	if (!cmdline_get((const char *)(uintptr_t)mbi->cmdline, "iters", buf, sizeof(buf)))
		return DEFAULT_ITERS;
	if (!parse_u64(buf, &n)) {
		printf("loop: bad iters=%s, using %lu\n", buf, DEFAULT_ITERS);
		return DEFAULT_ITERS;
	}
	return n;
}

void kmain(uint32_t magic, uint32_t info)
{
	uint64_t iters = iterations((const struct multiboot_info *)(uintptr_t)info);
	uint64_t check_a, check_b;

	(void)magic;
	memset(table, 0, sizeof(table));
	check_a = run_loop(CHECK_ITERS, table);
	memset(table, 0, sizeof(table));
	check_b = reference_loop(CHECK_ITERS, table);
	printf("loop: self-check %s\n", check_a == check_b ? "ok" : "MISMATCH");
	memset(table, 0, sizeof(table));
	uint64_t sum = run_loop(iters, table);
	printf("loop: iters=%lu insns_per_iter=%u checksum=%#018lx\n", iters, LOOP_INSNS, sum);
	guest_exit(check_a == check_b ? 0 : 1);
}
