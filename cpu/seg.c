/* Segmentation: descriptor tables, segment-register loads, TSS stack fields,
 * stack frames, and the instructions that move selectors and descriptor
 * tables (SDM vol. 3A 3.4-3.5, 5.5-5.10; vol. 2 MOV Sreg, PUSH/POP Sreg,
 * LDS..LSS, LGDT/LIDT/SGDT/SIDT, LLDT/SLDT, LTR/STR, VERR/VERW, SMSW/LMSW).
 * Far transfers live in cpu/far.c.
 */
#include "cpu/seg.h"

#include <assert.h>

#include "cpu/handlers.h"
#include "cpu/operand.h"

bool seg_fault(struct cpu *c, unsigned vec, uint32_t err)
{
	cpu_fault(c, vec, true, err);
	return false;
}

/* ---- system memory ---- */

/* Linear addresses wrap at 4 GiB outside IA-32e mode. */
static uint64_t sys_la(const struct cpu *c, uint64_t la)
{
	return cpu_lma(c) ? la : (la & 0xffffffffull);
}

bool sys_read(struct cpu *c, uint64_t la, unsigned size, uint64_t *v)
{
	struct mem_view mv = cpu_view(c);
	struct xlate_fault f;
	if (mem_access_slow(&mv, sys_la(c, la), size, ACC_READ | ACC_IMPLICIT, v, &f))
		return true;
	return cpu_page_fault(c, &f);
}

bool sys_write(struct cpu *c, uint64_t la, unsigned size, uint64_t v)
{
	struct mem_view mv = cpu_view(c);
	struct xlate_fault f;
	if (mem_access_slow(&mv, sys_la(c, la), size, ACC_WRITE | ACC_IMPLICIT, &v, &f))
		return true;
	return cpu_page_fault(c, &f);
}

/* ---- descriptors ---- */

/* Linear address of bytes [at, at+len) of sel's descriptor, or false when
 * they lie past the table limit (SDM 3.5.1). */
static bool desc_addr(const struct cpu *c, uint16_t sel, unsigned at, unsigned len, uint64_t *la)
{
	uint64_t base = c->gdtr.base;
	uint32_t limit = c->gdtr.limit;
	if (sel & SEL_TI) {
		if (c->ldtr.ar & AR_UNUSABLE)
			return false;
		base = c->ldtr.base;
		limit = c->ldtr.limit;
	}
	uint32_t off = (sel & 0xfff8u) + at;
	if (off + len - 1 > limit)
		return false;
	*la = base + off;
	return true;
}

bool desc_read(struct cpu *c, uint16_t sel, unsigned vec, uint32_t err, uint64_t *d)
{
	uint64_t la;
	if (!desc_addr(c, sel, 0, 8, &la))
		return seg_fault(c, vec, err);
	return sys_read(c, la, 8, d);
}

bool desc_read_upper(struct cpu *c, uint16_t sel, unsigned vec, uint32_t err, uint64_t *hi)
{
	uint64_t la;
	if (!desc_addr(c, sel, 8, 8, &la))
		return seg_fault(c, vec, err);
	return sys_read(c, la, 8, hi);
}

bool desc_lookup(struct cpu *c, uint16_t sel, bool *found, uint64_t *d)
{
	uint64_t la;
	*found = desc_addr(c, sel, 0, 8, &la);
	return !*found || sys_read(c, la, 8, d);
}

bool desc_or_type(struct cpu *c, uint16_t sel, uint64_t *d, uint64_t bits)
{
	uint64_t la;
	bool ok = desc_addr(c, sel, 5, 1, &la);
	assert(ok);     /* the descriptor was just read through the same table */
	if (!sys_write(c, la, 1, ((*d >> 40) | bits) & 0xff))
		return false;
	*d |= bits << 40;
	return true;
}

bool desc_set_accessed(struct cpu *c, uint16_t sel, uint64_t *d)
{
	if (*d & (1ull << 40))
		return true;
	return desc_or_type(c, sel, d, AR_TYPE_ACCESSED);
}

/* ---- segment registers ---- */

