/* SSE/SSE2 instructions against the host CPU: each instruction's bytes run
 * natively (in a small generated stub) and in vtxsim on the same XMM0/XMM1,
 * RAX and MXCSR, over random and special operands (zeros, infinities,
 * quiet and signalling NaNs, denormals, extremes) in every rounding mode
 * with DAZ/FTZ on and off; XMM0, XMM1, RAX, MXCSR (and the arithmetic
 * flags for COMIS/UCOMIS) must agree bit for bit. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/flags.h"
#include "tests/unit/cpu/sysenv.h"

struct native_state {
	uint8_t xmm0[16], xmm1[16];     /* 0, 16 */
	uint32_t mxcsr, pad;            /* 32 */
	uint64_t rax;                   /* 40 */
	uint64_t rflags;                /* 48 */
};

/* Stub: rdi = struct native_state *. */
static const uint8_t stub_head[] = {
	0x0f, 0xae, 0x57, 0x20,                 /* ldmxcsr 32(%rdi) */
	0xf3, 0x0f, 0x6f, 0x07,                 /* movdqu (%rdi), %xmm0 */
	0xf3, 0x0f, 0x6f, 0x4f, 0x10,           /* movdqu 16(%rdi), %xmm1 */
	0x48, 0x8b, 0x47, 0x28,                 /* mov 40(%rdi), %rax */
	0x57,                                   /* push %rdi */
};
static const uint8_t stub_tail[] = {
	0x5f,                                   /* pop %rdi */
	0xf3, 0x0f, 0x7f, 0x07,                 /* movdqu %xmm0, (%rdi) */
	0xf3, 0x0f, 0x7f, 0x4f, 0x10,           /* movdqu %xmm1, 16(%rdi) */
	0x0f, 0xae, 0x5f, 0x20,                 /* stmxcsr 32(%rdi) */
	0x48, 0x89, 0x47, 0x28,                 /* mov %rax, 40(%rdi) */
	0x9c, 0x58,                             /* pushfq; pop %rax */
	0x48, 0x89, 0x47, 0x30,                 /* mov %rax, 48(%rdi) */
	0xc3,                                   /* ret */
};

static uint8_t *stub_page;

static int stub_init(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	stub_page = p == MAP_FAILED ? NULL : p;
	return stub_page ? 0 : -1;
}

static int stub_fini(void)
{
	if (stub_page)
		munmap(stub_page, 4096);
	return 0;
}

/* Run insn natively; every exception stays masked on the host. */
static void native_run(const uint8_t *insn, unsigned len, struct native_state *s)
{
	uint32_t host;
	size_t n = 0;
	memcpy(stub_page + n, stub_head, sizeof(stub_head));
	n += sizeof(stub_head);
	memcpy(stub_page + n, insn, len);
	n += len;
	memcpy(stub_page + n, stub_tail, sizeof(stub_tail));
	__builtin___clear_cache((char *)stub_page, (char *)stub_page + 4096);
	__asm__ volatile("stmxcsr %0" : "=m"(host));
	((void (*)(struct native_state *))(void *)stub_page)(s);
	__asm__ volatile("ldmxcsr %0" : : "m"(host));
}

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static const uint32_t f32_special[] = {
	0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001,
	0x7f800001, 0xff812345, 0x00000001, 0x807fffff, 0x00400000, 0x00800000, 0x7f7fffff, 0xff7fffff,
	0x4f000000, 0xcf000000, 0x5f000000, 0x3eaaaaab, 0x40490fdb, 0x33800000,
};
static const uint64_t f64_special[] = {
	0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull, 0x7ff0000000000000ull,
	0xfff0000000000000ull, 0x7ff8000000000000ull, 0xfff8000000000001ull, 0x7ff0000000000001ull,
	0xfff4000000000000ull, 1, 0x800fffffffffffffull, 0x0008000000000000ull, 0x0010000000000000ull,
	0x7fefffffffffffffull, 0xffefffffffffffffull, 0x41e0000000000000ull, 0xc1e0000000000000ull,
	0x43e0000000000000ull, 0x3fd5555555555555ull, 0x3ca0000000000000ull, 0x36a0000000000000ull,
};

