/* sse: a kernel compiled with SSE2 code generation (-O3 -msse2, see
 * guest.mk) that enables SSE and XSAVE the way an OS does (CR4.OSFXSR,
 * OSXMMEXCPT, OSXSAVE; XSETBV), then runs ordinary C double/float code and
 * loops gcc vectorises, checks results bit for bit, round-trips register
 * state through XSAVE/XRSTOR and FXSAVE/FXRSTOR like a context switch, and
 * checks #XM/#UD/#NM (SDM vol. 1 chapters 10-13, vol. 3A 2.5). */
#include "guest.h"

#define CR0_TS (1ul << 3)
#define CR0_EM (1ul << 2)
#define CR4_OSFXSR (1ul << 9)
#define CR4_OSXMMEXCPT (1ul << 10)
#define CR4_OSXSAVE (1ul << 18)

static uint64_t dbits(double d)
{
	uint64_t v;
	memcpy(&v, &d, 8);
	return v;
}

static uint32_t fbits(float f)
{
	uint32_t v;
	memcpy(&v, &f, 4);
	return v;
}

static uint32_t get_mxcsr(void)
{
	uint32_t v;
	asm volatile("stmxcsr %0" : "=m"(v));
	return v;
}

static void set_mxcsr(uint32_t v)
{
	asm volatile("ldmxcsr %0" : : "m"(v));
}

/* "int.frac" with six decimals, rounded half up: printf has no %f. */
static void fmt_double(char *buf, size_t n, double d)
{
	bool neg = d < 0;
	if (neg)
		d = -d;
	uint64_t scaled = (uint64_t)(d * 1e6 + 0.5);
	snprintf(buf, n, "%s%lu.%06lu", neg ? "-" : "", scaled / 1000000, scaled % 1000000);
}

static volatile double v_one = 1.0, v_two = 2.0, v_three = 3.0, v_zero = 0.0, v_01 = 0.1, v_02 = 0.2;
static volatile int v_n = 1000;

static void check_cpuid(void)
{
	struct cpuid_regs r = cpuid(1, 0);
	report((r.d & (1u << 24 | 1u << 25 | 1u << 26 | 1u << 0)) == (1u << 24 | 1u << 25 | 1u << 26 | 1u << 0),
	       "CPUID.1:EDX reports FPU, FXSR, SSE, SSE2 (%#x)", r.d);
	report(r.c & (1u << 26), "CPUID.1:ECX reports XSAVE");
	report(!(r.c & (1u << 27)), "CPUID.1:ECX.OSXSAVE clear while CR4.OSXSAVE = 0");
	struct cpuid_regs d0 = cpuid(0xd, 0);
	report(d0.a == 3 && d0.c == 576, "CPUID.(0DH,0): XCR0 may hold x87|SSE (%#x), max size 576 (%u)", d0.a, d0.c);
}

static void enable_sse_xsave(void)
{
	write_cr0((read_cr0() & ~CR0_EM) | (1ul << 1));         /* MP = 1, EM = 0 */
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE);
	uint32_t lo, hi;
	asm volatile("xsetbv" : : "c"(0), "a"(3), "d"(0));
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	report(lo == 3 && hi == 0, "XSETBV/XGETBV: XCR0 = %#x", lo);
	report(cpuid(1, 0).c & (1u << 27), "CPUID.1:ECX.OSXSAVE set after CR4.OSXSAVE");
	struct cpuid_regs d0 = cpuid(0xd, 0);
	report(d0.b == 576, "CPUID.(0DH,0):EBX = 576 for XCR0 = 3 (%u)", d0.b);
}

