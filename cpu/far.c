/* Far transfers: JMP/CALL far (direct, through call gates, with the stack
 * switch of an inner-level call), RET far and IRET, in real, virtual-8086,
 * protected and IA-32e modes (SDM vol. 2 CALL, JMP, RET, IRET; vol. 3A 5.8
 * and 6.14). Task switches (task gates, TSS descriptors, IRET with NT=1)
 * go to cpu/task.c.
 */
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/seg.h"
#include "cpu/task.h"

/* A call gate, decoded (SDM 5.8.3, Figure 5-8; 64-bit: 5.8.3.1, Figure 5-9). */
struct gate {
	uint16_t sel;           /* the gate's own selector */
	uint16_t target;        /* code-segment selector */
	uint64_t off;
	unsigned w;             /* push width: 2, 4 or 8 bytes */
	unsigned params;        /* dwords/words copied on a stack switch */
};

static bool to_64bit(const struct cpu *c, uint64_t csd)
{
	return cpu_lma(c) && (desc_ar(csd) & AR_L);
}

/* New RIP: canonical for 64-bit code, within the limit otherwise; #GP(0). */
static bool target_ip_ok(struct cpu *c, uint64_t csd, uint64_t ip)
{
	if (to_64bit(c, csd) ? cpu_canonical(c, ip) : ip <= desc_limit(csd))
		return true;
	return seg_fault(c, VEC_GP, 0);
}

static void stack_commit(struct cpu *c, const struct stack_ref *st)
{
	c->gpr[R_SP] = st->asz == SZ32 ? (uint32_t)st->sp : st->sp;
}

/* ---- JMP / CALL far ---- */

/* Real and virtual-8086 mode: CS = sel, base = sel << 4. */
static enum exec_status far_real(struct cpu *c, unsigned osz, uint16_t sel, uint64_t off, bool call)
{
	struct stack_ref st;
	off &= addr_mask(osz);
	if (off > c->seg[SEG_CS].limit)
		return cpu_gp0(c);
	if (call) {
		uint64_t v[2] = { c->seg[SEG_CS].sel, c->next_rip };
		stack_ref_current(c, &st);
		if (!stack_push(c, &st, v, 2, 1u << osz, 0))
			return EXEC_FAULT;
		stack_commit(c, &st);
	}
	if (c->rflags & FL_VM)
		seg_load_v86(c, SEG_CS, sel);
	else
		seg_load_real(c, SEG_CS, sel);
	c->next_rip = off;
	return EXEC_OK;
}

/* Direct to a code segment: no privilege change (vol. 2 JMP/CALL,
 * "CONFORMING-CODE-SEGMENT" / "NONCONFORMING-CODE-SEGMENT"). */
static bool check_code_direct(struct cpu *c, uint16_t sel, uint64_t d)
{
	uint32_t ar = desc_ar(d);
	unsigned dpl = ar_dpl(ar);
	if (ar_conforming(ar) ? dpl > c->cpl : (sel_rpl(sel) > c->cpl || dpl != c->cpl))
		return seg_fault(c, VEC_GP, sel_err(sel));
	if (cpu_lma(c) && (ar & AR_L) && (ar & AR_DB))
		return seg_fault(c, VEC_GP, sel_err(sel));
	if (!(ar & AR_P))
		return seg_fault(c, VEC_NP, sel_err(sel));
	return true;
}

/* Same-level transfer: push CS:RIP of width w (CALL), load CS with RPL = CPL. */
static enum exec_status far_same_level(struct cpu *c, uint16_t sel, uint64_t d, uint64_t off, unsigned w,
				       bool call)
{
	struct stack_ref st;
	if (!target_ip_ok(c, d, off) || !desc_set_accessed(c, sel, &d))
		return EXEC_FAULT;
	if (call) {
		uint64_t v[2] = { c->seg[SEG_CS].sel, c->next_rip };
		stack_ref_current(c, &st);
		if (w == 8) {           /* 64-bit call gate: 64-bit pushes (5.8.6) */
			st.lm = true;
			st.asz = SZ64;
		}
		if (!stack_push(c, &st, v, 2, w, 0))
			return EXEC_FAULT;
		stack_commit(c, &st);
	}
	seg_commit_cs(c, sel, d, c->cpl);
	c->next_rip = off;
	return EXEC_OK;
}

