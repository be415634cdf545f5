/* BMI1, BMI2, ADX, CRC32, MOVBE, CMPXCHG16B and the VEX prefix rules.
 *
 * The differential part runs each instruction natively on the host (when it
 * has the feature) and in vtxsim over random and edge operands, comparing
 * the destination registers and every flag the SDM defines for it. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "cpu/model.h"
#include "tests/unit/cpu/sysenv.h"

#define OUT_PA 0x90000u

/* A VEX3 prefix + opcode + ModRM: reg/rm registers 0-7 (no REX bits),
 * vvvv register 0-15, pp 0-3 (none/66/F3/F2), map 1-3. */
static size_t vex3(uint8_t *p, unsigned map, unsigned w, unsigned vvvv, unsigned l, unsigned pp,
		   uint8_t opcode, unsigned reg, unsigned rm)
{
	p[0] = 0xc4;
	p[1] = (uint8_t)(0xe0 | map);
	p[2] = (uint8_t)(w << 7 | ((~vvvv & 15) << 3) | l << 2 | pp);
	p[3] = opcode;
	p[4] = (uint8_t)(0xc0 | reg << 3 | rm);
	return 5;
}

struct dcase {
	const char *name;
	unsigned feat;          /* vtxsim feature; host check by name below */
	const char *host_feat;
	unsigned kind;          /* 0: VEX from map/pp/opcode/reg/vvvv; 1: the legacy bytes */
	uint8_t legacy[6], nlegacy;     /* legacy encoding without REX.W (REX.W inserted before 0F) */
	uint8_t map, pp, opcode, reg, vvvv;    /* reg: ModRM.reg (register 0 or a /digit) */
	bool has_imm;
	unsigned defined;       /* flags compared; FL_ARITH for "no flags change" */
};

#define F_ALL FL_ARITH
#define F_SZOC (FL_SF | FL_ZF | FL_OF | FL_CF)

/* Operands: rax = destination (or ModRM.reg), rcx = r/m, rsi = vvvv. */
static const struct dcase dcases[] = {
	{ "andn", FEAT_BMI1, "bmi", 0, {0}, 0, 2, 0, 0xf2, 0, 6, false, F_SZOC },
	{ "bextr", FEAT_BMI1, "bmi", 0, {0}, 0, 2, 0, 0xf7, 0, 6, false, FL_ZF | FL_OF | FL_CF },
	{ "blsr", FEAT_BMI1, "bmi", 0, {0}, 0, 2, 0, 0xf3, 1, 0, false, F_SZOC },
	{ "blsmsk", FEAT_BMI1, "bmi", 0, {0}, 0, 2, 0, 0xf3, 2, 0, false, F_SZOC },
	{ "blsi", FEAT_BMI1, "bmi", 0, {0}, 0, 2, 0, 0xf3, 3, 0, false, F_SZOC },
	{ "bzhi", FEAT_BMI2, "bmi2", 0, {0}, 0, 2, 0, 0xf5, 0, 6, false, F_SZOC },
	{ "pext", FEAT_BMI2, "bmi2", 0, {0}, 0, 2, 2, 0xf5, 0, 6, false, F_ALL },
	{ "pdep", FEAT_BMI2, "bmi2", 0, {0}, 0, 2, 3, 0xf5, 0, 6, false, F_ALL },
	{ "mulx", FEAT_BMI2, "bmi2", 0, {0}, 0, 2, 3, 0xf6, 0, 6, false, F_ALL },
	{ "shlx", FEAT_BMI2, "bmi2", 0, {0}, 0, 2, 1, 0xf7, 0, 6, false, F_ALL },
	{ "sarx", FEAT_BMI2, "bmi2", 0, {0}, 0, 2, 2, 0xf7, 0, 6, false, F_ALL },
	{ "shrx", FEAT_BMI2, "bmi2", 0, {0}, 0, 2, 3, 0xf7, 0, 6, false, F_ALL },
	{ "rorx", FEAT_BMI2, "bmi2", 0, {0}, 0, 3, 3, 0xf0, 0, 0, true, F_ALL },
	{ "adcx", FEAT_ADX, "adx", 1, { 0x66, 0x0f, 0x38, 0xf6, 0xc1 }, 5, 0, 0, 0, 0, 0, false, F_ALL },
	{ "adox", FEAT_ADX, "adx", 1, { 0xf3, 0x0f, 0x38, 0xf6, 0xc1 }, 5, 0, 0, 0, 0, 0, false, F_ALL },
	{ "crc32b", FEAT_SSE4_2, "sse4.2", 1, { 0xf2, 0x0f, 0x38, 0xf0, 0xc1 }, 5, 0, 0, 0, 0, 0, false, F_ALL },
	{ "crc32", FEAT_SSE4_2, "sse4.2", 1, { 0xf2, 0x0f, 0x38, 0xf1, 0xc1 }, 5, 0, 0, 0, 0, 0, false, F_ALL },
	{ "crc32w", FEAT_SSE4_2, "sse4.2", 1, { 0x66, 0xf2, 0x0f, 0x38, 0xf1, 0xc1 }, 6, 0, 0, 0, 0, 0, false, F_ALL },
};

