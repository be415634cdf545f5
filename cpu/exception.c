/* Exception and interrupt delivery through the IVT / IDT (SDM vol. 3A
 * chapter 6; vol. 2 INT n/INTO/INT3/INT1 "Operation"), the double-fault
 * and triple-fault rules (6.15, Table 6-5), NMI blocking (6.7.1), INT n
 * in virtual-8086 mode with and without VME (20.3.3, Table 20-2), and the
 * INT/UD handlers. Task gates hand over to cpu/task.c.
 */
#include <assert.h>

#include "cpu/debug.h"
#include "cpu/handlers.h"
#include "cpu/probe.h"
#include "cpu/operand.h"
#include "cpu/seg.h"
#include "cpu/task.h"

/* An event on its way to its handler. */
struct event {
	unsigned vector;
	enum int_kind kind;
	bool has_error;
	uint32_t error;
	uint32_t ext;           /* EXT bit of error codes raised while delivering it */
	uint64_t ret_ip;        /* RIP saved in the frame */
	bool set_rf;            /* RF = 1 in the saved RFLAGS */
	unsigned insn_len;      /* software kinds: the instruction (ret_ip - insn_len is its address) */
};

/* The IDT gate, decoded (SDM 6.11, Figure 6-2; 64-bit: 6.14.1, Figure 6-7). */
struct idt_gate {
	uint16_t sel;
	uint64_t off;
	unsigned w;             /* frame slot width: 2, 4 or 8 */
	unsigned ist;
	bool clear_if;          /* interrupt gate (not trap gate) */
	bool task;              /* task gate: raw is the descriptor */
	uint64_t raw;
};

/* Where the handler runs and the stack its frame goes to. */
struct handler_target {
	struct idt_gate g;
	uint64_t csd, ssd;
	uint16_t ss;
	unsigned cpl;
	bool switch_stack;      /* SS:RSP change (privilege change or IST) */
	struct stack_ref st;
};

static bool soft_kind(enum int_kind k)
{
	return k == INT_SOFTWARE || k == INT_SOFT_EXCEPTION;
}

static uint32_t idt_err(const struct event *e)
{
	return e->vector * 8 + 2 + e->ext;
}

/* ---- why a delivery faulted (struct fault_chain, cpu/deliv_causes.def) ---- */

/* A check of the delivery failed: say which, then raise the fault. */
static bool fault_because(struct cpu *c, enum deliv_cause k, uint64_t detail, unsigned vector, uint32_t error)
{
	c->fchain.cause = (uint8_t)k;
	c->fchain.detail = detail;
	return seg_fault(c, vector, error);
}

/* A step of the delivery faulted by itself (a read, a push): say which. */
static bool failed_because(struct cpu *c, enum deliv_cause k, uint64_t detail)
{
	c->fchain.cause = (uint8_t)k;
	c->fchain.detail = detail;
	return false;
}

/* The same for the steps that return an exec_status: #GP(0) for a
 * failed check. */
static enum exec_status exec_fault_because(struct cpu *c, enum deliv_cause k, uint64_t detail)
{
	fault_because(c, k, detail, VEC_GP, 0);
	return EXEC_FAULT;
}

static enum exec_status exec_failed_because(struct cpu *c, enum deliv_cause k, uint64_t detail)
{
	failed_because(c, k, detail);
	return EXEC_FAULT;
}

/* Delivery of e failed with the fault now in c->exc: a link of the chain
 * (a new chain unless the last delivery failed too). */
static void chain_link(struct cpu *c, const struct event *e)
{
	struct fault_chain *fc = &c->fchain;
	if (!fc->open) {
		fc->n = 0;
		fc->dropped = 0;
		fc->open = true;
	}
	if (fc->n == FAULT_CHAIN_MAX) {
		fc->dropped++;
	} else {
		fc->link[fc->n++] = (struct fault_link){
			.vector = (uint8_t)e->vector, .kind = (uint8_t)e->kind, .cause = fc->cause,
			.has_error = e->has_error, .error = e->error, .rip = e->ret_ip - e->insn_len, .cs = c->seg[SEG_CS].sel,
			.detail = fc->detail, .raised = c->exc.vmexit ? VEC_NONE : c->exc.vector,
			.raised_has_error = c->exc.has_error, .raised_error = c->exc.error };
	}
	fc->cause = DELIV_NONE;
	fc->detail = 0;
}

