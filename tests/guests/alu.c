/* alu: integer instruction results and RFLAGS for chosen operands in 8, 16,
 * 32 and 64-bit widths. Expected values are worked out by hand from the
 * SDM Vol. 2 instruction pages; the flags an instruction leaves undefined
 * are not compared, the ones it leaves unaffected must keep their input.
 *
 * Registers carry junk above the operand width: 8/16-bit results must keep
 * it, 32-bit results zero-extend (SDM Vol. 1, 3.4.1.1). */
#include "guest.h"

#define CF RFLAGS_CF
#define PF RFLAGS_PF
#define AF RFLAGS_AF
#define ZF RFLAGS_ZF
#define SF RFLAGS_SF
#define OF RFLAGS_OF
#define ARITH RFLAGS_ARITH
#define RFLAGS_FIXED 0x2ul                      /* bit 1 reads as 1 */
#define JUNK_A 0xa5a5a5a5a5a5a5a5ul
#define JUNK_B 0x3c3c3c3c3c3c3c3cul

enum alu_op {
	ADD, ADC, SUB, SBB, AND, OR, XOR, CMP, TEST,
	INC, DEC, NEG, NOT,
	SHL, SHR, SAR, ROL, ROR, RCL, RCR,
	SHLD, SHRD, BT, BTS, BTR, BTC, IMUL2,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
	"add", "adc", "sub", "sbb", "and", "or", "xor", "cmp", "test",
	"inc", "dec", "neg", "not",
	"shl", "shr", "sar", "rol", "ror", "rcl", "rcr",
	"shld", "shrd", "bt", "bts", "btr", "btc", "imul",
};

/* One instruction: dest a, source b, count c (in CL); flags in/out. */
typedef uint64_t (*alu_fn)(uint64_t a, uint64_t b, uint64_t c, uint64_t *flags);

#define FLAGS_IN  "pushq %[f]\n\tpopfq\n\t"
#define FLAGS_OUT "\n\tpushfq\n\tpopq %[f]"
#define ASM_ALU(text)                                                          \
	asm(FLAGS_IN text FLAGS_OUT                                            \
	    : [a] "+r"(a), [f] "+r"(f)                                         \
	    : [b] "r"(b), [c] "c"(c)                                           \
	    : "cc")

#define DEF_FN(op, sfx, text)                                                  \
	static uint64_t op##_##sfx(uint64_t a, uint64_t b, uint64_t c, uint64_t *flags) \
	{                                                                      \
		uint64_t f = *flags;                                           \
		(void)b;                                                       \
		(void)c;                                                       \
		ASM_ALU(text);                                                 \
		*flags = f;                                                    \
		return a;                                                      \
	}

/* insn %b, %a */
#define BIN(op, insn)                                                          \
	DEF_FN(op, b, insn "b %b[b], %b[a]")                                   \
	DEF_FN(op, w, insn "w %w[b], %w[a]")                                   \
	DEF_FN(op, l, insn "l %k[b], %k[a]")                                   \
	DEF_FN(op, q, insn "q %q[b], %q[a]")
/* insn %a */
#define UN(op, insn)                                                           \
	DEF_FN(op, b, insn "b %b[a]")                                          \
	DEF_FN(op, w, insn "w %w[a]")                                          \
	DEF_FN(op, l, insn "l %k[a]")                                          \
	DEF_FN(op, q, insn "q %q[a]")
/* insn %cl, %a */
#define SH(op, insn)                                                           \
	DEF_FN(op, b, insn "b %%cl, %b[a]")                                    \
	DEF_FN(op, w, insn "w %%cl, %w[a]")                                    \
	DEF_FN(op, l, insn "l %%cl, %k[a]")                                    \
	DEF_FN(op, q, insn "q %%cl, %q[a]")
/* insn %cl, %b, %a (no 8-bit form) */
#define DSH(op, insn)                                                          \
	DEF_FN(op, w, insn "w %%cl, %w[b], %w[a]")                             \
	DEF_FN(op, l, insn "l %%cl, %k[b], %k[a]")                             \
	DEF_FN(op, q, insn "q %%cl, %q[b], %q[a]")
/* insn %b, %a with no 8-bit form (bt*, imul r, r/m) */
#define BIN16(op, insn)                                                        \
	DEF_FN(op, w, insn "w %w[b], %w[a]")                                   \
	DEF_FN(op, l, insn "l %k[b], %k[a]")                                   \
	DEF_FN(op, q, insn "q %q[b], %q[a]")

