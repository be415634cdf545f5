/* Hardware task switches (SDM vol. 3A 8.3 "Task Switching", 8.4 "Task
 * Linking", Table 8-1 "Exception Conditions Checked During a Task Switch",
 * Table 8-2 busy/NT/link/TS effects; vol. 2 JMP, CALL, INT n, IRET).
 *
 * Steps 1-11 of 8.3 happen before the commit point: a fault there leaves
 * the old task untouched. Once TR holds the new TSS (step 11) the state is
 * loaded and the segment descriptors are checked in the new task (step
 * 13); a fault from then on is delivered in the new task.
 */
#include "cpu/task.h"

#include "cpu/operand.h"
#include "cpu/seg.h"

enum task_src { SRC_JMP, SRC_CALL, SRC_IRET, SRC_EVENT };

/* The register state held in a TSS (32-bit: Figure 8-2; 16-bit: 8-10). */
struct tss_image {
	uint32_t eip, eflags, cr3;
	uint32_t gpr[8];
	uint16_t sel[6];        /* ES CS SS DS FS GS (FS/GS: 32-bit TSS only) */
	uint16_t ldt;
	bool trap;              /* T flag */
};

struct switch_req {
	enum task_src src;
	uint16_t sel;           /* new TSS */
	uint64_t d;             /* its descriptor */
	uint32_t ext;           /* EXT bit of error codes */
	uint64_t ret_ip;        /* EIP saved in the old task */
	bool set_rf;
	unsigned insn_len;      /* JMP, CALL, IRET: the instruction's length */
};

/* Field offsets: 32-bit TSS, 16-bit TSS. */
#define TSS_EIP(t32) ((t32) ? 0x20u : 0x0eu)
#define TSS_EFLAGS(t32) ((t32) ? 0x24u : 0x10u)
#define TSS_GPR(t32) ((t32) ? 0x28u : 0x12u)
#define TSS_SEL(t32) ((t32) ? 0x48u : 0x22u)
#define TSS_LDT(t32) ((t32) ? 0x60u : 0x2au)
#define TSS_CR3 0x1cu
#define TSS_T 0x64u

static bool tss32(uint32_t ar)
{
	unsigned t = ar & AR_TYPE_MASK;
	return t == SYS_TSS_AVAIL || t == SYS_TSS_BUSY;
}

static bool tss_avail(uint32_t ar)
{
	unsigned t = ar & (AR_S | AR_TYPE_MASK);
	return t == SYS_TSS_AVAIL || t == SYS_TSS16_AVAIL;
}

static bool tss_busy(uint32_t ar)
{
	unsigned t = ar & (AR_S | AR_TYPE_MASK);
	return t == SYS_TSS_BUSY || t == SYS_TSS16_BUSY;
}

/* A fault after the commit point: delivered in the new task at eip. */
static enum exec_status new_task_fault(struct cpu *c, uint32_t eip)
{
	c->exc.new_task = true;
	c->exc.rip = eip;
	return EXEC_FAULT;
}

/* ---- reading and saving TSS state ---- */

static bool rd(struct cpu *c, uint64_t la, unsigned n, uint32_t *v)
{
	uint64_t x;
	if (!sys_read(c, la, n, &x))
		return false;
	*v = (uint32_t)x;
	return true;
}

/* The whole image, before anything changes (step 5: the new TSS is
 * accessible). A 16-bit TSS leaves the upper halves of the registers
 * "modified and not maintained" (8.6): vtxsim sets them to ones. */