static bool host_has(const char *f)
{
	__builtin_cpu_init();
	if (strcmp(f, "bmi") == 0)
		return __builtin_cpu_supports("bmi");
	if (strcmp(f, "bmi2") == 0)
		return __builtin_cpu_supports("bmi2");
	if (strcmp(f, "sse4.2") == 0)
		return __builtin_cpu_supports("sse4.2");
	unsigned a, b, c, d;
	__asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
	return (b >> 19) & 1;   /* ADX: CPUID.(EAX=07H,ECX=0):EBX[19] */
}

static size_t put_mov(uint8_t *p, uint8_t rex, uint8_t op, uint64_t v)
{
	p[0] = rex;
	p[1] = op;
	memcpy(p + 2, &v, 8);
	return 10;
}

/* rax=a rcx=b rsi=s rdx=d r8=flags; push r8; popfq; OP; pushfq; pop r8;
 * store rax, rdx, r8, rsi, rcx at [rdi]; ret (host) or hlt (vtxsim). */
static size_t emit(uint8_t *p, const struct dcase *dc, bool w, const uint64_t v[5], uint8_t imm, uint8_t last)
{
	static const uint8_t tail[] = { 0x9c, 0x41, 0x58, 0x48, 0x89, 0x07, 0x48, 0x89, 0x57, 0x08, 0x4c, 0x89,
					0x47, 0x10, 0x48, 0x89, 0x77, 0x18, 0x48, 0x89, 0x4f, 0x20 };
	size_t n = 0;
	n += put_mov(p + n, 0x48, 0xb8, v[0]);
	n += put_mov(p + n, 0x48, 0xb9, v[1]);
	n += put_mov(p + n, 0x48, 0xbe, v[2]);
	n += put_mov(p + n, 0x48, 0xba, v[3]);
	n += put_mov(p + n, 0x49, 0xb8, v[4]);
	p[n++] = 0x41;
	p[n++] = 0x50;
	p[n++] = 0x9d;
	if (dc->kind == 0) {
		n += vex3(p + n, dc->map, w, dc->vvvv, 0, dc->pp, dc->opcode, dc->reg, 1);
		if (dc->has_imm)
			p[n++] = imm;
	} else {
		for (unsigned k = 0; k < dc->nlegacy; k++) {
			if (w && dc->legacy[k] == 0x0f)
				p[n++] = 0x48;
			p[n++] = dc->legacy[k];
		}
	}
	memcpy(p + n, tail, sizeof(tail));
	n += sizeof(tail);
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
	static const uint64_t edges[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
					  0xffffffff, 0x100000000ull, 0x8000000000000000ull, ~0ull, 0x1f, 0x20,
					  0x3f, 0x40, 0x41, 0x0820, 0x2008, 0x4000 };
	uint64_t r = next_rand(seed);
	switch (r & 7) {
	case 0: case 1: return edges[(r >> 8) % (sizeof(edges) / sizeof(edges[0]))];
	case 2: return next_rand(seed) & 0xffff;  /* BEXTR/BZHI controls with small fields */
	default: return next_rand(seed);
	}
}

/* A copy of the default model with SSE4.2 reported, for CRC32 (the SSE
 * work adds it to the models). */
static struct cpu_model test_model;

static struct harness *isa_harness(void)
{
	struct harness *h = harness_create(true);
	test_model = *cpu_model_default();
	test_model.leaf1_ecx |= 1u << (FEAT_SSE4_2 & 31);
	h->cpu.model = &test_model;
	return h;
}