static bool read_call_gate(struct cpu *c, uint16_t gsel, uint64_t gd, struct gate *g)
{
	uint32_t ar = desc_ar(gd);
	uint64_t hi;
	if (ar_dpl(ar) < c->cpl || ar_dpl(ar) < sel_rpl(gsel))
		return seg_fault(c, VEC_GP, sel_err(gsel));
	if (!(ar & AR_P))
		return seg_fault(c, VEC_NP, sel_err(gsel));
	g->sel = gsel;
	g->target = (uint16_t)(gd >> 16);
	g->off = (gd & 0xffff) | ((gd >> 32) & 0xffff0000ull);
	g->w = (ar & AR_TYPE_MASK) == SYS_CALL_GATE16 ? 2 : 4;
	g->params = (gd >> 32) & 0x1f;
	if (g->w == 2)
		g->off &= 0xffff;
	if (!cpu_lma(c))
		return true;
	if (!desc_read_upper(c, gsel, VEC_GP, sel_err(gsel), &hi))
		return false;
	if ((hi >> 40) & 0x1f)          /* upper type must be 0 */
		return seg_fault(c, VEC_GP, sel_err(gsel));
	g->off |= (hi & 0xffffffffull) << 32;
	g->w = 8;
	g->params = 0;
	return true;
}

/* The gate's code segment: DPL <= CPL; JMP cannot change level; in IA-32e
 * mode it must be 64-bit code (vol. 2 CALL "CALL-GATE"). */
static bool check_gate_target(struct cpu *c, const struct gate *g, bool call, uint64_t *d)
{
	uint16_t t = g->target;
	if (sel_null(t))
		return seg_fault(c, VEC_GP, 0);
	if (!desc_read(c, t, VEC_GP, sel_err(t), d))
		return false;
	uint32_t ar = desc_ar(*d);
	if (!ar_code(ar) || ar_dpl(ar) > c->cpl)
		return seg_fault(c, VEC_GP, sel_err(t));
	if (cpu_lma(c) && (!(ar & AR_L) || (ar & AR_DB)))
		return seg_fault(c, VEC_GP, sel_err(t));
	if (!call && !ar_conforming(ar) && ar_dpl(ar) != c->cpl)
		return seg_fault(c, VEC_GP, sel_err(t));
	if (!(ar & AR_P))
		return seg_fault(c, VEC_NP, sel_err(t));
	return true;
}

/* The inner stack of a call gate: SS:ESP from the TSS (checked as a new
 * stack), or in IA-32e mode RSPn with a null SS (SDM 5.8.5, 5.8.6). */
static bool gate_inner_stack(struct cpu *c, const struct gate *g, unsigned dpl, uint16_t *ss, uint64_t *ssd,
			     struct stack_ref *st)
{
	uint64_t sp;
	if (g->w == 8) {
		if (!tss_read_rsp(c, 4 + 8 * dpl, 0, &sp))
			return false;
		*ss = (uint16_t)dpl;
		*ssd = 0;
		*st = (struct stack_ref){ .sp = sp, .asz = SZ64, .lm = true };
		return true;
	}
	if (!tss_inner_stack(c, dpl, 0, ss, &sp) || !seg_check_new_ss(c, *ss, dpl, 0, ssd))
		return false;
	stack_ref_desc(st, *ssd, sp, false);
	return true;
}

/* Old SS, old ESP, the parameters in the caller's order, CS, EIP. */
static bool gate_frame(struct cpu *c, const struct gate *g, uint64_t *v, unsigned *n)
{
	unsigned k = 0;
	v[k++] = c->seg[SEG_SS].sel;
	v[k++] = c->gpr[R_SP];
	for (unsigned p = g->params; p-- > 0;)
		if (!stack_peek(c, (uint64_t)p * g->w, g->w, &v[k++]))
			return false;
	v[k++] = c->seg[SEG_CS].sel;
	v[k++] = c->next_rip;
	*n = k;
	return true;
}

