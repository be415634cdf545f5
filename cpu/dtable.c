/* Descriptor-table and task-register instructions: LGDT, LIDT, SGDT, SIDT,
 * LLDT, SLDT, LTR, STR, VERR, VERW, LAR, LSL (SDM vol. 2 instruction pages;
 * vol. 3A 3.5.1, 7.2.4, 7.2.3). With CR4.UMIP the stores are #GP(0) at
 * CPL > 0 (vol. 3A 2.5).
 */
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/seg.h"

/* ---- GDTR / IDTR ---- */

/* Limit (2 bytes) then base: 4 bytes, of which a 16-bit operand size keeps
 * 24 bits; 8 bytes in 64-bit mode, where the base must be canonical. */
static enum exec_status load_dtable(struct cpu *c, const struct insn *i, struct dtable *t)
{
	uint64_t ea = insn_ea(c, i), limit, base;
	unsigned bw = c->code64 ? 8 : 4;
	if (!cpu_supervisor(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) &&
	    vmx_intercept_dtable(c, i, t == &c->gdtr ? VMX_DT_LGDT : VMX_DT_LIDT))
		return EXEC_OK;         /* descriptor-table exiting (SDM vol. 3C 25.1.3) */
	if (!mem_read_seg(c, i->seg, ea, 2, &limit) ||
	    !mem_read_seg(c, i->seg, (ea + 2) & addr_mask(i->asz), bw, &base))
		return EXEC_FAULT;
	if (c->code64 && !cpu_canonical(c, base))
		return cpu_gp0(c);
	if (!c->code64 && i->osz == SZ16)
		base &= 0xffffff;
	t->limit = (uint16_t)limit;
	t->base = base;
	return EXEC_OK;
}

/* Limit then base: 4 bytes whatever the operand size (the 80286's 0xff
 * top byte is gone since the 386), 8 in 64-bit mode. */
static enum exec_status store_dtable(struct cpu *c, const struct insn *i, const struct dtable *t)
{
	uint64_t ea = insn_ea(c, i), ea2 = (ea + 2) & addr_mask(i->asz);
	unsigned bw = c->code64 ? 8 : 4;
	if (cpu_umip_denies(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) &&
	    vmx_intercept_dtable(c, i, t == &c->gdtr ? VMX_DT_SGDT : VMX_DT_SIDT))
		return EXEC_OK;
	if (!mem_probe_write(c, i->seg, ea, 2) || !mem_probe_write(c, i->seg, ea2, bw) ||
	    !mem_write_seg(c, i->seg, ea, 2, t->limit) || !mem_write_seg(c, i->seg, ea2, bw, t->base))
		return EXEC_FAULT;
	return EXEC_OK;
}

enum exec_status op_lgdt_Ms(struct cpu *c, const struct insn *i)
{
	return load_dtable(c, i, &c->gdtr);
}

enum exec_status op_lidt_Ms(struct cpu *c, const struct insn *i)
{
	return load_dtable(c, i, &c->idtr);
}

enum exec_status op_sgdt_Ms(struct cpu *c, const struct insn *i)
{
	return store_dtable(c, i, &c->gdtr);
}

enum exec_status op_sidt_Ms(struct cpu *c, const struct insn *i)
{
	return store_dtable(c, i, &c->idtr);
}

/* ---- LDTR / TR ---- */

static bool ldt_type(const struct cpu *c, unsigned type)
{
	(void)c;
	return type == SYS_LDT;
}

/* Available TSS; 16-bit TSSs do not exist in IA-32e mode (7.7). */
static bool tss_type(const struct cpu *c, unsigned type)
{
	return type == SYS_TSS_AVAIL || (type == SYS_TSS16_AVAIL && !cpu_lma(c));
}

/* An LDT or TSS descriptor: in the GDT, of the wanted type, present; in
 * IA-32e mode 16 bytes, upper type 0, canonical base (vol. 2 LLDT, LTR). */
static bool read_system_desc(struct cpu *c, uint16_t sel, bool (*type_ok)(const struct cpu *, unsigned),
			     uint64_t *d, uint64_t *base)
{
	uint64_t hi;
	if (sel & SEL_TI)
		return seg_fault(c, VEC_GP, sel_err(sel));
	if (!desc_read(c, sel, VEC_GP, sel_err(sel), d))
		return false;
	uint32_t ar = desc_ar(*d);
	if ((ar & AR_S) || !type_ok(c, ar & AR_TYPE_MASK))
		return seg_fault(c, VEC_GP, sel_err(sel));
	if (!(ar & AR_P))
		return seg_fault(c, VEC_NP, sel_err(sel));
	*base = desc_base(*d);
	if (!cpu_lma(c))
		return true;
	if (!desc_read_upper(c, sel, VEC_GP, sel_err(sel), &hi))
		return false;
	*base |= (hi & 0xffffffffull) << 32;
	if (((hi >> 40) & 0x1f) || !cpu_canonical(c, *base))
		return seg_fault(c, VEC_GP, sel_err(sel));
	return true;
}

