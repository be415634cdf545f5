/* Segmentation machinery: selectors, descriptors, descriptor tables, segment
 * register loads, the TSS stack fields and stack frames written during far
 * calls and event delivery (SDM vol. 3A chapters 3 and 5; vol. 2 MOV, POP,
 * LDS/LES/LFS/LGS/LSS, CALL, JMP, RET, IRET, INT n).
 *
 * Functions that can fault return false after recording the exception in
 * c->exc (as cpu/operand.h does) and change no register.
 */
#ifndef CPU_SEG_H
#define CPU_SEG_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

/* ---- selectors (SDM 3.4.2) ---- */

#define SEL_TI 4u

static inline unsigned sel_rpl(uint16_t sel)
{
	return sel & 3u;
}

/* Index 0 in the GDT; an LDT selector with index 0 is not null. */
static inline bool sel_null(uint16_t sel)
{
	return (sel & 0xfffcu) == 0;
}

/* The error code naming a selector (SDM 6.13): index and TI, EXT added by
 * the caller, IDT bit clear. */
static inline uint32_t sel_err(uint16_t sel)
{
	return sel & 0xfffcu;
}

/* ---- descriptors (SDM 3.4.5, Figure 3-8) ---- */

/* Access rights in the VMX layout of struct segment: descriptor bits 47:40
 * and 55:52. */
static inline uint32_t desc_ar(uint64_t d)
{
	return (uint32_t)(d >> 40) & 0xf0ffu;
}

static inline uint64_t desc_base(uint64_t d)
{
	return ((d >> 16) & 0xffffffull) | ((d >> 32) & 0xff000000ull);
}

/* Byte limit with the granularity bit applied. */
static inline uint32_t desc_limit(uint64_t d)
{
	uint32_t l = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000);
	return (d & (1ull << 55)) ? (l << 12) | 0xfffu : l;
}

static inline unsigned ar_dpl(uint32_t ar)
{
	return (ar >> AR_DPL_SHIFT) & 3u;
}

/* Code/data type predicates (SDM 3.4.5.1, Table 3-1). */
static inline bool ar_code(uint32_t ar)
{
	return (ar & AR_S) && (ar & 8u);
}

static inline bool ar_conforming(uint32_t ar)
{
	return ar_code(ar) && (ar & 4u);
}

static inline bool ar_writable_data(uint32_t ar)
{
	return (ar & AR_S) && (ar & 0xau) == 2u;
}

static inline bool ar_readable(uint32_t ar)
{
	return (ar & AR_S) && (!(ar & 8u) || (ar & 2u));
}

/* System descriptor and gate types (SDM 3.5, Table 3-2). */
enum sys_type {
	SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALL_GATE16 = 4, SYS_TASK_GATE = 5,
	SYS_INT_GATE16 = 6, SYS_TRAP_GATE16 = 7, SYS_TSS_AVAIL = 9, SYS_TSS_BUSY = 11,
	SYS_CALL_GATE = 12, SYS_INT_GATE = 14, SYS_TRAP_GATE = 15,
};

/* ---- processor modes ---- */

static inline bool cpu_lma(const struct cpu *c)
{
	return (c->efer & EFER_LMA) != 0;
}

/* Protected mode with descriptor-based segmentation (not virtual-8086). */
static inline bool cpu_prot(const struct cpu *c)
{
	return (c->cr0 & CR0_PE) && !(c->rflags & FL_VM);
}

static inline bool cpu_v86(const struct cpu *c)
{
	return (c->cr0 & CR0_PE) && (c->rflags & FL_VM);
}

/* CPL 0 and not virtual-8086 mode: privileged instructions may run. */
static inline bool cpu_supervisor(const struct cpu *c)
{
	return c->cpl == 0 && !cpu_v86(c);
}

/* Record an exception with an error code; always false. */
bool seg_fault(struct cpu *c, unsigned vec, uint32_t err);

/* Host-side warning through c->warn (unimplemented corners). */

/* ---- system memory: implicit supervisor accesses (GDT/LDT/IDT/TSS) ---- */

bool sys_read(struct cpu *c, uint64_t la, unsigned size, uint64_t *v);
bool sys_write(struct cpu *c, uint64_t la, unsigned size, uint64_t v);

/* Read the 8-byte descriptor sel names. A selector past its table's limit
 * (or into an unusable LDT) records vec(err). */
bool desc_read(struct cpu *c, uint16_t sel, unsigned vec, uint32_t err, uint64_t *d);
/* Bytes 15:8 of a 16-byte system descriptor (IA-32e mode), same faults. */
bool desc_read_upper(struct cpu *c, uint16_t sel, unsigned vec, uint32_t err, uint64_t *hi);
/* Read sel's descriptor if it lies within its table (*found), without a
 * limit fault (VERR/VERW); false only on a page fault. */
