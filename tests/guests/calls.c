/* calls: compiled control flow and integer idioms at -O2: recursion,
 * indirect calls, switch jump tables, setcc/cmovcc for all 16 conditions,
 * 64-bit multiply and divide, bswap, bit scans, and the atomic
 * read-modify-write instructions. Expected values are worked out by hand. */
#include "guest.h"

/* Defeats constant folding: the compiler must compute at run time. */
#define OPAQUE(x) ({ __typeof__(x) v_ = (x); asm volatile("" : "+r"(v_)); v_; })

static NOINLINE uint64_t fib(uint64_t n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static NOINLINE uint64_t ackermann(uint64_t m, uint64_t n)
{
	if (m == 0)
		return n + 1;
	if (n == 0)
		return ackermann(m - 1, 1);
	return ackermann(m - 1, ackermann(m, n - 1));
}

/* Not a tail call: the addition happens after the return. */
static NOINLINE uint64_t depth_sum(uint64_t n)
{
	return n == 0 ? 0 : n + OPAQUE(depth_sum(n - 1));
}

static void check_recursion(void)
{
	report_eq(fib(OPAQUE(20)), 6765, "fib(20) = 6765 (21891 calls)");
	report_eq(ackermann(OPAQUE(2), OPAQUE(3)), 9, "ackermann(2, 3) = 9");
	report_eq(depth_sum(OPAQUE(500)), 125250, "500-deep recursion sums to 125250");
}

static NOINLINE uint64_t op_add(uint64_t a, uint64_t b) { return a + b; }
static NOINLINE uint64_t op_sub(uint64_t a, uint64_t b) { return a - b; }
static NOINLINE uint64_t op_mul(uint64_t a, uint64_t b) { return a * b; }
static NOINLINE uint64_t op_xor(uint64_t a, uint64_t b) { return a ^ b; }

static void check_indirect_calls(void)
{
	static uint64_t (*ops[])(uint64_t, uint64_t) = { op_add, op_sub, op_mul, op_xor };
	uint64_t acc = 7;

	for (uint64_t i = 0; i < 8; i++)
		acc = OPAQUE(ops[i % 4])(acc, i + 3);
	/* i=0 add 3: 10; i=1 sub 4: 6; i=2 mul 5: 30; i=3 xor 6: 24;
	 * i=4 add 7: 31; i=5 sub 8: 23; i=6 mul 9: 207; i=7 xor 10: 197 */
	report_eq(acc, 197, "eight calls through a function pointer table give 197");
}

/* Dense cases: gcc -O2 emits a jump table (jmp *table(,%reg,8)). */
static NOINLINE uint64_t dispatch(unsigned op, uint64_t x)
{
	switch (op) {
	case 0: return x + 1;
	case 1: return x * 3;
	case 2: return x << 4;
	case 3: return x - 100;
	case 4: return x ^ 0xff;
	case 5: return x / 7;
	case 6: return x % 7;
	case 7: return ~x;
	case 8: return x | 0x1000;
	case 9: return x & 0x0f;
	case 10: return x >> 2;
	case 11: return x * x;
	default: return 0xdead;
	}
}

static void check_switch(void)
{
	static const uint64_t want[13] = {
		1001, 3000, 16000, 900, 1000 ^ 0xff, 142, 6, ~1000ul, 1000 | 0x1000, 8, 250,
		1000000, 0xdead,
	};
	bool ok = true;

	for (unsigned op = 0; op < 13; op++)
		ok &= dispatch(OPAQUE(op), OPAQUE(1000ul)) == want[op];
	report(ok, "a 12-case switch (jump table) picks every case and the default");
}

/* Condition codes in encoding order (SDM Vol. 1, appendix B). */
#define CC_LIST(X) X(o) X(no) X(b) X(ae) X(e) X(ne) X(be) X(a) X(s) X(ns) X(p) X(np) X(l) X(ge) X(le) X(g)

static unsigned setcc_mask(uint32_t a, uint32_t b)
{
	unsigned mask = 0, bit = 0;
	uint8_t v;

#define SETCC(cc)                                                              \
	asm("cmpl %k2, %k1; set" #cc " %0" : "=q"(v) : "r"(a), "r"(b) : "cc");   \
	mask |= (unsigned)v << bit++;
	CC_LIST(SETCC)
#undef SETCC
	return mask;
}

/* cmovcc with a 32-bit operand writes (zero-extends) the destination even
 * when the condition is false (SDM Vol. 2A, CMOVcc "Operation"). */
static unsigned cmov_mask(uint32_t a, uint32_t b, bool *upper_cleared)
{
	unsigned mask = 0, bit = 0;

	*upper_cleared = true;
#define CMOV(cc)                                                               \
	{                                                                      \
		uint64_t d = 0xffffffff00000000ul;                             \
		asm("cmpl %k2, %k1; cmov" #cc "l %k3, %k0"                       \
		    : "+r"(d) : "r"(a), "r"(b), "r"(1ul) : "cc");                \
		mask |= (unsigned)(d & 1) << bit++;                            \
		*upper_cleared &= (d >> 32) == 0;                              \
	}
	CC_LIST(CMOV)
#undef CMOV
	return mask;
}

/* Bit i = condition i after cmp a, b, worked out from CF ZF SF OF PF of
 * a - b: o no b ae e ne be a s ns p np l ge le g. */
static const struct {
	uint32_t a, b;
	unsigned mask;
} cc_cases[] = {
	{ 1, 2, 0x5566 },               /* CF SF PF: b be s p l le */
	{ 2, 1, 0xaaaa },               /* none: no ae ne a ns np ge g */
	{ 5, 5, 0x665a },               /* ZF PF: no ae e be ns p ge le */
	{ 0x80000000, 1, 0x56a9 },      /* OF PF: o ae ne a ns p l le */
	{ 0x7fffffff, 0xffffffff, 0xa565 }, /* CF SF OF PF: o b ne be s p ge g */
};

static void check_conditions(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(cc_cases); i++) {
		uint32_t a = cc_cases[i].a, b = cc_cases[i].b;
		unsigned set = setcc_mask(a, b);
		bool upper_cleared;
		unsigned mov = cmov_mask(a, b, &upper_cleared);

		report(set == cc_cases[i].mask, "setcc x16 after cmp %#x, %#x: %#x", a, b, set);
		report(mov == cc_cases[i].mask && upper_cleared,
		       "cmovcc x16 after cmp %#x, %#x: %#x, upper half always cleared", a, b, mov);
	}
}

static void check_mul_div(void)
{
	uint64_t a = OPAQUE(0xfedcba9876543210ul), b = OPAQUE(0x10ul);
	unsigned __int128 wide = (unsigned __int128)OPAQUE(~0ul) * OPAQUE(~0ul);
	int64_t sa = OPAQUE(-7l), sb = OPAQUE(2l);

	report_eq(a / b, 0x0fedcba987654321ul, "64-bit unsigned divide");
	report_eq(a % OPAQUE(0x1000ul), 0x210, "64-bit unsigned remainder");
	report_eq(OPAQUE(~0ul) / OPAQUE(3ul), 0x5555555555555555ul, "(2^64 - 1) / 3");
	report(sa / sb == -3 && sa % sb == -1, "signed divide truncates toward zero: -7 / 2 = -3 rem -1");
	report((uint64_t)(wide >> 64) == 0xfffffffffffffffeul && (uint64_t)wide == 1,
	       "128-bit product of (2^64 - 1)^2 = 0xfffffffffffffffe_0000000000000001");
	report_eq(OPAQUE(0x100000001ul) * OPAQUE(0xfffffffful), 0xfffffffffffffffful,
		  "(2^32 + 1) * (2^32 - 1) = 2^64 - 1");
}

static unsigned count_bits(uint64_t v)
{
	unsigned n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

static void check_bits(void)
{
	uint64_t v = OPAQUE(0x0102030405060708ul);
	uint8_t zf;
	uint64_t dst = 0x77;

	report_eq(__builtin_bswap64(v), 0x0807060504030201ul, "bswap64");
	report_eq(__builtin_bswap32((uint32_t)OPAQUE(0xaabbccddu)), 0xddccbbaau, "bswap32");
	report(__builtin_ctzll(OPAQUE(0x50ul)) == 4 && __builtin_clzll(OPAQUE(0x50ul)) == 57,
	       "bsf/bsr of 0x50: lowest bit 4, highest bit 6");
	report(__builtin_ctzll(OPAQUE(1ul << 63)) == 63 && __builtin_clzll(OPAQUE(1ul)) == 63,
	       "bit scans at both ends of a qword");
	asm("bsfq %2, %0; setz %1" : "+r"(dst), "=q"(zf) : "r"(0ul) : "cc");
	report(zf == 1, "bsf of zero sets ZF");
	asm("bsrq %2, %0; setz %1" : "+r"(dst), "=q"(zf) : "r"(0x8000ul) : "cc");
	report(zf == 0 && dst == 15, "bsr of 0x8000 gives 15 with ZF clear");
	report(count_bits(v) == 13 && count_bits(OPAQUE(~0ul)) == 64, "bit counts by clearing the lowest bit");
}

static void check_atomics(void)
{
	uint64_t mem = 100, old = 100, val;
	uint8_t ok;

	asm volatile("lock cmpxchgq %3, %1; sete %2"
		     : "+a"(old), "+m"(mem), "=q"(ok) : "r"(555ul) : "cc", "memory");
	report(ok && mem == 555 && old == 100, "cmpxchg stores when RAX matches (ZF=1)");
	old = 100;
	asm volatile("lock cmpxchgq %3, %1; sete %2"
		     : "+a"(old), "+m"(mem), "=q"(ok) : "r"(777ul) : "cc", "memory");
	report(!ok && mem == 555 && old == 555, "cmpxchg loads RAX when it does not match (ZF=0)");
	val = 45;
	asm volatile("lock xaddq %0, %1" : "+r"(val), "+m"(mem) : : "cc", "memory");
	report(val == 555 && mem == 600, "xadd returns the old value and stores the sum");
	val = 1;
	asm volatile("xchgq %0, %1" : "+r"(val), "+m"(mem) : : "memory");
	report(val == 600 && mem == 1, "xchg swaps register and memory");
}

static void check_extensions(void)
{
	int64_t sx;
	uint64_t zx, cqo_hi;

	asm("movsbq %b1, %0" : "=r"(sx) : "r"(0x80ul));
	report(sx == -128, "movsx of byte 0x80 gives -128");
	asm("movzwl %w1, %k0" : "=r"(zx) : "r"(0xffffffffffff8001ul));
	report(zx == 0x8001, "movzx of word 0x8001 zero-extends to 64 bits");
	asm("cqto" : "=d"(cqo_hi) : "a"(-5l));
	report(cqo_hi == ~0ul, "cqo sign-extends RAX into RDX");
	uint64_t l;
	asm("leaq 5(%1,%2,8), %0" : "=r"(l) : "r"(1000ul), "r"(3ul));
	report(l == 1029, "lea 5(base, index, 8) = 1029");
	uint64_t sum = 0, n = 10;
	asm("1: addq %1, %0; loop 1b" : "+r"(sum), "+c"(n) : : "cc");
	report(sum == 55 && n == 0, "loop counts RCX down from 10 (sum 55)");
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	check_recursion();
	check_indirect_calls();
	check_switch();
	check_conditions();
	check_mul_div();
	check_bits();
	check_atomics();
	check_extensions();
	report_summary();
}
