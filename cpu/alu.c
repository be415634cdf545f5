/* Integer arithmetic and logic: ADD OR ADC SBB AND SUB XOR CMP TEST, INC DEC
 * NOT NEG (SDM vol. 2 instruction pages). Flags are recorded lazily
 * (cpu/flags.h). Each operation is one small function; the operand forms
 * (Eb,Gb / Ev,Gv / Gv,Ev / AL,Ib / rAX,Iz / Ev,Iz) are generated around it. */
#include "cpu/handlers.h"
#include "cpu/operand.h"

typedef uint64_t (*alu_fn)(struct cpu *c, uint64_t d, uint64_t s, unsigned osz);

static inline __attribute__((always_inline)) uint64_t alu_add(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	uint64_t r = (d + s) & osz_mask(osz);
	lf_set(c, LF_OP(LF_ADD, osz), d, s, r);
	return r;
}

static inline __attribute__((always_inline)) uint64_t alu_or(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	uint64_t r = (d | s) & osz_mask(osz);
	lf_set(c, LF_OP(LF_LOGIC, osz), d, s, r);
	return r;
}

static inline __attribute__((always_inline)) uint64_t alu_adc(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	unsigned cin = lf_cf(c);
	uint64_t r = (d + s + cin) & osz_mask(osz);
	lf_set(c, LF_OP(LF_ADC, osz) | (cin ? LF_CARRY_IN : 0), d, s, r);
	return r;
}

static inline __attribute__((always_inline)) uint64_t alu_sbb(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	unsigned cin = lf_cf(c);
	uint64_t r = (d - s - cin) & osz_mask(osz);
	lf_set(c, LF_OP(LF_SBB, osz) | (cin ? LF_CARRY_IN : 0), d, s, r);
	return r;
}

static inline __attribute__((always_inline)) uint64_t alu_and(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	uint64_t r = d & s & osz_mask(osz);
	lf_set(c, LF_OP(LF_LOGIC, osz), d, s, r);
	return r;
}

static inline __attribute__((always_inline)) uint64_t alu_sub(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	uint64_t r = (d - s) & osz_mask(osz);
	lf_set(c, LF_OP(LF_SUB, osz), d, s, r);
	return r;
}

static inline __attribute__((always_inline)) uint64_t alu_xor(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	uint64_t r = (d ^ s) & osz_mask(osz);
	lf_set(c, LF_OP(LF_LOGIC, osz), d, s, r);
	return r;
}

/* E (r/m) op= source, written back unless `store` is false (CMP, TEST). */
static inline __attribute__((always_inline)) enum exec_status alu_E(struct cpu *c, const struct insn *i, alu_fn fn, uint64_t src, bool store)
{
	uint64_t d;
	unsigned osz = i->osz;
	src &= osz_mask(osz);
	if (i->flags & IF_MOD3) {
		d = reg_read(c, i->rm, osz);
		uint64_t r = fn(c, d, src, osz);
		if (store)
			reg_write(c, i->rm, osz, r);
		return EXEC_OK;
	}
	uint64_t ea = insn_ea(c, i);
	if (!store) {
		if (!mem_read_seg(c, i->seg, ea, 1u << osz, &d))
			return EXEC_FAULT;
		fn(c, d, src, osz);
		return EXEC_OK;
	}
	if (!mem_read_rmw(c, i->seg, ea, 1u << osz, &d))
		return EXEC_FAULT;
	struct lazy_flags saved = c->lf;
	uint64_t saved_fl = c->rflags;
	uint64_t r = fn(c, d, src, osz);
	if (!mem_write_seg(c, i->seg, ea, 1u << osz, r)) {
		c->lf = saved;  /* a faulting write leaves the flags untouched */
		c->rflags = saved_fl;
		return EXEC_FAULT;
	}
	return EXEC_OK;
}

/* G (register) op= E. */
static inline __attribute__((always_inline)) enum exec_status alu_G(struct cpu *c, const struct insn *i, alu_fn fn, bool store)
{
	uint64_t s;
	if (!rm_read(c, i, &s))
		return EXEC_FAULT;
	uint64_t r = fn(c, reg_read(c, i->reg, i->osz), s, i->osz);
	if (store)
		reg_write(c, i->reg, i->osz, r);
	return EXEC_OK;
}