static enum exec_status call_gate_inner(struct cpu *c, const struct gate *g, uint64_t d)
{
	unsigned dpl = ar_dpl(desc_ar(d)), n;
	uint64_t ssd, v[40];
	uint16_t ss;
	struct stack_ref st;
	if (!gate_inner_stack(c, g, dpl, &ss, &ssd, &st) || !gate_frame(c, g, v, &n) ||
	    !target_ip_ok(c, d, g->off) || !desc_set_accessed(c, g->target, &d))
		return EXEC_FAULT;
	if (g->w != 8 && !desc_set_accessed(c, ss, &ssd))
		return EXEC_FAULT;
	if (!stack_push(c, &st, v, n, g->w, sel_err(ss)))
		return EXEC_FAULT;
	if (g->w == 8)
		seg_make_null(&c->seg[SEG_SS], ss);
	else
		seg_from_desc(&c->seg[SEG_SS], ss, ssd);
	stack_commit(c, &st);
	seg_commit_cs(c, g->target, d, dpl);
	c->next_rip = g->off;
	return EXEC_OK;
}

static enum exec_status far_gate(struct cpu *c, uint16_t gsel, uint64_t gd, bool call)
{
	struct gate g;
	uint64_t d;
	if (!read_call_gate(c, gsel, gd, &g) || !check_gate_target(c, &g, call, &d))
		return EXEC_FAULT;
	uint32_t ar = desc_ar(d);
	if (call && !ar_conforming(ar) && ar_dpl(ar) < c->cpl)
		return call_gate_inner(c, &g, d);
	return far_same_level(c, g.target, d, g.off, g.w, call);
}

static enum exec_status far_system(struct cpu *c, uint16_t sel, uint64_t d, bool call, unsigned len)
{
	switch (desc_ar(d) & AR_TYPE_MASK) {
	case SYS_CALL_GATE:
		return far_gate(c, sel, d, call);
	case SYS_CALL_GATE16:
		if (!cpu_lma(c))
			return far_gate(c, sel, d, call);
		break;
	case SYS_TASK_GATE:
	case SYS_TSS16_AVAIL:
	case SYS_TSS_AVAIL:
		if (!cpu_lma(c))        /* IA-32e mode has no task switching: #GP(sel) */
			return task_far(c, sel, d, call, len);
		break;
	default:
		break;
	}
	return cpu_fault(c, VEC_GP, true, sel_err(sel));
}

/* len: the instruction's length (a task switch in non-root reports it). */
static enum exec_status far_transfer(struct cpu *c, const struct insn *i, uint16_t sel, uint64_t off, bool call)
{
	unsigned osz = i->osz;
	uint64_t d;
	if (!cpu_prot(c))
		return far_real(c, osz, sel, off, call);
	if (sel_null(sel))
		return cpu_gp0(c);
	if (!desc_read(c, sel, VEC_GP, sel_err(sel), &d))
		return EXEC_FAULT;
	uint32_t ar = desc_ar(d);
	if (!(ar & AR_S))
		return far_system(c, sel, d, call, i->len);
	if (!ar_code(ar))
		return cpu_fault(c, VEC_GP, true, sel_err(sel));
	if (!check_code_direct(c, sel, d))
		return EXEC_FAULT;
	return far_same_level(c, sel, d, off, 1u << osz, call);
}

enum exec_status op_jmp_Ap(struct cpu *c, const struct insn *i)
{
	return far_transfer(c, i, i->imm2, i->imm, false);
}

enum exec_status op_call_Ap(struct cpu *c, const struct insn *i)
{
	return far_transfer(c, i, i->imm2, i->imm, true);
}

enum exec_status op_jmp_Mp(struct cpu *c, const struct insn *i)
{
	uint64_t off;
	uint16_t sel;
	if (!far_pointer_read(c, i, &off, &sel))
		return EXEC_FAULT;
	return far_transfer(c, i, sel, off, false);
}

enum exec_status op_call_Mp(struct cpu *c, const struct insn *i)
{
	uint64_t off;
	uint16_t sel;
	if (!far_pointer_read(c, i, &off, &sel))
		return EXEC_FAULT;
	return far_transfer(c, i, sel, off, true);
}

/* ---- RET far and IRET: shared checks ---- */