/* One XMM value: lanes of 32 or 64 bits, each random or special. */
static void gen_xmm(uint8_t *x, unsigned lane)
{
	for (unsigned k = 0; k < 16; k += lane) {
		uint64_t r = rnd();
		if ((r & 3) == 0) {
			memcpy(x + k, &r, lane);
		} else if (lane == 4) {
			uint32_t v = f32_special[(r >> 8) % (sizeof(f32_special) / 4)];
			if ((r & 3) == 1)       /* near a special value: small perturbation */
				v += (uint32_t)(r >> 40) & 7;
			memcpy(x + k, &v, 4);
		} else {
			uint64_t v = f64_special[(r >> 8) % (sizeof(f64_special) / 8)];
			if ((r & 3) == 1)
				v += (r >> 40) & 7;
			memcpy(x + k, &v, 8);
		}
	}
}

struct case_def {
	const char *name;
	uint8_t bytes[8];
	uint8_t len;
	uint8_t lane;           /* 4 or 8: operand generator */
	uint8_t flags;          /* compare arithmetic flags */
};

#define C(nm, ln, lane, fl, ...) { nm, { __VA_ARGS__ }, ln, lane, fl }

/* Register forms with ModRM C1 (reg = xmm0 / eax, rm = xmm1) unless noted. */
static const struct case_def cases[] = {
	C("movups", 3, 4, 0, 0x0f, 0x10, 0xc1), C("movupd", 4, 8, 0, 0x66, 0x0f, 0x10, 0xc1),
	C("movss", 4, 4, 0, 0xf3, 0x0f, 0x10, 0xc1), C("movsd", 4, 8, 0, 0xf2, 0x0f, 0x10, 0xc1),
	C("movups st", 3, 4, 0, 0x0f, 0x11, 0xc1), C("movss st", 4, 4, 0, 0xf3, 0x0f, 0x11, 0xc1),
	C("movsd st", 4, 4, 0, 0xf2, 0x0f, 0x11, 0xc1),
	C("movhlps", 3, 4, 0, 0x0f, 0x12, 0xc1), C("movlhps", 3, 4, 0, 0x0f, 0x16, 0xc1),
	C("unpcklps", 3, 4, 0, 0x0f, 0x14, 0xc1), C("unpckhps", 3, 4, 0, 0x0f, 0x15, 0xc1),
	C("unpcklpd", 4, 8, 0, 0x66, 0x0f, 0x14, 0xc1), C("unpckhpd", 4, 8, 0, 0x66, 0x0f, 0x15, 0xc1),
	C("movaps", 3, 4, 0, 0x0f, 0x28, 0xc1), C("movaps st", 3, 4, 0, 0x0f, 0x29, 0xc1),
	C("movapd", 4, 8, 0, 0x66, 0x0f, 0x28, 0xc1),
	C("cvtsi2ss", 4, 4, 0, 0xf3, 0x0f, 0x2a, 0xc0), C("cvtsi2ss q", 5, 4, 0, 0xf3, 0x48, 0x0f, 0x2a, 0xc0),
	C("cvtsi2sd", 4, 8, 0, 0xf2, 0x0f, 0x2a, 0xc0), C("cvtsi2sd q", 5, 8, 0, 0xf2, 0x48, 0x0f, 0x2a, 0xc0),
	C("cvttss2si", 4, 4, 0, 0xf3, 0x0f, 0x2c, 0xc1), C("cvttss2si q", 5, 4, 0, 0xf3, 0x48, 0x0f, 0x2c, 0xc1),
	C("cvttsd2si", 4, 8, 0, 0xf2, 0x0f, 0x2c, 0xc1), C("cvttsd2si q", 5, 8, 0, 0xf2, 0x48, 0x0f, 0x2c, 0xc1),
	C("cvtss2si", 4, 4, 0, 0xf3, 0x0f, 0x2d, 0xc1), C("cvtss2si q", 5, 4, 0, 0xf3, 0x48, 0x0f, 0x2d, 0xc1),
	C("cvtsd2si", 4, 8, 0, 0xf2, 0x0f, 0x2d, 0xc1), C("cvtsd2si q", 5, 8, 0, 0xf2, 0x48, 0x0f, 0x2d, 0xc1),
	C("ucomiss", 3, 4, 1, 0x0f, 0x2e, 0xc1), C("comiss", 3, 4, 1, 0x0f, 0x2f, 0xc1),
	C("ucomisd", 4, 8, 1, 0x66, 0x0f, 0x2e, 0xc1), C("comisd", 4, 8, 1, 0x66, 0x0f, 0x2f, 0xc1),
	C("movmskps", 3, 4, 0, 0x0f, 0x50, 0xc1), C("movmskpd", 4, 8, 0, 0x66, 0x0f, 0x50, 0xc1),
	C("movd x,r", 4, 4, 0, 0x66, 0x0f, 0x6e, 0xc0), C("movq x,r", 5, 4, 0, 0x66, 0x48, 0x0f, 0x6e, 0xc0),
	C("movd r,x", 4, 4, 0, 0x66, 0x0f, 0x7e, 0xc0), C("movq r,x", 5, 4, 0, 0x66, 0x48, 0x0f, 0x7e, 0xc0),
	C("movdqa", 4, 4, 0, 0x66, 0x0f, 0x6f, 0xc1), C("movdqu", 4, 4, 0, 0xf3, 0x0f, 0x6f, 0xc1),
	C("movdqa st", 4, 4, 0, 0x66, 0x0f, 0x7f, 0xc1), C("movq x,x", 4, 4, 0, 0xf3, 0x0f, 0x7e, 0xc1),
	C("movq st", 4, 4, 0, 0x66, 0x0f, 0xd6, 0xc1), C("pmovmskb", 4, 4, 0, 0x66, 0x0f, 0xd7, 0xc1),
	C("pshufd", 5, 4, 0, 0x66, 0x0f, 0x70, 0xc1, 0x1b), C("pshufhw", 5, 4, 0, 0xf3, 0x0f, 0x70, 0xc1, 0xc6),
	C("pshuflw", 5, 4, 0, 0xf2, 0x0f, 0x70, 0xc1, 0x72), C("shufps", 4, 4, 0, 0x0f, 0xc6, 0xc1, 0x9c),
	C("shufpd", 5, 8, 0, 0x66, 0x0f, 0xc6, 0xc1, 0x02), C("pinsrw", 5, 4, 0, 0x66, 0x0f, 0xc4, 0xc0, 0x05),
	C("pextrw", 5, 4, 0, 0x66, 0x0f, 0xc5, 0xc1, 0x06),
	C("psrlw i", 5, 4, 0, 0x66, 0x0f, 0x71, 0xd1, 0x03), C("psraw i", 5, 4, 0, 0x66, 0x0f, 0x71, 0xe1, 0x0f),
	C("psllw i", 5, 4, 0, 0x66, 0x0f, 0x71, 0xf1, 0x11), C("psrld i", 5, 4, 0, 0x66, 0x0f, 0x72, 0xd1, 0x1f),
	C("psrad i", 5, 4, 0, 0x66, 0x0f, 0x72, 0xe1, 0x05), C("pslld i", 5, 4, 0, 0x66, 0x0f, 0x72, 0xf1, 0x20),
	C("psrlq i", 5, 4, 0, 0x66, 0x0f, 0x73, 0xd1, 0x3f), C("psrldq", 5, 4, 0, 0x66, 0x0f, 0x73, 0xd9, 0x05),
	C("psllq i", 5, 4, 0, 0x66, 0x0f, 0x73, 0xf1, 0x40), C("pslldq", 5, 4, 0, 0x66, 0x0f, 0x73, 0xf9, 0x0f),
	C("pslldq 17", 5, 4, 0, 0x66, 0x0f, 0x73, 0xf9, 0x11),
};

