/* Debug exceptions: breakpoint matching on DR0-DR3 per DR7, single-step,
 * the RF flag, DR7.GD, when #DB is raised and what it writes to DR6 (SDM
 * vol. 3B 17.2-17.3), and the alignment-check exception (vol. 3A 6.15).
 */
#include "cpu/debug.h"
#include "cpu/probe.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"

static unsigned dr7_rw(uint64_t dr7, unsigned n)
{
	return (unsigned)(dr7 >> (16 + 4 * n)) & 3;
}

/* LENn: 00 = 1 byte, 01 = 2, 10 = 8 (Core and later; "undefined" on older
 * parts), 11 = 4 (17.2.4). */
static uint64_t dr7_len(uint64_t dr7, unsigned n)
{
	static const uint8_t len[4] = { 1, 2, 8, 4 };
	return len[(dr7 >> (18 + 4 * n)) & 3];
}

static bool dr7_enabled(uint64_t dr7, unsigned n)
{
	return (dr7 >> (2 * n)) & 3;
}

/* Breakpoint field recognition (17.2.5): the low address bits that LEN
 * does not cover are ignored, and any byte of the access inside the field
 * is a hit. */
static bool field_hit(uint64_t bp, uint64_t len, uint64_t addr, unsigned size)
{
	uint64_t lo = bp & ~(len - 1);
	return addr <= lo + (len - 1) && lo <= addr + (size - 1);
}

/* Enabled breakpoints of kind rw whose field holds [addr, addr + size). */
static uint64_t hits(const struct cpu *c, unsigned rw, uint64_t addr, unsigned size)
{
	uint64_t dr7 = c->dr[7], b = 0;
	for (unsigned n = 0; n < 4; n++)
		if (dr7_enabled(dr7, n) && dr7_rw(dr7, n) == rw && field_hit(c->dr[n], dr7_len(dr7, n), addr, size))
			b |= DR6_B(n);
	return b;
}

static void rearm(struct cpu *c)
{
	c->dbg_armed = (c->dr[7] & DR7_ENABLES) != 0 || c->pending_dbg != 0 || c->probe_step;
}

static void pend(struct cpu *c, uint64_t bits)
{
	c->pending_dbg |= bits;
	c->dbg_armed = 1;
}

void cpu_debug_drop_pending(struct cpu *c)
{
	c->pending_dbg = 0;
	rearm(c);
}

/* Raise #DB for the conditions in `bits` (pending-debug layout). B0-B3 are
 * rewritten with the breakpoints that caused this exception; BD, BS and BT
 * are only ever set (17.2.3: "certain debug exceptions may clear bits 0-3;
 * the remaining contents are never cleared by the processor"). GD is cleared
 * on entry to the handler so it can use the debug registers (17.2.4). */
void cpu_debug_commit_db(struct cpu *c, uint64_t bits)
{
	c->dr[6] = (c->dr[6] & ~DR6_BMASK) | (bits & (DR6_BMASK | DR6_BD | DR6_BS));
	c->dr[7] &= ~DR7_GD;
}

/* In VMX non-root operation a #DB the exception bitmap intercepts changes
 * neither DR6 nor DR7.GD (SDM vol. 3C 27.1): the bits travel with the
 * exception and are committed when it is delivered in the guest. */
static enum exec_status raise_db(struct cpu *c, uint64_t bits)
{
	if (__builtin_expect(c->vmx.nonroot, 0)) {
		cpu_fault(c, VEC_DB, false, 0);
		c->exc.dbg = bits & (DR6_BMASK | DR6_BD | DR6_BS);
		return EXEC_FAULT;
	}
	cpu_debug_commit_db(c, bits);
	return cpu_fault(c, VEC_DB, false, 0);
}

/* The general-detect condition is a fault, and RF is 1 in the frame of
 * every fault-class exception but an instruction breakpoint (17.3.1.1);
 * delivery saves the current RF for #DB and clears RF for the handler. */
enum exec_status cpu_debug_gd_fault(struct cpu *c)
{
	c->rflags |= FL_RF;
	return raise_db(c, DR6_BD);
}

/* Linear address of the instruction's first byte, without the CS limit
 * check: code breakpoints come before fetch faults (Table 6-2). */
static uint64_t rip_linear_nocheck(const struct cpu *c)
{
	if (c->code64)
		return c->rip;
	return (c->seg[SEG_CS].base + c->rip) & 0xffffffffull;
}