/* The return CS (vol. 2 RET "RETURN-TO-...", IRET "PROTECTED-MODE-RETURN"). */
static bool check_return_cs(struct cpu *c, uint16_t sel, uint64_t *d)
{
	if (sel_null(sel))
		return seg_fault(c, VEC_GP, 0);
	if (!desc_read(c, sel, VEC_GP, sel_err(sel), d))
		return false;
	uint32_t ar = desc_ar(*d);
	unsigned rpl = sel_rpl(sel);
	if (!ar_code(ar) || rpl < c->cpl)
		return seg_fault(c, VEC_GP, sel_err(sel));
	if (ar_conforming(ar) ? ar_dpl(ar) > rpl : ar_dpl(ar) != rpl)
		return seg_fault(c, VEC_GP, sel_err(sel));
	if (cpu_lma(c) && (ar & AR_L) && (ar & AR_DB))
		return seg_fault(c, VEC_GP, sel_err(sel));
	if (!(ar & AR_P))
		return seg_fault(c, VEC_NP, sel_err(sel));
	return true;
}

/* The SS popped by an outer-level return or a 64-bit-mode IRET. A null SS
 * is allowed only when returning to 64-bit mode at a level below 3 with
 * SS.RPL equal to it (IRET "IA-32e-MODE-RETURN"). */
static bool check_return_ss(struct cpu *c, uint16_t ss, unsigned rpl, uint64_t csd, uint64_t *d)
{
	*d = 0;
	if (sel_null(ss)) {
		if (to_64bit(c, csd) && rpl != 3 && sel_rpl(ss) == rpl)
			return true;
		return seg_fault(c, VEC_GP, 0);
	}
	if (!desc_read(c, ss, VEC_GP, sel_err(ss), d))
		return false;
	uint32_t ar = desc_ar(*d);
	if (sel_rpl(ss) != rpl || !ar_writable_data(ar) || ar_dpl(ar) != rpl)
		return seg_fault(c, VEC_GP, sel_err(ss));
	if (!(ar & AR_P))
		return seg_fault(c, VEC_SS, sel_err(ss));
	return desc_set_accessed(c, ss, d);
}

/* What a protected-mode return loads. */
struct ret_target {
	uint64_t ip, csd, sp, ssd;
	uint16_t cs, ss;
	bool load_ss;
};

/* Check CS, then read and check SS:RSP at [SP + ss_off] when they are
 * popped (outer level, or r->load_ss preset by a 64-bit-mode IRET); imm is
 * added to the popped RSP. Sets accessed bits; no register changes. */
static bool check_return(struct cpu *c, struct ret_target *r, uint64_t ss_off, unsigned w, uint64_t imm)
{
	uint64_t sp, ss;
	if (!check_return_cs(c, r->cs, &r->csd))
		return false;
	r->load_ss |= sel_rpl(r->cs) > c->cpl;
	if (r->load_ss) {
		if (!stack_peek(c, ss_off, w, &sp) || !stack_peek(c, ss_off + w, w, &ss))
			return false;
		r->sp = sp + imm;
		r->ss = (uint16_t)ss;
		if (!check_return_ss(c, r->ss, sel_rpl(r->cs), r->csd, &r->ssd))
			return false;
	}
	return target_ip_ok(c, r->csd, r->ip) && desc_set_accessed(c, r->cs, &r->csd);
}

/* Load SS:RSP (when popped), CS and CPL; drop data segments the new level
 * may not use. */
static void commit_return(struct cpu *c, const struct ret_target *r)
{
	bool outer = sel_rpl(r->cs) > c->cpl;
	if (r->load_ss) {
		if (sel_null(r->ss))
			seg_make_null(&c->seg[SEG_SS], r->ss);
		else
			seg_from_desc(&c->seg[SEG_SS], r->ss, r->ssd);
		unsigned asz = to_64bit(c, r->csd) ? SZ64 : (c->seg[SEG_SS].ar & AR_DB) ? SZ32 : SZ16;
		sp_write(c, asz, r->sp);
	}
	seg_commit_cs(c, r->cs, r->csd, sel_rpl(r->cs));
	if (outer)
		seg_drop_inaccessible(c);
	c->next_rip = r->ip;
}

/* ---- RET far ---- */