struct table_range {
	uint8_t prefix, lo, hi, lane;
};

/* The table-driven two-operand rows (cpu/sse_arith.c), ModRM C1. */
static const struct table_range ranges[] = {
	{ 0, 0x51, 0x51, 4 }, { 0, 0x54, 0x5f, 4 }, { 0x66, 0x51, 0x51, 8 }, { 0x66, 0x54, 0x5f, 8 },
	{ 0x66, 0x60, 0x6d, 4 }, { 0x66, 0x74, 0x76, 4 }, { 0x66, 0xd1, 0xd5, 4 }, { 0x66, 0xd8, 0xe6, 4 }, { 0x66, 0xe8, 0xef, 4 },
	{ 0x66, 0xf1, 0xf6, 4 }, { 0x66, 0xf8, 0xfe, 4 }, { 0xf3, 0x51, 0x51, 4 }, { 0xf3, 0x58, 0x5f, 4 },
	{ 0xf3, 0xe6, 0xe6, 4 }, { 0xf2, 0x51, 0x51, 8 }, { 0xf2, 0x58, 0x5a, 8 }, { 0xf2, 0x5c, 0x5f, 8 },
	{ 0xf2, 0xe6, 0xe6, 8 },
};

static unsigned mismatches;

static void report_mismatch(const char *name, const struct native_state *in, const struct native_state *nat,
			    const struct cpu *c)
{
	if (mismatches++ >= 8)
		return;
	printf("\n  %s: mxcsr in %#x: native xmm0 %016llx%016llx mxcsr %#x rax %#llx; vtxsim xmm0 %016llx%016llx "
	       "mxcsr %#x rax %#llx",
	       name, in->mxcsr, (unsigned long long)((uint64_t *)nat->xmm0)[1],
	       (unsigned long long)((uint64_t *)nat->xmm0)[0], nat->mxcsr, (unsigned long long)nat->rax,
	       (unsigned long long)c->fpu.xmm[0].q[1], (unsigned long long)c->fpu.xmm[0].q[0], c->fpu.mxcsr,
	       (unsigned long long)c->gpr[R_AX]);
}