BIN(ADD, "add") BIN(ADC, "adc") BIN(SUB, "sub") BIN(SBB, "sbb")
BIN(AND, "and") BIN(OR, "or") BIN(XOR, "xor") BIN(CMP, "cmp") BIN(TEST, "test")
UN(INC, "inc") UN(DEC, "dec") UN(NEG, "neg") UN(NOT, "not")
SH(SHL, "shl") SH(SHR, "shr") SH(SAR, "sar") SH(ROL, "rol") SH(ROR, "ror")
SH(RCL, "rcl") SH(RCR, "rcr")
DSH(SHLD, "shld") DSH(SHRD, "shrd")
BIN16(BT, "bt") BIN16(BTS, "bts") BIN16(BTR, "btr") BIN16(BTC, "btc")
BIN16(IMUL2, "imul")

#define FNS4(op) [op] = { op##_b, op##_w, op##_l, op##_q }
#define FNS3(op) [op] = { NULL, op##_w, op##_l, op##_q }
static const alu_fn alu_fns[OP_COUNT][4] = {
	FNS4(ADD), FNS4(ADC), FNS4(SUB), FNS4(SBB), FNS4(AND), FNS4(OR),
	FNS4(XOR), FNS4(CMP), FNS4(TEST), FNS4(INC), FNS4(DEC), FNS4(NEG),
	FNS4(NOT), FNS4(SHL), FNS4(SHR), FNS4(SAR), FNS4(ROL), FNS4(ROR),
	FNS4(RCL), FNS4(RCR), FNS3(SHLD), FNS3(SHRD), FNS3(BT), FNS3(BTS),
	FNS3(BTR), FNS3(BTC), FNS3(IMUL2),
};

struct alu_case {
	enum alu_op op;
	unsigned width;
	uint64_t a, b, count;           /* count: shifts, rotates, shld/shrd */
	uint64_t flags_in;              /* arithmetic flags before */
	uint64_t result;                /* the operand-width result */
	uint64_t flags;                 /* the flags the instruction writes */
};

#define R(op, w, a, b, fin, res, fl) { op, w, a, b, 0, fin, res, fl }
#define S(op, w, a, n, fin, res, fl) { op, w, a, 0, n, fin, res, fl }
#define D(op, w, a, b, n, res, fl) { op, w, a, b, n, 0, res, fl }