static bool read_image(struct cpu *c, uint64_t base, bool t32, struct tss_image *im)
{
	unsigned w = t32 ? 4 : 2, nsel = t32 ? 6 : 4;
	uint32_t v, hi = t32 ? 0 : 0xffff0000u;
	*im = (struct tss_image){ 0 };
	if (!rd(c, base + TSS_EIP(t32), w, &im->eip) || !rd(c, base + TSS_EFLAGS(t32), w, &im->eflags) ||
	    !rd(c, base + TSS_LDT(t32), 2, &v))
		return false;
	im->ldt = (uint16_t)v;
	for (unsigned k = 0; k < 8; k++) {
		if (!rd(c, base + TSS_GPR(t32) + k * w, w, &im->gpr[k]))
			return false;
		im->gpr[k] |= hi;
	}
	for (unsigned k = 0; k < nsel; k++) {
		if (!rd(c, base + TSS_SEL(t32) + k * w, 2, &v))
			return false;
		im->sel[k] = (uint16_t)v;
	}
	if (!t32)
		return true;
	if (!rd(c, base + TSS_CR3, 4, &im->cr3) || !rd(c, base + TSS_T, 2, &v))
		return false;
	im->trap = v & 1;
	return true;
}

/* The pages a write to [la, la + len) touches are present and writable. */
static bool probe_sys_write(struct cpu *c, uint64_t la, unsigned len)
{
	struct mem_view mv = cpu_view(c);
	struct xlate_fault f;
	uint64_t pa, last = la + len - 1;
	if (!cpu_lma(c)) {
		la &= 0xffffffffull;
		last &= 0xffffffffull;
	}
	if (!mem_translate(&mv, la, ACC_WRITE | ACC_IMPLICIT, &pa, &f) ||
	    !mem_translate(&mv, last, ACC_WRITE | ACC_IMPLICIT, &pa, &f))
		return cpu_page_fault(c, &f);
	return true;
}

/* Step 8: EIP, EFLAGS, the general registers and the segment selectors of
 * the old task (the dynamic fields; CR3, LDT and the stacks are not saved). */
static bool save_old(struct cpu *c, uint64_t eip, uint64_t eflags)
{
	bool t32 = tss32(c->tr.ar);
	unsigned w = t32 ? 4 : 2, nsel = t32 ? 6 : 4;
	uint64_t base = c->tr.base;
	if (!sys_write(c, base + TSS_EIP(t32), w, eip) || !sys_write(c, base + TSS_EFLAGS(t32), w, eflags))
		return false;
	for (unsigned k = 0; k < 8; k++)
		if (!sys_write(c, base + TSS_GPR(t32) + k * w, w, c->gpr[k]))
			return false;
	for (unsigned k = 0; k < nsel; k++)
		if (!sys_write(c, base + TSS_SEL(t32) + k * w, 2, c->seg[k].sel))
			return false;
	return true;
}

/* Clear the busy bit of a TSS descriptor in the GDT. */
static bool clear_busy(struct cpu *c, uint16_t sel)
{
	uint64_t d;
	if (!desc_read(c, sel, VEC_TS, sel_err(sel), &d))
		return false;
	return sys_write(c, c->gdtr.base + (sel & 0xfff8u) + 5, 1, ((d >> 40) & 0xff) & ~2ull);
}

/* ---- step 13: the new task's segments ---- */

/* The LDT selector: null leaves LDTR unusable; otherwise a present LDT
 * descriptor in the GDT, else #TS(LDT selector). */
static bool load_ldt(struct cpu *c, uint16_t sel, uint32_t ext)
{
	uint32_t err = sel_err(sel) | ext;
	uint64_t d;
	if (sel_null(sel)) {
		seg_make_null(&c->ldtr, sel);
		return true;
	}
	if (sel & SEL_TI)
		return seg_fault(c, VEC_TS, err);
	if (!desc_read(c, sel, VEC_TS, err, &d))
		return false;
	uint32_t ar = desc_ar(d);
	if ((ar & (AR_S | AR_TYPE_MASK)) != SYS_LDT || !(ar & AR_P))
		return seg_fault(c, VEC_TS, err);
	seg_from_desc(&c->ldtr, sel, d);
	return true;
}