/* A null selector leaves LDTR unusable (vol. 2 LLDT). */
enum exec_status op_lldt_Ew(struct cpu *c, const struct insn *i)
{
	uint64_t v, d, base;
	if (!cpu_prot(c))
		return cpu_ud(c);
	if (c->cpl != 0)
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_dtable(c, i, VMX_DT_LLDT))
		return EXEC_OK;
	if (!rm_read_sz(c, i, SZ16, &v))
		return EXEC_FAULT;
	uint16_t sel = (uint16_t)v;
	if (sel_null(sel)) {
		seg_make_null(&c->ldtr, sel);
		return EXEC_OK;
	}
	if (!read_system_desc(c, sel, ldt_type, &d, &base))
		return EXEC_FAULT;
	seg_from_desc(&c->ldtr, sel, d);
	c->ldtr.base = base;
	return EXEC_OK;
}

/* LTR marks the TSS busy in its descriptor (vol. 2 LTR; 7.2.4). */
enum exec_status op_ltr_Ew(struct cpu *c, const struct insn *i)
{
	uint64_t v, d, base;
	if (!cpu_prot(c))
		return cpu_ud(c);
	if (c->cpl != 0)
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_dtable(c, i, VMX_DT_LTR))
		return EXEC_OK;
	if (!rm_read_sz(c, i, SZ16, &v))
		return EXEC_FAULT;
	uint16_t sel = (uint16_t)v;
	if (sel_null(sel))
		return cpu_gp0(c);
	if (!read_system_desc(c, sel, tss_type, &d, &base) || !desc_or_type(c, sel, &d, 2))
		return EXEC_FAULT;
	seg_from_desc(&c->tr, sel, d);
	c->tr.base = base;
	return EXEC_OK;
}

/* A register destination gets the selector zero-extended to the operand
 * size; memory always 16 bits (vol. 2 SLDT, STR). */
static enum exec_status store_sel(struct cpu *c, const struct insn *i, uint16_t sel, enum vmx_dt_insn which)
{
	if (!cpu_prot(c))
		return cpu_ud(c);
	if (cpu_umip_denies(c))
		return cpu_gp0(c);
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_dtable(c, i, which))
		return EXEC_OK;
	if (i->flags & IF_MOD3) {
		reg_write(c, i->rm, i->osz == SZ16 ? SZ16 : SZ64, sel);
		return EXEC_OK;
	}
	return mem_write_seg(c, i->seg, insn_ea(c, i), 2, sel) ? EXEC_OK : EXEC_FAULT;
}

enum exec_status op_sldt_Ev(struct cpu *c, const struct insn *i)
{
	return store_sel(c, i, c->ldtr.sel, VMX_DT_SLDT);
}

enum exec_status op_str_Ev(struct cpu *c, const struct insn *i)
{
	return store_sel(c, i, c->tr.sel, VMX_DT_STR);
}

/* ---- VERR / VERW ---- */

/* Readable (VERR) or writable (VERW) at the current CPL and the selector's
 * RPL; conforming code passes VERR at any level. No present check. */
static bool verify_rights(const struct cpu *c, uint16_t sel, uint64_t d, bool write)
{
	uint32_t ar = desc_ar(d);
	unsigned dpl = ar_dpl(ar);
	bool level_ok = dpl >= c->cpl && dpl >= sel_rpl(sel);
	if (write)
		return ar_writable_data(ar) && level_ok;
	return ar_readable(ar) && (ar_conforming(ar) || level_ok);
}

static void set_zf(struct cpu *c, bool zf)
{
	lf_materialize(c);
	c->rflags = (c->rflags & ~(uint64_t)FL_ZF) | (zf ? FL_ZF : 0);
}

/* The selector operand of VERR/VERW/LAR/LSL (protected mode only, else
 * #UD) and its descriptor: *found = false for a null or out-of-table
 * selector, which is ZF = 0, not a fault. */