void seg_from_desc(struct segment *s, uint16_t sel, uint64_t d)
{
	s->sel = sel;
	s->base = desc_base(d);
	s->limit = desc_limit(d);
	s->ar = desc_ar(d);
}

/* Intel processors clear the base on a null load, also FS/GS in 64-bit
 * mode; SS.DPL always equals CPL, even for a null SS (SDM 24.4.1). */
void seg_make_null(struct segment *s, uint16_t sel)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0;
	s->ar = AR_UNUSABLE | (sel_rpl(sel) << AR_DPL_SHIFT);
}

void seg_load_flat(struct cpu *c, unsigned seg, uint16_t sel)
{
	struct segment *s = &c->seg[seg];
	s->sel = sel;
	s->base = 0;
	s->limit = 0xffffffffu;
	s->ar = AR_G | AR_DB | AR_P | AR_S | (seg == SEG_CS ? 0xbu : 0x3u);
}

/* Real mode changes selector and base only. A register left unusable by
 * protected mode becomes a 64 KiB read/write data segment again, the state
 * real-mode code can rely on. */
void seg_load_real(struct cpu *c, unsigned seg, uint16_t sel)
{
	struct segment *s = &c->seg[seg];
	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	if (s->ar & AR_UNUSABLE) {
		s->ar = AR_P | AR_S | 0x3u;
		s->limit = 0xffff;
	}
}

void seg_load_v86(struct cpu *c, unsigned seg, uint16_t sel)
{
	struct segment *s = &c->seg[seg];
	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	s->limit = 0xffff;
	s->ar = AR_P | AR_S | (3u << AR_DPL_SHIFT) | 0x3u;
}

/* MOV/POP SS (SDM vol. 2 MOV, "IF SS is loaded"). A null SS is allowed in
 * 64-bit mode at CPL < 3 when RPL = CPL (MOV, 64-bit mode exceptions). */
static bool load_ss(struct cpu *c, uint16_t sel)
{
	uint64_t d;
	if (sel_null(sel)) {
		if (!c->code64 || c->cpl == 3 || sel_rpl(sel) != c->cpl)
			return seg_fault(c, VEC_GP, 0);
		seg_make_null(&c->seg[SEG_SS], sel);
		return true;
	}
	if (!desc_read(c, sel, VEC_GP, sel_err(sel), &d))
		return false;
	uint32_t ar = desc_ar(d);
	if (sel_rpl(sel) != c->cpl || !ar_writable_data(ar) || ar_dpl(ar) != c->cpl)
		return seg_fault(c, VEC_GP, sel_err(sel));
	if (!(ar & AR_P))
		return seg_fault(c, VEC_SS, sel_err(sel));
	if (!desc_set_accessed(c, sel, &d))
		return false;
	seg_from_desc(&c->seg[SEG_SS], sel, d);
	return true;
}

/* DS/ES/FS/GS (SDM vol. 2 MOV). In 64-bit mode FS/GS take the descriptor's
 * 32-bit base like the others (3.4.4). */
static bool load_data(struct cpu *c, unsigned seg, uint16_t sel)
{
	uint64_t d;
	if (sel_null(sel)) {
		seg_make_null(&c->seg[seg], sel);
		return true;
	}
	if (!desc_read(c, sel, VEC_GP, sel_err(sel), &d))
		return false;
	uint32_t ar = desc_ar(d);
	if (!ar_readable(ar))
		return seg_fault(c, VEC_GP, sel_err(sel));
	if (!ar_conforming(ar) && (sel_rpl(sel) > ar_dpl(ar) || c->cpl > ar_dpl(ar)))
		return seg_fault(c, VEC_GP, sel_err(sel));
	if (!(ar & AR_P))
		return seg_fault(c, VEC_NP, sel_err(sel));
	if (!desc_set_accessed(c, sel, &d))
		return false;
	seg_from_desc(&c->seg[seg], sel, d);
	return true;
}