/* AL / rAX op= immediate. */
static inline __attribute__((always_inline)) enum exec_status alu_A(struct cpu *c, const struct insn *i, alu_fn fn, bool store)
{
	unsigned osz = i->osz;
	uint64_t r = fn(c, reg_read(c, R_AX, osz), i->imm & osz_mask(osz), osz);
	if (store)
		reg_write(c, R_AX, osz, r);
	return EXEC_OK;
}

#define ALU_FORMS(name, fn, store)                                                                  \
	enum exec_status op_##name##_Eb_Gb(struct cpu *c, const struct insn *i)                     \
	{ return alu_E(c, i, fn, reg_read(c, i->reg, SZ8), store); }                                \
	enum exec_status op_##name##_Ev_Gv(struct cpu *c, const struct insn *i)                     \
	{ return alu_E(c, i, fn, reg_read(c, i->reg, i->osz), store); }                             \
	enum exec_status op_##name##_Gb_Eb(struct cpu *c, const struct insn *i)                     \
	{ return alu_G(c, i, fn, store); }                                                          \
	enum exec_status op_##name##_Gv_Ev(struct cpu *c, const struct insn *i)                     \
	{ return alu_G(c, i, fn, store); }                                                          \
	enum exec_status op_##name##_AL_Ib(struct cpu *c, const struct insn *i)                     \
	{ return alu_A(c, i, fn, store); }                                                          \
	enum exec_status op_##name##_rAX_Iz(struct cpu *c, const struct insn *i)                    \
	{ return alu_A(c, i, fn, store); }                                                          \
	enum exec_status op_##name##_Eb_Ib(struct cpu *c, const struct insn *i)                     \
	{ return alu_E(c, i, fn, i->imm, store); }                                                  \
	enum exec_status op_##name##_Ev_Iz(struct cpu *c, const struct insn *i)                     \
	{ return alu_E(c, i, fn, i->imm, store); }

/* Fixed-size register forms (cpu/specialize.def). */
#define ALU_SPEC(name, fn, store, sz, bits)                                                       \
	enum exec_status op_##name##_Ev_Gv_r##bits(struct cpu *c, const struct insn *i)          \
	{                                                                                         \
		uint64_t r = fn(c, reg_read(c, i->rm, sz), reg_read(c, i->reg, sz), sz);          \
		if (store)                                                                        \
			reg_write(c, i->rm, sz, r);                                               \
		return EXEC_OK;                                                                   \
	}                                                                                         \
	enum exec_status op_##name##_Gv_Ev_r##bits(struct cpu *c, const struct insn *i)          \
	{                                                                                         \
		uint64_t r = fn(c, reg_read(c, i->reg, sz), reg_read(c, i->rm, sz), sz);          \
		if (store)                                                                        \
			reg_write(c, i->reg, sz, r);                                              \
		return EXEC_OK;                                                                   \
	}                                                                                         \
	enum exec_status op_##name##_Ev_Iz_r##bits(struct cpu *c, const struct insn *i)          \
	{                                                                                         \
		uint64_t r = fn(c, reg_read(c, i->rm, sz), i->imm & osz_mask(sz), sz);            \
		if (store)                                                                        \
			reg_write(c, i->rm, sz, r);                                               \
		return EXEC_OK;                                                                   \
	}

#define ALU_ALL(name, fn, store) ALU_FORMS(name, fn, store) ALU_SPEC(name, fn, store, SZ64, 64) ALU_SPEC(name, fn, store, SZ32, 32)

ALU_ALL(add, alu_add, true)
ALU_ALL(or, alu_or, true)
ALU_ALL(adc, alu_adc, true)
ALU_ALL(sbb, alu_sbb, true)
ALU_ALL(and, alu_and, true)
ALU_ALL(sub, alu_sub, true)
ALU_ALL(xor, alu_xor, true)
ALU_ALL(cmp, alu_sub, false)

/* TEST: AND without storing (84, 85, A8, A9, F6 /0, F7 /0). */
enum exec_status op_test_Eb_Gb(struct cpu *c, const struct insn *i)
{
	return alu_E(c, i, alu_and, reg_read(c, i->reg, SZ8), false);
}

enum exec_status op_test_Ev_Gv(struct cpu *c, const struct insn *i)
{
	return alu_E(c, i, alu_and, reg_read(c, i->reg, i->osz), false);
}