static const struct alu_case cases[] = {
	R(ADD, 32, 0x7fffffff, 1, 0, 0x80000000, PF | AF | SF | OF),
	R(ADD, 32, 0xffffffff, 1, 0, 0, CF | PF | AF | ZF),
	R(ADD, 8, 0x80, 0x80, 0, 0, CF | PF | ZF | OF),
	R(ADD, 16, 0x1234, 0x4321, CF | ZF, 0x5555, PF),
	R(ADD, 64, 0x7fffffffffffffff, 1, 0, 0x8000000000000000, PF | AF | SF | OF),
	R(ADD, 64, ~0ul, ~0ul, 0, 0xfffffffffffffffe, CF | AF | SF),
	R(ADD, 8, 0x0f, 0x01, 0, 0x10, AF),
	R(ADC, 32, 0x7ffffffe, 1, CF, 0x80000000, PF | AF | SF | OF),
	R(ADC, 64, ~0ul, 0, CF, 0, CF | PF | AF | ZF),
	R(ADC, 8, 0x7f, 0x7f, CF, 0xff, PF | AF | SF | OF),
	R(ADC, 16, 0xffff, 1, 0, 0, CF | PF | AF | ZF),
	R(SUB, 32, 0x80000000, 1, 0, 0x7fffffff, PF | AF | OF),
	R(SUB, 32, 0, 1, 0, 0xffffffff, CF | PF | AF | SF),
	R(SUB, 8, 5, 5, CF, 0, PF | ZF),
	R(SUB, 64, 0x8000000000000000, 1, 0, 0x7fffffffffffffff, PF | AF | OF),
	R(SUB, 16, 0x1000, 1, 0, 0x0fff, PF | AF),
	R(SBB, 32, 0x80000000, 0, CF, 0x7fffffff, PF | AF | OF),
	R(SBB, 8, 0, 0xff, CF, 0, CF | PF | AF | ZF),
	R(SBB, 64, 5, 3, CF, 1, 0),
	R(SBB, 16, 3, 5, 0, 0xfffe, CF | AF | SF),
	R(AND, 32, 0xf0f0f0f0, 0x0ff00ff0, CF | OF, 0x00f000f0, PF),
	R(AND, 64, 0x8000000000000000, ~0ul, 0, 0x8000000000000000, SF | PF),
	R(OR, 8, 0, 0, CF, 0, ZF | PF),
	R(OR, 16, 0x8001, 0x0100, OF, 0x8101, SF),
	R(XOR, 32, 0xdeadbeef, 0xdeadbeef, 0, 0, ZF | PF),
	R(XOR, 64, 0xffffffff00000000, 0x0000000100000001, 0, 0xfffffffe00000001, SF),
	R(TEST, 8, 0x80, 0x80, 0, 0x80, SF),
	R(TEST, 32, 0x0f, 0xf0, CF | OF, 0x0f, ZF | PF),
	R(CMP, 32, 1, 2, 0, 1, CF | PF | AF | SF),
	R(CMP, 8, 0x80, 1, 0, 0x80, AF | OF),
	R(CMP, 64, 0x123456789, 0x123456789, 0, 0x123456789, PF | ZF),
	R(INC, 32, 0x7fffffff, 0, CF, 0x80000000, PF | AF | SF | OF),
	R(INC, 8, 0xff, 0, 0, 0, PF | AF | ZF),
	R(DEC, 16, 0x8000, 0, CF, 0x7fff, PF | AF | OF),
	R(DEC, 64, 1, 0, 0, 0, PF | ZF),
	R(DEC, 32, 0, 0, 0, 0xffffffff, PF | AF | SF),
	R(NEG, 32, 0, 0, CF, 0, PF | ZF),
	R(NEG, 32, 0x80000000, 0, 0, 0x80000000, CF | PF | SF | OF),
	R(NEG, 8, 1, 0, 0, 0xff, CF | PF | AF | SF),
	R(NEG, 64, 5, 0, 0, 0xfffffffffffffffb, CF | AF | SF),
	R(NEG, 16, 0x8000, 0, 0, 0x8000, CF | PF | SF | OF),
	R(NOT, 32, 0x0f0f0f0f, 0, CF | ZF | OF, 0xf0f0f0f0, 0),
	R(NOT, 8, 0, 0, SF | AF, 0xff, 0),
	S(SHL, 32, 0x80000001, 1, 0, 0x00000002, CF | OF),
	S(SHL, 8, 0x40, 1, CF, 0x80, SF | OF),
	S(SHL, 64, 1, 63, 0, 0x8000000000000000, SF | PF),
	S(SHL, 32, 1, 32, CF | ZF | OF, 1, 0),  /* count masked to 0 */
	S(SHL, 16, 0x8000, 33, 0, 0, CF | PF | ZF | OF), /* masked to 1 */
	S(SHL, 8, 0x81, 4, CF, 0x10, 0),
	S(SHR, 32, 0x80000001, 1, 0, 0x40000000, CF | PF | OF),
	S(SHR, 8, 0x01, 1, 0, 0, CF | PF | ZF),
	S(SHR, 64, 0x8000000000000000, 63, CF, 1, 0),
	S(SHR, 16, 0xffff, 0, CF | ZF, 0xffff, 0),
	S(SHR, 64, 0x10, 64, SF, 0x10, 0),      /* 64-bit count masked to 0 */
	S(SAR, 32, 0x80000000, 1, CF | OF, 0xc0000000, SF | PF),
	S(SAR, 8, 0x81, 1, 0, 0xc0, CF | PF | SF),
	S(SAR, 64, 0x8000000000000000, 63, CF, ~0ul, SF | PF),
	S(SAR, 16, 0x7fff, 15, 0, 0, CF | PF | ZF),
	S(ROL, 32, 0x80000001, 1, 0, 0x00000003, CF | OF),
	S(ROL, 8, 0x81, 4, ZF | SF | PF | CF, 0x18, 0),
	S(ROL, 8, 0x81, 8, 0, 0x81, CF),        /* rotates by 0, CF = LSB */
	S(ROL, 64, 0x8000000000000000, 1, 0, 1, CF | OF),
	S(ROL, 16, 0x1234, 0, CF | OF, 0x1234, 0),
	S(ROR, 32, 1, 1, 0, 0x80000000, CF | OF),
	S(ROR, 8, 0x01, 1, 0, 0x80, CF | OF),
	S(ROR, 16, 0x0003, 1, ZF, 0x8001, CF | OF),
	S(ROR, 64, 0x10, 4, CF, 1, 0),
	S(ROR, 32, 0x6, 1, CF | OF, 3, 0),
	S(RCL, 32, 0x80000000, 1, 0, 0, CF | OF),
	S(RCL, 8, 0x00, 1, CF, 0x01, 0),
	S(RCL, 8, 0x80, 9, CF, 0x80, CF),       /* 9 mod 9 = 0: nothing moves */
	S(RCR, 32, 1, 1, CF, 0x80000000, CF | OF),
	S(RCR, 64, 2, 1, 0, 1, 0),
	S(RCR, 16, 0x0001, 2, CF, 0xc000, 0),
	D(SHLD, 32, 0x12345678, 0x9abcdef0, 8, 0x3456789a, PF),
	D(SHLD, 16, 0x8000, 0xffff, 1, 0x0001, CF | OF),
	D(SHLD, 64, 1, 0x8000000000000000, 63, 0xc000000000000000, SF | PF),
	D(SHLD, 32, 0x12345678, 0x9abcdef0, 32, 0x12345678, 0),
	D(SHRD, 32, 0x12345678, 0x9abcdef0, 8, 0xf0123456, SF | PF),
	D(SHRD, 64, 1, 0, 1, 0, CF | PF | ZF),
	D(SHRD, 16, 0x0001, 0x0001, 1, 0x8000, CF | PF | SF | OF),
	R(BT, 32, 0x80000000, 31, 0, 0x80000000, CF),
	R(BT, 32, 0x2, 33, 0, 0x2, CF),         /* bit offset mod 32 */
	R(BTS, 64, 0, 63, CF, 0x8000000000000000, 0),
	R(BTR, 16, 0xffff, 15, 0, 0x7fff, CF),
	R(BTC, 32, 0x10, 4, 0, 0, CF),
	R(IMUL2, 32, 0x7fffffff, 2, 0, 0xfffffffe, CF | OF),
	R(IMUL2, 64, (uint64_t)-3, (uint64_t)-5, CF | OF, 15, 0),
	R(IMUL2, 16, 0x100, 0x100, 0, 0, CF | OF),
};

