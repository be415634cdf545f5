/* Differential test of arithmetic results and flags: the same machine code
 * runs natively on the host CPU and in vtxsim, and the results and RFLAGS
 * must agree on every flag the SDM defines for that instruction. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/flags.h"
#include "tests/unit/cpu/harness.h"

enum { AF_MASK = FL_AF, OF_MASK = FL_OF, CF_MASK = FL_CF };

struct op_case {
	const char *name;
	uint8_t bytes[4], nbytes;       /* operation on rax (r/m) with rsi (reg) / cl */
	unsigned undefined;             /* flags never compared */
	enum { K_PLAIN, K_SHIFT, K_ROTATE, K_MUL } kind;
};

/* Encodings for the 32-bit form; 8/16/64-bit forms add prefixes. ModRM F0 =
 * rax,rsi; C0/C8/.. select the group member with rm = rax. */
static const struct op_case cases[] = {
	{ "add", { 0x01, 0xf0 }, 2, 0, K_PLAIN },
	{ "or", { 0x09, 0xf0 }, 2, AF_MASK, K_PLAIN },
	{ "adc", { 0x11, 0xf0 }, 2, 0, K_PLAIN },
	{ "sbb", { 0x19, 0xf0 }, 2, 0, K_PLAIN },
	{ "and", { 0x21, 0xf0 }, 2, AF_MASK, K_PLAIN },
	{ "sub", { 0x29, 0xf0 }, 2, 0, K_PLAIN },
	{ "xor", { 0x31, 0xf0 }, 2, AF_MASK, K_PLAIN },
	{ "cmp", { 0x39, 0xf0 }, 2, 0, K_PLAIN },
	{ "inc", { 0xff, 0xc0 }, 2, 0, K_PLAIN },
	{ "dec", { 0xff, 0xc8 }, 2, 0, K_PLAIN },
	{ "neg", { 0xf7, 0xd8 }, 2, 0, K_PLAIN },
	{ "not", { 0xf7, 0xd0 }, 2, 0, K_PLAIN },
	{ "shl", { 0xd3, 0xe0 }, 2, AF_MASK, K_SHIFT },
	{ "shr", { 0xd3, 0xe8 }, 2, AF_MASK, K_SHIFT },
	{ "sar", { 0xd3, 0xf8 }, 2, AF_MASK, K_SHIFT },
	{ "rol", { 0xd3, 0xc0 }, 2, 0, K_ROTATE },
	{ "ror", { 0xd3, 0xc8 }, 2, 0, K_ROTATE },
	{ "rcl", { 0xd3, 0xd0 }, 2, 0, K_ROTATE },
	{ "rcr", { 0xd3, 0xd8 }, 2, 0, K_ROTATE },
	{ "imul", { 0x0f, 0xaf, 0xc6 }, 3, FL_SF | FL_ZF | FL_AF | FL_PF, K_MUL },
};

/* mov rax,a; mov rsi,b; mov rcx,b; mov rdx,fl; push rdx; popfq; OP;
 * pushfq; pop rdx; then ret (host) or hlt (vtxsim). */
static size_t emit(uint8_t *p, const struct op_case *oc, unsigned osz, uint64_t a, uint64_t b, uint64_t fl,
		   uint8_t last)
{
	size_t n = 0;
	const uint8_t movs[3][2] = { { 0x48, 0xb8 }, { 0x48, 0xbe }, { 0x48, 0xb9 } };
	const uint64_t vals[3] = { a, b, b };
	for (int k = 0; k < 3; k++) {
		p[n++] = movs[k][0];
		p[n++] = movs[k][1];
		memcpy(p + n, &vals[k], 8);
		n += 8;
	}
	p[n++] = 0x48;
	p[n++] = 0xba;
	memcpy(p + n, &fl, 8);
	n += 8;
	p[n++] = 0x52;  /* push rdx */
	p[n++] = 0x9d;  /* popfq */
	bool byte_op = osz == SZ8 && oc->kind != K_MUL;
	if (osz == SZ16 || (osz == SZ8 && oc->kind == K_MUL))
		p[n++] = 0x66;
	if (osz == SZ64)
		p[n++] = 0x48;
	else if (byte_op)
		p[n++] = 0x40;  /* REX: rsi -> sil */
	memcpy(p + n, oc->bytes, oc->nbytes);
	if (byte_op)
		p[n] &= 0xfe;   /* the byte form is the even opcode */
	n += oc->nbytes;
	p[n++] = 0x9c;  /* pushfq */
	p[n++] = 0x5a;  /* pop rdx */
	p[n++] = last;
	return n;
}

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static uint64_t pick(uint64_t *seed)
{
	static const uint64_t edges[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
					  0xffffffff, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull, 0xf, 0x10 };
	uint64_t r = next_rand(seed);
	return (r & 3) == 0 ? edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))] : next_rand(seed);
}