enum exec_status op_test_Ev_Gv_r64(struct cpu *c, const struct insn *i)
{
	alu_and(c, c->gpr[i->rm], c->gpr[i->reg], SZ64);
	return EXEC_OK;
}

enum exec_status op_test_Ev_Gv_r32(struct cpu *c, const struct insn *i)
{
	alu_and(c, (uint32_t)c->gpr[i->rm], (uint32_t)c->gpr[i->reg], SZ32);
	return EXEC_OK;
}

enum exec_status op_test_AL_Ib(struct cpu *c, const struct insn *i)
{
	return alu_A(c, i, alu_and, false);
}

enum exec_status op_test_rAX_Iz(struct cpu *c, const struct insn *i)
{
	return alu_A(c, i, alu_and, false);
}

enum exec_status op_test_Eb_Ib(struct cpu *c, const struct insn *i)
{
	return alu_E(c, i, alu_and, i->imm, false);
}

enum exec_status op_test_Ev_Iz(struct cpu *c, const struct insn *i)
{
	return alu_E(c, i, alu_and, i->imm, false);
}

/* INC/DEC keep CF (SDM vol. 2 INC, DEC). */
static inline __attribute__((always_inline)) uint64_t alu_inc(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	uint64_t r = (d + 1) & osz_mask(osz);
	lf_set(c, LF_OP(LF_INC, osz) | (lf_cf(c) ? LF_CARRY_IN : 0), d, 1, r);
	return r;
}

static inline __attribute__((always_inline)) uint64_t alu_dec(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	uint64_t r = (d - 1) & osz_mask(osz);
	lf_set(c, LF_OP(LF_DEC, osz) | (lf_cf(c) ? LF_CARRY_IN : 0), d, 1, r);
	return r;
}

static uint64_t alu_neg(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	uint64_t r = (0 - d) & osz_mask(osz);
	lf_set(c, LF_OP(LF_NEG, osz), 0, d, r);
	return r;
}

static uint64_t alu_not(struct cpu *c, uint64_t d, uint64_t s, unsigned osz)
{
	return ~d & osz_mask(osz);      /* flags unaffected */
}

enum exec_status op_inc_Eb(struct cpu *c, const struct insn *i) { return alu_E(c, i, alu_inc, 0, true); }
enum exec_status op_dec_Eb(struct cpu *c, const struct insn *i) { return alu_E(c, i, alu_dec, 0, true); }
enum exec_status op_inc_Ev(struct cpu *c, const struct insn *i) { return alu_E(c, i, alu_inc, 0, true); }
enum exec_status op_dec_Ev(struct cpu *c, const struct insn *i) { return alu_E(c, i, alu_dec, 0, true); }
enum exec_status op_neg_Eb(struct cpu *c, const struct insn *i) { return alu_E(c, i, alu_neg, 0, true); }
enum exec_status op_neg_Ev(struct cpu *c, const struct insn *i) { return alu_E(c, i, alu_neg, 0, true); }
enum exec_status op_not_Eb(struct cpu *c, const struct insn *i) { return alu_E(c, i, alu_not, 0, true); }
enum exec_status op_not_Ev(struct cpu *c, const struct insn *i) { return alu_E(c, i, alu_not, 0, true); }

#define INCDEC_SPEC(name, fn, sz, bits)                                              \
	enum exec_status op_##name##_Ev_r##bits(struct cpu *c, const struct insn *i) \
	{                                                                            \
		reg_write(c, i->rm, sz, fn(c, reg_read(c, i->rm, sz), 1, sz));       \
		return EXEC_OK;                                                      \
	}
INCDEC_SPEC(inc, alu_inc, SZ64, 64)
INCDEC_SPEC(inc, alu_inc, SZ32, 32)
INCDEC_SPEC(dec, alu_dec, SZ64, 64)
INCDEC_SPEC(dec, alu_dec, SZ32, 32)

/* 40+r / 48+r (outside 64-bit mode). */
enum exec_status op_inc_Zv(struct cpu *c, const struct insn *i)
{
	reg_write(c, i->reg, i->osz, alu_inc(c, reg_read(c, i->reg, i->osz), 1, i->osz));
	return EXEC_OK;
}

enum exec_status op_dec_Zv(struct cpu *c, const struct insn *i)
{
	reg_write(c, i->reg, i->osz, alu_dec(c, reg_read(c, i->reg, i->osz), 1, i->osz));
	return EXEC_OK;
}