/* ---- VMX non-root: the event being delivered (SDM vol. 3C 27.2.3) ---- */

static const uint8_t vmx_type[] = {
	[INT_EXCEPTION] = INTR_TYPE_HW_EXCEPTION, [INT_SOFTWARE] = INTR_TYPE_SW_INTR,
	[INT_SOFT_EXCEPTION] = INTR_TYPE_SW_EXCEPTION, [INT_PRIV_SOFTWARE] = INTR_TYPE_PRIV_SW_EXCEPTION,
	[INT_EXTERNAL] = INTR_TYPE_EXT_INTR, [INT_NMI] = INTR_TYPE_NMI,
};

/* Delivery through the IDT begins: in non-root operation the event is
 * what a VM exit during its delivery reports as IDT-vectoring information
 * (a nested exception the bitmap intercepts, a task gate). deliver()
 * forgets it once delivery completed; when delivery faults it stays for
 * cpu_deliver_exception. An error code exists only in protected mode. */
static void delivery_begins(struct cpu *c, const struct event *e)
{
	if (__builtin_expect(!c->vmx.nonroot, 1))
		return;
	bool err = e->has_error && (c->cr0 & CR0_PE);
	c->vmx.vectoring = (struct vmx_vectoring){
		.info = INTR_INFO_VALID | (uint32_t)vmx_type[e->kind] << INTR_INFO_TYPE_SHIFT | e->vector |
			(err ? INTR_INFO_HAS_ERROR : 0),
		.error = e->error, .insn_len = e->insn_len };
}

/* ---- real mode ---- */

/* IVT entry IP:CS at IDTR.base + 4 * vector; push FLAGS, CS, IP; clear IF,
 * TF and AC (vol. 2 INT n, "REAL-ADDRESS-MODE"). No error code is pushed. */
static enum exec_status deliver_real(struct cpu *c, const struct event *e)
{
	uint64_t ent, fl = cpu_get_rflags(c);
	struct stack_ref st;
	delivery_begins(c, e);
	if (e->vector * 4 + 3 > c->idtr.limit)
		return exec_fault_because(c, DELIV_IVT_LIMIT, c->idtr.limit);
	if (!sys_read(c, c->idtr.base + e->vector * 4, 4, &ent))
		return exec_failed_because(c, DELIV_IVT_READ, c->idtr.base + e->vector * 4);
	uint64_t v[3] = { fl & 0xffff, c->seg[SEG_CS].sel, e->ret_ip & 0xffff };
	stack_ref_current(c, &st);
	if (!stack_push(c, &st, v, 3, 2, 0))
		return exec_failed_because(c, DELIV_PUSH, st.sp);
	sp_write(c, st.asz, st.sp);
	seg_load_real(c, SEG_CS, (uint16_t)(ent >> 16));
	cpu_set_rflags(c, fl & ~(uint64_t)(FL_IF | FL_TF | FL_AC));
	c->rip = c->next_rip = ent & 0xffff;
	c->halted = false;
	return EXEC_OK;
}

/* ---- protected and IA-32e mode: the gate ---- */

static bool gate_type_ok(const struct cpu *c, uint32_t ar)
{
	unsigned t = ar & (AR_S | AR_TYPE_MASK);
	if (cpu_lma(c))
		return t == SYS_INT_GATE || t == SYS_TRAP_GATE;
	return t == SYS_TASK_GATE || t == SYS_INT_GATE16 || t == SYS_TRAP_GATE16 || t == SYS_INT_GATE ||
	       t == SYS_TRAP_GATE;
}

