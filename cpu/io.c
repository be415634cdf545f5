/* Port I/O instructions: IN, OUT, INS, OUTS (SDM vol. 2 instruction pages)
 * with the protected-mode I/O permission check (SDM vol. 1 18.5). */
#include "cpu/debug.h"
#include "cpu/handlers.h"
#include "cpu/operand.h"
#include "cpu/probe.h"
#include "cpu/seg.h"

/* Iterations of REP INS/OUTS per execution: a long string re-executes the
 * instruction (RIP unchanged) so events and deadlines are seen in between,
 * as the architecture allows for repeated string instructions. */
#define IO_REP_BATCH 1024u

/* The TSS I/O bitmap: bits port..port+size-1 must all be 0. The bitmap
 * offset is the word at TSS+66H; the two bytes holding the bits must lie
 * within the TSS limit; a 16-bit TSS has no bitmap (vol. 1 18.5.2). */
static bool io_bitmap_allows(struct cpu *c, uint16_t port, unsigned size)
{
	unsigned type = c->tr.ar & AR_TYPE_MASK;
	uint64_t map, bits;
	if ((c->tr.ar & AR_UNUSABLE) || (type != SYS_TSS_BUSY && type != SYS_TSS_AVAIL) || c->tr.limit < 0x67)
		return seg_fault(c, VEC_GP, 0);
	if (!sys_read(c, c->tr.base + 0x66, 2, &map))
		return false;
	uint32_t off = (uint32_t)map + port / 8u;
	if (off + 1 > c->tr.limit)
		return seg_fault(c, VEC_GP, 0);
	if (!sys_read(c, c->tr.base + off, 2, &bits))
		return false;
	if (bits & (((1u << size) - 1) << (port & 7)))
		return seg_fault(c, VEC_GP, 0);
	return true;
}

/* CPL <= IOPL in protected mode passes; virtual-8086 mode and CPL > IOPL
 * consult the bitmap (vol. 1 18.5.1, 18.5.2). */
static bool io_allowed(struct cpu *c, uint16_t port, unsigned size)
{
	unsigned iopl = (unsigned)((c->rflags & FL_IOPL) >> 12);
	if (!(c->cr0 & CR0_PE))
		return true;
	if (!(c->rflags & FL_VM) && c->cpl <= iopl)
		return true;
	return io_bitmap_allows(c, port, size);
}

/* Bytes per transfer: 1, 2 or 4 (REX.W does not make 8). */
static unsigned io_size(const struct insn *i)
{
	return i->osz == SZ8 ? 1 : i->osz == SZ16 ? 2 : 4;
}

static unsigned size_osz(unsigned n)
{
	return n == 1 ? SZ8 : n == 2 ? SZ16 : SZ32;
}

/* In VMX non-root operation the I/O-permission #GP comes first, then the
 * VM exit (SDM vol. 3C 25.1.1, 25.1.3). */
static enum exec_status do_in(struct cpu *c, const struct insn *i, uint16_t port, uint32_t kind)
{
	unsigned n = io_size(i);
	if (!io_allowed(c, port, n))
		return EXEC_FAULT;
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_io(c, i, port, n, VMX_IO_IN | kind))
		return EXEC_OK;
	cpu_debug_io(c, port, n);
	uint32_t v = pio_read(c->pio, port, n);
	reg_write(c, R_AX, size_osz(n), v);
	cpu_probe_io(c, port, n, false, v);
	return EXEC_OK;
}

static enum exec_status do_out(struct cpu *c, const struct insn *i, uint16_t port, uint32_t kind)
{
	unsigned n = io_size(i);
	if (!io_allowed(c, port, n))
		return EXEC_FAULT;
	if (__builtin_expect(c->vmx.nonroot, 0) && vmx_intercept_io(c, i, port, n, kind))
		return EXEC_OK;
	cpu_debug_io(c, port, n);
	uint32_t v = (uint32_t)reg_read(c, R_AX, size_osz(n));
	pio_write(c->pio, port, v, n);
	cpu_probe_io(c, port, n, true, v);
	return EXEC_OK;
}

enum exec_status op_in_Ib(struct cpu *c, const struct insn *i)
{
	return do_in(c, i, (uint8_t)i->imm, VMX_IO_IMM);
}

enum exec_status op_in_DX(struct cpu *c, const struct insn *i)
{
	return do_in(c, i, (uint16_t)c->gpr[R_DX], 0);
}

enum exec_status op_out_Ib(struct cpu *c, const struct insn *i)
{
	return do_out(c, i, (uint8_t)i->imm, VMX_IO_IMM);
}