static unsigned undefined_flags(const struct op_case *oc, unsigned osz, uint64_t count)
{
	unsigned u = oc->undefined, bits = 8u << osz;
	unsigned n = (unsigned)count & (osz == SZ64 ? 63 : 31);
	if (oc->kind == K_SHIFT && n > 1)
		u |= FL_OF;
	if (oc->kind == K_SHIFT && n >= bits)
		u |= FL_CF | FL_OF;
	if (oc->kind == K_ROTATE && n != 1)
		u |= FL_OF;
	return u;
}

static void test_flags_vs_host(void)
{
	uint8_t *host = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(host != MAP_FAILED);
	struct harness *h = harness_create(true);
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned failures = 0, runs = 0;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		for (unsigned osz = SZ8; osz <= SZ64; osz++) {
			for (int n = 0; n < 150; n++) {
				uint64_t a = pick(&seed), b = pick(&seed), fl = 0x2 | (next_rand(&seed) & FL_CF);
				if (cases[k].kind != K_PLAIN && cases[k].kind != K_MUL && (n & 1))
					b &= 0x3f;
				uint8_t code[80];
				emit(host, &cases[k], osz, a, b, fl, 0xc3);
				size_t len = emit(code, &cases[k], osz, a, b, fl, 0xf4);
				unsigned __int128 r = ((unsigned __int128 (*)(void))host)();
				uint64_t hrax = (uint64_t)r, hfl = (uint64_t)(r >> 64);
				CU_ASSERT_EQUAL_FATAL(harness_run(h, code, len), CPU_STOP_HALTED);
				uint64_t vrax = h->cpu.gpr[R_AX], vfl = h->cpu.gpr[R_DX];
				uint64_t mask = FL_ARITH & ~(uint64_t)undefined_flags(&cases[k], osz, b);
				runs++;
				if (hrax != vrax || ((hfl ^ vfl) & mask)) {
					if (failures++ < 8)
						printf("\n  %s/%u a=%#llx b=%#llx cf=%d: host %#llx fl %#llx, vtxsim %#llx fl %#llx",
						       cases[k].name, 8u << osz, (unsigned long long)a, (unsigned long long)b,
						       (int)(fl & 1), (unsigned long long)hrax,
						       (unsigned long long)(hfl & mask), (unsigned long long)vrax,
						       (unsigned long long)(vfl & mask));
				}
			}
		}
	}
	CU_ASSERT(runs > 10000);
	CU_ASSERT_EQUAL(failures, 0);
	harness_destroy(h);
	munmap(host, 4096);
}

/* Conditions straight from a recorded CMP must agree with the flag formulas. */
static void test_cond_from_cmp(void)
{
	struct harness *h = harness_create(true);
	struct cpu *c = &h->cpu;
	const uint64_t v[] = { 0, 1, 0x7f, 0x80, 0xff, 0x7fffffff, 0x80000000, ~0ull };
	for (unsigned osz = SZ8; osz <= SZ64; osz++)
		for (size_t x = 0; x < 8; x++)
			for (size_t y = 0; y < 8; y++) {
				uint64_t a = v[x] & osz_mask(osz), b = v[y] & osz_mask(osz);
				lf_set(c, LF_OP(LF_SUB, osz), a, b, (a - b) & osz_mask(osz));
				bool fast[16];
				for (unsigned cc = 0; cc < 16; cc++)
					fast[cc] = cpu_cond(c, cc);
				lf_materialize(c);
				for (unsigned cc = 0; cc < 16; cc++)
					CU_ASSERT_EQUAL(fast[cc], cpu_cond(c, cc));
			}
	harness_destroy(h);
}

void suite_cpu_flags(void)
{
	CU_pSuite s = CU_add_suite("cpu_flags", NULL, NULL);
	CU_add_test(s, "ALU results and flags match the host CPU", test_flags_vs_host);
	CU_add_test(s, "Jcc conditions from lazy CMP equal materialized flags", test_cond_from_cmp);
}