/* IDT limit, gate type, DPL for software interrupts, present (vol. 2 INT n). */
static bool read_idt_gate(struct cpu *c, const struct event *e, struct idt_gate *g)
{
	unsigned size = cpu_lma(c) ? 16 : 8;
	uint64_t lo, hi = 0, la = c->idtr.base + (uint64_t)e->vector * size;
	if (e->vector * size + size - 1 > c->idtr.limit)
		return fault_because(c, DELIV_IDT_LIMIT, c->idtr.limit, VEC_GP, idt_err(e));
	if (!sys_read(c, la, 8, &lo) || (size == 16 && !sys_read(c, la + 8, 8, &hi)))
		return failed_because(c, DELIV_IDT_READ, la);
	uint32_t ar = desc_ar(lo);
	if (!gate_type_ok(c, ar))
		return fault_because(c, DELIV_GATE_TYPE, ar & (AR_S | AR_TYPE_MASK), VEC_GP, idt_err(e));
	if (soft_kind(e->kind) && ar_dpl(ar) < c->cpl)
		return fault_because(c, DELIV_GATE_DPL, ar_dpl(ar), VEC_GP, idt_err(e));
	if (!(ar & AR_P))
		return fault_because(c, DELIV_GATE_NP, 0, VEC_NP, idt_err(e));
	g->task = (ar & AR_TYPE_MASK) == SYS_TASK_GATE;
	g->raw = lo;
	g->sel = (uint16_t)(lo >> 16);
	g->off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000ull) | ((hi & 0xffffffffull) << 32);
	g->w = size == 16 ? 8 : (ar & 8) ? 4 : 2;
	g->ist = size == 16 ? (lo >> 32) & 7 : 0;
	g->clear_if = !(ar & 1);
	if (g->w == 2)
		g->off &= 0xffff;
	return true;
}

/* The handler's code segment (vol. 2 INT n, after the gate checks). From
 * virtual-8086 mode it must be a DPL-0 non-conforming segment; in IA-32e
 * mode a 64-bit one (6.14.1). */
static bool check_handler_cs(struct cpu *c, const struct event *e, uint16_t sel, uint64_t *d)
{
	uint32_t err = sel_err(sel) | e->ext;
	if (sel_null(sel))
		return fault_because(c, DELIV_CS_NULL, sel, VEC_GP, e->ext);
	if (!desc_read(c, sel, VEC_GP, err, d))
		return failed_because(c, DELIV_CS_DESC, sel);
	uint32_t ar = desc_ar(*d);
	if (!ar_code(ar) || ar_dpl(ar) > c->cpl)
		return fault_because(c, DELIV_CS_TYPE, sel, VEC_GP, err);
	if (!(ar & AR_P))
		return fault_because(c, DELIV_CS_NP, sel, VEC_NP, err);
	if (cpu_lma(c) && (!(ar & AR_L) || (ar & AR_DB)))
		return fault_because(c, DELIV_CS_NOT64, sel, VEC_GP, err);
	if (cpu_v86(c) && (ar_conforming(ar) || ar_dpl(ar) != 0))
		return fault_because(c, DELIV_CS_V86, sel, VEC_GP, err);
	return true;
}

/* ---- the stack the frame goes to ---- */

/* IA-32e: RSP from IST n or RSPn of the 64-bit TSS, else the current RSP;
 * aligned down to 16 bytes; SS becomes null on a privilege change
 * (6.14.2, 6.14.4, 6.14.5). */
static bool target_stack_64(struct cpu *c, const struct event *e, struct handler_target *t)
{
	uint64_t sp = c->gpr[R_SP];
	t->ss = c->seg[SEG_SS].sel;
	if (t->g.ist || t->cpl < c->cpl) {
		unsigned off = t->g.ist ? 36 + 8 * (t->g.ist - 1) : 4 + 8 * t->cpl;
		if (!tss_read_rsp(c, off, e->ext, &sp))
			return failed_because(c, DELIV_STACK_TSS, off);
		t->switch_stack = true;
		if (t->cpl < c->cpl)
			t->ss = (uint16_t)t->cpl;
	}
	t->st = (struct stack_ref){ .sp = sp & ~15ull, .asz = SZ64, .user = t->cpl == 3, .lm = true };
	return true;
}

/* Legacy: SS:ESP from the TSS on a privilege change (6.12.1), else the
 * current stack. */
static bool target_stack_legacy(struct cpu *c, const struct event *e, struct handler_target *t)
{
	uint64_t sp;
	if (t->cpl == c->cpl) {
		stack_ref_current(c, &t->st);
		return true;
	}
	if (!tss_inner_stack(c, t->cpl, e->ext, &t->ss, &sp))
		return failed_because(c, DELIV_STACK_TSS, 4 + 8 * t->cpl);
	if (!seg_check_new_ss(c, t->ss, t->cpl, e->ext, &t->ssd) || !desc_set_accessed(c, t->ss, &t->ssd))
		return failed_because(c, DELIV_STACK_SS, t->ss);
	t->switch_stack = true;
	stack_ref_desc(&t->st, t->ssd, sp, false);
	return true;
}