static enum exec_status retf_real(struct cpu *c, unsigned w, uint64_t ip, uint16_t cs, uint64_t imm)
{
	if (ip > c->seg[SEG_CS].limit)
		return cpu_gp0(c);
	sp_write(c, stack_asz(c), (c->gpr[R_SP] + 2 * w + imm) & addr_mask(stack_asz(c)));
	if (c->rflags & FL_VM)
		seg_load_v86(c, SEG_CS, cs);
	else
		seg_load_real(c, SEG_CS, cs);
	c->next_rip = ip;
	return EXEC_OK;
}

/* The imm16 form releases imm bytes of parameters from both stacks. */
enum exec_status op_retf(struct cpu *c, const struct insn *i)
{
	unsigned w = 1u << i->osz;
	uint64_t imm = (uint16_t)i->imm, ip, cs;
	if (!stack_peek(c, 0, w, &ip) || !stack_peek(c, w, w, &cs))
		return EXEC_FAULT;
	if (!cpu_prot(c))
		return retf_real(c, w, ip, (uint16_t)cs, imm);
	struct ret_target r = { .ip = ip, .cs = (uint16_t)cs };
	if (!check_return(c, &r, 2 * w + imm, w, imm))
		return EXEC_FAULT;
	if (!r.load_ss)
		sp_write(c, stack_asz(c), (c->gpr[R_SP] + 2 * w + imm) & addr_mask(stack_asz(c)));
	commit_return(c, &r);
	return EXEC_OK;
}

/* ---- IRET ---- */

/* Real mode: 32-bit IRET keeps VM, VIF and VIP (vol. 2 IRET,
 * "REAL-ADDRESS-MODE"). */
static enum exec_status iret_real(struct cpu *c, unsigned w, uint64_t ip, uint16_t cs, uint64_t fl)
{
	uint64_t old = cpu_get_rflags(c);
	if (ip > c->seg[SEG_CS].limit)
		return cpu_gp0(c);
	sp_write(c, stack_asz(c), (c->gpr[R_SP] + 3 * w) & addr_mask(stack_asz(c)));
	seg_load_real(c, SEG_CS, cs);
	if (w == 4)
		cpu_set_rflags(c, (fl & 0x257fd5) | (old & 0x1a0000));
	else
		cpu_set_rflags(c, (old & ~0xffffull) | (fl & 0xffff));
	c->next_rip = ip;
	return EXEC_OK;
}

/* Virtual-8086 mode ("RETURN-FROM-VIRTUAL-8086-MODE"): with IOPL = 3 VM,
 * IOPL, VIF and VIP stay. With IOPL < 3 only a 16-bit IRET under CR4.VME
 * runs: the popped IF goes to VIF, IF and IOPL stay, and a popped TF = 1,
 * or IF = 1 while VIP = 1, is #GP(0) (20.4.2); anything else is #GP(0). */
static enum exec_status iret_v86(struct cpu *c, unsigned w, uint64_t ip, uint16_t cs, uint64_t fl)
{
	uint64_t old = cpu_get_rflags(c), keep = FL_VM | FL_IOPL | FL_VIF | FL_VIP;
	bool vme = (old & FL_IOPL) != FL_IOPL;
	if (vme && (!(c->cr4 & CR4_VME) || w != 2 || (fl & FL_TF) || ((fl & FL_IF) && (old & FL_VIP))))
		return cpu_gp0(c);
	if (ip > 0xffff)
		return cpu_gp0(c);
	if (w == 2)
		fl = (old & ~0xffffull) | (fl & 0xffff);
	if (vme) {
		keep |= FL_IF;
		fl = (fl & ~(uint64_t)FL_VIF) | ((fl & FL_IF) ? FL_VIF : 0);
		keep &= ~(uint64_t)FL_VIF;
	}
	sp_write(c, stack_asz(c), (c->gpr[R_SP] + 3 * w) & addr_mask(stack_asz(c)));
	seg_load_v86(c, SEG_CS, cs);
	cpu_set_rflags(c, (fl & ~keep) | (old & keep));
	c->next_rip = ip;
	return EXEC_OK;
}

/* From CPL 0 with VM=1 in the popped EFLAGS: pop ESP, SS, ES, DS, FS, GS
 * and enter virtual-8086 mode ("RETURN-TO-VIRTUAL-8086-MODE"). */