bool desc_lookup(struct cpu *c, uint16_t sel, bool *found, uint64_t *d);
/* OR bits into the descriptor's type field in memory (accessed, busy). */
bool desc_or_type(struct cpu *c, uint16_t sel, uint64_t *d, uint64_t bits);
/* Set the accessed bit in memory when the descriptor lacks it (SDM 3.4.5.1). */
bool desc_set_accessed(struct cpu *c, uint16_t sel, uint64_t *d);

/* ---- segment registers ---- */

void seg_from_desc(struct segment *s, uint16_t sel, uint64_t d);
/* A null selector: the register becomes unusable (SS keeps DPL = RPL). */
void seg_make_null(struct segment *s, uint16_t sel);
/* Base 0, limit 4 GiB, DPL 0, 32-bit: code (CS) or read/write data. For
 * reset / loaders (multiboot entry state). */
void seg_load_flat(struct cpu *c, unsigned seg, uint16_t sel);
/* Real mode: base = sel << 4, limit and attributes kept. */
void seg_load_real(struct cpu *c, unsigned seg, uint16_t sel);
/* Virtual-8086 mode: base = sel << 4, limit 0xffff, DPL 3 read/write data
 * (SDM 20.2; the values VM entry requires, 26.3.1.2). */
void seg_load_v86(struct cpu *c, unsigned seg, uint16_t sel);
/* Load ES/SS/DS/FS/GS as MOV Sreg, POP Sreg and LxS do, in any mode. */
bool seg_load(struct cpu *c, unsigned seg, uint16_t sel);
/* Check a stack segment that a privilege change switches to: null -> #TS(ext),
 * bad RPL/DPL/type -> #TS(sel|ext), not present -> #SS(sel|ext). */
bool seg_check_new_ss(struct cpu *c, uint16_t sel, unsigned dpl, uint32_t ext, uint64_t *d);
/* Load CS from a checked descriptor with RPL = cpl, set CPL, and let the
 * CPU recompute its mode. */
void seg_commit_cs(struct cpu *c, uint16_t sel, uint64_t d, unsigned cpl);
/* After a return to an outer level: ES/DS/FS/GS whose DPL < CPL (data or
 * non-conforming code) become null (SDM vol. 2 RET, IRET). */
void seg_drop_inaccessible(struct cpu *c);

/* ---- TSS stack fields (SDM 7.2.1, 7.7) ---- */

/* SS:ESP for privilege level dpl from a 16- or 32-bit TSS; TSS limit too
 * small -> #TS(TR|ext). */
bool tss_inner_stack(struct cpu *c, unsigned dpl, uint32_t ext, uint16_t *ss, uint64_t *sp);
/* An 8-byte RSPn / ISTn of a 64-bit TSS at byte offset off. */
bool tss_read_rsp(struct cpu *c, unsigned off, uint32_t ext, uint64_t *rsp);

/* ---- stack frames ---- */

/* A stack about to receive a frame: the current one or a new one. */
struct stack_ref {
	uint64_t base;
	uint32_t limit, ar;
	uint64_t sp;            /* full RSP value; stack_push moves the asz-wide part */
	uint8_t asz;            /* SZ16 / SZ32 / SZ64 */
	bool user;              /* CPL 3 accesses */
	bool lm;                /* 64-bit stack: canonical checks, no limits */
};

void stack_ref_current(struct cpu *c, struct stack_ref *st);
void stack_ref_desc(struct stack_ref *st, uint64_t ss_desc, uint64_t sp, bool user);
/* Push n values of w bytes (vals[0] first, at the highest address). All
 * limit and paging checks happen before any byte is written; a limit or
 * canonical failure records #SS(err). */
bool stack_push(struct cpu *c, struct stack_ref *st, const uint64_t *vals, unsigned n, unsigned w,
		uint32_t err);
/* Read w bytes at [SP + off] of the current stack (#SS(0) on limits). */
bool stack_peek(struct cpu *c, uint64_t off, unsigned w, uint64_t *v);
/* Read the far pointer m16:16/32/64 of a ModRM memory operand: the offset
 * (operand size), then the selector. */
struct insn;
bool far_pointer_read(struct cpu *c, const struct insn *i, uint64_t *off, uint16_t *sel);

/* Write RSP as a stack of address size asz does: SP only, ESP zero-extended,
 * or RSP. */
void sp_write(struct cpu *c, unsigned asz, uint64_t v);

#endif