/* CS: a code segment whose DPL matches the RPL (conforming: DPL <= RPL). */
static bool load_cs(struct cpu *c, uint16_t sel, uint32_t ext)
{
	uint32_t err = sel_err(sel) | ext;
	uint64_t d;
	if (sel_null(sel))
		return seg_fault(c, VEC_TS, err);
	if (!desc_read(c, sel, VEC_TS, err, &d))
		return false;
	uint32_t ar = desc_ar(d);
	if (!ar_code(ar) || (ar_conforming(ar) ? ar_dpl(ar) > sel_rpl(sel) : ar_dpl(ar) != sel_rpl(sel)))
		return seg_fault(c, VEC_TS, err);
	if (!(ar & AR_P))
		return seg_fault(c, VEC_NP, err);
	if (!desc_set_accessed(c, sel, &d))
		return false;
	seg_from_desc(&c->seg[SEG_CS], sel, d);
	return true;
}

/* SS: writable data with RPL = DPL = CPL; not present is #SS. */
static bool load_ss(struct cpu *c, uint16_t sel, uint32_t ext)
{
	uint32_t err = sel_err(sel) | ext;
	uint64_t d;
	if (sel_null(sel))
		return seg_fault(c, VEC_TS, err);
	if (!desc_read(c, sel, VEC_TS, err, &d))
		return false;
	uint32_t ar = desc_ar(d);
	if (!ar_writable_data(ar) || ar_dpl(ar) != c->cpl || sel_rpl(sel) != c->cpl)
		return seg_fault(c, VEC_TS, err);
	if (!(ar & AR_P))
		return seg_fault(c, VEC_SS, err);
	if (!desc_set_accessed(c, sel, &d))
		return false;
	seg_from_desc(&c->seg[SEG_SS], sel, d);
	return true;
}

/* DS/ES/FS/GS: null is fine; readable; data and non-conforming code need
 * DPL >= CPL and DPL >= RPL; not present is #NP. */
static bool load_data(struct cpu *c, unsigned seg, uint16_t sel, uint32_t ext)
{
	uint32_t err = sel_err(sel) | ext;
	uint64_t d;
	if (sel_null(sel)) {
		seg_make_null(&c->seg[seg], sel);
		return true;
	}
	if (!desc_read(c, sel, VEC_TS, err, &d))
		return false;
	uint32_t ar = desc_ar(d);
	if (!ar_readable(ar) || (!ar_conforming(ar) && (ar_dpl(ar) < c->cpl || ar_dpl(ar) < sel_rpl(sel))))
		return seg_fault(c, VEC_TS, err);
	if (!(ar & AR_P))
		return seg_fault(c, VEC_NP, err);
	if (!desc_set_accessed(c, sel, &d))
		return false;
	seg_from_desc(&c->seg[seg], sel, d);
	return true;
}

/* Every selector is loaded first, unusable, so a failed check leaves the
 * registers it did not reach holding their selectors but no descriptor.
 * Order: LDT, CS, SS, then ES DS FS GS (Table 8-1). */