/* Run one encoding `trials` times on both sides. */
static void compare(struct harness *h, const char *name, const uint8_t *bytes, unsigned len, unsigned lane,
		    bool flags, unsigned trials)
{
	struct cpu *c = &h->cpu;
	for (unsigned t = 0; t < trials; t++) {
		struct native_state in, nat;
		memset(&in, 0, sizeof(in));
		gen_xmm(in.xmm0, lane);
		gen_xmm(in.xmm1, lane);
		uint64_t r = rnd();
		/* all masked; RC, DAZ, FTZ and some sticky flags vary */
		in.mxcsr = 0x1f80 | ((r & 3) << 13) | ((r >> 2 & 1) ? 0x40 : 0) | ((r >> 3 & 1) ? 0x8000 : 0) |
			   ((r >> 4 & 1) ? (uint32_t)(r >> 8) & 0x3f : 0);
		in.rax = (r >> 5 & 1) ? rnd() : (uint64_t)(int64_t)(int32_t)rnd();
		nat = in;
		native_run(bytes, len, &nat);
		memcpy(&c->fpu.xmm[0], in.xmm0, 16);
		memcpy(&c->fpu.xmm[1], in.xmm1, 16);
		c->fpu.mxcsr = in.mxcsr;
		c->gpr[R_AX] = in.rax;
		lf_set_flags(c, FL_AF | FL_SF | FL_OF);
		enum exec_status st = exec_insn(c, bytes, len);
		bool same = st == EXEC_OK && !memcmp(&c->fpu.xmm[0], nat.xmm0, 16) &&
			    !memcmp(&c->fpu.xmm[1], nat.xmm1, 16) && c->fpu.mxcsr == nat.mxcsr && c->gpr[R_AX] == nat.rax;
		if (flags && (cpu_get_rflags(c) & FL_ARITH) != (nat.rflags & FL_ARITH))
			same = false;
		if (!same)
			report_mismatch(name, &in, &nat, c);
		CU_ASSERT(same);
	}
}

static struct harness *sse_env(void)
{
	struct harness *h = sysenv_long();
	h->cpu.cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	return h;
}

static void test_named_cases(void)
{
	struct harness *h = sse_env();
	mismatches = 0;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
		compare(h, cases[k].name, cases[k].bytes, cases[k].len, cases[k].lane, cases[k].flags, 300);
	harness_destroy(h);
}