/* The frame, highest address first: [GS FS DS ES from virtual-8086 mode]
 * [SS RSP on a stack switch, always in IA-32e mode] RFLAGS CS RIP [error]
 * (6.12.1 Figure 6-4, 6.14.2 Figure 6-8). */
static unsigned build_frame(struct cpu *c, const struct event *e, const struct handler_target *t,
			    uint64_t *v)
{
	unsigned n = 0;
	if (cpu_v86(c)) {
		v[n++] = c->seg[SEG_GS].sel;
		v[n++] = c->seg[SEG_FS].sel;
		v[n++] = c->seg[SEG_DS].sel;
		v[n++] = c->seg[SEG_ES].sel;
	}
	if (t->switch_stack || t->g.w == 8) {
		v[n++] = c->seg[SEG_SS].sel;
		v[n++] = c->gpr[R_SP];
	}
	v[n++] = cpu_get_rflags(c) | (e->set_rf ? FL_RF : 0);
	v[n++] = c->seg[SEG_CS].sel;
	v[n++] = e->ret_ip;
	if (e->has_error)
		v[n++] = e->error;
	return n;
}

/* Load the handler's context once everything has been checked and pushed. */
static void enter_handler(struct cpu *c, const struct handler_target *t)
{
	uint64_t fl = cpu_get_rflags(c) & ~(uint64_t)(FL_TF | FL_NT | FL_RF | FL_VM);
	if (t->g.clear_if)
		fl &= ~(uint64_t)FL_IF;
	if (cpu_v86(c)) {
		seg_make_null(&c->seg[SEG_GS], 0);
		seg_make_null(&c->seg[SEG_FS], 0);
		seg_make_null(&c->seg[SEG_DS], 0);
		seg_make_null(&c->seg[SEG_ES], 0);
	}
	if (t->switch_stack && t->cpl < c->cpl) {
		if (t->st.lm)
			seg_make_null(&c->seg[SEG_SS], t->ss);
		else
			seg_from_desc(&c->seg[SEG_SS], t->ss, t->ssd);
	}
	c->gpr[R_SP] = t->st.asz == SZ32 ? (uint32_t)t->st.sp : t->st.sp;
	cpu_set_rflags(c, fl);
	seg_commit_cs(c, t->g.sel, t->csd, t->cpl);
	c->rip = c->next_rip = t->g.off;
	c->halted = false;
}

static bool handler_ip_ok(struct cpu *c, const struct event *e, const struct handler_target *t)
{
	if (cpu_lma(c) ? cpu_canonical(c, t->g.off) : t->g.off <= desc_limit(t->csd))
		return true;
	return fault_because(c, DELIV_HANDLER_IP, t->g.off, VEC_GP, e->ext);
}

static enum exec_status deliver_task_gate(struct cpu *c, const struct event *e, uint64_t gate)
{
	struct task_event ev = { .ext = e->ext, .ret_ip = e->ret_ip, .set_rf = e->set_rf,
				 .has_error = e->has_error, .error = e->error };
	return task_gate_event(c, gate, &ev);
}

static enum exec_status deliver_prot(struct cpu *c, const struct event *e)
{
	struct handler_target t = { 0 };
	uint64_t v[12];
	delivery_begins(c, e);
	if (!read_idt_gate(c, e, &t.g))
		return EXEC_FAULT;
	if (t.g.task) {
		enum exec_status st = deliver_task_gate(c, e, t.g.raw);
		if (st != EXEC_OK)
			failed_because(c, DELIV_TASK_GATE, (uint16_t)(t.g.raw >> 16));
		return st;
	}
	if (!check_handler_cs(c, e, t.g.sel, &t.csd))
		return EXEC_FAULT;
	uint32_t ar = desc_ar(t.csd);
	t.cpl = ar_conforming(ar) ? c->cpl : ar_dpl(ar);
	if (!(cpu_lma(c) ? target_stack_64(c, e, &t) : target_stack_legacy(c, e, &t)))
		return EXEC_FAULT;
	if (!handler_ip_ok(c, e, &t))
		return EXEC_FAULT;
	if (!desc_set_accessed(c, t.g.sel, &t.csd))
		return exec_failed_because(c, DELIV_CS_DESC, t.g.sel);
	unsigned n = build_frame(c, e, &t, v);
	uint32_t ss_err = t.switch_stack && !t.st.lm ? sel_err(t.ss) | e->ext : e->ext;
	if (!stack_push(c, &t.st, v, n, t.g.w, ss_err))
		return exec_failed_because(c, DELIV_PUSH, t.st.sp);
	enter_handler(c, &t);
	return EXEC_OK;
}

