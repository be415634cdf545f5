/* Operand access for instruction handlers: registers by size, effective
 * addresses, segmentation (SDM vol. 3A 5.3 limit checks, 3.4.5 types) and
 * memory through mem/access.h with faults turned into exceptions.
 *
 * Every function that can fault returns false after recording the exception
 * in c->exc; handlers then return EXEC_FAULT without further side effects.
 */
#ifndef CPU_OPERAND_H
#define CPU_OPERAND_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "cpu/decode.h"
#include "cpu/flags.h"
#include "mem/access.h"

/* ---- exceptions ---- */

static inline enum exec_status cpu_fault(struct cpu *c, unsigned vec, bool has_error, uint32_t error)
{
	c->exc.vector = (uint8_t)vec;
	c->exc.has_error = has_error;
	c->exc.error = error;
	c->exc.is_pf = false;
	return EXEC_FAULT;
}

static inline enum exec_status cpu_ud(struct cpu *c)
{
	return cpu_fault(c, VEC_UD, false, 0);
}

static inline enum exec_status cpu_gp0(struct cpu *c)
{
	return cpu_fault(c, VEC_GP, true, 0);
}

/* A failed translation: #PF, or in non-root operation a VM exit the
 * delivery path hands to vmx_xlate_exit (an EPT violation, ...). */
static inline bool cpu_page_fault(struct cpu *c, const struct xlate_fault *f)
{
	if (__builtin_expect(f->kind != XLATE_PF, 0)) {
		cpu_fault(c, VEC_NONE, false, 0);
		c->exc.vmexit = true;
		c->exc.xf = *f;
		return false;
	}
	cpu_fault(c, VEC_PF, true, f->error_code);
	c->exc.is_pf = true;
	c->exc.cr2 = f->linear;
	return false;
}

/* ---- registers ---- */

static inline __attribute__((always_inline)) uint64_t reg_read(const struct cpu *c, unsigned r, unsigned osz)
{
	switch (osz) {
	case SZ8: return r >= REG_AH ? (uint8_t)(c->gpr[r - REG_AH] >> 8) : (uint8_t)c->gpr[r];
	case SZ16: return (uint16_t)c->gpr[r];
	case SZ32: return (uint32_t)c->gpr[r];
	default: return c->gpr[r];
	}
}

/* Writes of 32 bits zero-extend to 64 (SDM vol. 1 3.4.1.1); 8/16 keep the rest. */
static inline __attribute__((always_inline)) void reg_write(struct cpu *c, unsigned r, unsigned osz, uint64_t v)
{
	switch (osz) {
	case SZ8:
		if (r >= REG_AH)
			c->gpr[r - REG_AH] = (c->gpr[r - REG_AH] & ~0xff00ull) | ((v & 0xff) << 8);
		else
			c->gpr[r] = (c->gpr[r] & ~0xffull) | (v & 0xff);
		break;
	case SZ16: c->gpr[r] = (c->gpr[r] & ~0xffffull) | (v & 0xffff); break;
	case SZ32: c->gpr[r] = (uint32_t)v; break;
	default: c->gpr[r] = v; break;
	}
}

/* ---- addresses ---- */

static inline uint64_t addr_mask(unsigned asz)
{
	return ~0ull >> (64 - (8u << asz));     /* SZ16 -> 16 bits, SZ32 -> 32, SZ64 -> 64 */
}

/* Effective address (offset within the segment) of the ModRM memory operand.
 * REG_NONE and REG_RIP index the zero register and next_rip in gpr_ea[]. */
static inline __attribute__((always_inline)) uint64_t insn_ea(const struct cpu *c, const struct insn *i)
{
	uint64_t a = (uint64_t)(int64_t)i->disp + c->gpr_ea[i->base] + (c->gpr_ea[i->index] << i->scale);
	return a & addr_mask(i->asz);
}

_Static_assert(REG_NONE == 16 && REG_RIP == 17, "gpr_ea layout");

/* Segment-limit and type checks outside 64-bit mode; canonical check in it.
 * Produces the linear address or records #GP(0)/#SS(0). */
bool seg_check_slow(struct cpu *c, unsigned seg, uint64_t off, unsigned size, unsigned acc, uint64_t *la);

static inline bool seg_linear(struct cpu *c, unsigned seg, uint64_t off, unsigned size, unsigned acc,
			      uint64_t *la)
{
	if (c->code64) {
		uint64_t a = off + (seg >= SEG_FS ? c->seg[seg].base : 0);
		if (__builtin_expect(is_canonical48(a), 1)) {
			*la = a;
			return true;
		}
	}
	return seg_check_slow(c, seg, off, size, acc, la);
}

static inline struct mem_view cpu_view(struct cpu *c)
{
	return (struct mem_view){ &c->tlb, c->phys, &c->xc, c->user, &c->apic_page, &c->apic_access };
}

/* Out-of-line rest of an access the inline fast path could not finish:
 * segmentation (outside 64-bit mode), canonical checks, TLB refill,
 * page-straddling, MMIO. */
bool mem_read_slow(struct cpu *c, unsigned seg, uint64_t off, unsigned size, uint64_t *v);
bool mem_write_slow(struct cpu *c, unsigned seg, uint64_t off, unsigned size, uint64_t v);

/* The fast path: 64-bit mode, TLB hit, inside one page. A non-canonical
 * address never matches a TLB tag (tags are canonical), so the canonical
 * check belongs to the slow path. */
