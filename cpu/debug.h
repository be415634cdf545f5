/* Debug registers and the debug exception (SDM vol. 3B chapter 17 "Debug,
 * Branch Profile, TSC, and Intel Resource Director Technology Features"),
 * and alignment checking (vol. 3A 6.15 "Interrupt 17").
 *
 * Breakpoints and #AC cost nothing while they are off: the executor leaves
 * its block fast path only when cpu_debug_slow() says so (tested once per
 * block), and data checks live on the memory slow path, which every data
 * access takes while the TLB caches no data translations (tlb.data_nofill,
 * set by cpu_debug_update()).
 */
#ifndef CPU_DEBUG_H
#define CPU_DEBUG_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* DR6 (17.2.3) and the pending-debug-exceptions layout of c->pending_dbg. */
#define DR6_B(n) (1ull << (n))          /* breakpoint condition n detected */
#define DR6_BMASK 0xfull
#define DBG_ENABLED_BP (1ull << 12)     /* pending only: an enabled data/I-O breakpoint hit */
#define DR6_FIXED1 0xffff0ff0ull        /* bits that read 1 (no RTM, no bus-lock detection) */
#define DR6_WRITABLE (DR6_BMASK | DR6_BD | DR6_BS | (1ull << 15))

/* DR7 (17.2.4): L/G enables in bits 7:0, R/W and LEN per breakpoint from 16. */
#define DR7_ENABLES 0xffull
#define DR7_FIXED1 0x400ull             /* bit 10 reads 1 */
#define DR7_WRITABLE (0xffff0000ull | DR7_GD | 0x3ffull)
enum { DR7_RW_EXEC = 0, DR7_RW_WRITE = 1, DR7_RW_IO = 2, DR7_RW_RW = 3 };

/* Anything that makes the executor run one instruction at a time and check
 * the instruction boundary: TF, RF, an enabled breakpoint or a pending
 * debug exception (c->dbg_armed), or a MOV SS/POP SS or STI shadow (which
 * must end after the next instruction, vol. 3A 6.8.3), or in VMX non-root
 * operation the monitor trap flag or a preemption timer near its deadline
 * (vmx/pending.c). A host observer stepping (cpu/probe.h) arms dbg_armed. */
static inline bool cpu_debug_slow(const struct cpu *c)
{
	return ((c->rflags & (FL_TF | FL_RF)) | c->dbg_armed | c->mov_ss_shadow | c->sti_shadow |
		c->vmx.bnd.step) != 0;
}

/* Forget the traps recognised during an instruction that then faulted. */
void cpu_debug_drop_pending(struct cpu *c);

/* At an instruction boundary before the fetch (6.9, Table 6-2): deliver
 * the pending traps of the previous instruction, then check instruction
 * breakpoints (unless RF or a MOV SS shadow suppresses them), then clear
 * RF. EXEC_FAULT with #DB recorded, or EXEC_OK to go on with the fetch. */
enum exec_status cpu_debug_boundary(struct cpu *c);

/* After an instruction completed under single-instruction execution: the
 * single-step trap (17.3.1.4). tf = RFLAGS.TF when it started. */
void cpu_debug_retired(struct cpu *c, const struct insn *i, bool tf);

/* DR7.GD: any MOV DR is a #DB fault with DR6.BD (17.2.4). */
enum exec_status cpu_debug_gd_fault(struct cpu *c);
/* What raising #DB for the conditions in bits (pending-debug layout) does
 * to DR6 and DR7.GD (17.2.3, 17.2.4). */
void cpu_debug_commit_db(struct cpu *c, uint64_t bits);

/* After DR7, CR0.AM or RFLAGS.AC changed: recompute c->dbg_armed and the
 * TLB policy. */
void cpu_debug_update(struct cpu *c);

/* Slow-path checks of one data access at linear address la: #AC(0) for a
 * misaligned access at CPL 3 with CR0.AM and RFLAGS.AC (6.15, Table 6-7:
 * the natural alignment of the access size), and data breakpoints
 * (17.2.5), recorded as pending traps. False with #AC recorded. */
bool cpu_debug_data_access(struct cpu *c, uint64_t la, unsigned size, bool write);

static inline bool cpu_debug_data_checked(const struct cpu *c)
{
	return (c->tlb.data_nofill >> c->user) & 1;
}

/* I/O breakpoints (R/W = 10 with CR4.DE; 17.2.4): IN, OUT, INS, OUTS. */
void cpu_debug_io_slow(struct cpu *c, uint16_t port, unsigned size);

static inline void cpu_debug_io(struct cpu *c, uint16_t port, unsigned size)
{
	if (__builtin_expect((c->dr[7] & DR7_ENABLES) != 0, 0))
		cpu_debug_io_slow(c, port, size);
}

/* Iterations a repeated string instruction may run in one execution: one
 * under single-step or with breakpoints enabled, so that the trap follows
 * the iteration that caused it (17.3.1.2, 17.3.1.4); max otherwise. */
static inline unsigned cpu_rep_limit(const struct cpu *c, unsigned max)
{
	/* The monitor trap flag too: an MTF VM exit follows each iteration
	 * (SDM vol. 3C 25.5.2). */
	return ((c->rflags & FL_TF) | (c->dr[7] & DR7_ENABLES) | c->vmx.bnd.mtf) ? 1 : max;
}

#endif