static void test_vs_host(void)
{
	uint8_t *host = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CU_ASSERT_FATAL(host != MAP_FAILED);
	struct harness *h = isa_harness();
	uint64_t seed = 0xb5ad4eceda1ce2a9ull;
	unsigned runs = 0, failures = 0;
	for (size_t k = 0; k < sizeof(dcases) / sizeof(dcases[0]); k++) {
		const struct dcase *dc = &dcases[k];
		if (!host_has(dc->host_feat)) {
			printf("\n  host lacks %s: %s not compared", dc->host_feat, dc->name);
			continue;
		}
		for (int n = 0; n < 600; n++) {
			bool w = n & 1;
			uint64_t v[5] = { pick(&seed), pick(&seed), pick(&seed), pick(&seed),
					  0x2 | (next_rand(&seed) & FL_ARITH) };
			uint8_t imm = (uint8_t)next_rand(&seed), code[160];
			uint64_t hout[5], vout[5];
			emit(host, dc, w, v, imm, 0xc3);
			((void (*)(uint64_t *))host)(hout);
			size_t len = emit(code, dc, w, v, imm, 0xf4);
			h->cpu.gpr[R_DI] = OUT_PA;
			CU_ASSERT_EQUAL_FATAL(harness_run(h, code, len), CPU_STOP_HALTED);
			phys_copy_out(&h->pm, OUT_PA, vout, sizeof(vout));
			runs++;
			bool same = hout[0] == vout[0] && hout[1] == vout[1] && hout[3] == vout[3] &&
				    hout[4] == vout[4] && !((hout[2] ^ vout[2]) & dc->defined);
			if (!same && failures++ < 8)
				printf("\n  %s w=%d a=%#llx b=%#llx s=%#llx d=%#llx imm=%#x: host rax %#llx rdx %#llx fl %#llx "
				       "rsi %#llx, vtxsim rax %#llx rdx %#llx fl %#llx rsi %#llx",
				       dc->name, w, (unsigned long long)v[0], (unsigned long long)v[1],
				       (unsigned long long)v[2], (unsigned long long)v[3], imm,
				       (unsigned long long)hout[0], (unsigned long long)hout[1],
				       (unsigned long long)(hout[2] & dc->defined), (unsigned long long)hout[3],
				       (unsigned long long)vout[0], (unsigned long long)vout[1],
				       (unsigned long long)(vout[2] & dc->defined), (unsigned long long)vout[3]);
		}
	}
	CU_ASSERT(runs >= 600);
	CU_ASSERT_EQUAL(failures, 0);
	harness_destroy(h);
	munmap(host, 4096);
}

/* Run code at CODE_BASE in long mode; returns the flags after it. */
static uint64_t run64(struct harness *h, const uint8_t *code, size_t len)
{
	CU_ASSERT_EQUAL(harness_run(h, code, len), CPU_STOP_HALTED);
	return cpu_get_rflags(&h->cpu);
}

static void test_bmi_edges(void)
{
	struct harness *h = isa_harness();
	struct cpu *c = &h->cpu;
	uint8_t code[16];
	/* bextr rax, rcx, rsi with start 70 (>= 64): 0, ZF = 1 */
	size_t n = vex3(code, 2, 1, 6, 0, 0, 0xf7, 0, 1);
	code[n++] = 0xf4;
	c->gpr[R_CX] = ~0ull;
	c->gpr[R_SI] = 0x0846;
	c->gpr[R_AX] = 5;
	CU_ASSERT(run64(h, code, n) & FL_ZF);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0);
	/* start 60, length 8: only 4 bits remain */
	c->gpr[R_SI] = 0x083c;
	run64(h, code, n);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xf);
	/* length 0: 0 */
	c->gpr[R_SI] = 0x0004;
	run64(h, code, n);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0);
	/* bzhi eax, ecx, esi with index 40 (>= 32): CF = 1, source kept and the
	 * upper half of RAX cleared by the 32-bit write */
	n = vex3(code, 2, 0, 6, 0, 0, 0xf5, 0, 1);
	code[n++] = 0xf4;
	c->gpr[R_CX] = 0xdeadbeef12345678ull;
	c->gpr[R_SI] = 40;
	uint64_t fl = run64(h, code, n);
	CU_ASSERT(fl & FL_CF);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x12345678);
	c->gpr[R_SI] = 8;
	fl = run64(h, code, n);
	CU_ASSERT(!(fl & FL_CF));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x78);
	/* pdep / pext with a sparse mask */
	n = vex3(code, 2, 1, 6, 0, 3, 0xf5, 0, 1);
	code[n++] = 0xf4;
	c->gpr[R_SI] = 0xb;                     /* 1011 */
	c->gpr[R_CX] = 0xf000000000000f0full;   /* deposit at bits 0,1,2,3 */
	run64(h, code, n);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xb);
	c->gpr[R_SI] = 0x1f;
	run64(h, code, n);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x10f);
	n = vex3(code, 2, 1, 6, 0, 2, 0xf5, 0, 1);
	code[n++] = 0xf4;
	c->gpr[R_SI] = 0x8000000000000100ull;
	c->gpr[R_CX] = 0x8000000000000f00ull;
	run64(h, code, n);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x11);
	/* mulx with both destinations the same register keeps the high half */
	n = vex3(code, 2, 1, 0, 0, 3, 0xf6, 0, 1);
	code[n++] = 0xf4;
	c->gpr[R_DX] = 0x100000000ull;
	c->gpr[R_CX] = 0x300000005ull;
	run64(h, code, n);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 3);
	harness_destroy(h);
}