static uint64_t width_mask(unsigned w)
{
	return w == 64 ? ~0ul : (1ul << w) - 1;
}

static unsigned width_index(unsigned w)
{
	return w == 8 ? 0 : w == 16 ? 1 : w == 32 ? 2 : 3;
}

static bool is_shift(enum alu_op op)
{
	return op >= SHL && op <= SHRD;
}

static uint64_t masked_count(const struct alu_case *c)
{
	return c->count & (c->width == 64 ? 63 : 31);
}

/* Which flags the instruction writes, and which of those it leaves
 * undefined (SDM Vol. 2, the "Flags Affected" section of each page). */
static void flag_rules(const struct alu_case *c, uint64_t *written, uint64_t *undef)
{
	uint64_t n = masked_count(c);

	*written = ARITH;
	*undef = 0;
	switch (c->op) {
	case AND: case OR: case XOR: case TEST:
		*undef = AF;
		break;
	case INC: case DEC:
		*written = ARITH & ~CF;
		break;
	case NOT:
		*written = 0;
		break;
	case SHL: case SHR: case SAR: case SHLD: case SHRD:
		*written = n ? ARITH : 0;
		*undef = AF | (n != 1 ? OF : 0) | (n >= c->width ? CF : 0);
		break;
	case ROL: case ROR: case RCL: case RCR:
		*written = n ? CF | OF : 0;
		*undef = n != 1 ? OF : 0;
		break;
	case BT: case BTS: case BTR: case BTC:
		*written = ARITH & ~ZF;
		*undef = OF | SF | AF | PF;
		break;
	case IMUL2:
		*undef = SF | ZF | AF | PF;
		break;
	default:
		break;
	}
}

/* The full register after the instruction, from the register before. */
static uint64_t expected_register(const struct alu_case *c, uint64_t before)
{
	uint64_t m = width_mask(c->width);

	if (c->op == CMP || c->op == TEST || c->op == BT)
		return before;
	if (c->width == 32)
		return c->result & m;
	return (before & ~m) | (c->result & m);
}