/* ---- INT n in virtual-8086 mode (20.3.3, Table 20-2) ---- */

/* Bit n of the interrupt redirection bitmap: the 32 bytes just below the
 * I/O map base of a 32-bit TSS (20.3.3.4, Figure 20-5); past the TSS
 * limit is #GP(0). */
static bool redirection_bit(struct cpu *c, unsigned vector, bool *set)
{
	unsigned type = c->tr.ar & AR_TYPE_MASK;
	uint64_t base, bits;
	if ((c->tr.ar & AR_UNUSABLE) || (type != SYS_TSS_BUSY && type != SYS_TSS_AVAIL) || c->tr.limit < 0x67)
		return seg_fault(c, VEC_GP, 0);
	if (!sys_read(c, c->tr.base + 0x66, 2, &base))
		return false;
	uint32_t off = (uint32_t)base - 32 + vector / 8;
	if ((uint32_t)base < 32 || off > c->tr.limit)
		return seg_fault(c, VEC_GP, 0);
	if (!sys_read(c, c->tr.base + off, 1, &bits))
		return false;
	*set = (bits >> (vector & 7)) & 1;
	return true;
}

/* Methods 5 and 6: the 8086 handler from the IVT at linear 0. FLAGS, CS,
 * IP go on the virtual-8086 stack; with IOPL < 3 the pushed IF is VIF and
 * the pushed IOPL 3, and VIF (not IF) is cleared. */
static enum exec_status deliver_v86_redirect(struct cpu *c, const struct event *e)
{
	uint64_t ent, fl = cpu_get_rflags(c);
	bool iopl3 = (fl & FL_IOPL) == FL_IOPL;
	struct stack_ref st;
	delivery_begins(c, e);
	if (!sys_read(c, (uint64_t)e->vector * 4, 4, &ent))
		return exec_failed_because(c, DELIV_IVT_READ, (uint64_t)e->vector * 4);
	uint64_t pushed = fl & 0xffff;
	if (!iopl3)
		pushed = (pushed & ~(uint64_t)FL_IF) | FL_IOPL | ((fl & FL_VIF) ? FL_IF : 0);
	uint64_t v[3] = { pushed, c->seg[SEG_CS].sel, e->ret_ip & 0xffff };
	stack_ref_current(c, &st);
	if (!stack_push(c, &st, v, 3, 2, 0))
		return exec_failed_because(c, DELIV_PUSH, st.sp);
	sp_write(c, st.asz, st.sp);
	seg_load_v86(c, SEG_CS, (uint16_t)(ent >> 16));
	cpu_set_rflags(c, fl & ~(uint64_t)(FL_TF | (iopl3 ? FL_IF : FL_VIF)));
	c->rip = c->next_rip = ent & 0xffff;
	return EXEC_OK;
}

/* Without VME, or with the redirection bit set: IOPL 3 goes to the
 * protected-mode handler, IOPL < 3 is #GP(0) (methods 1-4). */
static enum exec_status deliver_v86_int(struct cpu *c, const struct event *e)
{
	bool set = true;
	if ((c->cr4 & CR4_VME) && !redirection_bit(c, e->vector, &set))
		return exec_failed_because(c, DELIV_V86_REDIR, c->tr.base);
	if (!set)
		return deliver_v86_redirect(c, e);
	if ((c->rflags & FL_IOPL) != FL_IOPL)
		return exec_fault_because(c, DELIV_V86_IOPL, (c->rflags & FL_IOPL) >> 12);
	return deliver_prot(c, e);
}

static enum exec_status deliver_mode(struct cpu *c, const struct event *e)
{
	if (!(c->cr0 & CR0_PE))
		return deliver_real(c, e);
	if ((c->rflags & FL_VM) && e->kind == INT_SOFTWARE)
		return deliver_v86_int(c, e);
	return deliver_prot(c, e);
}