static inline uint8_t *mem_fast_ptr(struct cpu *c, unsigned seg, uint64_t off, unsigned size, bool write)
{
	if (__builtin_expect(!c->code64, 0))
		return NULL;
	uint64_t la = off + (seg >= SEG_FS ? c->seg[seg].base : 0);
	struct tlb_entry *e = &c->tlb.e[c->tlb_class][tlb_index(la)];
	uint64_t tag = write ? e->tag_w : e->tag_r;
	if (__builtin_expect(tag == (la & PAGE_MASK) && mem_in_page(la, size), 1))
		return (uint8_t *)(e->host + (la & (PAGE_SIZE - 1)));
	return NULL;
}

/* A little-endian load of 1, 2, 4 or 8 bytes from a host pointer the TLB
 * handed out. */
static inline __attribute__((always_inline)) uint64_t host_load(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1: return *p;
	case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
	case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
	default: { uint64_t x; memcpy(&x, p, 8); return x; }
	}
}

/* Read/write `size` bytes at seg:off. */
static inline __attribute__((always_inline)) bool mem_read_seg(struct cpu *c, unsigned seg, uint64_t off,
								unsigned size, uint64_t *v)
{
	const uint8_t *p = mem_fast_ptr(c, seg, off, size, false);
	if (__builtin_expect(p == NULL, 0))
		return mem_read_slow(c, seg, off, size, v);
	*v = host_load(p, size);
	return true;
}

static inline __attribute__((always_inline)) bool mem_write_seg(struct cpu *c, unsigned seg, uint64_t off,
								 unsigned size, uint64_t v)
{
	uint8_t *p = mem_fast_ptr(c, seg, off, size, true);
	if (__builtin_expect(p == NULL, 0))
		return mem_write_slow(c, seg, off, size, v);
	switch (size) {
	case 1: *p = (uint8_t)v; break;
	case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
	case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
	return true;
}

/* Check that a write to seg:off would succeed (for read-modify-write
 * instructions that must fault before changing anything). */
bool mem_probe_write(struct cpu *c, unsigned seg, uint64_t off, unsigned size);

/* Read the memory destination of a read-modify-write instruction. Paging
 * checks it as a write before anything is read, so a read-only or
 * not-present page faults with W/R = 1 in the error code (SDM vol. 3A 4.7:
 * W/R describes the access; Intel and AMD processors make the access of a
 * read-modify-write instruction a write), and a fault changes nothing. */
static inline bool mem_read_rmw(struct cpu *c, unsigned seg, uint64_t off, unsigned size, uint64_t *v)
{
	const uint8_t *p = mem_fast_ptr(c, seg, off, size, true);
	if (__builtin_expect(p == NULL, 0))
		return mem_probe_write(c, seg, off, size) && mem_read_slow(c, seg, off, size, v);
	*v = host_load(p, size);
	return true;
}

/* ---- ModRM operands ---- */

static inline __attribute__((always_inline)) bool rm_read(struct cpu *c, const struct insn *i, uint64_t *v)
{
	if (i->flags & IF_MOD3) {
		*v = reg_read(c, i->rm, i->osz);
		return true;
	}
	return mem_read_seg(c, i->seg, insn_ea(c, i), 1u << i->osz, v);
}

static inline __attribute__((always_inline)) bool rm_write(struct cpu *c, const struct insn *i, uint64_t v)
{
	if (i->flags & IF_MOD3) {
		reg_write(c, i->rm, i->osz, v);
		return true;
	}
	return mem_write_seg(c, i->seg, insn_ea(c, i), 1u << i->osz, v);
}

/* Read with an explicit size (MOVZX/MOVSX sources, selectors). */
static inline __attribute__((always_inline)) bool rm_read_sz(struct cpu *c, const struct insn *i, unsigned osz, uint64_t *v)
{
	if (i->flags & IF_MOD3) {
		*v = reg_read(c, i->rm, osz);
		return true;
	}
	return mem_read_seg(c, i->seg, insn_ea(c, i), 1u << osz, v);
}

/* ---- stack ---- */

/* Stack-pointer width: 64 in 64-bit mode, else SS.B (SDM vol. 1 6.2.3). */
static inline unsigned stack_asz(const struct cpu *c)
{
	return c->code64 ? SZ64 : (c->seg[SEG_SS].ar & AR_DB) ? SZ32 : SZ16;
}

bool cpu_push(struct cpu *c, unsigned osz, uint64_t v);
bool cpu_pop(struct cpu *c, unsigned osz, uint64_t *v);

static inline void set_sp(struct cpu *c, uint64_t v)
{
	unsigned s = stack_asz(c);
	reg_write(c, R_SP, s == SZ16 ? SZ16 : SZ64, s == SZ32 ? (uint32_t)v : v);
}

/* ---- control transfer ---- */

/* Near branch target: masked to the operand size outside 64-bit mode;
 * #GP(0) if non-canonical (64-bit) or beyond CS.limit. */
bool cpu_branch_slow(struct cpu *c, unsigned osz, uint64_t target);

static inline bool cpu_branch(struct cpu *c, unsigned osz, uint64_t target)
{
	if (__builtin_expect(c->code64 && osz == SZ64 && is_canonical48(target), 1)) {
		c->next_rip = target;
		return true;
	}
	return cpu_branch_slow(c, osz, target);
}

#endif