static enum exec_status iret_to_v86(struct cpu *c, uint64_t ip, uint16_t cs, uint64_t fl)
{
	static const uint8_t regs[] = { SEG_SS, SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	uint64_t v[6];
	for (unsigned k = 0; k < 6; k++)
		if (!stack_peek(c, 12 + 4 * k, 4, &v[k]))
			return EXEC_FAULT;
	if (ip > 0xffff)
		return cpu_gp0(c);
	cpu_set_rflags(c, fl);
	seg_load_v86(c, SEG_CS, cs);
	for (unsigned k = 0; k < sizeof(regs); k++)
		seg_load_v86(c, regs[k], (uint16_t)v[k + 1]);
	c->gpr[R_SP] = (uint32_t)v[0];
	c->cpl = 3;
	cpu_mode_changed(c);
	c->next_rip = ip;
	return EXEC_OK;
}

/* Which flags a protected-mode IRET restores, by operand size and the CPL
 * it executes at ("RETURN-TO-SAME-PRIVILEGE-LEVEL"). */
static uint64_t iret_flags(const struct cpu *c, uint64_t old, uint64_t fl, unsigned w)
{
	uint64_t m = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_TF | FL_DF | FL_OF | FL_NT;
	if (w != 2)
		m |= FL_RF | FL_AC | FL_ID;
	if (c->cpl <= ((old & FL_IOPL) >> 12))
		m |= FL_IF;
	if (c->cpl == 0) {
		m |= FL_IOPL;
		if (w != 2)
			m |= FL_VIF | FL_VIP;
	}
	return (old & ~m) | (fl & m);
}

/* Protected and IA-32e mode. 64-bit mode pops SS:RSP at every IRET;
 * elsewhere only on a return to an outer level (SDM 6.14.3). */
static enum exec_status iret_prot(struct cpu *c, unsigned w, uint64_t ip, uint16_t cs, uint64_t fl)
{
	uint64_t old = cpu_get_rflags(c);
	if (!cpu_lma(c) && (fl & FL_VM) && c->cpl == 0 && w == 4)
		return iret_to_v86(c, ip, cs, fl);
	struct ret_target r = { .ip = ip, .cs = cs, .load_ss = c->code64 };
	if (!check_return(c, &r, 3 * w, w, 0))
		return EXEC_FAULT;
	if (!r.load_ss)
		sp_write(c, stack_asz(c), (c->gpr[R_SP] + 3 * w) & addr_mask(stack_asz(c)));
	cpu_set_rflags(c, iret_flags(c, old, fl, w));
	commit_return(c, &r);
	return EXEC_OK;
}

static enum exec_status iret(struct cpu *c, const struct insn *i)
{
	unsigned w = 1u << i->osz;
	uint64_t ip, cs, fl;
	if ((c->cr0 & CR0_PE) && !(c->rflags & FL_VM) && (c->rflags & FL_NT))
		return cpu_lma(c) ? cpu_gp0(c) : task_return(c, i->len);  /* IA-32e: no task switching */
	if (!stack_peek(c, 0, w, &ip) || !stack_peek(c, w, w, &cs) || !stack_peek(c, 2 * w, w, &fl))
		return EXEC_FAULT;
	if (!(c->cr0 & CR0_PE))
		return iret_real(c, w, ip, (uint16_t)cs, fl);
	if (c->rflags & FL_VM)
		return iret_v86(c, w, ip, (uint16_t)cs, fl);
	return iret_prot(c, w, ip, (uint16_t)cs, fl);
}

/* IRET unblocks NMIs even if it faults (6.7.1). In VMX non-root operation
 * the controls decide which blocking it removes, and a fault on it reports
 * whether it did (SDM vol. 3C 25.3, 27.2.2). */
enum exec_status op_iret(struct cpu *c, const struct insn *i)
{
	if (__builtin_expect(c->vmx.nonroot, 0)) {
		vmx_iret_unblock_nmi(c);
		enum exec_status st = iret(c, i);
		if (st != EXEC_FAULT)
			c->vmx.iret_unblocked_nmi = false;
		return st;
	}
	c->nmi_blocked = false;
	return iret(c, i);
}