static enum exec_status selector_operand(struct cpu *c, const struct insn *i, uint16_t *sel, bool *found,
					 uint64_t *d)
{
	uint64_t v;
	*found = false;
	if (!cpu_prot(c))
		return cpu_ud(c);
	if (!rm_read_sz(c, i, SZ16, &v))
		return EXEC_FAULT;
	*sel = (uint16_t)v;
	if (!sel_null(*sel) && !desc_lookup(c, *sel, found, d))
		return EXEC_FAULT;
	return EXEC_OK;
}

/* ZF = 1 when the segment may be accessed. */
static enum exec_status verify(struct cpu *c, const struct insn *i, bool write)
{
	uint64_t d = 0;
	uint16_t sel;
	bool found;
	if (selector_operand(c, i, &sel, &found, &d) != EXEC_OK)
		return EXEC_FAULT;
	set_zf(c, found && verify_rights(c, sel, d, write));
	return EXEC_OK;
}

enum exec_status op_verr_Ew(struct cpu *c, const struct insn *i)
{
	return verify(c, i, false);
}

enum exec_status op_verw_Ew(struct cpu *c, const struct insn *i)
{
	return verify(c, i, true);
}

/* ---- LAR / LSL ---- */

/* System descriptor types LAR reports (SDM vol. 2 LAR, Table 3-52 "Segment
 * and Gate Types"): in IA-32e mode only the 64-bit TSSs and call gate. */
static bool lar_type_ok(const struct cpu *c, unsigned type)
{
	if (cpu_lma(c))
		return type == SYS_TSS_AVAIL || type == SYS_TSS_BUSY || type == SYS_CALL_GATE;
	return type == SYS_TSS16_AVAIL || type == SYS_LDT || type == SYS_TSS16_BUSY || type == SYS_CALL_GATE16 ||
	       type == SYS_TASK_GATE || type == SYS_TSS_AVAIL || type == SYS_TSS_BUSY || type == SYS_CALL_GATE;
}

/* System descriptors that have a limit, for LSL (SDM vol. 2 LSL, its
 * "Segment and Gate Types" table): TSSs and the LDT; in IA-32e mode the
 * LDT and 64-bit TSSs. */
static bool lsl_type_ok(const struct cpu *c, unsigned type)
{
	if (cpu_lma(c))
		return type == SYS_LDT || type == SYS_TSS_AVAIL || type == SYS_TSS_BUSY;
	return type == SYS_TSS16_AVAIL || type == SYS_LDT || type == SYS_TSS16_BUSY || type == SYS_TSS_AVAIL ||
	       type == SYS_TSS_BUSY;
}

/* The checks LAR and LSL share: a non-null selector inside its table, a
 * code/data descriptor or a system type the instruction accepts, and unless
 * conforming code, DPL >= CPL and DPL >= RPL. *ok = false means ZF = 0 and
 * nothing loaded, not a fault; only protected mode knows the instructions. */
static enum exec_status access_check(struct cpu *c, const struct insn *i, bool lsl, bool *ok, uint64_t *d)
{
	uint16_t sel;
	bool found;
	*ok = false;
	if (selector_operand(c, i, &sel, &found, d) != EXEC_OK)
		return EXEC_FAULT;
	uint32_t ar = desc_ar(*d);
	if (!found || (!(ar & AR_S) && !(lsl ? lsl_type_ok : lar_type_ok)(c, ar & AR_TYPE_MASK)))
		return EXEC_OK;
	*ok = ar_conforming(ar) || (c->cpl <= ar_dpl(ar) && sel_rpl(sel) <= ar_dpl(ar));
	return EXEC_OK;
}

/* LAR: bytes 4-7 of the descriptor masked with FF00H (16-bit operand) or
 * 00FxFF00H, bits 19:16 ("x", undefined) returned as 0. */
enum exec_status op_lar_Gv_Ew(struct cpu *c, const struct insn *i)
{
	uint64_t d = 0;
	bool ok;
	if (access_check(c, i, false, &ok, &d) != EXEC_OK)
		return EXEC_FAULT;
	if (ok)
		reg_write(c, i->reg, i->osz, (d >> 32) & (i->osz == SZ16 ? 0xff00u : 0x00f0ff00u));
	set_zf(c, ok);
	return EXEC_OK;
}

/* LSL: the byte-granular segment limit (G applied), truncated to 16 bits
 * with a 16-bit operand. */
enum exec_status op_lsl_Gv_Ew(struct cpu *c, const struct insn *i)
{
	uint64_t d = 0;
	bool ok;
	if (access_check(c, i, true, &ok, &d) != EXEC_OK)
		return EXEC_FAULT;
	if (ok)
		reg_write(c, i->reg, i->osz, desc_limit(d));
	set_zf(c, ok);
	return EXEC_OK;
}