bool seg_load(struct cpu *c, unsigned seg, uint16_t sel)
{
	assert(seg != SEG_CS && seg < 6);
	if (!(c->cr0 & CR0_PE)) {
		seg_load_real(c, seg, sel);
		return true;
	}
	if (c->rflags & FL_VM) {
		seg_load_v86(c, seg, sel);
		return true;
	}
	return seg == SEG_SS ? load_ss(c, sel) : load_data(c, seg, sel);
}

bool seg_check_new_ss(struct cpu *c, uint16_t sel, unsigned dpl, uint32_t ext, uint64_t *d)
{
	if (sel_null(sel))
		return seg_fault(c, VEC_TS, ext);
	if (!desc_read(c, sel, VEC_TS, sel_err(sel) | ext, d))
		return false;
	uint32_t ar = desc_ar(*d);
	if (sel_rpl(sel) != dpl || ar_dpl(ar) != dpl || !ar_writable_data(ar))
		return seg_fault(c, VEC_TS, sel_err(sel) | ext);
	if (!(ar & AR_P))
		return seg_fault(c, VEC_SS, sel_err(sel) | ext);
	return true;
}

void seg_commit_cs(struct cpu *c, uint16_t sel, uint64_t d, unsigned cpl)
{
	seg_from_desc(&c->seg[SEG_CS], (uint16_t)((sel & 0xfffcu) | cpl), d);
	c->cpl = (uint8_t)cpl;
	cpu_mode_changed(c);
}

void seg_drop_inaccessible(struct cpu *c)
{
	static const uint8_t regs[] = { SEG_ES, SEG_FS, SEG_GS, SEG_DS };
	for (unsigned k = 0; k < sizeof(regs); k++) {
		struct segment *s = &c->seg[regs[k]];
		if (!(s->ar & AR_UNUSABLE) && !ar_conforming(s->ar) && ar_dpl(s->ar) < c->cpl)
			seg_make_null(s, 0);
	}
}

/* ---- TSS stack fields ---- */

bool tss_inner_stack(struct cpu *c, unsigned dpl, uint32_t ext, uint16_t *ss, uint64_t *sp)
{
	unsigned type = c->tr.ar & AR_TYPE_MASK;
	bool t32 = type == SYS_TSS_BUSY || type == SYS_TSS_AVAIL;
	uint32_t off = t32 ? (dpl << 3) + 4 : (dpl << 2) + 2;
	uint64_t sel;
	if ((c->tr.ar & AR_UNUSABLE) || off + (t32 ? 5 : 3) > c->tr.limit)
		return seg_fault(c, VEC_TS, sel_err(c->tr.sel) | ext);
	if (!sys_read(c, c->tr.base + off, t32 ? 4 : 2, sp) ||
	    !sys_read(c, c->tr.base + off + (t32 ? 4 : 2), 2, &sel))
		return false;
	*ss = (uint16_t)sel;
	return true;
}

bool tss_read_rsp(struct cpu *c, unsigned off, uint32_t ext, uint64_t *rsp)
{
	if ((c->tr.ar & AR_UNUSABLE) || off + 7 > c->tr.limit)
		return seg_fault(c, VEC_TS, sel_err(c->tr.sel) | ext);
	return sys_read(c, c->tr.base + off, 8, rsp);
}

/* ---- stack frames ---- */

void stack_ref_current(struct cpu *c, struct stack_ref *st)
{
	const struct segment *ss = &c->seg[SEG_SS];
	*st = (struct stack_ref){ .base = ss->base, .limit = ss->limit, .ar = ss->ar, .sp = c->gpr[R_SP],
				  .asz = (uint8_t)stack_asz(c), .user = c->cpl == 3, .lm = c->code64 };
}

void stack_ref_desc(struct stack_ref *st, uint64_t ss_desc, uint64_t sp, bool user)
{
	uint32_t ar = desc_ar(ss_desc);
	*st = (struct stack_ref){ .base = desc_base(ss_desc), .limit = desc_limit(ss_desc), .ar = ar,
				  .sp = sp, .asz = (ar & AR_DB) ? SZ32 : SZ16, .user = user };
}

/* Linear address of w bytes at offset off, or false past the limits
 * (expand-down: (limit, 0xffff or 0xffffffff], SDM 5.3). */