static enum exec_status deliver(struct cpu *c, const struct event *e)
{
	if (__builtin_expect(c->probe != NULL, 0)) {
		struct probe_event pe = { .kind = PROBE_DELIVERY, .code = e->vector, .aux = e->kind,
					  .has_error = e->has_error, .error = e->error, .rip = e->ret_ip };
		cpu_probe_emit(c, &pe);
	}
	enum exec_status st = deliver_mode(c, e);
	if (__builtin_expect(st != EXEC_OK, 0))
		chain_link(c, e);
	else if (__builtin_expect(c->vmx.nonroot, 0))
		c->vmx.vectoring.info = 0;
	return st;
}

/* ---- entry points ---- */

enum exec_status cpu_interrupt(struct cpu *c, unsigned vector, enum int_kind kind, bool has_error,
			       uint32_t error, unsigned insn_len)
{
	bool after = soft_kind(kind) || kind == INT_PRIV_SOFTWARE;
	struct event e = { .vector = vector, .kind = kind, .has_error = has_error, .error = error,
			   .ext = soft_kind(kind) ? 0 : 1, .ret_ip = after ? c->next_rip : c->rip,
			   .insn_len = after ? insn_len : 0 };
	return deliver(c, &e);
}

enum exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT };

/* SDM 6.15, Table 6-4. */
static enum exc_class exc_class(unsigned vector)
{
	switch (vector) {
	case VEC_DE: case VEC_TS: case VEC_NP: case VEC_SS: case VEC_GP: case VEC_CP:
		return EXC_CONTRIBUTORY;
	case VEC_PF: case VEC_VE:
		return EXC_PAGE_FAULT;
	default:
		return EXC_BENIGN;
	}
}

/* Table 6-5: a contributory exception after a contributory one or a page
 * fault, or a page fault after a page fault, is a double fault; every other
 * pair is handled serially. */
static bool is_double_fault(unsigned first, unsigned second)
{
	enum exc_class a = exc_class(first), b = exc_class(second);
	if (a == EXC_BENIGN || b == EXC_BENIGN)
		return false;
	return b == EXC_CONTRIBUTORY || a == EXC_PAGE_FAULT;
}

/* Fault-class exceptions save RF = 1 so the instruction restarts without
 * re-triggering an instruction breakpoint (SDM 17.3.1.1). #DB is left out:
 * its fault form is the instruction breakpoint, which saves RF as it is. */
bool cpu_fault_class(unsigned vector)
{
	switch (vector) {
	case VEC_DE: case VEC_BR: case VEC_UD: case VEC_NM: case VEC_TS: case VEC_NP: case VEC_SS:
	case VEC_GP: case VEC_PF: case VEC_MF: case VEC_AC: case VEC_XM: case VEC_VE: case VEC_CP:
		return true;
	default:
		return false;
	}
}

const char *cpu_vector_mnemonic(unsigned vector)
{
	switch (vector) {
#define X(n, mn, text) case n: return mn;
#include "cpu/vectors.def"
#undef X
	}
	return NULL;
}

const char *cpu_vector_text(unsigned vector)
{
	switch (vector) {
#define X(n, mn, text) case n: return text;
#include "cpu/vectors.def"
#undef X
	}
	return "reserved";
}

/* Take the recorded exception; one raised after the commit point of a task
 * switch is delivered at the new task's EIP. */
static struct pending_exc take_exc(struct cpu *c)
{
	struct pending_exc e = c->exc;
	if (e.new_task) {
		c->rip = e.rip;
		c->exc.new_task = false;
	}
	c->exc.dbg = 0;
	c->exc.vmexit = false;
	return e;
}

static const struct pending_exc double_fault = { .vector = VEC_DF, .has_error = true, .error = 0 };

/* Non-root: the event whose delivery raised the exception just taken
 * (delivery_begins), forgotten once taken. */
static struct vmx_vectoring take_vectoring(struct cpu *c)
{
	struct vmx_vectoring v = c->vmx.vectoring;
	c->vmx.vectoring.info = 0;
	return v;
}

/* Non-root: the exception bitmap decides before any delivery (SDM vol. 3C
 * 25.2); a #DB it lets through is committed to DR6 now (27.1). A failed
 * translation exits, unless it is an EPT violation that VMX converts to a
 * virtualization exception (25.5.6): *e becomes that #VE, which the
 * exception bitmap decides like any other. */