static void check_double_math(void)
{
	char buf[40];
	report_eq(dbits(v_01 + v_02), 0x3fd3333333333334ul, "0.1 + 0.2 rounds to 0x3fd3333333333334");
	report_eq(dbits(__builtin_sqrt(v_two)), 0x3ff6a09e667f3bcdul, "sqrt(2.0) (SQRTSD)");
	report_eq(fbits((float)v_one / (float)v_three), 0x3eaaaaab, "1.0f / 3.0f (DIVSS)");
	double h = 0;
	for (int k = 1; k <= v_n; k++)
		h += 1.0 / k;
	report_eq(dbits(h), 0x401df11f45f4e618ul, "harmonic sum H(1000), CVTSI2SD and ADDSD");
	fmt_double(buf, sizeof(buf), h);
	report(!strcmp(buf, "7.485471"), "H(1000) prints as %s", buf);
	fmt_double(buf, sizeof(buf), -__builtin_sqrt(v_two) * 1000);
	report(!strcmp(buf, "-1414.213562"), "-1000*sqrt(2) prints as %s", buf);
	report((long)(-v_two - 0.5) == -2 && (long)(v_three * 1e17) == 300000000000000000l,
	       "CVTTSD2SI truncates, 64-bit conversion");
	report(v_one < v_two && !(v_zero > v_one) && (v_zero / v_zero != v_zero / v_zero), "COMISD/UCOMISD, NaN != NaN");
	/* Directed rounding through MXCSR.RC. */
	uint32_t m = get_mxcsr();
	set_mxcsr((m & ~0x6000u) | 0x4000u);    /* round up */
	uint64_t up = dbits(v_two / v_three);
	set_mxcsr((m & ~0x6000u) | 0x2000u);    /* round down */
	uint64_t down = dbits(v_two / v_three);
	set_mxcsr(m);
	report(up == 0x3fe5555555555556ul && down == 0x3fe5555555555555ul, "2/3 rounded up %#lx, down %#lx", up,
	       down);
}

#define N 1024
static uint32_t ia[N], ib[N], ic[N];
static float fa[N], fb[N], fc[N];
static uint8_t ba[N], bb[N];

static NOINLINE void vec_kernels(void)
{
	for (int i = 0; i < N; i++) {
		ib[i] = (uint32_t)i;
		ic[i] = 7u * (uint32_t)i;
		fb[i] = (float)i;
		fc[i] = 0.25f;
		bb[i] = (uint8_t)(i * 37);
	}
	for (int i = 0; i < N; i++)
		ia[i] = ib[i] * 3u + ic[i];
	for (int i = 0; i < N; i++)
		fa[i] = fb[i] * 0.5f + fc[i];
	for (int i = 0; i < N; i++)
		ba[i] = bb[i] > 200 ? 200 : bb[i];
}

static void check_vectorised(void)
{
	vec_kernels();
	uint64_t isum = 0, bsum = 0;
	bool fok = true;
	for (volatile int i = 0; i < N; i++) {
		isum += ia[i];
		bsum += ba[i];
		fok &= fbits(fa[i]) == fbits((float)i * 0.5f + 0.25f);
	}
	uint64_t expect_b = 0;
	for (volatile int i = 0; i < N; i++) {
		unsigned v = (uint8_t)(i * 37);
		expect_b += v > 200 ? 200 : v;
	}
	report_eq(isum, 10ul * (N - 1) * N / 2, "vectorised int loop: sum of 3*b + c");
	report(fok, "vectorised float loop: b*0.5 + 0.25 exact");
	report_eq(bsum, expect_b, "vectorised byte clamp loop (PMINUB)");
}

static uint8_t area_a[1024] __attribute__((aligned(64)));
static uint8_t area_b[1024] __attribute__((aligned(64)));
static const uint64_t pat_a[4] = { 0x0123456789abcdef, 0xfedcba9876543210, 0x1111222233334444, 0x5555666677778888 };
static const uint64_t pat_b[4] = { 0xaaaaaaaaaaaaaaaa, 0xbbbbbbbbbbbbbbbb, 0xcccccccccccccccc, 0xdddddddddddddddd };

/* Task A loads XMM7/XMM15, is saved; task B is restored from its own image
 * and clobbers the registers; A is restored and must see its values. */