static bool stack_slot(const struct cpu *c, const struct stack_ref *st, uint64_t off, unsigned w, uint64_t *la)
{
	uint64_t last = off + w - 1;
	if (st->lm) {
		*la = off;
		return cpu_canonical(c, off) && cpu_canonical(c, last);
	}
	if (st->ar & 4u) {
		uint64_t upper = (st->ar & AR_DB) ? 0xffffffffull : 0xffffull;
		if (off <= st->limit || last > upper)
			return false;
	} else if (last > st->limit) {
		return false;
	}
	*la = (st->base + off) & 0xffffffffull;
	return true;
}

/* Translate every page the write touches, before writing anything. */
static bool probe_write(const struct mem_view *mv, uint64_t la, unsigned w, unsigned acc, struct xlate_fault *f)
{
	uint64_t pa;
	if (!mem_translate(mv, la, acc, &pa, f))
		return false;
	return mem_in_page(la, w) || mem_translate(mv, (la | (PAGE_SIZE - 1)) + 1, acc, &pa, f);
}

#define STACK_MAX_VALS 40       /* a call gate copies up to 31 parameters */

bool stack_push(struct cpu *c, struct stack_ref *st, const uint64_t *vals, unsigned n, unsigned w,
		uint32_t err)
{
	uint64_t mask = addr_mask(st->asz), la[STACK_MAX_VALS];
	struct mem_view mv = { &c->tlb, c->phys, &c->xc, st->user, &c->apic_page, &c->apic_access };
	unsigned acc = ACC_WRITE | (st->user ? ACC_USER : 0);
	struct xlate_fault f;
	assert(n <= STACK_MAX_VALS);
	for (unsigned k = 0; k < n; k++)
		if (!stack_slot(c, st, (st->sp - (uint64_t)(k + 1) * w) & mask, w, &la[k]))
			return seg_fault(c, VEC_SS, err);
	for (unsigned k = 0; k < n; k++)
		if (!probe_write(&mv, la[k], w, acc, &f))
			return cpu_page_fault(c, &f);
	for (unsigned k = 0; k < n; k++) {
		uint64_t v = vals[k];
		bool ok = mem_access_slow(&mv, la[k], w, acc, &v, &f);
		assert(ok);     /* probed above */
	}
	st->sp = (st->sp & ~mask) | ((st->sp - (uint64_t)n * w) & mask);
	return true;
}

bool stack_peek(struct cpu *c, uint64_t off, unsigned w, uint64_t *v)
{
	uint64_t mask = addr_mask(stack_asz(c));
	return mem_read_seg(c, SEG_SS, (c->gpr[R_SP] + off) & mask, w, v);
}

void sp_write(struct cpu *c, unsigned asz, uint64_t v)
{
	if (asz == SZ16)
		reg_write(c, R_SP, SZ16, v);
	else
		c->gpr[R_SP] = asz == SZ32 ? (uint32_t)v : v;
}

/* ---- MOV, PUSH, POP of segment registers; LDS..LSS ---- */

enum exec_status op_mov_Ev_Sw(struct cpu *c, const struct insn *i)
{
	if (i->opx > SEG_GS)
		return cpu_ud(c);
	uint16_t sel = c->seg[i->opx].sel;
	if (i->flags & IF_MOD3) {       /* zero-extended into r32/r64 (vol. 2 MOV) */
		reg_write(c, i->rm, i->osz, sel);
		return EXEC_OK;
	}
	return mem_write_seg(c, i->seg, insn_ea(c, i), 2, sel) ? EXEC_OK : EXEC_FAULT;
}

/* MOV to CS is #UD; MOV to SS blocks interrupts and debug traps until the
 * next instruction completes (SDM 6.8.3). */
enum exec_status op_mov_Sw_Ew(struct cpu *c, const struct insn *i)
{
	uint64_t v;
	if (i->opx > SEG_GS || i->opx == SEG_CS)
		return cpu_ud(c);
	if (!rm_read_sz(c, i, SZ16, &v) || !seg_load(c, i->opx, (uint16_t)v))
		return EXEC_FAULT;
	if (i->opx == SEG_SS)
		c->mov_ss_shadow = true;
	return EXEC_OK;
}

