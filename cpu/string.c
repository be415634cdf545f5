/* String instructions MOVS STOS LODS CMPS SCAS with REP/REPE/REPNE
 * (SDM vol. 2 "REP/REPE/REPZ/REPNE/REPNZ"). The source is DS:rSI (segment
 * override allowed), the destination ES:rDI (no override). rSI/rDI/rCX are
 * sized by the address size.
 *
 * A repeated instruction runs at most STRING_CHUNK iterations per execution
 * and then re-executes itself (RIP unchanged), as hardware does when it
 * takes an interrupt between iterations; registers always reflect the
 * completed iterations, so a fault mid-way is restartable. Every iteration
 * costs one cycle on top of the instruction's cost. */
#include "cpu/debug.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"

#define STRING_CHUNK 4096

struct str_ctx {
	unsigned asz, osz, step_bytes;
	uint64_t amask;
	int64_t delta;
};

static struct str_ctx str_ctx_of(const struct cpu *c, const struct insn *i)
{
	struct str_ctx s = { .asz = i->asz, .osz = i->osz, .step_bytes = 1u << i->osz, .amask = addr_mask(i->asz) };
	s.delta = (c->rflags & FL_DF) ? -(int64_t)s.step_bytes : (int64_t)s.step_bytes;
	return s;
}

static void advance(struct cpu *c, const struct str_ctx *s, unsigned reg)
{
	reg_write(c, reg, s->asz == SZ16 ? SZ16 : SZ64,
		  s->asz == SZ32 ? (uint32_t)(c->gpr[reg] + s->delta) : c->gpr[reg] + s->delta);
}

typedef enum exec_status (*str_step_fn)(struct cpu *c, const struct insn *i, const struct str_ctx *s);

static enum exec_status step_movs(struct cpu *c, const struct insn *i, const struct str_ctx *s)
{
	uint64_t v;
	if (!mem_read_seg(c, i->seg, c->gpr[R_SI] & s->amask, s->step_bytes, &v) ||
	    !mem_write_seg(c, SEG_ES, c->gpr[R_DI] & s->amask, s->step_bytes, v))
		return EXEC_FAULT;
	advance(c, s, R_SI);
	advance(c, s, R_DI);
	return EXEC_OK;
}

static enum exec_status step_stos(struct cpu *c, const struct insn *i, const struct str_ctx *s)
{
	if (!mem_write_seg(c, SEG_ES, c->gpr[R_DI] & s->amask, s->step_bytes, c->gpr[R_AX]))
		return EXEC_FAULT;
	advance(c, s, R_DI);
	return EXEC_OK;
}

static enum exec_status step_lods(struct cpu *c, const struct insn *i, const struct str_ctx *s)
{
	uint64_t v;
	if (!mem_read_seg(c, i->seg, c->gpr[R_SI] & s->amask, s->step_bytes, &v))
		return EXEC_FAULT;
	reg_write(c, R_AX, s->osz, v);
	advance(c, s, R_SI);
	return EXEC_OK;
}

static enum exec_status step_cmps(struct cpu *c, const struct insn *i, const struct str_ctx *s)
{
	uint64_t a, b;
	if (!mem_read_seg(c, i->seg, c->gpr[R_SI] & s->amask, s->step_bytes, &a) ||
	    !mem_read_seg(c, SEG_ES, c->gpr[R_DI] & s->amask, s->step_bytes, &b))
		return EXEC_FAULT;
	lf_set(c, LF_OP(LF_SUB, s->osz), a, b, (a - b) & osz_mask(s->osz));
	advance(c, s, R_SI);
	advance(c, s, R_DI);
	return EXEC_OK;
}

static enum exec_status step_scas(struct cpu *c, const struct insn *i, const struct str_ctx *s)
{
	uint64_t b, a = reg_read(c, R_AX, s->osz);
	if (!mem_read_seg(c, SEG_ES, c->gpr[R_DI] & s->amask, s->step_bytes, &b))
		return EXEC_FAULT;
	lf_set(c, LF_OP(LF_SUB, s->osz), a, b, (a - b) & osz_mask(s->osz));
	advance(c, s, R_DI);
	return EXEC_OK;
}

/* Run a string step once, or under REP until rCX is 0 (and, for CMPS/SCAS,
 * until the REPE/REPNE condition ends it). */
static enum exec_status string_op(struct cpu *c, const struct insn *i, str_step_fn step, bool compares)
{
	struct str_ctx s = str_ctx_of(c, i);
	if (!(i->flags & (IF_REP | IF_REPNE)))
		return step(c, i, &s);
	for (unsigned n = 0, max = cpu_rep_limit(c, STRING_CHUNK); n < max; n++) {
		uint64_t count = reg_read(c, R_CX, s.asz);
		if (count == 0)
			return EXEC_OK;
		enum exec_status st = step(c, i, &s);
		if (st != EXEC_OK)
			return st;
		reg_write(c, R_CX, s.asz, count - 1);
		c->cycles++;
		if (compares && lf_zf(c) != ((i->flags & IF_REP) != 0))
			return EXEC_OK;
	}
	if (reg_read(c, R_CX, s.asz) != 0) {
		c->next_rip -= i->len;  /* continue in the next execution */
		c->rflags |= FL_RF;     /* as between iterations of one instruction (SDM 17.3.1.1) */
	}
	return EXEC_OK;
}

enum exec_status op_movs(struct cpu *c, const struct insn *i) { return string_op(c, i, step_movs, false); }
enum exec_status op_stos(struct cpu *c, const struct insn *i) { return string_op(c, i, step_stos, false); }
enum exec_status op_lods(struct cpu *c, const struct insn *i) { return string_op(c, i, step_lods, false); }
enum exec_status op_cmps(struct cpu *c, const struct insn *i) { return string_op(c, i, step_cmps, true); }
enum exec_status op_scas(struct cpu *c, const struct insn *i) { return string_op(c, i, step_scas, true); }