static void check_context_switch(void)
{
	uint64_t out[4];
	memset(area_b, 0, sizeof(area_b));
	asm volatile("movdqu %[b], %%xmm7\n\tmovdqu %[b2], %%xmm15\n\t"
		     "xsave64 %[area]"
		     : [area] "=m"(area_b) : [b] "m"(pat_b[0]), [b2] "m"(pat_b[2]), "a"(3), "d"(0)
		     : "xmm7", "xmm15");
	asm volatile("movdqu %[a], %%xmm7\n\tmovdqu %[a2], %%xmm15\n\t"
		     "xsave64 %[sa]\n\t"                        /* switch out A */
		     "xrstor64 %[sb]\n\t"                       /* switch in B */
		     "paddq %%xmm7, %%xmm7\n\tpxor %%xmm15, %%xmm15\n\t"
		     "xsave64 %[sb]\n\t"                        /* switch out B */
		     "xrstor64 %[sa]\n\t"                       /* back to A */
		     "movdqu %%xmm7, %[o]\n\tmovdqu %%xmm15, %[o2]"
		     : [sa] "+m"(area_a), [sb] "+m"(area_b), [o] "=m"(out[0]), [o2] "=m"(out[2])
		     : [a] "m"(pat_a[0]), [a2] "m"(pat_a[2]), "a"(3), "d"(0)
		     : "xmm7", "xmm15", "memory");
	report(!memcmp(out, pat_a, 32), "XSAVE/XRSTOR context switch keeps task A's XMM7/XMM15");
	uint64_t bv, b7[2];
	memcpy(&bv, area_a + 512, 8);
	memcpy(b7, area_b + 160 + 7 * 16, 16);
	report((bv & 2) && b7[0] == pat_b[0] * 2 && b7[1] == pat_b[1] * 2,
	       "saved images: XSTATE_BV %#lx, task B's XMM7 doubled", bv);
	uint32_t mx;
	memcpy(&mx, area_a + 24, 4);
	report_eq(mx, get_mxcsr(), "MXCSR at offset 24 of the XSAVE area");

	/* FXSAVE/FXRSTOR the same way. */
	asm volatile("movdqu %[a], %%xmm3\n\tfxsave64 %[sa]\n\tpxor %%xmm3, %%xmm3\n\t"
		     "fxrstor64 %[sa]\n\tmovdqu %%xmm3, %[o]"
		     : [sa] "+m"(area_a), [o] "=m"(out[0]) : [a] "m"(pat_a[0]) : "xmm3", "memory");
	report(out[0] == pat_a[0] && out[1] == pat_a[1], "FXSAVE/FXRSTOR round trip of XMM3");
}

static NOINLINE void div_by_zero(void *arg)
{
	(void)arg;
	asm volatile("xorpd %%xmm1, %%xmm1\n\tmovsd %0, %%xmm0\n\tdivsd %%xmm1, %%xmm0" : : "m"(v_one) : "xmm0", "xmm1");
}

static NOINLINE void sse_op(void *arg)
{
	(void)arg;
	asm volatile("addps %%xmm1, %%xmm0" : : : "xmm0");
}

static NOINLINE void movaps_misaligned(void *arg)
{
	asm volatile("movaps (%0), %%xmm0" : : "r"((char *)arg + 8) : "xmm0");
}

static void check_exceptions(void)
{
	struct fault f;
	uint32_t m = get_mxcsr();
	set_mxcsr(m & ~0x200u);                 /* unmask divide-by-zero */
	catch_fault(div_by_zero, NULL, &f);
	uint32_t after = get_mxcsr();
	report(f.raised && f.vector == VEC_XM && (after & 4), "unmasked #Z: #XM, MXCSR.ZE set (%#x)", after);
	write_cr4(read_cr4() & ~CR4_OSXMMEXCPT);
	set_mxcsr(m & ~0x200u);
	catch_fault(div_by_zero, NULL, &f);
	write_cr4(read_cr4() | CR4_OSXMMEXCPT);
	set_mxcsr(m);
	report(f.raised && f.vector == VEC_UD, "unmasked #Z with CR4.OSXMMEXCPT = 0: #UD");
	write_cr0(read_cr0() | CR0_TS);
	catch_fault(sse_op, NULL, &f);
	asm volatile("clts");
	report(f.raised && f.vector == VEC_NM, "ADDPS with CR0.TS = 1: #NM");
	catch_fault(movaps_misaligned, area_a, &f);
	report(f.raised && f.vector == VEC_GP && f.error_code == 0, "MOVAPS from a misaligned address: #GP(0)");
}

static void check_x87_control(void)
{
	uint16_t cw = 0, sw = 0xffff;
	asm volatile("fninit\n\tfnstcw %0\n\tfnstsw %1" : "=m"(cw), "=m"(sw));
	report(cw == 0x37f && sw == 0, "FNINIT: FCW %#x, FSW %#x", cw, sw);
}

static NOINLINE void run_tests(void)
{
	check_cpuid();
	enable_sse_xsave();
	check_double_math();
	check_vectorised();
	check_context_switch();
	check_exceptions();
	check_x87_control();
	report_summary();
}

/* kmain touches no SSE register: CR4.OSFXSR must be set before any code
 * gcc generated with SSE runs (run_tests and below). */
void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	write_cr4(read_cr4() | CR4_OSFXSR);
	run_tests();
}