/* Recent processors store only the 16-bit selector for a 32/64-bit push and
 * leave the rest of the slot unchanged (vol. 2 PUSH). */
static enum exec_status push_sreg(struct cpu *c, const struct insn *i, unsigned seg)
{
	unsigned ssz = stack_asz(c);
	uint64_t sp = (c->gpr[R_SP] - (1u << i->osz)) & addr_mask(ssz);
	if (!mem_write_seg(c, SEG_SS, sp, 2, c->seg[seg].sel))
		return EXEC_FAULT;
	sp_write(c, ssz, sp);
	return EXEC_OK;
}

/* The stack pointer moves by the width of the stack the value came from,
 * even when POP SS changes SS.B. */
static enum exec_status pop_sreg(struct cpu *c, const struct insn *i, unsigned seg)
{
	unsigned ssz = stack_asz(c);
	uint64_t sp = c->gpr[R_SP] & addr_mask(ssz), v;
	if (!mem_read_seg(c, SEG_SS, sp, 1u << i->osz, &v) || !seg_load(c, seg, (uint16_t)v))
		return EXEC_FAULT;
	sp_write(c, ssz, (sp + (1u << i->osz)) & addr_mask(ssz));
	if (seg == SEG_SS)
		c->mov_ss_shadow = true;
	return EXEC_OK;
}

#define SREG_PUSH_POP(name, seg)                                                   \
	enum exec_status op_push_##name(struct cpu *c, const struct insn *i)       \
	{                                                                          \
		return push_sreg(c, i, seg);                                       \
	}
SREG_PUSH_POP(ES, SEG_ES)
SREG_PUSH_POP(CS, SEG_CS)
SREG_PUSH_POP(SS, SEG_SS)
SREG_PUSH_POP(DS, SEG_DS)
SREG_PUSH_POP(FS, SEG_FS)
SREG_PUSH_POP(GS, SEG_GS)
#undef SREG_PUSH_POP

#define SREG_POP(name, seg)                                                        \
	enum exec_status op_pop_##name(struct cpu *c, const struct insn *i)        \
	{                                                                          \
		return pop_sreg(c, i, seg);                                        \
	}
SREG_POP(ES, SEG_ES)
SREG_POP(SS, SEG_SS)
SREG_POP(DS, SEG_DS)
SREG_POP(FS, SEG_FS)
SREG_POP(GS, SEG_GS)
#undef SREG_POP

/* Far pointer m16:16/32/64: the offset, then the selector. */
bool far_pointer_read(struct cpu *c, const struct insn *i, uint64_t *off, uint16_t *sel)
{
	uint64_t ea = insn_ea(c, i), s;
	unsigned w = 1u << i->osz;
	if (!mem_read_seg(c, i->seg, ea, w, off) ||
	    !mem_read_seg(c, i->seg, (ea + w) & addr_mask(i->asz), 2, &s))
		return false;
	*sel = (uint16_t)s;
	return true;
}

/* LDS/LES/LFS/LGS/LSS: the segment load faults before the register changes. */
static enum exec_status load_far_pointer(struct cpu *c, const struct insn *i, unsigned seg)
{
	uint64_t off;
	uint16_t sel;
	if (!far_pointer_read(c, i, &off, &sel) || !seg_load(c, seg, sel))
		return EXEC_FAULT;
	reg_write(c, i->reg, i->osz, off);
	return EXEC_OK;
}

#define LOAD_FAR(name, seg)                                                        \
	enum exec_status op_##name##_Gv_Mp(struct cpu *c, const struct insn *i)    \
	{                                                                          \
		return load_far_pointer(c, i, seg);                                \
	}
LOAD_FAR(les, SEG_ES)
LOAD_FAR(lds, SEG_DS)
LOAD_FAR(lss, SEG_SS)
LOAD_FAR(lfs, SEG_FS)
LOAD_FAR(lgs, SEG_GS)
#undef LOAD_FAR
