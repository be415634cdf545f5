/* Out-of-line parts of operand access: segment checks, alignment checks and
 * data breakpoints (cpu/debug.c), stack, near branches. */
#include "cpu/debug.h"
#include "cpu/operand.h"

static bool seg_fault(struct cpu *c, unsigned seg)
{
	cpu_fault(c, seg == SEG_SS ? VEC_SS : VEC_GP, true, 0);
	return false;
}

/* SDM vol. 3A 5.3 (limit checking) and 3.4.5.1 (types): data segments are
 * readable, writable if type bit 1; code segments readable if type bit 1,
 * never writable; expand-down data (type bit 2) has the valid range
 * (limit, 0xffff or 0xffffffff]. In 64-bit mode only canonicality counts
 * (5.3.1), #SS for SS-relative accesses. */
bool seg_check_slow(struct cpu *c, unsigned seg, uint64_t off, unsigned size, unsigned acc, uint64_t *la)
{
	const struct segment *s = &c->seg[seg];
	if (c->code64) {
		uint64_t a = off + (seg >= SEG_FS ? s->base : 0);
		if (!cpu_canonical(c, a))
			return seg_fault(c, seg);
		*la = a;
		return true;
	}
	if (s->ar & AR_UNUSABLE)
		return seg_fault(c, seg);
	unsigned type = s->ar & AR_TYPE_MASK;
	bool code = type & 8, prot = c->cr0 & CR0_PE;  /* real mode checks limits only (20.1.1) */
	if (prot && (acc & ACC_WRITE) && (code || !(type & 2)))
		return seg_fault(c, seg);
	if (prot && !(acc & ACC_WRITE) && code && !(type & 2) && !(acc & ACC_EXEC))
		return seg_fault(c, seg);
	uint64_t last = off + size - 1;
	if (!code && (type & 4)) {
		uint64_t upper = (s->ar & AR_DB) ? 0xffffffffull : 0xffffull;
		if (off <= s->limit || last > upper)
			return seg_fault(c, seg);
	} else if (last > s->limit || last < off) {
		return seg_fault(c, seg);
	}
	*la = (s->base + off) & 0xffffffffull;
	return true;
}

bool mem_read_slow(struct cpu *c, unsigned seg, uint64_t off, unsigned size, uint64_t *v)
{
	uint64_t la;
	struct xlate_fault f;
	if (!seg_check_slow(c, seg, off, size, ACC_READ, &la))
		return false;
	if (__builtin_expect(cpu_debug_data_checked(c), 0) && !cpu_debug_data_access(c, la, size, false))
		return false;
	struct mem_view mv = cpu_view(c);
	if (mem_read(&mv, la, size, v, &f))
		return true;
	return cpu_page_fault(c, &f);
}

bool mem_write_slow(struct cpu *c, unsigned seg, uint64_t off, unsigned size, uint64_t v)
{
	uint64_t la;
	struct xlate_fault f;
	if (!seg_check_slow(c, seg, off, size, ACC_WRITE, &la))
		return false;
	if (__builtin_expect(cpu_debug_data_checked(c), 0) && !cpu_debug_data_access(c, la, size, true))
		return false;
	struct mem_view mv = cpu_view(c);
	if (mem_write(&mv, la, size, v, &f))
		return true;
	return cpu_page_fault(c, &f);
}

bool mem_probe_write(struct cpu *c, unsigned seg, uint64_t off, unsigned size)
{
	uint64_t la, pa;
	struct xlate_fault f;
	if (!seg_linear(c, seg, off, size, ACC_WRITE, &la))
		return false;
	struct mem_view mv = cpu_view(c);
	unsigned acc = ACC_WRITE | (c->user ? ACC_USER : 0);
	if (!mem_translate(&mv, la, acc, &pa, &f))
		return cpu_page_fault(c, &f);
	if (!mem_in_page(la, size) && !mem_translate(&mv, (la | (PAGE_SIZE - 1)) + 1, acc, &pa, &f))
		return cpu_page_fault(c, &f);
	return true;
}

bool cpu_push(struct cpu *c, unsigned osz, uint64_t v)
{
	unsigned ssz = stack_asz(c);
	uint64_t sp = (c->gpr[R_SP] - (1u << osz)) & addr_mask(ssz);
	if (!mem_write_seg(c, SEG_SS, sp, 1u << osz, v))
		return false;
	set_sp(c, sp);
	return true;
}

bool cpu_pop(struct cpu *c, unsigned osz, uint64_t *v)
{
	unsigned ssz = stack_asz(c);
	uint64_t sp = c->gpr[R_SP] & addr_mask(ssz);
	if (!mem_read_seg(c, SEG_SS, sp, 1u << osz, v))
		return false;
	set_sp(c, sp + (1u << osz));
	return true;
}

bool cpu_branch_slow(struct cpu *c, unsigned osz, uint64_t target)
{
	if (c->code64) {
		if (osz != SZ64)
			target &= addr_mask(osz);
		if (!cpu_canonical(c, target)) {
			cpu_gp0(c);
			return false;
		}
	} else {
		target &= addr_mask(osz);
		if (target > c->seg[SEG_CS].limit) {
			cpu_gp0(c);
			return false;
		}
	}
	c->next_rip = target;
	return true;
}