static void run_case(const struct alu_case *c)
{
	uint64_t m = width_mask(c->width), written, undef;
	/* A 32-bit shift whose masked count is 0 leaves the register
	 * alone; keep junk out of the upper half rather than test that. */
	bool junk = !(c->width == 32 && is_shift(c->op) && masked_count(c) == 0);
	uint64_t a = junk ? (JUNK_A & ~m) | c->a : c->a;
	uint64_t b = (JUNK_B & ~m) | c->b;
	uint64_t cl = 0xab00 | c->count;        /* only CL counts */
	uint64_t f = RFLAGS_FIXED | c->flags_in;

	uint64_t r = alu_fns[c->op][width_index(c->width)](a, b, cl, &f);
	flag_rules(c, &written, &undef);
	uint64_t want_f = (RFLAGS_FIXED | (c->flags_in & ~written) | (c->flags & written)) & ~undef;
	uint64_t want_r = expected_register(c, a);
	bool ok = r == want_r && (f & ~undef & 0xfff) == want_f;

	if (is_shift(c->op) && c->op >= SHLD)
		report(ok, "%s%u %#lx, %#lx, cl=%lu", op_names[c->op], c->width, c->a, c->b, c->count);
	else if (is_shift(c->op))
		report(ok, "%s%u %#lx, cl=%lu (CF in %lu)", op_names[c->op], c->width, c->a,
		       c->count, c->flags_in & CF);
	else
		report(ok, "%s%u %#lx, %#lx (CF in %lu)", op_names[c->op], c->width, c->a, c->b,
		       c->flags_in & CF);
	if (!ok)
		printf("      got %#lx flags %#lx, expected %#lx flags %#lx (undefined %#lx)\n",
		       r, f & 0xfff, want_r, want_f, undef);
}

/* One-operand mul/imul and div/idiv: RDX:RAX (AX for bytes) op source. */
enum md_op { MUL, IMUL, DIV, IDIV };

struct md_case {
	enum md_op op;
	unsigned width;
	uint64_t rax, rdx, src;         /* operand-width values */
	uint64_t out_rax, out_rdx;      /* bytes: out_rax is AX, rdx untouched */
	uint64_t flags;                 /* CF|OF for mul/imul */
};

#define MD_FN(name, text)                                                      \
	static void name(uint64_t *rax, uint64_t *rdx, uint64_t src, uint64_t *flags) \
	{                                                                      \
		uint64_t f = *flags;                                           \
		asm(FLAGS_IN text FLAGS_OUT                                    \
		    : "+a"(*rax), "+d"(*rdx), [f] "+r"(f)                      \
		    : [s] "r"(src)                                             \
		    : "cc");                                                   \
		*flags = f;                                                    \
	}
