/* Flag instructions and simple control: CLC STC CMC CLD STD, LAHF SAHF,
 * PUSHF POPF (with the IOPL/VM rules of SDM vol. 2 POPF), NOP forms, HLT. */
#include "cpu/handlers.h"
#include "cpu/operand.h"

static void set_cf(struct cpu *c, bool v)
{
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)FL_CF;
	lf_set_flags(c, fl | (v ? FL_CF : 0));
}

enum exec_status op_clc(struct cpu *c, const struct insn *i) { set_cf(c, false); return EXEC_OK; }
enum exec_status op_stc(struct cpu *c, const struct insn *i) { set_cf(c, true); return EXEC_OK; }
enum exec_status op_cmc(struct cpu *c, const struct insn *i) { set_cf(c, !lf_cf(c)); return EXEC_OK; }
enum exec_status op_cld(struct cpu *c, const struct insn *i) { c->rflags &= ~(uint64_t)FL_DF; return EXEC_OK; }
enum exec_status op_std(struct cpu *c, const struct insn *i) { c->rflags |= FL_DF; return EXEC_OK; }

/* LAHF/SAHF: SF ZF AF PF CF <-> AH. In 64-bit mode they need
 * CPUID.80000001H:ECX.LAHF-SAHF, which every vtxsim model reports. */
enum exec_status op_lahf(struct cpu *c, const struct insn *i)
{
	reg_write(c, REG_AH, SZ8, cpu_get_rflags(c) & 0xd7);
	return EXEC_OK;
}

enum exec_status op_sahf(struct cpu *c, const struct insn *i)
{
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)(FL_SF | FL_ZF | FL_AF | FL_PF | FL_CF);
	lf_set_flags(c, fl | (reg_read(c, REG_AH, SZ8) & 0xd5));
	return EXEC_OK;
}

static unsigned iopl(const struct cpu *c)
{
	return (c->rflags >> 12) & 3;
}

/* PUSHF: VM and RF are pushed as 0. In virtual-8086 mode with IOPL < 3
 * (and no VME) it faults. */
enum exec_status op_pushf(struct cpu *c, const struct insn *i)
{
	if ((c->rflags & FL_VM) && iopl(c) < 3)
		return cpu_gp0(c);
	uint64_t v = cpu_get_rflags(c) & ~(uint64_t)(FL_VM | FL_RF);
	return cpu_push(c, i->osz, v) ? EXEC_OK : EXEC_FAULT;
}

/* POPF: which bits may change depends on CPL and IOPL (SDM vol. 2 POPF
 * operation section). VM, VIP and VIF never change; RF is cleared. */
enum exec_status op_popf(struct cpu *c, const struct insn *i)
{
	uint64_t v, cur = cpu_get_rflags(c);
	if ((c->rflags & FL_VM) && iopl(c) < 3)
		return cpu_gp0(c);
	if (!cpu_pop(c, i->osz, &v))
		return EXEC_FAULT;
	uint64_t keep = FL_VM | FL_VIP | FL_VIF;
	if (c->rflags & FL_VM)
		keep |= FL_IOPL;
	else if (c->cpl > 0)
		keep |= FL_IOPL | (c->cpl > iopl(c) ? FL_IF : 0);
	if (i->osz == SZ16)
		keep |= ~0xffffull;
	uint64_t nv = ((cur & keep) | (v & ~keep)) & ~(uint64_t)FL_RF;
	cpu_set_rflags(c, nv);
	return EXEC_OK;
}

enum exec_status op_nop_Ev(struct cpu *c, const struct insn *i)
{
	return EXEC_OK;
}

/* HLT: privileged (#GP(0) at CPL > 0); the CPU sleeps after retiring it. */
enum exec_status op_hlt(struct cpu *c, const struct insn *i)
{
	if (c->cpl != 0)
		return cpu_gp0(c);
	return EXEC_HALT;
}