static bool nonroot_exit(struct cpu *c, struct pending_exc *e, const struct vmx_vectoring *prev, bool iret_unblocked)
{
	if (e->vmexit) {        /* a translation that failed in VMX terms (EPT violation, ...) */
		if (vmx_xlate_exit(c, &e->xf, prev, iret_unblocked))
			return true;
		*e = (struct pending_exc){ .vector = VEC_VE };  /* vol. 3A "Interrupt 20": a fault, no error code */
	}
	if (vmx_exception_exit(c, e, prev, cpu_fault_class(e->vector), iret_unblocked))
		return true;
	if (e->vector == VEC_DB && e->dbg)
		cpu_debug_commit_db(c, e->dbg);
	return false;
}

/* An exception while delivering #DF (6.15, interrupt 8): shutdown; in
 * non-root a VM exit, for the exception itself when the bitmap intercepts
 * it (IDT-vectoring = the #DF), else for the triple fault (25.2). */
static bool triple_fault(struct cpu *c, const struct pending_exc *next, const struct vmx_vectoring *df)
{
	c->delivering = 0;
	if (__builtin_expect(c->vmx.nonroot, 0)) {
		if (next->vmexit)
			vmx_xlate_exit(c, &next->xf, df, false);        /* during delivery: never a #VE (25.5.6.1) */
		else if (!vmx_exception_exit(c, next, df, cpu_fault_class(next->vector), false))
			vmx_triple_fault_exit(c);
		return true;
	}
	c->shutdown = true;
	struct probe_event pe = { .kind = PROBE_SHUTDOWN, .code = next->vector, .rip = c->rip };
	cpu_probe_emit(c, &pe);
	return false;
}

/* A fault while delivering an event injected by VM entry: Table 6-5
 * applies between an injected hardware exception and the fault
 * (26.5.1.2), so #PF during an injected #PF becomes #DF, and a fault
 * during an injected #DF is a triple fault. False when that triple fault
 * was handled. */
static bool injected_double_fault(struct cpu *c, struct pending_exc *cur, struct vmx_vectoring *prev)
{
	unsigned first = prev->info & INTR_INFO_VECTOR_MASK;
	if (!prev->info || cur->vmexit || (prev->info & INTR_INFO_TYPE_MASK) != INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT)
		return true;
	if (first == VEC_DF) {
		triple_fault(c, cur, prev);
		return false;
	}
	if (is_double_fault(first, cur->vector)) {
		*cur = double_fault;
		prev->info = 0;         /* the #DF is not "during delivery" (27.2.3) */
	}
	return true;
}

static bool deliver_exception(struct cpu *c)
{
	struct pending_exc cur = take_exc(c);
	struct vmx_vectoring prev = { 0 };
	bool nonroot = c->vmx.nonroot, iret_unblocked = false;
	if (__builtin_expect(nonroot, 0)) {
		prev = take_vectoring(c);
		iret_unblocked = c->vmx.iret_unblocked_nmi;
		c->vmx.iret_unblocked_nmi = false;
		if (!injected_double_fault(c, &cur, &prev))
			return true;
	}
	for (int depth = 1;; depth++) {
		assert(depth <= 4);     /* benign -> #PF -> #DF -> shutdown is the longest chain */
		if (__builtin_expect(nonroot, 0) && nonroot_exit(c, &cur, &prev, iret_unblocked)) {
			c->delivering = 0;
			return true;
		}
		struct event e = { .vector = cur.vector, .kind = INT_EXCEPTION, .has_error = cur.has_error,
				   .error = cur.error, .ext = 1, .ret_ip = c->rip,
				   .set_rf = cpu_fault_class(cur.vector) };
		if (cur.is_pf)
			c->cr2 = cur.cr2;
		c->delivering = depth;
		if (deliver(c, &e) == EXEC_OK)
			break;
		struct pending_exc next = take_exc(c);
		if (__builtin_expect(nonroot, 0))
			prev = take_vectoring(c);
		if (next.vmexit) {      /* a VM exit during delivery: cur is the vectoring event */
			nonroot_exit(c, &next, &prev, false);
			break;
		}
		if (cur.vector == VEC_DF)
			return triple_fault(c, &next, &prev);
		if (is_double_fault(cur.vector, next.vector)) {
			cur = double_fault;
			prev.info = 0;
		} else {
			cur = next;
		}
		iret_unblocked = false;
	}
	c->delivering = 0;
	return true;
}