static void test_table_ops(void)
{
	struct harness *h = sse_env();
	mismatches = 0;
	for (size_t k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
		const struct table_range *rg = &ranges[k];
		for (unsigned op = rg->lo; op <= rg->hi; op++) {
			uint8_t b[4];
			unsigned n = 0;
			char name[32];
			if (rg->prefix)
				b[n++] = rg->prefix;
			b[n++] = 0x0f;
			b[n++] = (uint8_t)op;
			b[n++] = 0xc1;
			snprintf(name, sizeof(name), "%02x 0f %02x", rg->prefix, op);
			compare(h, name, b, n, rg->lane, false, 300);
		}
	}
	harness_destroy(h);
}

/* CMPPS/PD/SS/SD with every predicate 0-7. */
static void test_compares(void)
{
	static const uint8_t prefix[4] = { 0, 0x66, 0xf3, 0xf2 };
	struct harness *h = sse_env();
	mismatches = 0;
	for (unsigned p = 0; p < 4; p++)
		for (unsigned imm = 0; imm < 8; imm++) {
			uint8_t b[5];
			unsigned n = 0;
			if (prefix[p])
				b[n++] = prefix[p];
			b[n++] = 0x0f;
			b[n++] = 0xc2;
			b[n++] = 0xc1;
			b[n++] = (uint8_t)imm;
			compare(h, "cmp", b, n, (p & 1) ? 8 : 4, false, 200);
		}
	harness_destroy(h);
}

/* Memory source forms: ADDPS xmm0, [rbx] and CVTSS2SD xmm0, [rbx] read the
 * right number of bytes (a scalar memory operand zero-fills nothing else). */
static void test_memory_source(void)
{
	static const uint8_t addps_mem[] = { 0x0f, 0x58, 0x03 }, addss_mem[] = { 0xf3, 0x0f, 0x58, 0x03 };
	static const uint8_t movss_mem[] = { 0xf3, 0x0f, 0x10, 0x03 }, movsd_st[] = { 0xf2, 0x0f, 0x11, 0x03 };
	struct harness *h = sse_env();
	struct cpu *c = &h->cpu;
	float src[4] = { 1.5f, 2.5f, -3.0f, 4.0f };
	phys_copy_in(&h->pm, 0x9000, src, 16);
	c->gpr[R_BX] = 0x9000;
	float one[4] = { 1, 1, 1, 1 };
	memcpy(&c->fpu.xmm[0], one, 16);
	CU_ASSERT_EQUAL(exec_insn(c, addps_mem, sizeof(addps_mem)), EXEC_OK);
	float out[4];
	memcpy(out, &c->fpu.xmm[0], 16);
	CU_ASSERT(out[0] == 2.5f && out[1] == 3.5f && out[2] == -2.0f && out[3] == 5.0f);
	CU_ASSERT_EQUAL(exec_insn(c, addss_mem, sizeof(addss_mem)), EXEC_OK);
	memcpy(out, &c->fpu.xmm[0], 16);
	CU_ASSERT(out[0] == 4.0f && out[1] == 3.5f);
	CU_ASSERT_EQUAL(exec_insn(c, movss_mem, sizeof(movss_mem)), EXEC_OK);
	CU_ASSERT_EQUAL(c->fpu.xmm[0].d[0], 0x3fc00000u);       /* 1.5f, upper zeroed */
	CU_ASSERT(c->fpu.xmm[0].d[1] == 0 && c->fpu.xmm[0].q[1] == 0);
	c->fpu.xmm[0].q[0] = 0x1122334455667788ull;
	CU_ASSERT_EQUAL(exec_insn(c, movsd_st, sizeof(movsd_st)), EXEC_OK);
	CU_ASSERT_EQUAL(get64(h, 0x9000), 0x1122334455667788ull);
	CU_ASSERT_EQUAL(get64(h, 0x9008), 0x40800000c0400000ull);      /* untouched: -3.0f, 4.0f */
	harness_destroy(h);
}

void suite_cpu_sse(void)
{
	CU_pSuite s = CU_add_suite("cpu_sse", stub_init, stub_fini);
	CU_add_test(s, "moves, conversions, shuffles, COMIS vs host", test_named_cases);
	CU_add_test(s, "arithmetic, logic, integer ops vs host", test_table_ops);
	CU_add_test(s, "CMPPS/PD/SS/SD predicates vs host", test_compares);
	CU_add_test(s, "memory source and scalar store sizes", test_memory_source);
}