static void test_adx_flags(void)
{
	struct harness *h = isa_harness();
	struct cpu *c = &h->cpu;
	/* stc; adcx rax, rcx (64-bit): ~0 + 0 + 1 = 0 carry out; ZF stays 0 */
	const uint8_t adcx[] = { 0xf9, 0x66, 0x48, 0x0f, 0x38, 0xf6, 0xc1, 0xf4 };
	c->gpr[R_AX] = ~0ull;
	c->gpr[R_CX] = 0;
	cpu_set_rflags(c, 0x2 | FL_CF | FL_OF | FL_SF);
	uint64_t fl = run64(h, adcx, sizeof(adcx));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0);
	CU_ASSERT_EQUAL(fl & FL_ARITH, FL_CF | FL_OF | FL_SF);
	/* adox uses OF: clc; adox eax, ecx with OF = 1 */
	const uint8_t adox[] = { 0xf8, 0xf3, 0x0f, 0x38, 0xf6, 0xc1, 0xf4 };
	c->gpr[R_AX] = 0xffffffff;
	c->gpr[R_CX] = 1;
	cpu_set_rflags(c, 0x2 | FL_OF | FL_ZF);
	fl = run64(h, adox, sizeof(adox));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 1);
	CU_ASSERT_EQUAL(fl & FL_ARITH, FL_OF | FL_ZF);
	harness_destroy(h);
}

/* CRC32C of "123456789" with the usual ~0 start and final inversion is
 * E3069283H: crc32 rax, qword [rsi]; crc32 eax, byte [rsi+8]; not eax. */
