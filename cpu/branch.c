/* Near control transfers: Jcc, JMP, CALL, RET, LOOP/LOOPcc, JrCXZ (SDM vol. 2).
 * In 64-bit mode near branches use a 64-bit operand size whatever 66h says
 * (the decoder forces it); elsewhere the target is masked to the operand size. */
#include "cpu/handlers.h"
#include "cpu/operand.h"

static enum exec_status jump_rel(struct cpu *c, const struct insn *i)
{
	return cpu_branch(c, i->osz, c->next_rip + i->imm) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_jcc_Jb(struct cpu *c, const struct insn *i)
{
	if (!cpu_cond(c, i->opcode & 0xf))
		return EXEC_OK;
	return jump_rel(c, i);
}

enum exec_status op_jmp_Jz(struct cpu *c, const struct insn *i)
{
	return jump_rel(c, i);
}

enum exec_status op_jmp_Ev(struct cpu *c, const struct insn *i)
{
	uint64_t t;
	if (!rm_read(c, i, &t))
		return EXEC_FAULT;
	return cpu_branch(c, i->osz, t) ? EXEC_OK : EXEC_FAULT;
}

/* CALL: the target is checked before the return address is pushed. */
static enum exec_status call_to(struct cpu *c, const struct insn *i, uint64_t target)
{
	uint64_t ret = c->next_rip, sp = c->gpr[R_SP];
	if (!cpu_branch(c, i->osz, target))
		return EXEC_FAULT;
	if (!cpu_push(c, i->osz, ret)) {
		c->gpr[R_SP] = sp;
		return EXEC_FAULT;
	}
	return EXEC_OK;
}

enum exec_status op_call_Jz(struct cpu *c, const struct insn *i)
{
	return call_to(c, i, c->next_rip + i->imm);
}

enum exec_status op_call_Ev(struct cpu *c, const struct insn *i)
{
	uint64_t t;
	if (!rm_read(c, i, &t))
		return EXEC_FAULT;
	return call_to(c, i, t);
}

static enum exec_status ret_near(struct cpu *c, const struct insn *i, unsigned release)
{
	uint64_t t, sp = c->gpr[R_SP];
	if (!cpu_pop(c, i->osz, &t))
		return EXEC_FAULT;
	if (!cpu_branch(c, i->osz, t)) {
		c->gpr[R_SP] = sp;
		return EXEC_FAULT;
	}
	set_sp(c, c->gpr[R_SP] + release);
	return EXEC_OK;
}

enum exec_status op_ret(struct cpu *c, const struct insn *i)
{
	return ret_near(c, i, 0);
}

enum exec_status op_ret_Iw(struct cpu *c, const struct insn *i)
{
	return ret_near(c, i, (uint16_t)i->imm);
}

/* LOOP (E2), LOOPE (E1), LOOPNE (E0): the count register is CX/ECX/RCX
 * by address size. */
enum exec_status op_loop_Jb(struct cpu *c, const struct insn *i)
{
	unsigned asz = i->asz;
	uint64_t n = (reg_read(c, R_CX, asz) - 1) & addr_mask(asz);
	reg_write(c, R_CX, asz, n);
	bool take = n != 0;
	if ((i->opcode & 0xff) == 0xe1)
		take = take && lf_zf(c);
	else if ((i->opcode & 0xff) == 0xe0)
		take = take && !lf_zf(c);
	return take ? jump_rel(c, i) : EXEC_OK;
}

enum exec_status op_jrcxz_Jb(struct cpu *c, const struct insn *i)
{
	return reg_read(c, R_CX, i->asz) == 0 ? jump_rel(c, i) : EXEC_OK;
}
