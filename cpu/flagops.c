/* Flag instructions and simple control: CLC STC CMC CLD STD, LAHF SAHF,
 * PUSHF POPF CLI STI (with the IOPL/VM rules of SDM vol. 2 and the virtual
 * interrupt flag of CR4.VME / CR4.PVI, vol. 3A 20.3-20.4), NOP forms, HLT. */
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/seg.h"

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

/* Virtual-8086 mode with IOPL < 3: a 16-bit PUSHF/POPF under CR4.VME
 * works on VIF in place of IF (vol. 2 PUSHF, POPF); anything else there
 * is #GP(0). */
static bool v86_vme_16(const struct cpu *c, const struct insn *i)
{
	return (c->cr4 & CR4_VME) && i->osz == SZ16;
}

/* PUSHF: VM and RF are pushed as 0; under VME the pushed IF is VIF and
 * the pushed IOPL 3. */
enum exec_status op_pushf(struct cpu *c, const struct insn *i)
{
	uint64_t v = cpu_get_rflags(c) & ~(uint64_t)(FL_VM | FL_RF);
	if ((c->rflags & FL_VM) && iopl(c) < 3) {
		if (!v86_vme_16(c, i))
			return cpu_gp0(c);
		v = (v & ~(uint64_t)FL_IF) | FL_IOPL | ((v & FL_VIF) ? FL_IF : 0);
	}
	return cpu_push(c, i->osz, v) ? EXEC_OK : EXEC_FAULT;
}

/* POPF under VME (IOPL < 3, 16-bit): IF and IOPL stay, the popped IF goes
 * to VIF; a popped TF = 1, or IF = 1 while VIP = 1, is #GP(0). */
static enum exec_status popf_vme(struct cpu *c, uint64_t cur)
{
	uint64_t v;
	if (!stack_peek(c, 0, 2, &v))
		return EXEC_FAULT;
	if ((v & FL_TF) || ((v & FL_IF) && (cur & FL_VIP)))
		return cpu_gp0(c);
	if (!cpu_pop(c, SZ16, &v))
		return EXEC_FAULT;
	uint64_t keep = ~0xffffull | FL_IF | FL_IOPL;
	uint64_t nv = ((cur & keep) | (v & ~keep)) & ~(uint64_t)FL_VIF;
	cpu_set_rflags(c, nv | ((v & FL_IF) ? FL_VIF : 0));
	return EXEC_OK;
}

/* POPF: which bits may change depends on CPL and IOPL (SDM vol. 2 POPF
 * operation section). VM, VIP and VIF never change; RF is cleared. */
enum exec_status op_popf(struct cpu *c, const struct insn *i)
{
	uint64_t v, cur = cpu_get_rflags(c);
	if ((c->rflags & FL_VM) && iopl(c) < 3)
		return v86_vme_16(c, i) ? popf_vme(c, cur) : cpu_gp0(c);
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

/* ---- CLI / STI (vol. 2 CLI, STI) ---- */

/* Where CLI/STI act: on IF (real mode, CPL <= IOPL, virtual-8086 mode
 * with IOPL 3), on VIF (virtual-8086 mode with VME, or CPL 3 with PVI,
 * when IOPL is too low), or nowhere (#GP(0)). */
enum if_target { IFT_IF, IFT_VIF, IFT_GP };

static enum if_target if_target(const struct cpu *c)
{
	if (!(c->cr0 & CR0_PE))
		return IFT_IF;
	if (c->rflags & FL_VM)
		return iopl(c) == 3 ? IFT_IF : (c->cr4 & CR4_VME) ? IFT_VIF : IFT_GP;
	if (c->cpl <= iopl(c))
		return IFT_IF;
	return c->cpl == 3 && (c->cr4 & CR4_PVI) ? IFT_VIF : IFT_GP;
}

enum exec_status op_cli(struct cpu *c, const struct insn *i)
{
	(void)i;
	switch (if_target(c)) {
	case IFT_IF: c->rflags &= ~(uint64_t)FL_IF; return EXEC_OK;
	case IFT_VIF: c->rflags &= ~(uint64_t)FL_VIF; return EXEC_OK;
	default: return cpu_gp0(c);
	}
}

/* STI delays interrupts by one instruction only when it sets IF (6.8.3);
 * setting VIF while VIP is set is #GP(0) instead (20.3.2). */
enum exec_status op_sti(struct cpu *c, const struct insn *i)
{
	(void)i;
	switch (if_target(c)) {
	case IFT_IF:
		if (!(c->rflags & FL_IF)) {
			c->rflags |= FL_IF;
			c->sti_shadow = true;
		}
		return EXEC_OK;
	case IFT_VIF:
		if (c->rflags & FL_VIP)
			return cpu_gp0(c);
		c->rflags |= FL_VIF;
		return EXEC_OK;
	default:
		return cpu_gp0(c);
	}
}

enum exec_status op_nop_Ev(struct cpu *c, const struct insn *i)
{
	return EXEC_OK;
}

/* HLT: privileged (#GP(0) at CPL > 0); the CPU sleeps after retiring it.
 * In VMX non-root operation "HLT exiting" after the #GP (SDM vol. 3C
 * 25.1.3); without it the guest halts natively. */
enum exec_status op_hlt(struct cpu *c, const struct insn *i)
{
	if (c->cpl != 0)
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_hlt(c, i))
		return EXEC_OK;
	return EXEC_HALT;
}