#define MD_WIDTHS(op, insn)                                                    \
	MD_FN(op##_b, insn "b %b[s]") MD_FN(op##_w, insn "w %w[s]")             \
	MD_FN(op##_l, insn "l %k[s]") MD_FN(op##_q, insn "q %q[s]")
MD_WIDTHS(md_mul, "mul")
MD_WIDTHS(md_imul, "imul")
MD_WIDTHS(md_div, "div")
MD_WIDTHS(md_idiv, "idiv")

typedef void (*md_fn)(uint64_t *rax, uint64_t *rdx, uint64_t src, uint64_t *flags);
static const md_fn md_fns[4][4] = {
	{ md_mul_b, md_mul_w, md_mul_l, md_mul_q },
	{ md_imul_b, md_imul_w, md_imul_l, md_imul_q },
	{ md_div_b, md_div_w, md_div_l, md_div_q },
	{ md_idiv_b, md_idiv_w, md_idiv_l, md_idiv_q },
};
static const char *const md_names[4] = { "mul", "imul", "div", "idiv" };

static const struct md_case md_cases[] = {
	{ MUL, 8, 0x80, 0, 2, 0x0100, 0, CF | OF },
	{ MUL, 8, 0xff0f, 0, 0x0f, 0x00e1, 0, 0 },      /* AH is overwritten */
	{ MUL, 16, 0xffff, 0, 0xffff, 0x0001, 0xfffe, CF | OF },
	{ MUL, 32, 0xffffffff, 0, 2, 0xfffffffe, 1, CF | OF },
	{ MUL, 32, 0x10000, 0, 0x10000, 0, 1, CF | OF },
	{ MUL, 64, ~0ul, 0, ~0ul, 1, 0xfffffffffffffffe, CF | OF },
	{ MUL, 64, 3, 7, 5, 15, 0, 0 },
	{ IMUL, 8, 0x80, 0, 2, 0xff00, 0, CF | OF },
	{ IMUL, 8, 0xff, 0, 0xff, 0x0001, 0, 0 },
	{ IMUL, 16, 0xffff, 0, 0x8000, 0x8000, 0x0000, CF | OF },
	{ IMUL, 32, 0xfffffffe, 0, 3, 0xfffffffa, 0xffffffff, 0 },
	{ IMUL, 64, 0x4000000000000000, 0, 2, 0x8000000000000000, 0, CF | OF },
	{ DIV, 8, 0x0100, 0, 2, 0x0080, 0, 0 },
	{ DIV, 8, 0x00ff, 0, 0x10, 0x0f0f, 0, 0 },
	{ DIV, 16, 0x0000, 0x0001, 0x100, 0x0100, 0, 0 },
	{ DIV, 32, 5, 1, 0x10, 0x10000000, 5, 0 },
	{ DIV, 64, 0, 1, 3, 0x5555555555555555, 1, 0 },
	{ IDIV, 8, 0xff80, 0, 3, 0xfed6, 0, 0 },        /* -128 / 3 = -42 rem -2 */
	{ IDIV, 16, 0x7fff, 0, 0xffff, 0x8001, 0, 0 },  /* 32767 / -1 */
	{ IDIV, 32, 0xfffffff9, 0xffffffff, 2, 0xfffffffd, 0xffffffff, 0 },
	{ IDIV, 64, 100, 0, (uint64_t)-7, (uint64_t)-14, 2, 0 },
};

/* The full registers after the instruction: bytes write AX only; words
 * write AX and DX; dwords zero-extend EAX and EDX. */
static void md_expected(const struct md_case *c, uint64_t rax, uint64_t rdx,
			uint64_t *want_rax, uint64_t *want_rdx)
{
	switch (c->width) {
	case 8:
		*want_rax = (rax & ~0xfffful) | c->out_rax;
		*want_rdx = rdx;
		break;
	case 16:
		*want_rax = (rax & ~0xfffful) | c->out_rax;
		*want_rdx = (rdx & ~0xfffful) | c->out_rdx;
		break;
	default:
		*want_rax = c->out_rax;
		*want_rdx = c->out_rdx;
		break;
	}
}

static void run_md_case(const struct md_case *c)
{
	unsigned w = c->width;
	uint64_t m = w == 8 ? 0xffff : width_mask(w);   /* the dividend/multiplicand */
	uint64_t rax = (JUNK_A & ~m) | c->rax;
	uint64_t rdx = w == 8 ? JUNK_B : (JUNK_B & ~width_mask(w)) | c->rdx;
	uint64_t src = (JUNK_B & ~width_mask(w)) | c->src;
	uint64_t f = RFLAGS_FIXED, want_rax, want_rdx;

	md_expected(c, rax, rdx, &want_rax, &want_rdx);
	md_fns[c->op][width_index(w)](&rax, &rdx, src, &f);
	bool ok = rax == want_rax && rdx == want_rdx;
	if (c->op == MUL || c->op == IMUL)      /* SF ZF AF PF undefined */
		ok &= (f & (CF | OF)) == c->flags;
	report(ok, "%s%u rdx:rax %#lx:%#lx, %#lx", md_names[c->op], w, c->rdx, c->rax, c->src);
	if (!ok)
		printf("      got rax %#lx rdx %#lx flags %#lx, expected %#lx %#lx flags %#lx\n",
		       rax, rdx, f & 0xfff, want_rax, want_rdx, c->flags);
}

/* Three-operand imul with an immediate: imul $-1, src, dest. */
static void check_imul3(void)
{
	uint64_t d = JUNK_A, f = RFLAGS_FIXED;

	asm(FLAGS_IN "imull $-1, %k[s], %k[d]" FLAGS_OUT
	    : [d] "+r"(d), [f] "+r"(f) : [s] "r"(0x80000000ul) : "cc");
	report(d == 0x80000000 && (f & (CF | OF)) == (CF | OF),
	       "imul32 $-1, 0x80000000 overflows to 0x80000000 with CF=OF=1");
	asm(FLAGS_IN "imulw $300, %w[s], %w[d]" FLAGS_OUT
	    : [d] "+r"(d), [f] "+r"(f) : [s] "r"(0xffffffffffff0100ul) : "cc");
	report(d == 0x80000000 + (uint16_t)(300 * 256) && (f & (CF | OF)) == (CF | OF),
	       "imul16 $300, 0x100 keeps the upper bits and truncates to %#x",
	       (uint16_t)(300 * 256));
}

void kmain(uint32_t magic, uint32_t mbinfo)
{
	(void)magic;
	(void)mbinfo;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	for (size_t i = 0; i < ARRAY_SIZE(md_cases); i++)
		run_md_case(&md_cases[i]);
	check_imul3();
	report_summary();
}
