/* Data movement: MOV, MOVZX, MOVSX, MOVSXD, LEA, XCHG, CBW/CWD families,
 * CMOVcc, SETcc, XLAT, PUSH/POP of general registers, immediates and
 * memory, PUSHA/POPA, ENTER/LEAVE (SDM vol. 2). */
#include "cpu/handlers.h"
#include "cpu/operand.h"

enum exec_status op_mov_Eb_Gb(struct cpu *c, const struct insn *i)
{
	return rm_write(c, i, reg_read(c, i->reg, SZ8)) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_mov_Ev_Gv(struct cpu *c, const struct insn *i)
{
	return rm_write(c, i, reg_read(c, i->reg, i->osz)) ? EXEC_OK : EXEC_FAULT;
}

/* Fixed-size variants (cpu/specialize.def). */
enum exec_status op_mov_Ev_Gv_r64(struct cpu *c, const struct insn *i)
{
	c->gpr[i->rm] = c->gpr[i->reg];
	return EXEC_OK;
}

enum exec_status op_mov_Ev_Gv_r32(struct cpu *c, const struct insn *i)
{
	c->gpr[i->rm] = (uint32_t)c->gpr[i->reg];
	return EXEC_OK;
}

enum exec_status op_mov_Ev_Gv_m64(struct cpu *c, const struct insn *i)
{
	return mem_write_seg(c, i->seg, insn_ea(c, i), 8, c->gpr[i->reg]) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_mov_Ev_Gv_m32(struct cpu *c, const struct insn *i)
{
	return mem_write_seg(c, i->seg, insn_ea(c, i), 4, c->gpr[i->reg]) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_mov_Gv_Ev_m64(struct cpu *c, const struct insn *i)
{
	return mem_read_seg(c, i->seg, insn_ea(c, i), 8, &c->gpr[i->reg]) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_mov_Gv_Ev_m32(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!mem_read_seg(c, i->seg, insn_ea(c, i), 4, &v))
		return EXEC_FAULT;
	c->gpr[i->reg] = v;
	return EXEC_OK;
}

static enum exec_status mov_G_E(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!rm_read(c, i, &v))
		return EXEC_FAULT;
	reg_write(c, i->reg, i->osz, v);
	return EXEC_OK;
}

enum exec_status op_mov_Gb_Eb(struct cpu *c, const struct insn *i) { return mov_G_E(c, i); }
enum exec_status op_mov_Gv_Ev(struct cpu *c, const struct insn *i) { return mov_G_E(c, i); }

enum exec_status op_mov_Eb_Ib(struct cpu *c, const struct insn *i)
{
	return rm_write(c, i, i->imm) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_mov_Ev_Iz(struct cpu *c, const struct insn *i)
{
	return rm_write(c, i, i->imm) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_mov_Zb_Ib(struct cpu *c, const struct insn *i)
{
	reg_write(c, i->reg, SZ8, i->imm);
	return EXEC_OK;
}

enum exec_status op_mov_Zv_Iv(struct cpu *c, const struct insn *i)
{
	reg_write(c, i->reg, i->osz, i->imm);
	return EXEC_OK;
}

/* A0-A3: the offset is an address-size immediate in i->imm. */
enum exec_status op_mov_AL_Ob(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!mem_read_seg(c, i->seg, i->imm & addr_mask(i->asz), 1, &v))
		return EXEC_FAULT;
	reg_write(c, R_AX, SZ8, v);
	return EXEC_OK;
}

enum exec_status op_mov_rAX_Ov(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!mem_read_seg(c, i->seg, i->imm & addr_mask(i->asz), 1u << i->osz, &v))
		return EXEC_FAULT;
	reg_write(c, R_AX, i->osz, v);
	return EXEC_OK;
}

enum exec_status op_mov_Ob_AL(struct cpu *c, const struct insn *i)
{
	return mem_write_seg(c, i->seg, i->imm & addr_mask(i->asz), 1, c->gpr[R_AX]) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_mov_Ov_rAX(struct cpu *c, const struct insn *i)
{
	return mem_write_seg(c, i->seg, i->imm & addr_mask(i->asz), 1u << i->osz, c->gpr[R_AX]) ? EXEC_OK
												  : EXEC_FAULT;
}

enum exec_status op_lea_Gv_M(struct cpu *c, const struct insn *i)
{
	reg_write(c, i->reg, i->osz, insn_ea(c, i));
	return EXEC_OK;
}

static enum exec_status extend(struct cpu *c, const struct insn *i, unsigned from, bool sign)
{
	uint64_t v;
	if (!rm_read_sz(c, i, from, &v))
		return EXEC_FAULT;
	if (sign) {
		unsigned sh = 64 - osz_bits(from);
		v = (uint64_t)((int64_t)(v << sh) >> sh);
	}
	reg_write(c, i->reg, i->osz, v & osz_mask(i->osz));
	return EXEC_OK;
}

enum exec_status op_movzx_Gv_Eb(struct cpu *c, const struct insn *i) { return extend(c, i, SZ8, false); }
enum exec_status op_movzx_Gv_Ew(struct cpu *c, const struct insn *i) { return extend(c, i, SZ16, false); }
enum exec_status op_movsx_Gv_Eb(struct cpu *c, const struct insn *i) { return extend(c, i, SZ8, true); }
enum exec_status op_movsx_Gv_Ew(struct cpu *c, const struct insn *i) { return extend(c, i, SZ16, true); }

/* MOVSXD: sign-extends with REX.W; without it a plain 32-bit (or 16-bit) move. */
enum exec_status op_movsxd_Gv_Ed(struct cpu *c, const struct insn *i)
{
	return extend(c, i, i->osz == SZ64 ? SZ32 : i->osz, i->osz == SZ64);
}

static enum exec_status xchg_E_G(struct cpu *c, const struct insn *i)
{
	uint64_t v, r = reg_read(c, i->reg, i->osz);
	if (i->flags & IF_MOD3) {
		v = reg_read(c, i->rm, i->osz);
		reg_write(c, i->rm, i->osz, r);
		reg_write(c, i->reg, i->osz, v);
		return EXEC_OK;
	}
	uint64_t ea = insn_ea(c, i);
	if (!mem_read_rmw(c, i->seg, ea, 1u << i->osz, &v) || !mem_write_seg(c, i->seg, ea, 1u << i->osz, r))
		return EXEC_FAULT;
	reg_write(c, i->reg, i->osz, v);
	return EXEC_OK;
}

enum exec_status op_xchg_Eb_Gb(struct cpu *c, const struct insn *i) { return xchg_E_G(c, i); }
enum exec_status op_xchg_Ev_Gv(struct cpu *c, const struct insn *i) { return xchg_E_G(c, i); }

/* 90+r. 90 itself (reg 0) is NOP, even the 32-bit form in 64-bit mode
 * does not clear the upper half of RAX (SDM vol. 2 NOP/XCHG). */
enum exec_status op_xchg_Zv_rAX(struct cpu *c, const struct insn *i)
{
	if (i->reg == R_AX)
		return EXEC_OK;
	uint64_t a = reg_read(c, R_AX, i->osz);
	reg_write(c, R_AX, i->osz, reg_read(c, i->reg, i->osz));
	reg_write(c, i->reg, i->osz, a);
	return EXEC_OK;
}

/* CBW/CWDE/CDQE: sign-extend the lower half of rAX into all of it. */
enum exec_status op_cbw(struct cpu *c, const struct insn *i)
{
	unsigned half = i->osz - 1;
	unsigned sh = 64 - osz_bits(half);
	reg_write(c, R_AX, i->osz, (uint64_t)((int64_t)(c->gpr[R_AX] << sh) >> sh));
	return EXEC_OK;
}

/* CWD/CDQ/CQO: rDX = sign of rAX. */
enum exec_status op_cwd(struct cpu *c, const struct insn *i)
{
	bool neg = reg_read(c, R_AX, i->osz) & osz_sign(i->osz);
	reg_write(c, R_DX, i->osz, neg ? ~0ull : 0);
	return EXEC_OK;
}

/* CMOVcc: with a 32-bit operand the destination is zero-extended even when
 * the condition is false (SDM vol. 2 CMOVcc); the source is always read. */
enum exec_status op_cmovcc_Gv_Ev(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!rm_read(c, i, &v))
		return EXEC_FAULT;
	if (cpu_cond(c, i->opcode & 0xf))
		reg_write(c, i->reg, i->osz, v);
	else if (i->osz == SZ32)
		reg_write(c, i->reg, SZ32, c->gpr[i->reg]);
	return EXEC_OK;
}

enum exec_status op_setcc_Eb(struct cpu *c, const struct insn *i)
{
	return rm_write(c, i, cpu_cond(c, i->opcode & 0xf)) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_xlat(struct cpu *c, const struct insn *i)
{
	uint64_t v, ea = (c->gpr[R_BX] + (uint8_t)c->gpr[R_AX]) & addr_mask(i->asz);
	if (!mem_read_seg(c, i->seg, ea, 1, &v))
		return EXEC_FAULT;
	reg_write(c, R_AX, SZ8, v);
	return EXEC_OK;
}

enum exec_status op_push_Zv(struct cpu *c, const struct insn *i)
{
	return cpu_push(c, i->osz, c->gpr[i->reg]) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_pop_Zv(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!cpu_pop(c, i->osz, &v))
		return EXEC_FAULT;
	reg_write(c, i->reg, i->osz, v);
	return EXEC_OK;
}

enum exec_status op_push_Iz(struct cpu *c, const struct insn *i)
{
	return cpu_push(c, i->osz, i->imm) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_push_Ev(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (!rm_read(c, i, &v))
		return EXEC_FAULT;
	return cpu_push(c, i->osz, v) ? EXEC_OK : EXEC_FAULT;
}

/* POP r/m: a memory destination addressed through RSP uses the value of RSP
 * after the pop (SDM vol. 2 POP). */
enum exec_status op_pop_Ev(struct cpu *c, const struct insn *i)
{
	uint64_t v, old_sp = c->gpr[R_SP];
	if (!cpu_pop(c, i->osz, &v))
		return EXEC_FAULT;
	if (rm_write(c, i, v))
		return EXEC_OK;
	c->gpr[R_SP] = old_sp;
	return EXEC_FAULT;
}

enum exec_status op_pusha(struct cpu *c, const struct insn *i)
{
	uint64_t sp = c->gpr[R_SP], old = sp;
	if (!mem_probe_write(c, SEG_SS, ((sp - (8u << i->osz)) & addr_mask(stack_asz(c))), 8u << i->osz))
		return EXEC_FAULT;
	for (int r = R_AX; r <= R_DI; r++)
		cpu_push(c, i->osz, r == R_SP ? old : c->gpr[r]);
	return EXEC_OK;
}

enum exec_status op_popa(struct cpu *c, const struct insn *i)
{
	uint64_t v[8], sp = c->gpr[R_SP];
	for (int r = R_DI; r >= R_AX; r--)
		if (!cpu_pop(c, i->osz, &v[r])) {
			c->gpr[R_SP] = sp;
			return EXEC_FAULT;
		}
	for (int r = R_AX; r <= R_DI; r++)
		if (r != R_SP)
			reg_write(c, r, i->osz, v[r]);
	return EXEC_OK;
}

/* ENTER imm16, imm8 (SDM vol. 2 ENTER, Operation), nesting level mod 32:
 * push BP/EBP/RBP by operand size; FrameTemp := SP/ESP/RSP by operand
 * size; for levels 2..n, (E/R)BP steps down by the operand size within the
 * stack-address size and [BP] is pushed; level >= 1 pushes FrameTemp; then
 * SP -= imm16 by stack size. The frame pointer takes FrameTemp at the
 * operand size ("the OperandSize attribute determines the size of ... the
 * data being transferred from SP/ESP/RSP register into the BP/EBP/RBP
 * register", Description): a 16-bit ENTER on a 32- or 64-bit stack writes
 * BP only, as the hardware does (checked on the host CPU); on a 16-bit
 * stack only BP is written ("StackSize = 16: BP := FrameTemp"). A fault
 * leaves RSP and RBP as they were. */
enum exec_status op_enter(struct cpu *c, const struct insn *i)
{
	unsigned level = i->imm2 & 31, osz = i->osz, ssz = stack_asz(c);
	uint64_t saved_sp = c->gpr[R_SP], saved_bp = c->gpr[R_BP];
	uint64_t mask = addr_mask(ssz);
	if (!cpu_push(c, osz, c->gpr[R_BP]))
		return EXEC_FAULT;
	uint64_t frame = c->gpr[R_SP] & osz_mask(osz);
	for (unsigned k = 1; k < level; k++) {
		uint64_t v, bp = (c->gpr[R_BP] - k * (1u << osz)) & mask;
		if (!mem_read_seg(c, SEG_SS, bp, 1u << osz, &v) || !cpu_push(c, osz, v))
			goto fault;
	}
	if (level && !cpu_push(c, osz, frame))
		goto fault;
	uint64_t nsp = (c->gpr[R_SP] - i->imm) & mask;
	if (!mem_probe_write(c, SEG_SS, nsp, 1))
		goto fault;
	reg_write(c, R_BP, ssz == SZ16 ? SZ16 : osz, frame);
	set_sp(c, nsp);
	return EXEC_OK;
fault:
	c->gpr[R_SP] = saved_sp;
	c->gpr[R_BP] = saved_bp;
	return EXEC_FAULT;
}

enum exec_status op_leave(struct cpu *c, const struct insn *i)
{
	uint64_t v, saved = c->gpr[R_SP];
	set_sp(c, c->gpr[R_BP]);
	if (!cpu_pop(c, i->osz, &v)) {
		c->gpr[R_SP] = saved;
		return EXEC_FAULT;
	}
	reg_write(c, R_BP, i->osz, v);
	return EXEC_OK;
}