enum exec_status op_out_DX(struct cpu *c, const struct insn *i)
{
	return do_out(c, i, (uint16_t)c->gpr[R_DX], 0);
}

/* ---- INS / OUTS ---- */

struct str_io {
	unsigned n, asz;
	uint16_t port;
	uint64_t step;          /* +n or -n (DF) */
	bool rep;
};

static void str_io_init(struct cpu *c, const struct insn *i, struct str_io *s)
{
	s->n = io_size(i);
	s->asz = i->asz;
	s->port = (uint16_t)c->gpr[R_DX];
	s->step = (c->rflags & FL_DF) ? (uint64_t)0 - s->n : s->n;
	s->rep = (i->flags & (IF_REP | IF_REPNE)) != 0;
}

/* Count of iterations this execution performs; when more remain, the
 * instruction runs again (next RIP = its own address). */
static uint64_t str_io_count(struct cpu *c, const struct insn *i, const struct str_io *s)
{
	uint64_t cx = c->gpr[R_CX] & addr_mask(s->asz), batch = cpu_rep_limit(c, IO_REP_BATCH);
	if (!s->rep)
		return 1;
	if (cx > batch) {
		c->next_rip -= i->len;
		c->rflags |= FL_RF;     /* as between iterations of one instruction (SDM 17.3.1.1) */
	}
	return cx > batch ? batch : cx;
}

/* rSI/rDI and rCX move at the address size: 16 and 32 bits wrap inside the
 * register (a 32-bit write clears bits 63:32 like any 32-bit write). */
static void str_io_step(struct cpu *c, const struct str_io *s, unsigned r)
{
	reg_write(c, r, s->asz, c->gpr[r] + s->step);
	if (s->rep)
		reg_write(c, R_CX, s->asz, c->gpr[R_CX] - 1);
}

/* VMX non-root operation: the VM exit comes after the I/O-permission #GP
 * and before every iteration, segment/limit/alignment check and memory
 * access (SDM vol. 3C 25.1.1), so a REP form exits with its registers
 * unchanged, whatever rCX holds. */
static bool str_io_exits(struct cpu *c, const struct insn *i, const struct str_io *s, uint32_t in)
{
	return vmx_intercept_io(c, i, s->port, s->n, in | VMX_IO_STRING | (s->rep ? VMX_IO_REP : 0));
}

/* INS writes ES:rDI (no segment override); the destination is checked
 * before the port is read so a faulting INS has no device side effect. */
enum exec_status op_ins(struct cpu *c, const struct insn *i)
{
	struct str_io s;
	str_io_init(c, i, &s);
	if (!io_allowed(c, s.port, s.n))
		return EXEC_FAULT;
	if (__builtin_expect(c->vmx.nonroot, 0) && str_io_exits(c, i, &s, VMX_IO_IN))
		return EXEC_OK;
	for (uint64_t k = str_io_count(c, i, &s); k > 0; k--) {
		uint64_t di = c->gpr[R_DI] & addr_mask(s.asz);
		cpu_debug_io(c, s.port, s.n);
		if (!mem_probe_write(c, SEG_ES, di, s.n))
			return EXEC_FAULT;
		uint32_t v = pio_read(c->pio, s.port, s.n);
		cpu_probe_io(c, s.port, s.n, false, v);
		if (!mem_write_seg(c, SEG_ES, di, s.n, v))
			return EXEC_FAULT;
		str_io_step(c, &s, R_DI);
	}
	return EXEC_OK;
}

/* OUTS reads seg:rSI, DS unless overridden. */
enum exec_status op_outs(struct cpu *c, const struct insn *i)
{
	struct str_io s;
	uint64_t v;
	str_io_init(c, i, &s);
	if (!io_allowed(c, s.port, s.n))
		return EXEC_FAULT;
	if (__builtin_expect(c->vmx.nonroot, 0) && str_io_exits(c, i, &s, 0))
		return EXEC_OK;
	for (uint64_t k = str_io_count(c, i, &s); k > 0; k--) {
		if (!mem_read_seg(c, i->seg, c->gpr[R_SI] & addr_mask(s.asz), s.n, &v))
			return EXEC_FAULT;
		cpu_debug_io(c, s.port, s.n);
		pio_write(c->pio, s.port, (uint32_t)v, s.n);
		cpu_probe_io(c, s.port, s.n, true, v);
		str_io_step(c, &s, R_SI);
	}
	return EXEC_OK;
}