static bool load_segments(struct cpu *c, const struct tss_image *im, bool t32, uint32_t ext)
{
	static const uint8_t data[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	unsigned nsel = t32 ? 6 : 4;
	for (unsigned k = 0; k < nsel; k++) {
		c->seg[k].sel = im->sel[k];
		c->seg[k].ar |= AR_UNUSABLE;
	}
	c->ldtr.sel = im->ldt;
	c->ldtr.ar |= AR_UNUSABLE;
	if (!load_ldt(c, im->ldt, ext))
		return false;
	if (im->eflags & FL_VM) {       /* a virtual-8086 task (20.2.3) */
		for (unsigned k = 0; k < 6; k++)
			seg_load_v86(c, k, im->sel[k]);
		return true;
	}
	c->cpl = (uint8_t)sel_rpl(im->sel[SEG_CS]);
	if (!load_cs(c, im->sel[SEG_CS], ext) || !load_ss(c, im->sel[SEG_SS], ext))
		return false;
	for (unsigned k = 0; k < sizeof(data); k++)
		if (data[k] < nsel && !load_data(c, data[k], im->sel[data[k]], ext))
			return false;
	return true;
}

/* ---- the switch ---- */

/* Steps 6-12: busy bits, save, link, TR, then the new state. */
static bool commit(struct cpu *c, const struct switch_req *r, const struct tss_image *im, bool t32)
{
	uint64_t eflags = cpu_get_rflags(c) | (r->set_rf ? FL_RF : 0);
	uint64_t new_flags = im->eflags;
	if (r->src == SRC_IRET)
		eflags &= ~(uint64_t)FL_NT;
	if ((r->src == SRC_JMP || r->src == SRC_IRET) && !clear_busy(c, c->tr.sel))
		return false;
	if (!save_old(c, r->ret_ip, eflags))
		return false;
	if (r->src == SRC_CALL || r->src == SRC_EVENT) {
		if (!sys_write(c, desc_base(r->d), 2, c->tr.sel))
			return false;
		new_flags |= FL_NT;
	}
	uint64_t d = r->d;
	if (r->src != SRC_IRET && !desc_or_type(c, r->sel, &d, 2))
		return false;
	seg_from_desc(&c->tr, r->sel, d);
	c->cr0 |= CR0_TS;
	c->dr[7] &= ~0x55ull;           /* L0-L3 clear at every task switch (17.2.4) */
	if (t32 && (c->cr0 & CR0_PG) && im->cr3 != c->cr3) {
		c->cr3 = im->cr3;       /* the 16-bit TSS has no CR3: paging stays */
		tlb_flush_current(&c->tlb);
	}
	cpu_set_rflags(c, new_flags);
	c->rip = c->next_rip = im->eip;
	for (unsigned k = 0; k < 8; k++)
		c->gpr[k] = im->gpr[k];
	return true;
}

/* Pre-commit checks not made by the caller: the limit (step 3). Then the
 * state is read, the old TSS is probed, and the switch commits. Returns
 * EXEC_OK with the new task loaded, or a fault (c->exc.new_task says
 * which task it belongs to). */
static enum exec_status switch_tasks(struct cpu *c, const struct switch_req *r, bool push_error, uint32_t error)
{
	bool t32 = tss32(desc_ar(r->d));
	struct tss_image im;
	if (desc_limit(r->d) < (t32 ? 0x67u : 0x2bu))
		return cpu_fault(c, VEC_TS, true, sel_err(r->sel) | r->ext);
	if (__builtin_expect(c->vmx.nonroot, 0)) {
		/* The VM exit comes before the TSS accesses: vol. 3C 25.4.2 lets
		 * the order against their page faults be implementation-specific. */
		static const enum vmx_task_source src[] = {
			[SRC_JMP] = VMX_TASK_JMP, [SRC_CALL] = VMX_TASK_CALL, [SRC_IRET] = VMX_TASK_IRET,
			[SRC_EVENT] = VMX_TASK_IDT };
		vmx_task_switch_exit(c, r->sel, src[r->src], r->insn_len, r->set_rf);
		return EXEC_OK;
	}
	if (!read_image(c, desc_base(r->d), t32, &im))
		return EXEC_FAULT;
	if (!probe_sys_write(c, c->tr.base, tss32(c->tr.ar) ? 0x60 : 0x2a) ||
	    ((r->src == SRC_CALL || r->src == SRC_EVENT) && !probe_sys_write(c, desc_base(r->d), 2)))
		return EXEC_FAULT;
	uint64_t old_cr3 = c->cr3;
	if (!commit(c, r, &im, t32))
		return EXEC_FAULT;
	/* PAE paging: a task switch that changes CR3 loads the PDPTE registers
	 * from the new CR3 (vol. 3A 4.4.1). The SDM names no fault for a
	 * reserved bit here; vtxsim raises MOV to CR3's #GP(0), in the new
	 * task, and keeps the old PDPTE registers. (Task switches never run in
	 * IA-32e mode, so CR4.PAE with CR0.PG means PAE paging.) */
	if (c->cr3 != old_cr3 && (c->cr4 & CR4_PAE) &&
	    !paging_load_pdptes(c->phys, c->cr3, c->xc.maxphyaddr, c->pdpte)) {
		cpu_mode_changed(c);
		cpu_fault(c, VEC_GP, true, 0);
		return new_task_fault(c, im.eip);
	}
	bool ok = load_segments(c, &im, t32, r->ext);
	cpu_mode_changed(c);
	if (!ok)
		return new_task_fault(c, im.eip);
	if (push_error) {
		struct stack_ref st;
		uint64_t v = error;
		stack_ref_current(c, &st);
		if (!stack_push(c, &st, &v, 1, t32 ? 4 : 2, r->ext))
			return new_task_fault(c, im.eip);
		sp_write(c, st.asz, st.sp);
	}
	if (im.eip > c->seg[SEG_CS].limit) {
		cpu_fault(c, VEC_GP, true, r->ext);
		return new_task_fault(c, im.eip);
	}
	if (im.trap) {                  /* T flag: #DB trap before the first instruction (17.3.1.5) */
		c->dr[6] |= DR6_BT;
		cpu_fault(c, VEC_DB, false, 0);
		return new_task_fault(c, im.eip);
	}
	return EXEC_OK;
}

/* The TSS named by a task gate: in the GDT, an available TSS, present
 * (vol. 2 JMP/CALL/INT n "TASK-GATE"). vec is #GP for JMP/CALL and events. */
static bool gate_tss(struct cpu *c, uint64_t gate, uint32_t ext, uint16_t *sel, uint64_t *d)
{
	*sel = (uint16_t)(gate >> 16);
	uint32_t err = sel_err(*sel) | ext;
	if (*sel & SEL_TI)
		return seg_fault(c, VEC_GP, err);
	if (!desc_read(c, *sel, VEC_GP, err, d))
		return false;
	if (!tss_avail(desc_ar(*d)))
		return seg_fault(c, VEC_GP, err);
	if (!(desc_ar(*d) & AR_P))
		return seg_fault(c, VEC_NP, err);
	return true;
}

enum exec_status task_far(struct cpu *c, uint16_t sel, uint64_t d, bool call, unsigned len)
{
	uint32_t ar = desc_ar(d);
	struct switch_req r = { .src = call ? SRC_CALL : SRC_JMP, .sel = sel, .d = d, .ret_ip = c->next_rip,
				.insn_len = len };
	if (ar_dpl(ar) < c->cpl || ar_dpl(ar) < sel_rpl(sel))
		return cpu_fault(c, VEC_GP, true, sel_err(sel));
	if (!(ar & AR_P))
		return cpu_fault(c, VEC_NP, true, sel_err(sel));
	if ((ar & AR_TYPE_MASK) == SYS_TASK_GATE && !gate_tss(c, d, 0, &r.sel, &r.d))
		return EXEC_FAULT;
	return switch_tasks(c, &r, false, 0);
}

enum exec_status task_gate_event(struct cpu *c, uint64_t gate, const struct task_event *ev)
{
	struct switch_req r = { .src = SRC_EVENT, .ext = ev->ext, .ret_ip = ev->ret_ip, .set_rf = ev->set_rf };
	if (!gate_tss(c, gate, ev->ext, &r.sel, &r.d))
		return EXEC_FAULT;
	enum exec_status st = switch_tasks(c, &r, ev->has_error, ev->error);
	if (st == EXEC_OK)
		c->halted = false;
	return st;
}

/* IRET with NT = 1 (vol. 2 IRET "TASK-RETURN"): the previous task link
 * names a busy TSS in the GDT, else #TS(link); not present is #NP. */
enum exec_status task_return(struct cpu *c, unsigned len)
{
	uint32_t link;
	struct switch_req r = { .src = SRC_IRET, .ret_ip = c->next_rip, .insn_len = len };
	if (!rd(c, c->tr.base, 2, &link))
		return EXEC_FAULT;
	r.sel = (uint16_t)link;
	if (r.sel & SEL_TI)
		return cpu_fault(c, VEC_TS, true, sel_err(r.sel));
	if (!desc_read(c, r.sel, VEC_TS, sel_err(r.sel), &r.d))
		return EXEC_FAULT;
	if (!tss_busy(desc_ar(r.d)))
		return cpu_fault(c, VEC_TS, true, sel_err(r.sel));
	if (!(desc_ar(r.d) & AR_P))
		return cpu_fault(c, VEC_NP, true, sel_err(r.sel));
	return switch_tasks(c, &r, false, 0);
}