bool cpu_deliver_exception(struct cpu *c)
{
	bool r = deliver_exception(c);
	c->fchain.open = false;         /* delivered, exited or shut down: the chain is complete */
	return r;
}

/* ---- NMI (6.7.1) ---- */

void cpu_nmi(struct cpu *c)
{
	c->nmi_pending = true;
	cpu_end_block(c);
}

/* Delivery blocks further NMIs until the next IRET; an NMI wakes the CPU
 * from HLT with the saved RIP after the HLT. A fault while delivering it
 * (a benign event) is handled serially (Table 6-5). */
bool cpu_service_nmi(struct cpu *c)
{
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_nmi_exit(c))
		return true;
	struct event e = { .vector = VEC_NMI, .kind = INT_NMI, .ext = 1, .ret_ip = c->rip };
	c->nmi_pending = false;
	c->nmi_blocked = true;
	c->halted = false;
	c->delivering = 1;
	enum exec_status st = deliver(c, &e);
	c->delivering = 0;
	return st == EXEC_OK || cpu_deliver_exception(c);
}

/* ---- maskable external interrupts (6.8.1, 6.9) ---- */

void cpu_set_intr(struct cpu *c, bool level)
{
	c->intr_req = level;
	if (level)
		cpu_end_block(c);
}

/* The INTA cycle asks the local APIC for the vector; it is delivered like
 * an NMI (external, no error code, the RIP of the next instruction) and
 * wakes the CPU from HLT. The APIC may answer -1 when nothing is left to
 * deliver (the request went away). */
bool cpu_service_intr(struct cpu *c)
{
	int v = c->apic ? c->apic->ack(c->apic_opaque) : -1;
	return v < 0 || cpu_service_vector(c, (uint8_t)v);
}

bool cpu_service_vector(struct cpu *c, uint8_t v)
{
	struct event e = { .vector = v, .kind = INT_EXTERNAL, .ext = 1, .ret_ip = c->rip };
	c->halted = false;
	c->delivering = 1;
	enum exec_status st = deliver(c, &e);
	c->delivering = 0;
	return st == EXEC_OK || cpu_deliver_exception(c);
}

/* ---- handlers ---- */

/* INT n never consults the exception bitmap (SDM vol. 3C 25.2). */
enum exec_status op_int_Ib(struct cpu *c, const struct insn *i)
{
	return cpu_interrupt(c, (uint8_t)i->imm, INT_SOFTWARE, false, 0, i->len);
}

/* INT3 and INTO raise software exceptions, INT1 a privileged software
 * exception: in non-root the exception bitmap may send them to the host
 * before any delivery (25.2). */
enum exec_status op_int3(struct cpu *c, const struct insn *i)
{
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_soft_exception_exit(c, VEC_BP, INTR_TYPE_SW_EXCEPTION, i->len))
		return EXEC_OK;
	return cpu_interrupt(c, VEC_BP, INT_SOFT_EXCEPTION, false, 0, i->len);
}

enum exec_status op_into(struct cpu *c, const struct insn *i)
{
	if (!lf_of(c))
		return EXEC_OK;
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_soft_exception_exit(c, VEC_OF, INTR_TYPE_SW_EXCEPTION, i->len))
		return EXEC_OK;
	return cpu_interrupt(c, VEC_OF, INT_SOFT_EXCEPTION, false, 0, i->len);
}

/* INT1 (ICEBP, F1): #DB as a trap, no gate DPL check (vol. 2 INT n). */
enum exec_status op_int1(struct cpu *c, const struct insn *i)
{
	if (__builtin_expect(c->vmx.nonroot, 0) &&
	    vmx_soft_exception_exit(c, VEC_DB, INTR_TYPE_PRIV_SW_EXCEPTION, i->len))
		return EXEC_OK;
	return cpu_interrupt(c, VEC_DB, INT_PRIV_SOFTWARE, false, 0, i->len);
}

enum exec_status op_ud0(struct cpu *c, const struct insn *i)
{
	(void)i;
	return cpu_ud(c);
}

enum exec_status op_ud1(struct cpu *c, const struct insn *i)
{
	(void)i;
	return cpu_ud(c);
}

enum exec_status op_ud2(struct cpu *c, const struct insn *i)
{
	(void)i;
	return cpu_ud(c);
}