static void test_crc32_vector(void)
{
	struct harness *h = isa_harness();
	struct cpu *c = &h->cpu;
	const uint8_t code[] = { 0xf2, 0x48, 0x0f, 0x38, 0xf1, 0x06, 0xf2, 0x0f, 0x38, 0xf0, 0x46, 0x08,
				 0xf7, 0xd0, 0xf4 };
	phys_copy_in(&h->pm, OUT_PA, "123456789", 9);
	c->gpr[R_SI] = OUT_PA;
	c->gpr[R_AX] = 0xffffffffull;
	run64(h, code, sizeof(code));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0xe3069283ull);
	/* Without SSE4.2 the instruction is #UD. */
	c->model = cpu_model_find("core2");
	const uint8_t one[] = { 0xf2, 0x0f, 0x38, 0xf0, 0xc1 };
	CU_ASSERT_EQUAL(exec_insn(c, one, sizeof(one)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	harness_destroy(h);
}

static void test_movbe(void)
{
	struct harness *h = isa_harness();
	struct cpu *c = &h->cpu;
	/* movbe rax, [rsi]; movbe [rsi+8], ecx; movbe dx, [rsi] (66) */
	const uint8_t code[] = { 0x48, 0x0f, 0x38, 0xf0, 0x06, 0x0f, 0x38, 0xf1, 0x4e, 0x08,
				 0x66, 0x0f, 0x38, 0xf0, 0x16, 0xf4 };
	put64(h, OUT_PA, 0x0102030405060708ull);
	put64(h, OUT_PA + 8, 0);
	c->gpr[R_SI] = OUT_PA;
	c->gpr[R_CX] = 0xaabbccdd;
	c->gpr[R_DX] = 0x1111111111111111ull;
	run64(h, code, sizeof(code));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x0807060504030201ull);
	CU_ASSERT_EQUAL(get64(h, OUT_PA + 8), 0xddccbbaa);
	CU_ASSERT_EQUAL(c->gpr[R_DX], 0x1111111111110807ull);
	/* register form: #UD; no MOVBE on Core 2: #UD */
	const uint8_t reg[] = { 0x0f, 0x38, 0xf0, 0xc1 };
	CU_ASSERT_EQUAL(exec_insn(c, reg, sizeof(reg)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	c->model = cpu_model_find("core2");
	CU_ASSERT_EQUAL(exec_insn(c, code, 5), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	harness_destroy(h);
}

static void test_cmpxchg16b(void)
{
	struct harness *h = isa_harness();
	struct cpu *c = &h->cpu;
	const uint8_t op[] = { 0xf0, 0x48, 0x0f, 0xc7, 0x0e };      /* lock cmpxchg16b [rsi] */
	put64(h, OUT_PA, 1);
	put64(h, OUT_PA + 8, 2);
	c->gpr[R_SI] = OUT_PA;
	c->gpr[R_AX] = 1;
	c->gpr[R_DX] = 2;
	c->gpr[R_BX] = 0x33;
	c->gpr[R_CX] = 0x44;
	CU_ASSERT_EQUAL(exec_insn(c, op, sizeof(op)), EXEC_OK);
	CU_ASSERT(cpu_get_rflags(c) & FL_ZF);
	CU_ASSERT_EQUAL(get64(h, OUT_PA), 0x33);
	CU_ASSERT_EQUAL(get64(h, OUT_PA + 8), 0x44);
	/* mismatch: RDX:RAX loaded, ZF = 0 */
	CU_ASSERT_EQUAL(exec_insn(c, op, sizeof(op)), EXEC_OK);
	CU_ASSERT(!(cpu_get_rflags(c) & FL_ZF));
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x33);
	CU_ASSERT_EQUAL(c->gpr[R_DX], 0x44);
	/* misaligned: #GP(0), memory untouched */
	c->gpr[R_SI] = OUT_PA + 8;
	CU_ASSERT_EQUAL(exec_insn(c, op, sizeof(op)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc.error, 0);
	/* Core 2 here lacks CX16: #UD */
	c->gpr[R_SI] = OUT_PA;
	c->model = cpu_model_find("core2");
	CU_ASSERT_EQUAL(exec_insn(c, op, sizeof(op)), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
	harness_destroy(h);
}

static void expect_ud(struct cpu *c, const uint8_t *b, unsigned n)
{
	c->exc.vector = 0xff;
	CU_ASSERT_EQUAL(exec_insn(c, b, n), EXEC_FAULT);
	CU_ASSERT_EQUAL(c->exc.vector, VEC_UD);
}

/* The prefix and field rules of SDM vol. 2 2.3.2-2.3.5 and 3.1.1.2. */
static void test_vex_rules(void)
{
	struct harness *h = isa_harness();
	struct cpu *c = &h->cpu;
	uint8_t b[8];
	size_t n = vex3(b + 1, 2, 1, 6, 0, 0, 0xf2, 0, 1);     /* andn rax, rsi, rcx */
	c->gpr[R_SI] = 0xf0;
	c->gpr[R_CX] = 0xff;
	CU_ASSERT_EQUAL(exec_insn(c, b + 1, (unsigned)n), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x0f);
	static const uint8_t bad_prefixes[] = { 0x66, 0xf2, 0xf3, 0xf0, 0x48 };
	for (unsigned k = 0; k < sizeof(bad_prefixes); k++) {
		b[0] = bad_prefixes[k];
		expect_ud(c, b, (unsigned)n + 1);
	}
	/* VEX.L = 1 on a VEX.LZ instruction */
	n = vex3(b, 2, 1, 6, 1, 0, 0xf2, 0, 1);
	expect_ud(c, b, (unsigned)n);
	/* reserved map 4 */
	n = vex3(b, 4, 1, 6, 0, 0, 0xf2, 0, 1);
	expect_ud(c, b, (unsigned)n);
	/* RORX: vvvv must be 1111b */
	n = vex3(b, 3, 1, 3, 0, 3, 0xf0, 0, 1);
	b[n++] = 4;
	expect_ud(c, b, (unsigned)n);
	/* wrong pp: ANDN with pp = 66 is no instruction */
	n = vex3(b, 2, 1, 6, 0, 1, 0xf2, 0, 1);
	expect_ud(c, b, (unsigned)n);
	/* two-byte VEX (C5) implies map 0F: C5 F8 F2 C1 is no BMI instruction */
	const uint8_t c5[] = { 0xc5, 0xf8, 0xf2, 0xc1 };
	expect_ud(c, c5, sizeof(c5));
	/* no BMI1 on Core 2 */
	n = vex3(b, 2, 1, 6, 0, 0, 0xf2, 0, 1);
	c->model = cpu_model_find("core2");
	expect_ud(c, b, (unsigned)n);
	harness_destroy(h);
}

/* Outside 64-bit mode C4/C5 are LES/LDS unless ModRM.mod = 11; VEX.W is
 * ignored (32-bit operands); real mode makes VEX #UD. */
static void test_vex_legacy_modes(void)
{
	struct harness *h = sysenv_prot32();
	struct cpu *c = &h->cpu;
	struct insn i;
	struct decode_mode m32 = { 0, 1 };
	const uint8_t les[] = { 0xc4, 0x05, 0x00, 0x10, 0x00, 0x00 };   /* les eax, [0x1000] */
	CU_ASSERT_EQUAL(cpu_decode(les, sizeof(les), m32, &i), DECODE_OK);
	CU_ASSERT_EQUAL(i.len, 6);
	CU_ASSERT_EQUAL(i.vex, 0);
	uint8_t b[8];
	size_t n = vex3(b, 2, 1, 6, 0, 0, 0xf2, 0, 1);
	CU_ASSERT_EQUAL(cpu_decode(b, (unsigned)n, m32, &i), DECODE_OK);
	CU_ASSERT_EQUAL(i.osz, SZ32);
	CU_ASSERT_EQUAL(i.vreg, R_SI);
	c->gpr[R_SI] = 0xffffffff000000f0ull;
	c->gpr[R_CX] = 0xff;
	c->gpr[R_AX] = ~0ull;
	CU_ASSERT_EQUAL(exec_insn(c, b, (unsigned)n), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 0x0f);
	c->cr0 &= ~CR0_PE;
	cpu_mode_changed(c);
	expect_ud(c, b, (unsigned)n);
	harness_destroy(h);
}

/* TZCNT/LZCNT fall back to BSF/BSR without BMI1/ABM (F3 ignored). */
static void test_tzcnt_fallback(void)
{
	struct harness *h = isa_harness();
	struct cpu *c = &h->cpu;
	const uint8_t tz[] = { 0xf3, 0x0f, 0xbc, 0xc1 };       /* tzcnt eax, ecx */
	c->gpr[R_CX] = 0;
	c->gpr[R_AX] = 77;
	CU_ASSERT_EQUAL(exec_insn(c, tz, sizeof(tz)), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 32);
	CU_ASSERT(cpu_get_rflags(c) & FL_CF);
	c->model = cpu_model_find("core2");
	c->gpr[R_AX] = 77;
	CU_ASSERT_EQUAL(exec_insn(c, tz, sizeof(tz)), EXEC_OK);
	CU_ASSERT_EQUAL(c->gpr[R_AX], 77);      /* BSF: source 0 leaves the destination */
	CU_ASSERT(cpu_get_rflags(c) & FL_ZF);
	harness_destroy(h);
}

void suite_cpu_isa_bmi(void)
{
	CU_pSuite s = CU_add_suite("cpu_isa_bmi", NULL, NULL);
	CU_add_test(s, "BMI1/BMI2/ADX/CRC32 match the host CPU", test_vs_host);
	CU_add_test(s, "BEXTR/BZHI/PDEP/PEXT/MULX edge cases", test_bmi_edges);
	CU_add_test(s, "ADCX/ADOX touch only CF/OF", test_adx_flags);
	CU_add_test(s, "CRC32C check value", test_crc32_vector);
	CU_add_test(s, "MOVBE", test_movbe);
	CU_add_test(s, "CMPXCHG16B", test_cmpxchg16b);
	CU_add_test(s, "VEX prefix #UD rules", test_vex_rules);
	CU_add_test(s, "VEX outside 64-bit mode", test_vex_legacy_modes);
	CU_add_test(s, "TZCNT without BMI1 is BSF", test_tzcnt_fallback);
}