enum exec_status cpu_debug_boundary(struct cpu *c)
{
	/* Blocking by MOV SS holds debug exceptions until the boundary after
	 * the next instruction (vol. 3A 6.8.3). A debug exception resumes a
	 * processor in the HLT state (vol. 2 HLT). */
	if (c->pending_dbg && !c->mov_ss_shadow) {
		uint64_t p = c->pending_dbg;
		cpu_debug_drop_pending(c);
		c->halted = false;
		return raise_db(c, p);
	}
	/* RF suppresses instruction breakpoints for one instruction and is
	 * cleared at its start, after that check (17.3.1.1); an instruction
	 * breakpoint right after MOV SS is not triggered (17.3.1.1). */
	if (c->rflags & FL_RF) {
		c->rflags &= ~(uint64_t)FL_RF;
		return EXEC_OK;
	}
	if (c->mov_ss_shadow || !(c->dr[7] & DR7_ENABLES))
		return EXEC_OK;
	uint64_t b = hits(c, DR7_RW_EXEC, rip_linear_nocheck(c), 1);
	return b ? raise_db(c, b) : EXEC_OK;
}

/* INT n, INT3, INTO and INT1 clear TF on the way to their handler and are
 * not followed by a single-step trap (17.3.1.4); INTO that does not trap
 * leaves TF set and is. */
static bool soft_interrupt_taken(const struct cpu *c, const struct insn *i)
{
	bool soft = i->fn == op_int_Ib || i->fn == op_int3 || i->fn == op_into || i->fn == op_int1;
	return soft && !(c->rflags & FL_TF);
}

/* The single-step trap follows an instruction that started with TF = 1,
 * not the one that set TF (17.3.1.4). */
void cpu_debug_retired(struct cpu *c, const struct insn *i, bool tf)
{
	if (tf && !soft_interrupt_taken(c, i))
		pend(c, DR6_BS);
}

/* Data breakpoints need every data access on the slow path: every TLB
 * class stops caching data translations while one is enabled. So does
 * the user class while CR0.AM and RFLAGS.AC arm alignment checking (it
 * applies at CPL 3 only). */
void cpu_debug_update(struct cpu *c)
{
	uint8_t nofill = 0;
	for (unsigned n = 0; n < 4; n++) {
		unsigned rw = dr7_rw(c->dr[7], n);
		if (dr7_enabled(c->dr[7], n) && (rw == DR7_RW_WRITE || rw == DR7_RW_RW))
			nofill = (1u << TLB_CLASSES) - 1;
	}
	if ((c->cr0 & CR0_AM) && (c->rflags & FL_AC))
		nofill |= 1u << TLB_USER;
	if (c->probe_data)
		nofill = (1u << TLB_CLASSES) - 1;       /* a host observer watches data (cpu/probe.h) */
	if (nofill != c->tlb.data_nofill) {
		c->tlb.data_nofill = nofill;
		tlb_flush_all(&c->tlb);
	}
	rearm(c);
}

/* Alignment checking needs CR0.AM, RFLAGS.AC and CPL 3 (6.15, Interrupt
 * 17); implicit supervisor accesses (descriptor tables, TSS) never come
 * here. Segmentation is checked before, paging after. */
bool cpu_debug_data_access(struct cpu *c, uint64_t la, unsigned size, bool write)
{
	if (c->user && (c->cr0 & CR0_AM) && (c->rflags & FL_AC) && (la & (size - 1))) {
		cpu_fault(c, VEC_AC, true, 0);
		return false;
	}
	if (c->dr[7] & DR7_ENABLES) {
		uint64_t b = hits(c, DR7_RW_RW, la, size) | (write ? hits(c, DR7_RW_WRITE, la, size) : 0);
		if (b)
			pend(c, b | DBG_ENABLED_BP);
	}
	if (c->probe_data) {
		struct probe_event e = { .kind = PROBE_DATA, .value = la, .aux = size, .write = write,
					 .rip = c->next_rip };
		cpu_probe_emit(c, &e);
	}
	return true;
}

void cpu_probe_set(struct cpu *c, const struct cpu_probe *p, bool step, bool data)
{
	c->probe = p;
	c->probe_step = p && step;
	c->probe_data = p && data;
	if (!p)
		c->probe_parked = c->probe_break = 0;
	cpu_end_block(c);
	cpu_debug_update(c);
}

/* R/W = 10 means I/O only with CR4.DE = 1; with DE = 0 the encoding is
 * undefined (17.2.4) and vtxsim never matches it. */
void cpu_debug_io_slow(struct cpu *c, uint16_t port, unsigned size)
{
	if (!(c->cr4 & CR4_DE))
		return;
	uint64_t b = hits(c, DR7_RW_IO, port, size);
	if (b)
		pend(c, b | DBG_ENABLED_BP);
}
