/* Fast system calls: SYSCALL/SYSRET and SYSENTER/SYSEXIT (SDM vol. 2
 * instruction pages; vol. 3A 5.8.7, 5.8.8). They load CS and SS with fixed
 * flat descriptors, not from the GDT. */
#include "cpu/cpuid.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/seg.h"

/* Fixed access rights: code type 11 (execute/read, accessed), data type 3
 * (read/write, accessed), S, P, G; 64-bit code L=1, 32-bit D/B=1. */
#define AR_FLAT_CODE64(dpl) (0xbu | AR_S | AR_P | AR_L | AR_G | ((dpl) << AR_DPL_SHIFT))
#define AR_FLAT_CODE32(dpl) (0xbu | AR_S | AR_P | AR_DB | AR_G | ((dpl) << AR_DPL_SHIFT))
#define AR_FLAT_DATA(dpl) (0x3u | AR_S | AR_P | AR_DB | AR_G | ((dpl) << AR_DPL_SHIFT))

static void load_flat(struct segment *s, uint16_t sel, uint32_t ar)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffffu;
	s->ar = ar;
}

/* Enter CPL 0 (SYSCALL, SYSENTER) or 3 (SYSRET, SYSEXIT) with flat CS/SS;
 * the selectors get RPL = cpl. */
static void enter_flat(struct cpu *c, uint16_t cs, uint16_t ss, bool code64, unsigned cpl)
{
	load_flat(&c->seg[SEG_CS], (uint16_t)(cs | cpl), code64 ? AR_FLAT_CODE64(cpl) : AR_FLAT_CODE32(cpl));
	load_flat(&c->seg[SEG_SS], (uint16_t)(ss | cpl), AR_FLAT_DATA(cpl));
	c->cpl = (uint8_t)cpl;
	cpu_mode_changed(c);
}

/* 64-bit mode only, with EFER.SCE: RCX = next RIP, R11 = RFLAGS, RFLAGS &=
 * ~IA32_FMASK (and RF), CS = STAR[47:32] AND FFFCH, SS = STAR[47:32] + 8
 * (not masked: its RPL bits stay), RIP = LSTAR. */
enum exec_status op_syscall(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!c->code64 || !(c->efer & EFER_SCE))
		return cpu_ud(c);
	uint64_t fl = cpu_get_rflags(c);
	c->gpr[R_CX] = c->next_rip;
	c->gpr[R_R11] = fl & ~(uint64_t)FL_RF;
	cpu_set_rflags(c, fl & ~c->msr.sfmask & ~(uint64_t)FL_RF);
	uint16_t star = (uint16_t)(c->msr.star >> 32);
	enter_flat(c, star & 0xfffc, (uint16_t)(star + 8), true, 0);
	c->next_rip = c->msr.lstar;
	return EXEC_OK;
}

/* REX.W returns to 64-bit mode with CS = STAR[63:48] + 16, else to
 * compatibility mode with CS = STAR[63:48]; SS = STAR[63:48] + 8; RFLAGS =
 * (R11 & 3C7FD7H) | 2. */
enum exec_status op_sysret(struct cpu *c, const struct insn *i)
{
	bool to64 = i->osz == SZ64;
	if (!c->code64 || !(c->efer & EFER_SCE))
		return cpu_ud(c);
	if (c->cpl != 0 || (to64 && !cpu_canonical(c, c->gpr[R_CX])))
		return cpu_gp0(c);
	uint16_t base = (uint16_t)(c->msr.star >> 48);
	c->next_rip = to64 ? c->gpr[R_CX] : (uint32_t)c->gpr[R_CX];
	cpu_set_rflags(c, (c->gpr[R_R11] & 0x3c7fd7) | FL_FIXED1);
	enter_flat(c, to64 ? (uint16_t)(base + 16) : base, (uint16_t)(base + 8), to64, 3);
	return EXEC_OK;
}

static uint16_t sysenter_cs(const struct cpu *c)
{
	return (uint16_t)c->msr.sysenter_cs & 0xfffc;
}

/* CS = IA32_SYSENTER_CS, SS = CS + 8, RIP/RSP from the MSRs (32-bit outside
 * IA-32e mode); clears VM, IF and RF. */
enum exec_status op_sysenter(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (!cpu_has(c, FEAT_SEP))
		return cpu_ud(c);
	if (!(c->cr0 & CR0_PE) || sysenter_cs(c) == 0)
		return cpu_gp0(c);
	bool lma = cpu_lma(c);
	cpu_set_rflags(c, cpu_get_rflags(c) & ~(uint64_t)(FL_VM | FL_IF | FL_RF));
	c->gpr[R_SP] = lma ? c->msr.sysenter_esp : (uint32_t)c->msr.sysenter_esp;
	enter_flat(c, sysenter_cs(c), (uint16_t)(sysenter_cs(c) + 8), lma, 0);
	c->next_rip = lma ? c->msr.sysenter_eip : (uint32_t)c->msr.sysenter_eip;
	return EXEC_OK;
}

/* REX.W: to 64-bit mode, CS = SYSENTER_CS + 32, RIP = RDX, RSP = RCX;
 * else CS = SYSENTER_CS + 16, EIP = EDX, ESP = ECX; SS = CS + 8. */
enum exec_status op_sysexit(struct cpu *c, const struct insn *i)
{
	bool to64 = i->osz == SZ64;
	if (!cpu_has(c, FEAT_SEP))
		return cpu_ud(c);
	if (!(c->cr0 & CR0_PE) || c->cpl != 0 || sysenter_cs(c) == 0)
		return cpu_gp0(c);
	if (to64 && (!cpu_canonical(c, c->gpr[R_DX]) || !cpu_canonical(c, c->gpr[R_CX])))
		return cpu_gp0(c);
	c->next_rip = to64 ? c->gpr[R_DX] : (uint32_t)c->gpr[R_DX];
	c->gpr[R_SP] = to64 ? c->gpr[R_CX] : (uint32_t)c->gpr[R_CX];
	uint16_t cs = (uint16_t)(sysenter_cs(c) + (to64 ? 32 : 16));
	enter_flat(c, cs, (uint16_t)(cs + 8), to64, 3);
	return EXEC_OK;
}
